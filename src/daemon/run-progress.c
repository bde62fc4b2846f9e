/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-progress.c — see run-progress.h. Applies the worker's progress lines (decoded by
 * src/engine/worker-proto.c, declared in include/drover/worker-protocol.h) to ManagerRun
 * state; nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/run-progress.h"
#include "engine/worker-proto.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

static const char *const run_progress_kind_table[_RUN_PROGRESS_KIND_MAX] = {
        [RUN_PROGRESS_NONE] = "none",
        [RUN_PROGRESS_STARTED] = "started",
        [RUN_PROGRESS_STEP_STARTED] = "step-started",
        [RUN_PROGRESS_STEP_FINISHED] = "step-finished",
        [RUN_PROGRESS_APPROVAL_REQUESTED] = "approval-requested",
        [RUN_PROGRESS_FINISHED] = "finished",
};
DEFINE_STRING_TABLE(run_progress_kind, RunProgressKind, run_progress_kind_table);

void run_progress_done(RunProgress *p)
{
        free(p->step);
        free(p->target);
        free(p->outcome);
        free(p->phase);
        free(p->prompt);
        free(p->playbook_kind);
        *p = (RunProgress){};
}

static void set_str(char **p, const char *v)
{
        free(*p);
        *p = xstrdup(v);
}

int run_progress_apply(ManagerRun *run, const char *line, RunProgress *ret)
{
        _cleanup_(worker_message_done) WorkerMessage m = WORKER_MESSAGE_INIT(_WORKER_MESSAGE_TYPE_INVALID);
        RunProgress p = {};
        int r;

        r = worker_message_parse(line, &m);
        if (r == -EOPNOTSUPP) /* an event of a newer worker: changes nothing */
                m.type = _WORKER_MESSAGE_TYPE_INVALID;
        else if (r < 0)
                return r;

        switch (m.type) {
        case WORKER_MESSAGE_RUN_STARTED:
                p.kind = RUN_PROGRESS_STARTED;
                p.playbook_kind = xstrdup(m.kind);
                if (m.run > 0)
                        run->id = m.run;
                run->steps_total = m.steps;
                if (run->state == MANAGER_RUN_STARTING)
                        run->state = MANAGER_RUN_RUNNING;
                break;
        case WORKER_MESSAGE_STEP_STARTED:
        case WORKER_MESSAGE_STEP_FINISHED: {
                bool finished = m.type == WORKER_MESSAGE_STEP_FINISHED;
                p.kind = finished ? RUN_PROGRESS_STEP_FINISHED : RUN_PROGRESS_STEP_STARTED;
                p.step = xstrdup(m.step);
                p.target = xstrdup(m.target);
                p.phase = xstrdup(step_phase_to_string(m.phase));
                p.outcome = xstrdup(step_outcome_to_string(m.step_outcome));
                if (run->state != MANAGER_RUN_ENDED)
                        run->state = MANAGER_RUN_RUNNING;
                set_str(&run->pending_prompt, NULL);
                set_str(&run->current_step, finished ? NULL : p.step);
                if (finished && m.phase == STEP_PHASE_FORWARD && m.index > run->steps_done)
                        run->steps_done = m.index;
                break;
        }
        case WORKER_MESSAGE_APPROVAL_REQUESTED:
                p.kind = RUN_PROGRESS_APPROVAL_REQUESTED;
                p.step = xstrdup(m.step);
                p.prompt = xstrdup(m.prompt);
                run->state = MANAGER_RUN_WAITING_APPROVAL;
                set_str(&run->pending_prompt, p.prompt ?: "");
                run->pending_skippable = m.skippable;
                break;
        case WORKER_MESSAGE_RUN_FINISHED:
                p.kind = RUN_PROGRESS_FINISHED;
                p.outcome = xstrdup(run_outcome_to_string(m.run_outcome));
                run->state = MANAGER_RUN_ENDED;
                run->outcome = m.run_outcome;
                if (!run_outcome_is_final(run->outcome))
                        run->outcome = RUN_FAILED; /* a worker that cannot say how it ended failed */
                set_str(&run->current_step, NULL);
                set_str(&run->pending_prompt, NULL);
                break;
        default: /* run-event, or unknown */
                p.kind = RUN_PROGRESS_NONE;
                break;
        }

        run_progress_done(ret);
        *ret = p;
        return 0;
}
