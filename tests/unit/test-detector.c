/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-detector.c — hysteresis, quorum, staleness, slow and vendor-metric
 * degradation of the pure detector, from tables with a fake clock (the `at` of
 * each result); plus the string tables of probe-result.h.
 *
 * Every scenario step states the target health expected after it; the runner
 * also checks that a HealthChange was emitted exactly when that health changed,
 * with the right from/to/at.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "monitor/detector.h"

#define SEC(s) ((usec_t) (s) * USEC_PER_SEC)

typedef struct Step {
        bool tick;             /* a detector_tick() at `at` instead of a result */
        const char *vantage;
        ProbeOutcome outcome;
        bool has_value;
        double value;
        unsigned at;           /* seconds on the fake clock */
        Health expect;         /* the target's health after the step */
        const char *reason;    /* a substring the emitted change's reason must contain */
} Step;

typedef struct Scenario {
        DetectorTargetConfig config;
        Step steps[40];
} Scenario;

#define OK(v, t, h, ...)   { .vantage = v, .outcome = PROBE_OK, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }
#define FAIL(v, t, h, ...) { .vantage = v, .outcome = PROBE_FAIL, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }
#define TMO(v, t, h, ...)  { .vantage = v, .outcome = PROBE_TIMEOUT, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }
#define SLOW(v, t, h, ...) { .vantage = v, .outcome = PROBE_SLOW, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }
#define METRIC(v, x, t, h, ...) { .vantage = v, .outcome = PROBE_OK, .has_value = true, .value = x, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }
#define UNAV(v, t, h, ...) { .vantage = v, .outcome = PROBE_UNAVAILABLE, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }
#define TICK(t, h, ...) { .tick = true, .at = t, .expect = HEALTH_##h, __VA_ARGS__ }

static const char *const TWO[] = { "local", "remote" };
static const char *const THREE[] = { "local", "remote", "peer" };

/* CFG(.fall = 1) overrides a default on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"
#define CFG(...) { .name = "db", .site = "dc1", .fall = 3, .rise = 2, .metric_min = NAN, __VA_ARGS__ }

static void run_scenario(void **state)
{
        const Scenario *sc = *state;
        _cleanup_(detector_freep) Detector *d = NULL;
        Health prev = HEALTH_UNKNOWN;

        assert_int_equal(detector_new(&d), 0);
        assert_int_equal(detector_add_target(d, &sc->config), 0);
        assert_int_equal(detector_health(d, "db"), HEALTH_UNKNOWN);

        for (size_t i = 0; sc->steps[i].tick || sc->steps[i].vantage; i++) {
                const Step *s = &sc->steps[i];
                HealthChange ch[4] = {};
                size_t n = 99;

                if (s->tick)
                        assert_int_equal(detector_tick(d, SEC(s->at), ch, ELEMENTSOF(ch), &n), 0);
                else {
                        ProbeResult r = {
                                .probe = "p",
                                .target = "db",
                                .site = "dc1",
                                .vantage = s->vantage,
                                .outcome = s->outcome,
                                .latency = 5 * USEC_PER_MSEC,
                                .has_value = s->has_value,
                                .value = s->has_value ? s->value : NAN,
                                .at = SEC(s->at),
                                .detail = "HTTP 503",
                        };
                        assert_int_equal(detector_feed(d, &r, ch, ELEMENTSOF(ch), &n), 0);
                }

                if (detector_health(d, "db") != s->expect)
                        fail_msg("step %zu (t=%us): health %s, expected %s", i, s->at,
                                 health_to_string(detector_health(d, "db")), health_to_string(s->expect));
                if (s->expect != prev) {
                        if (n != 1)
                                fail_msg("step %zu: %zu changes, expected 1", i, n);
                        assert_int_equal(ch[0].from, prev);
                        assert_int_equal(ch[0].to, s->expect);
                        assert_int_equal(ch[0].at, SEC(s->at));
                        assert_string_equal(ch[0].target, "db");
                        assert_string_equal(ch[0].site, "dc1");
                        if (s->reason && !strstr(ch[0].reason, s->reason))
                                fail_msg("step %zu: reason '%s' lacks '%s'", i, ch[0].reason, s->reason);
                } else if (n != 0)
                        fail_msg("step %zu: %zu changes but health stayed %s (%s)", i, n, health_to_string(prev),
                                 ch[0].reason);
                prev = s->expect;
        }
}

/* ---- hysteresis (fall 3, rise 2) ---- */

