/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-drill.c — `droverctl drill …`: start a drill (tabletop: walk the plan with the
 * participants answering each step on stdin; live: inject the scenario's fault, run the
 * playbooks for real, measure the achieved RTO/RPO, clear the fault), list drill runs
 * and show one, the annual status (every playbook's last drill, overdue drills), the
 * evaluation and the improvement actions.
 *
 * Owns: the drill verbs' options, output and the decisions a drill run makes (outcome,
 * objectives met). Does not own: running a playbook (ctl-run.c's ctl_run_playbook with
 * the engine), the drill format (src/drill/), storage (journal.c, journal-drill.c).
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/yaml-node.h"
#include "ctl/ctl.h"
#include "drill/drill.h"
#include "journal/journal-drill.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

#ifndef DROVER_DRILL_DIR
#define DROVER_DRILL_DIR "/usr/share/drover/drills"
#endif

extern char **environ;

static const char *const criteria[] = {"objectives", "procedure", "coordination", "resources"};

/* ---------------------------------------------------------------- helpers */

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? xstrndup(path, (size_t) (slash - path)) : xstrdup(".");
}

static char *playbook_dir_for(const Config *config)
{
        _cleanup_free_ char *d = NULL;

        if (config->playbook_dir)
                return xstrdup(config->playbook_dir);
        d = dir_of(config->path);
        return xasprintf("%s/playbooks", d);
}

/* Where drills are looked up by name, in order: $DROVER_DRILL_DIR, drills/ beside the
 * config (/etc/drover/drills: the site's own), drills/ beside the playbook directory,
 * the installed ones. */
static char **drill_dirs(const Config *config)
{
        _cleanup_free_ char *pb = playbook_dir_for(config), *cd = dir_of(config->path);
        char **v = xcalloc(5, sizeof(char *));
        size_t n = 0;
        const char *e = getenv("DROVER_DRILL_DIR");

        if (e && *e)
                v[n++] = xstrdup(e);
        v[n++] = xasprintf("%s/drills", cd);
        v[n++] = xasprintf("%s/../drills", pb);
        v[n++] = xstrdup(DROVER_DRILL_DIR);
        return v;
}

static char *resolve_drill(const Config *config, const char *arg)
{
        _cleanup_strv_free_ char **dirs = NULL;

        if (strchr(arg, '/') || access(arg, F_OK) == 0)
                return xstrdup(arg);
        dirs = drill_dirs(config);
        for (char **d = dirs; *d; d++) {
                char *p = xasprintf("%s/%s.yaml", *d, arg);
                if (access(p, F_OK) == 0)
                        return p;
                free(p);
        }
        return xstrdup(arg);
}

static int open_drill_journal(CtlGlobals *g, const Config *config, Journal **ret_j, JournalDrill **ret_d)
{
        const char *path = journal_resolve_path(g->db_path, config ? config->journal_path : NULL);
        unsigned n = 0;
        int r;

        r = ctl_open_journal(g, config, ret_j);
        if (r != EXIT_OK)
                return r;
        r = journal_drill_open(path, ret_d);
        if (r < 0) {
                *ret_j = journal_close(*ret_j);
                return log_error_errno(r, "cannot open the drill tables of %s: %s", path, strerror(-r)),
                       EXIT_INFRA;
        }
        (void) journal_drill_recover(*ret_d, &n);
        if (n > 0)
                log_warning("journal: %u drill run(s) were left running by a process that died; marked "
                            "interrupted.",
                            n);
        return EXIT_OK;
}

/* For the verbs that write: drover.yaml is needed, then the journal it names. */
static int open_drill_journal_with_config(CtlGlobals *g, Config **config, Journal **ret_j,
                                          JournalDrill **ret_d)
{
        int r = ctl_load_config(g, config);
        if (r != EXIT_OK)
                return r;
        return open_drill_journal(g, *config, ret_j, ret_d);
}

/* Like ctl-runs.c: the journal can be read without a valid drover.yaml via --db/$DROVER_DB. */
static int open_drill_journal_for_reading(CtlGlobals *g, Config **config, Journal **ret_j,
                                          JournalDrill **ret_d)
{
        if (!g->db_path && !getenv(JOURNAL_ENV))
                return open_drill_journal_with_config(g, config, ret_j, ret_d);
        return open_drill_journal(g, *config, ret_j, ret_d);
}

