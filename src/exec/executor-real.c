/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * executor-real.c — the real executor's frame: a pool of worker threads grown on demand,
 * the pending queue (SSH actions for one host run one at a time, in submission order),
 * the completion queue that wait() reads, cancellation and interruption.
 *
 * Owns: threads, the per-host SSH session slots (their contents belong to exec-ssh.c),
 * eventfds. Does not own: how an action runs (exec-ssh.c, exec-http.c, exec-local.c),
 * decisions, logging. Called by the engine through ExecutorOps; created by droverctl.
 *
 * action_status_to_string() and action_result_done() live in engine/executor.c (shared
 * with the fake executor), so they are not defined again here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>

#include "exec/exec-internal.h"

#define DEFAULT_MAX_WORKERS 256U
/* Workers only need a little stack (libssh2, libcurl and OpenSSL keep their state on the heap). */
#define WORKER_STACK_SIZE (512U * 1024U)

typedef struct DoneNode {
        ActionResult result;
        struct DoneNode *next;
} DoneNode;

struct RealExecutor {
        RealExecutorOptions opts;

        pthread_mutex_t lock;
        pthread_cond_t cond;     /* pending work appeared, or a host became free */
        ExecJob *pending_head, *pending_tail;
        ExecJob *inflight;       /* jobs a worker has taken */
        DoneNode *done_head, *done_tail;

        pthread_t *workers;
        size_t n_workers;
        unsigned n_idle;         /* workers waiting on cond */
        bool shutting_down;

        SshSession **sessions;   /* one slot per Host pointer, for the executor's lifetime */
        size_t n_sessions;

        int done_fd;             /* eventfd: a result was queued */
        int intr_fd;             /* eventfd: interrupt() */
        atomic_uint sessions_opened;
};

