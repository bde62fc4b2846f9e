/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook-path.h — where a PLAYBOOK argument names a file: a path as given, or a name
 * looked up in the config's playbook_dir, then in "playbooks/" beside the config file.
 * Callers: `droverctl run` (src/ctl/ctl-run.c) and drover-worker (src/worker/), so that a
 * name means the same playbook whether the run is local or droverd's.
 */
#pragma once

#include "config/config.h"

/* Allocated. When nothing is found, arg itself: the loader then reports it with its path. */
char *playbook_resolve_path(const Config *config, const char *arg);
