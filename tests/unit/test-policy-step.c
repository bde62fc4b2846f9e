/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-policy-step.c — policy_step() from a table, on a virtual clock (no sleeping, no
 * real time): the daemon-level rules that used to live in droverd's monitor.c — (a) an
 * interrupted run makes AUTO a PROPOSE, (b) nothing starts while a run of the incident
 * is active, (c) nothing starts while droverd stops, (d) maintenance opens no incident,
 * (e) the settle window holds a lower level, (f) a cleared level resolves, (g) the
 * frequency resets when nothing is open — plus deadline misses, the tick, what a run's
 * start and end mean, and the cluster role (follower, no quorum). Each row runs as its
 * own cmocka test; a sequence test walks a restart through the settle window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "incident/policy.h"

#define T0 ((usec_t) 1700000000ULL * USEC_PER_SEC) /* CLOCK_REALTIME, virtual */
#define M0 ((usec_t) 1000 * USEC_PER_SEC)          /* CLOCK_MONOTONIC, virtual */
#define SEC_ USEC_PER_SEC
#define MIN_ USEC_PER_MINUTE

static const char *const roles_red[] = { "duty-office", "command-centre", NULL };
static const char *const roles_orange[] = { "duty-office", NULL };
static const char *const roles_yellow[] = { "duty-office", NULL };
static const char *const maint_primary[] = { "primary", NULL };
static const PolicySite sites[] = {
        { "primary", POLICY_SITE_PRIMARY },
        { "backup", POLICY_SITE_BACKUP },
        { "vendor-a", POLICY_SITE_OTHER },
};

/* red: switchover auto, x4; orange: switchover propose; yellow: notify, x2; blue: nothing. */
static PolicyConfig cfg;

static void setup_config(void)
{
        cfg.cooldown = 30 * MIN_;
        cfg.levels[LEVEL_RED] = (PolicyLevel) { .notify = roles_red, .raise_frequency = 4,
                                                .playbook = "site-switchover",
                                                .playbook_kind = PLAYBOOK_SWITCHOVER, .auto_run = true };
        cfg.levels[LEVEL_ORANGE] = (PolicyLevel) { .notify = roles_orange, .playbook = "site-switchover",
                                                   .playbook_kind = PLAYBOOK_SWITCHOVER };
        cfg.levels[LEVEL_YELLOW] = (PolicyLevel) { .notify = roles_yellow, .raise_frequency = 2 };
}

#define N DECISION_NONE
#define NOTIFY DECISION_NOTIFY
#define FREQ DECISION_RAISE_FREQUENCY
#define PROPOSE DECISION_PROPOSE
#define AUTO DECISION_AUTO
#define LC POLICY_EVENT_LEVEL_CHANGE
#define MISS POLICY_EVENT_DEADLINE_MISS
#define TICK POLICY_EVENT_TICK
#define STARTED POLICY_EVENT_RUN_STARTED
#define ENDED POLICY_EVENT_RUN_ENDED

typedef struct Case {
        const char *name;
        /* event */
        PolicyEventKind kind;
        const char *site;
        WarningLevel from, to;
        const char *ev_reason;
        PolicyIncident inc;
        usec_t mono;                  /* virtual CLOCK_MONOTONIC now */
        const char *trigger;
        PlaybookKind pb_kind;
        bool succeeded;
        /* state */
        const char *active;           /* NULL = "primary"; "-" = unknown */
        const char *const *maintenance;
        bool stopping, freq_raised;
        size_t n_open;
        ClusterRole role;
        const char *leader;
        /* expected */
        bool hold, open, set_level, decided, resolve, reset_freq, settle_ended, feed, note_auto;
        DecisionKind kinds[DECISION_ACTIONS_MAX]; /* in order; N ends */
        const char *action_reason;    /* substring of the PROPOSE/AUTO action's reason */
        const char *reason;           /* substring of decision.reason (or step.reason) */
        const char *note;             /* substring of note; NULL = note must be empty */
        const char *new_active;       /* RUN_ENDED */
        bool held_back;
} Case;

