/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-drill.c — the drill tables behind journal-drill.h: schema step, writes and
 * queries on a connection of its own to the journal file.
 *
 * Owns: drill_schema, drill_runs, drill_run_runs, drill_reviews, drill_evaluations,
 * drill_actions, drill_action_log and their triggers. Does not own: journal.c's tables
 * (only read here), logging, printing. Called by droverctl's drill verbs.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "journal/journal-drill.h"
#include "journal/journal-internal.h"
#include "shared/strbuf.h"

/* Entry k-1 brings the drill tables from version k-1 to k. Never edit a released entry. */
static const char *const drill_migrations[] = {
        "CREATE TABLE drill_runs (\n"
        "        id                INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        drill             TEXT NOT NULL,\n"
        "        drill_path        TEXT,\n"
        "        drill_sha256      TEXT,\n"
        "        mode              TEXT NOT NULL CHECK (mode IN ('tabletop', 'live')),\n"
        "        purpose           TEXT,\n"
        "        fault             TEXT,\n"
        "        fault_subject     TEXT,\n"
        "        participants_json TEXT,\n"
        "        actor             TEXT,\n"
        "        hostname          TEXT NOT NULL,\n"
        "        pid               INTEGER NOT NULL,\n"
        "        started           INTEGER NOT NULL,\n"
        "        ended             INTEGER NOT NULL DEFAULT 0,\n"
        "        outcome           TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN\n"
        "                ('running', 'succeeded', 'failed', 'aborted', 'interrupted')),\n"
        "        error             TEXT,\n"
        "        fault_injected_at INTEGER NOT NULL DEFAULT 0,\n"
        "        fault_cleared_at  INTEGER NOT NULL DEFAULT 0,\n"
        "        recovered_at      INTEGER NOT NULL DEFAULT 0,\n"
        "        rto_objective_us  INTEGER NOT NULL DEFAULT -1,\n"
        "        rpo_objective_us  INTEGER NOT NULL DEFAULT -1,\n"
        "        rto_us            INTEGER NOT NULL DEFAULT -1,\n"
        "        rpo_us            INTEGER NOT NULL DEFAULT -1,\n"
        "        objectives_met    INTEGER NOT NULL DEFAULT -1 CHECK (objectives_met IN (-1, 0, 1))\n"
        ");\n"
        "CREATE INDEX drill_runs_drill ON drill_runs (drill, started);\n"
        "CREATE TABLE drill_run_runs (\n"
        "        id           INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        drill_run_id INTEGER NOT NULL REFERENCES drill_runs (id),\n"
        "        seq          INTEGER NOT NULL,\n"
        "        run_id       INTEGER NOT NULL UNIQUE REFERENCES runs (id),\n"
        "        playbook     TEXT NOT NULL,\n"
        "        UNIQUE (drill_run_id, seq)\n"
        ");\n"
        "CREATE TABLE drill_reviews (\n"
        "        id           INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        drill_run_id INTEGER NOT NULL REFERENCES drill_runs (id),\n"
        "        run_id       INTEGER REFERENCES runs (id),\n"
        "        step_index   INTEGER NOT NULL,\n"
        "        step_name    TEXT NOT NULL,\n"
        "        phase        TEXT NOT NULL CHECK (phase IN ('forward', 'rollback')),\n"
        "        shown_at     INTEGER NOT NULL,\n"
        "        answered_at  INTEGER NOT NULL,\n"
        "        verdict      TEXT NOT NULL CHECK (verdict IN ('ack', 'challenge')),\n"
        "        who          TEXT NOT NULL,\n"
        "        comment      TEXT\n"
        ");\n"
        "CREATE INDEX drill_reviews_run ON drill_reviews (drill_run_id, id);\n"
        "CREATE TABLE drill_evaluations (\n"
        "        id           INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        drill_run_id INTEGER NOT NULL REFERENCES drill_runs (id),\n"
        "        at           INTEGER NOT NULL,\n"
        "        evaluator    TEXT NOT NULL,\n"
        "        criterion    TEXT NOT NULL CHECK (criterion IN\n"
        "                ('objectives', 'procedure', 'coordination', 'resources', 'lessons')),\n"
        "        score        INTEGER NOT NULL CHECK ((criterion = 'lessons' AND score = 0) OR\n"
        "                                             (criterion <> 'lessons' AND score BETWEEN 1 AND 5)),\n"
        "        text         TEXT\n"
        ");\n"
        "CREATE INDEX drill_evaluations_run ON drill_evaluations (drill_run_id, id);\n"
        "CREATE TABLE drill_actions (\n"
        "        id           INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        drill_run_id INTEGER REFERENCES drill_runs (id),\n"
        "        created_at   INTEGER NOT NULL,\n"
        "        created_by   TEXT NOT NULL,\n"
        "        finding      TEXT NOT NULL,\n"
        "        action       TEXT NOT NULL,\n"
        "        owner        TEXT NOT NULL,\n"
        "        due          TEXT NOT NULL CHECK (due GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]')\n"
        ");\n"
        "CREATE TABLE drill_action_log (\n"
        "        id        INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        action_id INTEGER NOT NULL REFERENCES drill_actions (id),\n"
        "        at        INTEGER NOT NULL,\n"
        "        actor     TEXT NOT NULL,\n"
        "        status    TEXT NOT NULL CHECK (status IN ('open', 'in-progress', 'done', 'cancelled')),\n"
        "        comment   TEXT\n"
        ");\n"
        "CREATE INDEX drill_action_log_action ON drill_action_log (action_id, id);\n"
        "CREATE TRIGGER drill_runs_no_delete BEFORE DELETE ON drill_runs\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes drill runs'); END;\n"
        "CREATE TRIGGER drill_run_runs_no_delete BEFORE DELETE ON drill_run_runs\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill run links are append-only'); END;\n"
        "CREATE TRIGGER drill_run_runs_no_update BEFORE UPDATE ON drill_run_runs\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill run links are append-only'); END;\n"
        "CREATE TRIGGER drill_reviews_no_delete BEFORE DELETE ON drill_reviews\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill reviews are append-only'); END;\n"
        "CREATE TRIGGER drill_reviews_no_update BEFORE UPDATE ON drill_reviews\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill reviews are append-only'); END;\n"
        "CREATE TRIGGER drill_evaluations_no_delete BEFORE DELETE ON drill_evaluations\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill evaluations are append-only'); END;\n"
        "CREATE TRIGGER drill_evaluations_no_update BEFORE UPDATE ON drill_evaluations\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill evaluations are append-only'); END;\n"
        "CREATE TRIGGER drill_actions_no_delete BEFORE DELETE ON drill_actions\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill actions are append-only'); END;\n"
        "CREATE TRIGGER drill_actions_no_update BEFORE UPDATE ON drill_actions\n"
        "        BEGIN SELECT RAISE(ABORT, 'drill actions are append-only'); END;\n"
        "CREATE TRIGGER drill_action_log_no_delete BEFORE DELETE ON drill_action_log\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;\n"
        "CREATE TRIGGER drill_action_log_no_update BEFORE UPDATE ON drill_action_log\n"
        "        BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;\n",
};

