/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * incident.h — the incident state machine (pure): one IncidentState enum, one
 * transition table, one transition function. An Incident records what the
 * regulations ask of an event record (requirements §3): time, site, subject,
 * phenomenon, impact scope, the level history, every action with its actor (a
 * user name or "policy"), and the per-level deadlines (verify, locate, first
 * technical solution) with the misses that escalate it.
 *
 * Owns: the Incident object and its invariants (the state only moves through
 * incident_transition(); every change is in the action log). Does not own:
 * clocks (`now` is always an argument), the journal (the daemon copies the log
 * entries out), notifications, or deciding what to do (policy.h). Called by the
 * daemon's incident manager, by reports, and by tests.
 *
 * Strings returned by getters and in log/history entries are owned by the
 * Incident and stay valid until incident_free(); the arrays returned by
 * incident_get_log()/incident_get_level_history() are valid only until the next
 * call that modifies the incident.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "monitor/probe-result.h"
#include "shared/macros.h"
#include "shared/monitoring.h"
#include "shared/time-util.h"

/* The actor of everything drover does by itself. */
#define INCIDENT_ACTOR_POLICY "policy"

typedef enum IncidentState {
        INCIDENT_DETECTED,   /* opened from a level change; nobody has looked yet */
        INCIDENT_VERIFIED,   /* the duty office confirmed it is real */
        INCIDENT_ESCALATED,  /* handed up to the command centre (by a person or a missed deadline) */
        INCIDENT_MITIGATING, /* a playbook or manual remedy is being applied */
        INCIDENT_RESOLVED,   /* service restored; may still reopen (→ detected) */
        INCIDENT_CLOSED,     /* terminal: the record is frozen */
        _INCIDENT_STATE_MAX,
        _INCIDENT_STATE_INVALID = -EINVAL,
} IncidentState;
/* "detected", "verified", "escalated", "mitigating", "resolved", "closed" */
const char *incident_state_to_string(IncidentState s);
IncidentState incident_state_from_string(const char *s);
/* The transition table: true when from → to is an allowed move (never from == to). */
bool incident_transition_allowed(IncidentState from, IncidentState to);

typedef enum IncidentActionKind {
        INCIDENT_ACTION_OPENED,
        INCIDENT_ACTION_STATE_CHANGE,     /* only incident_transition() writes these */
        INCIDENT_ACTION_LEVEL_CHANGE,     /* only incident_set_level() writes these */
        INCIDENT_ACTION_NOTIFY,
        INCIDENT_ACTION_PLAYBOOK_PROPOSED,
        INCIDENT_ACTION_PLAYBOOK_APPROVED,
        INCIDENT_ACTION_PLAYBOOK_REJECTED,
        INCIDENT_ACTION_PLAYBOOK_STARTED,
        INCIDENT_ACTION_PLAYBOOK_FINISHED,
        INCIDENT_ACTION_NOTE,
        INCIDENT_ACTION_IMPACT,           /* only incident_set_impact() */
        INCIDENT_ACTION_MILESTONE,        /* only incident_record_milestone() and transitions */
        INCIDENT_ACTION_DEADLINE_MISSED,  /* only incident_deadlines_due() */
        INCIDENT_ACTION_ACKNOWLEDGED,
        INCIDENT_ACTION_MAINTENANCE,      /* a decision silenced by maintenance */
        INCIDENT_ACTION_OVERRIDE,         /* manual override set/cleared, or an AUTO held back */
        _INCIDENT_ACTION_KIND_MAX,
        _INCIDENT_ACTION_KIND_INVALID = -EINVAL,
} IncidentActionKind;
/* "opened", "state-change", "level-change", "notify", "playbook-proposed",
 * "playbook-approved", "playbook-rejected", "playbook-started", "playbook-finished",
 * "note", "impact", "milestone", "deadline-missed", "acknowledged", "maintenance",
 * "override" */
const char *incident_action_kind_to_string(IncidentActionKind k);
IncidentActionKind incident_action_kind_from_string(const char *s);

/* The three time bounds of requirements §3. Level 3's "fault checked within X h"
 * is the LOCATE deadline at level 3. */
typedef enum IncidentDeadlineKind {
        INCIDENT_DEADLINE_VERIFY,         /* duty office verifies the report */
        INCIDENT_DEADLINE_LOCATE,         /* fault located (level 2) / checked (level 3) */
        INCIDENT_DEADLINE_FIRST_SOLUTION, /* first technical solution (level 1) */
        _INCIDENT_DEADLINE_KIND_MAX,
        _INCIDENT_DEADLINE_KIND_INVALID = -EINVAL,
} IncidentDeadlineKind;
/* "verify", "locate", "first-solution" */
const char *incident_deadline_kind_to_string(IncidentDeadlineKind k);
IncidentDeadlineKind incident_deadline_kind_from_string(const char *s);

/* IncidentDeadlines and incident_deadlines_default(): shared/monitoring.h (the
 * configuration fills them in). */
/* The configured bound for kind at level (0 = none). */
usec_t incident_deadlines_get(const IncidentDeadlines *d, IncidentDeadlineKind kind, WarningLevel level);

typedef struct IncidentLevelEntry {
        usec_t at;
        WarningLevel from, to;
        const char *reason;
        const char *actor;
} IncidentLevelEntry;

