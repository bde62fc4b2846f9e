/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * drover-worker.c — droverd's run worker: runs one playbook with the engine and the real
 * executor, journals it (src/engine/run-journal.c, the same records as `droverctl run`),
 * and speaks the worker protocol with droverd (include/drover/worker-protocol.h): the
 * command line, progress lines on stdout, approval answers on stdin, the exit status.
 *
 * Started only by droverd (src/daemon/manager-run.c), never by people; installed in
 * libexecdir/drover/. Owns: this one run's process — its lifetime (it dies with droverd),
 * its signals (SIGINT/SIGTERM cancel the run, the rollback runs), the approval gate over
 * the pipe. Does not own: what the run does (src/engine), how it is journaled
 * (run-journal.c), the encoding of any line (src/engine/worker-proto.c).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "drover/worker-protocol.h"
#include "cluster/etcd.h"
#include "engine/engine.h"
#include "engine/run-cluster.h"
#include "engine/run-journal.h"
#include "engine/worker-proto.h"
#include "exec/executor-real.h"
#include "playbook/playbook-path.h"
#include "playbook/playbook.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"

typedef struct Worker {
        RunJournal rj;
        usec_t started_mono; /* for run-finished's duration_ms */
        RunCluster *cluster; /* --cluster-epoch: the shared run record and the fence; else NULL */
        const char *resumed; /* --resume: what the take-over found (the "cluster-resumed" event) */
} Worker;

/* A signal handler can reach nothing else; engine_request_cancel() is async-signal-safe. */
static Engine *volatile cancel_target;
static volatile sig_atomic_t n_signals;

static void on_signal(int sig)
{
        n_signals++;
        if (cancel_target)
                engine_request_cancel(cancel_target);
}

/* One progress line to droverd. A write to a droverd that is gone kills us (SIGPIPE is at
 * its default): the run is then interrupted, as if droverd's SIGKILL had reached us. */
static void send_message(const WorkerMessage *m)
{
        _cleanup_free_ char *line = NULL;

        if (worker_message_format(m, &line) < 0) {
                log_error("cannot encode a %s line", strna(worker_message_type_to_string(m->type)));
                return;
        }
        (void) fputs(line, stdout);
        (void) fputc('\n', stdout);
        (void) fflush(stdout);
}

static void obs_event(void *userdata, const RunInfo *info, const char *kind, const char *message);

/* A resumed run: the attempts other nodes recorded become rows of this journal, each
 * saying which node did it (in its detail: `droverctl show` and the reports print it). */
static int import_prior_steps(Worker *w, const RunInfo *info)
{
        const Playbook *pb = info->playbook;
        int r;

        if (!w->rj.journal || run_cluster_n_prior(w->cluster) == 0)
                return 0;
        r = journal_begin(w->rj.journal);
        if (r < 0)
                return log_error_errno(r, "journal: cannot begin: %s", strerror(-r));
        for (size_t i = 0; i < run_cluster_n_prior(w->cluster); i++) {
                PriorStep p;
                run_cluster_prior(w->cluster, i, &p);
                if (p.index >= pb->n_steps)
                        continue; /* checked by run_cluster_resume(): cannot happen */
                const Step *step = &pb->steps[p.index];
                _cleanup_free_ char *detail = xasprintf("done by node %s (epoch %" PRIu64
                                                        "); imported from the cluster run record",
                                                        strna(p.node), p.epoch);
                _cleanup_free_ char *error =
                        p.outcome == STEP_INTERRUPTED
                                ? xasprintf("in flight on node %s when it lost the lead: outcome unknown",
                                            strna(p.node))
                                : NULL;
                int64_t id = 0;
                StepRecord rec = {
                        .run_id = info->journal_id,
                        .step_index = (int) p.index,
                        .step_name = step->name,
                        .kind = (char *) step_kind_to_string(step->kind),
                        .phase = STEP_PHASE_FORWARD,
                        .target = (char *) "-",
                        .attempt = p.attempt,
                        .idempotent = step->idempotent,
                        .detail = detail,
                        .started = p.started,
                        .outcome = STEP_RUNNING,
                        .exit_status = -1,
                };
                r = journal_step_begin(w->rj.journal, &rec, &id);
                if (r >= 0) {
                        StepRecord end = {
                                .id = id,
                                .run_id = info->journal_id,
                                .ended = p.ended > 0 ? p.ended : now_usec(CLOCK_REALTIME),
                                .duration = p.ended > p.started ? p.ended - p.started : 0,
                                .outcome = p.outcome,
                                .exit_status = -1,
                                .error = error,
                        };
                        r = journal_step_end(w->rj.journal, &end);
                }
                if (r < 0) {
                        (void) journal_rollback(w->rj.journal);
                        return log_error_errno(r, "journal: cannot import the steps of other nodes: %s",
                                               strerror(-r));
                }
        }
        r = journal_commit(w->rj.journal);
        if (r < 0)
                return log_error_errno(r, "journal: cannot commit the steps of other nodes: %s",
                                       strerror(-r));
        return 0;
}

