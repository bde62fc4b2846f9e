/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-surface-weak.c — TEMPORARY weak stand-ins for the commander's surface of
 * manager.h, so that droverd links while wip/daemon implements it. Every call says
 * -EOPNOTSUPP. Deleted when wip/daemon is merged; never on a final branch.
 */
#include "manager.h"

#define WEAK __attribute__((weak))

WEAK void manager_site_free_array(ManagerSite *a, size_t n) { free(a); }
WEAK int manager_list_sites(Manager *m, ManagerSite **ret, size_t *ret_n) { return -EOPNOTSUPP; }
WEAK int manager_set_maintenance(Manager *m, const char *site, bool on, const char *actor) { return -EOPNOTSUPP; }
WEAK const char *manager_run_state_to_string(ManagerRunState s) { return "unknown"; }
WEAK void manager_run_free_array(ManagerRun *a, size_t n) { free(a); }
WEAK int manager_list_runs(Manager *m, ManagerRun **ret, size_t *ret_n) { return -EOPNOTSUPP; }
WEAK int manager_start_run(Manager *m, const ManagerRunRequest *req, int64_t *ret_run_id, char **ret_plan,
                           char **ret_error) { return -EOPNOTSUPP; }
WEAK int manager_abort_run(Manager *m, int64_t run_id, const char *actor) { return -EOPNOTSUPP; }
WEAK int manager_answer(Manager *m, const char *kind, int64_t id, bool approve, const char *actor,
                        const char *comment) { return -EOPNOTSUPP; }
WEAK int manager_ack_incident(Manager *m, int64_t id, const char *actor) { return -EOPNOTSUPP; }
WEAK int manager_note_incident(Manager *m, int64_t id, const char *actor, const char *text) { return -EOPNOTSUPP; }
WEAK int manager_request_reload(Manager *m, const char *actor) { return -EOPNOTSUPP; }
WEAK void manager_set_observer(Manager *m, const ManagerObserver *o) {}
WEAK sd_event *manager_get_event(Manager *m) { return NULL; }
