/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * strv.c — NULL-terminated string vectors: length, membership, append, copy, join.
 * The one copy of what the engine, the fake executor, the policy and droverctl each
 * wrote for themselves. Pure: no I/O.
 */
#include "shared/strbuf.h"
#include "shared/strv.h"

size_t strv_length(char *const *l)
{
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

bool strv_isempty(char *const *l)
{
        return !l || !*l;
}

bool strv_contains(char *const *l, const char *s)
{
        if (!s)
                return false;
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

void strv_push(char ***l, char *s)
{
        size_t n = strv_length(*l);

        *l = xrealloc(*l, (n + 2) * sizeof(char *));
        (*l)[n] = s;
        (*l)[n + 1] = NULL;
}

char **strv_copy(char *const *l)
{
        size_t n = strv_length(l);
        char **c;

        if (!l)
                return NULL;
        c = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                c[i] = xstrdup(l[i]);
        return c;
}

char *strv_join(char *const *l, const char *sep)
{
        StrBuf b = STRBUF_INIT;

        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        strbuf_puts(&b, sep);
                strbuf_puts(&b, l[i]);
        }
        return strbuf_steal(&b);
}
