/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor-build.h — the detector's and the level evaluator's inputs, built from the
 * monitoring sections of drover.yaml as config/monitor-config.h loaded them.
 *
 * Owns: turning ProbeConfigs into DetectorTargetConfigs and level targets, and
 * LevelRuleConfigs into LevelRules. Does not own: loading or checking the
 * configuration (config/monitor-config.c: everything refused there is refused before
 * these run), the policy's inputs (incident/policy-build.h). Called by droverd's watch
 * (src/daemon/watch.c) and by tests.
 *
 * Arrays are newly allocated (free() them; *ret_n may be 0 with *ret NULL); strings
 * inside are borrowed from m, so keep its Config alive as long as they are used. m may
 * be NULL (no monitoring): nothing to watch.
 *
 * Probes and targets: every probe is one detector/level target of the same name.
 */
#pragma once

#include <stddef.h>

#include "config/monitor-config.h"
#include "monitor/detector.h"
#include "monitor/levels.h"

/* One DetectorTargetConfig per probe, in file order (critical, interval, metric_min
 * = min for vendor-metric probes, NAN otherwise). */
int monitor_config_detector_targets(const MonitorConfig *m, DetectorTargetConfig **ret, size_t *ret_n);
/* The `levels` rules, in file order. */
int monitor_config_level_rules(const MonitorConfig *m, LevelRule **ret, size_t *ret_n);
/* A Detector with every probe's target added. */
int monitor_config_new_detector(const MonitorConfig *m, Detector **ret);
/* A LevelEvaluator with every probe's target (site, critical) and every rule added. */
int monitor_config_new_levels(const MonitorConfig *m, LevelEvaluator **ret);
