/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * template.c — parses strings with ${...} references into literal and reference
 * parts, and expands them through a lookup callback.
 *
 * Owns: the template syntax (`${a.b}`, `$$`), syntax errors with exact columns, the
 * typed form of a reference (TemplateRef: kind, name, field, column) shared with
 * conditions, JSON-escaping of expanded values for JSON bodies. Does not own: which
 * references exist (playbook.c checks them at load) or their values (the engine's
 * lookup). Called by playbook.c (parse) and the engine (expand). Pure: no I/O.
 */
#include <errno.h>
#include <string.h>

#include "playbook/template.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

static const char *const ref_kind_table[_REF_KIND_MAX] = {
        [REF_PARAM] = "params", [REF_STEPS] = "steps",   [REF_STEP] = "step", [REF_TARGET] = "targets",
        [REF_HOST] = "host",    [REF_SECRET] = "secrets", [REF_RUN] = "run",
};

DEFINE_STRING_TABLE(ref_kind, RefKind, ref_kind_table);

bool template_ref_is_valid(const char *s, size_t n)
{
        size_t segments = 0, seglen = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (seglen == 0)
                                return false;
                        segments++;
                        seglen = 0;
                } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '_' || c == '-')
                        seglen++;
                else
                        return false;
        }
        if (seglen == 0)
                return false;
        return segments + 1 >= 2;
}

unsigned template_char_offset(const char *s, size_t offset)
{
        unsigned chars = 0;

        /* Count characters the way libyaml counts columns: one per UTF-8 sequence; a
         * stray byte counts as one. */
        for (size_t i = 0; i < offset;) {
                int l = utf8_char_length(s + i, offset - i);
                i += l > 0 ? (size_t) l : 1;
                chars++;
        }
        return chars;
}

void template_ref_parse(TemplateRef *ret, const char *s, size_t n, unsigned col)
{
        const char *end = s + n, *dot, *rest, *dot2;
        _cleanup_free_ char *root = NULL;

        *ret = (TemplateRef) {
                .path = xstrndup(s, n),
                .col = col,
        };
        dot = memchr(s, '.', n);
        if (!dot) {
                ret->kind = _REF_KIND_INVALID;
                return;
        }
        root = xstrndup(s, (size_t) (dot - s));
        rest = dot + 1;
        ret->kind = ref_kind_from_string(root);
        switch (ret->kind) {
        case REF_PARAM:
        case REF_STEPS:
        case REF_TARGET:
                dot2 = memchr(rest, '.', (size_t) (end - rest));
                ret->name = xstrndup(rest, (size_t) ((dot2 ?: end) - rest));
                if (dot2)
                        ret->field = xstrndup(dot2 + 1, (size_t) (end - dot2 - 1));
                break;
        case REF_SECRET:
                ret->name = xstrndup(rest, (size_t) (end - rest));
                break;
        case REF_STEP:
        case REF_HOST:
        case REF_RUN:
                ret->field = xstrndup(rest, (size_t) (end - rest));
                break;
        default:
                break;
        }
}

void template_ref_done(TemplateRef *r)
{
        if (!r)
                return;
        free(r->path);
        free(r->name);
        free(r->field);
        *r = (TemplateRef) {};
}

size_t template_ref_field_head(const TemplateRef *r)
{
        return r && r->field ? strcspn(r->field, ".") : 0;
}

static void template_add_part(Template *t, bool is_ref, const char *text, size_t n, unsigned col)
{
        TemplatePart *p = array_push(&t->parts, &t->n_parts, sizeof(TemplatePart));

        p->is_ref = is_ref;
        p->text = xstrndup(text, n);
        p->col = col;
        if (is_ref)
                template_ref_parse(&p->ref, text, n, col);
}

void template_put_literal(Template *t, const char *text, unsigned col)
{
        TemplatePart *last = t->n_parts > 0 ? &t->parts[t->n_parts - 1] : NULL;

        if (last && !last->is_ref) {
                char *m = xasprintf("%s%s", last->text, text);
                free(last->text);
                last->text = m;
                return;
        }
        template_add_part(t, false, text, strlen(text), col);
}

void template_put_ref(Template *t, const TemplateRef *ref)
{
        template_add_part(t, true, ref->path, strlen(ref->path), ref->col);
}

