/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-playbook.c — loading real playbook files against a real drover.yaml: every
 * field parsed, defaults applied, focused bad cases with exact line:col. (The wide
 * bad-input corpus lives in tests/bad-input/playbook, run by test-bad-input.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "playbook/playbook.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"

static char tmpdir[] = "/tmp/test-playbook-XXXXXX";
static Config *config;

static const char inventory[] = "defaults:\n"
                                "  step_timeout: 45s\n"
                                "  ssh: {user: drover, key: /dev/null, known_hosts: /dev/null}\n"
                                "sites:\n"
                                "  primary: {role: primary}\n"
                                "  backup: {role: backup}\n"
                                "hosts:\n"
                                "  db1: {site: primary, address: 10.0.0.1}\n"
                                "  web1: {site: primary, address: 10.0.0.2}\n"
                                "  web2: {site: primary, address: 10.0.0.3}\n"
                                "groups:\n"
                                "  web: [web1, web2]\n"
                                "endpoints:\n"
                                "  api: {site: backup, url: 'https://10.0.0.9:8443'}\n"
                                "secrets:\n"
                                "  api_token: {env: TEST_PLAYBOOK_TOKEN}\n";

static char *write_file(const char *name, const char *text)
{
        char *path = xasprintf("%s/%s", tmpdir, name);
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return path;
}

static int setup(void **state)
{
        _cleanup_free_ char *path = NULL;
        DiagList d;

        if (!mkdtemp(tmpdir))
                return -1;
        path = write_file("drover.yaml", inventory);
        diag_list_init(&d);
        if (config_load(path, &config, &d) < 0) {
                diag_print(&d, stderr);
                diag_list_done(&d);
                return -1;
        }
        diag_list_done(&d);
        return 0;
}

static int teardown(void **state)
{
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);

        config_free(config);
        return system(cmd) == 0 ? 0 : -1;
}

static Playbook *load_ok(const char *text)
{
        _cleanup_free_ char *path = write_file("ok.yaml", text);
        Playbook *p = NULL;
        DiagList d;

        diag_list_init(&d);
        if (playbook_load(path, config, &p, &d) < 0) {
                diag_print(&d, stderr);
                fail_msg("playbook did not load");
        }
        assert_int_equal(d.n_items, 0);
        diag_list_done(&d);
        return p;
}

/* Load text that must fail and contain an error at line:col whose message has `sub`. */
static void load_bad(const char *text, unsigned line, unsigned col, const char *sub)
{
        _cleanup_free_ char *path = write_file("bad.yaml", text);
        Playbook *p = NULL;
        DiagList d;
        bool found = false;

        diag_list_init(&d);
        assert_int_equal(playbook_load(path, config, &p, &d), -EINVAL);
        assert_null(p);
        for (size_t i = 0; i < d.n_items; i++)
                if (d.items[i].line == line && d.items[i].col == col && strstr(d.items[i].message, sub))
                        found = true;
        if (!found) {
                diag_print(&d, stderr);
                fail_msg("no error %u:%u '%s'", line, col, sub);
        }
        diag_list_done(&d);
}

