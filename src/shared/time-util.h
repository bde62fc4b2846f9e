/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * time-util.h — usec_t, clocks and the duration syntax used in every drover
 * file ("500ms", "30s", "2m", "1h30m"). Pure except now_usec().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;

#define USEC_INFINITY  ((usec_t) UINT64_MAX)
#define USEC_PER_MSEC  ((usec_t) 1000ULL)
#define USEC_PER_SEC   ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR  (60ULL * USEC_PER_MINUTE)
#define FORMAT_DURATION_MAX 32
#define FORMAT_TIMESTAMP_MAX 64

usec_t now_usec(clockid_t clock);

/* "250ms", "30s", "2m", "1h30m", "1.5s"; a bare number means seconds.
 * Returns 0, or -EINVAL for bad syntax, -ERANGE on overflow. */
int parse_duration(const char *s, usec_t *ret);

/* Short human form ("1.23s", "450ms", "2m5s"). Returns buf. */
char *format_duration(char buf[static FORMAT_DURATION_MAX], usec_t u);

/* UTC ISO-8601 with milliseconds, "2026-11-24T08:15:03.123Z", of a CLOCK_REALTIME usec. */
char *format_timestamp(char buf[static FORMAT_TIMESTAMP_MAX], usec_t realtime);

usec_t usec_add(usec_t a, usec_t b);
usec_t usec_sub_unsigned(usec_t a, usec_t b);