static const Scenario fall_n = {
        CFG(),
        { OK("local", 1, UNKNOWN), OK("local", 2, UP),
          FAIL("local", 3, UP), FAIL("local", 4, UP), /* N-1 failures: still up */
          FAIL("local", 5, DOWN, .reason = "down from 1 of 1 vantage points (quorum 1): local (fail: HTTP 503)") },
};

static const Scenario ok_in_between_resets = {
        CFG(),
        { OK("local", 1, UNKNOWN), OK("local", 2, UP),
          FAIL("local", 3, UP), FAIL("local", 4, UP), OK("local", 5, UP),
          FAIL("local", 6, UP), FAIL("local", 7, UP), FAIL("local", 8, DOWN) },
};

static const Scenario rise_m = {
        CFG(.rise = 3),
        { FAIL("local", 1, UNKNOWN), FAIL("local", 2, UNKNOWN), FAIL("local", 3, DOWN),
          OK("local", 4, DOWN), OK("local", 5, DOWN), FAIL("local", 6, DOWN), /* a failure resets the rise */
          OK("local", 7, DOWN), OK("local", 8, DOWN), OK("local", 9, UP, .reason = "up from 1 of 1") },
};

static const Scenario timeout_is_failure = {
        CFG(.fall = 2),
        { OK("local", 1, UNKNOWN), OK("local", 2, UP), TMO("local", 3, UP), FAIL("local", 4, DOWN),
          OK("local", 5, DOWN), OK("local", 6, UP), TMO("local", 7, UP), TMO("local", 8, DOWN, .reason = "timeout") },
};

static const Scenario startup_needs_counts = {
        /* One sample decides nothing at start-up either. */
        CFG(.fall = 2, .rise = 2),
        { OK("local", 1, UNKNOWN), FAIL("local", 2, UNKNOWN), OK("local", 3, UNKNOWN), OK("local", 4, UP) },
};

static const Scenario fall_one_rise_one = {
        CFG(.fall = 1, .rise = 1),
        { FAIL("local", 1, DOWN), OK("local", 2, UP), FAIL("local", 3, DOWN) },
};

/* ---- quorum ---- */

static const Scenario quorum_one_of_two_degraded = {
        CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2),
        { OK("local", 1, UNKNOWN), OK("remote", 1, UNKNOWN), OK("local", 2, UP), OK("remote", 2, UP),
          FAIL("local", 3, UP), FAIL("local", 4, UP),
          FAIL("local", 5, DEGRADED, .reason = "down from 1 of 2 vantage points (quorum 2)"),
          OK("remote", 5, DEGRADED),
          FAIL("remote", 6, DEGRADED), FAIL("remote", 7, DEGRADED),
          FAIL("remote", 8, DOWN, .reason = "down from 2 of 2 vantage points (quorum 2)"),
          OK("local", 9, DOWN), OK("local", 10, DEGRADED), /* local up: 1 of 2 down */
          OK("remote", 11, DEGRADED), OK("remote", 12, UP) },
};

static const Scenario drover_link_lost = {
        /* drover's own uplink dies: locally everything fails, the remote vantage
         * still sees the site answering. Not down: no failover from our own outage. */
        CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2),
        { OK("local", 1, UNKNOWN), OK("remote", 1, UNKNOWN), OK("local", 2, UP), OK("remote", 2, UP),
          TMO("local", 3, UP), OK("remote", 3, UP), TMO("local", 4, UP), OK("remote", 4, UP),
          TMO("local", 5, DEGRADED), OK("remote", 5, DEGRADED), TMO("local", 6, DEGRADED),
          OK("remote", 6, DEGRADED), TMO("local", 7, DEGRADED), OK("remote", 7, DEGRADED),
          TMO("local", 8, DEGRADED), TMO("local", 9, DEGRADED), TMO("local", 10, DEGRADED) },
};

static const Scenario quorum_one_of_two_is_enough = {
        CFG(.quorum = 1, .vantages = TWO, .n_vantages = 2),
        { OK("local", 1, UNKNOWN), OK("remote", 1, UNKNOWN), OK("local", 2, UP), OK("remote", 2, UP),
          FAIL("local", 3, UP), FAIL("local", 4, UP), FAIL("local", 5, DOWN, .reason = "down from 1 of 2") },
};