typedef struct IncidentAction {
        usec_t at;
        const char *actor;        /* user name or INCIDENT_ACTOR_POLICY */
        IncidentActionKind kind;
        const char *text;         /* the reason for state/level changes */
        /* Meaningful for STATE_CHANGE (state_*) and LEVEL_CHANGE (level_*) only. */
        IncidentState state_from, state_to;
        WarningLevel level_from, level_to;
} IncidentAction;

/* What incident_transition() did; strings point into the incident's log. */
typedef struct IncidentTransition {
        usec_t at;
        IncidentState from, to;
        const char *actor;
        const char *reason;
} IncidentTransition;

typedef struct IncidentInfo {
        const char *id;          /* assigned by the caller (the journal); required */
        const char *site;        /* required */
        const char *subject;     /* the target or site that raised it; required */
        const char *phenomenon;  /* what was observed; required */
        const char *impact;      /* scope of impact; NULL = "" (may be set later) */
        WarningLevel level;      /* 1..4 */
        usec_t opened_at;
        const char *actor;       /* who opened it; required (usually "policy") */
        const char *reason;      /* NULL = phenomenon */
        const IncidentDeadlines *deadlines; /* copied; NULL = no deadlines */
} IncidentInfo;

typedef struct Incident Incident;

/* Opens an incident in state detected at info->level. -EINVAL on a missing field or
 * a level outside 1..4. */
int incident_new(Incident **ret, const IncidentInfo *info);
Incident *incident_free(Incident *inc);
DEFINE_TRIVIAL_CLEANUP_FUNC(Incident *, incident_free);

const char *incident_get_id(const Incident *inc);
const char *incident_get_site(const Incident *inc);
const char *incident_get_subject(const Incident *inc);
const char *incident_get_phenomenon(const Incident *inc);
const char *incident_get_impact(const Incident *inc);
usec_t incident_get_opened_at(const Incident *inc);
IncidentState incident_get_state(const Incident *inc);
WarningLevel incident_get_level(const Incident *inc);
size_t incident_get_log(const Incident *inc, const IncidentAction **ret);
size_t incident_get_level_history(const Incident *inc, const IncidentLevelEntry **ret);

/* The only writer of the state. Validates from → to against the table (-EPERM if
 * refused, nothing logged), appends a state-change entry {from, to, actor, reason}
 * and fills *ret (may be NULL). actor and reason are required (-EINVAL).
 * Side effects on deadlines (milestones, each logged once):
 *   → verified                       : verify met
 *   detected → anything, by a person : verify met (someone looked and acted)
 *   → mitigating                     : locate and first-solution met
 *   → resolved / closed              : no deadline is due any more */
int incident_transition(Incident *inc, IncidentState to, const char *actor, const char *reason, usec_t now,
                        IncidentTransition *ret);

/* Escalate or de-escalate (LEVEL_NONE allowed: the condition cleared). Logged in the
 * level history and the action log. Returns 1 if the level changed, 0 if it already
 * was `to` (nothing logged), -EPERM when closed, -EINVAL on bad arguments. */
int incident_set_level(Incident *inc, WarningLevel to, const char *actor, const char *reason, usec_t now);

/* Update the scope of impact (logged as "impact"). -EPERM when closed. */
int incident_set_impact(Incident *inc, const char *impact, const char *actor, usec_t now);

/* Append an action of any kind that has no dedicated writer above (notify,
 * playbook-*, note, acknowledged, maintenance, override). -EINVAL for the kinds
 * reserved to the functions above, -EPERM when closed. */
int incident_log_action(Incident *inc, IncidentActionKind kind, const char *actor, const char *text,
                        usec_t now);

/* Record that a deadline's goal was reached (a person located the fault, found a
 * first solution, verified). -EALREADY if it already was, -EPERM when closed. */
int incident_record_milestone(Incident *inc, IncidentDeadlineKind kind, const char *actor, const char *text,
                              usec_t now);

typedef struct DeadlineMiss {
        IncidentDeadlineKind kind;
        WarningLevel level;      /* the level whose bound was missed */
        usec_t due;
        WarningLevel new_level;  /* after the escalation (== level when already red) */
        IncidentState state_from, state_to; /* equal when the state did not move */
} DeadlineMiss;

/* Report deadlines that passed (now > due) without their milestone, each (kind,
 * level) at most once over the incident's life, recording "deadline-missed".
 * A deadline at level L runs from the first time the incident reached L or a more
 * severe level, so de-escalating and coming back never extends it.
 * Escalation rule for every miss (actor "policy"):
 *   - the level goes one step toward red (blue→yellow→orange→red; red stays red);
 *   - a detected or verified incident moves to escalated (to the command centre);
 *     escalated and mitigating incidents keep their state.
 * The new level re-arms that level's deadlines from `now`, so an incident nobody
 * verifies climbs one level per verify window until red (at most 12 misses in all).
 * Nothing is due once resolved or closed, or at LEVEL_NONE. Writes up to max entries;
 * further misses are reported by the next call. Returns the number written. */
int incident_deadlines_due(Incident *inc, usec_t now, DeadlineMiss *ret, size_t max);

/* The earliest time a pending deadline falls due, for the caller's timer; -ENOENT if
 * none is pending. A miss is reported at the first `now` strictly after it. */
int incident_next_deadline(const Incident *inc, usec_t *ret);
