/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * etcd.h — a small etcd v3 client over etcd's JSON gateway (POST /v3/..., keys and
 * values base64, 64-bit numbers as JSON strings, absent fields = false/0/empty).
 *
 * Owns: the endpoints list and which one answered last, TLS options, one curl easy
 * handle for synchronous calls (connection kept alive between calls) and, once
 * attached to an sd-event loop, one curl multi handle for asynchronous calls.
 * Request builders and reply parsers are pure (tested without etcd).
 * Does not own: what the keys mean (election.c, runrec.c), the loop.
 *
 * Two faces:
 *   - synchronous (etcd_call and the etcd_kv_… helpers): blocks for at most the
 *     deadline given; used by the run worker (fenced step writes) and tools;
 *   - asynchronous (etcd_call_async): the request runs on the sd-event loop through
 *     curl multi, so an unreachable etcd never stalls the loop; used by droverd's
 *     election.
 * Every call has a deadline. Endpoints are tried in turn, starting with the one
 * that answered last: a transport error or an HTTP 5xx moves on to the next one
 * (each attempt gets an equal share of the deadline, at least ETCD_ATTEMPT_MIN);
 * a 4xx answer is final.
 *
 * Errors: -ETIMEDOUT (deadline), -ECONNREFUSED/-EHOSTUNREACH (transport), -EAGAIN
 * (etcd answered 5xx: no leader, request timed out inside etcd), -ENOENT (gRPC
 * NOT_FOUND, e.g. an unknown lease), -EINVAL (other 4xx), -EBADMSG (unparsable reply),
 * -EKEYREJECTED (TLS handshake or certificate verification failed).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "shared/macros.h"
#include "shared/time-util.h"

#define ETCD_ATTEMPT_MIN (300 * USEC_PER_MSEC)

typedef struct ClusterConfig ClusterConfig;
typedef struct EtcdClient EtcdClient;
typedef struct EtcdRequest EtcdRequest;

typedef struct EtcdTls {
        const char *ca_file;   /* NULL = system trust store */
        const char *cert_file; /* client certificate and key, both or neither */
        const char *key_file;
} EtcdTls;

/* endpoints: NULL-terminated base URLs ("http://127.0.0.1:2379"), copied. */
int etcd_client_new(EtcdClient **ret, char *const *endpoints, const EtcdTls *tls);
int etcd_client_new_from_config(EtcdClient **ret, const ClusterConfig *cfg);
EtcdClient *etcd_client_free(EtcdClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdClient *, etcd_client_free);
/* The endpoint that answered last (for messages). */
const char *etcd_client_current_endpoint(const EtcdClient *c);

/* ---- raw calls: path is "/v3/kv/txn" etc., req is not stolen ---- */

int etcd_call(EtcdClient *c, const char *path, json_t *req, usec_t timeout, json_t **ret_reply);

/* Asynchronous: needs etcd_client_attach_event() first. cb runs exactly once, from
 * the loop (never from inside etcd_call_async), unless the request is cancelled or the
 * client freed first. reply is borrowed for the callback (NULL when error < 0). */
typedef void (*EtcdCallback)(EtcdClient *c, int error, json_t *reply, void *userdata);
int etcd_client_attach_event(EtcdClient *c, sd_event *e);
int etcd_call_async(EtcdClient *c, const char *path, json_t *req, usec_t timeout, EtcdCallback cb,
                    void *userdata, EtcdRequest **ret);
/* Called with the userdata when the request goes without its callback having run
 * (cancelled, or the client freed): for userdata the callback would have freed. */
void etcd_request_set_destroy(EtcdRequest *r, void (*destroy)(void *userdata));
/* Cancel a request whose callback has not run yet; its callback never runs. NULL is fine. */
void etcd_request_cancel(EtcdRequest *r);
/* Requests in flight (tests, shutdown). */
size_t etcd_client_pending(const EtcdClient *c);

/* ---- data ---- */

typedef struct EtcdKv {
        char *key;
        char *value; /* NUL-terminated copy; value_len bytes (values may hold NULs) */
        size_t value_len;
        int64_t create_revision;
        int64_t mod_revision;
        int64_t version;
        int64_t lease;
} EtcdKv;

void etcd_kv_done(EtcdKv *kv);
void etcd_kvs_free(EtcdKv *kvs, size_t n);

