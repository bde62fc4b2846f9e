/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-report.c — the report model and its renderers. A realistic incident (opened by
 * the policy at red, verified and escalated by people, a switchover run with a measured
 * RTO, resolved, closed) and drill runs are written through the journal's public API
 * into a real SQLite file, with a real playbook file for the objectives, then read back
 * with report_load(). Checks: RTO/RPO against the objectives, ordering, level history,
 * who did what, the SVG geometry (one bar per attempt, inside the viewBox), HTML and
 * Markdown escaping, and the JSON schema fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report.h"
#include "shared/sha256.h"

#define T0  ((usec_t) 1796000000 * USEC_PER_SEC) /* the fault, 2026-11-30 */
#define SEC USEC_PER_SEC
#define MS  USEC_PER_MSEC

static char tmpdir[256];
static unsigned counter;

static int setup_all(void **state)
{
        (void) snprintf(tmpdir, sizeof tmpdir, "%s/test-report-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_all(void **state)
{
        char cmd[PATH_MAX + 32];
        if (getenv("TEST_REPORT_KEEP"))
                return 0;
        (void) snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static const char playbook_yaml[] = "name: site-switchover\n"
                                    "description: test\n"
                                    "kind: switchover\n"
                                    "objectives: {rto: 5s, rpo: 1s}\n"
                                    "targets: {}\n"
                                    "steps: []\n";

/* A playbook file with objectives; its sha256 in ret_sha. */
static void write_playbook(char path[static PATH_MAX], char ret_sha[static SHA256_HEX_SIZE])
{
        (void) snprintf(path, PATH_MAX, "%s/pb%u.yaml", tmpdir, counter++);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(playbook_yaml, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        sha256_hex(playbook_yaml, strlen(playbook_yaml), ret_sha);
}

static char last_journal_path[PATH_MAX];

static Journal *open_journal(void)
{
        char *path = last_journal_path;
        Journal *j = NULL;
        (void) snprintf(path, PATH_MAX, "%s/j%u.db", tmpdir, counter++);
        assert_int_equal(journal_open(path, &j), 0);
        return j;
}

typedef struct StepSpec {
        const char *name;
        const char *kind;
        const char *phase;
        const char *target;
        unsigned attempt;
        usec_t start, end; /* offsets from T0; end 0 = never ended */
        const char *outcome;
        const char *out;
        const char *error;
} StepSpec;

static int64_t add_run(Journal *j, const char *mode, const char *pb_path, const char *sha,
                       const char *params, usec_t start, usec_t end, const char *outcome,
                       const StepSpec *steps, size_t n)
{
        int64_t run_id = 0;
        assert_int_equal(journal_run_begin(j,
                                           &(RunRecord){.playbook = (char *) "site-switchover",
                                                        .playbook_path = (char *) pb_path,
                                                        .playbook_sha256 = (char *) sha,
                                                        .kind = (char *) "switchover",
                                                        .params_json = (char *) params,
                                                        .trigger = (char *) "auto",
                                                        .actor = (char *) "policy",
                                                        .mode = run_mode_from_string(mode),
                                                        .started = T0 + start,
                                                        .outcome = RUN_RUNNING},
                                           &run_id),
                         0);
        for (size_t i = 0; i < n; i++) {
                const StepSpec *sp = &steps[i];
                StepRecord s = {
                        .run_id = run_id,
                        .step_index = (int) i,
                        .step_name = (char *) sp->name,
                        .kind = (char *) (sp->kind ?: "ssh"),
                        .phase = step_phase_from_string(sp->phase ?: "forward"),
                        .target = (char *) (sp->target ?: "backup-db"),
                        .attempt = sp->attempt ?: 1,
                        .started = T0 + sp->start,
                };
                assert_int_equal(journal_step_begin(j, &s, &s.id), 0);
                if (!sp->end)
                        continue;
                s.ended = T0 + sp->end;
                s.duration = sp->end - sp->start;
                s.outcome = step_outcome_from_string(sp->outcome);
                s.exit_status = streq(sp->kind ?: "ssh", "ssh") ? 0 : -1;
                s.stdout_text = (char *) sp->out;
                s.error = (char *) sp->error;
                assert_int_equal(journal_step_end(j, &s), 0);
        }
        if (end)
                assert_int_equal(journal_run_end(j, run_id, run_outcome_from_string(outcome), NULL, T0 + end), 0);
        return run_id;
}

static void log_entry(Journal *j, int64_t inc, usec_t at, const char *actor, const char *kind,
                      const char *text, const char *from, const char *to, int lfrom, int lto, int64_t run_id)
{
        assert_int_equal(journal_incident_log(j,
                                              &(IncidentLogRecord){.incident_id = inc,
                                                                   .at = T0 + at,
                                                                   .actor = (char *) actor,
                                                                   .kind = (char *) kind,
                                                                   .text = (char *) text,
                                                                   .state_from = (char *) from,
                                                                   .state_to = (char *) to,
                                                                   .level_from = lfrom,
                                                                   .level_to = lto,
                                                                   .run_id = run_id},
                                              NULL),
                         0);
}

static const StepSpec switchover_steps[] = {
        {"standby-lag", .start = 3100 * MS, .end = 3150 * MS, .outcome = "ok", .out = "0\n"},
        {"promote-standby", .start = 3150 * MS, .end = 3900 * MS, .outcome = "ok"},
        {"verify-transfer", "http", .target = "customers", .start = 3900 * MS, .end = 4000 * MS,
         .outcome = "failed", .error = "HTTP 502"},
        {"verify-transfer", "http", .target = "customers", .attempt = 2, .start = 4100 * MS,
         .end = 4200 * MS, .outcome = "ok"},
        {"measured-rto", "local", .target = "local", .start = 4210 * MS, .end = 4230 * MS, .outcome = "ok",
         .out = "4.200\n"},
        {"notify-duty-office", "notify", .target = "duty", .start = 4240 * MS, .end = 4250 * MS,
         .outcome = "ok"},
};

/* Fault at T0; detected at +2 s (red, by the policy); the policy starts the switchover at
 * +3 s; alice verifies at +10 s; bob escalates and lowers to orange; resolved at +20 s. */
static int64_t make_incident(Journal *j, const char *pb, const char *sha, int64_t *ret_run)
{
        _cleanup_free_ char *params = xasprintf("{\"reason\":\"site lost\",\"fault_at\":\"%llu.000\"}",
                                                (unsigned long long) (T0 / SEC));
        int64_t run = add_run(j, "live", pb, sha, params, 3 * SEC, 4300 * MS, "succeeded", switchover_steps,
                              ELEMENTSOF(switchover_steps));
        int64_t id = 0;
        assert_int_equal(
                journal_incident_open(j,
                                      &(IncidentRecord){.opened_at = T0 + 2 * SEC,
                                                        .site = (char *) "primary",
                                                        .subject = (char *) "ebank-primary",
                                                        .phenomenon = (char *) "site down on quorum",
                                                        .impact = (char *) "all online payments",
                                                        .state = (char *) "detected",
                                                        .level = 1},
                                      &id),
                0);
        log_entry(j, id, 2 * SEC, "policy", "opened", "site down on quorum", NULL, NULL, -1, 1, 0);
        log_entry(j, id, 3 * SEC, "policy", "playbook-started", "site-switchover", NULL, NULL, -1, -1, run);
        log_entry(j, id, 10 * SEC, "alice", "state-change", "confirmed by phone", "detected", "verified", -1,
                  -1, 0);
        log_entry(j, id, 12 * SEC, "bob", "state-change", "head of command centre informed", "verified",
                  "escalated", -1, -1, 0);
        log_entry(j, id, 13 * SEC, "bob", "level-change", "payments back at the backup site", NULL, NULL, 1,
                  2, 0);
        log_entry(j, id, 14 * SEC, "policy", "notify", "duty office and regulator liaison told", NULL, NULL,
                  -1, -1, 0);
        log_entry(j, id, 20 * SEC, "alice", "state-change", "transfers verified", "escalated", "mitigating",
                  -1, -1, 0);
        log_entry(j, id, 21 * SEC, "alice", "state-change", "service restored", "mitigating", "resolved", -1,
                  -1, 0);
        log_entry(j, id, 22 * SEC, "carol", "next-steps", "root cause analysis with the hosting vendor",
                  NULL, NULL, -1, -1, 0);
        assert_int_equal(journal_incident_update(j, id, "resolved", 2, NULL, 0), 0);
        *ret_run = run;
        return id;
}

static void test_incident_model(void **state)
{
        char pb[PATH_MAX], sha[SHA256_HEX_SIZE];
        Journal *j = open_journal();
        Report *r = NULL;
        int64_t run;

        write_playbook(pb, sha);
        int64_t id = make_incident(j, pb, sha, &run);
        assert_int_equal(report_load(j, NULL, REPORT_INCIDENT, id, T0 + 60 * SEC, &r), 0);

        assert_false(r->drill);
        assert_int_equal(r->n_runs, 1);
        assert_int_equal(r->runs[0].run.id, run);
        /* Timeline points. */
        assert_int_equal(r->fault_at, T0);
        assert_int_equal(r->detected_at, T0 + 2 * SEC);
        assert_int_equal(r->decided_at, T0 + 3 * SEC);
        /* The measuring step wins over the incident's resolution time. */
        assert_true(r->has_rto);
        assert_int_equal(r->rto, 4200 * MS);
        assert_int_equal(r->recovered_at, T0 + 4200 * MS);
        assert_true(r->objectives.known);
        assert_int_equal(r->objectives.rto, 5 * SEC);
        assert_int_equal(r->rto_met, 1);
        assert_int_equal(r->rpo_met, -1); /* no RPO measured */
        /* Marks in time order, with the RTO objective at fault + 5 s. */
        assert_true(r->n_marks >= 5);
        bool objective = false;
        for (size_t i = 0; i < r->n_marks; i++) {
                if (i > 0)
                        assert_true(r->marks[i - 1].at <= r->marks[i].at);
                if (r->marks[i].kind == REPORT_MARK_RTO_OBJECTIVE) {
                        assert_int_equal(r->marks[i].at, T0 + 5 * SEC);
                        objective = true;
                }
        }
        assert_true(objective);
        /* Level history: opened at red, then orange by bob. */
        assert_int_equal(r->n_levels, 2);
        assert_int_equal(r->levels[0].to, 1);
        assert_int_equal(r->levels[1].from, 1);
        assert_int_equal(r->levels[1].to, 2);
        assert_string_equal(r->levels[1].actor, "bob");
        /* Who did what: every log entry plus the run's start and end, in time order. */
        assert_int_equal(r->n_actions, 9 + 2);
        for (size_t i = 1; i < r->n_actions; i++)
                assert_true(r->actions[i - 1].at <= r->actions[i].at);
        bool alice_verified = false, bob_escalated = false;
        for (size_t i = 0; i < r->n_actions; i++) {
                if (streq(r->actions[i].actor, "alice") && strstr(r->actions[i].text, "detected → verified"))
                        alice_verified = true;
                if (streq(r->actions[i].actor, "bob") && strstr(r->actions[i].text, "verified → escalated"))
                        bob_escalated = true;
        }
        assert_true(alice_verified);
        assert_true(bob_escalated);
        /* The regulator's paragraphs. */
        assert_non_null(strstr(r->overview, "primary"));
        assert_non_null(strstr(r->overview, "within the objective"));
        assert_non_null(strstr(r->expected_impact, "all online payments"));
        assert_non_null(strstr(r->next_steps, "root cause analysis with the hosting vendor"));
        assert_non_null(strstr(r->next_steps, "close the incident"));
        /* One failed attempt out of six. */
        assert_int_equal(r->n_attempts, 6);
        assert_int_equal(r->n_failed_attempts, 1);

        report_free(r);
        journal_close(j);
}

/* Bars come by start time even when the journal holds them in another order (a fan-out
 * begins several attempts, the one that started first is journaled last). */
static void test_ordering(void **state)
{
        static const StepSpec steps[] = {
                {"b", .start = 2 * SEC, .end = 3 * SEC, .outcome = "ok"},
                {"a", .start = 1 * SEC, .end = 4 * SEC, .outcome = "ok"},
                {"c", .start = 5 * SEC, .end = 0}, /* never ended: interrupted */
        };
        Journal *j = open_journal();
        Report *r = NULL;
        int64_t run =
                add_run(j, "drill", "/nonexistent/pb.yaml", "00", NULL, 0, 6 * SEC, "failed", steps, 3);

        assert_int_equal(report_load(j, NULL, REPORT_DRILL, run, T0 + 60 * SEC, &r), 0);
        assert_true(r->drill);
        assert_int_equal(r->n_bars, 3);
        assert_string_equal(r->bars[0].step->step_name, "a");
        assert_string_equal(r->bars[1].step->step_name, "b");
        assert_string_equal(r->bars[2].step->step_name, "c");
        assert_true(r->bars[2].end_unknown);
        assert_int_equal(r->bars[2].end, T0 + 6 * SEC); /* drawn to the run's end */
        assert_false(r->objectives.known);
        assert_non_null(strstr(r->objectives.unknown_reason, "cannot be read"));
        assert_false(r->has_rto);
        assert_int_equal(r->rto_met, -1);
        report_free(r);

        /* The same run as a plain run report; a live run refused as a drill. */
        assert_int_equal(report_load(j, NULL, REPORT_RUN, run, T0, &r), 0);
        report_free(r);
        r = NULL;
        int64_t live = add_run(j, "live", NULL, NULL, NULL, 0, SEC, "succeeded", NULL, 0);
        assert_int_equal(report_load(j, NULL, REPORT_DRILL, live, T0, &r), -EMEDIUMTYPE);
        assert_null(r);
        assert_int_equal(report_load(j, NULL, REPORT_RUN, 9999, T0, &r), -ENOENT);
        assert_int_equal(report_load(j, NULL, REPORT_INCIDENT, 9999, T0, &r), -ENOENT);
        journal_close(j);
}

/* A drill that missed its RTO objective (7.5 s against 5 s) and met its RPO. A changed
 * playbook file makes the objectives unknown rather than wrong. */
static void test_rto_missed_and_changed_playbook(void **state)
{
        char pb[PATH_MAX], sha[SHA256_HEX_SIZE];
        static const StepSpec steps[] = {
                {"promote-standby", .start = 1 * SEC, .end = 7 * SEC, .outcome = "ok"},
                {"measured-rto", "local", .start = 7500 * MS, .end = 7600 * MS, .outcome = "ok",
                 .out = "7.5\n"},
                {"achieved-rpo", "local", .start = 7600 * MS, .end = 7700 * MS, .outcome = "ok",
                 .out = "0.4"},
        };
        Journal *j = open_journal();
        Report *r = NULL;
        _cleanup_free_ char *params = xasprintf("{\"fault_at\":\"%llu\"}", (unsigned long long) (T0 / SEC));

        write_playbook(pb, sha);
        int64_t run = add_run(j, "drill", pb, sha, params, SEC, 8 * SEC, "succeeded", steps, 3);
        assert_int_equal(report_load(j, NULL, REPORT_DRILL, run, T0, &r), 0);
        assert_int_equal(r->rto, 7500 * MS);
        assert_int_equal(r->rto_met, 0);
        assert_int_equal(r->rpo, 400 * MS);
        assert_int_equal(r->rpo_met, 1);
        assert_non_null(strstr(r->overview, "MISSING the objective"));
        assert_non_null(strstr(r->overview, "DRILL"));
        report_free(r);

        FILE *f = fopen(pb, "ae");
        assert_non_null(f);
        fputs("# edited after the run\n", f);
        fclose(f);
        assert_int_equal(report_load(j, NULL, REPORT_DRILL, run, T0, &r), 0);
        assert_false(r->objectives.known);
        assert_non_null(strstr(r->objectives.unknown_reason, "changed since the run"));
        assert_int_equal(r->rto_met, -1);
        assert_true(r->has_rto); /* still measured, only not judged */
        report_free(r);
        journal_close(j);
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* One bar per attempt, every bar inside the viewBox and the plot, x growing with time;
 * the HTML draws exactly those bars. */
static void test_svg_geometry(void **state)
{
        char pb[PATH_MAX], sha[SHA256_HEX_SIZE];
        Journal *j = open_journal();
        Report *r = NULL;
        ReportLayout l;
        int64_t run;
        char *html = NULL;

        write_playbook(pb, sha);
        int64_t id = make_incident(j, pb, sha, &run);
        assert_int_equal(report_load(j, NULL, REPORT_INCIDENT, id, T0 + 60 * SEC, &r), 0);
        assert_int_equal(report_layout(r, &l), 0);
        assert_int_equal(l.n_bars, ELEMENTSOF(switchover_steps));
        for (size_t i = 0; i < l.n_bars; i++) {
                const ReportRect *q = &l.bars[i];
                assert_true(q->x >= l.plot_x0 && q->x + q->w <= l.plot_x1 + 1e-9);
                assert_true(q->x >= 0 && q->x + q->w <= l.width);
                assert_true(q->y >= l.rows_y0 && q->y + q->h <= l.height);
                assert_true(q->w >= 2.0);
                if (i > 0) {
                        assert_true(q->x >= l.bars[i - 1].x);
                        assert_true(q->y > l.bars[i - 1].y); /* one row each */
                }
        }
        for (size_t i = 0; i < l.n_marks; i++)
                assert_true(l.mark_x[i] >= l.plot_x0 && l.mark_x[i] <= l.plot_x1);
        /* The fault is the earliest point: at the left edge of the plot. */
        assert_true(l.mark_x[0] == l.plot_x0);

        /* The steps take 1.15 s of a 13 s span: a zoomed view shows them readably. */
        usec_t z0, z1;
        assert_true(report_layout_zoom(r, &z0, &z1));
        assert_true(z0 >= r->t_start && z0 <= r->bars[0].start);
        assert_true(z1 <= r->t_end && z1 >= r->bars[r->n_bars - 1].end);
        ReportLayout zl;
        assert_int_equal(report_layout_range(r, z0, z1, &zl), 0);
        for (size_t i = 0; i < zl.n_bars; i++) {
                const ReportRect *q = &zl.bars[i];
                assert_true(q->x >= zl.plot_x0 && q->x + q->w <= zl.plot_x1 + 1e-9);
                assert_true(q->w >= l.bars[i].w); /* never narrower than in the whole view */
        }
        assert_true(zl.bars[1].w > 5 * l.bars[1].w); /* promote-standby: 0.75 s */
        report_layout_done(&zl);

        assert_int_equal(report_render_html(r, &html), 0);
        /* Each SVG draws one bar per attempt and its milestones. */
        char *whole = strstr(html, "<svg id=\"timeline\""),
             *zoom = strstr(html, "<svg id=\"timeline-steps\"");
        assert_non_null(whole);
        assert_non_null(zoom);
        assert_true(zoom > whole);
        *zoom = 0;
        assert_int_equal(count(whole, "<rect class=\"bar "), ELEMENTSOF(switchover_steps));
        assert_int_equal(count(whole, "<g class=\"mark "), r->n_marks);
        *zoom = '<';
        assert_int_equal(count(zoom, "<rect class=\"bar "), ELEMENTSOF(switchover_steps));
        assert_int_equal(count(html, "<svg "), 2);
        /* Self-contained: no script, no external resource. */
        assert_null(strstr(html, "<script"));
        assert_null(strstr(html, "src="));
        assert_null(strstr(html, "<link"));
        assert_int_equal(count(html, "://"), 2); /* only the SVG namespace, once per SVG */
        free(html);
        report_layout_done(&l);
        report_free(r);
        journal_close(j);
}

/* Text from a remote host or a person is escaped in HTML and Markdown. */
static void test_escaping(void **state)
{
        static const StepSpec steps[] = {
                {"evil<u>", .start = 0, .end = SEC, .outcome = "ok",
                 .out = "<script>alert('x')</script> & <img src=x onerror=alert(1)> ``` | *"},
                {"fails", .start = SEC, .end = 2 * SEC, .outcome = "error", .error = "a & b <i>"},
        };
        Journal *j = open_journal();
        Report *r = NULL;
        char *html = NULL, *md = NULL, *json = NULL;
        int64_t run = add_run(j, "tabletop", NULL, NULL, "{\"reason\":\"<script>\"}", 0, 2 * SEC, "failed",
                              steps, 2);

        assert_int_equal(report_load(j, NULL, REPORT_DRILL, run, T0, &r), 0);
        assert_int_equal(report_render_html(r, &html), 0);
        assert_null(strstr(html, "<script"));
        assert_null(strstr(html, "<img"));
        assert_null(strstr(html, "<u>"));
        assert_null(strstr(html, "<i>"));
        assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img"));
        assert_non_null(strstr(html, "a &amp; b &lt;i&gt;"));
        assert_non_null(strstr(html, "evil&lt;u&gt;"));
        assert_non_null(strstr(html, "id=\"drill-banner\""));

        assert_int_equal(report_render_markdown(r, &md), 0);
        /* In prose and tables: entities. In the fenced output: literal, inside a longer fence. */
        assert_non_null(strstr(md, "evil&lt;u&gt;"));
        assert_non_null(strstr(md, "a &amp; b &lt;i&gt;"));
        assert_non_null(strstr(
                md, "````text\n<script>alert('x')</script> & <img src=x onerror=alert(1)> ``` | *\n````"));
        assert_non_null(strstr(md, "DRILL"));

        assert_int_equal(report_render_json(r, &json), 0);
        json_error_t err;
        json_t *o = json_loads(json, 0, &err);
        assert_non_null(o);
        json_t *steps_a = json_object_get(o, "steps");
        assert_string_equal(json_string_value(json_object_get(json_array_get(steps_a, 0), "stdout")),
                            steps[0].out);
        json_decref(o);
        free(json);
        free(md);
        free(html);
        report_free(r);
        journal_close(j);
}

/* The JSON carries the schema's fields with the right types. */
static void test_json_schema(void **state)
{
        char pb[PATH_MAX], sha[SHA256_HEX_SIZE];
        Journal *j = open_journal();
        Report *r = NULL;
        char *text = NULL;
        int64_t run;

        write_playbook(pb, sha);
        int64_t id = make_incident(j, pb, sha, &run);
        assert_int_equal(report_load(j, NULL, REPORT_INCIDENT, id, T0 + 60 * SEC, &r), 0);
        assert_int_equal(report_render(r, REPORT_FORMAT_JSON, &text), 0);
        json_error_t err;
        json_t *o = json_loads(text, 0, &err);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "schema")), "drover-report/1");
        assert_string_equal(json_string_value(json_object_get(o, "kind")), "incident");
        assert_true(json_is_false(json_object_get(o, "drill")));
        assert_int_equal(json_integer_value(json_object_get(o, "generated_us")), T0 + 60 * SEC);
        json_t *inc = json_object_get(o, "incident");
        assert_int_equal(json_integer_value(json_object_get(inc, "id")), id);
        assert_string_equal(json_string_value(json_object_get(inc, "site")), "primary");
        assert_string_equal(json_string_value(json_object_get(inc, "phenomenon")), "site down on quorum");
        assert_string_equal(json_string_value(json_object_get(inc, "impact")), "all online payments");
        assert_true(json_is_string(json_object_get(inc, "expected_impact")));
        assert_true(json_is_string(json_object_get(inc, "next_steps")));
        assert_int_equal(json_array_size(json_object_get(o, "level_history")), 2);
        json_t *res = json_object_get(o, "results");
        assert_int_equal(json_integer_value(json_object_get(res, "rto_us")), 4200 * MS);
        assert_true(json_is_true(json_object_get(res, "rto_met")));
        assert_true(json_is_null(json_object_get(res, "rpo_met")));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "objectives"), "rto_us")),
                         5 * SEC);
        json_t *tl = json_object_get(o, "timeline");
        assert_int_equal(json_integer_value(json_object_get(tl, "fault_us")), T0);
        assert_int_equal(json_integer_value(json_object_get(tl, "recovered_us")), T0 + 4200 * MS);
        assert_int_equal(json_array_size(json_object_get(tl, "marks")), r->n_marks);
        assert_int_equal(json_array_size(json_object_get(o, "steps")), 6);
        assert_int_equal(json_array_size(json_object_get(o, "actions")), r->n_actions);
        assert_int_equal(json_array_size(json_object_get(o, "runs")), 1);
        json_t *s2 = json_array_get(json_object_get(o, "steps"), 2);
        assert_string_equal(json_string_value(json_object_get(s2, "outcome")), "failed");
        assert_true(json_is_true(json_object_get(s2, "failed")));
        json_decref(o);
        free(text);

        /* Markdown has every section regulators ask for. */
        assert_int_equal(report_render(r, REPORT_FORMAT_MARKDOWN, &text), 0);
        static const char *const sections[] = {"Overview",        "Time, site and phenomenon",
                                               "Scope of impact", "Measures taken",
                                               "Expected impact", "Next steps",
                                               "Level history",   "Recovery objectives",
                                               "Timeline",        "Who did what"};
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                assert_non_null(strstr(text, sections[i]));
        free(text);
        report_free(r);
        journal_close(j);
}

