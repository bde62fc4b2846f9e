/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * incident.c — the incident state machine (pure; see incident.h). Owns the
 * transition table, the action log and level history, and the deadline clock.
 * Does no I/O and reads no clock. Called by the daemon and by reports.
 */
#include <string.h>

#include "incident/incident.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

struct Incident {
        char *id, *site, *subject, *phenomenon, *impact;
        usec_t opened_at;
        IncidentState state;
        WarningLevel level;
        IncidentDeadlines deadlines;
        /* First time the level was at least as severe as [l]; USEC_INFINITY = never.
         * Deadlines at level l run from here, so flapping never extends them. */
        usec_t reached_at[_WARNING_LEVEL_MAX];
        /* When each deadline's goal was met; USEC_INFINITY = not yet. */
        usec_t met_at[_INCIDENT_DEADLINE_KIND_MAX];
        /* Bit l set: the (kind, level l) deadline was reported missed. */
        unsigned missed[_INCIDENT_DEADLINE_KIND_MAX];

        IncidentLevelEntry *levels;
        size_t n_levels;
        IncidentAction *actions;
        size_t n_actions;
};

static const char *const incident_state_table[_INCIDENT_STATE_MAX] = {
        [INCIDENT_DETECTED] = "detected",     [INCIDENT_VERIFIED] = "verified",
        [INCIDENT_ESCALATED] = "escalated",   [INCIDENT_MITIGATING] = "mitigating",
        [INCIDENT_RESOLVED] = "resolved",     [INCIDENT_CLOSED] = "closed",
};

static const char *const incident_action_kind_table[_INCIDENT_ACTION_KIND_MAX] = {
        [INCIDENT_ACTION_OPENED] = "opened",
        [INCIDENT_ACTION_STATE_CHANGE] = "state-change",
        [INCIDENT_ACTION_LEVEL_CHANGE] = "level-change",
        [INCIDENT_ACTION_NOTIFY] = "notify",
        [INCIDENT_ACTION_PLAYBOOK_PROPOSED] = "playbook-proposed",
        [INCIDENT_ACTION_PLAYBOOK_APPROVED] = "playbook-approved",
        [INCIDENT_ACTION_PLAYBOOK_REJECTED] = "playbook-rejected",
        [INCIDENT_ACTION_PLAYBOOK_STARTED] = "playbook-started",
        [INCIDENT_ACTION_PLAYBOOK_FINISHED] = "playbook-finished",
        [INCIDENT_ACTION_NOTE] = "note",
        [INCIDENT_ACTION_IMPACT] = "impact",
        [INCIDENT_ACTION_MILESTONE] = "milestone",
        [INCIDENT_ACTION_DEADLINE_MISSED] = "deadline-missed",
        [INCIDENT_ACTION_ACKNOWLEDGED] = "acknowledged",
        [INCIDENT_ACTION_MAINTENANCE] = "maintenance",
        [INCIDENT_ACTION_OVERRIDE] = "override",
};

static const char *const incident_deadline_kind_table[_INCIDENT_DEADLINE_KIND_MAX] = {
        [INCIDENT_DEADLINE_VERIFY] = "verify",
        [INCIDENT_DEADLINE_LOCATE] = "locate",
        [INCIDENT_DEADLINE_FIRST_SOLUTION] = "first-solution",
};

/* The transition table: rows are `from`, columns `to`. Anything not listed is refused.
 *   detected   → verified | escalated | mitigating (policy ran a playbook at once)
 *                | resolved (cleared by itself)
 *   verified   → escalated | mitigating | resolved
 *   escalated  → mitigating | resolved
 *   mitigating → escalated (the remedy failed) | resolved
 *   resolved   → detected (the fault came back before closing) | closed
 *   closed     → nothing */
