/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe-http.c — HTTP and vendor-metric checks on curl multi handles driven by the
 * prober's sd-event loop (CURLMOPT_SOCKETFUNCTION → io sources, CURLMOPT_TIMERFUNCTION →
 * one timer source per multi, curl_multi_socket_action on events, curl_multi_info_read
 * for completions). No thread per probe: 10,000 probes are 10,000 easy handles and one
 * loop.
 *
 * Each probe owns one easy handle, configured once at add time and re-added to its
 * multi for every check, so nothing is set up per check. Connections live in the
 * multi's pool (sized to its probes), so a probe's next check reuses an idle keep-alive
 * connection to the same host instead of connecting again.
 *
 * Why several multi handles and not one: libcurl up to 8.10 walks the multi's whole
 * connection pool in every curl_multi_remove_handle() (close_connect_only, via
 * Curl_conncache_foreach), i.e. once per finished check. With 10,000 distinct targets
 * kept alive that is 10^8 steps a second and the loop collapses (measured with
 * bench/probe-capacity -p 4000 on curl 7.88). Probes are therefore split into
 * shards of PROBER_SHARD_PROBES, each with its own multi handle and pool; all of them
 * run in the same loop, on the same thread.
 *
 * The multi handles' loop glue (sockets, timer, completions) is curl-event.c, shared
 * with droverd's notifier.
 *
 * Owns: the shards, the easy handles, judging an HTTP answer into a ProbeOutcome.
 * Does not own: scheduling (prober.c), secrets (headers arrive expanded; never logged).
 * Called by prober.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/curl-endpoint.h"
#include "shared/curl-event.h"
#include "monitor/prober-internal.h"

/* Probes per multi handle: bounds the pool walk of curl_multi_remove_handle(). */
#define PROBER_SHARD_PROBES 256U
/* Idle connections a pool keeps beyond one per probe. */
#define POOL_SLACK 4L

struct CurlShard {
        CurlEvent *ce;             /* its multi handle on the loop (curl-event.c) */
        size_t n_probes;
        bool kick;                 /* checks were added without letting curl run them yet */
};

static void http_finish(Probe *pr, CURLcode code);

static void shard_done(CurlEvent *ce, CURL *easy, CURLcode code, void *userdata)
{
        Probe *pr = NULL;

        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &pr);
        if (pr)
                http_finish(pr, code);
}

static CurlShard *shard_free(CurlShard *sh)
{
        if (!sh)
                return NULL;
        /* Easy handles were removed by probe_http_free(). */
        curl_event_free(sh->ce);
        free(sh);
        return NULL;
}

static int shard_new(Prober *p, CurlShard **ret)
{
        CurlShard *sh = xcalloc(1, sizeof(*sh));
        int r;

        r = curl_event_new(&sh->ce, p->event, shard_done, sh);
        if (r < 0) {
                free(sh);
                return r;
        }
        *ret = sh;
        return 0;
}

/* The shard with room, or a new one. */
static int shard_pick(Prober *p, CurlShard **ret)
{
        CurlShard *sh;
        int r;

        if (p->n_shards > 0 && p->shards[p->n_shards - 1]->n_probes < PROBER_SHARD_PROBES) {
                *ret = p->shards[p->n_shards - 1];
                return 0;
        }
        r = shard_new(p, &sh);
        if (r < 0)
                return r;
        p->shards = xrealloc(p->shards, (p->n_shards + 1) * sizeof(CurlShard *));
        p->shards[p->n_shards++] = sh;
        *ret = sh;
        return 0;
}

int prober_http_init(Prober *p)
{
        /* Thread-safe and reference-counted since curl 7.84; paired in prober_http_done(). */
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void prober_http_done(Prober *p)
{
        for (size_t i = 0; i < p->n_shards; i++)
                shard_free(p->shards[i]);
        free(p->shards);
        p->shards = NULL;
        p->n_shards = 0;
        curl_global_cleanup();
}

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        Probe *pr = userdata;

        /* Only what body_regex or the JSON field needs is kept (up to PROBER_BODY_MAX). */
        if (pr->want_body)
                strbuf_append(&pr->body, ptr, size * nmemb);
        return size * nmemb;
}

