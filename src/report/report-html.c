/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report-html.c — the self-contained HTML rendering of a Report: inline CSS, an
 * inline SVG Gantt timeline (one bar per step attempt; fault, detection, decision,
 * recovery, level changes and the RTO objective as vertical lines), no script, no
 * external resource. Also owns the timeline geometry (report_layout()), pure, so that
 * tests can check it without a browser. Every journaled string is HTML-escaped.
 * Called by report_render() and tests.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define SVG_WIDTH      1000.0
#define SVG_LABEL_W    300.0 /* step names on the left */
#define SVG_RIGHT_PAD  24.0
#define SVG_MARK_LANES 3 /* mark labels stagger over this many lines */
#define SVG_LANE_H     15.0
#define SVG_ROW_H      20.0
#define SVG_BAR_H      14.0
#define SVG_AXIS_H     34.0

double report_layout_x(const ReportLayout *l, usec_t t)
{
        double span = (double) (l->t1 - l->t0);
        double f = t <= l->t0 ? 0.0 : t >= l->t1 ? 1.0 : (double) (t - l->t0) / span;
        return l->plot_x0 + f * (l->plot_x1 - l->plot_x0);
}

int report_layout_range(const Report *r, usec_t t0, usec_t t1, ReportLayout *ret)
{
        if (!r || !ret || t1 <= t0)
                return -EINVAL;
        ReportLayout l = {
                .width = SVG_WIDTH,
                .plot_x0 = SVG_LABEL_W,
                .plot_x1 = SVG_WIDTH - SVG_RIGHT_PAD,
                .rows_y0 = 8.0 + SVG_MARK_LANES * SVG_LANE_H + 8.0,
                .t0 = t0,
                .t1 = t1,
        };
        l.height = l.rows_y0 + MAX((size_t) 1, r->n_bars) * SVG_ROW_H + SVG_AXIS_H;
        l.n_bars = r->n_bars;
        l.bars = r->n_bars ? xcalloc(r->n_bars, sizeof *l.bars) : NULL;
        for (size_t i = 0; i < r->n_bars; i++) {
                double x0 = report_layout_x(&l, r->bars[i].start);
                double x1 = report_layout_x(&l, r->bars[i].end);
                double w = MAX(x1 - x0, 2.0); /* an instant step stays visible */
                if (x0 + w > l.plot_x1)
                        x0 = l.plot_x1 - w;
                l.bars[i] = (ReportRect){
                        .x = x0,
                        .y = l.rows_y0 + (double) i * SVG_ROW_H + (SVG_ROW_H - SVG_BAR_H) / 2,
                        .w = w,
                        .h = SVG_BAR_H,
                };
        }
        l.n_marks = r->n_marks;
        l.mark_x = r->n_marks ? xcalloc(r->n_marks, sizeof *l.mark_x) : NULL;
        for (size_t i = 0; i < r->n_marks; i++)
                l.mark_x[i] = report_layout_x(&l, r->marks[i].at);
        *ret = l;
        return 0;
}

int report_layout(const Report *r, ReportLayout *ret)
{
        if (!r)
                return -EINVAL;
        return report_layout_range(r, r->t_start, r->t_end, ret);
}

bool report_layout_zoom(const Report *r, usec_t *ret_t0, usec_t *ret_t1)
{
        usec_t a = USEC_INFINITY, z = 0;
        if (!r || r->n_bars == 0)
                return false;
        for (size_t i = 0; i < r->n_bars; i++) {
                a = MIN(a, r->bars[i].start);
                z = MAX(z, r->bars[i].end);
        }
        usec_t span = r->t_end - r->t_start, steps = z > a ? z - a : 1;
        if (steps * 4 >= span)
                return false;
        usec_t pad = steps / 20 + 1;
        *ret_t0 = a > r->t_start + pad ? a - pad : r->t_start;
        *ret_t1 = MIN(z + pad, r->t_end);
        return true;
}

void report_layout_done(ReportLayout *l)
{
        if (!l)
                return;
        free(l->bars);
        free(l->mark_x);
        *l = (ReportLayout){};
}

static void esc(StrBuf *b, const char *s)
{
        report_put_html_escaped(b, s);
}

static const char *bar_class(const StepRecord *s)
{
        if (step_outcome_is_failure(s->outcome))
                return "failed";
        if (s->phase == STEP_PHASE_ROLLBACK)
                return step_phase_to_string(STEP_PHASE_ROLLBACK);
        if (s->outcome == STEP_OK || s->outcome == STEP_RUNNING)
                return step_outcome_to_string(s->outcome);
        return "other"; /* skipped, cancelled */
}

