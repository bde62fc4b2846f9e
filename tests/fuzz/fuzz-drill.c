/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-drill.c — libFuzzer target: the input is loaded as a drill against a fixed
 * in-memory inventory, with tests/bad-input/drill/_playbooks as the playbook directory
 * (run from the source root, as .ci/run does; elsewhere every playbook is "unknown",
 * which still exercises the rest). Exercises YAML hygiene, every key table, scenario,
 * participants, objectives, schedule and drill variables. Seed it with
 * tests/bad-input/drill and drills/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

static const char inventory[] = "defaults:\n"
                                "  ssh: {user: drover, key: /dev/null, known_hosts: /dev/null}\n"
                                "sites:\n"
                                "  primary: {role: primary}\n"
                                "  backup: {role: backup}\n"
                                "hosts:\n"
                                "  db1: {site: primary, address: 10.213.0.11}\n"
                                "  db2: {site: backup, address: 10.213.0.12}\n"
                                "endpoints:\n"
                                "  hook: {url: 'http://127.0.0.1:9000'}\n"
                                "vendors:\n"
                                "  vendor-a: {endpoint: hook}\n";

static Config *config;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Drill *d = NULL;
        DiagList diags;
        int r;

        if (!config) {
                diag_list_init(&diags);
                if (config_load_buffer("fuzz-inventory.yaml", inventory, strlen(inventory), &config,
                                       &diags) < 0)
                        abort();
                diag_list_done(&diags);
        }

        diag_list_init(&diags);
        r = drill_load_buffer("drills/fuzz.yaml", (const char *) data, size, config,
                              "tests/bad-input/drill/_playbooks", &d, &diags);
        /* Invariants: success means no errors and a complete object; failure means errors. */
        if (r >= 0 && (diag_has_errors(&diags) || !d || !d->name || !d->purpose || d->n_playbooks == 0 ||
                       d->n_participants == 0 || d->mode < 0 || d->scenario.fault < 0))
                abort();
        if (r < 0 && (d || !diag_has_errors(&diags)))
                abort();
        for (size_t i = 0; d && i < d->n_playbooks; i++)
                if (!d->playbooks[i].playbook)
                        abort();
        if (d && d->mode == DRILL_MODE_LIVE && (!d->scenario.inject.argv || !d->scenario.clear.argv))
                abort();
        drill_free(d);
        diag_list_done(&diags);
        return 0;
}
