/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-cluster.c — see run-cluster.h. The record's step is one per forward step and attempt
 * number of the record (not per retry or target: the engine's retries and fan-out happen
 * inside one fenced start); a resumed re-run is the record's next attempt.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "cluster/runrec.h"
#include "config/config.h"
#include "engine/run-cluster.h"
#include "shared/log.h"
#include "shared/strbuf.h"

struct RunCluster {
        EtcdClient *client;
        Fence fence;
        char *node;
        RunRecord *rec;      /* loaded (resume) or built at the first step (new run) */
        bool resumed, begun; /* begun: the record is ours in etcd (begun or adopted) */
        ResumePlan plan;     /* resume: from rec */
        char *prompt;
        /* the step in flight */
        size_t cur_index;
        unsigned cur_attempt;
        usec_t cur_started;
        bool cur_recorded;
};

int run_cluster_new(RunCluster **ret, const ClusterConfig *cfg, uint64_t epoch)
{
        RunCluster *c;
        int r;

        if (!ret || !cfg || epoch == 0)
                return -EINVAL;
        c = xcalloc(1, sizeof(RunCluster));
        r = etcd_client_new_from_config(&c->client, cfg);
        if (r < 0) {
                free(c);
                return r;
        }
        c->node = xstrdup(cfg->node);
        fence_init_from_config(&c->fence, c->client, cfg, epoch);
        c->fence.node = c->node;
        c->fence.prefix = cfg->prefix; /* the config outlives the run */
        *ret = c;
        return 0;
}

RunCluster *run_cluster_free(RunCluster *c)
{
        if (!c)
                return NULL;
        runrec_free(c->rec);
        etcd_client_free(c->client);
        free(c->node);
        free(c->prompt);
        free(c);
        return NULL;
}

const char *run_cluster_id(const RunCluster *c)
{
        return c && c->rec ? c->rec->id : NULL;
}

/* ---------------------------------------------------------------- outcomes (pure) */

StepOutcome run_cluster_outcome_from_record(int o)
{
        switch (o) {
        case STEPREC_OK:
                return STEP_OK;
        case STEPREC_FAILED:
                return STEP_FAILED;
        case STEPREC_TIMEOUT:
                return STEP_TIMEOUT;
        case STEPREC_SKIPPED:
                return STEP_SKIPPED;
        default: /* running: its node was lost while it ran, outcome unknown */
                return STEP_INTERRUPTED;
        }
}

int run_cluster_outcome_to_record(StepOutcome o)
{
        switch (o) {
        case STEP_OK:
                return STEPREC_OK;
        case STEP_SKIPPED:
                return STEPREC_SKIPPED;
        case STEP_TIMEOUT:
                return STEPREC_TIMEOUT;
        case STEP_RUNNING:
                return STEPREC_RUNNING;
        default:
                return STEPREC_FAILED;
        }
}

/* ---------------------------------------------------------------- resume */

int run_cluster_load(RunCluster *c, const char *id, char **ret_error)
{
        RunRecord *rec = NULL;
        int r;

        r = runrec_read(c->client, c->fence.prefix, id, c->fence.timeout, &rec);
        if (r == -ENOENT) {
                *ret_error = xasprintf("no run '%s' in the cluster's run record", id);
                return r;
        }
        if (r < 0) {
                *ret_error = xasprintf("cannot read run '%s' from etcd: %s", id, strerror(-r));
                return r;
        }
        if (rec->state != RUNREC_RUNNING && rec->state != RUNREC_FENCED) {
                *ret_error = xasprintf("run '%s' has already finished (%s)", id,
                                       strna(runrec_state_to_string(rec->state)));
                runrec_free(rec);
                return -EALREADY;
        }
        runrec_free(c->rec);
        c->rec = rec;
        c->resumed = true;
        runrec_resume_plan(rec, &c->plan);
        return 0;
}

const char *run_cluster_playbook(const RunCluster *c)
{
        return c->rec ? c->rec->playbook : NULL;
}

