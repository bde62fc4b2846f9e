/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-policy.c — policy_decide() from a table: per-level responses (notify, raise
 * frequency, propose, auto) and the anti-flap rules (active site only, cooldown,
 * never automatic failback, maintenance, manual override), on a fake clock. Each
 * row runs as its own cmocka test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "incident/policy.h"

#define T0 ((usec_t) 1700000000ULL * USEC_PER_SEC)
#define MIN_ USEC_PER_MINUTE

static const char *const roles_red[] = { "duty-office", "command-centre", "tech-support", NULL };
static const char *const roles_orange[] = { "duty-office", "vendor-contact", NULL };
static const char *const roles_yellow[] = { "duty-office", NULL };
static const char *const roles_blue[] = { "tech-support", NULL };
static const PolicyParam switch_params[] = { { "to", "backup" }, { "drain", "30s" } };

/* The configurations the rows refer to. */
typedef enum Cfg {
        CFG_STANDARD,      /* red: switchover auto; orange: switchover propose; yellow: freq; blue: notify */
        CFG_FAILBACK_AUTO, /* red: a failback playbook marked auto (validate refuses it; decide too) */
        CFG_NO_PLAYBOOK,   /* red: roles but no playbook, frequency factor 1 */
        CFG_VENDOR_AUTO,   /* orange: vendor replacement, auto */
        CFG_RESTORE_AUTO,  /* red: restore, auto */
        CFG_EMPTY,         /* nothing configured anywhere */
        _CFG_MAX,
} Cfg;

static PolicyConfig configs[_CFG_MAX];

static void setup_configs(void)
{
        PolicyConfig *c = &configs[CFG_STANDARD];

        c->cooldown = 30 * MIN_;
        c->levels[LEVEL_RED] = (PolicyLevel) {
                .notify = roles_red, .raise_frequency = 4, .playbook = "switchover",
                .playbook_kind = PLAYBOOK_SWITCHOVER, .params = switch_params,
                .n_params = ELEMENTSOF(switch_params), .auto_run = true,
        };
        c->levels[LEVEL_ORANGE] = (PolicyLevel) {
                .notify = roles_orange, .playbook = "switchover", .playbook_kind = PLAYBOOK_SWITCHOVER,
                .auto_run = false,
        };
        c->levels[LEVEL_YELLOW] = (PolicyLevel) { .notify = roles_yellow, .raise_frequency = 2 };
        c->levels[LEVEL_BLUE] = (PolicyLevel) { .notify = roles_blue };

        configs[CFG_FAILBACK_AUTO] = configs[CFG_STANDARD];
        configs[CFG_FAILBACK_AUTO].levels[LEVEL_RED].playbook = "failback";
        configs[CFG_FAILBACK_AUTO].levels[LEVEL_RED].playbook_kind = PLAYBOOK_FAILBACK;

        configs[CFG_NO_PLAYBOOK] = configs[CFG_STANDARD];
        /* A factor of 1 means "leave the frequency as it is": no action for it. */
        configs[CFG_NO_PLAYBOOK].levels[LEVEL_RED] = (PolicyLevel) {
                .notify = roles_red, .raise_frequency = 1,
        };

        configs[CFG_VENDOR_AUTO] = configs[CFG_STANDARD];
        configs[CFG_VENDOR_AUTO].levels[LEVEL_ORANGE] = (PolicyLevel) {
                .notify = roles_orange, .playbook = "vendor-replace",
                .playbook_kind = PLAYBOOK_VENDOR_REPLACEMENT, .auto_run = true,
        };

        configs[CFG_RESTORE_AUTO] = configs[CFG_STANDARD];
        configs[CFG_RESTORE_AUTO].levels[LEVEL_RED].playbook = "restore";
        configs[CFG_RESTORE_AUTO].levels[LEVEL_RED].playbook_kind = PLAYBOOK_RESTORE;

        configs[CFG_EMPTY] = (PolicyConfig) {};
}

static const char *const maint_primary[] = { "primary", NULL };
static const char *const maint_backup[] = { "backup", NULL };

