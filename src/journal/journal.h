/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal.h — the SQLite journal: runs, step attempts and events, incidents, and the
 * tamper-evident audit chain over all of them (schema 3, see audit.c).
 *
 * Owns: the schema and its migrations (PRAGMA user_version), WAL mode with
 * synchronous=FULL, the rule that a step's start is committed before it acts and
 * its end after, and the recovery that marks what a dead process left running as
 * "interrupted, outcome unknown". Does not own: deciding anything, printing,
 * masking secrets (callers hand it masked strings).
 *
 * Single writer per process; several processes may share a file (busy timeout).
 * Called by droverctl and droverd.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/macros.h"
#include "shared/outcome.h"
#include "shared/time-util.h"

#define JOURNAL_SCHEMA_VERSION 3
#define JOURNAL_ENV "DROVER_DB"
/* The journal when neither --db, $DROVER_DB nor the config names one. */
#define JOURNAL_DEFAULT_PATH "/var/lib/drover/drover.db"

typedef struct Journal Journal;

typedef struct RunRecord {
        int64_t id;
        char *playbook;        /* name */
        char *playbook_path;
        char *playbook_sha256;
        char *kind;            /* playbook kind */
        char *params_json;     /* masked */
        char *trigger;         /* manual | auto | drill */
        char *actor;
        RunMode mode;
        char *hostname;
        int pid;
        uint64_t pid_starttime; /* /proc/PID/stat field 22, to tell a reused PID apart */
        usec_t started;        /* realtime */
        usec_t ended;          /* 0 while running */
        RunOutcome outcome;    /* RUN_RUNNING until it ends */
        char *error;
        /* filled by queries only */
        unsigned n_steps;
        unsigned n_failed;
} RunRecord;

typedef struct StepRecord {
        int64_t id;
        int64_t run_id;
        int step_index;
        char *step_name;
        char *kind;       /* ssh | http | … */
        StepPhase phase;
        char *target;
        unsigned attempt;
        bool idempotent;
        char *detail;     /* masked expanded command/request */
        usec_t started;   /* realtime */
        usec_t ended;     /* 0 while running */
        usec_t duration;  /* monotonic measure */
        StepOutcome outcome; /* STEP_RUNNING until it ends */
        int exit_status;  /* -1 none */
        long http_status; /* 0 none */
        char *stdout_text;
        char *stderr_text;
        char *error;
} StepRecord;

typedef struct EventRecord {
        int64_t id;
        int64_t run_id;   /* 0 = not tied to a run */
        usec_t at;        /* realtime */
        char *kind;
        char *message;
        char *data_json;  /* may be NULL */
} EventRecord;

/* An incident as droverd tracks it (src/incident/): the row holds the current state and
 * level; every change, action and its actor is an IncidentLogRecord (append-only). */
typedef struct IncidentRecord {
        int64_t id;
        usec_t opened_at; /* realtime; 0 = now */
        char *site;
        char *subject;    /* required: the target or site it is about */
        char *phenomenon;
        char *impact;
        char *state;      /* detected | verified | escalated | mitigating | resolved | closed */
        int level;        /* 0 none, 1 red … 4 blue */
        bool drill;       /* opened by a drill, never a real incident */
        usec_t closed_at; /* 0 while open */
} IncidentRecord;

typedef struct IncidentLogRecord {
        int64_t id;
        int64_t incident_id;
        usec_t at;        /* realtime; 0 = now */
        char *actor;      /* a user name, or "policy" */
        char *kind;       /* state-change, level-change, notify, playbook-started, note, … */
        char *text;
        char *state_from, *state_to; /* NULL unless a state change */
        int level_from, level_to;    /* -1 unless a level change */
        int64_t run_id;   /* the run it started or concerns; 0 = none */
} IncidentLogRecord;

void incident_record_done(IncidentRecord *r);
void incident_log_record_done(IncidentLogRecord *r);

void run_record_done(RunRecord *r);
void step_record_done(StepRecord *s);
void event_record_done(EventRecord *e);

/* Each element's *_done(), then the array: for what the list functions return. */
void incident_record_free_array(IncidentRecord *a, size_t n);
void incident_log_record_free_array(IncidentLogRecord *a, size_t n);
void run_record_free_array(RunRecord *a, size_t n);
void step_record_free_array(StepRecord *a, size_t n);
void event_record_free_array(EventRecord *a, size_t n);

