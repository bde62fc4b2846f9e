/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cluster.c — the pure parts of src/cluster: the lease clock (step-down and
 * keepalive timing on a virtual clock), base64 and prefix ends, etcd request
 * builders and reply parsers (replies as etcd 3.4's JSON gateway writes them),
 * run and step record encoding, and the resume plan. No etcd here: see
 * tests/integration/250-etcd-election.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cluster/election.h"
#include "cluster/etcd.h"
#include "cluster/failover-state.h"
#include "cluster/fence.h"
#include "cluster/runrec.h"
#include "engine/run-cluster.h"
#include "shared/strbuf.h"

#define S  USEC_PER_SEC
#define MS USEC_PER_MSEC

static void test_lease_clock(void **state)
{
        LeaseClock lc = {};
        usec_t ttl = 5 * S, t;

        assert_int_equal(election_keepalive_interval(ttl), ttl / 3);
        assert_int_equal(election_step_down_margin(ttl), 1 * S);
        assert_int_equal(election_step_down_margin(2 * S), ELECTION_MARGIN_MIN);
        assert_true(election_request_timeout(ttl) < election_keepalive_interval(ttl));

        /* never renewed: may not act */
        assert_false(lease_clock_may_act(&lc, 0));
        assert_int_equal(lease_clock_deadline(&lc), 0);

        /* granted at t=100s (send time), renewals every TTL/3 succeed */
        lease_clock_renewed(&lc, 100 * S, ttl);
        for (t = 100 * S; t < 130 * S; t += election_keepalive_interval(ttl)) {
                lease_clock_renewed(&lc, t, ttl);
                assert_true(lease_clock_may_act(&lc, t + election_keepalive_interval(ttl)));
                assert_int_equal(lease_clock_next_renewal(&lc), t + ttl / 3);
        }

        /* renewals stop at r: acting stops at r + TTL - margin, strictly before etcd's expiry at r + TTL */
        usec_t r = 200 * S;
        lease_clock_renewed(&lc, r, ttl);
        assert_true(lease_clock_may_act(&lc, r + 4 * S - 1));
        assert_false(lease_clock_may_act(&lc, r + 4 * S));
        assert_false(lease_clock_may_act(&lc, r + ttl));
        assert_true(lease_clock_deadline(&lc) < r + ttl);

        /* a late answer to an older request never moves the clock backwards */
        lease_clock_renewed(&lc, r - 3 * S, ttl);
        assert_int_equal(lease_clock_deadline(&lc), r + 4 * S);

        /* the renewal counts from its send time, not from when the answer arrived: an answer
         * 1.5 s late leaves 1.5 s less to act */
        lease_clock_renewed(&lc, r + 1 * S, ttl);
        assert_false(lease_clock_may_act(&lc, r + 1 * S + 4 * S));

        /* lost (keepalive says TTL 0): no acting at all */
        lease_clock_lost(&lc);
        assert_false(lease_clock_may_act(&lc, r + 1 * S + 1));

        /* a tiny TTL cannot give a negative window */
        LeaseClock small = {};
        lease_clock_renewed(&small, 10 * S, 400 * MS);
        assert_false(lease_clock_may_act(&small, 10 * S));
}

/* The whole story on the virtual clock: keepalive every TTL/3, etcd unreachable from
 * t0, the leader must have stopped before the lease can expire at the last renewal + TTL. */
static void test_step_down_story(void **state)
{
        usec_t ttl = 5 * S, now = 0, last_ok = 0, stopped = 0;
        LeaseClock lc = {};
        bool etcd_up = true;

        lease_clock_renewed(&lc, 0, ttl);
        for (now = 0; now < 20 * S; now += 10 * MS) {
                if (now >= 7 * S)
                        etcd_up = false;
                if (now >= lease_clock_next_renewal(&lc) && etcd_up && now % (ttl / 3) < 10 * MS) {
                        lease_clock_renewed(&lc, now, ttl);
                        last_ok = now;
                }
                if (!stopped && !lease_clock_may_act(&lc, now))
                        stopped = now;
        }
        assert_true(last_ok > 0);
        assert_true(stopped > last_ok);
        assert_true(stopped <= last_ok + ttl - election_step_down_margin(ttl));
        assert_true(stopped < last_ok + ttl);
}

static void test_base64(void **state)
{
        const char *cases[][2] = {
                {"", ""},        {"f", "Zg=="},        {"fo", "Zm8="},
                {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"/drover/x/leader", "L2Ryb3Zlci94L2xlYWRlcg=="}};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = etcd_base64_encode(cases[i][0], strlen(cases[i][0]));
                _cleanup_free_ char *d = NULL;
                assert_string_equal(e, cases[i][1]);
                assert_int_equal(etcd_base64_decode(e, &d), (ssize_t) strlen(cases[i][0]));
                assert_string_equal(d, cases[i][0]);
        }
        char *bad = NULL;
        assert_int_equal(etcd_base64_decode("ab$d", &bad), -EBADMSG);
        assert_null(bad);

        _cleanup_free_ char *end = etcd_prefix_end("/drover/x/");
        assert_string_equal(end, "/drover/x0");
}

