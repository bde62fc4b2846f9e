/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watch.c — droverd's watch: the monitoring pipeline, wired on the loop:
 *   ProbeResult → detector → HealthChange → levels → LevelChange (per site)
 *   → policy_step() → PolicyStep, carried out here: open, set, hold or resolve the
 *   incident, journal the decision, notify roles, raise or reset the probe frequency,
 *   propose a playbook, run it automatically.
 *
 * Owns: building the Prober/Detector/LevelEvaluator/PolicyConfig from Config.monitor
 * (rebuilt on reload; the incidents are kept), the timers (level durations, the
 * staleness and settle tick, incident deadlines), start, reload, free and the cluster
 * role setter. Does not own: any decision (detector.c, levels.c, incident.c and
 * policy.c are pure and decide everything), the incidents' table and journal lines
 * (watch-incidents.c), notifications (watch-notify.c), runs (manager-run.c). Called by
 * manager.c through manager-internal.h.
 *
 * Clocks: probes, detector, levels and the settle window run on CLOCK_MONOTONIC
 * (durations); incidents, the policy's cooldown and the journal on CLOCK_REALTIME
 * (records).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/watch-internal.h"
#include "exec/prober-ssh.h"
#include "playbook/playbook.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

#define WATCH_CHANGES_MAX 256

/* A monotonic instant as wall-clock time, for records. */
static usec_t mono_to_rt(usec_t mono)
{
        usec_t nm = now_usec(CLOCK_MONOTONIC), nr = watch_now_rt();
        if (mono == 0 || mono > nm)
                return nr;
        return nr - (nm - mono);
}

/* ---- carrying out decisions --------------------------------------------------------- */

static void execute_decision(Watch *w, WatchIncident *wi, const PolicyStep *s, const char *site)
{
        const Decision *d = &s->decision;
        _cleanup_free_ char *msg = NULL;

        if (wi)
                watch_journal_line(w, wi->id, INCIDENT_ACTOR_POLICY, "decision", d->reason, 0);
        else
                manager_journal_event(w->m, "decision", d->reason,
                                      json_pack("{s:s, s:i}", "site", site, "level", (int) d->level));
        log_info("policy for %s: %s", site, d->reason);
        if (wi && d->held_back) {
                (void) incident_log_action(wi->inc, INCIDENT_ACTION_OVERRIDE, INCIDENT_ACTOR_POLICY,
                                           d->reason, watch_now_rt());
                watch_flush_incident(w, wi, 0);
        }

        for (size_t i = 0; i < d->n_actions; i++) {
                const DecisionAction *a = &d->actions[i];
                switch (a->kind) {
                case DECISION_NOTIFY: {
                        StrBuf roles = STRBUF_INIT;
                        free(msg);
                        msg = wi ? xasprintf("incident %lld at %s: level %d (%s): %s", (long long) wi->id,
                                             site, (int) incident_get_level(wi->inc),
                                             warning_level_to_string(incident_get_level(wi->inc)),
                                             incident_get_phenomenon(wi->inc))
                                 : xasprintf("%s: %s", site, d->reason);
                        for (const char *const *r = a->roles; r && *r; r++) {
                                watch_notify(w, *r, wi, "incident", msg, d->level);
                                strbuf_printf(&roles, "%s%s", roles.len ? ", " : "", *r);
                        }
                        if (wi) {
                                _cleanup_free_ char *t =
                                        xasprintf("notified %s: %s", strbuf_str(&roles), a->reason);
                                (void) incident_log_action(wi->inc, INCIDENT_ACTION_NOTIFY,
                                                           INCIDENT_ACTOR_POLICY, t, watch_now_rt());
                                watch_flush_incident(w, wi, 0);
                        }
                        strbuf_done(&roles);
                        break;
                }
                case DECISION_RAISE_FREQUENCY: {
                        int r = w->prober ? prober_set_interval_factor(w->prober, NULL, a->frequency_factor)
                                          : 0;
                        if (r >= 0)
                                w->frequency_raised = true;
                        _cleanup_free_ char *t = xasprintf("probe frequency ×%g%s: %s", a->frequency_factor,
                                                           r < 0 ? " (failed)" : "", a->reason);
                        if (wi)
                                watch_journal_line(w, wi->id, INCIDENT_ACTOR_POLICY, "raise-frequency", t,
                                                   0);
                        log_info("%s", t);
                        break;
                }
                case DECISION_PROPOSE:
                        if (wi)
                                watch_propose(w, wi, a, a->reason);
                        break;
                case DECISION_AUTO: {
                        if (!wi)
                                break;
                        ParamValue *pv = xcalloc(a->n_params + 1, sizeof(ParamValue));
                        for (size_t k = 0; k < a->n_params; k++) {
                                pv[k].name = (char *) a->params[k].name;
                                pv[k].value = (char *) a->params[k].value;
                        }
                        (void) watch_start_incident_run(w, wi, a->playbook, pv, a->n_params, "auto",
                                                        INCIDENT_ACTOR_POLICY, NULL);
                        free(pv);
                        break;
                }
                default:
                        break;
                }
        }
        /* An AUTO the policy did not start (a run active, droverd stopping): said why. */
        if (wi && s->note[0])
                watch_journal_line(w, wi->id, INCIDENT_ACTOR_POLICY, "decision", s->note, 0);
}

