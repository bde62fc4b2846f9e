/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.h — what drover does when a warning level changes (pure): notify named
 * roles, raise the probe frequency, propose a playbook for approval, or run it
 * automatically where the configuration allows it for that level. Carries the
 * anti-flap rules: a cooldown between automatic switchovers, never an automatic
 * failback, maintenance silences a site, manual override holds back automation.
 *
 * Owns: policy_decide() and the Decision it fills. Does not own: sending
 * notifications, running playbooks, approvals, clocks or the journal (the daemon
 * does those with the Decision, and records Decision.reason). Called by the
 * daemon on every LevelChange and every DeadlineMiss; by tests.
 *
 * Lifetime: PolicyConfig and PolicyState are the caller's; a Decision borrows the
 * role lists, playbook names and params from the PolicyConfig it was made from
 * (valid while that config lives). Reasons are inline buffers.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "monitor/probe-result.h"
#include "playbook/playbook.h"
#include "shared/time-util.h"

#define POLICY_REASON_MAX 256
#define DECISION_ACTIONS_MAX 4
#define POLICY_DEFAULT_COOLDOWN (30 * USEC_PER_MINUTE)

typedef struct PolicyParam {
        const char *name;
        const char *value;
} PolicyParam;

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

/* Refuse configurations the policy would silently override: auto on a failback playbook,
 * auto or params without a playbook, a negative frequency factor. Returns 0, or -EINVAL
 * with a message naming the level in err (when given). */
int policy_config_validate(const PolicyConfig *cfg, char *err, size_t err_size);
