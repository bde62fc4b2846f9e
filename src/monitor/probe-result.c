/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe-result.c — string tables for the monitor's data enums (probe-result.h);
 * probe kinds and warning levels are in shared/monitoring.c.
 * Owns nothing else. Called by the detector, the level evaluator, config
 * loading and reports.
 */
#include <stdlib.h>
#include <string.h>

#include "monitor/probe-result.h"
#include "shared/macros.h"
#include "shared/string-table.h"

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

DEFINE_STRING_TABLE(probe_outcome, ProbeOutcome, probe_outcome_table)
DEFINE_STRING_TABLE(health, Health, health_table)
