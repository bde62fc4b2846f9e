/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * etcd.c — the etcd v3 JSON-gateway client (see etcd.h): base64, request builders,
 * reply parsers, synchronous calls on one kept-alive curl easy handle, asynchronous
 * calls on a curl multi joined to sd-event (shared/curl-event.c, the glue the prober
 * and the notifier use too).
 *
 * Owns: curl handles, endpoint rotation, deadlines. Does not own: key layout or
 * meaning. Called by election.c, fence.c/runrec.c, tests and bench.
 */
#include <errno.h>
#include <string.h>

#include <curl/curl.h>

#include "cluster/etcd.h"
#include "config/config.h"
#include "shared/curl-event.h"
#include "shared/strbuf.h"

#define ETCD_REPLY_MAX (16 * 1024 * 1024)

struct EtcdClient {
        char **endpoints;
        size_t n_endpoints;
        size_t current; /* the endpoint that answered last */
        char *ca_file, *cert_file, *key_file;

        CURL *easy; /* synchronous calls */
        struct curl_slist *headers;

        sd_event *event;
        CurlEvent *ce;         /* the asynchronous calls' multi on the loop (shared/curl-event.c) */
        EtcdRequest *requests; /* in flight, doubly linked */
        size_t n_requests;
};

struct EtcdRequest {
        EtcdClient *client;
        EtcdRequest *prev, *next;
        CURL *easy;
        char *path;
        char *body;
        StrBuf reply;
        usec_t deadline; /* CLOCK_MONOTONIC */
        size_t attempt;  /* attempts made so far */
        size_t endpoint; /* index being tried */
        EtcdCallback cb;
        void *userdata;
        void (*destroy)(void *userdata);
        sd_event_source *defer; /* delivery from the loop when no attempt can start */
        int error;
};

/* ---- base64 -------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_base64_encode(const void *data, size_t len)
{
        const unsigned char *p = data;
        char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t) p[i + 1] << 8;
                if (i + 2 < len)
                        v |= p[i + 2];
                *o++ = b64[(v >> 18) & 63];
                *o++ = b64[(v >> 12) & 63];
                *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? b64[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static int b64_value(char c)
{
        const char *p = c ? strchr(b64, c) : NULL;
        return p ? (int) (p - b64) : -1;
}

ssize_t etcd_base64_decode(const char *s, char **ret)
{
        size_t n = strlen(s), k = 0;
        uint32_t acc = 0;
        unsigned bits = 0;
        char *out;

        while (n > 0 && s[n - 1] == '=')
                n--;
        out = xmalloc(n / 4 * 3 + 4);
        for (size_t i = 0; i < n; i++) {
                int v = b64_value(s[i]);
                if (v < 0) {
                        free(out);
                        return -EBADMSG;
                }
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[k++] = (char) ((acc >> bits) & 0xFF);
                }
        }
        out[k] = '\0';
        *ret = out;
        return (ssize_t) k;
}

char *etcd_prefix_end(const char *prefix)
{
        size_t n = strlen(prefix);
        char *e = xstrdup(prefix);

        /* Increment the last byte that is not 0xff; all 0xff (or empty) = "\0": every key. */
        while (n > 0) {
                if ((unsigned char) e[n - 1] < 0xFF) {
                        e[n - 1]++;
                        e[n] = '\0';
                        return e;
                }
                n--;
        }
        e[0] = '\0';
        return e;
}

/* ---- builders --------------------------------------------------------------------- */

static json_t *json_b64(const char *s)
{
        _cleanup_free_ char *e = etcd_base64_encode(s, strlen(s));
        return json_string(e);
}

static json_t *json_i64(int64_t v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long) v);
        return json_string(buf);
}

json_t *etcd_build_lease_grant(int64_t ttl_sec)
{
        return json_pack("{s:o}", "TTL", json_i64(ttl_sec));
}

json_t *etcd_build_lease_id(int64_t lease)
{
        return json_pack("{s:o}", "ID", json_i64(lease));
}

