/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine.c — runs one playbook (see engine.h for the contract).
 *
 * Owns: parameter checking, the run's scope (params, steps, targets, secrets, run,
 * host, step), expanding templates, `when`, fan-out with `parallel`, per-attempt
 * deadlines, retries with backoff, judging results against `expect`, `register`,
 * wait_for / approve / sleep / notify, on_failure, reverse-order rollback,
 * cancellation, dry runs, and masking every string before the observer sees it.
 * Does not own: any I/O (the Executor), durability (the EngineObserver), asking a
 * human (the Approver), parsing templates or conditions (playbook/).
 *
 * This file: rollback, dry runs, the run itself and construction. The scope and
 * masking live in engine-scope.c, jobs and judging in engine-jobs.c, running job
 * sets and steps in engine-step.c; they share engine-internal.h.
 *
 * Single-threaded: one loop drives the executor through submit()/wait(). The only
 * thing that may happen asynchronously is engine_request_cancel() (from a signal
 * handler), which bumps a counter and interrupts the executor's wait().
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <string.h>

#include "engine/engine-internal.h"

/* ---------------------------------------------------------------- rollback */

/* Which hosts a rollback acts on: when the rollback's hosts overlap the forward
 * step's hosts, only those where the forward step succeeded; when they are other
 * hosts altogether (undo on a different machine), all of them. NULL = no filter. */
static char **rollback_host_filter(Engine *e, const Step *fwd, const Step *rb, const StepRecord *rec)
{
        _cleanup_free_ const Host **hosts = NULL;
        _cleanup_free_ char *ignored = NULL;
        size_t n = 0;
        bool overlap = false;
        char **filter = NULL;

        if (fwd->kind != STEP_SSH || rb->kind != STEP_SSH)
                return NULL;
        if (engine_resolve_hosts(e, rb->ssh.target, &hosts, &n, &ignored) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strv_contains(rec->all_targets, hosts[i]->name))
                        overlap = true;
        if (!overlap)
                return NULL;
        for (size_t i = 0; rec->ok_targets && rec->ok_targets[i]; i++)
                strv_push(&filter, xstrdup(rec->ok_targets[i]));
        if (!filter)
                filter = xcalloc(1, sizeof(char *));
        return filter;
}

/* Issue 9: may this node act for this step? 0 yes; 1 fenced (e->fence_error set, event sent). */
static int engine_fence_check(Engine *e, const Step *step, size_t index, StepPhase phase)
{
        _cleanup_free_ char *error = NULL;
        int r;

        if (e->fence_error)
                return 1;
        if (!e->fence.step_starting)
                return 0;
        r = e->fence.step_starting(e->fence.userdata, &e->info, step, index, phase, &error);
        if (r >= 0)
                return 0;
        e->fence_error = xasprintf("step '%s' did not act: %s", step->name,
                                   error ? error : strerror(-r));
        observer_event(e, "cluster-fenced", e->fence_error);
        return 1;
}