usec_t exec_now(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

static void eventfd_signal(int fd)
{
        uint64_t one = 1;

        /* Only fails when the counter would overflow, which means it is readable anyway. */
        (void) !write(fd, &one, sizeof(one));
}

static bool eventfd_drain(int fd)
{
        uint64_t v;

        return read(fd, &v, sizeof(v)) == (ssize_t) sizeof(v) && v > 0;
}

bool exec_job_cancelled(ExecJob *j)
{
        return atomic_load(&j->cancelled);
}

int exec_poll(ExecJob *j, struct pollfd *fds, size_t n, usec_t until)
{
        struct pollfd p[8];

        if (n + 1 > ELEMENTSOF(p))
                return -E2BIG;

        for (;;) {
                usec_t now = exec_now();
                int timeout_ms, r;

                if (exec_job_cancelled(j))
                        return -ECANCELED;
                if (until != USEC_INFINITY && now >= until)
                        return -ETIME;
                if (until == USEC_INFINITY)
                        timeout_ms = -1;
                else {
                        usec_t left = until - now;
                        /* Round up so that we never wake just before the deadline and spin. */
                        usec_t ms = (left + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
                        timeout_ms = ms > INT32_MAX ? INT32_MAX : (int) ms;
                }

                memcpy(p, fds, n * sizeof(*fds));
                for (size_t i = 0; i < n; i++)
                        p[i].revents = 0;
                p[n] = (struct pollfd) { .fd = j->cancel_fd, .events = POLLIN };

                r = poll(p, n + 1, timeout_ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[n].revents != 0 || exec_job_cancelled(j))
                        return -ECANCELED;
                if (r == 0)
                        continue; /* re-check the clock at the top */
                for (size_t i = 0; i < n; i++)
                        fds[i].revents = p[i].revents;
                return r;
        }
}

int exec_fail(ExecJob *j, ActionStatus status, const char *fmt, ...)
{
        StrBuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);

        j->result.status = status;
        free(j->result.error);
        j->result.error = strbuf_steal(&b);
        return -EIO;
}

void exec_result_take_output(StrBuf *b, char **out, size_t *len, bool *truncated)
{
        *truncated = b->truncated;
        *len = b->len;
        free(*out);
        *out = strbuf_steal(b);
}

size_t exec_output_cap(const Action *a)
{
        return a->output_cap > 0 ? a->output_cap : CONFIG_DEFAULT_OUTPUT_CAP;
}

bool exec_accept_new_host_keys(RealExecutor *e)
{
        return e->opts.accept_new_host_keys;
}

uint64_t exec_fencing_token(RealExecutor *e)
{
        return e->opts.fencing_token;
}

void exec_count_session_opened(RealExecutor *e)
{
        atomic_fetch_add(&e->sessions_opened, 1);
}

unsigned real_executor_sessions_opened(RealExecutor *e)
{
        return atomic_load(&e->sessions_opened);
}

/* Caller holds the lock. */
static void done_push_locked(RealExecutor *e, ActionResult *r)
{
        DoneNode *n = xcalloc(1, sizeof(*n));

        n->result = *r;
        *r = (ActionResult) { .exit_status = -1 };
        if (e->done_tail)
                e->done_tail->next = n;
        else
                e->done_head = n;
        e->done_tail = n;
}

void exec_job_post(ExecJob *j)
{
        RealExecutor *e = j->executor;

        if (j->posted)
                return;
        j->posted = true;
        if (j->result.finished == 0)
                j->result.finished = exec_now();
        if (j->result.status != ACTION_DONE && !j->result.error)
                j->result.error = xstrdup(action_status_to_string(j->result.status));

        pthread_mutex_lock(&e->lock);
        done_push_locked(e, &j->result);
        pthread_mutex_unlock(&e->lock);
        eventfd_signal(e->done_fd);
}

static void job_free(ExecJob *j)
{
        if (!j)
                return;
        if (j->cancel_fd >= 0)
                close(j->cancel_fd);
        action_result_done(&j->result);
        free(j);
}

/* A job may start when it is not an SSH action or its host is free. Caller holds the lock. */
static bool job_runnable_locked(ExecJob *j)
{
        return !j->ssh || !*ssh_session_busy(j->ssh);
}

static ExecJob *pending_take_runnable_locked(RealExecutor *e)
{
        ExecJob *prev = NULL;

        for (ExecJob *j = e->pending_head; j; prev = j, j = j->next) {
                if (!job_runnable_locked(j))
                        continue;
                if (prev)
                        prev->next = j->next;
                else
                        e->pending_head = j->next;
                if (e->pending_tail == j)
                        e->pending_tail = prev;
                j->next = NULL;
                return j;
        }
        return NULL;
}

static size_t pending_count_runnable_locked(RealExecutor *e)
{
        size_t n = 0;

        for (ExecJob *j = e->pending_head; j; j = j->next)
                if (job_runnable_locked(j))
                        n++;
        return n;
}

static void inflight_remove_locked(RealExecutor *e, ExecJob *j)
{
        for (ExecJob **p = &e->inflight; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        j->next = NULL;
                        return;
                }
}

static void job_run(ExecJob *j)
{
        j->result.started = exec_now();

        if (exec_job_cancelled(j)) {
                exec_fail(j, ACTION_CANCELLED, "cancelled before it started");
                return;
        }
        /* An action that waited behind a slow one on the same host may already be late. */
        if (j->action.deadline != USEC_INFINITY && j->result.started >= j->action.deadline) {
                exec_fail(j, ACTION_TIMEOUT, "deadline passed before the action could start");
                return;
        }

        switch (j->action.kind) {
        case ACTION_SSH:
                exec_ssh_run(j);
                break;
        case ACTION_HTTP:
                exec_http_run(j);
                break;
        case ACTION_LOCAL:
                exec_local_run(j);
                break;
        default:
                exec_fail(j, ACTION_FAILED, "unknown action kind");
        }
}

static void *worker_main(void *userdata)
{
        RealExecutor *e = userdata;

        pthread_mutex_lock(&e->lock);
        for (;;) {
                ExecJob *j = pending_take_runnable_locked(e);

                if (!j) {
                        if (e->shutting_down)
                                break;
                        e->n_idle++;
                        pthread_cond_wait(&e->cond, &e->lock);
                        e->n_idle--;
                        continue;
                }

                if (j->ssh)
                        *ssh_session_busy(j->ssh) = true;
                j->next = e->inflight;
                e->inflight = j;
                pthread_mutex_unlock(&e->lock);

                job_run(j);
                exec_job_post(j); /* no-op when the runner posted early */

                pthread_mutex_lock(&e->lock);
                inflight_remove_locked(e, j);
                if (j->ssh) {
                        *ssh_session_busy(j->ssh) = false;
                        /* Jobs queued behind this host may run now. */
                        pthread_cond_broadcast(&e->cond);
                }
                job_free(j);
        }
        pthread_mutex_unlock(&e->lock);
        return NULL;
}

/* Caller holds the lock. */
static int worker_spawn_locked(RealExecutor *e)
{
        pthread_attr_t attr;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        (void) pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
        r = pthread_create(&t, &attr, worker_main, e);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        e->workers = xrealloc(e->workers, (e->n_workers + 1) * sizeof(*e->workers));
        e->workers[e->n_workers++] = t;
        return 0;
}

static SshSession *session_slot_locked(RealExecutor *e, const Host *host)
{
        for (size_t i = 0; i < e->n_sessions; i++)
                if (ssh_session_host(e->sessions[i]) == host)
                        return e->sessions[i];

        SshSession *s = ssh_session_new(host);
        e->sessions = xrealloc(e->sessions, (e->n_sessions + 1) * sizeof(*e->sessions));
        e->sessions[e->n_sessions++] = s;
        return s;
}

static int action_validate(const Action *a)
{
        switch (a->kind) {
        case ACTION_SSH:
                if (!a->host || !a->command || !a->host->address || !a->host->user || !a->host->known_hosts)
                        return -EINVAL;
                if (!a->host->use_agent && !a->host->key_file)
                        return -EINVAL;
                if (a->input_len > 0 && !a->input)
                        return -EINVAL;
                return 0;
        case ACTION_HTTP:
                return a->url ? 0 : -EINVAL;
        case ACTION_LOCAL:
                return a->argv && a->argv[0] ? 0 : -EINVAL;
        default:
                return -EINVAL;
        }
}

static int real_submit(void *userdata, const Action *action)
{
        RealExecutor *e = userdata;
        ExecJob *j;
        int r;

        if (!action)
                return -EINVAL;
        r = action_validate(action);
        if (r < 0)
                return r;

        j = xcalloc(1, sizeof(*j));
        j->action = *action;
        j->executor = e;
        j->result = (ActionResult) { .tag = action->tag, .exit_status = -1 };
        j->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (j->cancel_fd < 0) {
                r = -errno;
                free(j);
                return r;
        }

        pthread_mutex_lock(&e->lock);
        if (e->shutting_down) {
                pthread_mutex_unlock(&e->lock);
                job_free(j);
                return -ESHUTDOWN;
        }
        if (action->kind == ACTION_SSH)
                j->ssh = session_slot_locked(e, action->host);
        if (e->pending_tail)
                e->pending_tail->next = j;
        else
                e->pending_head = j;
        e->pending_tail = j;

        /* Grow the pool when there is more runnable work than idle workers. Idle workers
         * that were signalled but have not woken yet still count as idle, so two quick
         * submissions do not share one worker. */
        if (pending_count_runnable_locked(e) > e->n_idle && e->n_workers < e->opts.max_workers) {
                r = worker_spawn_locked(e);
                if (r < 0 && e->n_workers == 0) {
                        /* Nobody could ever run it: take it back. */
                        e->pending_head = e->pending_tail = NULL;
                        pthread_mutex_unlock(&e->lock);
                        job_free(j);
                        return r;
                }
                /* Otherwise an existing worker will get to it. */
        }
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        return 0;
}

static int real_wait(void *userdata, usec_t until, ActionResult *ret)
{
        RealExecutor *e = userdata;

        for (;;) {
                DoneNode *n;

                if (eventfd_drain(e->intr_fd))
                        return -EINTR;

                pthread_mutex_lock(&e->lock);
                n = e->done_head;
                if (n) {
                        e->done_head = n->next;
                        if (!e->done_head)
                                e->done_tail = NULL;
                }
                pthread_mutex_unlock(&e->lock);
                if (n) {
                        *ret = n->result;
                        free(n);
                        return 0;
                }

                usec_t now = exec_now();
                int timeout_ms;
                if (until != USEC_INFINITY && now >= until)
                        return -ETIME;
                if (until == USEC_INFINITY)
                        timeout_ms = -1;
                else {
                        usec_t ms = (until - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
                        timeout_ms = ms > INT32_MAX ? INT32_MAX : (int) ms;
                }

                struct pollfd p[2] = {
                        { .fd = e->done_fd, .events = POLLIN },
                        { .fd = e->intr_fd, .events = POLLIN },
                };
                if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
                        return -errno;
                if (p[0].revents & POLLIN)
                        (void) eventfd_drain(e->done_fd);
                /* intr_fd is drained at the top of the loop. */
        }
}

static void real_cancel_all(void *userdata)
{
        RealExecutor *e = userdata;
        bool posted = false;
        ExecJob *j;

        pthread_mutex_lock(&e->lock);
        for (j = e->inflight; j; j = j->next) {
                atomic_store(&j->cancelled, true);
                eventfd_signal(j->cancel_fd);
        }
        /* Jobs nobody started yet end here and now. */
        while ((j = e->pending_head)) {
                e->pending_head = j->next;
                j->result.status = ACTION_CANCELLED;
                j->result.error = xstrdup("cancelled before it started");
                j->result.started = j->result.finished = exec_now();
                done_push_locked(e, &j->result);
                job_free(j);
                posted = true;
        }
        e->pending_tail = NULL;
        pthread_mutex_unlock(&e->lock);
        if (posted)
                eventfd_signal(e->done_fd);
}

static void real_interrupt(void *userdata)
{
        RealExecutor *e = userdata;

        /* Async-signal-safe: a single write(2). */
        eventfd_signal(e->intr_fd);
}

static usec_t real_now(void *userdata)
{
        return now_usec(CLOCK_MONOTONIC);
}

static usec_t real_now_realtime(void *userdata)
{
        return now_usec(CLOCK_REALTIME);
}

static const ExecutorOps real_executor_ops = {
        .submit = real_submit,
        .wait = real_wait,
        .cancel_all = real_cancel_all,
        .interrupt = real_interrupt,
        .now = real_now,
        .now_realtime = real_now_realtime,
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
        exec_ssh_global_init();
        exec_http_global_init();
}

int real_executor_new(RealExecutor **ret, const RealExecutorOptions *opts)
{
        RealExecutor *e;
        int r;

        if (!ret)
                return -EINVAL;

        pthread_once(&global_once, global_init);

        e = xcalloc(1, sizeof(*e));
        e->done_fd = e->intr_fd = -EBADF;
        if (opts)
                e->opts = *opts;
        if (e->opts.max_workers == 0)
                e->opts.max_workers = DEFAULT_MAX_WORKERS;
        pthread_mutex_init(&e->lock, NULL);
        pthread_cond_init(&e->cond, NULL);

        e->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        e->intr_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (e->done_fd < 0 || e->intr_fd < 0) {
                r = -errno;
                real_executor_free(e);
                return r;
        }

        *ret = e;
        return 0;
}

RealExecutor *real_executor_free(RealExecutor *e)
{
        if (!e)
                return NULL;

        real_cancel_all(e);

        pthread_mutex_lock(&e->lock);
        e->shutting_down = true;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        for (size_t i = 0; i < e->n_workers; i++)
                pthread_join(e->workers[i], NULL);
        free(e->workers);

        for (size_t i = 0; i < e->n_sessions; i++)
                ssh_session_free(e->sessions[i]);
        free(e->sessions);

        while (e->done_head) {
                DoneNode *n = e->done_head;
                e->done_head = n->next;
                action_result_done(&n->result);
                free(n);
        }

        if (e->done_fd >= 0)
                close(e->done_fd);
        if (e->intr_fd >= 0)
                close(e->intr_fd);
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return NULL;
}

Executor real_executor_get(RealExecutor *e)
{
        return (Executor) { .ops = &real_executor_ops, .userdata = e };
}

int real_executor_get_fd(RealExecutor *e)
{
        if (!e)
                return -EINVAL;
        return e->done_fd;
}