json_t *etcd_build_range(const char *key, bool prefix)
{
        json_t *o = json_pack("{s:o}", "key", json_b64(key));
        if (prefix) {
                _cleanup_free_ char *end = etcd_prefix_end(key);
                /* An empty range end (all keys) is the single byte "\0". */
                json_object_set_new(o, "range_end", end[0] ? json_b64(end) : json_string("AA=="));
        }
        return o;
}

json_t *etcd_build_put(const char *key, const char *value, int64_t lease)
{
        json_t *o = json_pack("{s:o,s:o}", "key", json_b64(key), "value", json_b64(value));
        if (lease != 0)
                json_object_set_new(o, "lease", json_i64(lease));
        return o;
}

static const char *const compare_target_table[_ETCD_COMPARE_TARGET_MAX] = {
        [ETCD_COMPARE_VERSION] = "VERSION", [ETCD_COMPARE_CREATE] = "CREATE", [ETCD_COMPARE_MOD] = "MOD",
        [ETCD_COMPARE_VALUE] = "VALUE",     [ETCD_COMPARE_LEASE] = "LEASE",
};
static const char *const compare_result_table[_ETCD_COMPARE_RESULT_MAX] = {
        [ETCD_RESULT_EQUAL] = "EQUAL",
        [ETCD_RESULT_GREATER] = "GREATER",
        [ETCD_RESULT_LESS] = "LESS",
        [ETCD_RESULT_NOT_EQUAL] = "NOT_EQUAL",
};

static json_t *build_ops(const EtcdOp *ops, size_t n)
{
        json_t *a = json_array();

        for (size_t i = 0; i < n; i++) {
                const EtcdOp *op = &ops[i];
                json_t *inner;
                switch (op->type) {
                case ETCD_OP_PUT:
                        json_array_append_new(a, json_pack("{s:o}", "requestPut",
                                                           etcd_build_put(op->key, op->value, op->lease)));
                        break;
                case ETCD_OP_RANGE:
                        json_array_append_new(a, json_pack("{s:o}", "requestRange",
                                                           etcd_build_range(op->key, op->prefix)));
                        break;
                case ETCD_OP_DELETE:
                        inner = etcd_build_range(op->key, op->prefix);
                        json_array_append_new(a, json_pack("{s:o}", "requestDeleteRange", inner));
                        break;
                default:
                        break;
                }
        }
        return a;
}

json_t *etcd_build_txn(const EtcdCompare *cmp, size_t n_cmp, const EtcdOp *success, size_t n_success,
                       const EtcdOp *failure, size_t n_failure)
{
        json_t *c = json_array();

        for (size_t i = 0; i < n_cmp; i++) {
                const EtcdCompare *x = &cmp[i];
                json_t *o = json_pack("{s:o,s:s,s:s}", "key", json_b64(x->key), "target",
                                      compare_target_table[x->target], "result",
                                      compare_result_table[x->result]);
                switch (x->target) {
                case ETCD_COMPARE_VERSION:
                        json_object_set_new(o, "version", json_i64(x->number));
                        break;
                case ETCD_COMPARE_CREATE:
                        json_object_set_new(o, "createRevision", json_i64(x->number));
                        break;
                case ETCD_COMPARE_MOD:
                        json_object_set_new(o, "modRevision", json_i64(x->number));
                        break;
                case ETCD_COMPARE_VALUE:
                        json_object_set_new(o, "value", json_b64(strempty(x->value)));
                        break;
                case ETCD_COMPARE_LEASE:
                        json_object_set_new(o, "lease", json_i64(x->number));
                        break;
                default:
                        break;
                }
                json_array_append_new(c, o);
        }
        return json_pack("{s:o,s:o,s:o}", "compare", c, "success", build_ops(success, n_success), "failure",
                         build_ops(failure, n_failure));
}

/* ---- parsers ------------------------------------------------------------------- */

