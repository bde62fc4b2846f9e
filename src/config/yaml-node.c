/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * yaml-node.c — turns a YAML file into a YNode tree with 1-based line:col on
 * every node, enforcing drover's hygiene rules (see yaml-node.h), plus the
 * typed accessors and key-table check every loader uses.
 *
 * Owns: all libyaml use. Does not own: what a document means (config.c,
 * playbook.c decide that, including the kind of the root node).
 *
 * We use libyaml's event parser rather than its document API because the
 * document API resolves aliases silently and hides duplicate keys; here we see
 * every event with its mark and can refuse what we do not support.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config/yaml-node.h"
#include "shared/strbuf.h"

typedef struct Frame {
        YNode *node; /* a sequence or mapping being filled */
        size_t cap;
        YNode *pending_key; /* mapping: a key still waiting for its value */
} Frame;

typedef struct Builder {
        const char *path;
        DiagList *diags;
        Frame stack[YNODE_MAX_DEPTH];
        size_t depth;
        YNode *root;
        bool failed;
} Builder;

static void ynode_free(YNode *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                ynode_free(n->items[i]);
                if (n->keys)
                        ynode_free(n->keys[i]);
        }
        free(n->items);
        free(n->keys);
        free(n->scalar);
        free(n);
}

YDocument *ydocument_free(YDocument *d)
{
        if (!d)
                return NULL;
        ynode_free(d->root);
        free(d->path);
        free(d);
        return NULL;
}

static const char *const kind_table[] = {
        [YNODE_SCALAR] = "scalar",
        [YNODE_SEQUENCE] = "sequence",
        [YNODE_MAPPING] = "mapping",
};

const char *ynode_kind_to_string(YNodeKind k)
{
        if ((unsigned) k >= ELEMENTSOF(kind_table))
                return NULL;
        return kind_table[k];
}

bool ynode_is_null(const YNode *n)
{
        if (!n || n->kind != YNODE_SCALAR || !n->plain)
                return false;
        return streq(n->scalar, "") || streq(n->scalar, "~") || streq(n->scalar, "null") ||
               streq(n->scalar, "Null") || streq(n->scalar, "NULL");
}

static void builder_error(Builder *b, yaml_mark_t mark, const char *fmt, ...) _printf_(3, 4);
static void builder_error(Builder *b, yaml_mark_t mark, const char *fmt, ...)
{
        StrBuf m = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(&m, fmt, ap);
        va_end(ap);
        diag_error(b->diags, b->path, (unsigned) mark.line + 1, (unsigned) mark.column + 1, "%s", strbuf_str(&m));
        strbuf_done(&m);
        b->failed = true;
}

static YNode *node_new(Builder *b, YNodeKind kind, yaml_mark_t mark)
{
        YNode *n = xcalloc(1, sizeof(YNode));

        n->kind = kind;
        n->path = b->path;
        n->line = (unsigned) mark.line + 1;
        n->col = (unsigned) mark.column + 1;
        return n;
}

static void frame_push_item(Frame *f, YNode *key, YNode *value)
{
        if (f->node->n_items == f->cap) {
                f->cap = f->cap ? f->cap * 2 : 4;
                f->node->items = xrealloc(f->node->items, f->cap * sizeof(YNode *));
                if (f->node->kind == YNODE_MAPPING)
                        f->node->keys = xrealloc(f->node->keys, f->cap * sizeof(YNode *));
        }
        f->node->items[f->node->n_items] = value;
        if (f->node->kind == YNODE_MAPPING)
                f->node->keys[f->node->n_items] = key;
        f->node->n_items++;
}

/* Hand a finished (or just started) node to its parent. Every node is owned by the
 * tree from its creation on, so freeing the root frees everything on failure. */
static void builder_attach(Builder *b, YNode *n)
{
        Frame *f;

        if (b->depth == 0) {
                if (b->root) /* cannot happen: one document has one root */
                        ynode_free(b->root);
                b->root = n;
                return;
        }
        f = &b->stack[b->depth - 1];
        if (f->node->kind == YNODE_SEQUENCE) {
                frame_push_item(f, NULL, n);
                return;
        }
        if (!f->pending_key) {
                if (n->kind != YNODE_SCALAR) {
                        diag_error(b->diags, b->path, n->line, n->col, "mapping keys must be scalars, not a %s",
                                   ynode_kind_to_string(n->kind));
                        b->failed = true;
                }
                f->pending_key = n;
                return;
        }
        frame_push_item(f, f->pending_key, n);
        f->pending_key = NULL;
}

