/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-drill-show.c — `droverctl drill runs|show|status`: the drill runs, one run with
 * its playbook runs, reviews, evaluation and actions, and the annual status (every
 * playbook's last drill, overdue drills). Read-only. Called by verb_drill()
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

int drill_runs(CtlGlobals *g, int argc, char **argv)
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

int drill_show(CtlGlobals *g, int argc, char **argv)
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

int drill_status(CtlGlobals *g, int argc, char **argv)
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
