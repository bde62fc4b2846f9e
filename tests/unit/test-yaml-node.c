/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-yaml-node.c — YAML loading with marks, hygiene rules, key tables and typed getters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/yaml-node.h"
#include "shared/strbuf.h"

/* Load `text`; return the document or NULL with the diagnostics in *l. */
static YDocument *load(const char *text, DiagList *l)
{
        YDocument *d = NULL;
        int r;

        diag_list_init(l);
        r = ydocument_load_buffer("t.yaml", text, strlen(text), &d, l);
        if (r < 0) {
                assert_null(d);
                assert_true(diag_has_errors(l));
                return NULL;
        }
        assert_int_equal(r, 0);
        assert_non_null(d);
        assert_non_null(d->root);
        assert_false(diag_has_errors(l));
        return d;
}

/* Assert that some error sits at line:col with a message containing `sub`. */
static void assert_diag(const DiagList *l, unsigned line, unsigned col, const char *sub)
{
        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].severity == DIAG_ERROR && l->items[i].line == line && l->items[i].col == col &&
                    strstr(l->items[i].message, sub))
                        return;
        for (size_t i = 0; i < l->n_items; i++)
                print_message("  have %u:%u: %s\n", l->items[i].line, l->items[i].col, l->items[i].message);
        fail_msg("no error at %u:%u containing '%s'", line, col, sub);
}

static void expect_fail(const char *text, unsigned line, unsigned col, const char *sub)
{
        DiagList l;

        assert_null(load(text, &l));
        assert_diag(&l, line, col, sub);
        diag_list_done(&l);
}

static void test_tree(void **state)
{
        DiagList l;
        YDocument *d = load("# comment\n"
                            "name: restart\n"
                            "list:\n"
                            "  - a\n"
                            "  - 'b'\n"
                            "  - {x: 1}\n"
                            "flow: [1, 2]\n"
                            "empty:\n"
                            "quoted: \"null\"\n",
                            &l);
        const YNode *root, *n, *list;

        assert_non_null(d);
        root = d->root;
        assert_int_equal(root->kind, YNODE_MAPPING);
        assert_int_equal(root->n_items, 5);
        assert_int_equal(root->line, 2);
        assert_int_equal(root->col, 1);

        n = ynode_get(root, "name");
        assert_non_null(n);
        assert_string_equal(n->scalar, "restart");
        assert_true(n->plain);
        assert_int_equal(n->line, 2);
        assert_int_equal(n->col, 7);
        assert_string_equal(n->path, "t.yaml");
        assert_int_equal(ynode_get_key(root, "name")->col, 1);

        list = ynode_get(root, "list");
        assert_int_equal(list->kind, YNODE_SEQUENCE);
        assert_int_equal(list->n_items, 3);
        assert_int_equal(list->items[0]->line, 4);
        assert_int_equal(list->items[0]->col, 5);
        assert_false(list->items[1]->plain);
        assert_string_equal(list->items[1]->scalar, "b");
        assert_int_equal(list->items[2]->kind, YNODE_MAPPING);
        assert_string_equal(ynode_get(list->items[2], "x")->scalar, "1");

        assert_int_equal(ynode_get(root, "flow")->n_items, 2);
        assert_true(ynode_is_null(ynode_get(root, "empty")));
        assert_string_equal(ynode_get(root, "empty")->scalar, "");
        assert_false(ynode_is_null(ynode_get(root, "quoted")));
        assert_null(ynode_get(root, "missing"));
        assert_null(ynode_get(list, "x")); /* not a mapping */
        assert_null(ynode_get(NULL, "x"));

        assert_string_equal(ynode_kind_to_string(YNODE_SEQUENCE), "sequence");
        ydocument_free(d);
        diag_list_done(&l);
}

static void test_source_registered(void **state)
{
        DiagList l;

        expect_fail("a: 1\nb:\tx\n", 2, 3, "tab character not allowed, use spaces");
        assert_null(load("a: 1\nb:\tx\n", &l));
        assert_int_equal(l.n_sources, 1);
        assert_string_equal(l.sources[0].path, "t.yaml");
        diag_list_done(&l);
}