int run_cluster_params(const RunCluster *c, const Playbook *pb, ParamValue **ret, size_t *ret_n)
{
        ParamValue *params = NULL;
        size_t n = 0;
        json_t *o, *v;
        const char *name;

        *ret = NULL;
        *ret_n = 0;
        if (!c->rec || !c->rec->params_json)
                return 0;
        o = json_loads(c->rec->params_json, 0, NULL);
        if (!json_is_object(o)) {
                json_decref(o);
                return -EBADMSG;
        }
        json_object_foreach(o, name, v)
        {
                const Param *p = playbook_find_param(pb, name);
                char *value;

                if (!p || p->secret) /* masked in the record: never a value */
                        continue;
                if (json_is_string(v))
                        value = xstrdup(json_string_value(v));
                else if (json_is_integer(v))
                        value = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
                else if (json_is_boolean(v))
                        value = xstrdup(json_is_true(v) ? "true" : "false");
                else
                        continue;
                ParamValue *pv = array_push(&params, &n, sizeof(ParamValue));
                pv->name = xstrdup(name);
                pv->value = value;
        }
        json_decref(o);
        *ret = params;
        *ret_n = n;
        return 0;
}

/* The furthest attempt the record reached (by index, then attempt), as runrec_resume_plan(). */
static const StepRecord *last_record(const RunRecord *rec)
{
        const StepRecord *last = NULL;

        for (size_t i = 0; i < rec->n_steps; i++)
                if (!last || rec->steps[i].index > last->index ||
                    (rec->steps[i].index == last->index && rec->steps[i].attempt > last->attempt))
                        last = &rec->steps[i];
        return last;
}

/* The last recorded step failed and its playbook step stops the run on failure. */
static bool last_failed_stop(const RunRecord *rec, const Playbook *pb)
{
        const StepRecord *last = last_record(rec);

        return last && (last->outcome == STEPREC_FAILED || last->outcome == STEPREC_TIMEOUT) &&
               last->index < pb->n_steps && pb->steps[last->index].on_failure != ON_FAILURE_CONTINUE;
}

int run_cluster_resume_decide(const RunRecord *rec, const Playbook *pb, EngineResume *ret, char **ret_prompt,
                              char **ret_summary, char **ret_error)
{
        ResumePlan plan;
        size_t n_done = 0;
        const Step *next;

        *ret_prompt = *ret_summary = *ret_error = NULL;
        runrec_resume_plan(rec, &plan);
        for (size_t i = 0; i < rec->n_steps; i++) {
                const StepRecord *s = &rec->steps[i];
                if (s->index >= pb->n_steps || !streq_ptr(s->name, pb->steps[s->index].name)) {
                        *ret_error = xasprintf("the run record's step %u is '%s', the playbook's is '%s': "
                                               "the playbook changed since the run started; not resumed",
                                               s->index + 1, strna(s->name),
                                               s->index < pb->n_steps ? pb->steps[s->index].name : "(none)");
                        return -EINVAL;
                }
                if (s->outcome != STEPREC_RUNNING)
                        n_done++;
        }
        if (plan.next_index > pb->n_steps) {
                *ret_error = xstrdup("the run record goes past the playbook's last step; not resumed");
                return -EINVAL;
        }
        *ret = (EngineResume){.start_index = plan.next_index};
        if (plan.next_index == pb->n_steps) {
                *ret_summary = xasprintf("every step was done (%zu recorded); nothing left to run", n_done);
                return 0;
        }
        next = &pb->steps[plan.next_index];
        if (!plan.in_flight && last_failed_stop(rec, pb)) {
                /* The run stopped at a failed step, but its end never reached the record (its
                 * node lost the lead in between): going on is not this node's call. */
                const StepRecord *last = last_record(rec);
                const Step *failed = &pb->steps[last->index];
                ret->ask = true;
                *ret_prompt = xasprintf(
                        "Step '%s' failed on node %s (epoch %" PRIu64 ") and the run stopped there "
                        "(on_failure: %s), but its end was never recorded. Go on with step '%s'? "
                        "(approve: go on; deny: abort the run)",
                        failed->name, strna(last->node), last->epoch,
                        strna(on_failure_to_string(failed->on_failure)), next->name);
                *ret_summary = xasprintf(
                        "%zu step attempt(s) done elsewhere; step %u '%s' failed there and the run "
                        "stopped: a commander decides whether step '%s' runs",
                        n_done, last->index + 1, failed->name, next->name);
                return 0;
        }
        if (!plan.in_flight) {
                *ret_summary = xasprintf("%zu step attempt(s) done elsewhere; going on at step %u '%s'",
                                         n_done, plan.next_index + 1, next->name);
                return 0;
        }
        if (next->idempotent) {
                *ret_summary =
                        xasprintf("%zu step attempt(s) done elsewhere; step %u '%s' was in flight on %s "
                                  "and is idempotent: it runs again",
                                  n_done, plan.next_index + 1, next->name, strna(plan.in_flight->node));
                return 0;
        }
        ret->ask = true;
        ret->can_skip = true;
        *ret_prompt =
                xasprintf("Step '%s' was in flight on node %s (epoch %" PRIu64 ") when it lost the lead, "
                          "and it is not idempotent: it may have acted. Run it again? (approve: run it "
                          "again; skip: it is done or must not run, go on with the next step; deny: abort "
                          "the run)",
                          next->name, strna(plan.in_flight->node), plan.in_flight->epoch);
        *ret_summary =
                xasprintf("%zu step attempt(s) done elsewhere; step %u '%s' was in flight on %s and is "
                          "not idempotent: a commander decides whether it runs again",
                          n_done, plan.next_index + 1, next->name, strna(plan.in_flight->node));
        return 0;
}

