/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.c — see bus.h. Thin methods: read and check the arguments, check the caller on
 * mutating calls, call the manager surface, map its -errno to a named error, journal
 * who asked for what. Read methods answer from the journal (runs, incidents) and the
 * manager (sites, live run state).
 */
#include <grp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "drover/dbus-api.h"
#include "log.h"
#include "strbuf.h"

/* Upper bound of rows a list method returns (ListRuns' limit, enumeration). */
#define BUS_LIST_MAX 1000
/* Text arguments (comments, notes) are refused above this: they go into the journal. */
#define BUS_TEXT_MAX 4096

typedef struct SiteLevel {
        char *name;
        int level;
} SiteLevel;

struct Bus {
        Manager *manager;
        Journal *journal; /* this process' own connection to the daemon's journal */
        sd_bus *bus;
        SiteLevel *levels; /* last level seen per site, to signal LevelChanged once */
        size_t n_levels;
};

/* Who called: from the sender's credentials, never from anything the message says. */
typedef struct Caller {
        uid_t uid;
        char *name; /* the user name, or "uid N" without a passwd entry */
        bool commander;
} Caller;

static void caller_done(Caller *c)
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
static int bus_authorize(Bus *b, sd_bus_message *msg, const char *method, json_t *args, Caller *ret,
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
static int bus_map_error(sd_bus_error *error, int r, const char *no_such, const char *what,
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
static int bus_finish(Bus *b, const Caller *c, const char *method, json_t *args, sd_bus_error *error, int r)
{
        bus_audit(b, c, method, args, r < 0 ? (sd_bus_error_is_set(error) ? error->name : "error") : "ok");
        return r;
}

/* The end of a mutating method without out-arguments: the empty reply when r says it
 * succeeded, then the audit; 1 for sd-bus when the reply went out. */
static int bus_reply(sd_bus_message *msg, Bus *b, const Caller *c, const char *method, json_t *args,
                     sd_bus_error *error, int r)
{
        if (r >= 0)
                r = sd_bus_reply_method_return(msg, NULL);
        r = bus_finish(b, c, method, args, error, r);
        return r < 0 ? r : 1;
}

static _printf_(2, 3) int invalid_args(sd_bus_error *error, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = sd_bus_error_setfv(error, DROVER_DBUS_ERROR_INVALID_ARGS, fmt, ap);
        va_end(ap);
        return r;
}

static const char *check_text(const char *s, bool may_be_empty)
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

typedef struct LiveRuns {
        ManagerRun *runs;
        size_t n;
} LiveRuns;

static void live_runs_done(LiveRuns *l)
{
        manager_run_free_array(l->runs, l->n);
}

static void live_runs_get(Bus *b, LiveRuns *ret)
{
        *ret = (LiveRuns){};
        if (manager_list_runs(b->manager, &ret->runs, &ret->n) < 0)
                *ret = (LiveRuns){};
}

static const ManagerRun *live_runs_find(const LiveRuns *l, int64_t id)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->runs[i].id == id)
                        return &l->runs[i];
        return NULL;
}

/* The run's state as the API shows it: the manager's while it tracks the run, else
 * what the journal says ("running" there means another process runs it). */
static const char *run_state(const RunRecord *rec, const ManagerRun *live)
{
        if (live)
                return manager_run_state_to_string(live->state);
        return rec->ended ? "ended" : "running";
}

static int append_run(sd_bus_message *reply, const RunRecord *x, const ManagerRun *live)
{
        return sd_bus_message_append(reply, "(xssssssttuu)", x->id, strempty(x->playbook), strempty(x->mode),
                                     strempty(x->trigger), strempty(x->actor), strempty(x->outcome),
                                     run_state(x, live), (uint64_t) x->started, (uint64_t) x->ended,
                                     live ? live->steps_done : x->n_steps - x->n_failed,
                                     live ? live->steps_total : x->n_steps);
}

static int append_incident(sd_bus_message *reply, const IncidentRecord *x)
{
        return sd_bus_message_append(reply, "(xsssssibtt)", x->id, strempty(x->site), strempty(x->subject),
                                     strempty(x->phenomenon), strempty(x->impact), strempty(x->state),
                                     x->level, (int) x->drill, (uint64_t) x->opened_at,
                                     (uint64_t) x->closed_at);
}