#define RED_OPEN { .open = true, .level = LEVEL_RED }
#define SETTLING(l) { .open = true, .level = (l), .settle_until = M0 + 60 * SEC_ }

static const Case cases[] = {
        /* (a) an interrupted run: a commander decides */
        { "a: interrupted run turns AUTO into PROPOSE", LC, "primary", LEVEL_ORANGE, LEVEL_RED,
          .inc = { .open = true, .level = LEVEL_ORANGE, .hold_auto = true }, .set_level = true,
          .decided = true, .kinds = { NOTIFY, FREQ, PROPOSE }, .action_reason = "a commander decides",
          .reason = "auto site-switchover" },
        { "a: interrupted run, a deadline miss escalating to red: PROPOSE", MISS, "primary", LEVEL_ORANGE,
          LEVEL_RED, .inc = { .open = true, .level = LEVEL_ORANGE, .hold_auto = true }, .decided = true,
          .kinds = { NOTIFY, FREQ, PROPOSE }, .action_reason = "interrupted when droverd died" },
        { "a: interrupted run, orange still proposes for approval", LC, "primary", LEVEL_YELLOW,
          LEVEL_ORANGE,
          .inc = { .open = true, .level = LEVEL_YELLOW, .hold_auto = true }, .set_level = true,
          .decided = true, .kinds = { NOTIFY, PROPOSE }, .action_reason = "approval required" },
        /* (b) a run active for the incident */
        { "b: run active: the AUTO is dropped with a note", LC, "primary", LEVEL_ORANGE, LEVEL_RED,
          .inc = { .open = true, .level = LEVEL_ORANGE, .run_active = true }, .set_level = true,
          .decided = true, .kinds = { NOTIFY, FREQ }, .note = "already active: nothing started" },
        { "b: run active, de-escalation: notify only, no note", LC, "primary", LEVEL_RED, LEVEL_YELLOW,
          .inc = { .open = true, .level = LEVEL_RED, .run_active = true }, .set_level = true,
          .decided = true,
          .kinds = { NOTIFY }, .reason = "de-escalated from red to yellow" },
        { "b: run active, a proposal is still made", LC, "primary", LEVEL_YELLOW, LEVEL_ORANGE,
          .inc = { .open = true, .level = LEVEL_YELLOW, .run_active = true }, .set_level = true,
          .decided = true, .kinds = { NOTIFY, PROPOSE } },
        /* (c) droverd stops */
        { "c: stopping: the AUTO is dropped with a note", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .stopping = true, .open = true, .decided = true, .kinds = { NOTIFY, FREQ },
          .note = "droverd is stopping" },
        { "c: stopping, an interrupted run: PROPOSE wins", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .inc = { .open = true, .level = LEVEL_YELLOW, .hold_auto = true }, .stopping = true,
          .set_level = true, .decided = true, .kinds = { NOTIFY, FREQ, PROPOSE } },
        { "c: not stopping, nothing active: AUTO", LC, "primary", LEVEL_NONE, LEVEL_RED, .open = true,
          .decided = true, .kinds = { NOTIFY, FREQ, AUTO }, .action_reason = "automatic at this level" },
        /* (d) the maintenance gate */
        { "d: maintenance: no incident opened, silenced", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .maintenance = maint_primary, .decided = true, .kinds = { N },
          .reason = "silenced by maintenance" },
        { "d: maintenance, incident already open: its level is applied, silenced", LC, "primary",
          LEVEL_ORANGE, LEVEL_RED, .inc = { .open = true, .level = LEVEL_ORANGE },
          .maintenance = maint_primary, .set_level = true, .decided = true, .kinds = { N },
          .reason = "silenced" },
        { "d: no incident yet: opened, and decided from none", LC, "primary", LEVEL_YELLOW, LEVEL_RED,
          .open = true, .decided = true, .kinds = { NOTIFY, FREQ, AUTO }, .reason = "from none to red" },
        { "d: no incident and the level clears: nothing opened", LC, "primary", LEVEL_BLUE, LEVEL_NONE,
          .decided = true, .kinds = { N }, .reason = "recovered from blue to none" },
        /* (e) the settle window after a restart or reload */
        { "e: settling, a lower level is held", LC, "primary", LEVEL_RED, LEVEL_NONE,
          .inc = SETTLING(LEVEL_RED), .mono = M0 + 10 * SEC_, .hold = true, .kinds = { N },
          .reason = "still settling" },
        { "e: settling, one microsecond before the end: held", LC, "primary", LEVEL_RED, LEVEL_YELLOW,
          .inc = SETTLING(LEVEL_RED), .mono = M0 + 60 * SEC_ - 1, .hold = true, .kinds = { N } },
        { "e: settle window over: the lower level is applied", LC, "primary", LEVEL_RED, LEVEL_NONE,
          .inc = SETTLING(LEVEL_RED), .mono = M0 + 60 * SEC_, .set_level = true, .decided = true,
          .resolve = true, .kinds = { NOTIFY } },
        { "e: settling, a higher level is applied at once", LC, "primary", LEVEL_ORANGE, LEVEL_RED,
          .inc = SETTLING(LEVEL_ORANGE), .mono = M0 + 10 * SEC_, .set_level = true, .decided = true,
          .kinds = { NOTIFY, FREQ, AUTO } },
        { "e: settling, the same level is not held (no news)", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .inc = SETTLING(LEVEL_RED), .mono = M0 + 10 * SEC_, .set_level = true, .decided = true,
          .kinds = { N }, .reason = "stays at red" },
        /* (f) resolve when the level clears; (g) the frequency reset */
        { "f: level clears: resolve, notify the level left", LC, "primary", LEVEL_RED, LEVEL_NONE,
          .inc = RED_OPEN, .n_open = 1, .set_level = true, .decided = true, .resolve = true,
          .kinds = { NOTIFY }, .reason = "recovered from red to none" },
        { "g: last incident resolved with the frequency raised: reset", LC, "primary", LEVEL_RED, LEVEL_NONE,
          .inc = RED_OPEN, .n_open = 1, .freq_raised = true, .set_level = true, .decided = true,
          .resolve = true, .reset_freq = true, .kinds = { NOTIFY } },
        { "g: another incident still open: no reset", LC, "primary", LEVEL_RED, LEVEL_NONE, .inc = RED_OPEN,
          .n_open = 2, .freq_raised = true, .set_level = true, .decided = true, .resolve = true,
          .kinds = { NOTIFY } },
        { "g: frequency not raised: nothing to reset", LC, "primary", LEVEL_RED, LEVEL_NONE, .inc = RED_OPEN,
          .n_open = 1, .set_level = true, .decided = true, .resolve = true, .kinds = { NOTIFY } },
        { "g: a lower level that is not none: no resolve, no reset", LC, "primary", LEVEL_RED, LEVEL_BLUE,
          .inc = RED_OPEN, .n_open = 1, .freq_raised = true, .set_level = true, .decided = true,
          .kinds = { NOTIFY } },
        /* deadline misses */
        { "deadline missed at red: red's roles again, no playbook", MISS, "primary", LEVEL_RED, LEVEL_RED,
          .inc = RED_OPEN, .decided = true, .kinds = { NOTIFY }, .reason = "deadline missed" },
        { "deadline miss escalating to red: AUTO", MISS, "primary", LEVEL_ORANGE, LEVEL_RED,
          .inc = { .open = true, .level = LEVEL_ORANGE }, .decided = true, .kinds = { NOTIFY, FREQ, AUTO } },
        { "deadline miss escalating with a run active: note", MISS, "primary", LEVEL_ORANGE, LEVEL_RED,
          .inc = { .open = true, .level = LEVEL_ORANGE, .run_active = true }, .decided = true,
          .kinds = { NOTIFY, FREQ }, .note = "already active" },
        { "deadline miss never resolves", MISS, "primary", LEVEL_BLUE, LEVEL_BLUE,
          .inc = { .open = true, .level = LEVEL_BLUE }, .n_open = 1, .freq_raised = true, .decided = true,
          .kinds = { N } },
        /* the tick: the end of the settle window */
        { "tick inside the window: nothing", TICK, "primary", LEVEL_NONE, LEVEL_NONE,
          .inc = SETTLING(LEVEL_RED), .mono = M0 + 59 * SEC_, .kinds = { N } },
        { "tick at the end, the checks agree: settle ended only", TICK, "primary", LEVEL_NONE, LEVEL_RED,
          .inc = SETTLING(LEVEL_RED), .mono = M0 + 60 * SEC_, .settle_ended = true, .kinds = { N } },
        { "tick at the end, the checks say none: feed it", TICK, "primary", LEVEL_NONE, LEVEL_NONE,
          .ev_reason = "rule-x", .inc = SETTLING(LEVEL_RED), .mono = M0 + 61 * SEC_, .settle_ended = true,
          .feed = true, .kinds = { N }, .reason = "the checks say none: rule-x" },
        { "tick, not settling: nothing", TICK, "primary", LEVEL_NONE, LEVEL_NONE, .inc = RED_OPEN,
          .mono = M0 + 600 * SEC_, .kinds = { N } },
        /* a run's start and end */
        { "run started: auto switchover starts the cooldown", STARTED, "primary", .trigger = "auto",
          .pb_kind = PLAYBOOK_SWITCHOVER, .note_auto = true, .kinds = { N } },
        { "run started: approved switchover does not", STARTED, "primary", .trigger = "approved",
          .pb_kind = PLAYBOOK_SWITCHOVER, .kinds = { N } },
        { "run started: auto vendor replacement does not", STARTED, NULL, .trigger = "auto",
          .pb_kind = PLAYBOOK_VENDOR_REPLACEMENT, .kinds = { N } },
        { "run ended: switchover from the primary: backup serves", ENDED, "primary", .succeeded = true,
          .pb_kind = PLAYBOOK_SWITCHOVER, .kinds = { N }, .new_active = "backup" },
        { "run ended: switchover from the backup: primary serves", ENDED, NULL, .succeeded = true,
          .pb_kind = PLAYBOOK_SWITCHOVER, .active = "backup", .kinds = { N }, .new_active = "primary" },
        { "run ended: failback: primary serves", ENDED, NULL, .succeeded = true,
          .pb_kind = PLAYBOOK_FAILBACK,
          .active = "backup", .kinds = { N }, .new_active = "primary" },
        { "run ended: switchover, active site unknown: backup", ENDED, NULL, .succeeded = true,
          .pb_kind = PLAYBOOK_SWITCHOVER, .active = "-", .kinds = { N }, .new_active = "backup" },
        { "run ended: a failed switchover moves nothing", ENDED, NULL, .succeeded = false,
          .pb_kind = PLAYBOOK_SWITCHOVER, .kinds = { N } },
        { "run ended: a restore moves nothing", ENDED, NULL, .succeeded = true, .pb_kind = PLAYBOOK_RESTORE,
          .kinds = { N } },
        /* the cluster role */
        { "standalone (the default): AUTO", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .role = CLUSTER_ROLE_STANDALONE, .open = true, .decided = true, .kinds = { NOTIFY, FREQ, AUTO } },
        { "leader: as standalone", LC, "primary", LEVEL_NONE, LEVEL_RED, .role = CLUSTER_ROLE_LEADER,
          .leader = "primary-node", .open = true, .decided = true, .kinds = { NOTIFY, FREQ, AUTO } },
        { "follower: incident opened, no notify, no playbook", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .role = CLUSTER_ROLE_FOLLOWER, .leader = "backup", .open = true, .decided = true,
          .kinds = { FREQ }, .reason = "follower: node backup leads" },
        { "follower: no proposal at orange", LC, "primary", LEVEL_YELLOW, LEVEL_ORANGE,
          .inc = { .open = true, .level = LEVEL_YELLOW }, .role = CLUSTER_ROLE_FOLLOWER, .leader = "backup",
          .set_level = true, .decided = true, .kinds = { N }, .reason = "follower: node backup leads" },
        { "follower: a deadline miss notifies nobody", MISS, "primary", LEVEL_RED, LEVEL_RED,
          .inc = RED_OPEN,
          .role = CLUSTER_ROLE_FOLLOWER, .leader = "backup", .decided = true, .kinds = { N },
          .reason = "follower" },
        { "follower: its local incident still resolves", LC, "primary", LEVEL_RED, LEVEL_NONE,
          .inc = RED_OPEN,
          .n_open = 1, .freq_raised = true, .role = CLUSTER_ROLE_FOLLOWER, .leader = "backup",
          .set_level = true, .decided = true, .resolve = true, .reset_freq = true, .kinds = { N } },
        { "no quorum: AUTO becomes PROPOSE, notifications go on", LC, "primary", LEVEL_NONE, LEVEL_RED,
          .role = CLUSTER_ROLE_NO_QUORUM, .open = true, .decided = true, .kinds = { NOTIFY, FREQ, PROPOSE },
          .action_reason = "no cluster quorum: nothing automatic", .reason = "no cluster quorum",
          .held_back = true },
        { "no quorum: a proposal stays a proposal", LC, "primary", LEVEL_YELLOW, LEVEL_ORANGE,
          .inc = { .open = true, .level = LEVEL_YELLOW }, .role = CLUSTER_ROLE_NO_QUORUM, .set_level = true,
          .decided = true, .kinds = { NOTIFY, PROPOSE }, .action_reason = "approval required" },
};