typedef struct Case {
        const char *name;
        Cfg cfg;
        /* input */
        const char *subject, *site;
        WarningLevel from, to;
        /* state */
        const char *active;              /* "-" = unknown (NULL) */
        const char *const *maintenance;
        bool override;
        const char *const *override_sites;
        usec_t last_auto;                /* 0 = never */
        usec_t now;
        /* expected */
        DecisionKind kinds[DECISION_ACTIONS_MAX]; /* in order; DECISION_NONE ends */
        const char *playbook;            /* of the PROPOSE/AUTO action */
        const char *reason;              /* substring of the playbook action's reason, or of d.reason */
        bool silenced, held_back;
        bool deadline_missed;
} Case;

#define N DECISION_NONE
#define NOTIFY DECISION_NOTIFY
#define FREQ DECISION_RAISE_FREQUENCY
#define PROPOSE DECISION_PROPOSE
#define AUTO DECISION_AUTO

static const Case cases[] = {
        { "level 4: notify only", CFG_STANDARD, "web", "primary", LEVEL_NONE, LEVEL_BLUE, "primary",
          .now = T0, .kinds = { NOTIFY } },
        { "level 3: notify and raise frequency", CFG_STANDARD, "web", "primary", LEVEL_BLUE, LEVEL_YELLOW,
          "primary", .now = T0, .kinds = { NOTIFY, FREQ }, .reason = "escalated from blue to yellow" },
        { "level 2 auto=false: propose", CFG_STANDARD, "web", "primary", LEVEL_YELLOW, LEVEL_ORANGE,
          "primary", .now = T0, .kinds = { NOTIFY, PROPOSE }, .playbook = "switchover",
          .reason = "approval required" },
        { "level 1 auto=true on the active site: AUTO", CFG_STANDARD, "primary", "primary", LEVEL_NONE,
          LEVEL_RED, "primary", .now = T0, .kinds = { NOTIFY, FREQ, AUTO }, .playbook = "switchover",
          .reason = "automatic" },
        { "level 1 on the backup (not active) site: no switchover", CFG_STANDARD, "backup", "backup",
          LEVEL_ORANGE, LEVEL_RED, "primary", .now = T0, .kinds = { NOTIFY, FREQ },
          .reason = "not the active site", .held_back = true },
        { "level 1 after failover, old primary fails: no switchover", CFG_STANDARD, "db", "primary",
          LEVEL_NONE, LEVEL_RED, "backup", .now = T0, .kinds = { NOTIFY, FREQ },
          .reason = "primary is not the active site (backup is)", .held_back = true },
        { "level 1 with the active site unknown: propose", CFG_STANDARD, "primary", "primary", LEVEL_NONE,
          LEVEL_RED, "-", .now = T0, .kinds = { NOTIFY, FREQ, PROPOSE }, .playbook = "switchover",
          .reason = "active site unknown", .held_back = true },
        { "level 1 within cooldown: propose", CFG_STANDARD, "primary", "primary", LEVEL_NONE, LEVEL_RED,
          "primary", .last_auto = T0, .now = T0 + 10 * MIN_, .kinds = { NOTIFY, FREQ, PROPOSE },
          .playbook = "switchover", .reason = "cooldown: last automatic switchover 10m", .held_back = true },
        { "level 1 one microsecond before the cooldown ends: propose", CFG_STANDARD, "primary", "primary",
          LEVEL_NONE, LEVEL_RED, "primary", .last_auto = T0, .now = T0 + 30 * MIN_ - 1,
          .kinds = { NOTIFY, FREQ, PROPOSE }, .reason = "cooldown", .held_back = true },
        { "level 1 when the cooldown has ended: AUTO", CFG_STANDARD, "primary", "primary", LEVEL_NONE,
          LEVEL_RED, "primary", .last_auto = T0, .now = T0 + 30 * MIN_, .kinds = { NOTIFY, FREQ, AUTO },
          .playbook = "switchover" },
        { "level 1, clock behind the last switchover: propose", CFG_STANDARD, "primary", "primary",
          LEVEL_NONE, LEVEL_RED, "primary", .last_auto = T0 + 5 * MIN_, .now = T0,
          .kinds = { NOTIFY, FREQ, PROPOSE }, .reason = "cooldown", .held_back = true },
        { "failback is never AUTO", CFG_FAILBACK_AUTO, "backup", "backup", LEVEL_NONE, LEVEL_RED, "backup",
          .now = T0, .kinds = { NOTIFY, FREQ, PROPOSE }, .playbook = "failback",
          .reason = "never automatic failback", .held_back = true },
        { "failback never AUTO, even with override off and no cooldown", CFG_FAILBACK_AUTO, "web", "primary",
          LEVEL_ORANGE, LEVEL_RED, "-", .now = T0 + 1000 * MIN_, .kinds = { NOTIFY, FREQ, PROPOSE },
          .playbook = "failback", .reason = "never automatic failback", .held_back = true },
        { "maintenance silences the site", CFG_STANDARD, "primary", "primary", LEVEL_NONE, LEVEL_RED,
          "primary", .maintenance = maint_primary, .now = T0, .kinds = { N },
          .reason = "silenced by maintenance of site primary", .silenced = true },
        { "maintenance silences a de-escalation too", CFG_STANDARD, "web", "primary", LEVEL_RED, LEVEL_BLUE,
          "primary", .maintenance = maint_primary, .now = T0, .kinds = { N }, .reason = "silenced",
          .silenced = true },
        { "maintenance of another site changes nothing", CFG_STANDARD, "primary", "primary", LEVEL_NONE,
          LEVEL_RED, "primary", .maintenance = maint_backup, .now = T0, .kinds = { NOTIFY, FREQ, AUTO },
          .playbook = "switchover" },
        { "manual override: propose instead of AUTO", CFG_STANDARD, "primary", "primary", LEVEL_NONE,
          LEVEL_RED, "primary", .override = true, .now = T0, .kinds = { NOTIFY, FREQ, PROPOSE },
          .playbook = "switchover", .reason = "manual override", .held_back = true },
        { "manual override of the site: propose", CFG_STANDARD, "primary", "primary", LEVEL_NONE, LEVEL_RED,
          "primary", .override_sites = maint_primary, .now = T0, .kinds = { NOTIFY, FREQ, PROPOSE },
          .reason = "manual override", .held_back = true },
        { "manual override of another site: AUTO", CFG_STANDARD, "primary", "primary", LEVEL_NONE, LEVEL_RED,
          "primary", .override_sites = maint_backup, .now = T0, .kinds = { NOTIFY, FREQ, AUTO } },
        { "manual override keeps notifications", CFG_STANDARD, "web", "primary", LEVEL_NONE, LEVEL_BLUE,
          "primary", .override = true, .now = T0, .kinds = { NOTIFY } },
        { "no playbook configured for the level: notify only", CFG_NO_PLAYBOOK, "primary", "primary",
          LEVEL_NONE, LEVEL_RED, "primary", .now = T0, .kinds = { NOTIFY } },
        { "nothing configured: none", CFG_EMPTY, "primary", "primary", LEVEL_NONE, LEVEL_RED, "primary",
          .now = T0, .kinds = { N }, .reason = "no action" },
        { "de-escalation notifies the roles of the level left", CFG_STANDARD, "primary", "primary",
          LEVEL_RED, LEVEL_YELLOW, "primary", .now = T0, .kinds = { NOTIFY },
          .reason = "de-escalated from red to yellow" },
        { "recovery notifies, never fails back", CFG_STANDARD, "primary", "primary", LEVEL_RED, LEVEL_NONE,
          "backup", .now = T0, .kinds = { NOTIFY }, .reason = "recovered from red to none" },
        { "no level change: none", CFG_STANDARD, "primary", "primary", LEVEL_RED, LEVEL_RED, "primary",
          .now = T0, .kinds = { N }, .reason = "stays at red" },
        { "deadline missed at red: notify red's roles again, no playbook", CFG_STANDARD, "primary",
          "primary", LEVEL_RED, LEVEL_RED, "primary", .now = T0, .kinds = { NOTIFY },
          .reason = "deadline missed", .deadline_missed = true },
        { "blue straight to red uses red's response", CFG_STANDARD, "primary", "primary", LEVEL_BLUE,
          LEVEL_RED, "primary", .now = T0, .kinds = { NOTIFY, FREQ, AUTO }, .playbook = "switchover" },
        { "vendor replacement AUTO does not need the active site", CFG_VENDOR_AUTO, "paygate", "vendor-a",
          LEVEL_YELLOW, LEVEL_ORANGE, "primary", .now = T0, .kinds = { NOTIFY, AUTO },
          .playbook = "vendor-replace" },
        { "vendor replacement is not subject to the switchover cooldown", CFG_VENDOR_AUTO, "paygate",
          "vendor-a", LEVEL_YELLOW, LEVEL_ORANGE, "primary", .last_auto = T0, .now = T0 + MIN_,
          .kinds = { NOTIFY, AUTO }, .playbook = "vendor-replace" },
        { "restore AUTO on red", CFG_RESTORE_AUTO, "core-db", "primary", LEVEL_NONE, LEVEL_RED, "backup",
          .now = T0, .kinds = { NOTIFY, FREQ, AUTO }, .playbook = "restore" },
        { "restore with manual override: propose", CFG_RESTORE_AUTO, "core-db", "primary", LEVEL_NONE,
          LEVEL_RED, "primary", .override = true, .now = T0, .kinds = { NOTIFY, FREQ, PROPOSE },
          .playbook = "restore", .reason = "manual override", .held_back = true },
};

