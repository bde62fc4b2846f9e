/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * executor-real.h — the real StepExecutor: SSH over libssh2 (one session per host,
 * kept for the whole run, each step a channel on it; strict known_hosts checking),
 * HTTP over libcurl (TLS verified by default, redirects limited), local commands with
 * fork/exec and a clean environment. Actions run on worker threads, so a hung host
 * delays only its own action; every action ends by its deadline.
 *
 * Owns: sessions, sockets, threads, child processes. Does not own: decisions,
 * the journal, masking (it never logs command text or output).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/executor.h"

typedef struct RealExecutorOptions {
        bool accept_new_host_keys; /* add unknown (never changed) host keys to known_hosts */
        unsigned max_workers;      /* threads; 0 = default (256) */
        uint64_t fencing_token;    /* > 0: the leader's epoch (issue 9), sent with every action:
                                    * HTTP header X-Drover-Fencing-Token, DROVER_FENCING_TOKEN in
                                    * the environment of SSH (if sshd accepts it) and local commands */
} RealExecutorOptions;

typedef struct RealExecutor RealExecutor;

int real_executor_new(RealExecutor **ret, const RealExecutorOptions *opts);
/* Cancels what is in flight, waits for workers, closes every SSH session. */
RealExecutor *real_executor_free(RealExecutor *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(RealExecutor *, real_executor_free);

Executor real_executor_get(RealExecutor *e);

/* How many SSH sessions (TCP connect + handshake + host key + auth) this executor has
 * opened so far: a debug counter for tests and benchmarks (one per host expected). */
unsigned real_executor_sessions_opened(RealExecutor *e);

/* The completion eventfd: readable when a result may be waiting, for callers that run
 * their own event loop (droverd's prober watches it with an sd-event io source). The
 * caller first reads the eventfd (8 bytes, non-blocking) to reset it, then collects
 * every finished action with ops->wait(until = 0) until -ETIME; a result queued after
 * the read makes the fd readable again. Owned by the executor: never close it. */
int real_executor_get_fd(RealExecutor *e);