static void fill(const Case *c, PolicyState *ps, PolicyEvent *ev)
{
        *ps = (PolicyState) {
                .active_site = !c->active ? "primary" : streq(c->active, "-") ? NULL : c->active,
                .maintenance_sites = c->maintenance,
                .stopping = c->stopping,
                .n_open_incidents = c->n_open,
                .frequency_raised = c->freq_raised,
                .cluster_role = c->role,
                .leader = c->leader,
        };
        *ev = (PolicyEvent) {
                .kind = c->kind,
                .site = c->site,
                .from = c->from,
                .to = c->to,
                .reason = c->ev_reason,
                .incident = c->inc,
                .now_mono = c->mono ?: M0,
                .trigger = c->trigger,
                .playbook_kind = c->pb_kind,
                .succeeded = c->succeeded,
                .sites = sites,
                .n_sites = ELEMENTSOF(sites),
        };
}

static void run_case(void **state)
{
        const Case *c = *state;
        PolicyState ps;
        PolicyEvent ev;
        PolicyStep s;
        const Decision *d = &s.decision;
        const DecisionAction *pb = NULL;
        size_t n_expected = 0;

        fill(c, &ps, &ev);
        memset(&s, 0xaa, sizeof(s)); /* every field must be written */
        assert_int_equal(policy_step(&cfg, &ps, &ev, T0, &s), 0);

        assert_int_equal(s.hold, c->hold);
        assert_int_equal(s.open_incident, c->open);
        assert_int_equal(s.set_level, c->set_level);
        assert_int_equal(s.decided, c->decided);
        assert_int_equal(s.resolve_incident, c->resolve);
        assert_int_equal(s.reset_frequency, c->reset_freq);
        assert_int_equal(s.settle_ended, c->settle_ended);
        assert_int_equal(s.feed_level, c->feed);
        assert_int_equal(s.note_auto_switchover, c->note_auto);
        if (c->new_active) {
                assert_non_null(s.new_active_site);
                assert_string_equal(s.new_active_site, c->new_active);
        } else
                assert_null(s.new_active_site);
        if (c->feed)
                assert_int_equal(d->level, c->to);

        while (n_expected < DECISION_ACTIONS_MAX && c->kinds[n_expected] != N)
                n_expected++;
        if (d->n_actions != n_expected)
                fail_msg("%s: %zu actions, expected %zu (reason: %s)", c->name, d->n_actions, n_expected,
                         d->reason);
        for (size_t i = 0; i < n_expected; i++) {
                assert_string_equal(decision_kind_to_string(d->actions[i].kind),
                                    decision_kind_to_string(c->kinds[i]));
                if (d->actions[i].kind == PROPOSE || d->actions[i].kind == AUTO)
                        pb = &d->actions[i];
        }
        if (c->action_reason) {
                assert_non_null(pb);
                if (!strstr(pb->reason, c->action_reason))
                        fail_msg("%s: action reason \"%s\" lacks \"%s\"", c->name, pb->reason,
                                 c->action_reason);
        }
        if (c->reason && !strstr(d->reason, c->reason) && !strstr(s.reason, c->reason))
                fail_msg("%s: reason \"%s\" / \"%s\" lacks \"%s\"", c->name, d->reason, s.reason, c->reason);
        if (c->note) {
                if (!strstr(s.note, c->note))
                        fail_msg("%s: note \"%s\" lacks \"%s\"", c->name, s.note, c->note);
        } else
                assert_string_equal(s.note, "");
        if (c->decided) {
                assert_int_equal(d->held_back, c->held_back);
                assert_true(strnlen(d->reason, sizeof(d->reason)) > 0);
        }
        /* Nothing is ever started while held, stopping, a run active, interrupted, a
         * follower or without quorum. */
        if (c->hold || c->stopping || c->inc.run_active || c->inc.hold_auto ||
            c->role == CLUSTER_ROLE_FOLLOWER || c->role == CLUSTER_ROLE_NO_QUORUM)
                assert_null(decision_find(d, AUTO));
        if (c->role == CLUSTER_ROLE_FOLLOWER) {
                assert_null(decision_find(d, NOTIFY));
                assert_null(decision_find(d, PROPOSE));
        }
        /* A held change does nothing else. */
        if (s.hold)
                assert_false(s.open_incident || s.set_level || s.decided || s.resolve_incident ||
                             s.reset_frequency);
}

