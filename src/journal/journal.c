/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal.c — the SQLite journal behind journal.h.
 *
 * Owns: opening the file (parent directory 0750, file 0640), the pragmas (WAL,
 * synchronous=FULL, foreign keys, busy timeout), the schema and its ordered
 * migrations, the prepared-statement cache, transactions, crash recovery and the
 * queries. Does not own: logging (it returns -errno; journal_errmsg() gives
 * SQLite's text to a caller that wants to log it), masking secrets (callers hand
 * masked text), deciding outcomes. Called by droverctl, droverd and the engine.
 *
 * A Journal is one SQLite connection used from one thread. Do not use it in a
 * forked child: open a new one there.
 *
 * Audit (schema 3, issue 6): every public write below is the table write plus its
 * record in the hash chain, in one transaction of its own or one savepoint inside the
 * caller's batch: the write and its record are committed together or not at all. The
 * record holds the row as read back after the change, so the chain, verify and retention
 * live in audit.c and this file only says which row of which table changed how
 * (audit_append_row()), and, before an update, lets audit.c check that nobody changed
 * the row behind drover's back (audit_before_update()). A table added by a later
 * migration gets its AuditTable entry and STMT_ROW_* statement, and its writes call the
 * same two functions; a migration that adds a column must append a record for every
 * existing row of that table (their encoding changes), as migration 3 does with
 * audit_seed().
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "journal/journal-drill.h"
#include "journal/journal-internal.h"
#include "journal/journal.h"
#include "shared/macros.h"
#include "shared/time-util.h"

/* How long a writer waits for another process's write lock before giving up. Generous:
 * a step record refused for a busy lock is worse than a late one, and the lock is only
 * ever held for one short transaction (plus its fsync on a loaded disk). */
#define JOURNAL_BUSY_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define JOURNAL_BUSY_POLL_MIN_USEC 500
#define JOURNAL_BUSY_POLL_MAX_USEC 4000
#define JOURNAL_DIR_MODE 0750
#define JOURNAL_FILE_MODE 0640

/*
 * Migrations. Entry k-1 brings the schema from version k-1 to k; each runs in its own
 * BEGIN IMMEDIATE transaction together with "PRAGMA user_version = k", so a crash in
 * the middle leaves the previous version intact. Never edit a released entry: append.
 *
 * Timestamps are INTEGER microseconds (CLOCK_REALTIME for started/ended/at, a
 * monotonic measure for duration). ended = 0 means "not ended (yet)". Nothing is
 * ever deleted (triggers refuse DELETE) but by the retention of journal_prune(), which
 * schema 3 lets through while its transaction holds a row in retention_guard; events
 * are append-only (no UPDATE either).
 */
static const char *const migrations[] = {
        /* 0 → 1: runs, step attempts, events. */
        "CREATE TABLE runs (\n"
        "        id              INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        playbook        TEXT NOT NULL,\n"
        "        playbook_path   TEXT,\n"
        "        playbook_sha256 TEXT,\n"
        "        kind            TEXT,\n"
        "        params_json     TEXT,\n"
        "        trigger         TEXT,\n"
        "        actor           TEXT,\n"
        "        mode            TEXT,\n"
        "        hostname        TEXT NOT NULL,\n"
        "        pid             INTEGER NOT NULL,\n"
        "        pid_starttime   INTEGER NOT NULL,\n"
        "        started         INTEGER NOT NULL,\n"
        "        ended           INTEGER NOT NULL DEFAULT 0,\n"
        "        outcome         TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN\n"
        "                ('running', 'succeeded', 'failed', 'aborted', 'interrupted')),\n"
        "        error           TEXT\n"
        ");\n"
        "CREATE INDEX runs_started ON runs (started, id);\n"
        /* journal_recover() looks only at these, on every start. */
        "CREATE INDEX runs_running ON runs (hostname) WHERE outcome = 'running';\n"
        "CREATE TABLE step_attempts (\n"
        "        id          INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        run_id      INTEGER NOT NULL REFERENCES runs (id),\n"
        "        step_index  INTEGER NOT NULL,\n"
        "        step_name   TEXT NOT NULL,\n"
        "        kind        TEXT,\n"
        "        phase       TEXT NOT NULL CHECK (phase IN ('forward', 'rollback')),\n"
        "        target      TEXT,\n"
        "        attempt     INTEGER NOT NULL,\n"
        "        idempotent  INTEGER NOT NULL CHECK (idempotent IN (0, 1)),\n"
        "        detail      TEXT,\n"
        "        started     INTEGER NOT NULL,\n"
        "        ended       INTEGER NOT NULL DEFAULT 0,\n"
        "        duration    INTEGER NOT NULL DEFAULT 0,\n"
        "        outcome     TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN\n"
        "                ('running', 'ok', 'failed', 'error', 'timeout', 'cancelled', 'skipped',\n"
        "                 'interrupted')),\n"
        "        exit_status INTEGER NOT NULL DEFAULT -1,\n"
        "        http_status INTEGER NOT NULL DEFAULT 0,\n"
        "        stdout_text TEXT,\n"
        "        stderr_text TEXT,\n"
        "        error       TEXT\n"
        ");\n"
        "CREATE INDEX step_attempts_run_id ON step_attempts (run_id, started, id);\n"
        "CREATE TABLE events (\n"
        "        id        INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        run_id    INTEGER REFERENCES runs (id),\n"
        "        at        INTEGER NOT NULL,\n"
        "        kind      TEXT NOT NULL,\n"
        "        message   TEXT,\n"
        "        data_json TEXT\n"
        ");\n"
        "CREATE INDEX events_run_id ON events (run_id, id);\n"
        "CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes runs'); END;\n"
        "CREATE TRIGGER step_attempts_no_delete BEFORE DELETE ON step_attempts\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes step attempts'); END;\n"
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
        "        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
        "        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n",

        /* 1 → 2: incidents and their log (droverd, issue 4). An incident row holds the
         * current state and level; every change, action and actor is a row of
         * incident_log, append-only. */
        "CREATE TABLE incidents (\n"
        "        id          INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        opened_at   INTEGER NOT NULL,\n"
        "        site        TEXT,\n"
        "        subject     TEXT NOT NULL,\n"
        "        phenomenon  TEXT,\n"
        "        impact      TEXT,\n"
        "        state       TEXT NOT NULL CHECK (state IN\n"
        "                ('detected', 'verified', 'escalated', 'mitigating', 'resolved', 'closed')),\n"
        "        level       INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),\n"
        "        drill       INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1)),\n"
        "        closed_at   INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX incidents_open ON incidents (opened_at) WHERE state <> 'closed';\n"
        "CREATE TABLE incident_log (\n"
        "        id          INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "        incident_id INTEGER NOT NULL REFERENCES incidents (id),\n"
        "        at          INTEGER NOT NULL,\n"
        "        actor       TEXT NOT NULL,\n"
        "        kind        TEXT NOT NULL,\n"
        "        text        TEXT,\n"
        "        state_from  TEXT,\n"
        "        state_to    TEXT,\n"
        "        level_from  INTEGER,\n"
        "        level_to    INTEGER,\n"
        "        run_id      INTEGER REFERENCES runs (id)\n"
        ");\n"
        "CREATE INDEX incident_log_incident ON incident_log (incident_id, id);\n"
        "CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes incidents'); END;\n"
        "CREATE TRIGGER incident_log_no_delete BEFORE DELETE ON incident_log\n"
        "        BEGIN SELECT RAISE(ABORT, 'the incident log is append-only'); END;\n"
        "CREATE TRIGGER incident_log_no_update BEFORE UPDATE ON incident_log\n"
        "        BEGIN SELECT RAISE(ABORT, 'the incident log is append-only'); END;\n",

        /* 2 → 3: the audit hash chain (issue 6; format and rules in audit.c). The
         * chain is written by drover's C code only, never by triggers, so that a row
         * changed with the sqlite3 shell is not re-chained and verify catches it. After
         * this SQL, audit_seed() (C) appends the 'genesis' records of every existing row
         * in the same transaction. Deletes of journal rows stay refused, except while
         * journal_prune()'s transaction holds a row in retention_guard. */
        "CREATE TABLE audit (\n"
        "        seq       INTEGER PRIMARY KEY,\n" /* 1, 2, 3… without gaps */
        "        at        INTEGER NOT NULL,\n"
        "        tbl       TEXT NOT NULL,\n"
        "        row_id    INTEGER NOT NULL,\n"
        "        op        TEXT NOT NULL CHECK (op IN\n"
        "                ('genesis', 'insert', 'update', 'retention', 'found-altered')),\n"
        "        data      TEXT NOT NULL,\n"
        "        data_hash TEXT NOT NULL,\n"
        "        prev_hash TEXT NOT NULL,\n"
        "        hash      TEXT NOT NULL\n"
        ");\n"
        "CREATE INDEX audit_row ON audit (tbl, row_id, seq);\n"
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
        "        BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;\n"
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
        "        BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;\n"
        "CREATE TABLE retention_guard (seq INTEGER NOT NULL);\n"
        "DROP TRIGGER runs_no_delete;\n"
        "CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes runs'); END;\n"
        "DROP TRIGGER step_attempts_no_delete;\n"
        "CREATE TRIGGER step_attempts_no_delete BEFORE DELETE ON step_attempts\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes step attempts'); END;\n"
        "DROP TRIGGER events_no_delete;\n"
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
        "DROP TRIGGER incidents_no_delete;\n"
        "CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'the journal never deletes incidents'); END;\n"
        "DROP TRIGGER incident_log_no_delete;\n"
        "CREATE TRIGGER incident_log_no_delete BEFORE DELETE ON incident_log\n"
        "        WHEN NOT EXISTS (SELECT 1 FROM retention_guard)\n"
        "        BEGIN SELECT RAISE(ABORT, 'the incident log is append-only'); END;\n",
};

