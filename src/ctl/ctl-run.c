/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-run.c — `droverctl run PLAYBOOK`: load and validate everything, open the journal,
 * then let the engine run the playbook in this process with the real executor.
 *
 * This file is the engine's observer: it makes every step durable in the journal
 * (src/engine/run-journal.c: start committed before the step acts, end after) and shows
 * live progress, human or JSON lines (with --json, the progress lines of the worker
 * protocol, src/engine/worker-proto.c). It is also the approval gate's terminal. It
 * decides nothing about the run itself. droverd's runs go to drover-worker (src/worker/),
 * which journals through the same run-journal.c.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "engine/engine.h"
#include "engine/run-journal.h"
#include "engine/worker-proto.h"
#include "exec/executor-real.h"
#include "playbook/playbook.h"
#include "playbook/playbook-path.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"

typedef struct RunCtx {
        CtlGlobals *g;
        RunJournal rj; /* journal NULL in dry-run: a plan is not a run */
        bool dry_run;
        bool plan_only;   /* dry run or tabletop: nothing acts, the plan is shown */
        const CtlRunHooks *hooks;
        Engine *engine;
        usec_t started_mono;
        const char *last_step; /* to print a step header once */
        StepPhase last_phase;
} RunCtx;

/* The one mutable global besides the log level: a signal handler can reach nothing else.
 * engine_request_cancel() is async-signal-safe. */
static Engine *volatile cancel_target;
static volatile sig_atomic_t n_signals;

static void on_signal(int sig)
{
        n_signals++;
        if (cancel_target)
                engine_request_cancel(cancel_target);
}

static const char *step_kind_label(const Step *s)
{
        return step_kind_to_string(s->kind);
}

static const char *mark(const CtlGlobals *g, StepOutcome o)
{
        bool fancy = g->color;

        switch (o) {
        case STEP_OK:
                return fancy ? "\u2714" : "ok";
        case STEP_SKIPPED:
                return fancy ? "\u2212" : "--";
        case STEP_RUNNING:
                return fancy ? "\u25b6" : ">>";
        case STEP_CANCELLED:
        case STEP_INTERRUPTED:
                return fancy ? "!" : "!!";
        default:
                return fancy ? "\u2718" : "XX";
        }
}

/* --json: the progress lines of the worker protocol (worker-protocol.h), for people. */
static void print_message(const WorkerMessage *m)
{
        _cleanup_free_ char *line = NULL;

        if (worker_message_format(m, &line) < 0)
                return;
        puts(line);
        fflush(stdout);
}

static int obs_run_started(void *userdata, RunInfo *info)
{
        RunCtx *ctx = userdata;
        const Playbook *p = info->playbook;
        int r;

        r = run_journal_run_started(&ctx->rj, info);
        if (r < 0)
                return r;
        if (ctx->hooks && ctx->hooks->run_started) {
                r = ctx->hooks->run_started(ctx->hooks->userdata, info);
                if (r < 0)
                        return r;
        }

        if (ctx->g->json) {
                WorkerMessage m = worker_message_run_started(info);
                print_message(&m);
                return 0;
        }

        if (ctx->dry_run)
                printf("%sDry run%s of %s%s%s (%s): %zu steps. Nothing will be contacted.\n", ansi_bold(ctx->g),
                       ansi_reset(ctx->g), ansi_bold(ctx->g), p->name, ansi_reset(ctx->g),
                       playbook_kind_to_string(p->kind), p->n_steps);
        else if (info->mode == RUN_MODE_TABLETOP)
                printf("%sRun %lld%s (TABLETOP DRILL, nothing is executed): %s (%s), %zu steps, params %s\n",
                       ansi_bold(ctx->g), (long long) info->journal_id, ansi_reset(ctx->g), p->name,
                       playbook_kind_to_string(p->kind), p->n_steps, info->params_json);
        else if (info->mode == RUN_MODE_DRILL)
                printf("%sRun %lld%s (LIVE DRILL): %s (%s), %zu steps, by %s, params %s\n", ansi_bold(ctx->g),
                       (long long) info->journal_id, ansi_reset(ctx->g), p->name, playbook_kind_to_string(p->kind),
                       p->n_steps, info->actor, info->params_json);
        else
                printf("%sRun %lld%s: %s (%s), %zu steps, by %s, params %s\n", ansi_bold(ctx->g),
                       (long long) info->journal_id, ansi_reset(ctx->g), p->name,
                       playbook_kind_to_string(p->kind), p->n_steps, info->actor, info->params_json);
        if (p->objectives.has_rto || p->objectives.has_rpo) {
                char a[FORMAT_DURATION_MAX], b[FORMAT_DURATION_MAX];
                printf("Objectives: RTO %s, RPO %s\n",
                       p->objectives.has_rto ? format_duration(a, p->objectives.rto) : "-",
                       p->objectives.has_rpo ? format_duration(b, p->objectives.rpo) : "-");
        }
        fflush(stdout);
        return 0;
}

