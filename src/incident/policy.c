/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.c — level change → Decision, and every event of the daemon's watch →
 * PolicyStep (pure; see policy.h for the rules). Owns the anti-flap rules and the
 * daemon-level rules (interrupted runs, active runs, stopping, maintenance, settling,
 * resolving, the frequency reset, the cluster role). No I/O, no clock: `now` and
 * `now_mono` are arguments. Called by src/daemon/watch*.c and by tests.
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

/* The policy's site lists are const all the way down; strv_contains() only reads. */
static bool sites_contain(const char *const *l, const char *s)
{
        return strv_contains((char *const *) l, s);
}

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

/* policy_decide(), also handing back the headline (for a later summarise()). */
static int decide(const PolicyConfig *cfg, const PolicyState *state, const PolicyInput *input, usec_t now,
                  Decision *ret, char headline[static POLICY_REASON_MAX])
{
        Decision d = {};
        const PolicyLevel *pl;
        char why[POLICY_REASON_MAX];
        const char *suffix;

        if (!cfg || !state || !input || !ret)
                return -EINVAL;
        if (!input->subject || !input->site || !level_valid(input->from) || !level_valid(input->to))
                return -EINVAL;

        d.level = input->to;
        d.escalation = warning_level_more_severe(input->to, input->from);
        suffix = input->reason ? input->reason : "";
        headline[0] = 0;

        /* 1. Maintenance silences the site entirely; the decision still says so. */
        if (sites_contain(state->maintenance_sites, input->site)) {
                d.silenced = true;
                snprintf(headline, POLICY_REASON_MAX, "silenced by maintenance of site %s (%s %s -> %s)",
                         input->site, input->subject, warning_level_to_string(input->from),
                         warning_level_to_string(input->to));
                snprintf(d.reason, sizeof(d.reason), "%s", headline);
                *ret = d;
                return 0;
        }

        /* 2. No change, de-escalation, recovery: tell whoever was alerted, never act. */
        if (input->from == input->to) {
                if (input->deadline_missed && input->to != LEVEL_NONE) {
                        /* Already red: no higher level to wake, so wake red's roles again. */
                        snprintf(headline, POLICY_REASON_MAX, "%s on %s stays at %s: deadline missed%s%s",
                                 input->subject, input->site, warning_level_to_string(input->to),
                                 suffix[0] ? ": " : "", suffix);
                        add_notify(&d, cfg->levels[input->to].notify, headline);
                        summarise(&d, headline);
                } else {
                        snprintf(headline, POLICY_REASON_MAX, "%s stays at %s", input->subject,
                                 warning_level_to_string(input->to));
                        summarise(&d, headline);
                }
                *ret = d;
                return 0;
        }
        if (!d.escalation) {
                snprintf(headline, POLICY_REASON_MAX, "%s %s from %s to %s", input->subject,
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
        snprintf(headline, POLICY_REASON_MAX, "%s on %s escalated from %s to %s%s%s", input->subject,
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
        } else if (state->manual_override || sites_contain(state->override_sites, input->site)) {
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

int policy_decide(const PolicyConfig *cfg, const PolicyState *state, const PolicyInput *input, usec_t now,
                  Decision *ret)
{
        char headline[POLICY_REASON_MAX];

        return decide(cfg, state, input, now, ret, headline);
}

static void action_remove(Decision *d, size_t i)
{
        memmove(&d->actions[i], &d->actions[i + 1], (d->n_actions - i - 1) * sizeof(DecisionAction));
        d->n_actions--;
}

/* The rules that depend on the daemon rather than on the level: what becomes of an AUTO
 * (an interrupted run, a run active, stopping), of a playbook without an incident, and
 * the cluster role. When the actions change, the reason is written again. */
static void filter_actions(const PolicyState *state, const PolicyEvent *ev, bool has_incident, PolicyStep *s,
                           const char *headline)
{
        Decision *d = &s->decision;
        bool changed = false;
        char tail[POLICY_REASON_MAX] = "";

        for (size_t i = 0; i < d->n_actions;) {
                DecisionAction *a = &d->actions[i];
                bool playbook = a->kind == DECISION_PROPOSE || a->kind == DECISION_AUTO;

                if (playbook && !has_incident) {
                        /* Proposals and runs belong to an incident: none, nothing to do. */
                        action_remove(d, i);
                        continue;
                }
                if (a->kind == DECISION_AUTO) {
                        if (ev->incident.hold_auto) {
                                /* The journal line stays what the level decided; the
                                 * proposal says why it is not automatic. */
                                a->kind = DECISION_PROPOSE;
                                snprintf(a->reason, sizeof(a->reason), "%s",
                                         "a run of this incident was interrupted when droverd died: a "
                                         "commander decides");
                        } else if (ev->incident.run_active) {
                                snprintf(s->note, sizeof(s->note), "%s",
                                         "a run for this incident is already active: nothing started");
                                action_remove(d, i);
                                continue;
                        } else if (state->stopping) {
                                snprintf(s->note, sizeof(s->note), "%s",
                                         "droverd is stopping: the automatic run is not started");
                                action_remove(d, i);
                                continue;
                        } else if (state->cluster_role == CLUSTER_ROLE_NO_QUORUM) {
                                a->kind = DECISION_PROPOSE;
                                snprintf(a->reason, sizeof(a->reason), "%s",
                                         "no cluster quorum: nothing automatic");
                                d->held_back = true;
                                changed = true;
                        }
                }
                if (state->cluster_role == CLUSTER_ROLE_FOLLOWER &&
                    (a->kind == DECISION_NOTIFY || playbook)) {
                        action_remove(d, i);
                        changed = true;
                        continue;
                }
                i++;
        }
        if (state->cluster_role == CLUSTER_ROLE_FOLLOWER) {
                snprintf(tail, sizeof(tail), "; follower: node %s leads, no action here",
                         state->leader ? state->leader : "(unknown)");
                changed = true;
        }
        if (!changed)
                return;
        if (headline[0])
                summarise(d, headline);
        reason_append(d->reason, sizeof(d->reason), tail);
}

static const char *site_after_run(const PolicyState *state, const PolicyEvent *ev)
{
        const char *active = state->active_site;
        PolicySiteRole want = POLICY_SITE_BACKUP;

        if (ev->playbook_kind == PLAYBOOK_FAILBACK)
                want = POLICY_SITE_PRIMARY;
        else
                for (size_t i = 0; active && i < ev->n_sites; i++)
                        if (ev->sites[i].name && streq(ev->sites[i].name, active) &&
                            ev->sites[i].role == POLICY_SITE_BACKUP)
                                want = POLICY_SITE_PRIMARY;
        for (size_t i = 0; i < ev->n_sites; i++)
                if (ev->sites[i].role == want && ev->sites[i].name &&
                    !(active && streq(ev->sites[i].name, active)))
                        return ev->sites[i].name;
        return NULL;
}

static int step_level(const PolicyConfig *cfg, const PolicyState *state, const PolicyEvent *ev, usec_t now,
                      PolicyStep *s)
{
        const PolicyIncident *inc = &ev->incident;
        char headline[POLICY_REASON_MAX];
        WarningLevel from;
        bool has_incident;
        int r;

        if (ev->kind == POLICY_EVENT_LEVEL_CHANGE) {
                /* (e) A fresh detector and evaluator after a restart or reload have not seen
                 * enough checks: a lower level is not news until the window ends. */
                if (inc->open && inc->settle_until > 0 && ev->now_mono < inc->settle_until &&
                    warning_level_more_severe(inc->level, ev->to)) {
                        s->hold = true;
                        snprintf(s->reason, sizeof(s->reason),
                                 "%s still settling after a restart or reload; %s -> %s not applied yet",
                                 ev->site, warning_level_to_string(ev->from),
                                 warning_level_to_string(ev->to));
                        s->decision.level = ev->to;
                        snprintf(s->decision.reason, sizeof(s->decision.reason), "%s", s->reason);
                        return 0;
                }
                if (!inc->open && ev->to != LEVEL_NONE &&
                    !sites_contain(state->maintenance_sites, ev->site)) {
                        s->open_incident = true; /* (d): not in maintenance */
                        from = LEVEL_NONE;
                } else if (inc->open) {
                        s->set_level = true;
                        from = inc->level;
                } else
                        from = ev->from;
        } else
                from = ev->from;

        r = decide(cfg, state,
                   &(PolicyInput){
                           .subject = ev->site,
                           .site = ev->site,
                           .from = from,
                           .to = ev->to,
                           .reason = ev->reason,
                           .deadline_missed = ev->kind == POLICY_EVENT_DEADLINE_MISS,
                   },
                   now, &s->decision, headline);
        if (r < 0)
                return r;
        s->decided = true;
        has_incident = inc->open || s->open_incident;
        filter_actions(state, ev, has_incident, s, headline);

        if (ev->kind == POLICY_EVENT_LEVEL_CHANGE && inc->open && ev->to == LEVEL_NONE) {
                s->resolve_incident = true; /* (f) */
                /* (g) that was the last one open: the configured frequency again. */
                s->reset_frequency = state->frequency_raised && state->n_open_incidents <= 1;
        }
        return 0;
}

int policy_step(const PolicyConfig *cfg, const PolicyState *state, const PolicyEvent *ev, usec_t now,
                PolicyStep *ret)
{
        PolicyStep s = {};
        int r;

        if (!cfg || !state || !ev || !ret)
                return -EINVAL;
        if (state->cluster_role < 0 || state->cluster_role >= _CLUSTER_ROLE_MAX)
                return -EINVAL;
        if (!level_valid(ev->from) || !level_valid(ev->to))
                return -EINVAL;
        if (ev->incident.open && !level_valid(ev->incident.level))
                return -EINVAL;

        switch (ev->kind) {
        case POLICY_EVENT_LEVEL_CHANGE:
        case POLICY_EVENT_DEADLINE_MISS:
                if (!ev->site)
                        return -EINVAL;
                r = step_level(cfg, state, ev, now, &s);
                if (r < 0)
                        return r;
                break;
        case POLICY_EVENT_TICK:
                if (!ev->site)
                        return -EINVAL;
                if (!ev->incident.open || ev->incident.settle_until == 0 ||
                    ev->now_mono < ev->incident.settle_until)
                        break;
                s.settle_ended = true;
                if (ev->to == ev->incident.level)
                        break;
                s.feed_level = true;
                s.decision.level = ev->to;
                snprintf(s.reason, sizeof(s.reason), "after a restart or reload, the checks say %s%s%s",
                         warning_level_to_string(ev->to), ev->reason ? ": " : "",
                         ev->reason ? ev->reason : "");
                break;
        case POLICY_EVENT_RUN_STARTED:
                s.note_auto_switchover = ev->trigger && streq(ev->trigger, "auto") &&
                                         ev->playbook_kind == PLAYBOOK_SWITCHOVER;
                break;
        case POLICY_EVENT_RUN_ENDED:
                if (ev->succeeded &&
                    (ev->playbook_kind == PLAYBOOK_SWITCHOVER || ev->playbook_kind == PLAYBOOK_FAILBACK))
                        s.new_active_site = site_after_run(state, ev);
                break;
        default:
                return -EINVAL;
        }
        *ret = s;
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
