/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * election.c — leader election on etcd (see election.h): the pure lease clock, and
 * one chain of asynchronous etcd requests on the daemon's loop: grant → presence put
 * → campaign/observe txn, then every tick keepalive (when due) → campaign/observe.
 * At most one request is in flight; its deadline is shorter than the keepalive
 * interval, so a hung etcd costs one tick, never the loop.
 *
 * Owns: the lease, the leader and presence keys, the tick and step-down timers, the
 * role. Does not own: the client (borrowed), the loop, what a leader does.
 */
#include <errno.h>
#include <string.h>

#include "cluster/election.h"
#include "config/config.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

static const char *const cluster_event_table[_CLUSTER_EVENT_MAX] = {
        [CLUSTER_EVENT_NONE] = "none",
        [CLUSTER_EVENT_ELECTED] = "cluster-elected",
        [CLUSTER_EVENT_STEPPED_DOWN] = "cluster-stepped-down",
        [CLUSTER_EVENT_FOLLOWING] = "cluster-following",
        [CLUSTER_EVENT_NO_QUORUM] = "cluster-no-quorum",
        [CLUSTER_EVENT_FENCED] = "cluster-fenced",
        [CLUSTER_EVENT_RESUMED] = "cluster-resumed",
        [CLUSTER_EVENT_OVERRIDE] = "cluster-override",
};

DEFINE_STRING_TABLE(cluster_event, ClusterEvent, cluster_event_table)

ClusterEvent cluster_event_for_change(ClusterRole from, const char *from_leader, uint64_t from_epoch,
                                      ClusterRole to, const char *to_leader, uint64_t to_epoch)
{
        if (to == CLUSTER_ROLE_LEADER)
                return from == CLUSTER_ROLE_LEADER && from_epoch == to_epoch ? CLUSTER_EVENT_NONE
                                                                             : CLUSTER_EVENT_ELECTED;
        if (from == CLUSTER_ROLE_LEADER)
                return CLUSTER_EVENT_STEPPED_DOWN;
        if (to == CLUSTER_ROLE_FOLLOWER)
                return from == CLUSTER_ROLE_FOLLOWER && streq_ptr(from_leader, to_leader) &&
                                       from_epoch == to_epoch
                               ? CLUSTER_EVENT_NONE
                               : CLUSTER_EVENT_FOLLOWING;
        if (to == CLUSTER_ROLE_NO_QUORUM)
                return from == CLUSTER_ROLE_NO_QUORUM ? CLUSTER_EVENT_NONE : CLUSTER_EVENT_NO_QUORUM;
        return CLUSTER_EVENT_NONE;
}

/* ---- pure timing ------------------------------------------------------------------- */

usec_t election_keepalive_interval(usec_t ttl)
{
        return ttl / 3;
}

usec_t election_step_down_margin(usec_t ttl)
{
        return MAX(ttl / 5, ELECTION_MARGIN_MIN);
}

usec_t election_request_timeout(usec_t ttl)
{
        /* Shorter than the interval: a renewal that hangs is given up before the next is due. */
        return MAX(election_keepalive_interval(ttl) * 9 / 10, ETCD_ATTEMPT_MIN);
}

void lease_clock_renewed(LeaseClock *lc, usec_t sent_at, usec_t ttl)
{
        /* A late answer to an old request must not move the clock backwards. */
        if (lc->valid && sent_at < lc->renewed_at)
                return;
        lc->renewed_at = sent_at;
        lc->ttl = ttl;
        lc->valid = true;
}

void lease_clock_lost(LeaseClock *lc)
{
        lc->valid = false;
}

usec_t lease_clock_deadline(const LeaseClock *lc)
{
        usec_t margin;

        if (!lc->valid)
                return 0;
        margin = election_step_down_margin(lc->ttl);
        if (lc->ttl <= margin)
                return lc->renewed_at;
        return lc->renewed_at + lc->ttl - margin;
}

bool lease_clock_may_act(const LeaseClock *lc, usec_t now)
{
        return lc->valid && now < lease_clock_deadline(lc);
}

usec_t lease_clock_next_renewal(const LeaseClock *lc)
{
        if (!lc->valid)
                return 0;
        return lc->renewed_at + election_keepalive_interval(lc->ttl);
}

/* ---- the election ---------------------------------------------------------------------- */

typedef enum Phase {
        PHASE_IDLE,
        PHASE_GRANT,
        PHASE_PRESENCE,
        PHASE_KEEPALIVE,
        PHASE_OBSERVE,
} Phase;

struct Election {
        sd_event *event;
        EtcdClient *client;
        bool owns_client;
        char *prefix, *node, *leader_key, *member_key, *members_prefix;
        usec_t ttl;
        ElectionRoleCallback cb;
        void *userdata;