int probe_http_setup(Probe *pr, const ProbeSpec *spec)
{
        const Endpoint *ep = spec->endpoint;
        CURL *c;
        int r;

        if (!spec->url || (strncmp(spec->url, "http://", 7) != 0 && strncmp(spec->url, "https://", 8) != 0))
                return -EINVAL;

        r = shard_pick(pr->prober, &pr->shard);
        if (r < 0)
                return r;
        c = pr->easy = curl_easy_init();
        if (!c)
                return -ENOMEM;

        for (char *const *h = spec->headers; h && *h; h++) {
                struct curl_slist *n = curl_slist_append(pr->headers, *h);
                if (!n)
                        return -ENOMEM;
                pr->headers = n;
        }

        pr->body.limit = PROBER_BODY_MAX;
        pr->want_body = pr->re || pr->kind == PROBE_KIND_VENDOR_METRIC;

#define SET(opt, val)                                                                                      \
        do {                                                                                               \
                if (curl_easy_setopt(c, opt, val) != CURLE_OK)                                             \
                        return -EINVAL;                                                                    \
        } while (0)

        SET(CURLOPT_URL, spec->url);
        SET(CURLOPT_PRIVATE, pr);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_TIMEOUT_MS, (long) MAX(spec->timeout / USEC_PER_MSEC, 1));
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long) MAX(spec->timeout / USEC_PER_MSEC, 1));
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
        SET(CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        /* A probe judges the answer of the URL it was given: a redirect is an answer
         * (a 3xx status), not something to chase. */
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_WRITEFUNCTION, http_write);
        SET(CURLOPT_WRITEDATA, pr);
        SET(CURLOPT_USERAGENT, "drover-probe/" DROVER_VERSION);
        SET(CURLOPT_HTTPGET, 1L);
        if (pr->headers)
                SET(CURLOPT_HTTPHEADER, pr->headers);

        /* curl copies string options: the Endpoint is not needed after this. */
        if (curl_apply_endpoint_tls(c, ep) < 0)
                return -EINVAL;
#undef SET

        /* Counted only once nothing can fail any more (prober_add() has no failure after
         * this): one idle connection per probe, since curl's default pool is 4 × the
         * handles currently added, which are only the few in flight. */
        pr->shard->n_probes++;
        (void) curl_multi_setopt(curl_event_get_multi(pr->shard->ce), CURLMOPT_MAXCONNECTS,
                                 (long) pr->shard->n_probes + POOL_SLACK);
        return 0;
}

void probe_http_free(Probe *pr)
{
        if (pr->easy) {
                if (pr->in_flight)
                        curl_event_remove(pr->shard->ce, pr->easy);
                curl_easy_cleanup(pr->easy);
                pr->easy = NULL;
        }
        curl_slist_free_all(pr->headers);
        pr->headers = NULL;
        strbuf_done(&pr->body);
}

static void shard_kick(CurlShard *sh)
{
        sh->kick = false;
        curl_event_kick(sh->ce);
}

void prober_http_kick_pending(Prober *p)
{
        for (size_t i = 0; i < p->n_shards; i++)
                if (p->shards[i]->kick)
                        shard_kick(p->shards[i]);
}

void probe_http_start(Probe *pr, bool kick)
{
        CURLMcode mc;

        strbuf_reset(&pr->body);
        mc = curl_multi_add_handle(curl_event_get_multi(pr->shard->ce), pr->easy);
        if (mc != CURLM_OK) {
                probe_deliver(pr, PROBE_FAIL, 0, NAN, false, curl_multi_strerror(mc));
                return;
        }
        if (kick)
                shard_kick(pr->shard);
        else
                pr->shard->kick = true;
}

static bool status_expected(const Probe *pr, long status)
{
        if (pr->n_expect == 0)
                return status >= 200 && status <= 299;
        for (size_t i = 0; i < pr->n_expect; i++)
                if (pr->expect[i] == status)
                        return true;
        return false;
}

