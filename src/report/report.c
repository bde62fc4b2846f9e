/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.c — the Report model (see report.h): owns the records handed to it and
 * derives the timeline, the achieved RTO/RPO against the objectives, the level
 * history, who did what, and the regulator's overview/expected impact/next steps.
 * Pure: no clock, no files, no SQLite. Called by report-journal.c and tests; the
 * renderers only read what this file derived.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "shared/string-table.h"

static const char *const report_kind_table[_REPORT_KIND_MAX] = {
        [REPORT_RUN] = "run",
        [REPORT_DRILL] = "drill",
        [REPORT_INCIDENT] = "incident",
};
DEFINE_STRING_TABLE(report_kind, ReportKind, report_kind_table)

static const char *const report_format_table[_REPORT_FORMAT_MAX] = {
        [REPORT_FORMAT_MARKDOWN] = "md",
        [REPORT_FORMAT_JSON] = "json",
        [REPORT_FORMAT_HTML] = "html",
};
DEFINE_STRING_TABLE(report_format, ReportFormat, report_format_table)

static const char *const report_mark_kind_table[_REPORT_MARK_KIND_MAX] = {
        [REPORT_MARK_FAULT] = "fault",
        [REPORT_MARK_DETECTION] = "detection",
        [REPORT_MARK_DECISION] = "decision",
        [REPORT_MARK_RECOVERY] = "recovery",
        [REPORT_MARK_RTO_OBJECTIVE] = "rto-objective",
        [REPORT_MARK_LEVEL] = "level-change",
};
DEFINE_STRING_TABLE(report_mark_kind, ReportMarkKind, report_mark_kind_table)

/* The four warning levels of requirements §1: colour, meaning, what they set in motion. */
static const char *const level_colour[] = {"none", "red", "orange", "yellow", "blue"};
static const char *const level_meaning[] = {
        "no warning level is in force",
        "severe failure: payment service fully interrupted, major impact, expected outage longer than the "
        "level-1 bound",
        "major failure: part of the service affected or noticeable impact, expected outage between the "
        "level-2 bounds",
        "ordinary failure: service disturbed but basic operation continues, expected outage under the "
        "level-3 bound",
        "minor anomaly: a potential risk to watch, no expected outage",
};
static const char *const level_actions[] = {
        "keep the record; no emergency procedure is in force",
        "the full emergency plan: every group on duty; first technical solution within the level-1 deadline",
        "start the relevant part of the emergency procedure, engage the vendor, inform customers; locate "
        "the "
        "fault within the level-2 deadline",
        "pre-handling: prepare resources, be ready to escalate; check the fault within the level-3 deadline",
        "watch closely, raise the monitoring frequency, collect information",
};

static int level_index(int level)
{
        return level >= 0 && level <= 4 ? level : 0;
}

void report_run_done(ReportRun *r)
{
        if (!r)
                return;
        run_record_done(&r->run);
        step_record_free_array(r->steps, r->n_steps);
        event_record_free_array(r->events, r->n_events);
        free(r->objectives.unknown_reason);
        *r = (ReportRun){};
}

int report_new(Report **ret, ReportKind kind, usec_t generated_at)
{
        if (!ret || kind < 0 || kind >= _REPORT_KIND_MAX)
                return -EINVAL;
        Report *r = xcalloc(1, sizeof *r);
        r->kind = kind;
        r->generated_at = generated_at;
        r->rto_met = r->rpo_met = -1;
        *ret = r;
        return 0;
}

Report *report_free(Report *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_runs; i++)
                report_run_done(&r->runs[i]);
        free(r->runs);
        incident_record_done(&r->incident);
        incident_log_record_free_array(r->log, r->n_log);
        drill_run_record_done(&r->drill_run);
        drill_review_record_free_array(r->reviews, r->n_reviews);
        drill_evaluation_record_free_array(r->evaluations, r->n_evaluations);
        drill_action_record_free_array(r->drill_actions, r->n_drill_actions);
        free(r->criteria);
        free(r->bars);
        for (size_t i = 0; i < r->n_marks; i++)
                free(r->marks[i].label);
        free(r->marks);
        for (size_t i = 0; i < r->n_actions; i++) {
                free(r->actions[i].actor);
                free(r->actions[i].what);
                free(r->actions[i].text);
        }
        free(r->actions);
        for (size_t i = 0; i < r->n_levels; i++) {
                free(r->levels[i].actor);
                free(r->levels[i].reason);
        }
        free(r->levels);
        free(r->objectives.unknown_reason);
        free(r->rto_source);
        free(r->rpo_source);
        free(r->overview);
        free(r->expected_impact);
        free(r->next_steps);
        free(r);
        return NULL;
}

