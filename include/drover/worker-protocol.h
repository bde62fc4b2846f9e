/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * worker-protocol.h — the contract between droverd and its run worker, drover-worker
 * (installed in libexecdir/drover/). droverd starts one worker per playbook run; the
 * worker runs the playbook with the engine, journals every step itself (crash-safe,
 * the journal's only writer for that run) and reports progress to droverd. Both ends
 * build and read every argument, line and field through src/engine/worker-proto.h, which
 * uses only the names below; nothing else in either program spells them.
 *
 * Starting (droverd, src/daemon/manager-run.c, through src/shared/spawn.h):
 *
 *   drover-worker --protocol=1 --parent-pid=PID --config=FILE --db=FILE --trigger=TRIGGER
 *                 --actor=NAME [--incident=ID] [--dry-run] [--param=NAME=VALUE]...
 *                 [--cluster-epoch=N [--resume=RUN]] -- PLAYBOOK
 *
 *   PLAYBOOK is a path or a name looked up like `droverctl run` does (the config's
 *   playbook_dir, then playbooks/ beside the config). TRIGGER is manual, auto, drill or
 *   approved. A worker that does not speak --protocol refuses (exit DROVER_WORKER_EXIT_REFUSED).
 *   The program is DROVER_WORKER_PATH compiled into droverd, or $DROVER_WORKER (tests).
 *
 * Cluster (issue 9; only with a `cluster:` section in FILE, refused without one):
 *   --cluster-epoch=N  droverd leads in epoch N (its leader key's create revision), the
 *                      fencing token. The worker opens its own etcd client and writes the
 *                      shared run record (src/cluster/runrec.h): the run at its start, each
 *                      step's start as a fenced txn BEFORE the step acts (a rollback step:
 *                      a fenced check), each step's end, the run's end. A refused or
 *                      unreachable fence: the step does not act, a "cluster-fenced" run
 *                      event is sent and journaled, the run ends "fenced" (exit
 *                      DROVER_WORKER_EXIT_RUN_FAILED) and stays unfinished in etcd for the
 *                      next leader. HTTP steps send X-Drover-Fencing-Token: N, SSH and local
 *                      steps get DROVER_FENCING_TOKEN=N in their environment.
 *   --resume=RUN       take over the unfinished cluster run RUN (an id of the run record,
 *                      "<epoch>-<node>-<local id>"): read it, adopt it (fenced), journal the
 *                      steps other nodes did (with their node), a "cluster-resumed" event, then
 *                      go on after the completed steps. A step left in flight is run again
 *                      only if the playbook marks it `idempotent: true`; otherwise an approval
 *                      gate asks first (approve = run it again, deny = abort). PLAYBOOK may be
 *                      left out (the record names it); parameters come from the record
 *                      (secret ones were masked there: a run that needs one cannot resume).
 *                      Needs --cluster-epoch.
 *
 * Descriptors: exactly three, nothing else is inherited (see DroverWorkerFd).
 *
 * Environment: a clean one — PATH=DROVER_WORKER_ENV_PATH, the DROVER_WORKER_ENV_KEEP
 * variables droverd itself has, and the variables the config's `env:` secrets name (their
 * values must reach the steps). Nothing else.
 *
 * Lifetime and signals: the worker sets PR_SET_PDEATHSIG(SIGKILL) first thing, then
 * checks that its parent is still --parent-pid, and exits DROVER_WORKER_EXIT_ORPHANED
 * without touching anything if it is not: it never outlives droverd. SIGINT or SIGTERM
 * cancels the run like Ctrl-C (the running step is cancelled, then the rollback runs); a
 * second one also cancels the rollback. droverd sends SIGKILL only after its stop bound;
 * journal recovery then marks the run interrupted.
 *
 * Progress (DROVER_WORKER_FD_PROGRESS): one JSON object per line, "event" naming the
 * message (WorkerMessageType, wire names WORKER_EVENT_*), fields WORKER_FIELD_*:
 *   run-started         run playbook kind mode trigger actor steps params
 *                       (first line; the run is journaled: "run" is its id, 0 in a dry run)
 *   step-started        run step index kind phase target attempt [detail]
 *                       (the attempt is journaled as running before it acts; index 1-based)
 *   step-finished       the same + outcome duration_ms [exit_status] [http_status] [error]
 *   run-event           run kind message
 *   approval-requested  run step prompt expires_in_ms [skippable] (one answer is then read;
 *                       skippable: true at a resume gate, where the in-flight step may be
 *                       skipped instead of run again or refused)
 *   run-finished        run outcome duration_ms ok failed skipped rollback_ok
 *                       rollback_failed [error]  (last line; the end is journaled)
 * These are the very lines `droverctl run --json` prints to people (README, droverctl(1)),
 * but for approval-requested, which only a worker sends. Readers ignore fields they do
 * not know; an event they do not know is skipped.
 *
 * Answers (DROVER_WORKER_FD_ANSWERS): one JSON object per line, sent only after an
 * approval-requested: {"approve": true|false, "actor": "NAME", "comment": "…"} (comment
 * optional; WORKER_ANSWER_*); {"approve": false, "skip": true, …} skips the step of a
 * skippable gate (at any other gate it counts as a denial). End of file means no one can
 * answer: the gate is denied. A malformed line is ignored (and logged); the gate keeps
 * waiting until its deadline.
 *
 * Exit status: DroverWorkerExit. On DROVER_WORKER_EXIT_REFUSED nothing ran and no
 * run-started was sent; stderr lines (without the "drover-worker: " prefix) say why, and
 * droverd hands them to the caller.
 */
