/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor.c — droverd's monitoring pipeline, wired on the loop:
 *   ProbeResult → detector → HealthChange → levels → LevelChange (per site)
 *   → incident (open, escalate, de-escalate, resolve) → policy_decide() → actions
 *   (notify roles, raise the probe frequency, propose a playbook, run it automatically).
 *
 * Owns: building the Prober/Detector/LevelEvaluator/PolicyConfig from Config.monitor
 * (rebuilt on reload), the open incidents (kept across reloads), the active site, the
 * maintenance list, the manual override, the time of the last automatic switchover,
 * the timers (level durations, staleness ticks, incident deadlines), notifications
 * (POST JSON to each role's endpoint in a short-lived child with a deadline), and
 * restoring all of that from the journal at start so that a restart never triggers
 * a second failover. Does not own: the decisions (detector.c, levels.c, incident.c,
 * policy.c are pure and decide everything), runs (manager-run.c), the journal's
 * schema. Called by manager.c and manager-run.c.
 *
 * Clocks: probes, detector and levels run on CLOCK_MONOTONIC (durations); incidents,
 * the policy's cooldown and the journal on CLOCK_REALTIME (records). Every journal
 * line written here names its actor: "policy" for what drover decides by itself,
 * "droverd" for bookkeeping (restores), else the commander's name.
 */
#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/monitor-config.h"
#include "daemon/manager-internal.h"
#include "monitor/prober.h"
#include "playbook/playbook.h"
#include "playbook/template.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"

#define ACTOR_DAEMON           "droverd"
#define NOTIFY_DEFAULT_TIMEOUT (5 * USEC_PER_SEC)
#define MONITOR_CHANGES_MAX    256

typedef struct MonIncident {
        int64_t id;
        Incident *inc;
        size_t n_journaled; /* log entries already in the journal */
        /* A playbook the policy proposed, waiting for a commander (manager_answer). */
        char *proposed_playbook;
        ParamValue *proposed_params;
        size_t n_proposed_params;
        /* A run of this incident was interrupted (droverd died): nothing automatic for it
         * any more; a commander decides. */
        bool hold_auto;
        /* Restored from the journal (or kept over a reload) while a fresh detector and
         * level evaluator have not seen enough checks yet: a lower level they report is
         * not news until this CLOCK_MONOTONIC time; then the level they hold is applied. */
        usec_t settle_until;
} MonIncident;

typedef struct Notification {
        Monitor *mon;
        pid_t pid;
        sd_event_source *child;
        char *role, *url;
        int64_t incident_id;
        struct Notification *next;
} Notification;

struct Monitor {
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
        MonIncident **incidents;
        size_t n_incidents;
        char *active_site;
        char **maintenance;    /* NULL-terminated */
        char **override_sites; /* NULL-terminated; manual_override is "every site" */
        bool manual_override;
        usec_t last_auto_switchover; /* realtime; 0 = never */
        bool frequency_raised;       /* a RAISE_FREQUENCY is in force until no incident is open */
        Notification *notifications;
};

static usec_t now_rt(void)
{
        return now_usec(CLOCK_REALTIME);
}

/* A monotonic instant as wall-clock time, for records. */
static usec_t mono_to_rt(usec_t mono)
{
        usec_t nm = now_usec(CLOCK_MONOTONIC), nr = now_rt();
        if (mono == 0 || mono > nm)
                return nr;
        return nr - (nm - mono);
}

static const char *site_role_name(const Config *c, const char *site)
{
        const Site *s = config_find_site(c, site);
        return s ? site_role_to_string(s->role) : "other";
}

static bool strv_contains(char *const *l, const char *s)
{
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* ---- incidents and the journal ------------------------------------------------------ */

static MonIncident *find_incident(Monitor *mon, int64_t id)
{
        for (size_t i = 0; i < mon->n_incidents; i++)
                if (mon->incidents[i]->id == id)
                        return mon->incidents[i];
        return NULL;
}

static MonIncident *find_site_incident(Monitor *mon, const char *site)
{
        for (size_t i = 0; i < mon->n_incidents; i++)
                if (streq(incident_get_site(mon->incidents[i]->inc), site))
                        return mon->incidents[i];
        return NULL;
}

static void clear_proposal(MonIncident *mi)
{
        for (size_t i = 0; i < mi->n_proposed_params; i++) {
                free(mi->proposed_params[i].name);
                free(mi->proposed_params[i].value);
        }
        free(mi->proposed_params);
        mi->proposed_params = NULL;
        mi->n_proposed_params = 0;
        free(mi->proposed_playbook);
        mi->proposed_playbook = NULL;
}

static MonIncident *mon_incident_free(MonIncident *mi)
{
        if (!mi)
                return NULL;
        clear_proposal(mi);
        incident_free(mi->inc);
        free(mi);
        return NULL;
}

static void remove_incident(Monitor *mon, MonIncident *mi)
{
        for (size_t i = 0; i < mon->n_incidents; i++)
                if (mon->incidents[i] == mi) {
                        memmove(&mon->incidents[i], &mon->incidents[i + 1],
                                (mon->n_incidents - i - 1) * sizeof(MonIncident *));
                        mon->n_incidents--;
                        break;
                }
        mon_incident_free(mi);
}

/* Copy the incident's new log entries into the journal, then its row (state, level).
 * run_id (0 = none) is recorded on the entries of this batch. */
static void flush_incident(Monitor *mon, MonIncident *mi, int64_t run_id)
{
        Manager *m = mon->m;
        const IncidentAction *log;
        size_t n = incident_get_log(mi->inc, &log);
        IncidentState st = incident_get_state(mi->inc);
        int r;

        for (size_t i = mi->n_journaled; i < n; i++) {
                const IncidentAction *a = &log[i];
                bool sc = a->kind == INCIDENT_ACTION_STATE_CHANGE,
                     lc = a->kind == INCIDENT_ACTION_LEVEL_CHANGE;
                IncidentLogRecord rec = {
                        .incident_id = mi->id,
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
                                          (long long) mi->id, rec.kind, strerror(-r));
        }
        mi->n_journaled = n;
        r = journal_incident_update(m->journal, mi->id, incident_state_to_string(st),
                                    (int) incident_get_level(mi->inc), NULL,
                                    st == INCIDENT_CLOSED ? now_rt() : 0);
        if (r < 0)
                log_warning_errno(r, "journal: cannot update incident %lld: %s", (long long) mi->id,
                                  strerror(-r));
        if (m->observer.incident_changed)
                m->observer.incident_changed(m->observer.userdata, mi->id, incident_state_to_string(st),
                                             (int) incident_get_level(mi->inc));
}

/* A journal line of an incident that the pure Incident does not model (decisions,
 * frequency changes, restores). */
static void journal_incident_line(Monitor *mon, int64_t id, const char *actor, const char *kind,
                                  const char *text, int64_t run_id)
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
        int r = journal_incident_log(mon->m->journal, &rec, NULL);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record incident %lld's %s: %s", (long long) id, kind,
                                  strerror(-r));
}

static const char *impact_of(Monitor *mon, const char *site)
{
        if (mon->active_site && streq(site, mon->active_site))
                return "the active site: customer services at risk";
        const Site *s = config_find_site(mon->config, site);
        if (s && s->role == SITE_ROLE_OTHER)
                return "a dependency of the e-bank (vendor or gateway)";
        return "a site not serving customers: redundancy reduced";
}

