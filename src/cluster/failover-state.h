/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * failover-state.h — what every node must know of the leader's failover decisions: the
 * active site and when the last automatic switchover started (the cooldown). The leader
 * writes it (fenced, under "<prefix>/state/failover") whenever either changes; a node that
 * is elected reads it before it decides its open incidents again, so that a switchover
 * done by an earlier leader is neither undone nor repeated.
 *
 * Owns: the key and the value's encoding. Pure (no I/O): droverd's manager-cluster.c does
 * the etcd calls. Unit-tested by tests/unit/test-failover-state.c.
 */
#pragma once

#include <stdint.h>

#include "shared/time-util.h"

typedef struct FailoverState {
        char *active_site;           /* NULL: not known */
        usec_t last_auto_switchover; /* CLOCK_REALTIME; 0: none */
        char *node;                  /* the leader that wrote it */
        uint64_t epoch;              /* in that epoch */
} FailoverState;

void failover_state_done(FailoverState *s);

/* "<prefix>/state/failover" (allocated). */
char *failover_state_key(const char *prefix);

/* One JSON object (allocated). -EINVAL without node or epoch. */
int failover_state_format(const FailoverState *s, char **ret);
/* -EBADMSG for anything but an object with a string "node", a positive "epoch", and
 * optional "active_site" (string) and "last_auto_switchover_us" (non-negative). *ret is
 * reset first. */
int failover_state_parse(const char *json, FailoverState *ret);
