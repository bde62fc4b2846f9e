/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-levels.c — warning levels from health and probe results: durations,
 * anti-flap de-escalation, escalation 4→1, most severe wins, site roll-up; from
 * tables with a fake clock (each step's time is both the `at` of what is fed and
 * the `now` of the evaluation that follows it).
 *
 * The runner checks after every step the level of the scenario's watched subject
 * and that a LevelChange for it was reported exactly when that level changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "monitor/levels.h"

#define SEC(s) ((usec_t) (s) * USEC_PER_SEC)

typedef enum StepKind { STEP_END, STEP_HEALTH, STEP_PROBE, STEP_EVAL } StepKind;

typedef struct LStep {
        StepKind kind;
        const char *target;
        Health health;
        const char *probe;
        const char *vantage;
        ProbeOutcome outcome;
        bool has_value;
        double value;
        unsigned at;
        WarningLevel expect;
        const char *reason;       /* substring of the watched subject's change reason */
} LStep;

typedef struct LScenario {
        const char *subject;      /* watched */
        bool is_site;
        LevelRule rules[6];       /* ends at level 0 */
        LStep steps[40];
} LScenario;

#define H(tg, h, t, l, ...) { .kind = STEP_HEALTH, .target = tg, .health = HEALTH_##h, .at = t, .expect = LEVEL_##l, __VA_ARGS__ }
#define P(tg, pr, v, o, t, l, ...) { .kind = STEP_PROBE, .target = tg, .probe = pr, .vantage = v, .outcome = PROBE_##o, .at = t, .expect = LEVEL_##l, __VA_ARGS__ }
#define PM(tg, x, t, l, ...) { .kind = STEP_PROBE, .target = tg, .probe = "vendor", .vantage = "local", .outcome = PROBE_OK, .has_value = true, .value = x, .at = t, .expect = LEVEL_##l, __VA_ARGS__ }
#define E(t, l, ...) { .kind = STEP_EVAL, .at = t, .expect = LEVEL_##l, __VA_ARGS__ }
#define RULE(l, c, f, subj, ...) { .level = LEVEL_##l, .cond = LEVEL_COND_##c, .for_duration = SEC(f), .site_or_target = subj, .threshold = NAN, __VA_ARGS__ }

/* CFG-style overrides (RULE(..., .threshold = 0.95)) are on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"

/* dc1: db (critical), web, vendor; dc2: db2 (critical); dc3: cache (not critical). */
static void add_targets(LevelEvaluator *e)
{
        assert_int_equal(levels_add_target(e, "db", "dc1", true), 0);
        assert_int_equal(levels_add_target(e, "web", "dc1", false), 0);
        assert_int_equal(levels_add_target(e, "vendor", "dc1", false), 0);
        assert_int_equal(levels_add_target(e, "db2", "dc2", true), 0);
        assert_int_equal(levels_add_target(e, "cache", "dc3", false), 0);
}

static void run_scenario(void **state)
{
        const LScenario *sc = *state;
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        WarningLevel prev = LEVEL_NONE;

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        for (size_t i = 0; sc->rules[i].level != LEVEL_NONE; i++)
                if (levels_add_rule(e, &sc->rules[i]) != 0)
                        fail_msg("rule %zu refused", i);

        for (size_t i = 0; sc->steps[i].kind != STEP_END; i++) {
                const LStep *s = &sc->steps[i];
                LevelChange ch[16] = {};
                const LevelChange *mine = NULL;
                LevelStatus st;
                size_t n = 99, count = 0;

                if (s->kind == STEP_HEALTH) {
                        HealthChange hc = { .target = s->target, .site = "?", .to = s->health, .at = SEC(s->at) };
                        assert_int_equal(levels_feed_health(e, &hc), 0);
                } else if (s->kind == STEP_PROBE) {
                        ProbeResult r = {
                                .probe = s->probe,
                                .target = s->target,
                                .vantage = s->vantage,
                                .outcome = s->outcome,
                                .has_value = s->has_value,
                                .value = s->has_value ? s->value : NAN,
                                .at = SEC(s->at),
                                .detail = s->outcome == PROBE_OK ? NULL : "HTTP 503",
                        };
                        assert_int_equal(levels_feed_probe(e, &r), 0);
                }
                assert_int_equal(levels_evaluate(e, SEC(s->at), ch, ELEMENTSOF(ch), &n), 0);
                assert_true(n <= ELEMENTSOF(ch));

                assert_int_equal(levels_get(e, sc->subject, sc->is_site, &st), 0);
                if (st.level != s->expect)
                        fail_msg("step %zu (t=%us): level %s, expected %s", i, s->at,
                                 warning_level_to_string(st.level), warning_level_to_string(s->expect));

                for (size_t k = 0; k < n; k++)
                        if (ch[k].subject_is_site == sc->is_site && streq(ch[k].subject, sc->subject)) {
                                mine = &ch[k];
                                count++;
                        }
                if (s->expect != prev) {
                        if (count != 1)
                                fail_msg("step %zu: %zu changes for %s, expected 1", i, count, sc->subject);
                        assert_int_equal(mine->from, prev);
                        assert_int_equal(mine->to, s->expect);
                        assert_int_equal(mine->at, SEC(s->at));
                        assert_int_equal(st.since, SEC(s->at));
                        if (s->reason && !strstr(mine->reason, s->reason))
                                fail_msg("step %zu: reason '%s' lacks '%s'", i, mine->reason, s->reason);
                } else if (count != 0)
                        fail_msg("step %zu: a change %s→%s (%s) but the level stayed", i,
                                 warning_level_to_string(mine->from), warning_level_to_string(mine->to),
                                 mine->reason);
                prev = s->expect;
        }
}