static void run_case(void **state)
{
        const Case *c = *state;
        const PolicyConfig *cfg = &configs[c->cfg];
        PolicyState ps = {
                .active_site = c->active && streq(c->active, "-") ? NULL : c->active,
                .maintenance_sites = c->maintenance,
                .manual_override = c->override,
                .override_sites = c->override_sites,
                .last_auto_switchover = c->last_auto,
        };
        PolicyInput in = { .subject = c->subject, .site = c->site, .from = c->from, .to = c->to,
                           .deadline_missed = c->deadline_missed };
        Decision d;
        size_t n_expected = 0;
        const DecisionAction *pb = NULL;

        memset(&d, 0xaa, sizeof(d)); /* every field must be written */
        assert_int_equal(policy_decide(cfg, &ps, &in, c->now, &d), 0);

        while (n_expected < DECISION_ACTIONS_MAX && c->kinds[n_expected] != DECISION_NONE)
                n_expected++;
        if (d.n_actions != n_expected)
                fail_msg("%s: %zu actions, expected %zu (reason: %s)", c->name, d.n_actions, n_expected,
                         d.reason);
        for (size_t i = 0; i < n_expected; i++) {
                assert_string_equal(decision_kind_to_string(d.actions[i].kind),
                                    decision_kind_to_string(c->kinds[i]));
                if (d.actions[i].kind == DECISION_PROPOSE || d.actions[i].kind == DECISION_AUTO)
                        pb = &d.actions[i];
                if (d.actions[i].kind == DECISION_NOTIFY) {
                        /* The roles of the level escalated to, or of the level left. */
                        WarningLevel l = d.escalation || c->from == c->to ? c->to : c->from;
                        assert_ptr_equal(d.actions[i].roles, cfg->levels[l].notify);
                }
                if (d.actions[i].kind == DECISION_RAISE_FREQUENCY)
                        assert_true(d.actions[i].frequency_factor == cfg->levels[c->to].raise_frequency);
        }
        if (c->playbook) {
                assert_non_null(pb);
                assert_string_equal(pb->playbook, c->playbook);
                assert_ptr_equal(pb->params, cfg->levels[c->to].params);
                assert_int_equal(pb->n_params, cfg->levels[c->to].n_params);
        }
        if (c->reason) {
                const char *where = pb ? pb->reason : d.reason;
                if (!strstr(where, c->reason) && !strstr(d.reason, c->reason))
                        fail_msg("%s: reason \"%s\" does not contain \"%s\"", c->name, where, c->reason);
        }
        assert_int_equal(d.silenced, c->silenced);
        assert_int_equal(d.held_back, c->held_back);
        assert_int_equal(d.level, c->to);
        /* The journal line is always set. */
        assert_true(strnlen(d.reason, sizeof(d.reason)) > 0);
        assert_true(strnlen(d.reason, sizeof(d.reason)) < sizeof(d.reason));
        /* AUTO never for failback, whatever the row. */
        for (size_t i = 0; i < d.n_actions; i++)
                if (d.actions[i].kind == DECISION_AUTO)
                        assert_int_not_equal(d.actions[i].playbook_kind, PLAYBOOK_FAILBACK);
}