/* A restart on a virtual clock: droverd comes back with the incident at red while the
 * site has recovered. The lower level is held through the window, the tick at its end
 * feeds it, and feeding it resolves the incident and resets the frequency. */
static void test_restart_sequence(void **state)
{
        PolicyState ps = { .active_site = "primary", .n_open_incidents = 1, .frequency_raised = true };
        PolicyIncident inc = { .open = true, .level = LEVEL_RED, .settle_until = M0 + 45 * SEC_ };
        PolicyStep s;
        usec_t mono = M0, rt = T0;

        /* Every second of the window: the evaluator says none, held each time. */
        for (; mono < inc.settle_until; mono += SEC_, rt += SEC_) {
                PolicyEvent ev = { .kind = LC, .site = "primary", .from = LEVEL_RED, .to = LEVEL_NONE,
                                   .incident = inc, .now_mono = mono };
                assert_int_equal(policy_step(&cfg, &ps, &ev, rt, &s), 0);
                assert_true(s.hold);
                ev.kind = TICK;
                assert_int_equal(policy_step(&cfg, &ps, &ev, rt, &s), 0);
                assert_false(s.settle_ended);
        }
        /* The tick at the end. */
        PolicyEvent tick = { .kind = TICK, .site = "primary", .to = LEVEL_NONE, .incident = inc,
                             .now_mono = mono };
        assert_int_equal(policy_step(&cfg, &ps, &tick, rt, &s), 0);
        assert_true(s.settle_ended);
        assert_true(s.feed_level);
        inc.settle_until = 0; /* what the glue does with settle_ended */
        PolicyEvent feed = { .kind = LC, .site = "primary", .from = inc.level, .to = s.decision.level,
                             .incident = inc, .now_mono = mono };
        assert_int_equal(policy_step(&cfg, &ps, &feed, rt, &s), 0);
        assert_false(s.hold);
        assert_true(s.resolve_incident);
        assert_true(s.reset_frequency);
        assert_null(decision_find(&s.decision, AUTO));
}