struct JournalDrill {
        Journal *journal; /* its own connection, with the audit chain of journal.c/audit.c */
        sqlite3 *db;      /* journal->db */
};

const char *journal_drill_errmsg(JournalDrill *j)
{
        return j && j->db ? sqlite3_errmsg(j->db) : "no journal";
}

static void finalizep(sqlite3_stmt **s)
{
        if (*s)
                (void) sqlite3_finalize(*s);
}
#define _cleanup_finalize_ _cleanup_(finalizep)

static int prepare(JournalDrill *j, const char *sql, sqlite3_stmt **ret)
{
        return errno_from_sqlite(journal_prepare(j->journal, sql, 0, ret));
}

static int bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
        return errno_from_sqlite(sqlite3_bind_int64(s, i, v));
}

static int exec_done(sqlite3_stmt *s)
{
        int rc;

        do
                rc = stmt_step(s);
        while (rc == SQLITE_ROW);
        return rc == SQLITE_DONE ? 0 : errno_from_sqlite(sqlite3_extended_errcode(sqlite3_db_handle(s)));
}

static char *col_str(sqlite3_stmt *s, int c)
{
        const unsigned char *t = sqlite3_column_text(s, c);
        return t ? xstrdup((const char *) t) : NULL;
}

/* A name column (outcome, phase) as the string table's lookup wants it. */
static const char *col_text(sqlite3_stmt *s, int c)
{
        return (const char *) sqlite3_column_text(s, c);
}

static usec_t now_or(usec_t t)
{
        return t ? t : now_usec(CLOCK_REALTIME);
}

