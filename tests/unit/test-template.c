/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-template.c — template parsing, error columns and expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "playbook/condition.h"
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

/* ---- the typed form: one parse, used at load (kinds, names) and run time (lookup) ---- */

static void assert_ref(const TemplateRef *r, RefKind kind, const char *path, const char *name, const char *field,
                       unsigned col)
{
        assert_int_equal(r->kind, kind);
        assert_string_equal(r->path, path);
        if (name)
                assert_string_equal(r->name, name);
        else
                assert_null(r->name);
        if (field)
                assert_string_equal(r->field, field);
        else
                assert_null(r->field);
        assert_int_equal(r->col, col);
}

static void test_ref_typed(void **state)
{
        Template t;
        DiagList d;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t,
                                        "${params.a}${steps.s.json.x.0}${step.stdout}${targets.db.address}"
                                        "${host.name}${secrets.db.pw}${run.id}${foo.bar}${steps.s}${params.a.b} é",
                                        "f", 1, 1, &d),
                         0);
        assert_int_equal(d.n_items, 0);
        assert_int_equal(t.n_parts, 11);
        assert_ref(&t.parts[0].ref, REF_PARAM, "params.a", "a", NULL, 1);
        assert_ref(&t.parts[1].ref, REF_STEPS, "steps.s.json.x.0", "s", "json.x.0", 12);
        assert_int_equal(template_ref_field_head(&t.parts[1].ref), 4);
        assert_ref(&t.parts[2].ref, REF_STEP, "step.stdout", NULL, "stdout", 31);
        assert_ref(&t.parts[3].ref, REF_TARGET, "targets.db.address", "db", "address", 45);
        assert_ref(&t.parts[4].ref, REF_HOST, "host.name", NULL, "name", 66);
        assert_ref(&t.parts[5].ref, REF_SECRET, "secrets.db.pw", "db.pw", NULL, 78);
        assert_ref(&t.parts[6].ref, REF_RUN, "run.id", NULL, "id", 94);
        assert_ref(&t.parts[7].ref, _REF_KIND_INVALID, "foo.bar", NULL, NULL, 103);
        assert_ref(&t.parts[8].ref, REF_STEPS, "steps.s", "s", NULL, 113);
        assert_ref(&t.parts[9].ref, REF_PARAM, "params.a.b", "a", "b", 123);
        assert_int_equal(template_ref_field_head(&t.parts[9].ref), 1);
        assert_false(t.parts[10].is_ref);
        assert_string_equal(t.parts[10].text, " é");
        /* The text form stays the path of the typed one. */
        for (size_t i = 0; i < 10; i++)
                assert_string_equal(t.parts[i].text, t.parts[i].ref.path);
        template_done(&t);
        diag_list_done(&d);

        assert_string_equal(ref_kind_to_string(REF_SECRET), "secrets");
        assert_int_equal(ref_kind_from_string("targets"), REF_TARGET);
        assert_int_equal(ref_kind_from_string("target"), _REF_KIND_INVALID);
        assert_null(ref_kind_to_string(_REF_KIND_MAX));
}

static unsigned typed_calls;

/* A lookup that answers from the typed fields only, never from the path text. */
static int typed_lookup(void *userdata, const TemplateRef *ref, char **ret, bool *ret_secret)
{
        typed_calls++;
        *ret_secret = ref->kind == REF_SECRET;
        switch (ref->kind) {
        case REF_PARAM:
                *ret = xasprintf("P(%s)", ref->name);
                return 0;
        case REF_STEPS:
                if (!ref->field)
                        return -ENOENT;
                *ret = xasprintf("S(%s|%s)", ref->name, ref->field);
                return 0;
        case REF_SECRET:
                *ret = xasprintf("X(%s)", ref->name);
                return 0;
        default:
                return -ENOENT;
        }
}

