/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h — droverd's one object: the loaded config, the journal, the sd-event
 * loop and its sources (signals, the watchdog timer). Everything the daemon holds
 * hangs off the Manager; there are no other globals (the log level aside).
 *
 * Owns: start-up (config, journal and recovery, READY=1), reload on SIGHUP (the new
 * config is validated whole first; on any error the old one stays), shutdown on
 * SIGTERM/SIGINT, the service manager protocol (READY, RELOADING, STOPPING, STATUS,
 * WATCHDOG). Does not own: probes, detection, incidents, runs — those plug in here
 * later (see manager_stop_accepting()). Called by droverd.c only.
 */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "journal.h"
#include "macros.h"

typedef struct Manager Manager;

/* config_path NULL = CONFIG_DEFAULT_PATH; db_path NULL = journal_resolve_path()'s choice. */
int manager_new(Manager **ret, const char *config_path, const char *db_path);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Load the config (diagnostics logged, path:line:col), open and recover the journal,
 * hook signals and the watchdog into the loop, journal "daemon-started", READY=1.
 * Returns -EINVAL for an invalid config (nothing else touched), other -errno otherwise. */
int manager_startup(Manager *m);

/* Run the loop until SIGTERM/SIGINT. Returns the loop's exit code (0) or -errno. */
int manager_run(Manager *m);

/* Validate a config file without touching the journal: diagnostics logged, 0 or
 * -EINVAL (or another -errno when the file cannot be read). For --check-config. */
int manager_check_config(const char *config_path);

/* Stop taking new work (probe-triggered runs, D-Bus run/approve calls). Called first
 * on SIGTERM. Idempotent. */
void manager_stop_accepting(Manager *m);

/* For tests and status: what is loaded. */
const Config *manager_get_config(const Manager *m);
bool manager_is_accepting(const Manager *m);
