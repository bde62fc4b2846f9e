/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watch-internal.h — the insides of droverd's watch (what monitoring makes the daemon
 * do), shared by its three files only:
 *   watch.c            the pipeline on the loop (probe results → detector → levels →
 *                      policy_step() → carrying out the PolicyStep), timers, building
 *                      from the config, start and reload;
 *   watch-incidents.c  the open incidents, their journal lines, restoring them (and the
 *                      active site, the last automatic switchover) at start, proposals
 *                      and the commander's calls (answer, ack, note, maintenance,
 *                      override), sites and status;
 *   watch-notify.c     notifications: JSON POSTs through a curl multi on the loop.
 * Every decision is policy_step()'s (src/incident/policy.c); these files carry them out.
 * The Manager sees the watch through manager-internal.h.
 */
#pragma once

#include "config/monitor-config.h"
#include "daemon/manager-internal.h"
#include "incident/incident.h"
#include "incident/policy-build.h"
#include "incident/policy.h"
#include "shared/curl-event.h"
#include "monitor/monitor-build.h"
#include "monitor/prober.h"

#define WATCH_ACTOR_DAEMON "droverd"

typedef struct Notification Notification;

typedef struct WatchIncident {
        int64_t id;
        Incident *inc;
        size_t n_journaled; /* log entries already in the journal */
        /* A playbook the policy proposed, waiting for a commander (manager_answer). */
        char *proposed_playbook;
        ParamValue *proposed_params;
        size_t n_proposed_params;
        /* A run of this incident was interrupted (droverd died): nothing automatic for it
         * any more; a commander decides (policy_step() turns AUTO into PROPOSE). */
        bool hold_auto;
        /* Restored from the journal (or kept over a reload) while a fresh detector and
         * level evaluator have not seen enough checks yet: policy_step() holds a lower
         * level until this CLOCK_MONOTONIC time; then the tick feeds the level they hold. */
        usec_t settle_until;
} WatchIncident;

struct Watch {
        Manager *m;

        /* Rebuilt from the config (start, reload). Borrow from m->config. */
        const Config *config;
        Prober *prober;
        Detector *detector;
        LevelEvaluator *levels;
        PolicyConfig policy;
        IncidentDeadlines deadlines;
        char ***headers; /* per probe spec, NULL-terminated "Name: value" (secrets expanded) */
        size_t n_headers;
        sd_event_source *level_timer, *tick_timer, *deadline_timer;

        /* Kept across reloads. */
        WatchIncident **incidents;
        size_t n_incidents;
        char *active_site;
        char **maintenance;    /* NULL-terminated */
        char **override_sites; /* NULL-terminated; manual_override is "every site" */
        bool manual_override;
        usec_t last_auto_switchover; /* realtime; 0 = never */
        bool frequency_raised;       /* a RAISE_FREQUENCY is in force until no incident is open */
        ClusterRole cluster_role;    /* STANDALONE until the cluster work feeds it */
        bool elected_pending;        /* elected: decide again once the failover state is read */
        char *leader;                /* FOLLOWER: the node that leads */

        /* Notifications in flight (watch-notify.c), on their own multi: a reload that
         * rebuilds the prober does not cut them off. */
        CurlEvent *notify_curl;
        Notification *notifications;
};

static inline usec_t watch_now_rt(void)
{
        return now_usec(CLOCK_REALTIME);
}

static inline bool watch_strv_contains(char *const *l, const char *s)
{
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* watch-incidents.c */
WatchIncident *watch_find_incident(Watch *w, int64_t id);
WatchIncident *watch_find_site_incident(Watch *w, const char *site);
WatchIncident *watch_incident_free(WatchIncident *wi);
void watch_remove_incident(Watch *w, WatchIncident *wi);
/* Copy the incident's new log entries into the journal, then its row (state, level).
 * run_id (0 = none) is recorded on the entries of this batch. */
void watch_flush_incident(Watch *w, WatchIncident *wi, int64_t run_id);
/* A journal line of an incident that the pure Incident does not model (decisions,
 * frequency changes, restores). */
void watch_journal_line(Watch *w, int64_t id, const char *actor, const char *kind, const char *text,
                        int64_t run_id);
WatchIncident *watch_open_incident(Watch *w, const LevelChange *lc, usec_t at);
void watch_propose(Watch *w, WatchIncident *wi, const DecisionAction *a, const char *why);
int watch_start_incident_run(Watch *w, WatchIncident *wi, const char *playbook, const ParamValue *params,
                             size_t n_params, const char *trigger, const char *actor, int64_t *ret_run);
/* At start: the active site, the last automatic switchover, the open incidents. */
void watch_restore(Watch *w);
/* The policy's view of an incident (NULL: none open). */
PolicyIncident watch_policy_incident(Watch *w, const WatchIncident *wi);
void watch_fill_policy_state(Watch *w, PolicyState *st);

/* watch.c */
void watch_arm_deadline_timer(Watch *w);

/* watch-notify.c */
int watch_notify_init(Watch *w);
void watch_notify_done(Watch *w);
/* POST the JSON message to the role's endpoint, with a deadline; the outcome is logged
 * (and journaled when it failed). Never blocks. */
void watch_notify(Watch *w, const char *role_name, WatchIncident *wi, const char *event, const char *message,
                  WarningLevel level);
/* An endpoint's headers as "Name: value" with ${secrets.NAME} expanded. Never logged. */
int watch_expand_headers(const Config *c, const Endpoint *e, char ***ret);