/* ---- the four levels from the issue ---- */

static const LScenario site_down_30s_is_red = {
        "dc1", true,
        { RULE(RED, SITE_DOWN, 30, "dc1", .name = "dc1-down") },
        { H("db", DOWN, 100, NONE), E(110, NONE), E(129, NONE),
          E(130, RED, .reason = "dc1-down: site dc1 down: critical target db down for 30.00s"), E(200, RED) },
};

static const LScenario site_down_flap_restarts_timer = {
        "dc1", true,
        { RULE(RED, SITE_DOWN, 30, "dc1") },
        { H("db", DOWN, 100, NONE), H("db", UP, 120, NONE), H("db", DOWN, 125, NONE), E(130, NONE), E(154, NONE),
          E(155, RED, .reason = "site_down dc1: site dc1 down") },
};

static const LScenario non_critical_target_is_not_site_down = {
        "dc1", true,
        { RULE(RED, SITE_DOWN, 0, "dc1") },
        { H("web", DOWN, 0, NONE), H("vendor", DOWN, 1, NONE), E(1000, NONE), H("db", DOWN, 1001, RED) },
};

static const LScenario vendor_under_95_for_2min_is_orange = {
        "dc1", true,
        { RULE(ORANGE, METRIC_BELOW, 120, "vendor", .threshold = 0.95) },
        { PM("vendor", 0.90, 0, NONE), PM("vendor", 0.91, 60, NONE), E(119, NONE),
          E(120, ORANGE, .reason = "metric 0.91 below 0.95 on vendor (probe vendor from local) for 2m"),
          PM("vendor", 0.99, 130, ORANGE), E(249, ORANGE), /* clear for less than 2 min */
          E(250, NONE, .reason = "metric_below vendor: clear for 2m") },
};

static const LScenario vendor_brief_recovery_restarts_timer = {
        "vendor", false,
        { RULE(ORANGE, METRIC_BELOW, 120, "vendor", .threshold = 0.95) },
        { PM("vendor", 0.90, 0, NONE), PM("vendor", 0.97, 60, NONE), PM("vendor", 0.90, 61, NONE),
          PM("vendor", 0.95, 100, NONE) /* at the threshold is fine */, PM("vendor", 0.5, 101, NONE),
          E(220, NONE), E(221, ORANGE) },
};

static const LScenario latency_is_yellow = {
        "web", false,
        { RULE(YELLOW, LATENCY_OVER, 0, "web") },
        { H("web", DEGRADED, 10, YELLOW, .reason = "target web degraded"), H("web", DOWN, 11, YELLOW),
          H("web", UP, 12, NONE), H("db", DEGRADED, 13, NONE) },
};

static const LScenario single_failing_probe_is_blue = {
        "web", false,
        { RULE(BLUE, PROBE_FAILING, 0, "web") },
        { P("web", "http", "local", OK, 0, NONE), P("web", "http", "remote", OK, 0, NONE),
          P("web", "http", "remote", FAIL, 5, BLUE, .reason = "probe http of web from remote: fail: HTTP 503"),
          P("web", "http", "local", OK, 6, BLUE), /* remote still failing */
          P("web", "tcp", "local", TIMEOUT, 7, BLUE), P("web", "http", "remote", OK, 8, BLUE),
          P("web", "tcp", "local", SLOW, 9, NONE) /* slow is not failing */ },
};