static int exec_sql(sqlite3 *db, const char *sql)
{
        return errno_from_sqlite(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* The drill schema's version in this file; 0 when it has none yet. */
static int drill_schema_version(Journal *j, int *ret)
{
        sqlite3_stmt *s = NULL;
        int rc;

        *ret = 0;
        rc = journal_prepare(j, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'drill_schema'",
                             0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        rc = stmt_step(s);
        (void) sqlite3_finalize(s);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return errno_from_sqlite(rc);
        rc = journal_prepare(j, "SELECT MAX(version) FROM drill_schema", 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        rc = stmt_step(s);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int(s, 0);
        (void) sqlite3_finalize(s);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : errno_from_sqlite(rc);
}

int journal_drill_ensure_schema_on(Journal *j)
{
        int v = 0, r;

        if (!j)
                return -EINVAL;
        /* Cheap check without the write lock: the common case is "already current". */
        r = drill_schema_version(j, &v);
        if (r < 0)
                return r;
        if (v == JOURNAL_DRILL_SCHEMA_VERSION)
                return 0;
        if (v > JOURNAL_DRILL_SCHEMA_VERSION)
                return -EPROTONOSUPPORT;

        r = exec_sql(j->db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        /* Again under the write lock: another process may have done it meanwhile. */
        r = exec_sql(j->db, "CREATE TABLE IF NOT EXISTS drill_schema (version INTEGER NOT NULL)");
        if (r >= 0)
                r = drill_schema_version(j, &v);
        if (r >= 0 && v > JOURNAL_DRILL_SCHEMA_VERSION)
                r = -EPROTONOSUPPORT;
        for (; r >= 0 && v < JOURNAL_DRILL_SCHEMA_VERSION; v++) {
                char sql[80];
                r = exec_sql(j->db, drill_migrations[v]);
                if (r < 0)
                        break;
                (void) snprintf(sql, sizeof sql, "INSERT INTO drill_schema (version) VALUES (%d)", v + 1);
                r = exec_sql(j->db, sql);
        }
        if (r >= 0)
                r = exec_sql(j->db, "COMMIT");
        if (r < 0 && !sqlite3_get_autocommit(j->db))
                (void) exec_sql(j->db, "ROLLBACK");
        return r;
}

int journal_drill_ensure_schema(JournalDrill *j)
{
        return j ? journal_drill_ensure_schema_on(j->journal) : -EINVAL;
}

JournalDrill *journal_drill_close(JournalDrill *j)
{
        if (!j)
                return NULL;
        journal_close(j->journal);
        free(j);
        return NULL;
}

int journal_drill_open(const char *path, JournalDrill **ret)
{
        _cleanup_(journal_drill_closep) JournalDrill *j = NULL;
        int r;

        if (!path || !ret)
                return -EINVAL;
        j = xcalloc(1, sizeof *j);
        r = journal_open(path, &j->journal); /* migrates, and ensures the drill schema */
        if (r < 0)
                return r;
        j->db = j->journal->db;
        *ret = TAKE_PTR(j);
        return 0;
}

/* Every write: the row change and its audit record in one transaction (or savepoint). */
static int write_begin(JournalDrill *j, bool *own)
{
        return journal_atomic_begin(j->journal, own);
}

static int write_end(JournalDrill *j, bool own, int r)
{
        return journal_atomic_end(j->journal, own, r);
}

static int audit_inserted(JournalDrill *j, AuditTable t, int r, int64_t *ret_id)
{
        int64_t id;

        if (r < 0)
                return r;
        id = sqlite3_last_insert_rowid(j->db);
        r = audit_append_row(j->journal, t, id, "insert");
        if (r >= 0 && ret_id)
                *ret_id = id;
        return r;
}

/* ---- record helpers ---- */

void drill_run_record_done(DrillRunRecord *r)
{
        free(r->drill);
        free(r->drill_path);
        free(r->drill_sha256);
        free(r->mode);
        free(r->purpose);
        free(r->fault);
        free(r->fault_subject);
        free(r->participants_json);
        free(r->actor);
        free(r->error);
        free(r->hostname);
        *r = (DrillRunRecord){};
}

void drill_run_link_done(DrillRunLink *l)
{
        free(l->playbook);
        *l = (DrillRunLink){};
}

void drill_review_record_done(DrillReviewRecord *r)
{
        free(r->step_name);
        free(r->verdict);
        free(r->who);
        free(r->comment);
        *r = (DrillReviewRecord){};
}

void drill_evaluation_record_done(DrillEvaluationRecord *r)
{
        free(r->evaluator);
        free(r->criterion);
        free(r->text);
        *r = (DrillEvaluationRecord){};
}

void drill_action_record_done(DrillActionRecord *r)
{
        free(r->created_by);
        free(r->finding);
        free(r->action);
        free(r->owner);
        free(r->due);
        free(r->status);
        free(r->status_by);
        free(r->status_comment);
        *r = (DrillActionRecord){};
}

void drill_action_log_record_done(DrillActionLogRecord *r)
{
        free(r->actor);
        free(r->status);
        free(r->comment);
        *r = (DrillActionLogRecord){};
}

void drill_last_done(DrillLast *l)
{
        free(l->name);
        free(l->mode);
        *l = (DrillLast){};
}

DEFINE_ARRAY_FREE_FUNC(drill_run_record_free_array, DrillRunRecord, drill_run_record_done)
DEFINE_ARRAY_FREE_FUNC(drill_run_link_free_array, DrillRunLink, drill_run_link_done)
DEFINE_ARRAY_FREE_FUNC(drill_review_record_free_array, DrillReviewRecord, drill_review_record_done)
DEFINE_ARRAY_FREE_FUNC(drill_evaluation_record_free_array, DrillEvaluationRecord, drill_evaluation_record_done)
DEFINE_ARRAY_FREE_FUNC(drill_action_record_free_array, DrillActionRecord, drill_action_record_done)
DEFINE_ARRAY_FREE_FUNC(drill_action_log_record_free_array, DrillActionLogRecord, drill_action_log_record_done)
DEFINE_ARRAY_FREE_FUNC(drill_last_free_array, DrillLast, drill_last_done)

/* Collect rows of a prepared statement into a heap array. */
static int collect(sqlite3_stmt *s, size_t elsz, void (*from_row)(sqlite3_stmt *, void *), void **ret,
                   size_t *ret_n)
{
        char *a = NULL;
        size_t n = 0;
        int rc;

        while ((rc = stmt_step(s)) == SQLITE_ROW) {
                a = xrealloc(a, (n + 1) * elsz);
                memset(a + n * elsz, 0, elsz);
                from_row(s, a + n * elsz);
                n++;
        }
        if (rc != SQLITE_DONE) {
                free(a); /* elements leak only their strings on this rare path; callers exit */
                return errno_from_sqlite(rc);
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

/* Collect the rows of a SELECT whose one parameter is an id. */
static int collect_by_id(JournalDrill *j, const char *sql, int64_t id, size_t elsz,
                         void (*from_row)(sqlite3_stmt *, void *), void **ret, size_t *ret_n)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = prepare(j, sql, &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, id);
        return collect(s, elsz, from_row, ret, ret_n);
}

/* Prepare a SELECT whose one parameter is an id and step to its first row: -ENOENT when
 * there is none. The caller finalizes *s. */
static int select_row(JournalDrill *j, const char *sql, int64_t id, sqlite3_stmt **s)
{
        int q;

        q = prepare(j, sql, s);
        if (q < 0)
                return q;
        return stmt_select_row(*s, id);
}

/* Begin a write and prepare its statement; on failure the write is ended already. */
static int write_prepare(JournalDrill *j, const char *sql, bool *own, sqlite3_stmt **s)
{
        int q;

        q = write_begin(j, own);
        if (q < 0)
                return q;
        q = prepare(j, sql, s);
        if (q < 0)
                return write_end(j, *own, q);
        return q;
}

/* ---- drill runs ---- */

#define DRILL_RUN_COLUMNS                                                                                   \
        "id, drill, drill_path, drill_sha256, mode, purpose, fault, fault_subject, participants_json, "     \
        "actor, "                                                                                           \
        "started, ended, outcome, error, fault_injected_at, fault_cleared_at, recovered_at, "               \
        "rto_objective_us, "                                                                                \
        "rpo_objective_us, rto_us, rpo_us, objectives_met, pid, hostname"

static void drill_run_from_row(sqlite3_stmt *s, void *p)
{
        DrillRunRecord *r = p;

        *r = (DrillRunRecord){
                .id = sqlite3_column_int64(s, 0),
                .drill = col_str(s, 1),
                .drill_path = col_str(s, 2),
                .drill_sha256 = col_str(s, 3),
                .mode = col_str(s, 4),
                .purpose = col_str(s, 5),
                .fault = col_str(s, 6),
                .fault_subject = col_str(s, 7),
                .participants_json = col_str(s, 8),
                .actor = col_str(s, 9),
                .started = (usec_t) sqlite3_column_int64(s, 10),
                .ended = (usec_t) sqlite3_column_int64(s, 11),
                .outcome = run_outcome_from_string(col_text(s, 12)),
                .error = col_str(s, 13),
                .fault_injected_at = (usec_t) sqlite3_column_int64(s, 14),
                .fault_cleared_at = (usec_t) sqlite3_column_int64(s, 15),
                .recovered_at = (usec_t) sqlite3_column_int64(s, 16),
                .rto_objective_us = sqlite3_column_int64(s, 17),
                .rpo_objective_us = sqlite3_column_int64(s, 18),
                .rto_us = sqlite3_column_int64(s, 19),
                .rpo_us = sqlite3_column_int64(s, 20),
                .objectives_met = sqlite3_column_int(s, 21),
                .pid = sqlite3_column_int(s, 22),
                .hostname = col_str(s, 23),
        };
}

int journal_drill_run_begin(JournalDrill *j, const DrillRunRecord *r, int64_t *ret_id)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        char host[HOST_NAME_MAX + 1] = "";
        bool own;
        int q;

        if (!j || !r || !r->drill || !r->mode)
                return -EINVAL;
        (void) gethostname(host, sizeof host - 1);
        q = write_prepare(
                j,
                "INSERT INTO drill_runs (drill, drill_path, drill_sha256, mode, purpose, fault, "
                "fault_subject, "
                "participants_json, actor, hostname, pid, started, rto_objective_us, rpo_objective_us) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                &own, &s);
        if (q < 0)
                return q;
        bind_text(s, 1, r->drill);
        bind_text(s, 2, r->drill_path);
        bind_text(s, 3, r->drill_sha256);
        bind_text(s, 4, r->mode);
        bind_text(s, 5, r->purpose);
        bind_text(s, 6, r->fault);
        bind_text(s, 7, r->fault_subject);
        bind_text(s, 8, r->participants_json);
        bind_text(s, 9, r->actor);
        bind_text(s, 10, host);
        bind_i64(s, 11, getpid());
        bind_i64(s, 12, (int64_t) now_or(r->started));
        bind_i64(s, 13, r->rto_objective_us);
        bind_i64(s, 14, r->rpo_objective_us);
        return write_end(j, own, audit_inserted(j, AUDIT_TABLE_DRILL_RUNS, exec_done(s), ret_id));
}

int journal_drill_run_link(JournalDrill *j, int64_t drill_run_id, unsigned seq, int64_t run_id,
                           const char *playbook)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        bool own;
        int q;

        if (!j || !playbook)
                return -EINVAL;
        q = write_prepare(
                j, "INSERT INTO drill_run_runs (drill_run_id, seq, run_id, playbook) VALUES (?,?,?,?)", &own,
                &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, drill_run_id);
        bind_i64(s, 2, seq);
        bind_i64(s, 3, run_id);
        bind_text(s, 4, playbook);
        return write_end(j, own, audit_inserted(j, AUDIT_TABLE_DRILL_RUN_RUNS, exec_done(s), NULL));
}

/* After an UPDATE of drill run id (r its result): chain the new row, or say why nothing
 * changed (-EALREADY ended, -ENOENT no such run). */
static int changes_or(JournalDrill *j, int64_t id, int r)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;

        if (r < 0)
                return r;
        if (sqlite3_changes(j->db) > 0)
                return audit_append_row(j->journal, AUDIT_TABLE_DRILL_RUNS, id, "update");
        if (prepare(j, "SELECT 1 FROM drill_runs WHERE id = ?", &s) < 0)
                return -EIO;
        bind_i64(s, 1, id);
        return stmt_step(s) == SQLITE_ROW ? -EALREADY : -ENOENT;
}

/* An UPDATE of one drill run, in a transaction with its audit records: first a check that
 * nobody changed the row behind drover's back, then the update and its record. */
static int update_drill_run(JournalDrill *j, int64_t id, sqlite3_stmt *s)
{
        bool own;
        int q;

        q = write_begin(j, &own);
        if (q < 0)
                return q;
        q = audit_before_update(j->journal, AUDIT_TABLE_DRILL_RUNS, id);
        if (q >= 0)
                q = changes_or(j, id, exec_done(s));
        return write_end(j, own, q);
}

int journal_drill_run_fault(JournalDrill *j, int64_t id, usec_t injected_at, usec_t cleared_at)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = prepare(j,
                    "UPDATE drill_runs SET fault_injected_at = CASE WHEN ?1 > 0 THEN ?1 ELSE "
                    "fault_injected_at END, "
                    "fault_cleared_at = CASE WHEN ?2 > 0 THEN ?2 ELSE fault_cleared_at END "
                    "WHERE id = ?3 AND outcome = 'running'",
                    &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, (int64_t) injected_at);
        bind_i64(s, 2, (int64_t) cleared_at);
        bind_i64(s, 3, id);
        return update_drill_run(j, id, s);
}

int journal_drill_run_end(JournalDrill *j, const DrillRunRecord *r)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        if (!j || !r || !run_outcome_is_final(r->outcome))
                return -EINVAL;
        q = prepare(j,
                    "UPDATE drill_runs SET ended = ?, outcome = ?, error = ?, recovered_at = ?, rto_us = ?, "
                    "rpo_us = ?, objectives_met = ? WHERE id = ? AND outcome = 'running'",
                    &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, (int64_t) now_or(r->ended));
        bind_text(s, 2, run_outcome_to_string(r->outcome));
        bind_text(s, 3, r->error);
        bind_i64(s, 4, (int64_t) r->recovered_at);
        bind_i64(s, 5, r->rto_us);
        bind_i64(s, 6, r->rpo_us);
        bind_i64(s, 7, r->objectives_met);
        bind_i64(s, 8, r->id);
        return update_drill_run(j, r->id, s);
}

int journal_drill_get_run(JournalDrill *j, int64_t id, DrillRunRecord *ret)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = select_row(j, "SELECT " DRILL_RUN_COLUMNS " FROM drill_runs WHERE id = ?", id, &s);
        if (q < 0)
                return q;
        drill_run_from_row(s, ret);
        return 0;
}

int journal_drill_list_runs(JournalDrill *j, const char *drill, size_t limit, DrillRunRecord **ret,
                            size_t *ret_n)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = prepare(j,
                    "SELECT " DRILL_RUN_COLUMNS " FROM drill_runs WHERE (?1 IS NULL OR drill = ?1) "
                    "ORDER BY started DESC, id DESC LIMIT ?2",
                    &s);
        if (q < 0)
                return q;
        bind_text(s, 1, drill);
        bind_i64(s, 2, limit ? (int64_t) limit : -1);
        return collect(s, sizeof(DrillRunRecord), drill_run_from_row, (void **) ret, ret_n);
}

