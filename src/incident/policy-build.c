/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy-build.c — builds the policy's configuration (responses per level and the
 * cooldown) from a loaded MonitorConfig (policy-build.h). Owns nothing but the
 * copying: loading and checking `responses` and `failover` is
 * config/monitor-config.c's, the rules are policy.c's. Called by droverd's watch
 * (src/daemon/watch.c) and by tests.
 */
#include "incident/policy-build.h"

void monitor_config_policy(const MonitorConfig *m, PolicyConfig *ret)
{
        *ret = (PolicyConfig){.cooldown = m ? m->cooldown : POLICY_DEFAULT_COOLDOWN};
        for (int lv = 0; lv < _WARNING_LEVEL_MAX; lv++) {
                ret->levels[lv] = (PolicyLevel){.raise_frequency = 1.0, .playbook_kind = PLAYBOOK_CUSTOM};
                if (!m || !m->responses[lv].configured)
                        continue;
                const ResponseConfig *r = &m->responses[lv];
                ret->levels[lv] = (PolicyLevel){
                        .notify = (const char *const *) r->notify,
                        .raise_frequency = r->raise_frequency,
                        .playbook = r->playbook,
                        .playbook_kind = PLAYBOOK_CUSTOM, /* the daemon fills it from the loaded playbook */
                        .params = r->params,
                        .n_params = r->n_params,
                        .auto_run = r->auto_run,
                };
        }
}
