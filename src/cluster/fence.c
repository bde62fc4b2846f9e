/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fence.c — the fenced txn (see fence.h). One round trip: compare the leader key's
 * value and create revision; success applies the caller's ops, failure reads the
 * leader key back so that the refusal can say who leads now.
 */
#include <errno.h>
#include <string.h>

#include "cluster/fence.h"
#include "shared/strbuf.h"

void fence_holder_done(FenceHolder *h)
{
        if (!h)
                return;
        free(h->leader);
        *h = (FenceHolder){};
}

json_t *fence_build_txn(const Fence *f, const EtcdOp *ops, size_t n_ops)
{
        _cleanup_free_ char *leader_key = NULL;

        if (!f || !f->prefix || !f->node || f->epoch == 0)
                return NULL;
        leader_key = xasprintf("%s/leader", f->prefix);
        EtcdCompare cmp[] = {
                {.key = leader_key, .target = ETCD_COMPARE_VALUE, .value = f->node},
                {.key = leader_key, .target = ETCD_COMPARE_CREATE, .number = (int64_t) f->epoch},
        };
        EtcdOp failure[] = {{.type = ETCD_OP_RANGE, .key = leader_key}};
        return etcd_build_txn(cmp, ELEMENTSOF(cmp), ops, n_ops, failure, ELEMENTSOF(failure));
}

int fence_txn(const Fence *f, const EtcdOp *ops, size_t n_ops, FenceHolder *ret_holder)
{
        _cleanup_free_ char *leader_key = NULL;
        _cleanup_(etcd_txn_reply_done) EtcdTxnReply t = {};
        json_t *req, *reply = NULL;
        int r;

        if (!f || !f->client || !f->prefix || !f->node || f->epoch == 0)
                return -EINVAL;
        req = fence_build_txn(f, ops, n_ops);
        if (!req)
                return -ENOMEM;
        r = etcd_call(f->client, "/v3/kv/txn", req, f->timeout > 0 ? f->timeout : FENCE_DEFAULT_TIMEOUT,
                      &reply);
        json_decref(req);
        if (r < 0)
                return r;
        r = etcd_parse_txn(reply, &t);
        json_decref(reply);
        if (r < 0)
                return r;
        if (t.succeeded)
                return 0;
        if (ret_holder) {
                leader_key = xasprintf("%s/leader", f->prefix);
                *ret_holder = (FenceHolder){};
                for (size_t i = 0; i < t.n_kvs; i++)
                        if (streq(t.kvs[i].key, leader_key)) {
                                ret_holder->leader = xstrdup(t.kvs[i].value);
                                ret_holder->epoch = (uint64_t) t.kvs[i].create_revision;
                        }
        }
        return -ESTALE;
}