static int obs_run_started(void *userdata, RunInfo *info)
{
        Worker *w = userdata;
        int r = run_journal_run_started(&w->rj, info);
        if (r < 0)
                return r;
        WorkerMessage m = worker_message_run_started(info);
        send_message(&m);
        if (w->resumed) {
                r = import_prior_steps(w, info);
                if (r < 0)
                        return r;
                _cleanup_free_ char *msg =
                        xasprintf("run %s taken over: %s", run_cluster_id(w->cluster), w->resumed);
                obs_event(w, info, "cluster-resumed", msg);
        }
        return 0;
}

static int obs_steps(Worker *w, WorkerMessageType type, const RunInfo *info, StepEvent *events, size_t n)
{
        int r = type == WORKER_MESSAGE_STEP_STARTED ? run_journal_steps_started(&w->rj, info, events, n)
                                                    : run_journal_steps_finished(&w->rj, info, events, n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                WorkerMessage m = worker_message_step(type, info, &events[i]);
                send_message(&m);
        }
        return 0;
}

static int obs_steps_started(void *userdata, const RunInfo *info, StepEvent *events, size_t n)
{
        return obs_steps(userdata, WORKER_MESSAGE_STEP_STARTED, info, events, n);
}

static int obs_steps_finished(void *userdata, const RunInfo *info, StepEvent *events, size_t n)
{
        return obs_steps(userdata, WORKER_MESSAGE_STEP_FINISHED, info, events, n);
}

static void obs_event(void *userdata, const RunInfo *info, const char *kind, const char *message)
{
        Worker *w = userdata;
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_EVENT);

        run_journal_event(&w->rj, info, kind, message);
        m.run = info->journal_id;
        m.kind = kind;
        m.message = message;
        send_message(&m);
}

static int obs_run_finished(void *userdata, const RunInfo *info, RunOutcome outcome, const char *error)
{
        Worker *w = userdata;
        const RunCounts *c = &w->rj.counts;
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_FINISHED);
        int r;

        if (w->cluster)
                (void) run_cluster_run_finished(w->cluster, info, outcome); /* logged; see run-cluster.h */
        r = run_journal_run_finished(&w->rj, info, outcome, error);
        if (r < 0)
                return r;
        m.run = info->journal_id;
        m.run_outcome = outcome;
        m.duration_ms = (int64_t) (usec_sub_unsigned(now_usec(CLOCK_MONOTONIC), w->started_mono) / 1000);
        m.ok = c->ok;
        m.failed = c->failed;
        m.skipped = c->skipped;
        m.rollback_ok = c->rollback_ok;
        m.rollback_failed = c->rollback_failed;
        m.error = error;
        send_message(&m);
        return 0;
}

/* The approval gate: the request goes out as an approval-requested line, the answer comes
 * back as one line on stdin, written by droverd's manager_answer_run(). A signal (droverd's
 * abort) cancels; end of file (droverd went away) denies. */
static int worker_ask(void *userdata, const ApprovalRequest *req, ApprovalAnswer *ret)
{
        Worker *w = userdata;
        sig_atomic_t signals_at_start = n_signals;
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_APPROVAL_REQUESTED);
        StrBuf line = STRBUF_INIT;
        int r = 0;

        m.run = w->rj.run_id;
        m.step = req->step->name;
        m.prompt = req->prompt;
        m.skippable = req->skippable;
        m.expires_in_ms =
                (int64_t) (usec_sub_unsigned(req->deadline, now_usec(CLOCK_MONOTONIC)) / USEC_PER_MSEC);
        send_message(&m);

        for (;;) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd p = {.fd = DROVER_WORKER_FD_ANSWERS, .events = POLLIN};
                char c;

                if (n_signals != signals_at_start) {
                        r = -ECANCELED;
                        break;
                }
                if (now >= req->deadline) {
                        r = -ETIME;
                        break;
                }
                /* A 200 ms tick: the signal handler cannot wake poll() reliably. */
                int k = poll(&p, 1, (int) MIN((req->deadline - now) / USEC_PER_MSEC + 1, 200));
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (k <= 0)
                        continue;
                ssize_t n = read(DROVER_WORKER_FD_ANSWERS, &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        ret->approved = false;
                        ret->who = xstrdup("droverd");
                        ret->comment = xstrdup("the daemon closed the gate: no one could answer");
                        break;
                }
                if (c != '\n') {
                        strbuf_putc(&line, c);
                        continue;
                }
                WorkerAnswer a = {};
                if (worker_answer_parse(strbuf_str(&line), &a) < 0) {
                        log_warning("ignoring a malformed answer line");
                        strbuf_reset(&line);
                        continue;
                }
                ret->approved = a.approve;
                /* A skip where the gate offered none is no approval: the step does not run. */
                ret->skip = a.skip && req->skippable;
                ret->who = xstrdup(a.actor);
                ret->comment = a.comment && *a.comment ? xstrdup(a.comment) : NULL;
                worker_answer_done(&a);
                break;
        }
        strbuf_done(&line);
        return r;
}

