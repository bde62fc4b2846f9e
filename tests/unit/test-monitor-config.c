/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-monitor-config.c — the monitoring sections of drover.yaml: every field and
 * every default into MonitorConfig and on into the consumers' structs (a real
 * Detector, LevelEvaluator, PolicyConfig, IncidentDeadlines), and each validation
 * rule as a focused bad case at its exact line:col, plus all errors in one pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/monitor-config.h"
#include "incident/policy-build.h"
#include "monitor/monitor-build.h"
#include "shared/strbuf.h"

/* The inventory every case builds on: INV_LINES lines, so snippet line k is file line INV_LINES + k. */
#define INV_LINES 15
static const char inventory[] = "defaults:\n"
                                "  ssh: {user: drover, key: /dev/null, known_hosts: /dev/null}\n"
                                "sites:\n"
                                "  primary: {role: primary}\n"
                                "  backup: {role: backup}\n"
                                "  vendor-a: {role: other}\n"
                                "  empty-site: {role: other}\n"
                                "hosts:\n"
                                "  primary-db: {site: primary, address: 10.0.0.1}\n"
                                "  backup-db: {site: backup, address: 10.0.0.2, port: 2222}\n"
                                "  loose: {address: 10.0.0.3}\n"
                                "endpoints:\n"
                                "  primary-app: {site: primary, url: \"http://10.0.0.1:8080\"}\n"
                                "  vendor-a-api: {site: vendor-a, url: \"https://api.vendor-a.example\"}\n"
                                "  duty-office: {url: \"http://10.0.0.9/hooks\"}\n";

static int load(const char *snippet, Config **ret, DiagList *l)
{
        _cleanup_free_ char *text = xasprintf("%s%s", inventory, snippet);

        diag_list_init(l);
        return config_load_buffer("/tmp/drover.yaml", text, strlen(text), ret, l);
}

static void dump(const DiagList *l)
{
        for (size_t i = 0; i < l->n_items; i++)
                print_message("  have %u:%u: %s\n", l->items[i].line, l->items[i].col, l->items[i].message);
}

static Config *load_ok(const char *snippet)
{
        Config *c = NULL;
        DiagList l;
        int r = load(snippet, &c, &l);

        if (r < 0)
                dump(&l);
        assert_int_equal(r, 0);
        assert_int_equal(diag_count_errors(&l), 0);
        diag_list_done(&l);
        assert_non_null(c);
        return c;
}

/* snippet-relative line */
static void assert_diag(const DiagList *l, unsigned line, unsigned col, const char *sub)
{
        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].severity == DIAG_ERROR && l->items[i].line == INV_LINES + line &&
                    l->items[i].col == col && strstr(l->items[i].message, sub))
                        return;
        dump(l);
        fail_msg("no error at snippet %u:%u containing '%s'", line, col, sub);
}

/* Refused, nothing returned, `sub` at the snippet's line:col, and no other error. */
static void expect_fail(const char *snippet, unsigned line, unsigned col, const char *sub)
{
        Config *c = (Config *) 0x1;
        DiagList l;

        assert_int_equal(load(snippet, &c, &l), -EINVAL);
        assert_ptr_equal(c, (Config *) 0x1);
        assert_diag(&l, line, col, sub);
        if (diag_count_errors(&l) != 1) {
                dump(&l);
                fail_msg("expected exactly one error, got %zu", diag_count_errors(&l));
        }
        diag_list_done(&l);
}

static const char full[] =
        "monitor:\n" /* 1 */
        "  defaults: {interval: 2s, timeout: 900ms, jitter: 200ms, fall: 4, rise: 3}\n"
        "  vantage_points:\n"
        "    from-backup: {host: backup-db}\n"
        "  probes:\n" /* 5 */
        "    primary-app:\n"
        "      kind: http\n"
        "      endpoint: primary-app\n"
        "      path: /health\n"
        "      expect_status: [200, 204]\n" /* 10 */
        "      body_matches: '\"status\": *\"ok\"'\n"
        "      latency_threshold: 500ms\n"
        "      critical: true\n"
        "      vantage_points: [local, from-backup]\n"
        "      quorum: 2\n" /* 15 */
        "      interval: 1s\n"
        "      timeout: 800ms\n"
        "      jitter: 100ms\n"
        "      fall: 5\n"
        "      rise: 6\n" /* 20 */
        "    primary-pg: {kind: tcp, host: primary-db, port: 5432, site: backup}\n"
        "    backup-ssh: {kind: tcp, host: backup-db}\n"
        "    standby-lag:\n"
        "      kind: ssh\n"
        "      host: backup-db\n" /* 25 */
        "      command: pg-lag\n"
        "      expect_exit_status: 3\n"
        "      max_value: 1000000\n"
        "    vendor-a-success:\n"
        "      kind: vendor-metric\n" /* 30 */
        "      endpoint: vendor-a-api\n"
        "      path: /metrics\n"
        "      field: stats.success_rate\n"
        "      min: 0.95\n"
        "levels:\n" /* 35 */
        "  - {name: active-site-down, level: 1, condition: site-down, subject: primary, for: 30s}\n"
        "  - {name: vendor-degraded, level: orange, condition: metric-below, subject: vendor-a-success, "
        "threshold: 0.9, for: 2m}\n"
        "  - {name: primary-slow, level: 3, condition: latency-over, subject: primary-app, for: 10s}\n"
        "  - {level: blue, condition: probe_failing, subject: primary}\n"
        "roles:\n" /* 40 */
        "  duty-office: {endpoint: duty-office, path: /duty}\n"
        "  command-centre: {endpoint: duty-office}\n"
        "responses:\n"
        "  red: {notify: [duty-office, command-centre], playbook: site-switchover, "
        "params: {reason: \"automatic: site down\", force: 'no'}, auto: true}\n"
        "  2: {notify: [duty-office], playbook: vendor-replacement, params: {reason: vendor failing}, "
        "auto: false}\n"
        "  yellow: {notify: [duty-office], raise_frequency: 2.5}\n"
        "deadlines:\n"
        "  verify: 10m\n"
        "  locate: {orange: 3h, 3: 7h}\n"
        "  first_solution: {red: 1h30m}\n"
        "failover:\n"
        "  cooldown: 45m\n"
        "  active_site: backup\n";