/* A tick step of 1, 2 or 5 × 10^k µs giving at most ~8 ticks. */
static usec_t tick_step(usec_t span)
{
        usec_t step = 1;
        while (span / step > 8) {
                usec_t d = step;
                while (d >= 10)
                        d /= 10;
                step = d == 1 ? step * 2 : d == 2 ? step / 2 * 5 : step * 2;
        }
        return step;
}

/* id "timeline": the whole span, from the fault to the last milestone; id
 * "timeline-steps": the same bars zoomed to the step attempts, when they would otherwise
 * be slivers. */
static void svg_timeline(StrBuf *b, const Report *r, const char *id, usec_t t0, usec_t t1)
{
        ReportLayout l;
        if (report_layout_range(r, t0, t1, &l) < 0)
                return;

        strbuf_printf(b,
                      "<svg id=\"%s\" class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
                      "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
                      "aria-labelledby=\"%s-title\">\n<title id=\"%s-title\">Timeline: %zu step "
                      "attempts, %zu milestones</title>\n",
                      id, l.width, l.height, l.width, l.height, id, id, r->n_bars, r->n_marks);

        double rows_end = l.rows_y0 + MAX((size_t) 1, r->n_bars) * SVG_ROW_H;
        /* The achieved recovery span, behind everything. */
        usec_t from = r->fault_at ? r->fault_at : r->detected_at;
        if (r->has_rto && from && r->recovered_at > from) {
                double x0 = report_layout_x(&l, from), x1 = report_layout_x(&l, r->recovered_at);
                strbuf_printf(
                        b,
                        "<rect class=\"rto-span\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                        x0, l.rows_y0, MAX(x1 - x0, 1.0), rows_end - l.rows_y0);
        }

        /* Axis with ticks relative to the start. */
        usec_t step = tick_step(t1 - t0), first = t0 - r->t_start;
        first = (first + step - 1) / step * step; /* ticks read as offsets from the timeline's start */
        strbuf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                      l.plot_x0, rows_end, l.plot_x1, rows_end);
        for (usec_t t = first; r->t_start + t <= t1; t += step) {
                double x = report_layout_x(&l, r->t_start + t);
                char d[FORMAT_DURATION_MAX];
                strbuf_printf(b,
                              "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                              "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\">+%s</text>\n",
                              x, l.rows_y0, x, rows_end + 4, x, rows_end + 18,
                              t ? format_duration(d, t) : "0");
        }

        /* Rows: label and bar. */
        for (size_t i = 0; i < r->n_bars; i++) {
                const ReportBar *bar = &r->bars[i];
                const StepRecord *s = bar->step;
                const ReportRect *q = &l.bars[i];
                strbuf_printf(b, "<text class=\"row-label\" x=\"%.1f\" y=\"%.1f\">", l.plot_x0 - 8,
                              q->y + q->h - 3);
                if (r->n_runs > 1)
                        strbuf_printf(b, "run %lld · ", (long long) bar->run->run.id);
                strbuf_printf(b, "%d ", s->step_index + 1);
                esc(b, s->step_name);
                if (s->target && *s->target) {
                        strbuf_puts(b, " @ ");
                        esc(b, s->target);
                }
                if (s->attempt > 1)
                        strbuf_printf(b, " #%u", s->attempt);
                if (s->phase == STEP_PHASE_ROLLBACK)
                        strbuf_puts(b, " (rollback)");
                strbuf_printf(
                        b,
                        "</text>\n<rect class=\"bar %s\" data-run=\"%lld\" data-step=\"%d\" "
                        "data-attempt=\"%u\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
                        bar_class(s), (long long) bar->run->run.id, s->step_index + 1, s->attempt, q->x,
                        q->y, q->w, q->h);
                esc(b, s->step_name);
                strbuf_puts(b, ": ");
                esc(b, step_outcome_to_string(s->outcome));
                strbuf_puts(b, ", ");
                if (bar->end_unknown)
                        strbuf_puts(b, "end unknown");
                else
                        report_put_duration(b, bar->end - bar->start);
                strbuf_puts(b, "</title></rect>\n");
        }

        /* Milestones: a vertical line each, labels staggered over the lanes at the top. */
        double lane_end[SVG_MARK_LANES] = {0};
        for (size_t i = 0; i < r->n_marks; i++) {
                const ReportMark *m = &r->marks[i];
                double x = l.mark_x[i];
                if (m->at < t0 || m->at > t1)
                        continue; /* outside a zoomed view */
                size_t lane = 0;
                for (size_t k = 0; k < SVG_MARK_LANES; k++)
                        if (lane_end[k] < lane_end[lane])
                                lane = k;
                for (size_t k = 0; k < SVG_MARK_LANES; k++)
                        if (lane_end[k] <= x - 2) {
                                lane = k;
                                break;
                        }
                double est = 6.2 * (double) strlen(m->label);
                bool right = x + est > l.width - 4; /* near the right edge: text ends at the line */
                lane_end[lane] = right ? x + 4 : x + est + 8;
                double y = 8.0 + (double) (lane + 1) * SVG_LANE_H - 3;
                strbuf_printf(b,
                              "<g class=\"mark %s\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                              "<text x=\"%.1f\" y=\"%.1f\"%s>",
                              report_mark_kind_to_string(m->kind), x, y + 3, x, rows_end,
                              right ? x - 3 : x + 3, y, right ? " text-anchor=\"end\"" : "");
                esc(b, m->label);
                strbuf_puts(b, "</text></g>\n");
        }
        strbuf_puts(b, "</svg>\n");
        report_layout_done(&l);
}

