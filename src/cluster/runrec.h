/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runrec.h — the shared run record in etcd: enough of every run for a new leader to
 * resume it and for any node's reports to show who did what. Outputs stay in each
 * node's SQLite journal.
 *
 * Layout under the cluster prefix P ("/drover/<name>"):
 *   P/runs/<id>/meta                     RunRecord JSON (playbook, params with secrets
 *                                        masked, node and epoch that own it, state)
 *   P/runs/<id>/steps/<iiii>.<aaa>       StepRecord JSON, one per step attempt
 *                                        (index, attempt zero-padded: keys sort in order)
 *   P/active/<id>                        present while the run is unfinished
 *
 * The cluster-wide run id is "<epoch>-<node>-<local id>": unique without a counter
 * (one leader per epoch, and each node's journal numbers its own runs), readable,
 * and a resumed run keeps it whichever node finishes it.
 *
 * Every write is fenced (fence.h); reads are plain ranges. Encoding, decoding and
 * the resume plan are pure (tests/unit/test-cluster.c).
 * Called by the run worker (writes), droverd when it becomes leader (reads), droverctl.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cluster/etcd.h"
#include "cluster/fence.h"

typedef struct ClusterConfig ClusterConfig;

typedef enum RunRecState {
        RUNREC_RUNNING,
        RUNREC_SUCCEEDED,
        RUNREC_FAILED,
        RUNREC_ABORTED,
        RUNREC_FENCED, /* its leader was deposed and nobody resumed it yet */
        _RUNREC_STATE_MAX,
        _RUNREC_STATE_INVALID = -EINVAL,
} RunRecState;

typedef enum StepRecOutcome {
        STEPREC_RUNNING, /* started, no end recorded: in flight, or its node died */
        STEPREC_OK,
        STEPREC_FAILED,
        STEPREC_TIMEOUT,
        STEPREC_SKIPPED,
        _STEPREC_OUTCOME_MAX,
        _STEPREC_OUTCOME_INVALID = -EINVAL,
} StepRecOutcome;

const char *runrec_state_to_string(RunRecState s);
RunRecState runrec_state_from_string(const char *s);
const char *steprec_outcome_to_string(StepRecOutcome o);
StepRecOutcome steprec_outcome_from_string(const char *s);

typedef struct RunParam {
        const char *name;
        const char *value;
        bool secret; /* written as "***" */
} RunParam;

typedef struct StepRecord {
        unsigned index; /* position in the playbook, from 0 */
        char *name;
        unsigned attempt; /* from 1; a resumed re-run is a new attempt */
        char *node;       /* who ran this attempt */
        uint64_t epoch;   /* under which leadership */
        bool idempotent;
        StepRecOutcome outcome;
        usec_t started; /* CLOCK_REALTIME */
        usec_t ended;   /* 0 while running */
} StepRecord;

typedef struct RunRecord {
        char *id;
        char *playbook;
        char *params_json; /* a JSON object, secrets already masked */
        char *trigger;     /* "commander", "policy", "drill", "resume"… */
        char *actor;
        char *node;       /* the node that owns the run now */
        uint64_t epoch;   /* and its epoch */
        char *started_by; /* the node that started it */
        int64_t local_id; /* the run's id in started_by's journal */
        RunRecState state;
        usec_t started, ended; /* CLOCK_REALTIME */
        StepRecord *steps;     /* every attempt, ordered by (index, attempt) */
        size_t n_steps;
} RunRecord;

void steprec_done(StepRecord *s);
RunRecord *runrec_free(RunRecord *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunRecord *, runrec_free);

/* ---- pure ---- */

char *runrec_make_id(uint64_t epoch, const char *node, int64_t local_id);
char *runrec_params_json(const RunParam *params, size_t n);
char *runrec_key_meta(const char *prefix, const char *id);
char *runrec_key_step(const char *prefix, const char *id, unsigned index, unsigned attempt);
char *runrec_key_active(const char *prefix, const char *id);

char *runrec_encode_meta(const RunRecord *r);
int runrec_decode_meta(const char *json, RunRecord *ret); /* fills fields, not steps */
char *steprec_encode(const StepRecord *s);
int steprec_decode(const char *json, StepRecord *ret);

typedef enum ResumeAction {
        RESUME_CONTINUE, /* nothing in flight: continue at next_index */
        RESUME_RERUN,    /* the step at next_index was in flight and is idempotent: run it again */
        RESUME_ASK,      /* in flight and not idempotent: an approval gate asks re-run, skip or abort */
        _RESUME_ACTION_MAX,
        _RESUME_ACTION_INVALID = -EINVAL,
} ResumeAction;

const char *resume_action_to_string(ResumeAction a);

typedef struct ResumePlan {
        ResumeAction action;
        unsigned next_index;         /* the step to run (or ask about) next */
        unsigned next_attempt;       /* its attempt number if run */
        const StepRecord *in_flight; /* borrowed from the record; NULL for CONTINUE */
} ResumePlan;

/* Completed steps are never repeated: the plan starts after the highest index with
 * an ended attempt, or at an in-flight one. */
void runrec_resume_plan(const RunRecord *r, ResumePlan *ret);

/* ---- etcd (synchronous, fenced writes) ---- */

/* The worker's fence: drover.yaml's cluster: section, the client, and the epoch the daemon
 * passed when it started the run. */
void fence_init_from_config(Fence *f, EtcdClient *c, const ClusterConfig *cfg, uint64_t epoch);

/* Create the run: meta + active marker. */
int runrec_begin(const Fence *f, const RunRecord *meta);
/* THE fenced step start: refused with -ESTALE when this node no longer leads in f->epoch. */
int runrec_step_start(const Fence *f, const char *run_id, const StepRecord *s);
int runrec_step_end(const Fence *f, const char *run_id, const StepRecord *s);
/* A new leader takes the run over: meta.node/epoch become its own (fenced). */
int runrec_adopt(const Fence *f, RunRecord *r);
/* Final state: meta updated, active marker removed. */
int runrec_finish(const Fence *f, RunRecord *r, RunRecState state, usec_t ended);

int runrec_list_unfinished(EtcdClient *c, const char *prefix, usec_t timeout, char ***ret_ids);
/* The same on the daemon's loop (the client attached to it): cb gets the ids (NULL-terminated,
 * the callee's to free) or error < 0. For a new leader: list, then hand each id to a worker
 * (`--resume ID`), which reads the run with runrec_read() in its own process. */
typedef void (*RunrecListCallback)(int error, char **ids, void *userdata);
int runrec_list_unfinished_async(EtcdClient *c, const char *prefix, usec_t timeout, RunrecListCallback cb,
                                 void *userdata, EtcdRequest **ret);
int runrec_read(EtcdClient *c, const char *prefix, const char *id, usec_t timeout, RunRecord **ret);