int etcd_json_int64(json_t *v, int64_t *ret)
{
        if (!v || json_is_null(v)) {
                *ret = 0;
                return 0;
        }
        if (json_is_integer(v)) {
                *ret = (int64_t) json_integer_value(v);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                char *end;
                errno = 0;
                long long x = strtoll(s, &end, 10);
                if (errno != 0 || end == s || *end != '\0')
                        return -EBADMSG;
                *ret = (int64_t) x;
                return 0;
        }
        return -EBADMSG;
}

int etcd_parse_revision(json_t *reply, int64_t *ret)
{
        return etcd_json_int64(json_object_get(json_object_get(reply, "header"), "revision"), ret);
}

void etcd_kv_done(EtcdKv *kv)
{
        if (!kv)
                return;
        free(kv->key);
        free(kv->value);
        *kv = (EtcdKv){};
}

void etcd_kvs_free(EtcdKv *kvs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                etcd_kv_done(&kvs[i]);
        free(kvs);
}

void etcd_txn_reply_done(EtcdTxnReply *r)
{
        if (!r)
                return;
        etcd_kvs_free(r->kvs, r->n_kvs);
        *r = (EtcdTxnReply){};
}

static int parse_kvs(json_t *kvs, EtcdKv **array, size_t *n)
{
        size_t i;
        json_t *o;

        if (!kvs)
                return 0;
        if (!json_is_array(kvs))
                return -EBADMSG;
        json_array_foreach(kvs, i, o)
        {
                EtcdKv *kv = array_push(array, n, sizeof(EtcdKv));
                json_t *k = json_object_get(o, "key"), *v = json_object_get(o, "value");
                ssize_t len;
                int r;

                if (!json_is_string(k))
                        return -EBADMSG;
                if (etcd_base64_decode(json_string_value(k), &kv->key) < 0)
                        return -EBADMSG;
                len = etcd_base64_decode(json_is_string(v) ? json_string_value(v) : "", &kv->value);
                if (len < 0)
                        return -EBADMSG;
                kv->value_len = (size_t) len;
                r = etcd_json_int64(json_object_get(o, "create_revision"), &kv->create_revision);
                if (r >= 0)
                        r = etcd_json_int64(json_object_get(o, "mod_revision"), &kv->mod_revision);
                if (r >= 0)
                        r = etcd_json_int64(json_object_get(o, "version"), &kv->version);
                if (r >= 0)
                        r = etcd_json_int64(json_object_get(o, "lease"), &kv->lease);
                if (r < 0)
                        return r;
        }
        return 0;
}

int etcd_parse_lease_grant(json_t *reply, int64_t *ret_id, int64_t *ret_ttl)
{
        int64_t id, ttl;

        if (etcd_json_int64(json_object_get(reply, "ID"), &id) < 0 ||
            etcd_json_int64(json_object_get(reply, "TTL"), &ttl) < 0)
                return -EBADMSG;
        if (json_is_string(json_object_get(reply, "error")))
                return -EINVAL;
        if (id == 0 || ttl <= 0)
                return -EBADMSG;
        *ret_id = id;
        if (ret_ttl)
                *ret_ttl = ttl;
        return 0;
}

int etcd_parse_keepalive(json_t *reply, int64_t *ret_ttl)
{
        json_t *res = json_object_get(reply, "result");

        /* The gateway streams: {"result": {...}}; an error arrives as {"error": {...}}. */
        if (!res) {
                if (json_object_get(reply, "error"))
                        return -EAGAIN;
                res = reply;
        }
        return etcd_json_int64(json_object_get(res, "TTL"), ret_ttl) < 0 ? -EBADMSG : 0;
}

int etcd_parse_range(json_t *reply, EtcdKv **ret_kvs, size_t *ret_n, int64_t *ret_revision)
{
        EtcdKv *kvs = NULL;
        size_t n = 0;
        int r;

        r = parse_kvs(json_object_get(reply, "kvs"), &kvs, &n);
        if (r < 0) {
                etcd_kvs_free(kvs, n);
                return r;
        }
        if (ret_revision && etcd_parse_revision(reply, ret_revision) < 0) {
                etcd_kvs_free(kvs, n);
                return -EBADMSG;
        }
        *ret_kvs = kvs;
        *ret_n = n;
        return 0;
}

