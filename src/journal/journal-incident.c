/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-incident.c — incidents and their log in the journal: records, writes
 * (each with its audit record) and queries.
 *
 * Called through journal.h by droverd's monitor, the D-Bus API and droverctl.
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
