/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * macros.h — the small vocabulary every drover file speaks: cleanup attributes,
 * ownership transfer, array sizes. Nothing here allocates or does I/O.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)  __attribute__((cleanup(f)))
#define _unused_      __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_        __attribute__((pure))
#define _noreturn_    __attribute__((noreturn))
#define _must_check_  __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership of a pointer to the caller and leave NULL behind, so that the
 * cleanup attribute of the local does not free it. */
#define TAKE_PTR(p)                                                                                        \
        ({                                                                                                 \
                __typeof__(p) _ptr_ = (p);                                                                 \
                (p) = NULL;                                                                                \
                _ptr_;                                                                                     \
        })

#define TAKE_FD(fd)                                                                                        \
        ({                                                                                                 \
                int _fd_ = (fd);                                                                           \
                (fd) = -EBADF;                                                                             \
                _fd_;                                                                                      \
        })

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p)
{
        free(*(void **) p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0)
                (void) close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                (void) fclose(*f);
}

#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Declares `static inline void funcp(type **p)` that calls `func(*p)` when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                            \
        static inline void func##p(type *p)                                                                \
        {                                                                                                  \
                if (*p)                                                                                    \
                        func(*p);                                                                          \
        }

/* Defines `void name(type *a, size_t n)`: done(&a[i]) for each element, then free(a).
 * For the arrays of records that list functions return with a count. */
#define DEFINE_ARRAY_FREE_FUNC(name, type, done)                                                           \
        void name(type *a, size_t n)                                                                       \
        {                                                                                                  \
                for (size_t i = 0; a && i < n; i++)                                                        \
                        done(&a[i]);                                                                       \
                free(a);                                                                                   \
        }

/* Free a NULL-terminated string vector. */
static inline char **strv_free(char **l)
{
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

static inline const char *strempty(const char *s)
{
        return s ? s : "";
}

static inline const char *strna(const char *s)
{
        return s ? s : "n/a";
}

static inline int streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return __builtin_strcmp(a, b) == 0;
}

#define streq(a, b) (__builtin_strcmp((a), (b)) == 0)