static const bool transition_table[_INCIDENT_STATE_MAX][_INCIDENT_STATE_MAX] = {
        [INCIDENT_DETECTED] = {
                [INCIDENT_VERIFIED] = true,
                [INCIDENT_ESCALATED] = true,
                [INCIDENT_MITIGATING] = true,
                [INCIDENT_RESOLVED] = true,
        },
        [INCIDENT_VERIFIED] = {
                [INCIDENT_ESCALATED] = true,
                [INCIDENT_MITIGATING] = true,
                [INCIDENT_RESOLVED] = true,
        },
        [INCIDENT_ESCALATED] = {
                [INCIDENT_MITIGATING] = true,
                [INCIDENT_RESOLVED] = true,
        },
        [INCIDENT_MITIGATING] = {
                [INCIDENT_ESCALATED] = true,
                [INCIDENT_RESOLVED] = true,
        },
        [INCIDENT_RESOLVED] = {
                [INCIDENT_DETECTED] = true,
                [INCIDENT_CLOSED] = true,
        },
        [INCIDENT_CLOSED] = {},
};

DEFINE_STRING_TABLE(incident_state, IncidentState, incident_state_table)
DEFINE_STRING_TABLE(incident_action_kind, IncidentActionKind, incident_action_kind_table)
DEFINE_STRING_TABLE(incident_deadline_kind, IncidentDeadlineKind, incident_deadline_kind_table)

bool incident_transition_allowed(IncidentState from, IncidentState to)
{
        if (from < 0 || from >= _INCIDENT_STATE_MAX || to < 0 || to >= _INCIDENT_STATE_MAX)
                return false;
        return transition_table[from][to];
}

static bool level_valid(WarningLevel l)
{
        return l >= LEVEL_NONE && l < _WARNING_LEVEL_MAX;
}

static bool level_is_warning(WarningLevel l)
{
        return l >= LEVEL_RED && l <= LEVEL_BLUE;
}

usec_t incident_deadlines_get(const IncidentDeadlines *d, IncidentDeadlineKind kind, WarningLevel level)
{
        if (!d || !level_is_warning(level))
                return 0;
        switch (kind) {
        case INCIDENT_DEADLINE_VERIFY:
                return d->verify_within[level];
        case INCIDENT_DEADLINE_LOCATE:
                return d->locate_within[level];
        case INCIDENT_DEADLINE_FIRST_SOLUTION:
                return d->first_solution_within[level];
        default:
                return 0;
        }
}

static bool str_nonempty(const char *s)
{
        return s && s[0];
}

Incident *incident_free(Incident *inc)
{
        if (!inc)
                return NULL;
        for (size_t i = 0; i < inc->n_levels; i++) {
                free((char *) inc->levels[i].reason);
                free((char *) inc->levels[i].actor);
        }
        free(inc->levels);
        for (size_t i = 0; i < inc->n_actions; i++) {
                free((char *) inc->actions[i].actor);
                free((char *) inc->actions[i].text);
        }
        free(inc->actions);
        free(inc->id);
        free(inc->site);
        free(inc->subject);
        free(inc->phenomenon);
        free(inc->impact);
        free(inc);
        return NULL;
}

static IncidentAction *log_append(Incident *inc, IncidentActionKind kind, const char *actor,
                                  const char *text, usec_t now)
{
        IncidentAction *a = array_push(&inc->actions, &inc->n_actions, sizeof(IncidentAction));

        a->at = now;
        a->kind = kind;
        a->actor = xstrdup(actor);
        a->text = xstrdup(strempty(text));
        a->state_from = a->state_to = inc->state;
        a->level_from = a->level_to = inc->level;
        return a;
}

/* Remember when the incident first reached each level at least as severe as `to`. */
static void mark_reached(Incident *inc, WarningLevel to, usec_t now)
{
        if (!level_is_warning(to))
                return;
        for (WarningLevel l = to; l <= LEVEL_BLUE; l++)
                if (inc->reached_at[l] == USEC_INFINITY)
                        inc->reached_at[l] = now;
}

static void milestone_met(Incident *inc, IncidentDeadlineKind kind, const char *actor, const char *why,
                          usec_t now)
{
        _cleanup_free_ char *text = NULL;

        if (inc->met_at[kind] != USEC_INFINITY)
                return;
        inc->met_at[kind] = now;
        text = xasprintf("%s: %s", incident_deadline_kind_to_string(kind), why);
        log_append(inc, INCIDENT_ACTION_MILESTONE, actor, text, now);
}