static int load_config(const WorkerArgs *args, Config **ret_config)
{
        const char *config_path = args->config_path ?: CONFIG_DEFAULT_PATH;
        _cleanup_(config_freep) Config *config = NULL;
        DiagList diags;
        int r;

        diag_list_init(&diags);
        r = config_load(config_path, &config, &diags);
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        if (r < 0) {
                if (r != -EINVAL)
                        log_error_errno(r, "cannot load %s: %s", config_path, strerror(-r));
                return r;
        }
        *ret_config = TAKE_PTR(config);
        return 0;
}

static int load_playbook(const Config *config, const char *name, Playbook **ret_playbook)
{
        _cleanup_free_ char *path = NULL;
        Playbook *playbook = NULL;
        DiagList diags;
        int r;

        path = playbook_resolve_path(config, name);
        diag_list_init(&diags);
        r = playbook_load(path, config, &playbook, &diags);
        if (r < 0 && r != -EINVAL)
                diag_error(&diags, path, 0, 0, "cannot read playbook: %s", strerror(-r));
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        if (r < 0) {
                fprintf(stderr, "Playbook refused; nothing was run.\n");
                return r;
        }
        *ret_playbook = playbook;
        return 0;
}

static int open_journal(const WorkerArgs *args, const Config *config, Journal **ret)
{
        const char *path = journal_resolve_path(args->db_path, config->journal_path);
        unsigned n_runs = 0, n_steps = 0;
        Journal *j;
        int r;

        r = journal_open(path, &j);
        if (r < 0)
                return log_error_errno(r, "cannot open journal %s: %s", path, strerror(-r));
        r = journal_recover(j, &n_runs, &n_steps);
        if (r < 0) {
                journal_close(j);
                return log_error_errno(r, "cannot recover journal %s: %s", path, strerror(-r));
        }
        if (n_runs > 0)
                log_warning(
                        "journal: %u run(s) were left running by a process that died; marked interrupted "
                        "(%u step(s) in flight, outcome unknown). See 'droverctl runs'.",
                        n_runs, n_steps);
        *ret = j;
        return 0;
}

static int run_with(const WorkerArgs *args, const Config *config, const Playbook *playbook,
                    RunCluster *cluster, const EngineResume *resume, const char *resumed,
                    const ParamValue *resume_params, size_t n_resume_params);

static void param_values_free(ParamValue *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(p[i].name);
                free(p[i].value);
        }
        free(p);
}

static int run(const WorkerArgs *args)
{
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(playbook_freep) Playbook *playbook = NULL;
        _cleanup_(run_cluster_freep) RunCluster *cluster = NULL;
        _cleanup_free_ char *error = NULL, *resumed = NULL;
        ParamValue *resume_params = NULL;
        size_t n_resume_params = 0;
        EngineResume resume = {};
        bool clustered = args->cluster_epoch > 0 && !args->dry_run; /* a dry run acts on nothing */
        int r, ret;

        if (load_config(args, &config) < 0)
                return DROVER_WORKER_EXIT_REFUSED;
        if (clustered) {
                if (!config->cluster) {
                        log_error("--" WORKER_OPT_CLUSTER_EPOCH
                                  " needs a cluster: section in %s; nothing was run",
                                  config->path);
                        return DROVER_WORKER_EXIT_REFUSED;
                }
                r = run_cluster_new(&cluster, config->cluster, args->cluster_epoch);
                if (r < 0) {
                        log_error_errno(r, "cannot set up the etcd client: %s", strerror(-r));
                        return DROVER_WORKER_EXIT_INFRA;
                }
                if (args->resume) {
                        r = run_cluster_load(cluster, args->resume, &error);
                        if (r < 0) {
                                log_error("%s; nothing was run", error);
                                return r == -ENOENT || r == -EALREADY ? DROVER_WORKER_EXIT_REFUSED
                                                                      : DROVER_WORKER_EXIT_INFRA;
                        }
                }
        }
        if (load_playbook(config, args->playbook ?: run_cluster_playbook(cluster), &playbook) < 0)
                return DROVER_WORKER_EXIT_REFUSED;
        if (cluster && args->resume) {
                r = run_cluster_resume(cluster, playbook, &resume, &resumed, &error);
                if (r < 0) {
                        log_error("run %s: %s", args->resume, error);
                        return DROVER_WORKER_EXIT_REFUSED;
                }
                r = run_cluster_params(cluster, playbook, &resume_params, &n_resume_params);
                if (r < 0) {
                        log_error("run %s: the run record's parameters are unreadable; nothing was run",
                                  args->resume);
                        return DROVER_WORKER_EXIT_REFUSED;
                }
        }

        ret = run_with(args, config, playbook, cluster, &resume, resumed, resume_params, n_resume_params);
        param_values_free(resume_params, n_resume_params);
        return ret;
}

