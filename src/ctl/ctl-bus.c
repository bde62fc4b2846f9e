/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-bus.c — droverctl's verbs that talk to droverd over D-Bus (include/drover/dbus-api.h):
 * status, sites, incidents, incident, approve, deny, abort, ack, note, maintenance,
 * reload, attach, and `run` through the daemon. Each verb calls one or a few methods and
 * prints the answer for a human or as JSON; droverd decides and checks who may.
 * Does not own: local runs (ctl-run.c), the journal readers (ctl-runs.c).
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "ctl/ctl.h"
#include "drover/dbus-api.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

/* Every call has a deadline: droverd answers from its loop, which never blocks. */
#define CTL_BUS_TIMEOUT (30 * USEC_PER_SEC)

int ctl_bus_open(sd_bus **ret, bool quiet)
{
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(bus, CTL_BUS_TIMEOUT);
        if (r < 0) {
                if (!quiet)
                        log_error_errno(r, "cannot reach the system bus: %s", strerror(-r));
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* Is droverd on the bus? For `run`, which goes local when it is not. */
bool ctl_bus_daemon_present(sd_bus *bus)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int has = 0;

        if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", NULL, &reply, "s", DROVER_DBUS_NAME) < 0)
                return false;
        if (sd_bus_message_read(reply, "b", &has) < 0)
                return false;
        return has;
}

/* droverd's error → message on stderr (and a JSON object with --json) → exit status. */
int ctl_bus_error(const CtlGlobals *g, const sd_bus_error *e, int r, const char *what)
{
        const char *name = e && e->name ? e->name : NULL;
        const char *msg = e && e->message ? e->message : strerror(r < 0 ? -r : EIO);
        int ret = EXIT_INFRA;

        if (!name)
                ret = EXIT_INFRA;
        else if (streq(name, DROVER_DBUS_ERROR_ACCESS_DENIED) || streq(name, DROVER_DBUS_ERROR_FOUR_EYES) ||
                 streq(name, DROVER_DBUS_ERROR_NOT_LEADER) || streq(name, DROVER_DBUS_ERROR_NO_QUORUM))
                ret = EXIT_REFUSED;
        else if (streq(name, DROVER_DBUS_ERROR_NO_SUCH_RUN) ||
                 streq(name, DROVER_DBUS_ERROR_NO_SUCH_INCIDENT) ||
                 streq(name, DROVER_DBUS_ERROR_NO_SUCH_SITE))
                ret = EXIT_NOT_FOUND;
        else if (streq(name, DROVER_DBUS_ERROR_INVALID_ARGS))
                ret = EXIT_USAGE;
        else if (streq(name, DROVER_DBUS_ERROR_NOTHING_PENDING) ||
                 streq(name, DROVER_DBUS_ERROR_NOT_ACCEPTING))
                ret = EXIT_NOTHING_TO_DO;
        else if (streq(name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                 streq(name, "org.freedesktop.DBus.Error.NameHasNoOwner"))
                msg = "droverd is not running (nobody owns " DROVER_DBUS_NAME " on the system bus)";

        log_error("%s: %s%s%s%s", what, msg, name ? " (" : "", strempty(name), name ? ")" : "");
        if (g->json)
                ctl_print_json_line(json_pack("{s:b, s:s, s:s, s:i}", "ok", 0, "error",
                                              name ? name : "error", "message", msg, "exit", ret));
        return ret;
}

static int call(const CtlGlobals *g, sd_bus *bus, const char *method, sd_bus_message **reply,
                const char *what, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DROVER_DBUS_NAME, DROVER_DBUS_PATH,
                                           DROVER_DBUS_MANAGER_INTERFACE, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, CTL_BUS_TIMEOUT, &e, reply);
        if (r < 0) {
                r = ctl_bus_error(g, &e, r, what);
                sd_bus_error_free(&e);
                return r;
        }
        return EXIT_OK;
}

static int bad_reply(int r)
{
        log_error_errno(r, "droverd's answer cannot be read: %s", strerror(-r));
        return EXIT_INFRA;
}

static char *fmt_time(uint64_t t)
{
        char b[FORMAT_TIMESTAMP_MAX];
        return t ? xstrdup(format_timestamp(b, t)) : xstrdup("-");
}

static const char *level_name(int level)
{
        static const char *const names[] = {"none", "red", "orange", "yellow", "blue"};
        return level >= 0 && level < (int) ELEMENTSOF(names) ? names[level] : "?";
}

static const char *health_color(const CtlGlobals *g, const char *health)
{
        if (streq(health, "up"))
                return ansi_green(g);
        if (streq(health, "degraded"))
                return ansi_yellow(g);
        if (streq(health, "down"))
                return ansi_red(g);
        return ansi_grey(g);
}

/* Parse an id argument (positive). */
static int parse_id(const char *s, const char *what, int64_t *ret)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end || end == s || v <= 0) {
                log_error("'%s' is not a%s %s id", s, what[0] == 'i' ? "n" : "", what);
                return EXIT_USAGE;
        }
        *ret = v;
        return EXIT_OK;
}

/* The common option loop of the bus verbs: --help prints usage; *ret_comment takes -m. */
static int parse_options(CtlGlobals *g, int argc, char **argv, const char *usage, const char **ret_comment,
                         bool *ret_flag, const char *flag_name)
{
        enum { OPT_FLAG = 0x2000 };
        const struct option options[] = {
                COMMON_OPTIONS,
                {"help", no_argument, NULL, 'h'},
                {"comment", required_argument, NULL, 'm'},
                {flag_name ? flag_name : "no-such-option-", no_argument, NULL, OPT_FLAG},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:vhm:", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("%s", usage);
                        return -1;
                }
                if (c == 'm' && ret_comment) {
                        *ret_comment = optarg;
                        continue;
                }
                if (c == OPT_FLAG && ret_flag) {
                        *ret_flag = true;
                        continue;
                }
                if (c == 'm' || c == OPT_FLAG || !ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }
        return EXIT_OK;
}

