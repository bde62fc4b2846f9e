/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-time-util.c — the duration syntax, formatting and saturating arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "shared/time-util.h"

static usec_t dur(const char *s)
{
        usec_t u = 12345;

        assert_int_equal(parse_duration(s, &u), 0);
        return u;
}

static void test_parse_good(void **state)
{
        assert_int_equal(dur("500ms"), 500 * USEC_PER_MSEC);
        assert_int_equal(dur("30s"), 30 * USEC_PER_SEC);
        assert_int_equal(dur("2m"), 2 * USEC_PER_MINUTE);
        assert_int_equal(dur("1h"), USEC_PER_HOUR);
        assert_int_equal(dur("1h30m"), 90 * USEC_PER_MINUTE);
        assert_int_equal(dur("1m30s250ms"), 90 * USEC_PER_SEC + 250 * USEC_PER_MSEC);
        assert_int_equal(dur("1.5s"), 1500 * USEC_PER_MSEC);
        assert_int_equal(dur("0.25"), 250 * USEC_PER_MSEC); /* bare number = seconds */
        assert_int_equal(dur("10"), 10 * USEC_PER_SEC);
        assert_int_equal(dur("0"), 0);
        assert_int_equal(dur("0s"), 0);
        assert_int_equal(dur("7us"), 7);
        assert_int_equal(dur("2d"), 48 * USEC_PER_HOUR);
}

static void test_parse_bad(void **state)
{
        static const char *const bad[] = {
                "", "s", "ms", "-1s", "+1s", " 1s", "1s ", "1 s", "1x", "1h30", "1.5.5s", "abc", "1e3s", "1e3",
                "0x10s", "0x10", "inf", "nan", "1sm", "5mss", ".5s", "1..5s", "1s-",
        };
        usec_t u = 42;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = parse_duration(bad[i], &u);
                if (r != -EINVAL)
                        fail_msg("'%s' parsed (r=%d, u=%llu)", bad[i], r, (unsigned long long) u);
        }
        assert_int_equal(u, 42); /* untouched on failure */
        assert_int_equal(parse_duration(NULL, &u), -EINVAL);
}

static void test_parse_overflow(void **state)
{
        usec_t u = 42;

        assert_int_equal(parse_duration("99999999999999999999h", &u), -ERANGE);
        assert_int_equal(parse_duration("5000000000000d", &u), -ERANGE);
        assert_int_equal(u, 42);
}

static void test_format(void **state)
{
        char buf[FORMAT_DURATION_MAX];

        assert_string_equal(format_duration(buf, 0), "0us");
        assert_string_equal(format_duration(buf, 999), "999us");
        assert_string_equal(format_duration(buf, 450 * USEC_PER_MSEC), "450ms");
        assert_string_equal(format_duration(buf, 1230 * USEC_PER_MSEC), "1.23s");
        assert_string_equal(format_duration(buf, 125 * USEC_PER_SEC), "2m5s");
        assert_string_equal(format_duration(buf, 90 * USEC_PER_MINUTE), "1h30m");
        assert_string_equal(format_duration(buf, USEC_INFINITY), "infinity");
}

static void test_timestamp(void **state)
{
        char buf[FORMAT_TIMESTAMP_MAX];

        assert_string_equal(format_timestamp(buf, 0), "1970-01-01T00:00:00.000Z");
        /* 2026-11-24T08:15:03.123Z */
        assert_string_equal(format_timestamp(buf, 1795508103ULL * USEC_PER_SEC + 123456), "2026-11-24T08:15:03.123Z");
}

static void test_arith(void **state)
{
        assert_int_equal(usec_add(1, 2), 3);
        assert_true(usec_add(USEC_INFINITY, 1) == USEC_INFINITY);
        assert_true(usec_add(USEC_INFINITY - 1, 2) == USEC_INFINITY);
        assert_int_equal(usec_sub_unsigned(5, 3), 2);
        assert_int_equal(usec_sub_unsigned(3, 5), 0);
}

static void test_now(void **state)
{
        usec_t a = now_usec(CLOCK_MONOTONIC), b = now_usec(CLOCK_MONOTONIC);

        assert_true(b >= a);
        assert_true(now_usec(CLOCK_REALTIME) > 1600000000ULL * USEC_PER_SEC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),    cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_parse_overflow), cmocka_unit_test(test_format),
                cmocka_unit_test(test_timestamp),     cmocka_unit_test(test_arith),
                cmocka_unit_test(test_now),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
