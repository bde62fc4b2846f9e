/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-sqlite.c — the small SQLite layer under the journal: the statement
 * texts and their cache, stepping and preparing with busy retries, selecting one
 * row by id, result codes as -errno, binding and reading columns.
 *
 * Owns: the busy handler and the one busy-retry loop, the statement cache. Called
 * by journal.c, audit.c, journal-drill.c and the rest of src/journal/ through
 * journal-internal.h.
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
int journal_busy_handler(void *userdata, int count)
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
