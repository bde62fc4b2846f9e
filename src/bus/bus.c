/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.c — see bus.h. Thin methods: read and check the arguments, check the caller on
 * mutating calls, call the manager surface, map its -errno to a named error, journal
 * who asked for what. Read methods answer from the journal (runs, incidents) and the
 * manager (sites, live run state).
 *
 * This file: the caller check, the error mapping and argument checks, live run state,
 * the manager's change notifications as signals, and set-up. The Manager interface's
 * methods are in bus-methods.c, the per-run and per-incident objects in
 * bus-objects.c; bus-internal.h declares what they share.
 */
#include <grp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus/bus-internal.h"
#include "daemon/manager-cluster.h"
#include "drover/dbus-api.h"
#include "shared/log.h"
#include "shared/strbuf.h"

void caller_done(Caller *c)
{
        free(c->name);
}

static int caller_get(sd_bus_message *msg, Caller *ret)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const gid_t *gids = NULL;
        struct group *gr;
        struct passwd *pw;
        gid_t egid = (gid_t) -1;
        uid_t uid;
        int n, r;

        r = sd_bus_query_sender_creds(msg,
                                      SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                              SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_PID |
                                              SD_BUS_CREDS_AUGMENT,
                                      &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        (void) sd_bus_creds_get_egid(creds, &egid);
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        if (n < 0)
                n = 0;

        *ret = (Caller){.uid = uid};
        pw = getpwuid(uid);
        ret->name = pw ? xstrdup(pw->pw_name) : xasprintf("uid %u", (unsigned) uid);
        if (uid == 0) {
                ret->commander = true;
                return 0;
        }
        gr = getgrnam(DROVER_GROUP_COMMANDERS);
        if (gr) {
                if (egid == gr->gr_gid)
                        ret->commander = true;
                for (int i = 0; i < n; i++)
                        if (gids[i] == gr->gr_gid)
                                ret->commander = true;
        }
        return 0;
}

/* One audit event per mutating call, refused ones too: who, what (secrets masked by the
 * caller of this function), and the answer. A journal failure is logged: the API keeps
 * answering when the journal is briefly busy, as the daemon does. */
static void bus_audit(Bus *b, const Caller *c, const char *method, json_t *args, const char *result)
{
        _cleanup_free_ char *data = NULL, *message = NULL;
        json_t *o;
        int r;

        o = json_pack("{s:s, s:I, s:s, s:O, s:s}", "method", method, "uid", (json_int_t) c->uid, "user",
                      strempty(c->name), "args", args ? args : json_null(), "result", result);
        if (o) {
                data = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
                json_decref(o);
        }
        message = xasprintf("%s by %s (uid %u): %s", method, strempty(c->name), (unsigned) c->uid, result);
        log_info("D-Bus: %s", message);
        r = journal_event(b->journal, 0, 0, "bus-call", message, data);
        if (r < 0)
                log_warning_errno(r, "journal: cannot record a bus-call event: %s (%s)", strerror(-r),
                                  journal_errmsg(b->journal));
}

/* The start of every mutating method: who is calling, and may they. */
int bus_authorize(Bus *b, sd_bus_message *msg, const char *method, json_t *args, Caller *ret,
                         sd_bus_error *error)
{
        int r;

        r = caller_get(msg, ret);
        if (r < 0) {
                log_warning_errno(r, "D-Bus: cannot read the credentials of %s's caller: %s", method,
                                  strerror(-r));
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_ACCESS_DENIED,
                                         "the caller's credentials cannot be read");
        }
        if (!ret->commander) {
                bus_audit(b, ret, method, args, DROVER_DBUS_ERROR_ACCESS_DENIED);
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_ACCESS_DENIED,
                                         "%s: only root and members of group %s may call this", method,
                                         DROVER_GROUP_COMMANDERS);
        }
        return 0;
}

/* Maps the manager surface's -errno to the API's errors (see manager.h). */
int bus_map_error(sd_bus_error *error, int r, const char *no_such, const char *what,
                         const char *detail)
{
        switch (r) {
        case -ENOENT:
                return sd_bus_error_setf(error, no_such, "%s", what);
        case -EINVAL:
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_INVALID_ARGS, "%s",
                                         detail ? detail : "invalid argument");
        case -EBUSY:
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NOT_ACCEPTING,
                                         "droverd is stopping and takes no new work");
        case -EALREADY:
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NOTHING_PENDING, "%s: nothing to do (%s)",
                                         what, detail ? detail : "already ended or answered");
        case -EPERM:
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_FOUR_EYES,
                                         "four-eyes: the requester of a run may not approve it");
        case -EOPNOTSUPP:
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NOT_SUPPORTED,
                                         "not supported by this droverd");
        default:
                return sd_bus_error_set_errnof(error, r, "%s: %s", what, strerror(-r));
        }
}

