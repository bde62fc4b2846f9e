/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-strv.c — string vectors: NULL is empty, push/copy/join/contains. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shared/strbuf.h"
#include "shared/strv.h"

static void test_null_is_empty(void **state)
{
        _cleanup_free_ char *j = strv_join(NULL, ", ");

        assert_int_equal(strv_length(NULL), 0);
        assert_true(strv_isempty(NULL));
        assert_false(strv_contains(NULL, "a"));
        assert_null(strv_copy(NULL));
        assert_string_equal(j, "");
}

static void test_push_contains_join(void **state)
{
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL, *one = NULL;

        strv_push(&l, xstrdup("web-01"));
        assert_int_equal(strv_length(l), 1);
        assert_false(strv_isempty(l));
        one = strv_join(l, ", ");
        assert_string_equal(one, "web-01");
        strv_push(&l, xstrdup(""));
        strv_push(&l, xstrdup("db-01"));
        assert_int_equal(strv_length(l), 3);
        assert_null(l[3]);
        assert_true(strv_contains(l, "db-01"));
        assert_true(strv_contains(l, ""));
        assert_false(strv_contains(l, "db-0"));
        assert_false(strv_contains(l, NULL));
        j = strv_join(l, ", ");
        assert_string_equal(j, "web-01, , db-01");
}

static void test_copy_is_deep(void **state)
{
        _cleanup_strv_free_ char **l = NULL, **c = NULL, **e = NULL;
        char *empty[] = { NULL };

        strv_push(&l, xstrdup("a"));
        strv_push(&l, xstrdup("b"));
        c = strv_copy(l);
        assert_int_equal(strv_length(c), 2);
        assert_ptr_not_equal(c[0], l[0]);
        l[0][0] = 'z';
        assert_string_equal(c[0], "a");
        assert_string_equal(c[1], "b");
        assert_null(c[2]);
        e = strv_copy(empty);
        assert_non_null(e);
        assert_true(strv_isempty(e));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_null_is_empty),
                cmocka_unit_test(test_push_contains_join),
                cmocka_unit_test(test_copy_is_deep),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
