/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-drill.h — the drill tables of the SQLite journal: drill runs (which drill,
 * which playbook runs, fault injected/cleared, achieved RTO/RPO), tabletop reviews
 * (ack/challenge per step, who, when), evaluations (score 1–5 and text per criterion)
 * and improvement actions with their status log.
 *
 * Owns: those tables and their own versioned schema step (table drill_schema), kept
 * apart from journal.c's migrations (PRAGMA user_version) so both can evolve
 * independently; journal_open() runs the step after the migrations, so the tables exist
 * in every journal. The queries the drill verbs and the drill reports need. Does not own:
 * the runs/step_attempts/events tables (journal.c; read here, never written), the audit
 * chain (audit.c), deciding anything, printing.
 *
 * A JournalDrill is a Journal of its own (journal_open() on the same file): every write
 * here is the row change plus its record in the audit hash chain (audit_append_row(),
 * with audit_before_update() before an update), in one transaction, exactly like
 * journal.c's writes, so `droverctl audit verify` covers the drill tables too.
 * Append-only: evaluations, reviews and action status changes are new rows; triggers
 * refuse DELETE everywhere (but during journal_prune()'s retention, which removes no
 * drill record) and UPDATE of the append-only tables. Called by droverctl's drill verbs
 * and (read-only) reports.
 *
 * Times are CLOCK_REALTIME microseconds; 0 = not set. Errors are -errno like journal.h:
 * -EINVAL for a value the schema refuses, -ENOENT for an unknown id, -EPERM for a
 * DELETE/UPDATE the triggers refuse, -EBUSY, -EIO.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/journal.h"
#include "shared/macros.h"
#include "shared/outcome.h"
#include "shared/time-util.h"

#define JOURNAL_DRILL_SCHEMA_VERSION 1

typedef struct JournalDrill JournalDrill;

/* One execution of a drill (tabletop or live). Table drill_runs. */
typedef struct DrillRunRecord {
        int64_t id;
        char *drill; /* the drill's name */
        char *drill_path;
        char *drill_sha256; /* of the drill file as run */
        char *mode;         /* tabletop | live */
        char *purpose;
        char *fault;             /* scenario fault kind */
        char *fault_subject;     /* site or vendor, or NULL */
        char *participants_json; /* [{"name":…, "role":…}] */
        char *actor;
        usec_t started;
        usec_t ended;  /* 0 while running */
        RunOutcome outcome; /* RUN_RUNNING until it ends */
        char *error;
        usec_t fault_injected_at; /* live: when the inject command returned 0 */
        usec_t fault_cleared_at;
        usec_t recovered_at;      /* live: end of the recovered_at step (or of the last run) */
        int64_t rto_objective_us; /* -1 none */
        int64_t rpo_objective_us; /* -1 none */
        int64_t rto_us;           /* achieved: recovered_at - fault_injected_at; -1 unknown */
        int64_t rpo_us;           /* achieved: from the rpo_from step's stdout (seconds); -1 unknown */
        int objectives_met;       /* -1 unknown, 0 no, 1 yes */
        int pid;
        char *hostname;
} DrillRunRecord;

/* A playbook run (runs.id) belonging to a drill run, in order. Table drill_run_runs
 * (columns id, drill_run_id, seq, run_id, playbook). */
typedef struct DrillRunLink {
        int64_t drill_run_id;
        unsigned seq;
        int64_t run_id;
        char *playbook;
} DrillRunLink;

/* A tabletop answer to one step. Table drill_reviews (append-only). */
typedef struct DrillReviewRecord {
        int64_t id;
        int64_t drill_run_id;
        int64_t run_id;
        int step_index; /* 0-based, forward steps; rollback steps carry their forward step's index */
        char *step_name;
        StepPhase phase;
        usec_t shown_at;
        usec_t answered_at;
        char *verdict; /* ack | challenge */
        char *who;
        char *comment; /* may be NULL */
} DrillReviewRecord;

/* One scored criterion of an evaluation. Table drill_evaluations (append-only); the
 * current score of a criterion is its newest row. */
typedef struct DrillEvaluationRecord {
        int64_t id;
        int64_t drill_run_id;
        usec_t at;
        char *evaluator;
        char *criterion; /* objectives | procedure | coordination | resources | lessons */
        int score;       /* 1..5; 0 for "lessons" (free text only) */
        char *text;
} DrillEvaluationRecord;

/* A finding and its improvement action. Table drill_actions (append-only); status lives
 * in drill_action_log, the newest row being the current status. */
typedef struct DrillActionRecord {
        int64_t id;
        int64_t drill_run_id; /* 0 = not tied to a drill run */
        usec_t created_at;
        char *created_by;
        char *finding;
        char *action;
        char *owner;
        char *due; /* YYYY-MM-DD */
        /* derived from the log */
        char *status; /* open | in-progress | done | cancelled */
        usec_t status_at;
        char *status_by;
        char *status_comment;
} DrillActionRecord;

typedef struct DrillActionLogRecord {
        int64_t id;
        int64_t action_id;
        usec_t at;
        char *actor;
        char *status;
        char *comment;
} DrillActionLogRecord;

