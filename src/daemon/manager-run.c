/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-run.c — playbook runs in worker processes, for the commander (manager.h:
 * manager_start_run, abort_run, answer "run", list_runs) and for the policy's automatic
 * runs (watch*.c).
 *
 * Owns: spawning the worker (drover-worker, started as include/drover/worker-protocol.h
 * declares, through src/shared/spawn.h: posix_spawn + pidfd, never fork in the daemon),
 * its pipes and its exit on the loop, the WorkerRun list. Does not own: the run itself
 * (the worker's engine runs it and journals every step crash-safely, src/worker/),
 * incidents (watch*.c), the encoding of any line (src/engine/worker-proto.c).
 *
 * The worker: a clean environment (PATH, LANG, and only the variables the config's env
 * secrets name, plus CREDENTIALS_DIRECTORY), its three pipes and nothing else, signals
 * unblocked and at their defaults; it sets PR_SET_PDEATHSIG(SIGKILL) itself so that it
 * never outlives a killed daemon. Its stdout is the progress (run-progress.c), its
 * stderr is logged line by line, its stdin carries the answers to approve steps.
 * manager_abort_run() is SIGINT: Ctrl-C semantics, the rollback runs. A hung host
 * delays only the worker's step; the loop never waits on SSH or HTTP. The one
 * synchronous wait is in manager_start_run(): the worker's "run-started" line (bounded
 * by MANAGER_WORKER_START_TIMEOUT), so that the run id is journaled and known when it
 * returns, and a bad parameter is a synchronous error.
 *
 * In a cluster (issue 9, manager-cluster.h): only the leader starts runs, each worker with
 * the leader's epoch (--cluster-epoch: the worker fences every step and writes the shared
 * run record itself, src/engine/run-cluster.c); a newly elected leader lists the record's
 * unfinished runs on the loop (asynchronously) and starts one worker per run with
 * --resume: the worker reads, adopts and continues it in its own process, so that no etcd
 * round trip of the take-over runs on the loop.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/election.h"
#include "config/config.h"
#include "daemon/manager-cluster.h"
#include "daemon/manager-internal.h"
#include "daemon/run-progress.h"
#include "drover/worker-protocol.h"
#include "engine/run-cluster.h"
#include "engine/worker-proto.h"
#include "shared/log.h"
#include "shared/spawn.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"
#include "shared/time-util.h"

#ifndef DROVER_WORKER_PATH
#define DROVER_WORKER_PATH "/usr/libexec/drover/drover-worker"
#endif

struct WorkerRun {
        Manager *manager;
        WorkerRun *next;

        ManagerRun run;      /* what list_runs() and the observer see */
        char *playbook_kind; /* from run-started */
        pid_t pid;           /* 0 once reaped */
        int pidfd;           /* -EBADF once reaped, or where the kernel has no pidfd */
        int stdin_fd, stdout_fd, stderr_fd;
        sd_event_source *stdout_source, *stderr_source, *child_source;
        StrBuf out, err; /* partial lines */
        StrBuf early;    /* stdout read with run-started, handled once the run is tracked */
        bool exited;
        int exit_status; /* as from waitpid() */
        usec_t ended_mono;
};

static const char *const manager_run_state_table[_MANAGER_RUN_STATE_MAX] = {
        [MANAGER_RUN_STARTING] = "starting",
        [MANAGER_RUN_RUNNING] = "running",
        [MANAGER_RUN_WAITING_APPROVAL] = "waiting-approval",
        [MANAGER_RUN_ENDED] = "ended",
};
DEFINE_STRING_TABLE(manager_run_state, ManagerRunState, manager_run_state_table);

static void manager_run_done(ManagerRun *r)
{
        free(r->playbook);
        free(r->trigger);
        free(r->actor);
        free(r->current_step);
        free(r->pending_prompt);
        *r = (ManagerRun){};
}

static void manager_run_copy(ManagerRun *dst, const ManagerRun *src)
{
        *dst = *src;
        dst->playbook = xstrdup(src->playbook);
        dst->trigger = xstrdup(src->trigger);
        dst->actor = xstrdup(src->actor);
        dst->current_step = xstrdup(src->current_step);
        dst->pending_prompt = xstrdup(src->pending_prompt);
}

void manager_run_free_array(ManagerRun *a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                manager_run_done(&a[i]);
        free(a);
}

static void safe_close(int *fd)
{
        if (*fd >= 0)
                (void) close(*fd);
        *fd = -1;
}