static void test_full(void **state)
{
        _cleanup_(config_freep) Config *c = load_ok(full);
        const MonitorConfig *m = c->monitor;
        const ProbeConfig *p;

        assert_non_null(m);
        assert_int_equal(m->default_interval, 2 * USEC_PER_SEC);
        assert_int_equal(m->default_timeout, 900 * USEC_PER_MSEC);
        assert_int_equal(m->default_jitter, 200 * USEC_PER_MSEC);
        assert_int_equal(m->default_fall, 4);
        assert_int_equal(m->default_rise, 3);

        assert_int_equal(m->n_vantage_points, 1);
        assert_string_equal(m->vantage_points[0].name, "from-backup");
        assert_ptr_equal(m->vantage_points[0].host, config_find_host(c, "backup-db"));
        assert_ptr_equal(monitor_config_find_vantage_point(m, "from-backup"), &m->vantage_points[0]);
        assert_null(monitor_config_find_vantage_point(m, "local"));

        assert_int_equal(m->n_probes, 5);
        p = monitor_config_find_probe(m, "primary-app");
        assert_ptr_equal(p, &m->probes[0]);
        assert_int_equal(p->kind, PROBE_KIND_HTTP);
        assert_ptr_equal(p->endpoint, config_find_endpoint(c, "primary-app"));
        assert_null(p->host);
        assert_string_equal(p->site, "primary");
        assert_true(p->critical);
        assert_string_equal(p->path, "/health");
        assert_int_equal(p->n_expect_status, 2);
        assert_int_equal(p->expect_status[0], 200);
        assert_int_equal(p->expect_status[1], 204);
        assert_string_equal(p->body_matches, "\"status\": *\"ok\"");
        assert_int_equal(p->latency_threshold, 500 * USEC_PER_MSEC);
        assert_int_equal(p->n_vantage_points, 2);
        assert_string_equal(p->vantage_points[0], "local");
        assert_string_equal(p->vantage_points[1], "from-backup");
        assert_null(p->vantage_points[2]);
        assert_int_equal(p->quorum, 2);
        assert_int_equal(p->interval, USEC_PER_SEC);
        assert_int_equal(p->timeout, 800 * USEC_PER_MSEC);
        assert_int_equal(p->jitter, 100 * USEC_PER_MSEC);
        assert_int_equal(p->fall, 5);
        assert_int_equal(p->rise, 6);
        assert_true(isnan(p->min));
        assert_int_equal(p->line, INV_LINES + 6);
        assert_int_equal(p->col, 5);

        p = monitor_config_find_probe(m, "primary-pg");
        assert_int_equal(p->kind, PROBE_KIND_TCP);
        assert_ptr_equal(p->host, config_find_host(c, "primary-db"));
        assert_int_equal(p->port, 5432);
        assert_string_equal(p->site, "backup"); /* explicit site wins over the host's */
        assert_false(p->critical);
        /* inherited from monitor.defaults */
        assert_int_equal(p->interval, 2 * USEC_PER_SEC);
        assert_int_equal(p->timeout, 900 * USEC_PER_MSEC);
        assert_int_equal(p->jitter, 200 * USEC_PER_MSEC);
        assert_int_equal(p->fall, 4);
        assert_int_equal(p->rise, 3);
        assert_int_equal(p->quorum, 1);
        assert_int_equal(p->n_vantage_points, 1);
        assert_string_equal(p->vantage_points[0], "local");

        p = monitor_config_find_probe(m, "backup-ssh");
        assert_int_equal(p->port, 2222); /* the host's SSH port by default */
        assert_string_equal(p->site, "backup");

        p = monitor_config_find_probe(m, "standby-lag");
        assert_int_equal(p->kind, PROBE_KIND_SSH);
        assert_string_equal(p->command, "pg-lag");
        assert_int_equal(p->expect_exit_status, 3);
        assert_true(p->has_max_value);
        assert_true(p->max_value == 1000000.0);
        assert_null(p->path);

        p = monitor_config_find_probe(m, "vendor-a-success");
        assert_int_equal(p->kind, PROBE_KIND_VENDOR_METRIC);
        assert_ptr_equal(p->endpoint, config_find_endpoint(c, "vendor-a-api"));
        assert_string_equal(p->path, "/metrics");
        assert_string_equal(p->field, "stats.success_rate");
        assert_true(p->min == 0.95);
        assert_string_equal(p->site, "vendor-a");

        assert_int_equal(m->n_level_rules, 4);
        assert_string_equal(m->level_rules[0].name, "active-site-down");
        assert_int_equal(m->level_rules[0].level, LEVEL_RED);
        assert_int_equal(m->level_rules[0].cond, LEVEL_COND_SITE_DOWN);
        assert_true(m->level_rules[0].subject_is_site);
        assert_int_equal(m->level_rules[0].for_duration, 30 * USEC_PER_SEC);
        assert_int_equal(m->level_rules[1].level, LEVEL_ORANGE);
        assert_int_equal(m->level_rules[1].cond, LEVEL_COND_METRIC_BELOW);
        assert_true(m->level_rules[1].threshold == 0.9);
        assert_false(m->level_rules[1].subject_is_site);
        assert_int_equal(m->level_rules[2].cond, LEVEL_COND_LATENCY_OVER);
        assert_true(isnan(m->level_rules[2].threshold));
        assert_null(m->level_rules[3].name);
        assert_int_equal(m->level_rules[3].level, LEVEL_BLUE);
        assert_int_equal(m->level_rules[3].cond, LEVEL_COND_PROBE_FAILING);
        assert_int_equal(m->level_rules[3].for_duration, 0);

        assert_int_equal(m->n_roles, 2);
        assert_ptr_equal(monitor_config_find_role(m, "duty-office")->endpoint,
                         config_find_endpoint(c, "duty-office"));
        assert_string_equal(monitor_config_find_role(m, "duty-office")->path, "/duty");
        assert_string_equal(monitor_config_find_role(m, "command-centre")->path, "/");
        assert_null(monitor_config_find_role(m, "nobody"));

        assert_int_equal(m->cooldown, 45 * USEC_PER_MINUTE);
        assert_string_equal(m->active_site, "backup");
        (void) state;
}

