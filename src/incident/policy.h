/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.h — what drover does when a warning level changes (pure): notify named
 * roles, raise the probe frequency, propose a playbook for approval, or run it
 * automatically where the configuration allows it for that level. Carries the
 * anti-flap rules: a cooldown between automatic switchovers, never an automatic
 * failback, maintenance silences a site, manual override holds back automation.
 *
 * Owns: policy_decide() (a level moved → actions) and policy_step() (every event the
 * daemon's watch sees → the whole Decision: open, apply, hold or resolve the incident,
 * the actions, the probe frequency, the active site after a run, the cooldown), with
 * the daemon-level rules: an interrupted run makes AUTO a PROPOSE, nothing starts while
 * a run of the incident is active or droverd stops, maintenance opens no incident, the
 * settle window after a restart or reload holds a lower level, a cleared level resolves,
 * the frequency resets when nothing is open, and the cluster role (a follower acts on
 * nothing, no quorum means nothing automatic). Does not own: sending notifications,
 * running playbooks, approvals, clocks or the journal (the daemon does those with the
 * Decision, and records Decision.reason). Called by src/daemon/watch*.c; by tests.
 *
 * Lifetime: PolicyConfig and PolicyState are the caller's; a Decision borrows the
 * role lists, playbook names and params from the PolicyConfig it was made from
 * (valid while that config lives). Reasons are inline buffers.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "cluster/role.h"
#include "monitor/probe-result.h"
#include "playbook/playbook.h"
#include "shared/monitoring.h"
#include "shared/time-util.h"

#define POLICY_REASON_MAX 256
#define DECISION_ACTIONS_MAX 4
/* POLICY_DEFAULT_COOLDOWN and PolicyParam: shared/monitoring.h (the configuration fills them in). */

/* What to do when the level rises to this level. */
typedef struct PolicyLevel {
        const char *const *notify;    /* NULL-terminated role names ("duty-office", ...); NULL = none */
        double raise_frequency;       /* probe frequency factor; <= 1 = leave it */
        const char *playbook;         /* NULL = no playbook at this level: notify only */
        PlaybookKind playbook_kind;   /* from the loaded playbook; decides the anti-flap rules */
        const PolicyParam *params;
        size_t n_params;
        bool auto_run;                /* "auto: true": run without approval, where allowed */
} PolicyLevel;

typedef struct PolicyConfig {
        PolicyLevel levels[_WARNING_LEVEL_MAX]; /* indexed by WarningLevel; [LEVEL_NONE] unused */
        usec_t cooldown;  /* no automatic switchover within this of the previous one */
} PolicyConfig;

/* The world as the daemon sees it at decision time. */
typedef struct PolicyState {
        const char *active_site;               /* the site serving now; NULL = unknown */
        const char *const *maintenance_sites;  /* NULL-terminated; these sites are silenced */
        bool manual_override;                  /* "hands off" everywhere: nothing automatic */
        const char *const *override_sites;     /* NULL-terminated; "hands off" for these sites */
        usec_t last_auto_switchover;           /* when the last automatic switchover ran; 0 = never */
        /* policy_step() only (policy_decide() ignores them): */
        bool stopping;                         /* droverd stops: no run is started */
        size_t n_open_incidents;               /* incidents open before this event */
        bool frequency_raised;                 /* a RAISE_FREQUENCY is in force */
        ClusterRole cluster_role;              /* 0 = STANDALONE */
        const char *leader;                    /* FOLLOWER: the node that leads (for the reason) */
} PolicyState;

/* The event: a subject's level moved (LevelChange, or a missed deadline's escalation). */
typedef struct PolicyInput {
        const char *subject;  /* target or site; required */
        const char *site;     /* the site the subject belongs to; required */
        WarningLevel from, to;
        const char *reason;   /* why the level moved (for the decision's reason); may be NULL */
        bool deadline_missed; /* from a DeadlineMiss: at red (from == to) still notify red's roles */
} PolicyInput;

