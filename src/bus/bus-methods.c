/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-methods.c — the methods and properties of droverd's Manager interface: the
 * read methods (sites, incidents, runs with their steps and events) answer from the
 * journal and the manager; the mutating ones (start, approve, deny, abort, incident
 * ack and notes, maintenance, override, reload) check the caller, call the manager
 * surface and journal who asked for what. Its vtable is registered by bus_new()
 * (bus.c).
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
        incident_record_free_array(list, n);
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
        incident_log_record_free_array(log, n);
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
        run_record_free_array(runs, n);
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
                                          strempty(x->kind), step_phase_to_string(x->phase), strempty(x->target),
                                          x->attempt, (uint64_t) x->started, (uint64_t) x->ended,
                                          (uint64_t) x->duration, step_outcome_to_string(x->outcome), x->exit_status,
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
        step_record_free_array(steps, n_steps);
        event_record_free_array(events, n_events);
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
        bool overridden = false;
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
        /* A dry run acts on nothing: every node answers it. */
        if (r >= 0 && !(flags & DROVER_RUN_FLAG_DRY_RUN))
                r = bus_check_cluster(b, true, flags & DROVER_RUN_FLAG_OVERRIDE_NO_QUORUM, &overridden,
                                      error);
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
                .override_no_quorum = overridden, /* manager_start_run() journals it with the run */
        };
        r = manager_start_run(b->manager, &req, &run_id, &plan, &why);
        if (r < 0 && why && r != -EINVAL && r != -EBUSY && r != -EALREADY && r != -EPERM && r != -ENOENT)
                r = sd_bus_error_set_errnof(error, r, "%s", why); /* the worker did not start: say why */
        else if (r < 0)
                r = bus_map_error(error, r, DROVER_DBUS_ERROR_NO_SUCH_RUN, playbook, why);
        if (r >= 0) {
                json_object_set_new(args, "run", json_integer(run_id));
                if (overridden)
                        json_object_set_new(args, "override_no_quorum", json_true());
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

static int answer(sd_bus_message *msg, Bus *b, GateAnswer answer, sd_bus_error *error)
{
        static const char *const methods[] = {[GATE_DENY] = DROVER_DBUS_METHOD_DENY,
                                              [GATE_APPROVE] = DROVER_DBUS_METHOD_APPROVE,
                                              [GATE_SKIP] = DROVER_DBUS_METHOD_SKIP};
        const char *method = methods[answer];
        bool approve = answer == GATE_APPROVE;
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
        if (r >= 0 && answer == GATE_SKIP && !streq(kind, "run"))
                r = invalid_args(error, "only a run's resume gate can be skipped, not an %s", kind);
        /* Approving an incident's proposal starts a run: that needs quorum. */
        if (r >= 0)
                r = bus_check_cluster(b, approve && streq(kind, "incident"), false, NULL, error);
        if (r >= 0 && id <= 0)
                r = invalid_args(error, "%s id must be positive", kind);
        if (r >= 0 && (bad = check_text(comment, true)))
                r = invalid_args(error, "comment %s", bad);
        if (r >= 0 && answer != GATE_DENY && streq(kind, "run"))
                r = check_four_eyes(b, &c, id, error);
        if (r >= 0) {
                what = xasprintf("no %s %" PRId64, kind, id);
                r = manager_answer(b->manager, kind, id, answer, c.name, comment);
                if (r == -EOPNOTSUPP && answer == GATE_SKIP)
                        r = invalid_args(error,
                                         "the pending gate of run %" PRId64 " offers no skip: only a step "
                                         "another node left in flight can be skipped",
                                         id);
                else if (r < 0)
                        r = bus_map_error(error, r,
                                          streq(kind, "run") ? DROVER_DBUS_ERROR_NO_SUCH_RUN
                                                             : DROVER_DBUS_ERROR_NO_SUCH_INCIDENT,
                                          what, r == -EALREADY ? "no pending approval" : NULL);
        }
        return bus_reply(msg, b, &c, method, args, error, r);
}

static int method_approve(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return answer(msg, userdata, GATE_APPROVE, error);
}

static int method_deny(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return answer(msg, userdata, GATE_DENY, error);
}

static int method_skip(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return answer(msg, userdata, GATE_SKIP, error);
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
        r = bus_check_cluster(b, false, false, NULL, error);
        if (r < 0)
                ;
        else if (id <= 0)
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
        r = bus_check_cluster(b, false, false, NULL, error);
        if (r < 0)
                ;
        else if (id <= 0)
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
        r = bus_check_cluster(b, false, false, NULL, error);
        if (r < 0)
                ;
        else if (!override && !*site)
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

static int property_cluster(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        ManagerClusterView v;

        manager_cluster_view(b->manager, &v);
        if (streq(property, DROVER_DBUS_PROPERTY_CLUSTER_ROLE))
                return sd_bus_message_append(reply, "s", cluster_role_to_string(v.role));
        if (streq(property, DROVER_DBUS_PROPERTY_CLUSTER_NODE))
                return sd_bus_message_append(reply, "s", strempty(v.node));
        if (streq(property, DROVER_DBUS_PROPERTY_CLUSTER_LEADER))
                return sd_bus_message_append(reply, "s", strempty(v.leader));
        if (streq(property, DROVER_DBUS_PROPERTY_CLUSTER_EPOCH))
                return sd_bus_message_append(reply, "t", v.epoch);
        return sd_bus_message_append_strv(reply, (char **) v.members);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_ACCEPTING, "b", property_accepting, 0, 0),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_VERSION, "s", property_version, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_CLUSTER_ROLE, "s", property_cluster, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_CLUSTER_NODE, "s", property_cluster, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_CLUSTER_LEADER, "s", property_cluster, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_CLUSTER_EPOCH, "t", property_cluster, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY(DROVER_DBUS_PROPERTY_CLUSTER_MEMBERS, "as", property_cluster, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
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
        SD_BUS_METHOD_WITH_ARGS(DROVER_DBUS_METHOD_SKIP, SD_BUS_ARGS("s", kind, "x", id, "s", comment),
                                SD_BUS_NO_RESULT, method_skip, SD_BUS_VTABLE_UNPRIVILEGED),
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
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_CLUSTER_EVENT,
                                SD_BUS_ARGS("s", kind, "s", node, "s", leader, "t", epoch, "s", reason), 0),
        SD_BUS_SIGNAL_WITH_ARGS(DROVER_DBUS_SIGNAL_INCIDENT_CHANGED,
                                SD_BUS_ARGS("x", incident, "s", state, "i", level), 0),
        SD_BUS_VTABLE_END,
};
