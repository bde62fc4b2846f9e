/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.c — see manager.h. The daemon's shell: config, journal, the sd-event
 * loop, signals, the watchdog and the service manager protocol (STATUS= says what the
 * daemon does), and the commander's calls on sites and incidents, which it hands to
 * watch*.c; runs are manager-run.c. Decisions about sites and incidents are not made
 * here.
 */
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon/manager-internal.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/time-util.h"


static void log_diags(DiagList *diags)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;
        int level = diag_has_errors(diags) ? LOG_ERR : LOG_WARNING;

        if (diags->n_items == 0 && diags->n_dropped == 0)
                return;
        /* diag_print() formats path:line:col, the source line and the caret; route each
         * line through the log so that under systemd each gets its priority. */
        f = open_memstream(&text, &len);
        if (!f) {
                diag_print(diags, stderr);
                return;
        }
        diag_print(diags, f);
        if (fclose(f) != 0 || !text) {
                diag_print(diags, stderr);
                return;
        }
        for (char *line = text, *nl; line && *line; line = nl) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = '\0';
                log_full_errno(level, 0, "%s", line);
        }
}

/* Load and validate a config file whole; every diagnostic is logged. */
static int load_config(const char *path, Config **ret, size_t *ret_n_errors)
{
        DiagList diags;
        int r;

        diag_list_init(&diags);
        r = config_load(path, ret, &diags);
        log_diags(&diags);
        if (ret_n_errors)
                *ret_n_errors = diag_count_errors(&diags);
        diag_list_done(&diags);
        if (r < 0 && r != -EINVAL)
                log_error_errno(r, "cannot load %s: %s", path, strerror(-r));
        return r;
}

static char *status_watching(const Manager *m)
{
        StrBuf b = STRBUF_INIT;
        size_t n_probes = 0, n_open = 0;
        int worst = 0;

        if (m->watch)
                watch_status(m->watch, &n_probes, &n_open, &worst);
        strbuf_printf(&b, "watching %zu site%s, %zu host%s, %zu probe%s", m->config->n_sites,
                      m->config->n_sites == 1 ? "" : "s", m->config->n_hosts, m->config->n_hosts == 1 ? "" : "s",
                      n_probes, n_probes == 1 ? "" : "s");
        if (n_open > 0)
                strbuf_printf(&b, "; %zu incident%s open (level %d)", n_open, n_open == 1 ? "" : "s", worst);
        else
                strbuf_puts(&b, "; no incident open");
        const ManagerRun *run = manager_runs_current(m);
        if (run) {
                size_t n_active = manager_runs_n_active(m);
                if (run->state == MANAGER_RUN_WAITING_APPROVAL)
                        strbuf_printf(&b, "; running %s (step %u/%u, waiting for approval)", run->playbook,
                                      run->steps_done + 1, run->steps_total);
                else
                        strbuf_printf(&b, "; running %s (step %u/%u)", run->playbook,
                                      MIN(run->steps_done + 1, MAX(run->steps_total, 1u)), run->steps_total);
                if (n_active > 1)
                        strbuf_printf(&b, " and %zu more run%s", n_active - 1, n_active == 2 ? "" : "s");
        }
        if (m->cluster) {
                ManagerClusterView v;
                manager_cluster_view(m, &v);
                if (v.role == CLUSTER_ROLE_LEADER)
                        strbuf_printf(&b, "; cluster: %s leads (epoch %" PRIu64 ")", v.node, v.epoch);
                else if (v.role == CLUSTER_ROLE_FOLLOWER && v.leader)
                        strbuf_printf(&b, "; cluster: %s follows %s (epoch %" PRIu64 ")", v.node, v.leader,
                                      v.epoch);
                else if (v.role == CLUSTER_ROLE_FOLLOWER)
                        strbuf_printf(&b, "; cluster: %s follows, no leader yet", v.node);
                else
                        strbuf_printf(&b, "; cluster: %s has no etcd quorum, nothing automatic", v.node);
        }
        strbuf_printf(&b, "; journal %s", m->journal_path);
        return strbuf_steal(&b);
}

