/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report-json.c — the JSON rendering of a Report (jansson), schema "drover-report/1":
 * every time in µs since the epoch (`*_us`, 0 = unknown) plus ISO-8601, durations in
 * µs. Pure. Called by report_render() and tests; the schema is documented in
 * droverctl(1).
 */
#include <jansson.h>
#include <stdlib.h>

#include "report/report.h"

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *time_json(usec_t t)
{
        char b[FORMAT_TIMESTAMP_MAX];
        return t ? json_string(format_timestamp(b, t)) : json_null();
}

static json_t *met_json(int met)
{
        return met < 0 ? json_null() : json_boolean(met);
}

static json_t *run_json(const ReportRun *rr)
{
        const RunRecord *run = &rr->run;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(run->id));
        json_object_set_new(o, "playbook", str_or_null(run->playbook));
        json_object_set_new(o, "playbook_path", str_or_null(run->playbook_path));
        json_object_set_new(o, "playbook_sha256", str_or_null(run->playbook_sha256));
        json_object_set_new(o, "kind", str_or_null(run->kind));
        json_t *params = run->params_json ? json_loads(run->params_json, 0, NULL) : NULL;
        json_object_set_new(o, "params", params ? params : json_null());
        json_object_set_new(o, "trigger", str_or_null(run->trigger));
        json_object_set_new(o, "actor", str_or_null(run->actor));
        json_object_set_new(o, "mode", json_string(run_mode_to_string(run->mode)));
        json_object_set_new(o, "hostname", str_or_null(run->hostname));
        json_object_set_new(o, "started_us", json_integer((json_int_t) run->started));
        json_object_set_new(o, "started", time_json(run->started));
        json_object_set_new(o, "ended_us", json_integer((json_int_t) run->ended));
        json_object_set_new(o, "ended", time_json(run->ended));
        json_object_set_new(o, "outcome", json_string(run_outcome_to_string(run->outcome)));
        json_object_set_new(o, "error", str_or_null(run->error));
        return o;
}

static json_t *objectives_json(const ReportObjectives *ob)
{
        json_t *o = json_object();
        json_object_set_new(o, "known", json_boolean(ob->known));
        json_object_set_new(o, "rto_us",
                            ob->known && ob->has_rto ? json_integer((json_int_t) ob->rto) : json_null());
        json_object_set_new(o, "rpo_us",
                            ob->known && ob->has_rpo ? json_integer((json_int_t) ob->rpo) : json_null());
        json_object_set_new(o, "unknown_reason", str_or_null(ob->unknown_reason));
        return o;
}

static json_t *step_json(const ReportBar *bar)
{
        const StepRecord *s = bar->step;
        json_t *o = json_object();
        json_object_set_new(o, "run", json_integer(bar->run->run.id));
        json_object_set_new(o, "index", json_integer(s->step_index + 1));
        json_object_set_new(o, "name", str_or_null(s->step_name));
        json_object_set_new(o, "kind", str_or_null(s->kind));
        json_object_set_new(o, "phase", json_string(step_phase_to_string(s->phase)));
        json_object_set_new(o, "target", str_or_null(s->target));
        json_object_set_new(o, "attempt", json_integer(s->attempt));
        json_object_set_new(o, "started_us", json_integer((json_int_t) bar->start));
        json_object_set_new(o, "ended_us", json_integer(bar->end_unknown ? 0 : (json_int_t) bar->end));
        json_object_set_new(o, "duration_us",
                            bar->end_unknown ? json_null() : json_integer((json_int_t) s->duration));
        json_object_set_new(o, "outcome", json_string(step_outcome_to_string(s->outcome)));
        json_object_set_new(o, "failed", json_boolean(step_outcome_is_failure(s->outcome)));
        json_object_set_new(o, "exit_status",
                            s->exit_status >= 0 ? json_integer(s->exit_status) : json_null());
        json_object_set_new(o, "http_status",
                            s->http_status > 0 ? json_integer(s->http_status) : json_null());
        json_object_set_new(o, "detail", str_or_null(s->detail));
        json_object_set_new(o, "stdout", str_or_null(s->stdout_text));
        json_object_set_new(o, "stderr", str_or_null(s->stderr_text));
        json_object_set_new(o, "error", str_or_null(s->error));
        return o;
}