static const char full[] =
        "name: full\n"                                                                     /* 1 */
        "description: Everything at once\n"                                                /* 2 */
        "kind: switchover\n"                                                               /* 3 */
        "params:\n"                                                                        /* 4 */
        "  reason: {type: string, required: true, description: why}\n"                     /* 5 */
        "  batch: {type: int, default: 2}\n"                                               /* 6 */
        "  force: {type: bool, default: yes}\n"                                            /* 7 */
        "  token: {type: string, secret: true}\n"                                          /* 8 */
        "  mode: {type: enum, values: [fast, safe], default: safe}\n"                      /* 9 */
        "  window: {type: duration, default: 30s}\n"                                       /* 10 */
        "objectives: {rto: 120s, rpo: 5s}\n"                                               /* 11 */
        "targets:\n"                                                                       /* 12 */
        "  db: {host: db1}\n"                                                              /* 13 */
        "  web: {group: web}\n"                                                            /* 14 */
        "  api: {endpoint: api}\n"                                                         /* 15 */
        "defaults: {timeout: 20s, retries: 1, retry_delay: 2s, backoff: 3}\n"              /* 16 */
        "steps:\n"                                                                         /* 17 */
        "  - name: lag\n"                                                                  /* 18 */
        "    ssh: {target: db, command: \"psql -Atc 'select 1' # ${host.name}\"}\n"        /* 19 */
        "    register: true\n"                                                             /* 20 */
        "    expect: {exit_status: 3, contains: '1', matches: '^[0-9]+$'}\n"               /* 21 */
        "    timeout: 10s\n"                                                               /* 22 */
        "  - name: restart\n"                                                              /* 23 */
        "    ssh: {target: web, command: \"systemctl restart web\", parallel: 5}\n"        /* 24 */
        "    retries: 2\n"                                                                 /* 25 */
        "    retry_delay: 1s\n"                                                            /* 26 */
        "    backoff: 1.5\n"                                                               /* 27 */
        "    on_failure: rollback\n"                                                       /* 28 */
        "    idempotent: true\n"                                                           /* 29 */
        "    rollback:\n"                                                                  /* 30 */
        "      name: undo-restart\n"                                                       /* 31 */
        "      ssh: {target: web, command: \"systemctl restart web-old\"}\n"               /* 32 */
        "  - name: switch\n"                                                               /* 33 */
        "    http:\n"                                                                      /* 34 */
        "      target: api\n"                                                              /* 35 */
        "      method: POST\n"                                                             /* 36 */
        "      url: /v1/switch\n"                                                          /* 37 */
        "      headers: {X-Reason: \"${params.reason}\", Authorization: \"Bearer ${secrets.api_token}\"}\n"
        "      json: {site: backup, reason: \"${params.reason}\", n: 3, ok: true, none: null, cost: \"$5\","
        " q: '7', list: [1, \"a\\\"b\"]}\n"                                                /* 39 */
        "    expect:\n"                                                                    /* 40 */
        "      status: [200, 204]\n"                                                       /* 41 */
        "      contains: ok\n"                                                             /* 42 */
        "      matches: '\"state\": *\"ok\"'\n"                                            /* 43 */
        "      json: {data.state: ready, items.0.id: \"7\"}\n"                             /* 44 */
        "      that: \"step.http_status == 200 and steps.lag.stdout < 1000\"\n"            /* 45 */
        "    register: true\n"                                                             /* 46 */
        "  - name: wait-healthy\n"                                                         /* 47 */
        "    wait_for:\n"                                                                  /* 48 */
        "      http: {target: api, url: /health}\n"                                        /* 49 */
        "      expect: {status: 200}\n"                                                    /* 50 */
        "      interval: 3s\n"                                                             /* 51 */
        "    timeout: 60s\n"                                                               /* 52 */
        "  - name: go\n"                                                                   /* 53 */
        "    approve: {prompt: \"Switch to ${targets.api.url}?\", timeout: 10m}\n"         /* 54 */
        "  - name: tell\n"                                                                 /* 55 */
        "    notify: {target: api, url: /hooks/duty, message: \"switched: ${params.reason}\"}\n"
        "  - name: pause\n"                                                                /* 57 */
        "    sleep: 2s\n"                                                                  /* 58 */
        "  - name: log-it\n"                                                               /* 59 */
        "    local: {argv: [/usr/bin/logger, drover, \"${params.reason}\"]}\n"             /* 60 */
        "    when: \"params.force == true and steps.lag.stdout < 1000\"\n"                 /* 61 */
        "  - name: sh\n"                                                                   /* 62 */
        "    local: {shell: \"echo $$HOME | wc -c\"}\n"                                    /* 63 */
        "    on_failure: continue\n";                                                      /* 64 */

static int lookup(void *userdata, const char *ref, char **ret, bool *ret_secret)
{
        *ret_secret = false;
        if (streq(ref, "params.reason")) {
                *ret = xstrdup("disk \"full\"\\\n");
                return 0;
        }
        return -ENOENT;
}

