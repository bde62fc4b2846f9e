/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prober-ssh.h — the prober's SSH runner (monitor/prober.h, "the SSH seam") backed by
 * a RealExecutor: strict known_hosts (unknown host keys are refused, never added),
 * one kept session per Host pointer, each check a channel on it, every request ended
 * by its deadline.
 *
 * Owns: the RealExecutor it creates and the result last handed to the prober. Does not
 * own: scheduling or judging checks (src/monitor). Injected by droverd's watch
 * (src/daemon/watch.c) and tests/integration/test-prober.c with
 * prober_set_ssh(p, &prober_ssh_real_ops). Lives here, not in src/monitor, so that the
 * monitor does not depend on the executors' layer.
 */
#pragma once

#include "monitor/prober.h"

extern const ProberSshOps prober_ssh_real_ops;