static void test_full_into_consumers(void **state)
{
        _cleanup_(config_freep) Config *c = load_ok(full);
        const MonitorConfig *m = c->monitor;
        _cleanup_free_ DetectorTargetConfig *t = NULL;
        _cleanup_free_ LevelRule *rules = NULL;
        _cleanup_(detector_freep) Detector *d = NULL;
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        PolicyConfig pc;
        IncidentDeadlines dl;
        char err[256];
        size_t n;

        assert_int_equal(monitor_config_detector_targets(m, &t, &n), 0);
        assert_int_equal(n, 5);
        assert_string_equal(t[0].name, "primary-app");
        assert_string_equal(t[0].site, "primary");
        assert_int_equal(t[0].fall, 5);
        assert_int_equal(t[0].rise, 6);
        assert_int_equal(t[0].quorum, 2);
        assert_int_equal(t[0].n_vantages, 2);
        assert_string_equal(t[0].vantages[1], "from-backup");
        assert_int_equal(t[0].interval, USEC_PER_SEC);
        assert_true(t[0].critical);
        assert_true(isnan(t[0].metric_min));
        assert_true(t[4].metric_min == 0.95);

        /* The real detector accepts every target, and quorum 2 needs both vantages. */
        assert_int_equal(monitor_config_new_detector(m, &d), 0);
        assert_int_equal(detector_n_targets(d), 5);
        for (unsigned i = 0; i < 10; i++) {
                ProbeResult r = {.probe = "primary-app",
                                 .target = "primary-app",
                                 .vantage = "local",
                                 .outcome = PROBE_FAIL,
                                 .at = (i + 1) * USEC_PER_SEC};
                assert_int_equal(detector_feed(d, &r, NULL, 0, &n), 0);
        }
        assert_int_equal(detector_health(d, "primary-app"), HEALTH_DEGRADED);

        assert_int_equal(monitor_config_level_rules(m, &rules, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(rules[1].name, "vendor-degraded");
        assert_string_equal(rules[1].site_or_target, "vendor-a-success");
        assert_int_equal(rules[1].for_duration, 2 * USEC_PER_MINUTE);
        assert_true(rules[1].threshold == 0.9);
        assert_int_equal(rules[0].cond, LEVEL_COND_SITE_DOWN);
        assert_string_equal(rules[0].site_or_target, "primary");

        /* The real evaluator accepts every rule (site-down on a site with a critical probe). */
        assert_int_equal(monitor_config_new_levels(m, &e), 0);
        assert_int_equal(levels_n_rules(e), 4);

        monitor_config_policy(m, &pc);
        assert_int_equal(pc.cooldown, 45 * USEC_PER_MINUTE);
        assert_string_equal(pc.levels[LEVEL_RED].notify[0], "duty-office");
        assert_string_equal(pc.levels[LEVEL_RED].notify[1], "command-centre");
        assert_null(pc.levels[LEVEL_RED].notify[2]);
        assert_string_equal(pc.levels[LEVEL_RED].playbook, "site-switchover");
        assert_int_equal(pc.levels[LEVEL_RED].playbook_kind, PLAYBOOK_CUSTOM);
        assert_true(pc.levels[LEVEL_RED].auto_run);
        assert_int_equal(pc.levels[LEVEL_RED].n_params, 2);
        assert_string_equal(pc.levels[LEVEL_RED].params[0].name, "reason");
        assert_string_equal(pc.levels[LEVEL_RED].params[0].value, "automatic: site down");
        assert_string_equal(pc.levels[LEVEL_RED].params[1].value, "no");
        assert_true(pc.levels[LEVEL_RED].raise_frequency == 1.0);
        assert_string_equal(pc.levels[LEVEL_ORANGE].playbook, "vendor-replacement");
        assert_false(pc.levels[LEVEL_ORANGE].auto_run);
        assert_string_equal(pc.levels[LEVEL_ORANGE].params[0].value, "vendor failing");
        assert_true(pc.levels[LEVEL_YELLOW].raise_frequency == 2.5);
        assert_null(pc.levels[LEVEL_YELLOW].playbook);
        assert_null(pc.levels[LEVEL_BLUE].notify);
        assert_null(pc.levels[LEVEL_BLUE].playbook);
        assert_int_equal(policy_config_validate(&pc, err, sizeof(err)), 0);

        monitor_config_deadlines(m, &dl);
        for (int lv = LEVEL_RED; lv <= LEVEL_BLUE; lv++)
                assert_int_equal(dl.verify_within[lv], 10 * USEC_PER_MINUTE);
        assert_int_equal(dl.locate_within[LEVEL_ORANGE], 3 * USEC_PER_HOUR);
        assert_int_equal(dl.locate_within[LEVEL_YELLOW], 7 * USEC_PER_HOUR);
        assert_int_equal(dl.first_solution_within[LEVEL_RED], 90 * USEC_PER_MINUTE);
        /* untouched entries keep incident_deadlines_default() */
        IncidentDeadlines def;
        incident_deadlines_default(&def);
        assert_int_equal(dl.locate_within[LEVEL_RED], def.locate_within[LEVEL_RED]);
        assert_int_equal(dl.locate_within[LEVEL_BLUE], def.locate_within[LEVEL_BLUE]);
        assert_int_equal(dl.first_solution_within[LEVEL_ORANGE], def.first_solution_within[LEVEL_ORANGE]);
        (void) state;
}

static void test_defaults(void **state)
{
        _cleanup_(config_freep) Config *c =
                load_ok("monitor:\n"
                        "  probes:\n"
                        "    app: {kind: http, endpoint: primary-app}\n"
                        "    lag: {kind: ssh, host: primary-db, command: lag}\n");
        const MonitorConfig *m = c->monitor;
        const ProbeConfig *p = &m->probes[0];
        IncidentDeadlines dl, def;
        PolicyConfig pc;

        assert_int_equal(m->default_interval, MONITOR_DEFAULT_INTERVAL);
        assert_int_equal(m->default_timeout, MONITOR_DEFAULT_TIMEOUT);
        assert_int_equal(m->default_jitter, MONITOR_DEFAULT_JITTER);
        assert_int_equal(p->interval, MONITOR_DEFAULT_INTERVAL);
        assert_int_equal(p->timeout, MONITOR_DEFAULT_TIMEOUT);
        assert_int_equal(p->jitter, MONITOR_DEFAULT_JITTER);
        assert_int_equal(p->fall, MONITOR_DEFAULT_FALL);
        assert_int_equal(p->rise, MONITOR_DEFAULT_RISE);
        assert_string_equal(p->path, "/");
        assert_int_equal(p->n_expect_status, 0);
        assert_null(p->body_matches);
        assert_int_equal(p->latency_threshold, 0);
        assert_false(p->critical);
        assert_int_equal(p->quorum, 1);
        assert_string_equal(p->site, "primary");
        assert_int_equal(m->probes[1].expect_exit_status, 0);
        assert_false(m->probes[1].has_max_value);
        assert_int_equal(m->n_level_rules, 0);
        assert_int_equal(m->n_roles, 0);
        assert_int_equal(m->cooldown, POLICY_DEFAULT_COOLDOWN);
        assert_string_equal(m->active_site, "primary"); /* the site with role primary */

        monitor_config_deadlines(m, &dl);
        incident_deadlines_default(&def);
        assert_memory_equal(&dl, &def, sizeof(dl));
        monitor_config_policy(m, &pc);
        assert_int_equal(pc.cooldown, POLICY_DEFAULT_COOLDOWN);
        for (int lv = 0; lv < _WARNING_LEVEL_MAX; lv++) {
                assert_null(pc.levels[lv].notify);
                assert_null(pc.levels[lv].playbook);
                assert_false(pc.levels[lv].auto_run);
        }
        (void) state;
}

static void test_absent_and_empty(void **state)
{
        _cleanup_(config_freep) Config *c = load_ok("");
        _cleanup_(config_freep) Config *e = NULL;
        _cleanup_free_ DetectorTargetConfig *t = (DetectorTargetConfig *) 0x1;
        _cleanup_free_ LevelRule *rules = (LevelRule *) 0x1;
        _cleanup_(detector_freep) Detector *d = NULL;
        _cleanup_(levels_freep) LevelEvaluator *le = NULL;
        IncidentDeadlines dl, def;
        PolicyConfig pc;
        size_t n = 99;

        assert_null(c->monitor);
        /* Builders take NULL: no monitoring means no targets and default policy/deadlines. */
        assert_int_equal(monitor_config_detector_targets(NULL, &t, &n), 0);
        assert_null(t);
        assert_int_equal(n, 0);
        n = 99;
        assert_int_equal(monitor_config_level_rules(NULL, &rules, &n), 0);
        assert_null(rules);
        assert_int_equal(n, 0);
        assert_int_equal(monitor_config_new_detector(NULL, &d), 0);
        assert_int_equal(detector_n_targets(d), 0);
        assert_int_equal(monitor_config_new_levels(NULL, &le), 0);
        monitor_config_policy(NULL, &pc);
        assert_int_equal(pc.cooldown, POLICY_DEFAULT_COOLDOWN);
        monitor_config_deadlines(NULL, &dl);
        incident_deadlines_default(&def);
        assert_memory_equal(&dl, &def, sizeof(dl));

        /* Empty sections are fine and give a MonitorConfig. */
        e = load_ok("monitor:\nlevels:\nroles:\nresponses:\ndeadlines:\nfailover:\n");
        assert_non_null(e->monitor);
        assert_int_equal(e->monitor->n_probes, 0);
        assert_string_equal(e->monitor->active_site, "primary");
        (void) state;
}

static void test_spellings(void **state)
{
        /* kind and condition: the spec's dashes and the enum tables' underscores; levels as digits. */
        _cleanup_(config_freep) Config *c =
                load_ok("monitor:\n"
                        "  probes:\n"
                        "    v1: {kind: vendor_metric, endpoint: vendor-a-api, field: rate, min: 1}\n"
                        "    v2: {kind: vendor-metric, endpoint: vendor-a-api, field: a.b.c, min: -0.5e1}\n"
                        "levels:\n"
                        "  - {level: 4, condition: target_down, subject: v1}\n"
                        "  - {level: '2', condition: target-down, subject: vendor-a}\n"
                        "  - {level: yellow, condition: metric-below, subject: vendor-a, threshold: 1}\n");
        assert_int_equal(c->monitor->probes[0].kind, PROBE_KIND_VENDOR_METRIC);
        assert_int_equal(c->monitor->probes[1].kind, PROBE_KIND_VENDOR_METRIC);
        assert_true(c->monitor->probes[1].min == -5.0);
        assert_int_equal(c->monitor->level_rules[0].level, LEVEL_BLUE);
        assert_int_equal(c->monitor->level_rules[1].level, LEVEL_ORANGE);
        assert_true(c->monitor->level_rules[1].subject_is_site);
        (void) state;
}

/* ---- bad cases: snippet-relative line:col ----------------------------------------------- */

static void test_kind_keys(void **state)
{
        expect_fail("monitor:\n  probes:\n    p: {kind: http}\n", 3, 8, "missing required key 'endpoint'");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp}\n", 3, 8, "missing required key 'host'");
        expect_fail("monitor:\n  probes:\n    p: {kind: ssh, host: primary-db}\n", 3, 8,
                    "missing required key 'command'");
        expect_fail("monitor:\n  probes:\n    p: {kind: vendor-metric, endpoint: vendor-a-api, min: 1}\n", 3,
                    8, "missing required key 'field'");
        expect_fail("monitor:\n  probes:\n    p: {kind: vendor-metric, endpoint: vendor-a-api, field: x}\n",
                    3, 8, "missing required key 'min'");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, path: /x}\n", 3, 38,
                    "key 'path' does not apply to tcp probes");
        expect_fail("monitor:\n  probes:\n    p: {kind: http, endpoint: primary-app, command: ls}\n", 3, 44,
                    "key 'command' does not apply to http probes");
        expect_fail("monitor:\n  probes:\n    p: {kind: ssh, host: primary-db, command: x, field: y}\n", 3,
                    50, "does not apply to ssh probes");
        expect_fail("monitor:\n  probes:\n    p: {kind: icmp, host: primary-db}\n", 3, 15,
                    "kind must be http, tcp, ssh or vendor-metric, not 'icmp'");
        expect_fail("monitor:\n  probes:\n    p: {host: primary-db}\n", 3, 8, "missing required key 'kind'");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, intervall: 1s}\n", 3, 38,
                    "unknown key 'intervall' in probe 'p' (did you mean 'interval'?)");
        expect_fail("monitor:\n  probez:\n", 2, 3,
                    "unknown key 'probez' in monitor (did you mean 'probes'?)");
        expect_fail("monitr:\n", 1, 1, "unknown key 'monitr' in drover.yaml (did you mean 'monitor'?)");
        (void) state;
}

