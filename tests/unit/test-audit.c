/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-audit.c — the journal's audit chain (src/journal/audit.c) against real SQLite
 * files: every write is chained, the encoding and hashes follow the documented format
 * (recomputed here independently), each kind of tampering done with raw SQL is caught
 * and the right record or row named, an exported head detects a consistent rewrite and
 * a truncation, the v2 → v3 migration seeds the chain, and retention keeps verify green.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal/journal.h"
#include "shared/sha256.h"

#include "journal-fixture.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

static int setup_all(void **state)
{
        return fixture_setup("test-audit");
}

static int teardown_all(void **state)
{
        return fixture_teardown("TEST_AUDIT_KEEP");
}

static char *raw_text(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *s = NULL;
        char *v;

        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        v = strdup((const char *) sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        return v;
}

/* The documented record hash, written again here from the format in audit.c's comment. */
static void expected_hash(const char *prev, int64_t seq, int64_t at, const char *tbl, int64_t row_id,
                          const char *op, const char *data, char out[static SHA256_HEX_SIZE])
{
        char dh[SHA256_HEX_SIZE], text[1024];

        sha256_hex(data, strlen(data), dh);
        (void) snprintf(text, sizeof text,
                        "drover-audit-v1\n%s\n%" PRIi64 "\n%" PRIi64 "\n%s\n%" PRIi64 "\n%s\n%s\n", prev,
                        seq, at, tbl, row_id, op, dh);
        sha256_hex(text, strlen(text), out);
}

/* Every record's links and hashes, recomputed with the test's own code. */
static void check_chain_independently(const char *path)
{
        sqlite3 *db = raw_open(path);
        sqlite3_stmt *s = NULL;
        char prev[SHA256_HEX_SIZE], h[SHA256_HEX_SIZE];
        int64_t expect = 1;

        memset(prev, '0', 64);
        prev[64] = 0;
        assert_int_equal(
                sqlite3_prepare_v2(db,
                                   "SELECT seq, at, tbl, row_id, op, data, data_hash, prev_hash, hash "
                                   "FROM audit ORDER BY seq",
                                   -1, &s, NULL),
                SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
                const char *data = (const char *) sqlite3_column_text(s, 5);
                char dh[SHA256_HEX_SIZE];

                assert_int_equal(sqlite3_column_int64(s, 0), expect++);
                assert_string_equal((const char *) sqlite3_column_text(s, 7), prev);
                sha256_hex(data, strlen(data), dh);
                assert_string_equal((const char *) sqlite3_column_text(s, 6), dh);
                expected_hash(prev, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                              (const char *) sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3),
                              (const char *) sqlite3_column_text(s, 4), data, h);
                assert_string_equal((const char *) sqlite3_column_text(s, 8), h);
                memcpy(prev, h, sizeof prev);
        }
        sqlite3_finalize(s);
        assert_true(expect > 1);
        sqlite3_close(db);
}

static RunRecord sample_run(const char *name)
{
        return (RunRecord){
                .playbook = (char *) name,
                .playbook_path = (char *) "/etc/drover/playbooks/failover.yaml",
                .kind = (char *) "failover",
                .params_json = (char *) "{\"site\":\"backup\"}",
                .trigger = (char *) "manual",
                .actor = (char *) "alice",
                .mode = RUN_MODE_LIVE,
                .started = 1700000000000000ULL,
        };
}

/* One run with two steps (one failed), an event, an incident with a log entry. */
typedef struct Fixture {
        int64_t run, step_ok, step_failed, event, incident, log;
} Fixture;