void manager_update_status(Manager *m)
{
        _cleanup_free_ char *s = NULL;

        if (!m->config || m->stopping)
                return;
        s = status_watching(m);
        if (streq_ptr(s, m->last_status))
                return;
        (void) sd_notifyf(0, "STATUS=%s", s);
        free(m->last_status);
        m->last_status = TAKE_PTR(s);
}

/* A journal event for the daemon itself (run id 0). A failure is logged, not fatal:
 * the daemon keeps watching even when the journal is briefly busy. */
void manager_journal_event(Manager *m, const char *kind, const char *message, json_t *data)
{
        _cleanup_free_ char *data_json = NULL;
        int r;

        if (!m->journal)
                return;
        if (data) {
                data_json = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
                json_decref(data);
        }
        r = journal_event(m->journal, 0, 0, kind, message, data_json);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record %s event: %s (%s)", kind, strerror(-r),
                                  journal_errmsg(m->journal));
}

static json_t *config_summary_json(const Manager *m)
{
        return json_pack("{s:s, s:I, s:I, s:I, s:I}", "config", m->config_path, "sites",
                         (json_int_t) m->config->n_sites, "hosts", (json_int_t) m->config->n_hosts,
                         "endpoints", (json_int_t) m->config->n_endpoints, "pid", (json_int_t) getpid());
}

int manager_new(Manager **ret, const char *config_path, const char *db_path)
{
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = xcalloc(1, sizeof(*m));
        m->config_path = xstrdup(config_path ? config_path : CONFIG_DEFAULT_PATH);
        m->db_path = xstrdup(db_path);
        m->accepting = true;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        /* The cluster first: resigning reports the step-down to the watch. */
        manager_cluster_free(m);
        m->watch = watch_free(m->watch);
        manager_runs_free(m);
        sd_event_source_disable_unref(m->stop_timer);
        sd_event_source_disable_unref(m->watchdog_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_unref(m->event);
        journal_close(m->journal);
        config_free(m->config);
        free(m->last_status);
        free(m->stop_reason);
        free(m->journal_path);
        free(m->db_path);
        free(m->config_path);
        free(m);
        return NULL;
}

const Config *manager_get_config(const Manager *m)
{
        return m->config;
}

bool manager_is_accepting(const Manager *m)
{
        return m->accepting;
}

int manager_check_config(const char *config_path)
{
        _cleanup_(config_freep) Config *c = NULL;
        const char *path = config_path ? config_path : CONFIG_DEFAULT_PATH;
        size_t n_errors = 0;
        int r;

        r = load_config(path, &c, &n_errors);
        if (r < 0) {
                if (r == -EINVAL)
                        log_error("%s: %zu error%s; the configuration is refused", path, n_errors,
                                  n_errors == 1 ? "" : "s");
                return r;
        }
        log_info("%s: valid (%zu sites, %zu hosts, %zu endpoints, %zu secrets)", path, c->n_sites, c->n_hosts,
                 c->n_endpoints, c->n_secrets);
        return 0;
}

void manager_stop_accepting(Manager *m)
{
        if (!m->accepting)
                return;
        m->accepting = false;
        /* Probe timers keep running for status, but no policy decision may start a run
         * (the watch checks accepting) and manager_start_run()/answer() return -EBUSY. */
        log_debug("no longer accepting new work");
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        /* Sent from the loop itself: if the loop stalls, the pings stop and systemd
         * restarts us, which is the point. */
        (void) sd_notify(0, "WATCHDOG=1");
        r = sd_event_source_set_time_relative(s, m->watchdog_usec / 2);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "cannot re-arm the watchdog timer: %s", strerror(-r));
        return 0;
}

