/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-fixture.h — what the journal's unit tests (test-journal.c, test-audit.c)
 * share: one temporary directory per test process with a fresh database path per
 * test, and raw SQLite access to check what the journal really wrote and to forge
 * records. Include after <cmocka.h>. Static inline: each test program has its own copy.
 */
#pragma once

#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static char fixture_tmpdir[256]; /* short, so that every path built below fits PATH_MAX */
static unsigned fixture_counter;

/* A fresh database path per test, inside the per-process temporary directory. */
static inline void db_path(char buf[static PATH_MAX])
{
        (void) snprintf(buf, PATH_MAX, "%s/t%u/journal.db", fixture_tmpdir, fixture_counter++);
}

/* For cmocka's group setup: $TMPDIR/NAME-XXXXXX. */
static inline int fixture_setup(const char *name)
{
        (void) snprintf(fixture_tmpdir, sizeof fixture_tmpdir, "%s/%s-XXXXXX", getenv("TMPDIR") ?: "/tmp", name);
        return mkdtemp(fixture_tmpdir) ? 0 : -1;
}

/* For cmocka's group teardown: remove the directory unless $KEEP_ENV is set. */
static inline int fixture_teardown(const char *keep_env)
{
        char cmd[PATH_MAX + 32];

        if (getenv(keep_env))
                return 0;
        (void) snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static inline sqlite3 *raw_open(const char *path)
{
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
        return db;
}

static inline void raw_exec(sqlite3 *db, const char *sql)
{
        char *err = NULL;

        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", sql, err);
}

/* The first column of the one row sql returns, as an integer. */
static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *s = NULL;
        int64_t v;

        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
}