static int append_site(sd_bus_message *reply, const ManagerSite *s)
{
        return sd_bus_message_append(reply, "(sssibb)", strempty(s->name), strempty(s->role),
                                     strempty(s->health), s->level, (int) s->active, (int) s->maintenance);
}

/* ---- read methods -------------------------------------------------------------------- */

static int method_list_sites(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Bus *b = userdata;
        ManagerSite *sites = NULL;
        size_t n = 0;
        int r;

        r = manager_list_sites(b->manager, &sites, &n);
        if (r < 0)
                return bus_map_error(error, r, DROVER_DBUS_ERROR_NO_SUCH_SITE, "sites", NULL);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssibb)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_site(reply, &sites[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        manager_site_free_array(sites, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_site(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Bus *b = userdata;
        ManagerSite *sites = NULL;
        const char *name;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = manager_list_sites(b->manager, &sites, &n);
        if (r < 0)
                return bus_map_error(error, r, DROVER_DBUS_ERROR_NO_SUCH_SITE, "sites", NULL);
        r = -ENOENT;
        for (size_t i = 0; i < n; i++)
                if (streq(sites[i].name, name)) {
                        r = sd_bus_message_new_method_return(msg, &reply);
                        if (r >= 0)
                                r = append_site(reply, &sites[i]);
                        break;
                }
        manager_site_free_array(sites, n);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NO_SUCH_SITE, "no site '%s'", name);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_incidents(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Bus *b = userdata;
        IncidentRecord *list = NULL;
        size_t n = 0;
        int open_only, r;

        r = sd_bus_message_read(msg, "b", &open_only);
        if (r < 0)
                return r;
        r = journal_list_incidents(b->journal, open_only, &list, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot read incidents: %s", strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(xsssssibtt)");
        for (size_t i = 0; r >= 0 && i < n && i < BUS_LIST_MAX; i++)
                r = append_incident(reply, &list[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        for (size_t i = 0; i < n; i++)
                incident_record_done(&list[i]);
        free(list);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_incident(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Bus *b = userdata;
        IncidentRecord inc = {};
        IncidentLogRecord *log = NULL;
        size_t n = 0;
        int64_t id;
        int r;

        r = sd_bus_message_read(msg, "x", &id);
        if (r < 0)
                return r;
        if (id <= 0)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_INVALID_ARGS,
                                         "incident id must be positive");
        r = journal_get_incident(b->journal, id, &inc);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NO_SUCH_INCIDENT, "no incident %" PRId64,
                                         id);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot read incident %" PRId64 ": %s", id,
                                               strerror(-r));
        r = journal_list_incident_log(b->journal, id, &log, &n);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_incident(reply, &inc);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tsssssx)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(tsssssx)", (uint64_t) log[i].at, strempty(log[i].actor),
                                          strempty(log[i].kind), strempty(log[i].text),
                                          strempty(log[i].state_from), strempty(log[i].state_to),
                                          log[i].run_id);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        incident_record_done(&inc);
        for (size_t i = 0; i < n; i++)
                incident_log_record_done(&log[i]);
        free(log);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_runs(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(live_runs_done) LiveRuns live = {};
        Bus *b = userdata;
        RunRecord *runs = NULL;
        size_t n = 0;
        uint32_t limit;
        int r;

        r = sd_bus_message_read(msg, "u", &limit);
        if (r < 0)
                return r;
        if (limit == 0 || limit > BUS_LIST_MAX)
                limit = BUS_LIST_MAX;
        r = journal_list_runs(b->journal, limit, &runs, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot read runs: %s", strerror(-r));
        live_runs_get(b, &live);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(xssssssttuu)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_run(reply, &runs[i], live_runs_find(&live, runs[i].id));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        for (size_t i = 0; i < n; i++)
                run_record_done(&runs[i]);
        free(runs);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The run a method's "x" argument names, from the journal. */
static int read_run_arg(Bus *b, sd_bus_message *msg, int64_t *ret_id, RunRecord *ret, sd_bus_error *error)
{
        int r;

        r = sd_bus_message_read(msg, "x", ret_id);
        if (r < 0)
                return r;
        if (*ret_id <= 0)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_INVALID_ARGS, "run id must be positive");
        r = journal_get_run(b->journal, *ret_id, ret);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NO_SUCH_RUN, "no run %" PRId64, *ret_id);
        if (r < 0) {
                run_record_done(ret); /* as its caller's cleanup would: a partly read record */
                return sd_bus_error_set_errnof(error, r, "cannot read run %" PRId64 ": %s", *ret_id,
                                               strerror(-r));
        }
        return 0;
}

static int method_get_run(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(live_runs_done) LiveRuns live = {};
        Bus *b = userdata;
        RunRecord run = {};
        const ManagerRun *lr;
        int64_t id;
        int r;

        r = read_run_arg(b, msg, &id, &run, error);
        if (r < 0)
                return r;
        live_runs_get(b, &live);
        lr = live_runs_find(&live, id);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_run(reply, &run, lr);
        if (r >= 0)
                r = sd_bus_message_append(reply, "(ssuu)", lr ? strempty(lr->current_step) : "",
                                          lr ? strempty(lr->pending_prompt) : "", lr ? lr->steps_done : 0,
                                          lr ? lr->steps_total : 0);
        run_record_done(&run);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* A run's step attempts (forward and rollback, in order) and its events, as `droverctl show`
 * prints them: the journal file itself is droverd's (0600), commanders read it here. */
static int method_get_run_steps(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Bus *b = userdata;
        RunRecord run = {};
        StepRecord *steps = NULL;
        EventRecord *events = NULL;
        size_t n_steps = 0, n_events = 0;
        int64_t id;
        int r;

        r = read_run_arg(b, msg, &id, &run, error);
        if (r < 0)
                return r;
        r = journal_list_steps(b->journal, id, &steps, &n_steps);
        if (r >= 0)
                r = journal_list_events(b->journal, id, &events, &n_events);
        if (r < 0) {
                r = sd_bus_error_set_errnof(error, r, "cannot read run %" PRId64 ": %s", id, strerror(-r));
                goto finish;
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "(sssssis)", strempty(run.playbook_path),
                                          strempty(run.playbook_sha256), strempty(run.kind),
                                          strempty(run.params_json), strempty(run.hostname), run.pid,
                                          strempty(run.error));
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(issssutttsixssss)");
        for (size_t i = 0; r >= 0 && i < n_steps; i++) {
                const StepRecord *x = &steps[i];
                r = sd_bus_message_append(reply, "(issssutttsixssss)", x->step_index, strempty(x->step_name),
                                          strempty(x->kind), strempty(x->phase), strempty(x->target),
                                          x->attempt, (uint64_t) x->started, (uint64_t) x->ended,
                                          (uint64_t) x->duration, strempty(x->outcome), x->exit_status,
                                          (int64_t) x->http_status, strempty(x->detail), strempty(x->error),
                                          strempty(x->stdout_text), strempty(x->stderr_text));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tss)");
        for (size_t i = 0; r >= 0 && i < n_events; i++)
                r = sd_bus_message_append(reply, "(tss)", (uint64_t) events[i].at, strempty(events[i].kind),
                                          strempty(events[i].message));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
finish:
        run_record_done(&run);
        for (size_t i = 0; i < n_steps; i++)
                step_record_done(&steps[i]);
        free(steps);
        for (size_t i = 0; i < n_events; i++)
                event_record_done(&events[i]);
        free(events);
        return r;
}

/* ---- mutating methods ---------------------------------------------------------------- */

static int method_start_run(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(caller_done) Caller c = {};
        _cleanup_free_ char *plan = NULL, *why = NULL;
        _cleanup_(json_decrefp) json_t *args = NULL;
        Bus *b = userdata;
        ParamValue *params = NULL;
        size_t n_params = 0;
        const char *playbook, *k, *v;
        int64_t run_id = 0;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(msg, "s", &playbook);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "{ss}");
        if (r < 0)
                return r;
        /* The values are masked in the audit event: a parameter may be a secret, and which
         * are is the playbook's to say; the run's own journal row keeps the (masked) params. */
        json_t *masked = json_object();
        while ((r = sd_bus_message_read(msg, "{ss}", &k, &v)) > 0) {
                ParamValue *p = array_push(&params, &n_params, sizeof(ParamValue));
                p->name = xstrdup(k);
                p->value = xstrdup(v);
                json_object_set_new(masked, k, json_string("***"));
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        if (r >= 0)
                r = sd_bus_message_read(msg, "t", &flags);
        args = json_pack("{s:s, s:o, s:I}", "playbook", playbook, "params", masked, "flags",
                         (json_int_t) flags);
        if (r < 0)
                goto finish;

        r = bus_authorize(b, msg, DROVER_DBUS_METHOD_START_RUN, args, &c, error);
        if (r < 0)
                goto finish;

        if (!*playbook)
                r = invalid_args(error, "playbook must not be empty");
        else if (flags & ~_DROVER_RUN_FLAGS_ALL)
                r = sd_bus_error_setf(error, DROVER_DBUS_ERROR_INVALID_ARGS, "unknown flags 0x%" PRIx64,
                                      flags & ~_DROVER_RUN_FLAGS_ALL);
        for (size_t i = 0; r >= 0 && i < n_params; i++)
                if (!*params[i].name)
                        r = invalid_args(error, "a parameter name must not be empty");
        if (r < 0) {
                r = bus_finish(b, &c, DROVER_DBUS_METHOD_START_RUN, args, error, r);
                goto finish;
        }

        ManagerRunRequest req = {
                .playbook = playbook,
                .params = params,
                .n_params = n_params,
                .dry_run = flags & DROVER_RUN_FLAG_DRY_RUN,
                .trigger = "manual",
                .actor = c.name,
        };
        r = manager_start_run(b->manager, &req, &run_id, &plan, &why);
        if (r < 0 && why && r != -EINVAL && r != -EBUSY && r != -EALREADY && r != -EPERM && r != -ENOENT)
                r = sd_bus_error_set_errnof(error, r, "%s", why); /* the worker did not start: say why */
        else if (r < 0)
                r = bus_map_error(error, r, DROVER_DBUS_ERROR_NO_SUCH_RUN, playbook, why);
        if (r >= 0) {
                json_object_set_new(args, "run", json_integer(run_id));
                r = sd_bus_reply_method_return(msg, "xs", run_id, strempty(plan));
        }
        r = bus_finish(b, &c, DROVER_DBUS_METHOD_START_RUN, args, error, r);
finish:
        for (size_t i = 0; i < n_params; i++) {
                free(params[i].name);
                free(params[i].value);
        }
        free(params);
        return r < 0 ? r : 1;
}

static int parse_kind(const char *kind, sd_bus_error *error)
{
        if (streq(kind, "run") || streq(kind, "incident"))
                return 0;
        return sd_bus_error_setf(error, DROVER_DBUS_ERROR_INVALID_ARGS,
                                 "kind must be \"run\" or \"incident\", not \"%s\"", kind);
}

/* Four-eyes, checked here on the journal's record of who started the run, so that the
 * rule holds whatever the manager surface checks itself (it returns -EPERM too). */
static int check_four_eyes(Bus *b, const Caller *c, int64_t run_id, sd_bus_error *error)
{
        const Config *config = manager_get_config(b->manager);
        RunRecord run = {};
        bool same;
        int r;

        if (!config || !config->four_eyes)
                return 0;
        r = journal_get_run(b->journal, run_id, &run);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NO_SUCH_RUN, "no run %" PRId64, run_id);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot read run %" PRId64 ": %s", run_id,
                                               strerror(-r));
        same = run.actor && streq(run.actor, c->name);
        run_record_done(&run);
        if (same)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_FOUR_EYES,
                                         "four-eyes: %s requested run %" PRId64 " and may not approve it",
                                         c->name, run_id);
        return 0;
}