static MonIncident *open_incident(Monitor *mon, const LevelChange *lc, usec_t at)
{
        Manager *m = mon->m;
        _cleanup_free_ char *idstr = NULL;
        IncidentRecord rec = {
                .opened_at = at,
                .site = (char *) lc->site,
                .subject = (char *) lc->site,
                .phenomenon = (char *) lc->reason,
                .impact = (char *) impact_of(mon, lc->site),
                .state = (char *) "detected",
                .level = (int) lc->to,
        };
        MonIncident *mi;
        int64_t id;
        int r;

        r = journal_incident_open(m->journal, &rec, &id);
        if (r < 0) {
                log_error_errno(r, "journal: cannot open an incident for %s: %s", lc->site, strerror(-r));
                return NULL;
        }
        idstr = xasprintf("%lld", (long long) id);
        mi = xcalloc(1, sizeof(*mi));
        mi->id = id;
        r = incident_new(&mi->inc, &(IncidentInfo){
                                           .id = idstr,
                                           .site = lc->site,
                                           .subject = lc->subject,
                                           .phenomenon = lc->reason,
                                           .impact = rec.impact,
                                           .level = lc->to,
                                           .opened_at = at,
                                           .actor = INCIDENT_ACTOR_POLICY,
                                           .reason = lc->reason,
                                           .deadlines = &mon->deadlines,
                                   });
        if (r < 0) {
                log_error_errno(r, "cannot track incident %lld: %s", (long long) id, strerror(-r));
                free(mi);
                return NULL;
        }
        *(MonIncident **) array_push(&mon->incidents, &mon->n_incidents, sizeof(MonIncident *)) = mi;
        log_warning("incident %lld opened: %s at level %d (%s): %s", (long long) id, lc->site, (int) lc->to,
                    warning_level_to_string(lc->to), lc->reason);
        flush_incident(mon, mi, 0);
        return mi;
}

/* ---- notifications ------------------------------------------------------------------ */

static int secret_lookup(void *userdata, const char *ref, char **ret_value, bool *ret_secret)
{
        const Config *c = userdata;
        const Secret *s;

        if (strncmp(ref, "secrets.", 8) != 0 || !(s = config_find_secret(c, ref + 8)))
                return -ENOENT;
        *ret_secret = true;
        return secret_read_value(s, ret_value);
}

/* An endpoint's headers as "Name: value" with ${secrets.NAME} expanded. Never logged. */
static int expand_headers(const Config *c, const Endpoint *e, char ***ret)
{
        char **l = NULL;
        size_t n = 0;

        for (size_t i = 0; e && i < e->n_headers; i++) {
                Template t = {};
                DiagList diags;
                _cleanup_free_ char *value = NULL;
                bool secret = false;
                int r;

                diag_list_init(&diags);
                r = template_parse(&t, e->headers[i].value, c->path, e->line, e->col, &diags);
                diag_list_done(&diags);
                if (r >= 0)
                        r = template_expand(&t, secret_lookup, (void *) c, &value, &secret, NULL);
                template_done(&t);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                *(char **) array_push(&l, &n, sizeof(char *)) =
                        xasprintf("%s: %s", e->headers[i].name, value);
        }
        *(char **) array_push(&l, &n, sizeof(char *)) = NULL;
        *ret = l;
        return 0;
}

static Notification *notification_free(Notification *nt)
{
        if (!nt)
                return NULL;
        sd_event_source_disable_unref(nt->child);
        if (nt->pid > 0) {
                (void) kill(nt->pid, SIGKILL);
                (void) waitpid(nt->pid, NULL, 0);
        }
        free(nt->role);
        free(nt->url);
        free(nt);
        return NULL;
}

static int on_notify_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        Notification *nt = userdata;
        Monitor *mon = nt->mon;

        nt->pid = 0;
        if (si->si_code != CLD_EXITED || si->si_status != 0) {
                _cleanup_free_ char *msg =
                        xasprintf("notification of role %s (%s) failed: %s", nt->role, nt->url,
                                  si->si_code != CLD_EXITED ? "killed"
                                  : si->si_status == 2      ? "no answer before the deadline"
                                  : si->si_status == 3      ? "the endpoint refused it"
                                                            : "could not send");
                log_warning("%s", msg);
                if (nt->incident_id > 0)
                        journal_incident_line(mon, nt->incident_id, INCIDENT_ACTOR_POLICY, "notify-failed",
                                              msg, 0);
                else
                        manager_journal_event(mon->m, "notify-failed", msg,
                                              json_pack("{s:s, s:s}", "role", nt->role, "url", nt->url));
        } else
                log_debug("role %s notified", nt->role);
        for (Notification **p = &mon->notifications; *p; p = &(*p)->next)
                if (*p == nt) {
                        *p = nt->next;
                        break;
                }
        notification_free(nt);
        return 0;
}

/* Child: one POST with libcurl, a hard deadline, then _exit (0 ok, 2 timeout, 3 HTTP
 * status not 2xx, 1 anything else). The parent is not blocked. */
_noreturn_ static void notify_child(const char *url, const Endpoint *e, char **headers, const char *body,
                                    usec_t timeout)
{
        struct curl_slist *h = NULL;
        CURL *c;
        long status = 0;
        CURLcode cc;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        c = curl_easy_init();
        if (!c)
                _exit(1);
        h = curl_slist_append(h, "Content-Type: application/json");
        for (char **p = headers; p && *p; p++)
                h = curl_slist_append(h, *p);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) (timeout / USEC_PER_MSEC));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (e && e->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
        if (e && e->client_cert)
                curl_easy_setopt(c, CURLOPT_SSLCERT, e->client_cert);
        if (e && e->client_key)
                curl_easy_setopt(c, CURLOPT_SSLKEY, e->client_key);
        if (e && !e->tls_verify) {
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull)
                curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
        cc = curl_easy_perform(c);
        if (cc == CURLE_OPERATION_TIMEDOUT)
                _exit(2);
        if (cc != CURLE_OK)
                _exit(1);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        _exit(status >= 200 && status < 300 ? 0 : 3);
}

static void send_notification(Monitor *mon, const char *role_name, MonIncident *mi, const char *event,
                              const char *message, WarningLevel level)
{
        const MonitorConfig *mc = mon->config->monitor;
        const RoleConfig *role = mc ? monitor_config_find_role(mc, role_name) : NULL;
        _cleanup_free_ char *url = NULL, *body = NULL;
        char **headers = NULL;
        Notification *nt;
        json_t *o;
        pid_t pid;
        int r;

        if (!role || !role->endpoint) {
                log_warning("notify: unknown role %s", role_name);
                return;
        }
        url = xasprintf("%s%s", role->endpoint->base_url, role->path ?: "/");
        o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:I}", "source", "droverd", "event", event, "role",
                      role_name, "message", message, "level", (int) level, "level_name",
                      warning_level_to_string(level), "at_usec", (json_int_t) now_rt());
        if (mi) {
                json_object_set_new(o, "incident", json_integer(mi->id));
                json_object_set_new(o, "site", json_string(incident_get_site(mi->inc)));
                json_object_set_new(o, "state",
                                    json_string(incident_state_to_string(incident_get_state(mi->inc))));
        }
        body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        r = expand_headers(mon->config, role->endpoint, &headers);
        if (r < 0) {
                log_warning_errno(r, "notify %s: cannot expand the endpoint's headers: %s", role_name,
                                  strerror(-r));
                return;
        }
        usec_t timeout = role->endpoint->timeout > 0 ? role->endpoint->timeout : NOTIFY_DEFAULT_TIMEOUT;
        pid = fork();
        if (pid < 0) {
                log_warning_errno(errno, "notify %s: cannot fork: %m", role_name);
                strv_free(headers);
                return;
        }
        if (pid == 0)
                notify_child(url, role->endpoint, headers, body, timeout);
        strv_free(headers);

        nt = xcalloc(1, sizeof(*nt));
        nt->mon = mon;
        nt->pid = pid;
        nt->role = xstrdup(role_name);
        nt->url = TAKE_PTR(url);
        nt->incident_id = mi ? mi->id : 0;
        r = sd_event_add_child(mon->m->event, &nt->child, pid, WEXITED, on_notify_exit, nt);
        if (r < 0) {
                log_warning_errno(r, "notify %s: cannot watch the sender: %s", role_name, strerror(-r));
                notification_free(nt);
                return;
        }
        nt->next = mon->notifications;
        mon->notifications = nt;
}