static const LScenario unavailable_vantage_is_not_failing = {
        /* The remote vantage point could not run the check: that says nothing about web. */
        "web", false,
        { RULE(BLUE, PROBE_FAILING, 0, "web") },
        { P("web", "http", "remote", UNAVAILABLE, 0, NONE), P("web", "http", "local", OK, 1, NONE),
          P("web", "http", "remote", FAIL, 2, BLUE), P("web", "http", "remote", UNAVAILABLE, 3, NONE) },
};

/* ---- escalation, de-escalation, most severe wins ---- */

static const LScenario escalation_4_to_1_and_back = {
        "dc1", true,
        { RULE(BLUE, PROBE_FAILING, 0, "db"), RULE(YELLOW, LATENCY_OVER, 60, "db"),
          RULE(RED, SITE_DOWN, 30, "dc1") },
        { P("db", "sql", "local", FAIL, 0, BLUE), H("db", DEGRADED, 1, BLUE), E(60, BLUE), E(61, YELLOW),
          H("db", DOWN, 70, YELLOW), E(99, YELLOW), E(100, RED, .reason = "critical target db down for 30.00s"),
          /* recovery: probe fine and db up at 200 */
          P("db", "sql", "local", OK, 200, RED), H("db", UP, 200, RED), E(229, RED),
          E(230, YELLOW) /* site_down clear for 30 s; latency still needs 60 s clear */, E(259, YELLOW),
          E(260, NONE, .reason = "clear for 1m") },
};

static const LScenario most_severe_wins = {
        "dc1", true,
        { RULE(BLUE, PROBE_FAILING, 0, "db"), RULE(RED, TARGET_DOWN, 0, "db"), RULE(YELLOW, LATENCY_OVER, 0, "db") },
        { H("db", DOWN, 0, RED, .reason = "target_down db: target db down"),
          P("db", "sql", "local", FAIL, 1, RED), H("db", DEGRADED, 2, YELLOW), H("db", UP, 3, BLUE),
          P("db", "sql", "local", OK, 4, NONE) },
};

static const LScenario most_severe_wins_any_order = {
        "db", false,
        { RULE(RED, TARGET_DOWN, 0, "db"), RULE(BLUE, PROBE_FAILING, 0, "db") },
        { P("db", "sql", "local", FAIL, 1, BLUE), H("db", DOWN, 2, RED), H("db", UP, 3, BLUE) },
};

static const LScenario site_rolls_up_its_targets = {
        "dc1", true,
        { RULE(BLUE, PROBE_FAILING, 0, "web"), RULE(RED, TARGET_DOWN, 0, "db2") },
        { P("web", "http", "local", FAIL, 0, BLUE), H("db2", DOWN, 1, BLUE) /* db2 is dc2's */,
          P("web", "http", "local", OK, 2, NONE) },
};

static const LScenario other_site_unaffected = {
        "dc2", true,
        { RULE(BLUE, PROBE_FAILING, 0, "dc1"), RULE(RED, SITE_DOWN, 0, "dc2") },
        { P("web", "http", "local", FAIL, 0, NONE), H("db", DOWN, 1, NONE), H("db2", DOWN, 2, RED) },
};

static const LScenario target_down_on_site_means_any_target = {
        "dc1", true,
        { RULE(ORANGE, TARGET_DOWN, 10, "dc1") },
        { H("web", DOWN, 0, NONE), H("vendor", DOWN, 5, NONE), H("web", UP, 6, NONE), E(10, ORANGE),
          H("vendor", UP, 11, ORANGE), E(20, ORANGE), E(21, NONE) },
};

static const LScenario de_escalation_flap_keeps_level = {
        /* The condition clears for less than `for`, comes back: the level never drops. */
        "dc1", true,
        { RULE(RED, SITE_DOWN, 30, "dc1") },
        { H("db", DOWN, 0, NONE), E(30, RED), H("db", UP, 40, RED), H("db", DOWN, 60, RED), E(100, RED),
          H("db", UP, 200, RED), E(229, RED), E(230, NONE) },
};

static const LScenario time_does_not_run_backwards = {
        "web", false,
        { RULE(BLUE, PROBE_FAILING, 10, "web") },
        { P("web", "http", "local", FAIL, 100, NONE), E(50, NONE), E(109, NONE), E(110, BLUE) },
};

/* ---- API-level tests ---- */