/* "data.lag", "items.0.id": object keys, or array indexes where the node is an array. */
static json_t *json_dotted_get(json_t *root, const char *path)
{
        json_t *node = root;
        const char *s = path;

        while (node && *s) {
                const char *dot = strchr(s, '.');
                size_t n = dot ? (size_t) (dot - s) : strlen(s);
                char key[256];

                if (n == 0 || n >= sizeof(key))
                        return NULL;
                memcpy(key, s, n);
                key[n] = '\0';
                if (json_is_array(node)) {
                        char *end;
                        unsigned long i = strtoul(key, &end, 10);
                        node = *end == '\0' ? json_array_get(node, i) : NULL;
                } else
                        node = json_object_get(node, key);
                s = dot ? dot + 1 : s + n;
        }
        return node;
}

void probe_http_judge(Probe *pr, long status, usec_t latency, const char *body, size_t body_len, bool truncated,
                      const char *location)
{
        char detail[256], b1[FORMAT_DURATION_MAX], b2[FORMAT_DURATION_MAX];
        double value = NAN;
        bool has_value = false;

        if (!status_expected(pr, status)) {
                if (location && *location && status >= 300 && status <= 399)
                        snprintf(detail, sizeof(detail), "HTTP %ld redirect to %.160s (not followed)", status,
                                 location);
                else
                        snprintf(detail, sizeof(detail), "HTTP %ld", status);
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                return;
        }

        if (pr->re && regexec(pr->re, body, 0, NULL, 0) != 0) {
                snprintf(detail, sizeof(detail), "HTTP %ld, body does not match%s", status,
                         truncated ? " (first 64 KiB)" : "");
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                return;
        }

        if (pr->kind == PROBE_KIND_VENDOR_METRIC) {
                json_error_t err;
                json_t *root = json_loadb(body, body_len, 0, &err), *v;

                if (!root) {
                        snprintf(detail, sizeof(detail), "HTTP %ld, body is not JSON%s", status,
                                 truncated ? " (over 64 KiB)" : "");
                        probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                        return;
                }
                v = json_dotted_get(root, pr->json_field);
                if (!json_is_number(v)) {
                        snprintf(detail, sizeof(detail), "field %.100s %s", pr->json_field,
                                 v ? "is not a number" : "is missing");
                        json_decref(root);
                        probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                        return;
                }
                value = json_number_value(v);
                has_value = true;
                json_decref(root);
        }

        if (pr->latency_threshold > 0 && latency > pr->latency_threshold) {
                snprintf(detail, sizeof(detail), "HTTP %ld in %s, over %s", status, format_duration(b1, latency),
                         format_duration(b2, pr->latency_threshold));
                probe_deliver(pr, PROBE_SLOW, latency, value, has_value, detail);
                return;
        }
        if (has_value && !isnan(pr->min) && !(value >= pr->min)) {
                snprintf(detail, sizeof(detail), "%.100s = %.6g, below %.6g", pr->json_field, value, pr->min);
                probe_deliver(pr, PROBE_SLOW, latency, value, has_value, detail);
                return;
        }
        if (has_value)
                snprintf(detail, sizeof(detail), "HTTP %ld, %.100s = %.6g", status, pr->json_field, value);
        else
                snprintf(detail, sizeof(detail), "HTTP %ld", status);
        probe_deliver(pr, PROBE_OK, latency, value, has_value, detail);
}

static void http_finish(Probe *pr, CURLcode code)
{
        char detail[256], b1[FORMAT_DURATION_MAX];
        curl_off_t total = 0;
        char *location = NULL;
        long status = 0;
        usec_t latency;

        (void) curl_easy_getinfo(pr->easy, CURLINFO_TOTAL_TIME_T, &total);
        latency = total > 0 ? (usec_t) total : usec_sub_unsigned(now_usec(CLOCK_MONOTONIC), pr->check_started);

        if (code == CURLE_OPERATION_TIMEDOUT) {
                snprintf(detail, sizeof(detail), "no answer within %s", format_duration(b1, pr->timeout));
                probe_deliver(pr, PROBE_TIMEOUT, latency, NAN, false, detail);
                return;
        }
        if (code != CURLE_OK) {
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, curl_easy_strerror(code));
                return;
        }

        (void) curl_easy_getinfo(pr->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 300 && status <= 399)
                (void) curl_easy_getinfo(pr->easy, CURLINFO_REDIRECT_URL, &location);
        probe_http_judge(pr, status, latency, strbuf_str(&pr->body), pr->body.len, pr->body.truncated, location);
}
