/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report-md.c — the Markdown rendering of a Report (see report.h). Pure: reads the
 * model, writes text. Everything a person or a remote host wrote is escaped (prose and
 * table cells) or fenced (step output), so it never becomes markup. Called by
 * report_render() and tests.
 */
#include <string.h>

#include "report/report.h"

static const char *const colour[] = {"none", "red", "orange", "yellow", "blue"};

static const char *lvl(int l)
{
        return l >= 0 && l <= 4 ? colour[l] : "-";
}

static void md(StrBuf *b, const char *s)
{
        report_put_md_escaped(b, s);
}

/* "+1.23s" from the start of the timeline. */
static void rel(StrBuf *b, const Report *r, usec_t t)
{
        strbuf_putc(b, '+');
        report_put_duration(b, t >= r->t_start ? t - r->t_start : 0);
}

/* A fenced block whose fence is longer than any backtick run inside. */
static void fenced(StrBuf *b, const char *text)
{
        size_t run = 0, longest = 0;
        for (const char *p = text; *p; p++) {
                run = *p == '`' ? run + 1 : 0;
                longest = MAX(longest, run);
        }
        size_t n = MAX((size_t) 3, longest + 1);
        for (size_t i = 0; i < n; i++)
                strbuf_putc(b, '`');
        strbuf_puts(b, "text\n");
        strbuf_puts(b, text);
        if (*text && text[strlen(text) - 1] != '\n')
                strbuf_putc(b, '\n');
        for (size_t i = 0; i < n; i++)
                strbuf_putc(b, '`');
        strbuf_putc(b, '\n');
}

static void objectives(StrBuf *b, const Report *r)
{
        static const char *const met[] = {"**missed**", "met"};

        strbuf_puts(b, "| | Objective | Achieved | Result |\n|---|---|---|---|\n| RTO | ");
        if (r->objectives.known && r->objectives.has_rto)
                report_put_duration(b, r->objectives.rto);
        else
                strbuf_puts(b, r->objectives.known ? "none set" : "unknown");
        strbuf_puts(b, " | ");
        if (r->has_rto)
                report_put_duration(b, r->rto);
        else
                strbuf_puts(b, "not measured");
        strbuf_printf(b, " | %s |\n| RPO | ", r->rto_met >= 0 ? met[r->rto_met] : "unknown");
        if (r->objectives.known && r->objectives.has_rpo)
                report_put_duration(b, r->objectives.rpo);
        else
                strbuf_puts(b, r->objectives.known ? "none set" : "unknown");
        strbuf_puts(b, " | ");
        if (r->has_rpo)
                report_put_duration(b, r->rpo);
        else
                strbuf_puts(b, "not measured");
        strbuf_printf(b, " | %s |\n\n", r->rpo_met >= 0 ? met[r->rpo_met] : "unknown");
        if (!r->objectives.known) {
                strbuf_puts(b, "Objectives unknown: ");
                md(b, r->objectives.unknown_reason);
                strbuf_puts(b, ".\n\n");
        }
        if (r->rto_source) {
                strbuf_puts(b, "RTO ");
                md(b, r->rto_source);
                strbuf_puts(b, ".\n");
        }
        if (r->rpo_source) {
                strbuf_puts(b, "RPO ");
                md(b, r->rpo_source);
                strbuf_puts(b, ".\n");
        }
        strbuf_putc(b, '\n');
}

static void timeline(StrBuf *b, const Report *r)
{
        strbuf_puts(b, "| Time | Offset | Milestone |\n|---|---|---|\n");
        for (size_t i = 0; i < r->n_marks; i++) {
                strbuf_puts(b, "| ");
                report_put_timestamp(b, r->marks[i].at);
                strbuf_puts(b, " | ");
                rel(b, r, r->marks[i].at);
                strbuf_puts(b, " | ");
                md(b, r->marks[i].label);
                strbuf_puts(b, " |\n");
        }
        strbuf_putc(b, '\n');
}