static const Scenario silent_vantage_does_not_agree = {
        /* The remote vantage never reported: it does not count toward the quorum. */
        CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2),
        { FAIL("local", 1, UNKNOWN), FAIL("local", 2, UNKNOWN), FAIL("local", 3, DEGRADED),
          FAIL("local", 4, DEGRADED), FAIL("local", 5, DEGRADED), FAIL("local", 6, DEGRADED) },
};

static const Scenario quorum_two_of_three = {
        CFG(.quorum = 2, .vantages = THREE, .n_vantages = 3, .fall = 1, .rise = 1),
        { OK("local", 1, UP), OK("remote", 1, UP), OK("peer", 1, UP),
          FAIL("peer", 2, DEGRADED), FAIL("local", 3, DOWN), OK("peer", 4, DEGRADED), FAIL("remote", 5, DOWN),
          OK("local", 6, DEGRADED, .reason = "down from 1 of 3 vantage points (quorum 2): remote") },
};

/* ---- staleness (interval 10 s: stale after 30 s without a result) ---- */

static const Scenario stale_vantage_stops_confirming_down = {
        CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2, .fall = 1, .rise = 1, .interval = SEC(10)),
        { FAIL("local", 100, DEGRADED), FAIL("remote", 100, DOWN),
          FAIL("local", 110, DOWN), FAIL("local", 120, DOWN), FAIL("local", 130, DOWN), /* remote 30 s old: fresh */
          FAIL("local", 131, DEGRADED, .reason = "1 stale"),
          FAIL("remote", 135, DOWN) /* back: counts again */ },
};

static const Scenario stale_vantage_stops_vouching_up = {
        /* Only the remote ever said up; once it is stale nobody vouches for the target. */
        CFG(.quorum = 1, .vantages = TWO, .n_vantages = 2, .fall = 1, .rise = 1, .interval = SEC(10)),
        { OK("remote", 0, UP), OK("remote", 10, UP), TICK(40, UP), TICK(41, UNKNOWN, .reason = "1 stale"),
          FAIL("local", 42, DOWN, .reason = "down from 1 of 2 vantage points (quorum 1): local (fail: HTTP 503); 1 stale") },
};

static const Scenario all_stale_is_unknown = {
        CFG(.fall = 1, .rise = 1, .interval = SEC(10)),
        { FAIL("local", 0, DOWN), TICK(29, DOWN), TICK(30, DOWN),
          TICK(31, UNKNOWN, .reason = "no vantage point has decided yet; 1 stale"), TICK(40, UNKNOWN),
          OK("local", 50, UP) },
};

static const Scenario tick_without_interval_never_stale = {
        CFG(.fall = 1, .rise = 1),
        { FAIL("local", 0, DOWN), TICK(1000000, DOWN) },
};

/* ---- slow and vendor metric → degraded ---- */

static const Scenario slow_degrades = {
        CFG(),
        { OK("local", 1, UNKNOWN), OK("local", 2, UP), SLOW("local", 3, UP), SLOW("local", 4, UP),
          SLOW("local", 5, DEGRADED, .reason = "degraded from 1 of 1 vantage points: local (slow ("),
          SLOW("local", 6, DEGRADED), OK("local", 7, DEGRADED), OK("local", 8, UP) },
};

static const Scenario slow_and_fail_mix_degrades = {
        CFG(),
        { OK("local", 1, UNKNOWN), OK("local", 2, UP), SLOW("local", 3, UP), FAIL("local", 4, UP),
          SLOW("local", 5, DEGRADED), FAIL("local", 6, DEGRADED), FAIL("local", 7, DEGRADED),
          FAIL("local", 8, DOWN) },
};

static const Scenario down_then_slow_is_degraded = {
        /* The service answers again but slowly: out of down, not yet up. */
        CFG(),
        { FAIL("local", 1, UNKNOWN), FAIL("local", 2, UNKNOWN), FAIL("local", 3, DOWN),
          SLOW("local", 4, DOWN), SLOW("local", 5, DEGRADED), OK("local", 6, DEGRADED), OK("local", 7, UP) },
};