int report_add_run(Report *r, ReportRun *run)
{
        if (!r || !run || r->bars)
                return -EINVAL;
        ReportRun *slot = array_push(&r->runs, &r->n_runs, sizeof *slot);
        *slot = *run;
        *run = (ReportRun){};
        return 0;
}

int report_set_incident(Report *r, IncidentRecord *incident, IncidentLogRecord *log, size_t n_log)
{
        if (!r || !incident || r->has_incident || r->bars)
                return -EINVAL;
        r->has_incident = true;
        r->incident = *incident;
        *incident = (IncidentRecord){};
        r->log = log;
        r->n_log = n_log;
        return 0;
}

int report_set_drill(Report *r, DrillRunRecord *drill_run, DrillReviewRecord *reviews, size_t n_reviews,
                     DrillEvaluationRecord *evaluations, size_t n_evaluations, DrillActionRecord *actions,
                     size_t n_actions)
{
        if (!r || !drill_run || r->has_drill || r->bars)
                return -EINVAL;
        r->has_drill = true;
        r->drill_run = *drill_run;
        *drill_run = (DrillRunRecord){};
        r->reviews = reviews;
        r->n_reviews = n_reviews;
        r->evaluations = evaluations;
        r->n_evaluations = n_evaluations;
        r->drill_actions = actions;
        r->n_drill_actions = n_actions;
        return 0;
}


int report_parse_seconds(const char *s, usec_t *ret)
{
        if (!s)
                return -EINVAL;
        while (*s == ' ' || *s == '\t')
                s++;
        /* Digits and at most one '.', then only whitespace: strtod alone takes "inf", hex… */
        const char *p = s;
        bool digit = false, dot = false;
        for (; *p; p++) {
                if (*p >= '0' && *p <= '9')
                        digit = true;
                else if (*p == '.' && !dot)
                        dot = true;
                else
                        break;
        }
        if (!digit)
                return -EINVAL;
        for (const char *q = p; *q; q++)
                if (!strchr(" \t\r\n", *q))
                        return -EINVAL;
        double v = strtod(s, NULL);
        /* 1e12 s: any epoch time (fault_at) or duration a drover run can meet */
        if (!isfinite(v) || v < 0 || v > 1e12)
                return -EINVAL;
        *ret = (usec_t) llround(v * (double) USEC_PER_SEC);
        return 0;
}

