/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watch-incidents.c — droverd's open incidents (see watch-internal.h): the table, their
 * journal lines and rows, opening one, proposals and incident runs, restoring incidents,
 * the active site and the last automatic switchover from the journal at start (so that
 * a restart never triggers a second failover), what a run's start and end mean (as
 * policy_step() decides), and the commander's calls (answer, ack, note, maintenance,
 * override), sites and status. Called by watch.c and, through manager-internal.h, by
 * manager.c and manager-run.c.
 *
 * Clocks: incidents and the journal on CLOCK_REALTIME. Every journal line written here
 * names its actor: "policy" for what drover decides by itself, "droverd" for
 * bookkeeping (restores), else the commander's name.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/watch-internal.h"
#include "shared/log.h"
#include "shared/strbuf.h"

/* ---- incidents and the journal ------------------------------------------------------ */

WatchIncident *watch_find_incident(Watch *w, int64_t id)
{
        for (size_t i = 0; i < w->n_incidents; i++)
                if (w->incidents[i]->id == id)
                        return w->incidents[i];
        return NULL;
}

WatchIncident *watch_find_site_incident(Watch *w, const char *site)
{
        for (size_t i = 0; i < w->n_incidents; i++)
                if (streq(incident_get_site(w->incidents[i]->inc), site))
                        return w->incidents[i];
        return NULL;
}

PolicyIncident watch_policy_incident(Watch *w, const WatchIncident *wi)
{
        if (!wi)
                return (PolicyIncident){};
        return (PolicyIncident){
                .open = true,
                .level = incident_get_level(wi->inc),
                .run_active = manager_runs_active_for_incident(w->m, wi->id),
                .hold_auto = wi->hold_auto,
                .settle_until = wi->settle_until,
        };
}

void watch_fill_policy_state(Watch *w, PolicyState *st)
{
        *st = (PolicyState){
                .active_site = w->active_site,
                .maintenance_sites = (const char *const *) w->maintenance,
                .manual_override = w->manual_override,
                .override_sites = (const char *const *) w->override_sites,
                .last_auto_switchover = w->last_auto_switchover,
                .stopping = !w->m->accepting,
                .n_open_incidents = w->n_incidents,
                .frequency_raised = w->frequency_raised,
                .cluster_role = w->cluster_role,
                .leader = w->leader,
        };
}

static const char *site_role_name(const Config *c, const char *site)
{
        const Site *s = config_find_site(c, site);
        return s ? site_role_to_string(s->role) : "other";
}

static void clear_proposal(WatchIncident *wi)
{
        for (size_t i = 0; i < wi->n_proposed_params; i++) {
                free(wi->proposed_params[i].name);
                free(wi->proposed_params[i].value);
        }
        free(wi->proposed_params);
        wi->proposed_params = NULL;
        wi->n_proposed_params = 0;
        free(wi->proposed_playbook);
        wi->proposed_playbook = NULL;
}

WatchIncident *watch_incident_free(WatchIncident *wi)
{
        if (!wi)
                return NULL;
        clear_proposal(wi);
        incident_free(wi->inc);
        free(wi);
        return NULL;
}

void watch_remove_incident(Watch *w, WatchIncident *wi)
{
        for (size_t i = 0; i < w->n_incidents; i++)
                if (w->incidents[i] == wi) {
                        memmove(&w->incidents[i], &w->incidents[i + 1],
                                (w->n_incidents - i - 1) * sizeof(WatchIncident *));
                        w->n_incidents--;
                        break;
                }
        watch_incident_free(wi);
}

/* Copy the incident's new log entries into the journal, then its row (state, level).
 * run_id (0 = none) is recorded on the entries of this batch. */