#pragma once

#include <errno.h>

#include "drover/exit-status.h"

#define DROVER_WORKER_PROTOCOL_VERSION 1

/* Overrides the compiled-in program path (tests, benchmarks). */
#define DROVER_WORKER_ENV "DROVER_WORKER"
/* The worker's log prefix on stderr (log_set_program). */
#define DROVER_WORKER_PROGRAM "drover-worker"

#define DROVER_WORKER_ENV_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DROVER_WORKER_ENV_KEEP "LANG", "LC_ALL", "TZ", "CREDENTIALS_DIRECTORY", "SSH_AUTH_SOCK"

/* Command-line options (long options, "--NAME=VALUE"). */
#define WORKER_OPT_PROTOCOL   "protocol"
#define WORKER_OPT_PARENT_PID "parent-pid"
#define WORKER_OPT_CONFIG     "config"
#define WORKER_OPT_DB         "db"
#define WORKER_OPT_TRIGGER    "trigger"
#define WORKER_OPT_ACTOR      "actor"
#define WORKER_OPT_INCIDENT   "incident"
#define WORKER_OPT_DRY_RUN    "dry-run"
#define WORKER_OPT_PARAM      "param"
#define WORKER_OPT_CLUSTER_EPOCH "cluster-epoch"
#define WORKER_OPT_RESUME        "resume"

/* The fencing token as the resources see it (issue 9). */
#define DROVER_FENCING_HEADER "X-Drover-Fencing-Token"
#define DROVER_FENCING_ENV    "DROVER_FENCING_TOKEN"

typedef enum DroverWorkerFd {
        DROVER_WORKER_FD_ANSWERS = 0,  /* stdin: approval answers from droverd */
        DROVER_WORKER_FD_PROGRESS = 1, /* stdout: progress lines to droverd */
        DROVER_WORKER_FD_LOG = 2,      /* stderr: log lines for people; droverd logs them */
        _DROVER_WORKER_FD_MAX,
} DroverWorkerFd;

typedef enum DroverWorkerExit {
        DROVER_WORKER_EXIT_SUCCEEDED = DROVER_EXIT_OK,         /* the run succeeded; a dry run's plan was sent */
        DROVER_WORKER_EXIT_RUN_FAILED = DROVER_EXIT_RUN_FAILED, /* failed (after rollback) or aborted */
        DROVER_WORKER_EXIT_REFUSED = DROVER_EXIT_USAGE,        /* arguments, config, playbook or parameters
                                                                * refused: nothing ran */
        DROVER_WORKER_EXIT_INFRA = DROVER_EXIT_INFRA,          /* journal unusable, executor failed: the run
                                                                * (if journaled) was abandoned */
        DROVER_WORKER_EXIT_ORPHANED = 126,                     /* its parent was not --parent-pid any more */
} DroverWorkerExit;