static void print_step_header(RunCtx *ctx, const RunInfo *info, const StepEvent *ev)
{
        const CtlGlobals *g = ctx->g;

        if (ctx->last_step == ev->step->name && ctx->last_phase == ev->phase)
                return;
        ctx->last_step = ev->step->name;
        ctx->last_phase = ev->phase;
        printf("%s%s [%zu/%zu] %s%s%s (%s)\n", ev->phase == STEP_PHASE_ROLLBACK ? "  rollback " : "",
               mark(g, STEP_RUNNING), ev->step_index + 1, info->playbook->n_steps, ansi_bold(g), ev->step->name,
               ansi_reset(g), step_kind_label(ev->step));
}

/* Print text whose later lines are indented by `indent` spaces (request headers, bodies). */
static void print_continued(const char *text, int indent)
{
        for (const char *p = text; *p; p++) {
                putchar(*p);
                if (*p == '\n' && p[1])
                        printf("%*s", indent, "");
        }
        putchar('\n');
}

static int obs_steps_started(void *userdata, const RunInfo *info, StepEvent *events, size_t n)
{
        RunCtx *ctx = userdata;
        int r;

        r = run_journal_steps_started(&ctx->rj, info, events, n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                if (ctx->g->json) {
                        WorkerMessage m = worker_message_step(WORKER_MESSAGE_STEP_STARTED, info, &events[i]);
                        print_message(&m);
                        continue;
                }
                print_step_header(ctx, info, &events[i]);
                if (ctx->plan_only && events[i].detail) {
                        printf("      %s%s%s: ", ansi_grey(ctx->g), strempty(events[i].target), ansi_reset(ctx->g));
                        print_continued(events[i].detail, 8);
                }
                if (ctx->plan_only && events[i].out) /* "when: CONDITION" */
                        printf("        %sonly %s%s\n", ansi_grey(ctx->g), events[i].out, ansi_reset(ctx->g));
                if (ctx->plan_only && events[i].error)
                        printf("        %s%s%s\n", ansi_red(ctx->g), events[i].error, ansi_reset(ctx->g));
        }
        fflush(stdout);
        /* One call shows one step (all its targets): the tabletop asks about it once. */
        if (n > 0 && ctx->hooks && ctx->hooks->step_shown) {
                r = ctx->hooks->step_shown(ctx->hooks->userdata, info, &events[0]);
                if (r < 0) {
                        /* Stop walking the plan: the engine ends the run as aborted. */
                        if (ctx->engine)
                                engine_request_cancel(ctx->engine);
                }
        }
        return 0;
}

static int obs_steps_finished(void *userdata, const RunInfo *info, StepEvent *events, size_t n)
{
        RunCtx *ctx = userdata;
        const CtlGlobals *g = ctx->g;
        int r;

        r = run_journal_steps_finished(&ctx->rj, info, events, n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                const StepEvent *ev = &events[i];
                char d[FORMAT_DURATION_MAX];

                if (g->json) {
                        WorkerMessage m = worker_message_step(WORKER_MESSAGE_STEP_FINISHED, info, ev);
                        print_message(&m);
                        continue;
                }
                if (ctx->plan_only)
                        continue;
                print_step_header(ctx, info, ev);
                printf("    %s%s%s%-14s %-11s%s %8s", step_outcome_color(g, ev->outcome),
                       g->color ? mark(g, ev->outcome) : "", g->color ? " " : "", strempty(ev->target),
                       step_outcome_to_string(ev->outcome), ansi_reset(g), format_duration(d, ev->duration));
                if (ev->attempt > 1)
                        printf("  (attempt %u)", ev->attempt);
                if (ev->error)
                        printf("  %s", ev->error);
                printf("\n");
        }
        fflush(stdout);
        return 0;
}

static void obs_event(void *userdata, const RunInfo *info, const char *kind, const char *message)
{
        RunCtx *ctx = userdata;

        run_journal_event(&ctx->rj, info, kind, message);
        if (ctx->g->json) {
                WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_EVENT);
                m.run = info->journal_id;
                m.kind = kind;
                m.message = message;
                print_message(&m);
        } else {
                printf("  %s%s%s %s\n", ansi_yellow(ctx->g), kind, ansi_reset(ctx->g), strempty(message));
                fflush(stdout);
        }
}