/* A tabletop drill with its drill run (journal-drill.h): reviews, an evaluation scored
 * twice for one criterion (the newest counts), improvement actions, one closed. */
static void test_drill_evaluation(void **state)
{
        static const StepSpec steps[] = {
                {"cut-primary", .start = 1 * SEC, .end = 20 * SEC, .outcome = "ok"},
                {"promote-standby", .start = 20 * SEC, .end = 50 * SEC, .outcome = "ok"},
        };
        Journal *j = open_journal();
        JournalDrill *jd = NULL;
        Report *r = NULL;
        int64_t drill_run = 0, act1 = 0, act2 = 0;
        char *html = NULL, *md = NULL, *json = NULL;

        int64_t run = add_run(j, "tabletop", NULL, NULL, NULL, 0, 60 * SEC, "succeeded", steps, 2);
        assert_int_equal(journal_drill_open(last_journal_path, &jd), 0);
        assert_int_equal(
                journal_drill_run_begin(
                        jd,
                        &(DrillRunRecord){.drill = (char *) "yearly-switchover",
                                          .mode = (char *) "tabletop",
                                          .purpose = (char *) "walk the switchover plan",
                                          .fault = (char *) "site-loss",
                                          .fault_subject = (char *) "primary",
                                          .participants_json =
                                                  (char *) "[{\"name\":\"alice\",\"role\":\"commander\"},{"
                                                           "\"name\":\"bob\",\"role\":\"duty office\"}]",
                                          .actor = (char *) "alice",
                                          .started = T0,
                                          .rto_objective_us = 120 * SEC,
                                          .rpo_objective_us = -1},
                        &drill_run),
                0);
        assert_int_equal(journal_drill_run_link(jd, drill_run, 1, run, "site-switchover"), 0);
        assert_int_equal(journal_drill_review_add(jd,
                                                  &(DrillReviewRecord){.drill_run_id = drill_run,
                                                                       .run_id = run,
                                                                       .step_index = 0,
                                                                       .step_name = (char *) "cut-primary",
                                                                       .phase = STEP_PHASE_FORWARD,
                                                                       .shown_at = T0 + 1 * SEC,
                                                                       .answered_at = T0 + 20 * SEC,
                                                                       .verdict = (char *) "ack",
                                                                       .who = (char *) "bob"},
                                                  NULL),
                         0);
        assert_int_equal(journal_drill_review_add(
                                 jd,
                                 &(DrillReviewRecord){.drill_run_id = drill_run,
                                                      .run_id = run,
                                                      .step_index = 1,
                                                      .step_name = (char *) "promote-standby",
                                                      .phase = STEP_PHASE_FORWARD,
                                                      .shown_at = T0 + 20 * SEC,
                                                      .answered_at = T0 + 50 * SEC,
                                                      .verdict = (char *) "challenge",
                                                      .who = (char *) "carol",
                                                      .comment = (char *) "who checks the lag <first>?"},
                                 NULL),
                         0);
        assert_int_equal(journal_drill_run_end(jd, &(DrillRunRecord){.id = drill_run,
                                                                     .ended = T0 + 60 * SEC,
                                                                     .outcome = RUN_SUCCEEDED,
                                                                     .recovered_at = T0 + 50 * SEC,
                                                                     .rto_us = 50 * SEC,
                                                                     .rpo_us = -1,
                                                                     .objectives_met = 1}),
                         0);
        assert_int_equal(
                journal_drill_evaluation_add(jd,
                                             &(DrillEvaluationRecord){.drill_run_id = drill_run,
                                                                      .at = T0 + 100 * SEC,
                                                                      .evaluator = (char *) "alice",
                                                                      .criterion = (char *) "coordination",
                                                                      .score = 2,
                                                                      .text = (char *) "first draft"},
                                             NULL),
                0);
        assert_int_equal(journal_drill_evaluation_add(
                                 jd,
                                 &(DrillEvaluationRecord){.drill_run_id = drill_run,
                                                          .at = T0 + 200 * SEC,
                                                          .evaluator = (char *) "alice",
                                                          .criterion = (char *) "coordination",
                                                          .score = 3,
                                                          .text = (char *) "duty office late by 5 min"},
                                 NULL),
                         0);
        assert_int_equal(
                journal_drill_evaluation_add(jd,
                                             &(DrillEvaluationRecord){.drill_run_id = drill_run,
                                                                      .at = T0 + 150 * SEC,
                                                                      .evaluator = (char *) "bob",
                                                                      .criterion = (char *) "objectives",
                                                                      .score = 5,
                                                                      .text = (char *) "RTO met"},
                                             NULL),
                0);
        assert_int_equal(journal_drill_action_add(
                                 jd,
                                 &(DrillActionRecord){.drill_run_id = drill_run,
                                                      .created_at = T0 + 300 * SEC,
                                                      .created_by = (char *) "alice",
                                                      .finding = (char *) "lag check owner unclear",
                                                      .action = (char *) "name the DBA on duty in the plan",
                                                      .owner = (char *) "carol",
                                                      .due = (char *) "2027-01-31"},
                                 &act1),
                         0);
        assert_int_equal(
                journal_drill_action_add(jd,
                                         &(DrillActionRecord){.drill_run_id = drill_run,
                                                              .created_at = T0 + 301 * SEC,
                                                              .created_by = (char *) "alice",
                                                              .finding = (char *) "phone list outdated",
                                                              .action = (char *) "update the phone list",
                                                              .owner = (char *) "bob",
                                                              .due = (char *) "2026-12-15"},
                                         &act2),
                0);
        assert_int_equal(journal_drill_action_set_status(jd, act2, "done", "bob", "updated", T0 + 400 * SEC),
                         0);

        assert_int_equal(report_load(j, jd, REPORT_DRILL, run, T0 + 500 * SEC, &r), 0);
        assert_true(r->has_drill);
        assert_true(r->drill);
        assert_int_equal(r->drill_run.id, drill_run);
        assert_int_equal(r->n_reviews, 2);
        /* Two criteria; coordination's newest score (3) counts, sorted by name. */
        assert_int_equal(r->n_criteria, 2);
        assert_string_equal(r->criteria[0]->criterion, "coordination");
        assert_int_equal(r->criteria[0]->score, 3);
        assert_string_equal(r->criteria[1]->criterion, "objectives");
        assert_int_equal(r->n_drill_actions, 2);
        /* The drill's own measurement and objective when the playbook's are unknown. */
        assert_true(r->has_rto);
        assert_int_equal(r->rto, 50 * SEC);
        assert_true(r->objectives.known);
        assert_int_equal(r->objectives.rto, 120 * SEC);
        assert_int_equal(r->rto_met, 1);
        assert_non_null(strstr(r->overview, "yearly-switchover"));
        assert_non_null(strstr(r->overview, "2 improvement actions, 1 open"));
        /* Reviews, evaluation and actions are in "who did what". */
        bool carol = false, scored = false;
        for (size_t i = 0; i < r->n_actions; i++) {
                carol |= streq(r->actions[i].actor, "carol") && streq(r->actions[i].what, "tabletop-review");
                scored |= streq(r->actions[i].what, "evaluation") && strstr(r->actions[i].text, "score 3");
        }
        assert_true(carol);
        assert_true(scored);

        assert_int_equal(report_render_html(r, &html), 0);
        assert_non_null(strstr(html, "id=\"evaluation\""));
        assert_non_null(strstr(html, "3/5"));
        assert_non_null(strstr(html, "name the DBA on duty in the plan"));
        assert_non_null(strstr(html, "alice (commander), bob (duty office)"));
        assert_non_null(strstr(html, "who checks the lag &lt;first&gt;?"));
        assert_int_equal(report_render_markdown(r, &md), 0);
        assert_non_null(strstr(md, "| coordination | 3/5 | alice |"));
        assert_non_null(strstr(md, "done (bob)"));
        assert_int_equal(report_render_json(r, &json), 0);
        json_t *o = json_loads(json, 0, NULL);
        assert_non_null(o);
        json_t *d = json_object_get(o, "drill_run");
        assert_string_equal(json_string_value(json_object_get(d, "drill")), "yearly-switchover");
        assert_int_equal(json_array_size(json_object_get(d, "evaluation")), 2);
        assert_int_equal(json_array_size(json_object_get(d, "improvement_actions")), 2);
        assert_int_equal(json_array_size(json_object_get(d, "reviews")), 2);
        assert_int_equal(json_array_size(json_object_get(d, "participants")), 2);
        json_decref(o);
        free(json);
        free(md);
        free(html);
        report_free(r);

        /* A drill-mode run that no drill run links (started by hand): still a drill report. */
        int64_t lone = add_run(j, "drill", NULL, NULL, NULL, 0, SEC, "succeeded", NULL, 0);
        assert_int_equal(report_load(j, jd, REPORT_DRILL, lone, T0, &r), 0);
        assert_false(r->has_drill);
        assert_true(r->drill);
        assert_int_equal(report_render_markdown(r, &md), 0);
        assert_non_null(strstr(md, "No evaluation is recorded for this drill yet."));
        free(md);
        report_free(r);
        journal_drill_close(jd);
        journal_close(j);
}