int etcd_parse_txn(json_t *reply, EtcdTxnReply *ret)
{
        EtcdTxnReply t = {};
        json_t *responses, *o;
        size_t i;
        int r;

        if (!json_is_object(reply) || !json_object_get(reply, "header"))
                return -EBADMSG;
        t.succeeded = json_is_true(json_object_get(reply, "succeeded"));
        r = etcd_parse_revision(reply, &t.revision);
        if (r < 0)
                return r;
        responses = json_object_get(reply, "responses");
        json_array_foreach(responses, i, o)
        {
                json_t *rr = json_object_get(o, "response_range");
                if (!rr)
                        continue;
                r = parse_kvs(json_object_get(rr, "kvs"), &t.kvs, &t.n_kvs);
                if (r < 0) {
                        etcd_txn_reply_done(&t);
                        return r;
                }
        }
        *ret = t;
        return 0;
}

/* ---- the client ------------------------------------------------------------------ */

int etcd_client_new(EtcdClient **ret, char *const *endpoints, const EtcdTls *tls)
{
        EtcdClient *c;
        size_t n = 0;

        if (!endpoints || !endpoints[0])
                return -EINVAL;
        while (endpoints[n])
                n++;
        c = xcalloc(1, sizeof(EtcdClient));
        c->endpoints = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                c->endpoints[i] = xstrdup(endpoints[i]);
        c->n_endpoints = n;
        if (tls) {
                c->ca_file = xstrdup(tls->ca_file);
                c->cert_file = xstrdup(tls->cert_file);
                c->key_file = xstrdup(tls->key_file);
        }
        c->headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (!c->headers) {
                etcd_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int etcd_client_new_from_config(EtcdClient **ret, const ClusterConfig *cfg)
{
        EtcdTls tls = {.ca_file = cfg->ca_file, .cert_file = cfg->cert_file, .key_file = cfg->key_file};
        return etcd_client_new(ret, cfg->endpoints, &tls);
}

const char *etcd_client_current_endpoint(const EtcdClient *c)
{
        return c->endpoints[c->current];
}

size_t etcd_client_pending(const EtcdClient *c)
{
        return c->n_requests;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        StrBuf *b = userdata;
        size_t n = size * nmemb;

        if (b->len + n > ETCD_REPLY_MAX)
                return 0; /* curl fails the transfer */
        strbuf_append(b, ptr, n);
        return n;
}

static int easy_setup(EtcdClient *c, CURL *e, const char *endpoint, const char *path, const char *body,
                      usec_t attempt_timeout, StrBuf *reply)
{
        _cleanup_free_ char *url = xasprintf("%s%s", endpoint, path);
        long ms = (long) MAX(attempt_timeout / USEC_PER_MSEC, 1);

        if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, reply) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK)
                return -EINVAL;
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form; the bitmask is deprecated there */
        if (curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
                return -EINVAL;
#else
        if (curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK)
                return -EINVAL;
#endif
        /* Never a proxy: etcd is reached directly whatever the environment says. */
        if (curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK)
                return -EINVAL;
        if (c->ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK)
                return -EINVAL;
        if (c->cert_file && (curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file) != CURLE_OK ||
                             curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file) != CURLE_OK))
                return -EINVAL;
        return 0;
}