static void test_build_txn(void **state)
{
        EtcdCompare cmp[] = {
                {.key = "k", .target = ETCD_COMPARE_VALUE, .value = "n1"},
                {.key = "k", .target = ETCD_COMPARE_CREATE, .number = 42},
        };
        EtcdOp ok[] = {{.type = ETCD_OP_PUT, .key = "a", .value = "v", .lease = 7}};
        EtcdOp ko[] = {{.type = ETCD_OP_RANGE, .key = "p/", .prefix = true}};
        json_t *t = etcd_build_txn(cmp, 2, ok, 1, ko, 1);
        char *s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);

        assert_string_equal(
                s,
                "{\"compare\":[{\"key\":\"aw==\",\"result\":\"EQUAL\",\"target\":\"VALUE\",\"value\":\"bjE="
                "\"},"
                "{\"createRevision\":\"42\",\"key\":\"aw==\",\"result\":\"EQUAL\",\"target\":\"CREATE\"}],"
                "\"failure\":[{\"requestRange\":{\"key\":\"cC8=\",\"range_end\":\"cDA=\"}}],"
                "\"success\":[{\"requestPut\":{\"key\":\"YQ==\",\"lease\":\"7\",\"value\":\"dg==\"}}]}");
        free(s);
        json_decref(t);
}

/* The fenced txn: the leader key's value and create revision, then the caller's ops; the
 * failure branch reads the leader key back. */
static void test_fence_txn_body(void **state)
{
        EtcdOp put = {.type = ETCD_OP_PUT, .key = "/drover/c/state/failover", .value = "{}"};
        Fence f = {.prefix = "/drover/c", .node = "n1", .epoch = 42};
        json_t *t = fence_build_txn(&f, &put, 1);
        char *s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
        _cleanup_free_ char *leader = etcd_base64_encode("/drover/c/leader", strlen("/drover/c/leader"));
        _cleanup_free_ char *key = etcd_base64_encode(put.key, strlen(put.key));
        _cleanup_free_ char *want = xasprintf(
                "{\"compare\":[{\"key\":\"%s\",\"result\":\"EQUAL\",\"target\":\"VALUE\",\"value\":\"bjE=\"}"
                ","
                "{\"createRevision\":\"42\",\"key\":\"%s\",\"result\":\"EQUAL\",\"target\":\"CREATE\"}],"
                "\"failure\":[{\"requestRange\":{\"key\":\"%s\"}}],"
                "\"success\":[{\"requestPut\":{\"key\":\"%s\",\"value\":\"e30=\"}}]}",
                leader, leader, leader, key);

        (void) state;
        assert_string_equal(s, want);
        free(s);
        json_decref(t);
        f.epoch = 0; /* no epoch: nothing to fence with */
        assert_null(fence_build_txn(&f, &put, 1));
}

