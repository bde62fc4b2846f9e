/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * outcome.c — the names of run modes, run outcomes, step phases and step outcomes
 * (outcome.h). The only place in drover that spells them.
 */
#include "shared/outcome.h"
#include "shared/string-table.h"

static const char *const run_mode_table[_RUN_MODE_MAX] = {
        [RUN_MODE_LIVE] = "live",
        [RUN_MODE_DRY_RUN] = "dry-run",
        [RUN_MODE_DRILL] = "drill",
        [RUN_MODE_TABLETOP] = "tabletop",
};

static const char *const run_outcome_table[_RUN_OUTCOME_MAX] = {
        [RUN_RUNNING] = "running",
        [RUN_SUCCEEDED] = "succeeded",
        [RUN_FAILED] = "failed",
        [RUN_ABORTED] = "aborted",
        [RUN_INTERRUPTED] = "interrupted",
};

static const char *const step_outcome_table[_STEP_OUTCOME_MAX] = {
        [STEP_RUNNING] = "running",
        [STEP_OK] = "ok",
        [STEP_FAILED] = "failed",
        [STEP_ERROR] = "error",
        [STEP_TIMEOUT] = "timeout",
        [STEP_CANCELLED] = "cancelled",
        [STEP_SKIPPED] = "skipped",
        [STEP_INTERRUPTED] = "interrupted",
};

static const char *const step_phase_table[_STEP_PHASE_MAX] = {
        [STEP_PHASE_FORWARD] = "forward",
        [STEP_PHASE_ROLLBACK] = "rollback",
};

DEFINE_STRING_TABLE(run_mode, RunMode, run_mode_table)
DEFINE_STRING_TABLE(run_outcome, RunOutcome, run_outcome_table)
DEFINE_STRING_TABLE(step_outcome, StepOutcome, step_outcome_table)
DEFINE_STRING_TABLE(step_phase, StepPhase, step_phase_table)