static void steps(StrBuf *b, const Report *r)
{
        strbuf_puts(b,
                    "| Run | # | Step | Phase | Target | Try | Start | Duration | Outcome | Exit | HTTP |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < r->n_bars; i++) {
                const ReportBar *bar = &r->bars[i];
                const StepRecord *s = bar->step;
                strbuf_printf(b, "| %lld | %d | ", (long long) bar->run->run.id, s->step_index + 1);
                md(b, s->step_name);
                strbuf_puts(b, " | ");
                md(b, step_phase_to_string(s->phase));
                strbuf_puts(b, " | ");
                md(b, s->target);
                strbuf_printf(b, " | %u | ", s->attempt);
                rel(b, r, bar->start);
                strbuf_puts(b, " | ");
                if (bar->end_unknown)
                        strbuf_puts(b, "unknown");
                else
                        report_put_duration(b, s->duration ? s->duration : bar->end - bar->start);
                strbuf_puts(b, " | ");
                if (step_outcome_is_failure(s->outcome))
                        strbuf_puts(b, "**");
                md(b, step_outcome_to_string(s->outcome));
                if (step_outcome_is_failure(s->outcome))
                        strbuf_puts(b, "**");
                if (s->exit_status >= 0)
                        strbuf_printf(b, " | %d", s->exit_status);
                else
                        strbuf_puts(b, " | -");
                if (s->http_status > 0)
                        strbuf_printf(b, " | %ld |\n", s->http_status);
                else
                        strbuf_puts(b, " | - |\n");
        }
        strbuf_putc(b, '\n');
}

static void failures(StrBuf *b, const Report *r)
{
        bool any = false;
        for (size_t i = 0; i < r->n_bars; i++) {
                const StepRecord *s = r->bars[i].step;
                if (!step_outcome_is_failure(s->outcome))
                        continue;
                any = true;
                strbuf_printf(b, "- Run %lld, step %d ", (long long) r->bars[i].run->run.id,
                              s->step_index + 1);
                md(b, s->step_name);
                strbuf_puts(b, " (");
                md(b, step_phase_to_string(s->phase));
                strbuf_puts(b, ", target ");
                md(b, s->target);
                strbuf_printf(b, ", try %u): ", s->attempt);
                md(b, step_outcome_to_string(s->outcome));
                if (s->error) {
                        strbuf_puts(b, " — ");
                        md(b, s->error);
                }
                strbuf_putc(b, '\n');
        }
        strbuf_puts(b, any ? "\n" : "None.\n\n");
}

static void actions(StrBuf *b, const Report *r)
{
        strbuf_puts(b, "| Time | Who | What | Details |\n|---|---|---|---|\n");
        for (size_t i = 0; i < r->n_actions; i++) {
                const ReportAction *a = &r->actions[i];
                strbuf_puts(b, "| ");
                report_put_timestamp(b, a->at);
                strbuf_puts(b, " | ");
                md(b, a->actor);
                strbuf_puts(b, " | ");
                md(b, a->what);
                strbuf_puts(b, " | ");
                md(b, a->text);
                strbuf_puts(b, " |\n");
        }
        strbuf_putc(b, '\n');
}

static void outputs(StrBuf *b, const Report *r)
{
        static const ReportOutputStyle style = {md, "#### ", "\n\n", "", ":\n\n", fenced, "\n"};
        report_put_outputs(b, r, &style);
}

