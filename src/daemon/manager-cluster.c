/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-cluster.c — droverd's side of the cluster (see manager-cluster.h): with a
 * `cluster:` section it owns the Election (and through it the etcd client) on the
 * Manager's loop, and turns each role change into everything that follows from it: the
 * watch's role (what the pure policy may decide), a journal event (cluster-elected,
 * cluster-stepped-down, cluster-following, cluster-no-quorum), the observer's
 * notification (the D-Bus signal and PropertiesChanged), STATUS=, and on election the
 * take-over of unfinished runs. It also shares the failover state (active site, last
 * automatic switchover; src/cluster/failover-state.h): the leader publishes it, fenced,
 * when it changes; a node just elected reads it before it decides its open incidents
 * again. Without `cluster:` every answer is STANDALONE and nothing here runs.
 *
 * Does not own: the election's logic (src/cluster/election.c), fenced step writes (the
 * run worker), the refusal of acting D-Bus calls (src/bus/, which asks this file).
 * Called by manager.c (start, stop, STATUS=) and src/bus/ (view, may_act, override).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/election.h"
#include "cluster/failover-state.h"
#include "cluster/fence.h"
#include "daemon/manager-cluster.h"
#include "daemon/manager-internal.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

/* Resigning at a clean stop revokes the lease (another node leads at once); bounded. */
#define MANAGER_CLUSTER_RESIGN_TIMEOUT (2 * USEC_PER_SEC)
/* The election reports role changes; the member list is compared this often. */
#define MANAGER_CLUSTER_MEMBERS_POLL (1 * USEC_PER_SEC)

struct ManagerCluster {
        Election *election;
        /* What was last reported, to tell what changed. */
        ClusterRole role;
        char *leader;
        uint64_t epoch;
        char **members;
        sd_event_source *members_timer;
        bool stopped;
        uint64_t state_read_epoch; /* the election whose read of the failover state is in flight */
};

/* The election's own client: it already talks to an endpoint that answers (a fresh client
 * would first try the configured order, and the first endpoint may be the lost site's). */
static EtcdClient *state_client(Manager *m)
{
        return m->cluster && m->cluster->election ? election_get_client(m->cluster->election) : NULL;
}

static void on_state_published(EtcdClient *ec, int error, json_t *reply, void *userdata)
{
        _cleanup_(etcd_txn_reply_done) EtcdTxnReply t = {};
        int r = error;

        (void) ec;
        (void) userdata;
        if (r >= 0)
                r = etcd_parse_txn(reply, &t);
        if (r < 0)
                log_warning_errno(r,
                                  "cluster: the failover state was not published: %s; the next leader "
                                  "decides from its own view",
                                  strerror(-r));
        else if (!t.succeeded)
                log_warning("cluster: the failover state was not published: this node no longer leads");
        else
                log_debug("cluster: failover state published");
}

void manager_cluster_publish_failover(Manager *m, const char *active_site, usec_t last_auto_switchover)
{
        ManagerClusterView v;
        _cleanup_free_ char *key = NULL, *value = NULL;
        EtcdClient *ec;
        json_t *req;
        int r;

        manager_cluster_view(m, &v);
        if (v.role != CLUSTER_ROLE_LEADER || !v.node || v.epoch == 0)
                return;
        ec = state_client(m);
        if (!ec)
                return;
        r = failover_state_format(&(FailoverState){.active_site = (char *) active_site,
                                                   .last_auto_switchover = last_auto_switchover,
                                                   .node = (char *) v.node,
                                                   .epoch = v.epoch},
                                  &value);
        if (r < 0) {
                log_warning_errno(r, "cluster: cannot encode the failover state: %s", strerror(-r));
                return;
        }
        key = failover_state_key(m->config->cluster->prefix);
        EtcdOp put = {.type = ETCD_OP_PUT, .key = key, .value = value};
        Fence f = {.prefix = m->config->cluster->prefix, .node = v.node, .epoch = v.epoch};
        req = fence_build_txn(&f, &put, 1);
        r = req ? etcd_call_async(ec, "/v3/kv/txn", req, FENCE_DEFAULT_TIMEOUT, on_state_published, m, NULL)
                : -ENOMEM;
        json_decref(req);
        if (r < 0)
                log_warning_errno(r, "cluster: cannot publish the failover state: %s", strerror(-r));
}

/* The read a node just elected makes: then, and only then, it decides its open incidents
 * again (watch_cluster_elected), with what the earlier leaders decided if etcd had it. */