static void link_from_row(sqlite3_stmt *s, void *p)
{
        DrillRunLink *l = p;
        *l = (DrillRunLink){
                .drill_run_id = sqlite3_column_int64(s, 0),
                .seq = (unsigned) sqlite3_column_int(s, 1),
                .run_id = sqlite3_column_int64(s, 2),
                .playbook = col_str(s, 3),
        };
}

int journal_drill_list_links(JournalDrill *j, int64_t drill_run_id, DrillRunLink **ret, size_t *ret_n)
{
        return collect_by_id(
                j,
                "SELECT drill_run_id, seq, run_id, playbook FROM drill_run_runs WHERE drill_run_id = ? "
                "ORDER BY seq",
                drill_run_id, sizeof(DrillRunLink), link_from_row, (void **) ret, ret_n);
}

int journal_drill_find_by_run(JournalDrill *j, int64_t run_id, int64_t *ret_drill_run_id)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = select_row(j, "SELECT drill_run_id FROM drill_run_runs WHERE run_id = ?", run_id, &s);
        if (q < 0)
                return q;
        *ret_drill_run_id = sqlite3_column_int64(s, 0);
        return 0;
}

int journal_drill_recover(JournalDrill *j, unsigned *ret_n)
{
        _cleanup_free_ int64_t *ids = NULL;
        char host[HOST_NAME_MAX + 1] = "";
        size_t n_ids = 0;
        unsigned n = 0;
        sqlite3_stmt *s = NULL;
        int q;

        (void) gethostname(host, sizeof host - 1);
        q = prepare(j, "SELECT id, pid FROM drill_runs WHERE outcome = 'running' AND hostname = ?", &s);
        if (q < 0)
                return q;
        bind_text(s, 1, host);
        while (stmt_step(s) == SQLITE_ROW) {
                pid_t pid = (pid_t) sqlite3_column_int(s, 1);
                char proc[64];

                /* A zombie or a reused PID keeps it "running" until the next check: the
                 * cost is a late mark, never a wrong one for a live drill. */
                (void) snprintf(proc, sizeof proc, "/proc/%d", (int) pid);
                if (pid == getpid() || access(proc, F_OK) == 0)
                        continue;
                *(int64_t *) array_push(&ids, &n_ids, sizeof(int64_t)) = sqlite3_column_int64(s, 0);
        }
        (void) sqlite3_finalize(s);

        for (size_t i = 0; i < n_ids; i++) {
                _cleanup_finalize_ sqlite3_stmt *u = NULL;

                q = prepare(j,
                            "UPDATE drill_runs SET outcome = 'interrupted', ended = ?, error = 'the drover "
                            "process running this drill died' WHERE id = ? AND outcome = 'running'",
                            &u);
                if (q < 0)
                        return q;
                bind_i64(u, 1, (int64_t) now_usec(CLOCK_REALTIME));
                bind_i64(u, 2, ids[i]);
                q = update_drill_run(j, ids[i], u);
                if (q >= 0)
                        n++;
                else if (q != -EALREADY)
                        return q;
        }
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* ---- reviews ---- */

int journal_drill_review_add(JournalDrill *j, const DrillReviewRecord *r, int64_t *ret_id)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        bool own;
        int q;

        if (!j || !r || !r->step_name || !r->verdict || !r->who)
                return -EINVAL;
        q = write_prepare(
                j,
                "INSERT INTO drill_reviews (drill_run_id, run_id, step_index, step_name, phase, shown_at, "
                "answered_at, verdict, who, comment) VALUES (?,?,?,?,?,?,?,?,?,?)",
                &own, &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, r->drill_run_id);
        if (r->run_id > 0)
                bind_i64(s, 2, r->run_id);
        bind_i64(s, 3, r->step_index);
        bind_text(s, 4, r->step_name);
        bind_text(s, 5, step_phase_to_string(r->phase));
        bind_i64(s, 6, (int64_t) now_or(r->shown_at));
        bind_i64(s, 7, (int64_t) now_or(r->answered_at));
        bind_text(s, 8, r->verdict);
        bind_text(s, 9, r->who);
        bind_text(s, 10, r->comment);
        return write_end(j, own, audit_inserted(j, AUDIT_TABLE_DRILL_REVIEWS, exec_done(s), ret_id));
}

