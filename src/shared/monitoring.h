/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitoring.h — the words of drover.yaml's monitoring sections that every layer
 * speaks: probe kinds, the "local" vantage point, warning levels 1 red .. 4 blue,
 * level rule conditions, the per-level incident deadlines and their defaults, a
 * response's playbook parameters and the default failover cooldown. Pure.
 *
 * Owns: these enums, their string tables (monitoring.c) and the few plain structs
 * and defaults the configuration fills in. Does not own: what is done with them —
 * probing (src/monitor/prober.h), detection and levels (monitor/detector.h,
 * monitor/levels.h), incidents and the policy (src/incident). Below config on
 * purpose: config/monitor-config.c parses these words, and the modules above it use
 * them, so neither has to include the other's higher layer. The owners' headers
 * (monitor/probe-result.h, monitor/levels.h, incident/incident.h, incident/policy.h)
 * include this one, so their users need nothing new.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "shared/time-util.h"

/* The vantage point that is drover itself (DETECTOR_VANTAGE_LOCAL, PROBER_VANTAGE_LOCAL). */
#define VANTAGE_LOCAL "local"

typedef enum ProbeKind {
        PROBE_KIND_HTTP,
        PROBE_KIND_TCP,
        PROBE_KIND_SSH,
        PROBE_KIND_VENDOR_METRIC,
        _PROBE_KIND_MAX,
        _PROBE_KIND_INVALID = -EINVAL,
} ProbeKind;
/* "http", "tcp", "ssh", "vendor_metric" */
const char *probe_kind_to_string(ProbeKind k);
ProbeKind probe_kind_from_string(const char *s);

/* 1 is the most severe. LEVEL_NONE means no rule matches. Compare with
 * warning_level_more_severe(), never with `<` directly (NONE is 0). */
typedef enum WarningLevel {
        LEVEL_NONE = 0,
        LEVEL_RED = 1,
        LEVEL_ORANGE = 2,
        LEVEL_YELLOW = 3,
        LEVEL_BLUE = 4,
        _WARNING_LEVEL_MAX,
        _WARNING_LEVEL_INVALID = -EINVAL,
} WarningLevel;
/* "none", "red", "orange", "yellow", "blue" */
const char *warning_level_to_string(WarningLevel l);
/* Accepts the colour names and the digits "1".."4" ("0" = none). */
WarningLevel warning_level_from_string(const char *s);
/* True when a is strictly more severe than b (any level beats LEVEL_NONE). */
bool warning_level_more_severe(WarningLevel a, WarningLevel b);

/* What a level rule watches; the meaning of each is in monitor/levels.h. */
typedef enum LevelCondition {
        LEVEL_COND_TARGET_DOWN,
        LEVEL_COND_SITE_DOWN,
        LEVEL_COND_METRIC_BELOW,
        LEVEL_COND_LATENCY_OVER,
        LEVEL_COND_PROBE_FAILING,
        _LEVEL_COND_MAX,
        _LEVEL_COND_INVALID = -EINVAL,
} LevelCondition;
/* "target_down", "site_down", "metric_below", "latency_over", "probe_failing" */
const char *level_condition_to_string(LevelCondition c);
LevelCondition level_condition_from_string(const char *s);

/* Per level, indexed by WarningLevel ([LEVEL_NONE] is ignored). 0 = no such deadline
 * at that level. From configuration; incident_deadlines_default() gives defaults.
 * What each bound means, and what a miss does: incident/incident.h. */
typedef struct IncidentDeadlines {
        usec_t verify_within[_WARNING_LEVEL_MAX];
        usec_t locate_within[_WARNING_LEVEL_MAX];
        usec_t first_solution_within[_WARNING_LEVEL_MAX];
} IncidentDeadlines;

/* Defaults where a plan says "within X": verify 15 min at every level; red: first
 * solution within 2 h; orange: located within 4 h; yellow: checked within 8 h. */
void incident_deadlines_default(IncidentDeadlines *ret);

/* A parameter a response passes to its playbook (incident/policy.h). */
typedef struct PolicyParam {
        const char *name;
        const char *value;
} PolicyParam;

/* No automatic switchover within this of the previous one, unless failover.cooldown says otherwise. */
#define POLICY_DEFAULT_COOLDOWN (30 * USEC_PER_MINUTE)
