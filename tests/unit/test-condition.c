/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-condition.c — condition grammar, errors with columns, evaluation rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "playbook/condition.h"
#include "shared/strbuf.h"

static const char *const values[][2] = {
        { "params.force", "true" },       { "params.off", "false" },     { "steps.lag.stdout", " 42\n" },
        { "steps.lag.exit_status", "0" }, { "params.name", "web-01" },   { "params.empty", "" },
        { "params.yes", "YES" },          { "params.ten", "10" },        { "params.nine", "9" },
        { "step.body", "state: ok" },     { "params.float", "1.0" },
};

static unsigned n_lookups;

static int lookup(void *userdata, const char *ref, char **ret, bool *ret_secret)
{
        n_lookups++;
        if (streq(ref, "steps.skipped.stdout"))
                return -ENODATA;
        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                if (streq(values[i][0], ref)) {
                        *ret = xstrdup(values[i][1]);
                        *ret_secret = false;
                        return 0;
                }
        return -ENOENT;
}

static bool eval(const char *s)
{
        Condition c;
        DiagList d;
        bool b = false;

        diag_list_init(&d);
        if (condition_parse(&c, s, "f", 1, 1, &d) < 0)
                fail_msg("'%s' did not parse: %s", s, d.n_items ? d.items[0].message : "?");
        if (condition_eval(&c, lookup, NULL, &b, NULL) < 0)
                fail_msg("'%s' did not evaluate", s);
        condition_done(&c);
        diag_list_done(&d);
        return b;
}

static void test_eval(void **state)
{
        assert_true(eval("params.force"));
        assert_false(eval("params.off"));
        assert_false(eval("params.empty"));
        assert_true(eval("params.yes"));
        assert_true(eval("params.ten"));
        assert_false(eval("0"));
        assert_true(eval("true"));
        assert_false(eval("false"));
        assert_false(eval("'abc'"));
        assert_true(eval("params.force == true"));
        assert_true(eval("params.force == 'true'"));
        assert_true(eval("steps.lag.stdout < 1000"));   /* trimmed, numeric */
        assert_true(eval("steps.lag.stdout == 42"));
        assert_true(eval("params.nine < params.ten"));   /* numeric: 9 < 10 */
        assert_false(eval("'9' < '10a'"));               /* string compare */
        assert_true(eval("params.float == 1"));
        assert_true(eval("params.float != 2"));
        assert_true(eval("params.ten >= 10 and params.ten <= 10.0"));
        assert_true(eval("params.ten > -1.5"));
        assert_true(eval("params.name == \"web-01\""));
        assert_true(eval("params.name contains 'web'"));
        assert_false(eval("params.name contains 'db'"));
        assert_true(eval("step.body contains \"ok\""));
        assert_true(eval("not params.off"));
        assert_true(eval("not not params.force"));
        assert_false(eval("not params.force == true"));
        assert_true(eval("params.off or params.force"));
        assert_false(eval("params.off and params.force"));
        /* and binds tighter than or */
        assert_true(eval("params.force or params.off and params.off"));
        assert_false(eval("(params.force or params.off) and params.off"));
        assert_true(eval("(params.force == true) == true"));
        assert_true(eval("\"a\\\"b\" == 'a\"b'"));
        assert_true(eval("params.force == true and steps.lag.stdout < 1000"));
}

static void test_short_circuit(void **state)
{
        /* The right side would fail (skipped step); short-circuit avoids it. */
        n_lookups = 0;
        assert_false(eval("params.off and steps.skipped.stdout == 1"));
        assert_int_equal(n_lookups, 1);
        assert_true(eval("params.force or steps.skipped.stdout == 1"));
}

static void test_eval_error(void **state)
{
        Condition c;
        DiagList d;
        bool b;
        const char *bad = NULL;

        diag_list_init(&d);
        assert_int_equal(condition_parse(&c, "params.force and steps.skipped.stdout == 1", "f", 1, 1, &d), 0);
        assert_int_equal(condition_eval(&c, lookup, NULL, &b, &bad), -ENODATA);
        assert_string_equal(bad, "steps.skipped.stdout");
        condition_done(&c);

        assert_int_equal(condition_parse(&c, "params.nope == 1", "f", 1, 1, &d), 0);
        assert_int_equal(condition_eval(&c, lookup, NULL, &b, &bad), -ENOENT);
        assert_string_equal(bad, "params.nope");
        condition_done(&c);

        /* Unset condition: always true. */
        c = (Condition) {};
        b = false;
        assert_int_equal(condition_eval(&c, lookup, NULL, &b, NULL), 0);
        assert_true(b);
        diag_list_done(&d);
}

