/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitoring.c — the names of probe kinds, warning levels and level conditions, and
 * the default incident deadlines (monitoring.h). Owns nothing else. Called by config
 * loading, the monitor, incidents, the policy and reports.
 */
#include "shared/monitoring.h"
#include "shared/macros.h"
#include "shared/string-table.h"

static const char *const probe_kind_table[_PROBE_KIND_MAX] = {
        [PROBE_KIND_HTTP] = "http",
        [PROBE_KIND_TCP] = "tcp",
        [PROBE_KIND_SSH] = "ssh",
        [PROBE_KIND_VENDOR_METRIC] = "vendor_metric",
};

static const char *const warning_level_table[_WARNING_LEVEL_MAX] = {
        [LEVEL_NONE] = "none",
        [LEVEL_RED] = "red",
        [LEVEL_ORANGE] = "orange",
        [LEVEL_YELLOW] = "yellow",
        [LEVEL_BLUE] = "blue",
};

static const char *const level_condition_table[_LEVEL_COND_MAX] = {
        [LEVEL_COND_TARGET_DOWN] = "target_down",
        [LEVEL_COND_SITE_DOWN] = "site_down",
        [LEVEL_COND_METRIC_BELOW] = "metric_below",
        [LEVEL_COND_LATENCY_OVER] = "latency_over",
        [LEVEL_COND_PROBE_FAILING] = "probe_failing",
};

DEFINE_STRING_TABLE(probe_kind, ProbeKind, probe_kind_table)
DEFINE_STRING_TABLE(level_condition, LevelCondition, level_condition_table)

const char *warning_level_to_string(WarningLevel l)
{
        return string_table_get(warning_level_table, ELEMENTSOF(warning_level_table), (int) l);
}

WarningLevel warning_level_from_string(const char *s)
{
        /* Config files may say "level: 1" as readily as "level: red". */
        if (s && s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
                return (WarningLevel) (s[0] - '0');
        return (WarningLevel) string_table_lookup(warning_level_table, ELEMENTSOF(warning_level_table), s);
}

bool warning_level_more_severe(WarningLevel a, WarningLevel b)
{
        if (a <= LEVEL_NONE || a >= _WARNING_LEVEL_MAX)
                return false;
        if (b <= LEVEL_NONE || b >= _WARNING_LEVEL_MAX)
                return true;
        return a < b;
}

void incident_deadlines_default(IncidentDeadlines *ret)
{
        *ret = (IncidentDeadlines) {};
        for (WarningLevel l = LEVEL_RED; l <= LEVEL_BLUE; l++)
                ret->verify_within[l] = 15 * USEC_PER_MINUTE;
        ret->first_solution_within[LEVEL_RED] = 2 * USEC_PER_HOUR;
        ret->locate_within[LEVEL_ORANGE] = 4 * USEC_PER_HOUR;
        ret->locate_within[LEVEL_YELLOW] = 8 * USEC_PER_HOUR;
}
