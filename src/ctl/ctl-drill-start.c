/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-drill-start.c — `droverctl drill start`: a tabletop drill walks the plan with
 * the participants answering each step on stdin; a live drill injects the
 * scenario's fault, runs the playbooks for real, measures the achieved RTO/RPO from
 * the journal and clears the fault.
 *
 * Owns: the decisions a drill run makes (outcome, objectives met). Does not own:
 * running a playbook (ctl-run.c's ctl_run_playbook). Called by verb_drill()
 * (ctl-drill.c).
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
#include "ctl/ctl-drill-internal.h"
#include "drill/drill.h"
#include "journal/journal-drill.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

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

void help_drill(void)
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

int drill_start(CtlGlobals *g, int argc, char **argv)
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