int run_cluster_resume(RunCluster *c, const Playbook *pb, EngineResume *ret, char **ret_summary,
                       char **ret_error)
{
        char *prompt = NULL;
        int r;

        if (!c->rec)
                return -EINVAL;
        r = run_cluster_resume_decide(c->rec, pb, ret, &prompt, ret_summary, ret_error);
        if (r < 0)
                return r;
        free(c->prompt);
        c->prompt = prompt;
        ret->prompt = c->prompt;
        return 0;
}

size_t run_cluster_n_prior(const RunCluster *c)
{
        return c->resumed && c->rec ? c->rec->n_steps : 0;
}

void run_cluster_prior(const RunCluster *c, size_t i, PriorStep *ret)
{
        const StepRecord *s = &c->rec->steps[i];

        *ret = (PriorStep){
                .index = s->index,
                .name = s->name,
                .attempt = s->attempt,
                .node = s->node,
                .epoch = s->epoch,
                .outcome = run_cluster_outcome_from_record(s->outcome),
                .started = s->started,
                .ended = s->ended,
        };
}

/* ---------------------------------------------------------------- the fence */

static char *fence_refusal(int r, const FenceHolder *h, const RunCluster *c)
{
        if (r == -ESTALE)
                return h->leader
                               ? xasprintf("fenced: %s leads in epoch %" PRIu64
                                           ", this node (%s) led in epoch "
                                           "%" PRIu64,
                                           h->leader, h->epoch, c->node, c->fence.epoch)
                               : xasprintf("fenced: no node leads now; this node (%s) led in epoch %" PRIu64,
                                           c->node, c->fence.epoch);
        return xasprintf("fenced: etcd not reached (%s); no step acts without the fence", strerror(-r));
}

/* The record becomes ours: a new run's meta, or a resumed run adopted. Fenced. */
static int ensure_begun(RunCluster *c, const RunInfo *info)
{
        int r;

        if (c->begun)
                return 0;
        if (!c->rec) {
                RunRecord *rec = xcalloc(1, sizeof(RunRecord));
                rec->id = runrec_make_id(c->fence.epoch, c->node, info->journal_id);
                rec->playbook = xstrdup(info->playbook->name);
                rec->params_json = xstrdup(info->params_json ? info->params_json : "{}");
                rec->trigger = xstrdup(strempty(info->trigger));
                rec->actor = xstrdup(strempty(info->actor));
                rec->node = xstrdup(c->node);
                rec->epoch = c->fence.epoch;
                rec->started_by = xstrdup(c->node);
                rec->local_id = info->journal_id;
                rec->state = RUNREC_RUNNING;
                rec->started = info->started;
                c->rec = rec;
                r = runrec_begin(&c->fence, rec);
        } else
                r = runrec_adopt(&c->fence, c->rec);
        if (r < 0)
                return r;
        c->begun = true;
        return 0;
}