static void test_expand_refs(void **state)
{
        Template t;
        DiagList d;
        _cleanup_free_ char *out = NULL;
        char *none = NULL;
        const char *bad = NULL;
        bool secret = false;

        diag_list_init(&d);
        assert_int_equal(template_parse(&t, "a=${params.a} $${x} ${steps.lag.json.v} ${secrets.k.1}", "f", 1, 1, &d),
                         0);
        typed_calls = 0;
        assert_int_equal(template_expand_refs(&t, typed_lookup, NULL, &out, &secret, NULL), 0);
        assert_string_equal(out, "a=P(a) ${x} S(lag|json.v) X(k.1)");
        assert_true(secret);
        assert_int_equal(typed_calls, 3);
        template_done(&t);

        assert_int_equal(template_parse(&t, "${params.a} ${run.id}", "f", 1, 1, &d), 0);
        assert_int_equal(template_expand_refs(&t, typed_lookup, NULL, &none, NULL, &bad), -ENOENT);
        assert_null(none);
        assert_string_equal(bad, "run.id");
        template_done(&t);
        diag_list_done(&d);
}

static void test_build_parts(void **state)
{
        Template src, t = {};
        DiagList d;
        _cleanup_free_ char *out = NULL;

        /* The loader's JSON bodies: literal syntax and refs moved over, never re-parsed; a
         * literal "${x}" (written $${x}) stays literal. */
        diag_list_init(&d);
        assert_int_equal(template_parse(&src, "${params.z}", "f", 1, 1, &d), 0);
        template_put_literal(&t, "{\"a\": \"", 1);
        template_put_ref(&t, &src.parts[0].ref);
        template_put_literal(&t, "\", \"b\": \"", 20);
        template_put_literal(&t, "${x}\"}", 30);
        t.source = xstrdup("(built)");
        assert_int_equal(t.n_parts, 3);
        assert_true(t.parts[1].is_ref);
        assert_int_equal(t.parts[1].ref.kind, REF_PARAM);
        assert_string_equal(t.parts[2].text, "\", \"b\": \"${x}\"}");
        assert_int_equal(template_expand_refs(&t, typed_lookup, NULL, &out, NULL, NULL), 0);
        assert_string_equal(out, "{\"a\": \"P(z)\", \"b\": \"${x}\"}");
        template_done(&t);
        template_done(&src);
        diag_list_done(&d);
}

static void test_condition_typed(void **state)
{
        Condition c;
        DiagList d;
        bool b = false;

        diag_list_init(&d);
        assert_int_equal(condition_parse(&c, "params.x == 'P(x)' and steps.lag.stdout != '' and not run.id", "f",
                                         4, 7, &d),
                         0);
        assert_int_equal(c.n_ref_items, 3);
        assert_ref(&c.ref_items[0], REF_PARAM, "params.x", "x", NULL, 1);
        assert_ref(&c.ref_items[1], REF_STEPS, "steps.lag.stdout", "lag", "stdout", 24);
        assert_ref(&c.ref_items[2], REF_RUN, "run.id", NULL, "id", 55);
        assert_string_equal(c.refs[1], c.ref_items[1].path);
        assert_int_equal(c.ref_cols[2], c.ref_items[2].col);
        /* run.id is unknown to typed_lookup: the error names it. */
        {
                const char *bad = NULL;
                assert_int_equal(condition_eval_refs(&c, typed_lookup, NULL, &b, &bad), -ENOENT);
                assert_string_equal(bad, "run.id");
        }
        condition_done(&c);

        assert_int_equal(condition_parse(&c, "params.x == 'P(x)' and steps.lag.stdout == 'S(lag|stdout)'", "f", 1,
                                         1, &d),
                         0);
        assert_int_equal(condition_eval_refs(&c, typed_lookup, NULL, &b, NULL), 0);
        assert_true(b);
        condition_done(&c);
        assert_int_equal(d.n_items, 0);
        diag_list_done(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_parts),   cmocka_unit_test(test_plain),
                cmocka_unit_test(test_errors),        cmocka_unit_test(test_not_exact_cols),
                cmocka_unit_test(test_expand),        cmocka_unit_test(test_expand_errors),
                cmocka_unit_test(test_json_escape),   cmocka_unit_test(test_ref_valid),
                cmocka_unit_test(test_ref_typed),     cmocka_unit_test(test_expand_refs),
                cmocka_unit_test(test_build_parts),   cmocka_unit_test(test_condition_typed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
