/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-incident.c — the incident state machine: the whole transition table (every
 * allowed move, every refused one), the action log's actors and reasons, the level
 * history, and the deadlines (missed exactly once, escalating) on a fake clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "incident/incident.h"

#define T0 ((usec_t) 1700000000ULL * USEC_PER_SEC) /* the fake clock's start */
#define MIN_ USEC_PER_MINUTE

static const IncidentDeadlines test_deadlines = {
        .verify_within = { [LEVEL_RED] = 5 * MIN_, [LEVEL_ORANGE] = 10 * MIN_, [LEVEL_YELLOW] = 15 * MIN_,
                           [LEVEL_BLUE] = 20 * MIN_ },
        .locate_within = { [LEVEL_ORANGE] = 240 * MIN_, [LEVEL_YELLOW] = 480 * MIN_ },
        .first_solution_within = { [LEVEL_RED] = 120 * MIN_ },
};

static Incident *open_incident(WarningLevel level, const IncidentDeadlines *d)
{
        Incident *inc = NULL;
        IncidentInfo info = {
                .id = "inc-1",
                .site = "primary",
                .subject = "ebank-web",
                .phenomenon = "HTTP 503 from every vantage point",
                .impact = "online banking logins",
                .level = level,
                .opened_at = T0,
                .actor = INCIDENT_ACTOR_POLICY,
                .deadlines = d,
        };

        assert_int_equal(incident_new(&inc, &info), 0);
        assert_non_null(inc);
        return inc;
}

static const IncidentAction *last_action(const Incident *inc)
{
        const IncidentAction *log;
        size_t n = incident_get_log(inc, &log);

        assert_true(n > 0);
        return &log[n - 1];
}

static size_t count_kind(const Incident *inc, IncidentActionKind kind)
{
        const IncidentAction *log;
        size_t n = incident_get_log(inc, &log), c = 0;

        for (size_t i = 0; i < n; i++)
                if (log[i].kind == kind)
                        c++;
        return c;
}

static void test_strings(void **state)
{
        for (IncidentState s = 0; s < _INCIDENT_STATE_MAX; s++)
                assert_int_equal(incident_state_from_string(incident_state_to_string(s)), s);
        for (IncidentActionKind k = 0; k < _INCIDENT_ACTION_KIND_MAX; k++)
                assert_int_equal(incident_action_kind_from_string(incident_action_kind_to_string(k)), k);
        for (IncidentDeadlineKind k = 0; k < _INCIDENT_DEADLINE_KIND_MAX; k++)
                assert_int_equal(incident_deadline_kind_from_string(incident_deadline_kind_to_string(k)), k);
        assert_string_equal(incident_state_to_string(INCIDENT_MITIGATING), "mitigating");
        assert_string_equal(incident_action_kind_to_string(INCIDENT_ACTION_DEADLINE_MISSED),
                            "deadline-missed");
        assert_string_equal(incident_deadline_kind_to_string(INCIDENT_DEADLINE_FIRST_SOLUTION),
                            "first-solution");
        assert_int_equal(incident_state_from_string("bogus"), -EINVAL);
        assert_int_equal(incident_state_from_string(NULL), -EINVAL);
        assert_null(incident_state_to_string(_INCIDENT_STATE_MAX));
        assert_null(incident_state_to_string(-1));
}

/* The table written out independently of incident.c, row = from, column = to:
 *                  det ver esc mit res clo */
static const bool expected_table[_INCIDENT_STATE_MAX][_INCIDENT_STATE_MAX] = {
        [INCIDENT_DETECTED] = { 0, 1, 1, 1, 1, 0 },
        [INCIDENT_VERIFIED] = { 0, 0, 1, 1, 1, 0 },
        [INCIDENT_ESCALATED] = { 0, 0, 0, 1, 1, 0 },
        [INCIDENT_MITIGATING] = { 0, 0, 1, 0, 1, 0 },
        [INCIDENT_RESOLVED] = { 1, 0, 0, 0, 0, 1 },
        [INCIDENT_CLOSED] = { 0, 0, 0, 0, 0, 0 },
};

