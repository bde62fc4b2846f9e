/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-read.c — crash recovery and the read side of the journal: runs, steps
 * and events as records.
 *
 * Owns: finding runs whose writer on this host is gone and closing them (and their
 * steps) as interrupted; turning rows into records; the generic collect/get/list
 * helpers the incident queries use too. Called through journal.h; the helpers
 * through journal-internal.h.
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
int journal_get_by_id(Journal *j, Stmt id_stmt, int64_t id, int (*from_row)(sqlite3_stmt *, void *),
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
int journal_list_rows(Journal *j, Stmt list_stmt, bool has_id, int64_t id, size_t elsz,
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