static int answer(sd_bus_message *msg, Bus *b, bool approve, sd_bus_error *error)
{
        const char *method = approve ? DROVER_DBUS_METHOD_APPROVE : DROVER_DBUS_METHOD_DENY;
        _cleanup_(json_decrefp) json_t *args = NULL;
        _cleanup_(caller_done) Caller c = {};
        _cleanup_free_ char *what = NULL;
        const char *kind, *comment, *bad;
        int64_t id;
        int r;

        r = sd_bus_message_read(msg, "sxs", &kind, &id, &comment);
        if (r < 0)
                return r;
        args = json_pack("{s:s, s:I, s:s}", "kind", kind, "id", (json_int_t) id, "comment", comment);
        r = bus_authorize(b, msg, method, args, &c, error);
        if (r < 0)
                return r;

        r = parse_kind(kind, error);
        if (r >= 0 && id <= 0)
                r = invalid_args(error, "%s id must be positive", kind);
        if (r >= 0 && (bad = check_text(comment, true)))
                r = invalid_args(error, "comment %s", bad);
        if (r >= 0 && approve && streq(kind, "run"))
                r = check_four_eyes(b, &c, id, error);
        if (r >= 0) {
                what = xasprintf("no %s %" PRId64, kind, id);
                r = manager_answer(b->manager, kind, id, approve, c.name, comment);
                if (r < 0)
                        r = bus_map_error(error, r,
                                          streq(kind, "run") ? DROVER_DBUS_ERROR_NO_SUCH_RUN
                                                             : DROVER_DBUS_ERROR_NO_SUCH_INCIDENT,
                                          what, r == -EALREADY ? "no pending approval" : NULL);
        }
        return bus_reply(msg, b, &c, method, args, error, r);
}