static void test_table_matches(void **state)
{
        for (IncidentState f = 0; f < _INCIDENT_STATE_MAX; f++)
                for (IncidentState t = 0; t < _INCIDENT_STATE_MAX; t++) {
                        if (incident_transition_allowed(f, t) != expected_table[f][t])
                                fail_msg("%s → %s: expected %s", incident_state_to_string(f),
                                         incident_state_to_string(t),
                                         expected_table[f][t] ? "allowed" : "refused");
                }
        assert_false(incident_transition_allowed(-1, INCIDENT_VERIFIED));
        assert_false(incident_transition_allowed(INCIDENT_DETECTED, _INCIDENT_STATE_MAX));
}

/* Drive a fresh incident to `s` by allowed moves. */
static void drive_to(Incident *inc, IncidentState s, usec_t *now)
{
        static const IncidentState path[_INCIDENT_STATE_MAX][3] = {
                [INCIDENT_DETECTED] = { -1 },
                [INCIDENT_VERIFIED] = { INCIDENT_VERIFIED, -1 },
                [INCIDENT_ESCALATED] = { INCIDENT_ESCALATED, -1 },
                [INCIDENT_MITIGATING] = { INCIDENT_MITIGATING, -1 },
                [INCIDENT_RESOLVED] = { INCIDENT_RESOLVED, -1 },
                [INCIDENT_CLOSED] = { INCIDENT_RESOLVED, INCIDENT_CLOSED, -1 },
        };

        for (size_t i = 0; i < 3 && (int) path[s][i] >= 0; i++) {
                *now += USEC_PER_SEC;
                assert_int_equal(incident_transition(inc, path[s][i], "alice", "setup", *now, NULL), 0);
        }
        assert_int_equal(incident_get_state(inc), s);
}

static void test_every_allowed_transition(void **state)
{
        unsigned tested = 0;

        for (IncidentState f = 0; f < _INCIDENT_STATE_MAX; f++)
                for (IncidentState t = 0; t < _INCIDENT_STATE_MAX; t++) {
                        _cleanup_(incident_freep) Incident *inc = NULL;
                        IncidentTransition tr = {};
                        const IncidentAction *a;
                        usec_t now = T0;
                        size_t n_before, n_after;

                        if (!expected_table[f][t])
                                continue;
                        inc = open_incident(LEVEL_ORANGE, NULL);
                        drive_to(inc, f, &now);
                        n_before = incident_get_log(inc, NULL);
                        now += 7 * USEC_PER_SEC;
                        assert_int_equal(incident_transition(inc, t, "bob", "the reason", now, &tr), 0);
                        assert_int_equal(incident_get_state(inc), t);
                        assert_int_equal(tr.from, f);
                        assert_int_equal(tr.to, t);
                        assert_string_equal(tr.actor, "bob");
                        assert_string_equal(tr.reason, "the reason");
                        assert_true(tr.at == now);

                        /* The state-change entry is there (milestones may follow it). */
                        n_after = incident_get_log(inc, NULL);
                        assert_true(n_after > n_before);
                        {
                                const IncidentAction *log;
                                incident_get_log(inc, &log);
                                a = &log[n_before];
                        }
                        assert_int_equal(a->kind, INCIDENT_ACTION_STATE_CHANGE);
                        assert_int_equal(a->state_from, f);
                        assert_int_equal(a->state_to, t);
                        assert_string_equal(a->actor, "bob");
                        assert_string_equal(a->text, "the reason");
                        tested++;
                }
        assert_int_equal(tested, 13);
}

static void test_every_refused_transition(void **state)
{
        unsigned tested = 0;

        for (IncidentState f = 0; f < _INCIDENT_STATE_MAX; f++)
                for (IncidentState t = 0; t < _INCIDENT_STATE_MAX; t++) {
                        _cleanup_(incident_freep) Incident *inc = NULL;
                        IncidentTransition tr = { .from = 99 };
                        usec_t now = T0;
                        size_t n_before;

                        if (expected_table[f][t])
                                continue;
                        inc = open_incident(LEVEL_YELLOW, NULL);
                        drive_to(inc, f, &now);
                        n_before = incident_get_log(inc, NULL);
                        assert_int_equal(incident_transition(inc, t, "mallory", "nope", now + 1, &tr),
                                         -EPERM);
                        assert_int_equal(incident_get_state(inc), f);
                        assert_int_equal(incident_get_log(inc, NULL), n_before);
                        assert_int_equal(tr.from, 99); /* ret untouched */
                        tested++;
                }
        assert_int_equal(tested, 36 - 13);
}