static void test_references(void **state)
{
        expect_fail("monitor:\n  probes:\n    p: {kind: http, endpoint: primary-ap}\n", 3, 31,
                    "unknown endpoint 'primary-ap' (did you mean 'primary-app'?)");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-dbx}\n", 3, 26,
                    "unknown host 'primary-dbx' (did you mean 'primary-db'?)");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, site: nowhere}\n", 3, 44,
                    "unknown site 'nowhere'");
        expect_fail("monitor:\n  vantage_points:\n    far: {host: nohost}\n", 3, 17,
                    "unknown host 'nohost'");
        expect_fail("monitor:\n  vantage_points:\n    far: {}\n", 3, 10, "missing required key 'host'");
        expect_fail("monitor:\n  vantage_points:\n    local: {host: backup-db}\n", 3, 5,
                    "'local' is drover's own host and cannot be redefined");
        expect_fail("monitor:\n  vantage_points:\n    far: {host: backup-db}\n  probes:\n"
                    "    p: {kind: tcp, host: primary-db, vantage_points: [local, fra]}\n",
                    5, 62, "unknown vantage point 'fra' (did you mean 'far'?)");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, vantage_points: [local, "
                    "local]}\n",
                    3, 62, "vantage point 'local' is listed twice");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: loose}\n", 3, 5,
                    "probe 'p' has no site: its host 'loose' has none (set site)");
        expect_fail("roles:\n  duty: {endpoint: duty}\n", 2, 20, "role 'duty': unknown endpoint 'duty'");
        expect_fail("roles:\n  duty: {endpoint: duty-office, path: duty}\n", 2, 39,
                    "path must start with '/'");
        expect_fail("failover: {active_site: primry}\n", 1, 25,
                    "unknown site 'primry' (did you mean 'primary'?)");
        (void) state;
}