typedef struct KeyRef {
        const YNode *key;
        size_t index;
} KeyRef;

static int key_ref_compare(const void *a, const void *b)
{
        const KeyRef *x = a, *y = b;
        int r = strcmp(x->key->scalar, y->key->scalar);

        if (r != 0)
                return r;
        return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/* Sorting keeps this O(n log n) even for a hostile file with one huge mapping. */
static void builder_check_duplicates(Builder *b, const YNode *map)
{
        _cleanup_free_ KeyRef *refs = NULL;
        size_t n = 0;

        if (map->n_items < 2)
                return;
        refs = xcalloc(map->n_items, sizeof(KeyRef));
        for (size_t i = 0; i < map->n_items; i++)
                if (map->keys[i]->kind == YNODE_SCALAR)
                        refs[n++] = (KeyRef) { .key = map->keys[i], .index = i };
        qsort(refs, n, sizeof(KeyRef), key_ref_compare);
        for (size_t i = 1, first = 0; i < n; i++) {
                if (!streq(refs[i].key->scalar, refs[first].key->scalar)) {
                        first = i;
                        continue;
                }
                diag_error(b->diags, b->path, refs[i].key->line, refs[i].key->col,
                           "duplicate key '%.64s' (first defined at line %u)", refs[i].key->scalar,
                           refs[first].key->line);
                b->failed = true;
        }
}

static void builder_check_node_props(Builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                                     const yaml_char_t *tag)
{
        if (anchor)
                builder_error(b, ev->start_mark, "YAML anchors and aliases are not supported");
        if (tag)
                builder_error(b, ev->start_mark, "YAML tags are not supported");
}

static int builder_open(Builder *b, const yaml_event_t *ev, YNodeKind kind)
{
        YNode *n;

        if (b->depth >= YNODE_MAX_DEPTH) {
                builder_error(b, ev->start_mark, "nesting deeper than %d levels", YNODE_MAX_DEPTH);
                return -EINVAL;
        }
        n = node_new(b, kind, ev->start_mark);
        builder_attach(b, n);
        b->stack[b->depth++] = (Frame) { .node = n };
        return 0;
}

static void builder_close(Builder *b)
{
        Frame *f = &b->stack[b->depth - 1];

        if (f->node->kind == YNODE_MAPPING)
                builder_check_duplicates(b, f->node);
        if (f->pending_key) { /* libyaml always pairs keys; be safe anyway */
                ynode_free(f->pending_key);
                f->pending_key = NULL;
        }
        b->depth--;
}

static void builder_unwind(Builder *b)
{
        for (size_t i = 0; i < b->depth; i++) {
                ynode_free(b->stack[i].pending_key);
                b->stack[i].pending_key = NULL;
        }
        b->depth = 0;
        ynode_free(b->root);
        b->root = NULL;
}

/* Line and column (1-based, in characters) of a byte offset; for libyaml's reader
 * errors, which only carry an offset. */
static void offset_to_position(const char *buf, size_t len, size_t offset, unsigned *ret_line, unsigned *ret_col)
{
        unsigned line = 1, col = 1;

        for (size_t i = 0; i < len && i < offset;) {
                int n;

                if (buf[i] == '\n' || buf[i] == '\r') {
                        if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
                                i++;
                        i++;
                        line++;
                        col = 1;
                        continue;
                }
                n = utf8_char_length(buf + i, len - i);
                i += n > 0 ? (size_t) n : 1;
                col++;
        }
        *ret_line = line;
        *ret_col = col;
}

/* Problems libyaml would report one at a time, or not at all, or at an unhelpful
 * place: find every one of them first, so the user fixes the file in one go. */
static int prescan(const char *path, const char *buf, size_t len, DiagList *diags)
{
        unsigned line = 1, col = 1;
        bool tab_seen = false, nul_seen = false, utf8_seen = false;
        bool bad = false;
        size_t i = 0;

        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) /* a BOM is not a column */
                i = 3;

        while (i < len) {
                unsigned char c = (unsigned char) buf[i];
                int n;

                if (c == '\n' || c == '\r') {
                        if (c == '\r' && i + 1 < len && buf[i + 1] == '\n')
                                i++;
                        i++;
                        line++;
                        col = 1;
                        tab_seen = nul_seen = utf8_seen = false;
                        continue;
                }
                n = utf8_char_length(buf + i, len - i);
                if (c == '\t' && !tab_seen) {
                        diag_error(diags, path, line, col, "tab character not allowed, use spaces");
                        tab_seen = bad = true;
                } else if (c == '\0' && !nul_seen) {
                        diag_error(diags, path, line, col, "NUL byte not allowed");
                        nul_seen = bad = true;
                } else if (n < 0 && !utf8_seen) {
                        diag_error(diags, path, line, col, "invalid UTF-8 byte 0x%02x", c);
                        utf8_seen = bad = true;
                }
                i += n > 0 ? (size_t) n : 1;
                col++;
        }
        return bad ? -EINVAL : 0;
}