_Static_assert(ELEMENTSOF(migrations) == JOURNAL_SCHEMA_VERSION,
               "one migration per schema version");

/* A migration's C step, run after its SQL in the same transaction; NULL = none. */
static int (*const migration_steps[])(Journal *j) = {
        [2] = audit_seed,
};

_Static_assert(ELEMENTSOF(migration_steps) == JOURNAL_SCHEMA_VERSION, "one entry per schema version");


#define RUN_COLUMNS                                                                                        \
        "r.id, r.playbook, r.playbook_path, r.playbook_sha256, r.kind, r.params_json, r.trigger, "        \
        "r.actor, r.mode, r.hostname, r.pid, r.pid_starttime, r.started, r.ended, r.outcome, r.error, "   \
        "(SELECT count(*) FROM step_attempts s WHERE s.run_id = r.id AND s.phase = 'forward'), "          \
        "(SELECT count(*) FROM step_attempts s WHERE s.run_id = r.id AND s.phase = 'forward' "            \
        "        AND s.outcome IN ('failed', 'error', 'timeout'))"

#define STEP_COLUMNS                                                                                       \
        "id, run_id, step_index, step_name, kind, phase, target, attempt, idempotent, detail, started, "  \
        "ended, duration, outcome, exit_status, http_status, stdout_text, stderr_text, error"

#define EVENT_COLUMNS "id, run_id, at, kind, message, data_json"

#define INCIDENT_COLUMNS "id, opened_at, site, subject, phenomenon, impact, state, level, drill, closed_at"
#define INCIDENT_LOG_COLUMNS \
        "id, incident_id, at, actor, kind, text, state_from, state_to, level_from, level_to, run_id"

static const char *const stmt_sql[_STMT_MAX] = {
        [STMT_INCIDENT_INSERT] = "INSERT INTO incidents (opened_at, site, subject, phenomenon, impact, state, "
                                 "level, drill) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [STMT_INCIDENT_UPDATE] = "UPDATE incidents SET state = ?, level = ?, impact = coalesce(?, impact), "
                                 "closed_at = ? WHERE id = ?",
        [STMT_INCIDENT_LOG_INSERT] = "INSERT INTO incident_log (incident_id, at, actor, kind, text, state_from, "
                                     "state_to, level_from, level_to, run_id) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [STMT_INCIDENTS_LIST] = "SELECT " INCIDENT_COLUMNS " FROM incidents ORDER BY opened_at DESC, id DESC",
        [STMT_INCIDENTS_LIST_OPEN] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE state <> 'closed' "
                                     "ORDER BY opened_at DESC, id DESC",
        [STMT_INCIDENT_GET] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?",
        [STMT_INCIDENT_LOG_LIST] = "SELECT " INCIDENT_LOG_COLUMNS " FROM incident_log WHERE incident_id = ? "
                                   "ORDER BY id",
        /* IMMEDIATE: take the write lock at BEGIN, where the busy timeout applies, rather
         * than at the first write, where SQLite may return SQLITE_BUSY at once. */
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        [STMT_SAVEPOINT] = "SAVEPOINT journal_internal",
        [STMT_RELEASE] = "RELEASE journal_internal",
        [STMT_ROLLBACK_TO] = "ROLLBACK TO journal_internal",
        [STMT_USER_VERSION] = "PRAGMA user_version",
        [STMT_RUN_INSERT] = "INSERT INTO runs (playbook, playbook_path, playbook_sha256, kind, params_json, "
                            "trigger, actor, mode, hostname, pid, pid_starttime, started, ended, outcome, "
                            "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'running', NULL)",
        [STMT_RUN_END] = "UPDATE runs SET outcome = ?, error = ?, ended = ? "
                         "WHERE id = ? AND outcome = 'running'",
        [STMT_RUN_OUTCOME] = "SELECT outcome FROM runs WHERE id = ?",
        [STMT_STEP_INSERT] = "INSERT INTO step_attempts (run_id, step_index, step_name, kind, phase, target, "
                             "attempt, idempotent, detail, started, ended, duration, outcome, exit_status, "
                             "http_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 'running', -1, 0)",
        [STMT_STEP_END] = "UPDATE step_attempts SET ended = ?, duration = ?, outcome = ?, exit_status = ?, "
                          "http_status = ?, stdout_text = ?, stderr_text = ?, error = ? "
                          "WHERE id = ? AND outcome = 'running'",
        [STMT_STEP_OUTCOME] = "SELECT outcome FROM step_attempts WHERE id = ?",
        [STMT_EVENT_INSERT] = "INSERT INTO events (run_id, at, kind, message, data_json) "
                              "VALUES (?, ?, ?, ?, ?)",
        [STMT_RUNS_LIST] = "SELECT " RUN_COLUMNS " FROM runs r ORDER BY r.started DESC, r.id DESC LIMIT ?",
        [STMT_RUN_GET] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.id = ?",
        [STMT_STEPS_LIST] = "SELECT " STEP_COLUMNS " FROM step_attempts WHERE run_id = ? "
                            "ORDER BY started, id",
        [STMT_EVENTS_LIST] = "SELECT " EVENT_COLUMNS " FROM events WHERE run_id = ? ORDER BY id",
        [STMT_EVENTS_LIST_ALL] = "SELECT " EVENT_COLUMNS " FROM events ORDER BY id",
        [STMT_RECOVER_CANDIDATES] = "SELECT id, pid, pid_starttime FROM runs "
                                    "WHERE outcome = 'running' AND hostname = ? ORDER BY id",
        [STMT_RECOVER_RUN] = "UPDATE runs SET outcome = 'interrupted', ended = ?, error = ? "
                             "WHERE id = ? AND outcome = 'running'",
        [STMT_RECOVER_STEPS] = "UPDATE step_attempts SET outcome = 'interrupted', error = ? "
                               "WHERE run_id = ? AND outcome = 'running'",
        [STMT_RECOVER_STEP_IDS] = "SELECT id FROM step_attempts WHERE run_id = ? AND outcome = 'running' "
                                  "ORDER BY id",
        [STMT_AUDIT_HEAD] = "SELECT seq, at, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [STMT_AUDIT_INSERT] = "INSERT INTO audit (seq, at, tbl, row_id, op, data, data_hash, prev_hash, hash) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [STMT_AUDIT_LATEST] = "SELECT seq, op, data, hash FROM audit WHERE tbl = ? AND row_id = ? "
                              "ORDER BY seq DESC LIMIT 1",
        /* SELECT *: the canonical encoding covers every column, also one added later. */
        [STMT_ROW_RUNS] = "SELECT * FROM runs WHERE id = ?",
        [STMT_ROW_STEP_ATTEMPTS] = "SELECT * FROM step_attempts WHERE id = ?",
        [STMT_ROW_EVENTS] = "SELECT * FROM events WHERE id = ?",
        [STMT_ROW_INCIDENTS] = "SELECT * FROM incidents WHERE id = ?",
        [STMT_ROW_INCIDENT_LOG] = "SELECT * FROM incident_log WHERE id = ?",
        [STMT_ROW_DRILL_RUNS] = "SELECT * FROM drill_runs WHERE id = ?",
        [STMT_ROW_DRILL_RUN_RUNS] = "SELECT * FROM drill_run_runs WHERE id = ?",
        [STMT_ROW_DRILL_REVIEWS] = "SELECT * FROM drill_reviews WHERE id = ?",
        [STMT_ROW_DRILL_EVALUATIONS] = "SELECT * FROM drill_evaluations WHERE id = ?",
        [STMT_ROW_DRILL_ACTIONS] = "SELECT * FROM drill_actions WHERE id = ?",
        [STMT_ROW_DRILL_ACTION_LOG] = "SELECT * FROM drill_action_log WHERE id = ?",
};

