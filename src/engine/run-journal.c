/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-journal.c — see run-journal.h. Moved out of src/ctl/ctl-run.c unchanged in what it
 * writes, so that droverctl and drover-worker journal a run alike.
 */
#include <string.h>

#include "engine/run-journal.h"
#include "shared/log.h"
#include "shared/strbuf.h"

int run_journal_run_started(RunJournal *rj, RunInfo *info)
{
        const Playbook *p = info->playbook;
        int r;

        if (!rj->journal)
                return 0;
        RunRecord rec = {
                .playbook = p->name,
                .playbook_path = p->path,
                .playbook_sha256 = (char *) p->sha256,
                .kind = (char *) playbook_kind_to_string(p->kind),
                .params_json = (char *) info->params_json,
                .trigger = (char *) info->trigger,
                .actor = (char *) info->actor,
                .mode = info->mode,
                .started = info->started,
                .outcome = RUN_RUNNING,
        };
        r = journal_run_begin(rj->journal, &rec, &info->journal_id);
        if (r < 0)
                return log_error_errno(r, "journal: cannot record the run: %s", strerror(-r));
        rj->run_id = info->journal_id;
        if (rj->incident_id > 0) {
                _cleanup_free_ char *msg =
                        xasprintf("started for incident %lld", (long long) rj->incident_id);
                _cleanup_free_ char *data = xasprintf("{\"incident\":%lld}", (long long) rj->incident_id);
                r = journal_event(rj->journal, info->journal_id, 0, "incident-link", msg, data);
                if (r < 0)
                        log_warning_errno(r, "journal: cannot link the run to its incident: %s",
                                          strerror(-r));
        }
        return 0;
}

/* One step attempt's start or end into the journal. */
typedef int (*JournalOne)(Journal *j, const RunInfo *info, StepEvent *ev);

static int journal_one_start(Journal *j, const RunInfo *info, StepEvent *ev)
{
        StepRecord rec = {
                .run_id = info->journal_id,
                .step_index = (int) ev->step_index,
                .step_name = ev->step->name,
                .kind = (char *) step_kind_to_string(ev->step->kind),
                .phase = ev->phase,
                .target = (char *) ev->target,
                .attempt = ev->attempt,
                .idempotent = ev->step->idempotent,
                .detail = (char *) ev->detail,
                .started = ev->started,
                .outcome = STEP_RUNNING,
                .exit_status = -1,
        };
        return journal_step_begin(j, &rec, &ev->journal_id);
}

static int journal_one_end(Journal *j, const RunInfo *info, StepEvent *ev)
{
        StepRecord rec = {
                .id = ev->journal_id,
                .run_id = info->journal_id,
                .ended = ev->finished,
                .duration = ev->duration,
                .outcome = ev->outcome,
                .exit_status = ev->exit_status,
                .http_status = ev->http_status,
                .stdout_text = (char *) ev->out,
                .stderr_text = (char *) ev->err,
                .error = (char *) ev->error,
        };
        return journal_step_end(j, &rec);
}

/* The attempts that start (or end) together are one transaction: durable before the step
 * acts, and one fsync however many hosts a fan-out has. */
static int journal_steps(RunJournal *rj, const RunInfo *info, StepEvent *events, size_t n, JournalOne one,
                         const char *what)
{
        int r;

        if (!rj->journal)
                return 0;
        r = journal_begin(rj->journal);
        if (r < 0)
                return log_error_errno(r, "journal: cannot begin: %s", strerror(-r));
        for (size_t i = 0; i < n; i++) {
                r = one(rj->journal, info, &events[i]);
                if (r < 0) {
                        (void) journal_rollback(rj->journal);
                        return log_error_errno(r, "journal: cannot record step %s: %s", what, strerror(-r));
                }
        }
        r = journal_commit(rj->journal);
        if (r < 0)
                return log_error_errno(r, "journal: cannot commit step %s: %s", what, strerror(-r));
        return 0;
}

int run_journal_steps_started(RunJournal *rj, const RunInfo *info, StepEvent *events, size_t n)
{
        return journal_steps(rj, info, events, n, journal_one_start, "start");
}

static void count(RunCounts *c, const StepEvent *ev)
{
        bool rb = ev->phase == STEP_PHASE_ROLLBACK;

        if (ev->outcome == STEP_OK)
                rb ? c->rollback_ok++ : c->ok++;
        else if (ev->outcome == STEP_SKIPPED)
                c->skipped++;
        else
                rb ? c->rollback_failed++ : c->failed++;
}

int run_journal_steps_finished(RunJournal *rj, const RunInfo *info, StepEvent *events, size_t n)
{
        int r = journal_steps(rj, info, events, n, journal_one_end, "end");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                count(&rj->counts, &events[i]);
        return 0;
}

void run_journal_event(RunJournal *rj, const RunInfo *info, const char *kind, const char *message)
{
        if (!rj->journal)
                return;
        int r = journal_event(rj->journal, info->journal_id, now_usec(CLOCK_REALTIME), kind, message, NULL);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record event %s: %s", kind, strerror(-r));
}

int run_journal_run_finished(RunJournal *rj, const RunInfo *info, RunOutcome outcome, const char *error)
{
        int r;

        if (!rj->journal)
                return 0;
        r = journal_run_end(rj->journal, info->journal_id, outcome, error, now_usec(CLOCK_REALTIME));
        if (r < 0)
                return log_error_errno(r, "journal: cannot record the end of the run: %s", strerror(-r));
        return 0;
}