static void populate(Journal *j, Fixture *f, usec_t ended)
{
        RunRecord r = sample_run("failover-db");
        StepRecord s = {.step_name = (char *) "stop-primary",
                        .kind = (char *) "ssh",
                        .phase = STEP_PHASE_FORWARD,
                        .target = (char *) "db1",
                        .attempt = 1,
                        .started = ended ?: 0};
        IncidentRecord inc = {
                .subject = (char *) "primary", .state = (char *) "detected", .level = 2, .opened_at = ended};
        IncidentLogRecord lg = {.actor = (char *) "policy",
                                .kind = (char *) "state-change",
                                .text = (char *) "detected",
                                .level_from = -1,
                                .level_to = -1};

        if (ended)
                r.started = ended - 1000;
        assert_int_equal(journal_run_begin(j, &r, &f->run), 0);
        s.run_id = f->run;
        assert_int_equal(journal_step_begin(j, &s, &f->step_ok), 0);
        s = (StepRecord){.id = f->step_ok,
                         .outcome = STEP_OK,
                         .exit_status = 0,
                         .ended = ended,
                         .stdout_text = (char *) "line \"one\"\n\ttab\x01 é"};
        assert_int_equal(journal_step_end(j, &s), 0);
        s = (StepRecord){.run_id = f->run,
                         .step_index = 1,
                         .step_name = (char *) "promote",
                         .phase = STEP_PHASE_FORWARD,
                         .attempt = 1,
                         .started = ended ?: 0};
        assert_int_equal(journal_step_begin(j, &s, &f->step_failed), 0);
        s = (StepRecord){
                .id = f->step_failed, .outcome = STEP_FAILED, .exit_status = 3, .ended = ended};
        assert_int_equal(journal_step_end(j, &s), 0);
        assert_int_equal(journal_event(j, f->run, ended, "note", "a note", "{\"k\":1}"), 0);
        f->event = 0;
        assert_int_equal(journal_run_end(j, f->run, RUN_FAILED, "step promote failed", ended), 0);
        assert_int_equal(journal_incident_open(j, &inc, &f->incident), 0);
        lg.incident_id = f->incident;
        lg.at = ended;
        assert_int_equal(journal_incident_log(j, &lg, &f->log), 0);
        assert_int_equal(journal_incident_update(j, f->incident, "closed", 0, NULL,
                                                 ended ?: now_usec(CLOCK_REALTIME)),
                         0);
}

static void verify_ok(Journal *j, AuditVerdict *v)
{
        assert_int_equal(journal_audit_verify(j, NULL, v), 0);
        if (v->problem != AUDIT_PROBLEM_NONE)
                fail_msg("verify: %s: %s", audit_problem_to_string(v->problem), v->detail);
}

static void expect_problem(const char *path, const AuditHead *head, AuditProblem p, int64_t seq,
                           const char *table, int64_t row, const char *detail_part)
{
        Journal *j = NULL;
        AuditVerdict v = {};

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_audit_verify(j, head, &v), 0);
        if (v.problem != p)
                fail_msg("expected %s, got %s: %s", audit_problem_to_string(p),
                         audit_problem_to_string(v.problem), v.detail ?: "");
        if (seq >= 0)
                assert_int_equal(v.seq, seq);
        if (table)
                assert_string_equal(v.table, table);
        else
                assert_null(v.table);
        assert_int_equal(v.row_id, row);
        if (detail_part && !strstr(v.detail, detail_part))
                fail_msg("detail '%s' lacks '%s'", v.detail, detail_part);
        audit_verdict_done(&v);
        journal_close(j);
}

static void fresh(char path[static PATH_MAX], Fixture *f)
{
        Journal *j = NULL;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        populate(j, f, 0);
        journal_close(j);
}