static WorkerRun *worker_free(WorkerRun *w)
{
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->stdout_source);
        sd_event_source_disable_unref(w->stderr_source);
        sd_event_source_disable_unref(w->child_source);
        safe_close(&w->stdin_fd);
        safe_close(&w->stdout_fd);
        safe_close(&w->stderr_fd);
        if (w->pid > 0) {
                /* Only at daemon exit with a worker still alive (after the stop bound). */
                (void) pidfd_kill(w->pidfd, w->pid, SIGKILL);
                (void) waitpid(w->pid, NULL, 0);
        }
        safe_close(&w->pidfd);
        strbuf_done(&w->out);
        strbuf_done(&w->err);
        strbuf_done(&w->early);
        manager_run_done(&w->run);
        free(w->playbook_kind);
        free(w);
        return NULL;
}

void manager_runs_free(Manager *m)
{
        while (m->runs) {
                WorkerRun *w = m->runs;
                m->runs = w->next;
                worker_free(w);
        }
        m->runrec_client = etcd_client_free(m->runrec_client); /* cancels a listing in flight */
}

static bool worker_active(const WorkerRun *w)
{
        return w->pid > 0 || w->run.state != MANAGER_RUN_ENDED;
}

size_t manager_runs_n_active(const Manager *m)
{
        size_t n = 0;
        for (const WorkerRun *w = m->runs; w; w = w->next)
                if (worker_active(w))
                        n++;
        return n;
}

const ManagerRun *manager_runs_current(const Manager *m)
{
        for (const WorkerRun *w = m->runs; w; w = w->next)
                if (worker_active(w))
                        return &w->run;
        return NULL;
}

bool manager_runs_active_for_incident(const Manager *m, int64_t incident_id)
{
        for (const WorkerRun *w = m->runs; w; w = w->next)
                if (worker_active(w) && incident_id > 0 && w->run.incident_id == incident_id)
                        return true;
        return false;
}

static WorkerRun *find_run(Manager *m, int64_t id)
{
        for (WorkerRun *w = m->runs; w; w = w->next)
                if (w->run.id == id)
                        return w;
        return NULL;
}

/* Drop runs that ended long ago from the in-memory list. */
static void prune_runs(Manager *m)
{
        usec_t now = now_usec(CLOCK_MONOTONIC);
        for (WorkerRun **p = &m->runs; *p;) {
                WorkerRun *w = *p;
                if (!worker_active(w) && w->ended_mono > 0 && now - w->ended_mono > MANAGER_ENDED_RUN_KEEP) {
                        *p = w->next;
                        worker_free(w);
                } else
                        p = &w->next;
        }
}

static void notify_run_changed(Manager *m, WorkerRun *w)
{
        if (m->observer.run_changed)
                m->observer.run_changed(m->observer.userdata, &w->run);
        manager_update_status(m);
}

/* The worker's run has ended (run-finished, or the worker died without saying). */
static void worker_ended(WorkerRun *w)
{
        Manager *m = w->manager;

        if (w->run.state == MANAGER_RUN_ENDED && w->ended_mono > 0)
                return;
        w->run.state = MANAGER_RUN_ENDED;
        w->ended_mono = now_usec(CLOCK_MONOTONIC);
        free(w->run.current_step);
        w->run.current_step = NULL;
        free(w->run.pending_prompt);
        w->run.pending_prompt = NULL;
        if (m->watch)
                watch_run_ended(m->watch, &w->run, w->playbook_kind);
        notify_run_changed(m, w);
}

static void worker_handle_line(WorkerRun *w, const char *line)
{
        Manager *m = w->manager;
        RunProgress p = {};
        int r;

        r = run_progress_apply(&w->run, line, &p);
        if (r < 0) {
                log_warning("run %lld: ignoring a worker line that is not a progress event",
                            (long long) w->run.id);
                return;
        }
        switch (p.kind) {
        case RUN_PROGRESS_STARTED:
                free(w->playbook_kind);
                w->playbook_kind = TAKE_PTR(p.playbook_kind);
                break;
        case RUN_PROGRESS_STEP_STARTED:
                if (m->observer.step_started)
                        m->observer.step_started(m->observer.userdata, w->run.id, p.step, p.target);
                notify_run_changed(m, w);
                break;
        case RUN_PROGRESS_STEP_FINISHED:
                if (m->observer.step_finished)
                        m->observer.step_finished(m->observer.userdata, w->run.id, p.step, p.target,
                                                  p.outcome);
                notify_run_changed(m, w);
                break;
        case RUN_PROGRESS_APPROVAL_REQUESTED:
                log_info("run %lld (%s): approval requested for step %s: %s", (long long) w->run.id,
                         w->run.playbook, strna(p.step), strempty(p.prompt));
                if (m->observer.approval_requested)
                        m->observer.approval_requested(m->observer.userdata, "run", w->run.id,
                                                       strempty(p.prompt));
                notify_run_changed(m, w);
                break;
        case RUN_PROGRESS_FINISHED:
                log_info("run %lld (%s) %s", (long long) w->run.id, w->run.playbook, run_outcome_to_string(w->run.outcome));
                w->run.state = MANAGER_RUN_ENDED;
                worker_ended(w);
                break;
        default:
                break;
        }
        run_progress_done(&p);
}

