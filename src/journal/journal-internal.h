/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-internal.h — what the files of src/journal/ share, private to it.
 *
 * Owns: the Journal struct, the statement cache's ids, and the small SQLite helpers
 * (bind, step with busy retries, result code → -errno, savepoint-or-transaction).
 * Does not own: anything callers outside src/journal/ may use: they use journal.h.
 * Called by journal.c (open, transactions, run/step/event writes), journal-schema.c
 * (migrations), journal-sqlite.c (the SQLite helpers), journal-read.c (recovery,
 * queries), journal-incident.c (incidents), audit.c (the hash chain, verify,
 * retention) and journal-drill.c.
 */
#pragma once

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "journal/journal.h"
#include "shared/time-util.h"

/* Every statement is prepared once, on first use, and kept until journal_close(). */
typedef enum Stmt {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_SAVEPOINT,
        STMT_RELEASE,
        STMT_ROLLBACK_TO,
        STMT_USER_VERSION,
        STMT_RUN_INSERT,
        STMT_RUN_END,
        STMT_RUN_OUTCOME,
        STMT_STEP_INSERT,
        STMT_STEP_END,
        STMT_STEP_OUTCOME,
        STMT_EVENT_INSERT,
        STMT_RUNS_LIST,
        STMT_RUN_GET,
        STMT_STEPS_LIST,
        STMT_EVENTS_LIST,
        STMT_EVENTS_LIST_ALL,
        STMT_RECOVER_CANDIDATES,
        STMT_RECOVER_RUN,
        STMT_RECOVER_STEPS,
        STMT_RECOVER_STEP_IDS,
        STMT_INCIDENT_INSERT,
        STMT_INCIDENT_UPDATE,
        STMT_INCIDENT_LOG_INSERT,
        STMT_INCIDENTS_LIST,
        STMT_INCIDENTS_LIST_OPEN,
        STMT_INCIDENT_GET,
        STMT_INCIDENT_LOG_LIST,
        /* audit.c */
        STMT_AUDIT_HEAD,
        STMT_AUDIT_INSERT,
        STMT_AUDIT_LATEST,
        STMT_ROW_RUNS, /* one "SELECT * FROM <table> WHERE id = ?" per audited table, in */
        STMT_ROW_STEP_ATTEMPTS, /* the order of AuditTable */
        STMT_ROW_EVENTS,
        STMT_ROW_INCIDENTS,
        STMT_ROW_INCIDENT_LOG,
        STMT_ROW_DRILL_RUNS, /* journal-drill.c's tables */
        STMT_ROW_DRILL_RUN_RUNS,
        STMT_ROW_DRILL_REVIEWS,
        STMT_ROW_DRILL_EVALUATIONS,
        STMT_ROW_DRILL_ACTIONS,
        STMT_ROW_DRILL_ACTION_LOG,
        _STMT_MAX,
} Stmt;

struct Journal {
        sqlite3 *db;
        sqlite3_stmt *stmts[_STMT_MAX];
        usec_t busy_since; /* CLOCK_MONOTONIC of the first busy callback of this wait */
        unsigned busy_seed;
};

int journal_stmt(Journal *j, Stmt id, sqlite3_stmt **ret);
int journal_prepare(Journal *j, const char *sql, unsigned flags, sqlite3_stmt **ret);
int journal_exec_stmt(Journal *j, Stmt id);
int stmt_step(sqlite3_stmt *s);
/* Bind id to parameter 1 of s and step to its first row: 0 on a row (read it with
 * sqlite3_column_*()), -ENOENT when there is none, else -errno. The one "select one row
 * by id" of journal.c, audit.c and journal-drill.c. */
int stmt_select_row(sqlite3_stmt *s, int64_t id);
/* stmt_select_row() on cached statement id; *ret is set as soon as the statement is
 * ready, so the caller's _cleanup_stmt_reset_ resets it on every path. */