static void test_bad_args(void **state)
{
        PolicyState ps = { .active_site = "primary" };
        PolicyInput in = { .subject = "x", .site = "primary", .from = LEVEL_NONE, .to = LEVEL_RED };
        PolicyInput bad;
        Decision d = { .n_actions = 77 };

        assert_int_equal(policy_decide(NULL, &ps, &in, T0, &d), -EINVAL);
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], NULL, &in, T0, &d), -EINVAL);
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, NULL, T0, &d), -EINVAL);
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &in, T0, NULL), -EINVAL);
        bad = in;
        bad.site = NULL;
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &bad, T0, &d), -EINVAL);
        bad = in;
        bad.subject = NULL;
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &bad, T0, &d), -EINVAL);
        bad = in;
        bad.to = _WARNING_LEVEL_MAX;
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &bad, T0, &d), -EINVAL);
        bad = in;
        bad.from = -1;
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &bad, T0, &d), -EINVAL);
        assert_int_equal(d.n_actions, 77); /* untouched */
}

/* An AUTO switchover starts the cooldown: the next red within it is only proposed. */
static void test_cooldown_sequence(void **state)
{
        PolicyState ps = { .active_site = "primary" };
        PolicyInput in = { .subject = "primary", .site = "primary", .from = LEVEL_NONE, .to = LEVEL_RED,
                           .reason = "quorum 2/2 down for 30s" };
        Decision d;

        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &in, T0, &d), 0);
        assert_non_null(decision_find(&d, DECISION_AUTO));
        assert_non_null(strstr(d.reason, "quorum 2/2 down for 30s"));
        policy_state_note_started(&ps, &d, T0 + 1);
        assert_true(ps.last_auto_switchover == T0 + 1);

        /* The backup is now active and fails too, 5 minutes later. */
        ps.active_site = "backup";
        in.subject = in.site = "backup";
        assert_int_equal(policy_decide(&configs[CFG_STANDARD], &ps, &in, T0 + 5 * MIN_, &d), 0);
        assert_null(decision_find(&d, DECISION_AUTO));
        assert_non_null(decision_find(&d, DECISION_PROPOSE));
        assert_non_null(strstr(decision_find(&d, DECISION_PROPOSE)->reason, "cooldown"));
        assert_non_null(strstr(d.reason, "cooldown"));
        /* A proposal does not restart the cooldown. */
        policy_state_note_started(&ps, &d, T0 + 6 * MIN_);
        assert_true(ps.last_auto_switchover == T0 + 1);
        assert_null(decision_find(&d, DECISION_NONE));
}