static int obs_run_finished(void *userdata, const RunInfo *info, RunOutcome outcome, const char *error)
{
        RunCtx *ctx = userdata;
        const CtlGlobals *g = ctx->g;
        const RunCounts *c = &ctx->rj.counts;
        usec_t took = usec_sub_unsigned(now_usec(CLOCK_MONOTONIC), ctx->started_mono);
        char d[FORMAT_DURATION_MAX];
        int r;

        r = run_journal_run_finished(&ctx->rj, info, outcome, error);
        if (r < 0)
                return r;

        if (g->json) {
                WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_FINISHED);
                m.run = info->journal_id;
                m.run_outcome = outcome;
                m.duration_ms = (int64_t) (took / 1000);
                m.ok = c->ok;
                m.failed = c->failed;
                m.skipped = c->skipped;
                m.rollback_ok = c->rollback_ok;
                m.rollback_failed = c->rollback_failed;
                m.error = error;
                print_message(&m);
                return 0;
        }

        if (ctx->dry_run) {
                printf("End of plan. Run it without --dry-run to execute.\n");
                return 0;
        }
        if (info->mode == RUN_MODE_TABLETOP) {
                printf("%sRun %lld %s%s%s: the plan was walked (%zu steps); nothing was executed.%s\n", ansi_bold(g),
                       (long long) info->journal_id, run_outcome_color(g, outcome),
                       run_outcome_to_string(outcome), ansi_reset(g), info->playbook->n_steps, ansi_reset(g));
                if (error)
                        printf("Reason: %s\n", error);
                fflush(stdout);
                return 0;
        }
        printf("%sRun %lld %s%s%s in %s: %u ok, %u failed, %u skipped", ansi_bold(g), (long long) info->journal_id,
               run_outcome_color(g, outcome), run_outcome_to_string(outcome), ansi_reset(g),
               format_duration(d, took), c->ok, c->failed, c->skipped);
        if (c->rollback_ok + c->rollback_failed > 0)
                printf("; rollback: %u ok, %u failed", c->rollback_ok, c->rollback_failed);
        printf(".%s\n", ansi_reset(g));
        if (error)
                printf("Reason: %s\n", error);
        printf("Journal: droverctl show %lld\n", (long long) info->journal_id);
        fflush(stdout);
        return 0;
}

/* The approval gate on this terminal: read "yes [comment]" or "no [comment]" from
 * standard input until the gate's deadline. Ctrl-C cancels. */
static int tty_ask(void *userdata, const ApprovalRequest *req, ApprovalAnswer *ret)
{
        RunCtx *ctx = userdata;
        FILE *out = ctx->g->json ? stderr : stdout;
        sig_atomic_t signals_at_start = n_signals;
        StrBuf line = STRBUF_INIT;
        char d[FORMAT_DURATION_MAX];
        int r = 0;

        fprintf(out, "%s  APPROVAL NEEDED%s for step '%s' of %s:\n    %s\n  Type 'yes' to approve or 'no' to deny "
                     "(optionally followed by a comment); the gate expires in %s: ",
                ansi_yellow(ctx->g), ansi_reset(ctx->g), req->step->name, req->run_label, req->prompt,
                format_duration(d, usec_sub_unsigned(req->deadline, now_usec(CLOCK_MONOTONIC))));
        fflush(out);

        for (;;) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
                char c;

                if (n_signals != signals_at_start) {
                        r = -ECANCELED;
                        break;
                }
                if (now >= req->deadline) {
                        r = -ETIME;
                        break;
                }
                int k = poll(&p, 1, (int) MIN((req->deadline - now) / USEC_PER_MSEC + 1, 200));
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (k <= 0)
                        continue;
                ssize_t n = read(STDIN_FILENO, &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* Nobody can answer: deny rather than hang until the deadline. */
                        ret->approved = false;
                        ret->who = ctl_actor();
                        ret->comment = xstrdup("standard input closed: no one could answer the gate");
                        fprintf(out, "\n");
                        goto done;
                }
                if (c == '\n')
                        break;
                strbuf_putc(&line, c);
        }

        if (r == 0) {
                const char *s = strbuf_str(&line);
                size_t word = strcspn(s, " \t");
                const char *comment = s + word + strspn(s + word, " \t");

                ret->approved = (word == 3 && strncasecmp(s, "yes", 3) == 0) || (word == 1 && (*s == 'y' || *s == 'Y'));
                ret->who = ctl_actor();
                ret->comment = *comment ? xstrdup(comment) : NULL;
        } else
                fprintf(out, "\n");
done:
        strbuf_done(&line);
        return r;
}

