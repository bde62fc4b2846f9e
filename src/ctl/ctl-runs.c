/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-runs.c — `droverctl runs` and `droverctl show RUN`: read the journal, print it
 * for a human or as JSON. Read-only, except that opening the journal marks runs of
 * dead processes as interrupted (see journal_recover()). When droverd is on the bus and
 * no journal is named, the records come through droverd (ctl-bus.c): its journal file
 * is its own.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "shared/log.h"
#include "shared/strbuf.h"

/* The journal can be read without a valid drover.yaml: --db, $DROVER_DB, or the config if
 * it loads. A broken config must not hide the record of what happened. */
static int open_for_reading(CtlGlobals *g, Journal **ret)
{
        _cleanup_(config_freep) Config *config = NULL;

        if (!g->db_path && !getenv(JOURNAL_ENV)) {
                int r = ctl_load_config(g, &config);
                if (r != EXIT_OK)
                        return r;
        }
        return ctl_open_journal(g, config, ret);
}

static char *fmt_time(usec_t t)
{
        char b[FORMAT_TIMESTAMP_MAX];
        return t ? xstrdup(format_timestamp(b, t)) : xstrdup("-");
}

static char *fmt_span(usec_t a, usec_t b)
{
        char d[FORMAT_DURATION_MAX];
        return a && b && b >= a ? xstrdup(format_duration(d, b - a)) : xstrdup("-");
}

/* A drill's run (live drill or tabletop), never a real incident's. */
static bool run_is_drill(const RunRecord *r)
{
        return run_mode_is_drill(r->mode) || streq_ptr(r->trigger, "drill");
}

static json_t *run_json(const RunRecord *r)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:i, s:i}", "id",
                              (json_int_t) r->id, "playbook", strempty(r->playbook), "playbook_path",
                              strempty(r->playbook_path), "playbook_sha256", strempty(r->playbook_sha256), "kind",
                              strempty(r->kind), "trigger", strempty(r->trigger), "actor", strempty(r->actor),
                              "mode", run_mode_to_string(r->mode), "started_us", (json_int_t) r->started, "ended_us",
                              (json_int_t) r->ended, "outcome", run_outcome_to_string(r->outcome), "steps", (int) r->n_steps,
                              "failed", (int) r->n_failed);
        json_t *params = r->params_json ? json_loads(r->params_json, 0, NULL) : NULL;
        json_object_set_new(o, "params", params ? params : json_null());
        json_object_set_new(o, "drill", json_boolean(run_is_drill(r)));
        json_object_set_new(o, "error", r->error ? json_string(r->error) : json_null());
        return o;
}

