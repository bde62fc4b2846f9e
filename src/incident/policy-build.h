/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy-build.h — the policy's configuration, built from the `responses` and
 * `failover` sections of drover.yaml as config/monitor-config.h loaded them.
 *
 * Owns: turning ResponseConfigs and the cooldown into a PolicyConfig. Does not own:
 * loading or checking them (config/monitor-config.c), the rules (policy.h), the
 * incident deadlines (monitor_config_deadlines(), config/monitor-config.h). Called
 * by droverd's watch (src/daemon/watch.c) and by tests.
 *
 * The PolicyConfig borrows the role lists, playbook names and params from m: keep its
 * Config alive as long as the PolicyConfig (and every Decision made from it) is used.
 */
#pragma once

#include "config/monitor-config.h"
#include "incident/policy.h"

/* The responses and the cooldown. playbook_kind is left PLAYBOOK_CUSTOM at every
 * level: only the daemon, once it has loaded the named playbook from playbook_dir,
 * knows its kind and must fill it in (and then run policy_config_validate(), which
 * refuses auto on a failback playbook). Without m: no responses, the default cooldown. */
void monitor_config_policy(const MonitorConfig *m, PolicyConfig *ret);