static void test_transition_bad_args(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_BLUE, NULL);

        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, NULL, "r", T0, NULL), -EINVAL);
        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, "", "r", T0, NULL), -EINVAL);
        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, "a", NULL, T0, NULL), -EINVAL);
        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, "a", "", T0, NULL), -EINVAL);
        assert_int_equal(incident_transition(inc, _INCIDENT_STATE_MAX, "a", "r", T0, NULL), -EINVAL);
        assert_int_equal(incident_transition(inc, -1, "a", "r", T0, NULL), -EINVAL);
        assert_int_equal(incident_transition(NULL, INCIDENT_VERIFIED, "a", "r", T0, NULL), -EINVAL);
        assert_int_equal(incident_get_state(inc), INCIDENT_DETECTED);
        assert_int_equal(incident_get_log(inc, NULL), 1);
}

static void test_new(void **state)
{
        _cleanup_(incident_freep) Incident *inc = NULL;
        const IncidentAction *log;
        const IncidentLevelEntry *h;
        Incident *sentinel = (Incident *) 0x1;
        IncidentInfo ok = {
                .id = "42", .site = "primary", .subject = "core-db", .phenomenon = "replication stopped",
                .level = LEVEL_ORANGE, .opened_at = T0, .actor = "policy", .reason = "quorum 2 of 2 down",
        };
        IncidentInfo bad;

        /* Each required field missing in turn, and levels outside 1..4. */
        const char **fields[] = { &bad.id, &bad.site, &bad.subject, &bad.phenomenon, &bad.actor };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                bad = ok;
                *fields[i] = NULL;
                assert_int_equal(incident_new(&sentinel, &bad), -EINVAL);
                bad = ok;
                *fields[i] = "";
                assert_int_equal(incident_new(&sentinel, &bad), -EINVAL);
        }
        bad = ok;
        bad.level = LEVEL_NONE;
        assert_int_equal(incident_new(&sentinel, &bad), -EINVAL);
        bad.level = _WARNING_LEVEL_MAX;
        assert_int_equal(incident_new(&sentinel, &bad), -EINVAL);
        assert_ptr_equal(sentinel, (Incident *) 0x1);

        assert_int_equal(incident_new(&inc, &ok), 0);
        assert_string_equal(incident_get_id(inc), "42");
        assert_string_equal(incident_get_site(inc), "primary");
        assert_string_equal(incident_get_subject(inc), "core-db");
        assert_string_equal(incident_get_phenomenon(inc), "replication stopped");
        assert_string_equal(incident_get_impact(inc), "");
        assert_true(incident_get_opened_at(inc) == T0);
        assert_int_equal(incident_get_state(inc), INCIDENT_DETECTED);
        assert_int_equal(incident_get_level(inc), LEVEL_ORANGE);

        assert_int_equal(incident_get_log(inc, &log), 1);
        assert_int_equal(log[0].kind, INCIDENT_ACTION_OPENED);
        assert_string_equal(log[0].actor, "policy");
        assert_non_null(strstr(log[0].text, "quorum 2 of 2 down"));
        assert_non_null(strstr(log[0].text, "orange"));

        assert_int_equal(incident_get_level_history(inc, &h), 1);
        assert_int_equal(h[0].from, LEVEL_NONE);
        assert_int_equal(h[0].to, LEVEL_ORANGE);
        assert_string_equal(h[0].reason, "quorum 2 of 2 down");
        assert_string_equal(h[0].actor, "policy");

        assert_null(incident_free(NULL));
}

