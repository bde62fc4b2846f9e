/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine-step.c — running steps: a set of jobs with parallelism, retries with
 * backoff, per-attempt deadlines and cancellation, and one step of each kind
 * (actions, sleep, wait_for, approve) with its `when`.
 *
 * Owns: the job-set loop over the executor's submit()/wait(), step outcomes and
 * their targets. Called by engine.c (the run, rollback) through
 * engine-internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <string.h>

#include "engine/engine-internal.h"

/* ---------------------------------------------------------------- running a set of jobs */


static usec_t retry_delay(const Step *s, unsigned attempt)
{
        double backoff = s->backoff >= 1.0 ? s->backoff : 1.0;
        double d = (double) s->retry_delay * pow(backoff, (double) (attempt - 1));

        if (!(d < (double) RETRY_DELAY_MAX_USEC))
                return RETRY_DELAY_MAX_USEC;
        return (usec_t) d;
}

/* Record how an attempt ended; schedule a retry or mark the job done. Takes error. */
static void job_complete(Engine *e, JobSet *js, Job *j, StepOutcome o, char *error, const ActionResult *res)
{
        usec_t now = engine_now(e);

        free(j->ev_out);
        free(j->ev_err);
        free(j->ev_error);
        j->ev_out = res ? engine_mask(e, res->out) : NULL;
        j->ev_err = res ? engine_mask(e, res->err) : NULL;
        j->ev_error = engine_mask(e, error);
        free(error);

        j->ev.outcome = o;
        j->ev.out = j->ev_out;
        j->ev.err = j->ev_err;
        j->ev.error = j->ev_error;
        j->ev.finished = engine_now_realtime(e);
        if (res && res->finished > res->started)
                j->ev.duration = res->finished - res->started;
        else
                j->ev.duration = usec_sub_unsigned(now, j->mono_start);
        if (res && res->status == ACTION_DONE) {
                j->ev.exit_status = j->kind == ACTION_HTTP ? -1 : res->exit_status;
                j->ev.http_status = j->kind == ACTION_HTTP ? res->http_status : 0;
        }

        if (o != STEP_OK && o != STEP_CANCELLED && j->attempt <= js->retries && !js->cancelled &&
            !engine_cancel_pending(e, js->cancel_level)) {
                j->due = usec_add(now, retry_delay(js->step, j->attempt));
        } else {
                j->done = true;
                j->outcome = o;
                free(j->error);
                j->error = xstrdup(j->ev_error);
                js->n_done++;
        }
        if (!js->quiet)
                js->fin[js->n_fin++] = j->ev;
}

static Job *jobset_find_tag(JobSet *js, uint64_t tag)
{
        for (size_t i = 0; i < js->n; i++)
                if (js->jobs[i].in_flight && js->jobs[i].action.tag == tag)
                        return &js->jobs[i];
        return NULL;
}

static int jobset_flush(Engine *e, JobSet *js)
{
        int r;

        if (js->n_fin == 0)
                return 0;
        r = observer_steps_finished(e, js->fin, js->n_fin);
        js->n_fin = 0;
        return r;
}

static usec_t jobset_latest_deadline(JobSet *js)
{
        usec_t m = 0;

        for (size_t i = 0; i < js->n; i++)
                if (js->jobs[i].in_flight)
                        m = MAX(m, js->jobs[i].action.deadline);
        return m;
}

/* Cancel whatever is in flight and collect the results. report: record them as
 * STEP_CANCELLED (operator cancel); otherwise drop them (infrastructure failure). */
