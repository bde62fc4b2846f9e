/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-journal.c — the SQLite journal against real files in a private temporary
 * directory: schema and pragmas, round trips, ordering, batching, crash recovery
 * with a really killed child, and two processes writing one file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal/journal.h"

#include "journal-fixture.h"

static int setup_all(void **state)
{
        (void) umask(022); /* the mode assertions below assume the usual umask */
        return fixture_setup("test-journal");
}

static int teardown_all(void **state)
{
        return fixture_teardown("TEST_JOURNAL_KEEP");
}

static void raw_text(sqlite3 *db, const char *sql, char *buf, size_t sz)
{
        sqlite3_stmt *s = NULL;

        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        (void) snprintf(buf, sz, "%s", (const char *) sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
}

/* The test's own parse of /proc/PID/stat field 22, independent of journal.c's. */
static uint64_t proc_starttime(pid_t pid, char *ret_state)
{
        char path[64], buf[4096], *p;
        unsigned long long st = 0;
        char state = 0;
        FILE *f;
        size_t n;

        (void) snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        assert_non_null(f);
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        p = strrchr(buf, ')');
        assert_non_null(p);
        assert_int_equal(sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                                       "%*d %*d %llu",
                                &state, &st),
                         2);
        if (ret_state)
                *ret_state = state;
        return st;
}

static RunRecord sample_run(const char *name)
{
        return (RunRecord) {
                .playbook = (char *) name,
                .playbook_path = (char *) "/etc/drover/playbooks/failover.yaml",
                .playbook_sha256 = (char *) "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                .kind = (char *) "failover",
                .params_json = (char *) "{\"site\":\"backup\",\"password\":\"***\"}",
                .trigger = (char *) "manual",
                .actor = (char *) "alice",
                .mode = RUN_MODE_LIVE,
                .hostname = (char *) "ignored-filled-in-by-journal",
                .pid = 4,
                .started = 1700000000123456ULL,
                .outcome = RUN_ABORTED,
        };
}

static StepRecord sample_step(int64_t run_id, int idx, const char *name)
{
        return (StepRecord) {
                .run_id = run_id,
                .step_index = idx,
                .step_name = (char *) name,
                .kind = (char *) "ssh",
                .phase = STEP_PHASE_FORWARD,
                .target = (char *) "db1.backup",
                .attempt = 1,
                .idempotent = true,
                .detail = (char *) "pg_ctl promote -D /srv/pg",
                .started = 1700000001000000ULL + (usec_t) idx,
        };
}

static void test_create_reopen_modes(void **state)
{
        char path[PATH_MAX], dir[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("failover-db"), got = {};
        struct stat st;
        int64_t id = 0;

        db_path(path);
        /* The parent directory does not exist yet: journal_open() creates it. */
        assert_int_equal(journal_open(path, &j), 0);
        assert_non_null(j);
        assert_int_equal(journal_run_begin(j, &r, &id), 0);
        assert_true(id > 0);
        j = journal_close(j);
        assert_null(j);

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        (void) snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0750);

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_get_run(j, id, &got), 0);
        assert_string_equal(got.playbook, "failover-db");
        assert_int_equal(got.outcome, RUN_RUNNING);
        run_record_done(&got);
        assert_int_equal(journal_get_run(j, id + 1000, &got), -ENOENT);
}

static void test_schema_version_and_wal(void **state)
{
        char path[PATH_MAX], mode[32];
        Journal *j = NULL;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        journal_close(j);

        db = raw_open(path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
        assert_int_equal(JOURNAL_SCHEMA_VERSION, 3);
        raw_text(db, "PRAGMA journal_mode", mode, sizeof mode);
        assert_string_equal(mode, "wal");
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                     "('runs', 'step_attempts', 'events')"),
                         3);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                     "tbl_name = 'step_attempts' AND sql LIKE '%(run_id%'"),
                         1);
        sqlite3_close(db);

        /* Reopening an up-to-date file does not migrate again (it would fail: tables exist). */
        assert_int_equal(journal_open(path, &j), 0);
        journal_close(j);
}

/* The schema's CHECK lists are the one place SQL spells outcomes and phases: they must name
 * exactly what src/shared/outcome.c names, in any order, or a value one side accepts the
 * other refuses. Reads the CHECK clause of COLUMN from the table's CREATE statement. */