typedef enum EtcdCompareTarget {
        ETCD_COMPARE_VERSION,
        ETCD_COMPARE_CREATE,
        ETCD_COMPARE_MOD,
        ETCD_COMPARE_VALUE,
        ETCD_COMPARE_LEASE,
        _ETCD_COMPARE_TARGET_MAX,
        _ETCD_COMPARE_TARGET_INVALID = -EINVAL,
} EtcdCompareTarget;

typedef enum EtcdCompareResult {
        ETCD_RESULT_EQUAL,
        ETCD_RESULT_GREATER,
        ETCD_RESULT_LESS,
        ETCD_RESULT_NOT_EQUAL,
        _ETCD_COMPARE_RESULT_MAX,
        _ETCD_COMPARE_RESULT_INVALID = -EINVAL,
} EtcdCompareResult;

typedef struct EtcdCompare {
        const char *key;
        EtcdCompareTarget target;
        EtcdCompareResult result;
        int64_t number;    /* VERSION, CREATE, MOD, LEASE */
        const char *value; /* VALUE */
} EtcdCompare;

typedef enum EtcdOpType {
        ETCD_OP_PUT,
        ETCD_OP_RANGE,
        ETCD_OP_DELETE,
        _ETCD_OP_TYPE_MAX,
        _ETCD_OP_TYPE_INVALID = -EINVAL,
} EtcdOpType;

typedef struct EtcdOp {
        EtcdOpType type;
        const char *key;
        const char *value; /* PUT */
        int64_t lease;     /* PUT: 0 = none */
        bool prefix;       /* RANGE, DELETE: every key starting with key */
} EtcdOp;

typedef struct EtcdTxnReply {
        bool succeeded;
        int64_t revision; /* the store's revision after the txn */
        EtcdKv *kvs;      /* from every range response, in order */
        size_t n_kvs;
} EtcdTxnReply;

void etcd_txn_reply_done(EtcdTxnReply *r);

/* ---- pure request builders and reply parsers ---- */

char *etcd_base64_encode(const void *data, size_t len);
/* Returns the decoded length or -EBADMSG; *ret is NUL-terminated. */
ssize_t etcd_base64_decode(const char *s, char **ret);
/* "a/b/" → "a/b0": the range end that selects every key starting with prefix. */
char *etcd_prefix_end(const char *prefix);

json_t *etcd_build_lease_grant(int64_t ttl_sec);
json_t *etcd_build_lease_id(int64_t lease); /* keepalive, revoke, timetolive */
json_t *etcd_build_range(const char *key, bool prefix);
json_t *etcd_build_put(const char *key, const char *value, int64_t lease);
json_t *etcd_build_txn(const EtcdCompare *cmp, size_t n_cmp, const EtcdOp *success, size_t n_success,
                       const EtcdOp *failure, size_t n_failure);

int etcd_parse_lease_grant(json_t *reply, int64_t *ret_id, int64_t *ret_ttl);
/* ret_ttl 0 means the lease is gone (expired or revoked). */
int etcd_parse_keepalive(json_t *reply, int64_t *ret_ttl);
int etcd_parse_range(json_t *reply, EtcdKv **ret_kvs, size_t *ret_n, int64_t *ret_revision);
int etcd_parse_txn(json_t *reply, EtcdTxnReply *ret);
int etcd_parse_revision(json_t *reply, int64_t *ret);
/* A JSON string or number holding a 64-bit integer; absent = 0. */
int etcd_json_int64(json_t *v, int64_t *ret);

/* ---- synchronous conveniences ---- */

int etcd_lease_grant(EtcdClient *c, int64_t ttl_sec, usec_t timeout, int64_t *ret_id);
/* 0 and the remaining TTL, or -ENOENT when the lease is gone. */
int etcd_lease_keepalive(EtcdClient *c, int64_t lease, usec_t timeout, int64_t *ret_ttl);
int etcd_lease_revoke(EtcdClient *c, int64_t lease, usec_t timeout);
int etcd_put(EtcdClient *c, const char *key, const char *value, int64_t lease, usec_t timeout);
int etcd_range(EtcdClient *c, const char *key, bool prefix, usec_t timeout, EtcdKv **ret_kvs, size_t *ret_n);
int etcd_txn(EtcdClient *c, const EtcdCompare *cmp, size_t n_cmp, const EtcdOp *success, size_t n_success,
             const EtcdOp *failure, size_t n_failure, usec_t timeout, EtcdTxnReply *ret);
/* Names of the cluster's members (NULL-terminated), as etcd lists them. */
int etcd_member_list(EtcdClient *c, usec_t timeout, char ***ret_names);