/* Finish a mutating call: journal its result, and return the error to sd-bus (or 0). */
int bus_finish(Bus *b, const Caller *c, const char *method, json_t *args, sd_bus_error *error, int r)
{
        bus_audit(b, c, method, args, r < 0 ? (sd_bus_error_is_set(error) ? error->name : "error") : "ok");
        return r;
}

/* The end of a mutating method without out-arguments: the empty reply when r says it
 * succeeded, then the audit; 1 for sd-bus when the reply went out. */
int bus_reply(sd_bus_message *msg, Bus *b, const Caller *c, const char *method, json_t *args,
                     sd_bus_error *error, int r)
{
        if (r >= 0)
                r = sd_bus_reply_method_return(msg, NULL);
        r = bus_finish(b, c, method, args, error, r);
        return r < 0 ? r : 1;
}

/* Acting calls on a clustered node (issue 9): a follower acts on nothing (the leader is
 * named so that the commander knows where to go); without etcd quorum what needs it is
 * refused unless the commander overrides explicitly. Standalone: always 0. */
int bus_check_cluster(Bus *b, bool needs_quorum, bool override, bool *ret_overridden, sd_bus_error *error)
{
        ManagerClusterView v;

        if (ret_overridden)
                *ret_overridden = false;
        manager_cluster_view(b->manager, &v);
        switch (v.role) {
        case CLUSTER_ROLE_STANDALONE:
                return 0;
        case CLUSTER_ROLE_FOLLOWER:
                if (v.leader)
                        return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NOT_LEADER,
                                                 "this node follows; the leader is %s (epoch %" PRIu64 ")",
                                                 v.leader, v.epoch);
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NOT_LEADER,
                                         "this node follows; no node leads right now (%s)", strna(v.reason));
        case CLUSTER_ROLE_LEADER:
                if (manager_cluster_may_act(b->manager) || !needs_quorum)
                        return 0;
                break; /* a leader whose lease is not renewed in time is as good as no quorum */
        default:
                if (!needs_quorum)
                        return 0;
                break;
        }
        if (override) {
                if (ret_overridden)
                        *ret_overridden = true;
                return 0;
        }
        return sd_bus_error_setf(
                error, DROVER_DBUS_ERROR_NO_QUORUM,
                "no etcd quorum (%s): nothing runs on this node without an explicit override "
                "(droverctl run --override-no-quorum)",
                strna(v.reason));
}

_printf_(2, 3) int invalid_args(sd_bus_error *error, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = sd_bus_error_setfv(error, DROVER_DBUS_ERROR_INVALID_ARGS, fmt, ap);
        va_end(ap);
        return r;
}

const char *check_text(const char *s, bool may_be_empty)
{
        if (!may_be_empty && (!s || !*s))
                return "must not be empty";
        if (s && strlen(s) > BUS_TEXT_MAX)
                return "is too long (at most 4096 bytes)";
        if (s && strpbrk(s, "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x1b\x7f"))
                return "holds control characters";
        return NULL;
}

/* ---- live run state: the manager's runs, indexed by id ------------------------------- */


void live_runs_done(LiveRuns *l)
{
        manager_run_free_array(l->runs, l->n);
}

void live_runs_get(Bus *b, LiveRuns *ret)
{
        *ret = (LiveRuns){};
        if (manager_list_runs(b->manager, &ret->runs, &ret->n) < 0)
                *ret = (LiveRuns){};
}

const ManagerRun *live_runs_find(const LiveRuns *l, int64_t id)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->runs[i].id == id)
                        return &l->runs[i];
        return NULL;
}

/* The run's state as the API shows it: the manager's while it tracks the run, else
 * what the journal says ("running" there means another process runs it). */
const char *run_state(const RunRecord *rec, const ManagerRun *live)
{
        if (live)
                return manager_run_state_to_string(live->state);
        return manager_run_state_to_string(rec->ended ? MANAGER_RUN_ENDED : MANAGER_RUN_RUNNING);
}

int append_run(sd_bus_message *reply, const RunRecord *x, const ManagerRun *live)
{
        return sd_bus_message_append(reply, "(xssssssttuu)", x->id, strempty(x->playbook), run_mode_to_string(x->mode),
                                     strempty(x->trigger), strempty(x->actor), run_outcome_to_string(x->outcome),
                                     run_state(x, live), (uint64_t) x->started, (uint64_t) x->ended,
                                     live ? live->steps_done : x->n_steps - x->n_failed,
                                     live ? live->steps_total : x->n_steps);
}