static void test_tabs_all_reported(void **state)
{
        DiagList l;

        assert_null(load("a:\n\tb: 1\nc: 2\n  \td: 3\n\t\t\n", &l));
        assert_diag(&l, 2, 1, "tab character");
        assert_diag(&l, 4, 3, "tab character");
        assert_diag(&l, 5, 1, "tab character");
        assert_int_equal(diag_count_errors(&l), 3); /* one per line */
        diag_list_done(&l);
}

static void test_bad_utf8(void **state)
{
        DiagList l;

        expect_fail("a: 1\nname: caf\xc3\n", 2, 10, "invalid UTF-8");
        expect_fail("a: \xc3\xa9\xff\n", 1, 5, "invalid UTF-8"); /* é counts as one column */
        /* several problems of different kinds, all reported before parsing */
        assert_null(load("\xfe: 1\nb:\tx\nc: \x80\n", &l));
        assert_diag(&l, 1, 1, "invalid UTF-8");
        assert_diag(&l, 2, 3, "tab character");
        assert_diag(&l, 3, 4, "invalid UTF-8");
        diag_list_done(&l);
}

static void test_nul_byte(void **state)
{
        DiagList l;
        static const char text[] = "a: 1\nb: x\0y\n";
        YDocument *d = NULL;

        diag_list_init(&l);
        assert_int_equal(ydocument_load_buffer("t.yaml", text, sizeof(text) - 1, &d, &l), -EINVAL);
        assert_null(d);
        assert_diag(&l, 2, 5, "NUL byte");
        diag_list_done(&l);

        /* an escaped NUL in a double-quoted string would silently cut the C string */
        expect_fail("a: \"x\\0y\"\n", 1, 4, "NUL character");
}

static void test_empty(void **state)
{
        expect_fail("", 1, 1, "file is empty");
        expect_fail("# only a comment\n\n# another\n", 1, 1, "file is empty");
        expect_fail("---\n", 1, 1, "file is empty");
        expect_fail("   \n\n", 1, 1, "file is empty");
        expect_fail("~\n", 1, 1, "file is empty");
}

static void test_anchor_alias(void **state)
{
        DiagList l;

        expect_fail("a: &x 1\nb: 2\n", 1, 4, "anchors and aliases are not supported");
        expect_fail("a: 1\nb: *x\n", 2, 4, "anchors and aliases are not supported");
        assert_null(load("base: &b {x: 1}\nother: *b\nlist: &l [1]\n", &l));
        assert_diag(&l, 1, 7, "anchors and aliases");
        assert_diag(&l, 2, 8, "anchors and aliases");
        assert_diag(&l, 3, 7, "anchors and aliases");
        diag_list_done(&l);
}

static void test_tags(void **state)
{
        expect_fail("a: !!str 1\n", 1, 4, "tags are not supported");
}

static void test_duplicate_keys(void **state)
{
        DiagList l;

        expect_fail("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first defined at line 1)");
        expect_fail("top:\n  x: 1\n  y: 2\n  x: 3\n", 4, 3, "duplicate key 'x' (first defined at line 2)");
        expect_fail("m: {k: 1, k: 2}\n", 1, 11, "duplicate key 'k'");
        /* three times: both repeats point at the first */
        assert_null(load("a: 1\na: 2\na: 3\n", &l));
        assert_diag(&l, 2, 1, "(first defined at line 1)");
        assert_diag(&l, 3, 1, "(first defined at line 1)");
        diag_list_done(&l);
        /* same key in different mappings is fine */
        YDocument *d = load("a: {x: 1}\nb: {x: 1}\n", &l);
        assert_non_null(d);
        ydocument_free(d);
        diag_list_done(&l);
}

static void test_duplicate_keys_many(void **state)
{
        StrBuf b = STRBUF_INIT;
        DiagList l;

        for (int i = 0; i < 20000; i++)
                strbuf_printf(&b, "key%d: %d\n", i, i);
        strbuf_puts(&b, "key777: again\n");
        assert_null(load(strbuf_str(&b), &l));
        assert_diag(&l, 20001, 1, "duplicate key 'key777' (first defined at line 778)");
        assert_int_equal(diag_count_errors(&l), 1);
        diag_list_done(&l);
        strbuf_done(&b);
}

