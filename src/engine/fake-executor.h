/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-executor.h — a scripted Executor with a fake clock, for unit tests of the
 * engine and of anything that drives it. No sockets, no threads, no sleeping:
 * wait() jumps the fake clock to the next completion (or to `until`).
 *
 * Owns: the scripted results, the record of every submitted action, the fake clock.
 * Does not own: any decision (the engine judges results). Called by tests only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/executor.h"

#define FAKE_EXECUTOR_EPOCH (1000 * USEC_PER_SEC)          /* the fake monotonic clock starts here */
#define FAKE_EXECUTOR_REALTIME_BASE (1767225600ULL * USEC_PER_SEC) /* 2026-01-01T00:00:00Z */
#define FAKE_EXECUTOR_DEFAULT_DELAY (100 * USEC_PER_MSEC)

typedef struct FakeResult {
        ActionStatus status;  /* ACTION_DONE unless set */
        int exit_status;
        long http_status;     /* 0 = 200 for http actions */
        const char *out;
        const char *err;
        const char *error;
        const char *exit_signal;
        usec_t delay;         /* from submit to completion; 0 = FAKE_EXECUTOR_DEFAULT_DELAY */
        bool hang;            /* never completes by itself, not even at its deadline (only cancel ends it) */
        bool ignore_cancel;   /* with hang: not even cancel_all ends it */
} FakeResult;

/* What the engine submitted (copies). */
typedef struct FakeAction {
        ActionKind kind;
        uint64_t tag;
        char *key;            /* "HOST: COMMAND", "METHOD URL" or the argv joined by spaces */
        char *host;           /* ssh */
        char *command;        /* ssh */
        char *method;         /* http */
        char *url;            /* http */
        char **headers;       /* http, NULL-terminated */
        char *body;           /* http */
        char **argv;          /* local */
        usec_t submitted;     /* fake clock */
        usec_t deadline;
} FakeAction;

typedef struct FakeExecutor FakeExecutor;

int fake_executor_new(FakeExecutor **ret);
FakeExecutor *fake_executor_free(FakeExecutor *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(FakeExecutor *, fake_executor_free);
Executor fake_executor_get(FakeExecutor *f);

/* Rules are tried in the order added: the first rule of that kind whose pattern occurs in
 * the action's key (NULL pattern = any) and that has uses left answers. times = 0: forever.
 * Without a matching rule: DONE, exit 0, HTTP 200, empty output, default delay. */
void fake_executor_script(FakeExecutor *f, ActionKind kind, const char *pattern, unsigned times,
                          const FakeResult *res);

/* Call hook(userdata) once, when the fake clock would pass `at` inside a wait(). */
void fake_executor_at(FakeExecutor *f, usec_t at, void (*hook)(void *userdata), void *userdata);

size_t fake_executor_n_submitted(const FakeExecutor *f);
const FakeAction *fake_executor_submitted(const FakeExecutor *f, size_t i);
/* Index of the first submitted action whose key contains pattern at or after `from`, or -1. */
ssize_t fake_executor_find(const FakeExecutor *f, const char *pattern, size_t from);
unsigned fake_executor_max_in_flight(const FakeExecutor *f);
unsigned fake_executor_n_cancel_all(const FakeExecutor *f);
/* Waits with until = USEC_INFINITY while nothing could finish (an engine bug: it would hang). */
unsigned fake_executor_n_infinite_waits(const FakeExecutor *f);
usec_t fake_executor_now(const FakeExecutor *f);