static int jobset_cancel(Engine *e, JobSet *js, bool report)
{
        const ExecutorOps *ops = e->executor.ops;

        js->cancelled = true;
        if (js->n_flight > 0)
                ops->cancel_all(e->executor.userdata);

        while (js->n_flight > 0) {
                /* Cancelled actions end promptly; never wait past their deadlines + grace. */
                usec_t until = usec_add(MAX(jobset_latest_deadline(js), engine_now(e)), EXECUTOR_GRACE_USEC);
                ActionResult res = { .exit_status = -1 };
                Job *j;
                int r;

                r = ops->wait(e->executor.userdata, until, &res);
                if (r == -EINTR)
                        continue;
                if (r < 0) {
                        /* The executor is not answering: give up on what is left. */
                        for (size_t i = 0; i < js->n; i++) {
                                Job *k = &js->jobs[i];

                                if (!k->in_flight)
                                        continue;
                                k->in_flight = false;
                                js->n_flight--;
                                if (report)
                                        job_complete(e, js, k, STEP_CANCELLED,
                                                     xstrdup("cancelled by operator; executor did not return"),
                                                     NULL);
                        }
                        break;
                }
                j = jobset_find_tag(js, res.tag);
                if (j) {
                        j->in_flight = false;
                        js->n_flight--;
                        if (report) {
                                /* A result that raced the cancel still counts as what it was. */
                                char *err = NULL;
                                StepOutcome o = res.status == ACTION_DONE ? engine_judge(e, js->step, j, &res, &err)
                                                                          : STEP_CANCELLED;
                                if (o != STEP_OK && o != STEP_CANCELLED) {
                                        free(err);
                                        err = NULL;
                                        o = STEP_CANCELLED;
                                }
                                if (o == STEP_CANCELLED && !err)
                                        err = xstrdup("cancelled by operator");
                                job_complete(e, js, j, o, err, &res);
                        }
                }
                action_result_done(&res);
        }

        /* Jobs that never started or were waiting for a retry end as cancelled, unreported. */
        for (size_t i = 0; i < js->n; i++) {
                Job *j = &js->jobs[i];

                if (!j->done) {
                        j->done = true;
                        j->outcome = STEP_CANCELLED;
                        free(j->error);
                        j->error = xstrdup("cancelled by operator");
                        js->n_done++;
                }
        }
        return report ? jobset_flush(e, js) : 0;
}

static int jobset_run(Engine *e, JobSet *js)
{
        const ExecutorOps *ops = e->executor.ops;
        _cleanup_free_ StepEvent *batch = xcalloc(js->n + 1, sizeof(StepEvent));
        _cleanup_free_ Job **bjobs = xcalloc(js->n + 1, sizeof(Job *));
        _cleanup_free_ StepEvent *fin = xcalloc(js->n + 1, sizeof(StepEvent));
        unsigned parallel = js->parallel > 0 ? js->parallel : PLAYBOOK_DEFAULT_PARALLEL;
        int r;

        js->fin = fin;
        js->n_fin = 0;

        while (js->n_done < js->n) {
                usec_t now = engine_now(e), until = USEC_INFINITY;
                ActionResult res = { .exit_status = -1 };
                size_t nb = 0;

                if (engine_cancel_pending(e, js->cancel_level)) {
                        r = jobset_cancel(e, js, !js->quiet);
                        js->fin = NULL;
                        return r;
                }

                /* Start every attempt that is due, up to `parallel` in flight. */
                for (size_t i = 0; i < js->n; i++) {
                        Job *j = &js->jobs[i];

                        if (j->done || j->in_flight || j->due > now)
                                continue;
                        if (js->n_flight + nb >= parallel)
                                break;
                        bjobs[nb++] = j;
                }
                if (nb > 0) {
                        usec_t rt = engine_now_realtime(e);

                        for (size_t k = 0; k < nb; k++) {
                                Job *j = bjobs[k];

                                j->attempt++;
                                j->ev = (StepEvent) {
                                        .step = js->step,
                                        .step_index = js->step_index,
                                        .phase = js->phase,
                                        .target = j->target,
                                        .attempt = j->attempt,
                                        .detail = j->detail,
                                        .started = rt,
                                        .outcome = STEP_RUNNING,
                                        .exit_status = -1,
                                };
                                batch[k] = j->ev;
                        }
                        /* Durable before anything acts: one call for the whole batch. */
                        if (!js->quiet) {
                                r = observer_steps_started(e, batch, nb);
                                if (r < 0) {
                                        (void) jobset_cancel(e, js, false);
                                        js->fin = NULL;
                                        return r;
                                }
                        }
                        for (size_t k = 0; k < nb; k++) {
                                Job *j = bjobs[k];

                                j->ev.journal_id = batch[k].journal_id;
                                j->action.tag = ++e->next_tag;
                                j->action.deadline = MIN(usec_add(now, step_timeout(e, js->step)), js->cap_deadline);
                                j->mono_start = now;
                                r = ops->submit(e->executor.userdata, &j->action);
                                if (r < 0) {
                                        job_complete(e, js, j, STEP_ERROR,
                                                     xasprintf("cannot start: %s", strerror(-r)), NULL);
                                        continue;
                                }
                                j->in_flight = true;
                                js->n_flight++;
                        }
                }
                r = jobset_flush(e, js);
                if (r < 0)
                        goto infra;
                if (js->n_done >= js->n)
                        break;

                /* Sleep until the earliest of: a retry due, an action's deadline + grace. */
                for (size_t i = 0; i < js->n; i++) {
                        Job *j = &js->jobs[i];

                        if (j->in_flight)
                                until = MIN(until, usec_add(j->action.deadline, EXECUTOR_GRACE_USEC));
                        else if (!j->done && js->n_flight < parallel)
                                until = MIN(until, j->due);
                }
                if (until == USEC_INFINITY)
                        until = usec_add(now, USEC_PER_SEC); /* defensive: never block forever */

                r = ops->wait(e->executor.userdata, until, &res);
                if (r == -EINTR)
                        continue; /* the loop head looks at the cancel counter */
                if (r == -ETIME) {
                        now = engine_now(e);
                        for (size_t i = 0; i < js->n; i++) {
                                Job *j = &js->jobs[i];

                                if (!j->in_flight || usec_add(j->action.deadline, EXECUTOR_GRACE_USEC) > now)
                                        continue;
                                j->in_flight = false;
                                js->n_flight--;
                                job_complete(e, js, j, STEP_TIMEOUT, xstrdup("executor did not return"), NULL);
                        }
                        r = jobset_flush(e, js);
                        if (r < 0)
                                goto infra;
                        continue;
                }
                if (r < 0)
                        goto infra;

                /* Drain whatever else is ready, report it in one call. */
                do {
                        Job *j = jobset_find_tag(js, res.tag);

                        if (j) {
                                char *err = NULL;
                                StepOutcome o;

                                j->in_flight = false;
                                js->n_flight--;
                                o = engine_judge(e, js->step, j, &res, &err);
                                job_complete(e, js, j, o, err, &res);
                        }
                        action_result_done(&res);
                        res = (ActionResult) { .exit_status = -1 };
                } while (ops->wait(e->executor.userdata, 0, &res) == 0);

                r = jobset_flush(e, js);
                if (r < 0)
                        goto infra;
        }
        js->fin = NULL;
        return 0;

infra:
        (void) jobset_cancel(e, js, false);
        js->fin = NULL;
        return r;
}