/* ---- decisions ---------------------------------------------------------------------- */

static void fill_policy_state(Monitor *mon, PolicyState *st)
{
        *st = (PolicyState){
                .active_site = mon->active_site,
                .maintenance_sites = (const char *const *) mon->maintenance,
                .manual_override = mon->manual_override,
                .override_sites = (const char *const *) mon->override_sites,
                .last_auto_switchover = mon->last_auto_switchover,
        };
}

static void propose(Monitor *mon, MonIncident *mi, const DecisionAction *a, const char *why)
{
        _cleanup_free_ char *text = NULL;

        clear_proposal(mi);
        mi->proposed_playbook = xstrdup(a->playbook);
        for (size_t i = 0; i < a->n_params; i++) {
                ParamValue *pv =
                        array_push(&mi->proposed_params, &mi->n_proposed_params, sizeof(ParamValue));
                pv->name = xstrdup(a->params[i].name);
                pv->value = xstrdup(a->params[i].value);
        }
        text = xasprintf("%s proposed, waiting for a commander's approval: %s", a->playbook, why);
        (void) incident_log_action(mi->inc, INCIDENT_ACTION_PLAYBOOK_PROPOSED, INCIDENT_ACTOR_POLICY, text,
                                   now_rt());
        flush_incident(mon, mi, 0);
        log_warning("incident %lld: %s", (long long) mi->id, text);
        if (mon->m->observer.approval_requested)
                mon->m->observer.approval_requested(mon->m->observer.userdata, "incident", mi->id, text);
}

static int start_incident_run(Monitor *mon, MonIncident *mi, const char *playbook, const ParamValue *params,
                              size_t n_params, const char *trigger, const char *actor, int64_t *ret_run)
{
        _cleanup_free_ char *error = NULL;
        int64_t run_id = 0;
        int r;

        r = manager_start_run(mon->m,
                              &(ManagerRunRequest){
                                      .playbook = playbook,
                                      .params = params,
                                      .n_params = n_params,
                                      .trigger = trigger,
                                      .actor = actor,
                                      .incident_id = mi->id,
                              },
                              &run_id, NULL, &error);
        if (r < 0) {
                _cleanup_free_ char *text =
                        xasprintf("%s could not be started: %s", playbook, error ?: strerror(-r));
                log_error("incident %lld: %s", (long long) mi->id, text);
                journal_incident_line(mon, mi->id, actor, "playbook-start-failed", text, 0);
                return r;
        }
        if (ret_run)
                *ret_run = run_id;
        return 0;
}

static void execute_decision(Monitor *mon, MonIncident *mi, const Decision *d, const char *site)
{
        _cleanup_free_ char *msg = NULL;

        if (mi)
                journal_incident_line(mon, mi->id, INCIDENT_ACTOR_POLICY, "decision", d->reason, 0);
        else
                manager_journal_event(mon->m, "decision", d->reason,
                                      json_pack("{s:s, s:i}", "site", site, "level", (int) d->level));
        log_info("policy for %s: %s", site, d->reason);
        if (mi && d->held_back) {
                (void) incident_log_action(mi->inc, INCIDENT_ACTION_OVERRIDE, INCIDENT_ACTOR_POLICY,
                                           d->reason, now_rt());
                flush_incident(mon, mi, 0);
        }

        for (size_t i = 0; i < d->n_actions; i++) {
                const DecisionAction *a = &d->actions[i];
                switch (a->kind) {
                case DECISION_NOTIFY: {
                        StrBuf roles = STRBUF_INIT;
                        free(msg);
                        msg = mi ? xasprintf("incident %lld at %s: level %d (%s): %s", (long long) mi->id,
                                             site, (int) incident_get_level(mi->inc),
                                             warning_level_to_string(incident_get_level(mi->inc)),
                                             incident_get_phenomenon(mi->inc))
                                 : xasprintf("%s: %s", site, d->reason);
                        for (const char *const *r = a->roles; r && *r; r++) {
                                send_notification(mon, *r, mi, "incident", msg, d->level);
                                strbuf_printf(&roles, "%s%s", roles.len ? ", " : "", *r);
                        }
                        if (mi) {
                                _cleanup_free_ char *t =
                                        xasprintf("notified %s: %s", strbuf_str(&roles), a->reason);
                                (void) incident_log_action(mi->inc, INCIDENT_ACTION_NOTIFY,
                                                           INCIDENT_ACTOR_POLICY, t, now_rt());
                                flush_incident(mon, mi, 0);
                        }
                        strbuf_done(&roles);
                        break;
                }
                case DECISION_RAISE_FREQUENCY: {
                        int r = mon->prober
                                        ? prober_set_interval_factor(mon->prober, NULL, a->frequency_factor)
                                        : 0;
                        if (r >= 0)
                                mon->frequency_raised = true;
                        _cleanup_free_ char *t = xasprintf("probe frequency ×%g%s: %s", a->frequency_factor,
                                                           r < 0 ? " (failed)" : "", a->reason);
                        if (mi)
                                journal_incident_line(mon, mi->id, INCIDENT_ACTOR_POLICY, "raise-frequency",
                                                      t, 0);
                        log_info("%s", t);
                        break;
                }
                case DECISION_PROPOSE:
                        if (mi)
                                propose(mon, mi, a, a->reason);
                        break;
                case DECISION_AUTO: {
                        if (!mi)
                                break;
                        if (mi->hold_auto) {
                                propose(mon, mi, a,
                                        "a run of this incident was interrupted when droverd died: a "
                                        "commander decides");
                                break;
                        }
                        if (manager_runs_active_for_incident(mon->m, mi->id)) {
                                journal_incident_line(
                                        mon, mi->id, INCIDENT_ACTOR_POLICY, "decision",
                                        "a run for this incident is already active: nothing started", 0);
                                break;
                        }
                        if (!mon->m->accepting) {
                                journal_incident_line(
                                        mon, mi->id, INCIDENT_ACTOR_POLICY, "decision",
                                        "droverd is stopping: the automatic run is not started", 0);
                                break;
                        }
                        ParamValue *pv = xcalloc(a->n_params + 1, sizeof(ParamValue));
                        for (size_t k = 0; k < a->n_params; k++) {
                                pv[k].name = (char *) a->params[k].name;
                                pv[k].value = (char *) a->params[k].value;
                        }
                        (void) start_incident_run(mon, mi, a->playbook, pv, a->n_params, "auto",
                                                  INCIDENT_ACTOR_POLICY, NULL);
                        free(pv);
                        break;
                }
                default:
                        break;
                }
        }
}