int verb_runs(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "limit", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        RunRecord *runs = NULL;
        size_t n = 0, limit = 50;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vl:h", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: droverctl runs [--limit N] [--json]\n\nList runs, newest first.\n");
                        return EXIT_OK;
                }
                if (c == 'l') {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*end || v == 0) {
                                log_error("--limit wants a positive number");
                                return EXIT_USAGE;
                        }
                        limit = v;
                        continue;
                }
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind != argc) {
                log_error("runs takes no arguments");
                return EXIT_USAGE;
        }

        if (ctl_bus_for_journal(g, &bus)) {
                r = ctl_bus_list_runs(g, bus, limit, &runs, &n);
                if (r != EXIT_OK)
                        return r;
        } else {
                r = open_for_reading(g, &j);
                if (r != EXIT_OK)
                        return r;
                r = journal_list_runs(j, limit, &runs, &n);
                if (r < 0)
                        return log_error_errno(r, "cannot read runs: %s", strerror(-r)), EXIT_INFRA;
        }

        if (g->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, run_json(&runs[i]));
                ctl_print_json_line(a);
        } else if (n == 0)
                printf("No runs in the journal.\n");
        else {
                /* Drill runs (modes drill and tabletop) are never mixed with real ones: they
                 * get their own table, after the real runs. */
                for (int drills = 0; drills < 2; drills++) {
                        size_t shown = 0;
                        for (size_t i = 0; i < n; i++) {
                                const RunRecord *x = &runs[i];
                                if (run_is_drill(x) != (drills == 1))
                                        continue;
                                if (shown++ == 0) {
                                        printf("%s%s%s\n", ansi_bold(g),
                                               drills ? "DRILLS (exercises, not incidents)"
                                                      : "RUNS (incidents and manual runs)",
                                               ansi_reset(g));
                                        printf("%s%6s  %-24s %-8s %-7s %-16s %-24s %9s %6s  %s%s\n", ansi_bold(g),
                                               "RUN", "PLAYBOOK", "MODE", "TRIGGER", "ACTOR", "STARTED", "DURATION",
                                               "STEPS", "OUTCOME", ansi_reset(g));
                                }
                                _cleanup_free_ char *t = fmt_time(x->started), *d = fmt_span(x->started, x->ended);
                                printf("%6lld  %-24s %-8s %-7s %-16s %-24s %9s %3u/%-2u  %s%s%s\n", (long long) x->id,
                                       strempty(x->playbook), run_mode_to_string(x->mode), strempty(x->trigger),
                                       strempty(x->actor), t, d, x->n_steps - x->n_failed, x->n_steps,
                                       run_outcome_color(g, x->outcome), run_outcome_to_string(x->outcome), ansi_reset(g));
                        }
                        if (shown > 0 && drills == 0)
                                printf("\n");
                }
        }
        run_record_free_array(runs, n);
        return EXIT_OK;
}

static json_t *step_json(const StepRecord *s)
{
        json_t *o = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:I, s:I, s:s, s:i, s:I}", "id",
                              (json_int_t) s->id, "index", s->step_index + 1, "name", strempty(s->step_name), "kind",
                              strempty(s->kind), "phase", step_phase_to_string(s->phase), "target", strempty(s->target),
                              "attempt", (int) s->attempt, "idempotent", s->idempotent, "started_us",
                              (json_int_t) s->started, "ended_us", (json_int_t) s->ended, "duration_us",
                              (json_int_t) s->duration, "outcome", step_outcome_to_string(s->outcome), "exit_status",
                              s->exit_status, "http_status", (json_int_t) s->http_status);
        json_object_set_new(o, "detail", s->detail ? json_string(s->detail) : json_null());
        json_object_set_new(o, "stdout", s->stdout_text ? json_string(s->stdout_text) : json_null());
        json_object_set_new(o, "stderr", s->stderr_text ? json_string(s->stderr_text) : json_null());
        json_object_set_new(o, "error", s->error ? json_string(s->error) : json_null());
        return o;
}

static void print_indented(const char *label, const char *text)
{
        if (!text || !*text)
                return;
        printf("             %s: ", label);
        for (const char *p = text; *p; p++) {
                putchar(*p);
                if (*p == '\n' && p[1])
                        printf("             %*s  ", (int) strlen(label), "");
        }
        if (text[strlen(text) - 1] != '\n')
                putchar('\n');
}

static void print_run(const CtlGlobals *g, const RunRecord *run)
{
        _cleanup_free_ char *t0 = fmt_time(run->started), *t1 = fmt_time(run->ended),
                            *d = fmt_span(run->started, run->ended);

        printf("%sRun %lld%s  %s (%s)  %s%s%s%s\n", ansi_bold(g), (long long) run->id, ansi_reset(g),
               strempty(run->playbook), strempty(run->kind), run_outcome_color(g, run->outcome), run_outcome_to_string(run->outcome),
               ansi_reset(g), run_is_drill(run) ? "  — DRILL, not an incident" : "");
        printf("  playbook  %s (sha256 %.12s…)\n", strempty(run->playbook_path), strempty(run->playbook_sha256));
        printf("  mode      %s, trigger %s, actor %s\n", run_mode_to_string(run->mode), strempty(run->trigger),
               strempty(run->actor));
        printf("  params    %s\n", strempty(run->params_json));
        printf("  started   %s\n  ended     %s (%s)\n", t0, t1, d);
        printf("  process   pid %d on %s\n", run->pid, strempty(run->hostname));
        if (run->error)
                printf("  error     %s\n", run->error);
}