static void test_ranges(void **state)
{
        static const char head[] = "monitor:\n  vantage_points:\n    far: {host: backup-db}\n  probes:\n";
        _cleanup_free_ char *q0 = xasprintf("%s    p: {kind: tcp, host: primary-db, quorum: 0}\n", head);
        _cleanup_free_ char *q2 = xasprintf("%s    p: {kind: tcp, host: primary-db, quorum: 2}\n", head);
        _cleanup_free_ char *q3 = xasprintf(
                "%s    p: {kind: tcp, host: primary-db, vantage_points: [local, far], quorum: 3}\n", head);

        expect_fail(q0, 5, 46, "quorum must be between 1 and 1");
        expect_fail(q2, 5, 46, "quorum must be between 1 and 1");
        expect_fail(q3, 5, 76, "quorum must be between 1 and 2");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, fall: 0}\n", 3, 44,
                    "fall must be between 1 and 100");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, rise: 101}\n", 3, 44,
                    "rise must be between 1 and 100");
        expect_fail("monitor:\n  defaults: {rise: 0}\n", 2, 20, "rise must be between 1 and 100");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, port: 70000}\n", 3, 44,
                    "port must be between 1 and 65535");
        expect_fail("monitor:\n  probes:\n    p: {kind: ssh, host: primary-db, command: x, "
                    "expect_exit_status: 256}\n",
                    3, 70, "expect_exit_status must be between 0 and 255");
        expect_fail("monitor:\n  probes:\n    p: {kind: http, endpoint: primary-app, expect_status: [200, "
                    "700]}\n",
                    3, 65, "expect_status must hold HTTP status codes 100..599, not '700'");
        expect_fail("monitor:\n  probes:\n    p: {kind: vendor-metric, endpoint: vendor-a-api, field: x, "
                    "min: lots}\n",
                    3, 69, "min must be a number, not 'lots'");
        expect_fail("monitor:\n  probes:\n    p: {kind: vendor-metric, endpoint: vendor-a-api, field: x, "
                    "min: nan}\n",
                    3, 69, "min must be a number, not 'nan'");
        expect_fail("monitor:\n  probes:\n    p: {kind: vendor-metric, endpoint: vendor-a-api, field: a..b, "
                    "min: 1}\n",
                    3, 61, "field must be a dotted JSON path");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, latency_threshold: 0s}\n", 3,
                    57, "latency_threshold must be greater than 0");
        (void) state;
}

