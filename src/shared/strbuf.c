/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strbuf.c — see strbuf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/strbuf.h"

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                abort();
        return p;
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                abort();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                abort();
        return p;
}

char *xstrdup(const char *s)
{
        return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
        char *p;

        if (!s)
                return NULL;
        p = xmalloc(n + 1);
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        StrBuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        return strbuf_steal(&b);
}

void *array_push(void *array_ptr, size_t *n, size_t size)
{
        void **array = array_ptr;
        char *slot;

        *array = xrealloc(*array, (*n + 1) * size);
        slot = (char *) *array + *n * size;
        memset(slot, 0, size);
        (*n)++;
        return slot;
}

static void strbuf_reserve(StrBuf *b, size_t extra)
{
        size_t need = b->len + extra + 1;

        if (need <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
}

void strbuf_append(StrBuf *b, const char *s, size_t n)
{
        if (b->limit > 0 && b->len + n > b->limit) {
                n = b->limit > b->len ? b->limit - b->len : 0;
                b->truncated = true;
        }
        strbuf_reserve(b, n);
        if (n > 0)
                memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void strbuf_puts(StrBuf *b, const char *s)
{
        strbuf_append(b, s, strlen(s));
}

void strbuf_putc(StrBuf *b, char c)
{
        strbuf_append(b, &c, 1);
}

/* Redeclared with the format attribute so the compiler checks callers' va_list use. */
void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap) _printf_(2, 0);
void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap)
{
        char small[256];
        va_list aq;
        char *tmp;
        int n;

        /* Most messages fit on the stack: one formatting pass, no allocation. */
        va_copy(aq, ap);
        n = vsnprintf(small, sizeof(small), fmt, aq);
        va_end(aq);
        if (n < 0)
                return;
        if ((size_t) n < sizeof(small)) {
                strbuf_append(b, small, (size_t) n);
                return;
        }
        tmp = xmalloc((size_t) n + 1);
        vsnprintf(tmp, (size_t) n + 1, fmt, ap);
        strbuf_append(b, tmp, (size_t) n);
        free(tmp);
}

void strbuf_printf(StrBuf *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(b, fmt, ap);
        va_end(ap);
}

void strbuf_put_json_escaped(StrBuf *b, const char *s, bool double_dollar)
{
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        strbuf_puts(b, "\\\"");
                        break;
                case '\\':
                        strbuf_puts(b, "\\\\");
                        break;
                case '\n':
                        strbuf_puts(b, "\\n");
                        break;
                case '\r':
                        strbuf_puts(b, "\\r");
                        break;
                case '\t':
                        strbuf_puts(b, "\\t");
                        break;
                case '\b':
                        strbuf_puts(b, "\\b");
                        break;
                case '\f':
                        strbuf_puts(b, "\\f");
                        break;
                case '$':
                        strbuf_puts(b, double_dollar ? "$$" : "$");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                strbuf_printf(b, "\\u%04x", *p);
                        else
                                strbuf_putc(b, (char) *p);
                }
        }
}

char *strbuf_steal(StrBuf *b)
{
        char *s = b->data ? b->data : xstrdup("");

        b->data = NULL;
        b->len = b->cap = 0;
        b->truncated = false;
        return s;
}

const char *strbuf_str(const StrBuf *b)
{
        return b->data ? b->data : "";
}

void strbuf_reset(StrBuf *b)
{
        b->len = 0;
        b->truncated = false;
        if (b->data)
                b->data[0] = '\0';
}

void strbuf_done(StrBuf *b)
{
        free(b->data);
        *b = (StrBuf) STRBUF_INIT;
}