static int manager_reload(Manager *m)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *watching = NULL, *message = NULL;
        size_t n_errors = 0;
        int r;

        /* MONOTONIC_USEC= lets systemd ≥ 253 tell this reload from an older one; 252 ignores it. */
        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
                          (unsigned long long) now_usec(CLOCK_MONOTONIC), m->config_path);
        log_info("reloading %s", m->config_path);

        r = load_config(m->config_path, &c, &n_errors);
        if (r < 0) {
                /* The new file is refused whole; nothing of it is used. */
                watching = status_watching(m);
                if (r == -EINVAL)
                        message = xasprintf("%zu error%s in %s; keeping the old config", n_errors,
                                            n_errors == 1 ? "" : "s", m->config_path);
                else
                        message = xasprintf("cannot read %s: %s; keeping the old config", m->config_path,
                                            strerror(-r));
                log_error("config reload refused: %s", message);
                manager_journal_event(m, "config-reload-refused", message,
                                      json_pack("{s:s, s:I}", "config", m->config_path, "errors",
                                                (json_int_t) n_errors));
                (void) sd_notifyf(0, "READY=1\nSTATUS=config reload refused (%s); %s", message, watching);
                return -EINVAL;
        }

        if (!!c->cluster != !!m->config->cluster ||
            (c->cluster && (!streq(c->cluster->node, m->config->cluster->node) ||
                            !streq(c->cluster->prefix, m->config->cluster->prefix))))
                log_warning(
                        "the new config changes the cluster: section; the daemon keeps its election as it "
                        "started until it is restarted");
        if (c->journal_path && !streq(c->journal_path, m->journal_path) && !m->db_path)
                log_warning("the new config names journal %s; the daemon keeps %s until it is restarted",
                            c->journal_path, m->journal_path);

        /* The watch is rebuilt from the new config (open incidents are kept); if that
         * fails (a response's playbook cannot be loaded), the old config stays. */
        Config *old = m->config;
        m->config = c;
        if (m->watch) {
                r = watch_reload(m->watch);
                if (r < 0) {
                        m->config = old;
                        int k = watch_reload(m->watch);
                        if (k < 0)
                                log_error_errno(k, "cannot rebuild the monitor from the old config either: %s",
                                                strerror(-k));
                        watching = status_watching(m);
                        message = xasprintf("the monitoring of %s cannot be built; keeping the old config",
                                            m->config_path);
                        log_error("config reload refused: %s", message);
                        manager_journal_event(m, "config-reload-refused", message,
                                              json_pack("{s:s, s:I}", "config", m->config_path, "errors",
                                                        (json_int_t) 1));
                        (void) sd_notifyf(0, "READY=1\nSTATUS=config reload refused (%s); %s", message, watching);
                        return -EINVAL; /* c is freed by its cleanup */
                }
        }
        TAKE_PTR(c);
        config_free(old);

        watching = status_watching(m);
        message = xasprintf("reloaded %s: %s", m->config_path, watching);
        log_info("%s", message);
        manager_journal_event(m, "config-reloaded", message, config_summary_json(m));
        (void) sd_notifyf(0, "READY=1\nSTATUS=%s", watching);
        free(m->last_status);
        m->last_status = TAKE_PTR(watching);
        return 0;
}

void manager_maybe_exit(Manager *m)
{
        _cleanup_free_ char *message = NULL;

        if (!m->stopping || manager_runs_n_active(m) > 0 || !m->event)
                return;
        if (sd_event_get_state(m->event) == SD_EVENT_FINISHED)
                return;
        /* A clean stop resigns: another node leads at once instead of after the TTL. */
        manager_cluster_stop(m);
        message = xasprintf("droverd stopping on %s", m->stop_reason ?: "request");
        manager_journal_event(m, "daemon-stopped", message, json_pack("{s:s}", "signal", strna(m->stop_reason)));
        (void) sd_event_exit(m->event, 0);
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        /* Workers that did not end after SIGINT within the bound: SIGKILL; their exit
         * (and the journal's recovery of their step as interrupted) still comes through
         * the loop, and then we exit. */
        manager_runs_kill_all(m);
        return 0;
}

