/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-schema.c — the journal's schema: the ordered migrations (SQL plus an
 * optional C step each) and running them at open.
 *
 * Owns: every CREATE/ALTER the journal has ever shipped, in order, and the rule that
 * each migration runs in its own BEGIN IMMEDIATE transaction with its
 * user_version. Never edit a released entry: append. Called by journal_open()
 * (journal.c) through journal-internal.h.
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

int journal_migrate(Journal *j)
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
