/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runrec.c — the shared run record (see runrec.h): ids, keys, JSON encoding, the
 * pure resume plan, and the fenced writes and plain reads against etcd.
 *
 * Owns: the layout under P/runs and P/active. Does not own: the fence comparison
 * (fence.c), the engine's cursor (the engine asks the plan), outputs (SQLite).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "cluster/runrec.h"
#include "config/config.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

static const char *const runrec_state_table[_RUNREC_STATE_MAX] = {
        [RUNREC_RUNNING] = "running", [RUNREC_SUCCEEDED] = "succeeded", [RUNREC_FAILED] = "failed",
        [RUNREC_ABORTED] = "aborted", [RUNREC_FENCED] = "fenced",
};
DEFINE_STRING_TABLE(runrec_state, RunRecState, runrec_state_table)

static const char *const steprec_outcome_table[_STEPREC_OUTCOME_MAX] = {
        [STEPREC_RUNNING] = "running", [STEPREC_OK] = "ok",           [STEPREC_FAILED] = "failed",
        [STEPREC_TIMEOUT] = "timeout", [STEPREC_SKIPPED] = "skipped",
};
DEFINE_STRING_TABLE(steprec_outcome, StepRecOutcome, steprec_outcome_table)

static const char *const resume_action_table[_RESUME_ACTION_MAX] = {
        [RESUME_CONTINUE] = "continue",
        [RESUME_RERUN] = "rerun",
        [RESUME_ASK] = "ask",
};

const char *resume_action_to_string(ResumeAction a)
{
        return string_table_get(resume_action_table, ELEMENTSOF(resume_action_table), (int) a);
}

void steprec_done(StepRecord *s)
{
        if (!s)
                return;
        free(s->name);
        free(s->node);
        *s = (StepRecord){};
}

RunRecord *runrec_free(RunRecord *r)
{
        if (!r)
                return NULL;
        free(r->id);
        free(r->playbook);
        free(r->params_json);
        free(r->trigger);
        free(r->actor);
        free(r->node);
        free(r->started_by);
        for (size_t i = 0; i < r->n_steps; i++)
                steprec_done(&r->steps[i]);
        free(r->steps);
        free(r);
        return NULL;
}

/* ---- pure ------------------------------------------------------------------------ */

char *runrec_make_id(uint64_t epoch, const char *node, int64_t local_id)
{
        return xasprintf("%llu-%s-%lld", (unsigned long long) epoch, node, (long long) local_id);
}

char *runrec_params_json(const RunParam *params, size_t n)
{
        json_t *o = json_object();
        char *s;

        for (size_t i = 0; i < n; i++)
                json_object_set_new(o, params[i].name,
                                    json_string(params[i].secret ? "***" : strempty(params[i].value)));
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        return s ? s : xstrdup("{}");
}

char *runrec_key_meta(const char *prefix, const char *id)
{
        return xasprintf("%s/runs/%s/meta", prefix, id);
}

char *runrec_key_step(const char *prefix, const char *id, unsigned index, unsigned attempt)
{
        return xasprintf("%s/runs/%s/steps/%04u.%03u", prefix, id, index, attempt);
}

char *runrec_key_active(const char *prefix, const char *id)
{
        return xasprintf("%s/active/%s", prefix, id);
}

static json_t *json_u64(uint64_t v)
{
        char b[32];
        snprintf(b, sizeof(b), "%llu", (unsigned long long) v);
        return json_string(b);
}

static int get_u64(json_t *o, const char *key, uint64_t *ret)
{
        int64_t v;
        if (etcd_json_int64(json_object_get(o, key), &v) < 0 || v < 0)
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

static char *get_str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? xstrdup(s) : NULL;
}

char *runrec_encode_meta(const RunRecord *r)
{
        json_t *params = r->params_json ? json_loads(r->params_json, 0, NULL) : NULL;
        json_t *o = json_pack("{s:s,s:s,s:o,s:s?,s:s?,s:s,s:o,s:s,s:o,s:s,s:o,s:o}", "id", r->id, "playbook",
                              r->playbook, "params", params ? params : json_object(), "trigger", r->trigger,
                              "actor", r->actor, "node", r->node, "epoch", json_u64(r->epoch), "started_by",
                              r->started_by ? r->started_by : r->node, "local_id",
                              json_u64((uint64_t) r->local_id), "state", runrec_state_to_string(r->state),
                              "started", json_u64(r->started), "ended", json_u64(r->ended));
        char *s;

        if (!o)
                return NULL;
        s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return s;
}