/* One pause of a wait for another process's write lock: 0.5–4 ms, jittered so that two
 * waiters do not poll in step. */
static void journal_busy_pause(unsigned *seed)
{
        (void) usleep(JOURNAL_BUSY_POLL_MIN_USEC +
                      rand_r(seed) % (JOURNAL_BUSY_POLL_MAX_USEC - JOURNAL_BUSY_POLL_MIN_USEC));
}

/*
 * The busy handler. SQLite's own (sqlite3_busy_timeout) sleeps up to 100 ms between
 * polls, so a process that keeps committing (each commit holding the lock through its
 * fsync) can starve a waiting one past any timeout on a slow disk: the waiter only ever
 * looks while the lock is taken again. Polling every few ms finds the gaps.
 */
static int journal_busy_handler(void *userdata, int count)
{
        Journal *j = userdata;
        usec_t now = now_usec(CLOCK_MONOTONIC);

        if (count == 0)
                j->busy_since = now;
        if (now - j->busy_since >= JOURNAL_BUSY_TIMEOUT_USEC)
                return 0; /* give up: the statement returns SQLITE_BUSY */
        journal_busy_pause(&j->busy_seed);
        return 1;
}

/*
 * sqlite3_step(), retried on SQLITE_BUSY that came back without the busy handler having
 * waited. In WAL mode SQLite returns that at once in a few windows, for instance while
 * another connection is opening the WAL index of a new file or, as the last one to close
 * it, checkpointing and removing the WAL (measured here: two processes and a loaded disk
 * made BEGIN IMMEDIATE and "PRAGMA journal_mode" fail within milliseconds). Retrying is
 * what SQLite allows outside an explicit transaction and for COMMIT; inside a
 * transaction the caller gets the error and rolls back.
 */
/* One more try of an immediate SQLITE_BUSY, for stmt_step() and journal_prepare(): false
 * once JOURNAL_BUSY_TIMEOUT_USEC has passed since the first (*deadline starts as
 * USEC_INFINITY); else resets s (when given) and pauses, and returns true. */
static bool journal_busy_retry(usec_t *deadline, unsigned *seed, sqlite3_stmt *s)
{
        if (*deadline == USEC_INFINITY)
                *deadline = usec_add(now_usec(CLOCK_MONOTONIC), JOURNAL_BUSY_TIMEOUT_USEC);
        else if (now_usec(CLOCK_MONOTONIC) >= *deadline)
                return false;
        if (s)
                (void) sqlite3_reset(s);
        journal_busy_pause(seed);
        return true;
}

int stmt_step(sqlite3_stmt *s)
{
        sqlite3 *db = sqlite3_db_handle(s);
        unsigned seed = (unsigned) (uintptr_t) s ^ (unsigned) getpid();
        usec_t deadline = USEC_INFINITY;
        int rc;

        for (;;) {
                rc = sqlite3_step(s);
                if ((rc & 0xff) != SQLITE_BUSY)
                        return rc;
                if (!sqlite3_get_autocommit(db) && strncmp(sqlite3_sql(s), "COMMIT", 6) != 0)
                        return rc;
                if (!journal_busy_retry(&deadline, &seed, s))
                        return rc;
        }
}

int stmt_select_row(sqlite3_stmt *s, int64_t id)
{
        int r, rc;

        r = bind_int64(s, 1, id);
        if (r < 0)
                return r;
        rc = stmt_step(s);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return errno_from_sqlite(rc);
        return 0;
}

int journal_select_row(Journal *j, Stmt id, int64_t row_id, sqlite3_stmt **ret)
{
        int r;

        r = journal_stmt(j, id, ret);
        if (r < 0)
                return r;
        return stmt_select_row(*ret, row_id);
}

/* SQLite result code → -errno. Extended codes are on, so look at both. */
int errno_from_sqlite(int rc)
{
        switch (rc) {
        case SQLITE_CONSTRAINT_TRIGGER:
                return -EPERM; /* the never-delete / append-only triggers */
        case SQLITE_IOERR_NOMEM:
                return -ENOMEM;
        }

        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
                return -EINVAL; /* a CHECK, NOT NULL or foreign key refused the caller's data */
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

const char *journal_errmsg(Journal *j)
{
        if (!j || !j->db)
                return "no journal";
        return sqlite3_errmsg(j->db);
}

/* sqlite3_prepare_v3(), retried like stmt_step(): preparing reads the schema, and that
 * read can meet the same immediate SQLITE_BUSY. */
int journal_prepare(Journal *j, const char *sql, unsigned flags, sqlite3_stmt **ret)
{
        usec_t deadline = USEC_INFINITY;
        int rc;

        for (;;) {
                rc = sqlite3_prepare_v3(j->db, sql, -1, flags, ret, NULL);
                if ((rc & 0xff) != SQLITE_BUSY || !sqlite3_get_autocommit(j->db))
                        return rc;
                if (!journal_busy_retry(&deadline, &j->busy_seed, NULL))
                        return rc;
        }
}

int journal_stmt(Journal *j, Stmt id, sqlite3_stmt **ret)
{
        int rc;

        if (!j->stmts[id]) {
                rc = journal_prepare(j, stmt_sql[id], SQLITE_PREPARE_PERSISTENT, &j->stmts[id]);
                if (rc != SQLITE_OK)
                        return errno_from_sqlite(rc);
        }
        *ret = j->stmts[id];
        return 0;
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
int stmt_exec(sqlite3_stmt *s)
{
        int rc;

        do
                rc = stmt_step(s);
        while (rc == SQLITE_ROW);
        if (rc != SQLITE_DONE)
                return errno_from_sqlite(sqlite3_reset(s) ?: rc);
        return 0;
}

int journal_exec_stmt(Journal *j, Stmt id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        r = journal_stmt(j, id, &s);
        if (r < 0)
                return r;
        return stmt_exec(s);
}

int bind_text(sqlite3_stmt *s, int idx, const char *text)
{
        int rc;

        if (text)
                rc = sqlite3_bind_text(s, idx, text, -1, SQLITE_STATIC);
        else
                rc = sqlite3_bind_null(s, idx);
        return errno_from_sqlite(rc);
}

int bind_int64(sqlite3_stmt *s, int idx, int64_t v)
{
        return errno_from_sqlite(sqlite3_bind_int64(s, idx, v));
}

/* usec_t is unsigned but every real value fits in an int64 (until the year 294247). */
int bind_usec(sqlite3_stmt *s, int idx, usec_t u)
{
        if (u > (usec_t) INT64_MAX)
                return -ERANGE;
        return bind_int64(s, idx, (int64_t) u);
}

int column_strdup(sqlite3_stmt *s, int col, char **ret)
{
        const unsigned char *t;

        if (sqlite3_column_type(s, col) == SQLITE_NULL) {
                *ret = NULL;
                return 0;
        }
        t = sqlite3_column_text(s, col);
        if (!t)
                return -ENOMEM; /* not NULL by type, so the conversion ran out of memory */
        *ret = strdup((const char *) t);
        return *ret ? 0 : -ENOMEM;
}

usec_t column_usec(sqlite3_stmt *s, int col)
{
        int64_t v = sqlite3_column_int64(s, col);
        return v < 0 ? 0 : (usec_t) v;
}

void run_record_done(RunRecord *r)
{
        if (!r)
                return;
        free(r->playbook);
        free(r->playbook_path);
        free(r->playbook_sha256);
        free(r->kind);
        free(r->params_json);
        free(r->trigger);
        free(r->actor);
        free(r->hostname);
        free(r->error);
        *r = (RunRecord) {};
}

void step_record_done(StepRecord *s)
{
        if (!s)
                return;
        free(s->step_name);
        free(s->kind);
        free(s->target);
        free(s->detail);
        free(s->stdout_text);
        free(s->stderr_text);
        free(s->error);
        *s = (StepRecord) {};
}

void event_record_done(EventRecord *e)
{
        if (!e)
                return;
        free(e->kind);
        free(e->message);
        free(e->data_json);
        *e = (EventRecord) {};
}

DEFINE_ARRAY_FREE_FUNC(run_record_free_array, RunRecord, run_record_done)
DEFINE_ARRAY_FREE_FUNC(step_record_free_array, StepRecord, step_record_done)
DEFINE_ARRAY_FREE_FUNC(event_record_free_array, EventRecord, event_record_done)

const char *journal_resolve_path(const char *explicit_path, const char *config_path)
{
        const char *e;

        if (explicit_path && *explicit_path)
                return explicit_path;
        e = getenv(JOURNAL_ENV);
        if (e && *e)
                return e;
        if (config_path && *config_path)
                return config_path;
        return JOURNAL_DEFAULT_PATH;
}

/* mkdir -p of the directory part of path, each created level 0750. */
static int mkdir_parents(const char *path)
{
        _cleanup_free_ char *dir = NULL;
        char *slash;

        dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0; /* relative name in the cwd, or a file in / */
        *slash = '\0';

        for (char *p = dir + 1;; p++) {
                bool last = *p == '\0';

                if (*p != '/' && !last)
                        continue;
                *p = '\0';
                if (mkdir(dir, JOURNAL_DIR_MODE) < 0 && errno != EEXIST)
                        return -errno;
                if (last)
                        break;
                *p = '/';
        }
        return 0;
}

/* SQLite would create the file 0644 (minus umask); the journal holds run details that are
 * not for every local user, so create it ourselves first. */
static int create_file(const char *path)
{
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, JOURNAL_FILE_MODE);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        if (fchmod(fd, JOURNAL_FILE_MODE) < 0)
                return -errno;
        return 1;
}

static int journal_read_user_version(Journal *j, int *ret)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = journal_stmt(j, STMT_USER_VERSION, &s);
        if (r < 0)
                return r;
        rc = stmt_step(s);
        if (rc != SQLITE_ROW)
                return errno_from_sqlite(rc) ?: -EIO;
        *ret = sqlite3_column_int(s, 0);
        return 0;
}