static void test_config_validate(void **state)
{
        PolicyConfig c = configs[CFG_STANDARD];
        char err[256] = "";

        assert_int_equal(policy_config_validate(&configs[CFG_STANDARD], err, sizeof(err)), 0);
        assert_int_equal(policy_config_validate(&configs[CFG_EMPTY], err, sizeof(err)), 0);
        assert_int_equal(policy_config_validate(&configs[CFG_FAILBACK_AUTO], err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "level red"));
        assert_non_null(strstr(err, "failback"));

        c.levels[LEVEL_BLUE].auto_run = true;
        assert_int_equal(policy_config_validate(&c, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "level blue: auto: true needs a playbook"));
        c = configs[CFG_STANDARD];
        c.levels[LEVEL_YELLOW].raise_frequency = -1;
        assert_int_equal(policy_config_validate(&c, NULL, 0), -EINVAL);
        c = configs[CFG_STANDARD];
        c.levels[LEVEL_YELLOW].params = switch_params;
        c.levels[LEVEL_YELLOW].n_params = 1;
        assert_int_equal(policy_config_validate(&c, err, sizeof(err)), -EINVAL);
        assert_int_equal(policy_config_validate(NULL, err, sizeof(err)), -EINVAL);
}

static void test_kind_strings(void **state)
{
        for (DecisionKind k = 0; k < _DECISION_KIND_MAX; k++)
                assert_int_equal(decision_kind_from_string(decision_kind_to_string(k)), k);
        assert_string_equal(decision_kind_to_string(DECISION_RAISE_FREQUENCY), "raise-frequency");
        assert_int_equal(decision_kind_from_string("maybe"), -EINVAL);
        assert_null(decision_kind_to_string(_DECISION_KIND_MAX));
}

int main(void)
{
        struct CMUnitTest tests[ELEMENTSOF(cases) + 4];
        size_t n = 0;

        setup_configs();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[n++] = (struct CMUnitTest) {
                        .name = cases[i].name,
                        .test_func = run_case,
                        .initial_state = (void *) &cases[i],
                };
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_bad_args);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_cooldown_sequence);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_config_validate);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_kind_strings);

        return _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
}