static void test_failover_state(void **state)
{
        FailoverState st = {}, back = {};
        char *s = NULL, *key = failover_state_key("/drover/lab");

        (void) state;
        assert_string_equal(key, "/drover/lab/state/failover");
        free(key);

        st = (FailoverState){.active_site = "backup",
                             .last_auto_switchover = 1796503861983127ULL,
                             .node = "witness",
                             .epoch = 15};
        assert_int_equal(failover_state_format(&st, &s), 0);
        assert_string_equal(s, "{\"active_site\":\"backup\",\"epoch\":15,"
                               "\"last_auto_switchover_us\":1796503861983127,\"node\":\"witness\"}");
        assert_int_equal(failover_state_parse(s, &back), 0);
        assert_string_equal(back.active_site, "backup");
        assert_true(back.last_auto_switchover == 1796503861983127ULL);
        assert_string_equal(back.node, "witness");
        assert_true(back.epoch == 15);
        free(s);

        /* No active site known yet: the field is left out, and reads back as NULL. */
        st.active_site = NULL;
        st.last_auto_switchover = 0;
        assert_int_equal(failover_state_format(&st, &s), 0);
        assert_int_equal(failover_state_parse(s, &back), 0);
        assert_null(back.active_site);
        assert_true(back.last_auto_switchover == 0);
        free(s);
        failover_state_done(&back);

        st.node = NULL;
        assert_int_equal(failover_state_format(&st, &s), -EINVAL);
        st.node = "n";
        st.epoch = 0;
        assert_int_equal(failover_state_format(&st, &s), -EINVAL);

        static const char *const bad[] = {
                "",
                "[]",
                "{\"epoch\":3}",
                "{\"node\":\"n\"}",
                "{\"node\":\"\",\"epoch\":3}",
                "{\"node\":\"n\",\"epoch\":0}",
                "{\"node\":\"n\",\"epoch\":\"3\"}",
                "{\"node\":\"n\",\"epoch\":3,\"active_site\":7}",
                "{\"node\":\"n\",\"epoch\":3,\"last_auto_switchover_us\":-1}",
                "{\"node\":\"n\",\"epoch\":3,\"node\":\"m\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (failover_state_parse(bad[i], &back) != -EBADMSG)
                        fail_msg("failover state %zu (%s) was accepted", i, bad[i]);
                assert_null(back.node);
        }
}

static json_t *load(const char *s)
{
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        return j;
}