/* Split buffered bytes into lines; returns the number handled. */
static void feed_lines(StrBuf *buf, const char *data, size_t n, void (*fn)(WorkerRun *, const char *),
                       WorkerRun *w)
{
        for (size_t i = 0; i < n; i++) {
                if (data[i] != '\n') {
                        strbuf_putc(buf, data[i]);
                        continue;
                }
                _cleanup_free_ char *line = strbuf_steal(buf);
                fn(w, line ?: "");
        }
}

static void worker_log_line(WorkerRun *w, const char *line)
{
        if (*line)
                log_info("run %lld worker: %s", (long long) w->run.id, line);
}

static int on_worker_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        WorkerRun *w = userdata;
        bool is_out = fd == w->stdout_fd;
        char buf[4096];
        ssize_t n;

        n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                /* EOF: the worker closed it (it exits next). */
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        feed_lines(is_out ? &w->out : &w->err, buf, (size_t) n,
                   is_out ? worker_handle_line : worker_log_line, w);
        return 0;
}

static void drain_fd(WorkerRun *w, int fd)
{
        char buf[4096];
        ssize_t n;

        if (fd < 0)
                return;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                feed_lines(fd == w->stdout_fd ? &w->out : &w->err, buf, (size_t) n,
                           fd == w->stdout_fd ? worker_handle_line : worker_log_line, w);
}

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        WorkerRun *w = userdata;
        Manager *m = w->manager;
        unsigned n_runs = 0, n_steps = 0;

        /* sd-event has reaped it (WEXITED). Read what is left on the pipes first. */
        w->pid = 0;
        w->exited = true;
        w->exit_status = si->si_status;
        drain_fd(w, w->stdout_fd);
        drain_fd(w, w->stderr_fd);
        sd_event_source_disable_unref(w->stdout_source);
        sd_event_source_disable_unref(w->stderr_source);
        w->stdout_source = w->stderr_source = NULL;
        safe_close(&w->stdin_fd);
        safe_close(&w->stdout_fd);
        safe_close(&w->stderr_fd);

        if (w->run.outcome == RUN_RUNNING) {
                /* Killed or crashed before run-finished: its journal run is still "running";
                 * recovery marks it (and its step in flight) interrupted, since the pid is gone. */
                (void) journal_recover(m->journal, &n_runs, &n_steps);
                w->run.outcome = RUN_INTERRUPTED;
                log_warning(
                        "run %lld: the worker died (%s %d) before the run ended; journaled as interrupted",
                        (long long) w->run.id, si->si_code == CLD_EXITED ? "exit" : "signal", si->si_status);
                manager_journal_event(m, "run-worker-died", "the run's worker died before the run ended",
                                      json_pack("{s:I, s:s, s:i}", "run", (json_int_t) w->run.id, "how",
                                                si->si_code == CLD_EXITED ? "exit" : "signal", "status",
                                                si->si_status));
        }
        worker_ended(w);
        sd_event_source_disable_unref(w->child_source);
        w->child_source = NULL;
        /* Only now: the source watched this descriptor, and its number may be reused. */
        safe_close(&w->pidfd);
        manager_maybe_exit(m);
        return 0;
}

static char **build_env(const Config *c)
{
        char **env = NULL;
        size_t n = 0;
        const char *keep[] = {DROVER_WORKER_ENV_KEEP};

        *(char **) array_push(&env, &n, sizeof(char *)) = xstrdup("PATH=" DROVER_WORKER_ENV_PATH);
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                const char *v = getenv(keep[i]);
                if (v)
                        *(char **) array_push(&env, &n, sizeof(char *)) = xasprintf("%s=%s", keep[i], v);
        }
        /* Secrets read from the environment must reach the worker, and nothing else. */
        for (size_t i = 0; i < c->n_secrets; i++) {
                const char *v;
                if (c->secrets[i].source != SECRET_SOURCE_ENV || !(v = getenv(c->secrets[i].ref)))
                        continue;
                *(char **) array_push(&env, &n, sizeof(char *)) = xasprintf("%s=%s", c->secrets[i].ref, v);
        }
        *(char **) array_push(&env, &n, sizeof(char *)) = NULL;
        return env;
}

static const char *worker_path(void)
{
        const char *p = getenv(DROVER_WORKER_ENV);
        return p && *p ? p : DROVER_WORKER_PATH;
}

