/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor-config.h — the monitoring sections of drover.yaml: `monitor` (probe
 * defaults, vantage points, probes), `levels`, `roles`, `responses`, `deadlines`
 * and `failover` (issue 4 spec, /tmp/monitor-spec.md; docs in
 * units/drover.yaml.example).
 *
 * Owns: the MonitorConfig types, loading and cross-checking these sections. Does
 * not own: the vocabulary they are written in (shared/monitoring.h: probe kinds,
 * warning levels, level conditions, deadlines, policy params), the inventory
 * (config.c calls monitor_config_load() once every inventory section is loaded),
 * building each consumer's struct from a MonitorConfig (monitor/monitor-build.h:
 * detector targets and level rules; incident/policy-build.h: the policy config),
 * running probes, the detector/levels/policy/incident logic, playbooks (a response
 * names a playbook; the daemon resolves it in playbook_dir). Called by config.c;
 * the lookups and monitor_config_deadlines() by droverd and tests.
 *
 * Lifetime: a MonitorConfig belongs to its Config (Config.monitor, NULL when the
 * file has none of the six sections) and owns its strings; the Endpoint and Host
 * pointers in it are borrowed from that Config. Everything built from it borrows
 * strings from the MonitorConfig, so keep the Config alive as long as the
 * Detector/LevelEvaluator inputs, PolicyConfig or rule arrays are used.
 *
 * Probes and targets: every probe is one detector/level target of the same name,
 * so a level rule's subject is a probe name or a site name.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "shared/diag.h"
#include "shared/monitoring.h"
#include "shared/time-util.h"

typedef struct YNode YNode;

#define MONITOR_DEFAULT_INTERVAL (1 * USEC_PER_SEC)
#define MONITOR_DEFAULT_TIMEOUT (800 * USEC_PER_MSEC)
#define MONITOR_DEFAULT_JITTER (100 * USEC_PER_MSEC)
#define MONITOR_DEFAULT_FALL 3
#define MONITOR_DEFAULT_RISE 2
#define MONITOR_FALL_RISE_MAX 100

/* A place besides drover itself ("local") that probes run from: over SSH on `host`.
 * To the prober, a probe with vantage_points [local, V] is two ProbeSpecs with the
 * same target (the probe's name) and distinct names (e.g. "app" and "app@V"): the
 * second with .vantage = V's name and .vantage_host = V's host. Kinds http,
 * vendor-metric and tcp only (ssh probes are refused with a remote vantage at load).
 * A check the vantage host cannot run is PROBE_UNAVAILABLE and the detector lets that
 * vantage abstain (prober.h, detector.h). */
typedef struct VantagePoint {
        char *name;
        const Host *host; /* borrowed from the Config; checks run over SSH from it */
        unsigned line, col;
} VantagePoint;

typedef struct ProbeConfig {
        char *name;                /* also the detector/level target name */
        ProbeKind kind;
        char *site;                /* explicit, or the endpoint's / host's site; never NULL */
        bool critical;             /* a critical probe down means its site is down */

        const Endpoint *endpoint;  /* http, vendor-metric; borrowed from the Config */
        const Host *host;          /* tcp, ssh; borrowed from the Config */

        /* http, vendor-metric */
        char *path;                /* appended to endpoint->base_url; starts with '/', default "/" */
        /* http */
        unsigned *expect_status;   /* n_expect_status == 0: any 2xx */
        size_t n_expect_status;
        char *body_matches;        /* POSIX ERE (checked to compile); NULL = none */
        /* every kind: slower answers are "slow" (degraded); 0 = no threshold */
        usec_t latency_threshold;
        /* tcp */
        uint16_t port;             /* default: host->port (its SSH port) */
        /* ssh */
        char *command;
        int expect_exit_status;    /* default 0 */
        double max_value;          /* stdout parsed as a number must be <= this, else slow */
        bool has_max_value;
        /* vendor-metric */
        char *field;               /* dotted JSON path */
        double min;                /* below: weak (degraded); NAN for other kinds */

        char **vantage_points;     /* NULL-terminated names ("local" or a VantagePoint); default {"local"};
                                    * kind ssh: "local" only */
        size_t n_vantage_points;
        unsigned quorum;           /* 1..n_vantage_points, default 1 */

        usec_t interval, timeout, jitter; /* effective: the probe's own or monitor.defaults */
        unsigned fall, rise;              /* effective, 1..100 */
        unsigned line, col;
} ProbeConfig;

