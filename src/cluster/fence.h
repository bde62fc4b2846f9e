/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fence.h — fenced writes: an etcd txn that succeeds only while this node still
 * leads in the same epoch (leader key value == node AND its create revision ==
 * epoch). The epoch is the fencing token: the same number goes to the resources
 * (X-Drover-Fencing-Token, DROVER_FENCING_TOKEN), which refuse a lower one.
 *
 * Owns: the comparison. Does not own: the client (borrowed), what is written
 * (runrec.h). Synchronous: called by the run worker before each step acts, and
 * by tests and bench. A failed comparison is -ESTALE ("fenced": another node
 * leads, or this node's lease expired); the caller does not act and journals it.
 */
#pragma once

#include <stdint.h>

#include "cluster/etcd.h"

typedef struct Fence {
        EtcdClient *client; /* borrowed */
        const char *prefix; /* "/drover/<cluster name>" */
        const char *node;
        uint64_t epoch;
        usec_t timeout; /* deadline of one fenced write */
} Fence;

#define FENCE_DEFAULT_TIMEOUT (2 * USEC_PER_SEC)

/* Who leads now, as seen in the failure branch of a fenced txn (for the journal). */
typedef struct FenceHolder {
        char *leader; /* NULL: no leader key */
        uint64_t epoch;
} FenceHolder;

void fence_holder_done(FenceHolder *h);

/* The fenced txn as a request body for "/v3/kv/txn" (for an asynchronous call; parse its
 * reply with etcd_parse_txn(): succeeded false = fenced). f->client is not used. */
json_t *fence_build_txn(const Fence *f, const EtcdOp *ops, size_t n_ops);

/* Apply ops only if this node still leads in f->epoch. 0, -ESTALE (fenced; *ret_holder
 * filled when given) or the client's -errno (etcd not reached: do not act either). */
int fence_txn(const Fence *f, const EtcdOp *ops, size_t n_ops, FenceHolder *ret_holder);