        int64_t lease;
        bool presence; /* the presence key is written under the current lease */
        LeaseClock clock;
        EtcdRequest *inflight;
        Phase phase;
        usec_t sent_at;

        sd_event_source *tick, *step_down;
        bool started;

        ClusterRole role;
        char *leader;
        uint64_t epoch;
        char **members;
        char *reason;
};

static void election_schedule(Election *e);
static void election_step(Election *e);

static void set_role(Election *e, ClusterRole role, const char *leader, uint64_t epoch, const char *reason)
{
        /* While nobody can act, a new reason is news too (etcd refused → timed out → TLS…);
         * the same failure again is not. */
        bool changed = e->role != role || !streq_ptr(e->leader, leader) || e->epoch != epoch ||
                       (role == CLUSTER_ROLE_NO_QUORUM && !streq_ptr(e->reason, reason));

        e->role = role;
        if (!streq_ptr(e->leader, leader)) {
                free(e->leader);
                e->leader = xstrdup(leader);
        }
        e->epoch = epoch;
        if (!changed)
                return;
        free(e->reason);
        e->reason = xstrdup(reason);
        if (e->cb) {
                ElectionStatus st;
                election_get_status(e, &st);
                e->cb(e, &st, e->userdata);
        }
}

static int step_down_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
        Election *e = userdata;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        char b[FORMAT_DURATION_MAX], reason[128];

        if (e->role != CLUSTER_ROLE_LEADER)
                return 0;
        if (lease_clock_may_act(&e->clock, now)) {
                election_schedule(e); /* renewed meanwhile: re-arm */
                return 0;
        }
        snprintf(reason, sizeof(reason), "lease not renewed for %s: stepped down before its TTL ran out",
                 format_duration(b, usec_sub_unsigned(now, e->clock.renewed_at)));
        /* The leader key may still be ours in etcd; whether it is, a renewal will tell. */
        set_role(e, CLUSTER_ROLE_NO_QUORUM, NULL, 0, reason);
        return 0;
}

static int tick_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
        Election *e = userdata;

        if (!e->inflight)
                election_step(e);
        return 0;
}

static int arm(Election *e, sd_event_source **src, usec_t when, sd_event_time_handler_t cb)
{
        int r;

        if (!*src)
                return sd_event_add_time(e->event, src, CLOCK_MONOTONIC, when, USEC_PER_MSEC, cb, e);
        r = sd_event_source_set_time(*src, when);
        if (r >= 0)
                r = sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
        return r;
}

static void election_schedule(Election *e)
{
        usec_t now = now_usec(CLOCK_MONOTONIC), next;

        if (!e->started)
                return;
        next = now + (e->role == CLUSTER_ROLE_LEADER ? election_keepalive_interval(e->ttl)
                                                     : ELECTION_FOLLOWER_POLL);
        if (e->lease != 0 && e->clock.valid)
                next = MIN(next, MAX(lease_clock_next_renewal(&e->clock), now));
        (void) arm(e, &e->tick, next, tick_cb);
        if (e->role == CLUSTER_ROLE_LEADER)
                (void) arm(e, &e->step_down, lease_clock_deadline(&e->clock), step_down_cb);
        else if (e->step_down)
                (void) sd_event_source_set_enabled(e->step_down, SD_EVENT_OFF);
}

static void on_failure(Election *e, const char *what, int error)
{
        usec_t now = now_usec(CLOCK_MONOTONIC);
        char reason[192];

        e->inflight = NULL;
        e->phase = PHASE_IDLE;
        if (!lease_clock_may_act(&e->clock, now)) {
                snprintf(reason, sizeof(reason), "etcd not reached (%s: %s)", what, strerror(-error));
                set_role(e, CLUSTER_ROLE_NO_QUORUM, NULL, 0, reason);
        }
        election_schedule(e);
}

static void send(Election *e, Phase phase, const char *path, json_t *req);
static void send_presence(Election *e);

static void observe(Election *e)
{
        EtcdCompare cmp = {.key = e->leader_key, .target = ETCD_COMPARE_CREATE, .number = 0};
        EtcdOp success[] = {
                {.type = ETCD_OP_PUT, .key = e->leader_key, .value = e->node, .lease = e->lease},
                {.type = ETCD_OP_RANGE, .key = e->members_prefix, .prefix = true},
        };
        EtcdOp failure[] = {
                {.type = ETCD_OP_RANGE, .key = e->leader_key},
                {.type = ETCD_OP_RANGE, .key = e->members_prefix, .prefix = true},
        };

        send(e, PHASE_OBSERVE, "/v3/kv/txn", etcd_build_txn(&cmp, 1, success, 2, failure, 2));
}

