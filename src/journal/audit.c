/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * audit.c — the journal's tamper-evident audit chain: appending records, seeding the
 * chain when schema 3 arrives, verifying it, exporting its head, and retention (the only
 * delete drover ever does).
 *
 * Owns: the table "audit" and everything written to it, the canonical encoding of a
 * row, the hashes, journal_audit_verify(), journal_prune(). Does not own: the journal
 * tables themselves (journal.c writes them and calls audit_append_row() in the same
 * transaction), printing or logging (droverctl's ctl-audit.c does), signing an exported
 * head (done outside drover: ssh-keygen -Y sign, openssl; see droverctl(1)).
 * Called by journal.c (every write, the migration) and by droverctl (verify, head, prune).
 *
 * The format, exactly (an outside tool can recompute every hash from it):
 *
 *  - A record is a row of audit: seq (1, 2, 3… without gaps), at (µs since the epoch,
 *    CLOCK_REALTIME when appended), tbl (runs | step_attempts | events | incidents |
 *    incident_log | drill_runs | drill_run_runs | drill_reviews | drill_evaluations |
 *    drill_actions | drill_action_log, or "journal" for a record about the journal as a
 *    whole), row_id (the
 *    row's id; 0 for "journal"), op (genesis | insert | update | retention |
 *    found-altered), data,
 *    data_hash, prev_hash, hash. Hashes are SHA-256 in 64 lowercase hex digits.
 *  - data for a row is the whole row AFTER the change, as SQLite stored it, encoded as
 *    one JSON object without whitespace: every column in the table's declared order
 *    (SELECT *), key = column name; INTEGER as a decimal integer, NULL as null, TEXT as a
 *    string in which only " \ and the control bytes are escaped (\" \\ \b \f \n \r \t,
 *    other bytes < 0x20 and 0x7f as \u00xx) and every other byte is copied as is; REAL as
 *    printf %.17g (".0" appended when that looks like an integer); BLOB as
 *    {"blob":"<lowercase hex>"}.
 *  - data of a "journal" record, and of a row's 'retention' record, is a JSON object
 *    written by this file (see journal_prune() and audit_seed()).
 *  - data_hash = SHA-256(data bytes).
 *  - hash = SHA-256 of the ASCII text
 *        "drover-audit-v1\n" prev_hash "\n" seq "\n" at "\n" tbl "\n" row_id "\n" op "\n"
 *        data_hash "\n"
 *    with the numbers in decimal. prev_hash of seq 1 is 64 zeros; of seq n, the hash of
 *    seq n-1. Hashing data_hash instead of data keeps the chain checkable if a future
 *    retention ever redacts a removed row's data.
 *
 * Why C and not triggers: a trigger would re-chain an edit made with the sqlite3 shell.
 * The chain is written only here, so such an edit leaves either a row that differs from
 * its latest record, or a record whose hash no longer holds. Someone with write access
 * can still rewrite the whole chain consistently: that is what an exported, signed head
 * catches (journal_audit_verify() with expect).
 *
 * When drover updates a row (a step's or run's end, an incident's state, recovery), it
 * first compares the row with its latest record; if someone changed it meanwhile, a
 * 'found-altered' record keeps the row as found before the update is chained, so the
 * update cannot launder the edit. Verify reports every such record (row-found-altered):
 * that evidence is permanent, like the rest of the chain.
 *
 * What verify checks: (1) the chain: seq without gaps from 1, each prev_hash the previous
 * hash, each data_hash and hash recomputed, known table and op; an exported head
 * (SEQ:HASH) must still be there; (2) no 'found-altered' record; (3) every live row of
 * every audited table equals the data of its latest record, which is not a 'retention';
 * (4) every row whose latest record is not a 'retention' still exists. The first problem
 * found is reported, in that order, with the record, table and row it concerns.
 *
 * Retention: the never-delete triggers of schema 3 refuse a DELETE unless a row exists in
 * retention_guard. journal_prune() inserts that row, deletes, and removes it again, all
 * in its one transaction, after appending its 'retention' records: no other connection
 * ever sees the guard set, and an interrupted prune leaves nothing (SQLite rolls back).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/journal-internal.h"
#include "journal/journal.h"
#include "shared/macros.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"
#include "shared/time-util.h"

#define AUDIT_ZERO_HASH     "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_TABLE_JOURNAL "journal"

static const char *const audit_table_table[_AUDIT_TABLE_MAX] = {
        [AUDIT_TABLE_RUNS] = "runs",
        [AUDIT_TABLE_STEP_ATTEMPTS] = "step_attempts",
        [AUDIT_TABLE_EVENTS] = "events",
        [AUDIT_TABLE_INCIDENTS] = "incidents",
        [AUDIT_TABLE_INCIDENT_LOG] = "incident_log",
        [AUDIT_TABLE_DRILL_RUNS] = "drill_runs",
        [AUDIT_TABLE_DRILL_RUN_RUNS] = "drill_run_runs",
        [AUDIT_TABLE_DRILL_REVIEWS] = "drill_reviews",
        [AUDIT_TABLE_DRILL_EVALUATIONS] = "drill_evaluations",
        [AUDIT_TABLE_DRILL_ACTIONS] = "drill_actions",
        [AUDIT_TABLE_DRILL_ACTION_LOG] = "drill_action_log",
};

DEFINE_STRING_TABLE(audit_table, AuditTable, audit_table_table);

static const char *const audit_problem_table[_AUDIT_PROBLEM_MAX] = {
        [AUDIT_PROBLEM_NONE] = "none",
        [AUDIT_PROBLEM_RECORD_MISSING] = "record-missing",
        [AUDIT_PROBLEM_LINK_BROKEN] = "link-broken",
        [AUDIT_PROBLEM_RECORD_ALTERED] = "record-altered",
        [AUDIT_PROBLEM_RECORD_INVALID] = "record-invalid",
        [AUDIT_PROBLEM_ROW_CHANGED] = "row-changed",
        [AUDIT_PROBLEM_ROW_UNRECORDED] = "row-unrecorded",
        [AUDIT_PROBLEM_ROW_DELETED] = "row-deleted",
        [AUDIT_PROBLEM_ROW_FOUND_ALTERED] = "row-found-altered",
        [AUDIT_PROBLEM_HEAD_MISSING] = "head-missing",
        [AUDIT_PROBLEM_HEAD_MISMATCH] = "head-mismatch",
};

DEFINE_STRING_TABLE(audit_problem, AuditProblem, audit_problem_table);

static const Stmt row_stmt[_AUDIT_TABLE_MAX] = {
        [AUDIT_TABLE_RUNS] = STMT_ROW_RUNS,
        [AUDIT_TABLE_STEP_ATTEMPTS] = STMT_ROW_STEP_ATTEMPTS,
        [AUDIT_TABLE_EVENTS] = STMT_ROW_EVENTS,
        [AUDIT_TABLE_INCIDENTS] = STMT_ROW_INCIDENTS,
        [AUDIT_TABLE_INCIDENT_LOG] = STMT_ROW_INCIDENT_LOG,
        [AUDIT_TABLE_DRILL_RUNS] = STMT_ROW_DRILL_RUNS,
        [AUDIT_TABLE_DRILL_RUN_RUNS] = STMT_ROW_DRILL_RUN_RUNS,
        [AUDIT_TABLE_DRILL_REVIEWS] = STMT_ROW_DRILL_REVIEWS,
        [AUDIT_TABLE_DRILL_EVALUATIONS] = STMT_ROW_DRILL_EVALUATIONS,
        [AUDIT_TABLE_DRILL_ACTIONS] = STMT_ROW_DRILL_ACTIONS,
        [AUDIT_TABLE_DRILL_ACTION_LOG] = STMT_ROW_DRILL_ACTION_LOG,
};

static const char *const audit_ops[] = {"genesis", "insert", "update", "retention", "found-altered"};

/* ------------------------------------------------------------ the encoding */

static void json_put_string(StrBuf *b, const unsigned char *p, size_t n)
{
        size_t plain = 0; /* start of the current run of bytes copied as they are */

        strbuf_putc(b, '"');
        for (size_t i = 0; i < n; i++) {
                unsigned char c = p[i];
                const char *esc = NULL;

                if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
                        continue;
                strbuf_append(b, (const char *) p + plain, i - plain);
                plain = i + 1;
                switch (c) {
                case '"':
                        esc = "\\\"";
                        break;
                case '\\':
                        esc = "\\\\";
                        break;
                case '\b':
                        esc = "\\b";
                        break;
                case '\f':
                        esc = "\\f";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                }
                if (esc)
                        strbuf_puts(b, esc);
                else
                        strbuf_printf(b, "\\u%04x", c);
        }
        strbuf_append(b, (const char *) p + plain, n - plain);
        strbuf_putc(b, '"');
}

static void json_put_cstring(StrBuf *b, const char *s)
{
        if (!s)
                strbuf_puts(b, "null");
        else
                json_put_string(b, (const unsigned char *) s, strlen(s));
}

/* The canonical encoding of the current row of s (see the header comment). */
static void audit_encode_row(sqlite3_stmt *s, StrBuf *b)
{
        int n = sqlite3_column_count(s);

        strbuf_putc(b, '{');
        for (int i = 0; i < n; i++) {
                const char *name = sqlite3_column_name(s, i);

                if (i > 0)
                        strbuf_putc(b, ',');
                json_put_cstring(b, name ?: "");
                strbuf_putc(b, ':');
                switch (sqlite3_column_type(s, i)) {
                case SQLITE_INTEGER:
                        strbuf_printf(b, "%lld", (long long) sqlite3_column_int64(s, i));
                        break;
                case SQLITE_FLOAT: {
                        char num[64];
                        (void) snprintf(num, sizeof num, "%.17g", sqlite3_column_double(s, i));
                        strbuf_puts(b, num);
                        if (!strpbrk(num, ".eEni"))
                                strbuf_puts(b, ".0");
                        break;
                }
                case SQLITE_TEXT: {
                        const unsigned char *t = sqlite3_column_text(s, i);
                        json_put_string(b, t ?: (const unsigned char *) "",
                                        (size_t) sqlite3_column_bytes(s, i));
                        break;
                }
                case SQLITE_BLOB: {
                        const unsigned char *p = sqlite3_column_blob(s, i);
                        int len = sqlite3_column_bytes(s, i);
                        strbuf_puts(b, "{\"blob\":\"");
                        for (int k = 0; k < len; k++)
                                strbuf_printf(b, "%02x", p[k]);
                        strbuf_puts(b, "\"}");
                        break;
                }
                default:
                        strbuf_puts(b, "null");
                }
        }
        strbuf_putc(b, '}');
}

static void audit_data_hash(const char *data, char out[static AUDIT_HASH_HEX])
{
        (void) sha256_hex(data, strlen(data), out);
}

static void audit_record_hash(const char *prev_hash, int64_t seq, int64_t at, const char *tbl,
                              int64_t row_id, const char *op, const char *data_hash,
                              char out[static AUDIT_HASH_HEX])
{
        _cleanup_free_ char *text =
                xasprintf("drover-audit-v1\n%s\n%" PRIi64 "\n%" PRIi64 "\n%s\n%" PRIi64 "\n%s\n%s\n",
                          prev_hash, seq, at, tbl, row_id, op, data_hash);
        (void) sha256_hex(text, strlen(text), out);
}

static bool is_hash(const char *s)
{
        if (!s || strlen(s) != 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* ------------------------------------------------------------- appending */

int journal_audit_head(Journal *j, AuditHead *ret)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        AuditHead h = {.seq = 0, .hash = AUDIT_ZERO_HASH};
        int r, rc;

        if (!j || !ret)
                return -EINVAL;
        r = journal_stmt(j, STMT_AUDIT_HEAD, &s);
        if (r < 0)
                return r;
        rc = stmt_step(s);
        if (rc == SQLITE_ROW) {
                const char *hash = (const char *) sqlite3_column_text(s, 2);
                h.seq = sqlite3_column_int64(s, 0);
                h.at = column_usec(s, 1);
                (void) snprintf(h.hash, sizeof h.hash, "%s", hash ?: "");
        } else if (rc != SQLITE_DONE)
                return errno_from_sqlite(rc);
        *ret = h;
        return 0;
}

/* Appends one record after the current head. Inside the caller's transaction. */
static int audit_append(Journal *j, const char *tbl, int64_t row_id, const char *op, const char *data,
                        usec_t at, int64_t *ret_seq)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        char data_hash[AUDIT_HASH_HEX], hash[AUDIT_HASH_HEX];
        AuditHead head;
        int64_t seq;
        int r;

        r = journal_audit_head(j, &head);
        if (r < 0)
                return r;
        if (at > (usec_t) INT64_MAX)
                return -ERANGE;
        seq = head.seq + 1;
        audit_data_hash(data, data_hash);
        audit_record_hash(head.hash, seq, (int64_t) at, tbl, row_id, op, data_hash, hash);

        r = journal_stmt(j, STMT_AUDIT_INSERT, &s);
        if (r < 0)
                return r;
        if ((r = bind_int64(s, 1, seq)) < 0 || (r = bind_usec(s, 2, at)) < 0 ||
            (r = bind_text(s, 3, tbl)) < 0 || (r = bind_int64(s, 4, row_id)) < 0 ||
            (r = bind_text(s, 5, op)) < 0 || (r = bind_text(s, 6, data)) < 0 ||
            (r = bind_text(s, 7, data_hash)) < 0 || (r = bind_text(s, 8, head.hash)) < 0 ||
            (r = bind_text(s, 9, hash)) < 0)
                return r;
        r = stmt_exec(s);
        if (r < 0)
                return r;
        if (ret_seq)
                *ret_seq = seq;
        return 0;
}

/* The canonical encoding of row id of table t as it is now; -ENOENT when absent. */
static int audit_row_data(Journal *j, AuditTable t, int64_t id, char **ret)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        StrBuf b = STRBUF_INIT;
        int r;

        r = journal_select_row(j, row_stmt[t], id, &s);
        if (r < 0)
                return r;
        audit_encode_row(s, &b);
        *ret = strbuf_steal(&b);
        return 0;
}