static void arm_deadline_timer(Monitor *mon);

/* How long a fresh detector and level evaluator need before a level they report is the
 * truth: the slowest probe's fall (or rise) checks, plus the longest rule duration. */
static usec_t settle_window(const Monitor *mon)
{
        const MonitorConfig *mc = mon->config ? mon->config->monitor : NULL;
        usec_t w = 0, longest_for = 0;

        for (size_t i = 0; mc && i < mc->n_probes; i++) {
                const ProbeConfig *p = &mc->probes[i];
                usec_t t = (usec_t) (MAX(p->fall, p->rise) + 2) * (p->interval + p->timeout);
                w = MAX(w, t);
        }
        for (size_t i = 0; mc && i < mc->n_level_rules; i++)
                longest_for = MAX(longest_for, mc->level_rules[i].for_duration);
        return w + longest_for + USEC_PER_SEC;
}

static void settle_all(Monitor *mon)
{
        usec_t until = now_usec(CLOCK_MONOTONIC) + settle_window(mon);
        for (size_t i = 0; i < mon->n_incidents; i++)
                mon->incidents[i]->settle_until = until;
}

/* One site's level moved. */
static void handle_site_level(Monitor *mon, const LevelChange *lc)
{
        Manager *m = mon->m;
        MonIncident *mi = find_site_incident(mon, lc->site);
        usec_t at = mono_to_rt(lc->at);
        WarningLevel from;
        Decision d;
        PolicyState st;
        int r;

        log_info("level of %s: %s → %s (%s)", lc->site, warning_level_to_string(lc->from),
                 warning_level_to_string(lc->to), lc->reason);
        if (mi && mi->settle_until > 0 && now_usec(CLOCK_MONOTONIC) < mi->settle_until &&
            warning_level_more_severe(incident_get_level(mi->inc), lc->to)) {
                log_debug("incident %lld: %s still settling after a restart or reload; %s → %s not applied "
                          "yet",
                          (long long) mi->id, lc->site, warning_level_to_string(lc->from),
                          warning_level_to_string(lc->to));
                return;
        }

        if (!mi && lc->to != LEVEL_NONE && !strv_contains(mon->maintenance, lc->site)) {
                mi = open_incident(mon, lc, at);
                from = LEVEL_NONE;
        } else if (mi) {
                from = incident_get_level(mi->inc);
                r = incident_set_level(mi->inc, lc->to, INCIDENT_ACTOR_POLICY, lc->reason, at);
                if (r < 0)
                        log_warning_errno(r, "incident %lld: cannot set level: %s", (long long) mi->id,
                                          strerror(-r));
                flush_incident(mon, mi, 0);
        } else
                from = lc->from;

        fill_policy_state(mon, &st);
        r = policy_decide(&mon->policy, &st,
                          &(PolicyInput){
                                  .subject = lc->site,
                                  .site = lc->site,
                                  .from = from,
                                  .to = lc->to,
                                  .reason = lc->reason,
                          },
                          now_rt(), &d);
        if (r < 0)
                log_warning_errno(r, "policy: cannot decide for %s: %s", lc->site, strerror(-r));
        else
                execute_decision(mon, mi, &d, lc->site);

        if (mi && lc->to == LEVEL_NONE) {
                _cleanup_free_ char *why = xasprintf("condition cleared: %s", lc->reason);
                r = incident_transition(mi->inc, INCIDENT_RESOLVED, INCIDENT_ACTOR_POLICY, why, now_rt(),
                                        NULL);
                flush_incident(mon, mi, 0);
                if (r >= 0) {
                        log_info("incident %lld resolved: %s", (long long) mi->id, why);
                        remove_incident(mon, mi);
                }
                if (mon->n_incidents == 0 && mon->frequency_raised && mon->prober) {
                        /* Nothing open any more: the configured frequency again. */
                        mon->frequency_raised = false;
                        (void) prober_set_interval_factor(mon->prober, NULL, 1.0);
                        manager_journal_event(m, "probe-frequency",
                                              "no incident open: probes at their configured interval",
                                              json_pack("{s:f}", "factor", 1.0));
                }
        }
        if (m->observer.site_changed) {
                ManagerSite *sites = NULL;
                size_t n = 0;
                if (monitor_list_sites(mon, &sites, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                if (streq(sites[i].name, lc->site))
                                        m->observer.site_changed(m->observer.userdata, &sites[i]);
                manager_site_free_array(sites, n);
        }
        arm_deadline_timer(mon);
        manager_update_status(m);
}

/* ---- the pipeline ------------------------------------------------------------------- */

static void arm_level_timer(Monitor *mon);

static void evaluate(Monitor *mon, usec_t now)
{
        LevelChange changes[MONITOR_CHANGES_MAX];
        size_t n = 0;
        int r;

        r = levels_evaluate(mon->levels, now, changes, ELEMENTSOF(changes), &n);
        if (r < 0) {
                log_warning_errno(r, "levels: cannot evaluate: %s", strerror(-r));
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (changes[i].subject_is_site)
                        handle_site_level(mon, &changes[i]);
        arm_level_timer(mon);
}

static void journal_health(Monitor *mon, const HealthChange *c)
{
        _cleanup_free_ char *msg = xasprintf("%s (%s): %s → %s: %s", c->target, c->site,
                                             health_to_string(c->from), health_to_string(c->to), c->reason);
        int r;

        log_info("health %s", msg);
        json_t *data =
                json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:i}", "target", c->target, "site", c->site,
                          "from", health_to_string(c->from), "to", health_to_string(c->to), "at_usec",
                          (json_int_t) mono_to_rt(c->at), "vantages_down", (int) c->vantages_down,
                          "vantages_fresh", (int) c->vantages_fresh, "quorum", (int) c->quorum);
        _cleanup_free_ char *dj = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(data);
        r = journal_event(mon->m->journal, 0, mono_to_rt(c->at), "health-change", msg, dj);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record a health change: %s", strerror(-r));
}

static void on_probe_result(Prober *p, const ProbeResult *res, void *userdata)
{
        Monitor *mon = userdata;
        HealthChange changes[4];
        size_t n = 0;
        int r;

        log_debug("probe %s (%s): %s %s", res->probe, strna(res->vantage),
                  probe_outcome_to_string(res->outcome), strempty(res->detail));
        r = detector_feed(mon->detector, res, changes, ELEMENTSOF(changes), &n);
        if (r < 0)
                log_debug("detector: result of %s ignored: %s", res->probe, strerror(-r));
        (void) levels_feed_probe(mon->levels, res);
        for (size_t i = 0; i < n; i++) {
                journal_health(mon, &changes[i]);
                (void) levels_feed_health(mon->levels, &changes[i]);
        }
        evaluate(mon, res->at);
}

static int on_level_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Monitor *mon = userdata;
        evaluate(mon, now_usec(CLOCK_MONOTONIC));
        return 0;
}