static int parse_id(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end || v <= 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

static char *fmt_ts(usec_t t)
{
        char b[FORMAT_TIMESTAMP_MAX];
        return t ? xstrdup(format_timestamp(b, t)) : xstrdup("-");
}

static char *fmt_us(int64_t us)
{
        char b[FORMAT_DURATION_MAX];
        return us >= 0 ? xstrdup(format_duration(b, (usec_t) us)) : xstrdup("-");
}

/* Run a scenario command (inject/clear) with a deadline; its output goes to stderr so
 * that --json output stays clean. Returns the exit status (>= 0) or -errno/-ETIME. */
static int run_command(const DrillCommand *c)
{
        posix_spawn_file_actions_t fa;
        usec_t deadline = usec_add(now_usec(CLOCK_MONOTONIC), c->timeout ?: DRILL_DEFAULT_COMMAND_TIMEOUT);
        pid_t pid;
        int r, status;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        r = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (now_usec(CLOCK_MONOTONIC) >= deadline) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        return -ETIME;
                }
                (void) usleep(10000);
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static char *participants_json(const Drill *d)
{
        json_t *a = json_array();
        char *s, *r;

        for (size_t i = 0; i < d->n_participants; i++)
                json_array_append_new(a, json_pack("{s:s, s:s}", "name", strempty(d->participants[i].name),
                                                   "role", drill_role_to_string(d->participants[i].role)));
        s = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        r = xstrdup(s ?: "[]");
        free(s);
        return r;
}

/* ---------------------------------------------------------------- drill start */

typedef struct DrillCtx {
        CtlGlobals *g;
        const Drill *drill;
        Journal *journal;
        JournalDrill *jd;
        int64_t drill_run_id;
        unsigned seq;
        char *actor;
        FILE *prompt_out;
        unsigned n_ack, n_challenge;
        bool stdin_closed;
        bool stopped; /* quit or end of input: the walk was cut short */
} DrillCtx;

static int hook_run_started(void *userdata, const RunInfo *info)
{
        DrillCtx *ctx = userdata;
        int r;

        r = journal_drill_run_link(ctx->jd, ctx->drill_run_id, ctx->seq, info->journal_id,
                                   info->playbook->name);
        if (r < 0)
                return log_error_errno(r, "journal: cannot link run %lld to drill run %lld: %s",
                                       (long long) info->journal_id, (long long) ctx->drill_run_id,
                                       journal_drill_errmsg(ctx->jd));
        return 0;
}

/* Whether `who` names a participant (by name or role, case-insensitively). */
static const DrillParticipant *find_participant(const Drill *d, const char *who)
{
        for (size_t i = 0; i < d->n_participants; i++)
                if (strcasecmp(d->participants[i].name, who) == 0 ||
                    strcasecmp(drill_role_to_string(d->participants[i].role), who) == 0)
                        return &d->participants[i];
        return NULL;
}

static char *trim(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

/* One line from stdin, without the newline; NULL at end of input. */
static char *read_line(void)
{
        StrBuf b = STRBUF_INIT;
        int c;
        bool any = false;

        while ((c = getchar()) != EOF) {
                any = true;
                if (c == '\n')
                        break;
                strbuf_putc(&b, (char) c);
        }
        if (!any) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

/*
 * The tabletop question for one step. An answer is one line:
 *     VERDICT [| WHO [| COMMENT]]
 * VERDICT is ack (a, yes) or challenge (c); WHO a participant's name or role (default:
 * the person running droverctl); a challenge needs a comment. "quit" stops the drill.
 */
static int hook_step_shown(void *userdata, const RunInfo *info, const StepEvent *ev)
{
        DrillCtx *ctx = userdata;
        FILE *out = ctx->prompt_out;
        usec_t shown = now_usec(CLOCK_REALTIME);
        int r;

        for (;;) {
                _cleanup_free_ char *line = NULL;
                char *verdict, *who = NULL, *comment = NULL, *bar;
                const DrillParticipant *p = NULL;
                bool ack;

                fprintf(out,
                        "    ? ack or challenge step '%s' — 'ack | WHO | comment', 'challenge | WHO | why', "
                        "or "
                        "'quit': ",
                        ev->step->name);
                fflush(out);
                line = read_line();
                if (line && !isatty(STDIN_FILENO)) {
                        /* Scripted answers are not echoed by a terminal: show them. */
                        fprintf(out, "%s\n", line);
                        fflush(out);
                }
                if (!line) {
                        fprintf(out, "\n");
                        ctx->stdin_closed = true;
                        ctx->stopped = true;
                        return -ECANCELED;
                }
                verdict = trim(line);
                bar = strchr(verdict, '|');
                if (bar) {
                        *bar = '\0';
                        who = bar + 1;
                        bar = strchr(who, '|');
                        if (bar) {
                                *bar = '\0';
                                comment = trim(bar + 1);
                        }
                        who = trim(who);
                        verdict = trim(verdict);
                }
                if (strcasecmp(verdict, "quit") == 0 || strcasecmp(verdict, "q") == 0) {
                        ctx->stopped = true;
                        return -ECANCELED;
                }
                if (strcasecmp(verdict, "ack") == 0 || strcasecmp(verdict, "a") == 0 ||
                    strcasecmp(verdict, "yes") == 0)
                        ack = true;
                else if (strcasecmp(verdict, "challenge") == 0 || strcasecmp(verdict, "c") == 0)
                        ack = false;
                else {
                        fprintf(out, "    '%s' is not an answer (ack, challenge or quit)\n", verdict);
                        continue;
                }
                if (who && *who) {
                        p = find_participant(ctx->drill, who);
                        if (!p) {
                                fprintf(out, "    '%s' is not a participant of this drill (name or role)\n",
                                        who);
                                continue;
                        }
                }
                if (!ack && (!comment || !*comment)) {
                        fprintf(out, "    a challenge needs a comment: what is wrong with this step?\n");
                        continue;
                }
                _cleanup_free_ char *whos = p ? xasprintf("%s (%s)", p->name, drill_role_to_string(p->role))
                                              : xstrdup(ctx->actor);
                DrillReviewRecord rec = {
                        .drill_run_id = ctx->drill_run_id,
                        .run_id = info->journal_id,
                        .step_index = (int) ev->step_index,
                        .step_name = ev->step->name,
                        .phase = ev->phase,
                        .shown_at = shown,
                        .answered_at = now_usec(CLOCK_REALTIME),
                        .verdict = (char *) (ack ? "ack" : "challenge"),
                        .who = whos,
                        .comment = comment && *comment ? comment : NULL,
                };
                r = journal_drill_review_add(ctx->jd, &rec, NULL);
                if (r < 0) {
                        log_error_errno(r, "journal: cannot record the answer: %s",
                                        journal_drill_errmsg(ctx->jd));
                        return r;
                }
                ack ? ctx->n_ack++ : ctx->n_challenge++;
                if (ctx->g->json)
                        ctl_print_json_line(
                                json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s?}", "event", "drill-review",
                                          "drill_run", (json_int_t) ctx->drill_run_id, "run",
                                          (json_int_t) info->journal_id, "step", ev->step->name, "verdict",
                                          rec.verdict, "who", whos, "comment", rec.comment));
                else {
                        char d[FORMAT_DURATION_MAX];
                        printf("    %s%s%s by %s after %s%s%s\n",
                               ack ? ansi_green(ctx->g) : ansi_yellow(ctx->g), rec.verdict,
                               ansi_reset(ctx->g), whos,
                               format_duration(d, usec_sub_unsigned(rec.answered_at, shown)),
                               rec.comment ? ": " : "", strempty(rec.comment));
                        fflush(stdout);
                }
                return 0;
        }
}

/* From the journal: when the drill's service was recovered, whether the named steps
 * succeeded, the RPO the rpo_from step printed. */
typedef struct Achieved {
        usec_t recovered_at;
        int64_t rpo_us;
        bool must_succeed_ok;
        char *missing; /* first must_succeed step that did not succeed */
} Achieved;

static bool step_ref_matches(const char *ref, const char *playbook, const char *step)
{
        const char *slash = strchr(ref, '/');

        if (!slash)
                return streq(ref, step);
        return strncmp(ref, playbook, (size_t) (slash - ref)) == 0 && !playbook[slash - ref] &&
               streq(slash + 1, step);
}

static int compute_achieved(DrillCtx *ctx, const int64_t *run_ids, const RunOutcome *outcomes, size_t n_runs,
                            Achieved *a)
{
        const Drill *d = ctx->drill;
        const DrillObjectives *o = &d->objectives;
        bool *seen = NULL;
        size_t n_must = 0;
        int r = 0;

        *a = (Achieved){.rpo_us = -1, .must_succeed_ok = true};
        while (o->must_succeed && o->must_succeed[n_must])
                n_must++;
        seen = xcalloc(n_must + 1, sizeof(bool));

        for (size_t i = 0; i < n_runs; i++) {
                StepRecord *steps = NULL;
                RunRecord run = {};
                size_t n = 0;
                const char *pb = d->playbooks[i].playbook->name;
                bool last = i + 1 == d->n_playbooks;

                if (run_ids[i] <= 0)
                        continue;
                r = journal_list_steps(ctx->journal, run_ids[i], &steps, &n);
                if (r >= 0)
                        r = journal_get_run(ctx->journal, run_ids[i], &run);
                if (r < 0) {
                        free(steps);
                        break;
                }
                for (size_t k = 0; k < n; k++) {
                        const StepRecord *s = &steps[k];
                        bool ok = s->outcome == STEP_OK && s->phase == STEP_PHASE_FORWARD;

                        if (!ok)
                                continue;
                        for (size_t m = 0; m < n_must; m++)
                                if (step_ref_matches(o->must_succeed[m], pb, s->step_name))
                                        seen[m] = true;
                        if (last && o->recovered_at && step_ref_matches(o->recovered_at, pb, s->step_name) &&
                            !a->recovered_at)
                                a->recovered_at = s->ended;
                        if (o->rpo_from && step_ref_matches(o->rpo_from, pb, s->step_name) &&
                            s->stdout_text) {
                                char *end;
                                double v = strtod(s->stdout_text, &end);
                                if (end != s->stdout_text && v >= 0 && v < 1e9)
                                        a->rpo_us = (int64_t) (v * USEC_PER_SEC);
                        }
                }
                /* Without recovered_at, the service counts as recovered when the last
                 * playbook succeeded. */
                if (last && !o->recovered_at && outcomes[i] == RUN_SUCCEEDED)
                        a->recovered_at = run.ended;
                step_record_free_array(steps, n);
                run_record_done(&run);
        }
        for (size_t m = 0; m < n_must; m++)
                if (!seen[m]) {
                        a->must_succeed_ok = false;
                        if (!a->missing)
                                a->missing = xstrdup(o->must_succeed[m]);
                }
        free(seen);
        return r;
}

static void help_drill(void)
{
        printf("Usage: droverctl drill start NAME|FILE [--mode tabletop|live] [--scheduled]\n"
               "                     [--accept-new-host-keys] [--json]\n"
               "       droverctl drill runs [--drill NAME] [--limit N] [--json]\n"
               "       droverctl drill show DRILL-RUN [--json]\n"
               "       droverctl drill status [--check] [--json]\n"
               "       droverctl drill timer NAME|FILE\n"
               "       droverctl drill evaluate DRILL-RUN [--objectives N TEXT] [--procedure N TEXT]\n"
               "                     [--coordination N TEXT] [--resources N TEXT] [--lessons TEXT]\n"
               "                     [--from FILE] [--evaluator NAME]\n"
               "       droverctl drill actions [--open] [--run DRILL-RUN] [--json]\n"
               "       droverctl drill action add [--run DRILL-RUN] --finding TEXT --action TEXT --owner "
               "NAME\n"
               "                     --due YYYY-MM-DD\n"
               "       droverctl drill action update ID --status open|in-progress [--comment TEXT]\n"
               "       droverctl drill action close ID [--cancel] [--comment TEXT]\n\n"
               "Drills exercise the playbooks: a tabletop walks the plan with the participants, who\n"
               "acknowledge or challenge each step on standard input; a live drill injects the\n"
               "scenario's fault, runs the playbooks for real, measures the achieved RTO and RPO and\n"
               "clears the fault. Drill runs are journaled with mode drill or tabletop and trigger\n"
               "drill, never as incidents. $DROVER_NOW (ISO-8601 UTC or epoch seconds) replaces the\n"
               "clock of status and actions: a test hook. See drover-drill(5).\n");
}

static int drill_start(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"mode", required_argument, NULL, 'm'},
                {"accept-new-host-keys", no_argument, NULL, 'A'},
                {"scheduled", no_argument, NULL, 'S'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(drill_freep) Drill *drill = NULL;
        bool scheduled = false;
        _cleanup_(journal_closep) Journal *journal = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        _cleanup_free_ char *path = NULL, *actor = NULL, *pjson = NULL, *error = NULL;
        _cleanup_free_ int64_t *run_ids = NULL;
        _cleanup_free_ RunOutcome *outcomes = NULL;
        DrillMode mode = _DRILL_MODE_INVALID;
        bool accept_new = false, aborted = false, failed = false;
        usec_t injected = 0, cleared = 0;
        Achieved ach = {.rpo_us = -1};
        int64_t drill_run_id = 0, rto_us = -1;
        int objectives_met = -1;
        DiagList diags;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        mode = drill_mode_from_string(optarg);
                        if (mode < 0) {
                                log_error("--mode wants tabletop or live, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'A':
                        accept_new = true;
                        break;
                case 'S':
                        scheduled = true;
                        break;
                case 'h':
                        help_drill();
                        return EXIT_OK;
                default:
                        if (!ctl_common_option(g, c, optarg))
                                return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                log_error("drill start wants exactly one drill NAME or FILE");
                return EXIT_USAGE;
        }
        ret = ctl_load_config(g, &config);
        if (ret != EXIT_OK)
                return ret;
        path = resolve_drill(config, argv[optind]);
        diag_list_init(&diags);
        r = drill_load(path, config, NULL, &drill, &diags);
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        if (r < 0) {
                fprintf(stderr, "Drill refused; nothing was run.\n");
                return EXIT_USAGE;
        }
        if (mode < 0)
                mode = drill->mode;
        if (mode == DRILL_MODE_LIVE && !drill->scenario.inject.argv) {
                log_error(
                        "%s: a live drill needs scenario inject/clear commands; run it with --mode tabletop",
                        drill->name);
                return EXIT_USAGE;
        }

        ret = open_drill_journal(g, config, &journal, &jd);
        if (ret != EXIT_OK)
                return ret;

        /* The timer cannot gather people: a due tabletop is journaled and announced,
         * not walked with nobody there (the drill stays due in `drill status`). */
        if (scheduled && mode == DRILL_MODE_TABLETOP) {
                _cleanup_free_ char *msg =
                        xasprintf("tabletop drill %s is due: gather the participants and run "
                                  "'droverctl drill start %s'",
                                  drill->name, drill->name);
                r = journal_event(journal, 0, 0, "drill-due", msg, NULL);
                if (r < 0)
                        return log_error_errno(r, "journal: cannot record: %s", strerror(-r)), EXIT_INFRA;
                log_notice("%s", msg);
                return EXIT_OK;
        }

        actor = scheduled ? xstrdup("schedule") : ctl_actor();
        pjson = participants_json(drill);
        DrillRunRecord rec = {
                .drill = drill->name,
                .drill_path = drill->path,
                .drill_sha256 = drill->sha256,
                .mode = (char *) drill_mode_to_string(mode),
                .purpose = drill->purpose,
                .fault = (char *) fault_kind_to_string(drill->scenario.fault),
                .fault_subject = drill->scenario.site ?: drill->scenario.vendor,
                .participants_json = pjson,
                .actor = actor,
                .rto_objective_us = drill->objectives.has_rto ? (int64_t) drill->objectives.rto : -1,
                .rpo_objective_us = drill->objectives.has_rpo ? (int64_t) drill->objectives.rpo : -1,
        };
        r = journal_drill_run_begin(jd, &rec, &drill_run_id);
        if (r < 0)
                return log_error_errno(r, "journal: cannot record the drill: %s", journal_drill_errmsg(jd)),
                       EXIT_INFRA;

        DrillCtx ctx = {
                .g = g,
                .drill = drill,
                .journal = journal,
                .jd = jd,
                .drill_run_id = drill_run_id,
                .actor = actor,
                .prompt_out = g->json ? stderr : stdout,
        };

        if (g->json)
                ctl_print_json_line(json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "event", "drill-started",
                                              "drill_run", (json_int_t) drill_run_id, "drill", drill->name,
                                              "mode", drill_mode_to_string(mode), "purpose", drill->purpose,
                                              "participants", json_loads(pjson, 0, NULL) ?: json_null()));
        else {
                char a[FORMAT_DURATION_MAX], b[FORMAT_DURATION_MAX];
                printf("%sDRILL%s run %lld: %s (%s) — not an incident\n", ansi_bold(g), ansi_reset(g),
                       (long long) drill_run_id, drill->name, drill_mode_to_string(mode));
                printf("Purpose: %s\n", drill->purpose);
                printf("Scenario: %s%s%s%s%s\n", fault_kind_to_string(drill->scenario.fault),
                       drill->scenario.site ? " at site " : "", strempty(drill->scenario.site),
                       drill->scenario.vendor ? " at vendor " : "", strempty(drill->scenario.vendor));
                if (drill->scenario.description)
                        printf("  %s\n", drill->scenario.description);
                printf("Participants:\n");
                for (size_t i = 0; i < drill->n_participants; i++)
                        printf("  %-28s %s\n", drill->participants[i].name,
                               drill_role_to_string(drill->participants[i].role));
                if (drill->objectives.has_rto || drill->objectives.has_rpo)
                        printf("Objectives: RTO %s, RPO %s\n",
                               drill->objectives.has_rto ? format_duration(a, drill->objectives.rto) : "-",
                               drill->objectives.has_rpo ? format_duration(b, drill->objectives.rpo) : "-");
                fflush(stdout);
        }

        /* Live: inject the fault. From here on the fault is cleared whatever happens. */
        if (mode == DRILL_MODE_LIVE) {
                _cleanup_free_ char *cmd = strv_join(drill->scenario.inject.argv, " ");
                if (!g->json)
                        printf("Injecting the fault: %s\n", cmd);
                fflush(stdout);
                r = run_command(&drill->scenario.inject);
                if (r != 0) {
                        error = r < 0 ? xasprintf("fault injection failed: %s: %s", cmd, strerror(-r))
                                      : xasprintf("fault injection failed: %s exited %d", cmd, r);
                        failed = true;
                } else {
                        injected = now_usec(CLOCK_REALTIME);
                        (void) journal_drill_run_fault(jd, drill_run_id, injected, 0);
                        _cleanup_free_ char *data =
                                xasprintf("{\"drill_run\":%lld}", (long long) drill_run_id);
                        (void) journal_event(journal, 0, injected, "drill-fault-injected", cmd, data);
                        if (g->json)
                                ctl_print_json_line(json_pack(
                                        "{s:s, s:I, s:I}", "event", "drill-fault-injected", "drill_run",
                                        (json_int_t) drill_run_id, "at_us", (json_int_t) injected));
                }
        }

        run_ids = xcalloc(drill->n_playbooks + 1, sizeof(int64_t));
        outcomes = xcalloc(drill->n_playbooks + 1, sizeof(RunOutcome));
        for (size_t i = 0; i < drill->n_playbooks && !failed && !aborted; i++) {
                const DrillPlaybook *dp = &drill->playbooks[i];
                ParamValue *pv = xcalloc(dp->n_params + 1, sizeof(ParamValue));
                CtlRunHooks hooks = {
                        .userdata = &ctx,
                        .run_started = hook_run_started,
                        .step_shown = mode == DRILL_MODE_TABLETOP ? hook_step_shown : NULL,
                };

                for (size_t k = 0; k < dp->n_params; k++) {
                        pv[k].name = dp->params[k].name;
                        pv[k].value = drill_expand_value(drill, dp->params[k].value, injected);
                }
                ctx.seq = (unsigned) i + 1;
                CtlRunRequest req = {
                        .config = config,
                        .playbook = dp->playbook,
                        .params = pv,
                        .n_params = dp->n_params,
                        .mode = mode == DRILL_MODE_TABLETOP ? RUN_MODE_TABLETOP : RUN_MODE_DRILL,
                        .trigger = "drill",
                        .actor = actor,
                        .journal = journal,
                        .accept_new_host_keys = accept_new,
                        .hooks = &hooks,
                };
                outcomes[i] = RUN_FAILED;
                r = ctl_run_playbook(g, &req, &run_ids[i], &outcomes[i]);
                for (size_t k = 0; k < dp->n_params; k++)
                        free(pv[k].value);
                free(pv);
                if (r == EXIT_INFRA || r == EXIT_USAGE) {
                        error = xasprintf("playbook %s could not run (exit %d)", dp->playbook->name, r);
                        failed = true;
                } else if (outcomes[i] == RUN_ABORTED || ctx.stopped) {
                        /* Stopped at the very last step shown, the run itself may have
                         * ended normally: the drill was still not walked to the end. */
                        error = xstrdup(ctx.stdin_closed
                                                ? "standard input closed before every step was answered"
                                                : "stopped by the operator");
                        aborted = true;
                } else if (outcomes[i] != RUN_SUCCEEDED) {
                        error = xasprintf("playbook %s %s", dp->playbook->name,
                                          run_outcome_to_string(outcomes[i]));
                        failed = true;
                }
        }

        if (mode == DRILL_MODE_LIVE && injected) {
                r = compute_achieved(&ctx, run_ids, outcomes, drill->n_playbooks, &ach);
                if (r < 0)
                        log_warning_errno(r, "cannot compute the achieved objectives: %s", strerror(-r));
                if (ach.recovered_at >= injected && ach.recovered_at > 0)
                        rto_us = (int64_t) (ach.recovered_at - injected);
        }
        if (mode == DRILL_MODE_LIVE && drill->scenario.clear.argv && injected) {
                _cleanup_free_ char *cmd = strv_join(drill->scenario.clear.argv, " ");
                if (!g->json)
                        printf("Clearing the fault: %s\n", cmd);
                fflush(stdout);
                r = run_command(&drill->scenario.clear);
                if (r != 0) {
                        _cleanup_free_ char *why = r < 0 ? xasprintf("%s: %s", cmd, strerror(-r))
                                                         : xasprintf("%s exited %d", cmd, r);
                        log_error("the fault was NOT cleared (%s): clear it by hand", why);
                        char *e = error ? xasprintf("%s; fault not cleared: %s", error, why)
                                        : xasprintf("fault not cleared: %s", why);
                        free(error);
                        error = e;
                        failed = true;
                } else {
                        cleared = now_usec(CLOCK_REALTIME);
                        (void) journal_drill_run_fault(jd, drill_run_id, 0, cleared);
                        _cleanup_free_ char *data =
                                xasprintf("{\"drill_run\":%lld}", (long long) drill_run_id);
                        (void) journal_event(journal, 0, cleared, "drill-fault-cleared", cmd, data);
                }
        }

        if (mode == DRILL_MODE_LIVE) {
                const DrillObjectives *o = &drill->objectives;
                bool met = !failed && !aborted && rto_us >= 0 && ach.must_succeed_ok;
                bool known = !aborted && injected;

                if (o->has_rto && (rto_us < 0 || rto_us > (int64_t) o->rto))
                        met = false;
                if (o->has_rpo && (ach.rpo_us < 0 || ach.rpo_us > (int64_t) o->rpo))
                        met = false;
                if (o->has_rpo && ach.rpo_us < 0 && !o->rpo_from)
                        met = !failed && !aborted && rto_us >= 0 && ach.must_succeed_ok &&
                              (!o->has_rto ||
                               rto_us <= (int64_t) o->rto); /* RPO not measured: judged on the rest */
                objectives_met = known ? (met ? 1 : 0) : -1;
        }

        DrillRunRecord end = {
                .id = drill_run_id,
                .outcome = aborted ? RUN_ABORTED : failed ? RUN_FAILED : RUN_SUCCEEDED,
                .error = error,
                .recovered_at = ach.recovered_at,
                .rto_us = rto_us,
                .rpo_us = ach.rpo_us,
                .objectives_met = objectives_met,
        };
        r = journal_drill_run_end(jd, &end);
        if (r < 0)
                log_error_errno(r, "journal: cannot record the end of the drill: %s",
                                journal_drill_errmsg(jd));

        if (g->json) {
                json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "event", "drill-finished", "drill_run",
                                      (json_int_t) drill_run_id, "mode", drill_mode_to_string(mode),
                                      "outcome", run_outcome_to_string(end.outcome));
                json_object_set_new(o, "rto_us", rto_us >= 0 ? json_integer(rto_us) : json_null());
                json_object_set_new(o, "rpo_us", ach.rpo_us >= 0 ? json_integer(ach.rpo_us) : json_null());
                json_object_set_new(o, "objectives_met",
                                    objectives_met < 0 ? json_null() : json_boolean(objectives_met));
                json_object_set_new(o, "acknowledged", json_integer(ctx.n_ack));
                json_object_set_new(o, "challenged", json_integer(ctx.n_challenge));
                json_object_set_new(o, "error", error ? json_string(error) : json_null());
                ctl_print_json_line(o);
        } else {
                _cleanup_free_ char *rto = fmt_us(rto_us), *rpo = fmt_us(ach.rpo_us),
                                    *orto = fmt_us(drill->objectives.has_rto
                                                           ? (int64_t) drill->objectives.rto
                                                           : -1),
                                    *orpo = fmt_us(drill->objectives.has_rpo
                                                           ? (int64_t) drill->objectives.rpo
                                                           : -1);
                printf("%sDRILL run %lld %s%s%s", ansi_bold(g), (long long) drill_run_id,
                       run_outcome_color(g, end.outcome), run_outcome_to_string(end.outcome), ansi_reset(g));
                if (mode == DRILL_MODE_TABLETOP)
                        printf(": %u step(s) acknowledged, %u challenged.%s\n", ctx.n_ack, ctx.n_challenge,
                               ansi_reset(g));
                else
                        printf(": achieved RTO %s (objective %s), RPO %s (objective %s); objectives %s.%s\n",
                               rto, orto, rpo, orpo,
                               objectives_met < 0 ? "not assessed"
                               : objectives_met   ? "MET"
                                                  : "NOT MET",
                               ansi_reset(g));
                if (ach.missing)
                        printf("Step that had to succeed but did not: %s\n", ach.missing);
                if (error)
                        printf("Reason: %s\n", error);
                printf("Next: droverctl drill show %lld; droverctl drill evaluate %lld …\n",
                       (long long) drill_run_id, (long long) drill_run_id);
        }
        free(ach.missing);
        if (aborted || failed)
                return EXIT_RUN_FAILED;
        if (mode == DRILL_MODE_LIVE && objectives_met == 0)
                return EXIT_RUN_FAILED;
        return EXIT_OK;
}