int audit_append_row(Journal *j, AuditTable t, int64_t row_id, const char *op)
{
        _cleanup_free_ char *data = NULL;
        int r;

        if (!j || t < 0 || t >= _AUDIT_TABLE_MAX || !op)
                return -EINVAL;
        r = audit_row_data(j, t, row_id, &data);
        if (r < 0)
                return r == -ENOENT ? -EIO : r; /* we just wrote it: its absence is a bug */
        return audit_append(j, audit_table_to_string(t), row_id, op, data, now_usec(CLOCK_REALTIME), NULL);
}

int audit_before_update(Journal *j, AuditTable t, int64_t row_id)
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        _cleanup_free_ char *now = NULL;
        bool same;
        int r, rc;

        if (!j || t < 0 || t >= _AUDIT_TABLE_MAX)
                return -EINVAL;
        r = audit_row_data(j, t, row_id, &now);
        if (r == -ENOENT)
                return 0; /* the update will say so */
        if (r < 0)
                return r;
        r = journal_stmt(j, STMT_AUDIT_LATEST, &s);
        if (r < 0)
                return r;
        if ((r = bind_text(s, 1, audit_table_to_string(t))) < 0 || (r = bind_int64(s, 2, row_id)) < 0)
                return r;
        rc = stmt_step(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return errno_from_sqlite(rc);
        same = rc == SQLITE_ROW && streq_ptr((const char *) sqlite3_column_text(s, 2), now);
        stmt_resetp(&s);
        if (same)
                return 0;
        return audit_append(j, audit_table_to_string(t), row_id, "found-altered", now,
                            now_usec(CLOCK_REALTIME), NULL);
}

