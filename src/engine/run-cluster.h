/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-cluster.h — the cluster half of a run (issue 9): the shared run record in etcd and
 * the fence in front of every step, for a run that droverd started as leader in some
 * epoch. It plugs into the engine as its EngineFence (engine.h) and into the run's end.
 *
 * What it writes (src/cluster/runrec.h, every write a fenced txn): the run when its first
 * step is about to act (or a resumed run's adoption), each forward step's start BEFORE
 * the step acts (refused: the step does not act), each step's end, the run's end. A
 * rollback step is preceded by a fenced check (no record: the record holds forward steps).
 * A run that ends fenced stays unfinished in etcd: the next leader resumes it.
 *
 * Resume (--resume=ID): reads the record, checks it against the playbook (pure:
 * run_cluster_resume_decide()) and tells the engine where to go on and whether to ask.
 *
 * Owns: its etcd client and the record. Does not own: the local journal (drover-worker
 * journals what this hands back: the steps other nodes did), the decisions (engine).
 * Called by drover-worker only. Logs its warnings itself (a step's end that cannot be
 * written does not stop a step that already acted).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cluster/etcd.h"
#include "engine/engine.h"

typedef struct ClusterConfig ClusterConfig;
typedef struct RunRecord RunRecord;
typedef struct RunCluster RunCluster;

/* Opens an etcd client from cfg; epoch is droverd's (> 0). */
int run_cluster_new(RunCluster **ret, const ClusterConfig *cfg, uint64_t epoch);
RunCluster *run_cluster_free(RunCluster *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunCluster *, run_cluster_free);

/* The cluster-wide run id ("<epoch>-<node>-<local id>"), once known; NULL before. */
const char *run_cluster_id(const RunCluster *c);

/* ---- resume ---- */

/* Reads run `id` from etcd. -ENOENT: no such run; -EALREADY: it has finished (*ret_error
 * says how); other -errno: etcd not reached. */
int run_cluster_load(RunCluster *c, const char *id, char **ret_error);
/* Of the loaded record (NULL before): */
const char *run_cluster_playbook(const RunCluster *c);
/* The parameters the record holds, as -p NAME=VALUE would give them; the playbook's
 * secret ones are left out (the record has them masked). Allocated array, each name and
 * value allocated. */
int run_cluster_params(const RunCluster *c, const Playbook *pb, ParamValue **ret, size_t *ret_n);

/* Pure: where a taken-over run goes on. Every step the record shows done must be the
 * playbook's step of the same index and name (else -EINVAL: the playbook changed). The
 * step left in flight runs again without asking only if the playbook (as loaded now)
 * marks it idempotent. A run whose last recorded step failed (and stops the run on
 * failure) but whose end was never recorded goes on only if a commander approves.
 * *ret_prompt (ask) and *ret_summary are allocated. */
int run_cluster_resume_decide(const RunRecord *rec, const Playbook *pb, EngineResume *ret, char **ret_prompt,
                              char **ret_summary, char **ret_error);
/* The same, on the loaded record; ret->prompt points into c. */
int run_cluster_resume(RunCluster *c, const Playbook *pb, EngineResume *ret, char **ret_summary,
                       char **ret_error);

/* The attempts other nodes recorded, for the local journal. */
typedef struct PriorStep {
        size_t index;
        const char *name;
        unsigned attempt;
        const char *node;
        uint64_t epoch;
        StepOutcome outcome; /* an attempt left running: STEP_INTERRUPTED */
        usec_t started, ended;
} PriorStep;
size_t run_cluster_n_prior(const RunCluster *c);
void run_cluster_prior(const RunCluster *c, size_t i, PriorStep *ret);
/* Pure: the local outcome of a recorded one, and the recorded one of a local one. */
StepOutcome run_cluster_outcome_from_record(int steprec_outcome);
int run_cluster_outcome_to_record(StepOutcome o);

/* ---- droverd's side (it cannot include runrec.h: journal.h spells the same type names) ---- */

/* The unfinished runs' ids, listed on the loop (client attached to it): cb gets them
 * (NULL-terminated, the callee's to free) or error < 0. runrec_list_unfinished_async(). */
typedef void (*RunClusterListCallback)(int error, char **ids, void *userdata);
int run_cluster_list_unfinished_async(EtcdClient *c, const ClusterConfig *cfg, RunClusterListCallback cb,
                                      void *userdata);

/* ---- the run ---- */

/* The engine's fence (userdata c). */
EngineFence run_cluster_fence(RunCluster *c);
/* The run's end into the record: succeeded, failed or aborted finish it; an interrupted
 * (fenced) run is left unfinished for the next leader. 0, or -errno (logged). */
int run_cluster_run_finished(RunCluster *c, const RunInfo *info, RunOutcome outcome);