#define PARSE_OPTIONS(usage, comment, flag, flag_name)                                                      \
        do {                                                                                                \
                int _r = parse_options(g, argc, argv, usage, comment, flag, flag_name);                     \
                if (_r < 0)                                                                                 \
                        return EXIT_OK;                                                                     \
                if (_r != EXIT_OK)                                                                          \
                        return _r;                                                                          \
        } while (0)

/* A verb without arguments: check there are none, and open the bus. */
static int no_args_bus(int argc, const char *verb, sd_bus **ret_bus)
{
        if (optind != argc) {
                log_error("%s takes no arguments", verb);
                return EXIT_USAGE;
        }
        if (ctl_bus_open(ret_bus, false) < 0)
                return EXIT_INFRA;
        return EXIT_OK;
}

/* A verb without arguments that begins with a method without arguments. */
static int no_args_call(const CtlGlobals *g, int argc, const char *verb, const char *method,
                        sd_bus **ret_bus, sd_bus_message **reply)
{
        int r;

        r = no_args_bus(argc, verb, ret_bus);
        if (r != EXIT_OK)
                return r;
        return call(g, *ret_bus, method, reply, verb, NULL);
}

/* A verb on one run or incident: its id, and the bus. */
static int id_bus(const char *arg, const char *what, int64_t *ret_id, sd_bus **ret_bus)
{
        int r;

        r = parse_id(arg, what, ret_id);
        if (r != EXIT_OK)
                return r;
        if (ctl_bus_open(ret_bus, false) < 0)
                return EXIT_INFRA;
        return EXIT_OK;
}

/* on|off, for maintenance and override. */
static int parse_on_off(const char *verb, const char *s, bool *ret)
{
        if (streq(s, "on"))
                *ret = true;
        else if (streq(s, "off"))
                *ret = false;
        else {
                log_error("%s: '%s' is neither on nor off", verb, s);
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

/* ---- reading ------------------------------------------------------------------------- */

typedef struct SiteRow {
        const char *name, *role, *health;
        int level, active, maintenance;
} SiteRow;

static int read_sites(sd_bus_message *reply, json_t *out, const CtlGlobals *g, bool print)
{
        SiteRow s;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sssibb)");
        if (r < 0)
                return r;
        if (print)
                printf("%s%-16s %-8s %-9s %-7s %-7s %s%s\n", ansi_bold(g), "SITE", "ROLE", "HEALTH", "LEVEL",
                       "ACTIVE", "MAINTENANCE", ansi_reset(g));
        while ((r = sd_bus_message_read(reply, "(sssibb)", &s.name, &s.role, &s.health, &s.level, &s.active,
                                        &s.maintenance)) > 0) {
                if (out)
                        json_array_append_new(out,
                                              json_pack("{s:s, s:s, s:s, s:i, s:s, s:b, s:b}", "name",
                                                        s.name, "role", s.role, "health", s.health, "level",
                                                        s.level, "level_name", level_name(s.level), "active",
                                                        s.active, "maintenance", s.maintenance));
                if (print)
                        printf("%-16s %-8s %s%-9s%s %-7s %-7s %s\n", s.name, s.role,
                               health_color(g, s.health), s.health, ansi_reset(g), level_name(s.level),
                               s.active ? "yes" : "", s.maintenance ? "on" : "");
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

typedef struct IncidentRow {
        int64_t id;
        const char *site, *subject, *phenomenon, *impact, *state;
        int level, drill;
        uint64_t opened, closed;
} IncidentRow;

static int read_incident(sd_bus_message *reply, IncidentRow *x)
{
        return sd_bus_message_read(reply, "(xsssssibtt)", &x->id, &x->site, &x->subject, &x->phenomenon,
                                   &x->impact, &x->state, &x->level, &x->drill, &x->opened, &x->closed);
}

static json_t *incident_json(const IncidentRow *x)
{
        return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:I, s:I}", "id", (json_int_t) x->id,
                         "site", x->site, "subject", x->subject, "phenomenon", x->phenomenon, "impact",
                         x->impact, "state", x->state, "level", x->level, "level_name", level_name(x->level),
                         "drill", x->drill, "opened_us", (json_int_t) x->opened, "closed_us",
                         (json_int_t) x->closed);
}

static int read_incidents(sd_bus_message *reply, json_t *out, const CtlGlobals *g, bool print)
{
        IncidentRow x;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(xsssssibtt)");
        if (r < 0)
                return r;
        if (print)
                printf("%s%6s  %-12s %-8s %-24s %-11s %s%s\n", ansi_bold(g), "ID", "SITE", "LEVEL", "OPENED",
                       "STATE", "SUBJECT", ansi_reset(g));
        while ((r = read_incident(reply, &x)) > 0) {
                if (out)
                        json_array_append_new(out, incident_json(&x));
                if (print) {
                        _cleanup_free_ char *t = fmt_time(x.opened);
                        printf("%6" PRId64 "  %-12s %-8s %-24s %-11s %s%s\n", x.id, x.site,
                               level_name(x.level), t, x.state, x.subject, x.drill ? " (drill)" : "");
                }
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

typedef struct RunRow {
        int64_t id;
        const char *playbook, *mode, *trigger, *actor, *outcome, *state;
        uint64_t started, ended;
        uint32_t done, total;
} RunRow;

static int read_run(sd_bus_message *reply, RunRow *x)
{
        return sd_bus_message_read(reply, "(xssssssttuu)", &x->id, &x->playbook, &x->mode, &x->trigger,
                                   &x->actor, &x->outcome, &x->state, &x->started, &x->ended, &x->done,
                                   &x->total);
}

static json_t *run_row_json(const RunRow *x)
{
        return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i}", "id", (json_int_t) x->id,
                         "playbook", x->playbook, "mode", x->mode, "trigger", x->trigger, "actor", x->actor,
                         "outcome", x->outcome, "state", x->state, "started_us", (json_int_t) x->started,
                         "ended_us", (json_int_t) x->ended, "steps_done", (int) x->done, "steps_total",
                         (int) x->total);
}

/* The cluster's view from this droverd (issue 9): properties of the Manager. A droverd
 * without them (older) counts as standalone. */
typedef struct ClusterInfo {
        char *role, *node, *leader;
        uint64_t epoch;
        char **members;
} ClusterInfo;

static void cluster_info_done(ClusterInfo *c)
{
        free(c->role);
        free(c->node);
        free(c->leader);
        strv_free(c->members);
}

static int get_prop_string(sd_bus *bus, const char *name, char **ret)
{
        return sd_bus_get_property_string(bus, DROVER_DBUS_NAME, DROVER_DBUS_PATH,
                                          DROVER_DBUS_MANAGER_INTERFACE, name, NULL, ret);
}

static int read_cluster(sd_bus *bus, ClusterInfo *ret)
{
        int r;

        *ret = (ClusterInfo){};
        r = get_prop_string(bus, DROVER_DBUS_PROPERTY_CLUSTER_ROLE, &ret->role);
        if (r < 0) {
                ret->role = xstrdup("standalone");
                return 0;
        }
        if (streq(ret->role, "standalone"))
                return 0;
        r = get_prop_string(bus, DROVER_DBUS_PROPERTY_CLUSTER_NODE, &ret->node);
        if (r >= 0)
                r = get_prop_string(bus, DROVER_DBUS_PROPERTY_CLUSTER_LEADER, &ret->leader);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, DROVER_DBUS_NAME, DROVER_DBUS_PATH,
                                                DROVER_DBUS_MANAGER_INTERFACE,
                                                DROVER_DBUS_PROPERTY_CLUSTER_EPOCH, NULL, 't', &ret->epoch);
        if (r >= 0)
                r = sd_bus_get_property_strv(bus, DROVER_DBUS_NAME, DROVER_DBUS_PATH,
                                             DROVER_DBUS_MANAGER_INTERFACE,
                                             DROVER_DBUS_PROPERTY_CLUSTER_MEMBERS, NULL, &ret->members);
        return r;
}