static void on_state_read(EtcdClient *ec, int error, json_t *reply, void *userdata)
{
        Manager *m = userdata;
        _cleanup_(failover_state_done) FailoverState st = {};
        _cleanup_free_ char *source = NULL;
        EtcdKv *kvs = NULL;
        size_t n = 0;
        ManagerClusterView v;
        int r = error;

        (void) ec;
        if (r >= 0)
                r = etcd_parse_range(reply, &kvs, &n, NULL);
        if (r >= 0 && n > 0 && failover_state_parse(kvs[0].value, &st) < 0)
                r = -EBADMSG;
        etcd_kvs_free(kvs, n);
        manager_cluster_view(m, &v);
        if (v.role != CLUSTER_ROLE_LEADER || v.epoch != m->cluster->state_read_epoch)
                return; /* stepped down meanwhile: nothing to decide */
        if (r < 0)
                log_warning_errno(r,
                                  "cluster: cannot read the failover state: %s; deciding from this "
                                  "node's own view",
                                  strerror(-r));
        else if (st.node)
                source = xasprintf("written by node %s in epoch %" PRIu64, st.node, st.epoch);
        if (m->watch)
                watch_cluster_elected(m->watch, r >= 0 && st.node ? &st : NULL, source);
}

static void read_failover_state(Manager *m)
{
        _cleanup_free_ char *key = failover_state_key(m->config->cluster->prefix);
        ManagerClusterView v;
        EtcdClient *ec = state_client(m);
        json_t *req;
        int r = -ENOTCONN;

        manager_cluster_view(m, &v);
        m->cluster->state_read_epoch = v.epoch;
        if (ec) {
                req = etcd_build_range(key, false);
                r = req ? etcd_call_async(ec, "/v3/kv/range", req, FENCE_DEFAULT_TIMEOUT, on_state_read, m,
                                          NULL)
                        : -ENOMEM;
                json_decref(req);
        }
        if (r < 0) {
                log_warning_errno(r,
                                  "cluster: cannot read the failover state: %s; deciding from this node's "
                                  "own view",
                                  strerror(-r));
                if (m->watch)
                        watch_cluster_elected(m->watch, NULL, NULL);
        }
}

static void notify_observer(Manager *m, const char *event, const char *reason)
{
        ManagerClusterView v;

        if (!m->observer.cluster_changed)
                return;
        manager_cluster_view(m, &v);
        m->observer.cluster_changed(m->observer.userdata, &v, event, reason);
}

static void on_role(Election *e, const ElectionStatus *st, void *userdata)
{
        Manager *m = userdata;
        ManagerCluster *c = m->cluster;
        _cleanup_free_ char *msg = NULL;
        ClusterEvent ev;

        if (!c)
                return;
        ev = cluster_event_for_change(c->role, c->leader, c->epoch, st->role, st->leader, st->epoch);
        c->role = st->role;
        if (!streq_ptr(c->leader, st->leader)) {
                free(c->leader);
                c->leader = st->leader ? xstrdup(st->leader) : NULL;
        }
        c->epoch = st->epoch;

        /* The policy first: from here on, what it decides follows the new role. */
        if (m->watch)
                watch_set_cluster_role(m->watch, st->role, st->leader);

        switch (st->role) {
        case CLUSTER_ROLE_LEADER:
                msg = xasprintf("%s leads the cluster (epoch %" PRIu64 "): %s", st->node, st->epoch,
                                strempty(st->reason));
                break;
        case CLUSTER_ROLE_FOLLOWER:
                msg = st->leader ? xasprintf("%s follows %s (epoch %" PRIu64 "): %s", st->node, st->leader,
                                             st->epoch, strempty(st->reason))
                                 : xasprintf("%s follows; no node leads right now: %s", st->node,
                                             strempty(st->reason));
                break;
        default:
                msg = xasprintf("%s: no etcd quorum, nothing automatic: %s", st->node, strempty(st->reason));
                break;
        }
        if (ev == CLUSTER_EVENT_ELECTED || ev == CLUSTER_EVENT_STEPPED_DOWN || ev == CLUSTER_EVENT_NO_QUORUM)
                log_notice("cluster: %s", msg);
        else
                log_info("cluster: %s", msg);

        if (ev != CLUSTER_EVENT_NONE)
                manager_journal_event(m, cluster_event_to_string(ev), msg,
                                      json_pack("{s:s, s:s, s:s?, s:I, s:s}", "node", st->node, "role",
                                                cluster_role_to_string(st->role), "leader", st->leader,
                                                "epoch", (json_int_t) st->epoch, "reason",
                                                strempty(st->reason)));
        notify_observer(m, ev != CLUSTER_EVENT_NONE ? cluster_event_to_string(ev) : NULL, st->reason);
        manager_update_status(m);

        if (ev == CLUSTER_EVENT_ELECTED && !c->stopped) {
                read_failover_state(m);
                int r = manager_runs_resume_unfinished(m);
                if (r < 0)
                        log_warning_errno(r, "cluster: cannot take over unfinished runs: %s", strerror(-r));
        }
}