int incident_new(Incident **ret, const IncidentInfo *info)
{
        _cleanup_(incident_freep) Incident *inc = NULL;
        IncidentLevelEntry *e;
        _cleanup_free_ char *text = NULL;

        if (!ret || !info)
                return -EINVAL;
        if (!str_nonempty(info->id) || !str_nonempty(info->site) || !str_nonempty(info->subject) ||
            !str_nonempty(info->phenomenon) || !str_nonempty(info->actor))
                return -EINVAL;
        if (!level_is_warning(info->level))
                return -EINVAL;

        inc = xcalloc(1, sizeof(Incident));
        inc->id = xstrdup(info->id);
        inc->site = xstrdup(info->site);
        inc->subject = xstrdup(info->subject);
        inc->phenomenon = xstrdup(info->phenomenon);
        inc->impact = xstrdup(strempty(info->impact));
        inc->opened_at = info->opened_at;
        inc->state = INCIDENT_DETECTED;
        inc->level = info->level;
        if (info->deadlines)
                inc->deadlines = *info->deadlines;
        for (size_t i = 0; i < ELEMENTSOF(inc->reached_at); i++)
                inc->reached_at[i] = USEC_INFINITY;
        for (size_t i = 0; i < ELEMENTSOF(inc->met_at); i++)
                inc->met_at[i] = USEC_INFINITY;
        mark_reached(inc, info->level, info->opened_at);

        e = array_push(&inc->levels, &inc->n_levels, sizeof(IncidentLevelEntry));
        e->at = info->opened_at;
        e->from = LEVEL_NONE;
        e->to = info->level;
        e->reason = xstrdup(info->reason ? info->reason : info->phenomenon);
        e->actor = xstrdup(info->actor);

        text = xasprintf("opened at level %s on %s (%s): %s", warning_level_to_string(info->level),
                         info->subject, info->site, info->reason ? info->reason : info->phenomenon);
        log_append(inc, INCIDENT_ACTION_OPENED, info->actor, text, info->opened_at)->level_from = LEVEL_NONE;

        *ret = TAKE_PTR(inc);
        return 0;
}

const char *incident_get_id(const Incident *inc)
{
        return inc ? inc->id : NULL;
}

const char *incident_get_site(const Incident *inc)
{
        return inc ? inc->site : NULL;
}

const char *incident_get_subject(const Incident *inc)
{
        return inc ? inc->subject : NULL;
}

const char *incident_get_phenomenon(const Incident *inc)
{
        return inc ? inc->phenomenon : NULL;
}

const char *incident_get_impact(const Incident *inc)
{
        return inc ? inc->impact : NULL;
}

usec_t incident_get_opened_at(const Incident *inc)
{
        return inc ? inc->opened_at : 0;
}

IncidentState incident_get_state(const Incident *inc)
{
        return inc ? inc->state : _INCIDENT_STATE_INVALID;
}

WarningLevel incident_get_level(const Incident *inc)
{
        return inc ? inc->level : _WARNING_LEVEL_INVALID;
}

size_t incident_get_log(const Incident *inc, const IncidentAction **ret)
{
        if (ret)
                *ret = inc ? inc->actions : NULL;
        return inc ? inc->n_actions : 0;
}

size_t incident_get_level_history(const Incident *inc, const IncidentLevelEntry **ret)
{
        if (ret)
                *ret = inc ? inc->levels : NULL;
        return inc ? inc->n_levels : 0;
}

