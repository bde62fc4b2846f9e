/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* role.c — ClusterRole's names (see role.h). */
#include "cluster/role.h"
#include "shared/string-table.h"

static const char *const cluster_role_table[_CLUSTER_ROLE_MAX] = {
        [CLUSTER_ROLE_STANDALONE] = "standalone",
        [CLUSTER_ROLE_LEADER] = "leader",
        [CLUSTER_ROLE_FOLLOWER] = "follower",
        [CLUSTER_ROLE_NO_QUORUM] = "no-quorum",
};

DEFINE_STRING_TABLE(cluster_role, ClusterRole, cluster_role_table)