static void test_every_write_is_chained(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        AuditVerdict v = {};
        AuditHead h;
        Fixture f;
        sqlite3 *db;

        fresh(path, &f);
        db = raw_open(path);
        /* genesis + run insert, 2 × (step insert + update), event, run update, incident insert,
         * log insert, incident update. */
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 11);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE seq = 1 AND tbl = 'journal' AND op = "
                                     "'genesis' AND prev_hash = '" ZERO64 "'"),
                         1);
        assert_int_equal(
                raw_int(db, "SELECT count(*) FROM audit WHERE tbl = 'step_attempts' AND op = 'update'"), 2);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE tbl = 'incidents' AND op = 'update'"),
                         1);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE tbl = 'events' AND op = 'insert'"),
                         1);
        /* The latest record of each row is the row now. */
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE tbl = 'runs' AND op = 'update' AND "
                                     "data LIKE '%\"outcome\":\"failed\"%'"),
                         1);
        sqlite3_close(db);
        check_chain_independently(path);

        assert_int_equal(journal_open(path, &j), 0);
        verify_ok(j, &v);
        assert_int_equal(v.n_records, 11);
        assert_int_equal(v.n_rows, 6); /* run, 2 steps, event, incident, log entry */
        assert_int_equal(journal_audit_head(j, &h), 0);
        assert_int_equal(h.seq, 11);
        assert_string_equal(h.hash, v.head.hash);
        assert_true(h.at > 0);
        audit_verdict_done(&v);

        journal_close(j);

        /* Recovery's updates are chained too: a child begins a run and a step and exits. */
        {
                pid_t pid = fork();
                unsigned nr = 0, ns = 0;
                int status;

                assert_true(pid >= 0);
                if (pid == 0) {
                        Journal *c = NULL;
                        RunRecord r = sample_run("dies");
                        StepRecord s = {
                                .step_name = (char *) "x", .phase = STEP_PHASE_FORWARD, .attempt = 1};
                        if (journal_open(path, &c) < 0 || journal_run_begin(c, &r, &s.run_id) < 0 ||
                            journal_step_begin(c, &s, NULL) < 0)
                                _exit(10);
                        journal_close(c);
                        _exit(0);
                }
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                assert_int_equal(journal_open(path, &j), 0);
                assert_int_equal(journal_recover(j, &nr, &ns), 0);
                assert_int_equal(nr, 1);
                assert_int_equal(ns, 1);
                verify_ok(j, &v);
                audit_verdict_done(&v);
                db = raw_open(path);
                /* run insert, step insert; then step update, run update, event insert */
                assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE seq > 11"), 5);
                assert_int_equal(raw_int(db,
                                         "SELECT count(*) FROM audit WHERE seq > 13 AND op = 'update' AND "
                                         "data LIKE '%\"outcome\":\"interrupted\"%'"),
                                 2);
                sqlite3_close(db);
        }
        journal_close(j);
}

static void test_canonical_encoding(void **state)
{
        char path[PATH_MAX];
        Fixture f;
        sqlite3 *db;
        char *data, sql[256];

        fresh(path, &f);
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql,
                        "SELECT data FROM audit WHERE tbl = 'step_attempts' AND row_id = %" PRIi64
                        " ORDER BY seq DESC LIMIT 1",
                        f.step_ok);
        data = raw_text(db, sql);
        /* Column order, integers, null, the escapes, UTF-8 verbatim. */
        char expect[1024];
        int64_t started = raw_int(db, "SELECT started FROM step_attempts WHERE step_name = 'stop-primary'");
        int64_t ended = raw_int(db, "SELECT ended FROM step_attempts WHERE step_name = 'stop-primary'");
        (void) snprintf(
                expect, sizeof expect,
                "{\"id\":%" PRIi64 ",\"run_id\":%" PRIi64 ",\"step_index\":0,\"step_name\":\"stop-primary\","
                "\"kind\":\"ssh\",\"phase\":\"forward\",\"target\":\"db1\",\"attempt\":1,\"idempotent\":0,"
                "\"detail\":null,\"started\":%" PRIi64 ",\"ended\":%" PRIi64 ",\"duration\":0,"
                "\"outcome\":\"ok\",\"exit_status\":0,\"http_status\":0,"
                "\"stdout_text\":\"line \\\"one\\\"\\n\\ttab\\u0001 é\",\"stderr_text\":null,"
                "\"error\":null}",
                f.step_ok, f.run, started, ended);
        assert_string_equal(data, expect);
        free(data);
        sqlite3_close(db);
}

static void test_tamper_data_row(void **state)
{
        char path[PATH_MAX], sql[256];
        Fixture f;
        sqlite3 *db;

        fresh(path, &f);
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql, "UPDATE step_attempts SET exit_status = 0 WHERE id = %" PRIi64,
                        f.step_failed);
        raw_exec(db, sql);
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_ROW_CHANGED, -1, "step_attempts", f.step_failed,
                       "column exit_status: recorded 3, now 0");
}