int incident_transition(Incident *inc, IncidentState to, const char *actor, const char *reason, usec_t now,
                        IncidentTransition *ret)
{
        IncidentAction *a;
        IncidentState from;

        if (!inc || !str_nonempty(actor) || !str_nonempty(reason))
                return -EINVAL;
        if (to < 0 || to >= _INCIDENT_STATE_MAX)
                return -EINVAL;
        from = inc->state;
        if (!incident_transition_allowed(from, to))
                return -EPERM;

        inc->state = to;
        a = log_append(inc, INCIDENT_ACTION_STATE_CHANGE, actor, reason, now);
        a->state_from = from;
        a->state_to = to;
        /* Fill ret now: appending the milestones below may move the log array (the
         * strings themselves stay put). */
        if (ret)
                *ret = (IncidentTransition) {
                        .at = a->at, .from = from, .to = to, .actor = a->actor, .reason = a->text,
                };
        a = NULL;

        /* Milestones follow the log entry of the move that met them. */
        if (to == INCIDENT_VERIFIED)
                milestone_met(inc, INCIDENT_DEADLINE_VERIFY, actor, "verified", now);
        else if (from == INCIDENT_DETECTED && !streq(actor, INCIDENT_ACTOR_POLICY))
                /* A person who escalates, mitigates or resolves an unverified incident has looked at it. */
                milestone_met(inc, INCIDENT_DEADLINE_VERIFY, actor, reason, now);
        if (to == INCIDENT_MITIGATING) {
                milestone_met(inc, INCIDENT_DEADLINE_LOCATE, actor, "mitigation started", now);
                milestone_met(inc, INCIDENT_DEADLINE_FIRST_SOLUTION, actor, "mitigation started", now);
        }

        return 0;
}

int incident_set_level(Incident *inc, WarningLevel to, const char *actor, const char *reason, usec_t now)
{
        IncidentLevelEntry *e;
        IncidentAction *a;
        WarningLevel from;
        _cleanup_free_ char *text = NULL;

        if (!inc || !level_valid(to) || !str_nonempty(actor) || !str_nonempty(reason))
                return -EINVAL;
        if (inc->state == INCIDENT_CLOSED)
                return -EPERM;
        from = inc->level;
        if (from == to)
                return 0;

        inc->level = to;
        mark_reached(inc, to, now);

        e = array_push(&inc->levels, &inc->n_levels, sizeof(IncidentLevelEntry));
        e->at = now;
        e->from = from;
        e->to = to;
        e->reason = xstrdup(reason);
        e->actor = xstrdup(actor);

        text = xasprintf("%s -> %s: %s", warning_level_to_string(from), warning_level_to_string(to),
                         reason);
        a = log_append(inc, INCIDENT_ACTION_LEVEL_CHANGE, actor, text, now);
        a->level_from = from;
        a->level_to = to;
        return 1;
}

int incident_set_impact(Incident *inc, const char *impact, const char *actor, usec_t now)
{
        if (!inc || !impact || !str_nonempty(actor))
                return -EINVAL;
        if (inc->state == INCIDENT_CLOSED)
                return -EPERM;
        free(inc->impact);
        inc->impact = xstrdup(impact);
        log_append(inc, INCIDENT_ACTION_IMPACT, actor, impact, now);
        return 0;
}

int incident_log_action(Incident *inc, IncidentActionKind kind, const char *actor, const char *text,
                        usec_t now)
{
        if (!inc || !str_nonempty(actor))
                return -EINVAL;
        switch (kind) {
        case INCIDENT_ACTION_NOTIFY:
        case INCIDENT_ACTION_PLAYBOOK_PROPOSED:
        case INCIDENT_ACTION_PLAYBOOK_APPROVED:
        case INCIDENT_ACTION_PLAYBOOK_REJECTED:
        case INCIDENT_ACTION_PLAYBOOK_STARTED:
        case INCIDENT_ACTION_PLAYBOOK_FINISHED:
        case INCIDENT_ACTION_NOTE:
        case INCIDENT_ACTION_ACKNOWLEDGED:
        case INCIDENT_ACTION_MAINTENANCE:
        case INCIDENT_ACTION_OVERRIDE:
                break;
        default:
                /* State, level, impact, milestones and misses have their own writers. */
                return -EINVAL;
        }
        if (inc->state == INCIDENT_CLOSED)
                return -EPERM;
        log_append(inc, kind, actor, text, now);
        return 0;
}

