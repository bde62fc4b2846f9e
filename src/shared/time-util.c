/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* time-util.c — see time-util.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/time-util.h"

usec_t now_usec(clockid_t clock)
{
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                abort(); /* only with a bad clock id: a programming error */
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

usec_t usec_add(usec_t a, usec_t b)
{
        if (a == USEC_INFINITY || b == USEC_INFINITY || a > USEC_INFINITY - b)
                return USEC_INFINITY;
        return a + b;
}

usec_t usec_sub_unsigned(usec_t a, usec_t b)
{
        return a > b ? a - b : 0;
}

static const struct {
        const char *suffix;
        usec_t usec;
} units[] = {
        /* longest suffix first, so "ms" is not read as "m" */
        { "ms", USEC_PER_MSEC }, { "us", 1 }, { "h", USEC_PER_HOUR },
        { "m", USEC_PER_MINUTE }, { "s", USEC_PER_SEC }, { "d", 24 * USEC_PER_HOUR },
};

int parse_duration(const char *s, usec_t *ret)
{
        usec_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;

        while (*p) {
                char *end;
                double v;
                usec_t unit = 0;
                size_t ulen = 0;

                char num[32];
                size_t nlen;

                if (*p < '0' || *p > '9')
                        return -EINVAL;
                /* Only digits and one '.': strtod alone would also take "0x10", "1e3" and "inf". */
                nlen = strspn(p, "0123456789.");
                if (nlen >= sizeof(num) || memchr(p, '.', nlen) != memrchr(p, '.', nlen))
                        return -EINVAL;
                memcpy(num, p, nlen);
                num[nlen] = '\0';
                errno = 0;
                v = strtod(num, &end);
                if (errno != 0 || end != num + nlen || !isfinite(v) || v < 0)
                        return -EINVAL;
                p += nlen;
                if (*p == '\0') {
                        if (p != s + strspn(s, "0123456789.")) /* "1h30" is ambiguous */
                                return -EINVAL;
                        unit = USEC_PER_SEC;
                } else {
                        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                                size_t l = strlen(units[i].suffix);
                                if (strncmp(p, units[i].suffix, l) == 0) {
                                        unit = units[i].usec;
                                        ulen = l;
                                        break;
                                }
                        }
                        if (unit == 0)
                                return -EINVAL;
                        p += ulen;
                }
                if (v * (double) unit >= (double) (USEC_INFINITY - total))
                        return -ERANGE;
                total += (usec_t) llround(v * (double) unit);
        }

        *ret = total;
        return 0;
}

char *format_duration(char buf[static FORMAT_DURATION_MAX], usec_t u)
{
        if (u == USEC_INFINITY)
                snprintf(buf, FORMAT_DURATION_MAX, "infinity");
        else if (u < USEC_PER_MSEC)
                snprintf(buf, FORMAT_DURATION_MAX, "%lluus", (unsigned long long) u);
        else if (u < USEC_PER_SEC)
                snprintf(buf, FORMAT_DURATION_MAX, "%llums", (unsigned long long) (u / USEC_PER_MSEC));
        else if (u < USEC_PER_MINUTE)
                snprintf(buf, FORMAT_DURATION_MAX, "%.2fs", (double) u / (double) USEC_PER_SEC);
        else if (u < USEC_PER_HOUR)
                snprintf(buf, FORMAT_DURATION_MAX, "%llum%llus", (unsigned long long) (u / USEC_PER_MINUTE),
                         (unsigned long long) ((u % USEC_PER_MINUTE) / USEC_PER_SEC));
        else
                snprintf(buf, FORMAT_DURATION_MAX, "%lluh%llum", (unsigned long long) (u / USEC_PER_HOUR),
                         (unsigned long long) ((u % USEC_PER_HOUR) / USEC_PER_MINUTE));
        return buf;
}

char *format_timestamp(char buf[static FORMAT_TIMESTAMP_MAX], usec_t realtime)
{
        time_t sec = (time_t) (realtime / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&sec, &tm)) {
                snprintf(buf, FORMAT_TIMESTAMP_MAX, "?");
                return buf;
        }
        /* Format into a roomy buffer: the compiler cannot know tm's fields are small. */
        char tmp[128];
        size_t n;

        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03lluZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned long long) ((realtime % USEC_PER_SEC) / USEC_PER_MSEC));
        n = strnlen(tmp, FORMAT_TIMESTAMP_MAX - 1);
        memcpy(buf, tmp, n);
        buf[n] = '\0';
        return buf;
}
