/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.h — incident, drill and run reports: a Report model built from journal
 * records, and its renderers (Markdown, JSON, self-contained HTML with an inline SVG
 * timeline).
 *
 * Owns: the Report model and everything derived from the records (the timeline of
 * step attempts and of the fault, detection, decision and recovery; the achieved RTO
 * and RPO against the playbook's objectives; failures; the level history; who did
 * what; for incidents what requirements §3 asks of a report to regulators: overview,
 * time, site, phenomenon, impact, measures taken, expected impact, next steps) and the
 * timeline geometry. report.c, report-md.c, report-json.c and report-html.c are pure:
 * no clock (`generated_at` is an argument), no files, no SQLite.
 *
 * Does not own: reading the journal and the playbook file (report-journal.c, the I/O
 * edge), masking secrets (the journal holds masked text only, and a report adds no
 * other data), writing files or printing (droverctl's `report` verb, ctl-report.c).
 *
 * Called by droverctl (ctl-report.c) and by tests.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/journal-drill.h"
#include "journal/journal.h"
#include "shared/macros.h"
#include "shared/strbuf.h"
#include "shared/time-util.h"

typedef enum ReportKind {
        REPORT_RUN,      /* any run, live or drill */
        REPORT_DRILL,    /* a run of mode drill or tabletop; refuses a live run */
        REPORT_INCIDENT, /* an incident with its level history, log and linked runs */
        _REPORT_KIND_MAX,
        _REPORT_KIND_INVALID = -EINVAL,
} ReportKind;
/* "run", "drill", "incident" */
const char *report_kind_to_string(ReportKind k);
ReportKind report_kind_from_string(const char *s);

typedef enum ReportFormat {
        REPORT_FORMAT_MARKDOWN,
        REPORT_FORMAT_JSON,
        REPORT_FORMAT_HTML,
        _REPORT_FORMAT_MAX,
        _REPORT_FORMAT_INVALID = -EINVAL,
} ReportFormat;
/* "md", "json", "html" */
const char *report_format_to_string(ReportFormat f);
ReportFormat report_format_from_string(const char *s);

/* Points on the timeline. */
typedef enum ReportMarkKind {
        REPORT_MARK_FAULT,         /* when the outage began (params.fault_at, or a "fault" log entry) */
        REPORT_MARK_DETECTION,     /* the incident was opened */
        REPORT_MARK_DECISION,      /* the decision to act: playbook approved/started, or the run started */
        REPORT_MARK_RECOVERY,      /* service restored: fault + measured RTO, or the incident resolved */
        REPORT_MARK_RTO_OBJECTIVE, /* fault (else detection, else run start) + the RTO objective */
        REPORT_MARK_LEVEL,         /* a warning level change */
        _REPORT_MARK_KIND_MAX,
        _REPORT_MARK_KIND_INVALID = -EINVAL,
} ReportMarkKind;
/* "fault", "detection", "decision", "recovery", "rto-objective", "level-change" */
const char *report_mark_kind_to_string(ReportMarkKind k);
ReportMarkKind report_mark_kind_from_string(const char *s);

/* A playbook's objectives as they were when the run ran: known only when the playbook
 * file still has the sha256 the run journaled. */
typedef struct ReportObjectives {
        bool known;
        bool has_rto, has_rpo;
        usec_t rto, rpo;
        char *unknown_reason; /* when !known: why ("…changed since the run") */
} ReportObjectives;

/* One run with everything the journal holds about it. Owned by the Report once added. */
typedef struct ReportRun {
        RunRecord run;
        StepRecord *steps; /* in journal order */
        size_t n_steps;
        EventRecord *events;
        size_t n_events;
        ReportObjectives objectives;
} ReportRun;

void report_run_done(ReportRun *r);

/* One bar of the Gantt chart: one step attempt. */
typedef struct ReportBar {
        const ReportRun *run;   /* borrowed from the Report */
        const StepRecord *step; /* borrowed from run */
        usec_t start, end;      /* end is the run's end (or the timeline's) when the step never ended */
        bool end_unknown;
} ReportBar;

typedef struct ReportMark {
        ReportMarkKind kind;
        usec_t at;
        char *label;
} ReportMark;

/* Who did what, in time order: incident log entries, run starts, approvals, rollbacks. */
typedef struct ReportAction {
        usec_t at;
        char *actor;
        char *what; /* kind: "state-change", "run-started", "approval", … */
        char *text;
        int64_t run_id; /* 0 = none */
} ReportAction;

typedef struct ReportLevelChange {
        usec_t at;
        int from, to; /* -1 unknown (the opening entry), 0 none, 1 red … 4 blue */
        char *actor;
        char *reason;
} ReportLevelChange;

/* The model. Transparent: the renderers and tests read it; only report.c writes it. */
typedef struct Report {
        ReportKind kind;
        usec_t generated_at;

        ReportRun *runs; /* the run (run/drill) or the incident's linked runs, by start */
        size_t n_runs;

        bool has_incident;
        IncidentRecord incident;
        IncidentLogRecord *log;
        size_t n_log;

        /* The drill run (journal-drill.h) a drill/tabletop playbook run belongs to, with its
         * tabletop reviews, evaluation (every row, oldest first) and improvement actions. */
        bool has_drill;
        DrillRunRecord drill_run;
        DrillReviewRecord *reviews;
        size_t n_reviews;
        DrillEvaluationRecord *evaluations;
        size_t n_evaluations;
        DrillActionRecord *drill_actions;
        size_t n_drill_actions;

        /* Derived by report_finish(). */
        bool drill;            /* a drill/tabletop run or a drill incident: never a real incident */
        usec_t t_start, t_end; /* the timeline's span, t_end > t_start */
        usec_t fault_at, detected_at, decided_at, recovered_at; /* 0 = unknown */
        ReportBar *bars; /* every step attempt of every run, by start time */
        size_t n_bars;
        ReportMark *marks; /* by time */
        size_t n_marks;
        ReportAction *actions; /* by time */
        size_t n_actions;
        ReportLevelChange *levels; /* by time */
        size_t n_levels;
        ReportObjectives objectives; /* of the first run whose objectives are known */
        bool has_rto, has_rpo;
        usec_t rto, rpo;                        /* achieved */
        char *rto_source, *rpo_source;          /* how it was measured, for the reader */
        int rto_met, rpo_met;                   /* 1 met, 0 missed, -1 unknown */
        unsigned n_attempts, n_failed_attempts; /* forward and rollback; failed|error|timeout|interrupted */
        const DrillEvaluationRecord **criteria; /* the current (newest) row per criterion, by name */
        size_t n_criteria;
        char *overview; /* one paragraph */
        char *expected_impact;
        char *next_steps;
} Report;

int report_new(Report **ret, ReportKind kind, usec_t generated_at);
Report *report_free(Report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Report *, report_free);

/* Moves *run into the report (the caller's struct is zeroed). */
int report_add_run(Report *r, ReportRun *run);
/* Moves the incident and its log (array and elements) into the report. */
int report_set_incident(Report *r, IncidentRecord *incident, IncidentLogRecord *log, size_t n_log);
/* Moves the drill run and its reviews, evaluations and actions (arrays and elements)
 * into the report. */
int report_set_drill(Report *r, DrillRunRecord *drill_run, DrillReviewRecord *reviews, size_t n_reviews,
                     DrillEvaluationRecord *evaluations, size_t n_evaluations, DrillActionRecord *actions,
                     size_t n_actions);
/* Derives everything above from the records. Call once, after the adds. -EINVAL when a
 * run/drill report has no run, an incident report no incident, or a drill report's run
 * is not a drill (-EMEDIUMTYPE). */
int report_finish(Report *r);

/* Seconds as journaled by a measuring step ("1.234\n"): -EINVAL unless a non-negative
 * finite decimal number. */
int report_parse_seconds(const char *s, usec_t *ret);

/* "alice (commander), bob (duty office)" from a drill run's participants_json; NULL in,
 * NULL out; unparsable JSON is returned as it is. */
char *report_participants_text(const char *participants_json);

/* Escaping for text a person or a remote system wrote. */
void report_put_html_escaped(StrBuf *b, const char *s);
/* For Markdown prose and table cells: HTML-escaped, '|' and '\' and '`' escaped,
 * newlines as spaces. */
void report_put_md_escaped(StrBuf *b, const char *s);
/* A time as format_timestamp() writes it ("unknown" for 0); a duration as
 * format_duration() writes it. */
void report_put_timestamp(StrBuf *b, usec_t t);
void report_put_duration(StrBuf *b, usec_t u);
/* How report_put_outputs() marks up the steps' outputs. */
typedef struct ReportOutputStyle {
        void (*escape)(StrBuf *b, const char *s);  /* the step's name and target */
        const char *step_open, *step_close;        /* around "Run 1, step 2 NAME @ TARGET, try 1" */
        const char *label_open, *label_close;      /* around "command", "stdout", … */
        void (*body)(StrBuf *b, const char *text); /* the output itself */
        const char *body_close;
} ReportOutputStyle;
/* Each non-empty output of each step (command, stdout, stderr, error, in that order),
 * under one heading a step. */
void report_put_outputs(StrBuf *b, const Report *r, const ReportOutputStyle *st);

/* The SVG timeline's geometry (pure; report-html.c draws it, tests check it). */
typedef struct ReportRect {
        double x, y, w, h;
} ReportRect;

typedef struct ReportLayout {
        double width, height;    /* the viewBox: 0 0 width height */
        double plot_x0, plot_x1; /* time axis in x */
        double rows_y0;          /* first bar row */
        usec_t t0, t1;           /* the time range drawn */
        ReportRect *bars;        /* one per report->bars, same order */
        size_t n_bars;
        double *mark_x; /* one per report->marks */
        size_t n_marks;
} ReportLayout;

/* The whole span [t_start, t_end], or any [t0, t1] (bars and marks outside are clamped
 * to the plot's edges). */
int report_layout(const Report *r, ReportLayout *ret);
int report_layout_range(const Report *r, usec_t t0, usec_t t1, ReportLayout *ret);
void report_layout_done(ReportLayout *l);
/* x of a time on the axis of l (clamped to the plot). */
double report_layout_x(const ReportLayout *l, usec_t t);
/* When the step attempts take less than a quarter of the span (a short run against a
 * long RTO objective), the range that shows them readably: true and [*t0, *t1]. */
bool report_layout_zoom(const Report *r, usec_t *ret_t0, usec_t *ret_t1);

/* Renderers: a NUL-terminated document in *ret (caller frees). */
int report_render_markdown(const Report *r, char **ret);
int report_render_json(const Report *r, char **ret); /* one JSON object, schema "drover-report/1" */
int report_render_html(const Report *r, char **ret);
int report_render(const Report *r, ReportFormat f, char **ret);

/* The I/O edge (report-journal.c): read a run/drill/incident from the journal, and each
 * run's playbook file for its objectives, and build the finished report. jd (may be
 * NULL) reads the drill tables: the drill run a drill/tabletop run belongs to, its
 * reviews, evaluation and improvement actions.
 * -ENOENT: no such run or incident; -EMEDIUMTYPE: a drill report of a live run. */
int report_load(Journal *j, JournalDrill *jd, ReportKind kind, int64_t id, usec_t generated_at,
                Report **ret);
/* Objectives from the playbook file at path when its sha256 is still `sha256`. */
void report_read_objectives(const char *path, const char *sha256, ReportObjectives *ret);
