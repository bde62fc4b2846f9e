/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h — droverd's one object: the loaded config, the journal, the sd-event
 * loop and its sources (signals, the watchdog timer). Everything the daemon holds
 * hangs off the Manager; there are no other globals (the log level aside).
 *
 * Owns: start-up (config, journal and recovery, READY=1), reload on SIGHUP (the new
 * config is validated whole first; on any error the old one stays), shutdown on
 * SIGTERM/SIGINT, the service manager protocol (READY, RELOADING, STOPPING, STATUS,
 * WATCHDOG). Does not own: probes, detection, incidents, runs — those plug in here
 * later (see manager_stop_accepting()). Called by droverd.c only.
 */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "engine/engine.h"
#include "journal/journal.h"
#include "shared/macros.h"

typedef struct Manager Manager;
typedef struct ManagerClusterView ManagerClusterView; /* manager-cluster.h */

/* config_path NULL = CONFIG_DEFAULT_PATH; db_path NULL = journal_resolve_path()'s choice. */
int manager_new(Manager **ret, const char *config_path, const char *db_path);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Load the config (diagnostics logged, path:line:col), open and recover the journal,
 * hook signals and the watchdog into the loop, journal "daemon-started", READY=1.
 * Returns -EINVAL for an invalid config (nothing else touched), other -errno otherwise. */
int manager_startup(Manager *m);

/* droverd: READY=1 only once the D-Bus API is up too (manager_notify_ready()), so that
 * `systemctl start droverd` fails when droverd cannot own its name. Before startup. */
void manager_set_ready_later(Manager *m);
void manager_notify_ready(Manager *m);

/* Run the loop until SIGTERM/SIGINT. Returns the loop's exit code (0) or -errno. */
int manager_run(Manager *m);

/* Validate a config file without touching the journal: diagnostics logged, 0 or
 * -EINVAL (or another -errno when the file cannot be read). For --check-config. */
int manager_check_config(const char *config_path);

/* Stop taking new work (probe-triggered runs, D-Bus run/approve calls). Called first
 * on SIGTERM. Idempotent. */
void manager_stop_accepting(Manager *m);

/* For tests and status: what is loaded. */
const Config *manager_get_config(const Manager *m);
bool manager_is_accepting(const Manager *m);

/*
 * The commander's surface (issue 5's D-Bus API, src/bus/, calls these; droverd's own
 * watch calls manager_start_run() for automatic runs). Every mutating call takes the
 * caller's name as `actor` ("alice", "uid 1001", "policy") and journals it. Returns 0 or
 * -errno: -ENOENT unknown site/run/incident, -EINVAL bad argument (with *ret_error set to
 * a human sentence where the signature has one), -EBUSY not accepting work (stopping),
 * -EALREADY nothing to do (already ended, already acknowledged, no pending gate),
 * -EPERM refused by policy (four-eyes: the approver is the requester).
 *
 * Arrays returned are newly allocated; free them with the matching *_free_array().
 */
typedef struct ManagerSite {
        char *name;
        char *role;        /* "primary" | "backup" | "other" (configured role) */
        char *health;      /* "up" | "degraded" | "down" | "unknown" */
        int level;         /* 0 none, 1 red .. 4 blue: the site's current warning level */
        bool active;       /* the site customers are served from (failover.active_site) */
        bool maintenance;  /* silenced: no incident, no automatic run */
} ManagerSite;
void manager_site_free_array(ManagerSite *a, size_t n);
int manager_list_sites(Manager *m, ManagerSite **ret, size_t *ret_n);
int manager_set_maintenance(Manager *m, const char *site, bool on, const char *actor);
/* Manual override ("hands off"): nothing automatic for the site, or for every site when
 * site is NULL; what would have run automatically is proposed instead. Journaled.
 * -EALREADY when already so, -ENOENT for an unknown site. (Added by wip/daemon.) */
int manager_set_override(Manager *m, const char *site, bool on, const char *actor);

typedef struct ManagerRunRequest {
        const char *playbook;     /* a file path, or a name resolved like droverctl run does */
        const ParamValue *params; /* -p k=v pairs; checked before anything runs */
        size_t n_params;
        bool dry_run;
        const char *trigger;      /* "manual" | "auto" | "drill" */
        const char *actor;        /* who asked; "policy" for automatic runs */
        int64_t incident_id;      /* 0 = none */
        bool override_no_quorum;  /* issue 9: a commander's explicit, journaled override of
                                   * "no etcd quorum, no run" (the run has no fence then) */
} ManagerRunRequest;