static void manager_shutdown(Manager *m, const char *why)
{
        size_t n;

        if (m->stopping)
                return;
        (void) sd_notify(0, "STOPPING=1\nSTATUS=stopping");
        m->stopping = true;
        m->stop_reason = xstrdup(why);
        log_info("stopping (%s)", why);

        manager_stop_accepting(m);
        /* Running workers are cancelled like Ctrl-C (their rollback runs), given a bound,
         * then killed; the loop exits once every one has been reaped and journaled. */
        n = manager_runs_cancel_all(m, why);
        if (n > 0) {
                _cleanup_free_ char *msg = xasprintf("cancelling %zu run%s before stopping", n, n == 1 ? "" : "s");
                log_info("%s", msg);
                manager_journal_event(m, "daemon-stopping-runs", msg, json_pack("{s:s, s:I}", "signal", why,
                                                                                   "runs", (json_int_t) n));
                (void) sd_event_add_time_relative(m->event, &m->stop_timer, CLOCK_MONOTONIC,
                                                  MANAGER_WORKER_STOP_TIMEOUT, 0, on_stop_timeout, m);
        }
        manager_maybe_exit(m);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        switch (si->ssi_signo) {
        case SIGHUP:
                if (!m->stopping)
                        (void) manager_reload(m);
                break;
        case SIGTERM:
                manager_shutdown(m, "SIGTERM");
                break;
        case SIGINT:
                manager_shutdown(m, "SIGINT");
                break;
        }
        return 0;
}

static int manager_setup_loop(Manager *m)
{
        sigset_t mask;
        uint64_t usec = 0;
        int r;

        /* sd_event_add_signal() needs the signals blocked (libsystemd 252 has no
         * SD_EVENT_SIGNAL_PROCMASK). */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* sd_event_add_child() for run workers and notification senders: SIGCHLD must be
         * blocked before any thread (the prober's executor, curl's resolver) exists. */
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_signal, m);
        if (r < 0)
                return log_error_errno(r, "cannot watch signals: %s", strerror(-r));

        r = sd_watchdog_enabled(0, &usec);
        if (r < 0)
                log_warning_errno(r, "ignoring an invalid watchdog setting: %s", strerror(-r));
        if (r > 0 && usec > 0) {
                m->watchdog_usec = usec;
                /* Ping at half the timeout; accuracy a tenth of that, or sd-event's default
                 * slack (250 ms) could eat a short timeout. */
                r = sd_event_add_time_relative(m->event, &m->watchdog_source, CLOCK_MONOTONIC, usec / 2,
                                               MAX(usec / 20, (uint64_t) 1), on_watchdog, m);
                if (r < 0)
                        return log_error_errno(r, "cannot arm the watchdog timer: %s", strerror(-r));
                char buf[FORMAT_DURATION_MAX];
                log_debug("watchdog: pinging every %s", format_duration(buf, usec / 2));
        }
        return 0;
}

int manager_startup(Manager *m)
{
        _cleanup_free_ char *watching = NULL, *message = NULL;
        size_t n_errors = 0;
        unsigned n_runs = 0, n_steps = 0;
        int r;

        (void) sd_notifyf(0, "STATUS=loading %s", m->config_path);
        r = load_config(m->config_path, &m->config, &n_errors);
        if (r < 0) {
                if (r == -EINVAL)
                        log_error("%s: %zu error%s; not starting", m->config_path, n_errors,
                                  n_errors == 1 ? "" : "s");
                (void) sd_notifyf(0, "STATUS=invalid configuration in %s", m->config_path);
                return r;
        }

        m->journal_path = xstrdup(journal_resolve_path(m->db_path, m->config->journal_path));
        r = journal_open(m->journal_path, &m->journal);
        if (r < 0) {
                log_error_errno(r, "cannot open journal %s: %s", m->journal_path, strerror(-r));
                (void) sd_notifyf(0, "STATUS=cannot open journal %s: %s", m->journal_path, strerror(-r));
                return r;
        }
        r = journal_recover(m->journal, &n_runs, &n_steps);
        if (r < 0)
                return log_error_errno(r, "cannot recover journal %s: %s (%s)", m->journal_path, strerror(-r),
                                       journal_errmsg(m->journal));
        if (n_runs > 0)
                log_warning("journal: %u run(s) left running by a process that died, marked interrupted "
                            "(%u step(s) in flight, outcome unknown)",
                            n_runs, n_steps);
        else
                log_info("journal %s: nothing to recover", m->journal_path);

        r = manager_setup_loop(m);
        if (r < 0)
                return r;

        r = watch_new(&m->watch, m);
        if (r >= 0)
                r = watch_start(m->watch);
        if (r < 0) {
                (void) sd_notifyf(0, "STATUS=cannot start monitoring (see the log)");
                return r == -EINVAL ? -EINVAL : r;
        }
        /* With `cluster:`, the election (on the loop: nothing is sent before it runs);
         * the watch stays at NO_QUORUM, acting on nothing, until etcd answers. */
        r = manager_cluster_start(m);
        if (r < 0) {
                (void) sd_notifyf(0, "STATUS=cannot start the cluster election (see the log)");
                return r;
        }

        watching = status_watching(m);
        message = xasprintf("droverd %s started: %s", DROVER_VERSION, watching);
        log_info("%s", message);
        json_t *data = config_summary_json(m);
        if (data) {
                json_object_set_new(data, "recovered_runs", json_integer(n_runs));
                json_object_set_new(data, "recovered_steps", json_integer(n_steps));
        }
        manager_journal_event(m, "daemon-started", message, data);

        if (!m->ready_later)
                (void) sd_notifyf(0, "READY=1\nSTATUS=%s", watching);
        free(m->last_status);
        m->last_status = TAKE_PTR(watching);
        return 0;
}