/* ---------------------------------------------------------------- runs, show */

static json_t *drill_run_json(const DrillRunRecord *r)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "id", (json_int_t) r->id, "drill",
                              strempty(r->drill), "mode", strempty(r->mode), "fault", strempty(r->fault),
                              "actor", strempty(r->actor), "started_us", (json_int_t) r->started, "ended_us",
                              (json_int_t) r->ended, "outcome", run_outcome_to_string(r->outcome));
#define SET_US(k, v) json_object_set_new(o, k, (v) >= 0 ? json_integer(v) : json_null())
        SET_US("rto_us", r->rto_us);
        SET_US("rpo_us", r->rpo_us);
        SET_US("rto_objective_us", r->rto_objective_us);
        SET_US("rpo_objective_us", r->rpo_objective_us);
#undef SET_US
        json_object_set_new(o, "fault_subject",
                            r->fault_subject ? json_string(r->fault_subject) : json_null());
        json_object_set_new(o, "fault_injected_us", json_integer((json_int_t) r->fault_injected_at));
        json_object_set_new(o, "fault_cleared_us", json_integer((json_int_t) r->fault_cleared_at));
        json_object_set_new(o, "recovered_us", json_integer((json_int_t) r->recovered_at));
        json_object_set_new(o, "objectives_met",
                            r->objectives_met < 0 ? json_null() : json_boolean(r->objectives_met == 1));
        json_object_set_new(o, "purpose", r->purpose ? json_string(r->purpose) : json_null());
        json_object_set_new(o, "participants",
                            r->participants_json ? json_loads(r->participants_json, 0, NULL) ?: json_null()
                                                 : json_null());
        json_object_set_new(o, "drill_sha256", r->drill_sha256 ? json_string(r->drill_sha256) : json_null());
        json_object_set_new(o, "error", r->error ? json_string(r->error) : json_null());
        return o;
}