static void test_timing(void **state)
{
        expect_fail("monitor:\n  defaults: {interval: 1s, timeout: 1s}\n", 2, 37,
                    "monitor.defaults: timeout must be shorter than interval");
        expect_fail("monitor:\n  defaults: {interval: 150ms}\n", 2, 24,
                    "monitor.defaults: timeout must be shorter than interval");
        expect_fail("monitor:\n  defaults: {jitter: 1s}\n", 2, 22, "jitter must be shorter than interval");
        expect_fail("monitor:\n  defaults: {interval: 0s}\n", 2, 24, "interval must be greater than 0");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, timeout: 2s}\n", 3, 47,
                    "probe 'p': timeout must be shorter than interval");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, interval: 500ms}\n", 3, 48,
                    "probe 'p': timeout must be shorter than interval");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, interval: 5s, jitter: 5s}\n",
                    3, 60, "probe 'p': jitter must be shorter than interval");
        expect_fail("monitor:\n  probes:\n    p: {kind: tcp, host: primary-db, interval: 1 min}\n", 3, 48,
                    "invalid duration '1 min' for interval");
        (void) state;
}

static void test_regex(void **state)
{
        expect_fail(
                "monitor:\n  probes:\n    p: {kind: http, endpoint: primary-app, body_matches: 'ok(('}\n", 3,
                58, "body_matches is not a valid POSIX extended regular expression");
        (void) state;
}