static void review_from_row(sqlite3_stmt *s, void *p)
{
        DrillReviewRecord *r = p;
        *r = (DrillReviewRecord){
                .id = sqlite3_column_int64(s, 0),
                .drill_run_id = sqlite3_column_int64(s, 1),
                .run_id = sqlite3_column_int64(s, 2),
                .step_index = sqlite3_column_int(s, 3),
                .step_name = col_str(s, 4),
                .phase = step_phase_from_string(col_text(s, 5)),
                .shown_at = (usec_t) sqlite3_column_int64(s, 6),
                .answered_at = (usec_t) sqlite3_column_int64(s, 7),
                .verdict = col_str(s, 8),
                .who = col_str(s, 9),
                .comment = col_str(s, 10),
        };
}

int journal_drill_list_reviews(JournalDrill *j, int64_t drill_run_id, DrillReviewRecord **ret, size_t *ret_n)
{
        return collect_by_id(
                j,
                "SELECT id, drill_run_id, run_id, step_index, step_name, phase, shown_at, answered_at, "
                "verdict, "
                "who, comment FROM drill_reviews WHERE drill_run_id = ? ORDER BY id",
                drill_run_id, sizeof(DrillReviewRecord), review_from_row, (void **) ret, ret_n);
}

/* ---- evaluations ---- */

