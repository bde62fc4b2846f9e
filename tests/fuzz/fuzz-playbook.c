/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-playbook.c — libFuzzer target: the input is loaded as a playbook against a
 * fixed in-memory inventory (the bad-input corpus's names), exercising YAML hygiene,
 * every key table, templates, conditions and reference checks. Seed it with
 * tests/bad-input/playbook and playbooks/examples.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "playbook/playbook.h"

static const char inventory[] = "defaults:\n"
                                "  ssh: {user: drover, key: /dev/null, known_hosts: /dev/null}\n"
                                "sites:\n"
                                "  primary: {role: primary}\n"
                                "  backup: {role: backup}\n"
                                "hosts:\n"
                                "  db1: {site: primary, address: 10.213.0.11}\n"
                                "  db2: {site: backup, address: 10.213.0.12}\n"
                                "  web1: {site: primary, address: 10.213.0.21}\n"
                                "  web2: {site: primary, address: 10.213.0.22}\n"
                                "groups:\n"
                                "  web: [web1, web2]\n"
                                "endpoints:\n"
                                "  api: {site: backup, url: 'https://10.213.0.12:8443'}\n"
                                "  hook: {url: 'http://127.0.0.1:9000'}\n"
                                "vendors:\n"
                                "  vendor-a: {endpoint: hook}\n"
                                "secrets:\n"
                                "  api_token: {env: DROVER_TEST_TOKEN}\n";

static Config *config;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Playbook *p = NULL;
        DiagList d;
        int r;

        if (!config) {
                diag_list_init(&d);
                if (config_load_buffer("fuzz-inventory.yaml", inventory, strlen(inventory), &config, &d) < 0)
                        abort();
                diag_list_done(&d);
        }

        diag_list_init(&d);
        r = playbook_load_buffer("fuzz.yaml", (const char *) data, size, config, &p, &d);
        /* Invariants: success means no errors and a complete object; failure means errors. */
        if (r >= 0 && (diag_has_errors(&d) || !p || !p->name || p->n_steps == 0))
                abort();
        if (r < 0 && (p || !diag_has_errors(&d)))
                abort();
        for (size_t i = 0; p && i < p->n_steps; i++)
                if (!p->steps[i].name || p->steps[i].kind < 0 || p->steps[i].kind >= _STEP_KIND_MAX)
                        abort();
        playbook_free(p);
        diag_list_done(&d);
        return 0;
}
