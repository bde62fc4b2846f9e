/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-audit.c — `droverctl audit verify|head` and `droverctl journal prune`: the
 * commander's view of the journal's audit chain (src/journal/audit.c) and its only
 * delete. Owns: argument parsing, printing, exit codes. Does not own: the chain, the
 * checks or the retention rules (audit.c). Called by droverctl.c's verb table.
 *
 * verify and head open the journal without crash recovery: checking the record must
 * not write to it (opening still migrates an older schema, which seeds the chain).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "shared/log.h"
#include "shared/strbuf.h"

static int open_journal_plain(CtlGlobals *g, Journal **ret)
{
        _cleanup_(config_freep) Config *config = NULL;
        const char *path;
        int r;

        if (!g->db_path && !getenv(JOURNAL_ENV)) {
                r = ctl_load_config(g, &config);
                if (r != EXIT_OK)
                        return r;
        }
        path = journal_resolve_path(g->db_path, config ? config->journal_path : NULL);
        r = journal_open(path, ret);
        if (r < 0)
                return log_error_errno(r, "cannot open journal %s: %s", path, strerror(-r)), EXIT_INFRA;
        return EXIT_OK;
}

static json_t *head_json(const AuditHead *h)
{
        _cleanup_free_ char *head = xasprintf("%lld:%s", (long long) h->seq, h->hash);
        char ts[FORMAT_TIMESTAMP_MAX];

        return json_pack("{s:s, s:I, s:s, s:I, s:s}", "head", head, "seq", (json_int_t) h->seq, "hash",
                         h->hash, "at_us", (json_int_t) h->at, "at",
                         h->at ? format_timestamp(ts, h->at) : "-");
}

static int audit_verify(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"head", required_argument, NULL, 'H'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(journal_closep) Journal *j = NULL;
        AuditHead expect = {};
        bool have_expect = false;
        AuditVerdict v = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: droverctl audit verify [--head SEQ:HASH] [--db FILE] [--json]\n\n"
                               "Walk the journal's audit chain, recompute every hash and link, and compare "
                               "every\n"
                               "row with its latest audit record. --head also checks that the chain still "
                               "holds\n"
                               "an exported head. Exit 0 when everything holds, 1 at the first problem.\n");
                        return EXIT_OK;
                }
                if (c == 'H') {
                        if (audit_head_parse(optarg, &expect) < 0) {
                                log_error(
                                        "--head wants SEQ:HASH (as 'droverctl audit head' prints), not '%s'",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        have_expect = true;
                        continue;
                }
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind != argc) {
                log_error("audit verify takes no arguments");
                return EXIT_USAGE;
        }

        r = open_journal_plain(g, &j);
        if (r != EXIT_OK)
                return r;
        r = journal_audit_verify(j, have_expect ? &expect : NULL, &v);
        if (r < 0)
                return log_error_errno(r, "cannot verify the journal: %s", strerror(-r)), EXIT_INFRA;

        if (g->json) {
                json_t *o = json_pack("{s:b, s:I, s:I, s:o}", "ok", v.problem == AUDIT_PROBLEM_NONE,
                                      "records", (json_int_t) v.n_records, "rows", (json_int_t) v.n_rows,
                                      "head", head_json(&v.head));
                if (v.problem != AUDIT_PROBLEM_NONE) {
                        json_object_set_new(o, "problem", json_string(audit_problem_to_string(v.problem)));
                        json_object_set_new(o, "seq", v.seq ? json_integer(v.seq) : json_null());
                        json_object_set_new(o, "table", v.table ? json_string(v.table) : json_null());
                        json_object_set_new(o, "row", v.row_id ? json_integer(v.row_id) : json_null());
                        json_object_set_new(o, "detail", json_string(strempty(v.detail)));
                }
                ctl_print_json_line(o);
        } else if (v.problem == AUDIT_PROBLEM_NONE) {
                printf("%sOK%s: %llu records, %llu rows match, head %lld:%s\n", ansi_green(g), ansi_reset(g),
                       (unsigned long long) v.n_records, (unsigned long long) v.n_rows,
                       (long long) v.head.seq, v.head.hash);
                if (have_expect)
                        printf("The chain still holds the exported head %lld:%s.\n", (long long) expect.seq,
                               expect.hash);
        } else {
                printf("%sFAILED%s: %s", ansi_red(g), ansi_reset(g), audit_problem_to_string(v.problem));
                if (v.seq)
                        printf(", record %lld", (long long) v.seq);
                if (v.table)
                        printf(", table %s", v.table);
                if (v.row_id)
                        printf(", row %lld", (long long) v.row_id);
                printf("\n  %s\n", strempty(v.detail));
        }
        r = v.problem == AUDIT_PROBLEM_NONE ? EXIT_OK : EXIT_RUN_FAILED;
        audit_verdict_done(&v);
        return r;
}

static int audit_head(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(journal_closep) Journal *j = NULL;
        char ts[FORMAT_TIMESTAMP_MAX];
        AuditHead h;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: droverctl audit head [--db FILE] [--json]\n\n"
                               "Print the audit chain's head as SEQ:HASH and its time, for export: sign it\n"
                               "and keep it elsewhere, then check it with 'droverctl audit verify "
                               "--head'.\n");
                        return EXIT_OK;
                }
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind != argc) {
                log_error("audit head takes no arguments");
                return EXIT_USAGE;
        }
        r = open_journal_plain(g, &j);
        if (r != EXIT_OK)
                return r;
        r = journal_audit_head(j, &h);
        if (r < 0)
                return log_error_errno(r, "cannot read the audit chain: %s", strerror(-r)), EXIT_INFRA;
        if (g->json)
                ctl_print_json_line(head_json(&h));
        else
                printf("%lld:%s %s\n", (long long) h.seq, h.hash, h.at ? format_timestamp(ts, h.at) : "-");
        return EXIT_OK;
}