typedef struct RoleConfig {
        char *name;
        const Endpoint *endpoint;  /* borrowed; notifications POST JSON to base_url + path */
        char *path;                /* starts with '/', default "/" */
        unsigned line, col;
} RoleConfig;

/* levels: one entry of the sequence, in file order (order matters for ties). */
typedef struct LevelRuleConfig {
        char *name;                /* NULL when not given */
        WarningLevel level;        /* LEVEL_RED .. LEVEL_BLUE */
        LevelCondition cond;
        char *subject;             /* probe or site name */
        bool subject_is_site;      /* a probe name wins when both exist (as in levels.h) */
        usec_t for_duration;       /* default 0 */
        double threshold;          /* METRIC_BELOW only; NAN otherwise */
        unsigned line, col;
} LevelRuleConfig;

/* responses: what to do at a level. Strings owned; the PolicyParam strings too. */
typedef struct ResponseConfig {
        bool configured;           /* the level has an entry in `responses` */
        char **notify;             /* NULL-terminated role names; NULL = none */
        double raise_frequency;    /* 1 = leave the frequency alone (default) */
        char *playbook;            /* a playbook NAME, resolved by the daemon; NULL = none */
        PolicyParam *params;       /* names and values owned by the MonitorConfig */
        size_t n_params;
        bool auto_run;             /* default false */
        unsigned line, col;
} ResponseConfig;

typedef struct MonitorConfig {
        /* monitor.defaults (also the values probes inherit) */
        usec_t default_interval, default_timeout, default_jitter;
        unsigned default_fall, default_rise;

        VantagePoint *vantage_points;   /* besides "local", which always exists */
        size_t n_vantage_points;
        ProbeConfig *probes;
        size_t n_probes;
        LevelRuleConfig *level_rules;
        size_t n_level_rules;
        RoleConfig *roles;
        size_t n_roles;
        ResponseConfig responses[_WARNING_LEVEL_MAX]; /* indexed by WarningLevel; [LEVEL_NONE] unused */

        IncidentDeadlines deadlines;    /* incident_deadlines_default() overridden by `deadlines` */

        usec_t cooldown;                /* failover.cooldown, default POLICY_DEFAULT_COOLDOWN */
        char *active_site;              /* failover.active_site, default the first site with role
                                         * primary; NULL when there is none */
} MonitorConfig;

/* Called by config.c after every inventory section is loaded (the references are
 * checked against c). Reports every problem to diags. Writes *ret (NULL when the
 * document has none of the six sections) even when there were errors, so that
 * the caller frees whatever was built; the caller refuses the file on any error.
 * Returns 0, or -EINVAL when this part added errors. */
int monitor_config_load(const YNode *root, const Config *c, MonitorConfig **ret, DiagList *diags);
MonitorConfig *monitor_config_free(MonitorConfig *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(MonitorConfig *, monitor_config_free);

const ProbeConfig *monitor_config_find_probe(const MonitorConfig *m, const char *name);
const VantagePoint *monitor_config_find_vantage_point(const MonitorConfig *m, const char *name);
const RoleConfig *monitor_config_find_role(const MonitorConfig *m, const char *name);

/* incident_deadlines_default() overridden by `deadlines`; m may be NULL (no monitoring). */
void monitor_config_deadlines(const MonitorConfig *m, IncidentDeadlines *ret);