static void report_parser_error(const yaml_parser_t *p, const char *path, const char *buf, size_t len,
                                DiagList *diags)
{
        unsigned line, col;

        if (p->error == YAML_READER_ERROR) {
                offset_to_position(buf, len, p->problem_offset, &line, &col);
                diag_error(diags, path, line, col, "%s", p->problem ? p->problem : "cannot read input");
                return;
        }
        line = (unsigned) p->problem_mark.line + 1;
        col = (unsigned) p->problem_mark.column + 1;
        if (p->context)
                diag_error(diags, path, line, col, "syntax error: %s (%s at line %u, column %u)",
                           p->problem ? p->problem : "invalid YAML", p->context,
                           (unsigned) p->context_mark.line + 1, (unsigned) p->context_mark.column + 1);
        else
                diag_error(diags, path, line, col, "syntax error: %s", p->problem ? p->problem : "invalid YAML");
}

static int parse_events(Builder *b, const char *buf, size_t len)
{
        yaml_parser_t parser;
        unsigned n_documents = 0;
        bool done = false;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        while (!done) {
                yaml_event_t ev;

                if (!yaml_parser_parse(&parser, &ev)) {
                        if (parser.error == YAML_MEMORY_ERROR)
                                r = -ENOMEM;
                        else {
                                report_parser_error(&parser, b->path, buf, len, b->diags);
                                r = -EINVAL;
                        }
                        break;
                }

                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++n_documents > 1) {
                                builder_error(b, ev.start_mark,
                                              "more than one YAML document in the file (remove the '---')");
                                r = -EINVAL;
                                done = true;
                        }
                        break;
                case YAML_ALIAS_EVENT:
                        builder_error(b, ev.start_mark, "YAML anchors and aliases are not supported");
                        /* keep the tree's shape (key/value pairing) with a stand-in */
                        {
                                YNode *n = node_new(b, YNODE_SCALAR, ev.start_mark);
                                n->scalar = xstrdup("");
                                builder_attach(b, n);
                        }
                        break;
                case YAML_SCALAR_EVENT: {
                        YNode *n = node_new(b, YNODE_SCALAR, ev.start_mark);

                        n->scalar = xstrndup((const char *) ev.data.scalar.value, ev.data.scalar.length);
                        n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                        builder_attach(b, n);
                        builder_check_node_props(b, &ev, ev.data.scalar.anchor, ev.data.scalar.tag);
                        if (strlen(n->scalar) != ev.data.scalar.length)
                                builder_error(b, ev.start_mark, "NUL character not allowed");
                        break;
                }
                case YAML_SEQUENCE_START_EVENT:
                        builder_check_node_props(b, &ev, ev.data.sequence_start.anchor,
                                                 ev.data.sequence_start.tag);
                        if (builder_open(b, &ev, YNODE_SEQUENCE) < 0) {
                                r = -EINVAL;
                                done = true;
                        }
                        break;
                case YAML_MAPPING_START_EVENT:
                        builder_check_node_props(b, &ev, ev.data.mapping_start.anchor,
                                                 ev.data.mapping_start.tag);
                        if (builder_open(b, &ev, YNODE_MAPPING) < 0) {
                                r = -EINVAL;
                                done = true;
                        }
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (b->depth > 0)
                                builder_close(b);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
        }

        yaml_parser_delete(&parser);
        return r;
}