/* Run the rollbacks after forward step `failed` stopped the run. */
static int engine_rollback(Engine *e, size_t failed, char **ret_summary)
{
        const Playbook *pb = e->playbook;
        _cleanup_strv_free_ char **failed_names = NULL;
        bool cancelled = false;
        int r;

        {
                _cleanup_free_ char *m = xasprintf("rolling back after step '%s'", pb->steps[failed].name);
                observer_event(e, "rollback-started", m);
        }

        for (ssize_t i = (ssize_t) failed; i >= 0; i--) {
                const Step *fwd = &pb->steps[i];
                StepRecord *rec = &e->records[i];
                _cleanup_strv_free_ char **filter = NULL;
                StepRun sr;

                if (!fwd->rollback || !rec->ran || strv_length(rec->ok_targets) == 0)
                        continue;
                if (engine_cancel_pending(e, 2)) {
                        cancelled = true;
                        break;
                }
                if (engine_fence_check(e, fwd->rollback, (size_t) i, STEP_PHASE_ROLLBACK) > 0)
                        break;
                filter = rollback_host_filter(e, fwd, fwd->rollback, rec);
                r = engine_exec_step(e, fwd->rollback, (size_t) i, STEP_PHASE_ROLLBACK, filter, 2, &sr);
                if (r < 0) {
                        step_run_done(&sr);
                        return r;
                }
                if (sr.outcome == STEP_CANCELLED) {
                        cancelled = true;
                        step_run_done(&sr);
                        break;
                }
                if (sr.outcome != STEP_OK && sr.outcome != STEP_SKIPPED)
                        strv_push(&failed_names, xstrdup(fwd->rollback->name));
                step_run_done(&sr);
        }

        if (e->fence_error) {
                *ret_summary = xstrdup("rollback stopped: this node was fenced");
        } else if (cancelled) {
                _cleanup_free_ char *names = strv_join(failed_names, ", ");
                *ret_summary = failed_names ? xasprintf("rollback incomplete (cancelled; failed: %s)", names)
                                            : xstrdup("rollback incomplete (cancelled)");
        } else if (failed_names) {
                _cleanup_free_ char *names = strv_join(failed_names, ", ");
                *ret_summary = xasprintf("rollback incomplete (failed: %s)", names);
        } else
                *ret_summary = NULL;

        observer_event(e, "rollback-finished", *ret_summary ? *ret_summary : "rollback complete");
        return 0;
}

/* ---------------------------------------------------------------- dry run */

static int engine_dry_run_step(Engine *e, const Step *step, size_t index, StepPhase phase)
{
        _cleanup_free_ char *when = step->when.source ? xasprintf("when: %s", step->when.source) : NULL;
        _cleanup_free_ char *detail = NULL, *error = NULL;
        char buf[FORMAT_DURATION_MAX];
        Job *jobs = NULL;
        size_t n = 0;
        int r = 0;

        switch (step->kind) {
        case STEP_SSH:
        case STEP_HTTP:
        case STEP_LOCAL:
        case STEP_NOTIFY: {
                StepEvent *evs;
                usec_t rt = engine_now_realtime(e);

                r = engine_build_jobs(e, step, NULL, &jobs, &n, &error);
                if (r < 0)
                        break;
                evs = xcalloc(n, sizeof(StepEvent));
                for (size_t i = 0; i < n; i++)
                        evs[i] = (StepEvent) {
                                .step = step,
                                .step_index = index,
                                .phase = phase,
                                .target = jobs[i].target,
                                .attempt = 1,
                                .detail = jobs[i].dry_detail,
                                .started = rt,
                                .outcome = STEP_RUNNING,
                                .exit_status = -1,
                                .out = when,
                        };
                r = observer_steps_started(e, evs, n);
                if (r >= 0) {
                        for (size_t i = 0; i < n; i++) {
                                evs[i].outcome = STEP_SKIPPED;
                                evs[i].finished = rt;
                        }
                        r = observer_steps_finished(e, evs, n);
                }
                free(evs);
                jobs_free(jobs, n);
                return r;
        }
        case STEP_WAIT_FOR: {
                const Step *check = step->wait_for.check;

                if (!check)
                        break;
                r = engine_build_jobs(e, check, NULL, &jobs, &n, &error);
                if (r < 0)
                        break;
                {
                        char buf2[FORMAT_DURATION_MAX];
                        usec_t interval = step->wait_for.interval > 0 ? step->wait_for.interval
                                                                      : PLAYBOOK_DEFAULT_WAIT_INTERVAL;

                        detail = xasprintf("wait_for %s every %s up to %s", n > 0 ? jobs[0].dry_detail : "",
                                           format_duration(buf, interval),
                                           format_duration(buf2, step_timeout(e, step)));
                }
                jobs_free(jobs, n);
                break;
        }
        case STEP_APPROVE: {
                Scope sc = { .e = e };
                _cleanup_free_ char *prompt = NULL;

                r = engine_expand(&sc, &step->approve.prompt, "prompt", &prompt, &error);
                if (r < 0)
                        break;
                /* The gate is shown, never asked. */
                detail = xasprintf("approve: %s", prompt);
                break;
        }
        case STEP_SLEEP:
                detail = xasprintf("sleep %s", format_duration(buf, step->sleep));
                break;
        default:
                break;
        }

        /* Expansion problems (say, an unreadable secret) are shown on the plan; the
         * dry run itself goes on so that the operator sees everything at once. */
        return engine_emit_now(e, step, index, phase, "-", detail, STEP_SKIPPED, when, error);
}

