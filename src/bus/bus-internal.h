/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-internal.h — what the files of droverd's D-Bus API share: the Bus, the caller
 * check, argument checks, live run state, and each file's vtables and object
 * callbacks. Private to src/bus/: bus.c (callers, helpers, live runs, signals,
 * set-up), bus-methods.c (the Manager interface's methods and properties),
 * bus-objects.c (the per-run and per-incident objects).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "bus/bus.h"
#include "shared/macros.h"

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

typedef struct LiveRuns {
        ManagerRun *runs;
        size_t n;
} LiveRuns;

/* bus-methods.c */
extern const sd_bus_vtable manager_vtable[];

/* bus-objects.c */
extern const sd_bus_vtable run_vtable[];
extern const sd_bus_vtable incident_vtable[];
char *object_path(const char *prefix, int64_t id);
int run_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
             sd_bus_error *error);
int incident_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                  sd_bus_error *error);
int run_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *error);
int incident_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                       sd_bus_error *error);

/* bus.c */
_printf_(2, 3) int invalid_args(sd_bus_error *error, const char *fmt, ...);
void caller_done(Caller *c);
int bus_authorize(Bus *b, sd_bus_message *msg, const char *method, json_t *args, Caller *ret,
                  sd_bus_error *error);
int bus_check_cluster(Bus *b, bool needs_quorum, bool override, bool *ret_overridden, sd_bus_error *error);
int bus_map_error(sd_bus_error *error, int r, const char *no_such, const char *what, const char *detail);
int bus_finish(Bus *b, const Caller *c, const char *method, json_t *args, sd_bus_error *error, int r);
int bus_reply(sd_bus_message *msg, Bus *b, const Caller *c, const char *method, json_t *args,
              sd_bus_error *error, int r);
const char *check_text(const char *s, bool may_be_empty);
void live_runs_done(LiveRuns *l);
void live_runs_get(Bus *b, LiveRuns *ret);
const ManagerRun *live_runs_find(const LiveRuns *l, int64_t id);
const char *run_state(const RunRecord *rec, const ManagerRun *live);
int append_run(sd_bus_message *reply, const RunRecord *x, const ManagerRun *live);
int append_incident(sd_bus_message *reply, const IncidentRecord *x);
int append_site(sd_bus_message *reply, const ManagerSite *s);