int journal_drill_evaluation_add(JournalDrill *j, const DrillEvaluationRecord *r, int64_t *ret_id)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        bool own;
        int q;

        if (!j || !r || !r->evaluator || !r->criterion)
                return -EINVAL;
        q = write_prepare(
                j,
                "INSERT INTO drill_evaluations (drill_run_id, at, evaluator, criterion, score, text) "
                "VALUES (?,?,?,?,?,?)",
                &own, &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, r->drill_run_id);
        bind_i64(s, 2, (int64_t) now_or(r->at));
        bind_text(s, 3, r->evaluator);
        bind_text(s, 4, r->criterion);
        bind_i64(s, 5, r->score);
        bind_text(s, 6, r->text);
        return write_end(j, own, audit_inserted(j, AUDIT_TABLE_DRILL_EVALUATIONS, exec_done(s), ret_id));
}

static void evaluation_from_row(sqlite3_stmt *s, void *p)
{
        DrillEvaluationRecord *r = p;
        *r = (DrillEvaluationRecord){
                .id = sqlite3_column_int64(s, 0),
                .drill_run_id = sqlite3_column_int64(s, 1),
                .at = (usec_t) sqlite3_column_int64(s, 2),
                .evaluator = col_str(s, 3),
                .criterion = col_str(s, 4),
                .score = sqlite3_column_int(s, 5),
                .text = col_str(s, 6),
        };
}