static void test_non_scalar_key(void **state)
{
        expect_fail("? [a, b]\n: 1\n", 1, 3, "mapping keys must be scalars");
        expect_fail("{a: 1}: 2\n", 1, 1, "mapping keys must be scalars");
}

static void test_multiple_documents(void **state)
{
        expect_fail("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document");
        expect_fail("---\na: 1\n...\n---\nb: 2\n", 4, 1, "more than one YAML document");
}

static void test_depth(void **state)
{
        StrBuf b = STRBUF_INIT;
        DiagList l;
        YDocument *d;

        /* exactly the limit loads */
        for (int i = 0; i < YNODE_MAX_DEPTH; i++)
                strbuf_putc(&b, '[');
        for (int i = 0; i < YNODE_MAX_DEPTH; i++)
                strbuf_putc(&b, ']');
        d = load(strbuf_str(&b), &l);
        assert_non_null(d);
        ydocument_free(d);
        diag_list_done(&l);

        strbuf_reset(&b);
        for (int i = 0; i < YNODE_MAX_DEPTH + 1; i++)
                strbuf_putc(&b, '[');
        for (int i = 0; i < YNODE_MAX_DEPTH + 1; i++)
                strbuf_putc(&b, ']');
        expect_fail(strbuf_str(&b), 1, YNODE_MAX_DEPTH + 1, "nesting deeper than 64 levels");
        strbuf_done(&b);
}

static void test_syntax_errors(void **state)
{
        expect_fail("a: 1\n b: 2\n", 2, 3, "syntax error: mapping values are not allowed");
        expect_fail("a: [1, 2\nb: 3\n", 2, 2, "syntax error");
        expect_fail("key: \"unterminated\n", 2, 1, "syntax error: found unexpected end of stream");
        expect_fail("a:\n  - 1\n  b: 2\n", 3, 3, "syntax error: did not find expected '-' indicator");
        expect_fail("a: 1\n@b: 2\n", 2, 1, "syntax error: found character that cannot start any token");
}

static void test_too_large(void **state)
{
        size_t n = YNODE_MAX_FILE_SIZE + 1;
        char *big = malloc(n);
        YDocument *d = NULL;
        DiagList l;
        char path[] = "/tmp/test-yaml-node-XXXXXX";
        int fd;

        assert_non_null(big);
        memset(big, '#', n);
        diag_list_init(&l);
        assert_int_equal(ydocument_load_buffer("big.yaml", big, n, &d, &l), -EINVAL);
        assert_null(d);
        assert_int_equal(l.n_items, 1);
        assert_int_equal(l.items[0].line, 0);
        assert_non_null(strstr(l.items[0].message, "file is too large"));
        assert_int_equal(l.n_sources, 0); /* refused before anything else */
        diag_list_done(&l);

        /* from a file: refused by size, before reading */
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, big, n), (ssize_t) n);
        close(fd);
        diag_list_init(&l);
        assert_int_equal(ydocument_load_file(path, &d, &l), -EINVAL);
        assert_null(d);
        assert_non_null(strstr(l.items[0].message, "file is too large"));
        diag_list_done(&l);
        unlink(path);
        free(big);

        /* at the limit it is accepted (a mapping padded with a long comment) */
        big = malloc(YNODE_MAX_FILE_SIZE + 1);
        memset(big, '#', YNODE_MAX_FILE_SIZE);
        memcpy(big, "a: 1\n", 5);
        big[YNODE_MAX_FILE_SIZE] = '\0';
        diag_list_init(&l);
        assert_int_equal(ydocument_load_buffer("edge.yaml", big, YNODE_MAX_FILE_SIZE, &d, &l), 0);
        ydocument_free(d);
        diag_list_done(&l);
        free(big);
}

static void test_load_file(void **state)
{
        char path[] = "/tmp/test-yaml-node-XXXXXX";
        const char *text = "a: 1\n";
        YDocument *d = NULL;
        DiagList l;
        int fd;

        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);

        diag_list_init(&l);
        assert_int_equal(ydocument_load_file(path, &d, &l), 0);
        assert_string_equal(d->path, path);
        assert_string_equal(ynode_get(d->root, "a")->scalar, "1");
        assert_string_equal(ynode_get(d->root, "a")->path, path);
        ydocument_free(d);
        d = NULL;
        unlink(path);

        assert_int_equal(ydocument_load_file(path, &d, &l), -ENOENT);
        assert_null(d);
        assert_true(diag_has_errors(&l));
        assert_int_equal(ydocument_load_file("/tmp", &d, &l), -EISDIR);
        diag_list_done(&l);
        ydocument_free(NULL);
}