static int curl_code_to_errno(CURLcode code)
{
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
                return -EHOSTUNREACH;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
                return -EKEYREJECTED; /* TLS: wrong CA, certificate refused */
        case CURLE_WRITE_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

/* Judge one attempt. Returns 0 with *ret_reply, a final error (<0, *final set) or a
 * retryable error (<0, *final false: try the next endpoint). */
static int judge(CURLcode code, long status, const StrBuf *body, json_t **ret_reply, bool *final)
{
        json_t *j;

        *final = false;
        if (code != CURLE_OK)
                return curl_code_to_errno(code);
        if (status >= 500)
                return -EAGAIN;
        j = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
        if (status >= 400 || status < 200) {
                int64_t grpc = 0;
                *final = true;
                if (j)
                        (void) etcd_json_int64(json_object_get(j, "code"), &grpc);
                json_decref(j);
                if (grpc == 14 || grpc == 4) /* UNAVAILABLE, DEADLINE_EXCEEDED: another member may do */
                        *final = false;
                return grpc == 5 ? -ENOENT : grpc == 14 || grpc == 4 ? -EAGAIN : -EINVAL;
        }
        if (!j || !json_is_object(j)) {
                json_decref(j);
                *final = true;
                return -EBADMSG;
        }
        /* A streamed error (keepalive) comes with status 200. */
        json_t *err = json_object_get(j, "error");
        if (json_is_object(err)) {
                int64_t grpc = 0;
                (void) etcd_json_int64(json_object_get(err, "grpc_code"), &grpc);
                json_decref(j);
                *final = grpc == 5;
                return grpc == 5 ? -ENOENT : -EAGAIN;
        }
        *ret_reply = j;
        *final = true;
        return 0;
}

static usec_t attempt_budget(const EtcdClient *c, usec_t remaining, size_t attempts_left)
{
        usec_t share = attempts_left > 0 ? remaining / attempts_left : remaining;
        return MIN(MAX(share, ETCD_ATTEMPT_MIN), remaining);
}

int etcd_call(EtcdClient *c, const char *path, json_t *req, usec_t timeout, json_t **ret_reply)
{
        _cleanup_free_ char *body = NULL;
        usec_t deadline = usec_add(now_usec(CLOCK_MONOTONIC), timeout);
        int r = -ETIMEDOUT;

        body = json_dumps(req, JSON_COMPACT);
        if (!body)
                return -ENOMEM;
        if (!c->easy) {
                c->easy = curl_easy_init();
                if (!c->easy)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < c->n_endpoints; i++) {
                size_t idx = (c->current + i) % c->n_endpoints;
                usec_t now = now_usec(CLOCK_MONOTONIC);
                StrBuf reply = STRBUF_INIT;
                long status = 0;
                bool final;
                CURLcode code;

                if (now >= deadline)
                        break;
                r = easy_setup(c, c->easy, c->endpoints[idx], path, body,
                               attempt_budget(c, deadline - now, c->n_endpoints - i), &reply);
                if (r < 0) {
                        strbuf_done(&reply);
                        return r;
                }
                code = curl_easy_perform(c->easy);
                (void) curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
                r = judge(code, status, &reply, ret_reply, &final);
                strbuf_done(&reply);
                if (r >= 0 || final) {
                        c->current = idx;
                        return r;
                }
        }
        return r;
}

/* ---- asynchronous: curl multi on sd-event ---------------------------------------- */

static void request_start_attempt(EtcdRequest *q);

static void request_unlink(EtcdRequest *q)
{
        EtcdClient *c = q->client;

        if (q->prev)
                q->prev->next = q->next;
        else if (c->requests == q)
                c->requests = q->next;
        if (q->next)
                q->next->prev = q->prev;
        q->prev = q->next = NULL;
        c->n_requests--;
}

static void request_free(EtcdRequest *q)
{
        if (!q)
                return;
        if (q->easy) {
                curl_event_remove(q->client->ce, q->easy);
                curl_easy_cleanup(q->easy);
        }
        q->defer = sd_event_source_disable_unref(q->defer);
        free(q->path);
        free(q->body);
        strbuf_done(&q->reply);
        free(q);
}

static void request_complete(EtcdRequest *q, int error, json_t *reply)
{
        EtcdCallback cb = q->cb;
        void *userdata = q->userdata;
        EtcdClient *c = q->client;

        request_unlink(q);
        request_free(q);
        if (cb)
                cb(c, error, reply, userdata);
        json_decref(reply);
}

static int defer_cb(sd_event_source *s, void *userdata)
{
        EtcdRequest *q = userdata;
        request_complete(q, q->error, NULL);
        return 0;
}

/* Finish from the loop, never from inside the caller's stack. */
static void request_fail_later(EtcdRequest *q, int error)
{
        q->error = error;
        if (q->defer || sd_event_add_defer(q->client->event, &q->defer, defer_cb, q) < 0) {
                /* Cannot defer (out of memory): the request stays until cancelled. */
                return;
        }
}

static void request_start_attempt(EtcdRequest *q)
{
        EtcdClient *c = q->client;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (q->attempt >= c->n_endpoints || now >= q->deadline) {
                request_fail_later(q, q->error < 0 ? q->error : -ETIMEDOUT);
                return;
        }
        q->endpoint = (c->current + q->attempt) % c->n_endpoints;
        strbuf_reset(&q->reply);
        if (!q->easy) {
                q->easy = curl_easy_init();
                if (!q->easy) {
                        request_fail_later(q, -ENOMEM);
                        return;
                }
        } else
                curl_event_remove(c->ce, q->easy);
        r = easy_setup(c, q->easy, c->endpoints[q->endpoint], q->path, q->body,
                       attempt_budget(c, q->deadline - now, c->n_endpoints - q->attempt), &q->reply);
        q->attempt++;
        if (r < 0) {
                request_fail_later(q, r);
                return;
        }
        (void) curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q);
        if (curl_event_add(c->ce, q->easy) < 0)
                request_fail_later(q, -ENOMEM);
}