static void test_tamper_audit_record(void **state)
{
        char path[PATH_MAX];
        Fixture f;
        sqlite3 *db;

        /* The append-only triggers refuse the plain attempt. */
        fresh(path, &f);
        db = raw_open(path);
        assert_int_not_equal(
                sqlite3_exec(db, "UPDATE audit SET data = '{}' WHERE seq = 5", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 5", NULL, NULL, NULL),
                             SQLITE_OK);
        /* Someone who drops them: edit a record's data. */
        raw_exec(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
                     "UPDATE audit SET data = replace(data, '\"exit_status\":3', '\"exit_status\":0') WHERE "
                     "seq = 6");
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_RECORD_ALTERED, 6, "step_attempts", f.step_failed,
                       "data_hash");

        /* Edit its data_hash too: the record's hash no longer holds. */
        db = raw_open(path);
        {
                char *data = raw_text(db, "SELECT data FROM audit WHERE seq = 6"), dh[SHA256_HEX_SIZE],
                     sql[256];
                sha256_hex(data, strlen(data), dh);
                (void) snprintf(sql, sizeof sql, "UPDATE audit SET data_hash = '%s' WHERE seq = 6", dh);
                raw_exec(db, sql);
                free(data);
        }
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_RECORD_ALTERED, 6, "step_attempts", f.step_failed,
                       "its hash");

        /* And its hash: then the next record's link breaks. */
        db = raw_open(path);
        raw_exec(
                db,
                "UPDATE audit SET hash = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' "
                "WHERE seq = 6");
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_RECORD_ALTERED, 6, "step_attempts", f.step_failed, NULL);
}

/* Rewrites record seq with new data, recomputing its data_hash and hash the right way. */
static void forge_record(sqlite3 *db, int64_t seq, const char *new_data)
{
        sqlite3_stmt *s = NULL;
        char h[SHA256_HEX_SIZE], dh[SHA256_HEX_SIZE];

        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT prev_hash, at, tbl, row_id, op FROM audit WHERE seq = ?",
                                            -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(s, 1, seq);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        expected_hash((const char *) sqlite3_column_text(s, 0), seq, sqlite3_column_int64(s, 1),
                      (const char *) sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3),
                      (const char *) sqlite3_column_text(s, 4), new_data, h);
        sqlite3_finalize(s);
        sha256_hex(new_data, strlen(new_data), dh);
        assert_int_equal(
                sqlite3_prepare_v2(db, "UPDATE audit SET data = ?, data_hash = ?, hash = ? WHERE seq = ?",
                                   -1, &s, NULL),
                SQLITE_OK);
        sqlite3_bind_text(s, 1, new_data, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, dh, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, seq);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
}

static void test_forged_record_breaks_next_link(void **state)
{
        char path[PATH_MAX];
        Fixture f;
        sqlite3 *db;
        char *data;

        fresh(path, &f);
        db = raw_open(path);
        raw_exec(db, "DROP TRIGGER audit_no_update");
        data = raw_text(
                db,
                "SELECT replace(data, '\"exit_status\":3', '\"exit_status\":0') FROM audit WHERE seq = 6");
        forge_record(db, 6, data);
        free(data);
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_LINK_BROKEN, 7, "events", 1, "cut or rewritten");
}

static void test_deleted_record(void **state)
{
        char path[PATH_MAX];
        Fixture f;
        sqlite3 *db;

        fresh(path, &f);
        db = raw_open(path);
        raw_exec(db, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 4");
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_RECORD_MISSING, 4, NULL, 0, "record 4 is missing");

        /* The whole chain gone. */
        db = raw_open(path);
        raw_exec(db, "DELETE FROM audit");
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_RECORD_MISSING, 1, NULL, 0, "empty");
}

static void test_row_inserted_behind_back(void **state)
{
        char path[PATH_MAX], sql[256];
        Fixture f;
        sqlite3 *db;
        int64_t id;

        fresh(path, &f);
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql,
                        "INSERT INTO events (run_id, at, kind, message) VALUES (%" PRIi64
                        ", 1, 'note', 'forged')",
                        f.run);
        raw_exec(db, sql);
        id = sqlite3_last_insert_rowid(db);
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_ROW_UNRECORDED, 0, "events", id, "behind drover's back");
}

/* An edit of a row that drover later updates is not laundered by the update. */
static void test_edit_before_update_is_kept(void **state)
{
        char path[PATH_MAX], sql[256];
        Journal *j = NULL;
        IncidentRecord got = {};
        Fixture f;
        sqlite3 *db;

        fresh(path, &f);
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql, "UPDATE incidents SET subject = 'forged' WHERE id = %" PRIi64,
                        f.incident);
        raw_exec(db, sql);
        sqlite3_close(db);

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_incident_update(j, f.incident, "closed", 1, "late impact", 5), 0);
        assert_int_equal(journal_get_incident(j, f.incident, &got), 0); /* the update itself went through */
        assert_int_equal(got.level, 1);
        incident_record_done(&got);
        journal_close(j);
        expect_problem(path, NULL, AUDIT_PROBLEM_ROW_FOUND_ALTERED, 12, "incidents", f.incident,
                       "column subject: recorded \"primary\", now \"forged\"");
        check_chain_independently(path);
}

