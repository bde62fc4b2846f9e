/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec-internal.h — what the real executor's worker pool (executor-real.c) shares with
 * the three action runners (exec-ssh.c, exec-http.c, exec-local.c): the job a worker
 * runs, the cancellable deadline-aware poll, posting a result early, and the per-host
 * SSH session slot. Private to src/exec/; nothing outside includes it.
 */
#pragma once

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "exec/executor-real.h"
#include "shared/strbuf.h"

typedef struct SshSession SshSession;

typedef struct ExecJob {
        Action action;        /* a copy; what it points to is the engine's, valid until wait() returns it */
        RealExecutor *executor;
        SshSession *ssh;      /* ACTION_SSH: the host's session slot (busy while this job runs) */
        int cancel_fd;        /* eventfd, readable once the job is cancelled */
        atomic_bool cancelled;
        bool posted;          /* the result has been handed to the completion queue */
        ActionResult result;
        struct ExecJob *next; /* pending queue or in-flight list */
} ExecJob;

usec_t exec_now(void);

static inline char *mfree_str(char *p)
{
        free(p);
        return NULL;
}

/* poll() the given fds plus the job's cancel eventfd until `until` (CLOCK_MONOTONIC,
 * USEC_INFINITY = no limit). Returns the number of ready fds (> 0), -ETIME when `until`
 * passed, -ECANCELED when the job was cancelled, or -errno. */
int exec_poll(ExecJob *j, struct pollfd *fds, size_t n, usec_t until);

bool exec_job_cancelled(ExecJob *j);

/* Set status and a formatted error message on the job's result. Returns -EIO so that
 * callers can `return exec_fail(...)`. */
int exec_fail(ExecJob *j, ActionStatus status, const char *fmt, ...) _printf_(3, 4);

/* Hand the result to the completion queue now (the worker may still clean up after:
 * a dropped SSH session, for example). Idempotent. */
void exec_job_post(ExecJob *j);

/* Fill out/out_len/out_truncated (or err) from a capped buffer. */
void exec_result_take_output(StrBuf *b, char **out, size_t *len, bool *truncated);

size_t exec_output_cap(const Action *a);

/* Executor options and counters used by the runners. */
bool exec_accept_new_host_keys(RealExecutor *e);
/* 0: none. */
uint64_t exec_fencing_token(RealExecutor *e);
void exec_count_session_opened(RealExecutor *e);

/* exec-ssh.c */
void exec_ssh_global_init(void);
SshSession *ssh_session_new(const Host *host);
SshSession *ssh_session_free(SshSession *s);
const Host *ssh_session_host(const SshSession *s);
bool *ssh_session_busy(SshSession *s); /* guarded by the executor's lock */
void exec_ssh_run(ExecJob *j);

/* exec-http.c */
void exec_http_global_init(void);
void exec_http_run(ExecJob *j);

/* exec-local.c */
void exec_local_run(ExecJob *j);