static void test_log_records_actors(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_YELLOW, NULL);
        static const struct {
                IncidentState to;
                const char *actor, *reason;
        } steps[] = {
                { INCIDENT_VERIFIED, "duty:li.wei", "confirmed from the branch" },
                { INCIDENT_ESCALATED, "duty:li.wei", "head of command centre informed" },
                { INCIDENT_MITIGATING, INCIDENT_ACTOR_POLICY, "switchover approved by zhang" },
                { INCIDENT_ESCALATED, INCIDENT_ACTOR_POLICY, "switchover failed at step 3" },
                { INCIDENT_RESOLVED, "cmd:zhang", "manual switch done" },
                { INCIDENT_CLOSED, "cmd:zhang", "report filed" },
        };
        const IncidentAction *log;
        size_t n, j = 0;
        IncidentState prev = INCIDENT_DETECTED;

        for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                assert_int_equal(incident_transition(inc, steps[i].to, steps[i].actor, steps[i].reason,
                                                     T0 + (i + 1) * MIN_, NULL),
                                 0);

        n = incident_get_log(inc, &log);
        for (size_t i = 0; i < n; i++) {
                if (log[i].kind != INCIDENT_ACTION_STATE_CHANGE)
                        continue;
                assert_true(j < ELEMENTSOF(steps));
                assert_int_equal(log[i].state_from, prev);
                assert_int_equal(log[i].state_to, steps[j].to);
                assert_string_equal(log[i].actor, steps[j].actor);
                assert_string_equal(log[i].text, steps[j].reason);
                assert_true(log[i].at == T0 + (j + 1) * MIN_);
                prev = steps[j].to;
                j++;
        }
        assert_int_equal(j, ELEMENTSOF(steps));

        /* Closed is frozen. */
        assert_int_equal(incident_log_action(inc, INCIDENT_ACTION_NOTE, "x", "late", T0 + 99 * MIN_),
                         -EPERM);
        assert_int_equal(incident_set_level(inc, LEVEL_RED, "x", "late", T0 + 99 * MIN_), -EPERM);
        assert_int_equal(incident_set_impact(inc, "all", "x", T0 + 99 * MIN_), -EPERM);
        assert_int_equal(incident_get_log(inc, NULL), n);
}

static void test_level_history(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_BLUE, NULL);
        static const struct {
                WarningLevel to;
                const char *actor, *reason;
                int ret;
        } steps[] = {
                { LEVEL_YELLOW, "policy", "latency over 800ms", 1 },
                { LEVEL_YELLOW, "policy", "still slow", 0 },       /* no change: nothing logged */
                { LEVEL_RED, "policy", "site down on quorum for 30s", 1 },
                { LEVEL_ORANGE, "cmd:zhang", "half of the service back", 1 },
                { LEVEL_NONE, "policy", "all probes green", 1 },
        };
        const IncidentLevelEntry *h;
        const IncidentAction *log;
        size_t n, nl;

        for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                assert_int_equal(incident_set_level(inc, steps[i].to, steps[i].actor, steps[i].reason,
                                                    T0 + (i + 1) * MIN_),
                                 steps[i].ret);
        assert_int_equal(incident_get_level(inc), LEVEL_NONE);

        n = incident_get_level_history(inc, &h);
        assert_int_equal(n, 5);
        assert_int_equal(h[1].from, LEVEL_BLUE);
        assert_int_equal(h[1].to, LEVEL_YELLOW);
        assert_int_equal(h[2].from, LEVEL_YELLOW);
        assert_int_equal(h[2].to, LEVEL_RED);
        assert_string_equal(h[2].reason, "site down on quorum for 30s");
        assert_true(h[2].at == T0 + 3 * MIN_);
        assert_int_equal(h[3].to, LEVEL_ORANGE);
        assert_string_equal(h[3].actor, "cmd:zhang");
        assert_int_equal(h[4].to, LEVEL_NONE);

        nl = incident_get_log(inc, &log);
        assert_int_equal(count_kind(inc, INCIDENT_ACTION_LEVEL_CHANGE), 4);
        assert_int_equal(log[nl - 1].kind, INCIDENT_ACTION_LEVEL_CHANGE);
        assert_int_equal(log[nl - 1].level_from, LEVEL_ORANGE);
        assert_int_equal(log[nl - 1].level_to, LEVEL_NONE);
        assert_non_null(strstr(log[nl - 1].text, "all probes green"));

        assert_int_equal(incident_set_level(inc, _WARNING_LEVEL_MAX, "a", "r", T0), -EINVAL);
        assert_int_equal(incident_set_level(inc, LEVEL_RED, NULL, "r", T0), -EINVAL);
        assert_int_equal(incident_set_level(inc, LEVEL_RED, "a", NULL, T0), -EINVAL);
}

