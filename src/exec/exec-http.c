/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec-http.c — HTTP actions over libcurl: one easy handle per action, driven by a
 * private multi handle on the worker thread so that the wait can include the job's
 * cancel eventfd (cancel_all() ends a transfer at once, not at the next progress tick).
 * TLS is verified unless the endpoint says tls_verify: false; redirects are followed up
 * to 5 times and only to http/https; the body is kept up to the output cap.
 *
 * Owns: the curl handles of one action. Does not own: judging the status (the engine
 * does), header values (the engine expands secrets; they are never logged here).
 * Called by worker threads.
 */
#include <inttypes.h>
#include <string.h>

#include <curl/curl.h>

#include "config/curl-endpoint.h"
#include "drover/worker-protocol.h"
#include "exec/exec-internal.h"

#define HTTP_MAX_REDIRECTS 5L

void exec_http_global_init(void)
{
        /* Called once through pthread_once(). */
        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct HttpCtx {
        ExecJob *job;
        StrBuf body;
} HttpCtx;

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        HttpCtx *c = userdata;

        /* The cap drops the rest and marks it truncated; the transfer itself goes on. */
        strbuf_append(&c->body, ptr, size * nmemb);
        return size * nmemb;
}

static int http_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
        HttpCtx *c = userdata;

        return exec_job_cancelled(c->job) ? 1 : 0;
}

static ActionStatus http_status_from_curl(CURLcode code)
{
        switch (code) {
        case CURLE_OK:
                return ACTION_DONE;
        case CURLE_OPERATION_TIMEDOUT:
                return ACTION_TIMEOUT;
        case CURLE_ABORTED_BY_CALLBACK:
                return ACTION_CANCELLED;
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
                return ACTION_CONNECT_FAILED;
        default:
                return ACTION_FAILED;
        }
}

static int http_setup(CURL *c, ExecJob *j, HttpCtx *ctx, struct curl_slist **headers, char *errbuf)
{
        const Action *a = &j->action;
        const Endpoint *ep = a->endpoint;
        const char *method = a->method && *a->method ? a->method : (a->body ? "POST" : "GET");
        usec_t now = exec_now(), left;
        long ms;

        left = a->deadline == USEC_INFINITY ? 0 : usec_sub_unsigned(a->deadline, now);
        ms = a->deadline == USEC_INFINITY ? 0 : (long) MAX((left + USEC_PER_MSEC - 1) / USEC_PER_MSEC, 1);

#define SET(opt, val)                                                                                      \
        do {                                                                                               \
                if (curl_easy_setopt(c, opt, val) != CURLE_OK)                                             \
                        return -EINVAL;                                                                    \
        } while (0)

        SET(CURLOPT_URL, a->url);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_TIMEOUT_MS, ms);
        SET(CURLOPT_CONNECTTIMEOUT_MS, ms);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string forms; the bitmasks are deprecated there */
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        SET(CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
        SET(CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, HTTP_MAX_REDIRECTS);
        SET(CURLOPT_WRITEFUNCTION, http_write);
        SET(CURLOPT_WRITEDATA, ctx);
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_XFERINFOFUNCTION, http_progress);
        SET(CURLOPT_XFERINFODATA, ctx);
        SET(CURLOPT_USERAGENT, "drover/" DROVER_VERSION);

        if (curl_apply_endpoint_tls(c, ep) < 0)
                return -EINVAL;

        if (streq(method, "GET"))
                SET(CURLOPT_HTTPGET, 1L);
        else if (streq(method, "HEAD"))
                SET(CURLOPT_NOBODY, 1L);
        else {
                if (!streq(method, "POST"))
                        SET(CURLOPT_CUSTOMREQUEST, method);
                if (a->body || streq(method, "POST") || streq(method, "PUT") || streq(method, "PATCH")) {
                        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (a->body ? a->body_len : 0));
                        SET(CURLOPT_POSTFIELDS, a->body ? a->body : "");
                }
        }

        /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
        *headers = curl_slist_append(*headers, "Expect:");
        if (exec_fencing_token(j->executor) > 0) {
                char token[64];
                (void) snprintf(token, sizeof token, DROVER_FENCING_HEADER ": %" PRIu64,
                                exec_fencing_token(j->executor));
                struct curl_slist *n = curl_slist_append(*headers, token);
                if (!n)
                        return -ENOMEM;
                *headers = n;
        }
        for (char *const *h = a->headers; h && *h; h++) {
                struct curl_slist *n = curl_slist_append(*headers, *h);
                if (!n)
                        return -ENOMEM;
                *headers = n;
        }
        SET(CURLOPT_HTTPHEADER, *headers);