static void test_full(void **state)
{
        _cleanup_(playbook_freep) Playbook *p = load_ok(full);
        const Step *s;
        const Param *pa;
        const Target *t;
        char hex[SHA256_HEX_SIZE];
        _cleanup_free_ char *json = NULL;

        assert_string_equal(p->name, "full");
        assert_string_equal(p->description, "Everything at once");
        assert_int_equal(p->kind, PLAYBOOK_SWITCHOVER);
        assert_int_equal(sha256_hex(full, strlen(full), hex) == hex, 1);
        assert_string_equal(p->sha256, hex);

        /* params */
        assert_int_equal(p->n_params, 6);
        pa = playbook_find_param(p, "reason");
        assert_non_null(pa);
        assert_int_equal(pa->type, PARAM_STRING);
        assert_true(pa->required);
        assert_null(pa->default_value);
        assert_string_equal(pa->description, "why");
        assert_int_equal(pa->line, 5);
        assert_int_equal(pa->col, 3);
        assert_string_equal(playbook_find_param(p, "batch")->default_value, "2");
        assert_int_equal(playbook_find_param(p, "force")->type, PARAM_BOOL);
        assert_string_equal(playbook_find_param(p, "force")->default_value, "true"); /* normalised */
        assert_true(playbook_find_param(p, "token")->secret);
        pa = playbook_find_param(p, "mode");
        assert_int_equal(pa->type, PARAM_ENUM);
        assert_string_equal(pa->values[0], "fast");
        assert_string_equal(pa->values[1], "safe");
        assert_null(pa->values[2]);
        assert_string_equal(pa->default_value, "safe");
        assert_int_equal(playbook_find_param(p, "window")->type, PARAM_DURATION);
        assert_null(playbook_find_param(p, "nope"));

        assert_true(p->objectives.has_rto);
        assert_int_equal(p->objectives.rto, 120 * USEC_PER_SEC);
        assert_true(p->objectives.has_rpo);
        assert_int_equal(p->objectives.rpo, 5 * USEC_PER_SEC);

        /* targets */
        assert_int_equal(p->n_targets, 3);
        t = playbook_find_target(p, "web");
        assert_int_equal(t->kind, TARGET_GROUP);
        assert_string_equal(t->ref, "web");
        assert_int_equal(playbook_find_target(p, "db")->kind, TARGET_HOST);
        assert_int_equal(playbook_find_target(p, "api")->kind, TARGET_ENDPOINT);

        assert_int_equal(p->n_steps, 9);

        /* ssh with register/expect, playbook defaults and an overridden timeout */
        s = &p->steps[0];
        assert_string_equal(s->name, "lag");
        assert_int_equal(s->kind, STEP_SSH);
        assert_int_equal(s->line, 18);
        assert_int_equal(s->col, 5);
        assert_string_equal(s->ssh.target, "db");
        assert_string_equal(s->ssh.command.source, "psql -Atc 'select 1' # ${host.name}");
        assert_int_equal(s->ssh.parallel, PLAYBOOK_DEFAULT_PARALLEL);
        assert_true(s->register_result);
        assert_true(s->expect.has_exit_status);
        assert_int_equal(s->expect.exit_status, 3);
        assert_string_equal(s->expect.contains.source, "1");
        assert_string_equal(s->expect.matches, "^[0-9]+$");
        assert_int_equal(s->timeout, 10 * USEC_PER_SEC);
        assert_int_equal(s->retries, 1);
        assert_int_equal(s->retry_delay, 2 * USEC_PER_SEC);
        assert_true(s->backoff == 3.0);
        assert_int_equal(s->on_failure, ON_FAILURE_ABORT);
        assert_false(s->idempotent);
        assert_null(s->rollback);
        assert_null(s->when.source);

        /* fan-out with rollback */
        s = playbook_find_step(p, "restart");
        assert_int_equal(s->ssh.parallel, 5);
        assert_int_equal(s->retries, 2);
        assert_int_equal(s->retry_delay, 1 * USEC_PER_SEC);
        assert_true(s->backoff == 1.5);
        assert_int_equal(s->on_failure, ON_FAILURE_ROLLBACK);
        assert_true(s->idempotent);
        assert_true(s->expect.has_exit_status);
        assert_int_equal(s->expect.exit_status, 0);
        assert_non_null(s->rollback);
        assert_string_equal(s->rollback->name, "undo-restart");
        assert_int_equal(s->rollback->kind, STEP_SSH);
        assert_string_equal(s->rollback->ssh.command.source, "systemctl restart web-old");
        assert_ptr_equal(playbook_find_step(p, "undo-restart"), s->rollback);

        /* http */
        s = playbook_find_step(p, "switch");
        assert_int_equal(s->kind, STEP_HTTP);
        assert_string_equal(s->http.target, "api");
        assert_string_equal(s->http.method, "POST");
        assert_string_equal(s->http.url.source, "/v1/switch");
        assert_int_equal(s->http.n_headers, 2);
        assert_string_equal(s->http.headers[0].name, "X-Reason");
        assert_string_equal(s->http.headers[0].value.source, "${params.reason}");
        assert_string_equal(s->http.headers[1].name, "Authorization");
        assert_null(s->http.body.source);
        assert_true(s->http.json_body.json_escape);
        assert_string_equal(s->http.json_body.source,
                            "{\"site\": \"backup\", \"reason\": \"${params.reason}\", \"n\": 3, \"ok\": true, "
                            "\"none\": null, \"cost\": \"$$5\", \"q\": \"7\", \"list\": [1, \"a\\\"b\"]}");
        assert_int_equal(template_expand(&s->http.json_body, lookup, NULL, &json, NULL, NULL), 0);
        assert_string_equal(json, "{\"site\": \"backup\", \"reason\": \"disk \\\"full\\\"\\\\\\n\", \"n\": 3, "
                                  "\"ok\": true, \"none\": null, \"cost\": \"$5\", \"q\": \"7\", "
                                  "\"list\": [1, \"a\\\"b\"]}");
        assert_int_equal(s->expect.n_statuses, 2);
        assert_int_equal(s->expect.statuses[0], 200);
        assert_int_equal(s->expect.statuses[1], 204);
        assert_false(s->expect.has_exit_status);
        assert_string_equal(s->expect.contains.source, "ok");
        assert_string_equal(s->expect.matches, "\"state\": *\"ok\"");
        assert_int_equal(s->expect.n_json, 2);
        assert_string_equal(s->expect.json[0].path, "data.state");
        assert_string_equal(s->expect.json[0].value.source, "ready");
        assert_string_equal(s->expect.json[1].path, "items.0.id");
        assert_string_equal(s->expect.json[1].value.source, "7");
        assert_string_equal(s->expect.that.source, "step.http_status == 200 and steps.lag.stdout < 1000");
        assert_string_equal(s->expect.that.refs[0], "step.http_status");
        assert_true(s->register_result);

        /* wait_for */
        s = playbook_find_step(p, "wait-healthy");
        assert_int_equal(s->kind, STEP_WAIT_FOR);
        assert_int_equal(s->timeout, 60 * USEC_PER_SEC);
        assert_int_equal(s->wait_for.interval, 3 * USEC_PER_SEC);
        assert_non_null(s->wait_for.check);
        assert_string_equal(s->wait_for.check->name, "wait-healthy/check");
        assert_int_equal(s->wait_for.check->kind, STEP_HTTP);
        assert_string_equal(s->wait_for.check->http.url.source, "/health");
        assert_string_equal(s->wait_for.check->http.method, "GET");
        assert_int_equal(s->wait_for.check->expect.n_statuses, 1);
        assert_int_equal(s->wait_for.check->expect.statuses[0], 200);
        assert_int_equal(s->wait_for.check->timeout, 60 * USEC_PER_SEC);
        assert_int_equal(s->wait_for.check->line, 49);

        s = playbook_find_step(p, "go");
        assert_int_equal(s->kind, STEP_APPROVE);
        assert_string_equal(s->approve.prompt.source, "Switch to ${targets.api.url}?");
        assert_int_equal(s->approve.timeout, 10 * USEC_PER_MINUTE);

        s = playbook_find_step(p, "tell");
        assert_int_equal(s->kind, STEP_NOTIFY);
        assert_string_equal(s->notify.target, "api");
        assert_string_equal(s->notify.url.source, "/hooks/duty");
        assert_string_equal(s->notify.message.source, "switched: ${params.reason}");

        s = playbook_find_step(p, "pause");
        assert_int_equal(s->kind, STEP_SLEEP);
        assert_int_equal(s->sleep, 2 * USEC_PER_SEC);

        s = playbook_find_step(p, "log-it");
        assert_int_equal(s->kind, STEP_LOCAL);
        assert_int_equal(s->local.argc, 3);
        assert_string_equal(s->local.argv[0].source, "/usr/bin/logger");
        assert_string_equal(s->local.argv[2].parts[0].text, "params.reason");
        assert_null(s->local.shell.source);
        assert_string_equal(s->when.source, "params.force == true and steps.lag.stdout < 1000");

        s = playbook_find_step(p, "sh");
        assert_string_equal(s->local.shell.source, "echo $$HOME | wc -c");
        assert_string_equal(s->local.shell.parts[0].text, "echo $HOME | wc -c");
        assert_int_equal(s->local.argc, 0);
        assert_int_equal(s->on_failure, ON_FAILURE_CONTINUE);
}