static void assert_check_list(sqlite3 *db, const char *table, const char *column, const char *(*name)(int),
                              int n)
{
        char sql[4096], q[256], pat[64];
        const char *at, *open, *close;
        int found = 0;

        (void) snprintf(q, sizeof q, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '%s'", table);
        raw_text(db, q, sql, sizeof sql);
        (void) snprintf(pat, sizeof pat, "CHECK (%s IN", column);
        at = strstr(sql, pat);
        assert_non_null(at);
        open = strchr(at + strlen(pat), '(');
        assert_non_null(open);
        close = strchr(open, ')');
        assert_non_null(close);
        for (const char *p = open; p < close; p++) {
                if (*p != '\'')
                        continue;
                const char *e = strchr(p + 1, '\'');
                assert_true(e && e < close);
                bool known = false;
                for (int i = 0; i < n; i++)
                        if (strlen(name(i)) == (size_t) (e - p - 1) && strncmp(name(i), p + 1, e - p - 1) == 0)
                                known = true;
                assert_true(known);
                found++;
                p = e;
        }
        assert_int_equal(found, n);
}

static const char *run_outcome_name(int i)
{
        return run_outcome_to_string((RunOutcome) i);
}
static const char *step_outcome_name(int i)
{
        return step_outcome_to_string((StepOutcome) i);
}
static const char *step_phase_name(int i)
{
        return step_phase_to_string((StepPhase) i);
}

static void test_schema_matches_vocabulary(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        journal_close(j);
        db = raw_open(path);
        assert_check_list(db, "runs", "outcome", run_outcome_name, _RUN_OUTCOME_MAX);
        assert_check_list(db, "step_attempts", "outcome", step_outcome_name, _STEP_OUTCOME_MAX);
        assert_check_list(db, "step_attempts", "phase", step_phase_name, _STEP_PHASE_MAX);
        assert_check_list(db, "drill_runs", "outcome", run_outcome_name, _RUN_OUTCOME_MAX);
        sqlite3_close(db);
}

static void test_future_version_refused(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL, *sentinel = (Journal *) 0x1;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        journal_close(j);

        db = raw_open(path);
        raw_exec(db, "PRAGMA user_version = 4"); /* JOURNAL_SCHEMA_VERSION + 1 */
        sqlite3_close(db);

        j = sentinel;
        assert_int_equal(journal_open(path, &j), -EPROTONOSUPPORT);
        assert_ptr_equal(j, sentinel); /* ret untouched on failure */
}

static void test_not_a_database(void **state)
{
        char path[PATH_MAX], dir[PATH_MAX];
        Journal *j = NULL;
        int fd;

        db_path(path);
        (void) snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir(dir, 0700), 0);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "this is not sqlite, just some text long enough to matter....", 60), 60);
        close(fd);
        assert_int_equal(journal_open(path, &j), -EBADMSG);
        assert_null(j);

        assert_int_equal(journal_open(NULL, &j), -EINVAL);
        assert_int_equal(journal_open("", &j), -EINVAL);
}

static void test_run_roundtrip(void **state)
{
        char path[PATH_MAX], host[HOST_NAME_MAX + 1] = {};
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("failover-db"), got = {};
        RunRecord minimal = { .playbook = (char *) "m" };
        int64_t id, id2;
        usec_t before;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(gethostname(host, sizeof host - 1), 0);

        assert_int_equal(journal_run_begin(j, &r, &id), 0);
        assert_int_equal(journal_get_run(j, id, &got), 0);
        assert_int_equal(got.id, id);
        assert_string_equal(got.playbook, r.playbook);
        assert_string_equal(got.playbook_path, r.playbook_path);
        assert_string_equal(got.playbook_sha256, r.playbook_sha256);
        assert_string_equal(got.kind, r.kind);
        assert_string_equal(got.params_json, r.params_json);
        assert_string_equal(got.trigger, r.trigger);
        assert_string_equal(got.actor, r.actor);
        assert_int_equal(got.mode, r.mode);
        assert_string_equal(got.hostname, host);
        assert_int_equal(got.pid, getpid());
        assert_int_equal(got.pid_starttime, proc_starttime(getpid(), NULL));
        assert_true(got.pid_starttime > 0);
        assert_int_equal(got.started, r.started);
        assert_int_equal(got.ended, 0);
        assert_int_equal(got.outcome, RUN_RUNNING);
        assert_null(got.error);
        assert_int_equal(got.n_steps, 0);
        assert_int_equal(got.n_failed, 0);
        run_record_done(&got);

        assert_int_equal(journal_run_end(j, id, RUN_FAILED, "step 3 (promote) failed: exit 1", 1700000009000000ULL),
                         0);
        assert_int_equal(journal_get_run(j, id, &got), 0);
        assert_int_equal(got.outcome, RUN_FAILED);
        assert_string_equal(got.error, "step 3 (promote) failed: exit 1");
        assert_int_equal(got.ended, 1700000009000000ULL);
        run_record_done(&got);

        /* Ended runs are never rewritten; unknown ids and bad outcomes are refused. */
        assert_int_equal(journal_run_end(j, id, RUN_SUCCEEDED, NULL, 0), -EALREADY);
        assert_int_equal(journal_run_end(j, id + 100, RUN_SUCCEEDED, NULL, 0), -ENOENT);

        /* NULLs stay NULL; started 0 means now. */
        before = now_usec(CLOCK_REALTIME);
        assert_int_equal(journal_run_begin(j, &minimal, &id2), 0);
        assert_int_equal(journal_run_end(j, id2, (RunOutcome) 42, NULL, 0), -EINVAL);
        assert_int_equal(journal_run_end(j, id2, RUN_RUNNING, NULL, 0), -EINVAL);
        assert_int_equal(journal_run_end(j, id2, RUN_SUCCEEDED, NULL, 0), 0);
        assert_int_equal(journal_get_run(j, id2, &got), 0);
        assert_string_equal(got.playbook, "m");
        assert_null(got.playbook_path);
        assert_null(got.playbook_sha256);
        assert_null(got.kind);
        assert_null(got.params_json);
        assert_null(got.trigger);
        assert_null(got.actor);
        assert_int_equal(got.mode, RUN_MODE_LIVE); /* no mode given: a live run */
        assert_null(got.error);
        assert_true(got.started >= before);
        assert_true(got.ended >= got.started);
        assert_int_equal(got.outcome, RUN_SUCCEEDED);
        run_record_done(&got);

        minimal.playbook = NULL;
        assert_int_equal(journal_run_begin(j, &minimal, &id2), -EINVAL);
}