static void test_refs(void **state)
{
        Condition c;
        DiagList d;

        diag_list_init(&d);
        assert_int_equal(condition_parse(&c, "params.force == true and (steps.lag.stdout < 1000 or "
                                             "steps.s.json.items.0.id == '7')",
                                         "f", 2, 10, &d),
                         0);
        assert_non_null(c.refs);
        assert_string_equal(c.refs[0], "params.force");
        assert_int_equal(c.ref_cols[0], 1);
        assert_string_equal(c.refs[1], "steps.lag.stdout");
        assert_int_equal(c.ref_cols[1], 27);
        assert_string_equal(c.refs[2], "steps.s.json.items.0.id");
        assert_null(c.refs[3]);
        assert_string_equal(c.source,
                            "params.force == true and (steps.lag.stdout < 1000 or steps.s.json.items.0.id == '7')");
        condition_done(&c);

        assert_int_equal(condition_parse(&c, "true", "f", 2, 10, &d), 0);
        assert_non_null(c.refs);
        assert_null(c.refs[0]);
        condition_done(&c);
        assert_int_equal(d.n_items, 0);
        diag_list_done(&d);
}

static void expect_error(const char *s, unsigned col, const char *substring)
{
        Condition c;
        DiagList d;

        diag_list_init(&d);
        if (condition_parse(&c, s, "f.yaml", 9, 11, &d) != -EINVAL)
                fail_msg("'%s' parsed", s);
        assert_null(c.root);
        assert_null(c.source);
        assert_int_equal(d.n_items, 1);
        assert_int_equal(d.items[0].line, 9);
        if (d.items[0].col != col || !strstr(d.items[0].message, substring))
                fail_msg("'%s': got col %u '%s', want col %u '%s'", s, d.items[0].col, d.items[0].message, col,
                         substring);
        diag_list_done(&d);
}

static void test_errors(void **state)
{
        expect_error("", 11, "empty condition");
        expect_error("   ", 11, "empty condition");
        expect_error("params.x = 1", 20, "unknown operator '='");
        expect_error("params.x == ", 23, "found end of condition");
        expect_error("params.x == 'abc", 23, "unterminated string");
        expect_error("(params.x == 1", 11, "missing ')'");
        expect_error("params.x == 1)", 24, "unexpected ')'");
        expect_error("params.x params.y", 20, "after a complete condition");
        expect_error("force == true", 11, "unknown word 'force'");
        expect_error("${params.x} == 1", 11, "written bare");
        expect_error("params.x == 12abc", 23, "invalid number");
        expect_error("params..x", 11, "invalid reference");
        expect_error("params.x and", 23, "found end of condition");
        expect_error("not", 14, "found end of condition");
        expect_error("params.x == 1 == 2", 25, "after a complete condition");
        expect_error("params.x & 1", 20, "unexpected character '&'");
        expect_error("é == params.x!", 11, "unexpected character");
        expect_error("params.x == 'é' and )", 31, "found ')'");
}

static void test_deep(void **state)
{
        StrBuf b = STRBUF_INIT;
        Condition c;
        DiagList d;

        for (int i = 0; i < 200; i++)
                strbuf_putc(&b, '(');
        strbuf_puts(&b, "true");
        for (int i = 0; i < 200; i++)
                strbuf_putc(&b, ')');
        diag_list_init(&d);
        assert_int_equal(condition_parse(&c, strbuf_str(&b), "f", 1, 1, &d), -EINVAL);
        assert_non_null(strstr(d.items[0].message, "nested too deeply"));
        diag_list_done(&d);
        strbuf_done(&b);
}

static void test_truthiness(void **state)
{
        assert_true(condition_value_is_true("true"));
        assert_true(condition_value_is_true(" Yes\n"));
        assert_true(condition_value_is_true("1"));
        assert_true(condition_value_is_true("-0.5"));
        assert_false(condition_value_is_true("0"));
        assert_false(condition_value_is_true("0.0"));
        assert_false(condition_value_is_true("no"));
        assert_false(condition_value_is_true("false"));
        assert_false(condition_value_is_true(""));
        assert_false(condition_value_is_true(NULL));
        assert_false(condition_value_is_true("nan"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_eval),   cmocka_unit_test(test_short_circuit),
                cmocka_unit_test(test_eval_error), cmocka_unit_test(test_refs),
                cmocka_unit_test(test_errors), cmocka_unit_test(test_deep),
                cmocka_unit_test(test_truthiness),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