int journal_select_row(Journal *j, Stmt id, int64_t row_id, sqlite3_stmt **ret);
int stmt_exec(sqlite3_stmt *s);
int errno_from_sqlite(int rc);
int bind_text(sqlite3_stmt *s, int idx, const char *text);
int bind_int64(sqlite3_stmt *s, int idx, int64_t v);
int bind_usec(sqlite3_stmt *s, int idx, usec_t u);
int column_strdup(sqlite3_stmt *s, int col, char **ret);
usec_t column_usec(sqlite3_stmt *s, int col);
/* A transaction of our own (autocommit) or a savepoint inside the caller's; end commits
 * or releases when r >= 0, rolls back otherwise, and returns r (or the commit's error). */
int journal_atomic_begin(Journal *j, bool *ret_own);
int journal_atomic_end(Journal *j, bool own, int r);

/* Cleanup for a cached statement borrowed by a function: ready for the next user. */
static inline void stmt_resetp(sqlite3_stmt **s)
{
        if (*s) {
                (void) sqlite3_reset(*s);
                (void) sqlite3_clear_bindings(*s);
        }
}
#define _cleanup_stmt_reset_ _cleanup_(stmt_resetp)

/* ------------------------------------------------------------------ audit.c */

/* The tables whose every row is in the audit chain, in chain-seeding order. A table
 * added by a later migration is appended here (and to the STMT_ROW_* statements). */
typedef enum AuditTable {
        AUDIT_TABLE_RUNS,
        AUDIT_TABLE_STEP_ATTEMPTS,
        AUDIT_TABLE_EVENTS,
        AUDIT_TABLE_INCIDENTS,
        AUDIT_TABLE_INCIDENT_LOG,
        /* journal-drill.c's tables, created by its own schema step (journal_drill_ensure_schema(),
         * which journal_open() runs after the migrations, so they exist whenever a journal is open). */
        AUDIT_TABLE_DRILL_RUNS,
        AUDIT_TABLE_DRILL_RUN_RUNS,
        AUDIT_TABLE_DRILL_REVIEWS,
        AUDIT_TABLE_DRILL_EVALUATIONS,
        AUDIT_TABLE_DRILL_ACTIONS,
        AUDIT_TABLE_DRILL_ACTION_LOG,
        _AUDIT_TABLE_MAX,
        _AUDIT_TABLE_INVALID = -EINVAL,
} AuditTable;

const char *audit_table_to_string(AuditTable t) _pure_;
AuditTable audit_table_from_string(const char *s) _pure_;

/* Append the audit record of row row_id of table t as it is now (op "insert" or
 * "update"), inside the caller's transaction. */
int audit_append_row(Journal *j, AuditTable t, int64_t row_id, const char *op);
/* Before drover updates a row: if the row no longer equals its latest record (someone
 * changed it behind drover's back), append a 'found-altered' record holding it as found,
 * so that the update does not launder the change into the chain. 0 also when absent. */
int audit_before_update(Journal *j, AuditTable t, int64_t row_id);
/* Migration 2 → 3's C step: the 'genesis' records of every existing row (of the audited
 * tables that exist by then: the drill tables come later, empty). */
int audit_seed(Journal *j);

/* ------------------------------------------------------------------ journal*.c */

/* journal-schema.c: run the migrations up to JOURNAL_SCHEMA_VERSION. */
int journal_migrate(Journal *j);

/* journal-sqlite.c: the busy handler journal_open() installs. */
int journal_busy_handler(void *userdata, int count);

/* journal-read.c: the row with this id through a "... WHERE id = ?" statement
 * (-ENOENT when absent), and every row of a statement whose only parameter (if any) is
 * an id, through type-agnostic adapters; used by journal-incident.c too. */
int journal_get_by_id(Journal *j, Stmt id_stmt, int64_t id, int (*from_row)(sqlite3_stmt *, void *), void *ret);
int journal_list_rows(Journal *j, Stmt list_stmt, bool has_id, int64_t id, size_t elsz,
                      int (*from_row)(sqlite3_stmt *, void *), void (*done)(void *), void **ret, size_t *ret_n);

/* journal.c: a process's state letter and start time from /proc/PID/stat, this host's
 * name (both recorded with a run, and compared by recovery), and ending an audited
 * write (the audit record, then the transaction). */
int proc_pid_stat(pid_t pid, char *ret_state, uint64_t *ret_starttime);
int get_hostname(char buf[static HOST_NAME_MAX + 1]);
int audited_end(Journal *j, bool own, int r, AuditTable t, int64_t id, const char *op);