static void test_minimal_defaults(void **state)
{
        _cleanup_(playbook_freep) Playbook *p = load_ok("name: m\n"
                                                        "kind: custom\n"
                                                        "steps:\n"
                                                        "  - name: a\n"
                                                        "    http: {url: 'http://127.0.0.1:9/x'}\n"
                                                        "  - name: b\n"
                                                        "    approve: {prompt: ok?}\n"
                                                        "  - name: c\n"
                                                        "    ssh: {target: x, command: 'true'}\n"
                                                        "    rollback: {sleep: 1s}\n"
                                                        "targets: {x: {host: db1}}\n");
        const Step *s = &p->steps[0];

        assert_int_equal(p->n_params, 0);
        assert_false(p->objectives.has_rto);
        assert_null(s->http.target);
        assert_string_equal(s->http.method, "GET");
        assert_int_equal(s->timeout, 45 * USEC_PER_SEC); /* from drover.yaml */
        assert_int_equal(s->retries, 0);
        assert_int_equal(s->retry_delay, USEC_PER_SEC);
        assert_true(s->backoff == 2.0);
        assert_int_equal(s->expect.n_statuses, 0);
        assert_int_equal(p->steps[1].approve.timeout, PLAYBOOK_DEFAULT_APPROVE_TIMEOUT);
        assert_string_equal(p->steps[2].rollback->name, "c-rollback");
        assert_int_equal(p->steps[2].rollback->kind, STEP_SLEEP);
        assert_ptr_equal(playbook_find_step(p, "c-rollback"), p->steps[2].rollback);
}