static int journal_migrate(Journal *j)
{
        int v, r;

        /* Cheap check without the write lock: the common case is "already current". */
        r = journal_read_user_version(j, &v);
        if (r < 0)
                return r;
        if (v > JOURNAL_SCHEMA_VERSION)
                return -EPROTONOSUPPORT;

        while (v < JOURNAL_SCHEMA_VERSION) {
                char sql[64];

                r = journal_exec_stmt(j, STMT_BEGIN);
                if (r < 0)
                        return r;

                /* Re-read under the write lock: another process may have migrated meanwhile. */
                r = journal_read_user_version(j, &v);
                if (r < 0)
                        goto rollback;
                if (v > JOURNAL_SCHEMA_VERSION) {
                        r = -EPROTONOSUPPORT;
                        goto rollback;
                }
                if (v < JOURNAL_SCHEMA_VERSION) {
                        r = errno_from_sqlite(sqlite3_exec(j->db, migrations[v], NULL, NULL, NULL));
                        if (r < 0)
                                goto rollback;
                        if (migration_steps[v]) {
                                r = migration_steps[v](j);
                                if (r < 0)
                                        goto rollback;
                        }
                        (void) snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
                        r = errno_from_sqlite(sqlite3_exec(j->db, sql, NULL, NULL, NULL));
                        if (r < 0)
                                goto rollback;
                        v++;
                }
                r = journal_exec_stmt(j, STMT_COMMIT);
                if (r < 0)
                        goto rollback;
        }
        return 0;

rollback:
        if (!sqlite3_get_autocommit(j->db))
                (void) journal_exec_stmt(j, STMT_ROLLBACK);
        return r;
}

/* Runs a pragma and returns its single text result (or NULL if it has none). */
static int journal_pragma(Journal *j, const char *sql, char *buf, size_t bufsz)
{
        sqlite3_stmt *s = NULL;
        int rc, r = 0;

        rc = journal_prepare(j, sql, 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        if (buf)
                *buf = '\0';
        while ((rc = stmt_step(s)) == SQLITE_ROW)
                if (buf && sqlite3_column_text(s, 0))
                        (void) snprintf(buf, bufsz, "%s", (const char *) sqlite3_column_text(s, 0));
        if (rc != SQLITE_DONE)
                r = errno_from_sqlite(rc);
        (void) sqlite3_finalize(s);
        return r;
}

Journal *journal_close(Journal *j)
{
        if (!j)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                (void) sqlite3_finalize(j->stmts[i]);
        /* An open explicit transaction is rolled back by SQLite on close. */
        (void) sqlite3_close_v2(j->db);
        free(j);
        return NULL;
}

int journal_open(const char *path, Journal **ret)
{
        _cleanup_(journal_closep) Journal *j = NULL;
        char mode[16];
        int r, rc;

        if (!path || !*path || !ret)
                return -EINVAL;

        r = mkdir_parents(path);
        if (r < 0)
                return r;
        r = create_file(path);
        if (r < 0)
                return r;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;

        rc = sqlite3_open_v2(path, &j->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                     SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                int e = sqlite3_system_errno(j->db);
                return e > 0 ? -e : errno_from_sqlite(rc);
        }
        (void) sqlite3_extended_result_codes(j->db, 1);

        /* First, so that everything below waits for a concurrent writer instead of failing. */
        j->busy_seed = (unsigned) getpid() ^ (unsigned) now_usec(CLOCK_MONOTONIC);
        rc = sqlite3_busy_handler(j->db, journal_busy_handler, j);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);

        /* Also the first read of the file: a non-database fails here with -EBADMSG. */
        r = journal_pragma(j, "PRAGMA journal_mode = WAL", mode, sizeof mode);
        if (r < 0)
                return r;
        if (strcasecmp(mode, "wal") != 0)
                return -EOPNOTSUPP; /* e.g. a file system without shared memory support */
        r = journal_pragma(j, "PRAGMA synchronous = FULL", NULL, 0);
        if (r < 0)
                return r;
        r = journal_pragma(j, "PRAGMA foreign_keys = ON", NULL, 0);
        if (r < 0)
                return r;

        r = journal_migrate(j);
        if (r < 0)
                return r;
        /* The drill tables have their own versioned schema step (journal-drill.c); run it
         * here so that they exist, and are covered by the audit chain, in every journal. */
        r = journal_drill_ensure_schema_on(j);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(j);
        return 0;
}

/*
 * Transactions. Whether the caller holds one is SQLite's own autocommit flag: it also
 * turns true when SQLite rolled back by itself after an error, so the flag never lies.
 * Functions that need several statements to be atomic use a savepoint inside the
 * caller's transaction, or a transaction of their own outside.
 */
int journal_begin(Journal *j)
{
        if (!j)
                return -EINVAL;
        if (!sqlite3_get_autocommit(j->db))
                return -EBUSY;
        return journal_exec_stmt(j, STMT_BEGIN);
}

int journal_commit(Journal *j)
{
        if (!j)
                return -EINVAL;
        if (sqlite3_get_autocommit(j->db))
                return -ENOTCONN; /* no transaction to commit (or SQLite already rolled it back) */
        /* On failure the transaction may still be open (then the caller retries or rolls
         * back) or SQLite may have rolled it back already (then rollback says -ENOTCONN). */
        return journal_exec_stmt(j, STMT_COMMIT);
}

int journal_rollback(Journal *j)
{
        if (!j)
                return -EINVAL;
        if (sqlite3_get_autocommit(j->db))
                return -ENOTCONN;
        return journal_exec_stmt(j, STMT_ROLLBACK);
}

int journal_atomic_begin(Journal *j, bool *ret_own)
{
        bool own = sqlite3_get_autocommit(j->db);
        int r;

        r = journal_exec_stmt(j, own ? STMT_BEGIN : STMT_SAVEPOINT);
        if (r < 0)
                return r;
        *ret_own = own;
        return 0;
}