static void on_observed(Election *e, json_t *reply)
{
        _cleanup_(etcd_txn_reply_done) EtcdTxnReply t = {};
        usec_t now = now_usec(CLOCK_MONOTONIC);
        const EtcdKv *leader = NULL;
        char **members;
        size_t n = 0, plen = strlen(e->members_prefix);
        int r;

        r = etcd_parse_txn(reply, &t);
        if (r < 0) {
                on_failure(e, "campaign", r);
                return;
        }
        members = xcalloc(t.n_kvs + 2, sizeof(char *));
        for (size_t i = 0; i < t.n_kvs; i++) {
                if (streq(t.kvs[i].key, e->leader_key))
                        leader = &t.kvs[i];
                else if (strncmp(t.kvs[i].key, e->members_prefix, plen) == 0)
                        members[n++] = xstrdup(t.kvs[i].key + plen);
        }
        strv_free(e->members);
        e->members = members;
        e->phase = PHASE_IDLE;

        if (!lease_clock_may_act(&e->clock, now))
                set_role(e, CLUSTER_ROLE_NO_QUORUM, NULL, 0,
                         "the lease answer came after the step-down deadline");
        else if (t.succeeded)
                set_role(e, CLUSTER_ROLE_LEADER, e->node, (uint64_t) t.revision, "elected");
        else if (leader && streq(leader->value, e->node) && leader->lease == e->lease)
                set_role(e, CLUSTER_ROLE_LEADER, e->node, (uint64_t) leader->create_revision, "leader");
        else if (leader && streq(leader->value, e->node))
                /* This node's previous incarnation (killed and restarted within the TTL) still holds
                 * the key under its old lease. Never revoke it: with a misconfigured duplicate node
                 * name that would depose a live leader. Its lease runs out within the TTL. */
                set_role(e, CLUSTER_ROLE_FOLLOWER, leader->value, (uint64_t) leader->create_revision,
                         "the leader key is held by this node's previous incarnation until its lease "
                         "expires");
        else if (leader)
                set_role(e, CLUSTER_ROLE_FOLLOWER, leader->value, (uint64_t) leader->create_revision,
                         "follower");
        else
                /* The key vanished between compare and range: cannot happen in one txn; next tick. */
                set_role(e, CLUSTER_ROLE_FOLLOWER, NULL, 0, "no leader");
        election_schedule(e);
}

static void on_reply(EtcdClient *c, int error, json_t *reply, void *userdata)
{
        Election *e = userdata;
        Phase phase = e->phase;
        int64_t id, ttl;
        int r;

        e->inflight = NULL;
        switch (phase) {
        case PHASE_GRANT:
                if (error < 0 || (r = etcd_parse_lease_grant(reply, &id, &ttl)) < 0) {
                        on_failure(e, "lease grant", error < 0 ? error : r);
                        return;
                }
                e->lease = id;
                e->presence = false;
                lease_clock_renewed(&e->clock, e->sent_at, (usec_t) ttl * USEC_PER_SEC);
                send_presence(e);
                return;
        case PHASE_PRESENCE:
                if (error < 0) {
                        on_failure(e, "presence put", error);
                        return;
                }
                e->presence = true;
                observe(e);
                return;
        case PHASE_KEEPALIVE:
                ttl = 0;
                if (error == -ENOENT || (error >= 0 && etcd_parse_keepalive(reply, &ttl) >= 0 && ttl <= 0)) {
                        /* The lease is gone: whatever we held under it is gone with it. */
                        e->lease = 0;
                        lease_clock_lost(&e->clock);
                        if (e->role == CLUSTER_ROLE_LEADER)
                                set_role(e, CLUSTER_ROLE_NO_QUORUM, NULL, 0, "the lease expired");
                        election_step(e);
                        return;
                }
                if (error < 0) {
                        on_failure(e, "lease keepalive", error);
                        return;
                }
                lease_clock_renewed(&e->clock, e->sent_at, (usec_t) ttl * USEC_PER_SEC);
                observe(e);
                return;
        case PHASE_OBSERVE:
                if (error < 0) {
                        on_failure(e, "campaign", error);
                        return;
                }
                on_observed(e, reply);
                return;
        default:
                return;
        }
}

static void send(Election *e, Phase phase, const char *path, json_t *req)
{
        int r;

        if (!req) {
                on_failure(e, path, -ENOMEM);
                return;
        }
        e->phase = phase;
        e->sent_at = now_usec(CLOCK_MONOTONIC);
        r = etcd_call_async(e->client, path, req, election_request_timeout(e->ttl), on_reply, e,
                            &e->inflight);
        json_decref(req);
        if (r < 0)
                on_failure(e, path, r);
}

