/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * election.h — which droverd leads: an etcd lease and a create-if-absent leader key.
 *
 * etcd decides, never drover: a node leads while `<prefix>/leader` holds its name
 * under its own lease. It campaigns with one txn (create revision of the key == 0 →
 * put node under lease, else read the key); the leader's epoch, the fencing token, is
 * the key's create revision. Each node also keeps `<prefix>/members/<node>` under its
 * lease, so the members can be listed.
 *
 * The lease is renewed every TTL/3. A renewal counts from the moment its request was
 * SENT (the lease was certainly alive then), and a leader stops acting by itself at
 * renewed_at + TTL - margin, before etcd can expire the lease and elect another: it
 * starts no new step past that deadline (election_may_act()). Followers poll the key
 * every ELECTION_FOLLOWER_POLL and campaign when it is gone.
 *
 * Owns: the lease, the presence and leader keys, the timers on the caller's sd-event
 * loop, the role. Does not own: what a leader does (the daemon), fenced writes
 * (fence.h). Called by droverd (phase 2), tests/integration/test-etcd-election.c, bench.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/etcd.h"
#include "cluster/role.h"
#include "shared/macros.h"
#include "shared/time-util.h"

#define ELECTION_FOLLOWER_POLL (500 * USEC_PER_MSEC)
#define ELECTION_MARGIN_MIN    (500 * USEC_PER_MSEC)

/* What a node journals and signals about the cluster (the daemon's wiring, phase 2). */
typedef enum ClusterEvent {
        CLUSTER_EVENT_NONE,
        CLUSTER_EVENT_ELECTED,      /* this node leads (epoch) */
        CLUSTER_EVENT_STEPPED_DOWN, /* this node led and no longer does (lease, deposed, resigned) */
        CLUSTER_EVENT_FOLLOWING,    /* another node leads, or a new one */
        CLUSTER_EVENT_NO_QUORUM,    /* etcd not reached: nobody here acts */
        CLUSTER_EVENT_FENCED,       /* a fenced write was refused: the step did not act */
        CLUSTER_EVENT_RESUMED,      /* a new leader took over an unfinished run */
        CLUSTER_EVENT_OVERRIDE,     /* a commander ran a playbook without quorum, explicitly */
        _CLUSTER_EVENT_MAX,
        _CLUSTER_EVENT_INVALID = -EINVAL,
} ClusterEvent;

const char *cluster_event_to_string(ClusterEvent e); /* "cluster-elected", … */
ClusterEvent cluster_event_from_string(const char *s);
/* The event a role change means (pure); NONE when nothing worth journaling changed. */
ClusterEvent cluster_event_for_change(ClusterRole from, const char *from_leader, uint64_t from_epoch,
                                      ClusterRole to, const char *to_leader, uint64_t to_epoch);

/* ---- the pure timing core (virtual clock in tests) ---- */

typedef struct LeaseClock {
        usec_t ttl;        /* as granted by etcd */
        usec_t renewed_at; /* CLOCK_MONOTONIC send time of the last confirmed grant/renewal */
        bool valid;        /* a grant or renewal was confirmed and not since reported gone */
} LeaseClock;

usec_t election_keepalive_interval(usec_t ttl); /* TTL/3 */
usec_t election_step_down_margin(usec_t ttl);   /* max(TTL/5, ELECTION_MARGIN_MIN) */
usec_t election_request_timeout(usec_t ttl);    /* a renewal abandoned before the next is due */
void lease_clock_renewed(LeaseClock *lc, usec_t sent_at, usec_t ttl);
void lease_clock_lost(LeaseClock *lc);
/* The last moment a leader may start an action; 0 when not valid. */
usec_t lease_clock_deadline(const LeaseClock *lc);
bool lease_clock_may_act(const LeaseClock *lc, usec_t now);
/* When the next keepalive is due (renewed_at + TTL/3), 0 = now. */
usec_t lease_clock_next_renewal(const LeaseClock *lc);

/* ---- the election on an sd-event loop ---- */

typedef struct Election Election;

typedef struct ElectionStatus {
        ClusterRole role;
        const char *node;   /* this node */
        const char *leader; /* NULL when unknown (NO_QUORUM) or no leader right now */
        uint64_t epoch;     /* leader key's create revision; 0 when unknown */
        char **members;     /* names with a live presence key, NULL-terminated (may be NULL) */
        const char *reason; /* why the role is what it is ("elected", "lease not renewed for 4.0s", …) */
} ElectionStatus;

/* Runs when the role, the leader or the epoch changes, and when the reason changes while
 * NO_QUORUM (the same failure repeated is not reported again). Must not free the election. */
typedef void (*ElectionRoleCallback)(Election *e, const ElectionStatus *st, void *userdata);

/* client is borrowed and must outlive the election; it is attached to `event`. */
int election_new(Election **ret, sd_event *event, EtcdClient *client, const char *prefix, const char *node,
                 usec_t ttl, ElectionRoleCallback cb, void *userdata);
/* The daemon's entry point: a client of its own (cfg's endpoints and TLS), prefix, node
 * and lease TTL from drover.yaml's cluster: section. */
int election_new_from_config(Election **ret, sd_event *event, const ClusterConfig *cfg,
                             ElectionRoleCallback cb, void *userdata);
Election *election_free(Election *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Election *, election_free);

int election_start(Election *e);
/* Resign: stop the timers and revoke the lease (synchronously, at most `timeout`), so
 * that another node leads at once instead of after the TTL. */
int election_resign(Election *e, usec_t timeout);

void election_get_status(const Election *e, ElectionStatus *ret); /* borrowed strings */
/* The election's client, for the daemon's own calls (the failover state, read on election
 * and published by the leader). */
EtcdClient *election_get_client(const Election *e);
/* Leader, and the lease deadline not passed: the only test before starting a step. */
bool election_may_act(const Election *e);
uint64_t election_epoch(const Election *e);