static json_t *cluster_json(const ClusterInfo *c)
{
        json_t *members = json_array();
        for (char **m = c->members; m && *m; m++)
                json_array_append_new(members, json_string(*m));
        return json_pack("{s:s, s:s?, s:s?, s:I, s:o}", "role", c->role, "node", c->node, "leader",
                         c->leader && *c->leader ? c->leader : NULL, "epoch", (json_int_t) c->epoch,
                         "members", members);
}

static void print_cluster(const CtlGlobals *g, const ClusterInfo *c)
{
        _cleanup_free_ char *members = strv_join(c->members, ", ");

        printf("%sCluster%s\n", ansi_bold(g), ansi_reset(g));
        printf("  node     %s\n", strempty(c->node));
        printf("  role     %s%s\n", c->role,
               streq(c->role, "follower")    ? " (acts on nothing; the leader does)"
               : streq(c->role, "no-quorum") ? " (etcd not reached: nothing automatic)"
                                             : "");
        printf("  leader   %s\n", c->leader && *c->leader ? c->leader : "-");
        printf("  epoch    %" PRIu64 "\n", c->epoch);
        printf("  members  %s\n\n", *members ? members : "-");
}

int verb_status(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(cluster_info_done) ClusterInfo cluster = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sites = NULL, *incidents = NULL, *runs = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        json_t *js = NULL, *ji = NULL, *jr = NULL;
        RunRow x;
        int r, n_active = 0;

        PARSE_OPTIONS("Usage: droverctl status [--json]\n\n"
                      "Sites with health and level, open incidents, runs in progress, at a glance.\n",
                      NULL, NULL, NULL);
        r = no_args_call(g, argc, "status", DROVER_DBUS_METHOD_LIST_SITES, &bus, &sites);
        if (r == EXIT_OK)
                r = call(g, bus, DROVER_DBUS_METHOD_LIST_INCIDENTS, &incidents, "status", "b", 1);
        if (r == EXIT_OK)
                r = call(g, bus, DROVER_DBUS_METHOD_LIST_RUNS, &runs, "status", "u", 50);
        if (r != EXIT_OK)
                return r;
        r = read_cluster(bus, &cluster);
        if (r < 0)
                return bad_reply(r);

        if (g->json) {
                js = json_array();
                ji = json_array();
                jr = json_array();
        }
        if (!g->json && !streq(cluster.role, "standalone"))
                print_cluster(g, &cluster);
        if (!g->json)
                printf("%sSites%s\n", ansi_bold(g), ansi_reset(g));
        r = read_sites(sites, js, g, !g->json);
        if (r >= 0 && !g->json)
                printf("\n%sOpen incidents%s\n", ansi_bold(g), ansi_reset(g));
        if (r >= 0)
                r = read_incidents(incidents, ji, g, !g->json);
        if (r >= 0)
                r = sd_bus_message_enter_container(runs, 'a', "(xssssssttuu)");
        if (r >= 0 && !g->json)
                printf("\n%sRuns in progress%s\n", ansi_bold(g), ansi_reset(g));
        while (r >= 0 && (r = read_run(runs, &x)) > 0) {
                if (streq(x.state, "ended"))
                        continue;
                n_active++;
                if (jr)
                        json_array_append_new(jr, run_row_json(&x));
                else
                        printf("%6" PRId64 "  %-24s %-17s %u/%u  by %s\n", x.id, x.playbook, x.state, x.done,
                               x.total, x.actor);
        }
        if (r < 0) {
                json_decref(js);
                json_decref(ji);
                json_decref(jr);
                return bad_reply(r);
        }
        if (g->json) {
                json_t *o = json_pack("{s:o, s:o, s:o}", "sites", js, "incidents", ji, "runs", jr);
                /* Standalone, the object stays as it always was. */
                if (o && !streq(cluster.role, "standalone"))
                        json_object_set_new(o, "cluster", cluster_json(&cluster));
                ctl_print_json_line(o);
        } else if (n_active == 0)
                printf("  none\n");
        return EXIT_OK;
}

/* A list verb's answer: a JSON array with --json, else the reader prints it. */
static int print_list(const CtlGlobals *g, sd_bus_message *reply,
                      int (*read_list)(sd_bus_message *, json_t *, const CtlGlobals *, bool))
{
        json_t *a = NULL;
        int r;

        if (g->json)
                a = json_array();
        r = read_list(reply, a, g, !g->json);
        if (r < 0) {
                json_decref(a);
                return bad_reply(r);
        }
        if (a)
                ctl_print_json_line(a);
        return EXIT_OK;
}

