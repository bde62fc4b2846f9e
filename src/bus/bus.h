/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.h — droverd's D-Bus API (names in include/drover/dbus-api.h) on the system bus.
 *
 * Owns: the sd-bus connection attached to the manager's sd-event loop, the bus name,
 * the vtables of /org/drover1 and of the per-incident and per-run objects, turning the
 * manager's change notifications into signals and PropertiesChanged, the caller check
 * (sender credentials) of every mutating method and the audit event it journals.
 * Does not own: any decision about runs, gates or incidents (the manager surface in
 * src/daemon/manager.h makes them) nor the D-Bus policy (units/org.drover1.conf).
 * Called by droverd.c only.
 */
#pragma once

#include "daemon/manager.h"
#include "shared/macros.h"

typedef struct Bus Bus;

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS honoured), registers the objects,
 * takes the name org.drover1 and hooks the manager's observer. journal_path is the
 * daemon's journal: the bus reads incidents and runs there and journals its audit
 * events. -EEXIST when another process owns the name; -EACCES when the bus policy does
 * not let this user own it; other -errno when the bus is unreachable. Each is logged
 * here; droverd.c decides whether to go on without the API (dbus.required). */
int bus_new(Bus **ret, Manager *m, const char *journal_path);
Bus *bus_free(Bus *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Bus *, bus_free);
