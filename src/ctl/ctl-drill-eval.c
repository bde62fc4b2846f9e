/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-drill-eval.c — `droverctl drill evaluate|actions|action|timer`: the
 * evaluation of a drill run (scores, lessons, findings), the improvement actions and
 * their log, and the systemd timer drop-in for a drill's calendar. Called by
 * verb_drill() (ctl-drill.c).
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

static const char *const criteria[] = {"objectives", "procedure", "coordination", "resources"};

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

int drill_evaluate(CtlGlobals *g, int argc, char **argv)
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

int drill_actions(CtlGlobals *g, int argc, char **argv)
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

int drill_action(CtlGlobals *g, int argc, char **argv)
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
int drill_timer(CtlGlobals *g, int argc, char **argv)
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