static const char *met_label(int met)
{
        return met < 0 ? "-" : met ? "met" : "NOT met";
}

static int drill_runs(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"drill", required_argument, NULL, 'd'},
                {"limit", required_argument, NULL, 'l'},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        const char *name = NULL;
        DrillRunRecord *runs = NULL;
        size_t n = 0, limit = 50;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:v", options, NULL)) >= 0) {
                if (c == 'd')
                        name = optarg;
                else if (c == 'l') {
                        int64_t v;
                        if (parse_id(optarg, &v) < 0)
                                return log_error("--limit wants a positive number"), EXIT_USAGE;
                        limit = (size_t) v;
                } else if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind != argc)
                return log_error("drill runs takes no arguments"), EXIT_USAGE;
        r = open_drill_journal_for_reading(g, &config, &j, &jd);
        if (r != EXIT_OK)
                return r;
        r = journal_drill_list_runs(jd, name, limit, &runs, &n);
        if (r < 0)
                return log_error_errno(r, "cannot read drill runs: %s", strerror(-r)), EXIT_INFRA;
        if (g->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, drill_run_json(&runs[i]));
                ctl_print_json_line(a);
        } else if (n == 0)
                printf("No drill runs in the journal.\n");
        else {
                printf("%s%5s  %-24s %-8s %-24s %-11s %9s %9s  %s%s\n", ansi_bold(g), "DRILL", "NAME",
                       "MODE", "STARTED", "OUTCOME", "RTO", "RPO", "OBJECTIVES", ansi_reset(g));
                for (size_t i = 0; i < n; i++) {
                        const DrillRunRecord *x = &runs[i];
                        _cleanup_free_ char *t = fmt_ts(x->started), *rto = fmt_us(x->rto_us),
                                            *rpo = fmt_us(x->rpo_us);
                        printf("%5lld  %-24s %-8s %-24s %s%-11s%s %9s %9s  %s\n", (long long) x->id,
                               x->drill, x->mode, t, run_outcome_color(g, x->outcome), run_outcome_to_string(x->outcome), ansi_reset(g),
                               rto, rpo, met_label(x->objectives_met));
                }
        }
        drill_run_record_free_array(runs, n);
        return EXIT_OK;
}