int verb_audit(CtlGlobals *g, int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout, "Usage: droverctl audit verify [--head SEQ:HASH]\n"
                                                    "       droverctl audit head\n");
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        if (streq(argv[1], "verify"))
                return audit_verify(g, argc - 1, argv + 1);
        if (streq(argv[1], "head"))
                return audit_head(g, argc - 1, argv + 1);
        log_error("unknown audit command '%s': verify or head", argv[1]);
        return EXIT_USAGE;
}

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (or a space for T), in UTC; or "@SECONDS". */
static int parse_date(const char *s, usec_t *ret)
{
        static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
                                              "%Y-%m-%d %H:%M", "%Y-%m-%d"};
        struct tm tm;
        time_t t;

        if (s[0] == '@') {
                char *end;
                errno = 0;
                long long v = strtoll(s + 1, &end, 10);
                if (errno || *end || end == s + 1 || v <= 0)
                        return -EINVAL;
                *ret = (usec_t) v * USEC_PER_SEC;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                const char *end;

                memset(&tm, 0, sizeof tm);
                end = strptime(s, formats[i], &tm);
                if (!end || *end)
                        continue;
                t = timegm(&tm);
                if (t <= 0)
                        return -EINVAL;
                *ret = (usec_t) t * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}

static int journal_prune_verb(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"before", required_argument, NULL, 'b'},
                {"reason", required_argument, NULL, 'r'},
                {"yes", no_argument, NULL, 'y'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_free_ char *actor = NULL;
        const char *reason = NULL;
        JournalPruneResult res = {};
        char ts[FORMAT_TIMESTAMP_MAX];
        usec_t before = 0;
        bool yes = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: droverctl journal prune --before DATE [--reason TEXT] [--yes]\n\n"
                               "Remove runs (with their step attempts and events) that ended before DATE, "
                               "and\n"
                               "incidents closed before DATE (with their log). Without --yes, only say "
                               "what\n"
                               "would go. The removal is journaled in the audit chain. DATE is YYYY-MM-DD "
                               "or\n"
                               "YYYY-MM-DDTHH:MM[:SS], UTC, or @SECONDS since the epoch.\n");
                        return EXIT_OK;
                case 'b':
                        if (parse_date(optarg, &before) < 0) {
                                log_error(
                                        "--before wants YYYY-MM-DD[THH:MM[:SS]] (UTC) or @SECONDS, not '%s'",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'r':
                        reason = optarg;
                        break;
                case 'y':
                        yes = true;
                        break;
                default:
                        if (!ctl_common_option(g, c, optarg))
                                return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                log_error("journal prune takes no arguments");
                return EXIT_USAGE;
        }
        if (before == 0) {
                log_error(
                        "journal prune needs --before DATE: nothing is removed without an explicit cut-off");
                return EXIT_USAGE;
        }
        if (before > now_usec(CLOCK_REALTIME)) {
                log_error("--before %s is in the future", format_timestamp(ts, before));
                return EXIT_USAGE;
        }

        if (!g->db_path && !getenv(JOURNAL_ENV)) {
                r = ctl_load_config(g, &config);
                if (r != EXIT_OK)
                        return r;
        }
        r = ctl_open_journal(g, config, &j);
        if (r != EXIT_OK)
                return r;
        actor = ctl_actor();
        r = journal_prune(j, before, actor, reason, !yes, &res);
        if (r < 0)
                return log_error_errno(r, "cannot prune the journal: %s (%s)", strerror(-r),
                                       journal_errmsg(j)),
                       EXIT_INFRA;

        if (g->json) {
                json_t *o = json_pack("{s:b, s:I, s:s, s:{s:i, s:i, s:i, s:i, s:i}}", "removed", yes,
                                      "before_us", (json_int_t) before, "actor", actor, "counts", "runs",
                                      (int) res.runs, "step_attempts", (int) res.step_attempts, "events",
                                      (int) res.events, "incidents", (int) res.incidents, "incident_log",
                                      (int) res.incident_log);
                json_object_set_new(o, "retention_seq", res.seq ? json_integer(res.seq) : json_null());
                ctl_print_json_line(o);
                return EXIT_OK;
        }
        printf("%s %u run(s), %u step attempt(s), %u event(s), %u incident(s), %u incident log entr%s "
               "from before %s.\n",
               yes ? "Removed" : "Would remove", res.runs, res.step_attempts, res.events, res.incidents,
               res.incident_log, res.incident_log == 1 ? "y" : "ies", format_timestamp(ts, before));
        if (!yes)
                printf("Nothing was removed: add --yes to remove them.\n");
        else if (res.seq)
                printf("Journaled as audit record %lld (retention by %s).\n", (long long) res.seq, actor);
        return EXIT_OK;
}

int verb_journal(CtlGlobals *g, int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout,
                        "Usage: droverctl journal prune --before DATE [--reason TEXT] [--yes]\n");
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        if (streq(argv[1], "prune"))
                return journal_prune_verb(g, argc - 1, argv + 1);
        log_error("unknown journal command '%s': prune", argv[1]);
        return EXIT_USAGE;
}