static const char css[] =
        "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;"
        "color:#1d2430;background:#fff;line-height:1.45}\n"
        "main{max-width:1060px;margin:0 auto;padding:24px}\n"
        "h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;border-bottom:1px solid #d5dae1;"
        "padding-bottom:4px;margin-top:28px}\n"
        ".meta{color:#5b6573;font-size:.9em}\n"
        ".banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}\n"
        ".banner.drill{background:#e8f0fe;border:2px dashed #3b6fd8;color:#1f4aa8}\n"
        ".banner.incident{background:#fdecea;border:2px solid #c62828;color:#8e1c1c}\n"
        "table{border-collapse:collapse;width:100%;font-size:.9em;margin:8px 0}\n"
        "th,td{border:1px solid #d5dae1;padding:4px 8px;text-align:left;vertical-align:top}\n"
        "th{background:#f3f5f8}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
        "#actions td:first-child,#levels td:first-child,#milestones td:first-child,#measures "
        ".t{white-space:nowrap}\n"
        ".met{color:#1b7f3b;font-weight:700}.missed{color:#c62828;font-weight:700}.unknown{color:#8a6d00}\n"
        ".outcome-failed,.outcome-error,.outcome-timeout,.outcome-interrupted{color:#c62828;font-weight:600}"
        "\n"
        ".outcome-ok,.outcome-succeeded{color:#1b7f3b}\n"
        ".level{display:inline-block;padding:1px 8px;border-radius:4px;color:#fff;font-weight:600}\n"
        ".level-1{background:#c62828}.level-2{background:#ef6c00}.level-3{background:#f9a825;color:#222}"
        ".level-4{background:#1565c0}.level-0{background:#78909c}\n"
        "pre{background:#f6f8fa;border:1px solid #d5dae1;padding:8px;overflow-x:auto;font-size:.85em;"
        "white-space:pre-wrap;word-break:break-all}\n"
        ".svgwrap{overflow-x:auto;border:1px solid "
        "#d5dae1;border-radius:6px;padding:6px;background:#fcfcfd}\n"
        "svg.timeline{font-size:11px;display:block;max-width:100%;height:auto}\n"
        "svg .row-label{text-anchor:end;fill:#1d2430}\n"
        "svg .tick{stroke:#e3e7ec}svg .axis{stroke:#5b6573}svg "
        ".tick-label{fill:#5b6573;text-anchor:middle}\n"
        "svg .bar.ok{fill:#2e7d32}svg .bar.failed{fill:#c62828}svg .bar.rollback{fill:#ef6c00}"
        "svg .bar.running{fill:#1565c0}svg .bar.other{fill:#9e9e9e}\n"
        "svg .rto-span{fill:#e3f2fd}\n"
        "svg .mark line{stroke-width:1.5}svg .mark text{font-weight:600}\n"
        "svg .mark.fault line{stroke:#c62828}svg .mark.fault text{fill:#c62828}\n"
        "svg .mark.detection line{stroke:#ef6c00}svg .mark.detection text{fill:#ef6c00}\n"
        "svg .mark.decision line{stroke:#6a1b9a}svg .mark.decision text{fill:#6a1b9a}\n"
        "svg .mark.recovery line{stroke:#2e7d32}svg .mark.recovery text{fill:#2e7d32}\n"
        "svg .mark.rto-objective line{stroke:#c62828;stroke-dasharray:5 3}svg .mark.rto-objective "
        "text{fill:#c62828}\n"
        "svg .mark.level-change line{stroke:#607d8b;stroke-dasharray:2 3}svg .mark.level-change "
        "text{fill:#455a64}\n"
        ".legend span{display:inline-block;margin-right:14px;font-size:.85em}\n"
        ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}\n"
        "@media print{.svgwrap{overflow:visible}main{max-width:none}}\n";