int append_incident(sd_bus_message *reply, const IncidentRecord *x)
{
        return sd_bus_message_append(reply, "(xsssssibtt)", x->id, strempty(x->site), strempty(x->subject),
                                     strempty(x->phenomenon), strempty(x->impact), strempty(x->state),
                                     x->level, (int) x->drill, (uint64_t) x->opened_at,
                                     (uint64_t) x->closed_at);
}

int append_site(sd_bus_message *reply, const ManagerSite *s)
{
        return sd_bus_message_append(reply, "(sssibb)", strempty(s->name), strempty(s->role),
                                     strempty(s->health), s->level, (int) s->active, (int) s->maintenance);
}

/* ---- the manager's change notifications → signals ------------------------------------ */

static void emit_failed(int r, const char *what)
{
        if (r < 0)
                log_warning_errno(r, "D-Bus: cannot emit %s: %s", what, strerror(-r));
}

static void on_site_changed(void *userdata, const ManagerSite *site)
{
        Bus *b = userdata;
        SiteLevel *sl = NULL;

        if (!site || !site->name)
                return;
        for (size_t i = 0; i < b->n_levels; i++)
                if (streq(b->levels[i].name, site->name))
                        sl = &b->levels[i];
        if (!sl) {
                sl = array_push(&b->levels, &b->n_levels, sizeof(SiteLevel));
                sl->name = xstrdup(site->name);
                sl->level = 0;
        }
        if (sl->level == site->level)
                return;
        sl->level = site->level;
        emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                       DROVER_DBUS_SIGNAL_LEVEL_CHANGED, "sis", site->name, site->level,
                                       strempty(site->health)),
                    DROVER_DBUS_SIGNAL_LEVEL_CHANGED);
}

static void on_incident_changed(void *userdata, int64_t id, const char *state, int level)
{
        Bus *b = userdata;
        _cleanup_free_ char *path = object_path(DROVER_DBUS_INCIDENT_PREFIX, id);

        emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                       DROVER_DBUS_SIGNAL_INCIDENT_CHANGED, "xsi", id, strempty(state),
                                       level),
                    DROVER_DBUS_SIGNAL_INCIDENT_CHANGED);
        emit_failed(sd_bus_emit_properties_changed(b->bus, path, DROVER_DBUS_INCIDENT_INTERFACE, "State",
                                                   "Level", "Impact", "ClosedAt", NULL),
                    "PropertiesChanged");
}

static void on_run_changed(void *userdata, const ManagerRun *run)
{
        Bus *b = userdata;
        _cleanup_free_ char *path = NULL;

        if (!run)
                return;
        path = object_path(DROVER_DBUS_RUN_PREFIX, run->id);
        emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                       DROVER_DBUS_SIGNAL_RUN_CHANGED, "xssuus", run->id,
                                       strempty(manager_run_state_to_string(run->state)),
                                       strempty(run->current_step), run->steps_done, run->steps_total,
                                       run_outcome_is_final(run->outcome) ? run_outcome_to_string(run->outcome)
                                                                          : ""),
                    DROVER_DBUS_SIGNAL_RUN_CHANGED);
        emit_failed(sd_bus_emit_properties_changed(b->bus, path, DROVER_DBUS_RUN_INTERFACE, "State",
                                                   "Outcome", "CurrentStep", "PendingPrompt", "StepsDone",
                                                   "StepsTotal", "Ended", NULL),
                    "PropertiesChanged");
}

static void on_step_started(void *userdata, int64_t run_id, const char *step, const char *target)
{
        Bus *b = userdata;

        emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                       DROVER_DBUS_SIGNAL_STEP_STARTED, "xss", run_id, strempty(step),
                                       strempty(target)),
                    DROVER_DBUS_SIGNAL_STEP_STARTED);
}

static void on_step_finished(void *userdata, int64_t run_id, const char *step, const char *target,
                             const char *outcome)
{
        Bus *b = userdata;

        emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                       DROVER_DBUS_SIGNAL_STEP_FINISHED, "xsss", run_id, strempty(step),
                                       strempty(target), strempty(outcome)),
                    DROVER_DBUS_SIGNAL_STEP_FINISHED);
}

