/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diag.c — records diagnostics and prints them sorted, with the offending
 * source line and a caret. Owns: the DiagList storage, the print format,
 * "did you mean" distance. Does not own: deciding what is an error (the
 * loaders do). Called by yaml-node, config, playbook loaders and droverctl.
 *
 * Columns are counted in characters (UTF-8 sequences), like libyaml's marks;
 * a byte that is not valid UTF-8 counts as one character and is echoed as '?'.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/diag.h"
#include "shared/strbuf.h"

void diag_list_init(DiagList *l)
{
        *l = (DiagList) {};
}

void diag_list_done(DiagList *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n_items; i++) {
                free(l->items[i].path);
                free(l->items[i].message);
        }
        free(l->items);
        for (size_t i = 0; i < l->n_sources; i++) {
                free(l->sources[i].path);
                free(l->sources[i].text);
        }
        free(l->sources);
        *l = (DiagList) {};
}

void diag_list_add_source(DiagList *l, const char *path, const char *text, size_t len)
{
        DiagSource *s = NULL;

        if (!path)
                return;
        /* The same file loaded twice (validate, then run): keep only the newest text. */
        for (size_t i = 0; i < l->n_sources; i++)
                if (streq(l->sources[i].path, path)) {
                        s = &l->sources[i];
                        free(s->text);
                        break;
                }
        if (!s) {
                s = array_push(&l->sources, &l->n_sources, sizeof(DiagSource));
                s->path = xstrdup(path);
        }
        s->text = xstrndup(text ? text : "", text ? len : 0);
        s->len = text ? len : 0;
}

void diag_add(DiagList *l, DiagSeverity severity, const char *path, unsigned line, unsigned col, const char *fmt,
              ...)
{
        StrBuf b = STRBUF_INIT;
        va_list ap;
        Diag *d;

        if (severity == DIAG_ERROR && l->max_errors > 0) {
                size_t stored = 0;
                for (size_t i = 0; i < l->n_items; i++)
                        if (l->items[i].severity == DIAG_ERROR)
                                stored++;
                if (stored >= l->max_errors) {
                        l->n_dropped++;
                        return;
                }
        }

        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);

        d = array_push(&l->items, &l->n_items, sizeof(Diag));
        d->path = xstrdup(strempty(path));
        d->line = line;
        d->col = line > 0 ? col : 0;
        d->severity = severity;
        d->message = strbuf_steal(&b);
}

/* Includes errors dropped past max_errors: callers compare counts before and after a
 * load to learn whether it added errors, and a full list must not hide that. */
size_t diag_count_errors(const DiagList *l)
{
        size_t n = l->n_dropped;

        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].severity == DIAG_ERROR)
                        n++;
        return n;
}

bool diag_has_errors(const DiagList *l)
{
        return diag_count_errors(l) > 0;
}

int utf8_char_length(const char *str, size_t n)
{
        const unsigned char *s = (const unsigned char *) str;
        uint32_t cp;
        size_t len;

        if (n == 0)
                return -EILSEQ;
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xC2 && s[0] <= 0xDF) {
                len = 2;
                cp = s[0] & 0x1F;
        } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
                len = 3;
                cp = s[0] & 0x0F;
        } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
                len = 4;
                cp = s[0] & 0x07;
        } else
                return -EILSEQ;
        if (n < len)
                return -EILSEQ;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return -EILSEQ;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return -EILSEQ;
        return (int) len;
}

static const char *severity_to_string(DiagSeverity s)
{
        switch (s) {
        case DIAG_ERROR:
                return "error";
        case DIAG_WARNING:
                return "warning";
        case DIAG_NOTE:
                return "note";
        }
        return "error";
}

typedef struct SortItem {
        const Diag *diag;
        size_t index;
} SortItem;