static const char probes_for_levels[] = "monitor:\n"
                                        "  probes:\n"
                                        "    app: {kind: http, endpoint: primary-app}\n"
                                        "    pg: {kind: tcp, host: primary-db, critical: true}\n"
                                        "    lag: {kind: ssh, host: backup-db, command: lag}\n"
                                        "levels:\n";

static void expect_level_fail(const char *rule, unsigned col, const char *sub)
{
        _cleanup_free_ char *s = xasprintf("%s  - %s\n", probes_for_levels, rule);
        expect_fail(s, 7, col, sub);
}

static void test_levels(void **state)
{
        expect_level_fail("{level: 5, condition: target-down, subject: app}", 13, "level must be 1..4");
        expect_level_fail("{level: purple, condition: target-down, subject: app}", 13,
                          "level must be 1..4 or red, orange, yellow, blue, not 'purple'");
        expect_level_fail("{level: 0, condition: target-down, subject: app}", 13, "level must be 1..4");
        expect_level_fail("{level: none, condition: target-down, subject: app}", 13, "level must be 1..4");
        expect_level_fail("{condition: target-down, subject: app}", 5, "missing required key 'level'");
        expect_level_fail("{level: 1, condition: site-gone, subject: app}", 27,
                          "condition must be target-down, site-down, metric-below, latency-over or "
                          "probe-failing, not 'site-gone'");
        expect_level_fail("{level: 1, condition: target-down, subject: ap}", 49,
                          "subject 'ap' is neither a probe nor a site (did you mean 'app'?)");
        expect_level_fail("{level: 1, condition: target-down, subject: primari}", 49,
                          "(did you mean 'primary'?)");
        /* site-down: a site (not a probe) with a critical probe */
        expect_level_fail("{level: 1, condition: site-down, subject: backup}", 47,
                          "site-down needs a site with a critical probe; site 'backup' has none");
        expect_level_fail("{level: 1, condition: site-down, subject: pg}", 47,
                          "site-down needs a site as subject, 'pg' is a probe");
        expect_level_fail("{level: 1, condition: target-down, subject: empty-site}", 49,
                          "site 'empty-site' has no probes");
        /* metric-below: a threshold, and a vendor metric to compare */
        expect_fail("monitor:\n  probes:\n    v: {kind: vendor-metric, endpoint: vendor-a-api, field: f, "
                    "min: 1}\n"
                    "levels:\n  - {level: 2, condition: metric-below, subject: v}\n",
                    5, 5, "missing required key 'threshold' in level rule 1");
        expect_level_fail("{level: 2, condition: metric-below, subject: app, threshold: 0.5}", 50,
                          "metric-below needs a vendor-metric probe, 'app' is a http probe");
        expect_level_fail("{level: 3, condition: latency-over, subject: app, threshold: 0.5}", 55,
                          "threshold applies to metric-below only");
        expect_level_fail("{level: 3, condition: latency-over, subject: app, for: soon}", 60,
                          "invalid duration 'soon' for for");
        expect_level_fail("{name: 'a b', level: 3, condition: latency-over, subject: app}", 12,
                          "invalid level rule name 'a b'");
        expect_level_fail("{level: 3, condition: latency-over, subject: app, when: now}", 55,
                          "unknown key 'when' in level rule 1");

        _cleanup_free_ char *dup =
                xasprintf("%s  - {name: x, level: 3, condition: latency-over, subject: app}\n"
                          "  - {name: x, level: 4, condition: probe-failing, subject: app}\n",
                          probes_for_levels);
        expect_fail(dup, 8, 12, "level rule 'x': name already used by the rule at line 22");
        expect_fail("levels: {a: 1}\n", 1, 9, "levels must be a sequence");
        (void) state;
}