/* ---------------------------------------------------------------- one step */


void step_run_done(StepRun *s)
{
        free(s->error);
        strv_free(s->ok_targets);
        strv_free(s->all_targets);
        result_values_done(&s->values);
        *s = (StepRun) {};
}

static void step_run_from_jobs(Engine *e, StepRun *sr, JobSet *js)
{
        size_t n_bad = 0;
        StrBuf b = STRBUF_INIT;
        const Job *first_bad = NULL;

        sr->outcome = STEP_OK;
        for (size_t i = 0; i < js->n; i++) {
                Job *j = &js->jobs[i];

                strv_push(&sr->all_targets, xstrdup(j->target));
                if (j->outcome == STEP_OK) {
                        strv_push(&sr->ok_targets, xstrdup(j->target));
                        continue;
                }
                if (!first_bad)
                        first_bad = j;
                n_bad++;
                strbuf_printf(&b, "%s%s (%s)", n_bad > 1 ? ", " : "", j->target, strempty(j->error));
        }
        if (js->cancelled)
                sr->outcome = STEP_CANCELLED;
        else if (first_bad)
                sr->outcome = first_bad->outcome;

        if (first_bad) {
                if (js->cancelled)
                        sr->error = xstrdup("cancelled by operator");
                else if (js->n == 1)
                        sr->error = xstrdup(strempty(first_bad->error));
                else
                        sr->error = xasprintf("failed on %zu of %zu targets: %s", n_bad, js->n, strbuf_str(&b));
        }
        strbuf_done(&b);
        if (js->n == 1)
                result_values_move(&sr->values, &js->jobs[0].values);
        (void) e;
}

static unsigned step_parallel(const Step *s)
{
        return s->kind == STEP_SSH ? s->ssh.parallel : 1;
}