int ydocument_load_buffer(const char *path, const char *buf, size_t len, YDocument **ret, DiagList *diags)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        Builder b = {};
        int r;

        if (!path)
                path = "<input>";
        if (len > YNODE_MAX_FILE_SIZE) {
                diag_error(diags, path, 0, 0, "file is too large (%zu bytes; the limit is %d bytes)", len,
                           YNODE_MAX_FILE_SIZE);
                return -EINVAL;
        }
        if (!buf)
                buf = "";

        diag_list_add_source(diags, path, buf, len);

        if (prescan(path, buf, len, diags) < 0)
                return -EINVAL;

        doc = xcalloc(1, sizeof(YDocument));
        doc->path = xstrdup(path);
        b.path = doc->path;
        b.diags = diags;

        /* libyaml only skips a BOM when it guesses the encoding itself; we tell it "UTF-8"
         * (the pre-scan proved it) so hand it the text after the BOM. */
        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
                buf += 3;
                len -= 3;
        }
        r = parse_events(&b, buf, len);
        if (r < 0 || b.failed) {
                builder_unwind(&b);
                return r < 0 ? r : -EINVAL;
        }
        if (!b.root || ynode_is_null(b.root)) {
                diag_error(diags, path, 1, 1, "file is empty");
                builder_unwind(&b);
                return -EINVAL;
        }

        doc->root = TAKE_PTR(b.root);
        *ret = TAKE_PTR(doc);
        return 0;
}

int ydocument_load_file(const char *path, YDocument **ret, DiagList *diags)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int e = errno;
                diag_error(diags, path, 0, 0, "cannot open file: %s", strerror(e));
                return -e;
        }
        if (fstat(fd, &st) < 0) {
                int e = errno;
                diag_error(diags, path, 0, 0, "cannot stat file: %s", strerror(e));
                return -e;
        }
        if (S_ISDIR(st.st_mode)) {
                diag_error(diags, path, 0, 0, "is a directory, not a file");
                return -EISDIR;
        }
        /* Refuse before reading a byte; the read loop below still caps pipes and /proc files. */
        if (S_ISREG(st.st_mode) && st.st_size > YNODE_MAX_FILE_SIZE) {
                diag_error(diags, path, 0, 0, "file is too large (%lld bytes; the limit is %d bytes)",
                           (long long) st.st_size, YNODE_MAX_FILE_SIZE);
                return -EINVAL;
        }

        cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t) st.st_size + 1 : 4096;
        buf = xmalloc(cap);
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        if (cap > YNODE_MAX_FILE_SIZE)
                                break;
                        cap = MIN(cap * 2, (size_t) YNODE_MAX_FILE_SIZE + 1);
                        buf = xrealloc(buf, cap);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        int e = errno;
                        if (e == EINTR)
                                continue;
                        diag_error(diags, path, 0, 0, "cannot read file: %s", strerror(e));
                        return -e;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }

        return ydocument_load_buffer(path, buf, len, ret, diags);
}

static const YNode *ynode_find(const YNode *map, const char *key, bool want_key)
{
        if (!map || map->kind != YNODE_MAPPING || !key)
                return NULL;
        for (size_t i = 0; i < map->n_items; i++)
                if (map->keys[i]->kind == YNODE_SCALAR && streq(map->keys[i]->scalar, key))
                        return want_key ? map->keys[i] : map->items[i];
        return NULL;
}

const YNode *ynode_get(const YNode *map, const char *key)
{
        return ynode_find(map, key, false);
}

const YNode *ynode_get_key(const YNode *map, const char *key)
{
        return ynode_find(map, key, true);
}

void ynode_error(DiagList *diags, const YNode *n, const char *fmt, ...)
{
        StrBuf m = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(&m, fmt, ap);
        va_end(ap);
        if (n)
                diag_error(diags, n->path, n->line, n->col, "%s", strbuf_str(&m));
        else
                diag_error(diags, NULL, 0, 0, "%s", strbuf_str(&m));
        strbuf_done(&m);
}

size_t ynode_check_keys(const YNode *map, const char *const *known, const char *what, DiagList *diags)
{
        size_t n_known = 0, n_unknown = 0;

        if (!map || map->kind != YNODE_MAPPING)
                return 0;
        while (known && known[n_known])
                n_known++;

        for (size_t i = 0; i < map->n_items; i++) {
                const YNode *k = map->keys[i];
                const char *near;
                bool found = false;

                if (k->kind != YNODE_SCALAR)
                        continue; /* already reported by the loader */
                for (size_t j = 0; j < n_known && !found; j++)
                        found = streq(k->scalar, known[j]);
                if (found)
                        continue;
                n_unknown++;
                near = string_nearest(k->scalar, known, n_known);
                if (near)
                        ynode_error(diags, k, "unknown key '%.64s' in %s (did you mean '%s'?)", k->scalar, what,
                                    near);
                else
                        ynode_error(diags, k, "unknown key '%.64s' in %s", k->scalar, what);
        }
        return n_unknown;
}