static bool valid_param_name(const char *s)
{
        return s && *s && !strchr(s, '=');
}

/* What the cluster adds to a worker's command line. */
typedef struct RunClusterArgs {
        uint64_t epoch;     /* 0: no fence (standalone, or a no-quorum override) */
        const char *resume; /* a cluster run id to take over, or NULL */
} RunClusterArgs;

static int spawn_worker(Manager *m, const ManagerRunRequest *req, const RunClusterArgs *ca, pid_t *ret_pid,
                        int *ret_pidfd, int fds[3])
{
        _cleanup_strv_free_ char **argv = NULL, **envp = NULL;
        int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
        int r = 0;

        WorkerArgs args = {
                .protocol = DROVER_WORKER_PROTOCOL_VERSION,
                .parent_pid = getpid(),
                .config_path = m->config_path,
                .db_path = m->journal_path,
                .playbook = req->playbook,
                .trigger = req->trigger,
                .actor = req->actor,
                .incident_id = req->incident_id,
                .dry_run = req->dry_run,
                .params = (ParamValue *) req->params,
                .n_params = req->n_params,
                .cluster_epoch = ca->epoch,
                .resume = ca->resume,
        };
        argv = worker_args_to_argv(worker_path(), &args);
        envp = build_env(m->config);

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                goto finish;
        }
        int child_fds[_DROVER_WORKER_FD_MAX] = {
                [DROVER_WORKER_FD_ANSWERS] = in[0],
                [DROVER_WORKER_FD_PROGRESS] = out[1],
                [DROVER_WORKER_FD_LOG] = err[1],
        };
        r = spawn(&(SpawnOptions){
                          .path = argv[0],
                          .argv = argv,
                          .envp = envp,
                          .fds = child_fds,
                          .n_fds = ELEMENTSOF(child_fds),
                  },
                  ret_pid, ret_pidfd);
        if (r < 0)
                goto finish;

        fds[0] = TAKE_FD(in[1]);
        fds[1] = TAKE_FD(out[0]);
        fds[2] = TAKE_FD(err[0]);
finish:
        safe_close(&in[0]);
        safe_close(&in[1]);
        safe_close(&out[0]);
        safe_close(&out[1]);
        safe_close(&err[0]);
        safe_close(&err[1]);
        return r;
}

/* Wait (bounded) until the worker printed run-started, or exited. Lines read go through
 * the usual handlers (so the run id and state are set). Returns 1 when started, 0 when the
 * worker exited first (*ret_status set), -ETIMEDOUT. For a dry run, reads to the end. */
static int wait_worker_started(WorkerRun *w, bool to_end, StrBuf *plan, int *ret_status)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + MANAGER_WORKER_START_TIMEOUT;
        bool out_open = true, err_open = true;

        while (out_open || err_open) {
                struct pollfd p[2] = {
                        {.fd = out_open ? w->stdout_fd : -1, .events = POLLIN},
                        {.fd = err_open ? w->stderr_fd : -1, .events = POLLIN},
                };
                usec_t now = now_usec(CLOCK_MONOTONIC);
                char buf[4096];

                if (now >= deadline)
                        return -ETIMEDOUT;
                int k = poll(p, 2, (int) ((deadline - now) / USEC_PER_MSEC + 1));
                if (k < 0 && errno != EINTR)
                        return -errno;
                for (int i = 0; i < 2 && k > 0; i++) {
                        if (!p[i].revents)
                                continue;
                        ssize_t n = read(p[i].fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                if (i == 0)
                                        out_open = false;
                                else
                                        err_open = false;
                                continue;
                        }
                        if (i == 1) {
                                strbuf_append(&w->err, buf, (size_t) n); /* kept whole for ret_error */
                                continue;
                        }
                        if (to_end) {
                                strbuf_append(plan, buf, (size_t) n);
                                continue;
                        }
                        for (ssize_t j = 0; j < n; j++) {
                                if (buf[j] != '\n') {
                                        strbuf_putc(&w->out, buf[j]);
                                        continue;
                                }
                                _cleanup_free_ char *line = strbuf_steal(&w->out);
                                worker_handle_line(w, line ?: "");
                                if (w->run.id > 0) {
                                        /* The rest of this chunk: handled once the run is tracked. */
                                        strbuf_append(&w->early, buf + j + 1, (size_t) (n - j - 1));
                                        return 1;
                                }
                        }
                }
        }
        int status = 0;
        if (waitpid(w->pid, &status, 0) < 0)
                return -errno;
        w->pid = 0;
        *ret_status = status;
        return 0;
}