static void run_summary(StrBuf *b, const Report *r, const ReportRun *rr)
{
        const RunRecord *run = &rr->run;
        strbuf_printf(b, "| Run | %lld |\n|---|---|\n| Playbook | ", (long long) run->id);
        md(b, run->playbook);
        strbuf_puts(b, " (");
        md(b, run->kind);
        strbuf_puts(b, ") |\n| File | ");
        md(b, run->playbook_path);
        strbuf_puts(b, " (sha256 ");
        md(b, run->playbook_sha256);
        strbuf_puts(b, ") |\n| Mode | ");
        md(b, run_mode_to_string(run->mode));
        strbuf_puts(b, " |\n| Trigger | ");
        md(b, run->trigger);
        strbuf_puts(b, " |\n| Started by | ");
        md(b, run->actor);
        strbuf_puts(b, " |\n| Parameters | ");
        md(b, run->params_json);
        strbuf_puts(b, " |\n| Started | ");
        report_put_timestamp(b, run->started);
        strbuf_puts(b, " |\n| Ended | ");
        report_put_timestamp(b, run->ended);
        if (run->ended >= run->started && run->ended) {
                strbuf_puts(b, " (");
                report_put_duration(b, run->ended - run->started);
                strbuf_puts(b, ")");
        }
        strbuf_puts(b, " |\n| Outcome | ");
        md(b, run_outcome_to_string(run->outcome));
        if (run->error) {
                strbuf_puts(b, ": ");
                md(b, run->error);
        }
        strbuf_printf(b, " |\n| Host | ");
        md(b, run->hostname);
        strbuf_printf(b, " (pid %d) |\n\n", run->pid);
}

static void drill_summary(StrBuf *b, const Report *r, unsigned *sec)
{
        const DrillRunRecord *d = &r->drill_run;
        _cleanup_free_ char *who = report_participants_text(d->participants_json);

        strbuf_printf(b, "## %u. Drill\n\n| Drill run | %lld |\n|---|---|\n| Drill | ", ++*sec,
                      (long long) d->id);
        md(b, d->drill);
        strbuf_puts(b, " |\n| File | ");
        md(b, d->drill_path);
        strbuf_puts(b, " |\n| Mode | ");
        md(b, d->mode);
        strbuf_puts(b, " |\n| Purpose | ");
        md(b, d->purpose);
        strbuf_puts(b, " |\n| Scenario | ");
        md(b, d->fault);
        if (d->fault_subject) {
                strbuf_puts(b, " on ");
                md(b, d->fault_subject);
        }
        strbuf_puts(b, " |\n| Participants | ");
        md(b, who);
        strbuf_puts(b, " |\n| Led by | ");
        md(b, d->actor);
        strbuf_puts(b, " |\n| Fault injected | ");
        report_put_timestamp(b, d->fault_injected_at);
        strbuf_puts(b, " |\n| Fault cleared | ");
        report_put_timestamp(b, d->fault_cleared_at);
        strbuf_puts(b, " |\n| Outcome | ");
        md(b, run_outcome_to_string(d->outcome));
        if (d->error) {
                strbuf_puts(b, ": ");
                md(b, d->error);
        }
        strbuf_puts(b, " |\n\n");

        if (r->n_reviews == 0)
                return;
        strbuf_printf(
                b,
                "## %u. Tabletop review\n\n| # | Step | Phase | Verdict | Who | Time to answer | Comment |\n"
                "|---|---|---|---|---|---|---|\n",
                ++*sec);
        for (size_t i = 0; i < r->n_reviews; i++) {
                const DrillReviewRecord *w = &r->reviews[i];
                strbuf_printf(b, "| %d | ", w->step_index + 1);
                md(b, w->step_name);
                strbuf_puts(b, " | ");
                md(b, step_phase_to_string(w->phase));
                strbuf_puts(b, " | ");
                md(b, w->verdict);
                strbuf_puts(b, " | ");
                md(b, w->who);
                strbuf_puts(b, " | ");
                if (w->shown_at && w->answered_at >= w->shown_at)
                        report_put_duration(b, w->answered_at - w->shown_at);
                else
                        strbuf_puts(b, "-");
                strbuf_puts(b, " | ");
                md(b, w->comment);
                strbuf_puts(b, " |\n");
        }
        strbuf_putc(b, '\n');
}