static int method_approve(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return answer(msg, userdata, true, error);
}

static int method_deny(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return answer(msg, userdata, false, error);
}

static int method_abort_run(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(json_decrefp) json_t *args = NULL;
        _cleanup_(caller_done) Caller c = {};
        _cleanup_free_ char *what = NULL;
        Bus *b = userdata;
        int64_t id;
        int r;

        r = sd_bus_message_read(msg, "x", &id);
        if (r < 0)
                return r;
        args = json_pack("{s:I}", "run", (json_int_t) id);
        r = bus_authorize(b, msg, DROVER_DBUS_METHOD_ABORT_RUN, args, &c, error);
        if (r < 0)
                return r;
        if (id <= 0)
                r = invalid_args(error, "run id must be positive");
        else {
                what = xasprintf("run %" PRId64, id);
                r = manager_abort_run(b->manager, id, c.name);
                if (r < 0)
                        r = bus_map_error(error, r, DROVER_DBUS_ERROR_NO_SUCH_RUN, what,
                                          "the run has ended");
        }
        return bus_reply(msg, b, &c, DROVER_DBUS_METHOD_ABORT_RUN, args, error, r);
}

static int incident_call(sd_bus_message *msg, Bus *b, bool note, sd_bus_error *error)
{
        const char *method = note ? DROVER_DBUS_METHOD_ADD_NOTE : DROVER_DBUS_METHOD_ACK_INCIDENT;
        _cleanup_(json_decrefp) json_t *args = NULL;
        _cleanup_(caller_done) Caller c = {};
        _cleanup_free_ char *what = NULL;
        const char *text = NULL, *bad;
        int64_t id;
        int r;

        r = note ? sd_bus_message_read(msg, "xs", &id, &text) : sd_bus_message_read(msg, "x", &id);
        if (r < 0)
                return r;
        args = note ? json_pack("{s:I, s:s}", "incident", (json_int_t) id, "text", text)
                    : json_pack("{s:I}", "incident", (json_int_t) id);
        r = bus_authorize(b, msg, method, args, &c, error);
        if (r < 0)
                return r;
        if (id <= 0)
                r = invalid_args(error, "incident id must be positive");
        else if (note && (bad = check_text(text, false)))
                r = invalid_args(error, "note text %s", bad);
        else {
                what = xasprintf("no incident %" PRId64, id);
                r = note ? manager_note_incident(b->manager, id, c.name, text)
                         : manager_ack_incident(b->manager, id, c.name);
                if (r < 0)
                        r = bus_map_error(error, r, DROVER_DBUS_ERROR_NO_SUCH_INCIDENT, what,
                                          "already acknowledged or closed");
        }
        return bus_reply(msg, b, &c, method, args, error, r);
}

