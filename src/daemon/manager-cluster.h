/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-cluster.h — the Manager's view of the cluster (issue 9), the seam between the
 * election (src/daemon/manager-cluster.c, which owns the etcd client and the Election)
 * and those who ask "may this node act, and with which fencing token?" (manager-run.c,
 * the watch, the D-Bus API).
 *
 * Without a `cluster:` section every answer is STANDALONE: this node acts alone, with no
 * fencing token, exactly as before the cluster work.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cluster/role.h"
#include "shared/time-util.h"

typedef struct Manager Manager;
typedef struct ManagerCluster ManagerCluster;

typedef struct ManagerClusterView {
        ClusterRole role;     /* STANDALONE without `cluster:` */
        const char *node;     /* this node's name; NULL when standalone */
        const char *leader;   /* the node that leads; NULL when unknown or standalone */
        uint64_t epoch;       /* the leader's epoch (the fencing token); 0 when unknown or standalone */
        char *const *members; /* nodes with a live presence key, NULL-terminated; may be NULL */
        const char *reason;   /* why the role is what it is; NULL when standalone */
} ManagerClusterView;

/* Borrowed strings: valid until the next turn of the loop. */
void manager_cluster_view(const Manager *m, ManagerClusterView *ret);
/* Standalone: true. Leader: only while its lease is certainly alive (election_may_act()).
 * Follower, no quorum: false. */
bool manager_cluster_may_act(const Manager *m);

/* The leader publishes its failover state (active site, last automatic switchover) when
 * either changes: fenced, asynchronous, logged when it fails. A no-op unless leading. */
void manager_cluster_publish_failover(Manager *m, const char *active_site, usec_t last_auto_switchover);

/* Called by manager.c: start the election after the journal is open (no-op without
 * `cluster:`), follow a reload (the cluster section cannot change without a restart),
 * resign and free at stop. */
int manager_cluster_start(Manager *m);
/* Resign (the lease is revoked: another node leads at once) and stop the timers; the
 * view stays readable. Idempotent. */
void manager_cluster_stop(Manager *m);
/* Stop, then free the election and its client. */
void manager_cluster_free(Manager *m);