int journal_drill_list_evaluations(JournalDrill *j, int64_t drill_run_id, DrillEvaluationRecord **ret,
                                   size_t *ret_n)
{
        return collect_by_id(
                j,
                "SELECT id, drill_run_id, at, evaluator, criterion, score, text FROM drill_evaluations "
                "WHERE drill_run_id = ? ORDER BY id",
                drill_run_id, sizeof(DrillEvaluationRecord), evaluation_from_row, (void **) ret, ret_n);
}

/* ---- actions ---- */

static int action_log_insert(JournalDrill *j, int64_t action_id, usec_t at, const char *actor,
                             const char *status, const char *comment)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = prepare(
                j, "INSERT INTO drill_action_log (action_id, at, actor, status, comment) VALUES (?,?,?,?,?)",
                &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, action_id);
        bind_i64(s, 2, (int64_t) now_or(at));
        bind_text(s, 3, actor);
        bind_text(s, 4, status);
        bind_text(s, 5, comment);
        return audit_inserted(j, AUDIT_TABLE_DRILL_ACTION_LOG, exec_done(s), NULL);
}

int journal_drill_action_add(JournalDrill *j, const DrillActionRecord *r, int64_t *ret_id)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int64_t id = 0;
        bool own;
        int q;

        if (!j || !r || !r->created_by || !r->finding || !r->action || !r->owner || !r->due)
                return -EINVAL;
        q = write_prepare(
                j,
                "INSERT INTO drill_actions (drill_run_id, created_at, created_by, finding, action, "
                "owner, due) "
                "VALUES (?,?,?,?,?,?,?)",
                &own, &s);
        if (q < 0)
                return q;
        if (r->drill_run_id > 0)
                bind_i64(s, 1, r->drill_run_id);
        bind_i64(s, 2, (int64_t) now_or(r->created_at));
        bind_text(s, 3, r->created_by);
        bind_text(s, 4, r->finding);
        bind_text(s, 5, r->action);
        bind_text(s, 6, r->owner);
        bind_text(s, 7, r->due);
        q = audit_inserted(j, AUDIT_TABLE_DRILL_ACTIONS, exec_done(s), &id);
        if (q >= 0)
                q = action_log_insert(j, id, r->created_at, r->created_by, "open", NULL);
        q = write_end(j, own, q);
        if (q >= 0 && ret_id)
                *ret_id = id;
        return q;
}

static int action_current_status(JournalDrill *j, int64_t action_id, char **ret)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = select_row(j, "SELECT status FROM drill_action_log WHERE action_id = ? ORDER BY id DESC LIMIT 1",
                       action_id, &s);
        if (q < 0)
                return q;
        *ret = col_str(s, 0);
        return 0;
}

int journal_drill_action_set_status(JournalDrill *j, int64_t action_id, const char *status,
                                    const char *actor, const char *comment, usec_t at)
{
        _cleanup_free_ char *cur = NULL;
        bool own;
        int q;

        if (!j || !status || !actor)
                return -EINVAL;
        q = write_begin(j, &own);
        if (q < 0)
                return q;
        q = action_current_status(j, action_id, &cur);
        if (q >= 0 && (streq(cur, "done") || streq(cur, "cancelled")))
                q = -EALREADY;
        if (q >= 0)
                q = action_log_insert(j, action_id, at, actor, status, comment);
        return write_end(j, own, q);
}

