/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * levels.h — maps health and probe results to warning levels 1 red .. 4 blue
 * with durations ("site down on quorum for 30 s → 1", "vendor success under
 * 95 % for 2 min → 2", "latency over threshold → 3", "a probe failing → 4").
 *
 * Owns: the rules, each rule's condition/active state, and the current level of
 * every subject. Does not own: health (detector.h produces the HealthChanges fed
 * here), incidents and responses (src/incident), the clock: `now` and the `at` of
 * what is fed are the only time. Pure: no I/O, no logging.
 * Called by droverd's watch (src/daemon/watch.c) after the detector, and by the unit tests.
 *
 * Conditions (LevelCondition, shared/monitoring.h; a rule names a target or a site; a target name wins if both exist;
 * for a site, the condition holds when it holds for any target of the site):
 *   TARGET_DOWN    the target's health is DOWN (quorum reached).
 *   SITE_DOWN      a target flagged critical of the site is DOWN. The rule must
 *                  name a site that has at least one critical target at add time.
 *   METRIC_BELOW   the latest vendor metric from some (probe, vantage) of the
 *                  target is below `threshold` (a NAN value counts as below).
 *   LATENCY_OVER   the target's health is DEGRADED or DOWN (the detector's
 *                  degraded = slow, metric under its minimum, or down without quorum;
 *                  DOWN is included so the timer does not restart when degraded
 *                  worsens to down).
 *   PROBE_FAILING  the latest result of some (probe, vantage) of the target is
 *                  fail or timeout: one probe from one vantage is enough. An
 *                  `unavailable` result (the vantage point could not run the
 *                  check) is not failing: it says nothing about the target.
 *
 * Durations and anti-flap: a rule becomes active once its condition has held
 * continuously for `for_duration`, and becomes inactive only once the condition
 * has been clear continuously for `for_duration` as well (0 = immediately both
 * ways). A flap shorter than `for_duration` changes nothing in either direction.
 *
 * Levels: a target's level is the most severe level among the active rules that
 * name it; a site's level is the most severe among the active rules that name the
 * site or any of its targets (ties: the earlier rule). levels_evaluate() reports
 * a LevelChange for every subject whose level differs from the one last reported:
 * every site, and every target that has rules of its own. Escalation and
 * de-escalation are both reported.
 *
 * Call levels_evaluate() after feeding, and again at levels_next_deadline():
 * rules advance on every feed too (a condition true for its whole `for` is not
 * lost if it clears before the next evaluation), but only levels_evaluate()
 * reports. A rule that became active and inactive again between two
 * evaluations is not reported.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "monitor/probe-result.h"
#include "shared/macros.h"
#include "shared/monitoring.h"
#include "shared/time-util.h"

typedef struct LevelRule {
        const char *name;            /* optional, for reasons and reports */
        WarningLevel level;          /* LEVEL_RED .. LEVEL_BLUE */
        LevelCondition cond;
        usec_t for_duration;
        const char *site_or_target;
        double threshold;            /* METRIC_BELOW only (e.g. 0.95) */
} LevelRule;

typedef struct LevelStatus {
        WarningLevel level;
        usec_t since;                /* `now` of the evaluation that reported it; 0 initially */
        int rule;                    /* the rule holding it, -1 for LEVEL_NONE */
        const char *rule_name;       /* NULL when none or unnamed */
} LevelStatus;

typedef struct LevelEvaluator LevelEvaluator;

int levels_new(LevelEvaluator **ret);
LevelEvaluator *levels_free(LevelEvaluator *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(LevelEvaluator *, levels_free);

/* Targets first, then the rules that name them or their sites. Strings are
 * copied. -EEXIST for a duplicate target. */
int levels_add_target(LevelEvaluator *e, const char *target, const char *site, bool critical);
/* -ENOENT when the subject names no known target or site; -EINVAL for a bad level
 * or condition, SITE_DOWN on a target or on a site without a critical target,
 * METRIC_BELOW without a threshold. */
int levels_add_rule(LevelEvaluator *e, const LevelRule *rule);

/* Both return -ENOENT for an unknown target (nothing changes). */
int levels_feed_health(LevelEvaluator *e, const HealthChange *c);
int levels_feed_probe(LevelEvaluator *e, const ProbeResult *r);

/* Advances every rule to `now` and writes the level changes since the last
 * evaluation (at = now). ret_changes may be NULL to discard them. -ENOBUFS (and
 * nothing changes) when more than `max` would be written. */
int levels_evaluate(LevelEvaluator *e, usec_t now, LevelChange *ret_changes, size_t max, size_t *ret_n);

/* The earliest time at which a rule would turn active or inactive if nothing else
 * is fed; -ENODATA when no rule is pending. Arm a timer for it. */
int levels_next_deadline(const LevelEvaluator *e, usec_t *ret);

/* The level last reported for a subject. -ENOENT for an unknown subject (a target
 * without rules of its own is not a subject). */
int levels_get(const LevelEvaluator *e, const char *subject, bool is_site, LevelStatus *ret);

size_t levels_n_rules(const LevelEvaluator *e);
/* As of the last feed or evaluation. */
bool levels_rule_active(const LevelEvaluator *e, size_t i);
