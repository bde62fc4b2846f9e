/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * worker-proto.h — encode and decode what droverd and drover-worker exchange
 * (include/drover/worker-protocol.h): the worker's command line, its progress lines and
 * droverd's answer lines. Pure: no I/O, no clock. The only place that spells a field.
 *
 * Callers: droverd (src/daemon/manager-run.c builds the argv and answers,
 * run-progress.c decodes progress), drover-worker (src/worker/, parses the argv and
 * answers, encodes progress) and `droverctl run --json` (src/ctl/ctl-run.c encodes the
 * same progress lines for people). Unit-tested by tests/unit/test-worker-proto.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "drover/worker-protocol.h"
#include "engine/engine.h"

const char *worker_message_type_to_string(WorkerMessageType t);
WorkerMessageType worker_message_type_from_string(const char *s);

/* One progress line. Which fields a type carries: worker-protocol.h. Strings are borrowed:
 * from the caller when encoding, from the message itself when decoded (until _done()).
 * Modes, phases and outcomes are the enums: their names exist only on the wire (a name this
 * version does not know decodes as _INVALID, and the line is still good). */
typedef struct WorkerMessage {
        WorkerMessageType type;
        int64_t run;          /* the journal's run id, 0 in a dry run */
        const char *playbook; /* run-started */
        const char *kind;     /* playbook kind, step kind, or run-event kind */
        RunMode mode;
        const char *trigger, *actor;
        unsigned steps;
        const char *params_json; /* an object, secrets masked; NULL = null */
        const char *step;        /* step-*, approval-requested */
        unsigned index;          /* 1-based */
        StepPhase phase;
        const char *target;
        unsigned attempt;
        const char *detail;
        StepOutcome step_outcome; /* step-finished */
        RunOutcome run_outcome;   /* run-finished */
        int64_t duration_ms;
        int exit_status;     /* -1: none */
        long http_status;    /* 0: none */
        const char *error;   /* NULL: none */
        const char *message; /* run-event */
        const char *prompt;  /* approval-requested */
        int64_t expires_in_ms;
        bool skippable;                                             /* approval-requested: a resume gate */
        unsigned ok, failed, skipped, rollback_ok, rollback_failed; /* run-finished */

        void *json_;         /* decoded: the parsed line the strings point into */
        char *params_owned_; /* decoded: params_json */
} WorkerMessage;

#define WORKER_MESSAGE_INIT(t)                                                                             \
        ((WorkerMessage){.type = (t),                                                                      \
                         .mode = _RUN_MODE_INVALID,                                                        \
                         .phase = _STEP_PHASE_INVALID,                                                     \
                         .step_outcome = _STEP_OUTCOME_INVALID,                                            \
                         .run_outcome = _RUN_OUTCOME_INVALID,                                              \
                         .exit_status = -1})

void worker_message_done(WorkerMessage *m);

/* The line, without its newline (allocated). -EINVAL for an unknown type, or a mode, phase
 * or outcome the type needs left _INVALID. */
int worker_message_format(const WorkerMessage *m, char **ret);
/* Parses one line (without newline) into *ret, which holds WORKER_MESSAGE_INIT() or an
 * earlier parse (released first); on error *ret holds nothing to release.
 * -EBADMSG: not a JSON object, no string "event", or a known field of the wrong type;
 * -EOPNOTSUPP: a well-formed line of an event this version does not know (skip it). */
int worker_message_parse(const char *line, WorkerMessage *ret);

/* The engine's observer calls as messages (strings borrowed from info/ev). */
WorkerMessage worker_message_run_started(const RunInfo *info);
WorkerMessage worker_message_step(WorkerMessageType type, const RunInfo *info, const StepEvent *ev);

/* droverd's answer to an approval-requested. */
typedef struct WorkerAnswer {
        bool approve;
        bool skip;           /* the step of a skippable gate is skipped (approve is false) */
        const char *actor;   /* non-empty */
        const char *comment; /* NULL: none */
        void *json_;
} WorkerAnswer;

void worker_answer_done(WorkerAnswer *a);
int worker_answer_format(const WorkerAnswer *a, char **ret);
/* -EBADMSG: not an object, "approve" (or "skip") not a boolean, no non-empty "actor", or
 * both "approve" and "skip" true. */
int worker_answer_parse(const char *line, WorkerAnswer *ret);

/* The worker's command line. Strings borrowed (from the caller, or from argv). */
typedef struct WorkerArgs {
        unsigned protocol;
        pid_t parent_pid;
        const char *config_path, *db_path;
        const char *playbook;
        const char *trigger; /* manual, auto, drill, approved */
        const char *actor;
        int64_t incident_id; /* 0: none */
        bool dry_run;
        ParamValue *params; /* parsed: allocated (worker_args_done()); building: borrowed */
        size_t n_params;
        uint64_t cluster_epoch; /* 0: no cluster (no fencing, no run record) */
        const char *resume;     /* NULL, or the cluster run id to take over */
} WorkerArgs;

void worker_args_done(WorkerArgs *a);
/* argv for spawning `program`, NULL-terminated, allocated (strv_free()). */
char **worker_args_to_argv(const char *program, const WorkerArgs *a);
/* Parses argv (argv[0] the program) into *ret ({} or an earlier parse, released first).
 * -EINVAL with *ret_error (allocated) on a bad or missing option; -EPROTONOSUPPORT when
 * --protocol is not ours. */
int worker_args_parse(int argc, char *const *argv, WorkerArgs *ret, char **ret_error);
/* Whether s is a trigger a worker accepts. */
bool worker_trigger_valid(const char *s);
