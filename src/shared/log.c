/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c — see log.h. Writes whole lines with one write so that parallel workers do not interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shared/log.h"
#include "shared/strbuf.h"

static int max_level = LOG_INFO;
static const char *program = "drover";
static bool level_prefix = false; /* stderr is the journal: "<N>" instead of "program: " */

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_program(const char *name)
{
        program = name;
}

bool log_detect_journal_stream(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        /* systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected; a child whose
         * stderr was redirected elsewhere inherits the variable, so compare. */
        level_prefix = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                       (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
        return level_prefix;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
{
        int e = error < 0 ? -error : error;

        if (level <= max_level) {
                StrBuf b = STRBUF_INIT;
                va_list ap;

                if (level_prefix)
                        strbuf_printf(&b, "<%d>", level & LOG_PRIMASK);
                else
                        strbuf_printf(&b, "%s: ", program);
                va_start(ap, fmt);
                strbuf_vprintf(&b, fmt, ap);
                va_end(ap);
                if (max_level >= LOG_DEBUG)
                        strbuf_printf(&b, " (%s:%d)", file, line);
                strbuf_putc(&b, '\n');
                fputs(strbuf_str(&b), stderr);
                strbuf_done(&b);
        }
        return -e;
}