static void arm_level_timer(Monitor *mon)
{
        usec_t when;
        int r;

        if (!mon->level_timer)
                return;
        r = levels_next_deadline(mon->levels, &when);
        if (r < 0) {
                (void) sd_event_source_set_enabled(mon->level_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(mon->level_timer, when + 1);
        (void) sd_event_source_set_enabled(mon->level_timer, SD_EVENT_ONESHOT);
}

/* Incidents whose settling window ended: apply the level the evaluator holds now, if
 * lower (a higher one was applied when it came). */
static void settle_check(Monitor *mon, usec_t now)
{
        for (size_t i = 0; i < mon->n_incidents; i++) {
                MonIncident *mi = mon->incidents[i];
                LevelStatus ls = {};
                LevelChange lc;

                if (mi->settle_until == 0 || now < mi->settle_until)
                        continue;
                mi->settle_until = 0;
                if (levels_get(mon->levels, incident_get_site(mi->inc), true, &ls) < 0)
                        ls.level = LEVEL_NONE;
                if (ls.level == incident_get_level(mi->inc))
                        continue;
                lc = (LevelChange){
                        .subject = incident_get_site(mi->inc),
                        .site = incident_get_site(mi->inc),
                        .subject_is_site = true,
                        .from = incident_get_level(mi->inc),
                        .to = ls.level,
                        .at = now,
                        .rule = ls.rule,
                        .rule_name = ls.rule_name,
                };
                snprintf(lc.reason, sizeof(lc.reason), "after a restart or reload, the checks say %s%s%s",
                         warning_level_to_string(ls.level), ls.rule_name ? ": " : "",
                         strempty(ls.rule_name));
                handle_site_level(mon, &lc);
                return; /* the array may have changed; the next tick does the rest */
        }
}

/* Staleness: a vantage that went silent is noticed without a new result. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Monitor *mon = userdata;
        HealthChange changes[MONITOR_CHANGES_MAX];
        usec_t now = now_usec(CLOCK_MONOTONIC);
        size_t n = 0;

        if (detector_tick(mon->detector, now, changes, ELEMENTSOF(changes), &n) >= 0)
                for (size_t i = 0; i < n; i++) {
                        journal_health(mon, &changes[i]);
                        (void) levels_feed_health(mon->levels, &changes[i]);
                }
        evaluate(mon, now);
        settle_check(mon, now);
        (void) sd_event_source_set_time_relative(s, USEC_PER_SEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_deadline_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Monitor *mon = userdata;
        usec_t now = now_rt();

        for (size_t i = 0; i < mon->n_incidents; i++) {
                MonIncident *mi = mon->incidents[i];
                DeadlineMiss miss[8];
                int n = incident_deadlines_due(mi->inc, now, miss, ELEMENTSOF(miss));
                if (n <= 0)
                        continue;
                flush_incident(mon, mi, 0);
                for (int k = 0; k < n; k++) {
                        PolicyState st;
                        Decision d;
                        _cleanup_free_ char *why = xasprintf("%s deadline of level %d missed",
                                                             incident_deadline_kind_to_string(miss[k].kind),
                                                             (int) miss[k].level);
                        log_warning("incident %lld: %s", (long long) mi->id, why);
                        fill_policy_state(mon, &st);
                        if (policy_decide(&mon->policy, &st,
                                          &(PolicyInput){
                                                  .subject = incident_get_site(mi->inc),
                                                  .site = incident_get_site(mi->inc),
                                                  .from = miss[k].level,
                                                  .to = miss[k].new_level,
                                                  .reason = why,
                                                  .deadline_missed = true,
                                          },
                                          now, &d) >= 0)
                                execute_decision(mon, mi, &d, incident_get_site(mi->inc));
                }
        }
        arm_deadline_timer(mon);
        manager_update_status(mon->m);
        return 0;
}

static void arm_deadline_timer(Monitor *mon)
{
        usec_t next = USEC_INFINITY;

        if (!mon->deadline_timer)
                return;
        for (size_t i = 0; i < mon->n_incidents; i++) {
                usec_t t;
                if (incident_next_deadline(mon->incidents[i]->inc, &t) >= 0 && t < next)
                        next = t;
        }
        if (next == USEC_INFINITY) {
                (void) sd_event_source_set_enabled(mon->deadline_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(mon->deadline_timer, next + 1);
        (void) sd_event_source_set_enabled(mon->deadline_timer, SD_EVENT_ONESHOT);
}

/* ---- building from the config ------------------------------------------------------- */

static char *resolve_playbook(const Config *config, const char *name)
{
        _cleanup_free_ char *dir = NULL;
        char *p;

        if (config->playbook_dir) {
                p = xasprintf("%s/%s.yaml", config->playbook_dir, name);
                if (access(p, F_OK) == 0)
                        return p;
                free(p);
        }
        const char *slash = strrchr(config->path, '/');
        dir = slash ? xstrndup(config->path, (size_t) (slash - config->path)) : xstrdup(".");
        return xasprintf("%s/playbooks/%s.yaml", dir, name);
}

/* The responses' playbooks, loaded to learn their kind; then the policy's own checks. */
static int build_policy(const Config *c, PolicyConfig *ret)
{
        char err[256] = "";
        int r;

        monitor_config_policy(c->monitor, ret);
        for (int l = LEVEL_RED; l <= LEVEL_BLUE; l++) {
                PolicyLevel *pl = &ret->levels[l];
                _cleanup_(playbook_freep) Playbook *pb = NULL;
                _cleanup_free_ char *path = NULL;
                DiagList diags;

                if (!pl->playbook)
                        continue;
                path = resolve_playbook(c, pl->playbook);
                diag_list_init(&diags);
                r = playbook_load(path, c, &pb, &diags);
                if (r < 0) {
                        diag_print(&diags, stderr);
                        diag_list_done(&diags);
                        log_error("responses.%s: playbook %s (%s) cannot be loaded: %s",
                                  warning_level_to_string((WarningLevel) l), pl->playbook, path,
                                  strerror(-r));
                        return -EINVAL;
                }
                diag_list_done(&diags);
                pl->playbook_kind = pb->kind;
        }
        r = policy_config_validate(ret, err, sizeof(err));
        if (r < 0) {
                log_error("%s: responses refused: %s", c->path, err);
                return -EINVAL;
        }
        return 0;
}

static void free_built(Monitor *mon)
{
        mon->level_timer = sd_event_source_disable_unref(mon->level_timer);
        mon->tick_timer = sd_event_source_disable_unref(mon->tick_timer);
        mon->prober = prober_free(mon->prober);
        mon->detector = detector_free(mon->detector);
        mon->levels = levels_free(mon->levels);
        for (size_t i = 0; i < mon->n_headers; i++)
                strv_free(mon->headers[i]);
        free(mon->headers);
        mon->headers = NULL;
        mon->n_headers = 0;
}

static int add_probe(Monitor *mon, const ProbeConfig *pc, const char *vantage)
{
        long expect[PROBER_EXPECT_STATUS_MAX];
        _cleanup_free_ char *url = NULL, *name = NULL;
        char **headers = NULL;
        int r;

        for (size_t i = 0; i < pc->n_expect_status && i < PROBER_EXPECT_STATUS_MAX; i++)
                expect[i] = (long) pc->expect_status[i];
        if (pc->endpoint) {
                url = xasprintf("%s%s", pc->endpoint->base_url, pc->path ?: "/");
                r = expand_headers(mon->config, pc->endpoint, &headers);
                if (r < 0)
                        return log_error_errno(r, "probe %s: cannot expand the endpoint's headers: %s",
                                               pc->name, strerror(-r));
                *(char ***) array_push(&mon->headers, &mon->n_headers, sizeof(char **)) = headers;
        }
        bool local = streq(vantage, PROBER_VANTAGE_LOCAL);
        const VantagePoint *vp =
                local ? NULL : monitor_config_find_vantage_point(mon->config->monitor, vantage);
        if (!local && !vp)
                return log_error_errno(-EINVAL, "probe %s: unknown vantage point %s", pc->name, vantage);
        name = local ? xstrdup(pc->name) : xasprintf("%s@%s", pc->name, vantage);
        ProbeSpec spec = {
                .name = name,
                .target = pc->name,
                .kind = pc->kind,
                .site = pc->site,
                .vantage = vantage,
                .vantage_host = vp ? vp->host : NULL,
                .url = url,
                .endpoint = pc->endpoint,
                .headers = headers,
                .expect_status = pc->n_expect_status > 0 ? expect : NULL,
                .n_expect_status = MIN(pc->n_expect_status, (size_t) PROBER_EXPECT_STATUS_MAX),
                .body_regex = pc->body_matches,
                .latency_threshold = pc->latency_threshold,
                .json_field = pc->field,
                .min = pc->kind == PROBE_KIND_VENDOR_METRIC ? pc->min : NAN,
                .address = pc->host ? pc->host->address : NULL,
                .port = pc->port,
                .host = pc->host,
                .command = pc->command,
                .expect_exit_status = pc->expect_exit_status,
                .has_max_value = pc->has_max_value,
                .max_value = pc->max_value,
                .interval = pc->interval,
                .timeout = pc->timeout,
                .jitter = pc->jitter,
        };
        r = prober_add(mon->prober, &spec);
        if (r == -EOPNOTSUPP) {
                log_warning("probe %s: vantage point %s is not supported by this prober; only the local "
                            "check runs",
                            pc->name, vantage);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "probe %s: cannot be added: %s", name, strerror(-r));
        return 0;
}

static int build(Monitor *mon, const Config *c)
{
        const MonitorConfig *mc = c->monitor;
        int r;

        mon->config = c;
        r = build_policy(c, &mon->policy);
        if (r < 0)
                return r;
        monitor_config_deadlines(mc, &mon->deadlines);
        r = monitor_config_new_detector(mc, &mon->detector);
        if (r < 0)
                return log_error_errno(r, "cannot build the detector: %s", strerror(-r));
        r = monitor_config_new_levels(mc, &mon->levels);
        if (r < 0)
                return log_error_errno(r, "cannot build the level rules: %s", strerror(-r));
        r = prober_new(&mon->prober, mon->m->event, on_probe_result, mon);
        if (r < 0)
                return log_error_errno(r, "cannot start the prober: %s", strerror(-r));
        for (size_t i = 0; mc && i < mc->n_probes; i++)
                for (size_t v = 0; v < mc->probes[i].n_vantage_points; v++) {
                        r = add_probe(mon, &mc->probes[i], mc->probes[i].vantage_points[v]);
                        if (r < 0)
                                return r;
                }
        r = sd_event_add_time(mon->m->event, &mon->level_timer, CLOCK_MONOTONIC, USEC_INFINITY,
                              10 * USEC_PER_MSEC, on_level_timer, mon);
        if (r >= 0)
                r = sd_event_source_set_enabled(mon->level_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(mon->m->event, &mon->tick_timer, CLOCK_MONOTONIC,
                                               USEC_PER_SEC, 100 * USEC_PER_MSEC, on_tick, mon);
        if (r < 0)
                return log_error_errno(r, "cannot arm the monitor's timers: %s", strerror(-r));
        return 0;
}

/* ---- restore from the journal ------------------------------------------------------- */

static void restore_active_site(Monitor *mon)
{
        EventRecord *ev = NULL;
        size_t n = 0;

        free(mon->active_site);
        mon->active_site = xstrdup(mon->config->monitor ? mon->config->monitor->active_site : NULL);
        if (journal_list_events(mon->m->journal, 0, &ev, &n) < 0)
                return;
        for (size_t i = n; i > 0; i--) {
                if (!streq_ptr(ev[i - 1].kind, "active-site-changed") || !ev[i - 1].data_json)
                        continue;
                json_t *o = json_loads(ev[i - 1].data_json, 0, NULL);
                const char *to = json_string_value(json_object_get(o, "to"));
                if (to && config_find_site(mon->config, to)) {
                        free(mon->active_site);
                        mon->active_site = xstrdup(to);
                }
                json_decref(o);
                break;
        }
        for (size_t i = 0; i < n; i++)
                event_record_done(&ev[i]);
        free(ev);
}

static void restore_last_auto(Monitor *mon)
{
        RunRecord *runs = NULL;
        size_t n = 0;

        if (journal_list_runs(mon->m->journal, 0, &runs, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(runs[i].trigger, "auto") && streq_ptr(runs[i].kind, "switchover")) {
                        mon->last_auto_switchover = runs[i].started;
                        break;
                }
        for (size_t i = 0; i < n; i++)
                run_record_done(&runs[i]);
        free(runs);
}

static void restore_incident(Monitor *mon, const IncidentRecord *rec)
{
        _cleanup_free_ char *idstr = xasprintf("%lld", (long long) rec->id);
        IncidentState st = incident_state_from_string(rec->state);
        WarningLevel level =
                rec->level >= LEVEL_RED && rec->level <= LEVEL_BLUE ? (WarningLevel) rec->level : LEVEL_BLUE;
        IncidentLogRecord *log = NULL;
        MonIncident *mi;
        size_t n = 0;
        int r;

        if (rec->drill || st == INCIDENT_RESOLVED || st == INCIDENT_CLOSED || st < 0)
                return;
        mi = xcalloc(1, sizeof(*mi));
        mi->id = rec->id;
        r = incident_new(&mi->inc, &(IncidentInfo){
                                           .id = idstr,
                                           .site = rec->site ?: rec->subject,
                                           .subject = rec->subject,
                                           .phenomenon = rec->phenomenon ?: rec->subject,
                                           .impact = rec->impact,
                                           .level = level,
                                           .opened_at = rec->opened_at,
                                           .actor = ACTOR_DAEMON,
                                           .reason = "restored from the journal at start",
                                           .deadlines = &mon->deadlines,
                                   });
        if (r < 0) {
                free(mi);
                return;
        }
        if (st != INCIDENT_DETECTED)
                (void) incident_transition(mi->inc, st, ACTOR_DAEMON, "restored from the journal", now_rt(),
                                           NULL);
        if (rec->level == 0)
                (void) incident_set_level(mi->inc, LEVEL_NONE, ACTOR_DAEMON, "restored", now_rt());
        /* What the restore itself logged is bookkeeping, not news for the journal. */
        mi->n_journaled = incident_get_log(mi->inc, &(const IncidentAction *){NULL});
        *(MonIncident **) array_push(&mon->incidents, &mon->n_incidents, sizeof(MonIncident *)) = mi;

        /* Runs this incident started that droverd's death interrupted: said once, and
         * nothing automatic for this incident any more. */
        if (journal_list_incident_log(mon->m->journal, rec->id, &log, &n) >= 0) {
                for (size_t i = 0; i < n; i++) {
                        RunRecord run = {};
                        if (!streq_ptr(log[i].kind, "playbook-started") || log[i].run_id <= 0)
                                continue;
                        if (journal_get_run(mon->m->journal, log[i].run_id, &run) < 0)
                                continue;
                        if (run.outcome == RUN_INTERRUPTED) {
                                bool said = false;
                                for (size_t k = 0; k < n; k++)
                                        if (streq_ptr(log[k].kind, "run-interrupted") &&
                                            log[k].run_id == run.id)
                                                said = true;
                                mi->hold_auto = true;
                                if (!said) {
                                        _cleanup_free_ char *t =
                                                xasprintf("run %lld (%s) was interrupted: droverd stopped "
                                                          "during it; it is not "
                                                          "started again automatically, a commander decides",
                                                          (long long) run.id, run.playbook);
                                        log_warning("incident %lld: %s", (long long) rec->id, t);
                                        journal_incident_line(mon, rec->id, ACTOR_DAEMON, "run-interrupted",
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
                 incident_get_site(mi->inc), rec->level, rec->state,
                 mi->hold_auto ? " (automation held: an interrupted run)" : "");
}

static void restore_incidents(Monitor *mon)
{
        IncidentRecord *recs = NULL;
        size_t n = 0;

        if (journal_list_incidents(mon->m->journal, true, &recs, &n) < 0)
                return;
        for (size_t i = n; i > 0; i--) /* oldest first */
                if (!find_site_incident(mon, recs[i - 1].site ?: recs[i - 1].subject))
                        restore_incident(mon, &recs[i - 1]);
        for (size_t i = 0; i < n; i++)
                incident_record_done(&recs[i]);
        free(recs);
}

/* ---- the Monitor's surface ---------------------------------------------------------- */

int monitor_new(Monitor **ret, Manager *m)
{
        Monitor *mon = xcalloc(1, sizeof(*mon));
        mon->m = m;
        mon->maintenance = xcalloc(1, sizeof(char *));
        mon->override_sites = xcalloc(1, sizeof(char *));
        *ret = mon;
        return 0;
}

Monitor *monitor_free(Monitor *mon)
{
        if (!mon)
                return NULL;
        free_built(mon);
        sd_event_source_disable_unref(mon->deadline_timer);
        while (mon->notifications) {
                Notification *nt = mon->notifications;
                mon->notifications = nt->next;
                notification_free(nt);
        }
        for (size_t i = 0; i < mon->n_incidents; i++)
                mon_incident_free(mon->incidents[i]);
        free(mon->incidents);
        free(mon->active_site);
        strv_free(mon->maintenance);
        strv_free(mon->override_sites);
        free(mon);
        return NULL;
}

int monitor_start(Monitor *mon)
{
        int r;

        mon->config = mon->m->config;
        monitor_config_deadlines(mon->config->monitor, &mon->deadlines);
        restore_active_site(mon);
        restore_last_auto(mon);
        restore_incidents(mon);
        r = sd_event_add_time(mon->m->event, &mon->deadline_timer, CLOCK_REALTIME, USEC_INFINITY,
                              USEC_PER_SEC, on_deadline_timer, mon);
        if (r < 0)
                return log_error_errno(r, "cannot arm the deadline timer: %s", strerror(-r));
        r = build(mon, mon->m->config);
        if (r < 0)
                return r;
        settle_all(mon);
        arm_deadline_timer(mon);
        if (mon->active_site)
                log_info("active site: %s; %zu probe%s; %zu open incident%s restored", mon->active_site,
                         prober_n_probes(mon->prober), prober_n_probes(mon->prober) == 1 ? "" : "s",
                         mon->n_incidents, mon->n_incidents == 1 ? "" : "s");
        return 0;
}

int monitor_reload(Monitor *mon)
{
        PolicyConfig policy;
        int r;

        /* The policy first: a response whose playbook cannot be loaded refuses the reload
         * before anything is torn down. */
        r = build_policy(mon->m->config, &policy);
        if (r < 0)
                return r;
        free_built(mon);
        r = build(mon, mon->m->config);
        if (r < 0)
                return r;
        settle_all(mon);
        if (mon->active_site && !config_find_site(mon->config, mon->active_site)) {
                free(mon->active_site);
                mon->active_site = xstrdup(mon->config->monitor ? mon->config->monitor->active_site : NULL);
        }
        return 0;
}

static const char *other_site(const Config *c, const char *active, const char *kind)
{
        const Site *cur = active ? config_find_site(c, active) : NULL;
        SiteRole want = streq(kind, "failback")                ? SITE_ROLE_PRIMARY
                        : cur && cur->role == SITE_ROLE_BACKUP ? SITE_ROLE_PRIMARY
                                                               : SITE_ROLE_BACKUP;
        for (size_t i = 0; i < c->n_sites; i++)
                if (c->sites[i].role == want && !streq_ptr(c->sites[i].name, active))
                        return c->sites[i].name;
        return NULL;
}

void monitor_run_started(Monitor *mon, const ManagerRun *run, const char *playbook_kind)
{
        MonIncident *mi = run->incident_id > 0 ? find_incident(mon, run->incident_id) : NULL;
        usec_t now = now_rt();

        if (streq_ptr(run->trigger, "auto") && streq_ptr(playbook_kind, "switchover"))
                mon->last_auto_switchover = now;
        if (!mi)
                return;
        _cleanup_free_ char *t = xasprintf("run %lld: %s started by %s (trigger %s)", (long long) run->id,
                                           run->playbook, run->actor, run->trigger);
        (void) incident_log_action(mi->inc, INCIDENT_ACTION_PLAYBOOK_STARTED, run->actor, t, now);
        if (incident_transition_allowed(incident_get_state(mi->inc), INCIDENT_MITIGATING))
                (void) incident_transition(mi->inc, INCIDENT_MITIGATING, run->actor, t, now, NULL);
        flush_incident(mon, mi, run->id);
}

void monitor_run_ended(Monitor *mon, const ManagerRun *run, const char *playbook_kind)
{
        MonIncident *mi = run->incident_id > 0 ? find_incident(mon, run->incident_id) : NULL;
        bool ok = run->outcome == RUN_SUCCEEDED;

        if (mi) {
                _cleanup_free_ char *t = xasprintf("run %lld: %s %s", (long long) run->id, run->playbook,
                                                   run_outcome_to_string(run->outcome));
                (void) incident_log_action(mi->inc, INCIDENT_ACTION_PLAYBOOK_FINISHED, INCIDENT_ACTOR_POLICY,
                                           t, now_rt());
                flush_incident(mon, mi, run->id);
        }
        if (ok && playbook_kind &&
            (streq(playbook_kind, "switchover") || streq(playbook_kind, "failback"))) {
                const char *to = other_site(mon->config, mon->active_site, playbook_kind);
                if (to) {
                        _cleanup_free_ char *msg =
                                xasprintf("active site: %s → %s after run %lld (%s)",
                                          strna(mon->active_site), to, (long long) run->id, run->playbook);
                        log_notice("%s", msg);
                        manager_journal_event(mon->m, "active-site-changed", msg,
                                              json_pack("{s:s?, s:s, s:I, s:s}", "from", mon->active_site,
                                                        "to", to, "run", (json_int_t) run->id, "actor",
                                                        run->actor));
                        free(mon->active_site);
                        mon->active_site = xstrdup(to);
                }
        }
}

int monitor_answer_incident(Monitor *mon, int64_t id, bool approve, const char *actor, const char *comment)
{
        MonIncident *mi = find_incident(mon, id);
        _cleanup_free_ char *t = NULL, *playbook = NULL;
        int r;

        if (!mi)
                return -ENOENT;
        if (!mi->proposed_playbook)
                return -EALREADY;
        t = xasprintf("%s %s by %s%s%s", mi->proposed_playbook, approve ? "approved" : "rejected", actor,
                      comment ? ": " : "", strempty(comment));
        (void) incident_log_action(
                mi->inc, approve ? INCIDENT_ACTION_PLAYBOOK_APPROVED : INCIDENT_ACTION_PLAYBOOK_REJECTED,
                actor, t, now_rt());
        flush_incident(mon, mi, 0);
        log_info("incident %lld: %s", (long long) id, t);
        if (!approve) {
                clear_proposal(mi);
                return 0;
        }
        if (!mon->m->accepting)
                return -EBUSY;
        playbook = xstrdup(mi->proposed_playbook);
        r = start_incident_run(mon, mi, playbook, mi->proposed_params, mi->n_proposed_params, "approved",
                               actor, NULL);
        if (r < 0)
                return r;
        clear_proposal(mi);
        return 0;
}

int monitor_ack_incident(Monitor *mon, int64_t id, const char *actor)
{
        MonIncident *mi = find_incident(mon, id);
        const IncidentAction *log;
        size_t n;
        int r;

        if (!mi)
                return -ENOENT;
        /* "Already" means already acknowledged. The verify milestone may have been met by
         * something else (an approved run starting): the acknowledgement is still new. */
        n = incident_get_log(mi->inc, &log);
        for (size_t i = 0; i < n; i++)
                if (log[i].kind == INCIDENT_ACTION_ACKNOWLEDGED)
                        return -EALREADY;
        r = incident_log_action(mi->inc, INCIDENT_ACTION_ACKNOWLEDGED, actor, "verified by the duty office",
                                now_rt());
        if (r < 0)
                return r;
        (void) incident_record_milestone(mi->inc, INCIDENT_DEADLINE_VERIFY, actor, "acknowledged", now_rt());
        if (incident_get_state(mi->inc) == INCIDENT_DETECTED)
                (void) incident_transition(mi->inc, INCIDENT_VERIFIED, actor,
                                           "acknowledged by the duty office", now_rt(), NULL);
        flush_incident(mon, mi, 0);
        arm_deadline_timer(mon);
        return 0;
}

int monitor_note_incident(Monitor *mon, int64_t id, const char *actor, const char *text)
{
        MonIncident *mi = find_incident(mon, id);
        int r;

        if (!mi)
                return -ENOENT;
        r = incident_log_action(mi->inc, INCIDENT_ACTION_NOTE, actor, text, now_rt());
        if (r < 0)
                return r;
        flush_incident(mon, mi, 0);
        return 0;
}

int monitor_set_maintenance(Monitor *mon, const char *site, bool on, const char *actor)
{
        size_t n = 0;
        _cleanup_free_ char *msg = NULL;

        if (!config_find_site(mon->config, site))
                return -ENOENT;
        bool is_on = strv_contains(mon->maintenance, site);
        if (is_on == on)
                return -EALREADY;
        while (mon->maintenance[n])
                n++;
        if (on) {
                mon->maintenance = xrealloc(mon->maintenance, (n + 2) * sizeof(char *));
                mon->maintenance[n] = xstrdup(site);
                mon->maintenance[n + 1] = NULL;
        } else {
                for (size_t i = 0; i < n; i++)
                        if (streq(mon->maintenance[i], site)) {
                                free(mon->maintenance[i]);
                                memmove(&mon->maintenance[i], &mon->maintenance[i + 1],
                                        (n - i) * sizeof(char *));
                                break;
                        }
        }
        msg = xasprintf("maintenance of site %s %s by %s", site, on ? "started" : "ended", actor);
        log_notice("%s", msg);
        manager_journal_event(mon->m, on ? "maintenance-on" : "maintenance-off", msg,
                              json_pack("{s:s, s:s}", "site", site, "actor", actor));
        MonIncident *mi = find_site_incident(mon, site);
        if (mi) {
                (void) incident_log_action(mi->inc, INCIDENT_ACTION_MAINTENANCE, actor, msg, now_rt());
                flush_incident(mon, mi, 0);
        }
        return 0;
}

/* Add or remove s in a NULL-terminated list; false when nothing changed. */
static bool strv_toggle(char ***l, const char *s, bool on)
{
        size_t n = 0;

        if (strv_contains(*l, s) == on)
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

int monitor_set_override(Monitor *mon, const char *site, bool on, const char *actor)
{
        _cleanup_free_ char *msg = NULL;

        if (site && !config_find_site(mon->config, site))
                return -ENOENT;
        if (!site) {
                if (mon->manual_override == on)
                        return -EALREADY;
                mon->manual_override = on;
        } else if (!strv_toggle(&mon->override_sites, site, on))
                return -EALREADY;
        msg = xasprintf("manual override %s %s by %s: %s", site ? "of site" : "of every site",
                        strempty(site), actor,
                        on ? "nothing automatic, proposals only" : "automation allowed again");
        log_notice("%s", msg);
        manager_journal_event(mon->m, on ? "override-on" : "override-off", msg,
                              json_pack("{s:s?, s:s}", "site", site, "actor", actor));
        for (size_t i = 0; i < mon->n_incidents; i++) {
                MonIncident *mi = mon->incidents[i];
                if (site && !streq(incident_get_site(mi->inc), site))
                        continue;
                (void) incident_log_action(mi->inc, INCIDENT_ACTION_OVERRIDE, actor, msg, now_rt());
                flush_incident(mon, mi, 0);
        }
        return 0;
}

static Health site_health(const Monitor *mon, const char *site)
{
        Health worst = HEALTH_UNKNOWN;
        bool any = false;

        if (!mon->detector)
                return HEALTH_UNKNOWN;
        for (size_t i = 0; i < detector_n_targets(mon->detector); i++) {
                const DetectorTargetConfig *t = detector_target_config(mon->detector, i);
                if (!streq(t->site, site))
                        continue;
                Health h = detector_health(mon->detector, t->name);
                if (!any) {
                        worst = h;
                        any = true;
                } else if (h == HEALTH_DOWN || (h == HEALTH_DEGRADED && worst != HEALTH_DOWN) ||
                           (h == HEALTH_UNKNOWN && worst == HEALTH_UP))
                        worst = h;
        }
        return worst;
}

int monitor_list_sites(Monitor *mon, ManagerSite **ret, size_t *ret_n)
{
        const Config *c = mon->config ?: mon->m->config;
        ManagerSite *a = xcalloc(c->n_sites + 1, sizeof(ManagerSite));

        for (size_t i = 0; i < c->n_sites; i++) {
                const char *name = c->sites[i].name;
                LevelStatus ls = {};
                MonIncident *mi = find_site_incident(mon, name);
                a[i].name = xstrdup(name);
                a[i].role = xstrdup(site_role_name(c, name));
                a[i].health = xstrdup(health_to_string(site_health(mon, name)));
                if (mon->levels && levels_get(mon->levels, name, true, &ls) >= 0)
                        a[i].level = (int) ls.level;
                if (mi &&
                    (a[i].level == 0 || warning_level_more_severe(incident_get_level(mi->inc), a[i].level)))
                        a[i].level = (int) incident_get_level(mi->inc);
                a[i].active = streq_ptr(mon->active_site, name);
                a[i].maintenance = strv_contains(mon->maintenance, name);
        }
        *ret = a;
        *ret_n = c->n_sites;
        return 0;
}

void monitor_status(const Monitor *mon, size_t *ret_probes, size_t *ret_open, int *ret_worst_level)
{
        WarningLevel worst = LEVEL_NONE;

        for (size_t i = 0; i < mon->n_incidents; i++)
                if (warning_level_more_severe(incident_get_level(mon->incidents[i]->inc), worst))
                        worst = incident_get_level(mon->incidents[i]->inc);
        *ret_probes = mon->prober ? prober_n_probes(mon->prober) : 0;
        *ret_open = mon->n_incidents;
        *ret_worst_level = (int) worst;
}