static void test_row_deleted_behind_back(void **state)
{
        char path[PATH_MAX], sql[256];
        Fixture f;
        sqlite3 *db;

        fresh(path, &f);
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql, "DELETE FROM incident_log WHERE id = %" PRIi64, f.log);
        assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK); /* the trigger */
        raw_exec(db, "DROP TRIGGER incident_log_no_delete");
        raw_exec(db, sql);
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_ROW_DELETED, -1, "incident_log", f.log, "no retention");
}

static void test_truncation_and_head(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        AuditHead exported, parsed;
        Fixture f;
        sqlite3 *db;
        char text[128];

        fresh(path, &f);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_audit_head(j, &exported), 0);
        journal_close(j);

        (void) snprintf(text, sizeof text, "%" PRIi64 ":%s", exported.seq, exported.hash);
        assert_int_equal(audit_head_parse(text, &parsed), 0);
        assert_int_equal(parsed.seq, exported.seq);
        assert_string_equal(parsed.hash, exported.hash);
        assert_int_equal(audit_head_parse("12", &parsed), -EINVAL);
        assert_int_equal(audit_head_parse("x:abc", &parsed), -EINVAL);
        assert_int_equal(
                audit_head_parse("0:0000000000000000000000000000000000000000000000000000000000000000",
                                 &parsed),
                -EINVAL);
        assert_int_equal(audit_head_parse("3:ABCDEF", &parsed), -EINVAL);

        /* Still there: verify --head passes, also after more writes. */
        expect_problem(path, &exported, AUDIT_PROBLEM_NONE, 0, NULL, 0, NULL);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_event(j, 0, 0, "later", "after the export", NULL), 0);
        journal_close(j);
        expect_problem(path, &exported, AUDIT_PROBLEM_NONE, 0, NULL, 0, NULL);

        /* Remove the last two records (the event, the incident's update): the chain alone
         * still links, the rows catch it, the exported head names it. */
        db = raw_open(path);
        raw_exec(db, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= (SELECT max(seq) - 1 "
                     "FROM audit)");
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_ROW_UNRECORDED, 0, "events", 2, "behind drover's back");
        expect_problem(path, &exported, AUDIT_PROBLEM_HEAD_MISSING, exported.seq, NULL, 0, "truncated");
}

static void test_consistent_rewrite_needs_head(void **state)
{
        char path[PATH_MAX], sql[256];
        Journal *j = NULL;
        AuditHead exported;
        Fixture f;
        sqlite3 *db;
        char *data;

        fresh(path, &f);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_audit_head(j, &exported), 0);
        journal_close(j);

        /* A careful forger changes the incident (the last record's row) and re-chains its
         * record: nothing inside the file contradicts it any more... */
        db = raw_open(path);
        raw_exec(db, "DROP TRIGGER audit_no_update");
        (void) snprintf(sql, sizeof sql, "UPDATE incidents SET level = 4 WHERE id = %" PRIi64, f.incident);
        raw_exec(db, sql);
        data = raw_text(db, "SELECT replace(data, '\"level\":0', '\"level\":4') FROM audit WHERE seq = 11");
        forge_record(db, 11, data);
        free(data);
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_NONE, 0, NULL, 0, NULL);
        /* ...but the head exported before does. */
        expect_problem(path, &exported, AUDIT_PROBLEM_HEAD_MISMATCH, 11, "incidents", f.incident,
                       "rewritten");
}

static void test_batches_and_failures(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        AuditVerdict v = {};
        RunRecord r = sample_run("p");
        StepRecord s = {.step_name = (char *) "s", .phase = STEP_PHASE_FORWARD, .attempt = 1};
        int64_t run_id, sid, before;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_run_begin(j, &r, &run_id), 0);
        db = raw_open(path);
        before = raw_int(db, "SELECT count(*) FROM audit");

        /* A rolled-back batch leaves no record; a refused write inside a batch leaves none. */
        assert_int_equal(journal_begin(j), 0);
        s.run_id = run_id;
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        assert_int_equal(journal_rollback(j), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), before);

        assert_int_equal(journal_begin(j), 0);
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        s.phase = (StepPhase) 7;
        assert_int_equal(journal_step_begin(j, &s, &sid), -EINVAL);
        assert_int_equal(journal_run_end(j, run_id + 100, RUN_FAILED, NULL, 0), -ENOENT);
        assert_int_equal(journal_commit(j), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), before + 1);
        sqlite3_close(db);

        verify_ok(j, &v);
        audit_verdict_done(&v);
        journal_close(j);
        check_chain_independently(path);
}