static void evaluation(StrBuf *b, const Report *r, unsigned *sec)
{
        strbuf_printf(b, "## %u. Evaluation\n\n", ++*sec);
        if (r->n_criteria == 0)
                strbuf_puts(b, "No evaluation is recorded for this drill yet.\n\n");
        else {
                strbuf_puts(
                        b, "| Criterion | Score | Evaluator | When | Assessment |\n|---|---|---|---|---|\n");
                for (size_t i = 0; i < r->n_criteria; i++) {
                        const DrillEvaluationRecord *e = r->criteria[i];
                        strbuf_puts(b, "| ");
                        md(b, e->criterion);
                        if (e->score > 0)
                                strbuf_printf(b, " | %d/5 | ", e->score);
                        else
                                strbuf_puts(b, " | - | ");
                        md(b, e->evaluator);
                        strbuf_puts(b, " | ");
                        report_put_timestamp(b, e->at);
                        strbuf_puts(b, " | ");
                        md(b, e->text);
                        strbuf_puts(b, " |\n");
                }
                strbuf_putc(b, '\n');
        }
        strbuf_printf(b, "## %u. Findings and improvement actions\n\n", ++*sec);
        if (r->n_drill_actions == 0) {
                strbuf_puts(b, "None recorded.\n\n");
                return;
        }
        strbuf_puts(
                b,
                "| # | Finding | Action | Owner | Due | Status | Since |\n|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < r->n_drill_actions; i++) {
                const DrillActionRecord *a = &r->drill_actions[i];
                strbuf_printf(b, "| %lld | ", (long long) a->id);
                md(b, a->finding);
                strbuf_puts(b, " | ");
                md(b, a->action);
                strbuf_puts(b, " | ");
                md(b, a->owner);
                strbuf_puts(b, " | ");
                md(b, a->due);
                strbuf_puts(b, " | ");
                md(b, a->status);
                if (a->status_by) {
                        strbuf_puts(b, " (");
                        md(b, a->status_by);
                        strbuf_puts(b, ")");
                }
                strbuf_puts(b, " | ");
                report_put_timestamp(b, a->status_at);
                strbuf_puts(b, " |\n");
        }
        strbuf_putc(b, '\n');
}