static int method_ack_incident(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return incident_call(msg, userdata, false, error);
}

static int method_add_note(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return incident_call(msg, userdata, true, error);
}

/* SetMaintenance and SetOverride: a site (for an override, "" is every site) and on or off. */
static int site_switch(sd_bus_message *msg, Bus *b, bool override, sd_bus_error *error)
{
        const char *method = override ? DROVER_DBUS_METHOD_SET_OVERRIDE : DROVER_DBUS_METHOD_SET_MAINTENANCE;
        _cleanup_(json_decrefp) json_t *args = NULL;
        _cleanup_(caller_done) Caller c = {};
        _cleanup_free_ char *what = NULL;
        const char *site;
        int on, r;

        r = sd_bus_message_read(msg, "sb", &site, &on);
        if (r < 0)
                return r;
        args = json_pack("{s:s, s:b}", "site", site, "on", on);
        r = bus_authorize(b, msg, method, args, &c, error);
        if (r < 0)
                return r;
        if (!override && !*site)
                r = invalid_args(error, "site must not be empty");
        else {
                what = xasprintf("no site '%s'", site);
                /* "" is every site: the manager's NULL. */
                r = override ? manager_set_override(b->manager, *site ? site : NULL, on, c.name)
                             : manager_set_maintenance(b->manager, site, on, c.name);
                if (r < 0)
                        r = bus_map_error(
                                error, r, DROVER_DBUS_ERROR_NO_SUCH_SITE, what,
                                override ? (on ? "the override is already on" : "no override to clear")
                                         : (on ? "already in maintenance" : "not in maintenance"));
        }
        return bus_reply(msg, b, &c, method, args, error, r);
}