static void test_log_action_kinds(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_ORANGE, NULL);
        static const IncidentActionKind free_kinds[] = {
                INCIDENT_ACTION_NOTIFY,           INCIDENT_ACTION_PLAYBOOK_PROPOSED,
                INCIDENT_ACTION_PLAYBOOK_APPROVED, INCIDENT_ACTION_PLAYBOOK_REJECTED,
                INCIDENT_ACTION_PLAYBOOK_STARTED, INCIDENT_ACTION_PLAYBOOK_FINISHED,
                INCIDENT_ACTION_NOTE,             INCIDENT_ACTION_ACKNOWLEDGED,
                INCIDENT_ACTION_MAINTENANCE,      INCIDENT_ACTION_OVERRIDE,
        };
        static const IncidentActionKind reserved[] = {
                INCIDENT_ACTION_OPENED,    INCIDENT_ACTION_STATE_CHANGE,    INCIDENT_ACTION_LEVEL_CHANGE,
                INCIDENT_ACTION_IMPACT,    INCIDENT_ACTION_MILESTONE,       INCIDENT_ACTION_DEADLINE_MISSED,
                _INCIDENT_ACTION_KIND_MAX, _INCIDENT_ACTION_KIND_INVALID,
        };

        for (size_t i = 0; i < ELEMENTSOF(free_kinds); i++) {
                const IncidentAction *a;

                assert_int_equal(incident_log_action(inc, free_kinds[i], "ops:wang", "text", T0 + i), 0);
                a = last_action(inc);
                assert_int_equal(a->kind, free_kinds[i]);
                assert_string_equal(a->actor, "ops:wang");
                assert_string_equal(a->text, "text");
        }
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                assert_int_equal(incident_log_action(inc, reserved[i], "ops:wang", "forged", T0), -EINVAL);
        assert_int_equal(incident_log_action(inc, INCIDENT_ACTION_NOTE, NULL, "t", T0), -EINVAL);
        /* Only the log moved: the state is untouched by any of this. */
        assert_int_equal(incident_get_state(inc), INCIDENT_DETECTED);
        assert_int_equal(incident_get_log(inc, NULL), 1 + ELEMENTSOF(free_kinds));

        assert_int_equal(incident_set_impact(inc, "payments of 3 branches", "duty:li", T0 + MIN_), 0);
        assert_string_equal(incident_get_impact(inc), "payments of 3 branches");
        assert_int_equal(last_action(inc)->kind, INCIDENT_ACTION_IMPACT);
        assert_string_equal(last_action(inc)->actor, "duty:li");
}

/* ---------------------------------------------------------------- deadlines */

static void test_deadline_verify_missed_once(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_BLUE, &test_deadlines);
        DeadlineMiss m[4];
        const IncidentAction *log;
        size_t n;

        /* Exactly at the bound is still in time; one microsecond later is not. */
        assert_int_equal(incident_deadlines_due(inc, T0 + 20 * MIN_, m, 4), 0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 20 * MIN_ + 1, m, 4), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_VERIFY);
        assert_int_equal(m[0].level, LEVEL_BLUE);
        assert_true(m[0].due == T0 + 20 * MIN_);
        assert_int_equal(m[0].new_level, LEVEL_YELLOW);
        assert_int_equal(m[0].state_from, INCIDENT_DETECTED);
        assert_int_equal(m[0].state_to, INCIDENT_ESCALATED);
        assert_int_equal(incident_get_level(inc), LEVEL_YELLOW);
        assert_int_equal(incident_get_state(inc), INCIDENT_ESCALATED);

        /* Asked again at the same moment and a bit later: nothing new. */
        assert_int_equal(incident_deadlines_due(inc, T0 + 20 * MIN_ + 1, m, 4), 0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 21 * MIN_, m, 4), 0);
        assert_int_equal(count_kind(inc, INCIDENT_ACTION_DEADLINE_MISSED), 1);

        /* The log: missed, then the level, then the state, all by the policy. */
        n = incident_get_log(inc, &log);
        assert_int_equal(log[n - 3].kind, INCIDENT_ACTION_DEADLINE_MISSED);
        assert_string_equal(log[n - 3].actor, INCIDENT_ACTOR_POLICY);
        assert_non_null(strstr(log[n - 3].text, "verify"));
        assert_int_equal(log[n - 2].kind, INCIDENT_ACTION_LEVEL_CHANGE);
        assert_string_equal(log[n - 2].actor, INCIDENT_ACTOR_POLICY);
        assert_int_equal(log[n - 1].kind, INCIDENT_ACTION_STATE_CHANGE);
        assert_int_equal(log[n - 1].state_to, INCIDENT_ESCALATED);
        assert_string_equal(log[n - 1].actor, INCIDENT_ACTOR_POLICY);
}