static void send_presence(Election *e)
{
        _cleanup_free_ char *v = xasprintf("{\"node\":\"%s\"}", e->node);
        send(e, PHASE_PRESENCE, "/v3/kv/put", etcd_build_put(e->member_key, v, e->lease));
}

static void election_step(Election *e)
{
        usec_t now = now_usec(CLOCK_MONOTONIC);

        if (!e->started || e->inflight)
                return;
        if (e->lease == 0)
                send(e, PHASE_GRANT, "/v3/lease/grant",
                     etcd_build_lease_grant((int64_t) (e->ttl / USEC_PER_SEC)));
        else if (now >= lease_clock_next_renewal(&e->clock))
                send(e, PHASE_KEEPALIVE, "/v3/lease/keepalive", etcd_build_lease_id(e->lease));
        else if (!e->presence)
                send_presence(e); /* its first put failed: the members list must not miss this node */
        else
                observe(e);
}

int election_new(Election **ret, sd_event *event, EtcdClient *client, const char *prefix, const char *node,
                 usec_t ttl, ElectionRoleCallback cb, void *userdata)
{
        Election *e;
        int r;

        if (!event || !client || !prefix || !node || ttl < USEC_PER_SEC)
                return -EINVAL;
        r = etcd_client_attach_event(client, event);
        if (r < 0)
                return r;
        e = xcalloc(1, sizeof(Election));
        e->event = sd_event_ref(event);
        e->client = client;
        e->prefix = xstrdup(prefix);
        e->node = xstrdup(node);
        e->leader_key = xasprintf("%s/leader", prefix);
        e->members_prefix = xasprintf("%s/members/", prefix);
        e->member_key = xasprintf("%s%s", e->members_prefix, node);
        e->ttl = ttl;
        e->cb = cb;
        e->userdata = userdata;
        e->role = CLUSTER_ROLE_NO_QUORUM;
        e->reason = xstrdup("not started");
        *ret = e;
        return 0;
}

int election_new_from_config(Election **ret, sd_event *event, const ClusterConfig *cfg,
                             ElectionRoleCallback cb, void *userdata)
{
        EtcdClient *c = NULL;
        Election *e = NULL;
        int r;

        if (!cfg)
                return -EINVAL;
        r = etcd_client_new_from_config(&c, cfg);
        if (r < 0)
                return r;
        r = election_new(&e, event, c, cfg->prefix, cfg->node, cfg->lease_ttl, cb, userdata);
        if (r < 0) {
                etcd_client_free(c);
                return r;
        }
        e->owns_client = true;
        *ret = e;
        return 0;
}

EtcdClient *election_get_client(const Election *e)
{
        return e->client;
}

Election *election_free(Election *e)
{
        if (!e)
                return NULL;
        etcd_request_cancel(e->inflight);
        if (e->owns_client)
                etcd_client_free(e->client);
        sd_event_source_disable_unref(e->tick);
        sd_event_source_disable_unref(e->step_down);
        sd_event_unref(e->event);
        free(e->prefix);
        free(e->node);
        free(e->leader_key);
        free(e->member_key);
        free(e->members_prefix);
        free(e->leader);
        strv_free(e->members);
        free(e->reason);
        free(e);
        return NULL;
}

int election_start(Election *e)
{
        if (e->started)
                return 0;
        e->started = true;
        free(e->reason);
        e->reason = xstrdup("starting: etcd not reached yet");
        election_step(e);
        return 0;
}

int election_resign(Election *e, usec_t timeout)
{
        int r = 0;

        e->started = false;
        etcd_request_cancel(e->inflight);
        e->inflight = NULL;
        e->phase = PHASE_IDLE;
        if (e->tick)
                (void) sd_event_source_set_enabled(e->tick, SD_EVENT_OFF);
        if (e->step_down)
                (void) sd_event_source_set_enabled(e->step_down, SD_EVENT_OFF);
        lease_clock_lost(&e->clock);
        if (e->lease != 0)
                r = etcd_lease_revoke(e->client, e->lease, timeout);
        e->lease = 0;
        set_role(e, CLUSTER_ROLE_NO_QUORUM, NULL, 0, "resigned");
        return r;
}

void election_get_status(const Election *e, ElectionStatus *ret)
{
        *ret = (ElectionStatus){
                .role = e->role,
                .node = e->node,
                .leader = e->leader,
                .epoch = e->epoch,
                .members = e->members,
                .reason = e->reason,
        };
}

bool election_may_act(const Election *e)
{
        return e->role == CLUSTER_ROLE_LEADER && lease_clock_may_act(&e->clock, now_usec(CLOCK_MONOTONIC));
}

uint64_t election_epoch(const Election *e)
{
        return e->epoch;
}