static int engine_exec_jobs_step(Engine *e, const Step *step, size_t index, StepPhase phase,
                                 char *const *host_filter, int cancel_level, StepRun *sr)
{
        Job *jobs = NULL;
        size_t n = 0;
        char *error = NULL;
        JobSet js;
        int r;

        r = engine_build_jobs(e, step, host_filter, &jobs, &n, &error);
        if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = engine_mask(e, error);
                free(error);
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }
        if (n == 0) {
                /* A rollback whose forward step succeeded nowhere it applies. */
                sr->outcome = STEP_SKIPPED;
                jobs_free(jobs, n);
                return 0;
        }
        js = (JobSet) {
                .step = step,
                .step_index = index,
                .phase = phase,
                .jobs = jobs,
                .n = n,
                .parallel = step_parallel(step),
                .retries = step->retries,
                .cancel_level = cancel_level,
                .cap_deadline = USEC_INFINITY,
        };
        r = jobset_run(e, &js);
        if (r >= 0)
                step_run_from_jobs(e, sr, &js);
        jobs_free(jobs, n);
        return r;
}

/* Sleep on the executor's clock with nothing in flight. */
static int engine_sleep_until(Engine *e, usec_t until, int cancel_level, bool *ret_cancelled)
{
        const ExecutorOps *ops = e->executor.ops;

        *ret_cancelled = false;
        for (;;) {
                ActionResult res = { .exit_status = -1 };
                int r;

                if (engine_cancel_pending(e, cancel_level)) {
                        *ret_cancelled = true;
                        return 0;
                }
                if (engine_now(e) >= until)
                        return 0;
                r = ops->wait(e->executor.userdata, until, &res);
                if (r == 0) {
                        action_result_done(&res); /* a straggler we already gave up on */
                        continue;
                }
                if (r == -ETIME || r == -EINTR)
                        continue;
                return r;
        }
}

static int engine_exec_sleep(Engine *e, const Step *step, size_t index, StepPhase phase, int cancel_level,
                             StepRun *sr)
{
        char buf[FORMAT_DURATION_MAX];
        _cleanup_free_ char *detail = xasprintf("sleep %s", format_duration(buf, step->sleep));
        SingleEvent s;
        bool cancelled;
        int r;

        single_event_init(e, &s, step, index, phase, "-", detail);
        r = single_event_start(e, &s);
        if (r < 0)
                goto finish;
        r = engine_sleep_until(e, usec_add(engine_now(e), step->sleep), cancel_level, &cancelled);
        if (r < 0)
                goto finish;
        sr->outcome = cancelled ? STEP_CANCELLED : STEP_OK;
        if (cancelled)
                sr->error = xstrdup("cancelled by operator");
        strv_push(&sr->ok_targets, xstrdup("-"));
        strv_push(&sr->all_targets, xstrdup("-"));
        r = single_event_finish(e, &s, sr->outcome, NULL, sr->error);
finish:
        single_event_done(&s);
        return r;
}

