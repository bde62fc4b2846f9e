/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-drill.c — drill definitions and the journal's drill tables: a complete drill
 * loads with every field (against the bad-input inventory and its _playbooks), drill
 * variables expand, the schedule arithmetic with fixed clocks (calendar months, leap
 * years, overdue), $DROVER_NOW parsing, and the drill tables round-trip on a real SQLite
 * file: runs and links, tabletop reviews, evaluations (scores checked by the schema),
 * actions tracked until closed, append-only triggers, last drill per playbook, and the
 * audit chain covering every drill write (verify holds; a row edited behind drover's
 * back is caught).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drill/drill.h"
#include "journal/journal-drill.h"
#include "journal/journal.h"
#include "shared/strbuf.h"

static const char *data_dir;
static char tmpdir[256];
static Config *inventory;

static const char good_drill[] = "name: sw-drill\n"
                                 "purpose: prove it\n"
                                 "mode: live\n"
                                 "scenario:\n"
                                 "  fault: site-down\n"
                                 "  site: primary\n"
                                 "  args: [x]\n"
                                 "  inject: [lab/lab.sh, fault, site-down, primary]\n"
                                 "  clear: [/bin/true]\n"
                                 "  timeout: 5s\n"
                                 "playbooks:\n"
                                 "  - name: switch\n"
                                 "    params: {reason: \"drill ${drill.name} at ${drill.fault_at}\", n: 3}\n"
                                 "participants:\n"
                                 "  - {name: Alice Chen, role: command-centre}\n"
                                 "  - {name: Bob, role: risk}\n"
                                 "objectives:\n"
                                 "  rto: 30s\n"
                                 "  rpo: 1s\n"
                                 "  recovered_at: verify\n"
                                 "  rpo_from: switch/verify\n"
                                 "  must_succeed: [promote, switch/verify]\n"
                                 "schedule: {every: 3 months, on_calendar: \"*-01-15 02:00:00\"}\n";