static void test_block_scalar_location(void **state)
{
        /* Multi-line block scalar: errors point at the scalar itself. */
        load_bad("name: t\n"
                 "kind: custom\n"
                 "targets: {db: {host: db1}}\n"
                 "steps:\n"
                 "  - name: a\n"
                 "    ssh:\n"
                 "      target: db\n"
                 "      command: |\n"
                 "        echo one\n"
                 "        echo ${params.nope}\n",
                 8, 16, "unknown parameter 'nope'");
        /* Double-quoted with an escape before the reference: not exact, points at the scalar. */
        load_bad("name: t\n"
                 "kind: custom\n"
                 "steps:\n"
                 "  - name: a\n"
                 "    local: {shell: \"a\\tb ${params.nope}\"}\n",
                 5, 20, "unknown parameter 'nope'");
        /* Plain scalar: exact column. */
        load_bad("name: t\n"
                 "kind: custom\n"
                 "steps:\n"
                 "  - name: a\n"
                 "    local:\n"
                 "      shell: echo ${params.nope}\n",
                 6, 19, "unknown parameter 'nope'");
}

static void test_bad_cases(void **state)
{
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n    sleep: 1s\n    ssh: {target: x, command: y}\n",
                 6, 5, "step 'a' has both 'sleep' and 'ssh'");
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n", 4, 5, "has no action");
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n    sleep: 1s\n  - name: b\n    sleep: 1s\n"
                 "    when: steps.a.stdout == 1\n",
                 8, 11, "step 'a' does not have 'register: true'");
        load_bad("name: t\nkind: custom\nparams: {p: {type: bool, default: maybe}}\nsteps:\n  - name: a\n"
                 "    sleep: 1s\n",
                 3, 35, "'maybe' is not a boolean");
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n    sleep: 1s\n    rollback: {wait_for: {}}\n", 6, 16,
                 "a rollback step cannot be 'wait_for'");
        /* Regexes that would make glibc's regcomp() take exponential memory are refused. */
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n    local: {argv: [/bin/true]}\n"
                 "    expect: {matches: '^[0-9]+++++++++++++++++++++++++$'}\n",
                 6, 23, "a quantifier applied to a quantifier");
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n    local: {argv: [/bin/true]}\n"
                 "    expect: {matches: '((a{200}){200}){200}'}\n",
                 6, 23, "too many repetitions");
        load_bad("name: t\nkind: custom\nsteps:\n  - name: a\n    local: {argv: [/bin/true]}\n"
                 "    expect: {matches: 'a{1000}'}\n",
                 6, 23, "repetition count above 255");
        {
                _cleanup_(playbook_freep) Playbook *p = load_ok(
                        "name: t\nkind: custom\nsteps:\n  - name: a\n    local: {argv: [/bin/true]}\n"
                        "    expect: {matches: '^v[0-9]+\\.[0-9]{1,3}\\.[0-9]+(-rc[0-9]+)?[]+*?{]$'}\n");
                assert_string_equal(p->steps[0].expect.matches, "^v[0-9]+\\.[0-9]{1,3}\\.[0-9]+(-rc[0-9]+)?[]+*?{]$");
        }
        /* Every error is reported, not only the first. */
        {
                _cleanup_free_ char *path = write_file("many.yaml", "name: t\nkind: nope\nstps: 1\nsteps:\n"
                                                                    "  - name: a\n    sleep: x\n");
                Playbook *p = NULL;
                DiagList d;

                diag_list_init(&d);
                assert_int_equal(playbook_load(path, config, &p, &d), -EINVAL);
                assert_int_equal(diag_count_errors(&d), 3);
                diag_list_done(&d);
        }
}

