/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.c — level change → Decision (pure; see policy.h for the rules). Owns
 * the anti-flap rules. No I/O, no clock: `now` is an argument. Called by the
 * daemon and by tests.
 */
#include <stdio.h>
#include <string.h>

#include "incident/policy.h"
#include "shared/string-table.h"
#include "shared/strv.h"

static const char *const decision_kind_table[_DECISION_KIND_MAX] = {
        [DECISION_NONE] = "none",
        [DECISION_NOTIFY] = "notify",
        [DECISION_RAISE_FREQUENCY] = "raise-frequency",
        [DECISION_PROPOSE] = "propose",
        [DECISION_AUTO] = "auto",
};

DEFINE_STRING_TABLE(decision_kind, DecisionKind, decision_kind_table)

static bool level_valid(WarningLevel l)
{
        return l >= LEVEL_NONE && l < _WARNING_LEVEL_MAX;
}

/* Append s to buf (which holds a NUL-terminated string), truncating at size. */
static void reason_append(char *buf, size_t size, const char *s)
{
        size_t len = strnlen(buf, size);

        if (len + 1 >= size)
                return;
        snprintf(buf + len, size - len, "%s", s);
}

static DecisionAction *action_add(Decision *d, DecisionKind kind)
{
        DecisionAction *a;

        /* At most notify + raise + one playbook action: the array is sized for it. */
        if (d->n_actions >= DECISION_ACTIONS_MAX)
                return NULL;
        a = &d->actions[d->n_actions++];
        *a = (DecisionAction) { .kind = kind, .playbook_kind = _PLAYBOOK_KIND_INVALID };
        return a;
}

static void add_notify(Decision *d, const char *const *roles, const char *why)
{
        DecisionAction *a;

        if (strv_isempty((char *const *) roles))
                return;
        a = action_add(d, DECISION_NOTIFY);
        if (!a)
                return;
        a->roles = roles;
        snprintf(a->reason, sizeof(a->reason), "%s", why);
}

static void add_playbook(Decision *d, DecisionKind kind, const PolicyLevel *pl, const char *why)
{
        DecisionAction *a = action_add(d, kind);

        if (!a)
                return;
        a->playbook = pl->playbook;
        a->playbook_kind = pl->playbook_kind;
        a->params = pl->params;
        a->n_params = pl->n_params;
        snprintf(a->reason, sizeof(a->reason), "%s", why);
}

/* Write the journal line: the headline and what the actions are. */
static void summarise(Decision *d, const char *headline)
{
        snprintf(d->reason, sizeof(d->reason), "%s", headline);
        if (d->n_actions == 0) {
                reason_append(d->reason, sizeof(d->reason), ": no action");
                return;
        }
        for (size_t i = 0; i < d->n_actions; i++) {
                const DecisionAction *a = &d->actions[i];

                reason_append(d->reason, sizeof(d->reason), i == 0 ? ": " : "; ");
                reason_append(d->reason, sizeof(d->reason), decision_kind_to_string(a->kind));
                if (a->playbook) {
                        reason_append(d->reason, sizeof(d->reason), " ");
                        reason_append(d->reason, sizeof(d->reason), a->playbook);
                }
                if (a->kind == DECISION_PROPOSE || a->kind == DECISION_AUTO) {
                        reason_append(d->reason, sizeof(d->reason), " (");
                        reason_append(d->reason, sizeof(d->reason), a->reason);
                        reason_append(d->reason, sizeof(d->reason), ")");
                }
        }
}

static bool in_cooldown(const PolicyConfig *cfg, const PolicyState *state, usec_t now)
{
        if (state->last_auto_switchover == 0 || cfg->cooldown == 0)
                return false;
        /* A clock that went backwards counts as inside the cooldown: the safe side. */
        if (now < state->last_auto_switchover)
                return true;
        return now - state->last_auto_switchover < cfg->cooldown;
}