static void test_check_keys(void **state)
{
        static const char *const known[] = { "address", "port", "user", NULL };
        DiagList l;
        YDocument *d = load("address: x\nadress: y\nport: 1\nzzzzzzzz: 2\n", &l);

        assert_non_null(d);
        assert_int_equal(ynode_check_keys(d->root, known, "host 'db1'", &l), 2);
        assert_diag(&l, 2, 1, "unknown key 'adress' in host 'db1' (did you mean 'address'?)");
        assert_diag(&l, 4, 1, "unknown key 'zzzzzzzz' in host 'db1'");
        for (size_t i = 0; i < l.n_items; i++)
                if (l.items[i].line == 4)
                        assert_null(strstr(l.items[i].message, "did you mean"));
        assert_int_equal(ynode_check_keys(ynode_get(d->root, "port"), known, "x", &l), 0);
        ydocument_free(d);
        diag_list_done(&l);
}

static void test_expect(void **state)
{
        DiagList l;
        YDocument *d = load("seq: [1]\nmap: {a: 1}\nnone:\ns: x\n", &l);

        assert_true(ynode_expect(ynode_get(d->root, "map"), YNODE_MAPPING, "hosts", &l));
        assert_false(diag_has_errors(&l));
        assert_false(ynode_expect(ynode_get(d->root, "seq"), YNODE_MAPPING, "hosts", &l));
        assert_diag(&l, 1, 6, "hosts must be a mapping, not a sequence");
        assert_false(ynode_expect(ynode_get(d->root, "s"), YNODE_SEQUENCE, "group 'web'", &l));
        assert_diag(&l, 4, 4, "group 'web' must be a sequence, not a scalar");
        assert_false(ynode_expect(ynode_get(d->root, "none"), YNODE_MAPPING, "sites", &l));
        assert_diag(&l, 3, 6, "sites must be a mapping, not empty");
        assert_false(ynode_expect(NULL, YNODE_MAPPING, "x", &l));
        ydocument_free(d);
        diag_list_done(&l);
}