/* A version-2 journal (issue 4's) with rows: the migration seeds one genesis record each. */
static void test_migrate_from_v2(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        AuditVerdict v = {};
        Fixture f;
        sqlite3 *db;

        fresh(path, &f);
        db = raw_open(path);
        /* Back to what schema 2 looked like (its triggers without the retention guard). */
        raw_exec(db,
                 "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; DROP TABLE audit; "
                 "DROP TRIGGER runs_no_delete; DROP TRIGGER step_attempts_no_delete; DROP TRIGGER "
                 "events_no_delete; "
                 "DROP TRIGGER incidents_no_delete; DROP TRIGGER incident_log_no_delete; DROP TABLE "
                 "retention_guard; "
                 "CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'no'); END; "
                 "CREATE TRIGGER step_attempts_no_delete BEFORE DELETE ON step_attempts "
                 "BEGIN SELECT RAISE(ABORT, 'no'); END; "
                 "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'no'); "
                 "END; "
                 "CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents BEGIN SELECT RAISE(ABORT, "
                 "'no'); END; "
                 "CREATE TRIGGER incident_log_no_delete BEFORE DELETE ON incident_log "
                 "BEGIN SELECT RAISE(ABORT, 'no'); END; "
                 "PRAGMA user_version = 2");
        sqlite3_close(db);

        assert_int_equal(journal_open(path, &j), 0);
        verify_ok(j, &v);
        assert_int_equal(v.n_records, 7); /* the chain's start + 6 rows */
        assert_int_equal(v.n_rows, 6);
        audit_verdict_done(&v);
        journal_close(j);

        db = raw_open(path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE op = 'genesis'"), 7);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE tbl = 'step_attempts'"), 2);
        /* The migrated triggers still refuse deletes. */
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM runs", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        check_chain_independently(path);
}