static int engine_exec_wait_for(Engine *e, const Step *step, size_t index, StepPhase phase, int cancel_level,
                                StepRun *sr)
{
        const Step *check = step->wait_for.check;
        usec_t interval = step->wait_for.interval > 0 ? step->wait_for.interval : PLAYBOOK_DEFAULT_WAIT_INTERVAL;
        usec_t deadline = usec_add(engine_now(e), step_timeout(e, step));
        _cleanup_free_ char *last_error = NULL, *detail = NULL, *target = NULL;
        char buf[FORMAT_DURATION_MAX], buf2[FORMAT_DURATION_MAX];
        SingleEvent s = {};
        unsigned k = 0;
        int r = 0;

        if (!check) {
                sr->outcome = STEP_ERROR;
                sr->error = xstrdup("wait_for has no check");
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }

        for (;;) {
                Job *jobs = NULL;
                size_t n = 0;
                char *error = NULL;
                JobSet js;
                bool all_ok = true, cancelled = false;
                usec_t next;

                r = engine_build_jobs(e, check, NULL, &jobs, &n, &error);
                if (r < 0) {
                        sr->outcome = STEP_ERROR;
                        sr->error = engine_mask(e, error);
                        free(error);
                        if (k == 0)
                                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL,
                                                       sr->error);
                        r = single_event_finish(e, &s, STEP_ERROR, NULL, sr->error);
                        goto finish;
                }
                if (k == 0) {
                        /* One event for the whole wait. */
                        target = xstrdup(n == 1 ? jobs[0].target : strna(check->ssh.target));
                        detail = xasprintf("wait_for %s every %s up to %s", n > 0 ? jobs[0].detail : "",
                                           format_duration(buf, interval),
                                           format_duration(buf2, step_timeout(e, step)));
                        single_event_init(e, &s, step, index, phase, target, detail);
                        r = single_event_start(e, &s);
                        if (r < 0) {
                                jobs_free(jobs, n);
                                goto finish;
                        }
                }
                k++;

                js = (JobSet) {
                        .step = check,
                        .step_index = index,
                        .phase = phase,
                        .jobs = jobs,
                        .n = n,
                        .parallel = step_parallel(check),
                        .retries = 0,
                        .quiet = true,
                        .cancel_level = cancel_level,
                        .cap_deadline = deadline,
                };
                r = jobset_run(e, &js);
                if (r < 0) {
                        jobs_free(jobs, n);
                        goto finish;
                }
                for (size_t i = 0; i < n; i++)
                        if (jobs[i].outcome != STEP_OK) {
                                all_ok = false;
                                free(last_error);
                                last_error = n == 1 ? xstrdup(strempty(jobs[i].error))
                                                    : xasprintf("%s: %s", jobs[i].target, strempty(jobs[i].error));
                        }
                if (n == 1)
                        result_values_move(&sr->values, &jobs[0].values);
                for (size_t i = 0; i < n; i++)
                        strv_push(&sr->all_targets, xstrdup(jobs[i].target));
                if (js.cancelled) {
                        jobs_free(jobs, n);
                        sr->outcome = STEP_CANCELLED;
                        sr->error = xstrdup("cancelled by operator");
                        r = single_event_finish(e, &s, STEP_CANCELLED, NULL, sr->error);
                        goto finish;
                }
                if (all_ok) {
                        _cleanup_free_ char *out = xasprintf("passed after %u check%s", k, k == 1 ? "" : "s");

                        for (size_t i = 0; i < n; i++)
                                strv_push(&sr->ok_targets, xstrdup(jobs[i].target));
                        jobs_free(jobs, n);
                        sr->outcome = STEP_OK;
                        r = single_event_finish(e, &s, STEP_OK, out, NULL);
                        goto finish;
                }
                jobs_free(jobs, n);
                strv_free(sr->all_targets);
                sr->all_targets = NULL;

                next = usec_add(engine_now(e), interval);
                if (next >= deadline) {
                        sr->outcome = STEP_TIMEOUT;
                        sr->error = xasprintf("not ready after %u check%s in %s: %s", k, k == 1 ? "" : "s",
                                              format_duration(buf, step_timeout(e, step)),
                                              strempty(last_error));
                        _cleanup_free_ char *m = engine_mask(e, sr->error);
                        free(sr->error);
                        sr->error = TAKE_PTR(m);
                        r = single_event_finish(e, &s, STEP_TIMEOUT, NULL, sr->error);
                        goto finish;
                }
                r = engine_sleep_until(e, next, cancel_level, &cancelled);
                if (r < 0)
                        goto finish;
                if (cancelled) {
                        sr->outcome = STEP_CANCELLED;
                        sr->error = xstrdup("cancelled by operator");
                        r = single_event_finish(e, &s, STEP_CANCELLED, NULL, sr->error);
                        goto finish;
                }
        }
finish:
        single_event_done(&s);
        return r;
}