int journal_atomic_end(Journal *j, bool own, int r)
{
        int q;

        if (r >= 0) {
                q = journal_exec_stmt(j, own ? STMT_COMMIT : STMT_RELEASE);
                if (q >= 0)
                        return r;
                r = q;
        }
        if (own) {
                if (!sqlite3_get_autocommit(j->db))
                        (void) journal_exec_stmt(j, STMT_ROLLBACK);
        } else if (!sqlite3_get_autocommit(j->db)) {
                (void) journal_exec_stmt(j, STMT_ROLLBACK_TO);
                (void) journal_exec_stmt(j, STMT_RELEASE);
        }
        return r;
}

/* /proc/PID/stat: the state letter (field 3) and the start time (field 22, clock ticks
 * after boot). The command name (field 2) may contain spaces and parentheses, so parse
 * from the last ')'. Returns -ENOENT/-ESRCH if there is no such process. */
static int proc_pid_stat(pid_t pid, char *ret_state, uint64_t *ret_starttime)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], buf[2048], *p, *end;
        unsigned long long starttime;
        size_t n;
        char state;

        if (pid <= 0)
                return -ESRCH;
        (void) snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof buf - 1, f);
        if (ferror(f))
                return errno > 0 ? -errno : -EIO;
        buf[n] = '\0';

        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p++;
        /* " S ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
         *  cutime cstime priority nice num_threads itrealvalue starttime": the state is
         * token 1 and starttime token 20 after ')'. */
        while (*p == ' ')
                p++;
        state = *p;
        if (!state)
                return -EBADMSG;
        for (unsigned i = 1; i < 20; i++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                while (*p == ' ')
                        p++;
        }
        if (!isdigit((unsigned char) *p))
                return -EBADMSG;
        errno = 0;
        starttime = strtoull(p, &end, 10);
        if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
                return -EBADMSG;

        if (ret_state)
                *ret_state = state;
        if (ret_starttime)
                *ret_starttime = (uint64_t) starttime;
        return 0;
}

static int get_hostname(char buf[static HOST_NAME_MAX + 1])
{
        if (gethostname(buf, HOST_NAME_MAX + 1) < 0)
                return -errno;
        buf[HOST_NAME_MAX] = '\0';
        return 0;
}

static int run_begin_one(Journal *j, const RunRecord *r, int64_t *ret_id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        char hostname[HOST_NAME_MAX + 1];
        uint64_t starttime;
        int q;

        if (!j || !r || !r->playbook)
                return -EINVAL;

        q = get_hostname(hostname);
        if (q < 0)
                return q;
        q = proc_pid_stat(getpid(), NULL, &starttime);
        if (q < 0)
                return q;
        if (starttime > (uint64_t) INT64_MAX)
                return -ERANGE;

        q = journal_stmt(j, STMT_RUN_INSERT, &s);
        if (q < 0)
                return q;
        if ((q = bind_text(s, 1, r->playbook)) < 0 || (q = bind_text(s, 2, r->playbook_path)) < 0 ||
            (q = bind_text(s, 3, r->playbook_sha256)) < 0 || (q = bind_text(s, 4, r->kind)) < 0 ||
            (q = bind_text(s, 5, r->params_json)) < 0 || (q = bind_text(s, 6, r->trigger)) < 0 ||
            (q = bind_text(s, 7, r->actor)) < 0 || (q = bind_text(s, 8, run_mode_to_string(r->mode))) < 0 ||
            (q = bind_text(s, 9, hostname)) < 0 || (q = bind_int64(s, 10, getpid())) < 0 ||
            (q = bind_int64(s, 11, (int64_t) starttime)) < 0 ||
            (q = bind_usec(s, 12, r->started ?: now_usec(CLOCK_REALTIME))) < 0)
                return q;
        q = stmt_exec(s);
        if (q < 0)
                return q;
        if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(j->db);
        return 0;
}

/* After an UPDATE … WHERE id = ? AND outcome = 'running' changed nothing: why? */
static int journal_explain_no_change(Journal *j, Stmt outcome_stmt, int64_t id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        r = journal_select_row(j, outcome_stmt, id, &s);
        if (r < 0)
                return r;
        return -EALREADY; /* already ended (or recovered as interrupted): never rewritten */
}