static void test_parse_replies(void **state)
{
        json_t *j;
        int64_t id = 0, ttl = -1;
        EtcdTxnReply t = {};

        /* lease grant, 64-bit numbers as strings */
        j = load("{\"header\":{\"revision\":\"1\"},\"ID\":\"2324035826076819205\",\"TTL\":\"5\"}");
        assert_int_equal(etcd_parse_lease_grant(j, &id, &ttl), 0);
        assert_int_equal(id, 2324035826076819205LL);
        assert_int_equal(ttl, 5);
        json_decref(j);

        /* keepalive of a live lease, and of a gone one (TTL absent = 0) */
        j = load("{\"result\":{\"header\":{\"revision\":\"1\"},\"ID\":\"7\",\"TTL\":\"5\"}}");
        assert_int_equal(etcd_parse_keepalive(j, &ttl), 0);
        assert_int_equal(ttl, 5);
        json_decref(j);
        j = load("{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"12345\"}}");
        assert_int_equal(etcd_parse_keepalive(j, &ttl), 0);
        assert_int_equal(ttl, 0);
        json_decref(j);

        /* txn succeeded */
        j = load("{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":[{\"response_put\":{"
                 "\"header\":"
                 "{\"revision\":\"2\"}}}]}");
        assert_int_equal(etcd_parse_txn(j, &t), 0);
        assert_true(t.succeeded);
        assert_int_equal(t.revision, 2);
        assert_int_equal(t.n_kvs, 0);
        etcd_txn_reply_done(&t);
        json_decref(j);

        /* txn failed ("succeeded" absent), with the range of the failure branch */
        j = load("{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":{\"header\":{"
                 "\"revision\":\"2\"},"
                 "\"kvs\":[{\"key\":\"L3gvbGVhZGVy\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
                 "\"version\":"
                 "\"1\",\"value\":\"bjE=\",\"lease\":\"2324035826076819207\"}],\"count\":\"1\"}}]}");
        assert_int_equal(etcd_parse_txn(j, &t), 0);
        assert_false(t.succeeded);
        assert_int_equal(t.n_kvs, 1);
        assert_string_equal(t.kvs[0].key, "/x/leader");
        assert_string_equal(t.kvs[0].value, "n1");
        assert_int_equal(t.kvs[0].create_revision, 2);
        assert_int_equal(t.kvs[0].lease, 2324035826076819207LL);
        etcd_txn_reply_done(&t);
        json_decref(j);

        /* garbage */
        j = load("{\"responses\":[]}");
        assert_int_equal(etcd_parse_txn(j, &t), -EBADMSG);
        json_decref(j);
        j = load("{\"header\":{\"revision\":\"x2\"}}");
        assert_int_equal(etcd_parse_txn(j, &t), -EBADMSG);
        json_decref(j);
}

static void test_records(void **state)
{
        RunParam params[] = {{"site", "primary", false}, {"token", "hunter2", true}};
        _cleanup_free_ char *pj = runrec_params_json(params, 2);
        _cleanup_free_ char *id = runrec_make_id(42, "backup", 7);
        RunRecord r = {
                .id = id,
                .playbook = (char *) "site-switchover",
                .params_json = pj,
                .trigger = (char *) "policy",
                .actor = (char *) "droverd",
                .node = (char *) "backup",
                .epoch = 42,
                .local_id = 7,
                .state = RUNREC_RUNNING,
                .started = 1700000000000000ULL,
        };
        RunRecord back = {};
        StepRecord s = {.index = 3,
                        .name = (char *) "promote-db",
                        .attempt = 1,
                        .node = (char *) "backup",
                        .epoch = 42,
                        .outcome = STEPREC_RUNNING,
                        .started = 1700000000000001ULL};
        StepRecord sb = {};
        _cleanup_free_ char *meta = NULL, *step = NULL, *k = NULL;

        assert_string_equal(id, "42-backup-7");
        assert_string_equal(pj, "{\"site\":\"primary\",\"token\":\"***\"}");
        assert_null(strstr(pj, "hunter2"));

        meta = runrec_encode_meta(&r);
        assert_non_null(meta);
        assert_null(strstr(meta, "hunter2"));
        assert_int_equal(runrec_decode_meta(meta, &back), 0);
        assert_string_equal(back.id, "42-backup-7");
        assert_string_equal(back.playbook, "site-switchover");
        assert_string_equal(back.params_json, pj);
        assert_string_equal(back.started_by, "backup");
        assert_int_equal(back.epoch, 42);
        assert_int_equal(back.local_id, 7);
        assert_int_equal(back.state, RUNREC_RUNNING);
        assert_int_equal(back.started, 1700000000000000ULL);
        free(back.id), free(back.playbook), free(back.params_json), free(back.trigger), free(back.actor),
                free(back.node), free(back.started_by);

        step = steprec_encode(&s);
        assert_int_equal(steprec_decode(step, &sb), 0);
        assert_int_equal(sb.index, 3);
        assert_int_equal(sb.attempt, 1);
        assert_string_equal(sb.name, "promote-db");
        assert_string_equal(sb.node, "backup");
        assert_int_equal(sb.outcome, STEPREC_RUNNING);
        assert_int_equal(sb.started, 1700000000000001ULL);
        steprec_done(&sb);

        assert_int_equal(steprec_decode("{\"index\":1}", &sb), -EBADMSG);
        assert_int_equal(steprec_decode("not json", &sb), -EBADMSG);
        assert_int_equal(runrec_decode_meta("{\"id\":\"x\"}", &back), -EBADMSG);

        k = runrec_key_step("/drover/c", id, 3, 2);
        assert_string_equal(k, "/drover/c/runs/42-backup-7/steps/0003.002");
}

static void test_resume_plan(void **state)
{
        StepRecord steps[] = {
                {.index = 0, .attempt = 1, .outcome = STEPREC_OK},
                {.index = 1, .attempt = 1, .outcome = STEPREC_FAILED},
                {.index = 1, .attempt = 2, .outcome = STEPREC_OK},
                {.index = 2, .attempt = 1, .outcome = STEPREC_RUNNING, .idempotent = false},
        };
        RunRecord r = {.steps = steps, .n_steps = 4};
        ResumePlan p;

        runrec_resume_plan(&r, &p);
        assert_int_equal(p.action, RESUME_ASK);
        assert_int_equal(p.next_index, 2);
        assert_int_equal(p.next_attempt, 2);
        assert_ptr_equal(p.in_flight, &steps[3]);

        steps[3].idempotent = true;
        runrec_resume_plan(&r, &p);
        assert_int_equal(p.action, RESUME_RERUN);

        /* the in-flight step had finished: continue after it, nothing repeated */
        steps[3].outcome = STEPREC_OK;
        runrec_resume_plan(&r, &p);
        assert_int_equal(p.action, RESUME_CONTINUE);
        assert_int_equal(p.next_index, 3);
        assert_null(p.in_flight);

        r.n_steps = 0;
        runrec_resume_plan(&r, &p);
        assert_int_equal(p.action, RESUME_CONTINUE);
        assert_int_equal(p.next_index, 0);
        assert_string_equal(resume_action_to_string(RESUME_ASK), "ask");
        assert_string_equal(cluster_role_to_string(CLUSTER_ROLE_NO_QUORUM), "no-quorum");
}

static void test_events(void **state)
{
        const ClusterRole L = CLUSTER_ROLE_LEADER, F = CLUSTER_ROLE_FOLLOWER, N = CLUSTER_ROLE_NO_QUORUM;

        assert_int_equal(cluster_event_for_change(N, NULL, 0, L, "a", 5), CLUSTER_EVENT_ELECTED);
        assert_int_equal(cluster_event_for_change(F, "b", 4, L, "a", 5), CLUSTER_EVENT_ELECTED);
        assert_int_equal(cluster_event_for_change(L, "a", 5, L, "a", 5), CLUSTER_EVENT_NONE);
        /* re-elected after a lost lease: a new epoch is a new leadership */
        assert_int_equal(cluster_event_for_change(L, "a", 5, L, "a", 9), CLUSTER_EVENT_ELECTED);
        assert_int_equal(cluster_event_for_change(L, "a", 5, N, NULL, 0), CLUSTER_EVENT_STEPPED_DOWN);
        assert_int_equal(cluster_event_for_change(L, "a", 5, F, "b", 7), CLUSTER_EVENT_STEPPED_DOWN);
        assert_int_equal(cluster_event_for_change(N, NULL, 0, F, "b", 7), CLUSTER_EVENT_FOLLOWING);
        assert_int_equal(cluster_event_for_change(F, "b", 7, F, "c", 8), CLUSTER_EVENT_FOLLOWING);
        assert_int_equal(cluster_event_for_change(F, "b", 7, F, "b", 7), CLUSTER_EVENT_NONE);
        assert_int_equal(cluster_event_for_change(F, "b", 7, N, NULL, 0), CLUSTER_EVENT_NO_QUORUM);
        assert_int_equal(cluster_event_for_change(N, NULL, 0, N, NULL, 0), CLUSTER_EVENT_NONE);
        assert_string_equal(cluster_event_to_string(CLUSTER_EVENT_FENCED), "cluster-fenced");
        assert_int_equal(cluster_event_from_string("cluster-resumed"), CLUSTER_EVENT_RESUMED);
}

/* ---- issue 9 phase 2b: what a taken-over run does (engine/run-cluster.c, pure part) ---- */

static void test_resume_decide(void **state)
{
        (void) state;
        Step steps[3] = {{.name = (char *) "open"}, {.name = (char *) "move"}, {.name = (char *) "close"}};
        Playbook pb = {.name = (char *) "switch", .steps = steps, .n_steps = 3};
        StepRecord rs[3] = {
                {.index = 0, .name = (char *) "open", .attempt = 1, .node = (char *) "alpha", .epoch = 7,
                 .outcome = STEPREC_OK, .ended = 1},
                {.index = 1, .name = (char *) "move", .attempt = 1, .node = (char *) "alpha", .epoch = 7,
                 .outcome = STEPREC_RUNNING},
                {.index = 2, .name = (char *) "close", .attempt = 1, .node = (char *) "alpha", .epoch = 7,
                 .outcome = STEPREC_OK, .ended = 1},
        };
        RunRecord rec = {.id = (char *) "7-alpha-1", .steps = rs, .n_steps = 2};
        EngineResume res;
        char *prompt, *summary, *error;

        /* In flight, not idempotent in the playbook: ask. */
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_int_equal(res.start_index, 1);
        assert_true(res.ask);
        assert_non_null(strstr(prompt, "Step 'move' was in flight on node alpha (epoch 7)"));
        assert_non_null(strstr(summary, "not idempotent"));
        assert_null(error);
        free(prompt);
        free(summary);

        /* The playbook as loaded now decides: idempotent there → run again, no gate (even if
         * the record, written by an older playbook, said otherwise). */
        steps[1].idempotent = true;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_int_equal(res.start_index, 1);
        assert_false(res.ask);
        assert_null(prompt);
        assert_non_null(strstr(summary, "is idempotent: it runs again"));
        free(summary);
        steps[1].idempotent = false;

        /* Nothing in flight: go on after the last ended step, no gate. */
        rs[1].outcome = STEPREC_OK;
        rs[1].ended = 2;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_int_equal(res.start_index, 2);
        assert_false(res.ask);
        assert_null(prompt);
        free(summary);

        /* The last recorded step failed and stops the run (on_failure: abort), but the run's
         * end was never recorded: a commander decides whether the run goes on. */
        rs[1].outcome = STEPREC_FAILED;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_int_equal(res.start_index, 2);
        assert_true(res.ask);
        assert_non_null(strstr(prompt, "Step 'move' failed on node alpha"));
        assert_non_null(strstr(prompt, "Go on with step 'close'?"));
        free(prompt);
        free(summary);
        /* … unless the playbook goes on after that failure anyway. */
        steps[1].on_failure = ON_FAILURE_CONTINUE;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_false(res.ask);
        free(summary);
        steps[1].on_failure = ON_FAILURE_ABORT;
        rs[1].outcome = STEPREC_OK;

        /* Everything done: nothing left. */
        rec.n_steps = 3;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_int_equal(res.start_index, 3);
        assert_non_null(strstr(summary, "nothing left to run"));
        free(summary);

        /* A record that does not match the playbook (renamed step): refused. */
        rs[2].name = (char *) "finish";
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), -EINVAL);
        assert_non_null(strstr(error, "step 3 is 'finish', the playbook's is 'close'"));
        free(error);
        rs[2].index = 5;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), -EINVAL);
        free(error);

        /* No step recorded yet: from the start. */
        rec.n_steps = 0;
        assert_int_equal(run_cluster_resume_decide(&rec, &pb, &res, &prompt, &summary, &error), 0);
        assert_int_equal(res.start_index, 0);
        assert_false(res.ask);
        free(summary);
}