static void test_parse_seconds(void **state)
{
        usec_t u;
        assert_int_equal(report_parse_seconds("4.200\n", &u), 0);
        assert_int_equal(u, 4200 * MS);
        assert_int_equal(report_parse_seconds(" 0 ", &u), 0);
        assert_int_equal(u, 0);
        assert_int_equal(report_parse_seconds("12", &u), 0);
        assert_int_equal(u, 12 * SEC);
        static const char *const bad[] = {"", "-1", "inf", "nan", "0x10", "1e3", "1.2.3", "4 s", NULL};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(report_parse_seconds(bad[i], &u), -EINVAL);
}

static void test_tables(void **state)
{
        for (int k = 0; k < _REPORT_KIND_MAX; k++)
                assert_int_equal(report_kind_from_string(report_kind_to_string(k)), k);
        for (int f = 0; f < _REPORT_FORMAT_MAX; f++)
                assert_int_equal(report_format_from_string(report_format_to_string(f)), f);
        for (int m = 0; m < _REPORT_MARK_KIND_MAX; m++)
                assert_int_equal(report_mark_kind_from_string(report_mark_kind_to_string(m)), m);
        assert_int_equal(report_format_from_string("pdf"), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_incident_model),
                cmocka_unit_test(test_ordering),
                cmocka_unit_test(test_rto_missed_and_changed_playbook),
                cmocka_unit_test(test_svg_geometry),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_json_schema),
                cmocka_unit_test(test_drill_evaluation),
                cmocka_unit_test(test_parse_seconds),
                cmocka_unit_test(test_tables),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