static void kv_row(StrBuf *b, const char *k, const char *v)
{
        strbuf_printf(b, "<tr><th>%s</th><td>", k);
        esc(b, v);
        strbuf_puts(b, "</td></tr>\n");
}

static void kv_time(StrBuf *b, const char *k, usec_t t)
{
        strbuf_printf(b, "<tr><th>%s</th><td>", k);
        report_put_timestamp(b, t);
        strbuf_puts(b, "</td></tr>\n");
}

static void met_cell(StrBuf *b, int met)
{
        strbuf_puts(b, met == 1   ? "<td class=\"met\">met</td>"
                       : met == 0 ? "<td class=\"missed\">missed</td>"
                                  : "<td class=\"unknown\">unknown</td>");
}

static void objectives(StrBuf *b, const Report *r)
{
        const ReportObjectives *o = &r->objectives;
        strbuf_puts(
                b, "<table id=\"objectives\"><tr><th></th><th>Objective</th><th>Achieved</th><th>Result</th>"
                   "<th>How it was measured</th></tr>\n<tr><th>RTO</th><td>");
        if (o->known && o->has_rto)
                report_put_duration(b, o->rto);
        else
                strbuf_puts(b, o->known ? "none set" : "unknown");
        strbuf_puts(b, "</td><td>");
        if (r->has_rto)
                report_put_duration(b, r->rto);
        else
                strbuf_puts(b, "not measured");
        strbuf_puts(b, "</td>");
        met_cell(b, r->rto_met);
        strbuf_puts(b, "<td>");
        esc(b, r->rto_source);
        strbuf_puts(b, "</td></tr>\n<tr><th>RPO</th><td>");
        if (o->known && o->has_rpo)
                report_put_duration(b, o->rpo);
        else
                strbuf_puts(b, o->known ? "none set" : "unknown");
        strbuf_puts(b, "</td><td>");
        if (r->has_rpo)
                report_put_duration(b, r->rpo);
        else
                strbuf_puts(b, "not measured");
        strbuf_puts(b, "</td>");
        met_cell(b, r->rpo_met);
        strbuf_puts(b, "<td>");
        esc(b, r->rpo_source);
        strbuf_puts(b, "</td></tr>\n</table>\n");
        if (!o->known) {
                strbuf_puts(b, "<p class=\"unknown\">Objectives unknown: ");
                esc(b, o->unknown_reason);
                strbuf_puts(b, ".</p>\n");
        }
}

/* Outcome names are the journal's fixed lists; anything else gets a neutral class. */
static const char *outcome_class(const char *o)
{
        return o && strspn(o, "abcdefghijklmnopqrstuvwxyz-") == strlen(o) ? o : "other";
}

static void run_table(StrBuf *b, const ReportRun *rr)
{
        const RunRecord *run = &rr->run;
        char d[FORMAT_DURATION_MAX];
        strbuf_printf(b, "<table class=\"run\" data-run=\"%lld\">\n", (long long) run->id);
        strbuf_printf(b, "<tr><th>Run</th><td>%lld</td></tr>\n", (long long) run->id);
        kv_row(b, "Playbook", run->playbook);
        kv_row(b, "Kind", run->kind);
        kv_row(b, "File", run->playbook_path);
        kv_row(b, "sha256", run->playbook_sha256);
        kv_row(b, "Mode", run_mode_to_string(run->mode));
        kv_row(b, "Trigger", run->trigger);
        kv_row(b, "Started by", run->actor);
        kv_row(b, "Parameters", run->params_json);
        kv_time(b, "Started", run->started);
        kv_time(b, "Ended", run->ended);
        if (run->ended && run->ended >= run->started)
                kv_row(b, "Duration", format_duration(d, run->ended - run->started));
        strbuf_printf(b, "<tr><th>Outcome</th><td class=\"outcome-%s\">", outcome_class(run_outcome_to_string(run->outcome)));
        esc(b, run_outcome_to_string(run->outcome));
        if (run->error) {
                strbuf_puts(b, ": ");
                esc(b, run->error);
        }
        strbuf_puts(b, "</td></tr>\n");
        kv_row(b, "Host", run->hostname);
        strbuf_puts(b, "</table>\n");
}