int verb_show(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        RunRecord run = {};
        StepRecord *steps = NULL;
        EventRecord *events = NULL;
        size_t n_steps = 0, n_events = 0;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: droverctl show RUN [--json]\n\nShow a run with its steps, timings and events.\n");
                        return EXIT_OK;
                }
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        if (optind + 1 != argc) {
                log_error("show wants one RUN id");
                return EXIT_USAGE;
        }
        char *end;
        long long id = strtoll(argv[optind], &end, 10);
        if (*end || id <= 0) {
                log_error("'%s' is not a run id", argv[optind]);
                return EXIT_USAGE;
        }

        if (ctl_bus_for_journal(g, &bus)) {
                r = ctl_bus_get_run(g, bus, id, &run, &steps, &n_steps, &events, &n_events);
                if (r != EXIT_OK)
                        return r;
                goto print;
        }
        r = open_for_reading(g, &j);
        if (r != EXIT_OK)
                return r;
        r = journal_get_run(j, id, &run);
        if (r == -ENOENT) {
                log_error("no run %lld in the journal", id);
                return EXIT_USAGE;
        }
        if (r >= 0)
                r = journal_list_steps(j, id, &steps, &n_steps);
        if (r >= 0)
                r = journal_list_events(j, id, &events, &n_events);
        if (r < 0) {
                log_error_errno(r, "cannot read run %lld: %s", id, strerror(-r));
                ret = EXIT_INFRA;
                goto finish;
        }

print:
        if (g->json) {
                json_t *o = run_json(&run), *a = json_array(), *e = json_array();
                for (size_t i = 0; i < n_steps; i++)
                        json_array_append_new(a, step_json(&steps[i]));
                for (size_t i = 0; i < n_events; i++)
                        json_array_append_new(e, json_pack("{s:I, s:s, s:s}", "at_us", (json_int_t) events[i].at,
                                                           "kind", strempty(events[i].kind), "message",
                                                           strempty(events[i].message)));
                json_object_set_new(o, "step_attempts", a);
                json_object_set_new(o, "events", e);
                ctl_print_json_line(o);
                goto finish;
        }

        print_run(g, &run);
        printf("\n%s  #  STEP                     PHASE    TARGET        TRY  OUTCOME      DURATION  EXIT HTTP%s\n",
               ansi_bold(g), ansi_reset(g));
        for (size_t i = 0; i < n_steps; i++) {
                const StepRecord *s = &steps[i];
                char dd[FORMAT_DURATION_MAX], ex[24] = "-", hs[24] = "-";
                if (s->exit_status >= 0)
                        snprintf(ex, sizeof ex, "%d", s->exit_status);
                if (s->http_status > 0)
                        snprintf(hs, sizeof hs, "%ld", s->http_status);
                printf("%3d  %-24s %-8s %-13s %3u  %s%-11s%s %9s  %4s %4s\n", s->step_index + 1,
                       strempty(s->step_name), step_phase_to_string(s->phase), strempty(s->target), s->attempt,
                       step_outcome_color(g, s->outcome), step_outcome_to_string(s->outcome), ansi_reset(g),
                       s->ended ? format_duration(dd, s->duration) : "-", ex, hs);
                print_indented("do", s->detail);
                print_indented("error", s->error);
                print_indented("stdout", s->stdout_text);
                print_indented("stderr", s->stderr_text);
        }
        if (n_events > 0) {
                printf("\n%sEvents%s\n", ansi_bold(g), ansi_reset(g));
                for (size_t i = 0; i < n_events; i++) {
                        char ts[FORMAT_TIMESTAMP_MAX];
                        printf("  %s  %-20s %s\n", format_timestamp(ts, events[i].at), strempty(events[i].kind),
                               strempty(events[i].message));
                }
        }

finish:
        run_record_done(&run);
        step_record_free_array(steps, n_steps);
        event_record_free_array(events, n_events);
        return ret;
}