static void test_deadline_verified_in_time(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_ORANGE, &test_deadlines);
        DeadlineMiss m[4];

        assert_int_equal(
                incident_transition(inc, INCIDENT_VERIFIED, "duty:li", "seen it", T0 + 9 * MIN_, NULL), 0);
        assert_int_equal(count_kind(inc, INCIDENT_ACTION_MILESTONE), 1);
        assert_int_equal(incident_deadlines_due(inc, T0 + 60 * MIN_, m, 4), 0);
        assert_int_equal(incident_get_level(inc), LEVEL_ORANGE);
        assert_int_equal(incident_get_state(inc), INCIDENT_VERIFIED);
}

static void test_deadline_cascade_to_red(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_BLUE, &test_deadlines);
        static const struct {
                usec_t at;
                WarningLevel level, new_level;
        } expect[] = {
                /* blue verify 20 min from T0, then yellow 15 from there, orange 10, red 5 */
                { T0 + 20 * MIN_ + 1, LEVEL_BLUE, LEVEL_YELLOW },
                { T0 + 35 * MIN_ + 2, LEVEL_YELLOW, LEVEL_ORANGE },
                { T0 + 45 * MIN_ + 3, LEVEL_ORANGE, LEVEL_RED },
                { T0 + 50 * MIN_ + 4, LEVEL_RED, LEVEL_RED },
        };
        DeadlineMiss m[4];

        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                /* Just before: nothing. */
                assert_int_equal(incident_deadlines_due(inc, expect[i].at - 2, m, 4), 0);
                assert_int_equal(incident_deadlines_due(inc, expect[i].at, m, 4), 1);
                assert_int_equal(m[0].kind, INCIDENT_DEADLINE_VERIFY);
                assert_int_equal(m[0].level, expect[i].level);
                assert_int_equal(m[0].new_level, expect[i].new_level);
                assert_int_equal(incident_get_level(inc), expect[i].new_level);
        }
        /* Red's first-solution bound (120 min from reaching red at +45 min+3) is the only one left. */
        assert_int_equal(incident_deadlines_due(inc, T0 + 100 * MIN_, m, 4), 0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 165 * MIN_ + 4, m, 4), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_FIRST_SOLUTION);
        assert_int_equal(incident_deadlines_due(inc, T0 + 1000 * MIN_, m, 4), 0);
        assert_int_equal(count_kind(inc, INCIDENT_ACTION_DEADLINE_MISSED), 5);
        assert_int_equal(incident_get_state(inc), INCIDENT_ESCALATED);
}

static void test_deadline_first_solution_red(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_RED, &test_deadlines);
        DeadlineMiss m[4];

        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, "duty:li", "seen", T0 + 2 * MIN_, NULL),
                         0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 120 * MIN_, m, 4), 0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 121 * MIN_, m, 4), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_FIRST_SOLUTION);
        assert_int_equal(m[0].level, LEVEL_RED);
        assert_int_equal(m[0].new_level, LEVEL_RED); /* cannot go higher */
        assert_int_equal(m[0].state_from, INCIDENT_VERIFIED);
        assert_int_equal(m[0].state_to, INCIDENT_ESCALATED);
        assert_int_equal(incident_deadlines_due(inc, T0 + 500 * MIN_, m, 4), 0);
}