int verb_sites(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        PARSE_OPTIONS("Usage: droverctl sites [--json]\n\nThe sites droverd watches: role, health, level, "
                      "maintenance.\n",
                      NULL, NULL, NULL);
        r = no_args_call(g, argc, "sites", DROVER_DBUS_METHOD_LIST_SITES, &bus, &reply);
        if (r != EXIT_OK)
                return r;
        return print_list(g, reply, read_sites);
}

int verb_incidents(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool all = false;
        int r;

        PARSE_OPTIONS("Usage: droverctl incidents [--all] [--json]\n\nOpen incidents, newest first; --all "
                      "includes closed ones.\n",
                      NULL, &all, "all");
        r = no_args_bus(argc, "incidents", &bus);
        if (r != EXIT_OK)
                return r;
        r = call(g, bus, DROVER_DBUS_METHOD_LIST_INCIDENTS, &reply, "incidents", "b", (int) !all);
        if (r != EXIT_OK)
                return r;
        return print_list(g, reply, read_incidents);
}

int verb_incident(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        IncidentRow x;
        json_t *log_a = NULL;
        int64_t id;
        int r;

        PARSE_OPTIONS("Usage: droverctl incident ID [--json]\n\nOne incident with its log: every state and "
                      "level change, action and note, with who and when.\n",
                      NULL, NULL, NULL);
        if (optind + 1 != argc) {
                log_error("incident wants one INCIDENT id");
                return EXIT_USAGE;
        }
        r = id_bus(argv[optind], "incident", &id, &bus);
        if (r != EXIT_OK)
                return r;
        r = call(g, bus, DROVER_DBUS_METHOD_GET_INCIDENT, &reply, "incident", "x", id);
        if (r != EXIT_OK)
                return r;
        r = read_incident(reply, &x);
        if (r < 0)
                return bad_reply(r);
        if (!g->json) {
                _cleanup_free_ char *t0 = fmt_time(x.opened), *t1 = fmt_time(x.closed);
                printf("%sIncident %" PRId64 "%s  %s  level %s  %s%s\n", ansi_bold(g), x.id, ansi_reset(g),
                       x.state, level_name(x.level), x.subject, x.drill ? " (drill)" : "");
                printf("  site        %s\n  phenomenon  %s\n  impact      %s\n  opened      %s\n  closed    "
                       "  %s\n",
                       x.site, x.phenomenon, x.impact, t0, t1);
                printf("\n%sLog%s\n", ansi_bold(g), ansi_reset(g));
        } else
                log_a = json_array();
        r = sd_bus_message_enter_container(reply, 'a', "(tsssssx)");
        while (r >= 0) {
                const char *actor, *kind, *text, *from, *to;
                uint64_t at;
                int64_t run;
                r = sd_bus_message_read(reply, "(tsssssx)", &at, &actor, &kind, &text, &from, &to, &run);
                if (r <= 0)
                        break;
                if (log_a)
                        json_array_append_new(log_a,
                                              json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "at_us",
                                                        (json_int_t) at, "actor", actor, "kind", kind,
                                                        "text", text, "state_from", from, "state_to", to,
                                                        "run", (json_int_t) run));
                else {
                        _cleanup_free_ char *t = fmt_time(at);
                        printf("  %s  %-16s %-14s %s%s%s%s%s\n", t, actor, kind, text, *from ? " [" : "",
                               from, *from ? " → " : "", *from ? to : "");
                }
        }
        if (r < 0) {
                json_decref(log_a);
                return bad_reply(r);
        }
        if (log_a) {
                json_t *o = incident_json(&x);
                json_object_set_new(o, "log", log_a);
                ctl_print_json_line(o);
        }
        return EXIT_OK;
}

/* ---- acting -------------------------------------------------------------------------- */

static int done_ok(const CtlGlobals *g, json_t *o, const char *fmt, ...) _printf_(3, 4);
static int done_ok(const CtlGlobals *g, json_t *o, const char *fmt, ...)
{
        va_list ap;

        if (g->json) {
                json_object_set_new(o, "ok", json_true());
                ctl_print_json_line(o);
                return EXIT_OK;
        }
        json_decref(o);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        return EXIT_OK;
}

typedef enum CtlAnswer { ANSWER_DENY, ANSWER_APPROVE, ANSWER_SKIP } CtlAnswer;