static void test_flip_between_evaluations(void **state)
{
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        LevelRule rule = RULE(RED, SITE_DOWN, 30, "dc1");
        HealthChange down = { .target = "db", .to = HEALTH_DOWN, .at = SEC(0) };
        HealthChange up = { .target = "db", .to = HEALTH_UP, .at = SEC(35) };
        LevelChange ch[8];
        LevelStatus st;
        size_t n;

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        assert_int_equal(levels_add_rule(e, &rule), 0);
        assert_int_equal(levels_feed_health(e, &down), 0);
        assert_int_equal(levels_feed_health(e, &up), 0); /* no evaluation in between */
        assert_true(levels_rule_active(e, 0));
        assert_int_equal(levels_evaluate(e, SEC(40), ch, ELEMENTSOF(ch), &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(ch[0].to, LEVEL_RED);
        assert_int_equal(levels_evaluate(e, SEC(64), ch, ELEMENTSOF(ch), &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(levels_evaluate(e, SEC(65), ch, ELEMENTSOF(ch), &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(ch[0].to, LEVEL_NONE);
        assert_int_equal(levels_get(e, "dc1", true, &st), 0);
        assert_int_equal(st.level, LEVEL_NONE);
        assert_int_equal(st.rule, -1);
}

static void test_change_fields_and_status(void **state)
{
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        LevelRule rules[] = {
                RULE(BLUE, PROBE_FAILING, 0, "web", .name = "web-probe"),
                RULE(RED, SITE_DOWN, 30, "dc1", .name = "dc1-down"),
        };
        ProbeResult r = { .probe = "http", .target = "web", .outcome = PROBE_FAIL, .at = SEC(5) };
        LevelChange ch[8];
        LevelStatus st;
        size_t n;
        bool seen_site = false, seen_target = false;

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                assert_int_equal(levels_add_rule(e, &rules[i]), 0);
        assert_int_equal(levels_n_rules(e), 2);
        assert_int_equal(levels_feed_probe(e, &r), 0);
        assert_int_equal(levels_evaluate(e, SEC(5), ch, ELEMENTSOF(ch), &n), 0);
        /* web has rules of its own (a subject) and rolls up into dc1 */
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(ch[i].from, LEVEL_NONE);
                assert_int_equal(ch[i].to, LEVEL_BLUE);
                assert_int_equal(ch[i].rule, 0);
                assert_string_equal(ch[i].rule_name, "web-probe");
                assert_string_equal(ch[i].site, "dc1");
                assert_non_null(strstr(ch[i].reason, "from local")); /* NULL vantage = local */
                if (ch[i].subject_is_site) {
                        assert_string_equal(ch[i].subject, "dc1");
                        seen_site = true;
                } else {
                        assert_string_equal(ch[i].subject, "web");
                        seen_target = true;
                }
        }
        assert_true(seen_site && seen_target);
        assert_int_equal(levels_get(e, "web", false, &st), 0);
        assert_int_equal(st.level, LEVEL_BLUE);
        assert_string_equal(st.rule_name, "web-probe");
        assert_int_equal(levels_get(e, "db", false, &st), -ENOENT); /* no rules of its own */
        assert_int_equal(levels_get(e, "dc3", true, &st), 0);
        assert_int_equal(st.level, LEVEL_NONE);
}

static void test_add_errors(void **state)
{
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        HealthChange hc = { .target = "nope", .to = HEALTH_DOWN };
        ProbeResult r = { .target = "nope", .outcome = PROBE_FAIL };

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        assert_int_equal(levels_add_target(e, "db", "dc9", true), -EEXIST);
        assert_int_equal(levels_add_target(e, NULL, "dc9", true), -EINVAL);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(RED, TARGET_DOWN, 0, "mars")), -ENOENT);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(RED, SITE_DOWN, 0, "db")), -EINVAL);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(RED, SITE_DOWN, 0, "dc3")), -EINVAL);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(RED, METRIC_BELOW, 0, "vendor")), -EINVAL);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(NONE, TARGET_DOWN, 0, "db")), -EINVAL);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(RED, TARGET_DOWN, 0, "db", .level = 5)), -EINVAL);
        assert_int_equal(levels_add_rule(e, &(LevelRule) RULE(RED, TARGET_DOWN, 0, "db", .cond = 9)), -EINVAL);
        assert_int_equal(levels_n_rules(e), 0);
        assert_int_equal(levels_feed_health(e, &hc), -ENOENT);
        assert_int_equal(levels_feed_probe(e, &r), -ENOENT);
        assert_null(levels_free(NULL));

        assert_string_equal(level_condition_to_string(LEVEL_COND_METRIC_BELOW), "metric_below");
        assert_int_equal(level_condition_from_string("site_down"), LEVEL_COND_SITE_DOWN);
        assert_int_equal(level_condition_from_string("site-down"), _LEVEL_COND_INVALID);
        assert_null(level_condition_to_string(_LEVEL_COND_MAX));
}