#undef SET
        return 0;
}

void exec_http_run(ExecJob *j)
{
        const Action *a = &j->action;
        HttpCtx ctx = { .job = j, .body = { .limit = exec_output_cap(a) } };
        struct curl_slist *headers = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        CURLM *m = NULL;
        CURL *c = NULL;
        CURLcode code = CURLE_OK;
        bool finished = false;
        int r;

        c = curl_easy_init();
        m = curl_multi_init();
        if (!c || !m) {
                exec_fail(j, ACTION_FAILED, "cannot initialise libcurl");
                goto finish;
        }
        r = http_setup(c, j, &ctx, &headers, errbuf);
        if (r < 0) {
                exec_fail(j, ACTION_FAILED, "cannot set up the HTTP request (unsupported option in this libcurl?)");
                goto finish;
        }
        if (curl_multi_add_handle(m, c) != CURLM_OK) {
                exec_fail(j, ACTION_FAILED, "cannot start the HTTP request");
                goto finish;
        }

        while (!finished) {
                int running = 0, msgs = 0;
                CURLMsg *msg;

                if (curl_multi_perform(m, &running) != CURLM_OK) {
                        exec_fail(j, ACTION_FAILED, "libcurl multi interface failed");
                        goto finish_remove;
                }
                while ((msg = curl_multi_info_read(m, &msgs)))
                        if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) {
                                code = msg->data.result;
                                finished = true;
                        }
                if (finished)
                        break;

                if (exec_job_cancelled(j)) {
                        exec_fail(j, ACTION_CANCELLED, "HTTP %s %s cancelled", a->method ? a->method : "GET",
                                  a->url);
                        goto finish_remove;
                }
                usec_t now = exec_now();
                if (a->deadline != USEC_INFINITY && now >= a->deadline) {
                        exec_fail(j, ACTION_TIMEOUT, "HTTP request timed out");
                        goto finish_remove;
                }

                /* Sleep in curl until socket activity, curl's own timer, the deadline or a cancel. */
                usec_t left = a->deadline == USEC_INFINITY ? USEC_PER_SEC : a->deadline - now;
                int timeout_ms = (int) MIN((left + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) 1000);
                struct curl_waitfd extra = { .fd = j->cancel_fd, .events = CURL_WAIT_POLLIN };
                if (curl_multi_wait(m, &extra, 1, timeout_ms, NULL) != CURLM_OK) {
                        exec_fail(j, ACTION_FAILED, "libcurl wait failed");
                        goto finish_remove;
                }
        }

        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &j->result.http_status);
        j->result.status = http_status_from_curl(code);
        if (code == CURLE_TOO_MANY_REDIRECTS)
                exec_fail(j, ACTION_FAILED, "more than %ld redirects; giving up", HTTP_MAX_REDIRECTS);
        else if (code == CURLE_OPERATION_TIMEDOUT)
                exec_fail(j, ACTION_TIMEOUT, "HTTP request timed out%s%s", *errbuf ? ": " : "", errbuf);
        else if (code != CURLE_OK)
                /* The error buffer names hosts and TLS problems, never header values. */
                exec_fail(j, j->result.status, "HTTP request failed: %s%s%s", curl_easy_strerror(code),
                          *errbuf ? ": " : "", errbuf);
        else
                j->result.status = ACTION_DONE;

finish_remove:
        (void) curl_multi_remove_handle(m, c);
finish:
        exec_result_take_output(&ctx.body, &j->result.out, &j->result.out_len, &j->result.out_truncated);
        if (c)
                curl_easy_cleanup(c);
        if (m)
                curl_multi_cleanup(m);
        curl_slist_free_all(headers);
}