static int run_end_one(Journal *j, int64_t run_id, RunOutcome outcome, const char *error, usec_t ended)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !run_outcome_is_final(outcome))
                return -EINVAL;

        r = journal_stmt(j, STMT_RUN_END, &s);
        if (r < 0)
                return r;
        if ((r = bind_text(s, 1, run_outcome_to_string(outcome))) < 0 || (r = bind_text(s, 2, error)) < 0 ||
            (r = bind_usec(s, 3, ended ?: now_usec(CLOCK_REALTIME))) < 0 || (r = bind_int64(s, 4, run_id)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        if (sqlite3_changes(j->db) == 0)
                return journal_explain_no_change(j, STMT_RUN_OUTCOME, run_id);
        return 0;
}

static int step_begin_one(Journal *j, const StepRecord *st, int64_t *ret_id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !st || !st->step_name || !step_phase_to_string(st->phase))
                return -EINVAL;

        r = journal_stmt(j, STMT_STEP_INSERT, &s);
        if (r < 0)
                return r;
        if ((r = bind_int64(s, 1, st->run_id)) < 0 || (r = bind_int64(s, 2, st->step_index)) < 0 ||
            (r = bind_text(s, 3, st->step_name)) < 0 || (r = bind_text(s, 4, st->kind)) < 0 ||
            (r = bind_text(s, 5, step_phase_to_string(st->phase))) < 0 || (r = bind_text(s, 6, st->target)) < 0 ||
            (r = bind_int64(s, 7, st->attempt)) < 0 || (r = bind_int64(s, 8, st->idempotent ? 1 : 0)) < 0 ||
            (r = bind_text(s, 9, st->detail)) < 0 ||
            (r = bind_usec(s, 10, st->started ?: now_usec(CLOCK_REALTIME))) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(j->db);
        return 0;
}

static int step_end_one(Journal *j, const StepRecord *st)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !st || !step_outcome_is_final(st->outcome))
                return -EINVAL;

        r = journal_stmt(j, STMT_STEP_END, &s);
        if (r < 0)
                return r;
        if ((r = bind_usec(s, 1, st->ended ?: now_usec(CLOCK_REALTIME))) < 0 ||
            (r = bind_usec(s, 2, st->duration)) < 0 || (r = bind_text(s, 3, step_outcome_to_string(st->outcome))) < 0 ||
            (r = bind_int64(s, 4, st->exit_status)) < 0 || (r = bind_int64(s, 5, st->http_status)) < 0 ||
            (r = bind_text(s, 6, st->stdout_text)) < 0 || (r = bind_text(s, 7, st->stderr_text)) < 0 ||
            (r = bind_text(s, 8, st->error)) < 0 || (r = bind_int64(s, 9, st->id)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        if (sqlite3_changes(j->db) == 0)
                return journal_explain_no_change(j, STMT_STEP_OUTCOME, st->id);
        return 0;
}

static int event_one(Journal *j, int64_t run_id, usec_t at, const char *kind, const char *message,
                     const char *data_json, int64_t *ret_id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !kind)
                return -EINVAL;

        r = journal_stmt(j, STMT_EVENT_INSERT, &s);
        if (r < 0)
                return r;
        r = run_id > 0 ? bind_int64(s, 1, run_id) : errno_from_sqlite(sqlite3_bind_null(s, 1));
        if (r < 0)
                return r;
        if ((r = bind_usec(s, 2, at ?: now_usec(CLOCK_REALTIME))) < 0 || (r = bind_text(s, 3, kind)) < 0 ||
            (r = bind_text(s, 4, message)) < 0 || (r = bind_text(s, 5, data_json)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        *ret_id = sqlite3_last_insert_rowid(j->db);
        return 0;
}

/*
 * The public writes: each is the table write and its audit record, atomically (a
 * transaction of its own, or a savepoint inside the caller's batch). An insert's record
 * is appended after the row exists, an update's after the change: the record holds the
 * row as SQLite stored it, read back, so verify compares like with like.
 */
static int audited_end(Journal *j, bool own, int r, AuditTable t, int64_t id, const char *op)
{
        if (r >= 0)
                r = audit_append_row(j, t, id, op);
        return journal_atomic_end(j, own, r);
}

int journal_run_begin(Journal *j, const RunRecord *r, int64_t *ret_id)
{
        int64_t id = 0;
        bool own;
        int q;

        if (!j || !r || !r->playbook)
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = run_begin_one(j, r, &id);
        q = audited_end(j, own, q, AUDIT_TABLE_RUNS, id, "insert");
        if (q >= 0 && ret_id)
                *ret_id = id;
        return q;
}

int journal_run_end(Journal *j, int64_t run_id, RunOutcome outcome, const char *error, usec_t ended)
{
        bool own;
        int q;

        if (!j || !run_outcome_is_final(outcome))
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = audit_before_update(j, AUDIT_TABLE_RUNS, run_id);
        if (q >= 0)
                q = run_end_one(j, run_id, outcome, error, ended);
        return audited_end(j, own, q, AUDIT_TABLE_RUNS, run_id, "update");
}

int journal_step_begin(Journal *j, const StepRecord *st, int64_t *ret_id)
{
        int64_t id = 0;
        bool own;
        int q;

        if (!j || !st || !st->step_name || !step_phase_to_string(st->phase))
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = step_begin_one(j, st, &id);
        q = audited_end(j, own, q, AUDIT_TABLE_STEP_ATTEMPTS, id, "insert");
        if (q >= 0 && ret_id)
                *ret_id = id;
        return q;
}

int journal_step_end(Journal *j, const StepRecord *st)
{
        bool own;
        int q;

        if (!j || !st || !step_outcome_is_final(st->outcome))
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = audit_before_update(j, AUDIT_TABLE_STEP_ATTEMPTS, st->id);
        if (q >= 0)
                q = step_end_one(j, st);
        return audited_end(j, own, q, AUDIT_TABLE_STEP_ATTEMPTS, st->id, "update");
}

int journal_event(Journal *j, int64_t run_id, usec_t at, const char *kind, const char *message,
                  const char *data_json)
{
        int64_t id = 0;
        bool own;
        int q;

        if (!j || !kind)
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = event_one(j, run_id, at, kind, message, data_json, &id);
        return audited_end(j, own, q, AUDIT_TABLE_EVENTS, id, "insert");
}

typedef struct RecoverCandidate {
        int64_t id;
        pid_t pid;
} RecoverCandidate;

/* Whether the process that wrote a run on this host is gone. Returns 1 gone, 0 alive,
 * <0 cannot tell. A zombie is gone: it will never write again. */
static int owner_gone(pid_t pid, uint64_t recorded_starttime)
{
        uint64_t starttime;
        char state;
        int r;

        r = proc_pid_stat(pid, &state, &starttime);
        if (r == -ENOENT || r == -ESRCH)
                return 1;
        if (r < 0)
                return r;
        if (state == 'Z' || state == 'X' || state == 'x')
                return 1;
        return starttime != recorded_starttime; /* the PID was reused by another process */
}

static int journal_recover_collect(Journal *j, const char *hostname, RecoverCandidate **ret,
                                   size_t *ret_n)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        _cleanup_free_ RecoverCandidate *list = NULL;
        size_t n = 0, allocated = 0;
        int r, rc;

        r = journal_stmt(j, STMT_RECOVER_CANDIDATES, &s);
        if (r < 0)
                return r;
        r = bind_text(s, 1, hostname);
        if (r < 0)
                return r;
        while ((rc = stmt_step(s)) == SQLITE_ROW) {
                int64_t pid = sqlite3_column_int64(s, 1);
                int64_t st = sqlite3_column_int64(s, 2);

                /* A PID that cannot be one is certainly not a live owner. */
                if (pid > 0 && pid <= INT_MAX && owner_gone((pid_t) pid, (uint64_t) st) <= 0)
                        continue; /* alive, or cannot tell: leave it alone */

                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 8;
                        RecoverCandidate *nl = reallocarray(list, na, sizeof *nl);
                        if (!nl)
                                return -ENOMEM;
                        list = nl;
                        allocated = na;
                }
                list[n++] = (RecoverCandidate) {
                        .id = sqlite3_column_int64(s, 0),
                        .pid = (pid_t) pid,
                };
        }
        if (rc != SQLITE_DONE)
                return errno_from_sqlite(rc);

        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int journal_recover_one(Journal *j, const RecoverCandidate *c, usec_t now, unsigned *ret_steps)
{
        _cleanup_free_ int64_t *ids = NULL;
        char error[128], message[256], data[128];
        size_t n_ids = 0, allocated = 0;
        unsigned steps;
        int r, rc;

        {
                /* Which attempts the UPDATE below changes: each gets its audit record. */
                _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;

                r = journal_stmt(j, STMT_RECOVER_STEP_IDS, &s);
                if (r < 0)
                        return r;
                r = bind_int64(s, 1, c->id);
                if (r < 0)
                        return r;
                while ((rc = stmt_step(s)) == SQLITE_ROW) {
                        if (n_ids == allocated) {
                                size_t na = allocated ? allocated * 2 : 8;
                                int64_t *nl = reallocarray(ids, na, sizeof *nl);
                                if (!nl)
                                        return -ENOMEM;
                                ids = nl;
                                allocated = na;
                        }
                        ids[n_ids++] = sqlite3_column_int64(s, 0);
                }
                if (rc != SQLITE_DONE)
                        return errno_from_sqlite(rc);
        }

        for (size_t i = 0; i < n_ids; i++) {
                r = audit_before_update(j, AUDIT_TABLE_STEP_ATTEMPTS, ids[i]);
                if (r < 0)
                        return r;
        }
        r = audit_before_update(j, AUDIT_TABLE_RUNS, c->id);
        if (r < 0)
                return r;

        {
                _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;

                r = journal_stmt(j, STMT_RECOVER_STEPS, &s);
                if (r < 0)
                        return r;
                if ((r = bind_text(s, 1,
                                   "interrupted: the process died while this step was in flight; "
                                   "outcome unknown")) < 0 ||
                    (r = bind_int64(s, 2, c->id)) < 0)
                        return r;
                r = stmt_exec(s);
                if (r < 0)
                        return r;
                steps = (unsigned) sqlite3_changes(j->db);
        }
        for (size_t i = 0; i < n_ids; i++) {
                r = audit_append_row(j, AUDIT_TABLE_STEP_ATTEMPTS, ids[i], "update");
                if (r < 0)
                        return r;
        }

        {
                _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;

                (void) snprintf(error, sizeof error, "process %d exited while the run was in progress",
                                (int) c->pid);
                r = journal_stmt(j, STMT_RECOVER_RUN, &s);
                if (r < 0)
                        return r;
                if ((r = bind_usec(s, 1, now)) < 0 || (r = bind_text(s, 2, error)) < 0 ||
                    (r = bind_int64(s, 3, c->id)) < 0)
                        return r;
                r = stmt_exec(s);
                if (r < 0)
                        return r;
        }
        r = audit_append_row(j, AUDIT_TABLE_RUNS, c->id, "update");
        if (r < 0)
                return r;

        (void) snprintf(message, sizeof message,
                        "run %" PRIi64 " interrupted: process %d exited while the run was in progress; "
                        "%u step attempt(s) were in flight, outcome unknown",
                        c->id, (int) c->pid, steps);
        (void) snprintf(data, sizeof data, "{\"pid\":%d,\"steps_interrupted\":%u}", (int) c->pid, steps);
        r = journal_event(j, c->id, now, "run-interrupted", message, data);
        if (r < 0)
                return r;

        *ret_steps = steps;
        return 0;
}

int journal_recover(Journal *j, unsigned *ret_runs, unsigned *ret_steps)
{
        _cleanup_free_ RecoverCandidate *list = NULL;
        char hostname[HOST_NAME_MAX + 1];
        unsigned runs = 0, steps = 0;
        size_t n = 0;
        usec_t now;
        bool own;
        int r;

        if (!j)
                return -EINVAL;
        r = get_hostname(hostname);
        if (r < 0)
                return r;

        /* One transaction (write lock taken up front) for the scan and every update, so two
         * processes recovering at once cannot both mark the same run. */
        r = journal_atomic_begin(j, &own);
        if (r < 0)
                return r;

        r = journal_recover_collect(j, hostname, &list, &n);
        now = now_usec(CLOCK_REALTIME);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                unsigned k = 0;

                r = journal_recover_one(j, &list[i], now, &k);
                if (r >= 0) {
                        runs++;
                        steps += k;
                }
        }

        r = journal_atomic_end(j, own, r);
        if (r < 0)
                return r;
        if (ret_runs)
                *ret_runs = runs;
        if (ret_steps)
                *ret_steps = steps;
        return 0;
}

