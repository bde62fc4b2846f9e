/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config.c — libFuzzer target for the YAML loader and the drover.yaml
 * validator: any bytes must give either a document/Config or diagnostics, never
 * a crash, leak or hang. Printing the diagnostics exercises the caret code too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "config/yaml-node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static FILE *devnull;
        YDocument *doc = NULL;
        Config *c = NULL;
        DiagList l;

        if (!devnull)
                devnull = fopen("/dev/null", "we");

        diag_list_init(&l);
        if (ydocument_load_buffer("/fuzz/doc.yaml", (const char *) data, size, &doc, &l) == 0 && !doc)
                __builtin_trap(); /* success must return a document */
        ydocument_free(doc);

        /* A relative base directory that does not exist: file checks fail the same way every run. */
        if (config_load_buffer("/nonexistent-fuzz/drover.yaml", (const char *) data, size, &c, &l) == 0) {
                if (!c || diag_count_errors(&l) > 0)
                        __builtin_trap(); /* a returned Config never comes with errors */
                config_free(c);
        } else if (c)
                __builtin_trap(); /* nothing half loaded */

        if (devnull)
                diag_print(&l, devnull);
        diag_list_done(&l);
        return 0;
}