static int cmp_usec(usec_t a, usec_t b)
{
        return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_run(const void *a, const void *b)
{
        const ReportRun *x = a, *y = b;
        int c = cmp_usec(x->run.started, y->run.started);
        return c ? c : (x->run.id < y->run.id ? -1 : x->run.id > y->run.id);
}

static int cmp_bar(const void *a, const void *b)
{
        const ReportBar *x = a, *y = b;
        int c = cmp_usec(x->start, y->start);
        if (c)
                return c;
        c = cmp_usec(x->run->run.started, y->run->run.started);
        return c ? c : (x->step->id < y->step->id ? -1 : x->step->id > y->step->id);
}

/* Stable sorts keep the journal's order among equal times: insertion sort on small arrays
 * of indices would do too, but qsort with the id as the last key is total already. */
static int cmp_mark(const void *a, const void *b)
{
        const ReportMark *x = a, *y = b;
        int c = cmp_usec(x->at, y->at);
        return c ? c : (int) x->kind - (int) y->kind;
}

typedef struct ActionSort {
        ReportAction a;
        size_t seq;
} ActionSort;

static int cmp_action(const void *a, const void *b)
{
        const ActionSort *x = a, *y = b;
        int c = cmp_usec(x->a.at, y->a.at);
        return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static void add_mark(Report *r, ReportMarkKind kind, usec_t at, char *label)
{
        if (at == 0) {
                free(label);
                return;
        }
        ReportMark *m = array_push(&r->marks, &r->n_marks, sizeof *m);
        m->kind = kind;
        m->at = at;
        m->label = label;
}

static void add_action(ActionSort **v, size_t *n, usec_t at, const char *actor, const char *what, char *text,
                       int64_t run_id)
{
        ActionSort *s = array_push(v, n, sizeof *s);
        s->seq = *n;
        s->a.at = at;
        s->a.actor = xstrdup(actor && *actor ? actor : "unknown");
        s->a.what = xstrdup(what);
        s->a.text = text;
        s->a.run_id = run_id;
}

/* params.fault_at of a run, epoch seconds as the lab playbooks take it; 0 = none. */
static usec_t run_fault_at(const RunRecord *run)
{
        if (!run->params_json)
                return 0;
        json_t *p = json_loads(run->params_json, 0, NULL);
        usec_t at = 0;
        if (p) {
                json_t *v = json_object_get(p, "fault_at");
                if (json_is_string(v))
                        (void) report_parse_seconds(json_string_value(v), &at);
                else if (json_is_number(v) && json_number_value(v) > 0)
                        at = (usec_t) llround(json_number_value(v) * (double) USEC_PER_SEC);
                json_decref(p);
        }
        return at;
}

/* The last successful forward attempt of a measuring step, by name. */
static const StepRecord *find_measure(const Report *r, const char *const *names, const ReportRun **ret_run)
{
        const StepRecord *found = NULL;
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_steps; k++) {
                        const StepRecord *s = &r->runs[i].steps[k];
                        if (s->phase != STEP_PHASE_FORWARD || s->outcome != STEP_OK)
                                continue;
                        for (const char *const *n = names; *n; n++)
                                if (streq_ptr(s->step_name, *n)) {
                                        found = s;
                                        *ret_run = &r->runs[i];
                                }
                }
        return found;
}

/* "approved by alice at 2026-…: comment" / "denied by bob: comment" → "alice". */
static char *approval_actor(const char *text, const char *prefix)
{
        const char *p = text ? strstr(text, prefix) : NULL;
        if (!p)
                return NULL;
        p += strlen(prefix);
        size_t n = strcspn(p, " :\n");
        return n ? xstrndup(p, n) : NULL;
}

static char *fmt_ts(usec_t t)
{
        char b[FORMAT_TIMESTAMP_MAX];
        return xstrdup(t ? format_timestamp(b, t) : "unknown");
}

static void derive_times(Report *r)
{
        const IncidentRecord *inc = &r->incident;

        /* Fault: a run's params.fault_at, or an incident log entry of kind "fault". */
        for (size_t i = 0; i < r->n_runs && !r->fault_at; i++)
                r->fault_at = run_fault_at(&r->runs[i].run);
        for (size_t i = 0; i < r->n_log && !r->fault_at; i++)
                if (streq_ptr(r->log[i].kind, "fault"))
                        r->fault_at = r->log[i].at;
        if (!r->fault_at && r->has_drill)
                r->fault_at = r->drill_run.fault_injected_at;

        if (r->has_incident) {
                r->detected_at = inc->opened_at;
                for (size_t i = 0; i < r->n_log && !r->decided_at; i++) {
                        const IncidentLogRecord *l = &r->log[i];
                        if (streq_ptr(l->kind, "playbook-approved") ||
                            streq_ptr(l->kind, "playbook-started") || streq_ptr(l->state_to, "mitigating"))
                                r->decided_at = l->at;
                }
                for (size_t i = 0; i < r->n_log && !r->recovered_at; i++)
                        if (streq_ptr(r->log[i].state_to, "resolved"))
                                r->recovered_at = r->log[i].at;
        } else if (r->n_runs > 0)
                r->decided_at = r->runs[0].run.started;

        /* RTO: a drill run's own measurement (fault injected → its recovered_at step, what
         * the drill is judged by), else a measuring step (fault → first proof of service,
         * as the playbook defines it), else the incident's fault/detection → resolved. */
        static const char *const rto_names[] = {"measured-rto", "achieved-rto", NULL};
        static const char *const rpo_names[] = {"achieved-rpo", "measured-rpo", NULL};
        const ReportRun *mrun = NULL;
        const StepRecord *m = find_measure(r, rto_names, &mrun);
        usec_t v;
        if (r->has_drill && r->drill_run.rto_us >= 0) {
                r->has_rto = true;
                r->rto = (usec_t) r->drill_run.rto_us;
                r->rto_source = xasprintf("measured by drill run %lld (fault injected → recovered)",
                                          (long long) r->drill_run.id);
                r->recovered_at = r->drill_run.recovered_at;
        } else if (m && report_parse_seconds(m->stdout_text, &v) >= 0) {
                r->has_rto = true;
                r->rto = v;
                r->rto_source = xasprintf("measured by step '%s' of run %lld (from the fault to the first "
                                          "proof of service)",
                                          m->step_name, (long long) mrun->run.id);
                if (r->fault_at)
                        r->recovered_at = r->fault_at + v;
        } else if (r->has_incident && r->recovered_at) {
                usec_t from = r->fault_at ? r->fault_at : r->detected_at;
                if (from && r->recovered_at >= from) {
                        r->has_rto = true;
                        r->rto = r->recovered_at - from;
                        r->rto_source =
                                xstrdup(r->fault_at ? "from the fault to the incident's resolution"
                                                    : "from detection (the fault time is not known) to "
                                                      "the incident's resolution: a lower bound");
                }
        } else if (!r->has_incident && r->n_runs > 0 && r->runs[0].run.outcome == RUN_SUCCEEDED)
                r->recovered_at = r->runs[0].run.ended;

        m = find_measure(r, rpo_names, &mrun);
        if (r->has_drill && r->drill_run.rpo_us >= 0) {
                r->has_rpo = true;
                r->rpo = (usec_t) r->drill_run.rpo_us;
                r->rpo_source = xasprintf("measured by drill run %lld", (long long) r->drill_run.id);
        } else if (m && report_parse_seconds(m->stdout_text, &v) >= 0) {
                r->has_rpo = true;
                r->rpo = v;
                r->rpo_source = xasprintf("measured by step '%s' of run %lld (age of the newest recovered "
                                          "transaction)",
                                          m->step_name, (long long) mrun->run.id);
        }

        /* A drill is judged by the objectives its drill file states (recorded with the drill
         * run); otherwise by the playbook's, when its file is unchanged since the run. */
        if (r->has_drill && (r->drill_run.rto_objective_us >= 0 || r->drill_run.rpo_objective_us >= 0)) {
                r->objectives.known = true;
                r->objectives.has_rto = r->drill_run.rto_objective_us >= 0;
                r->objectives.rto = r->objectives.has_rto ? (usec_t) r->drill_run.rto_objective_us : 0;
                r->objectives.has_rpo = r->drill_run.rpo_objective_us >= 0;
                r->objectives.rpo = r->objectives.has_rpo ? (usec_t) r->drill_run.rpo_objective_us : 0;
        } else
                for (size_t i = 0; i < r->n_runs; i++)
                        if (r->runs[i].objectives.known) {
                                r->objectives = r->runs[i].objectives;
                                r->objectives.unknown_reason = NULL;
                                break;
                        }
        if (!r->objectives.known)
                r->objectives.unknown_reason =
                        r->n_runs == 0 ? xstrdup("no playbook run is linked to this incident")
                        : r->runs[0].objectives.unknown_reason
                                ? xstrdup(r->runs[0].objectives.unknown_reason)
                                : xstrdup("the playbook's objectives are unknown");

        if (r->objectives.known && r->objectives.has_rto && r->has_rto)
                r->rto_met = r->rto <= r->objectives.rto;
        if (r->objectives.known && r->objectives.has_rpo && r->has_rpo)
                r->rpo_met = r->rpo <= r->objectives.rpo;
}

static void derive_marks(Report *r)
{
        char d[FORMAT_DURATION_MAX];

        add_mark(r, REPORT_MARK_FAULT, r->fault_at, xstrdup("fault"));
        add_mark(r, REPORT_MARK_DETECTION, r->detected_at, xstrdup("detection"));
        add_mark(r, REPORT_MARK_DECISION, r->decided_at, xstrdup("decision"));
        add_mark(r, REPORT_MARK_RECOVERY, r->recovered_at,
                 r->has_rto        ? xasprintf("recovery (RTO %s)", format_duration(d, r->rto))
                 : r->has_incident ? xstrdup("recovery (resolved)")
                                   : xstrdup("recovery (run succeeded)"));
        /* The objective runs from the fault (or, for an incident, its detection). A run
         * without a fault time has no point to measure it from: no line is drawn. */
        if (r->objectives.known && r->objectives.has_rto) {
                usec_t base = r->fault_at ? r->fault_at : r->detected_at;
                if (base)
                        add_mark(r, REPORT_MARK_RTO_OBJECTIVE, base + r->objectives.rto,
                                 xasprintf("RTO objective %s", format_duration(d, r->objectives.rto)));
        }
        for (size_t i = 0; i < r->n_levels; i++) {
                const ReportLevelChange *l = &r->levels[i];
                add_mark(r, REPORT_MARK_LEVEL, l->at,
                         xasprintf("level %s", level_colour[level_index(l->to)]));
        }
        if (r->n_marks > 1)
                qsort(r->marks, r->n_marks, sizeof *r->marks, cmp_mark);
}

static void derive_levels(Report *r)
{
        for (size_t i = 0; i < r->n_log; i++) {
                const IncidentLogRecord *l = &r->log[i];
                if (l->level_to < 0)
                        continue;
                ReportLevelChange *c = array_push(&r->levels, &r->n_levels, sizeof *c);
                c->at = l->at;
                c->from = l->level_from;
                c->to = l->level_to;
                c->actor = xstrdup(strempty(l->actor));
                c->reason = xstrdup(strempty(l->text));
        }
}

static void derive_actions(Report *r)
{
        ActionSort *v = NULL;
        size_t n = 0;

        for (size_t i = 0; i < r->n_log; i++) {
                const IncidentLogRecord *l = &r->log[i];
                char *text;
                if (l->state_from && l->state_to)
                        text = xasprintf("%s → %s%s%s", l->state_from, l->state_to, l->text ? ": " : "",
                                         strempty(l->text));
                else if (l->level_to >= 0)
                        text = xasprintf("level %s → %s%s%s",
                                         l->level_from >= 0 ? level_colour[level_index(l->level_from)] : "-",
                                         level_colour[level_index(l->level_to)], l->text ? ": " : "",
                                         strempty(l->text));
                else
                        text = xstrdup(strempty(l->text));
                add_action(&v, &n, l->at, l->actor, strempty(l->kind), text, l->run_id);
        }
        for (size_t i = 0; i < r->n_runs; i++) {
                const ReportRun *rr = &r->runs[i];
                const RunRecord *run = &rr->run;
                add_action(&v, &n, run->started, run->actor, "run-started",
                           xasprintf("run %lld of playbook %s (mode %s, trigger %s)", (long long) run->id,
                                     strempty(run->playbook), run_mode_to_string(run->mode), strempty(run->trigger)),
                           run->id);
                for (size_t k = 0; k < rr->n_steps; k++) {
                        const StepRecord *s = &rr->steps[k];
                        if (!streq_ptr(s->kind, "approve") || !s->ended)
                                continue;
                        _cleanup_free_ char *who = approval_actor(s->stdout_text, "approved by ");
                        if (!who)
                                who = approval_actor(s->error, "denied by ");
                        add_action(&v, &n, s->ended, who ? who : "unknown", "approval",
                                   xasprintf("step %s: %s", strempty(s->step_name),
                                             s->stdout_text && *s->stdout_text ? s->stdout_text
                                                                               : strempty(s->error)),
                                   run->id);
                }
                for (size_t k = 0; k < rr->n_events; k++) {
                        const EventRecord *e = &rr->events[k];
                        add_action(&v, &n, e->at, "drover", strempty(e->kind), xstrdup(strempty(e->message)),
                                   run->id);
                }
                if (run->ended)
                        add_action(&v, &n, run->ended, "drover", "run-finished",
                                   xasprintf("run %lld %s%s%s", (long long) run->id, run_outcome_to_string(run->outcome),
                                             run->error ? ": " : "", strempty(run->error)),
                                   run->id);
        }
        for (size_t i = 0; i < r->n_reviews; i++) {
                const DrillReviewRecord *w = &r->reviews[i];
                add_action(&v, &n, w->answered_at, w->who, "tabletop-review",
                           xasprintf("%s step %d %s%s%s", strempty(w->verdict), w->step_index + 1,
                                     strempty(w->step_name), w->comment ? ": " : "", strempty(w->comment)),
                           w->run_id);
        }
        for (size_t i = 0; i < r->n_evaluations; i++) {
                const DrillEvaluationRecord *e = &r->evaluations[i];
                add_action(&v, &n, e->at, e->evaluator, "evaluation",
                           xasprintf("%s: score %d%s%s", strempty(e->criterion), e->score,
                                     e->text ? ": " : "", strempty(e->text)),
                           0);
        }
        for (size_t i = 0; i < r->n_drill_actions; i++) {
                const DrillActionRecord *a = &r->drill_actions[i];
                add_action(&v, &n, a->created_at, a->created_by, "improvement-action",
                           xasprintf("%s → %s (owner %s, due %s)", strempty(a->finding), strempty(a->action),
                                     strempty(a->owner), strempty(a->due)),
                           0);
        }
        if (n > 1)
                qsort(v, n, sizeof *v, cmp_action);
        r->actions = n ? xcalloc(n, sizeof *r->actions) : NULL;
        for (size_t i = 0; i < n; i++)
                r->actions[i] = v[i].a;
        r->n_actions = n;
        free(v);
}

static void derive_bars(Report *r)
{
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_steps; k++) {
                        const StepRecord *s = &r->runs[i].steps[k];
                        ReportBar *b = array_push(&r->bars, &r->n_bars, sizeof *b);
                        b->run = &r->runs[i];
                        b->step = s;
                        b->start = s->started ? s->started : r->runs[i].run.started;
                        b->end = s->ended;
                        b->end_unknown = s->ended == 0;
                        r->n_attempts++;
                        if (step_outcome_is_failure(s->outcome))
                                r->n_failed_attempts++;
                }
        if (r->n_bars > 1)
                qsort(r->bars, r->n_bars, sizeof *r->bars, cmp_bar);
}