static int run_from_row(sqlite3_stmt *s, RunRecord *ret)
{
        _cleanup_(run_record_done) RunRecord r = {};
        int q;

        r.id = sqlite3_column_int64(s, 0);
        if ((q = column_strdup(s, 1, &r.playbook)) < 0 || (q = column_strdup(s, 2, &r.playbook_path)) < 0 ||
            (q = column_strdup(s, 3, &r.playbook_sha256)) < 0 || (q = column_strdup(s, 4, &r.kind)) < 0 ||
            (q = column_strdup(s, 5, &r.params_json)) < 0 || (q = column_strdup(s, 6, &r.trigger)) < 0 ||
            (q = column_strdup(s, 7, &r.actor)) < 0 || (q = column_strdup(s, 9, &r.hostname)) < 0 ||
            (q = column_strdup(s, 15, &r.error)) < 0)
                return q;
        /* A NULL mode (rows of the first schema) was a live run. */
        r.mode = sqlite3_column_type(s, 8) == SQLITE_NULL ? RUN_MODE_LIVE
                                                          : run_mode_from_string((const char *) sqlite3_column_text(s, 8));
        r.outcome = run_outcome_from_string((const char *) sqlite3_column_text(s, 14));
        if (r.mode < 0 || r.outcome < 0)
                return -EBADMSG; /* the schema's CHECK lists and outcome.c disagree */
        r.pid = (int) sqlite3_column_int64(s, 10);
        r.pid_starttime = (uint64_t) sqlite3_column_int64(s, 11);
        r.started = column_usec(s, 12);
        r.ended = column_usec(s, 13);
        r.n_steps = (unsigned) sqlite3_column_int64(s, 16);
        r.n_failed = (unsigned) sqlite3_column_int64(s, 17);

        *ret = r;
        r = (RunRecord) {};
        return 0;
}

static int step_from_row(sqlite3_stmt *s, StepRecord *ret)
{
        _cleanup_(step_record_done) StepRecord r = {};
        int q;

        r.id = sqlite3_column_int64(s, 0);
        r.run_id = sqlite3_column_int64(s, 1);
        r.step_index = sqlite3_column_int(s, 2);
        if ((q = column_strdup(s, 3, &r.step_name)) < 0 || (q = column_strdup(s, 4, &r.kind)) < 0 ||
            (q = column_strdup(s, 6, &r.target)) < 0 || (q = column_strdup(s, 9, &r.detail)) < 0 ||
            (q = column_strdup(s, 16, &r.stdout_text)) < 0 || (q = column_strdup(s, 17, &r.stderr_text)) < 0 ||
            (q = column_strdup(s, 18, &r.error)) < 0)
                return q;
        r.phase = step_phase_from_string((const char *) sqlite3_column_text(s, 5));
        r.outcome = step_outcome_from_string((const char *) sqlite3_column_text(s, 13));
        if (r.phase < 0 || r.outcome < 0)
                return -EBADMSG;
        r.attempt = (unsigned) sqlite3_column_int64(s, 7);
        r.idempotent = sqlite3_column_int(s, 8) != 0;
        r.started = column_usec(s, 10);
        r.ended = column_usec(s, 11);
        r.duration = column_usec(s, 12);
        r.exit_status = sqlite3_column_int(s, 14);
        r.http_status = (long) sqlite3_column_int64(s, 15);

        *ret = r;
        r = (StepRecord) {};
        return 0;
}

static int event_from_row(sqlite3_stmt *s, EventRecord *ret)
{
        _cleanup_(event_record_done) EventRecord r = {};
        int q;

        r.id = sqlite3_column_int64(s, 0);
        r.run_id = sqlite3_column_int64(s, 1); /* NULL reads as 0: "not tied to a run" */
        r.at = column_usec(s, 2);
        if ((q = column_strdup(s, 3, &r.kind)) < 0 || (q = column_strdup(s, 4, &r.message)) < 0 ||
            (q = column_strdup(s, 5, &r.data_json)) < 0)
                return q;

        *ret = r;
        r = (EventRecord) {};
        return 0;
}

/* Collects every row of s into an array of elsz-sized records through from_row;
 * done() frees one record if a later row fails. */
static int collect_rows(sqlite3_stmt *s, size_t elsz, int (*from_row)(sqlite3_stmt *, void *),
                        void (*done)(void *), void **ret, size_t *ret_n)
{
        char *list = NULL;
        size_t n = 0, allocated = 0;
        int r = 0, rc;

        while ((rc = stmt_step(s)) == SQLITE_ROW) {
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 16;
                        char *nl = reallocarray(list, na, elsz);
                        if (!nl) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        list = nl;
                        allocated = na;
                }
                r = from_row(s, list + n * elsz);
                if (r < 0)
                        goto fail;
                n++;
        }
        if (rc != SQLITE_DONE) {
                r = errno_from_sqlite(rc);
                goto fail;
        }

        *ret = list;
        *ret_n = n;
        return 0;

fail:
        for (size_t i = 0; i < n; i++)
                done(list + i * elsz);
        free(list);
        return r;
}

/* Adapters so that collect_rows() stays type-agnostic without casting function pointers. */
static int run_from_row_v(sqlite3_stmt *s, void *p)
{
        return run_from_row(s, p);
}
static void run_record_done_v(void *p)
{
        run_record_done(p);
}
static int step_from_row_v(sqlite3_stmt *s, void *p)
{
        return step_from_row(s, p);
}
static void step_record_done_v(void *p)
{
        step_record_done(p);
}
static int event_from_row_v(sqlite3_stmt *s, void *p)
{
        return event_from_row(s, p);
}
static void event_record_done_v(void *p)
{
        event_record_done(p);
}

/* The row with this id through a "... WHERE id = ?" statement; -ENOENT when absent. */
static int journal_get_by_id(Journal *j, Stmt id_stmt, int64_t id, int (*from_row)(sqlite3_stmt *, void *),
                             void *ret)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !ret)
                return -EINVAL;
        r = journal_select_row(j, id_stmt, id, &s);
        if (r < 0)
                return r;
        return from_row(s, ret);
}

/* Every row of a statement whose only parameter (if any) is an id; has_id = false for none. */
static int journal_list_rows(Journal *j, Stmt list_stmt, bool has_id, int64_t id, size_t elsz,
                             int (*from_row)(sqlite3_stmt *, void *), void (*done)(void *), void **ret,
                             size_t *ret_n)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !ret || !ret_n)
                return -EINVAL;
        r = journal_stmt(j, list_stmt, &s);
        if (r < 0)
                return r;
        if (has_id) {
                r = bind_int64(s, 1, id);
                if (r < 0)
                        return r;
        }
        return collect_rows(s, elsz, from_row, done, ret, ret_n);
}

int journal_list_runs(Journal *j, size_t limit, RunRecord **ret, size_t *ret_n)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        void *list;
        int r;

        if (!j || !ret || !ret_n)
                return -EINVAL;
        r = journal_stmt(j, STMT_RUNS_LIST, &s);
        if (r < 0)
                return r;
        /* limit 0 = all (a negative LIMIT means none in SQLite). */
        r = bind_int64(s, 1, limit == 0 || limit > INT64_MAX ? -1 : (int64_t) limit);
        if (r < 0)
                return r;
        r = collect_rows(s, sizeof(RunRecord), run_from_row_v, run_record_done_v, &list, ret_n);
        if (r < 0)
                return r;
        *ret = list;
        return 0;
}

int journal_get_run(Journal *j, int64_t id, RunRecord *ret)
{
        return journal_get_by_id(j, STMT_RUN_GET, id, run_from_row_v, ret);
}

int journal_list_steps(Journal *j, int64_t run_id, StepRecord **ret, size_t *ret_n)
{
        void *list;
        int r = journal_list_rows(j, STMT_STEPS_LIST, true, run_id, sizeof(StepRecord), step_from_row_v,
                                 step_record_done_v, &list, ret_n);

        if (r >= 0)
                *ret = list;
        return r;
}

int journal_list_events(Journal *j, int64_t run_id, EventRecord **ret, size_t *ret_n)
{
        void *list;
        int r = journal_list_rows(j, run_id > 0 ? STMT_EVENTS_LIST : STMT_EVENTS_LIST_ALL, run_id > 0, run_id,
                                 sizeof(EventRecord), event_from_row_v, event_record_done_v, &list, ret_n);

        if (r >= 0)
                *ret = list;
        return r;
}

/* ---------------------------------------------------------------- incidents */

