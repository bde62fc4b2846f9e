/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * outcome.h — the one vocabulary of runs and steps: a run's mode and outcome, a step
 * attempt's phase and outcome, each an enum with its string table (the names the journal
 * stores, the D-Bus API and the JSON outputs carry). Pure.
 *
 * Owns: the enums, their names, and the few questions every layer asks of an outcome
 * (is it final, does it count as a failure). Does not own: storage (the journal maps the
 * names to its columns and its schema's CHECK lists, which a unit test holds equal to
 * these tables), presentation (colours, report markup).
 *
 * Below the journal on purpose: the journal, the engine, the daemon, the bus, droverctl
 * and the reports all speak it, and none of them spells an outcome itself.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "shared/macros.h"

typedef enum RunMode {
        RUN_MODE_LIVE,
        RUN_MODE_DRY_RUN,
        RUN_MODE_DRILL,
        RUN_MODE_TABLETOP,
        _RUN_MODE_MAX,
        _RUN_MODE_INVALID = -EINVAL,
} RunMode;
/* "live", "dry-run", "drill", "tabletop" */
const char *run_mode_to_string(RunMode m) _pure_;
RunMode run_mode_from_string(const char *s) _pure_;

typedef enum RunOutcome {
        RUN_RUNNING,
        RUN_SUCCEEDED,
        RUN_FAILED,      /* a step failed; rollback (if any) ran */
        RUN_ABORTED,     /* cancelled by an operator (Ctrl-C, abort) */
        RUN_INTERRUPTED, /* the process died mid-run; set by journal recovery */
        _RUN_OUTCOME_MAX,
        _RUN_OUTCOME_INVALID = -EINVAL,
} RunOutcome;
/* "running", "succeeded", "failed", "aborted", "interrupted" */
const char *run_outcome_to_string(RunOutcome o) _pure_;
RunOutcome run_outcome_from_string(const char *s) _pure_;

typedef enum StepOutcome {
        STEP_RUNNING,
        STEP_OK,
        STEP_FAILED,      /* ran, but exit status / HTTP status / expect did not pass */
        STEP_ERROR,       /* could not run: connect, host key, auth, template… */
        STEP_TIMEOUT,
        STEP_CANCELLED,
        STEP_SKIPPED,     /* `when` was false */
        STEP_INTERRUPTED, /* set by journal recovery: outcome unknown */
        _STEP_OUTCOME_MAX,
        _STEP_OUTCOME_INVALID = -EINVAL,
} StepOutcome;
/* "running", "ok", "failed", "error", "timeout", "cancelled", "skipped", "interrupted" */
const char *step_outcome_to_string(StepOutcome o) _pure_;
StepOutcome step_outcome_from_string(const char *s) _pure_;

typedef enum StepPhase {
        STEP_PHASE_FORWARD,
        STEP_PHASE_ROLLBACK,
        _STEP_PHASE_MAX,
        _STEP_PHASE_INVALID = -EINVAL,
} StepPhase;
/* "forward", "rollback" */
const char *step_phase_to_string(StepPhase p) _pure_;
StepPhase step_phase_from_string(const char *s) _pure_;

/* A drill's run (live drill or tabletop), as opposed to a real one. */
static inline bool run_mode_is_drill(RunMode m)
{
        return m == RUN_MODE_DRILL || m == RUN_MODE_TABLETOP;
}

/* The run has ended (anything but RUNNING; an invalid value counts as not ended). */
static inline bool run_outcome_is_final(RunOutcome o)
{
        return o > RUN_RUNNING && o < _RUN_OUTCOME_MAX;
}

/* The run did not reach its goal: failed, aborted or interrupted. */
static inline bool run_outcome_is_bad(RunOutcome o)
{
        return o == RUN_FAILED || o == RUN_ABORTED || o == RUN_INTERRUPTED;
}

static inline bool step_outcome_is_final(StepOutcome o)
{
        return o > STEP_RUNNING && o < _STEP_OUTCOME_MAX;
}

/* The attempt did not do its work: failed, error, timeout, or interrupted (unknown).
 * Cancelled and skipped are not failures of the step itself. */
static inline bool step_outcome_is_failure(StepOutcome o)
{
        return o == STEP_FAILED || o == STEP_ERROR || o == STEP_TIMEOUT || o == STEP_INTERRUPTED;
}