static int drill_show(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        DrillRunRecord run = {};
        DrillRunLink *links = NULL;
        DrillReviewRecord *reviews = NULL;
        DrillEvaluationRecord *evals = NULL;
        DrillActionRecord *actions = NULL;
        size_t n_links = 0, n_reviews = 0, n_evals = 0, n_actions = 0;
        json_t *jo = NULL, *jruns = NULL;
        int64_t id;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "c:v", options, NULL)) >= 0)
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        if (optind + 1 != argc || parse_id(argv[optind], &id) < 0)
                return log_error("drill show wants one DRILL-RUN id (see 'droverctl drill runs')"),
                       EXIT_USAGE;
        r = open_drill_journal_for_reading(g, &config, &j, &jd);
        if (r != EXIT_OK)
                return r;
        r = journal_drill_get_run(jd, id, &run);
        if (r == -ENOENT)
                return log_error("no drill run %lld in the journal", (long long) id), EXIT_USAGE;
        if (r >= 0)
                r = journal_drill_list_links(jd, id, &links, &n_links);
        if (r >= 0)
                r = journal_drill_list_reviews(jd, id, &reviews, &n_reviews);
        if (r >= 0)
                r = journal_drill_list_evaluations(jd, id, &evals, &n_evals);
        if (r >= 0)
                r = journal_drill_list_actions(jd, false, id, &actions, &n_actions);
        if (r < 0) {
                log_error_errno(r, "cannot read drill run %lld: %s", (long long) id, strerror(-r));
                ret = EXIT_INFRA;
                goto finish;
        }

        if (g->json) {
                jo = drill_run_json(&run);
                jruns = json_array();
        } else {
                _cleanup_free_ char *t0 = fmt_ts(run.started), *t1 = fmt_ts(run.ended),
                                    *fi = fmt_ts(run.fault_injected_at), *fc = fmt_ts(run.fault_cleared_at),
                                    *rec = fmt_ts(run.recovered_at), *rto = fmt_us(run.rto_us),
                                    *rpo = fmt_us(run.rpo_us), *orto = fmt_us(run.rto_objective_us),
                                    *orpo = fmt_us(run.rpo_objective_us);
                printf("%sDRILL run %lld%s  %s (%s)  %s%s%s — not an incident\n", ansi_bold(g),
                       (long long) run.id, ansi_reset(g), run.drill, run.mode, run_outcome_color(g, run.outcome),
                       run_outcome_to_string(run.outcome), ansi_reset(g));
                printf("  purpose       %s\n", strempty(run.purpose));
                printf("  scenario      %s%s%s\n", strempty(run.fault), run.fault_subject ? " at " : "",
                       strempty(run.fault_subject));
                printf("  participants  %s\n", strempty(run.participants_json));
                printf("  started       %s by %s\n  ended         %s\n", t0, strempty(run.actor), t1);
                if (drill_mode_from_string(run.mode) == DRILL_MODE_LIVE)
                        printf("  fault         injected %s, cleared %s\n  recovered     %s\n"
                               "  RTO           %s (objective %s)\n  RPO           %s (objective %s)\n"
                               "  objectives    %s\n",
                               fi, fc, rec, rto, orto, rpo, orpo, met_label(run.objectives_met));
                if (run.error)
                        printf("  error         %s\n", run.error);
        }

        for (size_t i = 0; i < n_links; i++) {
                StepRecord *steps = NULL;
                RunRecord pr = {};
                size_t n = 0;

                r = journal_get_run(j, links[i].run_id, &pr);
                if (r >= 0)
                        r = journal_list_steps(j, links[i].run_id, &steps, &n);
                if (r < 0) {
                        free(steps);
                        continue;
                }
                if (g->json) {
                        json_t *sa = json_array();
                        for (size_t k = 0; k < n; k++) {
                                json_t *so = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I}", "index",
                                                       steps[k].step_index + 1, "name",
                                                       strempty(steps[k].step_name), "phase",
                                                       step_phase_to_string(steps[k].phase), "outcome",
                                                       step_outcome_to_string(steps[k].outcome), "started_us",
                                                       (json_int_t) steps[k].started, "ended_us",
                                                       (json_int_t) steps[k].ended, "duration_us",
                                                       (json_int_t) steps[k].duration);
                                json_object_set_new(so, "error",
                                                    steps[k].error ? json_string(steps[k].error)
                                                                   : json_null());
                                json_array_append_new(sa, so);
                        }
                        json_array_append_new(jruns, json_pack("{s:I, s:s, s:s, s:s, s:o}", "run",
                                                               (json_int_t) links[i].run_id, "playbook",
                                                               strempty(links[i].playbook), "mode",
                                                               run_mode_to_string(pr.mode), "outcome",
                                                               run_outcome_to_string(pr.outcome), "steps", sa));
                } else {
                        printf("\n%sRun %lld%s  %s  mode %s  %s%s%s\n", ansi_bold(g),
                               (long long) links[i].run_id, ansi_reset(g), links[i].playbook,
                               run_mode_to_string(pr.mode), run_outcome_color(g, pr.outcome), run_outcome_to_string(pr.outcome),
                               ansi_reset(g));
                        printf("  %s  #  STEP                       PHASE    OUTCOME      DURATION%s\n",
                               ansi_bold(g), ansi_reset(g));
                        for (size_t k = 0; k < n; k++) {
                                char dd[FORMAT_DURATION_MAX];
                                printf("  %3d  %-26s %-8s %s%-11s%s %9s%s%s\n", steps[k].step_index + 1,
                                       strempty(steps[k].step_name), step_phase_to_string(steps[k].phase),
                                       step_outcome_color(g, steps[k].outcome), step_outcome_to_string(steps[k].outcome),
                                       ansi_reset(g),
                                       steps[k].ended ? format_duration(dd, steps[k].duration) : "-",
                                       steps[k].error ? "  " : "", strempty(steps[k].error));
                        }
                }
                step_record_free_array(steps, n);
                run_record_done(&pr);
        }

        if (g->json) {
                json_t *ra = json_array(), *ea = json_array(), *aa = json_array();
                for (size_t i = 0; i < n_reviews; i++)
                        json_array_append_new(ra,
                                              json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I}", "step",
                                                        reviews[i].step_name, "verdict", reviews[i].verdict,
                                                        "who", reviews[i].who, "comment", reviews[i].comment,
                                                        "shown_us", (json_int_t) reviews[i].shown_at,
                                                        "answered_us", (json_int_t) reviews[i].answered_at));
                for (size_t i = 0; i < n_evals; i++)
                        json_array_append_new(
                                ea, json_pack("{s:s, s:i, s:s?, s:s, s:I}", "criterion", evals[i].criterion,
                                              "score", evals[i].score, "text", evals[i].text, "evaluator",
                                              evals[i].evaluator, "at_us", (json_int_t) evals[i].at));
                for (size_t i = 0; i < n_actions; i++)
                        json_array_append_new(aa, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id",
                                                            (json_int_t) actions[i].id, "finding",
                                                            actions[i].finding, "action", actions[i].action,
                                                            "owner", actions[i].owner, "due", actions[i].due,
                                                            "status", actions[i].status));
                json_object_set_new(jo, "runs", jruns);
                json_object_set_new(jo, "reviews", ra);
                json_object_set_new(jo, "evaluations", ea);
                json_object_set_new(jo, "actions", aa);
                ctl_print_json_line(jo);
                goto finish;
        }

        if (n_reviews > 0) {
                printf("\n%sTabletop answers%s\n", ansi_bold(g), ansi_reset(g));
                for (size_t i = 0; i < n_reviews; i++) {
                        char dd[FORMAT_DURATION_MAX];
                        printf("  %-26s %-9s %-32s %8s  %s\n", reviews[i].step_name, reviews[i].verdict,
                               reviews[i].who,
                               format_duration(
                                       dd, usec_sub_unsigned(reviews[i].answered_at, reviews[i].shown_at)),
                               strempty(reviews[i].comment));
                }
        }
        if (n_evals > 0) {
                printf("\n%sEvaluation%s (newest per criterion counts)\n", ansi_bold(g), ansi_reset(g));
                for (size_t i = 0; i < n_evals; i++) {
                        _cleanup_free_ char *t = fmt_ts(evals[i].at);
                        if (evals[i].score > 0)
                                printf("  %-13s %d/5  %s  (%s, %s)\n", evals[i].criterion, evals[i].score,
                                       strempty(evals[i].text), evals[i].evaluator, t);
                        else
                                printf("  %-13s      %s  (%s, %s)\n", evals[i].criterion,
                                       strempty(evals[i].text), evals[i].evaluator, t);
                }
        } else
                printf("\nNot evaluated yet: droverctl drill evaluate %lld --objectives N TEXT …\n",
                       (long long) id);
        if (n_actions > 0) {
                printf("\n%sImprovement actions%s\n", ansi_bold(g), ansi_reset(g));
                for (size_t i = 0; i < n_actions; i++)
                        printf("  #%-4lld %-11s due %s  %s: %s (finding: %s)\n", (long long) actions[i].id,
                               actions[i].status, actions[i].due, actions[i].owner, actions[i].action,
                               actions[i].finding);
        }

finish:
        drill_run_record_done(&run);
        drill_run_link_free_array(links, n_links);
        drill_review_record_free_array(reviews, n_reviews);
        drill_evaluation_record_free_array(evals, n_evals);
        drill_action_record_free_array(actions, n_actions);
        return ret;
}

/* ---------------------------------------------------------------- status */

typedef struct StatusRow {
        char *name;
        char *file;
        usec_t last;
        char *last_mode;
        usec_t next;   /* drills: when due */
        char *problem; /* NULL = fine */
} StatusRow;

static void status_row_done(StatusRow *s)
{
        free(s->name);
        free(s->file);
        free(s->last_mode);
        free(s->problem);
}

static char **yaml_files(const char *dir)
{
        struct dirent **list = NULL;
        char **v;
        int n = scandir(dir, &list, NULL, alphasort);
        size_t k = 0;

        if (n < 0)
                return xcalloc(1, sizeof(char *));
        v = xcalloc((size_t) n + 1, sizeof(char *));
        for (int i = 0; i < n; i++) {
                size_t len = strlen(list[i]->d_name);
                if (list[i]->d_name[0] != '.' && list[i]->d_name[0] != '_' && len > 5 &&
                    streq(list[i]->d_name + len - 5, ".yaml"))
                        v[k++] = xasprintf("%s/%s", dir, list[i]->d_name);
                free(list[i]);
        }
        free(list);
        return v;
}

/* The playbook's `name:` (what runs record), else the file's base name. */
static char *playbook_name_of(const char *file)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        DiagList scratch;
        const YNode *n;
        char *r = NULL;

        diag_list_init(&scratch);
        if (ydocument_load_file(file, &doc, &scratch) >= 0 && (n = ynode_get(doc->root, "name")) &&
            n->kind == YNODE_SCALAR)
                r = xstrdup(n->scalar);
        diag_list_done(&scratch);
        if (!r) {
                const char *b = strrchr(file, '/');
                b = b ? b + 1 : file;
                r = xstrndup(b, strlen(b) - 5);
        }
        return r;
}