static json_t *drill_json(const Report *r)
{
        const DrillRunRecord *d = &r->drill_run;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(d->id));
        json_object_set_new(o, "drill", str_or_null(d->drill));
        json_object_set_new(o, "drill_path", str_or_null(d->drill_path));
        json_object_set_new(o, "mode", str_or_null(d->mode));
        json_object_set_new(o, "purpose", str_or_null(d->purpose));
        json_object_set_new(o, "fault", str_or_null(d->fault));
        json_object_set_new(o, "fault_subject", str_or_null(d->fault_subject));
        json_t *p = d->participants_json ? json_loads(d->participants_json, 0, NULL) : NULL;
        json_object_set_new(o, "participants", p ? p : json_null());
        json_object_set_new(o, "actor", str_or_null(d->actor));
        json_object_set_new(o, "started_us", json_integer((json_int_t) d->started));
        json_object_set_new(o, "ended_us", json_integer((json_int_t) d->ended));
        json_object_set_new(o, "outcome", json_string(run_outcome_to_string(d->outcome)));
        json_object_set_new(o, "fault_injected_us", json_integer((json_int_t) d->fault_injected_at));
        json_object_set_new(o, "fault_cleared_us", json_integer((json_int_t) d->fault_cleared_at));

        json_t *rev = json_array();
        for (size_t i = 0; i < r->n_reviews; i++) {
                const DrillReviewRecord *w = &r->reviews[i];
                json_t *x = json_object();
                json_object_set_new(x, "run", json_integer(w->run_id));
                json_object_set_new(x, "index", json_integer(w->step_index + 1));
                json_object_set_new(x, "step", str_or_null(w->step_name));
                json_object_set_new(x, "phase", json_string(step_phase_to_string(w->phase)));
                json_object_set_new(x, "verdict", str_or_null(w->verdict));
                json_object_set_new(x, "who", str_or_null(w->who));
                json_object_set_new(x, "shown_us", json_integer((json_int_t) w->shown_at));
                json_object_set_new(x, "answered_us", json_integer((json_int_t) w->answered_at));
                json_object_set_new(x, "comment", str_or_null(w->comment));
                json_array_append_new(rev, x);
        }
        json_object_set_new(o, "reviews", rev);

        json_t *ev = json_array();
        for (size_t i = 0; i < r->n_criteria; i++) {
                const DrillEvaluationRecord *e = r->criteria[i];
                json_t *x = json_object();
                json_object_set_new(x, "criterion", str_or_null(e->criterion));
                json_object_set_new(x, "score", e->score > 0 ? json_integer(e->score) : json_null());
                json_object_set_new(x, "evaluator", str_or_null(e->evaluator));
                json_object_set_new(x, "at_us", json_integer((json_int_t) e->at));
                json_object_set_new(x, "text", str_or_null(e->text));
                json_array_append_new(ev, x);
        }
        json_object_set_new(o, "evaluation", ev);

        json_t *acts = json_array();
        for (size_t i = 0; i < r->n_drill_actions; i++) {
                const DrillActionRecord *a = &r->drill_actions[i];
                json_t *x = json_object();
                json_object_set_new(x, "id", json_integer(a->id));
                json_object_set_new(x, "finding", str_or_null(a->finding));
                json_object_set_new(x, "action", str_or_null(a->action));
                json_object_set_new(x, "owner", str_or_null(a->owner));
                json_object_set_new(x, "due", str_or_null(a->due));
                json_object_set_new(x, "status", str_or_null(a->status));
                json_object_set_new(x, "status_by", str_or_null(a->status_by));
                json_object_set_new(x, "status_us", json_integer((json_int_t) a->status_at));
                json_array_append_new(acts, x);
        }
        json_object_set_new(o, "improvement_actions", acts);
        return o;
}