static void test_next_deadline(void **state)
{
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        LevelRule rules[] = { RULE(RED, SITE_DOWN, 30, "dc1"), RULE(BLUE, PROBE_FAILING, 10, "web") };
        HealthChange down = { .target = "db", .to = HEALTH_DOWN, .at = SEC(100) };
        ProbeResult r = { .probe = "http", .target = "web", .outcome = PROBE_TIMEOUT, .at = SEC(105) };
        usec_t d = 0;

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                assert_int_equal(levels_add_rule(e, &rules[i]), 0);
        assert_int_equal(levels_next_deadline(e, &d), -ENODATA);
        assert_int_equal(levels_feed_health(e, &down), 0);
        assert_int_equal(levels_next_deadline(e, &d), 0);
        assert_int_equal(d, SEC(130));
        assert_int_equal(levels_feed_probe(e, &r), 0);
        assert_int_equal(levels_next_deadline(e, &d), 0);
        assert_int_equal(d, SEC(115));
        assert_int_equal(levels_evaluate(e, SEC(130), NULL, 0, NULL), 0);
        assert_int_equal(levels_next_deadline(e, &d), -ENODATA);
}

static void test_nobufs_changes_nothing(void **state)
{
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        LevelRule rule = RULE(BLUE, PROBE_FAILING, 0, "web");
        ProbeResult r = { .probe = "http", .target = "web", .outcome = PROBE_FAIL, .at = SEC(1) };
        LevelChange ch[2];
        LevelStatus st;
        size_t n = 99;

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        assert_int_equal(levels_add_rule(e, &rule), 0);
        assert_int_equal(levels_feed_probe(e, &r), 0);
        assert_int_equal(levels_evaluate(e, SEC(1), ch, 1, &n), -ENOBUFS); /* web and dc1 */
        assert_int_equal(levels_get(e, "dc1", true, &st), 0);
        assert_int_equal(st.level, LEVEL_NONE);
        assert_int_equal(levels_evaluate(e, SEC(1), ch, 2, &n), 0);
        assert_int_equal(n, 2);
}

static void test_rule_added_after_feed(void **state)
{
        /* A condition that already holds when the rule is added counts from then. */
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        HealthChange down = { .target = "db", .to = HEALTH_DOWN, .at = SEC(100) };
        LevelRule rule = RULE(RED, TARGET_DOWN, 30, "db");
        LevelStatus st;

        assert_int_equal(levels_new(&e), 0);
        add_targets(e);
        assert_int_equal(levels_feed_health(e, &down), 0);
        assert_int_equal(levels_add_rule(e, &rule), 0);
        assert_int_equal(levels_evaluate(e, SEC(129), NULL, 0, NULL), 0);
        assert_int_equal(levels_get(e, "db", false, &st), 0);
        assert_int_equal(st.level, LEVEL_NONE);
        assert_int_equal(levels_evaluate(e, SEC(130), NULL, 0, NULL), 0);
        assert_int_equal(levels_get(e, "db", false, &st), 0);
        assert_int_equal(st.level, LEVEL_RED);
}

#define NAMED(s) { #s, run_scenario, NULL, NULL, (void *) &s }

int main(void)
{
        const struct CMUnitTest tests[] = {
                NAMED(site_down_30s_is_red),
                NAMED(unavailable_vantage_is_not_failing),
                NAMED(site_down_flap_restarts_timer),
                NAMED(non_critical_target_is_not_site_down),
                NAMED(vendor_under_95_for_2min_is_orange),
                NAMED(vendor_brief_recovery_restarts_timer),
                NAMED(latency_is_yellow),
                NAMED(single_failing_probe_is_blue),
                NAMED(escalation_4_to_1_and_back),
                NAMED(most_severe_wins),
                NAMED(most_severe_wins_any_order),
                NAMED(site_rolls_up_its_targets),
                NAMED(other_site_unaffected),
                NAMED(target_down_on_site_means_any_target),
                NAMED(de_escalation_flap_keeps_level),
                NAMED(time_does_not_run_backwards),
                cmocka_unit_test(test_flip_between_evaluations),
                cmocka_unit_test(test_change_fields_and_status),
                cmocka_unit_test(test_add_errors),
                cmocka_unit_test(test_next_deadline),
                cmocka_unit_test(test_nobufs_changes_nothing),
                cmocka_unit_test(test_rule_added_after_feed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
