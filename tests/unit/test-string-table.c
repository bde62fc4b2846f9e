/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-string-table.c — the shared enum <-> string tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shared/string-table.h"

typedef enum Colour {
        COLOUR_RED,
        COLOUR_GAP, /* no name: never matches, prints NULL */
        COLOUR_BLUE,
        _COLOUR_MAX,
        _COLOUR_INVALID = -EINVAL,
} Colour;

static const char *const colour_table[_COLOUR_MAX] = {
        [COLOUR_RED] = "red",
        [COLOUR_BLUE] = "blue",
};

const char *colour_to_string(Colour c);
Colour colour_from_string(const char *s);
DEFINE_STRING_TABLE(colour, Colour, colour_table)

static void test_string_table(void **state)
{
        (void) state;
        assert_string_equal(colour_to_string(COLOUR_RED), "red");
        assert_string_equal(colour_to_string(COLOUR_BLUE), "blue");
        assert_null(colour_to_string(COLOUR_GAP));
        assert_null(colour_to_string(_COLOUR_MAX));
        assert_null(colour_to_string(_COLOUR_INVALID));
        assert_int_equal(colour_from_string("blue"), COLOUR_BLUE);
        assert_int_equal(colour_from_string("red"), COLOUR_RED);
        assert_int_equal(colour_from_string("Red"), _COLOUR_INVALID);
        assert_int_equal(colour_from_string(""), _COLOUR_INVALID);
        assert_int_equal(colour_from_string(NULL), _COLOUR_INVALID);
        assert_int_equal(string_table_lookup(colour_table, 1, "blue"), -EINVAL); /* outside n */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_string_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