/* An attempt ended (the easy handle is out of the multi already): an answer, a final
 * refusal, or on to the next endpoint. */
static void on_transfer_done(CurlEvent *ce, CURL *easy, CURLcode code, void *userdata)
{
        EtcdRequest *q = NULL;
        json_t *reply = NULL;
        long status = 0;
        bool final;
        int r;

        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &q);
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (!q)
                return;
        r = judge(code, status, &q->reply, &reply, &final);
        if (r >= 0 || final) {
                q->client->current = q->endpoint;
                request_complete(q, r, reply);
                return;
        }
        q->error = r;
        request_start_attempt(q);
}

int etcd_client_attach_event(EtcdClient *c, sd_event *e)
{
        int r;

        if (c->event)
                return c->event == e ? 0 : -EBUSY;
        r = curl_event_new(&c->ce, e, on_transfer_done, c);
        if (r < 0)
                return r;
        c->event = sd_event_ref(e);
        return 0;
}

int etcd_call_async(EtcdClient *c, const char *path, json_t *req, usec_t timeout, EtcdCallback cb,
                    void *userdata, EtcdRequest **ret)
{
        EtcdRequest *q;
        char *body;

        if (!c->event)
                return -ENXIO;
        body = json_dumps(req, JSON_COMPACT);
        if (!body)
                return -ENOMEM;
        q = xcalloc(1, sizeof(EtcdRequest));
        q->client = c;
        q->path = xstrdup(path);
        q->body = body;
        q->cb = cb;
        q->userdata = userdata;
        q->deadline = usec_add(now_usec(CLOCK_MONOTONIC), timeout);
        q->reply.limit = 0;
        q->next = c->requests;
        if (c->requests)
                c->requests->prev = q;
        c->requests = q;
        c->n_requests++;
        request_start_attempt(q);
        if (ret)
                *ret = q;
        return 0;
}

void etcd_request_set_destroy(EtcdRequest *q, void (*destroy)(void *userdata))
{
        q->destroy = destroy;
}

void etcd_request_cancel(EtcdRequest *q)
{
        if (!q)
                return;
        request_unlink(q);
        if (q->destroy)
                q->destroy(q->userdata);
        request_free(q);
}

