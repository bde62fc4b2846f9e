/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine.h — runs one playbook: parameters, templates, `when`, per-target
 * fan-out with `parallel`, deadlines, retries with backoff, `expect`, `register`,
 * `wait_for`, `approve`, `sleep`, `notify`, on_failure and reverse-order rollback,
 * and cancellation.
 *
 * Owns: the run's state and its decisions. Does not own: I/O (the Executor seam),
 * the journal and the terminal (the EngineObserver), asking a human (the Approver).
 * Every string handed to the observer has the run's secrets masked.
 * Called by droverctl (and later droverd's run worker).
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "engine/executor.h"
#include "playbook/playbook.h"
#include "shared/outcome.h"

#define SECRET_MASK "********"

/* What the observer sees of one attempt of one step on one target. All strings are
 * borrowed for the duration of the callback and already have secrets masked. */
typedef struct StepEvent {
        const Step *step;       /* the playbook step (for rollback: the rollback step) */
        size_t step_index;      /* index of the forward step in the playbook */
        StepPhase phase;
        const char *target;     /* host name, endpoint name, "local" or "-" */
        unsigned attempt;       /* 1-based */
        const char *detail;     /* expanded command / "METHOD url" / argv, masked */
        usec_t started;         /* realtime */
        usec_t finished;        /* realtime, 0 while running */
        usec_t duration;        /* monotonic, 0 while running */
        StepOutcome outcome;
        int exit_status;        /* -1 when none */
        long http_status;       /* 0 when none */
        const char *out;        /* masked, capped; NULL when none */
        const char *err;        /* masked, capped; NULL when none */
        const char *error;      /* why it failed, masked; NULL on success */
        int64_t journal_id;     /* set by steps_started, handed back on finish */
} StepEvent;

typedef struct RunInfo {
        const Playbook *playbook;
        RunMode mode;
        const char *trigger;     /* "manual", "auto", "drill" */
        const char *actor;       /* user name or "policy" */
        const char *params_json; /* masked */
        usec_t started;          /* realtime */
        int64_t journal_id;      /* set by run_started */
} RunInfo;

typedef struct EngineObserver {
        void *userdata;
        /* Must make the run durable before returning; an error aborts the run with an
         * infrastructure error before any step acts. Sets info->journal_id. */
        int (*run_started)(void *userdata, RunInfo *info);
        /* Called before any of the n attempts act; must make them durable (one transaction)
         * and set each event's journal_id. An error cancels these attempts. */
        int (*steps_started)(void *userdata, const RunInfo *info, StepEvent *events, size_t n);
        /* Results as they come (batched when several are ready). */
        int (*steps_finished)(void *userdata, const RunInfo *info, StepEvent *events, size_t n);
        /* Free-form run events: "rollback-started", "approval-requested", "cancel-requested", … */
        void (*event)(void *userdata, const RunInfo *info, const char *kind, const char *message);
        int (*run_finished)(void *userdata, const RunInfo *info, RunOutcome outcome, const char *error);
} EngineObserver;

typedef struct ApprovalRequest {
        const char *run_label;  /* "run 42 (site-switchover)" */
        const Step *step;
        const char *prompt;     /* expanded, masked */
        usec_t deadline;        /* executor clock */
        bool skippable;         /* a resume gate: the step may be skipped (ApprovalAnswer.skip) */
} ApprovalRequest;

typedef struct ApprovalAnswer {
        bool approved;
        bool skip;              /* skippable gates only: the step is skipped, the run goes on */
        char *who;              /* user name, allocated */
        char *comment;          /* allocated or NULL */
} ApprovalAnswer;

typedef struct Approver {
        void *userdata;
        /* Blocks until answered, expired (-ETIME) or cancelled (-ECANCELED). */
        int (*ask)(void *userdata, const ApprovalRequest *req, ApprovalAnswer *ret);
} Approver;

typedef struct ParamValue {
        char *name;
        char *value;
} ParamValue;

/* Issue 9: the cluster's fence, asked before each step acts (drover-worker with
 * --cluster-epoch; NULL callbacks = no fence, the run is exactly as before). */
typedef struct EngineFence {
        void *userdata;
        /* Before a forward step (index) or a rollback step acts, once per step (not per
         * attempt or target). 0: go on. < 0: this node may not act (another node leads, or
         * the fence could not be reached); *ret_error (allocated) says why. The step does not
         * act, nothing after it does (no rollback either: the next leader decides), a
         * "cluster-fenced" event goes to the observer and the run ends RUN_INTERRUPTED. */
        int (*step_starting)(void *userdata, const RunInfo *info, const Step *step, size_t index,
                             StepPhase phase, char **ret_error);
        /* After a forward step that step_starting let act, with its outcome. */
        void (*step_ended)(void *userdata, const RunInfo *info, const Step *step, size_t index,
                           StepOutcome outcome);
} EngineFence;

/* Issue 9: a run taken over from another node (the shared run record says what it did). */
typedef struct EngineResume {
        size_t start_index; /* forward steps before it were done elsewhere: neither run nor rolled back */
        bool ask;           /* step start_index was in flight and is not idempotent: an approval gate
                             * asks first (approve = run it again, skip = journal it skipped and go
                             * on (only when can_skip), deny or expiry = abort the run) */
        bool can_skip;      /* the gate offers skip: the step was in flight (not: it failed) */
        const char *prompt; /* the gate's question (ask) */
} EngineResume;

typedef struct EngineOptions {
        const Config *config;
        const Playbook *playbook;
        const ParamValue *params;  /* as given by the caller (-p k=v), not yet checked */
        size_t n_params;
        RunMode mode;              /* RUN_MODE_DRY_RUN: observer sees the plan, executor is never called */
        const char *trigger;
        const char *actor;
        Executor executor;
        EngineObserver observer;
        Approver approver;
        EngineFence fence;
        EngineResume resume;
} EngineOptions;

typedef struct Engine Engine;

/* Checks params against the playbook (missing required, type errors, unknown names) and
 * resolves secrets. On error returns -EINVAL with a message in *ret_error; nothing runs. */
int engine_new(Engine **ret, const EngineOptions *opts, char **ret_error);
Engine *engine_free(Engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Engine *, engine_free);

/* Runs to the end. Returns the outcome (>= 0) or a negative errno for an infrastructure
 * failure (observer/journal unusable), in which case the run is abandoned. */
int engine_run(Engine *e, RunOutcome *ret_outcome);

/* Async-signal-safe: request cancellation (Ctrl-C). The running step is cancelled, then
 * rollback runs if the failing step asks for it. A second call also cancels the rollback. */
void engine_request_cancel(Engine *e);

/* Whether a cancel was requested. For Approver implementations, which block outside the
 * executor: they should poll this and return -ECANCELED. */
bool engine_cancel_requested(const Engine *e);

/* Replace every secret value of this run in s by SECRET_MASK. Returns a new string. */
char *engine_mask(const Engine *e, const char *s);