/* Run one playbook in this process: the engine with the real executor, this file's
 * observer (journal + progress), the terminal as approval gate. Shared by `run` and
 * `drill start`. Opens the journal unless req->journal is given (never for a dry run).
 * Returns an exit code; *ret_run_id is the journal's run id (0 when none). */
int ctl_run_playbook(CtlGlobals *g, const CtlRunRequest *req, int64_t *ret_run_id, RunOutcome *ret_outcome)
{
        _cleanup_(journal_closep) Journal *own_journal = NULL;
        _cleanup_(real_executor_freep) RealExecutor *executor = NULL;
        _cleanup_(engine_freep) Engine *engine = NULL;
        _cleanup_free_ char *actor = NULL, *error = NULL;
        bool dry_run = req->mode == RUN_MODE_DRY_RUN;
        RunOutcome outcome = RUN_FAILED;
        int r, ret;

        if (ret_run_id)
                *ret_run_id = 0;
        if (ret_outcome)
                *ret_outcome = RUN_FAILED;

        r = real_executor_new(&executor, &(RealExecutorOptions){ .accept_new_host_keys = req->accept_new_host_keys });
        if (r < 0) {
                log_error_errno(r, "cannot start the executor: %s", strerror(-r));
                return EXIT_INFRA;
        }

        RunCtx ctx = {
                .g = g,
                .dry_run = dry_run,
                .plan_only = dry_run || req->mode == RUN_MODE_TABLETOP,
                .hooks = req->hooks,
                .started_mono = now_usec(CLOCK_MONOTONIC),
                .last_phase = _STEP_PHASE_INVALID,
        };
        actor = req->actor ? xstrdup(req->actor) : ctl_actor();
        EngineOptions opts = {
                .config = req->config,
                .playbook = req->playbook,
                .params = req->params,
                .n_params = req->n_params,
                .mode = req->mode,
                .trigger = req->trigger,
                .actor = actor,
                .executor = real_executor_get(executor),
                .observer = {
                        .userdata = &ctx,
                        .run_started = obs_run_started,
                        .steps_started = obs_steps_started,
                        .steps_finished = obs_steps_finished,
                        .event = obs_event,
                        .run_finished = obs_run_finished,
                },
                .approver = { .userdata = &ctx, .ask = tty_ask },
        };
        r = engine_new(&engine, &opts, &error);
        if (r < 0) {
                log_error("%s: %s; nothing was run.", req->playbook->name, error ? error : strerror(-r));
                return EXIT_USAGE;
        }
        ctx.engine = engine;

        /* The journal is opened only once everything the operator gave us is known to be
         * good: a usage error leaves no trace, a dry run never writes. */
        if (!dry_run) {
                if (req->journal)
                        ctx.rj.journal = req->journal;
                else {
                        ret = ctl_open_journal(g, req->config, &own_journal);
                        if (ret != EXIT_OK)
                                return ret;
                        ctx.rj.journal = own_journal;
                }
        }

        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll() must wake */
        sigemptyset(&sa.sa_mask);
        cancel_target = engine;
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);

        r = engine_run(engine, &outcome);

        cancel_target = NULL;
        (void) sigaction(SIGINT, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);
        (void) sigaction(SIGTERM, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);

        if (ret_run_id)
                *ret_run_id = ctx.rj.run_id;
        if (r < 0) {
                log_error_errno(r, "run abandoned: %s", strerror(-r));
                return EXIT_INFRA;
        }
        if (ret_outcome)
                *ret_outcome = outcome;
        return outcome == RUN_SUCCEEDED ? EXIT_OK : EXIT_RUN_FAILED;
}

static void help_run(void)
{
        printf("Usage: droverctl run PLAYBOOK [-p KEY=VALUE]... [--dry-run] [--detach] [--local] [--json]\n"
               "                     [--override-no-quorum]\n"
               "                     [--accept-new-host-keys] [--config FILE] [--db FILE]\n\n"
               "Run a playbook now, with live progress; every step is journaled. When droverd is on\n"
               "the system bus the run goes through it (and survives this terminal); otherwise, or\n"
               "with --local, it runs in this process.\n"
               "PLAYBOOK is a file, or a name found in the config's playbook_dir or playbooks/.\n\n"
               "  -p, --param KEY=VALUE     set a playbook parameter (repeatable)\n"
               "  -n, --dry-run             print the resolved plan (secrets masked); contact nothing\n"
               "      --detach              through droverd: print the run id and return at once\n"
               "      --local               run in this process even when droverd is running\n"
               "      --override-no-quorum  through a clustered droverd without etcd quorum: run anyway\n"
               "                            (nothing automatic runs then; the override is journaled)\n"
               "      --accept-new-host-keys  trust and record SSH host keys not yet in known_hosts\n"
               "                            (a CHANGED key is always refused)\n"
               "      --json                one JSON object per line: run-started, step-started, …\n\n"
               "Ctrl-C cancels the running step; rollback then runs if the step asks for it;\n"
               "a second Ctrl-C cancels the rollback too.\n"
               "Exit: 0 succeeded, 1 failed or aborted, 2 usage/validation, 3 infrastructure,\n"
               "4 refused by droverd.\n");
}