static const Scenario metric_below_threshold = {
        CFG(.metric_min = 0.95, .fall = 2, .rise = 2),
        { METRIC("local", 0.99, 1, UNKNOWN), METRIC("local", 0.99, 2, UP),
          METRIC("local", 0.95, 3, UP), /* at the threshold is fine */
          METRIC("local", 0.94, 4, UP),
          METRIC("local", 0.90, 5, DEGRADED, .reason = "metric 0.9 below 0.95"),
          METRIC("local", 0.97, 6, DEGRADED), METRIC("local", 0.97, 7, UP) },
};

static const Scenario metric_without_threshold_ignored = {
        CFG(.fall = 1, .rise = 1),
        { METRIC("local", 0.01, 1, UP), METRIC("local", 0.0, 2, UP) },
};

static const Scenario metric_nan_is_weak = {
        /* A vendor metric that cannot be read as a number is not "fine". */
        CFG(.metric_min = 0.95, .fall = 1, .rise = 1),
        { METRIC("local", 0.99, 1, UP), METRIC("local", NAN, 2, DEGRADED) },
};

static const Scenario out_of_order_ignored = {
        CFG(.fall = 1, .rise = 1),
        { OK("local", 10, UP), FAIL("local", 5, UP) /* older than the last result */, FAIL("local", 10, DOWN) },
};

/* ---- unavailable vantage points (a remote vantage that could not run the check) ---- */

static const Scenario unavailable_is_no_vote_for_down = {
        /* The remote vantage confirmed down, then its own host became unreachable: it
         * abstains at once, so the quorum of 2 is no longer met. */
        CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2, .fall = 1, .rise = 1),
        { FAIL("local", 1, DEGRADED), FAIL("remote", 1, DOWN),
          UNAV("remote", 2, DEGRADED, .reason = "down from 1 of 2 vantage points (quorum 2): local (fail: HTTP 503); 1 unavailable"),
          FAIL("local", 3, DEGRADED), UNAV("remote", 4, DEGRADED), FAIL("local", 5, DEGRADED),
          FAIL("remote", 6, DOWN) /* back, and it still sees the target down */ },
};

static const Scenario unavailable_never_counts_as_bad = {
        /* Only unavailable results from the remote vantage: never down, never degraded by it. */
        CFG(.quorum = 1, .vantages = TWO, .n_vantages = 2, .fall = 1, .rise = 1),
        { UNAV("remote", 1, UNKNOWN), UNAV("remote", 2, UNKNOWN), OK("local", 3, UP), UNAV("remote", 4, UP),
          UNAV("remote", 5, UP), UNAV("remote", 6, UP) },
};

static const Scenario unavailable_keeps_counters = {
        /* A gap of unavailable results is not a sample: 2 failures, a gap, 1 more = fall 3. */
        CFG(.quorum = 1, .vantages = TWO, .n_vantages = 2),
        { OK("remote", 1, UNKNOWN), OK("remote", 2, UP), FAIL("remote", 3, UP), FAIL("remote", 4, UP),
          UNAV("remote", 5, UNKNOWN, .reason = "no vantage point has decided yet; 1 unavailable"),
          FAIL("remote", 6, DOWN) },
};

static void test_unavailable_stats(void **state)
{
        _cleanup_(detector_freep) Detector *d = NULL;
        DetectorTargetConfig c = CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2, .fall = 1, .interval = SEC(10));
        ProbeResult r = { .target = "db", .vantage = "remote", .outcome = PROBE_FAIL, .at = SEC(1) };
        DetectorTargetStats st;
        DetectorVantageStats vs;
        size_t n;

        assert_int_equal(detector_new(&d), 0);
        assert_int_equal(detector_add_target(d, &c), 0);
        assert_int_equal(detector_feed(d, &r, NULL, 0, &n), 0);
        r.outcome = PROBE_UNAVAILABLE;
        r.at = SEC(2);
        r.detail = "cannot connect to 10.0.0.1:22";
        assert_int_equal(detector_feed(d, &r, NULL, 0, &n), 0);
        assert_int_equal(detector_vantage_stats(d, "db", "remote", SEC(3), &vs), 0);
        assert_true(vs.unavailable);
        assert_false(vs.stale);
        assert_true(vs.reported);
        assert_int_equal(vs.health, HEALTH_DOWN); /* kept for when it is back, but not counted */
        assert_int_equal(vs.last_outcome, PROBE_UNAVAILABLE);
        assert_int_equal(detector_target_stats(d, "db", &st), 0);
        assert_int_equal(st.vantages_unavailable, 1);
        assert_int_equal(st.vantages_down, 0);
        assert_int_equal(st.vantages_fresh, 0);
        /* An older result than the unavailable one is out of order. */
        r.outcome = PROBE_FAIL;
        r.at = SEC(1);
        assert_int_equal(detector_feed(d, &r, NULL, 0, &n), 0);
        assert_int_equal(detector_vantage_stats(d, "db", "remote", SEC(3), &vs), 0);
        assert_true(vs.unavailable);
        assert_string_equal(probe_outcome_to_string(PROBE_UNAVAILABLE), "unavailable");
        assert_int_equal(probe_outcome_from_string("unavailable"), PROBE_UNAVAILABLE);
}