static void test_load_buffer_and_errors(void **state)
{
        static const char text[] = "name: b\nkind: restore\nsteps:\n  - {name: a, sleep: 1s}\n";
        Playbook *p = NULL;
        DiagList d;

        diag_list_init(&d);
        assert_int_equal(playbook_load_buffer("mem.yaml", text, strlen(text), config, &p, &d), 0);
        assert_string_equal(p->path, "mem.yaml");
        assert_int_equal(p->kind, PLAYBOOK_RESTORE);
        p = playbook_free(p);
        assert_null(p);

        assert_true(playbook_load("/nonexistent/playbook.yaml", config, &p, &d) < 0);
        assert_null(p);
        assert_true(diag_has_errors(&d));
        diag_list_done(&d);
}

static void check_value(ParamType type, const char *v, int want, const char *norm)
{
        const char *const values[] = { "fast", "safe", NULL };
        Param p = { .name = (char *) "x", .type = type, .values = (char **) values };
        _cleanup_free_ char *out = NULL, *err = NULL;

        assert_int_equal(param_check_value(&p, v, &out, &err), want);
        if (want == 0) {
                assert_null(err);
                assert_string_equal(out, norm);
        } else {
                assert_null(out);
                assert_non_null(err);
        }
}

static void test_param_check_value(void **state)
{
        check_value(PARAM_INT, "42", 0, "42");
        check_value(PARAM_INT, "-7", 0, "-7");
        check_value(PARAM_INT, "+7", 0, "7");
        check_value(PARAM_INT, "4x", -EINVAL, NULL);
        check_value(PARAM_INT, "", -EINVAL, NULL);
        check_value(PARAM_INT, "-", -EINVAL, NULL);
        check_value(PARAM_INT, "99999999999999999999999", -EINVAL, NULL);
        check_value(PARAM_BOOL, "yes", 0, "true");
        check_value(PARAM_BOOL, "TRUE", 0, "true");
        check_value(PARAM_BOOL, "1", 0, "true");
        check_value(PARAM_BOOL, "no", 0, "false");
        check_value(PARAM_BOOL, "0", 0, "false");
        check_value(PARAM_BOOL, "maybe", -EINVAL, NULL);
        check_value(PARAM_DURATION, "1h30m", 0, "1h30m");
        check_value(PARAM_DURATION, "soon", -EINVAL, NULL);
        check_value(PARAM_ENUM, "safe", 0, "safe");
        check_value(PARAM_ENUM, "slow", -EINVAL, NULL);
        check_value(PARAM_STRING, "anything at all", 0, "anything at all");
        check_value(PARAM_STRING, "", 0, "");
        check_value(PARAM_STRING, "two\nlines", -EINVAL, NULL);
}