/* The cooldown across steps: an automatic switchover's start is noted, the next red on
 * the new active site within the cooldown is only proposed, after it AUTO again. */
static void test_cooldown_sequence(void **state)
{
        PolicyState ps = { .active_site = "primary" };
        PolicyEvent red = { .kind = LC, .site = "primary", .from = LEVEL_NONE, .to = LEVEL_RED,
                            .now_mono = M0 };
        PolicyEvent started = { .kind = STARTED, .trigger = "auto", .playbook_kind = PLAYBOOK_SWITCHOVER };
        PolicyEvent ended = { .kind = ENDED, .succeeded = true, .playbook_kind = PLAYBOOK_SWITCHOVER,
                              .sites = sites, .n_sites = ELEMENTSOF(sites) };
        PolicyStep s;

        assert_int_equal(policy_step(&cfg, &ps, &red, T0, &s), 0);
        assert_non_null(decision_find(&s.decision, AUTO));
        assert_int_equal(policy_step(&cfg, &ps, &started, T0 + SEC_, &s), 0);
        assert_true(s.note_auto_switchover);
        ps.last_auto_switchover = T0 + SEC_;
        assert_int_equal(policy_step(&cfg, &ps, &ended, T0 + MIN_, &s), 0);
        assert_string_equal(s.new_active_site, "backup");
        ps.active_site = s.new_active_site;

        red.site = "backup";
        assert_int_equal(policy_step(&cfg, &ps, &red, T0 + 10 * MIN_, &s), 0);
        assert_null(decision_find(&s.decision, AUTO));
        assert_non_null(strstr(decision_find(&s.decision, PROPOSE)->reason, "cooldown"));
        assert_int_equal(policy_step(&cfg, &ps, &red, T0 + SEC_ + 30 * MIN_, &s), 0);
        assert_non_null(decision_find(&s.decision, AUTO));
}