static void test_deadline_met_by_mitigation(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_RED, &test_deadlines);
        DeadlineMiss m[4];

        /* A person starts the switchover at once: verifies, locates, first solution. */
        assert_int_equal(
                incident_transition(inc, INCIDENT_MITIGATING, "cmd:zhang", "switchover", T0 + MIN_, NULL),
                0);
        assert_int_equal(count_kind(inc, INCIDENT_ACTION_MILESTONE), 3);
        assert_int_equal(incident_deadlines_due(inc, T0 + 1000 * MIN_, m, 4), 0);
        assert_int_equal(incident_next_deadline(inc, &(usec_t) { 0 }), -ENOENT);
}

static void test_deadline_policy_mitigation_needs_verify(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_ORANGE, &test_deadlines);
        DeadlineMiss m[4];

        /* The policy ran the playbook by itself: nobody has verified yet. */
        assert_int_equal(incident_transition(inc, INCIDENT_MITIGATING, INCIDENT_ACTOR_POLICY,
                                             "auto switchover", T0 + 1, NULL),
                         0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 10 * MIN_ + 1, m, 4), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_VERIFY);
        assert_int_equal(m[0].new_level, LEVEL_RED);
        /* Mitigation keeps going: the state does not move. */
        assert_int_equal(m[0].state_from, INCIDENT_MITIGATING);
        assert_int_equal(m[0].state_to, INCIDENT_MITIGATING);
        assert_int_equal(incident_get_state(inc), INCIDENT_MITIGATING);
}

static void test_deadline_no_extension_on_flap(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_ORANGE, &test_deadlines);
        DeadlineMiss m[4];
        usec_t next = 0;

        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, "duty:li", "seen", T0 + MIN_, NULL), 0);
        assert_int_equal(incident_next_deadline(inc, &next), 0);
        assert_true(next == T0 + 240 * MIN_); /* orange: located within 4 h */

        /* Down to yellow and back to orange: orange's clock still started at T0. */
        assert_int_equal(incident_set_level(inc, LEVEL_YELLOW, "policy", "better", T0 + 180 * MIN_), 1);
        assert_int_equal(incident_next_deadline(inc, &next), 0);
        assert_true(next == T0 + 480 * MIN_); /* yellow's own 8 h, also from T0 */
        assert_int_equal(incident_set_level(inc, LEVEL_ORANGE, "policy", "worse", T0 + 210 * MIN_), 1);
        assert_int_equal(incident_next_deadline(inc, &next), 0);
        assert_true(next == T0 + 240 * MIN_);
        assert_int_equal(incident_deadlines_due(inc, T0 + 240 * MIN_ + 1, m, 4), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_LOCATE);
        assert_int_equal(m[0].level, LEVEL_ORANGE);
        assert_int_equal(m[0].new_level, LEVEL_RED);
}

static void test_deadline_resolved_stops(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_BLUE, &test_deadlines);
        DeadlineMiss m[4];
        usec_t next;

        assert_int_equal(incident_transition(inc, INCIDENT_RESOLVED, INCIDENT_ACTOR_POLICY,
                                             "probe green again", T0 + MIN_, NULL),
                         0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 1000 * MIN_, m, 4), 0);
        assert_int_equal(incident_next_deadline(inc, &next), -ENOENT);
        /* Reopened: the verify clock (blue, from T0) is overdue at once. */
        assert_int_equal(incident_transition(inc, INCIDENT_DETECTED, INCIDENT_ACTOR_POLICY, "failing again",
                                             T0 + 30 * MIN_, NULL),
                         0);
        assert_int_equal(incident_deadlines_due(inc, T0 + 30 * MIN_ + 1, m, 4), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_VERIFY);
}

static void test_deadline_max_and_none(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_ORANGE, &test_deadlines);
        _cleanup_(incident_freep) Incident *free_of_deadlines = open_incident(LEVEL_RED, NULL);
        DeadlineMiss m[4];
        usec_t next;

        /* Far in the future: orange verify (10 min) and locate (4 h) both overdue; one per call
         * when max is 1. The verify miss sends it to red, whose own bounds start at `now`. */
        assert_int_equal(incident_deadlines_due(inc, T0 + 300 * MIN_, m, 1), 1);
        assert_int_equal(m[0].kind, INCIDENT_DEADLINE_VERIFY);
        assert_int_equal(incident_get_level(inc), LEVEL_RED);
        assert_int_equal(incident_deadlines_due(inc, T0 + 300 * MIN_, m, 0), 0);
        /* Orange's locate is no longer the current level's: red's bounds run from +300 min. */
        assert_int_equal(incident_deadlines_due(inc, T0 + 300 * MIN_, m, 4), 0);
        assert_int_equal(incident_next_deadline(inc, &next), 0);
        assert_true(next == T0 + 305 * MIN_);

        assert_int_equal(incident_deadlines_due(free_of_deadlines, T0 + 100000 * MIN_, m, 4), 0);
        assert_int_equal(incident_next_deadline(free_of_deadlines, &next), -ENOENT);
        assert_int_equal(incident_deadlines_due(inc, T0, NULL, 1), -EINVAL);
}