/* ---- API-level tests ---- */

static void test_errors(void **state)
{
        _cleanup_(detector_freep) Detector *d = NULL;
        static const char *const dup[] = { "a", "a" };
        DetectorTargetConfig c = CFG();
        ProbeResult r = { .target = "db", .vantage = "local", .outcome = PROBE_OK, .at = 1 };
        HealthChange ch[1];
        DetectorTargetStats st;
        size_t n;

        assert_int_equal(detector_new(NULL), -EINVAL);
        assert_int_equal(detector_new(&d), 0);
        assert_int_equal(detector_add_target(d, &(DetectorTargetConfig) CFG(.name = NULL)), -EINVAL);
        assert_int_equal(detector_add_target(d, &(DetectorTargetConfig) CFG(.site = "")), -EINVAL);
        assert_int_equal(detector_add_target(d, &(DetectorTargetConfig) CFG(.quorum = 2)), -EINVAL);
        assert_int_equal(detector_add_target(d, &(DetectorTargetConfig) CFG(.vantages = dup, .n_vantages = 2)),
                         -EINVAL);
        assert_int_equal(detector_n_targets(d), 0);
        assert_int_equal(detector_add_target(d, &c), 0);
        assert_int_equal(detector_add_target(d, &c), -EEXIST);
        assert_int_equal(detector_n_targets(d), 1);

        assert_int_equal(detector_feed(d, &r, ch, 0, &n), -EINVAL);
        r.outcome = _PROBE_OUTCOME_MAX;
        assert_int_equal(detector_feed(d, &r, ch, 1, &n), -EINVAL);
        r.outcome = PROBE_FAIL;
        r.target = "nope";
        assert_int_equal(detector_feed(d, &r, ch, 1, &n), -ENOENT);
        r.target = "db";
        r.vantage = "elsewhere";
        assert_int_equal(detector_feed(d, &r, ch, 1, &n), -ENOENT);
        /* nothing was counted by the refused results */
        assert_int_equal(detector_target_stats(d, "db", &st), 0);
        assert_int_equal(st.consecutive_bad, 0);
        assert_int_equal(st.last_result_at, 0);

        assert_int_equal(detector_health(d, "nope"), _HEALTH_INVALID);
        assert_int_equal(detector_target_stats(d, "nope", &st), -ENOENT);
        assert_null(detector_target_config(d, 1));
        assert_null(detector_free(NULL));
}

static void test_defaults_and_config_copy(void **state)
{
        _cleanup_(detector_freep) Detector *d = NULL;
        char name[] = "web", site[] = "dc2", v0[] = "local", v1[] = "probe-b";
        const char *vs[] = { v0, v1 };
        DetectorTargetConfig c = { .name = name, .site = site, .vantages = vs, .n_vantages = 2, .metric_min = NAN };
        const DetectorTargetConfig *got;

        assert_int_equal(detector_new(&d), 0);
        assert_int_equal(detector_add_target(d, &c), 0);
        /* the detector keeps copies, not the caller's buffers */
        memset(name, 'x', 3), memset(site, 'x', 3), memset(v1, 'x', 7);
        got = detector_target_config(d, 0);
        assert_non_null(got);
        assert_string_equal(got->name, "web");
        assert_string_equal(got->site, "dc2");
        assert_int_equal(got->n_vantages, 2);
        assert_string_equal(got->vantages[1], "probe-b");
        assert_int_equal(got->fall, 3);
        assert_int_equal(got->rise, 2);
        assert_int_equal(got->quorum, 1);
        assert_int_equal(detector_health(d, "web"), HEALTH_UNKNOWN);

        /* NULL vantage means "local" */
        for (unsigned i = 1; i <= 3; i++) {
                ProbeResult r = { .target = "web", .outcome = PROBE_FAIL, .at = SEC(i) };
                assert_int_equal(detector_feed(d, &r, NULL, 0, NULL), 0);
        }
        assert_int_equal(detector_health(d, "web"), HEALTH_DOWN);
}