static int cmp_criterion(const void *a, const void *b)
{
        const DrillEvaluationRecord *const *x = a, *const *y = b;
        return strcmp(strempty((*x)->criterion), strempty((*y)->criterion));
}

/* The newest row per criterion is the current score (rows come oldest first). */
static void derive_criteria(Report *r)
{
        for (size_t i = 0; i < r->n_evaluations; i++) {
                const DrillEvaluationRecord *e = &r->evaluations[i];
                size_t k;
                for (k = 0; k < r->n_criteria; k++)
                        if (streq_ptr(r->criteria[k]->criterion, e->criterion))
                                break;
                if (k == r->n_criteria) {
                        const DrillEvaluationRecord **slot =
                                array_push(&r->criteria, &r->n_criteria, sizeof *r->criteria);
                        *slot = e;
                } else if (e->at >= r->criteria[k]->at)
                        r->criteria[k] = e;
        }
        if (r->n_criteria > 1)
                qsort(r->criteria, r->n_criteria, sizeof *r->criteria, cmp_criterion);
}

static void span_add(Report *r, usec_t t)
{
        if (t == 0)
                return;
        if (r->t_start == 0 || t < r->t_start)
                r->t_start = t;
        if (t > r->t_end)
                r->t_end = t;
}

static void derive_span(Report *r)
{
        for (size_t i = 0; i < r->n_runs; i++) {
                span_add(r, r->runs[i].run.started);
                span_add(r, r->runs[i].run.ended);
        }
        for (size_t i = 0; i < r->n_bars; i++) {
                span_add(r, r->bars[i].start);
                span_add(r, r->bars[i].end);
        }
        for (size_t i = 0; i < r->n_marks; i++)
                span_add(r, r->marks[i].at);
        if (r->has_incident)
                span_add(r, r->incident.opened_at);
        if (r->t_start == 0)
                r->t_start = r->t_end = r->generated_at ? r->generated_at : 1;
        if (r->t_end <= r->t_start)
                r->t_end = r->t_start + USEC_PER_SEC;
        /* A step that never ended (interrupted) is drawn to its run's end, else the span's. */
        for (size_t i = 0; i < r->n_bars; i++) {
                ReportBar *b = &r->bars[i];
                if (b->end_unknown)
                        b->end = b->run->run.ended > b->start ? b->run->run.ended : r->t_end;
                if (b->end < b->start)
                        b->end = b->start;
        }
}