typedef enum DecisionKind {
        DECISION_NONE,             /* never in actions[]: a Decision with n_actions == 0 */
        DECISION_NOTIFY,
        DECISION_RAISE_FREQUENCY,
        DECISION_PROPOSE,
        DECISION_AUTO,
        _DECISION_KIND_MAX,
        _DECISION_KIND_INVALID = -EINVAL,
} DecisionKind;
/* "none", "notify", "raise-frequency", "propose", "auto" */
const char *decision_kind_to_string(DecisionKind k);
DecisionKind decision_kind_from_string(const char *s);

typedef struct DecisionAction {
        DecisionKind kind;
        const char *const *roles;     /* NOTIFY: NULL-terminated, borrowed from the config */
        double frequency_factor;      /* RAISE_FREQUENCY */
        const char *playbook;         /* PROPOSE / AUTO */
        PlaybookKind playbook_kind;
        const PolicyParam *params;
        size_t n_params;
        char reason[POLICY_REASON_MAX];
} DecisionAction;

typedef struct Decision {
        WarningLevel level;           /* input->to */
        bool escalation;              /* to is more severe than from */
        bool silenced;                /* maintenance: nothing at all is done */
        bool held_back;               /* an AUTO was turned into PROPOSE or dropped (override, cooldown,
                                       * failback, not the active site): worth a journal line */
        DecisionAction actions[DECISION_ACTIONS_MAX];
        size_t n_actions;             /* 0 = DECISION_NONE */
        char reason[POLICY_REASON_MAX]; /* always set: one line for the journal */
} Decision;

/* Rules, in order:
 *   1. the site is in maintenance → no actions, silenced, reason "silenced by maintenance …";
 *   2. no level change → none (but a missed deadline notifies the level's roles again);
 *      de-escalation (or recovery to NONE) → notify the roles of
 *      the level left, nothing else (never an automatic failback or any playbook);
 *   3. escalation to L → notify L's roles; raise frequency if L's factor > 1; then L's
 *      playbook, if any (none → notify only):
 *      - a switchover (failover) playbook only when input->site is the active site;
 *        a non-active site gets no switchover at all ("not the active site"), an unknown
 *        active site gets PROPOSE only;
 *      - AUTO only when L says auto, and none of (checked in this order): kind
 *        failback → PROPOSE "never automatic failback"; manual override (global or
 *        the site) → PROPOSE "manual override"; a switchover within cooldown of
 *        state->last_auto_switchover → PROPOSE "cooldown …". Without auto: PROPOSE.
 * Returns 0, or -EINVAL on bad arguments (ret untouched). */
int policy_decide(const PolicyConfig *cfg, const PolicyState *state, const PolicyInput *input, usec_t now,
                  Decision *ret);

/* The first action of that kind, or NULL (always NULL for DECISION_NONE: test n_actions). */
const DecisionAction *decision_find(const Decision *d, DecisionKind kind);

/* After the daemon has started an AUTO switchover from d, remember it for the cooldown. */
void policy_state_note_started(PolicyState *state, const Decision *d, usec_t now);

/* ---- policy_step(): every event of the daemon's watch ---------------------------- */

/* The incident open for the event's site, as the daemon tracks it. */
typedef struct PolicyIncident {
        bool open;             /* false: none open for the site (the rest is ignored) */
        WarningLevel level;    /* its level now */
        bool run_active;       /* a run for it is active */
        bool hold_auto;        /* a run of it was interrupted by droverd's death */
        usec_t settle_until;   /* CLOCK_MONOTONIC; 0 = not settling (restart or reload) */
} PolicyIncident;

/* A site, for "which site serves after a switchover or failback". */
typedef enum PolicySiteRole {
        POLICY_SITE_PRIMARY,
        POLICY_SITE_BACKUP,
        POLICY_SITE_OTHER,
} PolicySiteRole;

typedef struct PolicySite {
        const char *name;
        PolicySiteRole role;
} PolicySite;

typedef enum PolicyEventKind {
        POLICY_EVENT_LEVEL_CHANGE,  /* levels moved a site: from → to, reason */
        POLICY_EVENT_DEADLINE_MISS, /* an incident's deadline passed: from (the miss's level) → to */
        POLICY_EVENT_TICK,          /* the periodic tick: to = the level the evaluator holds now,
                                     * reason = its rule's name (or NULL) */
        POLICY_EVENT_RUN_STARTED,   /* trigger, playbook_kind */
        POLICY_EVENT_RUN_ENDED,     /* succeeded, playbook_kind, sites */
        _POLICY_EVENT_KIND_MAX,
        _POLICY_EVENT_KIND_INVALID = -EINVAL,
} PolicyEventKind;

