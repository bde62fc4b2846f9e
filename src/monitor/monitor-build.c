/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor-build.c — builds the detector's targets and the level evaluator's targets
 * and rules from a loaded MonitorConfig (monitor-build.h). Owns nothing but the
 * copying: loading and checking the configuration is config/monitor-config.c's, the
 * rules of detection and levels are detector.c's and levels.c's. Called by droverd's
 * watch (src/daemon/watch.c) and by tests.
 */
#include <math.h>
#include <stdlib.h>

#include "monitor/monitor-build.h"
#include "shared/macros.h"
#include "shared/strbuf.h"

int monitor_config_detector_targets(const MonitorConfig *m, DetectorTargetConfig **ret, size_t *ret_n)
{
        DetectorTargetConfig *t = NULL;

        if (!ret || !ret_n)
                return -EINVAL;
        if (m && m->n_probes > 0) {
                t = xcalloc(m->n_probes, sizeof(DetectorTargetConfig));
                for (size_t i = 0; i < m->n_probes; i++) {
                        const ProbeConfig *p = &m->probes[i];
                        t[i] = (DetectorTargetConfig){
                                .name = p->name,
                                .site = p->site,
                                .fall = p->fall,
                                .rise = p->rise,
                                .quorum = p->quorum,
                                .vantages = (const char *const *) p->vantage_points,
                                .n_vantages = p->n_vantage_points,
                                .metric_min = p->kind == PROBE_KIND_VENDOR_METRIC ? p->min : NAN,
                                .interval = p->interval,
                                .critical = p->critical,
                        };
                }
        }
        *ret = t;
        *ret_n = m ? m->n_probes : 0;
        return 0;
}

int monitor_config_level_rules(const MonitorConfig *m, LevelRule **ret, size_t *ret_n)
{
        LevelRule *r = NULL;

        if (!ret || !ret_n)
                return -EINVAL;
        if (m && m->n_level_rules > 0) {
                r = xcalloc(m->n_level_rules, sizeof(LevelRule));
                for (size_t i = 0; i < m->n_level_rules; i++) {
                        const LevelRuleConfig *c = &m->level_rules[i];
                        r[i] = (LevelRule){
                                .name = c->name,
                                .level = c->level,
                                .cond = c->cond,
                                .for_duration = c->for_duration,
                                .site_or_target = c->subject,
                                .threshold = c->threshold,
                        };
                }
        }
        *ret = r;
        *ret_n = m ? m->n_level_rules : 0;
        return 0;
}

int monitor_config_new_detector(const MonitorConfig *m, Detector **ret)
{
        _cleanup_(detector_freep) Detector *d = NULL;
        _cleanup_free_ DetectorTargetConfig *t = NULL;
        size_t n;
        int r;

        if (!ret)
                return -EINVAL;
        r = monitor_config_detector_targets(m, &t, &n);
        if (r < 0)
                return r;
        r = detector_new(&d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = detector_add_target(d, &t[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(d);
        return 0;
}

int monitor_config_new_levels(const MonitorConfig *m, LevelEvaluator **ret)
{
        _cleanup_(levels_freep) LevelEvaluator *e = NULL;
        _cleanup_free_ LevelRule *rules = NULL;
        size_t n;
        int r;

        if (!ret)
                return -EINVAL;
        r = levels_new(&e);
        if (r < 0)
                return r;
        for (size_t i = 0; m && i < m->n_probes; i++) {
                r = levels_add_target(e, m->probes[i].name, m->probes[i].site, m->probes[i].critical);
                if (r < 0)
                        return r;
        }
        r = monitor_config_level_rules(m, &rules, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = levels_add_rule(e, &rules[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(e);
        return 0;
}