static void test_milestones(void **state)
{
        _cleanup_(incident_freep) Incident *inc = open_incident(LEVEL_YELLOW, &test_deadlines);
        DeadlineMiss m[4];

        assert_int_equal(incident_transition(inc, INCIDENT_VERIFIED, "duty:li", "seen", T0 + MIN_, NULL), 0);
        assert_int_equal(incident_record_milestone(inc, INCIDENT_DEADLINE_LOCATE, "tech:chen",
                                                   "disk full on db2", T0 + 60 * MIN_),
                         0);
        assert_string_equal(last_action(inc)->actor, "tech:chen");
        assert_int_equal(last_action(inc)->kind, INCIDENT_ACTION_MILESTONE);
        assert_non_null(strstr(last_action(inc)->text, "disk full on db2"));
        assert_int_equal(incident_record_milestone(inc, INCIDENT_DEADLINE_LOCATE, "tech:chen", "again", T0),
                         -EALREADY);
        assert_int_equal(incident_record_milestone(inc, INCIDENT_DEADLINE_VERIFY, "x", "again", T0),
                         -EALREADY);
        assert_int_equal(incident_record_milestone(inc, _INCIDENT_DEADLINE_KIND_MAX, "x", "t", T0), -EINVAL);
        assert_int_equal(incident_deadlines_due(inc, T0 + 10000 * MIN_, m, 4), 0);
}

static void test_deadlines_default(void **state)
{
        IncidentDeadlines d;

        incident_deadlines_default(&d);
        assert_true(incident_deadlines_get(&d, INCIDENT_DEADLINE_VERIFY, LEVEL_BLUE) == 15 * MIN_);
        assert_true(incident_deadlines_get(&d, INCIDENT_DEADLINE_FIRST_SOLUTION, LEVEL_RED) ==
                    2 * USEC_PER_HOUR);
        assert_true(incident_deadlines_get(&d, INCIDENT_DEADLINE_LOCATE, LEVEL_ORANGE) == 4 * USEC_PER_HOUR);
        assert_true(incident_deadlines_get(&d, INCIDENT_DEADLINE_LOCATE, LEVEL_YELLOW) == 8 * USEC_PER_HOUR);
        assert_true(incident_deadlines_get(&d, INCIDENT_DEADLINE_LOCATE, LEVEL_RED) == 0);
        assert_true(incident_deadlines_get(&d, INCIDENT_DEADLINE_VERIFY, LEVEL_NONE) == 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_table_matches),
                cmocka_unit_test(test_every_allowed_transition),
                cmocka_unit_test(test_every_refused_transition),
                cmocka_unit_test(test_transition_bad_args),
                cmocka_unit_test(test_new),
                cmocka_unit_test(test_log_records_actors),
                cmocka_unit_test(test_level_history),
                cmocka_unit_test(test_log_action_kinds),
                cmocka_unit_test(test_deadline_verify_missed_once),
                cmocka_unit_test(test_deadline_verified_in_time),
                cmocka_unit_test(test_deadline_cascade_to_red),
                cmocka_unit_test(test_deadline_first_solution_red),
                cmocka_unit_test(test_deadline_met_by_mitigation),
                cmocka_unit_test(test_deadline_policy_mitigation_needs_verify),
                cmocka_unit_test(test_deadline_no_extension_on_flap),
                cmocka_unit_test(test_deadline_resolved_stops),
                cmocka_unit_test(test_deadline_max_and_none),
                cmocka_unit_test(test_milestones),
                cmocka_unit_test(test_deadlines_default),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