/* Path resolution: explicit path, else $DROVER_DB, else config's, else the default. */
const char *journal_resolve_path(const char *explicit_path, const char *config_path);

/* Opens (creating the file and missing parent directory) and migrates to the current
 * schema. A schema newer than this binary is refused (-EPROTONOSUPPORT). */
int journal_open(const char *path, Journal **ret);
Journal *journal_close(Journal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(Journal *, journal_close);

/* Mark runs left "running" by processes that no longer exist (pid + start time + hostname)
 * as interrupted, and their unfinished step attempts as interrupted ("outcome unknown").
 * Records an event for each. Returns counts. */
int journal_recover(Journal *j, unsigned *ret_runs, unsigned *ret_steps);

/* Writes; each is one committed transaction unless inside journal_begin()/journal_commit(). */
int journal_begin(Journal *j);
int journal_commit(Journal *j);
int journal_rollback(Journal *j);

int journal_run_begin(Journal *j, const RunRecord *r, int64_t *ret_id); /* pid/hostname/starttime filled in here */
int journal_run_end(Journal *j, int64_t run_id, RunOutcome outcome, const char *error, usec_t ended);
int journal_step_begin(Journal *j, const StepRecord *s, int64_t *ret_id);
/* Updates ended, duration, outcome, exit_status, http_status, stdout, stderr, error. */
int journal_step_end(Journal *j, const StepRecord *s);
int journal_event(Journal *j, int64_t run_id, usec_t at, const char *kind, const char *message,
                  const char *data_json);

/* Incidents (schema 2). update changes state, level, closed_at, and impact when non-NULL;
 * -ENOENT for an unknown id. The log is append-only. */
int journal_incident_open(Journal *j, const IncidentRecord *r, int64_t *ret_id);
int journal_incident_update(Journal *j, int64_t id, const char *state, int level, const char *impact,
                            usec_t closed_at);
int journal_incident_log(Journal *j, const IncidentLogRecord *r, int64_t *ret_id);
int journal_list_incidents(Journal *j, bool open_only, IncidentRecord **ret, size_t *ret_n); /* newest first */
int journal_get_incident(Journal *j, int64_t id, IncidentRecord *ret);
int journal_list_incident_log(Journal *j, int64_t incident_id, IncidentLogRecord **ret, size_t *ret_n);

/* Queries. Arrays are allocated; free each element with *_record_done and the array with free. */
int journal_list_runs(Journal *j, size_t limit, RunRecord **ret, size_t *ret_n); /* newest first */
int journal_get_run(Journal *j, int64_t id, RunRecord *ret); /* -ENOENT if absent */
int journal_list_steps(Journal *j, int64_t run_id, StepRecord **ret, size_t *ret_n); /* in order */
int journal_list_events(Journal *j, int64_t run_id, EventRecord **ret, size_t *ret_n);

/*
 * Details of the contract above, as implemented (journal.c):
 *  - Errors: -EINVAL for a missing required field (run playbook; step step_name and phase)
 *    or a value the schema refuses (an outcome or phase outside the lists above, a step or
 *    event for a run id that does not exist); -EBUSY when another process holds the lock
 *    past the 30 s busy timeout; -EPERM for a DELETE of anything or an UPDATE of an event
 *    (nothing is ever deleted but by journal_prune(); events are append-only); -EBADMSG for a file that is not an
 *    SQLite database; -EIO for other SQLite failures. journal_errmsg() has SQLite's text.
 *  - journal_begin() while a transaction is open: -EBUSY. journal_commit()/rollback()
 *    without one: -ENOTCONN.
 *  - started/ended/at of 0 in an argument mean "now" (CLOCK_REALTIME).
 *  - journal_run_end()/journal_step_end() only change a record whose outcome is still
 *    "running": -ENOENT if the id does not exist, -EALREADY if it already ended (or was
 *    recovered as interrupted); an outcome that is not final (RUN_RUNNING, STEP_RUNNING, out of range) is -EINVAL.
 *  - journal_step_begin() ignores s->outcome/ended/duration/exit_status/http_status/outputs
 *    and records "running", 0, 0, -1, 0, NULL.
 *  - journal_list_runs(): limit 0 = all. n_steps counts forward attempts; n_failed counts
 *    forward attempts whose outcome is failed, error or timeout.
 *  - journal_list_events(): run_id 0 = every event (tied to a run or not).
 *  - journal_recover(): runs of other hostnames are never touched; an interrupted step keeps
 *    ended = 0 (when it stopped is unknown); the run gets ended = time of recovery.
 */

/*
 * The audit chain (schema 3; the format is specified in audit.c's header comment).
 * Every write above appends, in the same transaction, one record to the table "audit"
 * holding the whole row after the change; each record's hash covers the previous
 * record's hash. Nothing but these functions writes it.
 */
#define AUDIT_HASH_HEX 65 /* 64 lowercase hex digits + NUL */

typedef struct AuditHead {
        int64_t seq;              /* 0 = empty chain (never after a migration) */
        usec_t at;                /* realtime of that record */
        char hash[AUDIT_HASH_HEX];
} AuditHead;

typedef enum AuditProblem {
        AUDIT_PROBLEM_NONE,
        AUDIT_PROBLEM_RECORD_MISSING,  /* a seq is absent: a record was deleted */
        AUDIT_PROBLEM_LINK_BROKEN,     /* prev_hash is not the previous record's hash */
        AUDIT_PROBLEM_RECORD_ALTERED,  /* the record's fields do not give its hash */
        AUDIT_PROBLEM_RECORD_INVALID,  /* unknown table or op, bad hash syntax */
        AUDIT_PROBLEM_ROW_CHANGED,     /* a live row differs from its latest record */
        AUDIT_PROBLEM_ROW_UNRECORDED,  /* a live row without a record (or removed by retention) */
        AUDIT_PROBLEM_ROW_DELETED,     /* a recorded row is gone, without a retention record */
        AUDIT_PROBLEM_ROW_FOUND_ALTERED, /* drover found a row changed behind its back when it
                                          * came to update it (a 'found-altered' record) */
        AUDIT_PROBLEM_HEAD_MISSING,    /* the exported head's seq is past the chain: truncated */
        AUDIT_PROBLEM_HEAD_MISMATCH,   /* the record at the exported seq has another hash */
        _AUDIT_PROBLEM_MAX,
        _AUDIT_PROBLEM_INVALID = -EINVAL,
} AuditProblem;

const char *audit_problem_to_string(AuditProblem p) _pure_;
AuditProblem audit_problem_from_string(const char *s) _pure_;

typedef struct AuditVerdict {
        AuditHead head;      /* the chain's last record */
        uint64_t n_records;  /* records walked */
        uint64_t n_rows;     /* live rows compared */
        AuditProblem problem; /* the first one found; NONE = everything holds */
        int64_t seq;         /* the record concerned, 0 = none */
        char *table;         /* the table concerned, NULL = none */
        int64_t row_id;      /* the row concerned, 0 = none */
        char *detail;        /* what differs, for a human */
} AuditVerdict;

void audit_verdict_done(AuditVerdict *v);

/* The last record of the chain. */
int journal_audit_head(Journal *j, AuditHead *ret);
/* Walks the whole chain, then compares every live row with its latest record; with
 * expect, also checks that the chain still holds expect->hash at expect->seq. Returns 0
 * when the check ran (the verdict says whether it passed), <0 when it could not run. */
int journal_audit_verify(Journal *j, const AuditHead *expect, AuditVerdict *ret);
/* "SEQ:HASH" → head (at = 0). -EINVAL when malformed. */
int audit_head_parse(const char *s, AuditHead *ret);

/*
 * Retention: the only way anything leaves the journal. Removes runs that ended before
 * `before` (with their step attempts and events) unless a kept incident's log refers to
 * them, and closed incidents closed before `before` (with their log), in one
 * transaction, after appending a 'retention' record (actor, criteria, counts) and one
 * 'retention' record per removed row naming the hash of its last record. The audit
 * chain itself is never shortened. dry_run counts and changes nothing.
 */
typedef struct JournalPruneResult {
        unsigned runs, step_attempts, events, incidents, incident_log;
        int64_t seq; /* the retention record; 0 for a dry run or when nothing matched */
} JournalPruneResult;

int journal_prune(Journal *j, usec_t before, const char *actor, const char *reason, bool dry_run,
                  JournalPruneResult *ret);

/* SQLite's message for the last failure on this connection, for callers that log. */
const char *journal_errmsg(Journal *j);