/* Every row of every audited table, in table order then id order, through cb. */
static int audit_for_each_row(Journal *j, AuditTable t,
                              int (*cb)(Journal *j, AuditTable t, sqlite3_stmt *s, void *u), void *userdata)
{
        _cleanup_free_ char *sql = xasprintf("SELECT * FROM %s ORDER BY id", audit_table_to_string(t));
        sqlite3_stmt *s = NULL;
        int r = 0, rc;

        rc = journal_prepare(j, sql, 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        while ((rc = stmt_step(s)) == SQLITE_ROW) {
                r = cb(j, t, s, userdata);
                if (r != 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = errno_from_sqlite(rc);
        (void) sqlite3_finalize(s);
        return r;
}

/* 1 when table t exists in this journal, 0 when not (yet). */
static int audit_table_exists(Journal *j, AuditTable t)
{
        sqlite3_stmt *s = NULL;
        int rc, r;

        rc = journal_prepare(j, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        r = bind_text(s, 1, audit_table_to_string(t));
        if (r >= 0) {
                rc = stmt_step(s);
                r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : errno_from_sqlite(rc);
        }
        (void) sqlite3_finalize(s);
        return r;
}

static int seed_one(Journal *j, AuditTable t, sqlite3_stmt *s, void *userdata)
{
        StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *data = NULL;

        audit_encode_row(s, &b);
        data = strbuf_steal(&b);
        return audit_append(j, audit_table_to_string(t), sqlite3_column_int64(s, 0), "genesis", data,
                            *(usec_t *) userdata, NULL);
}

int audit_seed(Journal *j)
{
        usec_t now = now_usec(CLOCK_REALTIME);
        _cleanup_free_ char *data = NULL;
        int r;

        /* The chain's first record: when and from which schema it started. */
        data = xasprintf("{\"event\":\"audit-chain-start\",\"schema\":%d}", JOURNAL_SCHEMA_VERSION);
        r = audit_append(j, AUDIT_TABLE_JOURNAL, 0, "genesis", data, now, NULL);
        if (r < 0)
                return r;
        for (AuditTable t = 0; t < _AUDIT_TABLE_MAX; t++) {
                r = audit_table_exists(j, t);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        continue; /* created by a later step, empty: nothing to seed */
                }
                r = audit_for_each_row(j, t, seed_one, &now);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --------------------------------------------------------------- verify */

void audit_verdict_done(AuditVerdict *v)
{
        if (!v)
                return;
        free(v->table);
        free(v->detail);
        *v = (AuditVerdict){};
}

static _printf_(6, 7) int verdict_set(AuditVerdict *v, AuditProblem p, int64_t seq, const char *table,
                                      int64_t row_id, const char *fmt, ...)
{
        va_list ap;
        StrBuf b = STRBUF_INIT;

        if (v->problem != AUDIT_PROBLEM_NONE)
                return 1; /* keep the first */
        v->problem = p;
        v->seq = seq;
        v->table = xstrdup(table);
        v->row_id = row_id;
        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        v->detail = strbuf_steal(&b);
        return 1;
}

static char *short_value(json_t *v)
{
        _cleanup_free_ char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup("(absent)");

        if (!s)
                return xstrdup("?");
        if (strlen(s) > 60)
                return xasprintf("%.57s...", s);
        return TAKE_PTR(s);
}

/* "column X: recorded A, now B" for the first column that differs. */
static char *describe_difference(const char *recorded, const char *now)
{
        json_t *a = json_loads(recorded, JSON_DECODE_ANY, NULL), *b = json_loads(now, JSON_DECODE_ANY, NULL);
        char *ret = NULL;

        if (json_is_object(a) && json_is_object(b)) {
                const char *key;
                json_t *va;

                json_object_foreach(b, key, va)
                {
                        json_t *vb = json_object_get(a, key);
                        if (!vb || !json_equal(va, vb)) {
                                _cleanup_free_ char *x = short_value(vb), *y = short_value(va);
                                ret = xasprintf("column %s: recorded %s, now %s", key, x, y);
                                break;
                        }
                }
                if (!ret)
                        json_object_foreach(a, key, va) if (!json_object_get(b, key))
                        {
                                ret = xasprintf("column %s: recorded, now absent", key);
                                break;
                        }
        }
        json_decref(a);
        json_decref(b);
        return ret ?: xstrdup("the row's encoding differs from its record");
}

static int verify_row(Journal *j, AuditTable t, sqlite3_stmt *s, void *userdata)
{
        AuditVerdict *v = userdata;
        _cleanup_stmt_reset_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *now = NULL;
        StrBuf b = STRBUF_INIT;
        int64_t id = sqlite3_column_int64(s, 0);
        const char *tbl = audit_table_to_string(t), *op, *data;
        int r, rc;

        v->n_rows++;
        audit_encode_row(s, &b);
        now = strbuf_steal(&b);

        r = journal_stmt(j, STMT_AUDIT_LATEST, &q);
        if (r < 0)
                return r;
        if ((r = bind_text(q, 1, tbl)) < 0 || (r = bind_int64(q, 2, id)) < 0)
                return r;
        rc = stmt_step(q);
        if (rc == SQLITE_DONE)
                return verdict_set(v, AUDIT_PROBLEM_ROW_UNRECORDED, 0, tbl, id,
                                   "%s row %" PRIi64 " has no audit record: written behind drover's back",
                                   tbl, id);
        if (rc != SQLITE_ROW)
                return errno_from_sqlite(rc);
        op = (const char *) sqlite3_column_text(q, 1);
        data = (const char *) sqlite3_column_text(q, 2);
        if (op && streq(op, "retention"))
                return verdict_set(v, AUDIT_PROBLEM_ROW_UNRECORDED, sqlite3_column_int64(q, 0), tbl, id,
                                   "%s row %" PRIi64
                                   " was removed by retention (record %lld) but is present again",
                                   tbl, id, (long long) sqlite3_column_int64(q, 0));
        if (!data || !streq(data, now)) {
                _cleanup_free_ char *d = describe_difference(data ?: "", now);
                return verdict_set(v, AUDIT_PROBLEM_ROW_CHANGED, sqlite3_column_int64(q, 0), tbl, id,
                                   "%s row %" PRIi64 " differs from its latest audit record %lld: %s", tbl,
                                   id, (long long) sqlite3_column_int64(q, 0), d);
        }
        return 0;
}

/* A row whose latest record is not a retention but which no longer exists. */
static int verify_deleted(Journal *j, AuditTable t, AuditVerdict *v)
{
        const char *tbl = audit_table_to_string(t);
        _cleanup_free_ char *sql = xasprintf(
                "SELECT a.row_id, a.seq FROM audit a WHERE a.tbl = ?1 AND a.op <> 'retention' "
                "AND a.seq = (SELECT max(b.seq) FROM audit b WHERE b.tbl = ?1 AND b.row_id = a.row_id) "
                "AND NOT EXISTS (SELECT 1 FROM %s x WHERE x.id = a.row_id) ORDER BY a.row_id LIMIT 1",
                tbl);
        sqlite3_stmt *s = NULL;
        int r = 0, rc;

        rc = journal_prepare(j, sql, 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        r = bind_text(s, 1, tbl);
        if (r >= 0) {
                rc = stmt_step(s);
                if (rc == SQLITE_ROW)
                        r = verdict_set(v, AUDIT_PROBLEM_ROW_DELETED, sqlite3_column_int64(s, 1), tbl,
                                        sqlite3_column_int64(s, 0),
                                        "%s row %lld is recorded (record %lld) but gone, and no retention "
                                        "removed it",
                                        tbl, (long long) sqlite3_column_int64(s, 0),
                                        (long long) sqlite3_column_int64(s, 1));
                else if (rc != SQLITE_DONE)
                        r = errno_from_sqlite(rc);
        }
        (void) sqlite3_finalize(s);
        return r;
}

/* The first 'found-altered' record: drover met a row changed behind its back. */
static int verify_found_altered(Journal *j, AuditVerdict *v)
{
        sqlite3_stmt *s = NULL;
        int r = 0, rc;

        rc = journal_prepare(
                j,
                "SELECT a.seq, a.tbl, a.row_id, a.data, (SELECT b.data FROM audit b WHERE b.tbl = a.tbl "
                "AND b.row_id = a.row_id AND b.seq < a.seq ORDER BY b.seq DESC LIMIT 1) "
                "FROM audit a WHERE a.op = 'found-altered' ORDER BY a.seq LIMIT 1",
                0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        rc = stmt_step(s);
        if (rc == SQLITE_ROW) {
                const char *tbl = (const char *) sqlite3_column_text(s, 1),
                           *found = (const char *) sqlite3_column_text(s, 3),
                           *before = (const char *) sqlite3_column_text(s, 4);
                int64_t seq = sqlite3_column_int64(s, 0), row = sqlite3_column_int64(s, 2);
                _cleanup_free_ char *d =
                        before ? describe_difference(before, found ?: "")
                               : xstrdup("it had no earlier record (inserted behind drover's back)");

                r = verdict_set(
                        v, AUDIT_PROBLEM_ROW_FOUND_ALTERED, seq, tbl, row,
                        "%s row %lld had been changed behind drover's back when drover came to update it "
                        "(record %lld keeps it as found): %s",
                        tbl, (long long) row, (long long) seq, d);
        } else if (rc != SQLITE_DONE)
                r = errno_from_sqlite(rc);
        (void) sqlite3_finalize(s);
        return r;
}

static bool known_tbl(const char *tbl)
{
        return tbl && (streq(tbl, AUDIT_TABLE_JOURNAL) || audit_table_from_string(tbl) >= 0);
}

static bool known_op(const char *op)
{
        return op && string_table_lookup(audit_ops, ELEMENTSOF(audit_ops), op) >= 0;
}

/* Walks the chain in seq order; stops at the first problem. */
static int verify_chain(Journal *j, const AuditHead *expect, AuditVerdict *v)
{
        sqlite3_stmt *s = NULL;
        char prev[AUDIT_HASH_HEX] = AUDIT_ZERO_HASH, dh[AUDIT_HASH_HEX], h[AUDIT_HASH_HEX];
        int64_t expected = 1;
        int r = 0, rc;

        rc = journal_prepare(j,
                             "SELECT seq, at, tbl, row_id, op, data, data_hash, prev_hash, hash, "
                             "typeof(at), typeof(row_id) FROM audit ORDER BY seq",
                             0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);

        while ((rc = stmt_step(s)) == SQLITE_ROW) {
                int64_t seq = sqlite3_column_int64(s, 0), at = sqlite3_column_int64(s, 1),
                        row_id = sqlite3_column_int64(s, 3);
                const char *tbl = (const char *) sqlite3_column_text(s, 2),
                           *op = (const char *) sqlite3_column_text(s, 4),
                           *data = (const char *) sqlite3_column_text(s, 5),
                           *data_hash = (const char *) sqlite3_column_text(s, 6),
                           *prev_hash = (const char *) sqlite3_column_text(s, 7),
                           *hash = (const char *) sqlite3_column_text(s, 8),
                           *at_type = (const char *) sqlite3_column_text(s, 9),
                           *row_type = (const char *) sqlite3_column_text(s, 10);

                if (seq != expected) {
                        r = verdict_set(
                                v, AUDIT_PROBLEM_RECORD_MISSING, expected, NULL, 0,
                                "record %lld is missing (the next present is %lld): records were deleted",
                                (long long) expected, (long long) seq);
                        break;
                }
                if (!known_tbl(tbl) || !known_op(op) || !data || !is_hash(data_hash) ||
                    !is_hash(prev_hash) || !is_hash(hash) || !streq_ptr(at_type, "integer") ||
                    !streq_ptr(row_type, "integer")) {
                        r = verdict_set(v, AUDIT_PROBLEM_RECORD_INVALID, seq, tbl, row_id,
                                        "record %lld is malformed (table, op, types or hash syntax)",
                                        (long long) seq);
                        break;
                }
                if (!streq(prev_hash, prev)) {
                        r = verdict_set(
                                v, AUDIT_PROBLEM_LINK_BROKEN, seq, tbl, row_id,
                                "record %lld's prev_hash %.16s... is not record %lld's hash %.16s...: the "
                                "chain was cut or rewritten here",
                                (long long) seq, prev_hash, (long long) seq - 1, prev);
                        break;
                }
                audit_data_hash(data, dh);
                if (!streq(dh, data_hash)) {
                        r = verdict_set(
                                v, AUDIT_PROBLEM_RECORD_ALTERED, seq, tbl, row_id,
                                "record %lld (%s row %lld, %s) was altered: its data does not give its "
                                "data_hash",
                                (long long) seq, tbl, (long long) row_id, op);
                        break;
                }
                audit_record_hash(prev, seq, at, tbl, row_id, op, data_hash, h);
                if (!streq(h, hash)) {
                        r = verdict_set(
                                v, AUDIT_PROBLEM_RECORD_ALTERED, seq, tbl, row_id,
                                "record %lld (%s row %lld, %s) was altered: its fields do not give its hash",
                                (long long) seq, tbl, (long long) row_id, op);
                        break;
                }
                if (expect && expect->seq == seq && !streq(expect->hash, hash)) {
                        r = verdict_set(
                                v, AUDIT_PROBLEM_HEAD_MISMATCH, seq, tbl, row_id,
                                "record %lld has hash %.16s..., the exported head says %.16s...: history "
                                "was rewritten after the export",
                                (long long) seq, hash, expect->hash);
                        break;
                }
                memcpy(prev, hash, sizeof prev);
                v->head = (AuditHead){.seq = seq, .at = at < 0 ? 0 : (usec_t) at};
                memcpy(v->head.hash, hash, sizeof v->head.hash);
                v->n_records++;
                expected++;
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = errno_from_sqlite(rc);
        (void) sqlite3_finalize(s);
        if (r < 0)
                return r;

        if (v->problem == AUDIT_PROBLEM_NONE && v->n_records == 0)
                verdict_set(v, AUDIT_PROBLEM_RECORD_MISSING, 1, NULL, 0, "the audit chain is empty");
        if (v->problem == AUDIT_PROBLEM_NONE && expect && expect->seq > v->head.seq)
                verdict_set(v, AUDIT_PROBLEM_HEAD_MISSING, expect->seq, NULL, 0,
                            "the exported head is record %lld but the chain ends at %lld: it was truncated",
                            (long long) expect->seq, (long long) v->head.seq);
        return 0;
}

int journal_audit_verify(Journal *j, const AuditHead *expect, AuditVerdict *ret)
{
        AuditVerdict v = {};
        bool own;
        int r;

        if (!j || !ret)
                return -EINVAL;

        /* One read transaction: every check sees the same snapshot, whatever is written
         * meanwhile by droverd. */
        own = sqlite3_get_autocommit(j->db);
        if (own) {
                r = errno_from_sqlite(sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL));
                if (r < 0)
                        return r;
        }

        r = verify_chain(j, expect, &v);
        if (r >= 0 && v.problem == AUDIT_PROBLEM_NONE)
                r = verify_found_altered(j, &v);
        for (AuditTable t = 0; r >= 0 && v.problem == AUDIT_PROBLEM_NONE && t < _AUDIT_TABLE_MAX; t++) {
                r = audit_for_each_row(j, t, verify_row, &v);
                if (r >= 0 && v.problem == AUDIT_PROBLEM_NONE)
                        r = verify_deleted(j, t, &v);
        }

        if (own && !sqlite3_get_autocommit(j->db))
                (void) sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        if (r < 0) {
                audit_verdict_done(&v);
                return r;
        }
        *ret = v;
        return 0;
}

int audit_head_parse(const char *s, AuditHead *ret)
{
        const char *colon;
        char *end;
        long long seq;

        if (!s || !ret)
                return -EINVAL;
        colon = strchr(s, ':');
        if (!colon || colon == s)
                return -EINVAL;
        errno = 0;
        seq = strtoll(s, &end, 10);
        if (errno != 0 || end != colon || seq <= 0)
                return -EINVAL;
        if (!is_hash(colon + 1))
                return -EINVAL;
        *ret = (AuditHead){.seq = seq};
        memcpy(ret->hash, colon + 1, 64);
        ret->hash[64] = '\0';
        return 0;
}

/* ------------------------------------------------------------ retention */

/* Which rows a prune removes. ?1 = before. A run stays while a kept incident's log
 * refers to it (the foreign key, and the incident's record, need it). */
#define PRUNE_INCIDENTS                                                                                     \
        "SELECT id FROM incidents WHERE state = 'closed' AND closed_at > 0 AND closed_at < ?1"
#define PRUNE_RUNS                                                                                          \
        "SELECT r.id FROM runs r WHERE r.outcome <> 'running' AND r.ended > 0 AND r.ended < ?1 "            \
        "AND NOT EXISTS (SELECT 1 FROM incident_log l WHERE l.run_id = r.id "                               \
        "AND l.incident_id NOT IN (" PRUNE_INCIDENTS ")) "                                                  \
        "AND NOT EXISTS (SELECT 1 FROM drill_run_runs d WHERE d.run_id = r.id)"
#define PRUNE_NOTHING(table) "SELECT id FROM " table " WHERE ?1 IS NULL"

static const char *const prune_select[_AUDIT_TABLE_MAX] = {
        [AUDIT_TABLE_RUNS] = PRUNE_RUNS " ORDER BY r.id",
        [AUDIT_TABLE_STEP_ATTEMPTS] =
                "SELECT id FROM step_attempts WHERE run_id IN (" PRUNE_RUNS ") ORDER BY id",
        /* Events of removed runs, and events tied to no run from before the cut. */
        [AUDIT_TABLE_EVENTS] = "SELECT id FROM events WHERE run_id IN (" PRUNE_RUNS ") "
                               "OR (run_id IS NULL AND at < ?1) ORDER BY id",
        [AUDIT_TABLE_INCIDENTS] = PRUNE_INCIDENTS " ORDER BY id",
        [AUDIT_TABLE_INCIDENT_LOG] =
                "SELECT id FROM incident_log WHERE incident_id IN (" PRUNE_INCIDENTS ") ORDER BY id",
        /* Drill records (the evidence that each plan was exercised, its evaluation and its
         * improvement actions) are not removed by this retention: nothing selects them. The
         * runs they link to are kept with them (PRUNE_RUNS). ?1 is bound all the same. */
        [AUDIT_TABLE_DRILL_RUNS] = PRUNE_NOTHING("drill_runs"),
        [AUDIT_TABLE_DRILL_RUN_RUNS] = PRUNE_NOTHING("drill_run_runs"),
        [AUDIT_TABLE_DRILL_REVIEWS] = PRUNE_NOTHING("drill_reviews"),
        [AUDIT_TABLE_DRILL_EVALUATIONS] = PRUNE_NOTHING("drill_evaluations"),
        [AUDIT_TABLE_DRILL_ACTIONS] = PRUNE_NOTHING("drill_actions"),
        [AUDIT_TABLE_DRILL_ACTION_LOG] = PRUNE_NOTHING("drill_action_log"),
};

/* Children before parents, for the foreign keys. */
static const AuditTable prune_delete_order[] = {
        AUDIT_TABLE_INCIDENT_LOG, AUDIT_TABLE_EVENTS,    AUDIT_TABLE_STEP_ATTEMPTS,
        AUDIT_TABLE_RUNS,         AUDIT_TABLE_INCIDENTS,
};

typedef struct IdList {
        int64_t *ids;
        size_t n;
} IdList;

static int prune_collect(Journal *j, AuditTable t, usec_t before, IdList *ret)
{
        sqlite3_stmt *s = NULL;
        int r, rc;

        rc = journal_prepare(j, prune_select[t], 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        r = bind_usec(s, 1, before);
        if (r >= 0) {
                while ((rc = stmt_step(s)) == SQLITE_ROW)
                        *(int64_t *) array_push(&ret->ids, &ret->n, sizeof(int64_t)) =
                                sqlite3_column_int64(s, 0);
                if (rc != SQLITE_DONE)
                        r = errno_from_sqlite(rc);
        }
        (void) sqlite3_finalize(s);
        return r;
}

/* The hash of the latest record of a row. */
static int audit_latest_hash(Journal *j, const char *tbl, int64_t id, char out[static AUDIT_HASH_HEX])
{
        _cleanup_stmt_reset_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = journal_stmt(j, STMT_AUDIT_LATEST, &s);
        if (r < 0)
                return r;
        if ((r = bind_text(s, 1, tbl)) < 0 || (r = bind_int64(s, 2, id)) < 0)
                return r;
        rc = stmt_step(s);
        if (rc == SQLITE_DONE) {
                (void) snprintf(out, AUDIT_HASH_HEX, "%s", AUDIT_ZERO_HASH); /* never recorded */
                return 0;
        }
        if (rc != SQLITE_ROW)
                return errno_from_sqlite(rc);
        (void) snprintf(out, AUDIT_HASH_HEX, "%s", (const char *) sqlite3_column_text(s, 3) ?: "");
        return 0;
}

static int exec_sql(Journal *j, const char *sql, int64_t arg)
{
        sqlite3_stmt *s = NULL;
        int r, rc;

        rc = journal_prepare(j, sql, 0, &s);
        if (rc != SQLITE_OK)
                return errno_from_sqlite(rc);
        r = sqlite3_bind_parameter_count(s) > 0 ? bind_int64(s, 1, arg) : 0;
        if (r >= 0)
                r = stmt_exec(s);
        (void) sqlite3_finalize(s);
        return r;
}

static int prune_apply(Journal *j, usec_t before, const char *actor, const char *reason, IdList lists[],
                       int64_t *ret_seq)
{
        usec_t now = now_usec(CLOCK_REALTIME);
        _cleanup_free_ char *summary = NULL;
        StrBuf b = STRBUF_INIT;
        int64_t seq = 0;
        int r;

        /* The retention record: who, when (its own at), the criteria and the counts. */
        strbuf_puts(&b, "{\"event\":\"retention\",\"actor\":");
        json_put_cstring(&b, actor);
        strbuf_printf(&b, ",\"before\":%" PRIu64 ",\"reason\":", before);
        json_put_cstring(&b, reason);
        strbuf_puts(&b, ",\"removed\":{");
        for (AuditTable t = 0; t < _AUDIT_TABLE_MAX; t++)
                strbuf_printf(&b, "%s\"%s\":%zu", t > 0 ? "," : "", audit_table_to_string(t), lists[t].n);
        strbuf_puts(&b, "}}");
        summary = strbuf_steal(&b);
        r = audit_append(j, AUDIT_TABLE_JOURNAL, 0, "retention", summary, now, &seq);
        if (r < 0)
                return r;

        /* One record per removed row, naming the hash of its last record: what was removed
         * stays provable, and verify knows the row's absence is legitimate. */
        for (AuditTable t = 0; t < _AUDIT_TABLE_MAX; t++)
                for (size_t i = 0; i < lists[t].n; i++) {
                        const char *tbl = audit_table_to_string(t);
                        char last[AUDIT_HASH_HEX];
                        _cleanup_free_ char *data = NULL;

                        r = audit_latest_hash(j, tbl, lists[t].ids[i], last);
                        if (r < 0)
                                return r;
                        data = xasprintf("{\"retention\":%" PRIi64 ",\"last_hash\":\"%s\"}", seq, last);
                        r = audit_append(j, tbl, lists[t].ids[i], "retention", data, now, NULL);
                        if (r < 0)
                                return r;
                }

        r = exec_sql(j, "INSERT INTO retention_guard (seq) VALUES (?)", seq);
        if (r < 0)
                return r;
        for (size_t k = 0; k < ELEMENTSOF(prune_delete_order); k++) {
                AuditTable t = prune_delete_order[k];
                _cleanup_free_ char *sql =
                        xasprintf("DELETE FROM %s WHERE id = ?", audit_table_to_string(t));
                sqlite3_stmt *s = NULL;
                int rc;

                rc = journal_prepare(j, sql, 0, &s);
                if (rc != SQLITE_OK)
                        return errno_from_sqlite(rc);
                for (size_t i = 0; r >= 0 && i < lists[t].n; i++) {
                        r = bind_int64(s, 1, lists[t].ids[i]);
                        if (r >= 0)
                                r = stmt_exec(s);
                        (void) sqlite3_reset(s);
                }
                (void) sqlite3_finalize(s);
                if (r < 0)
                        return r;
        }
        r = exec_sql(j, "DELETE FROM retention_guard", 0);
        if (r < 0)
                return r;
        *ret_seq = seq;
        return 0;
}

int journal_prune(Journal *j, usec_t before, const char *actor, const char *reason, bool dry_run,
                  JournalPruneResult *ret)
{
        IdList lists[_AUDIT_TABLE_MAX] = {};
        JournalPruneResult res = {};
        size_t total = 0;
        int64_t seq = 0;
        bool own;
        int r;

        if (!j || !actor || !*actor || before == 0 || before > (usec_t) INT64_MAX)
                return -EINVAL;

        r = journal_atomic_begin(j, &own);
        if (r < 0)
                return r;
        for (AuditTable t = 0; r >= 0 && t < _AUDIT_TABLE_MAX; t++) {
                r = prune_collect(j, t, before, &lists[t]);
                total += lists[t].n;
        }
        if (r >= 0 && !dry_run && total > 0)
                r = prune_apply(j, before, actor, reason, lists, &seq);
        if (dry_run && r >= 0)
                r = -ECANCELED; /* roll back: a dry run leaves nothing, not even a lock */
        r = journal_atomic_end(j, own, r);
        if (r == -ECANCELED)
                r = 0;

        res = (JournalPruneResult){
                .runs = (unsigned) lists[AUDIT_TABLE_RUNS].n,
                .step_attempts = (unsigned) lists[AUDIT_TABLE_STEP_ATTEMPTS].n,
                .events = (unsigned) lists[AUDIT_TABLE_EVENTS].n,
                .incidents = (unsigned) lists[AUDIT_TABLE_INCIDENTS].n,
                .incident_log = (unsigned) lists[AUDIT_TABLE_INCIDENT_LOG].n,
                .seq = seq,
        };
        for (AuditTable t = 0; t < _AUDIT_TABLE_MAX; t++)
                free(lists[t].ids);
        if (r < 0)
                return r;
        if (ret)
                *ret = res;
        return 0;
}