static int on_members_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        ManagerCluster *c = m->cluster;
        ElectionStatus st;
        bool same = true;

        election_get_status(c->election, &st);
        if (strv_length(st.members) != strv_length(c->members))
                same = false;
        for (size_t i = 0; same && st.members && st.members[i]; i++)
                same = streq(st.members[i], c->members[i]);
        if (!same) {
                strv_free(c->members);
                c->members = strv_copy(st.members);
                notify_observer(m, NULL, NULL);
        }
        (void) sd_event_source_set_time_relative(s, MANAGER_CLUSTER_MEMBERS_POLL);
        return 0;
}

void manager_cluster_view(const Manager *m, ManagerClusterView *ret)
{
        ElectionStatus st;

        if (!m->cluster || !m->cluster->election) {
                *ret = (ManagerClusterView){.role = CLUSTER_ROLE_STANDALONE};
                return;
        }
        election_get_status(m->cluster->election, &st);
        *ret = (ManagerClusterView){
                .role = st.role,
                .node = st.node,
                .leader = st.leader,
                .epoch = st.epoch,
                .members = st.members,
                .reason = st.reason,
        };
}

bool manager_cluster_may_act(const Manager *m)
{
        if (!m->cluster || !m->cluster->election)
                return true;
        return election_may_act(m->cluster->election);
}

int manager_cluster_start(Manager *m)
{
        ManagerCluster *c;
        int r;

        if (!m->config || !m->config->cluster || m->cluster)
                return 0;
        c = xcalloc(1, sizeof(*c));
        c->role = CLUSTER_ROLE_NO_QUORUM; /* where an election starts */
        m->cluster = c;
        /* Until etcd says otherwise nothing is automatic: the watch was built standalone. */
        if (m->watch)
                watch_set_cluster_role(m->watch, CLUSTER_ROLE_NO_QUORUM, NULL);

        r = election_new_from_config(&c->election, m->event, m->config->cluster, on_role, m);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &c->members_timer, CLOCK_MONOTONIC,
                                               MANAGER_CLUSTER_MEMBERS_POLL, 100 * USEC_PER_MSEC,
                                               on_members_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->members_timer, SD_EVENT_ON);
        if (r >= 0)
                r = election_start(c->election);
        if (r < 0) {
                manager_cluster_stop(m);
                return log_error_errno(r, "cluster: cannot start the election: %s", strerror(-r));
        }
        char buf[FORMAT_DURATION_MAX];
        log_info("cluster: node %s campaigning in %s (lease %s) against %zu etcd endpoint%s",
                 m->config->cluster->node, m->config->cluster->prefix,
                 format_duration(buf, m->config->cluster->lease_ttl), m->config->cluster->n_endpoints,
                 m->config->cluster->n_endpoints == 1 ? "" : "s");
        return 0;
}

void manager_cluster_stop(Manager *m)
{
        ManagerCluster *c = m->cluster;
        int r;

        if (!c)
                return;
        if (c->election && !c->stopped) {
                c->stopped = true;
                /* The lease is revoked so that another node leads at once, not after the TTL;
                 * the step-down is reported (and journaled) through on_role like any other. */
                r = election_resign(c->election, MANAGER_CLUSTER_RESIGN_TIMEOUT);
                if (r < 0)
                        log_warning_errno(r, "cluster: cannot revoke the lease: %s; it expires by itself",
                                          strerror(-r));
        }
        c->members_timer = sd_event_source_disable_unref(c->members_timer);
}

void manager_cluster_free(Manager *m)
{
        ManagerCluster *c = m->cluster;

        if (!c)
                return;
        manager_cluster_stop(m);
        m->cluster = NULL;
        election_free(c->election);
        free(c->leader);
        strv_free(c->members);
        free(c);
}