static void derive_texts(Report *r)
{
        StrBuf b = STRBUF_INIT;
        char d[FORMAT_DURATION_MAX];

        if (r->has_incident) {
                const IncidentRecord *inc = &r->incident;
                int lv = level_index(inc->level);
                _cleanup_free_ char *t = fmt_ts(inc->opened_at);
                strbuf_printf(&b, "%sIncident %lld at site %s concerning %s was detected at %s: %s. ",
                              r->drill ? "DRILL, not a real incident. " : "", (long long) inc->id,
                              inc->site ? inc->site : "unknown", strempty(inc->subject), t,
                              inc->phenomenon ? inc->phenomenon : "phenomenon not recorded");
                strbuf_printf(&b, "It is at level %d (%s) and in state %s.", lv, level_colour[lv],
                              strempty(inc->state));
                size_t n_runs_ok = 0;
                for (size_t i = 0; i < r->n_runs; i++)
                        n_runs_ok += r->runs[i].run.outcome == RUN_SUCCEEDED;
                if (r->n_runs)
                        strbuf_printf(&b, " %zu playbook run%s, %zu succeeded.", r->n_runs,
                                      r->n_runs == 1 ? "" : "s", n_runs_ok);
                if (r->has_rto)
                        strbuf_printf(&b, " Service was restored after %s%s.", format_duration(d, r->rto),
                                      r->rto_met == 1   ? ", within the objective"
                                      : r->rto_met == 0 ? ", MISSING the objective"
                                                        : "");
                else if (!r->recovered_at)
                        strbuf_puts(&b, " Service is not recorded as restored.");
                r->overview = strbuf_steal(&b);

                strbuf_printf(&b, "Level %d (%s): %s.", lv, level_colour[lv], level_meaning[lv]);
                if (inc->impact && *inc->impact)
                        strbuf_printf(&b, " Scope of impact as recorded: %s.", inc->impact);
                for (size_t i = 0; i < r->n_log; i++)
                        if (streq_ptr(r->log[i].kind, "expected-impact") && r->log[i].text)
                                strbuf_printf(&b, " %s (%s).", r->log[i].text, strempty(r->log[i].actor));
                if (streq_ptr(inc->state, "resolved") || streq_ptr(inc->state, "closed"))
                        strbuf_puts(&b, " The service is restored; no further impact is expected unless "
                                        "the incident reopens.");
                r->expected_impact = strbuf_steal(&b);

                if (streq_ptr(inc->state, "detected"))
                        strbuf_puts(&b,
                                    "The duty office verifies the report and escalates it to the head of "
                                    "the command centre, who decides whether regulators are told. ");
                else if (streq_ptr(inc->state, "verified"))
                        strbuf_puts(&b, "Escalate to the head of the command centre, who decides whether "
                                        "regulators are told. ");
                if (streq_ptr(inc->state, "resolved") || streq_ptr(inc->state, "closed"))
                        strbuf_puts(&b,
                                    "Post-event evaluation: cause, effectiveness of the measures, adequacy "
                                    "of resources, coordination between groups; loss assessment (direct "
                                    "and indirect); revise the plan.");
                else
                        strbuf_printf(&b, "At level %s: %s.", level_colour[lv], level_actions[lv]);
                if (streq_ptr(inc->state, "resolved"))
                        strbuf_puts(&b, " Then close the incident.");
                for (size_t i = 0; i < r->n_log; i++)
                        if ((streq_ptr(r->log[i].kind, "next-steps") ||
                             streq_ptr(r->log[i].kind, "next-step")) &&
                            r->log[i].text)
                                strbuf_printf(&b, " %s (%s).", r->log[i].text, strempty(r->log[i].actor));
                r->next_steps = strbuf_steal(&b);
                return;
        }

        const RunRecord *run = &r->runs[0].run;
        _cleanup_free_ char *t = fmt_ts(run->started);
        strbuf_printf(&b, "%s%s %lld of playbook %s (%s), %s by %s at %s: %s",
                      r->drill ? "DRILL, not a real incident. " : "", r->drill ? "Drill run" : "Run",
                      (long long) run->id, strempty(run->playbook), strempty(run->kind),
                      strempty(run->trigger), strempty(run->actor), t, run_outcome_to_string(run->outcome));
        if (run->ended && run->ended >= run->started)
                strbuf_printf(&b, " after %s", format_duration(d, run->ended - run->started));
        strbuf_printf(&b, "; %u step attempt%s, %u failed.", r->n_attempts, r->n_attempts == 1 ? "" : "s",
                      r->n_failed_attempts);
        if (r->has_rto)
                strbuf_printf(&b, " Achieved RTO %s%s.", format_duration(d, r->rto),
                              r->rto_met == 1   ? ", within the objective"
                              : r->rto_met == 0 ? ", MISSING the objective"
                                                : "");
        if (r->has_drill) {
                const DrillRunRecord *dr = &r->drill_run;
                size_t open = 0;
                for (size_t i = 0; i < r->n_drill_actions; i++)
                        open += streq_ptr(r->drill_actions[i].status, "open") ||
                                streq_ptr(r->drill_actions[i].status, "in-progress");
                strbuf_printf(&b, " Part of %s drill '%s' (drill run %lld)%s%s.", strempty(dr->mode),
                              strempty(dr->drill), (long long) dr->id, dr->purpose ? ": " : "",
                              strempty(dr->purpose));
                strbuf_printf(&b, " Evaluation: %zu criteri%s scored; %zu improvement action%s, %zu open.",
                              r->n_criteria, r->n_criteria == 1 ? "on" : "a", r->n_drill_actions,
                              r->n_drill_actions == 1 ? "" : "s", open);
        }
        r->overview = strbuf_steal(&b);
}

