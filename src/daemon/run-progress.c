/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-progress.c — see run-progress.h. Parses the worker's JSON lines (the format is
 * written by src/ctl/ctl-run.c) into ManagerRun state; nothing else.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/run-progress.h"
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

static char *dup_field(json_t *o, const char *key)
{
        return xstrdup(json_string_value(json_object_get(o, key)));
}

static void set_str(char **p, const char *v)
{
        free(*p);
        *p = xstrdup(v);
}

int run_progress_apply(ManagerRun *run, const char *line, RunProgress *ret)
{
        json_t *o;
        const char *event;
        RunProgress p = {};

        o = json_loads(line, 0, NULL);
        event = json_string_value(json_object_get(o, "event"));
        if (!json_is_object(o) || !event) {
                json_decref(o);
                return -EBADMSG;
        }

        json_int_t id = json_integer_value(json_object_get(o, "run"));
        if (streq(event, "run-started")) {
                p.kind = RUN_PROGRESS_STARTED;
                p.playbook_kind = dup_field(o, "kind");
                if (id > 0)
                        run->id = id;
                json_int_t n = json_integer_value(json_object_get(o, "steps"));
                run->steps_total = n > 0 ? (unsigned) n : 0;
                if (run->state == MANAGER_RUN_STARTING)
                        run->state = MANAGER_RUN_RUNNING;
        } else if (streq(event, "step-started") || streq(event, "step-finished")) {
                bool finished = streq(event, "step-finished");
                p.kind = finished ? RUN_PROGRESS_STEP_FINISHED : RUN_PROGRESS_STEP_STARTED;
                p.step = dup_field(o, "step");
                p.target = dup_field(o, "target");
                p.phase = dup_field(o, "phase");
                p.outcome = dup_field(o, "outcome");
                json_int_t index = json_integer_value(json_object_get(o, "index"));
                if (run->state != MANAGER_RUN_ENDED)
                        run->state = MANAGER_RUN_RUNNING;
                set_str(&run->pending_prompt, NULL);
                set_str(&run->current_step, finished ? NULL : p.step);
                if (finished && step_phase_from_string(p.phase) == STEP_PHASE_FORWARD && index > 0 &&
                    (unsigned) index > run->steps_done)
                        run->steps_done = (unsigned) index;
        } else if (streq(event, "approval-requested")) {
                p.kind = RUN_PROGRESS_APPROVAL_REQUESTED;
                p.step = dup_field(o, "step");
                p.prompt = dup_field(o, "prompt");
                run->state = MANAGER_RUN_WAITING_APPROVAL;
                set_str(&run->pending_prompt, p.prompt ?: "");
        } else if (streq(event, "run-finished")) {
                p.kind = RUN_PROGRESS_FINISHED;
                p.outcome = dup_field(o, "outcome");
                run->state = MANAGER_RUN_ENDED;
                run->outcome = run_outcome_from_string(p.outcome);
                if (!run_outcome_is_final(run->outcome))
                        run->outcome = RUN_FAILED; /* a worker that cannot say how it ended failed */
                set_str(&run->current_step, NULL);
                set_str(&run->pending_prompt, NULL);
        } else
                p.kind = RUN_PROGRESS_NONE;

        json_decref(o);
        run_progress_done(ret);
        *ret = p;
        return 0;
}
