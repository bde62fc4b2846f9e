/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * string-table.h — enum <-> string tables, the systemd way: every enum has a table of
 * names indexed by value, _to_string() returns NULL out of range, _from_string()
 * returns -EINVAL for an unknown name. Pure.
 */
#pragma once

#include <stddef.h>

#include "shared/macros.h"

/* Index of s in table[0..n), or -EINVAL (also for NULL). NULL entries never match. */
int string_table_lookup(const char *const *table, size_t n, const char *s);
/* table[i], or NULL when i is out of range. */
const char *string_table_get(const char *const *table, size_t n, int i);

#define DEFINE_STRING_TABLE(name, type, table)                                                             \
        const char *name##_to_string(type x)                                                               \
        {                                                                                                  \
                return string_table_get(table, ELEMENTSOF(table), (int) x);                                \
        }                                                                                                  \
        type name##_from_string(const char *s)                                                             \
        {                                                                                                  \
                return (type) string_table_lookup(table, ELEMENTSOF(table), s);                            \
        }