int report_finish(Report *r)
{
        if (!r || r->bars || r->marks)
                return -EINVAL;
        if (r->kind == REPORT_INCIDENT ? !r->has_incident : r->n_runs != 1)
                return -EINVAL;
        if (r->n_runs > 1)
                qsort(r->runs, r->n_runs, sizeof *r->runs, cmp_run);

        if (r->has_incident)
                r->drill = r->incident.drill;
        else {
                r->drill = run_mode_is_drill(r->runs[0].run.mode) || r->has_drill;
                if (r->kind == REPORT_DRILL && !r->drill)
                        return -EMEDIUMTYPE;
        }

        derive_bars(r);
        derive_criteria(r);
        derive_levels(r);
        derive_times(r);
        derive_marks(r);
        derive_span(r);
        derive_actions(r);
        derive_texts(r);
        return 0;
}

char *report_participants_text(const char *participants_json)
{
        if (!participants_json)
                return NULL;
        json_t *a = json_loads(participants_json, 0, NULL);
        if (!json_is_array(a)) {
                json_decref(a);
                return xstrdup(participants_json);
        }
        StrBuf b = STRBUF_INIT;
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
                const char *name = json_string_value(json_object_get(v, "name"));
                const char *role = json_string_value(json_object_get(v, "role"));
                strbuf_printf(&b, "%s%s", i ? ", " : "", name ? name : "?");
                if (role)
                        strbuf_printf(&b, " (%s)", role);
        }
        json_decref(a);
        return strbuf_steal(&b);
}