void watch_flush_incident(Watch *w, WatchIncident *wi, int64_t run_id)
{
        Manager *m = w->m;
        const IncidentAction *log;
        size_t n = incident_get_log(wi->inc, &log);
        IncidentState st = incident_get_state(wi->inc);
        int r;

        for (size_t i = wi->n_journaled; i < n; i++) {
                const IncidentAction *a = &log[i];
                bool sc = a->kind == INCIDENT_ACTION_STATE_CHANGE,
                     lc = a->kind == INCIDENT_ACTION_LEVEL_CHANGE;
                IncidentLogRecord rec = {
                        .incident_id = wi->id,
                        .at = a->at,
                        .actor = (char *) a->actor,
                        .kind = (char *) incident_action_kind_to_string(a->kind),
                        .text = (char *) a->text,
                        .state_from = sc ? (char *) incident_state_to_string(a->state_from) : NULL,
                        .state_to = sc ? (char *) incident_state_to_string(a->state_to) : NULL,
                        .level_from = lc ? (int) a->level_from : -1,
                        .level_to = lc ? (int) a->level_to : -1,
                        .run_id = run_id,
                };
                r = journal_incident_log(m->journal, &rec, NULL);
                if (r < 0)
                        log_warning_errno(r, "journal: cannot record incident %lld's %s: %s",
                                          (long long) wi->id, rec.kind, strerror(-r));
        }
        wi->n_journaled = n;
        r = journal_incident_update(m->journal, wi->id, incident_state_to_string(st),
                                    (int) incident_get_level(wi->inc), NULL,
                                    st == INCIDENT_CLOSED ? watch_now_rt() : 0);
        if (r < 0)
                log_warning_errno(r, "journal: cannot update incident %lld: %s", (long long) wi->id,
                                  strerror(-r));
        if (m->observer.incident_changed)
                m->observer.incident_changed(m->observer.userdata, wi->id, incident_state_to_string(st),
                                             (int) incident_get_level(wi->inc));
}

/* A journal line of an incident that the pure Incident does not model (decisions,
 * frequency changes, restores). */
void watch_journal_line(Watch *w, int64_t id, const char *actor, const char *kind, const char *text,
                        int64_t run_id)
{
        IncidentLogRecord rec = {
                .incident_id = id,
                .actor = (char *) actor,
                .kind = (char *) kind,
                .text = (char *) text,
                .level_from = -1,
                .level_to = -1,
                .run_id = run_id,
        };
        int r = journal_incident_log(w->m->journal, &rec, NULL);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record incident %lld's %s: %s", (long long) id, kind,
                                  strerror(-r));
}

static const char *impact_of(Watch *w, const char *site)
{
        if (w->active_site && streq(site, w->active_site))
                return "the active site: customer services at risk";
        const Site *s = config_find_site(w->config, site);
        if (s && s->role == SITE_ROLE_OTHER)
                return "a dependency of the e-bank (vendor or gateway)";
        return "a site not serving customers: redundancy reduced";
}

WatchIncident *watch_open_incident(Watch *w, const LevelChange *lc, usec_t at)
{
        Manager *m = w->m;
        _cleanup_free_ char *idstr = NULL;
        IncidentRecord rec = {
                .opened_at = at,
                .site = (char *) lc->site,
                .subject = (char *) lc->site,
                .phenomenon = (char *) lc->reason,
                .impact = (char *) impact_of(w, lc->site),
                .state = (char *) "detected",
                .level = (int) lc->to,
        };
        WatchIncident *wi;
        int64_t id;
        int r;

        r = journal_incident_open(m->journal, &rec, &id);
        if (r < 0) {
                log_error_errno(r, "journal: cannot open an incident for %s: %s", lc->site, strerror(-r));
                return NULL;
        }
        idstr = xasprintf("%lld", (long long) id);
        wi = xcalloc(1, sizeof(*wi));
        wi->id = id;
        r = incident_new(&wi->inc, &(IncidentInfo){
                                           .id = idstr,
                                           .site = lc->site,
                                           .subject = lc->subject,
                                           .phenomenon = lc->reason,
                                           .impact = rec.impact,
                                           .level = lc->to,
                                           .opened_at = at,
                                           .actor = INCIDENT_ACTOR_POLICY,
                                           .reason = lc->reason,
                                           .deadlines = &w->deadlines,
                                   });
        if (r < 0) {
                log_error_errno(r, "cannot track incident %lld: %s", (long long) id, strerror(-r));
                free(wi);
                return NULL;
        }
        *(WatchIncident **) array_push(&w->incidents, &w->n_incidents, sizeof(WatchIncident *)) = wi;
        log_warning("incident %lld opened: %s at level %d (%s): %s", (long long) id, lc->site, (int) lc->to,
                    warning_level_to_string(lc->to), lc->reason);
        watch_flush_incident(w, wi, 0);
        return wi;
}