static void test_stats(void **state)
{
        _cleanup_(detector_freep) Detector *d = NULL;
        DetectorTargetConfig c = CFG(.quorum = 2, .vantages = TWO, .n_vantages = 2, .interval = SEC(10));
        DetectorTargetStats st;
        DetectorVantageStats vs;
        HealthChange ch[1];
        size_t n;

        assert_int_equal(detector_new(&d), 0);
        assert_int_equal(detector_add_target(d, &c), 0);
        assert_int_equal(detector_vantage_stats(d, "db", "remote", 0, &vs), 0);
        assert_false(vs.reported);
        assert_int_equal(vs.health, HEALTH_UNKNOWN);
        assert_int_equal(vs.last_outcome, _PROBE_OUTCOME_INVALID);
        assert_int_equal(detector_vantage_stats(d, "db", "mars", 0, &vs), -ENOENT);

        for (unsigned t = 10; t <= 50; t += 10) {
                ProbeResult a = { .target = "db", .vantage = "local", .outcome = PROBE_FAIL, .at = SEC(t) };
                ProbeResult b = { .target = "db", .vantage = "remote", .outcome = PROBE_TIMEOUT, .at = SEC(t) };
                assert_int_equal(detector_feed(d, &a, ch, 1, &n), 0);
                assert_int_equal(detector_feed(d, &b, ch, 1, &n), 0);
        }
        assert_int_equal(detector_target_stats(d, "db", &st), 0);
        assert_int_equal(st.health, HEALTH_DOWN);
        assert_int_equal(st.down_since, SEC(30)); /* remote's third timeout made the quorum */
        assert_int_equal(st.since, SEC(30));
        assert_int_equal(st.consecutive_bad, 5);
        assert_int_equal(st.vantages_down, 2);
        assert_int_equal(st.vantages_fresh, 2);
        assert_int_equal(st.n_vantages, 2);
        assert_int_equal(st.quorum, 2);
        assert_int_equal(st.last_result_at, SEC(50));
        assert_non_null(strstr(st.reason, "down from 2 of 2"));

        assert_int_equal(detector_vantage_stats(d, "db", "remote", SEC(80), &vs), 0);
        assert_false(vs.stale);
        assert_int_equal(vs.consecutive_bad, 5);
        assert_int_equal(vs.last_outcome, PROBE_TIMEOUT);
        assert_int_equal(detector_vantage_stats(d, "db", "remote", SEC(81), &vs), 0);
        assert_true(vs.stale);
}