static int fence_step_starting(void *userdata, const RunInfo *info, const Step *step, size_t index,
                               StepPhase phase, char **ret_error)
{
        RunCluster *c = userdata;
        _cleanup_(fence_holder_done) FenceHolder h = {};
        int r;

        r = ensure_begun(c, info);
        if (r < 0)
                goto refused;
        if (phase == STEP_PHASE_ROLLBACK) {
                r = fence_txn(&c->fence, NULL, 0, &h);
                if (r < 0)
                        goto refused;
                return 0;
        }
        c->cur_index = index;
        c->cur_attempt =
                c->resumed && c->plan.in_flight && index == c->plan.next_index ? c->plan.next_attempt : 1;
        c->cur_started = now_usec(CLOCK_REALTIME);
        StepRecord s = {
                .index = (unsigned) index,
                .name = (char *) step->name,
                .attempt = c->cur_attempt,
                .node = c->node,
                .epoch = c->fence.epoch,
                .idempotent = step->idempotent,
                .outcome = STEPREC_RUNNING,
                .started = c->cur_started,
        };
        r = runrec_step_start(&c->fence, c->rec->id, &s);
        if (r < 0)
                goto refused;
        c->cur_recorded = true;
        return 0;
refused:
        /* runrec's writes do not say who leads: ask once more, only on this path. */
        if (r == -ESTALE && !h.leader)
                (void) fence_txn(&c->fence, NULL, 0, &h);
        *ret_error = fence_refusal(r, &h, c);
        return r;
}

static void fence_step_ended(void *userdata, const RunInfo *info, const Step *step, size_t index,
                             StepOutcome outcome)
{
        RunCluster *c = userdata;
        int r;

        if (!c->cur_recorded || c->cur_index != index)
                return;
        c->cur_recorded = false;
        StepRecord s = {
                .index = (unsigned) index,
                .name = (char *) step->name,
                .attempt = c->cur_attempt,
                .node = c->node,
                .epoch = c->fence.epoch,
                .idempotent = step->idempotent,
                .outcome = (StepRecOutcome) run_cluster_outcome_to_record(outcome),
                .started = c->cur_started,
                .ended = now_usec(CLOCK_REALTIME),
        };
        r = runrec_step_end(&c->fence, c->rec->id, &s);
        if (r < 0)
                /* The step acted: the record shows it in flight, and a next leader asks before
                 * running it again (or re-runs it if idempotent). Safe, so the run goes on; the
                 * next step's fenced start decides whether this node may still act. */
                log_warning_errno(r, "run record: cannot record the end of step '%s' of run %s: %s",
                                  step->name, c->rec->id, strerror(-r));
}

EngineFence run_cluster_fence(RunCluster *c)
{
        return (EngineFence){
                .userdata = c,
                .step_starting = fence_step_starting,
                .step_ended = fence_step_ended,
        };
}

int run_cluster_run_finished(RunCluster *c, const RunInfo *info, RunOutcome outcome)
{
        RunRecState state;
        int r;

        switch (outcome) {
        case RUN_SUCCEEDED:
                state = RUNREC_SUCCEEDED;
                break;
        case RUN_FAILED:
                state = RUNREC_FAILED;
                break;
        case RUN_ABORTED:
                state = RUNREC_ABORTED;
                break;
        default: /* fenced or interrupted: the next leader resumes it */
                return 0;
        }
        r = ensure_begun(c, info);
        if (r >= 0)
                r = runrec_finish(&c->fence, c->rec, state, now_usec(CLOCK_REALTIME));
        if (r < 0)
                return log_warning_errno(r, "run record: cannot record the end of run %s: %s",
                                         strna(run_cluster_id(c)), strerror(-r));
        return 0;
}

int run_cluster_list_unfinished_async(EtcdClient *c, const ClusterConfig *cfg, RunClusterListCallback cb,
                                      void *userdata)
{
        return runrec_list_unfinished_async(c, cfg->prefix, FENCE_DEFAULT_TIMEOUT, cb, userdata, NULL);
}