static void test_string_tables(void **state)
{
        for (PlaybookKind k = 0; k < _PLAYBOOK_KIND_MAX; k++)
                assert_int_equal(playbook_kind_from_string(playbook_kind_to_string(k)), k);
        for (ParamType k = 0; k < _PARAM_TYPE_MAX; k++)
                assert_int_equal(param_type_from_string(param_type_to_string(k)), k);
        for (StepKind k = 0; k < _STEP_KIND_MAX; k++)
                assert_int_equal(step_kind_from_string(step_kind_to_string(k)), k);
        for (OnFailure k = 0; k < _ON_FAILURE_MAX; k++)
                assert_int_equal(on_failure_from_string(on_failure_to_string(k)), k);
        for (TargetKind k = 0; k < _TARGET_KIND_MAX; k++)
                assert_int_equal(target_kind_from_string(target_kind_to_string(k)), k);
        assert_string_equal(playbook_kind_to_string(PLAYBOOK_VENDOR_REPLACEMENT), "vendor-replacement");
        assert_string_equal(step_kind_to_string(STEP_WAIT_FOR), "wait_for");
        assert_int_equal(playbook_kind_from_string("bogus"), _PLAYBOOK_KIND_INVALID);
        assert_int_equal(step_kind_from_string(NULL), _STEP_KIND_INVALID);
        assert_null(step_kind_to_string(_STEP_KIND_MAX));
        assert_null(on_failure_to_string(_ON_FAILURE_INVALID));
}

static void test_example_playbook(void **state)
{
        /* The documented example must load against the corpus inventory. */
        const char *root = getenv("DROVER_SOURCE_ROOT");
        _cleanup_free_ char *inv = NULL, *pb = NULL;
        Config *c = NULL;
        Playbook *p = NULL;
        DiagList d;

        if (!root)
                root = ".";
        inv = xasprintf("%s/tests/bad-input/playbook/_inventory.yaml", root);
        pb = xasprintf("%s/playbooks/examples/restart-web.yaml", root);
        diag_list_init(&d);
        assert_int_equal(config_load(inv, &c, &d), 0);
        if (playbook_load(pb, c, &p, &d) < 0) {
                diag_print(&d, stderr);
                fail_msg("example playbook does not load");
        }
        assert_string_equal(p->name, "restart-web");
        playbook_free(p);
        config_free(c);
        diag_list_done(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_minimal_defaults),
                cmocka_unit_test(test_block_scalar_location),
                cmocka_unit_test(test_bad_cases),
                cmocka_unit_test(test_load_buffer_and_errors),
                cmocka_unit_test(test_param_check_value),
                cmocka_unit_test(test_string_tables),
                cmocka_unit_test(test_example_playbook),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