static int answer(CtlGlobals *g, int argc, char **argv, CtlAnswer a)
{
        static const char *const verbs[] = {
                [ANSWER_DENY] = "deny", [ANSWER_APPROVE] = "approve", [ANSWER_SKIP] = "skip"};
        static const char *const methods[] = {[ANSWER_DENY] = DROVER_DBUS_METHOD_DENY,
                                              [ANSWER_APPROVE] = DROVER_DBUS_METHOD_APPROVE,
                                              [ANSWER_SKIP] = DROVER_DBUS_METHOD_SKIP};
        static const char *const done[] = {[ANSWER_DENY] = "Denied",
                                           [ANSWER_APPROVE] = "Approved",
                                           [ANSWER_SKIP] = "Skipped the in-flight step of"};
        static const char *const then[] = {[ANSWER_DENY] = "the gate is refused",
                                           [ANSWER_APPROVE] = "the run goes on",
                                           [ANSWER_SKIP] = "the run goes on with the next step"};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *comment = "", *kind = "run", *verb = verbs[a];
        _cleanup_free_ char *usage = NULL;
        int64_t id;
        int r;

        if (a == ANSWER_SKIP)
                usage = xstrdup("Usage: droverctl skip [run] ID [-m COMMENT] [--json]\n\n"
                                "At a run's resume gate (a node took the run over from a leader that lost\n"
                                "its lead while a step that is not idempotent was in flight): do not run\n"
                                "that step again, journal it skipped, and go on with the next one. Your\n"
                                "user name, uid and the time are recorded. Other gates offer no skip.\n");
        else
                usage = xasprintf(
                        "Usage: droverctl %s [run|incident] ID [-m COMMENT] [--json]\n\n"
                        "%s the pending approval gate of a run (an approve step, or a resume gate;\n"
                        "the default) or the playbook the policy proposed for an incident. Your user\n"
                        "name, uid and the time are recorded. With approvals.four_eyes the requester\n"
                        "of a run may not approve it.\n",
                        verb, a == ANSWER_APPROVE ? "Approve" : "Deny");
        PARSE_OPTIONS(usage, &comment, NULL, NULL);
        if (optind + 2 == argc) {
                kind = argv[optind++];
                if (!streq(kind, "run") && (a == ANSWER_SKIP || !streq(kind, "incident"))) {
                        log_error("%s: the kind is %s, not '%s'", verb,
                                  a == ANSWER_SKIP ? "'run'" : "'run' or 'incident'", kind);
                        return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                log_error("%s wants %s ID; see 'droverctl %s --help'", verb,
                          a == ANSWER_SKIP ? "[run]" : "[run|incident]", verb);
                return EXIT_USAGE;
        }
        r = id_bus(argv[optind], kind, &id, &bus);
        if (r != EXIT_OK)
                return r;
        r = call(g, bus, methods[a], NULL, verb, "sxs", kind, id, comment);
        if (r != EXIT_OK)
                return r;
        return done_ok(g, json_pack("{s:s, s:s, s:I}", "action", verb, "kind", kind, "id", (json_int_t) id),
                       "%s %s %" PRId64 ": %s", done[a], kind, id, then[a]);
}

int verb_approve(CtlGlobals *g, int argc, char **argv)
{
        return answer(g, argc, argv, ANSWER_APPROVE);
}

int verb_deny(CtlGlobals *g, int argc, char **argv)
{
        return answer(g, argc, argv, ANSWER_DENY);
}

int verb_skip(CtlGlobals *g, int argc, char **argv)
{
        return answer(g, argc, argv, ANSWER_SKIP);
}

int verb_abort(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int64_t id;
        int r;

        PARSE_OPTIONS(
                "Usage: droverctl abort RUN [--json]\n\nCancel the running step of a run; its rollback "
                "runs as on Ctrl-C.\n",
                NULL, NULL, NULL);
        if (optind + 1 != argc) {
                log_error("abort wants one RUN id");
                return EXIT_USAGE;
        }
        r = id_bus(argv[optind], "run", &id, &bus);
        if (r != EXIT_OK)
                return r;
        r = call(g, bus, DROVER_DBUS_METHOD_ABORT_RUN, NULL, "abort", "x", id);
        if (r != EXIT_OK)
                return r;
        return done_ok(g, json_pack("{s:s, s:I}", "action", "abort", "run", (json_int_t) id),
                       "Abort of run %" PRId64 " requested; 'droverctl attach %" PRId64 "' follows it", id,
                       id);
}

int verb_ack(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int64_t id;
        int r;

        PARSE_OPTIONS(
                "Usage: droverctl ack INCIDENT [--json]\n\nAcknowledge an incident: the duty office has "
                "verified it.\n",
                NULL, NULL, NULL);
        if (optind + 1 != argc) {
                log_error("ack wants one INCIDENT id");
                return EXIT_USAGE;
        }
        r = id_bus(argv[optind], "incident", &id, &bus);
        if (r != EXIT_OK)
                return r;
        r = call(g, bus, DROVER_DBUS_METHOD_ACK_INCIDENT, NULL, "ack", "x", id);
        if (r != EXIT_OK)
                return r;
        return done_ok(g, json_pack("{s:s, s:I}", "action", "ack", "incident", (json_int_t) id),
                       "Incident %" PRId64 " acknowledged", id);
}

int verb_note(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int64_t id;
        int r;

        PARSE_OPTIONS("Usage: droverctl note INCIDENT TEXT [--json]\n\nAdd a note to an incident's log.\n",
                      NULL, NULL, NULL);
        if (optind + 2 != argc) {
                log_error("note wants INCIDENT and one TEXT argument (quote it)");
                return EXIT_USAGE;
        }
        r = id_bus(argv[optind], "incident", &id, &bus);
        if (r != EXIT_OK)
                return r;
        r = call(g, bus, DROVER_DBUS_METHOD_ADD_NOTE, NULL, "note", "xs", id, argv[optind + 1]);
        if (r != EXIT_OK)
                return r;
        return done_ok(g, json_pack("{s:s, s:I}", "action", "note", "incident", (json_int_t) id),
                       "Note added to incident %" PRId64, id);
}

int verb_maintenance(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *site, *onoff;
        bool on;
        int r;

        PARSE_OPTIONS("Usage: droverctl maintenance SITE on|off [--json]\n\nSilence a site (no incident, no "
                      "automatic run) or end its maintenance.\n",
                      NULL, NULL, NULL);
        if (optind + 2 != argc) {
                log_error("maintenance wants SITE on|off");
                return EXIT_USAGE;
        }
        site = argv[optind];
        onoff = argv[optind + 1];
        r = parse_on_off("maintenance", onoff, &on);
        if (r != EXIT_OK)
                return r;
        if (ctl_bus_open(&bus, false) < 0)
                return EXIT_INFRA;
        r = call(g, bus, DROVER_DBUS_METHOD_SET_MAINTENANCE, NULL, "maintenance", "sb", site, (int) on);
        if (r != EXIT_OK)
                return r;
        return done_ok(g, json_pack("{s:s, s:s, s:b}", "action", "maintenance", "site", site, "on", on),
                       "Maintenance %s for site %s", on ? "on" : "off", site);
}

int verb_override(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *site = "", *onoff;
        bool all = false, on;
        int r;

        PARSE_OPTIONS(
                "Usage: droverctl override SITE|--all on|off [--json]\n\nManual override: droverd "
                "starts nothing automatically for the site (or every site);\nwhat it would have run is "
                "proposed for approval instead.\n",
                NULL, &all, "all");
        if (optind + (all ? 1 : 2) != argc) {
                log_error("override wants SITE on|off, or --all on|off");
                return EXIT_USAGE;
        }
        if (!all)
                site = argv[optind++];
        onoff = argv[optind];
        r = parse_on_off("override", onoff, &on);
        if (r != EXIT_OK)
                return r;
        if (ctl_bus_open(&bus, false) < 0)
                return EXIT_INFRA;
        r = call(g, bus, DROVER_DBUS_METHOD_SET_OVERRIDE, NULL, "override", "sb", site, (int) on);
        if (r != EXIT_OK)
                return r;
        return done_ok(
                g, json_pack("{s:s, s:s, s:b}", "action", "override", "site", all ? "*" : site, "on", on),
                "Manual override %s for %s%s", on ? "on" : "off", all ? "every site" : "site ",
                all ? "" : site);
}

int verb_reload(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        PARSE_OPTIONS("Usage: droverctl reload [--json]\n\nReload droverd's inventory, as SIGHUP does: an "
                      "invalid one is refused and the old one kept.\n",
                      NULL, NULL, NULL);
        r = no_args_call(g, argc, "reload", DROVER_DBUS_METHOD_RELOAD, &bus, NULL);
        if (r != EXIT_OK)
                return r;
        return done_ok(g, json_pack("{s:s}", "action", "reload"), "Reloaded");
}

/* ---- following a run ----------------------------------------------------------------- */

typedef struct Follow {
        const CtlGlobals *g;
        int64_t id;
        bool ended;
        RunOutcome outcome; /* _RUN_OUTCOME_INVALID until it ends */
} Follow;

/* outcome: what droverd reported (a run outcome's name; empty if it said only "ended"). */
static void follow_print_end(Follow *f, const char *outcome)
{
        const char *name = *outcome ? outcome : "ended";

        f->outcome = run_outcome_from_string(outcome);
        f->ended = true;
        if (f->g->json)
                ctl_print_json_line(json_pack("{s:s, s:I, s:s}", "event", "run-finished", "run",
                                              (json_int_t) f->id, "outcome", name));
        else
                printf("%sRun %" PRId64 " %s%s%s%s\n", ansi_bold(f->g), f->id,
                       run_outcome_color(f->g, f->outcome), name, ansi_reset(f->g), ansi_reset(f->g));
}

/* "-" is a step without a target (approve, sleep): print nothing for it. */
static const char *target_or_empty(const char *t)
{
        return t && *t && !streq(t, "-") ? t : "";
}

static const char *on_target(const char *t)
{
        return *target_or_empty(t) ? " on " : "";
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Follow *f = userdata;
        const CtlGlobals *g = f->g;
        const char *step = "", *target = "", *outcome = "", *state = "", *kind = "", *prompt = "";
        uint32_t done = 0, total = 0;
        int64_t id;

        if (f->ended)
                return 0;
        if (sd_bus_message_is_signal(m, DROVER_DBUS_MANAGER_INTERFACE, DROVER_DBUS_SIGNAL_STEP_STARTED)) {
                if (sd_bus_message_read(m, "xss", &id, &step, &target) < 0 || id != f->id)
                        return 0;
                if (g->json)
                        ctl_print_json_line(json_pack("{s:s, s:I, s:s, s:s}", "event", "step-started", "run",
                                                      (json_int_t) id, "step", step, "target", target));
                else
                        printf("  %s%s%s %s%s%s\n", ansi_grey(g), g->color ? "\u25b6" : ">>", ansi_reset(g),
                               step, on_target(target), target_or_empty(target));
        } else if (sd_bus_message_is_signal(m, DROVER_DBUS_MANAGER_INTERFACE,
                                            DROVER_DBUS_SIGNAL_STEP_FINISHED)) {
                if (sd_bus_message_read(m, "xsss", &id, &step, &target, &outcome) < 0 || id != f->id)
                        return 0;
                if (g->json)
                        ctl_print_json_line(json_pack("{s:s, s:I, s:s, s:s, s:s}", "event", "step-finished",
                                                      "run", (json_int_t) id, "step", step, "target", target,
                                                      "outcome", outcome));
                else
                        printf("    %s%-11s%s %s%s%s\n", step_outcome_color(g, step_outcome_from_string(outcome)), outcome, ansi_reset(g),
                               step, on_target(target), target_or_empty(target));
        } else if (sd_bus_message_is_signal(m, DROVER_DBUS_MANAGER_INTERFACE,
                                            DROVER_DBUS_SIGNAL_APPROVAL_REQUESTED)) {
                if (sd_bus_message_read(m, "sxs", &kind, &id, &prompt) < 0 || id != f->id ||
                    !streq(kind, "run"))
                        return 0;
                if (g->json)
                        ctl_print_json_line(json_pack("{s:s, s:I, s:s}", "event", "approval-requested",
                                                      "run", (json_int_t) id, "prompt", prompt));
                else
                        printf("  %sapproval needed%s: %s\n    answer with: droverctl approve %" PRId64
                               " (or deny)\n",
                               ansi_yellow(g), ansi_reset(g), prompt, id);
        } else if (sd_bus_message_is_signal(m, DROVER_DBUS_MANAGER_INTERFACE,
                                            DROVER_DBUS_SIGNAL_RUN_CHANGED)) {
                if (sd_bus_message_read(m, "xssuus", &id, &state, &step, &done, &total, &outcome) < 0 ||
                    id != f->id)
                        return 0;
                if (streq(state, "ended"))
                        follow_print_end(f, outcome);
        }
        fflush(stdout);
        return 0;
}

/* Poll GetRun: the start state, and a safety net should a signal be lost. Returns
 * EXIT_OK or the exit status of a failure. */
static int follow_check(sd_bus *bus, Follow *f, bool print_header)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *cur = "", *prompt = "";
        uint32_t done = 0, total = 0;
        RunRow x;
        int r;

        r = call(f->g, bus, DROVER_DBUS_METHOD_GET_RUN, &reply, "attach", "x", f->id);
        if (r != EXIT_OK)
                return r;
        r = read_run(reply, &x);
        if (r >= 0)
                r = sd_bus_message_read(reply, "(ssuu)", &cur, &prompt, &done, &total);
        if (r < 0)
                return bad_reply(r);
        if (print_header && !f->g->json)
                printf("%sRun %" PRId64 "%s  %s (%s, by %s)  %s%s%s\n", ansi_bold(f->g), x.id,
                       ansi_reset(f->g), x.playbook, x.mode, x.actor, x.state, *cur ? ", at " : "", cur);
        if (print_header && *prompt && !f->g->json)
                printf("  %sapproval needed%s: %s\n    answer with: droverctl approve %" PRId64
                       " (or deny)\n",
                       ansi_yellow(f->g), ansi_reset(f->g), prompt, f->id);
        if (!f->ended && (streq(x.state, "ended") || (x.ended && run_outcome_from_string(x.outcome) != RUN_RUNNING)))
                follow_print_end(f, x.outcome);
        fflush(stdout);
        return 0;
}