int report_render_json(const Report *r, char **ret)
{
        if (!r || !ret || !r->overview)
                return -EINVAL;

        json_t *o = json_object();
        json_object_set_new(o, "schema", json_string("drover-report/1"));
        json_object_set_new(o, "kind", json_string(report_kind_to_string(r->kind)));
        json_object_set_new(o, "drill", json_boolean(r->drill));
        json_object_set_new(o, "generated_us", json_integer((json_int_t) r->generated_at));
        json_object_set_new(o, "generated", time_json(r->generated_at));
        json_object_set_new(o, "overview", json_string(r->overview));

        if (r->has_incident) {
                const IncidentRecord *inc = &r->incident;
                json_t *i = json_object();
                json_object_set_new(i, "id", json_integer(inc->id));
                json_object_set_new(i, "opened_us", json_integer((json_int_t) inc->opened_at));
                json_object_set_new(i, "opened", time_json(inc->opened_at));
                json_object_set_new(i, "closed_us", json_integer((json_int_t) inc->closed_at));
                json_object_set_new(i, "site", str_or_null(inc->site));
                json_object_set_new(i, "subject", str_or_null(inc->subject));
                json_object_set_new(i, "phenomenon", str_or_null(inc->phenomenon));
                json_object_set_new(i, "impact", str_or_null(inc->impact));
                json_object_set_new(i, "state", str_or_null(inc->state));
                json_object_set_new(i, "level", json_integer(inc->level));
                json_object_set_new(i, "expected_impact", str_or_null(r->expected_impact));
                json_object_set_new(i, "next_steps", str_or_null(r->next_steps));
                json_object_set_new(o, "incident", i);

                json_t *lv = json_array();
                for (size_t k = 0; k < r->n_levels; k++) {
                        const ReportLevelChange *l = &r->levels[k];
                        json_array_append_new(
                                lv, json_pack("{s:I, s:o, s:o, s:i, s:s, s:s}", "at_us", (json_int_t) l->at,
                                              "at", time_json(l->at), "from",
                                              l->from >= 0 ? json_integer(l->from) : json_null(), "to",
                                              l->to, "actor", l->actor, "reason", l->reason));
                }
                json_object_set_new(o, "level_history", lv);
        }

        json_t *runs = json_array();
        for (size_t k = 0; k < r->n_runs; k++)
                json_array_append_new(runs, run_json(&r->runs[k]));
        json_object_set_new(o, "runs", runs);

        json_t *res = json_object();
        json_object_set_new(res, "objectives", objectives_json(&r->objectives));
        json_object_set_new(res, "rto_us", r->has_rto ? json_integer((json_int_t) r->rto) : json_null());
        json_object_set_new(res, "rto_source", str_or_null(r->rto_source));
        json_object_set_new(res, "rto_met", met_json(r->rto_met));
        json_object_set_new(res, "rpo_us", r->has_rpo ? json_integer((json_int_t) r->rpo) : json_null());
        json_object_set_new(res, "rpo_source", str_or_null(r->rpo_source));
        json_object_set_new(res, "rpo_met", met_json(r->rpo_met));
        json_object_set_new(res, "attempts", json_integer(r->n_attempts));
        json_object_set_new(res, "failed_attempts", json_integer(r->n_failed_attempts));
        json_object_set_new(o, "results", res);

        json_t *tl = json_object();
        json_object_set_new(tl, "start_us", json_integer((json_int_t) r->t_start));
        json_object_set_new(tl, "end_us", json_integer((json_int_t) r->t_end));
        json_object_set_new(tl, "fault_us", json_integer((json_int_t) r->fault_at));
        json_object_set_new(tl, "detected_us", json_integer((json_int_t) r->detected_at));
        json_object_set_new(tl, "decided_us", json_integer((json_int_t) r->decided_at));
        json_object_set_new(tl, "recovered_us", json_integer((json_int_t) r->recovered_at));
        json_t *marks = json_array();
        for (size_t k = 0; k < r->n_marks; k++)
                json_array_append_new(marks,
                                      json_pack("{s:s, s:I, s:o, s:s}", "kind",
                                                report_mark_kind_to_string(r->marks[k].kind), "at_us",
                                                (json_int_t) r->marks[k].at, "at", time_json(r->marks[k].at),
                                                "label", r->marks[k].label));
        json_object_set_new(tl, "marks", marks);
        json_object_set_new(o, "timeline", tl);

        json_t *steps = json_array();
        for (size_t k = 0; k < r->n_bars; k++)
                json_array_append_new(steps, step_json(&r->bars[k]));
        json_object_set_new(o, "steps", steps);

        json_t *acts = json_array();
        for (size_t k = 0; k < r->n_actions; k++) {
                const ReportAction *a = &r->actions[k];
                json_t *x = json_pack("{s:I, s:o, s:s, s:s, s:s}", "at_us", (json_int_t) a->at, "at",
                                      time_json(a->at), "actor", a->actor, "what", a->what, "text", a->text);
                json_object_set_new(x, "run", a->run_id > 0 ? json_integer(a->run_id) : json_null());
                json_array_append_new(acts, x);
        }
        json_object_set_new(o, "actions", acts);
        if (r->has_drill)
                json_object_set_new(o, "drill_run", drill_json(r));
        else if (r->drill)
                json_object_set_new(o, "drill_run", json_null());

        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(o);
        if (!s)
                return -ENOMEM;
        /* json_dumps allocates with malloc: the caller frees with free(). Add the newline. */
        *ret = xasprintf("%s\n", s);
        free(s);
        return 0;
}