static int engine_exec_approve(Engine *e, const Step *step, size_t index, StepPhase phase, StepRun *sr)
{
        Scope sc = { .e = e };
        _cleanup_free_ char *prompt = NULL, *masked = NULL, *error = NULL, *label = NULL, *out = NULL;
        usec_t timeout = step->approve.timeout > 0 ? step->approve.timeout : PLAYBOOK_DEFAULT_APPROVE_TIMEOUT;
        ApprovalAnswer ans = {};
        ApprovalRequest req;
        SingleEvent s;
        int r;

        r = engine_expand(&sc, &step->approve.prompt, "prompt", &prompt, &error);
        if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = engine_mask(e, error);
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }
        masked = engine_mask(e, prompt);
        observer_event(e, "approval-requested", masked);

        single_event_init(e, &s, step, index, phase, "-", masked);
        r = single_event_start(e, &s);
        if (r < 0)
                goto finish;

        label = xasprintf("run %" PRIi64 " (%s)", e->info.journal_id, e->playbook->name);
        req = (ApprovalRequest) {
                .run_label = label,
                .step = step,
                .prompt = masked,
                .deadline = usec_add(engine_now(e), timeout),
        };
        if (!e->approver.ask)
                r = -EOPNOTSUPP;
        else
                r = e->approver.ask(e->approver.userdata, &req, &ans);

        if (r == -ECANCELED || engine_cancel_pending(e, 1)) {
                /* Cancelling at the gate is an operator cancel of the run. */
                if (e->cancel_requests < 1)
                        e->cancel_requests = 1;
                sr->outcome = STEP_CANCELLED;
                sr->error = xstrdup("cancelled by operator");
        } else if (r == -ETIME) {
                sr->outcome = STEP_TIMEOUT;
                sr->error = xstrdup("approval expired");
        } else if (r == -EOPNOTSUPP) {
                sr->outcome = STEP_ERROR;
                sr->error = xstrdup("no approver available for this run");
        } else if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = xasprintf("approval failed: %s", strerror(-r));
        } else if (ans.approved) {
                char ts[FORMAT_TIMESTAMP_MAX];

                sr->outcome = STEP_OK;
                out = xasprintf("approved by %s at %s%s%s", strna(ans.who),
                                format_timestamp(ts, engine_now_realtime(e)), ans.comment ? ": " : "",
                                strempty(ans.comment));
                strv_push(&sr->ok_targets, xstrdup("-"));
        } else {
                sr->outcome = STEP_FAILED;
                sr->error = xasprintf("denied by %s%s%s", strna(ans.who), ans.comment ? ": " : "",
                                      strempty(ans.comment));
        }
        strv_push(&sr->all_targets, xstrdup("-"));
        free(ans.who);
        free(ans.comment);
        r = single_event_finish(e, &s, sr->outcome, out, sr->error);
finish:
        single_event_done(&s);
        return r;
}

/* Evaluate `when`: returns 1 to run, 0 when skipped (event emitted), <0 infra error;
 * on a condition error fills sr (STEP_ERROR, event emitted) and returns 0. */
static int engine_check_when(Engine *e, const Step *step, size_t index, StepPhase phase, StepRun *sr)
{
        Scope sc = { .e = e };
        _cleanup_free_ char *error = NULL, *out = NULL;
        bool ok = false;
        int r;

        if (!step->when.source)
                return 1;
        r = engine_eval(&sc, &step->when, "when", &ok, &error);
        if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = engine_mask(e, error);
                r = engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
                return r < 0 ? r : 0;
        }
        if (ok)
                return 1;
        sr->outcome = STEP_SKIPPED;
        out = xasprintf("when: %s is false", step->when.source);
        r = engine_emit_now(e, step, index, phase, "-", NULL, STEP_SKIPPED, out, NULL);
        return r < 0 ? r : 0;
}

int engine_exec_step(Engine *e, const Step *step, size_t index, StepPhase phase, char *const *host_filter,
                            int cancel_level, StepRun *sr)
{
        int r;

        *sr = (StepRun) { .values.exit_status = -1 };
        r = engine_check_when(e, step, index, phase, sr);
        if (r <= 0)
                return r;

        switch (step->kind) {
        case STEP_SSH:
        case STEP_HTTP:
        case STEP_LOCAL:
        case STEP_NOTIFY:
                return engine_exec_jobs_step(e, step, index, phase, host_filter, cancel_level, sr);
        case STEP_WAIT_FOR:
                return engine_exec_wait_for(e, step, index, phase, cancel_level, sr);
        case STEP_APPROVE:
                return engine_exec_approve(e, step, index, phase, sr);
        case STEP_SLEEP:
                return engine_exec_sleep(e, step, index, phase, cancel_level, sr);
        default:
                sr->outcome = STEP_ERROR;
                sr->error = xstrdup("unknown step kind");
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }
}