int runrec_decode_meta(const char *text, RunRecord *ret)
{
        json_t *o = json_loads(text, 0, NULL), *params;
        RunRecord r = {};
        uint64_t local = 0;
        const char *state;
        int rc = -EBADMSG;

        if (!json_is_object(o))
                goto out;
        r.id = get_str(o, "id");
        r.playbook = get_str(o, "playbook");
        r.node = get_str(o, "node");
        r.started_by = get_str(o, "started_by");
        r.trigger = get_str(o, "trigger");
        r.actor = get_str(o, "actor");
        params = json_object_get(o, "params");
        r.params_json =
                json_is_object(params) ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
        state = json_string_value(json_object_get(o, "state"));
        r.state = state ? runrec_state_from_string(state) : _RUNREC_STATE_INVALID;
        if (!r.id || !r.playbook || !r.node || r.state < 0 || get_u64(o, "epoch", &r.epoch) < 0 ||
            get_u64(o, "local_id", &local) < 0 || get_u64(o, "started", &r.started) < 0 ||
            get_u64(o, "ended", &r.ended) < 0) {
                free(r.id);
                free(r.playbook);
                free(r.node);
                free(r.started_by);
                free(r.trigger);
                free(r.actor);
                free(r.params_json);
                goto out;
        }
        r.local_id = (int64_t) local;
        *ret = r;
        rc = 0;
out:
        json_decref(o);
        return rc;
}

char *steprec_encode(const StepRecord *s)
{
        json_t *o = json_pack("{s:i,s:s,s:i,s:s,s:o,s:b,s:s,s:o,s:o}", "index", (json_int_t) s->index,
                              "name", strempty(s->name), "attempt", (json_int_t) s->attempt, "node",
                              strempty(s->node), "epoch", json_u64(s->epoch), "idempotent", s->idempotent,
                              "outcome", steprec_outcome_to_string(s->outcome), "started",
                              json_u64(s->started), "ended", json_u64(s->ended));
        char *text;

        if (!o)
                return NULL;
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return text;
}

int steprec_decode(const char *text, StepRecord *ret)
{
        json_t *o = json_loads(text, 0, NULL);
        StepRecord s = {};
        const char *outcome;
        int64_t idx = -1, att = -1;
        int rc = -EBADMSG;

        if (!json_is_object(o))
                goto out;
        (void) etcd_json_int64(json_object_get(o, "index"), &idx);
        (void) etcd_json_int64(json_object_get(o, "attempt"), &att);
        outcome = json_string_value(json_object_get(o, "outcome"));
        s.outcome = outcome ? steprec_outcome_from_string(outcome) : _STEPREC_OUTCOME_INVALID;
        s.idempotent = json_is_true(json_object_get(o, "idempotent"));
        if (idx < 0 || idx > 9999 || att < 1 || att > 999 || s.outcome < 0 ||
            get_u64(o, "epoch", &s.epoch) < 0 || get_u64(o, "started", &s.started) < 0 ||
            get_u64(o, "ended", &s.ended) < 0)
                goto out;
        s.index = (unsigned) idx;
        s.attempt = (unsigned) att;
        s.name = get_str(o, "name");
        s.node = get_str(o, "node");
        *ret = s;
        rc = 0;
out:
        json_decref(o);
        return rc;
}

void runrec_resume_plan(const RunRecord *r, ResumePlan *ret)
{
        const StepRecord *last = NULL;

        /* Steps are ordered by (index, attempt): the last record is the furthest point reached. */
        for (size_t i = 0; i < r->n_steps; i++)
                if (!last || r->steps[i].index > last->index ||
                    (r->steps[i].index == last->index && r->steps[i].attempt > last->attempt))
                        last = &r->steps[i];
        if (!last) {
                *ret = (ResumePlan){.action = RESUME_CONTINUE, .next_index = 0, .next_attempt = 1};
                return;
        }
        if (last->outcome != STEPREC_RUNNING) {
                *ret = (ResumePlan){
                        .action = RESUME_CONTINUE, .next_index = last->index + 1, .next_attempt = 1};
                return;
        }
        *ret = (ResumePlan){
                .action = last->idempotent ? RESUME_RERUN : RESUME_ASK,
                .next_index = last->index,
                .next_attempt = last->attempt + 1,
                .in_flight = last,
        };
}

/* ---- etcd --------------------------------------------------------------------------- */

static int put_meta(const Fence *f, const RunRecord *r, bool active, bool remove_active)
{
        _cleanup_free_ char *meta_key = runrec_key_meta(f->prefix, r->id);
        _cleanup_free_ char *active_key = runrec_key_active(f->prefix, r->id);
        _cleanup_free_ char *meta = runrec_encode_meta(r);
        EtcdOp ops[2];
        size_t n = 0;

        if (!meta)
                return -EINVAL;
        ops[n++] = (EtcdOp){.type = ETCD_OP_PUT, .key = meta_key, .value = meta};
        if (active)
                ops[n++] = (EtcdOp){.type = ETCD_OP_PUT, .key = active_key, .value = ""};
        else if (remove_active)
                ops[n++] = (EtcdOp){.type = ETCD_OP_DELETE, .key = active_key};
        return fence_txn(f, ops, n, NULL);
}

int runrec_begin(const Fence *f, const RunRecord *meta)
{
        return put_meta(f, meta, true, false);
}

static int put_step(const Fence *f, const char *run_id, const StepRecord *s)
{
        _cleanup_free_ char *key = runrec_key_step(f->prefix, run_id, s->index, s->attempt);
        _cleanup_free_ char *value = steprec_encode(s);
        EtcdOp op = {.type = ETCD_OP_PUT, .key = key, .value = value};

        if (!value)
                return -EINVAL;
        return fence_txn(f, &op, 1, NULL);
}