void incident_record_done(IncidentRecord *r)
{
        if (!r)
                return;
        free(r->site);
        free(r->subject);
        free(r->phenomenon);
        free(r->impact);
        free(r->state);
        *r = (IncidentRecord) {};
}

void incident_log_record_done(IncidentLogRecord *r)
{
        if (!r)
                return;
        free(r->actor);
        free(r->kind);
        free(r->text);
        free(r->state_from);
        free(r->state_to);
        *r = (IncidentLogRecord) {};
}

DEFINE_ARRAY_FREE_FUNC(incident_record_free_array, IncidentRecord, incident_record_done)
DEFINE_ARRAY_FREE_FUNC(incident_log_record_free_array, IncidentLogRecord, incident_log_record_done)

static int bind_optional_int(sqlite3_stmt *s, int idx, int64_t v, bool present)
{
        return present ? bind_int64(s, idx, v) : errno_from_sqlite(sqlite3_bind_null(s, idx));
}

static int incident_open_one(Journal *j, const IncidentRecord *rec, int64_t *ret_id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !rec || !rec->subject || !rec->state || rec->level < 0 || rec->level > 4)
                return -EINVAL;
        r = journal_stmt(j, STMT_INCIDENT_INSERT, &s);
        if (r < 0)
                return r;
        if ((r = bind_usec(s, 1, rec->opened_at ?: now_usec(CLOCK_REALTIME))) < 0 ||
            (r = bind_text(s, 2, rec->site)) < 0 || (r = bind_text(s, 3, rec->subject)) < 0 ||
            (r = bind_text(s, 4, rec->phenomenon)) < 0 || (r = bind_text(s, 5, rec->impact)) < 0 ||
            (r = bind_text(s, 6, rec->state)) < 0 || (r = bind_int64(s, 7, rec->level)) < 0 ||
            (r = bind_int64(s, 8, rec->drill)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(j->db);
        return 0;
}

static int incident_update_one(Journal *j, int64_t id, const char *state, int level, const char *impact,
                               usec_t closed_at)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !state || level < 0 || level > 4)
                return -EINVAL;
        r = journal_stmt(j, STMT_INCIDENT_UPDATE, &s);
        if (r < 0)
                return r;
        if ((r = bind_text(s, 1, state)) < 0 || (r = bind_int64(s, 2, level)) < 0 ||
            (r = bind_text(s, 3, impact)) < 0 || (r = bind_usec(s, 4, closed_at)) < 0 ||
            (r = bind_int64(s, 5, id)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        return sqlite3_changes(j->db) == 0 ? -ENOENT : 0;
}

static int incident_log_one(Journal *j, const IncidentLogRecord *rec, int64_t *ret_id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r;

        if (!j || !rec || rec->incident_id <= 0 || !rec->actor || !rec->kind)
                return -EINVAL;
        r = journal_stmt(j, STMT_INCIDENT_LOG_INSERT, &s);
        if (r < 0)
                return r;
        if ((r = bind_int64(s, 1, rec->incident_id)) < 0 ||
            (r = bind_usec(s, 2, rec->at ?: now_usec(CLOCK_REALTIME))) < 0 ||
            (r = bind_text(s, 3, rec->actor)) < 0 || (r = bind_text(s, 4, rec->kind)) < 0 ||
            (r = bind_text(s, 5, rec->text)) < 0 || (r = bind_text(s, 6, rec->state_from)) < 0 ||
            (r = bind_text(s, 7, rec->state_to)) < 0 ||
            (r = bind_optional_int(s, 8, rec->level_from, rec->level_from >= 0)) < 0 ||
            (r = bind_optional_int(s, 9, rec->level_to, rec->level_to >= 0)) < 0 ||
            (r = bind_optional_int(s, 10, rec->run_id, rec->run_id > 0)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(j->db);
        return 0;
}

int journal_incident_open(Journal *j, const IncidentRecord *rec, int64_t *ret_id)
{
        int64_t id = 0;
        bool own;
        int q;

        if (!j || !rec || !rec->subject || !rec->state || rec->level < 0 || rec->level > 4)
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = incident_open_one(j, rec, &id);
        q = audited_end(j, own, q, AUDIT_TABLE_INCIDENTS, id, "insert");
        if (q >= 0 && ret_id)
                *ret_id = id;
        return q;
}

int journal_incident_update(Journal *j, int64_t id, const char *state, int level, const char *impact,
                            usec_t closed_at)
{
        bool own;
        int q;

        if (!j || !state || level < 0 || level > 4)
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = audit_before_update(j, AUDIT_TABLE_INCIDENTS, id);
        if (q >= 0)
                q = incident_update_one(j, id, state, level, impact, closed_at);
        return audited_end(j, own, q, AUDIT_TABLE_INCIDENTS, id, "update");
}

int journal_incident_log(Journal *j, const IncidentLogRecord *rec, int64_t *ret_id)
{
        int64_t id = 0;
        bool own;
        int q;

        if (!j || !rec || rec->incident_id <= 0 || !rec->actor || !rec->kind)
                return -EINVAL; /* at once, before taking the write lock */
        q = journal_atomic_begin(j, &own);
        if (q < 0)
                return q;
        q = incident_log_one(j, rec, &id);
        q = audited_end(j, own, q, AUDIT_TABLE_INCIDENT_LOG, id, "insert");
        if (q >= 0 && ret_id)
                *ret_id = id;
        return q;
}

static int incident_from_row(sqlite3_stmt *s, void *p)
{
        _cleanup_(incident_record_done) IncidentRecord r = {};
        int q;

        r.id = sqlite3_column_int64(s, 0);
        r.opened_at = column_usec(s, 1);
        if ((q = column_strdup(s, 2, &r.site)) < 0 || (q = column_strdup(s, 3, &r.subject)) < 0 ||
            (q = column_strdup(s, 4, &r.phenomenon)) < 0 || (q = column_strdup(s, 5, &r.impact)) < 0 ||
            (q = column_strdup(s, 6, &r.state)) < 0)
                return q;
        r.level = sqlite3_column_int(s, 7);
        r.drill = sqlite3_column_int(s, 8) != 0;
        r.closed_at = column_usec(s, 9);
        *(IncidentRecord *) p = r;
        r = (IncidentRecord) {};
        return 0;
}

static void incident_record_done_v(void *p)
{
        incident_record_done(p);
}

static int incident_log_from_row(sqlite3_stmt *s, void *p)
{
        _cleanup_(incident_log_record_done) IncidentLogRecord r = {};
        int q;

        r.id = sqlite3_column_int64(s, 0);
        r.incident_id = sqlite3_column_int64(s, 1);
        r.at = column_usec(s, 2);
        if ((q = column_strdup(s, 3, &r.actor)) < 0 || (q = column_strdup(s, 4, &r.kind)) < 0 ||
            (q = column_strdup(s, 5, &r.text)) < 0 || (q = column_strdup(s, 6, &r.state_from)) < 0 ||
            (q = column_strdup(s, 7, &r.state_to)) < 0)
                return q;
        r.level_from = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 8);
        r.level_to = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 9);
        r.run_id = sqlite3_column_int64(s, 10); /* NULL reads as 0 */
        *(IncidentLogRecord *) p = r;
        r = (IncidentLogRecord) {};
        return 0;
}

static void incident_log_record_done_v(void *p)
{
        incident_log_record_done(p);
}

int journal_list_incidents(Journal *j, bool open_only, IncidentRecord **ret, size_t *ret_n)
{
        void *list;
        int r = journal_list_rows(j, open_only ? STMT_INCIDENTS_LIST_OPEN : STMT_INCIDENTS_LIST, false, 0,
                                  sizeof(IncidentRecord), incident_from_row, incident_record_done_v, &list, ret_n);

        if (r >= 0)
                *ret = list;
        return r;
}

int journal_get_incident(Journal *j, int64_t id, IncidentRecord *ret)
{
        return journal_get_by_id(j, STMT_INCIDENT_GET, id, incident_from_row, ret);
}

int journal_list_incident_log(Journal *j, int64_t incident_id, IncidentLogRecord **ret, size_t *ret_n)
{
        void *list;
        int r = journal_list_rows(j, STMT_INCIDENT_LOG_LIST, true, incident_id, sizeof(IncidentLogRecord),
                                  incident_log_from_row, incident_log_record_done_v, &list, ret_n);

        if (r >= 0)
                *ret = list;
        return r;
}