/* '<', '>' and '&' as HTML entities, the part both escapings share; false for any other
 * character. */
static bool put_entity(StrBuf *b, char c)
{
        switch (c) {
        case '<':
                strbuf_puts(b, "&lt;");
                return true;
        case '>':
                strbuf_puts(b, "&gt;");
                return true;
        case '&':
                strbuf_puts(b, "&amp;");
                return true;
        default:
                return false;
        }
}

void report_put_html_escaped(StrBuf *b, const char *s)
{
        for (; s && *s; s++) {
                if (put_entity(b, *s))
                        continue;
                switch (*s) {
                case '"':
                        strbuf_puts(b, "&quot;");
                        break;
                case '\'':
                        strbuf_puts(b, "&#39;");
                        break;
                default:
                        strbuf_putc(b, *s);
                }
        }
}

void report_put_md_escaped(StrBuf *b, const char *s)
{
        for (; s && *s; s++) {
                if (put_entity(b, *s))
                        continue;
                switch (*s) {
                case '|':
                case '\\':
                case '`':
                case '*':
                case '_':
                case '[':
                case ']':
                        strbuf_putc(b, '\\');
                        strbuf_putc(b, *s);
                        break;
                case '\n':
                case '\r':
                        strbuf_putc(b, ' ');
                        break;
                default:
                        strbuf_putc(b, *s);
                }
        }
}

