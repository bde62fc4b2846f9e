/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-objects.c — the per-run and per-incident objects of droverd's D-Bus API: object
 * paths, lookup, properties, and enumeration of what a commander is likely to look at.
 * Their vtables and callbacks are registered by bus_new() (bus.c).
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
#include "drover/dbus-api.h"
#include "shared/log.h"
#include "shared/strbuf.h"

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

char *object_path(const char *prefix, int64_t id)
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

int run_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
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
                return sd_bus_message_append(reply, "s", run_mode_to_string(v.rec.mode));
        if (streq(property, "Started"))
                return sd_bus_message_append(reply, "t", (uint64_t) v.rec.started);
        if (streq(property, "Ended"))
                return sd_bus_message_append(reply, "t", (uint64_t) v.rec.ended);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", run_state(&v.rec, lr));
        if (streq(property, "Outcome"))
                return sd_bus_message_append(reply, "s", run_outcome_to_string(v.rec.outcome));
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

const sd_bus_vtable run_vtable[] = {
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

int incident_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
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

const sd_bus_vtable incident_vtable[] = {
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
int run_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
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

int incident_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
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