/* ---- notifications ------------------------------------------------------------------ */

void watch_propose(Watch *w, WatchIncident *wi, const DecisionAction *a, const char *why)
{
        _cleanup_free_ char *text = NULL;

        clear_proposal(wi);
        wi->proposed_playbook = xstrdup(a->playbook);
        for (size_t i = 0; i < a->n_params; i++) {
                ParamValue *pv =
                        array_push(&wi->proposed_params, &wi->n_proposed_params, sizeof(ParamValue));
                pv->name = xstrdup(a->params[i].name);
                pv->value = xstrdup(a->params[i].value);
        }
        text = xasprintf("%s proposed, waiting for a commander's approval: %s", a->playbook, why);
        (void) incident_log_action(wi->inc, INCIDENT_ACTION_PLAYBOOK_PROPOSED, INCIDENT_ACTOR_POLICY, text,
                                   watch_now_rt());
        watch_flush_incident(w, wi, 0);
        log_warning("incident %lld: %s", (long long) wi->id, text);
        if (w->m->observer.approval_requested)
                w->m->observer.approval_requested(w->m->observer.userdata, "incident", wi->id, text);
}

int watch_start_incident_run(Watch *w, WatchIncident *wi, const char *playbook, const ParamValue *params,
                             size_t n_params, const char *trigger, const char *actor, int64_t *ret_run)
{
        _cleanup_free_ char *error = NULL;
        int64_t run_id = 0;
        int r;

        r = manager_start_run(w->m,
                              &(ManagerRunRequest){
                                      .playbook = playbook,
                                      .params = params,
                                      .n_params = n_params,
                                      .trigger = trigger,
                                      .actor = actor,
                                      .incident_id = wi->id,
                              },
                              &run_id, NULL, &error);
        if (r < 0) {
                _cleanup_free_ char *text =
                        xasprintf("%s could not be started: %s", playbook, error ?: strerror(-r));
                log_error("incident %lld: %s", (long long) wi->id, text);
                watch_journal_line(w, wi->id, actor, "playbook-start-failed", text, 0);
                return r;
        }
        if (ret_run)
                *ret_run = run_id;
        return 0;
}

/* ---- restore from the journal ------------------------------------------------------- */

static void restore_active_site(Watch *w)
{
        EventRecord *ev = NULL;
        size_t n = 0;

        free(w->active_site);
        w->active_site = xstrdup(w->config->monitor ? w->config->monitor->active_site : NULL);
        if (journal_list_events(w->m->journal, 0, &ev, &n) < 0)
                return;
        for (size_t i = n; i > 0; i--) {
                if (!streq_ptr(ev[i - 1].kind, "active-site-changed") || !ev[i - 1].data_json)
                        continue;
                json_t *o = json_loads(ev[i - 1].data_json, 0, NULL);
                const char *to = json_string_value(json_object_get(o, "to"));
                if (to && config_find_site(w->config, to)) {
                        free(w->active_site);
                        w->active_site = xstrdup(to);
                }
                json_decref(o);
                break;
        }
        for (size_t i = 0; i < n; i++)
                event_record_done(&ev[i]);
        free(ev);
}

