/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-template.c — template parsing, error columns and expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "playbook/template.h"
#include "shared/strbuf.h"

static int lookup(void *userdata, const char *ref, char **ret, bool *ret_secret)
{
        if (streq(ref, "params.reason")) {
                *ret = xstrdup("disk \"full\"\n");
                *ret_secret = false;
                return 0;
        }
        if (streq(ref, "secrets.token")) {
                *ret = xstrdup("s3cr3t");
                *ret_secret = true;
                return 0;
        }
        if (streq(ref, "steps.skipped.stdout"))
                return -ENODATA;
        if (streq(ref, "params.n")) {
                *ret = xstrdup("3");
                *ret_secret = false;
                return 0;
        }
        return -ENOENT;
}

static void test_parse_parts(void **state)
{
        Template t;
        DiagList d;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, "a ${params.reason} b$${x} $HOME ${steps.s.json.items.0.id}", "f", 3,
                                        10, &d),
                         0);
        assert_int_equal(d.n_items, 0);
        assert_true(template_is_set(&t));
        assert_true(template_has_refs(&t));
        assert_int_equal(t.n_parts, 4);
        assert_false(t.parts[0].is_ref);
        assert_string_equal(t.parts[0].text, "a ");
        assert_int_equal(t.parts[0].col, 1);
        assert_true(t.parts[1].is_ref);
        assert_string_equal(t.parts[1].text, "params.reason");
        assert_int_equal(t.parts[1].col, 3);
        assert_false(t.parts[2].is_ref);
        assert_string_equal(t.parts[2].text, " b${x} $HOME ");
        assert_int_equal(t.parts[2].col, 19);
        assert_true(t.parts[3].is_ref);
        assert_string_equal(t.parts[3].text, "steps.s.json.items.0.id");
        assert_int_equal(t.line, 3);
        assert_int_equal(t.col, 10);
        template_done(&t);
        assert_false(template_is_set(&t));
        diag_list_done(&d);
}

static void test_plain(void **state)
{
        Template t;
        DiagList d;
        _cleanup_free_ char *out = NULL;
        bool secret = true;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, "", "f", 1, 1, &d), 0);
        assert_true(template_is_set(&t));
        assert_false(template_has_refs(&t));
        assert_int_equal(template_expand(&t, lookup, NULL, &out, &secret, NULL), 0);
        assert_string_equal(out, "");
        assert_false(secret);
        template_done(&t);
        diag_list_done(&d);
}

static void expect_error(const char *s, unsigned col, const char *substring)
{
        Template t;
        DiagList d;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, s, "f.yaml", 7, 5, &d), -EINVAL);
        assert_false(template_is_set(&t));
        assert_true(d.n_items >= 1);
        assert_int_equal(d.items[0].line, 7);
        assert_int_equal(d.items[0].col, col);
        if (!strstr(d.items[0].message, substring))
                fail_msg("message '%s' lacks '%s'", d.items[0].message, substring);
        diag_list_done(&d);
}

static void test_errors(void **state)
{
        expect_error("abc ${params.x", 9, "unterminated ${");
        expect_error("${}", 5, "empty reference");
        expect_error("xx ${params}", 8, "at least two segments");
        expect_error("xx ${params..x}", 8, "invalid reference");
        expect_error("${params.a b}", 5, "invalid reference");
        expect_error("${params.}", 5, "invalid reference");
        expect_error("${.x}", 5, "invalid reference");
        /* The second of two references: the column of its own ${. */
        expect_error("${params.ok} ${bad ref}", 18, "invalid reference");
        /* Columns count characters, not bytes: "é" is one column. */
        expect_error("é ${x", 7, "unterminated");
}

static void test_not_exact_cols(void **state)
{
        Template t;
        DiagList d;

        diag_list_init(&d);
        assert_int_equal(template_parse_at(&t, "line1\nline2 ${oops", "f", 4, 9, false, &d), -EINVAL);
        assert_int_equal(d.n_items, 1);
        assert_int_equal(d.items[0].line, 4);
        assert_int_equal(d.items[0].col, 9);
        diag_list_done(&d);
}

static void test_expand(void **state)
{
        Template t;
        DiagList d;
        _cleanup_free_ char *out = NULL;
        bool secret = false;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, "why=${params.reason} n=${params.n}$$", "f", 1, 1, &d), 0);
        assert_int_equal(template_expand(&t, lookup, NULL, &out, &secret, NULL), 0);
        assert_string_equal(out, "why=disk \"full\"\n n=3$");
        assert_false(secret);
        template_done(&t);

        free(out);
        out = NULL;
        assert_int_equal(template_parse(&t, "Bearer ${secrets.token}", "f", 1, 1, &d), 0);
        assert_int_equal(template_expand(&t, lookup, NULL, &out, &secret, NULL), 0);
        assert_string_equal(out, "Bearer s3cr3t");
        assert_true(secret);
        template_done(&t);
        diag_list_done(&d);
}

static void test_expand_errors(void **state)
{
        Template t;
        DiagList d;
        char *out = NULL;
        const char *bad = NULL;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, "a ${params.n} ${steps.skipped.stdout}", "f", 1, 1, &d), 0);
        assert_int_equal(template_expand(&t, lookup, NULL, &out, NULL, &bad), -ENODATA);
        assert_null(out);
        assert_string_equal(bad, "steps.skipped.stdout");
        template_done(&t);

        assert_int_equal(template_parse(&t, "${params.nope}", "f", 1, 1, &d), 0);
        assert_int_equal(template_expand(&t, lookup, NULL, &out, NULL, &bad), -ENOENT);
        assert_string_equal(bad, "params.nope");
        template_done(&t);
        diag_list_done(&d);
}

static void test_json_escape(void **state)
{
        Template t;
        DiagList d;
        _cleanup_free_ char *out = NULL;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, "{\"reason\": \"x ${params.reason}\", \"n\": 3}", "f", 1, 1, &d), 0);
        t.json_escape = true;
        assert_int_equal(template_expand(&t, lookup, NULL, &out, NULL, NULL), 0);
        assert_string_equal(out, "{\"reason\": \"x disk \\\"full\\\"\\n\", \"n\": 3}");
        template_done(&t);
        diag_list_done(&d);
}

static void test_ref_valid(void **state)
{
        assert_true(template_ref_is_valid("params.x", 8));
        assert_true(template_ref_is_valid("steps.a-b.json.0", 16));
        assert_false(template_ref_is_valid("params", 6));
        assert_false(template_ref_is_valid("params.", 7));
        assert_false(template_ref_is_valid("a..b", 4));
        assert_false(template_ref_is_valid("a.b c", 5));
        assert_false(template_ref_is_valid("", 0));
        assert_int_equal(template_char_offset("éa", 3), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_parts),   cmocka_unit_test(test_plain),
                cmocka_unit_test(test_errors),        cmocka_unit_test(test_not_exact_cols),
                cmocka_unit_test(test_expand),        cmocka_unit_test(test_expand_errors),
                cmocka_unit_test(test_json_escape),   cmocka_unit_test(test_ref_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