/* The newest completed (succeeded or failed) drill run per name, or per playbook. */
typedef struct DrillLast {
        char *name;
        usec_t at;
        int64_t id; /* drill_runs.id, or runs.id for playbooks */
        char *mode; /* tabletop | live (drills) ; drill | tabletop (runs.mode for playbooks) */
        RunOutcome outcome;
} DrillLast;

void drill_run_record_done(DrillRunRecord *r);
void drill_run_link_done(DrillRunLink *l);
void drill_review_record_done(DrillReviewRecord *r);
void drill_evaluation_record_done(DrillEvaluationRecord *r);
void drill_action_record_done(DrillActionRecord *r);
void drill_action_log_record_done(DrillActionLogRecord *r);
void drill_last_done(DrillLast *l);

/* Each element's *_done(), then the array: for what the list functions return. */
void drill_run_record_free_array(DrillRunRecord *a, size_t n);
void drill_run_link_free_array(DrillRunLink *a, size_t n);
void drill_review_record_free_array(DrillReviewRecord *a, size_t n);
void drill_evaluation_record_free_array(DrillEvaluationRecord *a, size_t n);
void drill_action_record_free_array(DrillActionRecord *a, size_t n);
void drill_action_log_record_free_array(DrillActionLogRecord *a, size_t n);
void drill_last_free_array(DrillLast *a, size_t n);

/* Open the journal file at path with journal_open() (which creates and migrates it and
 * brings the drill tables to the current version). -EPROTONOSUPPORT when the drill schema
 * is newer than this binary. */
int journal_drill_open(const char *path, JournalDrill **ret);
JournalDrill *journal_drill_close(JournalDrill *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(JournalDrill *, journal_drill_close);
/* Idempotent; journal_open() calls the _on() form for every journal. */
int journal_drill_ensure_schema(JournalDrill *j);
int journal_drill_ensure_schema_on(Journal *j);
const char *journal_drill_errmsg(JournalDrill *j);

/* Drill runs. begin fills pid/hostname/started(0 = now) and outcome "running". */
int journal_drill_run_begin(JournalDrill *j, const DrillRunRecord *r, int64_t *ret_id);
int journal_drill_run_link(JournalDrill *j, int64_t drill_run_id, unsigned seq, int64_t run_id,
                           const char *playbook);
int journal_drill_run_fault(JournalDrill *j, int64_t id, usec_t injected_at,
                            usec_t cleared_at); /* 0 = unchanged */
/* Sets ended (0 = now), outcome, error, recovered_at, rto_us, rpo_us, objectives_met; only
 * while "running" (-EALREADY otherwise). */
int journal_drill_run_end(JournalDrill *j, const DrillRunRecord *r);
int journal_drill_get_run(JournalDrill *j, int64_t id, DrillRunRecord *ret);
/* Newest first; drill NULL = all; limit 0 = all. */
int journal_drill_list_runs(JournalDrill *j, const char *drill, size_t limit, DrillRunRecord **ret,
                            size_t *ret_n);
int journal_drill_list_links(JournalDrill *j, int64_t drill_run_id, DrillRunLink **ret, size_t *ret_n);
/* The drill run a playbook run belongs to; -ENOENT when it is not a drill's. */
int journal_drill_find_by_run(JournalDrill *j, int64_t run_id, int64_t *ret_drill_run_id);
/* Drill runs left "running" by a process of this host that no longer exists → interrupted. */
int journal_drill_recover(JournalDrill *j, unsigned *ret_n);

int journal_drill_review_add(JournalDrill *j, const DrillReviewRecord *r, int64_t *ret_id);
int journal_drill_list_reviews(JournalDrill *j, int64_t drill_run_id, DrillReviewRecord **ret,
                               size_t *ret_n);

int journal_drill_evaluation_add(JournalDrill *j, const DrillEvaluationRecord *r, int64_t *ret_id);
/* Every row, oldest first (the newest per criterion is current). */
int journal_drill_list_evaluations(JournalDrill *j, int64_t drill_run_id, DrillEvaluationRecord **ret,
                                   size_t *ret_n);

/* Adds the action and its first log row (status "open") in one transaction. */
int journal_drill_action_add(JournalDrill *j, const DrillActionRecord *r, int64_t *ret_id);
/* A new status row; -ENOENT unknown action, -EALREADY when it is done or cancelled already. */
int journal_drill_action_set_status(JournalDrill *j, int64_t action_id, const char *status,
                                    const char *actor, const char *comment, usec_t at);
/* open_only: status open or in-progress. drill_run_id 0 = every action. Oldest first. */
int journal_drill_list_actions(JournalDrill *j, bool open_only, int64_t drill_run_id,
                               DrillActionRecord **ret, size_t *ret_n);
int journal_drill_list_action_log(JournalDrill *j, int64_t action_id, DrillActionLogRecord **ret,
                                  size_t *ret_n);

/* Newest completed drill run per drill name (drill_runs), and newest drill/tabletop run
 * per playbook (runs where mode IN ('drill','tabletop') and outcome not running). */
int journal_drill_last_per_drill(JournalDrill *j, DrillLast **ret, size_t *ret_n);
int journal_drill_last_per_playbook(JournalDrill *j, DrillLast **ret, size_t *ret_n);
