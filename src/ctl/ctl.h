/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl.h — droverctl's verbs and the output helpers they share. Private to src/ctl.
 *
 * Exit codes (documented in droverctl(1) and the README):
 *   0 success, 1 the playbook failed (after rollback if any) or was aborted,
 *   2 usage or validation error (nothing ran), 3 infrastructure error (journal unusable,
 *   droverd unreachable…), 4 refused by droverd (not a commander, four-eyes), 5 no such
 *   run/incident/site, 6 nothing to do (no pending gate, run ended, droverd stopping).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "config/config.h"
#include "engine/engine.h"
#include "journal/journal.h"

#include "drover/exit-status.h"

enum {
        EXIT_OK = DROVER_EXIT_OK,
        EXIT_RUN_FAILED = DROVER_EXIT_RUN_FAILED,
        EXIT_USAGE = DROVER_EXIT_USAGE,
        EXIT_INFRA = DROVER_EXIT_INFRA,
        EXIT_REFUSED = DROVER_EXIT_REFUSED,
        EXIT_NOT_FOUND = DROVER_EXIT_NOT_FOUND,
        EXIT_NOTHING_TO_DO = DROVER_EXIT_NOTHING_TO_DO,
};

typedef struct CtlGlobals {
        const char *config_path; /* --config, NULL = default */
        const char *db_path;     /* --db, NULL = $DROVER_DB / config / default */
        bool json;               /* --json */
        bool color;              /* stdout is a terminal and NO_COLOR unset */
} CtlGlobals;

typedef struct Verb {
        const char *name;
        const char *args;
        const char *summary;
        int (*run)(CtlGlobals *g, int argc, char **argv);
} Verb;

int verb_validate(CtlGlobals *g, int argc, char **argv);
int verb_run(CtlGlobals *g, int argc, char **argv);
int verb_runs(CtlGlobals *g, int argc, char **argv);
int verb_show(CtlGlobals *g, int argc, char **argv);
int verb_report(CtlGlobals *g, int argc, char **argv);
int verb_drill(CtlGlobals *g, int argc, char **argv);

/* What `drill start` adds to a run (ctl-drill.c). Both may be NULL. */
typedef struct CtlRunHooks {
        void *userdata;
        /* The run is durable (info->journal_id is set); an error abandons the run. */
        int (*run_started)(void *userdata, const RunInfo *info);
        /* Plan-only runs: one step (ev, its first target) was just shown. A negative return
         * stops walking the plan (the run ends aborted). */
        int (*step_shown)(void *userdata, const RunInfo *info, const StepEvent *ev);
} CtlRunHooks;

typedef struct CtlRunRequest {
        const Config *config;
        const Playbook *playbook;
        const ParamValue *params;
        size_t n_params;
        RunMode mode;
        const char *trigger;       /* "manual", "drill" */
        const char *actor;         /* NULL = the invoking user */
        Journal *journal;          /* NULL = open it (not for a dry run) */
        bool accept_new_host_keys;
        const CtlRunHooks *hooks;
} CtlRunRequest;

/* Run one playbook in this process with live progress, journaled (ctl-run.c). Returns an
 * exit code; *ret_run_id the journal's run id (0 = none). */
int ctl_run_playbook(CtlGlobals *g, const CtlRunRequest *req, int64_t *ret_run_id, RunOutcome *ret_outcome);
int verb_audit(CtlGlobals *g, int argc, char **argv);
int verb_journal(CtlGlobals *g, int argc, char **argv);
/* ctl-bus.c: through droverd's D-Bus API */
int verb_status(CtlGlobals *g, int argc, char **argv);
int verb_sites(CtlGlobals *g, int argc, char **argv);
int verb_incidents(CtlGlobals *g, int argc, char **argv);
int verb_incident(CtlGlobals *g, int argc, char **argv);
int verb_approve(CtlGlobals *g, int argc, char **argv);
int verb_deny(CtlGlobals *g, int argc, char **argv);
int verb_skip(CtlGlobals *g, int argc, char **argv);
int verb_abort(CtlGlobals *g, int argc, char **argv);
int verb_ack(CtlGlobals *g, int argc, char **argv);
int verb_note(CtlGlobals *g, int argc, char **argv);
int verb_maintenance(CtlGlobals *g, int argc, char **argv);
int verb_override(CtlGlobals *g, int argc, char **argv);
int verb_reload(CtlGlobals *g, int argc, char **argv);
int verb_attach(CtlGlobals *g, int argc, char **argv);

