/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe-result.c — string tables for the monitor's data enums (probe-result.h).
 * Owns nothing else. Called by the detector, the level evaluator, config
 * loading and reports.
 */
#include <stdlib.h>
#include <string.h>

#include "monitor/probe-result.h"
#include "shared/macros.h"
#include "shared/string-table.h"

static const char *const probe_kind_table[_PROBE_KIND_MAX] = {
        [PROBE_KIND_HTTP] = "http",
        [PROBE_KIND_TCP] = "tcp",
        [PROBE_KIND_SSH] = "ssh",
        [PROBE_KIND_VENDOR_METRIC] = "vendor_metric",
};

static const char *const probe_outcome_table[_PROBE_OUTCOME_MAX] = {
        [PROBE_OK] = "ok",
        [PROBE_FAIL] = "fail",
        [PROBE_TIMEOUT] = "timeout",
        [PROBE_SLOW] = "slow",
        [PROBE_UNAVAILABLE] = "unavailable",
};

static const char *const health_table[_HEALTH_MAX] = {
        [HEALTH_UNKNOWN] = "unknown",
        [HEALTH_UP] = "up",
        [HEALTH_DEGRADED] = "degraded",
        [HEALTH_DOWN] = "down",
};

static const char *const warning_level_table[_WARNING_LEVEL_MAX] = {
        [LEVEL_NONE] = "none",
        [LEVEL_RED] = "red",
        [LEVEL_ORANGE] = "orange",
        [LEVEL_YELLOW] = "yellow",
        [LEVEL_BLUE] = "blue",
};

DEFINE_STRING_TABLE(probe_kind, ProbeKind, probe_kind_table)
DEFINE_STRING_TABLE(probe_outcome, ProbeOutcome, probe_outcome_table)
DEFINE_STRING_TABLE(health, Health, health_table)

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