static int run_with(const WorkerArgs *args, const Config *config, const Playbook *playbook,
                    RunCluster *cluster, const EngineResume *resume, const char *resumed,
                    const ParamValue *resume_params, size_t n_resume_params)
{
        _cleanup_(journal_closep) Journal *journal = NULL;
        _cleanup_(real_executor_freep) RealExecutor *executor = NULL;
        _cleanup_(engine_freep) Engine *engine = NULL;
        _cleanup_free_ char *error = NULL;
        RunOutcome outcome = RUN_FAILED;
        int r;

        r = real_executor_new(&executor,
                              &(RealExecutorOptions){.fencing_token = cluster ? args->cluster_epoch : 0});
        if (r < 0) {
                log_error_errno(r, "cannot start the executor: %s", strerror(-r));
                return DROVER_WORKER_EXIT_INFRA;
        }

        Worker w = {
                .rj.incident_id = args->incident_id,
                .started_mono = now_usec(CLOCK_MONOTONIC),
                .cluster = cluster,
                .resumed = resumed,
        };
        EngineOptions opts = {
                .config = config,
                .playbook = playbook,
                .params = args->resume ? resume_params : args->params,
                .n_params = args->resume ? n_resume_params : args->n_params,
                .mode = args->dry_run ? RUN_MODE_DRY_RUN : RUN_MODE_LIVE,
                .trigger = args->trigger,
                .actor = args->actor,
                .executor = real_executor_get(executor),
                .observer =
                        {
                                .userdata = &w,
                                .run_started = obs_run_started,
                                .steps_started = obs_steps_started,
                                .steps_finished = obs_steps_finished,
                                .event = obs_event,
                                .run_finished = obs_run_finished,
                        },
                .approver = {.userdata = &w, .ask = worker_ask},
                .fence = cluster ? run_cluster_fence(cluster) : (EngineFence){},
                .resume = *resume,
        };
        r = engine_new(&engine, &opts, &error);
        if (r < 0) {
                if (args->resume)
                        log_error("%s: run %s cannot be resumed: %s (the run record keeps secret parameters "
                                  "masked); nothing was run.",
                                  playbook->name, args->resume, error ? error : strerror(-r));
                else
                        log_error("%s: %s; nothing was run.", playbook->name, error ? error : strerror(-r));
                return DROVER_WORKER_EXIT_REFUSED;
        }

        /* Only once everything droverd handed us is known to be good: a refusal leaves no
         * trace, a dry run never writes. */
        if (!args->dry_run) {
                if (open_journal(args, config, &journal) < 0)
                        return DROVER_WORKER_EXIT_INFRA;
                w.rj.journal = journal;
        }

        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll() must wake */
        sigemptyset(&sa.sa_mask);
        cancel_target = engine;
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);

        r = engine_run(engine, &outcome);

        cancel_target = NULL;
        (void) sigaction(SIGINT, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
        (void) sigaction(SIGTERM, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
        if (r < 0) {
                log_error_errno(r, "run abandoned: %s", strerror(-r));
                return DROVER_WORKER_EXIT_INFRA;
        }
        return outcome == RUN_SUCCEEDED ? DROVER_WORKER_EXIT_SUCCEEDED : DROVER_WORKER_EXIT_RUN_FAILED;
}

int main(int argc, char **argv)
{
        _cleanup_free_ char *error = NULL;
        WorkerArgs args = {};
        int r, ret;

        /* First thing: die with droverd. posix_spawn() cannot do this for us between fork and
         * exec, so droverd may already be gone: --parent-pid tells. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        log_set_program(DROVER_WORKER_PROGRAM);

        r = worker_args_parse(argc, argv, &args, &error);
        if (r < 0) {
                log_error("%s (drover-worker is started by droverd only)", error);
                return DROVER_WORKER_EXIT_REFUSED;
        }
        if (getppid() != args.parent_pid) {
                log_error("droverd (pid %d) is gone before the run started; nothing was run",
                          (int) args.parent_pid);
                worker_args_done(&args);
                return DROVER_WORKER_EXIT_ORPHANED;
        }

        ret = run(&args);
        worker_args_done(&args);
        return ret;
}