static int follow(const CtlGlobals *g, sd_bus *bus, int64_t id)
{
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        Follow f = {.g = g, .id = id, .outcome = _RUN_OUTCOME_INVALID};
        usec_t next_check;
        int r;

        /* Subscribe first, then read the state: nothing falls between the two. */
        r = sd_bus_match_signal(bus, &slot, DROVER_DBUS_NAME, DROVER_DBUS_PATH,
                                DROVER_DBUS_MANAGER_INTERFACE, NULL, on_signal, &f);
        if (r < 0) {
                log_error_errno(r, "cannot subscribe to droverd's signals: %s", strerror(-r));
                return EXIT_INFRA;
        }
        r = follow_check(bus, &f, true);
        if (r > 0)
                return r;
        next_check = now_usec(CLOCK_MONOTONIC) + 2 * USEC_PER_SEC;
        while (!f.ended) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        log_error_errno(r, "lost the connection to droverd: %s", strerror(-r));
                        return EXIT_INFRA;
                }
                if (r > 0)
                        continue;
                if (now_usec(CLOCK_MONOTONIC) >= next_check) {
                        r = follow_check(bus, &f, false);
                        if (r > 0) {
                                        return r;
                        }
                        next_check = now_usec(CLOCK_MONOTONIC) + 2 * USEC_PER_SEC;
                        continue;
                }
                r = sd_bus_wait(bus, 2 * USEC_PER_SEC);
                if (r < 0 && r != -EINTR) {
                        log_error_errno(r, "lost the connection to droverd: %s", strerror(-r));
                        return EXIT_INFRA;
                }
        }
        return f.outcome == RUN_SUCCEEDED ? EXIT_OK : EXIT_RUN_FAILED;
}