static int method_set_maintenance(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return site_switch(msg, userdata, false, error);
}

static int method_set_override(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return site_switch(msg, userdata, true, error);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(caller_done) Caller c = {};
        Bus *b = userdata;
        int r;

        r = bus_authorize(b, msg, DROVER_DBUS_METHOD_RELOAD, NULL, &c, error);
        if (r < 0)
                return r;
        r = manager_request_reload(b->manager, c.name);
        if (r < 0)
                r = bus_map_error(
                        error, r, DROVER_DBUS_ERROR_NO_SUCH_SITE, "reload",
                        "the new configuration is invalid; the old one is kept (see droverd's log)");
        return bus_reply(msg, b, &c, DROVER_DBUS_METHOD_RELOAD, NULL, error, r);
}

static int property_accepting(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        return sd_bus_message_append(reply, "b", (int) manager_is_accepting(b->manager));
}

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", DROVER_VERSION);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_ACCEPTING, "b", property_accepting, 0, 0),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_VERSION, "s", property_version, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_LIST_SITES, SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssibb)", sites), method_list_sites,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_GET_SITE, SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("(sssibb)", site), method_get_site,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_LIST_INCIDENTS, SD_BUS_ARGS("b", open_only),
                                SD_BUS_RESULT("a(xsssssibtt)", incidents), method_list_incidents,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_GET_INCIDENT, SD_BUS_ARGS("x", id),
                                SD_BUS_RESULT("(xsssssibtt)", incident, "a(tsssssx)", log),
                                method_get_incident, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_LIST_RUNS, SD_BUS_ARGS("u", limit),
                                SD_BUS_RESULT("a(xssssssttuu)", runs), method_list_runs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_GET_RUN, SD_BUS_ARGS("x", id),
                                SD_BUS_RESULT("(xssssssttuu)", run, "(ssuu)", progress), method_get_run,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                DROVER_DBUS_METHOD_GET_RUN_STEPS, SD_BUS_ARGS("x", id),
                SD_BUS_RESULT("(sssssis)", run, "a(issssutttsixssss)", steps, "a(tss)", events),
                method_get_run_steps, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                DROVER_DBUS_METHOD_START_RUN, SD_BUS_ARGS("s", playbook, "a{ss}", params, "t", flags),
                SD_BUS_RESULT("x", run_id, "s", plan), method_start_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_APPROVE, SD_BUS_ARGS("s", kind, "x", id, "s", comment),
                                SD_BUS_NO_RESULT, method_approve, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_DENY, SD_BUS_ARGS("s", kind, "x", id, "s", comment),
                                SD_BUS_NO_RESULT, method_deny, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_ABORT_RUN, SD_BUS_ARGS("x", id), SD_BUS_NO_RESULT,
                                method_abort_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_ACK_INCIDENT, SD_BUS_ARGS("x", id), SD_BUS_NO_RESULT,
                                method_ack_incident, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_ADD_NOTE, SD_BUS_ARGS("x", id, "s", text),
                                SD_BUS_NO_RESULT, method_add_note, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_SET_MAINTENANCE, SD_BUS_ARGS("s", site, "b", on),
                                SD_BUS_NO_RESULT, method_set_maintenance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_SET_OVERRIDE, SD_BUS_ARGS("s", site, "b", on),
                                SD_BUS_NO_RESULT, method_set_override, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_RELOAD, SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_STEP_STARTED,
                                SD_BUS_ARGS("x", run, "s", step, "s", target), 0),
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_STEP_FINISHED,
                                SD_BUS_ARGS("x", run, "s", step, "s", target, "s", outcome), 0),
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_LEVEL_CHANGED,
                                SD_BUS_ARGS("s", site, "i", level, "s", health), 0),
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_APPROVAL_REQUESTED,
                                SD_BUS_ARGS("s", kind, "x", id, "s", prompt), 0),
        SD_BUS_SIGNAL_WITH_ARGS(
                DROVER_DBUS_SIGNAL_RUN_CHANGED,
                SD_BUS_ARGS("x", run, "s", state, "s", step, "u", done, "u", total, "s", outcome), 0),
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_INCIDENT_CHANGED,
                                SD_BUS_ARGS("x", incident, "s", state, "i", level), 0),
        SD_BUS_VTABLE_END,
};