/* Wire names of the messages (the "event" field). */
#define WORKER_EVENT_RUN_STARTED        "run-started"
#define WORKER_EVENT_STEP_STARTED       "step-started"
#define WORKER_EVENT_STEP_FINISHED      "step-finished"
#define WORKER_EVENT_RUN_EVENT          "run-event"
#define WORKER_EVENT_APPROVAL_REQUESTED "approval-requested"
#define WORKER_EVENT_RUN_FINISHED       "run-finished"

typedef enum WorkerMessageType {
        WORKER_MESSAGE_RUN_STARTED,
        WORKER_MESSAGE_STEP_STARTED,
        WORKER_MESSAGE_STEP_FINISHED,
        WORKER_MESSAGE_RUN_EVENT,
        WORKER_MESSAGE_APPROVAL_REQUESTED,
        WORKER_MESSAGE_RUN_FINISHED,
        _WORKER_MESSAGE_TYPE_MAX,
        _WORKER_MESSAGE_TYPE_INVALID = -EINVAL,
} WorkerMessageType;

/* Field names of the progress lines. */
#define WORKER_FIELD_EVENT           "event"
#define WORKER_FIELD_RUN             "run"           /* integer: the journal's run id */
#define WORKER_FIELD_PLAYBOOK        "playbook"
#define WORKER_FIELD_KIND            "kind"          /* playbook kind, step kind or run-event kind */
#define WORKER_FIELD_MODE            "mode"
#define WORKER_FIELD_TRIGGER         "trigger"
#define WORKER_FIELD_ACTOR           "actor"
#define WORKER_FIELD_STEPS           "steps"         /* integer: number of forward steps */
#define WORKER_FIELD_PARAMS          "params"        /* object: the parameters, secrets masked */
#define WORKER_FIELD_STEP            "step"
#define WORKER_FIELD_INDEX           "index"         /* integer: 1-based forward step index */
#define WORKER_FIELD_PHASE           "phase"         /* "forward" or "rollback" */
#define WORKER_FIELD_TARGET          "target"
#define WORKER_FIELD_ATTEMPT         "attempt"       /* integer, 1-based */
#define WORKER_FIELD_DETAIL          "detail"        /* the expanded command or request, masked */
#define WORKER_FIELD_OUTCOME         "outcome"       /* step or run outcome */
#define WORKER_FIELD_DURATION_MS     "duration_ms"
#define WORKER_FIELD_EXIT_STATUS     "exit_status"
#define WORKER_FIELD_HTTP_STATUS     "http_status"
#define WORKER_FIELD_ERROR           "error"
#define WORKER_FIELD_MESSAGE         "message"
#define WORKER_FIELD_PROMPT          "prompt"
#define WORKER_FIELD_EXPIRES_IN_MS   "expires_in_ms"
#define WORKER_FIELD_SKIPPABLE       "skippable" /* boolean, approval-requested */
#define WORKER_FIELD_OK              "ok"
#define WORKER_FIELD_FAILED          "failed"
#define WORKER_FIELD_SKIPPED         "skipped"
#define WORKER_FIELD_ROLLBACK_OK     "rollback_ok"
#define WORKER_FIELD_ROLLBACK_FAILED "rollback_failed"

/* Field names of an answer line. */
#define WORKER_ANSWER_APPROVE "approve" /* boolean */
#define WORKER_ANSWER_ACTOR   "actor"   /* non-empty string */
#define WORKER_ANSWER_COMMENT "comment" /* string, optional */
#define WORKER_ANSWER_SKIP    "skip"    /* boolean, optional: skip the step (resume gate) */
