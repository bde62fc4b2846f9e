/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * strbuf.h — a growable, always NUL-terminated byte buffer. Used to build
 * messages, captured output (with a cap) and JSON. Aborts on OOM like the rest
 * of drover's small allocations (a daemon that cannot allocate 100 bytes
 * cannot journal either).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/macros.h"

typedef struct StrBuf {
        char *data;      /* always NUL-terminated once anything was appended */
        size_t len;
        size_t cap;
        size_t limit;    /* 0 = unlimited; otherwise bytes past it are dropped */
        bool truncated;  /* set when bytes were dropped because of limit */
} StrBuf;

#define STRBUF_INIT { 0 }

void strbuf_append(StrBuf *b, const char *s, size_t n);
void strbuf_puts(StrBuf *b, const char *s);
void strbuf_putc(StrBuf *b, char c);
void strbuf_printf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap);
/* Append s escaped for the inside of a JSON string (no quotes added): ", \, control
 * characters and DEL. When double_dollar, '$' becomes "$$" too, so the result is literal
 * text for a drover template. */
void strbuf_put_json_escaped(StrBuf *b, const char *s, bool double_dollar);
/* Returns the string (never NULL: "" when empty) and leaves b empty. Caller frees. */
char *strbuf_steal(StrBuf *b);
const char *strbuf_str(const StrBuf *b); /* "" when empty */
void strbuf_reset(StrBuf *b);
void strbuf_done(StrBuf *b);

/* Abort on allocation failure: xmalloc-style helpers. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);   /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Append item to a heap array `*array` of `*n` elements of size `size`. Returns the new slot (zeroed). */
void *array_push(void *array_ptr, size_t *n, size_t size);
