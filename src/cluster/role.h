/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * role.h — this node's place in a cluster (issue 9), the one vocabulary shared by the
 * election (cluster/election.c sets it) and the pure decision core (incident/policy.c
 * reads it). Pure.
 *
 * STANDALONE is the value 0: a droverd without a `cluster:` section acts alone, as it
 * always did. An election never reports STANDALONE; it starts at NO_QUORUM.
 */
#pragma once

#include <errno.h>

typedef enum ClusterRole {
        CLUSTER_ROLE_STANDALONE, /* no `cluster:` config: acts alone */
        CLUSTER_ROLE_LEADER,     /* holds the leader key under a live lease: acts, as standalone */
        CLUSTER_ROLE_FOLLOWER,   /* probes, levels, its own incident view; no action at all */
        CLUSTER_ROLE_NO_QUORUM,  /* etcd not reached: everything goes on but nothing automatic */
        _CLUSTER_ROLE_MAX,
        _CLUSTER_ROLE_INVALID = -EINVAL,
} ClusterRole;

/* "standalone", "leader", "follower", "no-quorum" */
const char *cluster_role_to_string(ClusterRole r);
ClusterRole cluster_role_from_string(const char *s);