static void test_prune(void **state)
{
        char path[PATH_MAX], sql[256];
        Journal *j = NULL;
        AuditVerdict v = {};
        JournalPruneResult res = {};
        const usec_t old = 1600000000000000ULL, cut = 1650000000000000ULL;
        Fixture o, keep_recent, keep_ref;
        int64_t inc_open;
        sqlite3 *db;
        char *last;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        populate(j, &o, old);         /* old, closed: goes */
        populate(j, &keep_recent, 0); /* recent: stays */
        populate(j, &keep_ref, old);  /* old run, but an open incident below refers to it */
        assert_int_equal(journal_incident_open(j,
                                               &(IncidentRecord){.subject = (char *) "x",
                                                                 .state = (char *) "detected",
                                                                 .level = 1,
                                                                 .opened_at = old},
                                               &inc_open),
                         0);
        assert_int_equal(journal_incident_log(j,
                                              &(IncidentLogRecord){.incident_id = inc_open,
                                                                   .actor = (char *) "bob",
                                                                   .kind = (char *) "playbook-started",
                                                                   .at = old,
                                                                   .run_id = keep_ref.run,
                                                                   .level_from = -1,
                                                                   .level_to = -1},
                                              NULL),
                         0);
        assert_int_equal(journal_event(j, 0, old, "daemon-start", "old daemon event", NULL), 0);

        assert_int_equal(journal_prune(j, 0, "alice", NULL, false, &res), -EINVAL);
        assert_int_equal(journal_prune(j, cut, NULL, NULL, false, &res), -EINVAL);

        /* A dry run counts and changes nothing. */
        db = raw_open(path);
        int64_t n_audit = raw_int(db, "SELECT count(*) FROM audit");
        assert_int_equal(journal_prune(j, cut, "alice", "regulation: 5 years", true, &res), 0);
        assert_int_equal(res.runs, 1);
        assert_int_equal(res.step_attempts, 2);
        assert_int_equal(res.events, 2);    /* o's note and the old daemon event */
        assert_int_equal(res.incidents, 2); /* o's and keep_ref's incident: both closed long ago */
        assert_int_equal(res.incident_log, 2);
        assert_int_equal(res.seq, 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), n_audit);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM runs"), 3);

        (void) snprintf(sql, sizeof sql,
                        "SELECT hash FROM audit WHERE tbl = 'runs' AND row_id = %" PRIi64
                        " ORDER BY seq DESC LIMIT 1",
                        o.run);
        last = raw_text(db, sql);

        assert_int_equal(journal_prune(j, cut, "alice", "regulation: 5 years", false, &res), 0);
        assert_int_equal(res.runs, 1);
        assert_int_equal(res.seq, n_audit + 1);
        (void) snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id = %" PRIi64, o.run);
        assert_int_equal(raw_int(db, sql), 0);
        (void) snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id IN (%" PRIi64 ", %" PRIi64 ")",
                        keep_recent.run, keep_ref.run);
        assert_int_equal(raw_int(db, sql), 2);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM retention_guard"), 0);

        /* Journaled: the summary, then one record per removed row naming its last hash. */
        char *summary = raw_text(db, "SELECT data FROM audit WHERE tbl = 'journal' AND op = 'retention'");
        assert_non_null(strstr(summary, "\"actor\":\"alice\""));
        assert_non_null(strstr(summary, "\"reason\":\"regulation: 5 years\""));
        assert_non_null(strstr(summary, "\"before\":1650000000000000"));
        assert_non_null(strstr(summary, "\"runs\":1,\"step_attempts\":2,\"events\":2,\"incidents\":2,"
                                        "\"incident_log\":2"));
        free(summary);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE op = 'retention'"),
                         1 + 1 + 2 + 2 + 2 + 2);
        (void) snprintf(
                sql, sizeof sql,
                "SELECT count(*) FROM audit WHERE tbl = 'runs' AND op = 'retention' AND row_id = %" PRIi64
                " AND data LIKE '%%%s%%'",
                o.run, last);
        assert_int_equal(raw_int(db, sql), 1);
        free(last);

        /* Every other delete is still refused. */
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM runs", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);

        verify_ok(j, &v);
        audit_verdict_done(&v);
        journal_close(j);
        check_chain_independently(path);

        /* A removed row put back behind drover's back is caught. */
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql,
                        "INSERT INTO runs (id, playbook, hostname, pid, pid_starttime, started) "
                        "VALUES (%" PRIi64 ", 'ghost', 'h', 1, 1, 1)",
                        o.run);
        raw_exec(db, sql);
        sqlite3_close(db);
        expect_problem(path, NULL, AUDIT_PROBLEM_ROW_UNRECORDED, -1, "runs", o.run, "removed by retention");

        /* Nothing matching: no record at all. */
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_prune(j, 1000, "alice", NULL, false, &res), 0);
        assert_int_equal(res.runs + res.step_attempts + res.events + res.incidents + res.incident_log, 0);
        assert_int_equal(res.seq, 0);
        journal_close(j);
}

static void test_string_tables(void **state)
{
        for (int p = 0; p < _AUDIT_PROBLEM_MAX; p++)
                assert_int_equal(audit_problem_from_string(audit_problem_to_string(p)), p);
        assert_int_equal(audit_problem_from_string("bogus"), -EINVAL);
        assert_null(audit_problem_to_string(_AUDIT_PROBLEM_MAX));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_write_is_chained),
                cmocka_unit_test(test_canonical_encoding),
                cmocka_unit_test(test_tamper_data_row),
                cmocka_unit_test(test_tamper_audit_record),
                cmocka_unit_test(test_forged_record_breaks_next_link),
                cmocka_unit_test(test_deleted_record),
                cmocka_unit_test(test_row_inserted_behind_back),
                cmocka_unit_test(test_row_deleted_behind_back),
                cmocka_unit_test(test_edit_before_update_is_kept),
                cmocka_unit_test(test_truncation_and_head),
                cmocka_unit_test(test_consistent_rewrite_needs_head),
                cmocka_unit_test(test_batches_and_failures),
                cmocka_unit_test(test_migrate_from_v2),
                cmocka_unit_test(test_prune),
                cmocka_unit_test(test_string_tables),
        };

        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
