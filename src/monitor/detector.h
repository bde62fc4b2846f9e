/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * detector.h — turns a stream of ProbeResults into target health: hysteresis per
 * (target, vantage point), then a quorum of vantage points per target.
 *
 * Owns: per-vantage counters and health, per-target aggregate health and the
 * HealthChanges it emits. Does not own: running probes, the clock (`now` is
 * always an input: the result's `at`, or the argument of detector_tick()),
 * warning levels (levels.h), incidents (src/incident). Pure: no I/O, no logging.
 * Called by droverd's watch (src/daemon/watch.c) and by the unit tests.
 *
 * Rules, per vantage point (each probe result is one sample):
 *   bad  = fail or timeout
 *   weak = slow, or ok/slow with a vendor metric below metric_min
 *   good = ok (metric, if any, at or above metric_min)
 *   - `fall` consecutive bad samples               → the vantage says DOWN
 *   - `fall` consecutive not-good (weak or bad)    → DEGRADED (from UP or UNKNOWN)
 *   - `rise` consecutive good samples              → UP
 *   - from DOWN, `rise` consecutive non-bad samples of which the last is weak
 *                                                  → DEGRADED (answering again, but slow)
 *   A vantage starts UNKNOWN and needs the same counts to leave it: one sample
 *   decides nothing, at start-up either.
 *   An `unavailable` result (a remote vantage point could not run the check: its host
 *   is unreachable or refused us) is NOT a sample: it leaves the counters and the
 *   vantage's health alone, but the vantage abstains — it counts toward neither side —
 *   until its next real sample. Losing a vantage point is never a vote for "down";
 *   with quorum 2 of [local, remote], losing the remote one means a target can only
 *   reach DEGRADED, never DOWN, until the remote one answers again.
 *
 * Per target (quorum of vantage points):
 *   - a vantage counts only if it has reported, is fresh (its last result is no
 *     older than 3 × interval; interval 0 = never stale) and is not unavailable
 *     (its last result was not `unavailable`). A stale or unavailable vantage
 *     counts toward neither side: it neither confirms down nor vouches for up.
 *     A vantage that never reported does not agree that the target is down.
 *   - DOWN     when at least `quorum` fresh vantages say DOWN;
 *   - DEGRADED when some fresh vantage says DOWN but fewer than `quorum`
 *              ("down from 1 of 2 vantage points (quorum 2)": the classic
 *              lost-drover-link case, where only drover's own view is gone), or
 *              when some fresh vantage says DEGRADED;
 *   - UP       when some fresh vantage says UP and none of the above holds;
 *   - UNKNOWN  when no fresh vantage has decided anything (e.g. all stale).
 *
 * Results older than the vantage's last result are ignored (out of order).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "monitor/probe-result.h"
#include "shared/macros.h"
#include "shared/time-util.h"

#define DETECTOR_VANTAGE_LOCAL VANTAGE_LOCAL
/* A vantage is stale when its last result is older than this many intervals. */
#define DETECTOR_STALE_INTERVALS 3

typedef struct Detector Detector;

typedef struct DetectorTargetConfig {
        const char *name;                /* required, unique */
        const char *site;                /* required */
        unsigned fall;                   /* N: consecutive bad samples to go down; 0 = default 3 */
        unsigned rise;                   /* M: consecutive good samples to come up; 0 = default 2 */
        unsigned quorum;                 /* vantages that must agree on down; 0 = default 1;
                                          * must not exceed the number of vantages */
        const char *const *vantages;     /* names; "local" is drover itself */
        size_t n_vantages;               /* 0 = just {"local"} */
        double metric_min;               /* vendor metric threshold; NAN = none */
        usec_t interval;                 /* probe interval, for staleness; 0 = never stale */
        bool critical;                   /* for SITE_DOWN level rules (levels.h); unused here */
} DetectorTargetConfig;

typedef struct DetectorVantageStats {
        Health health;
        bool reported;
        bool stale;                      /* as of the `now` given to the query */
        bool unavailable;                /* its last result was PROBE_UNAVAILABLE: abstains */
        unsigned consecutive_bad;
        unsigned consecutive_good;
        unsigned consecutive_not_good;
        usec_t last_at;                  /* 0 if never reported */
        ProbeOutcome last_outcome;       /* _PROBE_OUTCOME_INVALID if never reported */
} DetectorVantageStats;

typedef struct DetectorTargetStats {
        Health health;
        usec_t since;                    /* when the current health began; 0 while UNKNOWN from start */
        usec_t down_since;               /* USEC_INFINITY unless DOWN */
        unsigned consecutive_bad;        /* the largest count among the vantages */
        unsigned vantages_down;          /* fresh vantages saying DOWN, at the last evaluation */
        unsigned vantages_fresh;
        unsigned vantages_unavailable;   /* abstaining because their last result was unavailable */
        unsigned n_vantages;
        unsigned quorum;
        usec_t last_result_at;           /* 0 if none */
        const char *reason;              /* of the last change, or "" */
} DetectorTargetStats;

int detector_new(Detector **ret);
Detector *detector_free(Detector *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Detector *, detector_free);

/* Copies everything it keeps. -EINVAL on a bad config (missing name/site,
 * quorum > vantages, duplicate vantage), -EEXIST on a duplicate target name. */
int detector_add_target(Detector *d, const DetectorTargetConfig *c);

/* Feeds one result (now = r->at). Writes the changes it caused (0 or 1: only the
 * result's target is re-evaluated) to ret_changes[0..max) and their number to
 * *ret_n. ret_changes may be NULL with max 0 when the caller wants none.
 * -ENOENT for an unknown target or vantage (nothing changes), -EINVAL for a bad
 * result. r->vantage NULL means "local". */
int detector_feed(Detector *d, const ProbeResult *r, HealthChange *ret_changes, size_t max, size_t *ret_n);

/* Re-evaluates every target at `now` without a new result: this is how a vantage
 * that went silent becomes stale. -ENOBUFS (and nothing changes) when more than
 * `max` targets would change. */
int detector_tick(Detector *d, usec_t now, HealthChange *ret_changes, size_t max, size_t *ret_n);

/* _HEALTH_INVALID for an unknown target. */
Health detector_health(const Detector *d, const char *target);

/* -ENOENT for an unknown target/vantage. `now` only decides staleness in the
 * vantage stats. */
int detector_target_stats(const Detector *d, const char *target, DetectorTargetStats *ret);
int detector_vantage_stats(const Detector *d, const char *target, const char *vantage, usec_t now,
                           DetectorVantageStats *ret);

size_t detector_n_targets(const Detector *d);
/* The i-th target's config as stored (strings owned by the detector); NULL past the end. */
const DetectorTargetConfig *detector_target_config(const Detector *d, size_t i);