int verb_attach(CtlGlobals *g, int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int64_t id;
        int r;

        PARSE_OPTIONS(
                "Usage: droverctl attach RUN [--json]\n\nFollow a run droverd is running, step by step, "
                "until it ends.\nLeaving (Ctrl-C) does not stop the run. Exit: 0 succeeded, 1 failed or "
                "aborted.\n",
                NULL, NULL, NULL);
        if (optind + 1 != argc) {
                log_error("attach wants one RUN id");
                return EXIT_USAGE;
        }
        r = id_bus(argv[optind], "run", &id, &bus);
        if (r != EXIT_OK)
                return r;
        return follow(g, bus, id);
}

/* droverd's plan of a dry run is the run worker's JSON lines (run-started, step-started,
 * …): as they are with --json, as a numbered list of steps for a human. */
static void print_plan(const CtlGlobals *g, const char *plan)
{
        _cleanup_free_ char *copy = xstrdup(plan);

        for (char *line = copy, *nl; line && *line; line = nl) {
                json_t *o;

                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = '\0';
                if (g->json) {
                        printf("%s\n", line);
                        continue;
                }
                o = json_loads(line, 0, NULL);
                if (!o) {
                        printf("%s\n", line);
                        continue;
                }
                const char *ev = json_string_value(json_object_get(o, "event"));
                if (ev && streq(ev, "run-started"))
                        printf("%sPlan%s of %s (dry run: nothing is contacted)\n", ansi_bold(g),
                               ansi_reset(g), strempty(json_string_value(json_object_get(o, "playbook"))));
                else if (ev && streq(ev, "step-started")) {
                        const char *target = json_string_value(json_object_get(o, "target"));
                        printf("  %2d. %s%s%s (%s%s%s): %s\n",
                               (int) json_integer_value(json_object_get(o, "index")), ansi_bold(g),
                               strempty(json_string_value(json_object_get(o, "step"))), ansi_reset(g),
                               strempty(json_string_value(json_object_get(o, "kind"))),
                               target && !streq(target, "-") ? " on " : "",
                               target && !streq(target, "-") ? target : "",
                               strempty(json_string_value(json_object_get(o, "detail"))));
                }
                json_decref(o);
        }
        fflush(stdout);
}

/* `droverctl run` through droverd: StartRun, then attach unless --detach. */
int ctl_run_via_daemon(CtlGlobals *g, sd_bus *bus, const char *playbook, const ParamValue *params,
                       size_t n_params, bool dry_run, bool override_no_quorum, bool detach)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *abs = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *plan = "";
        int64_t id = 0;
        int r;

        /* A file named on the command line is the caller's file: droverd's working directory
         * is not ours. A bare name is resolved by droverd (playbook_dir). */
        if (strchr(playbook, '/') && (abs = realpath(playbook, NULL)))
                playbook = abs;

        r = sd_bus_message_new_method_call(bus, &m, DROVER_DBUS_NAME, DROVER_DBUS_PATH,
                                           DROVER_DBUS_MANAGER_INTERFACE, DROVER_DBUS_METHOD_START_RUN);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", playbook);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && i < n_params; i++)
                r = sd_bus_message_append(m, "{ss}", params[i].name, params[i].value);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(
                        m, "t",
                        (dry_run ? DROVER_RUN_FLAG_DRY_RUN : UINT64_C(0)) |
                                (override_no_quorum ? DROVER_RUN_FLAG_OVERRIDE_NO_QUORUM : UINT64_C(0)));
        if (r >= 0)
                r = sd_bus_call(bus, m, CTL_BUS_TIMEOUT, &e, &reply);
        if (r < 0) {
                r = ctl_bus_error(g, &e, r, "run");
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_read(reply, "xs", &id, &plan);
        if (r < 0)
                return bad_reply(r);
        if (dry_run) {
                print_plan(g, plan);
                return EXIT_OK;
        }
        if (g->json)
                ctl_print_json_line(json_pack("{s:s, s:I}", "event", "run-started", "run", (json_int_t) id));
        else
                printf("Run %" PRId64 " started by droverd%s\n", id,
                       detach ? "; follow it with 'droverctl attach'" : "");
        fflush(stdout);
        if (detach)
                return EXIT_OK;
        return follow(g, bus, id);
}

