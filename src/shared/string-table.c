/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* string-table.c — see string-table.h. */
#include <string.h>

#include "shared/string-table.h"

int string_table_lookup(const char *const *table, size_t n, const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *string_table_get(const char *const *table, size_t n, int i)
{
        return i >= 0 && (size_t) i < n ? table[i] : NULL;
}