/* ---- per-run and per-incident objects ------------------------------------------------ */

static int path_id(const char *path, const char *prefix, int64_t *ret)
{
        _cleanup_free_ char *label = NULL;
        char *end;
        long long v;
        int r;

        r = sd_bus_path_decode(path, prefix, &label);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        errno = 0;
        v = strtoll(label, &end, 10);
        if (errno || *end || v <= 0 || end == label)
                return -ENOENT;
        *ret = v;
        return 0;
}

static char *object_path(const char *prefix, int64_t id)
{
        return xasprintf("%s/%" PRId64, prefix, id);
}

/* One run as its object shows it: the journal row plus the manager's live state. */
typedef struct RunView {
        RunRecord rec;
        LiveRuns live;
        const ManagerRun *lr;
} RunView;

static void run_view_done(RunView *v)
{
        run_record_done(&v->rec);
        live_runs_done(&v->live);
}

static int run_view_get(Bus *b, const char *path, RunView *v)
{
        int64_t id;
        int r;

        *v = (RunView){};
        r = path_id(path, DROVER_DBUS_RUN_PREFIX, &id);
        if (r < 0)
                return r;
        r = journal_get_run(b->journal, id, &v->rec);
        if (r < 0)
                return r;
        live_runs_get(b, &v->live);
        v->lr = live_runs_find(&v->live, id);
        return 0;
}

static int run_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error)
{
        Bus *b = userdata;
        RunRecord rec = {};
        int64_t id;

        if (path_id(path, DROVER_DBUS_RUN_PREFIX, &id) < 0)
                return 0;
        if (journal_get_run(b->journal, id, &rec) < 0)
                return 0;
        run_record_done(&rec);
        *found = b;
        return 1;
}

static int run_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        _cleanup_(run_view_done) RunView v = {};
        const ManagerRun *lr;
        int r;

        r = run_view_get(userdata, path, &v);
        if (r < 0)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NO_SUCH_RUN, "no run at %s", path);
        lr = v.lr;
        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "x", v.rec.id);
        if (streq(property, "Playbook"))
                return sd_bus_message_append(reply, "s", strempty(v.rec.playbook));
        if (streq(property, "Trigger"))
                return sd_bus_message_append(reply, "s", strempty(v.rec.trigger));
        if (streq(property, "Actor"))
                return sd_bus_message_append(reply, "s", strempty(v.rec.actor));
        if (streq(property, "Mode"))
                return sd_bus_message_append(reply, "s", strempty(v.rec.mode));
        if (streq(property, "Started"))
                return sd_bus_message_append(reply, "t", (uint64_t) v.rec.started);
        if (streq(property, "Ended"))
                return sd_bus_message_append(reply, "t", (uint64_t) v.rec.ended);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", run_state(&v.rec, lr));
        if (streq(property, "Outcome"))
                return sd_bus_message_append(reply, "s", strempty(v.rec.outcome));
        if (streq(property, "CurrentStep"))
                return sd_bus_message_append(reply, "s", lr ? strempty(lr->current_step) : "");
        if (streq(property, "PendingPrompt"))
                return sd_bus_message_append(reply, "s", lr ? strempty(lr->pending_prompt) : "");
        if (streq(property, "StepsDone"))
                return sd_bus_message_append(reply, "u",
                                             lr ? lr->steps_done : v.rec.n_steps - v.rec.n_failed);
        if (streq(property, "StepsTotal"))
                return sd_bus_message_append(reply, "u", lr ? lr->steps_total : v.rec.n_steps);
        return -ENOENT;
}