static int engine_run_dry(Engine *e)
{
        const Playbook *pb = e->playbook;
        int r;

        for (size_t i = 0; i < pb->n_steps; i++) {
                if (engine_cancel_pending(e, 1))
                        return 1;
                r = engine_dry_run_step(e, &pb->steps[i], i, STEP_PHASE_FORWARD);
                if (r < 0)
                        return r;
        }
        /* The rollbacks, in the order they would run if the last step failed. A cancel
         * (Ctrl-C, or a tabletop stopped at the last forward step) ends the walk here too. */
        for (size_t i = pb->n_steps; i > 0; i--) {
                const Step *s = &pb->steps[i - 1];

                if (!s->rollback)
                        continue;
                if (engine_cancel_pending(e, 1))
                        return 1;
                r = engine_dry_run_step(e, s->rollback, i - 1, STEP_PHASE_ROLLBACK);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- the run */

static char *step_failure_message(const Engine *e, const Step *s, const StepRun *sr)
{
        if (s->path)
                return xasprintf("step '%s' (%s:%u:%u) %s: %s", s->name, s->path, s->line, s->col,
                                 step_outcome_to_string(sr->outcome), strempty(sr->error));
        return xasprintf("step '%s' %s: %s", s->name, step_outcome_to_string(sr->outcome), strempty(sr->error));
}

/* What a commander answered at a resume gate. */
typedef enum ResumeVerdict {
        RESUME_RUN,  /* approve: the step runs again */
        RESUME_SKIP, /* skip: it acted, or must not; journaled skipped, the run goes on */
        RESUME_END,  /* deny, expiry, cancel: the run ends here */
} ResumeVerdict;

/* Issue 9: the step a deposed leader left in flight is not idempotent: a commander says
 * what happens to it. RESUME_SKIP sets *ret_skip_note (the step's journaled output);
 * RESUME_END sets *ret_outcome and *ret_error. */
static ResumeVerdict engine_resume_gate(Engine *e, const Step *step, RunOutcome *ret_outcome,
                                        char **ret_error, char **ret_skip_note)
{
        _cleanup_free_ char *label = NULL, *masked = engine_mask(e, e->resume.prompt ? e->resume.prompt : "");
        ApprovalAnswer ans = {};
        int r;

        observer_event(e, "approval-requested", masked);
        label = xasprintf("run %" PRIi64 " (%s)", e->info.journal_id, e->playbook->name);
        ApprovalRequest req = {
                .run_label = label,
                .step = step,
                .prompt = masked,
                .deadline = usec_add(engine_now(e), PLAYBOOK_DEFAULT_APPROVE_TIMEOUT),
                .skippable = e->resume.can_skip,
        };
        r = e->approver.ask ? e->approver.ask(e->approver.userdata, &req, &ans) : -EOPNOTSUPP;
        ans.skip = ans.skip && e->resume.can_skip;
        if (r >= 0 && (ans.approved || ans.skip) && !engine_cancel_pending(e, 1)) {
                _cleanup_free_ char *m = xasprintf("step '%s' %s: %s by %s%s%s", step->name,
                                                   ans.skip ? "is skipped, not run again" : "runs again",
                                                   ans.skip ? "decided" : "approved", strna(ans.who),
                                                   ans.comment ? ": " : "", strempty(ans.comment));
                observer_event(e, ans.skip ? "resume-skip-decided" : "resume-rerun-approved", m);
                free(ans.who);
                free(ans.comment);
                if (!ans.skip)
                        return RESUME_RUN;
                *ret_skip_note = TAKE_PTR(m);
                return RESUME_SKIP;
        }
        *ret_outcome = RUN_ABORTED;
        if (r == -ECANCELED || engine_cancel_pending(e, 1))
                *ret_error = xasprintf("cancelled by operator at the resume gate of step '%s'", step->name);
        else if (r == -ETIME)
                *ret_error = xasprintf("the resume gate of step '%s' expired: not run again", step->name);
        else if (r < 0)
                *ret_error = xasprintf("the resume gate of step '%s' failed: %s", step->name,
                                       r == -EOPNOTSUPP ? "no approver available" : strerror(-r));
        else
                *ret_error = xasprintf("step '%s' not run again: denied by %s%s%s", step->name, strna(ans.who),
                                       ans.comment ? ": " : "", strempty(ans.comment));
        observer_event(e, "resume-aborted", *ret_error);
        free(ans.who);
        free(ans.comment);
        return RESUME_END;
}

static int engine_run_live(Engine *e, RunOutcome *ret_outcome, char **ret_error)
{
        const Playbook *pb = e->playbook;
        int r;

        for (size_t i = 0; i < pb->n_steps; i++) {
                const Step *step = &pb->steps[i];
                StepRecord *rec = &e->records[i];
                StepRun sr;
                _cleanup_free_ char *msg = NULL, *rb = NULL;
                bool cancelled;

                if (engine_cancel_pending(e, 1)) {
                        /* Cancelled between steps: step i never started. */
                        observer_event(e, "cancel-requested", "cancelled before step started");
                        *ret_outcome = RUN_ABORTED;
                        if (step->on_failure == ON_FAILURE_ROLLBACK && i > 0) {
                                r = engine_rollback(e, i - 1, &rb);
                                if (r < 0)
                                        return r;
                        }
                        *ret_error = rb ? xasprintf("cancelled by operator; %s", rb)
                                        : xstrdup("cancelled by operator");
                        return 0;
                }

                if (i < e->resume.start_index) {
                        /* Done by another node before this one took the run over. */
                        rec->outcome = STEP_OK;
                        continue;
                }
                _cleanup_free_ char *skip_note = NULL;
                bool skip = false;
                if (i == e->resume.start_index && e->resume.ask) {
                        ResumeVerdict v = engine_resume_gate(e, step, ret_outcome, ret_error, &skip_note);
                        if (v == RESUME_END)
                                return 0;
                        skip = v == RESUME_SKIP;
                }
                /* A skip is fenced like an action: a deposed leader's skip does not count. */
                if (engine_fence_check(e, step, i, STEP_PHASE_FORWARD) > 0) {
                        *ret_outcome = RUN_INTERRUPTED;
                        *ret_error = xstrdup(e->fence_error);
                        return 0;
                }
                if (skip) {
                        r = engine_emit_now(e, step, i, STEP_PHASE_FORWARD, "-", NULL, STEP_SKIPPED,
                                            skip_note, NULL);
                        if (r < 0)
                                return r;
                        if (e->fence.step_ended)
                                e->fence.step_ended(e->fence.userdata, &e->info, step, i, STEP_SKIPPED);
                        rec->outcome = STEP_SKIPPED;
                        continue;
                }

                r = engine_exec_step(e, step, i, STEP_PHASE_FORWARD, NULL, 1, &sr);
                if (r < 0) {
                        step_run_done(&sr);
                        return r;
                }
                if (e->fence.step_ended)
                        e->fence.step_ended(e->fence.userdata, &e->info, step, i, sr.outcome);
                rec->outcome = sr.outcome;
                rec->ran = sr.outcome != STEP_SKIPPED && sr.all_targets;
                rec->ok_targets = TAKE_PTR(sr.ok_targets);
                rec->all_targets = TAKE_PTR(sr.all_targets);
                if (step->register_result)
                        result_values_move(&rec->values, &sr.values);

                cancelled = sr.outcome == STEP_CANCELLED || engine_cancel_pending(e, 1);
                if (cancelled) {
                        observer_event(e, "cancel-requested", "cancelled by operator");
                        *ret_outcome = RUN_ABORTED;
                        if (step->on_failure == ON_FAILURE_ROLLBACK) {
                                r = engine_rollback(e, i, &rb);
                                if (r < 0) {
                                        step_run_done(&sr);
                                        return r;
                                }
                        }
                        *ret_error = rb ? xasprintf("cancelled by operator; %s", rb)
                                        : xstrdup("cancelled by operator");
                        step_run_done(&sr);
                        return 0;
                }
                if (sr.outcome == STEP_OK || sr.outcome == STEP_SKIPPED) {
                        step_run_done(&sr);
                        continue;
                }

                msg = step_failure_message(e, step, &sr);
                step_run_done(&sr);
                switch (step->on_failure) {
                case ON_FAILURE_CONTINUE: {
                        _cleanup_free_ char *m = xasprintf("%s; continuing", msg);
                        observer_event(e, "step-failed-continue", m);
                        continue;
                }
                case ON_FAILURE_ROLLBACK:
                        r = engine_rollback(e, i, &rb);
                        if (r < 0)
                                return r;
                        *ret_outcome = e->fence_error ? RUN_INTERRUPTED : RUN_FAILED;
                        *ret_error = rb ? xasprintf("%s; %s", msg, rb) : xasprintf("%s; rolled back", msg);
                        return 0;
                default:
                        *ret_outcome = RUN_FAILED;
                        *ret_error = TAKE_PTR(msg);
                        return 0;
                }
        }
        *ret_outcome = RUN_SUCCEEDED;
        *ret_error = NULL;
        return 0;
}

int engine_run(Engine *e, RunOutcome *ret_outcome)
{
        RunOutcome outcome = RUN_SUCCEEDED;
        _cleanup_free_ char *error = NULL, *masked = NULL;
        int r;

        if (!e)
                return -EINVAL;
        if (!engine_is_plan_only(e) &&
            (!e->executor.ops || !e->executor.ops->submit || !e->executor.ops->wait ||
             !e->executor.ops->cancel_all))
                return -EINVAL;

        e->info = (RunInfo) {
                .playbook = e->playbook,
                .mode = e->mode,
                .trigger = e->trigger,
                .actor = e->actor,
                .params_json = e->params_json,
                .started = engine_now_realtime(e),
        };
        if (e->observer.run_started) {
                r = e->observer.run_started(e->observer.userdata, &e->info);
                if (r < 0)
                        return r;
        }

        if (engine_is_plan_only(e)) {
                r = engine_run_dry(e);
                if (r < 0)
                        return r;
                if (r > 0) {
                        outcome = RUN_ABORTED;
                        error = xstrdup("cancelled by operator");
                }
        } else {
                r = engine_run_live(e, &outcome, &error);
                if (r < 0)
                        return r;
        }

        masked = engine_mask(e, error);
        if (e->observer.run_finished) {
                r = e->observer.run_finished(e->observer.userdata, &e->info, outcome, masked);
                if (r < 0)
                        return r;
        }
        if (ret_outcome)
                *ret_outcome = outcome;
        return (int) outcome;
}

/* ---------------------------------------------------------------- construction */

static char *param_names_list(const Playbook *pb)
{
        StrBuf b = STRBUF_INIT;

        for (size_t i = 0; i < pb->n_params; i++)
                strbuf_printf(&b, "%s%s", i > 0 ? ", " : "", pb->params[i].name);
        if (pb->n_params == 0)
                strbuf_puts(&b, "no parameters");
        return strbuf_steal(&b);
}

static char *params_to_json(const Engine *e)
{
        const Playbook *pb = e->playbook;
        json_t *o = json_object();
        char *s, *r;

        for (size_t i = 0; i < pb->n_params; i++) {
                const Param *p = &pb->params[i];
                const char *v = e->param_values[i];
                json_t *j;

                if (!v)
                        continue;
                if (p->secret)
                        j = json_string(SECRET_MASK);
                else if (p->type == PARAM_INT)
                        j = json_integer(strtoll(v, NULL, 10));
                else if (p->type == PARAM_BOOL)
                        j = json_boolean(streq(v, "true"));
                else
                        j = json_string(v);
                if (!j) /* not UTF-8: keep the run going, say so */
                        j = json_string("<not UTF-8>");
                json_object_set_new(o, p->name, j);
        }
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        r = xstrdup(s ? s : "{}");
        free(s);
        return r;
}

int engine_new(Engine **ret, const EngineOptions *opts, char **ret_error)
{
        _cleanup_(engine_freep) Engine *e = NULL;
        const Playbook *pb;

        if (!ret || !opts || !opts->playbook || !ret_error)
                return -EINVAL;
        pb = opts->playbook;
        *ret_error = NULL;

        e = xcalloc(1, sizeof(Engine));
        e->config = opts->config;
        e->playbook = pb;
        e->mode = opts->mode;
        e->trigger = xstrdup(opts->trigger ? opts->trigger : "manual");
        e->actor = xstrdup(opts->actor ? opts->actor : "unknown");
        e->executor = opts->executor;
        e->observer = opts->observer;
        e->approver = opts->approver;
        e->fence = opts->fence;
        e->resume = opts->resume;
        e->resume.prompt = opts->resume.prompt ? xstrdup(opts->resume.prompt) : NULL;
        e->param_values = xcalloc(pb->n_params + 1, sizeof(char *));
        e->records = xcalloc(pb->n_steps + 1, sizeof(StepRecord));
        for (size_t i = 0; i < pb->n_steps; i++)
                e->records[i].values.exit_status = -1;

        for (size_t i = 0; i < opts->n_params; i++) {
                const ParamValue *pv = &opts->params[i];
                const Param *p = pv->name ? playbook_find_param(pb, pv->name) : NULL;
                _cleanup_free_ char *norm = NULL, *err = NULL;
                size_t idx;
                int r;

                if (!p) {
                        _cleanup_free_ char *names = param_names_list(pb);
                        *ret_error = xasprintf("unknown parameter '%s' (playbook has: %s)", strna(pv->name),
                                               names);
                        return -EINVAL;
                }
                idx = p - pb->params;
                if (e->param_values[idx]) {
                        *ret_error = xasprintf("parameter '%s' given more than once", p->name);
                        return -EINVAL;
                }
                r = param_check_value(p, strempty(pv->value), &norm, &err);
                if (r < 0) {
                        /* The checker may quote the value: never show a secret one. */
                        if (p->secret)
                                *ret_error = xasprintf("parameter '%s': invalid value for type %s", p->name,
                                                       strna(param_type_to_string(p->type)));
                        else
                                *ret_error = xasprintf("parameter '%s': %s", p->name,
                                                       err ? err : "invalid value");
                        return -EINVAL;
                }
                e->param_values[idx] = norm ? TAKE_PTR(norm) : xstrdup(strempty(pv->value));
        }

        for (size_t i = 0; i < pb->n_params; i++) {
                const Param *p = &pb->params[i];

                if (e->param_values[i])
                        continue;
                if (p->default_value)
                        e->param_values[i] = xstrdup(p->default_value);
                else if (p->required) {
                        *ret_error = xasprintf("missing required parameter '%s'", p->name);
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < pb->n_params; i++)
                if (pb->params[i].secret)
                        engine_add_mask(e, e->param_values[i]);

        e->params_json = params_to_json(e);
        *ret = TAKE_PTR(e);
        return 0;
}

Engine *engine_free(Engine *e)
{
        if (!e)
                return NULL;
        free(e->trigger);
        free(e->actor);
        free((char *) e->resume.prompt);
        free(e->fence_error);
        if (e->param_values && e->playbook)
                for (size_t i = 0; i < e->playbook->n_params; i++)
                        free(e->param_values[i]);
        free(e->param_values);
        free(e->params_json);
        for (size_t i = 0; i < e->n_secrets; i++) {
                /* Do not leave secret bytes lying around in freed memory. */
                explicit_bzero(e->secrets[i].value, strlen(e->secrets[i].value));
                free(e->secrets[i].value);
                free(e->secrets[i].name);
        }
        free(e->secrets);
        for (size_t i = 0; i < e->n_masks; i++) {
                explicit_bzero(e->masks[i], strlen(e->masks[i]));
                free(e->masks[i]);
        }
        free(e->masks);
        if (e->records && e->playbook)
                for (size_t i = 0; i < e->playbook->n_steps; i++) {
                        result_values_done(&e->records[i].values);
                        strv_free(e->records[i].ok_targets);
                        strv_free(e->records[i].all_targets);
                }
        free(e->records);
        free(e);
        return NULL;
}