int policy_decide(const PolicyConfig *cfg, const PolicyState *state, const PolicyInput *input, usec_t now,
                  Decision *ret)
{
        Decision d = {};
        const PolicyLevel *pl;
        char headline[POLICY_REASON_MAX], why[POLICY_REASON_MAX];
        const char *suffix;

        if (!cfg || !state || !input || !ret)
                return -EINVAL;
        if (!input->subject || !input->site || !level_valid(input->from) || !level_valid(input->to))
                return -EINVAL;

        d.level = input->to;
        d.escalation = warning_level_more_severe(input->to, input->from);
        suffix = input->reason ? input->reason : "";

        /* 1. Maintenance silences the site entirely; the decision still says so. */
        if (strv_contains((char *const *) state->maintenance_sites, input->site)) {
                d.silenced = true;
                snprintf(d.reason, sizeof(d.reason), "silenced by maintenance of site %s (%s %s -> %s)",
                         input->site, input->subject, warning_level_to_string(input->from),
                         warning_level_to_string(input->to));
                *ret = d;
                return 0;
        }

        /* 2. No change, de-escalation, recovery: tell whoever was alerted, never act. */
        if (input->from == input->to) {
                if (input->deadline_missed && input->to != LEVEL_NONE) {
                        /* Already red: no higher level to wake, so wake red's roles again. */
                        snprintf(headline, sizeof(headline), "%s on %s stays at %s: deadline missed%s%s",
                                 input->subject, input->site, warning_level_to_string(input->to),
                                 suffix[0] ? ": " : "", suffix);
                        add_notify(&d, cfg->levels[input->to].notify, headline);
                        summarise(&d, headline);
                } else
                        snprintf(d.reason, sizeof(d.reason), "%s stays at %s: no action", input->subject,
                                 warning_level_to_string(input->to));
                *ret = d;
                return 0;
        }
        if (!d.escalation) {
                snprintf(headline, sizeof(headline), "%s %s from %s to %s", input->subject,
                         input->to == LEVEL_NONE ? "recovered" : "de-escalated",
                         warning_level_to_string(input->from), warning_level_to_string(input->to));
                if (input->from != LEVEL_NONE)
                        add_notify(&d, cfg->levels[input->from].notify, headline);
                summarise(&d, headline);
                *ret = d;
                return 0;
        }

        /* 3. Escalation to L. */
        pl = &cfg->levels[input->to];
        snprintf(headline, sizeof(headline), "%s on %s escalated from %s to %s%s%s", input->subject,
                 input->site, warning_level_to_string(input->from), warning_level_to_string(input->to),
                 suffix[0] ? ": " : "", suffix);
        add_notify(&d, pl->notify, headline);
        if (pl->raise_frequency > 1.0) {
                DecisionAction *a = action_add(&d, DECISION_RAISE_FREQUENCY);
                if (a) {
                        a->frequency_factor = pl->raise_frequency;
                        snprintf(a->reason, sizeof(a->reason), "level %s: probe frequency x%g",
                                 warning_level_to_string(input->to), pl->raise_frequency);
                }
        }

        if (!pl->playbook) {
                summarise(&d, headline);
                *ret = d;
                return 0;
        }

        if (pl->playbook_kind == PLAYBOOK_SWITCHOVER) {
                if (!state->active_site) {
                        /* Without knowing which site serves, switching is a human call. */
                        if (pl->auto_run)
                                d.held_back = true;
                        add_playbook(&d, DECISION_PROPOSE, pl, "active site unknown");
                        summarise(&d, headline);
                        *ret = d;
                        return 0;
                }
                if (!streq(state->active_site, input->site)) {
                        /* Switching away from a site that is not serving would move traffic
                         * off the healthy one: no switchover at all. */
                        d.held_back = true;
                        snprintf(why, sizeof(why), "; no switchover: %s is not the active site (%s is)",
                                 input->site, state->active_site);
                        summarise(&d, headline);
                        reason_append(d.reason, sizeof(d.reason), why);
                        *ret = d;
                        return 0;
                }
        }

        if (!pl->auto_run)
                add_playbook(&d, DECISION_PROPOSE, pl, "approval required at this level");
        else if (pl->playbook_kind == PLAYBOOK_FAILBACK) {
                /* Going back is never urgent and is where flapping hurts most. */
                d.held_back = true;
                add_playbook(&d, DECISION_PROPOSE, pl, "never automatic failback");
        } else if (state->manual_override || strv_contains((char *const *) state->override_sites, input->site)) {
                d.held_back = true;
                add_playbook(&d, DECISION_PROPOSE, pl, "manual override: no automatic actions");
        } else if (pl->playbook_kind == PLAYBOOK_SWITCHOVER && in_cooldown(cfg, state, now)) {
                char ago[FORMAT_DURATION_MAX], cd[FORMAT_DURATION_MAX];

                d.held_back = true;
                snprintf(why, sizeof(why), "cooldown: last automatic switchover %s ago (cooldown %s)",
                         now >= state->last_auto_switchover
                                 ? format_duration(ago, now - state->last_auto_switchover)
                                 : "in the future",
                         format_duration(cd, cfg->cooldown));
                add_playbook(&d, DECISION_PROPOSE, pl, why);
        } else
                add_playbook(&d, DECISION_AUTO, pl, "automatic at this level");

        summarise(&d, headline);
        *ret = d;
        return 0;
}

const DecisionAction *decision_find(const Decision *d, DecisionKind kind)
{
        if (!d || kind == DECISION_NONE)
                return NULL;
        for (size_t i = 0; i < d->n_actions && i < DECISION_ACTIONS_MAX; i++)
                if (d->actions[i].kind == kind)
                        return &d->actions[i];
        return NULL;
}

void policy_state_note_started(PolicyState *state, const Decision *d, usec_t now)
{
        const DecisionAction *a;

        if (!state || !d)
                return;
        a = decision_find(d, DECISION_AUTO);
        if (a && a->playbook_kind == PLAYBOOK_SWITCHOVER)
                state->last_auto_switchover = now;
}

int policy_config_validate(const PolicyConfig *cfg, char *err, size_t err_size)
{
        if (!cfg)
                return -EINVAL;
        for (WarningLevel l = LEVEL_RED; l <= LEVEL_BLUE; l++) {
                const PolicyLevel *pl = &cfg->levels[l];
                const char *msg = NULL;

                if (pl->raise_frequency < 0)
                        msg = "raise_frequency must not be negative";
                else if (!pl->playbook && pl->auto_run)
                        msg = "auto: true needs a playbook";
                else if (!pl->playbook && pl->n_params > 0)
                        msg = "params need a playbook";
                else if (pl->playbook && pl->auto_run && pl->playbook_kind == PLAYBOOK_FAILBACK)
                        msg = "auto: true is not allowed for a failback playbook (never automatic failback)";
                if (msg) {
                        if (err && err_size > 0)
                                snprintf(err, err_size, "level %s: %s", warning_level_to_string(l), msg);
                        return -EINVAL;
                }
        }
        return 0;
}