int runrec_step_start(const Fence *f, const char *run_id, const StepRecord *s)
{
        return put_step(f, run_id, s);
}

int runrec_step_end(const Fence *f, const char *run_id, const StepRecord *s)
{
        return put_step(f, run_id, s);
}

int runrec_adopt(const Fence *f, RunRecord *r)
{
        char *node = xstrdup(f->node);

        free(r->node);
        r->node = node;
        r->epoch = f->epoch;
        r->state = RUNREC_RUNNING;
        return put_meta(f, r, true, false);
}

int runrec_finish(const Fence *f, RunRecord *r, RunRecState state, usec_t ended)
{
        r->state = state;
        r->ended = ended;
        return put_meta(f, r, false, true);
}

void fence_init_from_config(Fence *f, EtcdClient *c, const ClusterConfig *cfg, uint64_t epoch)
{
        *f = (Fence){.client = c,
                     .prefix = cfg->prefix,
                     .node = cfg->node,
                     .epoch = epoch,
                     .timeout = FENCE_DEFAULT_TIMEOUT};
}

static char **ids_from_kvs(EtcdKv *kvs, size_t n, size_t plen)
{
        char **ids = xcalloc(n + 1, sizeof(char *));

        for (size_t i = 0; i < n; i++)
                ids[i] = xstrdup(kvs[i].key + plen);
        return ids;
}

typedef struct ListCall {
        RunrecListCallback cb;
        void *userdata;
        size_t plen;
} ListCall;

static void list_done(EtcdClient *c, int error, json_t *reply, void *userdata)
{
        ListCall *lc = userdata;
        EtcdKv *kvs = NULL;
        size_t n = 0;

        if (error >= 0)
                error = etcd_parse_range(reply, &kvs, &n, NULL);
        if (error < 0)
                lc->cb(error, NULL, lc->userdata);
        else {
                char **ids = ids_from_kvs(kvs, n, lc->plen);
                etcd_kvs_free(kvs, n);
                lc->cb(0, ids, lc->userdata);
        }
        free(lc);
}

int runrec_list_unfinished_async(EtcdClient *c, const char *prefix, usec_t timeout, RunrecListCallback cb,
                                 void *userdata, EtcdRequest **ret)
{
        _cleanup_free_ char *active = xasprintf("%s/active/", prefix);
        ListCall *lc = xcalloc(1, sizeof(ListCall));
        json_t *req = etcd_build_range(active, true);
        EtcdRequest *q = NULL;
        int r;

        *lc = (ListCall){.cb = cb, .userdata = userdata, .plen = strlen(active)};
        r = etcd_call_async(c, "/v3/kv/range", req, timeout, list_done, lc, &q);
        json_decref(req);
        if (r < 0) {
                free(lc);
                return r;
        }
        etcd_request_set_destroy(q, free); /* cancelled: lc goes with the request */
        if (ret)
                *ret = q;
        return 0;
}

int runrec_list_unfinished(EtcdClient *c, const char *prefix, usec_t timeout, char ***ret_ids)
{
        _cleanup_free_ char *active = xasprintf("%s/active/", prefix);
        EtcdKv *kvs = NULL;
        size_t n = 0, plen = strlen(active);
        char **ids;
        int r;

        r = etcd_range(c, active, true, timeout, &kvs, &n);
        if (r < 0)
                return r;
        ids = ids_from_kvs(kvs, n, plen);
        etcd_kvs_free(kvs, n);
        *ret_ids = ids;
        return 0;
}

int runrec_read(EtcdClient *c, const char *prefix, const char *id, usec_t timeout, RunRecord **ret)
{
        _cleanup_free_ char *run_prefix = xasprintf("%s/runs/%s/", prefix, id);
        _cleanup_free_ char *meta_key = runrec_key_meta(prefix, id);
        _cleanup_(runrec_freep) RunRecord *rec = NULL;
        EtcdKv *kvs = NULL;
        size_t n = 0;
        int r;

        r = etcd_range(c, run_prefix, true, timeout, &kvs, &n);
        if (r < 0)
                return r;
        rec = xcalloc(1, sizeof(RunRecord));
        r = -ENOENT;
        /* Keys come sorted: meta, then steps/<iiii>.<aaa> in (index, attempt) order. */
        for (size_t i = 0; i < n; i++) {
                if (streq(kvs[i].key, meta_key)) {
                        RunRecord m = {};
                        if (runrec_decode_meta(kvs[i].value, &m) < 0) {
                                r = -EBADMSG;
                                break;
                        }
                        m.steps = rec->steps;
                        m.n_steps = rec->n_steps;
                        *rec = m;
                        r = 0;
                } else {
                        StepRecord s;
                        if (steprec_decode(kvs[i].value, &s) < 0)
                                continue; /* a record this version cannot read: skipped, not fatal */
                        *(StepRecord *) array_push(&rec->steps, &rec->n_steps, sizeof(StepRecord)) = s;
                }
        }
        etcd_kvs_free(kvs, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rec);
        return 0;
}