int template_parse_at(Template *t, const char *s, const char *path, unsigned line, unsigned col, bool exact_cols,
                      DiagList *diags)
{
        StrBuf lit = STRBUF_INIT;
        size_t lit_start = 0;
        bool have_lit = false;
        int r = 0;

        *t = (Template) {
                .source = xstrdup(s),
                .path = path,
                .line = line,
                .col = col,
        };

#define ERR_COL(off) (exact_cols ? col + template_char_offset(s, (off)) : col)

        for (size_t i = 0; s[i];) {
                if (s[i] == '$' && s[i + 1] == '$') {
                        if (!have_lit)
                                lit_start = i;
                        have_lit = true;
                        strbuf_putc(&lit, '$');
                        i += 2;
                        continue;
                }
                if (s[i] == '$' && s[i + 1] == '{') {
                        const char *close = strchr(s + i + 2, '}');
                        size_t n;

                        if (!close) {
                                diag_error(diags, path, line, ERR_COL(i), "unterminated ${ (missing '}')");
                                r = -EINVAL;
                                break;
                        }
                        n = (size_t) (close - (s + i + 2));
                        if (n == 0) {
                                diag_error(diags, path, line, ERR_COL(i), "empty reference ${}");
                                r = -EINVAL;
                        } else if (!template_ref_is_valid(s + i + 2, n)) {
                                _cleanup_free_ char *ref = xstrndup(s + i + 2, n);
                                if (memchr(ref, '.', n) || strspn(ref, "abcdefghijklmnopqrstuvwxyz"
                                                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                       "0123456789_-") != n)
                                        diag_error(diags, path, line, ERR_COL(i),
                                                   "invalid reference '${%s}': expected a dotted path of "
                                                   "[A-Za-z0-9_-] segments like params.NAME",
                                                   ref);
                                else
                                        diag_error(diags, path, line, ERR_COL(i),
                                                   "invalid reference '${%s}': expected at least two "
                                                   "segments like params.%s",
                                                   ref, ref);
                                r = -EINVAL;
                        } else {
                                if (have_lit) {
                                        template_add_part(t, false, strbuf_str(&lit), lit.len,
                                                          1 + template_char_offset(s, lit_start));
                                        strbuf_reset(&lit);
                                        have_lit = false;
                                }
                                template_add_part(t, true, s + i + 2, n, 1 + template_char_offset(s, i));
                        }
                        i += n + 3;
                        continue;
                }
                /* Any other '$' (like "$HOME" in a shell command) is literal. */
                if (!have_lit)
                        lit_start = i;
                have_lit = true;
                strbuf_putc(&lit, s[i]);
                i++;
        }
#undef ERR_COL

        if (have_lit)
                template_add_part(t, false, strbuf_str(&lit), lit.len, 1 + template_char_offset(s, lit_start));
        strbuf_done(&lit);
        if (r < 0)
                template_done(t);
        return r;
}

int template_parse(Template *t, const char *s, const char *path, unsigned line, unsigned col, DiagList *diags)
{
        return template_parse_at(t, s, path, line, col, true, diags);
}

void template_done(Template *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n_parts; i++) {
                free(t->parts[i].text);
                template_ref_done(&t->parts[i].ref);
        }
        free(t->parts);
        free(t->source);
        *t = (Template) {};
}

bool template_is_set(const Template *t)
{
        return t && t->source;
}

bool template_has_refs(const Template *t)
{
        if (!t)
                return false;
        for (size_t i = 0; i < t->n_parts; i++)
                if (t->parts[i].is_ref)
                        return true;
        return false;
}

int template_expand_refs(const Template *t, RefLookup lookup, void *userdata, char **ret, bool *ret_secret,
                         const char **ret_bad_ref)
{
        StrBuf b = STRBUF_INIT;
        bool secret = false;

        for (size_t i = 0; t && i < t->n_parts; i++) {
                const TemplatePart *p = &t->parts[i];
                _cleanup_free_ char *v = NULL;
                bool s = false;
                int r;

                if (!p->is_ref) {
                        strbuf_puts(&b, p->text);
                        continue;
                }
                r = lookup(userdata, &p->ref, &v, &s);
                if (r < 0) {
                        strbuf_done(&b);
                        if (ret_bad_ref)
                                *ret_bad_ref = p->text;
                        return r;
                }
                if (t->json_escape)
                        strbuf_put_json_escaped(&b, strempty(v), false);
                else
                        strbuf_puts(&b, strempty(v));
                secret = secret || s;
        }

        *ret = strbuf_steal(&b);
        if (ret_secret)
                *ret_secret = secret;
        return 0;
}

int path_lookup_adapter(void *userdata, const TemplateRef *ref, char **ret_value, bool *ret_secret)
{
        PathLookup *pl = userdata;

        return pl->lookup(pl->userdata, ref->path, ret_value, ret_secret);
}

int template_expand(const Template *t, ScopeLookup lookup, void *userdata, char **ret, bool *ret_secret,
                    const char **ret_bad_ref)
{
        PathLookup pl = { .lookup = lookup, .userdata = userdata };

        return template_expand_refs(t, path_lookup_adapter, &pl, ret, ret_secret, ret_bad_ref);
}