static int drill_status(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"check", no_argument, NULL, 'k'},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        _cleanup_free_ char *pbdir = NULL;
        _cleanup_strv_free_ char **pbfiles = NULL, **dirs = NULL;
        StatusRow *pbrows = NULL, *drows = NULL;
        size_t n_pb = 0, n_d = 0, n_last_pb = 0, n_last_d = 0;
        DrillLast *last_pb = NULL, *last_d = NULL;
        bool check = false;
        unsigned n_problems = 0;
        usec_t now, year_ago;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:v", options, NULL)) >= 0) {
                if (c == 'k')
                        check = true;
                else if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind != argc)
                return log_error("drill status takes no arguments"), EXIT_USAGE;
        r = drill_now(&now);
        if (r < 0)
                return log_error("$DROVER_NOW is not a time (want ISO-8601 UTC like 2027-01-05T10:00:00Z, "
                                 "or epoch "
                                 "seconds)"),
                       EXIT_USAGE;
        year_ago = usec_minus_months(now, 12);
        r = open_drill_journal_with_config(g, &config, &j, &jd);
        if (r != EXIT_OK)
                return r;
        r = journal_drill_last_per_playbook(jd, &last_pb, &n_last_pb);
        if (r >= 0)
                r = journal_drill_last_per_drill(jd, &last_d, &n_last_d);
        if (r < 0)
                return log_error_errno(r, "cannot read the journal: %s", strerror(-r)), EXIT_INFRA;

        /* Every playbook: drilled (tabletop or live) within the last 12 months? */
        pbdir = playbook_dir_for(config);
        pbfiles = yaml_files(pbdir);
        for (char **f = pbfiles; *f; f++) {
                StatusRow *s = array_push(&pbrows, &n_pb, sizeof(StatusRow));
                s->file = xstrdup(*f);
                s->name = playbook_name_of(*f);
                for (size_t i = 0; i < n_last_pb; i++)
                        if (streq(last_pb[i].name, s->name)) {
                                s->last = last_pb[i].at;
                                s->last_mode = xstrdup(last_pb[i].mode);
                        }
                if (!s->last)
                        s->problem = xstrdup("never drilled");
                else if (s->last < year_ago)
                        s->problem = xstrdup("not drilled in the last 12 months");
                if (s->problem)
                        n_problems++;
        }

        /* Every drill: due per its schedule? */
        dirs = drill_dirs(config);
        for (char **d = dirs; *d; d++) {
                _cleanup_strv_free_ char **files = yaml_files(*d);
                for (char **f = files; *f; f++) {
                        _cleanup_(drill_freep) Drill *drill = NULL;
                        DiagList scratch;
                        StatusRow *s;
                        bool dup = false;

                        diag_list_init(&scratch);
                        r = drill_load(*f, config, NULL, &drill, &scratch);
                        diag_list_done(&scratch);
                        for (size_t i = 0; drill && i < n_d; i++)
                                if (streq(drows[i].name, drill->name))
                                        dup = true; /* an earlier directory wins, like `drill start NAME` */
                        if (dup)
                                continue;
                        if (r < 0 && !drill_document_looks_like(*f))
                                continue;
                        s = array_push(&drows, &n_d, sizeof(StatusRow));
                        s->file = xstrdup(*f);
                        if (!drill) {
                                const char *b = strrchr(*f, '/');
                                s->name = xstrndup(b + 1, strlen(b + 1) - 5);
                                s->problem = xasprintf("does not validate (droverctl validate %s)", *f);
                                n_problems++;
                                continue;
                        }
                        s->name = xstrdup(drill->name);
                        for (size_t i = 0; i < n_last_d; i++)
                                if (streq(last_d[i].name, drill->name)) {
                                        s->last = last_d[i].at;
                                        s->last_mode = xstrdup(last_d[i].mode);
                                }
                        s->next = drill_schedule_next(&drill->schedule, s->last);
                        if (!s->last)
                                s->problem = xstrdup("never run");
                        else if (s->next <= now)
                                s->problem = xstrdup("overdue per its schedule");
                        if (s->problem)
                                n_problems++;
                }
                if (n_d > 0)
                        break; /* the first directory that holds drills is the drill set */
        }

        if (g->json) {
                json_t *o = json_object(), *pa = json_array(), *da = json_array();
                for (size_t i = 0; i < n_pb; i++)
                        json_array_append_new(
                                pa, json_pack("{s:s, s:s, s:I, s:s?, s:b, s:s?}", "playbook", pbrows[i].name,
                                              "file", pbrows[i].file, "last_drill_us",
                                              (json_int_t) pbrows[i].last, "last_mode", pbrows[i].last_mode,
                                              "ok", !pbrows[i].problem, "problem", pbrows[i].problem));
                for (size_t i = 0; i < n_d; i++)
                        json_array_append_new(da, json_pack("{s:s, s:s, s:I, s:I, s:s?, s:b, s:s?}", "drill",
                                                            drows[i].name, "file", drows[i].file,
                                                            "last_run_us", (json_int_t) drows[i].last,
                                                            "next_due_us", (json_int_t) drows[i].next,
                                                            "last_mode", drows[i].last_mode, "ok",
                                                            !drows[i].problem, "problem", drows[i].problem));
                json_object_set_new(o, "now_us", json_integer((json_int_t) now));
                json_object_set_new(o, "playbooks", pa);
                json_object_set_new(o, "drills", da);
                json_object_set_new(o, "problems", json_integer(n_problems));
                ctl_print_json_line(o);
        } else {
                _cleanup_free_ char *tnow = fmt_ts(now);
                printf("Drill status at %s (every plan must be drilled at least once in 12 months)\n\n",
                       tnow);
                printf("%s%-28s %-24s %-9s  %s%s\n", ansi_bold(g), "PLAYBOOK", "LAST DRILL", "MODE",
                       "STATUS", ansi_reset(g));
                for (size_t i = 0; i < n_pb; i++) {
                        _cleanup_free_ char *t = fmt_ts(pbrows[i].last);
                        printf("%-28s %-24s %-9s  %s%s%s\n", pbrows[i].name, t, pbrows[i].last_mode ?: "-",
                               pbrows[i].problem ? ansi_red(g) : ansi_green(g),
                               pbrows[i].problem ? pbrows[i].problem : "ok", ansi_reset(g));
                }
                printf("\n%s%-28s %-24s %-24s  %s%s\n", ansi_bold(g), "DRILL", "LAST RUN", "NEXT DUE",
                       "STATUS", ansi_reset(g));
                for (size_t i = 0; i < n_d; i++) {
                        _cleanup_free_ char *t = fmt_ts(drows[i].last),
                                            *nx = drows[i].last ? fmt_ts(drows[i].next) : xstrdup("now");
                        printf("%-28s %-24s %-24s  %s%s%s\n", drows[i].name, t, nx,
                               drows[i].problem ? ansi_red(g) : ansi_green(g),
                               drows[i].problem ? drows[i].problem : "ok", ansi_reset(g));
                }
                if (n_d == 0)
                        printf("(no drill files found)\n");
                printf("\n%u problem(s).\n", n_problems);
        }
        for (size_t i = 0; i < n_pb; i++)
                status_row_done(&pbrows[i]);
        free(pbrows);
        for (size_t i = 0; i < n_d; i++)
                status_row_done(&drows[i]);
        free(drows);
        drill_last_free_array(last_pb, n_last_pb);
        drill_last_free_array(last_d, n_last_d);
        return check && n_problems > 0 ? EXIT_RUN_FAILED : EXIT_OK;
}

/* ---------------------------------------------------------------- evaluate */

static bool due_is_valid(const char *s)
{
        usec_t t;
        return s && strlen(s) == 10 && s[4] == '-' && s[7] == '-' && parse_timestamp(s, &t) >= 0;
}

static bool text_is_valid(const char *s)
{
        return s && *s && strlen(s) <= 4096;
}

typedef struct EvalItem {
        const char *criterion;
        int score;
        char *text;
} EvalItem;

typedef struct FindingItem {
        char *finding, *action, *owner, *due;
} FindingItem;

/* --from FILE: {objectives: {score: 4, text: …}, …, lessons: TEXT,
 *               findings: [{finding, action, owner, due}]} — YAML or JSON. */