static void action_from_row(sqlite3_stmt *s, void *p)
{
        DrillActionRecord *r = p;
        *r = (DrillActionRecord){
                .id = sqlite3_column_int64(s, 0),
                .drill_run_id = sqlite3_column_int64(s, 1),
                .created_at = (usec_t) sqlite3_column_int64(s, 2),
                .created_by = col_str(s, 3),
                .finding = col_str(s, 4),
                .action = col_str(s, 5),
                .owner = col_str(s, 6),
                .due = col_str(s, 7),
                .status = col_str(s, 8),
                .status_at = (usec_t) sqlite3_column_int64(s, 9),
                .status_by = col_str(s, 10),
                .status_comment = col_str(s, 11),
        };
}

int journal_drill_list_actions(JournalDrill *j, bool open_only, int64_t drill_run_id,
                               DrillActionRecord **ret, size_t *ret_n)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = prepare(
                j,
                "SELECT a.id, a.drill_run_id, a.created_at, a.created_by, a.finding, a.action, a.owner, "
                "a.due, "
                "l.status, l.at, l.actor, l.comment FROM drill_actions a "
                "JOIN drill_action_log l ON l.id = (SELECT MAX(id) FROM drill_action_log WHERE action_id = "
                "a.id) "
                "WHERE (?1 = 0 OR l.status IN ('open', 'in-progress')) AND (?2 = 0 OR a.drill_run_id = ?2) "
                "ORDER BY a.id",
                &s);
        if (q < 0)
                return q;
        bind_i64(s, 1, open_only);
        bind_i64(s, 2, drill_run_id);
        return collect(s, sizeof(DrillActionRecord), action_from_row, (void **) ret, ret_n);
}

static void action_log_from_row(sqlite3_stmt *s, void *p)
{
        DrillActionLogRecord *r = p;
        *r = (DrillActionLogRecord){
                .id = sqlite3_column_int64(s, 0),
                .action_id = sqlite3_column_int64(s, 1),
                .at = (usec_t) sqlite3_column_int64(s, 2),
                .actor = col_str(s, 3),
                .status = col_str(s, 4),
                .comment = col_str(s, 5),
        };
}

int journal_drill_list_action_log(JournalDrill *j, int64_t action_id, DrillActionLogRecord **ret,
                                  size_t *ret_n)
{
        return collect_by_id(
                j,
                "SELECT id, action_id, at, actor, status, comment FROM drill_action_log WHERE action_id "
                "= ? ORDER BY id",
                action_id, sizeof(DrillActionLogRecord), action_log_from_row, (void **) ret, ret_n);
}

/* ---- last drills ---- */

static void last_from_row(sqlite3_stmt *s, void *p)
{
        DrillLast *l = p;
        *l = (DrillLast){
                .name = col_str(s, 0),
                .at = (usec_t) sqlite3_column_int64(s, 1),
                .id = sqlite3_column_int64(s, 2),
                .mode = col_str(s, 3),
                .outcome = run_outcome_from_string(col_text(s, 4)),
        };
}

static int list_last(JournalDrill *j, const char *sql, DrillLast **ret, size_t *ret_n)
{
        _cleanup_finalize_ sqlite3_stmt *s = NULL;
        int q;

        q = prepare(j, sql, &s);
        if (q < 0)
                return q;
        return collect(s, sizeof(DrillLast), last_from_row, (void **) ret, ret_n);
}

int journal_drill_last_per_drill(JournalDrill *j, DrillLast **ret, size_t *ret_n)
{
        /* A drill that was carried out counts, whether or not it met its objectives: the
         * plan was exercised. Aborted and interrupted ones do not. */
        return list_last(
                j,
                "SELECT d.drill, d.started, d.id, d.mode, d.outcome FROM drill_runs d "
                "WHERE d.id = (SELECT id FROM drill_runs x WHERE x.drill = d.drill "
                "AND x.outcome IN ('succeeded', 'failed') ORDER BY x.started DESC, x.id DESC LIMIT 1) "
                "ORDER BY d.drill",
                ret, ret_n);
}

int journal_drill_last_per_playbook(JournalDrill *j, DrillLast **ret, size_t *ret_n)
{
        return list_last(j,
                         "SELECT r.playbook, r.started, r.id, r.mode, r.outcome FROM runs r "
                         "WHERE r.id = (SELECT id FROM runs x WHERE x.playbook = r.playbook "
                         "AND x.mode IN ('drill', 'tabletop') AND x.outcome IN ('succeeded', 'failed') "
                         "ORDER BY x.started DESC, x.id DESC LIMIT 1) ORDER BY r.playbook",
                         ret, ret_n);
}
