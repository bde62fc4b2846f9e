/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * strv.h — NULL-terminated string vectors (char **), the systemd way. A NULL vector
 * is the empty vector everywhere. strv_free() and _cleanup_strv_free_ live in
 * macros.h, which every file already includes. Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/macros.h"

size_t strv_length(char *const *l) _pure_;
bool strv_isempty(char *const *l) _pure_;
/* Whether l holds a string equal to s; false for a NULL s. */
bool strv_contains(char *const *l, const char *s) _pure_;
/* Append s (taking ownership) to *l, which may be NULL. */
void strv_push(char ***l, char *s);
/* A deep copy; NULL for NULL. */
char **strv_copy(char *const *l);
/* The strings joined with sep; "" for an empty vector. Never NULL. */
char *strv_join(char *const *l, const char *sep);