static void on_approval_requested(void *userdata, const char *kind, int64_t id, const char *prompt)
{
        Bus *b = userdata;

        emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                       DROVER_DBUS_SIGNAL_APPROVAL_REQUESTED, "sxs", strempty(kind), id,
                                       strempty(prompt)),
                    DROVER_DBUS_SIGNAL_APPROVAL_REQUESTED);
}

static void on_cluster_changed(void *userdata, const ManagerClusterView *v, const char *event,
                               const char *reason)
{
        Bus *b = userdata;

        if (event)
                emit_failed(sd_bus_emit_signal(b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                               DROVER_DBUS_SIGNAL_CLUSTER_EVENT, "sssts", event,
                                               strempty(v->node), strempty(v->leader), v->epoch,
                                               strempty(reason)),
                            DROVER_DBUS_SIGNAL_CLUSTER_EVENT);
        emit_failed(sd_bus_emit_properties_changed(
                            b->bus, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                            DROVER_DBUS_PROPERTY_CLUSTER_ROLE, DROVER_DBUS_PROPERTY_CLUSTER_LEADER,
                            DROVER_DBUS_PROPERTY_CLUSTER_EPOCH, DROVER_DBUS_PROPERTY_CLUSTER_MEMBERS, NULL),
                    "PropertiesChanged");
}

/* ---- set-up -------------------------------------------------------------------------- */

int bus_new(Bus **ret, Manager *m, const char *journal_path)
{
        _cleanup_(bus_freep) Bus *b = NULL;
        int r;

        b = xcalloc(1, sizeof(*b));
        b->manager = m;

        r = journal_open(journal_path, &b->journal);
        if (r < 0)
                return log_error_errno(r, "D-Bus: cannot open journal %s: %s", journal_path, strerror(-r));

        r = sd_bus_open_system(&b->bus);
        if (r < 0)
                return log_warning_errno(r, "D-Bus: cannot connect to the system bus: %s", strerror(-r));
        (void) sd_bus_set_description(b->bus, "droverd");
        r = sd_bus_attach_event(b->bus, manager_get_event(m), SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "D-Bus: cannot attach to the event loop: %s", strerror(-r));

        r = sd_bus_add_object_vtable(b->bus, NULL, DROVER_DBUS_PATH, DROVER_DBUS_MANAGER_INTERFACE,
                                     manager_vtable, b);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(b->bus, NULL, DROVER_DBUS_RUN_PREFIX,
                                               DROVER_DBUS_RUN_INTERFACE, run_vtable, run_find, b);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(b->bus, NULL, DROVER_DBUS_RUN_PREFIX, run_enumerate, b);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(b->bus, NULL, DROVER_DBUS_INCIDENT_PREFIX,
                                               DROVER_DBUS_INCIDENT_INTERFACE, incident_vtable,
                                               incident_find, b);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(b->bus, NULL, DROVER_DBUS_INCIDENT_PREFIX, incident_enumerate,
                                               b);
        if (r < 0)
                return log_error_errno(r, "D-Bus: cannot register objects: %s", strerror(-r));

        r = sd_bus_request_name(b->bus, DROVER_DBUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r,
                                       "D-Bus: %s is owned by another process (is droverd running already?)",
                                       DROVER_DBUS_NAME);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r,
                                       "D-Bus: cannot own %s: %s: the system bus policy does not allow it "
                                       "(is org.drover1.conf in /usr/share/dbus-1/system.d or "
                                       "/etc/dbus-1/system.d, and does droverd run as root or drover?)",
                                       DROVER_DBUS_NAME, strerror(-r));
        if (r < 0)
                return log_error_errno(r, "D-Bus: cannot own %s: %s", DROVER_DBUS_NAME, strerror(-r));

        manager_set_observer(m, &(ManagerObserver){
                                        .userdata = b,
                                        .site_changed = on_site_changed,
                                        .incident_changed = on_incident_changed,
                                        .run_changed = on_run_changed,
                                        .step_started = on_step_started,
                                        .step_finished = on_step_finished,
                                        .approval_requested = on_approval_requested,
                                        .cluster_changed = on_cluster_changed,
                                });
        log_info("D-Bus: %s on the system bus", DROVER_DBUS_NAME);
        *ret = TAKE_PTR(b);
        return 0;
}

Bus *bus_free(Bus *b)
{
        if (!b)
                return NULL;
        if (b->bus && b->manager)
                manager_set_observer(b->manager, &(ManagerObserver){});
        sd_bus_flush_close_unref(b->bus);
        for (size_t i = 0; i < b->n_levels; i++)
                free(b->levels[i].name);
        free(b->levels);
        journal_close(b->journal);
        free(b);
        return NULL;
}