int report_render_markdown(const Report *r, char **ret)
{
        StrBuf b = STRBUF_INIT;
        unsigned sec = 0;

        if (!r || !ret || (!r->overview))
                return -EINVAL;

        if (r->has_incident) {
                const IncidentRecord *inc = &r->incident;
                strbuf_printf(&b, "# Incident report: incident %lld, level %d (%s)%s\n\n",
                              (long long) inc->id, inc->level, lvl(inc->level),
                              r->drill ? " — DRILL, not a real incident" : "");
        } else
                strbuf_printf(&b, "# %s report: run %lld, ", r->drill ? "Drill" : "Run",
                              (long long) r->runs[0].run.id);
        if (!r->has_incident) {
                md(&b, r->runs[0].run.playbook);
                strbuf_puts(&b, r->drill ? " — DRILL, not a real incident\n\n" : "\n\n");
        }
        strbuf_puts(&b, "Generated by drover at ");
        report_put_timestamp(&b, r->generated_at);
        strbuf_puts(&b, " from the journal.\n\n");

        strbuf_printf(&b, "## %u. Overview\n\n", ++sec);
        md(&b, r->overview);
        strbuf_puts(&b, "\n\n");

        if (r->has_incident) {
                const IncidentRecord *inc = &r->incident;
                strbuf_printf(&b, "## %u. Time, site and phenomenon\n\n| | |\n|---|---|\n| Detected | ",
                              ++sec);
                report_put_timestamp(&b, r->detected_at);
                strbuf_puts(&b, " |\n| Fault began | ");
                report_put_timestamp(&b, r->fault_at);
                strbuf_puts(&b, " |\n| Decision | ");
                report_put_timestamp(&b, r->decided_at);
                strbuf_puts(&b, " |\n| Recovered | ");
                report_put_timestamp(&b, r->recovered_at);
                strbuf_puts(&b, " |\n| Closed | ");
                report_put_timestamp(&b, inc->closed_at);
                strbuf_puts(&b, " |\n| Site | ");
                md(&b, inc->site ? inc->site : "unknown");
                strbuf_puts(&b, " |\n| Subject | ");
                md(&b, inc->subject);
                strbuf_puts(&b, " |\n| Phenomenon | ");
                md(&b, inc->phenomenon ? inc->phenomenon : "not recorded");
                strbuf_printf(&b, " |\n| Level | %d (%s) |\n| State | ", inc->level, lvl(inc->level));
                md(&b, inc->state);
                strbuf_puts(&b, " |\n\n");

                strbuf_printf(&b, "## %u. Scope of impact\n\n", ++sec);
                md(&b, inc->impact && *inc->impact ? inc->impact : "Not recorded.");
                strbuf_puts(&b, "\n\n");

                strbuf_printf(&b, "## %u. Measures taken\n\n", ++sec);
                bool any = false;
                for (size_t i = 0; i < r->n_actions; i++) {
                        const ReportAction *a = &r->actions[i];
                        if (!strncmp(a->what, "playbook-", 9) || streq(a->what, "notify") ||
                            streq(a->what, "run-started") || streq(a->what, "run-finished") ||
                            streq(a->what, "approval") || streq(a->what, "rollback-started") ||
                            streq(a->what, "milestone")) {
                                strbuf_puts(&b, "- ");
                                report_put_timestamp(&b, a->at);
                                strbuf_puts(&b, " — ");
                                md(&b, a->actor);
                                strbuf_puts(&b, ": ");
                                md(&b, a->what);
                                strbuf_puts(&b, ": ");
                                md(&b, a->text);
                                strbuf_putc(&b, '\n');
                                any = true;
                        }
                }
                strbuf_puts(&b, any ? "\n" : "None recorded.\n\n");

                strbuf_printf(&b, "## %u. Expected impact\n\n", ++sec);
                md(&b, r->expected_impact);
                strbuf_printf(&b, "\n\n## %u. Next steps\n\n", ++sec);
                md(&b, r->next_steps);
                strbuf_puts(&b, "\n\n");

                strbuf_printf(&b,
                              "## %u. Level history\n\n| Time | From | To | By | Reason "
                              "|\n|---|---|---|---|---|\n",
                              ++sec);
                for (size_t i = 0; i < r->n_levels; i++) {
                        const ReportLevelChange *l = &r->levels[i];
                        strbuf_puts(&b, "| ");
                        report_put_timestamp(&b, l->at);
                        strbuf_printf(&b, " | %s | %s | ", lvl(l->from), lvl(l->to));
                        md(&b, l->actor);
                        strbuf_puts(&b, " | ");
                        md(&b, l->reason);
                        strbuf_puts(&b, " |\n");
                }
                strbuf_putc(&b, '\n');
        } else {
                strbuf_printf(&b, "## %u. Run\n\n", ++sec);
                run_summary(&b, r, &r->runs[0]);
                if (r->has_drill)
                        drill_summary(&b, r, &sec);
        }

        strbuf_printf(&b, "## %u. Recovery objectives\n\n", ++sec);
        objectives(&b, r);
        strbuf_printf(&b, "## %u. Timeline\n\n", ++sec);
        timeline(&b, r);
        strbuf_printf(&b, "## %u. Steps and timings\n\n", ++sec);
        if (r->n_bars)
                steps(&b, r);
        else
                strbuf_puts(&b, "No step attempts.\n\n");
        strbuf_printf(&b, "## %u. Failures\n\n", ++sec);
        failures(&b, r);
        strbuf_printf(&b, "## %u. Who did what\n\n", ++sec);
        actions(&b, r);
        if (r->has_incident && r->n_runs) {
                strbuf_printf(&b, "## %u. Linked runs\n\n", ++sec);
                for (size_t i = 0; i < r->n_runs; i++)
                        run_summary(&b, r, &r->runs[i]);
        }
        if (r->drill)
                evaluation(&b, r, &sec);
        strbuf_printf(&b, "## %u. Step output (as journaled, capped and masked)\n\n", ++sec);
        outputs(&b, r);

        *ret = strbuf_steal(&b);
        return 0;
}