int incident_record_milestone(Incident *inc, IncidentDeadlineKind kind, const char *actor, const char *text,
                              usec_t now)
{
        if (!inc || kind < 0 || kind >= _INCIDENT_DEADLINE_KIND_MAX || !str_nonempty(actor))
                return -EINVAL;
        if (inc->state == INCIDENT_CLOSED)
                return -EPERM;
        if (inc->met_at[kind] != USEC_INFINITY)
                return -EALREADY;
        milestone_met(inc, kind, actor, str_nonempty(text) ? text : "recorded", now);
        return 0;
}

static bool deadlines_running(const Incident *inc)
{
        return inc->state != INCIDENT_RESOLVED && inc->state != INCIDENT_CLOSED &&
               level_is_warning(inc->level);
}

/* Due time of (kind, current level), or USEC_INFINITY when nothing is pending for it. */
static usec_t pending_due(const Incident *inc, IncidentDeadlineKind kind)
{
        usec_t within;

        if (!deadlines_running(inc))
                return USEC_INFINITY;
        if (inc->met_at[kind] != USEC_INFINITY)
                return USEC_INFINITY;
        if (inc->missed[kind] & (1u << inc->level))
                return USEC_INFINITY;
        within = incident_deadlines_get(&inc->deadlines, kind, inc->level);
        if (within == 0)
                return USEC_INFINITY;
        return usec_add(inc->reached_at[inc->level], within);
}

int incident_next_deadline(const Incident *inc, usec_t *ret)
{
        usec_t best = USEC_INFINITY;

        if (!inc || !ret)
                return -EINVAL;
        for (IncidentDeadlineKind k = 0; k < _INCIDENT_DEADLINE_KIND_MAX; k++)
                best = MIN(best, pending_due(inc, k));
        if (best == USEC_INFINITY)
                return -ENOENT;
        *ret = best;
        return 0;
}

static WarningLevel level_one_step_up(WarningLevel l)
{
        return l > LEVEL_RED ? l - 1 : LEVEL_RED;
}

int incident_deadlines_due(Incident *inc, usec_t now, DeadlineMiss *ret, size_t max)
{
        size_t n = 0;

        if (!inc || (!ret && max > 0))
                return -EINVAL;

        while (n < max) {
                IncidentDeadlineKind kind = _INCIDENT_DEADLINE_KIND_INVALID;
                usec_t due = USEC_INFINITY;
                WarningLevel level = inc->level;
                _cleanup_free_ char *text = NULL;
                DeadlineMiss *m;

                /* The earliest overdue one first, so the log reads in time order. */
                for (IncidentDeadlineKind k = 0; k < _INCIDENT_DEADLINE_KIND_MAX; k++) {
                        usec_t d = pending_due(inc, k);
                        if (d < now && d < due) {
                                due = d;
                                kind = k;
                        }
                }
                if (kind < 0)
                        break;

                inc->missed[kind] |= 1u << level;
                m = &ret[n++];
                *m = (DeadlineMiss) {
                        .kind = kind, .level = level, .due = due,
                        .new_level = level, .state_from = inc->state, .state_to = inc->state,
                };

                text = xasprintf("%s deadline at level %s missed", incident_deadline_kind_to_string(kind),
                                 warning_level_to_string(level));
                log_append(inc, INCIDENT_ACTION_DEADLINE_MISSED, INCIDENT_ACTOR_POLICY, text, now);

                if (level != LEVEL_RED) {
                        m->new_level = level_one_step_up(level);
                        (void) incident_set_level(inc, m->new_level, INCIDENT_ACTOR_POLICY, text, now);
                }
                if (inc->state == INCIDENT_DETECTED || inc->state == INCIDENT_VERIFIED) {
                        (void) incident_transition(inc, INCIDENT_ESCALATED, INCIDENT_ACTOR_POLICY, text, now,
                                                   NULL);
                        m->state_to = inc->state;
                }
        }

        return (int) n;
}
