/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal.c — the SQLite journal behind journal.h.
 *
 * Owns: opening the file (parent directory 0750, file 0640), the pragmas (WAL,
 * synchronous=FULL, foreign keys, busy timeout), the schema and its ordered
 * migrations, the prepared-statement cache, transactions, crash recovery and the
 * queries. This file opens the journal, runs transactions and writes runs, steps and
 * events; the schema is in journal-schema.c, the SQLite helpers and statement cache
 * in journal-sqlite.c, recovery and queries in journal-read.c, incidents in
 * journal-incident.c (shared declarations: journal-internal.h). Does not own: logging (it returns -errno; journal_errmsg() gives
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

#define JOURNAL_DIR_MODE 0750
#define JOURNAL_FILE_MODE 0640

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
int proc_pid_stat(pid_t pid, char *ret_state, uint64_t *ret_starttime)
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

int get_hostname(char buf[static HOST_NAME_MAX + 1])
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
int audited_end(Journal *j, bool own, int r, AuditTable t, int64_t id, const char *op)
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