static void steps_table(StrBuf *b, const Report *r)
{
        strbuf_puts(
                b, "<table id=\"steps\"><tr><th>Run</th><th>#</th><th>Step</th><th>Phase</th><th>Target</th>"
                   "<th>Try</th><th>Start</th><th>Duration</th><th>Outcome</th><th>Exit</th><th>HTTP</th>"
                   "</tr>\n");
        for (size_t i = 0; i < r->n_bars; i++) {
                const ReportBar *bar = &r->bars[i];
                const StepRecord *s = bar->step;
                strbuf_printf(b, "<tr><td class=\"num\">%lld</td><td class=\"num\">%d</td><td>",
                              (long long) bar->run->run.id, s->step_index + 1);
                esc(b, s->step_name);
                strbuf_puts(b, "</td><td>");
                esc(b, step_phase_to_string(s->phase));
                strbuf_puts(b, "</td><td>");
                esc(b, s->target);
                strbuf_printf(b, "</td><td class=\"num\">%u</td><td class=\"num\">+", s->attempt);
                report_put_duration(b, bar->start - r->t_start);
                strbuf_puts(b, "</td><td class=\"num\">");
                if (bar->end_unknown)
                        strbuf_puts(b, "unknown");
                else
                        report_put_duration(b, s->duration ? s->duration : bar->end - bar->start);
                strbuf_printf(b, "</td><td class=\"outcome-%s\">", outcome_class(step_outcome_to_string(s->outcome)));
                esc(b, step_outcome_to_string(s->outcome));
                strbuf_puts(b, "</td><td class=\"num\">");
                if (s->exit_status >= 0)
                        strbuf_printf(b, "%d", s->exit_status);
                strbuf_puts(b, "</td><td class=\"num\">");
                if (s->http_status > 0)
                        strbuf_printf(b, "%ld", s->http_status);
                strbuf_puts(b, "</td></tr>\n");
        }
        strbuf_puts(b, "</table>\n");
}

static void outputs(StrBuf *b, const Report *r)
{
        static const ReportOutputStyle style = {esc,          "<h3>", "</h3>\n", "<p>",
                                                ":</p><pre>", esc,    "</pre>\n"};
        report_put_outputs(b, r, &style);
}

static void drill_tables(StrBuf *b, const Report *r, unsigned *sec)
{
        const DrillRunRecord *d = &r->drill_run;
        _cleanup_free_ char *who = report_participants_text(d->participants_json);
        _cleanup_free_ char *scenario = xasprintf(
                "%s%s%s", strempty(d->fault), d->fault_subject ? " on " : "", strempty(d->fault_subject));

        strbuf_printf(b,
                      "<h2>%u. Drill</h2>\n<table id=\"drill\">\n<tr><th>Drill run</th><td>%lld</td></tr>\n",
                      ++*sec, (long long) d->id);
        kv_row(b, "Drill", d->drill);
        kv_row(b, "File", d->drill_path);
        kv_row(b, "Mode", d->mode);
        kv_row(b, "Purpose", d->purpose);
        kv_row(b, "Scenario", scenario);
        kv_row(b, "Participants", who);
        kv_row(b, "Led by", d->actor);
        kv_time(b, "Fault injected", d->fault_injected_at);
        kv_time(b, "Fault cleared", d->fault_cleared_at);
        kv_row(b, "Outcome", run_outcome_to_string(d->outcome));
        if (d->error)
                kv_row(b, "Error", d->error);
        strbuf_puts(b, "</table>\n");

        if (r->n_reviews == 0)
                return;
        strbuf_printf(
                b,
                "<h2>%u. Tabletop review</h2>\n<table id=\"reviews\"><tr><th>#</th><th>Step</th>"
                "<th>Phase</th><th>Verdict</th><th>Who</th><th>Time to answer</th><th>Comment</th></tr>\n",
                ++*sec);
        for (size_t i = 0; i < r->n_reviews; i++) {
                const DrillReviewRecord *w = &r->reviews[i];
                strbuf_printf(b, "<tr><td class=\"num\">%d</td><td>", w->step_index + 1);
                esc(b, w->step_name);
                strbuf_puts(b, "</td><td>");
                esc(b, step_phase_to_string(w->phase));
                strbuf_printf(b, "</td><td class=\"%s\">", streq_ptr(w->verdict, "ack") ? "met" : "missed");
                esc(b, w->verdict);
                strbuf_puts(b, "</td><td>");
                esc(b, w->who);
                strbuf_puts(b, "</td><td class=\"num\">");
                if (w->shown_at && w->answered_at >= w->shown_at)
                        report_put_duration(b, w->answered_at - w->shown_at);
                strbuf_puts(b, "</td><td>");
                esc(b, w->comment);
                strbuf_puts(b, "</td></tr>\n");
        }
        strbuf_puts(b, "</table>\n");
}