void report_put_timestamp(StrBuf *b, usec_t t)
{
        char buf[FORMAT_TIMESTAMP_MAX];
        strbuf_puts(b, t ? format_timestamp(buf, t) : "unknown");
}

void report_put_duration(StrBuf *b, usec_t u)
{
        char buf[FORMAT_DURATION_MAX];
        strbuf_puts(b, format_duration(buf, u));
}

void report_put_outputs(StrBuf *b, const Report *r, const ReportOutputStyle *st)
{
        for (size_t i = 0; i < r->n_bars; i++) {
                const StepRecord *s = r->bars[i].step;
                const char *parts[][2] = {
                        {"command", s->detail},
                        {"stdout", s->stdout_text},
                        {"stderr", s->stderr_text},
                        {"error", s->error},
                };
                bool header = false;
                for (size_t k = 0; k < ELEMENTSOF(parts); k++) {
                        if (!parts[k][1] || !*parts[k][1])
                                continue;
                        if (!header) {
                                strbuf_printf(b, "%sRun %lld, step %d ", st->step_open,
                                              (long long) r->bars[i].run->run.id, s->step_index + 1);
                                st->escape(b, s->step_name);
                                strbuf_puts(b, " @ ");
                                st->escape(b, s->target);
                                strbuf_printf(b, ", try %u%s", s->attempt, st->step_close);
                                header = true;
                        }
                        strbuf_printf(b, "%s%s%s", st->label_open, parts[k][0], st->label_close);
                        st->body(b, parts[k][1]);
                        strbuf_puts(b, st->body_close);
                }
        }
}

int report_render(const Report *r, ReportFormat f, char **ret)
{
        switch (f) {
        case REPORT_FORMAT_MARKDOWN:
                return report_render_markdown(r, ret);
        case REPORT_FORMAT_JSON:
                return report_render_json(r, ret);
        case REPORT_FORMAT_HTML:
                return report_render_html(r, ret);
        default:
                return -EINVAL;
        }
}