static void test_getters(void **state)
{
        DiagList l;
        YDocument *d = load("s: hello\n"
                            "qs: 'quoted'\n"
                            "empty:\n"
                            "seq: [1]\n"
                            "t: true\n"
                            "y: yes\n"
                            "f: false\n"
                            "n: no\n"
                            "qt: \"true\"\n"
                            "bad: maybe\n"
                            "u: 22\n"
                            "big: 70000\n"
                            "neg: -1\n"
                            "hex: 0x10\n"
                            "qu: \"22\"\n"
                            "huge: 99999999999999999999999\n"
                            "d: 1m30s\n"
                            "qd: '500ms'\n"
                            "bd: soon\n",
                            &l);
        const YNode *r = d->root;
        const char *s = NULL;
        bool b = false;
        uint64_t u = 0;
        usec_t t = 0;

        assert_int_equal(ynode_get_string(r, "s", "w", true, &s, &l), 1);
        assert_string_equal(s, "hello");
        assert_int_equal(ynode_get_string(r, "qs", "w", true, &s, &l), 1);
        assert_string_equal(s, "quoted");
        s = "unchanged";
        assert_int_equal(ynode_get_string(r, "nope", "w", false, &s, &l), 0);
        assert_string_equal(s, "unchanged");
        assert_false(diag_has_errors(&l));
        assert_int_equal(ynode_get_string(r, "nope", "host 'x'", true, &s, &l), -ENOENT);
        assert_diag(&l, 1, 1, "missing required key 'nope' in host 'x'");
        assert_int_equal(ynode_get_string(r, "seq", "w", true, &s, &l), -EINVAL);
        assert_diag(&l, 4, 6, "w: seq must be a string, not a sequence");
        assert_int_equal(ynode_get_string(r, "empty", "w", false, &s, &l), -EINVAL);
        assert_diag(&l, 3, 7, "w: empty must be a string, not empty");

        assert_int_equal(ynode_get_bool(r, "t", "w", true, &b, &l), 1);
        assert_true(b);
        assert_int_equal(ynode_get_bool(r, "f", "w", true, &b, &l), 1);
        assert_false(b);
        assert_int_equal(ynode_get_bool(r, "y", "w", true, &b, &l), 1);
        assert_true(b);
        assert_int_equal(ynode_get_bool(r, "n", "w", true, &b, &l), 1);
        assert_false(b);
        assert_int_equal(ynode_get_bool(r, "qt", "w", true, &b, &l), -EINVAL);
        assert_diag(&l, 9, 5, "w: qt must be true or false");
        assert_int_equal(ynode_get_bool(r, "bad", "w", true, &b, &l), -EINVAL);
        assert_diag(&l, 10, 6, "must be true or false, not 'maybe'");

        assert_int_equal(ynode_get_uint(r, "u", "w", true, 1, 65535, &u, &l), 1);
        assert_int_equal(u, 22);
        assert_true(ynode_get_uint(r, "big", "host 'db1'", true, 1, 65535, &u, &l) < 0);
        assert_diag(&l, 12, 6, "host 'db1': big must be between 1 and 65535");
        assert_true(ynode_get_uint(r, "neg", "w", true, 0, 10, &u, &l) < 0);
        assert_diag(&l, 13, 6, "w: neg must be a number");
        assert_true(ynode_get_uint(r, "hex", "w", true, 0, 100, &u, &l) < 0);
        assert_diag(&l, 14, 6, "w: hex must be a number");
        assert_true(ynode_get_uint(r, "qu", "w", true, 0, 100, &u, &l) < 0);
        assert_diag(&l, 15, 5, "w: qu must be a number");
        assert_true(ynode_get_uint(r, "huge", "w", true, 0, UINT64_MAX, &u, &l) < 0);
        assert_diag(&l, 16, 7, "w: huge must be between 0 and 18446744073709551615");
        assert_int_equal(u, 22);

        assert_int_equal(ynode_get_duration(r, "d", "w", true, &t, &l), 1);
        assert_int_equal(t, 90 * USEC_PER_SEC);
        assert_int_equal(ynode_get_duration(r, "qd", "w", true, &t, &l), 1);
        assert_int_equal(t, 500 * USEC_PER_MSEC);
        assert_int_equal(ynode_get_duration(r, "bd", "w", true, &t, &l), -EINVAL);
        assert_diag(&l, 19, 5, "invalid duration 'soon' for bd (expected e.g. 500ms, 30s, 2m, 1h)");
        assert_int_equal(t, 500 * USEC_PER_MSEC);

        ydocument_free(d);
        diag_list_done(&l);
}

static void test_ynode_error(void **state)
{
        DiagList l;
        YDocument *d = load("a:\n  b: value\n", &l);

        ynode_error(&l, ynode_get(ynode_get(d->root, "a"), "b"), "custom %d", 7);
        assert_diag(&l, 2, 6, "custom 7");
        assert_string_equal(l.items[0].path, "t.yaml");
        ydocument_free(d);
        diag_list_done(&l);
}

static void test_crlf_and_bom(void **state)
{
        DiagList l;
        YDocument *d = load("\xEF\xBB\xBF"
                            "a: 1\r\nb: 2\r\n",
                            &l);

        assert_non_null(d);
        assert_int_equal(ynode_get(d->root, "b")->line, 2);
        assert_int_equal(ynode_get(d->root, "b")->col, 4);
        ydocument_free(d);
        diag_list_done(&l);
        expect_fail("a: 1\r\nb:\tx\r\n", 2, 3, "tab character");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tree),
                cmocka_unit_test(test_source_registered),
                cmocka_unit_test(test_tabs_all_reported),
                cmocka_unit_test(test_bad_utf8),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_anchor_alias),
                cmocka_unit_test(test_tags),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_duplicate_keys_many),
                cmocka_unit_test(test_non_scalar_key),
                cmocka_unit_test(test_multiple_documents),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_syntax_errors),
                cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_load_file),
                cmocka_unit_test(test_check_keys),
                cmocka_unit_test(test_expect),
                cmocka_unit_test(test_getters),
                cmocka_unit_test(test_ynode_error),
                cmocka_unit_test(test_crlf_and_bom),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