int verb_run(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "param", required_argument, NULL, 'p' },
                { "dry-run", no_argument, NULL, 'n' },
                { "accept-new-host-keys", no_argument, NULL, 'A' },
                { "local", no_argument, NULL, 'L' },
                { "detach", no_argument, NULL, 'D' },
                { "override-no-quorum", no_argument, NULL, 'Q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(playbook_freep) Playbook *playbook = NULL;
        _cleanup_free_ char *path = NULL;
        ParamValue *params = NULL;
        size_t n_params = 0;
        bool dry_run = false, accept_new = false, local = false, detach = false, override_no_quorum = false;
        RunOutcome outcome = RUN_FAILED;
        DiagList diags;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "c:vp:nh", options, NULL)) >= 0) {
                switch (c) {
                case 'p': {
                        const char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg) {
                                log_error("-p wants KEY=VALUE, got '%s'", optarg);
                                ret = EXIT_USAGE;
                                goto finish;
                        }
                        ParamValue *pv = array_push(&params, &n_params, sizeof(ParamValue));
                        pv->name = xstrndup(optarg, (size_t) (eq - optarg));
                        pv->value = xstrdup(eq + 1);
                        break;
                }
                case 'n':
                        dry_run = true;
                        break;
                case 'A':
                        accept_new = true;
                        break;
                case 'L':
                        local = true;
                        break;
                case 'D':
                        detach = true;
                        break;
                case 'Q':
                        override_no_quorum = true;
                        break;
                case 'h':
                        help_run();
                        ret = EXIT_OK;
                        goto finish;
                default:
                        if (!ctl_common_option(g, c, optarg)) {
                                ret = EXIT_USAGE;
                                goto finish;
                        }
                }
        }
        if (optind + 1 != argc) {
                log_error("run wants exactly one PLAYBOOK; see 'droverctl run --help'");
                ret = EXIT_USAGE;
                goto finish;
        }

        /* Through droverd when it is on the bus: the run survives this terminal and the
         * daemon checks who may start it. --local, or no droverd, runs it here. (droverd's
         * own runs go to drover-worker, never through here.) */
        if (!local && ctl_bus_open(&bus, true) >= 0 && ctl_bus_daemon_present(bus)) {
                if (accept_new) {
                        log_error("--accept-new-host-keys is for --local runs; droverd trusts only known_hosts");
                        ret = EXIT_USAGE;
                        goto finish;
                }
                ret = ctl_run_via_daemon(g, bus, argv[optind], params, n_params, dry_run, override_no_quorum,
                                         detach);
                goto finish;
        }
        if (override_no_quorum) {
                log_error("--override-no-quorum is for a clustered droverd (it is not running%s)",
                          local ? "; a --local run has no cluster to override" : "");
                ret = EXIT_USAGE;
                goto finish;
        }
        if (detach) {
                log_error("--detach needs droverd on the system bus (it is not running)%s",
                          local ? "; a --local run cannot detach" : "");
                ret = EXIT_USAGE;
                goto finish;
        }

        ret = ctl_load_config(g, &config);
        if (ret != EXIT_OK)
                goto finish;

        path = playbook_resolve_path(config, argv[optind]);
        diag_list_init(&diags);
        r = playbook_load(path, config, &playbook, &diags);
        if (r < 0 && r != -EINVAL)
                diag_error(&diags, path, 0, 0, "cannot read playbook: %s", strerror(-r));
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        if (r < 0) {
                fprintf(stderr, "Playbook refused; nothing was run.\n");
                ret = EXIT_USAGE;
                goto finish;
        }

        {
                CtlRunRequest req = {
                        .config = config,
                        .playbook = playbook,
                        .params = params,
                        .n_params = n_params,
                        .mode = dry_run ? RUN_MODE_DRY_RUN : RUN_MODE_LIVE,
                        .trigger = "manual",
                        .accept_new_host_keys = accept_new,
                };
                ret = ctl_run_playbook(g, &req, NULL, &outcome);
        }

finish:
        for (size_t i = 0; i < n_params; i++) {
                free(params[i].name);
                free(params[i].value);
        }
        free(params);
        return ret;
}