static const char roles_for_responses[] = "roles:\n"
                                          "  duty: {endpoint: duty-office}\n"
                                          "responses:\n";

static void expect_response_fail(const char *entry, unsigned line, unsigned col, const char *sub)
{
        _cleanup_free_ char *s = xasprintf("%s%s", roles_for_responses, entry);
        expect_fail(s, line, col, sub);
}

static void test_responses(void **state)
{
        expect_response_fail("  red: {notify: [dutty]}\n", 4, 18,
                             "unknown role 'dutty' (did you mean 'duty'?)");
        expect_response_fail("  red: {notify: [duty, duty]}\n", 4, 24, "role 'duty' is listed twice");
        expect_response_fail("  purple: {notify: [duty]}\n", 4, 3, "level must be 1..4 or red");
        expect_response_fail("  none: {notify: [duty]}\n", 4, 3, "level must be 1..4");
        expect_response_fail("  red: {notify: [duty]}\n  1: {notify: [duty]}\n", 5, 3,
                             "responses: level red is given twice (first at line 19)");
        expect_response_fail("  red: {auto: true}\n", 4, 15, "auto: true needs a playbook to run");
        expect_response_fail("  red: {params: {a: b}}\n", 4, 9, "params need a playbook");
        expect_response_fail("  red: {playbook: x, params: {a: [1]}}\n", 4, 34,
                             "param 'a' must be a string");
        expect_response_fail("  yellow: {raise_frequency: 0.5}\n", 4, 29,
                             "raise_frequency must be between 1 and 100");
        expect_response_fail("  yellow: {raise_frequency: fast}\n", 4, 29,
                             "raise_frequency must be a number");
        expect_response_fail("  red: {playbook: 'site switchover'}\n", 4, 19, "invalid playbook name");
        expect_response_fail("  red: {notfy: [duty]}\n", 4, 9,
                             "unknown key 'notfy' in responses.red (did you mean "
                             "'notify'?)");
        expect_response_fail("  red: {auto: maybe, playbook: x}\n", 4, 15, "auto must be true or false");
        (void) state;
}

static void test_deadlines_and_failover(void **state)
{
        expect_fail("deadlines:\n  verify: soon\n", 2, 11, "invalid duration 'soon' for verify");
        expect_fail("deadlines:\n  locate: {purple: 1h}\n", 2, 12, "deadlines.locate: level must be 1..4");
        expect_fail("deadlines:\n  locate: {orange: 1h, 2: 2h}\n", 2, 24,
                    "level orange is given twice (first at line 17)");
        expect_fail("deadlines:\n  locate: [1h]\n", 2, 11, "deadlines.locate must be a mapping");
        expect_fail("deadlines:\n  first_solutions: 1h\n", 2, 3, "(did you mean 'first_solution'?)");
        expect_fail("failover: {cooldown: forever}\n", 1, 22, "invalid duration 'forever' for cooldown");
        expect_fail("failover: {cooldown: 1m, active: primary}\n", 1, 26,
                    "unknown key 'active' in failover");
        (void) state;
}

static void test_all_errors_in_one_pass(void **state)
{
        Config *c = NULL;
        DiagList l;

        assert_int_equal(load("monitor:\n"
                              "  probes:\n"
                              "    a: {kind: http}\n"
                              "    b: {kind: tcp, host: nohost, quorum: 2}\n"
                              "levels:\n"
                              "  - {level: 9, condition: target-down, subject: a}\n"
                              "roles:\n"
                              "  r: {endpoint: nope}\n"
                              "responses:\n"
                              "  red: {notify: [x]}\n"
                              "failover: {active_site: nowhere}\n",
                              &c, &l),
                         -EINVAL);
        assert_null(c);
        assert_diag(&l, 3, 8, "missing required key 'endpoint'");
        assert_diag(&l, 4, 26, "unknown host 'nohost'");
        assert_diag(&l, 4, 42, "quorum must be between 1 and 1");
        assert_diag(&l, 6, 13, "level must be 1..4");
        assert_diag(&l, 8, 17, "unknown endpoint 'nope'");
        assert_diag(&l, 10, 18, "unknown role 'x'");
        assert_diag(&l, 11, 25, "unknown site 'nowhere'");
        assert_int_equal(diag_count_errors(&l), 7);
        diag_list_done(&l);
        (void) state;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_full_into_consumers),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_absent_and_empty),
                cmocka_unit_test(test_spellings),
                cmocka_unit_test(test_kind_keys),
                cmocka_unit_test(test_references),
                cmocka_unit_test(test_ranges),
                cmocka_unit_test(test_timing),
                cmocka_unit_test(test_regex),
                cmocka_unit_test(test_levels),
                cmocka_unit_test(test_responses),
                cmocka_unit_test(test_deadlines_and_failover),
                cmocka_unit_test(test_all_errors_in_one_pass),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
