/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-cluster.c — droverd's side of the cluster (see manager-cluster.h).
 *
 * Phase 1 seam: standalone only. The election wiring replaces these bodies.
 */
#include "daemon/manager-cluster.h"
#include "daemon/manager-internal.h"

void manager_cluster_view(const Manager *m, ManagerClusterView *ret)
{
        (void) m;
        *ret = (ManagerClusterView){.role = CLUSTER_ROLE_STANDALONE};
}

bool manager_cluster_may_act(const Manager *m)
{
        (void) m;
        return true;
}

int manager_cluster_start(Manager *m)
{
        (void) m;
        return 0;
}

void manager_cluster_stop(Manager *m)
{
        (void) m;
}