EtcdClient *etcd_client_free(EtcdClient *c)
{
        if (!c)
                return NULL;
        while (c->requests)
                etcd_request_cancel(c->requests);
        curl_event_free(c->ce);
        sd_event_unref(c->event);
        if (c->easy)
                curl_easy_cleanup(c->easy);
        curl_slist_free_all(c->headers);
        strv_free(c->endpoints);
        free(c->ca_file);
        free(c->cert_file);
        free(c->key_file);
        free(c);
        return NULL;
}

/* ---- synchronous conveniences ------------------------------------------------------ */

static int call_steal(EtcdClient *c, const char *path, json_t *req, usec_t timeout, json_t **ret)
{
        int r;

        if (!req)
                return -ENOMEM;
        r = etcd_call(c, path, req, timeout, ret);
        json_decref(req);
        return r;
}

int etcd_lease_grant(EtcdClient *c, int64_t ttl_sec, usec_t timeout, int64_t *ret_id)
{
        json_t *reply = NULL;
        int r = call_steal(c, "/v3/lease/grant", etcd_build_lease_grant(ttl_sec), timeout, &reply);

        if (r < 0)
                return r;
        r = etcd_parse_lease_grant(reply, ret_id, NULL);
        json_decref(reply);
        return r;
}

int etcd_lease_keepalive(EtcdClient *c, int64_t lease, usec_t timeout, int64_t *ret_ttl)
{
        json_t *reply = NULL;
        int64_t ttl = 0;
        int r = call_steal(c, "/v3/lease/keepalive", etcd_build_lease_id(lease), timeout, &reply);

        if (r < 0)
                return r;
        r = etcd_parse_keepalive(reply, &ttl);
        json_decref(reply);
        if (r < 0)
                return r;
        if (ttl <= 0)
                return -ENOENT;
        if (ret_ttl)
                *ret_ttl = ttl;
        return 0;
}

int etcd_lease_revoke(EtcdClient *c, int64_t lease, usec_t timeout)
{
        json_t *reply = NULL;
        int r = call_steal(c, "/v3/lease/revoke", etcd_build_lease_id(lease), timeout, &reply);

        json_decref(reply);
        return r;
}

int etcd_put(EtcdClient *c, const char *key, const char *value, int64_t lease, usec_t timeout)
{
        json_t *reply = NULL;
        int r = call_steal(c, "/v3/kv/put", etcd_build_put(key, value, lease), timeout, &reply);

        json_decref(reply);
        return r;
}

int etcd_range(EtcdClient *c, const char *key, bool prefix, usec_t timeout, EtcdKv **ret_kvs, size_t *ret_n)
{
        json_t *reply = NULL;
        int r = call_steal(c, "/v3/kv/range", etcd_build_range(key, prefix), timeout, &reply);

        if (r < 0)
                return r;
        r = etcd_parse_range(reply, ret_kvs, ret_n, NULL);
        json_decref(reply);
        return r;
}

int etcd_txn(EtcdClient *c, const EtcdCompare *cmp, size_t n_cmp, const EtcdOp *success, size_t n_success,
             const EtcdOp *failure, size_t n_failure, usec_t timeout, EtcdTxnReply *ret)
{
        json_t *reply = NULL;
        int r = call_steal(c, "/v3/kv/txn",
                           etcd_build_txn(cmp, n_cmp, success, n_success, failure, n_failure), timeout,
                           &reply);

        if (r < 0)
                return r;
        r = etcd_parse_txn(reply, ret);
        json_decref(reply);
        return r;
}

int etcd_member_list(EtcdClient *c, usec_t timeout, char ***ret_names)
{
        json_t *reply = NULL, *members, *m;
        char **names;
        size_t i, n = 0;
        int r = call_steal(c, "/v3/cluster/member/list", json_object(), timeout, &reply);

        if (r < 0)
                return r;
        members = json_object_get(reply, "members");
        names = xcalloc(json_array_size(members) + 1, sizeof(char *));
        json_array_foreach(members, i, m)
        {
                const char *name = json_string_value(json_object_get(m, "name"));
                names[n++] = xstrdup(name ? name : "");
        }
        json_decref(reply);
        *ret_names = names;
        return 0;
}