static void evaluation(StrBuf *b, const Report *r, unsigned *sec)
{
        strbuf_printf(b, "<h2>%u. Evaluation</h2>\n", ++*sec);
        if (r->n_criteria == 0)
                strbuf_puts(b, "<p id=\"evaluation\">No evaluation is recorded for this drill yet.</p>\n");
        else {
                strbuf_puts(b,
                            "<table id=\"evaluation\"><tr><th>Criterion</th><th>Score</th><th>Evaluator</th>"
                            "<th>When</th><th>Assessment</th></tr>\n");
                for (size_t i = 0; i < r->n_criteria; i++) {
                        const DrillEvaluationRecord *e = r->criteria[i];
                        strbuf_puts(b, "<tr><td>");
                        esc(b, e->criterion);
                        strbuf_puts(b, "</td><td class=\"num\">");
                        if (e->score > 0)
                                strbuf_printf(b, "%d/5", e->score);
                        strbuf_puts(b, "</td><td>");
                        esc(b, e->evaluator);
                        strbuf_puts(b, "</td><td>");
                        report_put_timestamp(b, e->at);
                        strbuf_puts(b, "</td><td>");
                        esc(b, e->text);
                        strbuf_puts(b, "</td></tr>\n");
                }
                strbuf_puts(b, "</table>\n");
        }
        strbuf_printf(b, "<h2>%u. Findings and improvement actions</h2>\n", ++*sec);
        if (r->n_drill_actions == 0) {
                strbuf_puts(b, "<p id=\"improvement-actions\">None recorded.</p>\n");
                return;
        }
        strbuf_puts(b, "<table id=\"improvement-actions\"><tr><th>#</th><th>Finding</th><th>Action</th>"
                       "<th>Owner</th><th>Due</th><th>Status</th><th>Since</th></tr>\n");
        for (size_t i = 0; i < r->n_drill_actions; i++) {
                const DrillActionRecord *a = &r->drill_actions[i];
                strbuf_printf(b, "<tr><td class=\"num\">%lld</td><td>", (long long) a->id);
                esc(b, a->finding);
                strbuf_puts(b, "</td><td>");
                esc(b, a->action);
                strbuf_puts(b, "</td><td>");
                esc(b, a->owner);
                strbuf_puts(b, "</td><td>");
                esc(b, a->due);
                strbuf_printf(b, "</td><td class=\"%s\">",
                              streq_ptr(a->status, "done")        ? "met"
                              : streq_ptr(a->status, "cancelled") ? ""
                                                                  : "unknown");
                esc(b, a->status);
                if (a->status_by) {
                        strbuf_puts(b, " (");
                        esc(b, a->status_by);
                        strbuf_puts(b, ")");
                }
                strbuf_puts(b, "</td><td>");
                report_put_timestamp(b, a->status_at);
                strbuf_puts(b, "</td></tr>\n");
        }
        strbuf_puts(b, "</table>\n");
}

