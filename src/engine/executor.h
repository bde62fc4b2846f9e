/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * executor.h — the StepExecutor seam between the engine and the outside world.
 *
 * The engine turns a step into Actions (one per target host, or one HTTP request,
 * or one local command), submits them, and collects ActionResults as they finish.
 * The real executor (exec/) runs SSH over libssh2 with one session per host for the
 * whole run, HTTP over libcurl, local commands with fork/exec; a fake executor with a
 * fake clock serves the unit tests. An executor never touches the journal, never
 * logs secrets and never decides success: it reports what happened.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "shared/time-util.h"

typedef enum ActionKind {
        ACTION_SSH,
        ACTION_HTTP,
        ACTION_LOCAL,
        _ACTION_KIND_MAX,
        _ACTION_KIND_INVALID = -EINVAL,
} ActionKind;

typedef struct Action {
        ActionKind kind;
        uint64_t tag;       /* chosen by the engine, returned in the result */
        usec_t deadline;    /* CLOCK_MONOTONIC (or the fake clock); the action ends by then */
        size_t output_cap;  /* bytes of stdout/stderr/body kept; the rest is counted and dropped */

        /* ACTION_SSH */
        const Host *host;
        const char *command;
        const char *input;        /* NULL = none; else written to the command's stdin, then EOF.
                                   * For data that must stay out of the remote argv (secrets). */
        size_t input_len;

        /* ACTION_HTTP */
        const Endpoint *endpoint; /* TLS and default options; NULL for an absolute URL without endpoint */
        const char *method;
        const char *url;          /* absolute */
        char *const *headers;     /* NULL-terminated "Name: value" */
        const char *body;         /* NULL = no body */
        size_t body_len;

        /* ACTION_LOCAL */
        char *const *argv;        /* NULL-terminated; run with a clean environment */
} Action;

typedef enum ActionStatus {
        ACTION_DONE,             /* ran to completion: exit_status / http_status are valid */
        ACTION_TIMEOUT,          /* deadline reached; the remote command may still be running */
        ACTION_CANCELLED,        /* cancelled by the engine (Ctrl-C, abort) */
        ACTION_CONNECT_FAILED,   /* TCP connect / DNS / TLS failure */
        ACTION_HOSTKEY_REJECTED, /* SSH host key unknown or changed; error names the fingerprint */
        ACTION_AUTH_FAILED,      /* SSH user authentication refused */
        ACTION_FAILED,           /* any other transport or local error (error says which) */
        _ACTION_STATUS_MAX,
        _ACTION_STATUS_INVALID = -EINVAL,
} ActionStatus;
const char *action_status_to_string(ActionStatus s);

typedef struct ActionResult {
        uint64_t tag;
        ActionStatus status;
        int exit_status;     /* ssh/local, -1 when killed by a signal or unknown */
        char *exit_signal;   /* "TERM", … or NULL */
        long http_status;    /* http, 0 when no response */
        char *out;           /* stdout, or the HTTP response body; NUL-terminated, capped */
        size_t out_len;
        bool out_truncated;
        char *err;           /* stderr; NUL-terminated, capped; NULL for http */
        size_t err_len;
        bool err_truncated;
        char *error;         /* human message when status != ACTION_DONE */
        usec_t started;      /* executor clock */
        usec_t finished;
} ActionResult;

void action_result_done(ActionResult *r);

typedef struct ExecutorOps {
        /* Start an action. Everything the Action points to stays valid until its result
         * has been returned by wait(). Returns 0 or -errno (the engine then fails the step). */
        int (*submit)(void *userdata, const Action *action);
        /* Wait for one finished action until `until` (executor clock; 0 = just poll;
         * USEC_INFINITY = no limit). Returns 0 with *ret filled, -ETIME if nothing finished
         * by `until`, -EINTR when interrupt() was called (the flag is then cleared). */
        int (*wait)(void *userdata, usec_t until, ActionResult *ret);
        /* Ask every in-flight action to stop; each still returns a result (ACTION_CANCELLED). */
        void (*cancel_all)(void *userdata);
        /* Async-signal-safe: wake a blocked wait() with -EINTR. */
        void (*interrupt)(void *userdata);
        /* The executor's clock (CLOCK_MONOTONIC for the real one). */
        usec_t (*now)(void *userdata);
        /* Wall clock for the journal (CLOCK_REALTIME for the real one). */
        usec_t (*now_realtime)(void *userdata);
} ExecutorOps;

typedef struct Executor {
        const ExecutorOps *ops;
        void *userdata;
} Executor;