typedef enum ManagerRunState {
        MANAGER_RUN_STARTING,
        MANAGER_RUN_RUNNING,
        MANAGER_RUN_WAITING_APPROVAL, /* an approve step is pending */
        MANAGER_RUN_ENDED,
        _MANAGER_RUN_STATE_MAX,
        _MANAGER_RUN_STATE_INVALID = -EINVAL,
} ManagerRunState;
const char *manager_run_state_to_string(ManagerRunState s);

/* A run the daemon started and still tracks (ended runs stay until the next reload
 * or for a while; the journal has all of them). */
typedef struct ManagerRun {
        int64_t id;               /* the journal's run id */
        char *playbook;
        char *trigger, *actor;
        int64_t incident_id;
        ManagerRunState state;
        char *current_step;       /* NULL when none */
        unsigned steps_done, steps_total;
        RunOutcome outcome;       /* RUN_RUNNING until the run ends */
        char *pending_prompt;     /* the approve step's prompt while WAITING_APPROVAL */
        bool pending_skippable;   /* the pending gate is a resume gate: its step may be skipped */
} ManagerRun;
void manager_run_free_array(ManagerRun *a, size_t n);
int manager_list_runs(Manager *m, ManagerRun **ret, size_t *ret_n);

/* Starts the run in a worker process (the loop never blocks on SSH or HTTP). The run id
 * is known (journaled) when this returns 0. A dry run returns its plan in *ret_plan.
 * In a cluster (issue 9): a leader's worker gets its epoch (every step fenced); a follower
 * refuses with -EREMOTE (*ret_error names the leader); without an etcd quorum, or a leader
 * whose lease is uncertain, -ENOLINK unless req->override_no_quorum (journaled as a
 * "cluster-override" event of the run). A dry run acts on nothing: allowed everywhere. */
int manager_start_run(Manager *m, const ManagerRunRequest *req, int64_t *ret_run_id, char **ret_plan,
                      char **ret_error);
/* Cancels the running step; the playbook's rollback runs as on Ctrl-C. */
int manager_abort_run(Manager *m, int64_t run_id, const char *actor);

/* A commander's answer to a gate. GATE_SKIP only at a run's resume gate (issue 9: the
 * step another node left in flight is journaled skipped and the run goes on). */
typedef enum GateAnswer {
        GATE_DENY,
        GATE_APPROVE,
        GATE_SKIP,
} GateAnswer;

/* Answers a pending gate: an approve step of a run (kind "run"), or a playbook the policy
 * proposed for an incident (kind "incident"; approving starts the run with actor = the
 * approver and trigger "approved"). -EOPNOTSUPP: a skip where the gate offers none. */
int manager_answer(Manager *m, const char *kind, int64_t id, GateAnswer answer, const char *actor,
                   const char *comment);

/* Incidents (the journal holds them; these act on open ones). */
int manager_ack_incident(Manager *m, int64_t id, const char *actor);    /* duty office verified it */
int manager_note_incident(Manager *m, int64_t id, const char *actor, const char *text);

/* Reload the config as SIGHUP does; 0, or -EINVAL with the old config kept. */
int manager_request_reload(Manager *m, const char *actor);

/* Change notifications for the bus (signals, property changes). Strings are borrowed for
 * the duration of the call. Any member may be NULL. One observer. */
typedef struct ManagerObserver {
        void *userdata;
        void (*site_changed)(void *userdata, const ManagerSite *site);
        void (*incident_changed)(void *userdata, int64_t incident_id, const char *state, int level);
        void (*run_changed)(void *userdata, const ManagerRun *run);
        void (*step_started)(void *userdata, int64_t run_id, const char *step, const char *target);
        void (*step_finished)(void *userdata, int64_t run_id, const char *step, const char *target,
                              const char *outcome);
        void (*approval_requested)(void *userdata, const char *kind, int64_t id, const char *prompt);
        /* The cluster view changed (issue 9; manager-cluster.h): role, leader, epoch or
         * members. event is the ClusterEvent's name ("cluster-elected", …) when one was
         * journaled, NULL when only the members changed; reason may be NULL. */
        void (*cluster_changed)(void *userdata, const ManagerClusterView *view, const char *event,
                                const char *reason);
} ManagerObserver;
void manager_set_observer(Manager *m, const ManagerObserver *o);

/* The loop, for the bus to attach to. */
sd_event *manager_get_event(Manager *m);