int report_render_html(const Report *r, char **ret)
{
        static const char *const colour[] = {"none", "red", "orange", "yellow", "blue"};
        StrBuf b = STRBUF_INIT;
        unsigned sec = 0;

        if (!r || !ret || !r->overview)
                return -EINVAL;

        strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                        "<meta name=\"generator\" content=\"drover " DROVER_VERSION "\">\n<title>");
        if (r->has_incident)
                strbuf_printf(&b, "Incident report %lld", (long long) r->incident.id);
        else {
                strbuf_printf(&b, "%s report %lld: ", r->drill ? "Drill" : "Run",
                              (long long) r->runs[0].run.id);
                esc(&b, r->runs[0].run.playbook);
        }
        strbuf_printf(&b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);

        if (r->has_incident) {
                int lv = r->incident.level >= 0 && r->incident.level <= 4 ? r->incident.level : 0;
                strbuf_printf(&b,
                              "<h1>Incident report: incident %lld <span class=\"level level-%d\">level %d "
                              "%s</span></h1>\n",
                              (long long) r->incident.id, lv, lv, colour[lv]);
        } else {
                strbuf_printf(&b, "<h1>%s report: run %lld, ", r->drill ? "Drill" : "Run",
                              (long long) r->runs[0].run.id);
                esc(&b, r->runs[0].run.playbook);
                strbuf_puts(&b, "</h1>\n");
        }
        strbuf_puts(&b, "<p class=\"meta\">Generated by drover " DROVER_VERSION " at ");
        report_put_timestamp(&b, r->generated_at);
        strbuf_puts(&b, " from the journal. Times are UTC.</p>\n");
        if (r->drill)
                strbuf_puts(&b,
                            "<div class=\"banner drill\" id=\"drill-banner\">DRILL — not a real incident. "
                            "Nothing in this report describes an actual outage.</div>\n");

        strbuf_printf(&b, "<h2>%u. Overview</h2>\n<p id=\"overview\">", ++sec);
        esc(&b, r->overview);
        strbuf_puts(&b, "</p>\n");

        if (r->has_incident) {
                const IncidentRecord *inc = &r->incident;
                strbuf_printf(&b, "<h2>%u. Time, site and phenomenon</h2>\n<table id=\"incident\">\n",
                              ++sec);
                kv_time(&b, "Detected", r->detected_at);
                kv_time(&b, "Fault began", r->fault_at);
                kv_time(&b, "Decision", r->decided_at);
                kv_time(&b, "Recovered", r->recovered_at);
                kv_time(&b, "Closed", inc->closed_at);
                kv_row(&b, "Site", inc->site ? inc->site : "unknown");
                kv_row(&b, "Subject", inc->subject);
                kv_row(&b, "Phenomenon", inc->phenomenon ? inc->phenomenon : "not recorded");
                strbuf_printf(&b, "<tr><th>Level</th><td>%d (%s)</td></tr>\n", inc->level,
                              colour[inc->level >= 0 && inc->level <= 4 ? inc->level : 0]);
                kv_row(&b, "State", inc->state);
                strbuf_puts(&b, "</table>\n");

                strbuf_printf(&b, "<h2>%u. Scope of impact</h2>\n<p id=\"impact\">", ++sec);
                esc(&b, inc->impact && *inc->impact ? inc->impact : "Not recorded.");
                strbuf_puts(&b, "</p>\n");

                strbuf_printf(&b, "<h2>%u. Measures taken</h2>\n<ul id=\"measures\">\n", ++sec);
                for (size_t i = 0; i < r->n_actions; i++) {
                        const ReportAction *a = &r->actions[i];
                        if (strncmp(a->what, "playbook-", 9) && !streq(a->what, "notify") &&
                            !streq(a->what, "run-started") && !streq(a->what, "run-finished") &&
                            !streq(a->what, "approval") && !streq(a->what, "rollback-started") &&
                            !streq(a->what, "milestone"))
                                continue;
                        strbuf_puts(&b, "<li>");
                        report_put_timestamp(&b, a->at);
                        strbuf_puts(&b, " — <b>");
                        esc(&b, a->actor);
                        strbuf_puts(&b, "</b>: ");
                        esc(&b, a->what);
                        strbuf_puts(&b, ": ");
                        esc(&b, a->text);
                        strbuf_puts(&b, "</li>\n");
                }
                strbuf_puts(&b, "</ul>\n");

                strbuf_printf(&b, "<h2>%u. Expected impact</h2>\n<p id=\"expected-impact\">", ++sec);
                esc(&b, r->expected_impact);
                strbuf_printf(&b, "</p>\n<h2>%u. Next steps</h2>\n<p id=\"next-steps\">", ++sec);
                esc(&b, r->next_steps);
                strbuf_puts(&b, "</p>\n");

                strbuf_printf(
                        &b,
                        "<h2>%u. Level history</h2>\n<table id=\"levels\"><tr><th>Time</th><th>From</th>"
                        "<th>To</th><th>By</th><th>Reason</th></tr>\n",
                        ++sec);
                for (size_t i = 0; i < r->n_levels; i++) {
                        const ReportLevelChange *l = &r->levels[i];
                        int to = l->to >= 0 && l->to <= 4 ? l->to : 0;
                        strbuf_puts(&b, "<tr><td>");
                        report_put_timestamp(&b, l->at);
                        strbuf_printf(
                                &b, "</td><td>%s</td><td><span class=\"level level-%d\">%s</span></td><td>",
                                l->from >= 0 && l->from <= 4 ? colour[l->from] : "-", to, colour[to]);
                        esc(&b, l->actor);
                        strbuf_puts(&b, "</td><td>");
                        esc(&b, l->reason);
                        strbuf_puts(&b, "</td></tr>\n");
                }
                strbuf_puts(&b, "</table>\n");
        } else {
                strbuf_printf(&b, "<h2>%u. Run</h2>\n", ++sec);
                run_table(&b, &r->runs[0]);
                if (r->has_drill)
                        drill_tables(&b, r, &sec);
        }

        strbuf_printf(&b, "<h2>%u. Recovery objectives</h2>\n", ++sec);
        objectives(&b, r);

        strbuf_printf(&b, "<h2>%u. Timeline</h2>\n<div class=\"svgwrap\">\n", ++sec);
        svg_timeline(&b, r, "timeline", r->t_start, r->t_end);
        usec_t z0, z1;
        if (report_layout_zoom(r, &z0, &z1)) {
                strbuf_puts(&b, "</div>\n<p class=\"meta\">The step attempts, zoomed in:</p>\n<div "
                                "class=\"svgwrap\">\n");
                svg_timeline(&b, r, "timeline-steps", z0, z1);
        }
        strbuf_puts(&b,
                    "</div>\n<p class=\"legend\"><span><i style=\"background:#2e7d32\"></i>ok</span>"
                    "<span><i style=\"background:#c62828\"></i>failed / error / timeout</span>"
                    "<span><i style=\"background:#ef6c00\"></i>rollback</span>"
                    "<span><i style=\"background:#9e9e9e\"></i>skipped / cancelled</span>"
                    "<span><i style=\"background:#e3f2fd;border:1px solid #90caf9\"></i>fault → recovery "
                    "(achieved RTO)</span></p>\n");
        strbuf_puts(&b,
                    "<table id=\"milestones\"><tr><th>Time</th><th>Offset</th><th>Milestone</th></tr>\n");
        for (size_t i = 0; i < r->n_marks; i++) {
                strbuf_puts(&b, "<tr><td>");
                report_put_timestamp(&b, r->marks[i].at);
                strbuf_puts(&b, "</td><td class=\"num\">+");
                report_put_duration(&b, r->marks[i].at - r->t_start);
                strbuf_puts(&b, "</td><td>");
                esc(&b, r->marks[i].label);
                strbuf_puts(&b, "</td></tr>\n");
        }
        strbuf_puts(&b, "</table>\n");

        strbuf_printf(&b, "<h2>%u. Steps and timings</h2>\n", ++sec);
        steps_table(&b, r);

        strbuf_printf(&b, "<h2>%u. Failures</h2>\n<ul id=\"failures\">\n", ++sec);
        bool any = false;
        for (size_t i = 0; i < r->n_bars; i++) {
                const StepRecord *s = r->bars[i].step;
                if (!step_outcome_is_failure(s->outcome))
                        continue;
                any = true;
                strbuf_printf(&b, "<li>Run %lld, step %d <b>", (long long) r->bars[i].run->run.id,
                              s->step_index + 1);
                esc(&b, s->step_name);
                strbuf_puts(&b, "</b> (");
                esc(&b, step_phase_to_string(s->phase));
                strbuf_puts(&b, ", target ");
                esc(&b, s->target);
                strbuf_printf(&b, ", try %u): <span class=\"outcome-%s\">", s->attempt,
                              outcome_class(step_outcome_to_string(s->outcome)));
                esc(&b, step_outcome_to_string(s->outcome));
                strbuf_puts(&b, "</span>");
                if (s->error) {
                        strbuf_puts(&b, " — ");
                        esc(&b, s->error);
                }
                strbuf_puts(&b, "</li>\n");
        }
        strbuf_puts(&b, any ? "</ul>\n" : "<li>None.</li></ul>\n");

        strbuf_printf(&b,
                      "<h2>%u. Who did what</h2>\n<table id=\"actions\"><tr><th>Time</th><th>Who</th>"
                      "<th>What</th><th>Details</th></tr>\n",
                      ++sec);
        for (size_t i = 0; i < r->n_actions; i++) {
                const ReportAction *a = &r->actions[i];
                strbuf_puts(&b, "<tr><td>");
                report_put_timestamp(&b, a->at);
                strbuf_puts(&b, "</td><td>");
                esc(&b, a->actor);
                strbuf_puts(&b, "</td><td>");
                esc(&b, a->what);
                strbuf_puts(&b, "</td><td>");
                esc(&b, a->text);
                strbuf_puts(&b, "</td></tr>\n");
        }
        strbuf_puts(&b, "</table>\n");

        if (r->has_incident && r->n_runs) {
                strbuf_printf(&b, "<h2>%u. Linked runs</h2>\n", ++sec);
                for (size_t i = 0; i < r->n_runs; i++)
                        run_table(&b, &r->runs[i]);
        }
        if (r->drill)
                evaluation(&b, r, &sec);
        strbuf_printf(
                &b,
                "<h2>%u. Step output</h2>\n<p class=\"meta\">As journaled: capped, secrets masked.</p>\n",
                ++sec);
        outputs(&b, r);
        strbuf_puts(&b, "</main>\n</body>\n</html>\n");
        *ret = strbuf_steal(&b);
        return 0;
}