static const sd_bus_vtable run_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "x", run_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Playbook", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Trigger", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Actor", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Mode", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Started", "t", run_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ended", "t", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Outcome", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CurrentStep", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PendingPrompt", "s", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StepsDone", "u", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StepsTotal", "u", run_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

static int incident_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                         sd_bus_error *error)
{
        Bus *b = userdata;
        IncidentRecord rec = {};
        int64_t id;

        if (path_id(path, DROVER_DBUS_INCIDENT_PREFIX, &id) < 0)
                return 0;
        if (journal_get_incident(b->journal, id, &rec) < 0)
                return 0;
        incident_record_done(&rec);
        *found = b;
        return 1;
}

static int incident_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        IncidentRecord x = {};
        int64_t id;
        int r;

        r = path_id(path, DROVER_DBUS_INCIDENT_PREFIX, &id);
        if (r >= 0)
                r = journal_get_incident(b->journal, id, &x);
        if (r < 0)
                return sd_bus_error_setf(error, DROVER_DBUS_ERROR_NO_SUCH_INCIDENT, "no incident at %s",
                                         path);
        if (streq(property, "Id"))
                r = sd_bus_message_append(reply, "x", x.id);
        else if (streq(property, "Site"))
                r = sd_bus_message_append(reply, "s", strempty(x.site));
        else if (streq(property, "Subject"))
                r = sd_bus_message_append(reply, "s", strempty(x.subject));
        else if (streq(property, "Phenomenon"))
                r = sd_bus_message_append(reply, "s", strempty(x.phenomenon));
        else if (streq(property, "Impact"))
                r = sd_bus_message_append(reply, "s", strempty(x.impact));
        else if (streq(property, "State"))
                r = sd_bus_message_append(reply, "s", strempty(x.state));
        else if (streq(property, "Level"))
                r = sd_bus_message_append(reply, "i", x.level);
        else if (streq(property, "Drill"))
                r = sd_bus_message_append(reply, "b", (int) x.drill);
        else if (streq(property, "OpenedAt"))
                r = sd_bus_message_append(reply, "t", (uint64_t) x.opened_at);
        else if (streq(property, "ClosedAt"))
                r = sd_bus_message_append(reply, "t", (uint64_t) x.closed_at);
        else
                r = -ENOENT;
        incident_record_done(&x);
        return r;
}

static const sd_bus_vtable incident_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "x", incident_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Site", "s", incident_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Subject", "s", incident_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Phenomenon", "s", incident_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Impact", "s", incident_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", incident_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Level", "i", incident_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Drill", "b", incident_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OpenedAt", "t", incident_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ClosedAt", "t", incident_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

/* Enumeration lists what a commander is likely to look at: the runs the manager tracks
 * plus the newest runs of the journal, and the open incidents. Objects not listed still
 * answer (the find callbacks look them up by id). */
static int run_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                         sd_bus_error *error)
{
        _cleanup_(live_runs_done) LiveRuns live = {};
        Bus *b = userdata;
        RunRecord *runs = NULL;
        size_t n = 0, n_nodes = 0;
        char **nodes;
        int r;

        r = journal_list_runs(b->journal, 100, &runs, &n);
        if (r < 0)
                n = 0;
        live_runs_get(b, &live);
        nodes = xcalloc(n + live.n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                nodes[n_nodes++] = object_path(DROVER_DBUS_RUN_PREFIX, runs[i].id);
                run_record_done(&runs[i]);
        }
        free(runs);
        for (size_t i = 0; i < live.n; i++) {
                _cleanup_free_ char *p = object_path(DROVER_DBUS_RUN_PREFIX, live.runs[i].id);
                bool seen = false;
                for (size_t k = 0; k < n_nodes && !seen; k++)
                        seen = streq(nodes[k], p);
                if (!seen)
                        nodes[n_nodes++] = TAKE_PTR(p);
        }
        *ret_nodes = nodes;
        return 0;
}

static int incident_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                              sd_bus_error *error)
{
        Bus *b = userdata;
        IncidentRecord *list = NULL;
        size_t n = 0;
        char **nodes;

        if (journal_list_incidents(b->journal, true, &list, &n) < 0)
                n = 0;
        nodes = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                nodes[i] = object_path(DROVER_DBUS_INCIDENT_PREFIX, list[i].id);
                incident_record_done(&list[i]);
        }
        free(list);
        *ret_nodes = nodes;
        return 0;
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
                                       strempty(run->outcome)),
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