static int sort_item_compare(const void *a, const void *b)
{
        const SortItem *x = a, *y = b;
        int r = strcmp(x->diag->path, y->diag->path);

        if (r != 0)
                return r;
        if (x->diag->line != y->diag->line)
                return x->diag->line < y->diag->line ? -1 : 1;
        if (x->diag->col != y->diag->col)
                return x->diag->col < y->diag->col ? -1 : 1;
        /* qsort is not stable; the original index keeps equal positions in report order */
        return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/* Per-source table of line starts, built once per print so quoting stays linear. */
typedef struct LineIndex {
        const DiagSource *source;
        size_t *starts;
        size_t n_lines;
} LineIndex;

static void line_index_build(LineIndex *li, const DiagSource *s)
{
        li->source = s;
        li->starts = NULL;
        li->n_lines = 0;
        *(size_t *) array_push(&li->starts, &li->n_lines, sizeof(size_t)) = 0;
        for (size_t i = 0; i < s->len; i++) {
                /* libyaml's line breaks: \n, \r and \r\n */
                if (s->text[i] == '\r' && i + 1 < s->len && s->text[i + 1] == '\n')
                        i++;
                else if (s->text[i] != '\n' && s->text[i] != '\r')
                        continue;
                if (i + 1 <= s->len)
                        *(size_t *) array_push(&li->starts, &li->n_lines, sizeof(size_t)) = i + 1;
        }
}

static void print_source_line(FILE *f, const DiagSource *s, size_t start, unsigned col)
{
        StrBuf line = STRBUF_INIT, caret = STRBUF_INIT;
        size_t i = start;
        unsigned c = 1;

        if (start == 0 && s->len >= 3 && memcmp(s->text, "\xEF\xBB\xBF", 3) == 0)
                i = 3; /* a BOM takes no column */
        while (i < s->len && s->text[i] != '\n' && s->text[i] != '\r') {
                int n = utf8_char_length(s->text + i, s->len - i);
                unsigned char ch = (unsigned char) s->text[i];

                if (n < 0) {
                        strbuf_putc(&line, '?');
                        n = 1;
                } else if (ch == '\t')
                        strbuf_putc(&line, ' ');
                else if (ch < 0x20 || ch == 0x7F)
                        strbuf_putc(&line, '?');
                else
                        strbuf_append(&line, s->text + i, (size_t) n);
                if (c < col)
                        strbuf_putc(&caret, ' ');
                c++;
                i += (size_t) n;
        }
        /* A column past the end of the line (e.g. "expected ':'" at end of line) still gets a caret. */
        for (; c < col; c++)
                strbuf_putc(&caret, ' ');

        fprintf(f, "  %s\n  %s^\n", strbuf_str(&line), strbuf_str(&caret));
        strbuf_done(&line);
        strbuf_done(&caret);
}

void diag_print(DiagList *l, FILE *f)
{
        _cleanup_free_ SortItem *order = NULL;
        _cleanup_free_ LineIndex *indexes = NULL;
        Diag *sorted;

        if (l->n_items > 0) {
                order = xcalloc(l->n_items, sizeof(SortItem));
                for (size_t i = 0; i < l->n_items; i++)
                        order[i] = (SortItem) { .diag = &l->items[i], .index = i };
                qsort(order, l->n_items, sizeof(SortItem), sort_item_compare);

                /* Keep the list itself sorted too, so callers see the printed order. */
                sorted = xcalloc(l->n_items, sizeof(Diag));
                for (size_t i = 0; i < l->n_items; i++)
                        sorted[i] = *order[i].diag;
                free(l->items);
                l->items = sorted;
        }

        if (l->n_sources > 0)
                indexes = xcalloc(l->n_sources, sizeof(LineIndex));

        for (size_t i = 0; i < l->n_items; i++) {
                const Diag *d = &l->items[i];
                const DiagSource *src = NULL;
                size_t si = 0;

                if (d->line == 0) {
                        fprintf(f, "%s: %s: %s\n", d->path, severity_to_string(d->severity), d->message);
                        continue;
                }
                fprintf(f, "%s:%u:%u: %s: %s\n", d->path, d->line, d->col, severity_to_string(d->severity),
                        d->message);

                for (si = 0; si < l->n_sources; si++)
                        if (streq(l->sources[si].path, d->path)) {
                                src = &l->sources[si];
                                break;
                        }
                if (!src)
                        continue;
                if (!indexes[si].source)
                        line_index_build(&indexes[si], src);
                if (d->line > indexes[si].n_lines)
                        continue;
                print_source_line(f, src, indexes[si].starts[d->line - 1], d->col > 0 ? d->col : 1);
        }

        if (l->n_dropped > 0)
                fprintf(f, "(%zu more error%s not shown)\n", l->n_dropped, l->n_dropped == 1 ? "" : "s");

        for (size_t i = 0; i < l->n_sources; i++)
                free(indexes ? indexes[i].starts : NULL);
}

size_t string_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        size_t row[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;

        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        size_t best = MIN(row[j] + 1, row[j - 1] + 1);
                        row[j] = MIN(best, diag + cost);
                        diag = up;
                }
        }
        return row[lb];
}

const char *string_nearest(const char *word, const char *const *candidates, size_t n_candidates)
{
        size_t limit = MAX((size_t) 2, strlen(word) / 3);
        size_t best = SIZE_MAX;
        const char *found = NULL;

        for (size_t i = 0; i < n_candidates; i++) {
                size_t d;

                if (!candidates[i])
                        continue;
                d = string_distance(word, candidates[i]);
                if (d <= limit && d < best) {
                        best = d;
                        found = candidates[i];
                }
        }
        return found;
}