/* How long a fresh detector and level evaluator need before a level they report is the
 * truth: the slowest probe's fall (or rise) checks, plus the longest rule duration. */
static usec_t settle_window(const Watch *w)
{
        const MonitorConfig *mc = w->config ? w->config->monitor : NULL;
        usec_t win = 0, longest_for = 0;

        for (size_t i = 0; mc && i < mc->n_probes; i++) {
                const ProbeConfig *p = &mc->probes[i];
                usec_t t = (usec_t) (MAX(p->fall, p->rise) + 2) * (p->interval + p->timeout);
                win = MAX(win, t);
        }
        for (size_t i = 0; mc && i < mc->n_level_rules; i++)
                longest_for = MAX(longest_for, mc->level_rules[i].for_duration);
        return win + longest_for + USEC_PER_SEC;
}

static void settle_all(Watch *w)
{
        usec_t until = now_usec(CLOCK_MONOTONIC) + settle_window(w);
        for (size_t i = 0; i < w->n_incidents; i++)
                w->incidents[i]->settle_until = until;
}

/* One site's level moved. */
static void handle_site_level(Watch *w, const LevelChange *lc)
{
        Manager *m = w->m;
        /* lc->site may point into the incident that a resolution below frees. */
        _cleanup_free_ char *site = xstrdup(lc->site);
        WatchIncident *wi = watch_find_site_incident(w, site);
        usec_t at = mono_to_rt(lc->at);
        PolicyState st;
        PolicyStep s;
        int r;

        log_info("level of %s: %s → %s (%s)", site, warning_level_to_string(lc->from),
                 warning_level_to_string(lc->to), lc->reason);
        watch_fill_policy_state(w, &st);
        r = policy_step(&w->policy, &st,
                        &(PolicyEvent){
                                .kind = POLICY_EVENT_LEVEL_CHANGE,
                                .site = site,
                                .from = lc->from,
                                .to = lc->to,
                                .reason = lc->reason,
                                .incident = watch_policy_incident(w, wi),
                                .now_mono = now_usec(CLOCK_MONOTONIC),
                        },
                        watch_now_rt(), &s);
        if (r < 0) {
                log_warning_errno(r, "policy: cannot decide for %s: %s", site, strerror(-r));
                return;
        }
        if (s.hold) {
                log_debug("incident %lld: %s", (long long) wi->id, s.reason);
                return;
        }

        if (s.open_incident)
                wi = watch_open_incident(w, lc, at);
        else if (s.set_level && wi) {
                r = incident_set_level(wi->inc, lc->to, INCIDENT_ACTOR_POLICY, lc->reason, at);
                if (r < 0)
                        log_warning_errno(r, "incident %lld: cannot set level: %s", (long long) wi->id,
                                          strerror(-r));
                watch_flush_incident(w, wi, 0);
        }
        if (s.decided)
                execute_decision(w, wi, &s, site);

        if (s.resolve_incident && wi) {
                _cleanup_free_ char *why = xasprintf("condition cleared: %s", lc->reason);
                r = incident_transition(wi->inc, INCIDENT_RESOLVED, INCIDENT_ACTOR_POLICY, why,
                                        watch_now_rt(), NULL);
                watch_flush_incident(w, wi, 0);
                if (r >= 0) {
                        log_info("incident %lld resolved: %s", (long long) wi->id, why);
                        watch_remove_incident(w, wi);
                        if (s.reset_frequency && w->prober) {
                                w->frequency_raised = false;
                                (void) prober_set_interval_factor(w->prober, NULL, 1.0);
                                manager_journal_event(
                                        m, "probe-frequency",
                                        "no incident open: probes at their configured interval",
                                        json_pack("{s:f}", "factor", 1.0));
                        }
                }
        }
        if (m->observer.site_changed) {
                ManagerSite *sites = NULL;
                size_t n = 0;
                if (watch_list_sites(w, &sites, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                if (streq(sites[i].name, site))
                                        m->observer.site_changed(m->observer.userdata, &sites[i]);
                manager_site_free_array(sites, n);
        }
        watch_arm_deadline_timer(w);
        manager_update_status(m);
}

static void arm_level_timer(Watch *w);

static void evaluate(Watch *w, usec_t now)
{
        LevelChange changes[WATCH_CHANGES_MAX];
        size_t n = 0;
        int r;

        r = levels_evaluate(w->levels, now, changes, ELEMENTSOF(changes), &n);
        if (r < 0) {
                log_warning_errno(r, "levels: cannot evaluate: %s", strerror(-r));
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (changes[i].subject_is_site)
                        handle_site_level(w, &changes[i]);
        arm_level_timer(w);
}

static void journal_health(Watch *w, const HealthChange *c)
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
        r = journal_event(w->m->journal, 0, mono_to_rt(c->at), "health-change", msg, dj);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record a health change: %s", strerror(-r));
}

static void on_probe_result(Prober *p, const ProbeResult *res, void *userdata)
{
        Watch *w = userdata;
        HealthChange changes[4];
        size_t n = 0;
        int r;

        log_debug("probe %s (%s): %s %s", res->probe, strna(res->vantage),
                  probe_outcome_to_string(res->outcome), strempty(res->detail));
        r = detector_feed(w->detector, res, changes, ELEMENTSOF(changes), &n);
        if (r < 0)
                log_debug("detector: result of %s ignored: %s", res->probe, strerror(-r));
        (void) levels_feed_probe(w->levels, res);
        for (size_t i = 0; i < n; i++) {
                journal_health(w, &changes[i]);
                (void) levels_feed_health(w->levels, &changes[i]);
        }
        evaluate(w, res->at);
}

static int on_level_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Watch *w = userdata;
        evaluate(w, now_usec(CLOCK_MONOTONIC));
        return 0;
}

static void arm_level_timer(Watch *w)
{
        usec_t when;
        int r;

        if (!w->level_timer)
                return;
        r = levels_next_deadline(w->levels, &when);
        if (r < 0) {
                (void) sd_event_source_set_enabled(w->level_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(w->level_timer, when + 1);
        (void) sd_event_source_set_enabled(w->level_timer, SD_EVENT_ONESHOT);
}

/* Incidents whose settling window ended: the tick feeds the level the evaluator holds
 * now, if policy_step() says so (a higher one was applied when it came). */
static void settle_check(Watch *w, usec_t now)
{
        for (size_t i = 0; i < w->n_incidents; i++) {
                WatchIncident *wi = w->incidents[i];
                LevelStatus ls = {};
                PolicyState st;
                PolicyStep s;
                LevelChange lc;

                if (levels_get(w->levels, incident_get_site(wi->inc), true, &ls) < 0)
                        ls.level = LEVEL_NONE;
                watch_fill_policy_state(w, &st);
                if (policy_step(&w->policy, &st,
                                &(PolicyEvent){
                                        .kind = POLICY_EVENT_TICK,
                                        .site = incident_get_site(wi->inc),
                                        .to = ls.level,
                                        .reason = ls.rule_name,
                                        .incident = watch_policy_incident(w, wi),
                                        .now_mono = now,
                                },
                                watch_now_rt(), &s) < 0)
                        continue;
                if (s.settle_ended)
                        wi->settle_until = 0;
                if (!s.feed_level)
                        continue;
                lc = (LevelChange){
                        .subject = incident_get_site(wi->inc),
                        .site = incident_get_site(wi->inc),
                        .subject_is_site = true,
                        .from = incident_get_level(wi->inc),
                        .to = s.decision.level,
                        .at = now,
                        .rule = ls.rule,
                        .rule_name = ls.rule_name,
                };
                snprintf(lc.reason, sizeof(lc.reason), "%s", s.reason);
                handle_site_level(w, &lc);
                return; /* the array may have changed; the next tick does the rest */
        }
}

/* Staleness: a vantage that went silent is noticed without a new result. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Watch *w = userdata;
        HealthChange changes[WATCH_CHANGES_MAX];
        usec_t now = now_usec(CLOCK_MONOTONIC);
        size_t n = 0;

        if (detector_tick(w->detector, now, changes, ELEMENTSOF(changes), &n) >= 0)
                for (size_t i = 0; i < n; i++) {
                        journal_health(w, &changes[i]);
                        (void) levels_feed_health(w->levels, &changes[i]);
                }
        evaluate(w, now);
        settle_check(w, now);
        (void) sd_event_source_set_time_relative(s, USEC_PER_SEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_deadline_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Watch *w = userdata;
        usec_t now = watch_now_rt();

        for (size_t i = 0; i < w->n_incidents; i++) {
                WatchIncident *wi = w->incidents[i];
                DeadlineMiss miss[8];
                int n = incident_deadlines_due(wi->inc, now, miss, ELEMENTSOF(miss));
                if (n <= 0)
                        continue;
                watch_flush_incident(w, wi, 0);
                for (int k = 0; k < n; k++) {
                        PolicyState st;
                        PolicyStep step;
                        _cleanup_free_ char *why = xasprintf("%s deadline of level %d missed",
                                                             incident_deadline_kind_to_string(miss[k].kind),
                                                             (int) miss[k].level);
                        log_warning("incident %lld: %s", (long long) wi->id, why);
                        watch_fill_policy_state(w, &st);
                        if (policy_step(&w->policy, &st,
                                        &(PolicyEvent){
                                                .kind = POLICY_EVENT_DEADLINE_MISS,
                                                .site = incident_get_site(wi->inc),
                                                .from = miss[k].level,
                                                .to = miss[k].new_level,
                                                .reason = why,
                                                .incident = watch_policy_incident(w, wi),
                                                .now_mono = now_usec(CLOCK_MONOTONIC),
                                        },
                                        now, &step) >= 0 &&
                            step.decided)
                                execute_decision(w, wi, &step, incident_get_site(wi->inc));
                }
        }
        watch_arm_deadline_timer(w);
        manager_update_status(w->m);
        return 0;
}

void watch_arm_deadline_timer(Watch *w)
{
        usec_t next = USEC_INFINITY;

        if (!w->deadline_timer)
                return;
        for (size_t i = 0; i < w->n_incidents; i++) {
                usec_t t;
                if (incident_next_deadline(w->incidents[i]->inc, &t) >= 0 && t < next)
                        next = t;
        }
        if (next == USEC_INFINITY) {
                (void) sd_event_source_set_enabled(w->deadline_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(w->deadline_timer, next + 1);
        (void) sd_event_source_set_enabled(w->deadline_timer, SD_EVENT_ONESHOT);
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

static void free_built(Watch *w)
{
        w->level_timer = sd_event_source_disable_unref(w->level_timer);
        w->tick_timer = sd_event_source_disable_unref(w->tick_timer);
        w->prober = prober_free(w->prober);
        w->detector = detector_free(w->detector);
        w->levels = levels_free(w->levels);
        for (size_t i = 0; i < w->n_headers; i++)
                strv_free(w->headers[i]);
        free(w->headers);
        w->headers = NULL;
        w->n_headers = 0;
}

static int add_probe(Watch *w, const ProbeConfig *pc, const char *vantage)
{
        long expect[PROBER_EXPECT_STATUS_MAX];
        _cleanup_free_ char *url = NULL, *name = NULL;
        char **headers = NULL;
        int r;

        for (size_t i = 0; i < pc->n_expect_status && i < PROBER_EXPECT_STATUS_MAX; i++)
                expect[i] = (long) pc->expect_status[i];
        if (pc->endpoint) {
                url = xasprintf("%s%s", pc->endpoint->base_url, pc->path ?: "/");
                r = watch_expand_headers(w->config, pc->endpoint, &headers);
                if (r < 0)
                        return log_error_errno(r, "probe %s: cannot expand the endpoint's headers: %s",
                                               pc->name, strerror(-r));
                *(char ***) array_push(&w->headers, &w->n_headers, sizeof(char **)) = headers;
        }
        bool local = streq(vantage, PROBER_VANTAGE_LOCAL);
        const VantagePoint *vp =
                local ? NULL : monitor_config_find_vantage_point(w->config->monitor, vantage);
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
        r = prober_add(w->prober, &spec);
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

static int build(Watch *w, const Config *c)
{
        const MonitorConfig *mc = c->monitor;
        int r;

        w->config = c;
        r = build_policy(c, &w->policy);
        if (r < 0)
                return r;
        monitor_config_deadlines(mc, &w->deadlines);
        r = monitor_config_new_detector(mc, &w->detector);
        if (r < 0)
                return log_error_errno(r, "cannot build the detector: %s", strerror(-r));
        r = monitor_config_new_levels(mc, &w->levels);
        if (r < 0)
                return log_error_errno(r, "cannot build the level rules: %s", strerror(-r));
        r = prober_new(&w->prober, w->m->event, on_probe_result, w);
        if (r >= 0)
                r = prober_set_ssh(w->prober, &prober_ssh_real_ops);
        if (r < 0)
                return log_error_errno(r, "cannot start the prober: %s", strerror(-r));
        for (size_t i = 0; mc && i < mc->n_probes; i++)
                for (size_t v = 0; v < mc->probes[i].n_vantage_points; v++) {
                        r = add_probe(w, &mc->probes[i], mc->probes[i].vantage_points[v]);
                        if (r < 0)
                                return r;
                }
        r = sd_event_add_time(w->m->event, &w->level_timer, CLOCK_MONOTONIC, USEC_INFINITY,
                              10 * USEC_PER_MSEC, on_level_timer, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->level_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(w->m->event, &w->tick_timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                               100 * USEC_PER_MSEC, on_tick, w);
        if (r < 0)
                return log_error_errno(r, "cannot arm the watch's timers: %s", strerror(-r));
        return 0;
}

/* ---- the Watch's surface ------------------------------------------------------------ */

int watch_new(Watch **ret, Manager *m)
{
        Watch *w = xcalloc(1, sizeof(*w));
        w->m = m;
        w->maintenance = xcalloc(1, sizeof(char *));
        w->override_sites = xcalloc(1, sizeof(char *));
        w->cluster_role = CLUSTER_ROLE_STANDALONE;
        *ret = w;
        return 0;
}

Watch *watch_free(Watch *w)
{
        if (!w)
                return NULL;
        free_built(w);
        sd_event_source_disable_unref(w->deadline_timer);
        watch_notify_done(w);
        for (size_t i = 0; i < w->n_incidents; i++)
                watch_incident_free(w->incidents[i]);
        free(w->incidents);
        free(w->active_site);
        free(w->leader);
        strv_free(w->maintenance);
        strv_free(w->override_sites);
        free(w);
        return NULL;
}

int watch_start(Watch *w)
{
        int r;

        w->config = w->m->config;
        monitor_config_deadlines(w->config->monitor, &w->deadlines);
        watch_restore(w);
        r = watch_notify_init(w);
        if (r < 0)
                return log_error_errno(r, "cannot set up notifications: %s", strerror(-r));
        r = sd_event_add_time(w->m->event, &w->deadline_timer, CLOCK_REALTIME, USEC_INFINITY, USEC_PER_SEC,
                              on_deadline_timer, w);
        if (r < 0)
                return log_error_errno(r, "cannot arm the deadline timer: %s", strerror(-r));
        r = build(w, w->m->config);
        if (r < 0)
                return r;
        settle_all(w);
        watch_arm_deadline_timer(w);
        /* Phase 2 of the cluster work feeds the real role; alone, this node acts. */
        watch_set_cluster_role(w, CLUSTER_ROLE_STANDALONE, NULL);
        if (w->active_site)
                log_info("active site: %s; %zu probe%s; %zu open incident%s restored", w->active_site,
                         prober_n_probes(w->prober), prober_n_probes(w->prober) == 1 ? "" : "s",
                         w->n_incidents, w->n_incidents == 1 ? "" : "s");
        return 0;
}

int watch_reload(Watch *w)
{
        PolicyConfig policy;
        int r;

        /* The policy first: a response whose playbook cannot be loaded refuses the reload
         * before anything is torn down. */
        r = build_policy(w->m->config, &policy);
        if (r < 0)
                return r;
        free_built(w);
        r = build(w, w->m->config);
        if (r < 0)
                return r;
        settle_all(w);
        if (w->active_site && !config_find_site(w->config, w->active_site)) {
                free(w->active_site);
                w->active_site = xstrdup(w->config->monitor ? w->config->monitor->active_site : NULL);
        }
        return 0;
}

/* This node has just been elected: while it followed (or had no quorum) it kept its own
 * view of the incidents but acted on nothing, so each open incident is decided again as if
 * its level had just been reached from none. The pure policy has no event for that; the
 * deadline event is the one that decides without touching the incident's level (the level
 * change event would compare with the incident's own level and see no change), and its
 * filters still apply: cooldown, a run active or interrupted, stopping, the role. */
static void redecide_open_incidents(Watch *w)
{
        _cleanup_strv_free_ char **sites = NULL;

        for (size_t i = 0; i < w->n_incidents; i++)
                strv_push(&sites, xstrdup(incident_get_site(w->incidents[i]->inc)));
        for (char **site = sites; site && *site; site++) {
                WatchIncident *wi = watch_find_site_incident(w, *site);
                _cleanup_free_ char *why = NULL;
                PolicyState st;
                PolicyStep step;

                if (!wi || incident_get_level(wi->inc) == LEVEL_NONE)
                        continue;
                why = xasprintf("this node now leads the cluster: incident %lld decided again",
                                (long long) wi->id);
                log_notice("%s", why);
                watch_fill_policy_state(w, &st);
                if (policy_step(&w->policy, &st,
                                &(PolicyEvent){
                                        .kind = POLICY_EVENT_DEADLINE_MISS,
                                        .site = *site,
                                        .from = LEVEL_NONE,
                                        .to = incident_get_level(wi->inc),
                                        .reason = why,
                                        .incident = watch_policy_incident(w, wi),
                                        .now_mono = now_usec(CLOCK_MONOTONIC),
                                },
                                watch_now_rt(), &step) >= 0 &&
                    step.decided)
                        execute_decision(w, wi, &step, *site);
        }
        watch_arm_deadline_timer(w);
        manager_update_status(w->m);
}

void watch_set_cluster_role(Watch *w, ClusterRole role, const char *leader)
{
        _cleanup_free_ char *msg = NULL;
        bool elected;

        if (!w || role < 0 || role >= _CLUSTER_ROLE_MAX)
                return;
        if (w->cluster_role == role && streq_ptr(w->leader, leader))
                return;
        elected = role == CLUSTER_ROLE_LEADER &&
                  (w->cluster_role == CLUSTER_ROLE_FOLLOWER || w->cluster_role == CLUSTER_ROLE_NO_QUORUM);
        w->cluster_role = role;
        free(w->leader);
        w->leader = leader ? xstrdup(leader) : NULL;
        msg = xasprintf("cluster role: %s%s%s", cluster_role_to_string(role), leader ? ", leader " : "",
                        strempty(leader));
        log_notice("%s", msg);
        manager_journal_event(
                w->m, "cluster-role", msg,
                json_pack("{s:s, s:s?}", "role", cluster_role_to_string(role), "leader", leader));
        /* Elected: the open incidents are decided again once the cluster's failover state
         * has been read (watch_cluster_elected()). */
        w->elected_pending = elected;
}

void watch_cluster_elected(Watch *w, const FailoverState *st, const char *source)
{
        if (!w || w->cluster_role != CLUSTER_ROLE_LEADER)
                return;
        if (st && st->active_site && config_find_site(w->config, st->active_site) &&
            !streq_ptr(st->active_site, w->active_site)) {
                _cleanup_free_ char *msg = xasprintf("active site: %s → %s, learned from the cluster (%s)",
                                                     strna(w->active_site), st->active_site, strna(source));
                log_notice("%s", msg);
                manager_journal_event(w->m, "active-site-changed", msg,
                                      json_pack("{s:s?, s:s, s:s, s:I}", "from", w->active_site, "to",
                                                st->active_site, "node", strna(st->node), "epoch",
                                                (json_int_t) st->epoch));
                free(w->active_site);
                w->active_site = xstrdup(st->active_site);
        }
        if (st && st->last_auto_switchover > w->last_auto_switchover) {
                log_info("last automatic switchover learned from the cluster (%s): the cooldown counts from "
                         "it",
                         strna(source));
                w->last_auto_switchover = st->last_auto_switchover;
        }
        if (!w->elected_pending)
                return;
        w->elected_pending = false;
        if (w->n_incidents > 0)
                redecide_open_incidents(w);
}