static const char *ynode_describe(const YNode *n)
{
        if (ynode_is_null(n))
                return "empty";
        if (n->kind == YNODE_SCALAR)
                return "a scalar";
        return n->kind == YNODE_SEQUENCE ? "a sequence" : "a mapping";
}

bool ynode_expect(const YNode *n, YNodeKind kind, const char *what, DiagList *diags)
{
        if (!n)
                return false;
        if (n->kind == kind && !(kind == YNODE_SCALAR && ynode_is_null(n)))
                return true;
        ynode_error(diags, n, "%s must be a %s, not %s", what,
                    kind == YNODE_SCALAR ? "string" : ynode_kind_to_string(kind), ynode_describe(n));
        return false;
}

/* The shared front half of the typed getters: presence and scalar-ness. Returns 1 with
 * *ret_node set, 0 when absent and optional, or a negative error already reported. */
static int ynode_get_scalar(const YNode *map, const char *key, const char *what, bool required,
                            const char *type, const YNode **ret_node, DiagList *diags)
{
        const YNode *v = ynode_get(map, key);

        if (!v) {
                if (!required)
                        return 0;
                if (map)
                        ynode_error(diags, map, "missing required key '%s' in %s", key, what);
                return -ENOENT;
        }
        if (v->kind != YNODE_SCALAR || ynode_is_null(v)) {
                ynode_error(diags, v, "%s: %s must be %s, not %s", what, key, type, ynode_describe(v));
                return -EINVAL;
        }
        *ret_node = v;
        return 1;
}

int ynode_get_string(const YNode *map, const char *key, const char *what, bool required, const char **ret,
                     DiagList *diags)
{
        const YNode *v = NULL;
        int r = ynode_get_scalar(map, key, what, required, "a string", &v, diags);

        if (r <= 0)
                return r;
        *ret = v->scalar;
        return 1;
}

int ynode_get_bool(const YNode *map, const char *key, const char *what, bool required, bool *ret,
                   DiagList *diags)
{
        const YNode *v = NULL;
        int r = ynode_get_scalar(map, key, what, required, "true or false", &v, diags);

        if (r <= 0)
                return r;
        /* Quoted "true" is a string: the user asked for one, so we do not guess. */
        if (v->plain && (streq(v->scalar, "true") || streq(v->scalar, "yes"))) {
                *ret = true;
                return 1;
        }
        if (v->plain && (streq(v->scalar, "false") || streq(v->scalar, "no"))) {
                *ret = false;
                return 1;
        }
        ynode_error(diags, v, "%s: %s must be true or false, not '%.64s'", what, key, v->scalar);
        return -EINVAL;
}

int ynode_get_uint(const YNode *map, const char *key, const char *what, bool required, uint64_t min,
                   uint64_t max, uint64_t *ret, DiagList *diags)
{
        const YNode *v = NULL;
        uint64_t u = 0;
        bool overflow = false;
        int r = ynode_get_scalar(map, key, what, required, "a number", &v, diags);

        if (r <= 0)
                return r;
        if (!v->plain || v->scalar[0] == '\0' || strspn(v->scalar, "0123456789") != strlen(v->scalar)) {
                ynode_error(diags, v, "%s: %s must be a number, not '%.64s'", what, key, v->scalar);
                return -EINVAL;
        }
        for (const char *p = v->scalar; *p; p++) {
                unsigned d = (unsigned) (*p - '0');
                if (u > (UINT64_MAX - d) / 10) {
                        overflow = true;
                        break;
                }
                u = u * 10 + d;
        }
        if (overflow || u < min || u > max) {
                ynode_error(diags, v, "%s: %s must be between %llu and %llu", what, key, (unsigned long long) min,
                            (unsigned long long) max);
                return -ERANGE;
        }
        *ret = u;
        return 1;
}

int ynode_get_duration(const YNode *map, const char *key, const char *what, bool required, usec_t *ret,
                       DiagList *diags)
{
        const YNode *v = NULL;
        usec_t u;
        int r = ynode_get_scalar(map, key, what, required, "a duration", &v, diags);

        if (r <= 0)
                return r;
        if (parse_duration(v->scalar, &u) < 0) {
                ynode_error(diags, v, "invalid duration '%.64s' for %s (expected e.g. 500ms, 30s, 2m, 1h)",
                            v->scalar, key);
                return -EINVAL;
        }
        *ret = u;
        return 1;
}