typedef struct PolicyEvent {
        PolicyEventKind kind;
        const char *site;            /* required, except for RUN_* without an incident */
        WarningLevel from, to;
        const char *reason;          /* may be NULL */
        PolicyIncident incident;     /* the site's incident (RUN_*: the run's) */
        usec_t now_mono;             /* CLOCK_MONOTONIC now, for the settle window */
        /* RUN_* */
        const char *trigger;         /* "auto", "approved", "manual" … */
        PlaybookKind playbook_kind;  /* _PLAYBOOK_KIND_INVALID = unknown */
        bool succeeded;              /* RUN_ENDED: the run succeeded */
        const PolicySite *sites;     /* RUN_ENDED: the configured sites, in config order */
        size_t n_sites;
} PolicyEvent;

/* What policy_step() tells the glue to do, in this order: hold (and nothing else), open
 * the incident or set its level, the journal line(s), the actions, resolve, reset the
 * frequency. Everything is borrowed from the config, the state and the event. */
typedef struct PolicyStep {
        bool hold;                  /* settling: this lower level is not applied yet; nothing else */
        bool open_incident;         /* open an incident for the site at decision.level */
        bool set_level;             /* apply decision.level to the open incident */
        bool decided;               /* decision is to be carried out (journal line + actions) */
        Decision decision;
        char note[POLICY_REASON_MAX]; /* a second "decision" journal line (an AUTO not started), or "" */
        bool resolve_incident;      /* the level cleared: resolve the incident */
        bool reset_frequency;       /* nothing open any more: probes at their configured interval */
        bool settle_ended;          /* TICK: the settle window is over (clear it) */
        bool feed_level;            /* TICK: feed a LEVEL_CHANGE incident.level → decision.level
                                     * with `reason` (the checks disagree with the restored level) */
        char reason[POLICY_REASON_MAX]; /* hold / feed_level: why (log line) */
        bool note_auto_switchover;  /* RUN_STARTED: the cooldown starts now */
        const char *new_active_site; /* RUN_ENDED: this site serves now (borrowed from sites) */
} PolicyStep;

/* Rules on top of policy_decide(), each with its table test in test-policy.c:
 *   LEVEL_CHANGE: (e) settling and the level is lower than the incident's → hold;
 *     (d) no incident open, level not NONE, site not in maintenance → open one (from NONE);
 *     an open incident → set its level (from its level); then policy_decide(); then the
 *     AUTO action: (a) hold_auto → PROPOSE "a commander decides"; (b) a run active for
 *     the incident → dropped, note; (c) stopping → dropped, note; PROPOSE/AUTO need an
 *     incident; cluster role: FOLLOWER → no notify/propose/auto, reason names the leader,
 *     NO_QUORUM → AUTO becomes PROPOSE; (f) an open incident and level NONE → resolve;
 *     (g) …and none left open while the frequency is raised → reset it.
 *   DEADLINE_MISS: policy_decide() with deadline_missed, then the same AUTO and cluster
 *     rules.
 *   TICK: settle window over → settle_ended; the evaluator's level differs → feed_level.
 *   RUN_STARTED: an automatic switchover → note_auto_switchover (the cooldown).
 *   RUN_ENDED: a successful switchover or failback → new_active_site: the first other
 *     site of the role it goes to (failback → primary; else from a backup → primary,
 *     from anything else → backup), if any.
 * Returns 0, or -EINVAL on bad arguments (ret untouched). */
int policy_step(const PolicyConfig *cfg, const PolicyState *state, const PolicyEvent *event, usec_t now,
                PolicyStep *ret);

/* Refuse configurations the policy would silently override: auto on a failback playbook,
 * auto or params without a playbook, a negative frequency factor. Returns 0, or -EINVAL
 * with a message naming the level in err (when given). */
int policy_config_validate(const PolicyConfig *cfg, char *err, size_t err_size);