/* The system bus ($DBUS_SYSTEM_BUS_ADDRESS honoured), with a deadline on every call.
 * quiet: no error logged (run probing for the daemon). */
int ctl_bus_open(sd_bus **ret, bool quiet);
bool ctl_bus_daemon_present(sd_bus *bus);
/* Logs droverd's error (and prints it as JSON with --json); returns the exit status. */
int ctl_bus_error(const CtlGlobals *g, const sd_bus_error *e, int r, const char *what);
/* runs/show: through droverd when it is on the bus and no journal was named (--db,
 * $DROVER_DB, --config): the journal file is droverd's own (0600). */
bool ctl_bus_for_journal(const CtlGlobals *g, sd_bus **ret);
int ctl_bus_list_runs(const CtlGlobals *g, sd_bus *bus, size_t limit, RunRecord **ret, size_t *ret_n);
int ctl_bus_get_run(const CtlGlobals *g, sd_bus *bus, int64_t id, RunRecord *ret_run, StepRecord **ret_steps,
                    size_t *ret_n_steps, EventRecord **ret_events, size_t *ret_n_events);
/* `run` through droverd: StartRun, then follow the run unless detach. override_no_quorum:
 * a clustered droverd without etcd quorum runs it anyway, and journals who asked. */
int ctl_run_via_daemon(CtlGlobals *g, sd_bus *bus, const char *playbook, const ParamValue *params,
                       size_t n_params, bool dry_run, bool override_no_quorum, bool detach);

/* Load drover.yaml, printing diagnostics; returns EXIT_OK or EXIT_USAGE. */
int ctl_load_config(const CtlGlobals *g, Config **ret);
/* Open the journal and recover what dead processes left running; EXIT_OK or EXIT_INFRA. */
int ctl_open_journal(const CtlGlobals *g, const Config *config, Journal **ret);
/* The invoking person: "alice", or "alice (via sudo)" when root through sudo. Allocated. */
char *ctl_actor(void);

/* Colours: empty strings when colour is off. */
const char *ansi_bold(const CtlGlobals *g);
const char *ansi_red(const CtlGlobals *g);
const char *ansi_green(const CtlGlobals *g);
const char *ansi_yellow(const CtlGlobals *g);
const char *ansi_grey(const CtlGlobals *g);
const char *ansi_reset(const CtlGlobals *g);
const char *run_outcome_color(const CtlGlobals *g, RunOutcome o);
const char *step_outcome_color(const CtlGlobals *g, StepOutcome o);

/* Print a JSON value (jansson json_t *) as one line on stdout and decref it. */
void ctl_print_json_line(void *json);

/* Options every verb accepts after the verb too. Use COMMON_OPTIONS in a verb's
 * option table and call ctl_common_option() from its default: branch. */
enum {
        OPT_CONFIG = 0x1000,
        OPT_DB,
        OPT_JSON,
        OPT_NO_COLOR,
        OPT_VERBOSE,
};
#define COMMON_OPTIONS                                                                                     \
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, OPT_DB },            \
                { "json", no_argument, NULL, OPT_JSON }, { "no-color", no_argument, NULL, OPT_NO_COLOR }, \
                { "verbose", no_argument, NULL, 'v' }
/* Returns true when c was a common option (and applied it). */
bool ctl_common_option(CtlGlobals *g, int c, const char *arg);