static void test_step_roundtrip(void **state)
{
        char path[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("p");
        StepRecord s, bare, *steps = NULL;
        _cleanup_free_ char *big_out = NULL, *big_err = NULL;
        size_t n = 0, big = 64 * 1024;
        int64_t run_id, sid, sid2;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_run_begin(j, &r, &run_id), 0);

        big_out = malloc(big + 1);
        big_err = malloc(big + 1);
        assert_non_null(big_out);
        assert_non_null(big_err);
        for (size_t i = 0; i < big; i++) {
                big_out[i] = (char) ('a' + i % 26);
                big_err[i] = i % 80 == 79 ? '\n' : 'E';
        }
        big_out[big] = big_err[big] = 0;
        /* Some multi-byte UTF-8 and quotes, as masked command output really has. */
        memcpy(big_out, "Grüße 'x' \"y\" ✓", strlen("Grüße 'x' \"y\" ✓"));

        s = sample_step(run_id, 3, "promote");
        s.attempt = 2;
        s.outcome = STEP_OK; /* ignored by step_begin */
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        assert_true(sid > 0);

        assert_int_equal(journal_list_steps(j, run_id, &steps, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(steps[0].outcome, STEP_RUNNING);
        assert_int_equal(steps[0].ended, 0);
        assert_int_equal(steps[0].exit_status, -1);
        assert_int_equal(steps[0].http_status, 0);
        assert_null(steps[0].stdout_text);
        step_record_done(&steps[0]);
        free(steps);

        s.id = sid;
        s.ended = 1700000002000000ULL;
        s.duration = 987654;
        s.outcome = STEP_FAILED;
        s.exit_status = 3;
        s.http_status = 503;
        s.stdout_text = big_out;
        s.stderr_text = big_err;
        s.error = (char *) "exit status 3";
        assert_int_equal(journal_step_end(j, &s), 0);
        assert_int_equal(journal_step_end(j, &s), -EALREADY);

        /* A step with every optional text NULL, rollback phase, not idempotent. */
        bare = (StepRecord) { .run_id = run_id, .step_index = 0, .step_name = (char *) "undo",
                              .phase = STEP_PHASE_ROLLBACK, .attempt = 1, .started = 1700000003000000ULL };
        assert_int_equal(journal_step_begin(j, &bare, &sid2), 0);
        bare.id = sid2;
        bare.outcome = STEP_CANCELLED;
        bare.exit_status = -1;
        assert_int_equal(journal_step_end(j, &bare), 0);

        assert_int_equal(journal_list_steps(j, run_id, &steps, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(steps[0].id, sid);
        assert_int_equal(steps[0].run_id, run_id);
        assert_int_equal(steps[0].step_index, 3);
        assert_string_equal(steps[0].step_name, "promote");
        assert_string_equal(steps[0].kind, "ssh");
        assert_int_equal(steps[0].phase, STEP_PHASE_FORWARD);
        assert_string_equal(steps[0].target, "db1.backup");
        assert_int_equal(steps[0].attempt, 2);
        assert_true(steps[0].idempotent);
        assert_string_equal(steps[0].detail, "pg_ctl promote -D /srv/pg");
        assert_int_equal(steps[0].started, s.started);
        assert_int_equal(steps[0].ended, 1700000002000000ULL);
        assert_int_equal(steps[0].duration, 987654);
        assert_int_equal(steps[0].outcome, STEP_FAILED);
        assert_int_equal(steps[0].exit_status, 3);
        assert_int_equal(steps[0].http_status, 503);
        assert_int_equal(strlen(steps[0].stdout_text), big);
        assert_string_equal(steps[0].stdout_text, big_out);
        assert_string_equal(steps[0].stderr_text, big_err);
        assert_string_equal(steps[0].error, "exit status 3");

        assert_int_equal(steps[1].id, sid2);
        assert_string_equal(steps[1].step_name, "undo");
        assert_null(steps[1].kind);
        assert_int_equal(steps[1].phase, STEP_PHASE_ROLLBACK);
        assert_null(steps[1].target);
        assert_false(steps[1].idempotent);
        assert_null(steps[1].detail);
        assert_int_equal(steps[1].outcome, STEP_CANCELLED);
        assert_int_equal(steps[1].exit_status, -1);
        assert_null(steps[1].stdout_text);
        assert_null(steps[1].stderr_text);
        assert_null(steps[1].error);
        assert_true(steps[1].ended > 0); /* 0 = now */
        for (size_t i = 0; i < n; i++)
                step_record_done(&steps[i]);
        free(steps);

        /* Refusals: unknown run (foreign key), bad phase, missing name, unknown id. */
        s = sample_step(run_id + 1000, 0, "x");
        assert_int_equal(journal_step_begin(j, &s, &sid2), -EINVAL);
        s = sample_step(run_id, 0, "x");
        s.phase = (StepPhase) 7;
        assert_int_equal(journal_step_begin(j, &s, &sid2), -EINVAL);
        s.phase = _STEP_PHASE_INVALID;
        assert_int_equal(journal_step_begin(j, &s, &sid2), -EINVAL);
        s = sample_step(run_id, 0, NULL);
        assert_int_equal(journal_step_begin(j, &s, &sid2), -EINVAL);
        s = (StepRecord) { .id = sid + 1000, .outcome = STEP_OK };
        assert_int_equal(journal_step_end(j, &s), -ENOENT);
        s.id = sid;
        s.outcome = (StepOutcome) 42; /* not an outcome: refused before the journal looks at the row */
        assert_int_equal(journal_step_end(j, &s), -EINVAL);
        s.outcome = STEP_FAILED;
        assert_int_equal(journal_step_end(j, &s), -EALREADY); /* ended once, never rewritten */
}

static void test_event_roundtrip_and_append_only(void **state)
{
        char path[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("p");
        EventRecord *ev = NULL;
        size_t n = 0;
        int64_t run_id;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_run_begin(j, &r, &run_id), 0);

        assert_int_equal(journal_event(j, 0, 1700000000000001ULL, "daemon-start", "droverd started", NULL), 0);
        assert_int_equal(journal_event(j, run_id, 1700000000000002ULL, "approval", "approved by bob",
                                       "{\"actor\":\"bob\"}"),
                         0);
        assert_int_equal(journal_event(j, run_id, 1700000000000000ULL, "note", NULL, NULL), 0);
        assert_int_equal(journal_event(j, run_id + 99, 0, "x", "y", NULL), -EINVAL); /* no such run */
        assert_int_equal(journal_event(j, run_id, 0, NULL, "y", NULL), -EINVAL);

        assert_int_equal(journal_list_events(j, run_id, &ev, &n), 0);
        assert_int_equal(n, 2);
        /* Ordered by id (insertion), not by at. */
        assert_string_equal(ev[0].kind, "approval");
        assert_int_equal(ev[0].run_id, run_id);
        assert_int_equal(ev[0].at, 1700000000000002ULL);
        assert_string_equal(ev[0].message, "approved by bob");
        assert_string_equal(ev[0].data_json, "{\"actor\":\"bob\"}");
        assert_string_equal(ev[1].kind, "note");
        assert_null(ev[1].message);
        assert_null(ev[1].data_json);
        assert_true(ev[0].id < ev[1].id);
        for (size_t i = 0; i < n; i++)
                event_record_done(&ev[i]);
        free(ev);

        assert_int_equal(journal_list_events(j, 0, &ev, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(ev[0].kind, "daemon-start");
        assert_int_equal(ev[0].run_id, 0);
        assert_null(ev[0].data_json);
        for (size_t i = 0; i < n; i++)
                event_record_done(&ev[i]);
        free(ev);

        /* Nothing is deleted, events are never changed — not even by raw SQL. */
        db = raw_open(path);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET message = 'forged'", NULL, NULL, NULL),
                             SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM runs", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM events"), 3);
        sqlite3_close(db);
}

static void end_step(Journal *j, int64_t id, StepOutcome outcome)
{
        StepRecord s = { .id = id, .outcome = outcome, .exit_status = 0 };
        assert_int_equal(journal_step_end(j, &s), 0);
}

static void test_list_ordering_and_counts(void **state)
{
        char path[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("a"), *runs = NULL;
        StepRecord s, *steps = NULL;
        int64_t ra, rb, rc, rd, sid;
        size_t n = 0;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);

        assert_int_equal(journal_list_runs(j, 0, &runs, &n), 0);
        assert_int_equal(n, 0);
        free(runs);

        r.started = 2000;
        assert_int_equal(journal_run_begin(j, &r, &ra), 0);
        r.playbook = (char *) "b";
        r.started = 3000;
        assert_int_equal(journal_run_begin(j, &r, &rb), 0);
        r.playbook = (char *) "c";
        r.started = 1000;
        assert_int_equal(journal_run_begin(j, &r, &rc), 0);
        r.playbook = (char *) "d"; /* same started as b, later id: listed before b */
        r.started = 3000;
        assert_int_equal(journal_run_begin(j, &r, &rd), 0);

        /* Run b: forward attempts ok, failed, timeout, error, running; plus rollback failed. */
        s = sample_step(rb, 0, "s0");
        s.started = 50;
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        end_step(j, sid, STEP_OK);
        s.step_index = 1, s.started = 40;
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        end_step(j, sid, STEP_FAILED);
        s.attempt = 2, s.started = 40; /* same started: id order */
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        end_step(j, sid, STEP_TIMEOUT);
        s.attempt = 3, s.started = 60;
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        end_step(j, sid, STEP_ERROR);
        s.step_index = 2, s.attempt = 1, s.started = 70;
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        s.phase = STEP_PHASE_ROLLBACK, s.step_index = 1, s.started = 80;
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        end_step(j, sid, STEP_FAILED);

        assert_int_equal(journal_list_runs(j, 0, &runs, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(runs[0].id, rd);
        assert_int_equal(runs[1].id, rb);
        assert_int_equal(runs[2].id, ra);
        assert_int_equal(runs[3].id, rc);
        assert_int_equal(runs[1].n_steps, 5);
        assert_int_equal(runs[1].n_failed, 3);
        assert_int_equal(runs[0].n_steps, 0);
        assert_int_equal(runs[0].n_failed, 0);
        for (size_t i = 0; i < n; i++)
                run_record_done(&runs[i]);
        free(runs);

        assert_int_equal(journal_list_runs(j, 2, &runs, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(runs[0].id, rd);
        assert_int_equal(runs[1].id, rb);
        for (size_t i = 0; i < n; i++)
                run_record_done(&runs[i]);
        free(runs);

        assert_int_equal(journal_list_steps(j, rb, &steps, &n), 0);
        assert_int_equal(n, 6);
        /* started 40 (attempt 1), 40 (attempt 2, later id), 50, 60, 70, 80 */
        assert_int_equal(steps[0].started, 40);
        assert_int_equal(steps[0].attempt, 1);
        assert_int_equal(steps[1].started, 40);
        assert_int_equal(steps[1].attempt, 2);
        assert_true(steps[0].id < steps[1].id);
        assert_string_equal(steps[2].step_name, "s0");
        assert_int_equal(steps[3].started, 60);
        assert_int_equal(steps[4].outcome, STEP_RUNNING);
        assert_int_equal(steps[5].phase, STEP_PHASE_ROLLBACK);
        for (size_t i = 0; i < n; i++)
                step_record_done(&steps[i]);
        free(steps);

        assert_int_equal(journal_list_steps(j, ra, &steps, &n), 0);
        assert_int_equal(n, 0);
        free(steps);
}

static int64_t count_steps(const char *path)
{
        sqlite3 *db = raw_open(path);
        int64_t v = raw_int(db, "SELECT count(*) FROM step_attempts");
        sqlite3_close(db);
        return v;
}

static void test_batching(void **state)
{
        char path[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("p");
        StepRecord s;
        int64_t run_id, sid;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_commit(j), -ENOTCONN);
        assert_int_equal(journal_rollback(j), -ENOTCONN);

        /* Outside a transaction every write is committed at once: another connection sees it. */
        assert_int_equal(journal_run_begin(j, &r, &run_id), 0);
        s = sample_step(run_id, 0, "first");
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        assert_int_equal(count_steps(path), 1);

        assert_int_equal(journal_begin(j), 0);
        assert_int_equal(journal_begin(j), -EBUSY);
        for (int i = 1; i <= 50; i++) {
                s = sample_step(run_id, i, "batched");
                assert_int_equal(journal_step_begin(j, &s, &sid), 0);
                end_step(j, sid, STEP_OK);
        }
        /* Not visible to others before commit. */
        assert_int_equal(count_steps(path), 1);
        assert_int_equal(journal_commit(j), 0);
        assert_int_equal(count_steps(path), 51);

        assert_int_equal(journal_begin(j), 0);
        for (int i = 0; i < 10; i++) {
                s = sample_step(run_id, 100 + i, "discarded");
                assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        }
        assert_int_equal(journal_event(j, run_id, 0, "discarded", "x", NULL), 0);
        assert_int_equal(journal_rollback(j), 0);
        assert_int_equal(count_steps(path), 51);

        /* A failed write inside a batch does not end the batch. */
        assert_int_equal(journal_begin(j), 0);
        s = sample_step(run_id, 200, "kept");
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        s.phase = (StepPhase) 7;
        assert_int_equal(journal_step_begin(j, &s, &sid), -EINVAL);
        assert_int_equal(journal_commit(j), 0);
        assert_int_equal(count_steps(path), 52);

        /* Recovery inside a caller's batch is part of it. */
        assert_int_equal(journal_begin(j), 0);
        assert_int_equal(journal_recover(j, NULL, NULL), 0);
        assert_int_equal(journal_rollback(j), 0);
}

/* Child: begin a run and two steps, end one, die without ending the rest. */
_noreturn_ static void child_crash(const char *path, bool use_sigkill)
{
        Journal *j = NULL;
        RunRecord r = sample_run("crashing");
        StepRecord s;
        int64_t run_id, s1, s2;

        if (journal_open(path, &j) < 0 || journal_run_begin(j, &r, &run_id) < 0)
                _exit(10);
        s = sample_step(run_id, 0, "finished");
        if (journal_step_begin(j, &s, &s1) < 0)
                _exit(11);
        s = sample_step(run_id, 1, "in-flight");
        if (journal_step_begin(j, &s, &s2) < 0)
                _exit(12);
        s = (StepRecord) { .id = s1, .outcome = STEP_OK, .exit_status = 0 };
        if (journal_step_end(j, &s) < 0)
                _exit(13);
        if (use_sigkill)
                raise(SIGKILL);
        /* The orderly variant: the process exits without ending its run or second step.
         * Closing the connection first keeps leak checkers (valgrind) from changing the exit
         * status; on disk it makes no difference, every write above is already committed. */
        journal_close(j);
        _exit(0);
}

static void check_crash_recovery(bool use_sigkill)
{
        char path[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord *runs = NULL;
        StepRecord *steps = NULL;
        EventRecord *ev = NULL;
        unsigned nr = 99, ns = 99;
        char expect[128];
        size_t n = 0;
        pid_t pid;
        int status;

        db_path(path);
        /* Create the file first, so the child and the parent agree on it. */
        assert_int_equal(journal_open(path, &j), 0);
        j = journal_close(j);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                child_crash(path, use_sigkill);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (use_sigkill) {
                assert_true(WIFSIGNALED(status));
                assert_int_equal(WTERMSIG(status), SIGKILL);
        } else {
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_list_runs(j, 0, &runs, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(runs[0].outcome, RUN_RUNNING);
        assert_int_equal(runs[0].pid, pid);
        run_record_done(&runs[0]);
        free(runs);

        assert_int_equal(journal_recover(j, &nr, &ns), 0);
        assert_int_equal(nr, 1);
        assert_int_equal(ns, 1);

        assert_int_equal(journal_list_runs(j, 0, &runs, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(runs[0].outcome, RUN_INTERRUPTED);
        (void) snprintf(expect, sizeof expect, "process %d exited while the run was in progress", (int) pid);
        assert_string_equal(runs[0].error, expect);
        assert_true(runs[0].ended > 0);

        assert_int_equal(journal_list_steps(j, runs[0].id, &steps, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(steps[0].step_name, "finished");
        assert_int_equal(steps[0].outcome, STEP_OK);
        assert_null(steps[0].error);
        assert_string_equal(steps[1].step_name, "in-flight");
        assert_int_equal(steps[1].outcome, STEP_INTERRUPTED);
        assert_string_equal(steps[1].error,
                            "interrupted: the process died while this step was in flight; outcome unknown");
        for (size_t i = 0; i < n; i++)
                step_record_done(&steps[i]);
        free(steps);

        assert_int_equal(journal_list_events(j, runs[0].id, &ev, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(ev[0].kind, "run-interrupted");
        assert_non_null(strstr(ev[0].message, "1 step attempt(s)"));
        (void) snprintf(expect, sizeof expect, "{\"pid\":%d,", (int) pid);
        assert_non_null(strstr(ev[0].data_json, expect));
        assert_non_null(strstr(ev[0].data_json, "\"steps_interrupted\":1"));
        event_record_done(&ev[0]);
        free(ev);
        run_record_done(&runs[0]);
        free(runs);

        /* Idempotent: nothing left to recover, and the ended run cannot be rewritten. */
        assert_int_equal(journal_recover(j, &nr, &ns), 0);
        assert_int_equal(nr, 0);
        assert_int_equal(ns, 0);
}

static void test_recover_after_sigkill(void **state)
{
        check_crash_recovery(true);
}

static void test_recover_after_exit(void **state)
{
        check_crash_recovery(false);
}

static void test_recover_judges_owner(void **state)
{
        char path[PATH_MAX], sql[256];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("p"), got = {};
        StepRecord s;
        int64_t live, foreign, reused_parent, reused_self, sid;
        unsigned nr = 0, ns = 0;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);

        assert_int_equal(journal_run_begin(j, &r, &live), 0);
        s = sample_step(live, 0, "live-step");
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        assert_int_equal(journal_run_begin(j, &r, &foreign), 0);
        s = sample_step(foreign, 0, "foreign-step");
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        assert_int_equal(journal_run_begin(j, &r, &reused_parent), 0);
        s = sample_step(reused_parent, 0, "reused-step");
        assert_int_equal(journal_step_begin(j, &s, &sid), 0);
        assert_int_equal(journal_run_begin(j, &r, &reused_self), 0);

        db = raw_open(path);
        /* Another machine's run, whose PID does not exist here: cannot judge, leave it. */
        (void) snprintf(sql, sizeof sql,
                        "UPDATE runs SET hostname = 'other-host.invalid', pid = 2147483000 WHERE id = %lld",
                        (long long) foreign);
        raw_exec(db, sql);
        /* Existing PIDs (our parent, ourselves) but another start time: the PID was reused. */
        (void) snprintf(sql, sizeof sql, "UPDATE runs SET pid = %d, pid_starttime = pid_starttime + 12345 "
                        "WHERE id = %lld", (int) getppid(), (long long) reused_parent);
        raw_exec(db, sql);
        (void) snprintf(sql, sizeof sql, "UPDATE runs SET pid_starttime = pid_starttime + 1 WHERE id = %lld",
                        (long long) reused_self);
        raw_exec(db, sql);
        sqlite3_close(db);

        assert_int_equal(journal_recover(j, &nr, &ns), 0);
        assert_int_equal(nr, 2);
        assert_int_equal(ns, 1);

        assert_int_equal(journal_get_run(j, live, &got), 0);
        assert_int_equal(got.outcome, RUN_RUNNING);
        assert_null(got.error);
        run_record_done(&got);
        assert_int_equal(journal_get_run(j, foreign, &got), 0);
        assert_int_equal(got.outcome, RUN_RUNNING);
        run_record_done(&got);
        assert_int_equal(journal_get_run(j, reused_parent, &got), 0);
        assert_int_equal(got.outcome, RUN_INTERRUPTED);
        assert_int_equal(got.n_steps, 1);
        run_record_done(&got);
        assert_int_equal(journal_get_run(j, reused_self, &got), 0);
        assert_int_equal(got.outcome, RUN_INTERRUPTED);
        run_record_done(&got);

        /* The live run's step is untouched and can still be ended by its owner. */
        assert_int_equal(journal_run_end(j, live, RUN_SUCCEEDED, NULL, 0), 0);
        assert_int_equal(journal_run_end(j, reused_parent, RUN_SUCCEEDED, NULL, 0), -EALREADY);
}

static void test_recover_zombie(void **state)
{
        char path[PATH_MAX], sql[256], st = 0;
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord r = sample_run("p"), got = {};
        unsigned nr = 0, ns = 0;
        uint64_t starttime;
        int64_t id;
        pid_t pid;
        sqlite3 *db;
        int status;

        db_path(path);
        pid = fork(); /* before journal_open(): the child must not inherit a connection */
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(0);
        assert_int_equal(journal_open(path, &j), 0);
        /* Not reaped yet: wait (by polling, no time limit asserted) until it is a zombie. */
        for (;;) {
                starttime = proc_starttime(pid, &st);
                if (st == 'Z')
                        break;
                usleep(1000);
        }

        assert_int_equal(journal_run_begin(j, &r, &id), 0);
        db = raw_open(path);
        (void) snprintf(sql, sizeof sql, "UPDATE runs SET pid = %d, pid_starttime = %llu WHERE id = %lld",
                        (int) pid, (unsigned long long) starttime, (long long) id);
        raw_exec(db, sql);
        sqlite3_close(db);

        assert_int_equal(journal_recover(j, &nr, &ns), 0);
        assert_int_equal(nr, 1);
        assert_int_equal(ns, 0);
        assert_int_equal(journal_get_run(j, id, &got), 0);
        assert_int_equal(got.outcome, RUN_INTERRUPTED);
        run_record_done(&got);

        assert_int_equal(waitpid(pid, &status, 0), pid);
}

#define WRITER_ROUNDS 60

static void writer(const char *path, const char *name)
{
        Journal *j = NULL;
        RunRecord r = sample_run(name);
        StepRecord s;
        int64_t run_id, sid;

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_run_begin(j, &r, &run_id), 0);
        for (int i = 0; i < WRITER_ROUNDS; i++) {
                s = sample_step(run_id, i, name);
                assert_int_equal(journal_step_begin(j, &s, &sid), 0);
                s.id = sid;
                s.outcome = STEP_OK;
                assert_int_equal(journal_step_end(j, &s), 0);
                assert_int_equal(journal_event(j, run_id, 0, "tick", name, NULL), 0);
                if (i % 10 == 0) { /* batches too, which hold the write lock longer */
                        assert_int_equal(journal_begin(j), 0);
                        assert_int_equal(journal_event(j, run_id, 0, "batch", name, NULL), 0);
                        assert_int_equal(journal_event(j, run_id, 0, "batch", name, NULL), 0);
                        assert_int_equal(journal_commit(j), 0);
                }
        }
        assert_int_equal(journal_run_end(j, run_id, RUN_SUCCEEDED, NULL, 0), 0);
        journal_close(j);
}

static void test_two_processes(void **state)
{
        char path[PATH_MAX];
        _cleanup_(journal_closep) Journal *j = NULL;
        RunRecord *runs = NULL;
        size_t n = 0;
        pid_t pid;
        int status;
        sqlite3 *db;

        db_path(path);
        /* Both processes open a file that does not exist yet: the migration races too. */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* cmocka's assertions longjmp into the parent's state: report by exit code. */
                Journal *cj = NULL;
                RunRecord r = sample_run("child");
                StepRecord s;
                int64_t run_id, sid;

                int q = journal_open(path, &cj);
                if (q < 0) {
                        fprintf(stderr, "child: journal_open: %s\n", strerror(-q));
                        _exit(20);
                }
                q = journal_run_begin(cj, &r, &run_id);
                if (q < 0) {
                        fprintf(stderr, "child: journal_run_begin: %s (%s)\n", strerror(-q), journal_errmsg(cj));
                        _exit(20);
                }
                for (int i = 0; i < WRITER_ROUNDS; i++) {
                        s = sample_step(run_id, i, "child");
                        if (journal_step_begin(cj, &s, &sid) < 0)
                                _exit(21);
                        s.id = sid;
                        s.outcome = STEP_OK;
                        if (journal_step_end(cj, &s) < 0)
                                _exit(22);
                        if (journal_event(cj, run_id, 0, "tick", "child", NULL) < 0)
                                _exit(23);
                        if (i % 10 == 0 &&
                            (journal_begin(cj) < 0 || journal_event(cj, run_id, 0, "batch", "c", NULL) < 0 ||
                             journal_event(cj, run_id, 0, "batch", "c", NULL) < 0 || journal_commit(cj) < 0))
                                _exit(24);
                }
                if (journal_run_end(cj, run_id, RUN_SUCCEEDED, NULL, 0) < 0)
                        _exit(25);
                journal_close(cj);
                _exit(0);
        }

        writer(path, "parent");
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        db = raw_open(path);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM step_attempts"), 2 * WRITER_ROUNDS);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM events"), 2 * (WRITER_ROUNDS + 2 * WRITER_ROUNDS / 10));
        assert_int_equal(raw_int(db, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
        sqlite3_close(db);

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_list_runs(j, 0, &runs, &n), 0);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(runs[i].outcome, RUN_SUCCEEDED);
                assert_int_equal(runs[i].n_steps, WRITER_ROUNDS);
                run_record_done(&runs[i]);
        }
        free(runs);
}

static void test_resolve_path(void **state)
{
        assert_int_equal(unsetenv(JOURNAL_ENV), 0);
        assert_string_equal(journal_resolve_path(NULL, NULL), "/var/lib/drover/drover.db");
        assert_string_equal(journal_resolve_path("", ""), "/var/lib/drover/drover.db");
        assert_string_equal(journal_resolve_path(NULL, "/cfg.db"), "/cfg.db");
        assert_int_equal(setenv(JOURNAL_ENV, "/env.db", 1), 0);
        assert_string_equal(journal_resolve_path(NULL, "/cfg.db"), "/env.db");
        assert_string_equal(journal_resolve_path("/explicit.db", "/cfg.db"), "/explicit.db");
        assert_int_equal(setenv(JOURNAL_ENV, "", 1), 0);
        assert_string_equal(journal_resolve_path(NULL, "/cfg.db"), "/cfg.db");
        assert_int_equal(unsetenv(JOURNAL_ENV), 0);
}

static void test_record_done(void **state)
{
        RunRecord r = { .id = 5, .playbook = strdup("x"), .error = strdup("e"), .pid = 3 };
        StepRecord s = { .id = 6, .step_name = strdup("y"), .stdout_text = strdup("o"), .exit_status = 2 };
        EventRecord e = { .id = 7, .kind = strdup("k"), .data_json = strdup("{}") };
        const RunRecord zr = {};
        const StepRecord zs = {};
        const EventRecord ze = {};

        run_record_done(&r);
        step_record_done(&s);
        event_record_done(&e);
        assert_memory_equal(&r, &zr, sizeof r);
        assert_memory_equal(&s, &zs, sizeof s);
        assert_memory_equal(&e, &ze, sizeof e);
        /* Twice, and NULL, are fine. */
        run_record_done(&r);
        run_record_done(NULL);
        step_record_done(NULL);
        event_record_done(NULL);
        assert_null(journal_close(NULL));
}

/* An incident and its log round-trip; the log is append-only, nothing is deleted. */
static void test_incidents(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        IncidentRecord got = {}, *list = NULL;
        IncidentLogRecord *log = NULL;
        size_t n = 0;
        int64_t id = 0, run_id = 0, log_id = 0;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_run_begin(j, &(RunRecord){ .playbook = (char *) "site-switchover" }, &run_id), 0);
        assert_int_equal(journal_incident_open(j,
                                               &(IncidentRecord){ .opened_at = 1000, .site = (char *) "primary",
                                                                  .subject = (char *) "primary",
                                                                  .phenomenon = (char *) "site down on quorum",
                                                                  .state = (char *) "detected", .level = 1 },
                                               &id),
                         0);
        assert_true(id > 0);
        assert_int_equal(journal_incident_log(j,
                                              &(IncidentLogRecord){ .incident_id = id, .at = 1001,
                                                                    .actor = (char *) "policy",
                                                                    .kind = (char *) "playbook-started",
                                                                    .text = (char *) "site-switchover",
                                                                    .level_from = -1, .level_to = -1,
                                                                    .run_id = run_id },
                                              &log_id),
                         0);
        assert_int_equal(journal_incident_log(j,
                                              &(IncidentLogRecord){ .incident_id = id, .at = 1002,
                                                                    .actor = (char *) "alice",
                                                                    .kind = (char *) "state-change",
                                                                    .state_from = (char *) "detected",
                                                                    .state_to = (char *) "verified",
                                                                    .level_from = -1, .level_to = -1 },
                                              NULL),
                         0);
        assert_int_equal(journal_incident_update(j, id, "verified", 2, "payments at the primary site", 0), 0);
        assert_int_equal(journal_incident_update(j, id + 100, "verified", 2, NULL, 0), -ENOENT);
        assert_int_equal(journal_incident_update(j, id, "verified", 7, NULL, 0), -EINVAL);
        assert_int_equal(journal_incident_update(j, id, "bogus", 2, NULL, 0), -EINVAL); /* CHECK constraint */

        assert_int_equal(journal_get_incident(j, id, &got), 0);
        assert_string_equal(got.state, "verified");
        assert_int_equal(got.level, 2);
        assert_string_equal(got.impact, "payments at the primary site");
        assert_string_equal(got.phenomenon, "site down on quorum");
        assert_int_equal(got.opened_at, 1000);
        assert_false(got.drill);
        incident_record_done(&got);
        assert_int_equal(journal_get_incident(j, id + 100, &got), -ENOENT);

        assert_int_equal(journal_list_incident_log(j, id, &log, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(log[0].actor, "policy");
        assert_int_equal(log[0].run_id, run_id);
        assert_int_equal(log[0].level_from, -1);
        assert_null(log[0].state_from);
        assert_string_equal(log[1].state_to, "verified");
        assert_int_equal(log[1].run_id, 0);
        for (size_t i = 0; i < n; i++)
                incident_log_record_done(&log[i]);
        free(log);

        assert_int_equal(journal_incident_update(j, id, "closed", 0, NULL, 2000), 0);
        assert_int_equal(journal_list_incidents(j, true, &list, &n), 0);
        assert_int_equal(n, 0);
        free(list);
        assert_int_equal(journal_list_incidents(j, false, &list, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].closed_at, 2000);
        incident_record_done(&list[0]);
        free(list);
        journal_close(j);

        db = raw_open(path);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM incidents", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "UPDATE incident_log SET actor = 'mallory'", NULL, NULL, NULL),
                             SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM incident_log", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM incident_log WHERE actor = 'mallory'"), 0);
        sqlite3_close(db);
}

/* A version-1 journal (issue 2's) is upgraded in place: its runs stay, incidents appear. */
static void test_migrate_from_v1(void **state)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        RunRecord *runs = NULL;
        IncidentRecord *list = NULL;
        size_t n = 0;
        int64_t run_id = 0;
        sqlite3 *db;

        db_path(path);
        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_run_begin(j, &(RunRecord){ .playbook = (char *) "old-run" }, &run_id), 0);
        journal_close(j);

        /* Turn it back into what schema 1 looked like. */
        db = raw_open(path);
        raw_exec(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; DROP TABLE audit; "
                     "DROP TABLE retention_guard; "
                     "DROP TRIGGER incidents_no_delete; DROP TRIGGER incident_log_no_delete; "
                     "DROP TRIGGER incident_log_no_update; DROP TABLE incident_log; DROP TABLE incidents; "
                     "PRAGMA user_version = 1");
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'incidents'"), 0);
        sqlite3_close(db);

        assert_int_equal(journal_open(path, &j), 0);
        assert_int_equal(journal_list_runs(j, 0, &runs, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(runs[0].playbook, "old-run");
        run_record_done(&runs[0]);
        free(runs);
        assert_int_equal(journal_list_incidents(j, false, &list, &n), 0);
        assert_int_equal(n, 0);
        free(list);
        journal_close(j);

        db = raw_open(path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
        /* The run that predates the chain got its genesis record. */
        assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE tbl = 'runs' AND op = 'genesis'"), 1);
        sqlite3_close(db);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_reopen_modes),
                cmocka_unit_test(test_schema_version_and_wal),
                cmocka_unit_test(test_future_version_refused),
                cmocka_unit_test(test_schema_matches_vocabulary),
                cmocka_unit_test(test_not_a_database),
                cmocka_unit_test(test_run_roundtrip),
                cmocka_unit_test(test_step_roundtrip),
                cmocka_unit_test(test_event_roundtrip_and_append_only),
                cmocka_unit_test(test_list_ordering_and_counts),
                cmocka_unit_test(test_batching),
                cmocka_unit_test(test_recover_after_sigkill),
                cmocka_unit_test(test_recover_after_exit),
                cmocka_unit_test(test_recover_judges_owner),
                cmocka_unit_test(test_recover_zombie),
                cmocka_unit_test(test_two_processes),
                cmocka_unit_test(test_resolve_path),
                cmocka_unit_test(test_record_done),
                cmocka_unit_test(test_incidents),
                cmocka_unit_test(test_migrate_from_v1),
        };

        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
