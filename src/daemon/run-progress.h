/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-progress.h — what one line of a run worker's stdout means for the ManagerRun the
 * daemon tracks. The worker is drover-worker; its lines are declared in
 * include/drover/worker-protocol.h (run-started, step-started, step-finished,
 * approval-requested, run-event, run-finished) and decoded by src/engine/worker-proto.c.
 * Pure: no I/O, no clock; the manager (manager-run.c) feeds it lines and
 * acts on the returned event (observer calls, journal, incidents). Unit-tested by
 * tests/unit/test-run-progress.c.
 */
#pragma once

#include <errno.h>

#include "daemon/manager.h"

typedef enum RunProgressKind {
        RUN_PROGRESS_NONE, /* a line that changes nothing (run-event, unknown event) */
        RUN_PROGRESS_STARTED,
        RUN_PROGRESS_STEP_STARTED,
        RUN_PROGRESS_STEP_FINISHED,
        RUN_PROGRESS_APPROVAL_REQUESTED,
        RUN_PROGRESS_FINISHED,
        _RUN_PROGRESS_KIND_MAX,
        _RUN_PROGRESS_KIND_INVALID = -EINVAL,
} RunProgressKind;
/* "none", "started", "step-started", "step-finished", "approval-requested", "finished" */
const char *run_progress_kind_to_string(RunProgressKind k);
RunProgressKind run_progress_kind_from_string(const char *s);

/* Strings borrowed from the RunProgress until the next run_progress_apply() or _done(). */
typedef struct RunProgress {
        RunProgressKind kind;
        char *step, *target, *outcome, *phase, *prompt, *playbook_kind;
} RunProgress;
void run_progress_done(RunProgress *p);

/* Applies one line to *run (id, state, current_step, steps_done/total, outcome,
 * pending_prompt) and describes it in *ret (reset first). -EBADMSG for a line that is
 * not a JSON object with a string "event", or with a known field of the wrong type
 * (nothing changes); an event this daemon does not know changes nothing (RUN_PROGRESS_NONE). A step-finished of the
 * forward phase counts the step done (the highest 1-based index seen); an approval that
 * was pending is cleared by the next step event or by the end of the run. */
int run_progress_apply(ManagerRun *run, const char *line, RunProgress *ret);
