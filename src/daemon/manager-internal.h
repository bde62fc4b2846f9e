/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-internal.h — the Manager's insides, shared by the daemon's own files only:
 * manager.c (shell: config, journal, signals, notify protocol, the commander's site and
 * incident calls), manager-run.c (runs in worker processes) and the watch (watch*.c:
 * probes → detector → levels → incidents → policy → actions). Nothing outside src/daemon/
 * includes it; the bus uses manager.h.
 */
#pragma once

#include <jansson.h>
#include <sys/types.h>

#include "cluster/etcd.h"
#include "cluster/failover-state.h"
#include "daemon/manager-cluster.h"
#include "daemon/manager.h"
#include "incident/policy.h"

typedef struct WorkerRun WorkerRun;
typedef struct Watch Watch;

/* How long manager_start_run() waits for the worker to journal its run (config and
 * playbook load, journal open): the run id is returned synchronously. */
#define MANAGER_WORKER_START_TIMEOUT (15 * USEC_PER_SEC)
/* SIGTERM: workers get SIGINT (rollback runs), then SIGKILL after this. */
#define MANAGER_WORKER_STOP_TIMEOUT (20 * USEC_PER_SEC)
/* Ended runs are listed by manager_list_runs() for this long (the journal keeps all). */
#define MANAGER_ENDED_RUN_KEEP (10 * USEC_PER_MINUTE)

struct Manager {
        char *config_path;
        char *db_path;      /* --db, or NULL */
        char *journal_path; /* resolved at start; a reload never moves the journal */

        Config *config; /* the config in force; replaced only by a whole valid one */
        Journal *journal;

        sd_event *event;
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;
        sd_event_source *watchdog_source;
        sd_event_source *stop_timer; /* SIGTERM: the bound on waiting for workers */
        usec_t watchdog_usec;        /* 0 = no watchdog asked for */

        bool accepting; /* new work (runs, probes' consequences) is taken */
        bool stopping;
        char *stop_reason; /* the signal that stops us, for the journal */

        ManagerObserver observer;
        WorkerRun *runs;  /* newest first; ended ones are kept a while */
        EtcdClient *runrec_client; /* manager-run.c: lists unfinished runs on the loop (issue 9);
                                    * NULL until a take-over needs it */
        uint64_t resume_epoch;     /* the epoch whose take-over listing is in flight */
        Watch *watch;     /* NULL until started (or when the config has no monitoring) */
        ManagerCluster *cluster; /* NULL without `cluster:` (manager-cluster.c) */

        char *last_status; /* to send STATUS= only when it changed */
        bool ready_later;  /* READY=1 from manager_notify_ready(), not manager_startup() */
};

/* manager.c */
void manager_journal_event(Manager *m, const char *kind, const char *message, json_t *data);
/* Recompute the STATUS= line and send it when it changed. */
void manager_update_status(Manager *m);
/* The loop may exit once stopping and no worker is left. */
void manager_maybe_exit(Manager *m);

/* manager-run.c */
ManagerRunState manager_run_state_from_string(const char *s);
int manager_answer_run(Manager *m, int64_t run_id, GateAnswer answer, const char *actor,
                       const char *comment);
void manager_runs_free(Manager *m);
/* Runs whose worker is still alive. */
size_t manager_runs_n_active(const Manager *m);
/* The newest run still active, for STATUS=; NULL if none. */
const ManagerRun *manager_runs_current(const Manager *m);
/* SIGINT to every live worker (rollback runs); returns how many. */
size_t manager_runs_cancel_all(Manager *m, const char *why);
void manager_runs_kill_all(Manager *m);
/* A newly elected leader takes over the runs that etcd's run record shows unfinished
 * (issue 9): completed steps are not repeated; see manager-run.c. 0 when there are none. */
int manager_runs_resume_unfinished(Manager *m);
/* Pure (unit-tested): may a run start on this node, with which fencing token (0: none)?
 * See manager_start_run(). */
typedef struct ManagerClusterView ManagerClusterView;
int manager_run_cluster_gate(const ManagerClusterView *v, bool may_act, bool dry_run, bool override_no_quorum,
                             uint64_t *ret_epoch, bool *ret_override, char **ret_error);
/* An incident id → is a run for it active? */
bool manager_runs_active_for_incident(const Manager *m, int64_t incident_id);

/* watch*.c — the monitoring pipeline and the incidents (watch-internal.h). */
int watch_new(Watch **ret, Manager *m);
Watch *watch_free(Watch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(Watch *, watch_free);
/* Restore from the journal (open incidents, the active site, the last automatic
 * switchover), then build and start the probes from m->config. */
int watch_start(Watch *w);
/* After a successful reload: rebuild probes, detector, levels, policy; keep incidents. */
int watch_reload(Watch *w);
/* A worker run started / ended (for incidents, the active site, the cooldown). */
void watch_run_started(Watch *w, const ManagerRun *run, const char *playbook_kind);
void watch_run_ended(Watch *w, const ManagerRun *run, const char *playbook_kind);
int watch_answer_incident(Watch *w, int64_t id, bool approve, const char *actor, const char *comment);
int watch_ack_incident(Watch *w, int64_t id, const char *actor);
int watch_note_incident(Watch *w, int64_t id, const char *actor, const char *text);
int watch_set_maintenance(Watch *w, const char *site, bool on, const char *actor);
int watch_set_override(Watch *w, const char *site, bool on, const char *actor);
int watch_list_sites(Watch *w, ManagerSite **ret, size_t *ret_n);
/* For STATUS=: probes, open incidents and the most severe level among them. */
void watch_status(const Watch *w, size_t *ret_probes, size_t *ret_open, int *ret_worst_level);
/* The node's cluster role (issue 9): STANDALONE (the default, set at start) and LEADER
 * act; a FOLLOWER acts on nothing (leader names the node that does); NO_QUORUM runs
 * nothing automatically. Takes effect at the next decision; journaled when it changes. */
void watch_set_cluster_role(Watch *w, ClusterRole role, const char *leader);
/* This node was elected and has read the cluster's failover state (NULL: none, or etcd
 * did not answer; source says who wrote it): the active site and the last automatic
 * switchover are taken from it (journaled when the active site changes), then every
 * open incident is decided again as this node now leads. */
void watch_cluster_elected(Watch *w, const FailoverState *st, const char *source);