static void restore_last_auto(Watch *w)
{
        RunRecord *runs = NULL;
        size_t n = 0;

        if (journal_list_runs(w->m->journal, 0, &runs, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(runs[i].trigger, "auto") && streq_ptr(runs[i].kind, "switchover")) {
                        w->last_auto_switchover = runs[i].started;
                        break;
                }
        for (size_t i = 0; i < n; i++)
                run_record_done(&runs[i]);
        free(runs);
}

static void restore_incident(Watch *w, const IncidentRecord *rec)
{
        _cleanup_free_ char *idstr = xasprintf("%lld", (long long) rec->id);
        IncidentState st = incident_state_from_string(rec->state);
        WarningLevel level =
                rec->level >= LEVEL_RED && rec->level <= LEVEL_BLUE ? (WarningLevel) rec->level : LEVEL_BLUE;
        IncidentLogRecord *log = NULL;
        WatchIncident *wi;
        size_t n = 0;
        int r;

        if (rec->drill || st == INCIDENT_RESOLVED || st == INCIDENT_CLOSED || st < 0)
                return;
        wi = xcalloc(1, sizeof(*wi));
        wi->id = rec->id;
        r = incident_new(&wi->inc, &(IncidentInfo){
                                           .id = idstr,
                                           .site = rec->site ?: rec->subject,
                                           .subject = rec->subject,
                                           .phenomenon = rec->phenomenon ?: rec->subject,
                                           .impact = rec->impact,
                                           .level = level,
                                           .opened_at = rec->opened_at,
                                           .actor = WATCH_ACTOR_DAEMON,
                                           .reason = "restored from the journal at start",
                                           .deadlines = &w->deadlines,
                                   });
        if (r < 0) {
                free(wi);
                return;
        }
        if (st != INCIDENT_DETECTED)
                (void) incident_transition(wi->inc, st, WATCH_ACTOR_DAEMON, "restored from the journal",
                                           watch_now_rt(), NULL);
        if (rec->level == 0)
                (void) incident_set_level(wi->inc, LEVEL_NONE, WATCH_ACTOR_DAEMON, "restored",
                                          watch_now_rt());
        /* What the restore itself logged is bookkeeping, not news for the journal. */
        wi->n_journaled = incident_get_log(wi->inc, &(const IncidentAction *){NULL});
        *(WatchIncident **) array_push(&w->incidents, &w->n_incidents, sizeof(WatchIncident *)) = wi;

        /* Runs this incident started that droverd's death interrupted: said once, and
         * nothing automatic for this incident any more. */
        if (journal_list_incident_log(w->m->journal, rec->id, &log, &n) >= 0) {
                for (size_t i = 0; i < n; i++) {
                        RunRecord run = {};
                        if (!streq_ptr(log[i].kind, "playbook-started") || log[i].run_id <= 0)
                                continue;
                        if (journal_get_run(w->m->journal, log[i].run_id, &run) < 0)
                                continue;
                        if (run.outcome == RUN_INTERRUPTED) {
                                bool said = false;
                                for (size_t k = 0; k < n; k++)
                                        if (streq_ptr(log[k].kind, "run-interrupted") &&
                                            log[k].run_id == run.id)
                                                said = true;
                                wi->hold_auto = true;
                                if (!said) {
                                        _cleanup_free_ char *t =
                                                xasprintf("run %lld (%s) was interrupted: droverd stopped "
                                                          "during it; it is not "
                                                          "started again automatically, a commander decides",
                                                          (long long) run.id, run.playbook);
                                        log_warning("incident %lld: %s", (long long) rec->id, t);
                                        watch_journal_line(w, rec->id, WATCH_ACTOR_DAEMON, "run-interrupted",
                                                           t, run.id);
                                }
                        }
                        run_record_done(&run);
                }
                for (size_t i = 0; i < n; i++)
                        incident_log_record_done(&log[i]);
                free(log);
        }
        log_info("incident %lld restored: %s at level %d, %s%s", (long long) rec->id,
                 incident_get_site(wi->inc), rec->level, rec->state,
                 wi->hold_auto ? " (automation held: an interrupted run)" : "");
}

static void restore_incidents(Watch *w)
{
        IncidentRecord *recs = NULL;
        size_t n = 0;

        if (journal_list_incidents(w->m->journal, true, &recs, &n) < 0)
                return;
        for (size_t i = n; i > 0; i--) /* oldest first */
                if (!watch_find_site_incident(w, recs[i - 1].site ?: recs[i - 1].subject))
                        restore_incident(w, &recs[i - 1]);
        for (size_t i = 0; i < n; i++)
                incident_record_done(&recs[i]);
        free(recs);
}

void watch_restore(Watch *w)
{
        restore_active_site(w);
        restore_last_auto(w);
        restore_incidents(w);
}

/* What a run's start or end means, as policy_step() decides it; kind is the run's
 * playbook kind ("switchover" …) or NULL. */
static int run_step(Watch *w, PolicyEventKind kind, const ManagerRun *run, const char *playbook_kind,
                    bool succeeded, PolicyStep *ret)
{
        const Config *c = w->config;
        _cleanup_free_ PolicySite *sites = xcalloc(c->n_sites + 1, sizeof(PolicySite));
        PolicyState st;

        for (size_t i = 0; i < c->n_sites; i++)
                sites[i] = (PolicySite){
                        .name = c->sites[i].name,
                        .role = c->sites[i].role == SITE_ROLE_PRIMARY  ? POLICY_SITE_PRIMARY
                                : c->sites[i].role == SITE_ROLE_BACKUP ? POLICY_SITE_BACKUP
                                                                       : POLICY_SITE_OTHER,
                };
        watch_fill_policy_state(w, &st);
        return policy_step(&w->policy, &st,
                           &(PolicyEvent){
                                   .kind = kind,
                                   .trigger = run->trigger,
                                   .playbook_kind = playbook_kind ? playbook_kind_from_string(playbook_kind)
                                                                  : _PLAYBOOK_KIND_INVALID,
                                   .succeeded = succeeded,
                                   .sites = sites,
                                   .n_sites = c->n_sites,
                           },
                           watch_now_rt(), ret);
}

void watch_run_started(Watch *w, const ManagerRun *run, const char *playbook_kind)
{
        WatchIncident *wi = run->incident_id > 0 ? watch_find_incident(w, run->incident_id) : NULL;
        usec_t now = watch_now_rt();
        PolicyStep s;

        if (run_step(w, POLICY_EVENT_RUN_STARTED, run, playbook_kind, false, &s) >= 0 &&
            s.note_auto_switchover) {
                w->last_auto_switchover = now;
                manager_cluster_publish_failover(w->m, w->active_site, w->last_auto_switchover);
        }
        if (!wi)
                return;
        _cleanup_free_ char *t = xasprintf("run %lld: %s started by %s (trigger %s)", (long long) run->id,
                                           run->playbook, run->actor, run->trigger);
        (void) incident_log_action(wi->inc, INCIDENT_ACTION_PLAYBOOK_STARTED, run->actor, t, now);
        if (incident_transition_allowed(incident_get_state(wi->inc), INCIDENT_MITIGATING))
                (void) incident_transition(wi->inc, INCIDENT_MITIGATING, run->actor, t, now, NULL);
        watch_flush_incident(w, wi, run->id);
}

void watch_run_ended(Watch *w, const ManagerRun *run, const char *playbook_kind)
{
        WatchIncident *wi = run->incident_id > 0 ? watch_find_incident(w, run->incident_id) : NULL;
        bool ok = run->outcome == RUN_SUCCEEDED;
        PolicyStep s;

        if (wi) {
                _cleanup_free_ char *t = xasprintf("run %lld: %s %s", (long long) run->id, run->playbook,
                                                   run_outcome_to_string(run->outcome));
                (void) incident_log_action(wi->inc, INCIDENT_ACTION_PLAYBOOK_FINISHED, INCIDENT_ACTOR_POLICY,
                                           t, watch_now_rt());
                watch_flush_incident(w, wi, run->id);
        }
        if (run_step(w, POLICY_EVENT_RUN_ENDED, run, playbook_kind, ok, &s) < 0 || !s.new_active_site)
                return;
        _cleanup_free_ char *to = xstrdup(s.new_active_site);
        _cleanup_free_ char *msg = xasprintf("active site: %s → %s after run %lld (%s)",
                                             strna(w->active_site), to, (long long) run->id, run->playbook);
        log_notice("%s", msg);
        manager_journal_event(w->m, "active-site-changed", msg,
                              json_pack("{s:s?, s:s, s:I, s:s}", "from", w->active_site, "to", to, "run",
                                        (json_int_t) run->id, "actor", run->actor));
        free(w->active_site);
        w->active_site = TAKE_PTR(to);
        manager_cluster_publish_failover(w->m, w->active_site, w->last_auto_switchover);
}

int watch_answer_incident(Watch *w, int64_t id, bool approve, const char *actor, const char *comment)
{
        WatchIncident *wi = watch_find_incident(w, id);
        _cleanup_free_ char *t = NULL, *playbook = NULL;
        int r;

        if (!wi)
                return -ENOENT;
        if (!wi->proposed_playbook)
                return -EALREADY;
        t = xasprintf("%s %s by %s%s%s", wi->proposed_playbook, approve ? "approved" : "rejected", actor,
                      comment ? ": " : "", strempty(comment));
        (void) incident_log_action(
                wi->inc, approve ? INCIDENT_ACTION_PLAYBOOK_APPROVED : INCIDENT_ACTION_PLAYBOOK_REJECTED,
                actor, t, watch_now_rt());
        watch_flush_incident(w, wi, 0);
        log_info("incident %lld: %s", (long long) id, t);
        if (!approve) {
                clear_proposal(wi);
                return 0;
        }
        if (!w->m->accepting)
                return -EBUSY;
        playbook = xstrdup(wi->proposed_playbook);
        r = watch_start_incident_run(w, wi, playbook, wi->proposed_params, wi->n_proposed_params, "approved",
                                     actor, NULL);
        if (r < 0)
                return r;
        clear_proposal(wi);
        return 0;
}

int watch_ack_incident(Watch *w, int64_t id, const char *actor)
{
        WatchIncident *wi = watch_find_incident(w, id);
        const IncidentAction *log;
        size_t n;
        int r;

        if (!wi)
                return -ENOENT;
        /* "Already" means already acknowledged. The verify milestone may have been met by
         * something else (an approved run starting): the acknowledgement is still new. */
        n = incident_get_log(wi->inc, &log);
        for (size_t i = 0; i < n; i++)
                if (log[i].kind == INCIDENT_ACTION_ACKNOWLEDGED)
                        return -EALREADY;
        r = incident_log_action(wi->inc, INCIDENT_ACTION_ACKNOWLEDGED, actor, "verified by the duty office",
                                watch_now_rt());
        if (r < 0)
                return r;
        (void) incident_record_milestone(wi->inc, INCIDENT_DEADLINE_VERIFY, actor, "acknowledged",
                                         watch_now_rt());
        if (incident_get_state(wi->inc) == INCIDENT_DETECTED)
                (void) incident_transition(wi->inc, INCIDENT_VERIFIED, actor,
                                           "acknowledged by the duty office", watch_now_rt(), NULL);
        watch_flush_incident(w, wi, 0);
        watch_arm_deadline_timer(w);
        return 0;
}

int watch_note_incident(Watch *w, int64_t id, const char *actor, const char *text)
{
        WatchIncident *wi = watch_find_incident(w, id);
        int r;

        if (!wi)
                return -ENOENT;
        r = incident_log_action(wi->inc, INCIDENT_ACTION_NOTE, actor, text, watch_now_rt());
        if (r < 0)
                return r;
        watch_flush_incident(w, wi, 0);
        return 0;
}

int watch_set_maintenance(Watch *w, const char *site, bool on, const char *actor)
{
        size_t n = 0;
        _cleanup_free_ char *msg = NULL;

        if (!config_find_site(w->config, site))
                return -ENOENT;
        bool is_on = watch_strv_contains(w->maintenance, site);
        if (is_on == on)
                return -EALREADY;
        while (w->maintenance[n])
                n++;
        if (on) {
                w->maintenance = xrealloc(w->maintenance, (n + 2) * sizeof(char *));
                w->maintenance[n] = xstrdup(site);
                w->maintenance[n + 1] = NULL;
        } else {
                for (size_t i = 0; i < n; i++)
                        if (streq(w->maintenance[i], site)) {
                                free(w->maintenance[i]);
                                memmove(&w->maintenance[i], &w->maintenance[i + 1],
                                        (n - i) * sizeof(char *));
                                break;
                        }
        }
        msg = xasprintf("maintenance of site %s %s by %s", site, on ? "started" : "ended", actor);
        log_notice("%s", msg);
        manager_journal_event(w->m, on ? "maintenance-on" : "maintenance-off", msg,
                              json_pack("{s:s, s:s}", "site", site, "actor", actor));
        WatchIncident *wi = watch_find_site_incident(w, site);
        if (wi) {
                (void) incident_log_action(wi->inc, INCIDENT_ACTION_MAINTENANCE, actor, msg, watch_now_rt());
                watch_flush_incident(w, wi, 0);
        }
        return 0;
}

/* Add or remove s in a NULL-terminated list; false when nothing changed. */
static bool strv_toggle(char ***l, const char *s, bool on)
{
        size_t n = 0;

        if (watch_strv_contains(*l, s) == on)
                return false;
        while ((*l)[n])
                n++;
        if (on) {
                *l = xrealloc(*l, (n + 2) * sizeof(char *));
                (*l)[n] = xstrdup(s);
                (*l)[n + 1] = NULL;
                return true;
        }
        for (size_t i = 0; i < n; i++)
                if (streq((*l)[i], s)) {
                        free((*l)[i]);
                        memmove(&(*l)[i], &(*l)[i + 1], (n - i) * sizeof(char *));
                        break;
                }
        return true;
}

int watch_set_override(Watch *w, const char *site, bool on, const char *actor)
{
        _cleanup_free_ char *msg = NULL;

        if (site && !config_find_site(w->config, site))
                return -ENOENT;
        if (!site) {
                if (w->manual_override == on)
                        return -EALREADY;
                w->manual_override = on;
        } else if (!strv_toggle(&w->override_sites, site, on))
                return -EALREADY;
        msg = xasprintf("manual override %s %s by %s: %s", site ? "of site" : "of every site",
                        strempty(site), actor,
                        on ? "nothing automatic, proposals only" : "automation allowed again");
        log_notice("%s", msg);
        manager_journal_event(w->m, on ? "override-on" : "override-off", msg,
                              json_pack("{s:s?, s:s}", "site", site, "actor", actor));
        for (size_t i = 0; i < w->n_incidents; i++) {
                WatchIncident *wi = w->incidents[i];
                if (site && !streq(incident_get_site(wi->inc), site))
                        continue;
                (void) incident_log_action(wi->inc, INCIDENT_ACTION_OVERRIDE, actor, msg, watch_now_rt());
                watch_flush_incident(w, wi, 0);
        }
        return 0;
}

static Health site_health(const Watch *w, const char *site)
{
        Health worst = HEALTH_UNKNOWN;
        bool any = false;

        if (!w->detector)
                return HEALTH_UNKNOWN;
        for (size_t i = 0; i < detector_n_targets(w->detector); i++) {
                const DetectorTargetConfig *t = detector_target_config(w->detector, i);
                if (!streq(t->site, site))
                        continue;
                Health h = detector_health(w->detector, t->name);
                if (!any) {
                        worst = h;
                        any = true;
                } else if (h == HEALTH_DOWN || (h == HEALTH_DEGRADED && worst != HEALTH_DOWN) ||
                           (h == HEALTH_UNKNOWN && worst == HEALTH_UP))
                        worst = h;
        }
        return worst;
}

int watch_list_sites(Watch *w, ManagerSite **ret, size_t *ret_n)
{
        const Config *c = w->config ?: w->m->config;
        ManagerSite *a = xcalloc(c->n_sites + 1, sizeof(ManagerSite));

        for (size_t i = 0; i < c->n_sites; i++) {
                const char *name = c->sites[i].name;
                LevelStatus ls = {};
                WatchIncident *wi = watch_find_site_incident(w, name);
                a[i].name = xstrdup(name);
                a[i].role = xstrdup(site_role_name(c, name));
                a[i].health = xstrdup(health_to_string(site_health(w, name)));
                if (w->levels && levels_get(w->levels, name, true, &ls) >= 0)
                        a[i].level = (int) ls.level;
                if (wi &&
                    (a[i].level == 0 || warning_level_more_severe(incident_get_level(wi->inc), a[i].level)))
                        a[i].level = (int) incident_get_level(wi->inc);
                a[i].active = streq_ptr(w->active_site, name);
                a[i].maintenance = watch_strv_contains(w->maintenance, name);
        }
        *ret = a;
        *ret_n = c->n_sites;
        return 0;
}

void watch_status(const Watch *w, size_t *ret_probes, size_t *ret_open, int *ret_worst_level)
{
        WarningLevel worst = LEVEL_NONE;

        for (size_t i = 0; i < w->n_incidents; i++)
                if (warning_level_more_severe(incident_get_level(w->incidents[i]->inc), worst))
                        worst = incident_get_level(w->incidents[i]->inc);
        *ret_probes = w->prober ? prober_n_probes(w->prober) : 0;
        *ret_open = w->n_incidents;
        *ret_worst_level = (int) worst;
}