static int load_evaluation_file(const char *path, EvalItem **items, size_t *n_items, FindingItem **finds,
                                size_t *n_finds)
{
        static const char *const top[] = {"objectives", "procedure", "coordination", "resources", "lessons",
                                          "findings",   NULL};
        static const char *const crit_keys[] = {"score", "text", NULL};
        static const char *const find_keys[] = {"finding", "action", "owner", "due", NULL};
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        DiagList diags;
        const YNode *v;
        int r;

        diag_list_init(&diags);
        r = ydocument_load_file(path, &doc, &diags);
        if (r >= 0 && ynode_expect(doc->root, YNODE_MAPPING, "an evaluation", &diags)) {
                ynode_check_keys(doc->root, top, "evaluation", &diags);
                for (size_t i = 0; i < ELEMENTSOF(criteria); i++) {
                        const YNode *m = ynode_get(doc->root, criteria[i]);
                        uint64_t score = 0;
                        const char *text = NULL;
                        if (!m || !ynode_expect(m, YNODE_MAPPING, criteria[i], &diags))
                                continue;
                        ynode_check_keys(m, crit_keys, criteria[i], &diags);
                        if (ynode_get_uint(m, "score", criteria[i], true, 1, 5, &score, &diags) <= 0)
                                continue;
                        if (ynode_get_string(m, "text", criteria[i], true, &text, &diags) <= 0)
                                continue;
                        EvalItem *e = array_push(items, n_items, sizeof(EvalItem));
                        *e = (EvalItem){criteria[i], (int) score, xstrdup(text)};
                }
                const char *lessons = NULL;
                if (ynode_get_string(doc->root, "lessons", "evaluation", false, &lessons, &diags) > 0) {
                        EvalItem *e = array_push(items, n_items, sizeof(EvalItem));
                        *e = (EvalItem){"lessons", 0, xstrdup(lessons)};
                }
                v = ynode_get(doc->root, "findings");
                if (v && ynode_expect(v, YNODE_SEQUENCE, "findings", &diags))
                        for (size_t i = 0; i < v->n_items; i++) {
                                const YNode *m = v->items[i];
                                const char *f = NULL, *a = NULL, *o = NULL, *d = NULL;
                                if (!ynode_expect(m, YNODE_MAPPING, "a finding", &diags))
                                        continue;
                                ynode_check_keys(m, find_keys, "finding", &diags);
                                if (ynode_get_string(m, "finding", "finding", true, &f, &diags) <= 0 ||
                                    ynode_get_string(m, "action", "finding", true, &a, &diags) <= 0 ||
                                    ynode_get_string(m, "owner", "finding", true, &o, &diags) <= 0 ||
                                    ynode_get_string(m, "due", "finding", true, &d, &diags) <= 0)
                                        continue;
                                if (!due_is_valid(d)) {
                                        ynode_error(&diags, ynode_get(m, "due"),
                                                    "due must be a date YYYY-MM-DD");
                                        continue;
                                }
                                FindingItem *x = array_push(finds, n_finds, sizeof(FindingItem));
                                *x = (FindingItem){xstrdup(f), xstrdup(a), xstrdup(o), xstrdup(d)};
                        }
        }
        r = diag_has_errors(&diags) ? -EINVAL : 0;
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        return r;
}

static int drill_evaluate(CtlGlobals *g, int argc, char **argv)
{
        enum { OPT_OBJ = 0x2000, OPT_PROC, OPT_COORD, OPT_RES, OPT_LESSONS, OPT_FROM, OPT_EVALUATOR };
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"objectives", required_argument, NULL, OPT_OBJ},
                {"procedure", required_argument, NULL, OPT_PROC},
                {"coordination", required_argument, NULL, OPT_COORD},
                {"resources", required_argument, NULL, OPT_RES},
                {"lessons", required_argument, NULL, OPT_LESSONS},
                {"from", required_argument, NULL, OPT_FROM},
                {"evaluator", required_argument, NULL, OPT_EVALUATOR},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        _cleanup_free_ char *evaluator = NULL;
        EvalItem *items = NULL;
        FindingItem *finds = NULL;
        size_t n_items = 0, n_finds = 0;
        const char *from = NULL;
        DrillRunRecord run = {};
        int64_t id = 0;
        int c, r, ret = EXIT_OK;

        /* Options take "N TEXT": the score is optarg, the text the next argument, which
         * getopt must not permute: "+" stops at the first non-option. So the DRILL-RUN id
         * is taken first (`evaluate 7 --objectives 4 "…"`) or last. */
        if (argc > 1 && argv[1][0] != '-') {
                if (parse_id(argv[1], &id) < 0) {
                        log_error("'%s' is not a DRILL-RUN id", argv[1]);
                        return EXIT_USAGE;
                }
                argv[1] = argv[0];
                argc--;
                argv++;
        }
        while ((c = getopt_long(argc, argv, "+c:v", options, NULL)) >= 0) {
                switch (c) {
                case OPT_OBJ:
                case OPT_PROC:
                case OPT_COORD:
                case OPT_RES: {
                        char *end;
                        long score = strtol(optarg, &end, 10);
                        if (*end || score < 1 || score > 5) {
                                log_error("--%s wants a score 1..5 then a text, got '%s'",
                                          criteria[c - OPT_OBJ], optarg);
                                ret = EXIT_USAGE;
                                goto finish;
                        }
                        if (optind >= argc || !text_is_valid(argv[optind])) {
                                log_error("--%s %ld wants a text after the score", criteria[c - OPT_OBJ],
                                          score);
                                ret = EXIT_USAGE;
                                goto finish;
                        }
                        EvalItem *e = array_push(&items, &n_items, sizeof(EvalItem));
                        *e = (EvalItem){criteria[c - OPT_OBJ], (int) score, xstrdup(argv[optind++])};
                        break;
                }
                case OPT_LESSONS: {
                        if (!text_is_valid(optarg)) {
                                log_error("--lessons wants a text");
                                ret = EXIT_USAGE;
                                goto finish;
                        }
                        EvalItem *e = array_push(&items, &n_items, sizeof(EvalItem));
                        *e = (EvalItem){"lessons", 0, xstrdup(optarg)};
                        break;
                }
                case OPT_FROM:
                        from = optarg;
                        break;
                case OPT_EVALUATOR:
                        free(evaluator);
                        evaluator = xstrdup(optarg);
                        break;
                default:
                        if (!ctl_common_option(g, c, optarg)) {
                                ret = EXIT_USAGE;
                                goto finish;
                        }
                }
        }
        if (id == 0 && optind + 1 == argc && parse_id(argv[optind], &id) >= 0)
                optind++;
        if (id == 0 || optind != argc) {
                log_error("drill evaluate wants one DRILL-RUN id (see 'droverctl drill runs')");
                ret = EXIT_USAGE;
                goto finish;
        }
        if (from && load_evaluation_file(from, &items, &n_items, &finds, &n_finds) < 0) {
                fprintf(stderr, "Evaluation refused; nothing was recorded.\n");
                ret = EXIT_USAGE;
                goto finish;
        }
        if (n_items == 0 && n_finds == 0) {
                log_error("nothing to record: give --objectives/--procedure/--coordination/--resources N "
                          "TEXT, "
                          "--lessons TEXT or --from FILE");
                ret = EXIT_USAGE;
                goto finish;
        }
        if (!evaluator)
                evaluator = ctl_actor();

        ret = open_drill_journal_with_config(g, &config, &j, &jd);
        if (ret != EXIT_OK)
                goto finish;
        r = journal_drill_get_run(jd, id, &run);
        if (r == -ENOENT) {
                log_error("no drill run %lld in the journal", (long long) id);
                ret = EXIT_USAGE;
                goto finish;
        }
        if (r >= 0 && run.outcome == RUN_RUNNING) {
                log_error("drill run %lld is still running; evaluate it when it has ended", (long long) id);
                ret = EXIT_USAGE;
                goto finish;
        }
        for (size_t i = 0; r >= 0 && i < n_items; i++) {
                DrillEvaluationRecord e = {
                        .drill_run_id = id,
                        .evaluator = evaluator,
                        .criterion = (char *) items[i].criterion,
                        .score = items[i].score,
                        .text = items[i].text,
                };
                r = journal_drill_evaluation_add(jd, &e, NULL);
        }
        for (size_t i = 0; r >= 0 && i < n_finds; i++) {
                DrillActionRecord a = {
                        .drill_run_id = id,
                        .created_by = evaluator,
                        .finding = finds[i].finding,
                        .action = finds[i].action,
                        .owner = finds[i].owner,
                        .due = finds[i].due,
                };
                r = journal_drill_action_add(jd, &a, NULL);
        }
        if (r < 0) {
                log_error_errno(r, "journal: cannot record the evaluation: %s", journal_drill_errmsg(jd));
                ret = EXIT_INFRA;
                goto finish;
        }
        if (g->json)
                ctl_print_json_line(json_pack("{s:I, s:i, s:i}", "drill_run", (json_int_t) id, "criteria",
                                              (int) n_items, "actions", (int) n_finds));
        else
                printf("Recorded %zu evaluation item(s) and %zu action(s) for drill run %lld by %s.\n",
                       n_items, n_finds, (long long) id, evaluator);

finish:
        drill_run_record_done(&run);
        for (size_t i = 0; i < n_items; i++)
                free(items[i].text);
        free(items);
        for (size_t i = 0; i < n_finds; i++) {
                free(finds[i].finding);
                free(finds[i].action);
                free(finds[i].owner);
                free(finds[i].due);
        }
        free(finds);
        return ret;
}

/* ---------------------------------------------------------------- actions */

/* Open (or in progress) a day after its due date. */
static bool action_overdue(const DrillActionRecord *a, usec_t now)
{
        usec_t due = 0;
        bool open = streq(a->status, "open") || streq(a->status, "in-progress");

        (void) parse_timestamp(a->due, &due);
        return open && due + 24 * USEC_PER_HOUR <= now;
}

