/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-strbuf.c — the growable buffer, its output cap, and the x* allocation helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shared/strbuf.h"

static void test_empty(void **state)
{
        StrBuf b = STRBUF_INIT;
        char *s;

        assert_string_equal(strbuf_str(&b), "");
        s = strbuf_steal(&b);
        assert_string_equal(s, "");
        free(s);
        strbuf_done(&b);
}

static void test_append(void **state)
{
        StrBuf b = STRBUF_INIT;
        char *s;

        strbuf_puts(&b, "hello");
        strbuf_putc(&b, ' ');
        strbuf_append(&b, "worldXXX", 5);
        strbuf_printf(&b, " %d-%s", 42, "x");
        assert_string_equal(strbuf_str(&b), "hello world 42-x");
        assert_int_equal(b.len, 16);
        assert_false(b.truncated);
        strbuf_append(&b, NULL, 0);
        assert_int_equal(b.len, 16);

        strbuf_reset(&b);
        assert_string_equal(strbuf_str(&b), "");
        assert_int_equal(b.len, 0);
        strbuf_puts(&b, "again");
        s = strbuf_steal(&b);
        assert_string_equal(s, "again");
        assert_null(b.data);
        assert_int_equal(b.len, 0);
        free(s);
        strbuf_done(&b);
}

static void test_growth(void **state)
{
        StrBuf b = STRBUF_INIT;

        for (int i = 0; i < 10000; i++)
                strbuf_putc(&b, (char) ('a' + i % 26));
        assert_int_equal(b.len, 10000);
        assert_int_equal(strlen(strbuf_str(&b)), 10000);
        assert_true(b.cap > b.len);
        assert_int_equal(b.data[9999], 'a' + 9999 % 26);
        strbuf_printf(&b, "%5000s", "");
        assert_int_equal(b.len, 15000);
        strbuf_done(&b);
        assert_null(b.data);
}

static void test_limit(void **state)
{
        StrBuf b = STRBUF_INIT;

        b.limit = 8;
        strbuf_puts(&b, "12345");
        assert_false(b.truncated);
        strbuf_puts(&b, "6789abc");
        assert_true(b.truncated);
        assert_string_equal(strbuf_str(&b), "12345678");
        strbuf_puts(&b, "more");
        assert_string_equal(strbuf_str(&b), "12345678");
        assert_int_equal(b.len, 8);
        strbuf_printf(&b, "%s", "x");
        assert_int_equal(b.len, 8);
        strbuf_reset(&b);
        assert_false(b.truncated);
        strbuf_puts(&b, "12345678");
        assert_false(b.truncated); /* exactly the limit is not truncation */
        strbuf_done(&b);
}

static void test_x_helpers(void **state)
{
        char *s = xstrdup("abc"), *t = xstrndup("abcdef", 3), *u = xasprintf("%s-%03d", "n", 7);
        int *a = NULL;
        size_t n = 0;

        assert_string_equal(s, "abc");
        assert_string_equal(t, "abc");
        assert_string_equal(u, "n-007");
        assert_null(xstrdup(NULL));
        assert_null(xstrndup(NULL, 3));
        free(s);
        free(t);
        free(u);

        for (int i = 0; i < 100; i++) {
                int *slot = array_push(&a, &n, sizeof(int));
                assert_int_equal(*slot, 0); /* zeroed */
                *slot = i * 2;
        }
        assert_int_equal(n, 100);
        assert_int_equal(a[0], 0);
        assert_int_equal(a[99], 198);
        free(a);

        a = xcalloc(0, sizeof(int)); /* never NULL, even for zero */
        assert_non_null(a);
        free(a);
        a = xmalloc(0);
        assert_non_null(a);
        a = xrealloc(a, 16);
        assert_non_null(a);
        free(a);
}

static void test_json_escaped(void **state)
{
        StrBuf b = STRBUF_INIT;

        strbuf_put_json_escaped(&b, "a\"b\\c\nd\te\x01" "f\x7f$x", false);
        assert_string_equal(strbuf_str(&b), "a\\\"b\\\\c\\nd\\te\\u0001f\\u007f$x");
        strbuf_reset(&b);
        strbuf_put_json_escaped(&b, "${x} costs $5", true);
        assert_string_equal(strbuf_str(&b), "$${x} costs $$5");
        strbuf_reset(&b);
        strbuf_put_json_escaped(&b, "pl\xc3\xa4in UTF-8 stays", false);
        assert_string_equal(strbuf_str(&b), "pl\xc3\xa4in UTF-8 stays");
        strbuf_done(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),  cmocka_unit_test(test_append),    cmocka_unit_test(test_growth),
                cmocka_unit_test(test_limit),  cmocka_unit_test(test_x_helpers), cmocka_unit_test(test_json_escaped),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