static int setup_all(void **state)
{
        _cleanup_free_ char *inv = NULL;
        DiagList d;

        data_dir = getenv("DROVER_TEST_DATA");
        if (!data_dir)
                return -1;
        (void) snprintf(tmpdir, sizeof tmpdir, "%s/test-drill-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(tmpdir))
                return -1;
        inv = xasprintf("%s/bad-input/playbook/_inventory.yaml", data_dir);
        diag_list_init(&d);
        if (config_load(inv, &inventory, &d) < 0) {
                diag_print(&d, stderr);
                return -1;
        }
        diag_list_done(&d);
        return 0;
}

static int teardown_all(void **state)
{
        char cmd[PATH_MAX + 32];

        config_free(inventory);
        (void) snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static Drill *load(const char *text, DiagList *d)
{
        _cleanup_free_ char *pbdir = xasprintf("%s/bad-input/drill/_playbooks", data_dir);
        Drill *drill = NULL;

        diag_list_init(d);
        (void) drill_load_buffer("/srv/drills/sw-drill.yaml", text, strlen(text), inventory, pbdir, &drill,
                                 d);
        return drill;
}

static void test_load_complete(void **state)
{
        DiagList d;
        Drill *x = load(good_drill, &d);
        _cleanup_free_ char *v = NULL, *empty = NULL;

        if (!x)
                diag_print(&d, stderr);
        assert_non_null(x);
        assert_false(diag_has_errors(&d));
        assert_string_equal(x->name, "sw-drill");
        assert_int_equal(x->mode, DRILL_MODE_LIVE);
        assert_int_equal(x->scenario.fault, FAULT_SITE_DOWN);
        assert_string_equal(x->scenario.site, "primary");
        assert_null(x->scenario.vendor);
        /* A relative program is resolved against the drill file's directory. */
        assert_string_equal(x->scenario.inject.argv[0], "/srv/drills/lab/lab.sh");
        assert_string_equal(x->scenario.inject.argv[3], "primary");
        assert_null(x->scenario.inject.argv[4]);
        assert_string_equal(x->scenario.clear.argv[0], "/bin/true");
        assert_int_equal(x->scenario.inject.timeout, 5 * USEC_PER_SEC);
        assert_int_equal(x->n_playbooks, 1);
        assert_non_null(x->playbooks[0].playbook);
        assert_string_equal(x->playbooks[0].playbook->name, "switch");
        assert_int_equal(x->playbooks[0].n_params, 2);
        assert_string_equal(x->playbooks[0].params[1].name, "n");
        assert_string_equal(x->playbooks[0].params[1].value, "3");
        assert_int_equal(x->n_participants, 2);
        assert_int_equal(x->participants[1].role, DRILL_ROLE_RISK);
        assert_true(x->objectives.has_rto && x->objectives.has_rpo);
        assert_int_equal(x->objectives.rto, 30 * USEC_PER_SEC);
        assert_string_equal(x->objectives.must_succeed[1], "switch/verify");
        assert_int_equal(x->schedule.every_months, 3);
        assert_string_equal(x->schedule.on_calendar, "*-01-15 02:00:00");
        assert_int_equal(strlen(x->sha256), 64);

        v = drill_expand_value(x, x->playbooks[0].params[0].value, 1700000000 * USEC_PER_SEC + 250000);
        assert_string_equal(v, "drill sw-drill at 1700000000.250000");
        empty = drill_expand_value(x, "${drill.fault_at}", 0);
        assert_string_equal(empty, "");
        drill_free(x);
        diag_list_done(&d);
}

static void test_defaults_and_every_error(void **state)
{
        DiagList d;
        Drill *x;
        _cleanup_free_ char *minimal = xstrdup(
                "name: t\npurpose: p\nmode: tabletop\nscenario: {fault: data-leak, vendor: vendor-a}\n"
                "playbooks: [switch]\nparticipants: [{name: A, role: security}]\n");

        /* A bare playbook name is allowed when it needs no params... switch needs reason. */
        x = load(minimal, &d);
        assert_null(x);
        assert_true(diag_has_errors(&d));
        assert_non_null(strstr(d.items[0].message, "needs parameter 'reason'"));
        diag_list_done(&d);

        _cleanup_free_ char *ok =
                xstrdup("name: t\npurpose: p\nmode: tabletop\nscenario: {fault: data-leak, vendor: "
                        "vendor-a}\nplaybooks: [{name: switch, params: {reason: r}}]\n"
                        "participants: [{name: A, role: security}]\n");
        x = load(ok, &d);
        assert_non_null(x);
        assert_int_equal(x->schedule.every_months, 12); /* yearly unless said otherwise */
        assert_null(x->scenario.inject.argv);
        _cleanup_free_ char *cal = drill_schedule_on_calendar(&x->schedule);
        assert_string_equal(cal, "yearly");
        drill_free(x);
        diag_list_done(&d);
}

static usec_t ts(const char *s)
{
        usec_t t = 0;
        assert_int_equal(parse_timestamp(s, &t), 0);
        return t;
}

static void test_schedule(void **state)
{
        DrillSchedule yearly = {.every_months = 12}, quarterly = {.every_months = 3},
                      days = {.every = 30 * 24 * USEC_PER_HOUR};
        _cleanup_free_ char *c3 = drill_schedule_on_calendar(&quarterly);
        DrillSchedule two = {.every_months = 2};
        _cleanup_free_ char *c2 = drill_schedule_on_calendar(&two);

        assert_int_equal(drill_schedule_next(&yearly, ts("2026-03-15T02:00:00Z")),
                         ts("2027-03-15T02:00:00Z"));
        /* Calendar months: Jan 31 + 1 month is the end of February, leap years included. */
        DrillSchedule monthly = {.every_months = 1};
        assert_int_equal(drill_schedule_next(&monthly, ts("2028-01-31T10:00:00Z")),
                         ts("2028-02-29T10:00:00Z"));
        assert_int_equal(drill_schedule_next(&monthly, ts("2027-01-31T10:00:00Z")),
                         ts("2027-02-28T10:00:00Z"));
        assert_int_equal(drill_schedule_next(&quarterly, ts("2026-11-30T00:00:00Z")),
                         ts("2027-02-28T00:00:00Z"));
        assert_int_equal(drill_schedule_next(&days, ts("2026-01-01T00:00:00Z")), ts("2026-01-31T00:00:00Z"));
        assert_int_equal(drill_schedule_next(&yearly, 0), 0); /* never run: due now */
        assert_int_equal(usec_minus_months(ts("2027-12-01T00:00:00Z"), 12), ts("2026-12-01T00:00:00Z"));
        assert_int_equal(usec_minus_months(ts("2024-02-29T00:00:00Z"), 12), ts("2023-02-28T00:00:00Z"));
        assert_string_equal(c3, "quarterly");
        assert_string_equal(c2, "*-01/2-01 00:00:00");
}

static void test_timestamps_and_now(void **state)
{
        usec_t t = 0;

        assert_int_equal(ts("1970-01-02T00:00:00Z"), 86400 * USEC_PER_SEC);
        assert_int_equal(ts("1970-01-02"), 86400 * USEC_PER_SEC);
        assert_int_equal(ts("86400.5"), 86400 * USEC_PER_SEC + 500000);
        assert_int_equal(parse_timestamp("2026-13-01T00:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_timestamp("tomorrow", &t), -EINVAL);
        assert_int_equal(parse_timestamp("2026-01-01T00:00:00+02", &t), -EINVAL);

        assert_int_equal(setenv("DROVER_NOW", "2027-01-05T10:00:00Z", 1), 0);
        assert_int_equal(drill_now(&t), 0);
        assert_int_equal(t, ts("2027-01-05T10:00:00Z"));
        assert_int_equal(setenv("DROVER_NOW", "soon", 1), 0);
        assert_int_equal(drill_now(&t), -EINVAL);
        assert_int_equal(unsetenv("DROVER_NOW"), 0);
        assert_int_equal(drill_now(&t), 0);
        assert_true(t > ts("2026-01-01T00:00:00Z"));
}

static int raw_exec(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        int rc;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_close(db);
        return rc;
}

static void test_journal_round_trip(void **state)
{
        _cleanup_free_ char *path = xasprintf("%s/journal.db", tmpdir);
        Journal *j = NULL;
        JournalDrill *jd = NULL, *again = NULL;
        int64_t drill_run, run_id, other, review, action, dr2;
        DrillRunRecord got = {};
        DrillRunLink *links = NULL;
        DrillReviewRecord *reviews = NULL;
        DrillEvaluationRecord *evals = NULL;
        DrillActionRecord *actions = NULL;
        DrillActionLogRecord *log = NULL;
        DrillLast *last = NULL;
        size_t n = 0;

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_drill_open(path, &jd), 0);
        /* The schema step is idempotent: a second connection finds it done. */
        assert_int_equal(journal_drill_open(path, &again), 0);
        assert_int_equal(journal_drill_ensure_schema(again), 0);
        journal_drill_close(again);

        RunRecord r = {.playbook = (char *) "switch",
                       .mode = RUN_MODE_DRILL,
                       .trigger = (char *) "drill",
                       .outcome = RUN_RUNNING};
        assert_int_equal(journal_run_begin(j, &r, &run_id), 0);
        RunRecord real = {.playbook = (char *) "switch",
                          .mode = RUN_MODE_LIVE,
                          .trigger = (char *) "manual",
                          .outcome = RUN_RUNNING};
        assert_int_equal(journal_run_begin(j, &real, &other), 0);
        assert_int_equal(journal_run_end(j, other, RUN_SUCCEEDED, NULL, 0), 0);

        DrillRunRecord rec = {.drill = (char *) "sw-drill",
                              .mode = (char *) "live",
                              .fault = (char *) "site-down",
                              .actor = (char *) "alice",
                              .rto_objective_us = 30000000,
                              .rpo_objective_us = -1};
        assert_int_equal(journal_drill_run_begin(jd, &rec, &drill_run), 0);
        DrillRunRecord bad = {.drill = (char *) "x", .mode = (char *) "sideways"};
        assert_int_equal(journal_drill_run_begin(jd, &bad, &dr2), -EINVAL);
        assert_int_equal(journal_drill_run_link(jd, drill_run, 1, run_id, "switch"), 0);
        assert_int_equal(journal_drill_run_link(jd, drill_run, 2, 999999, "switch"),
                         -EINVAL); /* no such run */
        assert_int_equal(journal_drill_run_fault(jd, drill_run, 1000, 0), 0);
        assert_int_equal(journal_run_end(j, run_id, RUN_SUCCEEDED, NULL, 0), 0);
        DrillRunRecord end = {.id = drill_run,
                              .outcome = RUN_SUCCEEDED,
                              .recovered_at = 6000,
                              .rto_us = 5000,
                              .rpo_us = -1,
                              .objectives_met = 1};
        assert_int_equal(journal_drill_run_end(jd, &end), 0);
        assert_int_equal(journal_drill_run_end(jd, &end), -EALREADY);
        end.id = 4242;
        assert_int_equal(journal_drill_run_end(jd, &end), -ENOENT);

        assert_int_equal(journal_drill_get_run(jd, drill_run, &got), 0);
        assert_string_equal(got.drill, "sw-drill");
        assert_int_equal(got.outcome, RUN_SUCCEEDED);
        assert_int_equal(got.fault_injected_at, 1000);
        assert_int_equal(got.rto_us, 5000);
        assert_int_equal(got.rpo_us, -1);
        assert_int_equal(got.objectives_met, 1);
        assert_int_equal(got.rto_objective_us, 30000000);
        drill_run_record_done(&got);
        assert_int_equal(journal_drill_list_links(jd, drill_run, &links, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(links[0].run_id, run_id);
        drill_run_link_done(&links[0]);
        free(links);
        int64_t found = 0;
        assert_int_equal(journal_drill_find_by_run(jd, run_id, &found), 0);
        assert_int_equal(found, drill_run);
        assert_int_equal(journal_drill_find_by_run(jd, other, &found), -ENOENT);

        DrillReviewRecord rv = {.drill_run_id = drill_run,
                                .run_id = run_id,
                                .step_index = 1,
                                .step_name = (char *) "verify",
                                .shown_at = 100,
                                .answered_at = 350,
                                .verdict = (char *) "challenge",
                                .who = (char *) "Bob (risk)",
                                .comment = (char *) "who approves?"};
        assert_int_equal(journal_drill_review_add(jd, &rv, &review), 0);
        rv.verdict = (char *) "maybe";
        assert_int_equal(journal_drill_review_add(jd, &rv, NULL), -EINVAL);
        assert_int_equal(journal_drill_list_reviews(jd, drill_run, &reviews, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(reviews[0].verdict, "challenge");
        assert_int_equal(reviews[0].answered_at - reviews[0].shown_at, 250);
        drill_review_record_done(&reviews[0]);
        free(reviews);

        DrillEvaluationRecord ev = {.drill_run_id = drill_run,
                                    .evaluator = (char *) "carol",
                                    .criterion = (char *) "objectives",
                                    .score = 4,
                                    .text = (char *) "met"};
        assert_int_equal(journal_drill_evaluation_add(jd, &ev, NULL), 0);
        ev.score = 6;
        assert_int_equal(journal_drill_evaluation_add(jd, &ev, NULL), -EINVAL);
        ev.criterion = (char *) "luck";
        ev.score = 3;
        assert_int_equal(journal_drill_evaluation_add(jd, &ev, NULL), -EINVAL);
        ev.criterion = (char *) "lessons";
        ev.score = 0;
        assert_int_equal(journal_drill_evaluation_add(jd, &ev, NULL), 0);
        assert_int_equal(journal_drill_list_evaluations(jd, drill_run, &evals, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(evals[0].score, 4);
        for (size_t i = 0; i < n; i++)
                drill_evaluation_record_done(&evals[i]);
        free(evals);

        DrillActionRecord a = {.drill_run_id = drill_run,
                               .created_by = (char *) "carol",
                               .finding = (char *) "f",
                               .action = (char *) "fix it",
                               .owner = (char *) "dave",
                               .due = (char *) "2027-01-31"};
        assert_int_equal(journal_drill_action_add(jd, &a, &action), 0);
        a.due = (char *) "next week";
        assert_int_equal(journal_drill_action_add(jd, &a, NULL), -EINVAL);
        assert_int_equal(journal_drill_list_actions(jd, true, 0, &actions, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(actions[0].status, "open");
        drill_action_record_done(&actions[0]);
        free(actions);
        assert_int_equal(journal_drill_action_set_status(jd, action, "in-progress", "dave", NULL, 0), 0);
        assert_int_equal(journal_drill_action_set_status(jd, action, "done", "dave", "merged", 0), 0);
        assert_int_equal(journal_drill_action_set_status(jd, action, "open", "eve", NULL, 0), -EALREADY);
        assert_int_equal(journal_drill_action_set_status(jd, 777, "done", "eve", NULL, 0), -ENOENT);
        assert_int_equal(journal_drill_list_actions(jd, true, 0, &actions, &n), 0);
        assert_int_equal(n, 0);
        free(actions);
        assert_int_equal(journal_drill_list_actions(jd, false, drill_run, &actions, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(actions[0].status, "done");
        assert_string_equal(actions[0].status_comment, "merged");
        drill_action_record_done(&actions[0]);
        free(actions);
        assert_int_equal(journal_drill_list_action_log(jd, action, &log, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(log[0].status, "open");
        assert_string_equal(log[2].status, "done");
        for (size_t i = 0; i < n; i++)
                drill_action_log_record_done(&log[i]);
        free(log);

        /* Append-only, whoever asks: the triggers refuse deleting and rewriting. */
        assert_int_not_equal(raw_exec(path, "DELETE FROM drill_evaluations"), SQLITE_OK);
        assert_int_not_equal(raw_exec(path, "UPDATE drill_action_log SET status = 'open'"), SQLITE_OK);
        assert_int_not_equal(raw_exec(path, "DELETE FROM drill_runs"), SQLITE_OK);
        assert_int_not_equal(raw_exec(path, "UPDATE drill_reviews SET verdict = 'ack'"), SQLITE_OK);

        /* The last drill per playbook counts drill runs only, never the real one. */
        assert_int_equal(journal_drill_last_per_playbook(jd, &last, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(last[0].name, "switch");
        assert_int_equal(last[0].id, run_id);
        assert_string_equal(last[0].mode, "drill");
        drill_last_done(&last[0]);
        free(last);
        assert_int_equal(journal_drill_last_per_drill(jd, &last, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(last[0].id, drill_run);
        drill_last_done(&last[0]);
        free(last);

        /* Every drill write is in the audit chain: verify holds, and a drill run changed
         * behind drover's back (sqlite3 shell) is caught. */
        {
                AuditVerdict v = {};
                assert_int_equal(journal_audit_verify(j, NULL, &v), 0);
                if (v.problem != AUDIT_PROBLEM_NONE)
                        fail_msg("verify: %s %s %lld: %s", audit_problem_to_string(v.problem),
                                 strna(v.table), (long long) v.row_id, strna(v.detail));
                assert_true(v.n_rows >= 10);
                audit_verdict_done(&v);
                const char *q = "SELECT count(*) FROM audit WHERE tbl LIKE 'drill_%'";
                sqlite3 *db = NULL;
                sqlite3_stmt *st = NULL;
                assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                /* One record per successful write: the run's insert, fault and end updates, the
                 * link, the review, 2 evaluations, the action and its 3 status rows. The
                 * refused writes (-EALREADY, -EINVAL, …) left none. */
                if (sqlite3_column_int(st, 0) != 11)
                        fail_msg("%d drill audit records, expected 11", sqlite3_column_int(st, 0));
                sqlite3_finalize(st);
                sqlite3_close(db);

                assert_int_equal(raw_exec(path, "UPDATE drill_runs SET rto_us = 1 WHERE id = 1"), SQLITE_OK);
                assert_int_equal(journal_audit_verify(j, NULL, &v), 0);
                assert_int_equal(v.problem, AUDIT_PROBLEM_ROW_CHANGED);
                assert_string_equal(v.table, "drill_runs");
                assert_int_equal(v.row_id, drill_run);
                audit_verdict_done(&v);
        }

        /* A drill schema newer than this binary is refused. */
        assert_int_equal(raw_exec(path, "INSERT INTO drill_schema (version) VALUES (99)"), SQLITE_OK);
        assert_int_equal(journal_drill_open(path, &again), -EPROTONOSUPPORT);

        journal_drill_close(jd);
        journal_close(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_complete),      cmocka_unit_test(test_defaults_and_every_error),
                cmocka_unit_test(test_schedule),           cmocka_unit_test(test_timestamps_and_now),
                cmocka_unit_test(test_journal_round_trip),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