void manager_set_ready_later(Manager *m)
{
        m->ready_later = true;
}

void manager_notify_ready(Manager *m)
{
        (void) sd_notifyf(0, "READY=1\nSTATUS=%s", strempty(m->last_status));
}

int manager_run(Manager *m)
{
        return sd_event_loop(m->event);
}

/* ---- the commander's surface (manager.h) -------------------------------------------- */

void manager_site_free_array(ManagerSite *a, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(a[i].name);
                free(a[i].role);
                free(a[i].health);
        }
        free(a);
}

int manager_list_sites(Manager *m, ManagerSite **ret, size_t *ret_n)
{
        if (!m->watch)
                return -ENODATA;
        return watch_list_sites(m->watch, ret, ret_n);
}

static bool actor_ok(const char *actor)
{
        return actor && *actor;
}

int manager_set_maintenance(Manager *m, const char *site, bool on, const char *actor)
{
        int r;

        if (!site || !actor_ok(actor))
                return -EINVAL;
        if (!m->watch)
                return -ENODATA;
        r = watch_set_maintenance(m->watch, site, on, actor);
        if (r >= 0)
                manager_update_status(m);
        return r;
}


int manager_set_override(Manager *m, const char *site, bool on, const char *actor)
{
        if (!actor_ok(actor))
                return -EINVAL;
        if (!m->watch)
                return -ENODATA;
        return watch_set_override(m->watch, site, on, actor);
}

int manager_answer(Manager *m, const char *kind, int64_t id, GateAnswer answer, const char *actor,
                   const char *comment)
{
        if (!kind || !actor_ok(actor))
                return -EINVAL;
        if (m->stopping && answer != GATE_DENY)
                return -EBUSY;
        if (streq(kind, "run"))
                return manager_answer_run(m, id, answer, actor, comment);
        if (streq(kind, "incident")) {
                if (answer == GATE_SKIP)
                        return -EOPNOTSUPP;
                if (!m->watch)
                        return -ENOENT;
                return watch_answer_incident(m->watch, id, answer == GATE_APPROVE, actor, comment);
        }
        return -EINVAL;
}

int manager_ack_incident(Manager *m, int64_t id, const char *actor)
{
        if (!actor_ok(actor))
                return -EINVAL;
        return m->watch ? watch_ack_incident(m->watch, id, actor) : -ENOENT;
}

int manager_note_incident(Manager *m, int64_t id, const char *actor, const char *text)
{
        if (!actor_ok(actor) || !text || !*text)
                return -EINVAL;
        return m->watch ? watch_note_incident(m->watch, id, actor, text) : -ENOENT;
}

int manager_request_reload(Manager *m, const char *actor)
{
        _cleanup_free_ char *msg = NULL;

        if (!actor_ok(actor))
                return -EINVAL;
        if (m->stopping)
                return -EBUSY;
        msg = xasprintf("reload requested by %s", actor);
        log_info("%s", msg);
        manager_journal_event(m, "config-reload-requested", msg, json_pack("{s:s}", "actor", actor));
        return manager_reload(m);
}

void manager_set_observer(Manager *m, const ManagerObserver *o)
{
        m->observer = o ? *o : (ManagerObserver){};
}

sd_event *manager_get_event(Manager *m)
{
        return m->event;
}