static void test_bad_args(void **state)
{
        PolicyState ps = { .active_site = "primary" };
        PolicyEvent ev = { .kind = LC, .site = "primary", .from = LEVEL_NONE, .to = LEVEL_RED };
        PolicyEvent bad;
        PolicyStep s = { .hold = true };

        assert_int_equal(policy_step(NULL, &ps, &ev, T0, &s), -EINVAL);
        assert_int_equal(policy_step(&cfg, NULL, &ev, T0, &s), -EINVAL);
        assert_int_equal(policy_step(&cfg, &ps, NULL, T0, &s), -EINVAL);
        assert_int_equal(policy_step(&cfg, &ps, &ev, T0, NULL), -EINVAL);
        bad = ev;
        bad.site = NULL;
        assert_int_equal(policy_step(&cfg, &ps, &bad, T0, &s), -EINVAL);
        bad = ev;
        bad.kind = _POLICY_EVENT_KIND_MAX;
        assert_int_equal(policy_step(&cfg, &ps, &bad, T0, &s), -EINVAL);
        bad = ev;
        bad.to = _WARNING_LEVEL_MAX;
        assert_int_equal(policy_step(&cfg, &ps, &bad, T0, &s), -EINVAL);
        bad = ev;
        bad.incident = (PolicyIncident) { .open = true, .level = -1 };
        assert_int_equal(policy_step(&cfg, &ps, &bad, T0, &s), -EINVAL);
        ps.cluster_role = _CLUSTER_ROLE_MAX;
        assert_int_equal(policy_step(&cfg, &ps, &ev, T0, &s), -EINVAL);
        assert_true(s.hold); /* untouched */
}

static void test_role_strings(void **state)
{
        for (ClusterRole r = 0; r < _CLUSTER_ROLE_MAX; r++)
                assert_int_equal(cluster_role_from_string(cluster_role_to_string(r)), r);
        assert_string_equal(cluster_role_to_string(CLUSTER_ROLE_NO_QUORUM), "no-quorum");
        assert_int_equal(cluster_role_from_string("boss"), -EINVAL);
}

int main(void)
{
        struct CMUnitTest tests[ELEMENTSOF(cases) + 4];
        size_t n = 0;

        setup_config();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[n++] = (struct CMUnitTest) {
                        .name = cases[i].name,
                        .test_func = run_case,
                        .initial_state = (void *) &cases[i],
                };
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_restart_sequence);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_cooldown_sequence);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_bad_args);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_role_strings);

        return _cmocka_run_group_tests("policy-step", tests, n, NULL, NULL);
}