static void test_tick_nobufs_changes_nothing(void **state)
{
        _cleanup_(detector_freep) Detector *d = NULL;
        HealthChange ch[2];
        size_t n = 99;

        assert_int_equal(detector_new(&d), 0);
        for (int i = 0; i < 3; i++) {
                char name[8];
                snprintf(name, sizeof(name), "t%d", i);
                DetectorTargetConfig c = CFG(.name = name, .fall = 1, .rise = 1, .interval = SEC(1));
                ProbeResult r = { .target = name, .outcome = PROBE_OK, .at = SEC(1) };
                assert_int_equal(detector_add_target(d, &c), 0);
                assert_int_equal(detector_feed(d, &r, ch, 1, &n), 0);
                assert_int_equal(n, 1);
        }
        assert_int_equal(detector_tick(d, SEC(2), ch, 2, &n), 0);
        assert_int_equal(n, 0);
        /* at 10 s all three are stale: three changes do not fit in two */
        assert_int_equal(detector_tick(d, SEC(10), ch, 2, &n), -ENOBUFS);
        assert_int_equal(detector_health(d, "t0"), HEALTH_UP);
        assert_int_equal(detector_health(d, "t2"), HEALTH_UP);
        HealthChange big[3];
        assert_int_equal(detector_tick(d, SEC(10), big, 3, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(big[2].target, "t2");
        assert_int_equal(big[2].from, HEALTH_UP);
        assert_int_equal(big[2].to, HEALTH_UNKNOWN);
        assert_int_equal(detector_health(d, "t1"), HEALTH_UNKNOWN);
}

static void test_string_tables(void **state)
{
        assert_string_equal(probe_kind_to_string(PROBE_KIND_VENDOR_METRIC), "vendor_metric");
        assert_int_equal(probe_kind_from_string("tcp"), PROBE_KIND_TCP);
        assert_int_equal(probe_kind_from_string("udp"), _PROBE_KIND_INVALID);
        assert_string_equal(probe_outcome_to_string(PROBE_SLOW), "slow");
        assert_int_equal(probe_outcome_from_string("timeout"), PROBE_TIMEOUT);
        assert_null(probe_outcome_to_string(_PROBE_OUTCOME_MAX));
        assert_string_equal(health_to_string(HEALTH_DEGRADED), "degraded");
        assert_int_equal(health_from_string("down"), HEALTH_DOWN);
        assert_int_equal(health_from_string(NULL), _HEALTH_INVALID);

        for (int l = 0; l < _WARNING_LEVEL_MAX; l++) {
                char digit[2] = { (char) ('0' + l), 0 };
                assert_int_equal(warning_level_from_string(warning_level_to_string(l)), l);
                assert_int_equal(warning_level_from_string(digit), l);
        }
        assert_string_equal(warning_level_to_string(LEVEL_RED), "red");
        assert_string_equal(warning_level_to_string(LEVEL_BLUE), "blue");
        assert_int_equal(warning_level_from_string("5"), _WARNING_LEVEL_INVALID);
        assert_int_equal(warning_level_from_string("purple"), _WARNING_LEVEL_INVALID);
        assert_int_equal(warning_level_from_string("12"), _WARNING_LEVEL_INVALID);

        assert_true(warning_level_more_severe(LEVEL_RED, LEVEL_ORANGE));
        assert_true(warning_level_more_severe(LEVEL_BLUE, LEVEL_NONE));
        assert_false(warning_level_more_severe(LEVEL_NONE, LEVEL_BLUE));
        assert_false(warning_level_more_severe(LEVEL_YELLOW, LEVEL_YELLOW));
        assert_false(warning_level_more_severe(LEVEL_BLUE, LEVEL_RED));
}

/* One cmocka test per scenario, named after it. */
#define NAMED(s) { #s, run_scenario, NULL, NULL, (void *) &s }

int main(void)
{
        const struct CMUnitTest tests[] = {
                NAMED(fall_n),
                NAMED(ok_in_between_resets),
                NAMED(rise_m),
                NAMED(timeout_is_failure),
                NAMED(startup_needs_counts),
                NAMED(fall_one_rise_one),
                NAMED(quorum_one_of_two_degraded),
                NAMED(drover_link_lost),
                NAMED(quorum_one_of_two_is_enough),
                NAMED(silent_vantage_does_not_agree),
                NAMED(quorum_two_of_three),
                NAMED(stale_vantage_stops_confirming_down),
                NAMED(stale_vantage_stops_vouching_up),
                NAMED(all_stale_is_unknown),
                NAMED(tick_without_interval_never_stale),
                NAMED(slow_degrades),
                NAMED(slow_and_fail_mix_degrades),
                NAMED(down_then_slow_is_degraded),
                NAMED(metric_below_threshold),
                NAMED(metric_without_threshold_ignored),
                NAMED(metric_nan_is_weak),
                NAMED(out_of_order_ignored),
                NAMED(unavailable_is_no_vote_for_down),
                NAMED(unavailable_never_counts_as_bad),
                NAMED(unavailable_keeps_counters),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_defaults_and_config_copy),
                cmocka_unit_test(test_stats),
                cmocka_unit_test(test_unavailable_stats),
                cmocka_unit_test(test_tick_nobufs_changes_nothing),
                cmocka_unit_test(test_string_tables),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