static int drill_actions(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"open", no_argument, NULL, 'o'},
                {"run", required_argument, NULL, 'r'},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        DrillActionRecord *a = NULL;
        size_t n = 0;
        bool open_only = false;
        int64_t run_id = 0;
        usec_t now;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:v", options, NULL)) >= 0) {
                if (c == 'o')
                        open_only = true;
                else if (c == 'r') {
                        if (parse_id(optarg, &run_id) < 0)
                                return log_error("--run wants a DRILL-RUN id"), EXIT_USAGE;
                } else if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind != argc)
                return log_error("drill actions takes no arguments"), EXIT_USAGE;
        if (drill_now(&now) < 0)
                return log_error("$DROVER_NOW is not a time"), EXIT_USAGE;
        r = open_drill_journal_for_reading(g, &config, &j, &jd);
        if (r != EXIT_OK)
                return r;
        r = journal_drill_list_actions(jd, open_only, run_id, &a, &n);
        if (r < 0)
                return log_error_errno(r, "cannot read actions: %s", strerror(-r)), EXIT_INFRA;

        if (g->json) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++) {
                        json_t *o = json_pack(
                                "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "id", (json_int_t) a[i].id,
                                "finding", a[i].finding, "action", a[i].action, "owner", a[i].owner, "due",
                                a[i].due, "status", a[i].status, "created_by", a[i].created_by, "created_us",
                                (json_int_t) a[i].created_at, "overdue", action_overdue(&a[i], now));
                        json_object_set_new(o, "drill_run",
                                            a[i].drill_run_id ? json_integer(a[i].drill_run_id)
                                                              : json_null());
                        json_array_append_new(arr, o);
                }
                ctl_print_json_line(arr);
        } else if (n == 0)
                printf(open_only ? "No open improvement actions.\n" : "No improvement actions.\n");
        else {
                printf("%s%5s  %-5s  %-11s %-10s %-18s %s%s\n", ansi_bold(g), "ID", "DRILL", "STATUS", "DUE",
                       "OWNER", "ACTION (FINDING)", ansi_reset(g));
                for (size_t i = 0; i < n; i++) {
                        bool overdue = action_overdue(&a[i], now);
                        char dr[24] = "-";
                        if (a[i].drill_run_id)
                                snprintf(dr, sizeof dr, "%lld", (long long) a[i].drill_run_id);
                        printf("%5lld  %-5s  %-11s %-10s %-18s %s (%s)%s%s%s\n", (long long) a[i].id, dr,
                               a[i].status, a[i].due, a[i].owner, a[i].action, a[i].finding,
                               overdue ? ansi_red(g) : "", overdue ? "  OVERDUE" : "", ansi_reset(g));
                }
        }
        drill_action_record_free_array(a, n);
        return EXIT_OK;
}

static int drill_action(CtlGlobals *g, int argc, char **argv)
{
        enum {
                OPT_FINDING = 0x2100,
                OPT_ACTION,
                OPT_OWNER,
                OPT_DUE,
                OPT_STATUS,
                OPT_COMMENT,
                OPT_CANCEL,
                OPT_RUN
        };
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"finding", required_argument, NULL, OPT_FINDING},
                {"action", required_argument, NULL, OPT_ACTION},
                {"owner", required_argument, NULL, OPT_OWNER},
                {"due", required_argument, NULL, OPT_DUE},
                {"status", required_argument, NULL, OPT_STATUS},
                {"comment", required_argument, NULL, OPT_COMMENT},
                {"cancel", no_argument, NULL, OPT_CANCEL},
                {"run", required_argument, NULL, OPT_RUN},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        _cleanup_free_ char *actor = NULL;
        const char *finding = NULL, *action = NULL, *owner = NULL, *due = NULL, *status = NULL,
                   *comment = NULL;
        const char *sub;
        bool cancel = false;
        int64_t run_id = 0, id = 0;
        int c, r;

        if (argc < 2)
                return log_error("drill action wants add, update or close; see 'droverctl drill --help'"),
                       EXIT_USAGE;
        sub = argv[1];
        argc--;
        argv++;
        optind = 0;
        while ((c = getopt_long(argc, argv, "c:v", options, NULL)) >= 0) {
                switch (c) {
                case OPT_FINDING:
                        finding = optarg;
                        break;
                case OPT_ACTION:
                        action = optarg;
                        break;
                case OPT_OWNER:
                        owner = optarg;
                        break;
                case OPT_DUE:
                        due = optarg;
                        break;
                case OPT_STATUS:
                        status = optarg;
                        break;
                case OPT_COMMENT:
                        comment = optarg;
                        break;
                case OPT_CANCEL:
                        cancel = true;
                        break;
                case OPT_RUN:
                        if (parse_id(optarg, &run_id) < 0)
                                return log_error("--run wants a DRILL-RUN id"), EXIT_USAGE;
                        break;
                default:
                        if (!ctl_common_option(g, c, optarg))
                                return EXIT_USAGE;
                }
        }
        actor = ctl_actor();

        if (streq(sub, "add")) {
                if (optind != argc)
                        return log_error("drill action add takes options only"), EXIT_USAGE;
                if (!text_is_valid(finding) || !text_is_valid(action) || !text_is_valid(owner) || !due)
                        return log_error("drill action add needs --finding, --action, --owner and --due"),
                               EXIT_USAGE;
                if (!due_is_valid(due))
                        return log_error("--due wants a date YYYY-MM-DD, not '%s'", due), EXIT_USAGE;
        } else if (streq(sub, "update") || streq(sub, "close")) {
                if (optind + 1 != argc || parse_id(argv[optind], &id) < 0)
                        return log_error("drill action %s wants one action ID", sub), EXIT_USAGE;
                if (streq(sub, "update")) {
                        if (!status || (!streq(status, "open") && !streq(status, "in-progress")))
                                return log_error("drill action update wants --status open or in-progress "
                                                 "(close "
                                                 "it with 'drill action close')"),
                                       EXIT_USAGE;
                } else
                        status = cancel ? "cancelled" : "done";
        } else
                return log_error("unknown 'drill action %s' (add, update or close)", sub), EXIT_USAGE;

        r = open_drill_journal_with_config(g, &config, &j, &jd);
        if (r != EXIT_OK)
                return r;

        if (streq(sub, "add")) {
                DrillRunRecord run = {};
                if (run_id > 0) {
                        r = journal_drill_get_run(jd, run_id, &run);
                        drill_run_record_done(&run);
                        if (r == -ENOENT)
                                return log_error("no drill run %lld in the journal", (long long) run_id),
                                       EXIT_USAGE;
                }
                DrillActionRecord a = {
                        .drill_run_id = run_id,
                        .created_by = actor,
                        .finding = (char *) finding,
                        .action = (char *) action,
                        .owner = (char *) owner,
                        .due = (char *) due,
                };
                r = journal_drill_action_add(jd, &a, &id);
                if (r < 0)
                        return log_error_errno(r, "journal: cannot record the action: %s",
                                               journal_drill_errmsg(jd)),
                               EXIT_INFRA;
                if (g->json)
                        ctl_print_json_line(
                                json_pack("{s:I, s:s}", "id", (json_int_t) id, "status", "open"));
                else
                        printf("Action %lld recorded (open), owner %s, due %s.\n", (long long) id, owner,
                               due);
                return EXIT_OK;
        }

        r = journal_drill_action_set_status(jd, id, status, actor, comment, 0);
        if (r == -ENOENT)
                return log_error("no action %lld", (long long) id), EXIT_USAGE;
        if (r == -EALREADY)
                return log_error("action %lld is closed already; actions are tracked until closed, then "
                                 "kept as they "
                                 "are",
                                 (long long) id),
                       EXIT_USAGE;
        if (r < 0)
                return log_error_errno(r, "journal: cannot record the status: %s", journal_drill_errmsg(jd)),
                       EXIT_INFRA;
        if (g->json)
                ctl_print_json_line(json_pack("{s:I, s:s}", "id", (json_int_t) id, "status", status));
        else
                printf("Action %lld is now %s.\n", (long long) id, status);
        return EXIT_OK;
}

/* ---------------------------------------------------------------- timer */

/* Print the drop-in that gives drover-drill@NAME.timer the drill's own calendar. */
static int drill_timer(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(drill_freep) Drill *drill = NULL;
        _cleanup_free_ char *path = NULL, *cal = NULL;
        DiagList diags;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:v", options, NULL)) >= 0)
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        if (optind + 1 != argc)
                return log_error("drill timer wants one drill NAME or FILE"), EXIT_USAGE;
        r = ctl_load_config(g, &config);
        if (r != EXIT_OK)
                return r;
        path = resolve_drill(config, argv[optind]);
        diag_list_init(&diags);
        r = drill_load(path, config, NULL, &drill, &diags);
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        if (r < 0)
                return EXIT_USAGE;
        cal = drill_schedule_on_calendar(&drill->schedule);
        printf("# drover-drill@%s.timer.d/schedule.conf — generated by 'droverctl drill timer %s'\n"
               "# from %s (sha256 %.12s…)\n"
               "[Timer]\nOnCalendar=\nOnCalendar=%s\n",
               drill->name, drill->name, drill->path, drill->sha256, cal);
        return EXIT_OK;
}

/* ---------------------------------------------------------------- dispatch */

int verb_drill(CtlGlobals *g, int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*run)(CtlGlobals *g, int argc, char **argv);
        } subs[] = {
                {"start", drill_start},   {"runs", drill_runs},         {"show", drill_show},
                {"status", drill_status}, {"evaluate", drill_evaluate}, {"actions", drill_actions},
                {"action", drill_action}, {"timer", drill_timer},
        };

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help_drill();
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                if (streq(argv[1], subs[i].name)) {
                        optind = 0;
                        return subs[i].run(g, argc - 1, argv + 1);
                }
        log_error("unknown 'drill %s'; see 'droverctl drill --help'", argv[1]);
        return EXIT_USAGE;
}