/* ---- the journal's records through droverd (runs, show) ------------------------------ */

bool ctl_bus_for_journal(const CtlGlobals *g, sd_bus **ret)
{
        sd_bus *bus = NULL;

        /* A journal named on the command line or in the environment is read directly. */
        if (g->db_path || getenv(JOURNAL_ENV) || g->config_path)
                return false;
        if (ctl_bus_open(&bus, true) < 0)
                return false;
        if (!ctl_bus_daemon_present(bus)) {
                sd_bus_flush_close_unref(bus);
                return false;
        }
        *ret = bus;
        return true;
}

static void run_row_to_record(const RunRow *x, RunRecord *rec)
{
        *rec = (RunRecord){
                .id = x->id,
                .playbook = xstrdup(x->playbook),
                .mode = run_mode_from_string(x->mode),
                .trigger = xstrdup(x->trigger),
                .actor = xstrdup(x->actor),
                .outcome = run_outcome_from_string(x->outcome),
                .started = x->started,
                .ended = x->ended,
                .n_steps = x->total,
                .n_failed = x->total >= x->done ? x->total - x->done : 0,
        };
}

int ctl_bus_list_runs(const CtlGlobals *g, sd_bus *bus, size_t limit, RunRecord **ret, size_t *ret_n)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        RunRecord *runs = NULL;
        size_t n = 0;
        RunRow x;
        int r;

        r = call(g, bus, DROVER_DBUS_METHOD_LIST_RUNS, &reply, "runs", "u",
                 (uint32_t) MIN(limit, (size_t) UINT32_MAX));
        if (r != EXIT_OK)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(xssssssttuu)");
        while (r >= 0 && (r = read_run(reply, &x)) > 0)
                run_row_to_record(&x, array_push(&runs, &n, sizeof(RunRecord)));
        if (r < 0) {
                run_record_free_array(runs, n);
                return bad_reply(r);
        }
        *ret = runs;
        *ret_n = n;
        return EXIT_OK;
}

int ctl_bus_get_run(const CtlGlobals *g, sd_bus *bus, int64_t id, RunRecord *ret_run, StepRecord **ret_steps,
                    size_t *ret_n_steps, EventRecord **ret_events, size_t *ret_n_events)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *detail = NULL;
        const char *path, *sha, *kind, *params, *host, *err;
        StepRecord *steps = NULL;
        EventRecord *events = NULL;
        size_t n_steps = 0, n_events = 0;
        RunRecord run;
        RunRow x;
        int pid, r;

        r = call(g, bus, DROVER_DBUS_METHOD_GET_RUN, &reply, "show", "x", id);
        if (r == EXIT_OK)
                r = call(g, bus, DROVER_DBUS_METHOD_GET_RUN_STEPS, &detail, "show", "x", id);
        if (r != EXIT_OK)
                return r;
        r = read_run(reply, &x);
        if (r >= 0)
                r = sd_bus_message_read(detail, "(sssssis)", &path, &sha, &kind, &params, &host, &pid, &err);
        if (r < 0)
                return bad_reply(r);
        run_row_to_record(&x, &run);
        run.playbook_path = xstrdup(path);
        run.playbook_sha256 = xstrdup(sha);
        run.kind = xstrdup(kind);
        run.params_json = *params ? xstrdup(params) : NULL;
        run.hostname = xstrdup(host);
        run.pid = pid;
        run.error = *err ? xstrdup(err) : NULL;

        r = sd_bus_message_enter_container(detail, 'a', "(issssutttsixssss)");
        while (r >= 0) {
                const char *name, *skind, *phase, *target, *outcome, *sdetail, *serr, *out, *errout;
                uint64_t started, ended, duration;
                uint32_t attempt;
                int64_t http;
                int idx, exit_status;

                r = sd_bus_message_read(detail, "(issssutttsixssss)", &idx, &name, &skind, &phase, &target,
                                        &attempt, &started, &ended, &duration, &outcome, &exit_status, &http,
                                        &sdetail, &serr, &out, &errout);
                if (r <= 0)
                        break;
                StepRecord *s = array_push(&steps, &n_steps, sizeof(StepRecord));
                *s = (StepRecord){
                        .run_id = id,
                        .step_index = idx,
                        .step_name = xstrdup(name),
                        .kind = xstrdup(skind),
                        .phase = step_phase_from_string(phase),
                        .target = xstrdup(target),
                        .attempt = attempt,
                        .started = started,
                        .ended = ended,
                        .duration = duration,
                        .outcome = step_outcome_from_string(outcome),
                        .exit_status = exit_status,
                        .http_status = (long) http,
                        .detail = *sdetail ? xstrdup(sdetail) : NULL,
                        .error = *serr ? xstrdup(serr) : NULL,
                        .stdout_text = *out ? xstrdup(out) : NULL,
                        .stderr_text = *errout ? xstrdup(errout) : NULL,
                };
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(detail);
        if (r >= 0)
                r = sd_bus_message_enter_container(detail, 'a', "(tss)");
        while (r >= 0) {
                const char *ekind, *message;
                uint64_t at;

                r = sd_bus_message_read(detail, "(tss)", &at, &ekind, &message);
                if (r <= 0)
                        break;
                EventRecord *e = array_push(&events, &n_events, sizeof(EventRecord));
                *e = (EventRecord){
                        .run_id = id, .at = at, .kind = xstrdup(ekind), .message = xstrdup(message)};
        }
        if (r < 0) {
                run_record_done(&run);
                step_record_free_array(steps, n_steps);
                event_record_free_array(events, n_events);
                return bad_reply(r);
        }
        *ret_run = run;
        *ret_steps = steps;
        *ret_n_steps = n_steps;
        *ret_events = events;
        *ret_n_events = n_events;
        return EXIT_OK;
}