static void test_resume_outcomes(void **state)
{
        (void) state;
        assert_int_equal(run_cluster_outcome_from_record(STEPREC_OK), STEP_OK);
        assert_int_equal(run_cluster_outcome_from_record(STEPREC_FAILED), STEP_FAILED);
        assert_int_equal(run_cluster_outcome_from_record(STEPREC_TIMEOUT), STEP_TIMEOUT);
        assert_int_equal(run_cluster_outcome_from_record(STEPREC_SKIPPED), STEP_SKIPPED);
        /* left running by a node that was lost: unknown */
        assert_int_equal(run_cluster_outcome_from_record(STEPREC_RUNNING), STEP_INTERRUPTED);
        assert_int_equal(run_cluster_outcome_to_record(STEP_OK), STEPREC_OK);
        assert_int_equal(run_cluster_outcome_to_record(STEP_SKIPPED), STEPREC_SKIPPED);
        assert_int_equal(run_cluster_outcome_to_record(STEP_TIMEOUT), STEPREC_TIMEOUT);
        assert_int_equal(run_cluster_outcome_to_record(STEP_ERROR), STEPREC_FAILED);
        assert_int_equal(run_cluster_outcome_to_record(STEP_CANCELLED), STEPREC_FAILED);
        /* every local outcome maps to a name the record knows */
        for (StepOutcome o = 0; o < _STEP_OUTCOME_MAX; o++)
                assert_non_null(steprec_outcome_to_string(run_cluster_outcome_to_record(o)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lease_clock),    cmocka_unit_test(test_step_down_story),
                cmocka_unit_test(test_base64),         cmocka_unit_test(test_build_txn),
                cmocka_unit_test(test_parse_replies),  cmocka_unit_test(test_records),
                cmocka_unit_test(test_resume_plan),    cmocka_unit_test(test_events),
                cmocka_unit_test(test_resume_decide),  cmocka_unit_test(test_resume_outcomes),
                cmocka_unit_test(test_fence_txn_body), cmocka_unit_test(test_failover_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