/* The worker's stderr without the program prefix, as one sentence for ret_error. */
static char *worker_error_text(WorkerRun *w, int status)
{
        const char *e = strbuf_str(&w->err);
        StrBuf b = STRBUF_INIT;

        for (const char *line = e; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                const char *prefix = DROVER_WORKER_PROGRAM ": ";
                if (len >= strlen(prefix) && strncmp(line, prefix, strlen(prefix)) == 0) {
                        line += strlen(prefix);
                        len -= strlen(prefix);
                }
                if (len > 0) {
                        if (b.len > 0)
                                strbuf_puts(&b, "; ");
                        strbuf_append(&b, line, len);
                }
                line = nl ? nl + 1 : line + strlen(line);
        }
        if (b.len == 0)
                strbuf_printf(&b, "the run worker %s %d",
                              WIFEXITED(status) ? "exited with" : "was killed by signal",
                              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return strbuf_steal(&b);
}

/* Pure: may a run start here, and with which fencing token? 0 and *ret_epoch (0: no fence),
 * or -EREMOTE (a follower) / -ENOLINK (no quorum, or a leader unsure of its lease) with
 * *ret_error. *ret_override: it starts only because of the commander's override. */
int manager_run_cluster_gate(const ManagerClusterView *v, bool may_act, bool dry_run, bool override_no_quorum,
                             uint64_t *ret_epoch, bool *ret_override, char **ret_error)
{
        *ret_epoch = 0;
        *ret_override = false;
        if (dry_run || v->role == CLUSTER_ROLE_STANDALONE)
                return 0;
        if (v->role == CLUSTER_ROLE_LEADER && may_act && v->epoch > 0) {
                *ret_epoch = v->epoch;
                return 0;
        }
        if (v->role == CLUSTER_ROLE_FOLLOWER) {
                *ret_error = v->leader ? xasprintf("this node (%s) follows: %s leads the cluster and starts its runs",
                                                   strna(v->node), v->leader)
                                       : xasprintf("this node (%s) follows: ask the leader", strna(v->node));
                return -EREMOTE;
        }
        /* No quorum, or a leader that cannot be sure of its lease: nothing acts without a commander. */
        if (override_no_quorum) {
                *ret_override = true;
                return 0;
        }
        *ret_error = xasprintf("no etcd quorum (this node is %s): no run starts without an explicit override",
                               v->role == CLUSTER_ROLE_LEADER ? "a leader unsure of its lease"
                                                              : strna(cluster_role_to_string(v->role)));
        return -ENOLINK;
}

static int start_run(Manager *m, const ManagerRunRequest *req, const RunClusterArgs *ca, int64_t *ret_run_id,
                     char **ret_plan, char **ret_error);

int manager_start_run(Manager *m, const ManagerRunRequest *req, int64_t *ret_run_id, char **ret_plan,
                      char **ret_error)
{
        ManagerClusterView v;
        RunClusterArgs ca = {};
        _cleanup_free_ char *error = NULL;
        bool override = false;
        int64_t id = 0;
        int r;

        if (!req)
                return -EINVAL;
        manager_cluster_view(m, &v);
        r = manager_run_cluster_gate(&v, manager_cluster_may_act(m), req->dry_run, req->override_no_quorum,
                                     &ca.epoch, &override, &error);
        if (r < 0) {
                log_warning("run of %s by %s refused: %s", strna(req->playbook), strna(req->actor), error);
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        r = start_run(m, req, &ca, &id, ret_plan, ret_error);
        if (r < 0)
                return r;
        if (override && id > 0) {
                _cleanup_free_ char *msg = xasprintf("started by %s without an etcd quorum (role %s): an explicit "
                                                     "override; its steps are not fenced",
                                                     req->actor, strna(cluster_role_to_string(v.role)));
                _cleanup_(json_decrefp) json_t *data =
                        json_pack("{s:s?, s:s?, s:I, s:s?, s:s, s:s?}", "actor", req->actor, "playbook",
                                  req->playbook, "run", (json_int_t) id, "node", v.node, "role",
                                  cluster_role_to_string(v.role), "reason", v.reason);
                _cleanup_free_ char *data_json = data ? json_dumps(data, JSON_COMPACT) : NULL;
                log_warning("run %lld: %s", (long long) id, msg);
                r = journal_event(m->journal, id, now_usec(CLOCK_REALTIME),
                                  cluster_event_to_string(CLUSTER_EVENT_OVERRIDE), msg, data_json);
                if (r < 0)
                        log_warning_errno(r, "journal: cannot record the override of run %lld: %s", (long long) id,
                                          strerror(-r));
        }
        if (ret_run_id)
                *ret_run_id = id;
        return 0;
}

static int start_run(Manager *m, const ManagerRunRequest *req, const RunClusterArgs *ca, int64_t *ret_run_id,
                     char **ret_plan, char **ret_error)
{
        WorkerRun *w;
        int fds[3] = {-1, -1, -1}, status = 0, r;

        if (!req || (!ca->resume && (!req->playbook || !*req->playbook)) || !req->actor || !*req->actor) {
                if (ret_error)
                        *ret_error = xstrdup("a run needs a playbook and an actor");
                return -EINVAL;
        }
        for (size_t i = 0; i < req->n_params; i++)
                if (!valid_param_name(req->params[i].name)) {
                        if (ret_error)
                                *ret_error =
                                        xasprintf("bad parameter name '%s'", strempty(req->params[i].name));
                        return -EINVAL;
                }
        const char *trigger = req->trigger ?: "manual";
        if (!worker_trigger_valid(trigger)) {
                if (ret_error)
                        *ret_error = xasprintf("unknown trigger '%s'", trigger);
                return -EINVAL;
        }
        if (!m->accepting || m->stopping) {
                if (ret_error)
                        *ret_error = xstrdup("droverd is stopping and takes no new runs");
                return -EBUSY;
        }
        prune_runs(m);

        ManagerRunRequest rq = *req;
        rq.trigger = trigger;
        w = xcalloc(1, sizeof(*w));
        w->manager = m;
        w->stdin_fd = w->stdout_fd = w->stderr_fd = -1;
        w->pidfd = -EBADF;
        /* A resumed run: the worker reads its playbook from the run record. */
        w->run.playbook = req->playbook ? xstrdup(req->playbook) : xasprintf("resume of %s", ca->resume);
        w->run.trigger = xstrdup(trigger);
        w->run.actor = xstrdup(req->actor);
        w->run.incident_id = req->incident_id;
        w->run.state = MANAGER_RUN_STARTING;

        r = spawn_worker(m, &rq, ca, &w->pid, &w->pidfd, fds);
        if (r < 0) {
                log_error_errno(r, "cannot start a run worker (%s): %s", worker_path(), strerror(-r));
                if (ret_error)
                        *ret_error = xasprintf("cannot start the run worker: %s", strerror(-r));
                worker_free(w);
                return r;
        }
        w->stdin_fd = fds[0];
        w->stdout_fd = fds[1];
        w->stderr_fd = fds[2];

        StrBuf plan = STRBUF_INIT;
        r = wait_worker_started(w, req->dry_run, &plan, &status);
        if (r == -ETIMEDOUT) {
                log_error("run worker for %s did not start its run in time; killed", w->run.playbook);
                if (ret_error)
                        *ret_error = xstrdup("the run worker did not start the run in time");
                strbuf_done(&plan);
                worker_free(w); /* SIGKILL + wait: it had not journaled anything as running yet,
                                 * or recovery marks it interrupted */
                unsigned a, b;
                (void) journal_recover(m->journal, &a, &b);
                return -ETIMEDOUT;
        }
        if (r < 0) {
                strbuf_done(&plan);
                worker_free(w);
                return r;
        }
        if (r == 0) {
                /* Exited without a run: a dry run's end, or a refusal (usage/validation 2). */
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                if (req->dry_run && code == 0) {
                        if (ret_plan)
                                *ret_plan = strbuf_steal(&plan);
                        strbuf_done(&plan);
                        worker_free(w);
                        return 0;
                }
                _cleanup_free_ char *e = worker_error_text(w, status);
                log_warning("run of %s refused: %s", w->run.playbook, e);
                if (ret_error)
                        *ret_error = TAKE_PTR(e);
                strbuf_done(&plan);
                worker_free(w);
                return code == DROVER_WORKER_EXIT_REFUSED ? -EINVAL : -EIO;
        }
        strbuf_done(&plan);

        /* Running: stderr so far to the log, then everything through the loop. */
        {
                _cleanup_free_ char *early = strbuf_steal(&w->err);
                if (early)
                        feed_lines(&w->err, early, strlen(early), worker_log_line, w);
        }
        (void) fcntl(w->stdout_fd, F_SETFL, fcntl(w->stdout_fd, F_GETFL) | O_NONBLOCK);
        (void) fcntl(w->stderr_fd, F_SETFL, fcntl(w->stderr_fd, F_GETFL) | O_NONBLOCK);
        r = sd_event_add_io(m->event, &w->stdout_source, w->stdout_fd, EPOLLIN, on_worker_output, w);
        if (r >= 0)
                r = sd_event_add_io(m->event, &w->stderr_source, w->stderr_fd, EPOLLIN, on_worker_output, w);
        if (r >= 0 && w->pidfd >= 0)
                r = sd_event_add_child_pidfd(m->event, &w->child_source, w->pidfd, WEXITED, on_worker_exit, w);
        else if (r >= 0)
                r = sd_event_add_child(m->event, &w->child_source, w->pid, WEXITED, on_worker_exit, w);
        if (r < 0) {
                log_error_errno(r, "cannot watch run worker %d: %s", (int) w->pid, strerror(-r));
                if (ret_error)
                        *ret_error = xasprintf("cannot watch the run worker: %s", strerror(-r));
                worker_free(w);
                unsigned a, b;
                (void) journal_recover(m->journal, &a, &b);
                return r;
        }
        w->next = m->runs;
        m->runs = w;

        log_info("run %lld: %s started by %s (trigger %s%s%.0lld), worker pid %d", (long long) w->run.id,
                 w->run.playbook, w->run.actor, w->run.trigger, w->run.incident_id > 0 ? ", incident " : "",
                 (long long) (w->run.incident_id > 0 ? w->run.incident_id : 0), (int) w->pid);
        if (m->watch)
                watch_run_started(m->watch, &w->run, w->playbook_kind);
        if (ret_run_id)
                *ret_run_id = w->run.id;
        notify_run_changed(m, w);
        if (w->early.len > 0) {
                _cleanup_free_ char *early = strbuf_steal(&w->early);
                feed_lines(&w->out, early, strlen(early), worker_handle_line, w);
        }
        return 0;
}

int manager_abort_run(Manager *m, int64_t run_id, const char *actor)
{
        WorkerRun *w = find_run(m, run_id);
        _cleanup_free_ char *msg = NULL;

        if (!actor || !*actor)
                return -EINVAL;
        if (!w)
                return -ENOENT;
        if (w->pid <= 0 || w->run.state == MANAGER_RUN_ENDED)
                return -EALREADY;
        msg = xasprintf("abort of run %lld requested by %s", (long long) run_id, actor);
        log_info("%s", msg);
        manager_journal_event(m, "run-abort-requested", msg,
                              json_pack("{s:I, s:s}", "run", (json_int_t) run_id, "actor", actor));
        return pidfd_kill(w->pidfd, w->pid, SIGINT);
}

/* A gate's answer, to the worker's stdin as one JSON line. */
int manager_answer_run(Manager *m, int64_t run_id, GateAnswer answer, const char *actor, const char *comment)
{
        static const char *const verbs[] = {
                [GATE_DENY] = "denied", [GATE_APPROVE] = "approved", [GATE_SKIP] = "skipped the step of"};
        static const char *const kinds[] = {
                [GATE_DENY] = "gate-denied", [GATE_APPROVE] = "gate-approved", [GATE_SKIP] = "gate-skipped"};
        WorkerRun *w = find_run(m, run_id);
        _cleanup_free_ char *line = NULL, *msg = NULL;
        int r;

        if (!w)
                return -ENOENT;
        if (w->run.state != MANAGER_RUN_WAITING_APPROVAL || w->stdin_fd < 0)
                return -EALREADY;
        if (answer == GATE_SKIP && !w->run.pending_skippable)
                return -EOPNOTSUPP;
        /* Four eyes, when drover.yaml asks for it (approvals.four_eyes): whoever asked for
         * the run does not approve its gates ("policy" runs are approved by people), nor
         * moves it on past one. */
        if (answer != GATE_DENY && m->config->four_eyes && streq(actor, w->run.actor))
                return -EPERM;
        r = worker_answer_format(&(WorkerAnswer){.approve = answer == GATE_APPROVE,
                                                 .skip = answer == GATE_SKIP,
                                                 .actor = actor,
                                                 .comment = comment},
                                 &line);
        if (r < 0)
                return r;
        _cleanup_free_ char *withnl = xasprintf("%s\n", line);
        size_t len = strlen(withnl), off = 0;
        while (off < len) {
                ssize_t n = write(w->stdin_fd, withnl + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                off += (size_t) n;
        }
        msg = xasprintf("%s %s the pending gate of run %lld%s%s", actor, verbs[answer], (long long) run_id,
                        comment ? ": " : "", strempty(comment));
        log_info("%s", msg);
        manager_journal_event(m, kinds[answer], msg,
                              json_pack("{s:I, s:s, s:s?}", "run", (json_int_t) run_id, "actor", actor,
                                        "comment", comment));
        w->run.state = MANAGER_RUN_RUNNING;
        free(w->run.pending_prompt);
        w->run.pending_prompt = NULL;
        w->run.pending_skippable = false;
        notify_run_changed(m, w);
        return 0;
}

int manager_list_runs(Manager *m, ManagerRun **ret, size_t *ret_n)
{
        ManagerRun *a = NULL;
        size_t n = 0;

        prune_runs(m);
        for (const WorkerRun *w = m->runs; w; w = w->next)
                manager_run_copy(array_push(&a, &n, sizeof(ManagerRun)), &w->run);
        *ret = a;
        *ret_n = n;
        return 0;
}

size_t manager_runs_cancel_all(Manager *m, const char *why)
{
        size_t n = 0;

        for (WorkerRun *w = m->runs; w; w = w->next) {
                if (w->pid <= 0)
                        continue;
                log_info("run %lld (%s): cancelling its worker (%s)", (long long) w->run.id, w->run.playbook,
                         why);
                (void) pidfd_kill(w->pidfd, w->pid, SIGINT);
                n++;
        }
        return n;
}

void manager_runs_kill_all(Manager *m)
{
        for (WorkerRun *w = m->runs; w; w = w->next)
                if (w->pid > 0) {
                        log_warning("run %lld (%s): worker did not stop in time, killing it",
                                    (long long) w->run.id, w->run.playbook);
                        (void) pidfd_kill(w->pidfd, w->pid, SIGKILL);
                }
}

/* A new leader's take-over (issue 9). The list is read on the loop; each run then gets a
 * worker with --resume, which reads, adopts (fenced) and continues it in its own process.
 * Started as trigger "auto", actor "cluster"; a run already taken over (by an earlier
 * call in this leadership) is not started twice. */
static bool resume_already_started(const Manager *m, const char *id)
{
        _cleanup_free_ char *label = xasprintf("resume of %s", id);

        for (WorkerRun *w = m->runs; w; w = w->next)
                if (w->pid > 0 && streq(w->run.playbook, label))
                        return true;
        return false;
}

/* A run record's id starts with the epoch it was started in (runrec_make_id()): one of
 * this leadership's epoch is this node's own run, live in its worker (the listing can
 * arrive after the new leader's first automatic run began), never a take-over. */
static bool started_in_epoch(const char *id, uint64_t epoch)
{
        char *end = NULL;
        unsigned long long e;

        errno = 0;
        e = strtoull(id, &end, 10);
        return errno == 0 && end != id && *end == '-' && e == epoch;
}

static void on_unfinished(int error, char **ids, void *userdata)
{
        Manager *m = userdata;
        uint64_t epoch = m->resume_epoch;
        ManagerClusterView v;
        size_t n = 0;

        manager_cluster_view(m, &v);
        if (error < 0)
                log_warning_errno(error, "cluster: cannot list the unfinished runs: %s", strerror(-error));
        else if (v.role != CLUSTER_ROLE_LEADER || v.epoch != epoch)
                log_info("cluster: no longer leader in epoch %llu; unfinished runs left to the next leader",
                         (unsigned long long) epoch);
        else
                for (char **id = ids; id && *id; id++) {
                        _cleanup_free_ char *err = NULL;
                        RunClusterArgs ca = {.epoch = epoch, .resume = *id};
                        ManagerRunRequest req = {.trigger = "auto", .actor = "cluster"};
                        int64_t run_id = 0;
                        int r;

                        if (started_in_epoch(*id, epoch) || resume_already_started(m, *id))
                                continue;
                        r = start_run(m, &req, &ca, &run_id, NULL, &err);
                        if (r < 0)
                                log_error("cluster: run %s cannot be resumed: %s", *id, err ? err : strerror(-r));
                        else {
                                log_info("cluster: run %s resumed as run %lld", *id, (long long) run_id);
                                n++;
                        }
                }
        if (n > 0)
                log_info("cluster: %zu unfinished run(s) taken over", n);
        strv_free(ids);
}

int manager_runs_resume_unfinished(Manager *m)
{
        const Config *cfg = m->config;
        ManagerClusterView v;
        EtcdClient *c;
        int r;

        manager_cluster_view(m, &v);
        if (v.role != CLUSTER_ROLE_LEADER || !cfg || !cfg->cluster)
                return 0;
        if (!m->runrec_client) {
                r = etcd_client_new_from_config(&c, cfg->cluster);
                if (r >= 0) {
                        r = etcd_client_attach_event(c, m->event);
                        if (r < 0)
                                etcd_client_free(c);
                }
                if (r < 0)
                        return log_warning_errno(r, "cluster: cannot set up an etcd client for the run record: %s",
                                                 strerror(-r));
                m->runrec_client = c;
        }
        c = m->runrec_client;
        /* The callback reads the epoch from the manager: nothing to free if the client goes
         * first (manager_runs_free() cancels the listing). A second election meanwhile just
         * moves the epoch on; the callback checks it against the view. */
        m->resume_epoch = v.epoch;
        r = run_cluster_list_unfinished_async(c, cfg->cluster, on_unfinished, m);
        if (r < 0)
                return log_warning_errno(r, "cluster: cannot ask for the unfinished runs: %s", strerror(-r));
        return 0;
}
