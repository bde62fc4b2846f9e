/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watch-notify.c — droverd's notifications: one JSON POST per role to the role's
 * endpoint (its headers, ${secrets.NAME} expanded and never logged; its TLS settings),
 * with a deadline (the endpoint's timeout, else NOTIFY_DEFAULT_TIMEOUT), run by the
 * watch's curl multi on the sd-event loop (shared/curl-event.h, the glue the prober's
 * HTTP checks use too): no thread, no fork. The outcome is logged; a failure is
 * journaled ("notify-failed", on the incident when there is one).
 *
 * Owns: the notifications in flight (Watch.notifications, Watch.notify_curl). Does not
 * own: who is notified and when (policy_step()), the roles (Config.monitor). Called by
 * watch.c.
 */
#include <stdlib.h>
#include <string.h>

#include "config/curl-endpoint.h"
#include "daemon/watch-internal.h"
#include "playbook/template.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"

#define NOTIFY_DEFAULT_TIMEOUT (5 * USEC_PER_SEC)

struct Notification {
        Watch *w;
        CURL *easy;
        struct curl_slist *headers; /* secrets inside: freed, never logged */
        char *body;
        char *role, *url;
        int64_t incident_id;
        Notification *next;
};

static int secret_lookup(void *userdata, const char *ref, char **ret_value, bool *ret_secret)
{
        const Config *c = userdata;
        const Secret *s;

        if (strncmp(ref, "secrets.", 8) != 0 || !(s = config_find_secret(c, ref + 8)))
                return -ENOENT;
        *ret_secret = true;
        return secret_read_value(s, ret_value);
}

int watch_expand_headers(const Config *c, const Endpoint *e, char ***ret)
{
        char **l = NULL;
        size_t n = 0;

        for (size_t i = 0; e && i < e->n_headers; i++) {
                Template t = {};
                DiagList diags;
                _cleanup_free_ char *value = NULL;
                bool secret = false;
                int r;

                diag_list_init(&diags);
                r = template_parse(&t, e->headers[i].value, c->path, e->line, e->col, &diags);
                diag_list_done(&diags);
                if (r >= 0)
                        r = template_expand(&t, secret_lookup, (void *) c, &value, &secret, NULL);
                template_done(&t);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                *(char **) array_push(&l, &n, sizeof(char *)) =
                        xasprintf("%s: %s", e->headers[i].name, value);
        }
        *(char **) array_push(&l, &n, sizeof(char *)) = NULL;
        *ret = l;
        return 0;
}

static Notification *notification_free(Notification *nt)
{
        if (!nt)
                return NULL;
        if (nt->easy) {
                curl_event_remove(nt->w->notify_curl, nt->easy);
                curl_easy_cleanup(nt->easy);
        }
        curl_slist_free_all(nt->headers);
        free(nt->body);
        free(nt->role);
        free(nt->url);
        free(nt);
        return NULL;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

/* The POST ended: journal a failure, as the forked sender's exit status used to say it. */
static void on_notify_done(CurlEvent *ce, CURL *easy, CURLcode code, void *userdata)
{
        Watch *w = userdata;
        Notification *nt = NULL;
        long status = 0;
        const char *failure = NULL;

        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &nt);
        if (!nt)
                return;
        if (code == CURLE_OPERATION_TIMEDOUT)
                failure = "no answer before the deadline";
        else if (code != CURLE_OK)
                failure = "could not send";
        else {
                (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
                if (status < 200 || status >= 300)
                        failure = "the endpoint refused it";
        }
        if (failure) {
                _cleanup_free_ char *msg =
                        xasprintf("notification of role %s (%s) failed: %s", nt->role, nt->url, failure);
                log_warning("%s", msg);
                if (nt->incident_id > 0)
                        watch_journal_line(w, nt->incident_id, INCIDENT_ACTOR_POLICY, "notify-failed", msg,
                                           0);
                else
                        manager_journal_event(w->m, "notify-failed", msg,
                                              json_pack("{s:s, s:s}", "role", nt->role, "url", nt->url));
        } else
                log_debug("role %s notified", nt->role);
        for (Notification **p = &w->notifications; *p; p = &(*p)->next)
                if (*p == nt) {
                        *p = nt->next;
                        break;
                }
        /* Already out of the multi. */
        curl_easy_cleanup(nt->easy);
        nt->easy = NULL;
        notification_free(nt);
}

static int notification_setup(Notification *nt, const Endpoint *e, char **headers, usec_t timeout)
{
        CURL *c = curl_easy_init();

        if (!c)
                return -ENOMEM;
        nt->easy = c;
        nt->headers = curl_slist_append(NULL, "Content-Type: application/json");
        for (char **p = headers; p && *p; p++)
                nt->headers = curl_slist_append(nt->headers, *p);
        if (!nt->headers)
                return -ENOMEM;
        if (curl_easy_setopt(c, CURLOPT_URL, nt->url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, nt->headers) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, nt->body) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) (timeout / USEC_PER_MSEC)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PRIVATE, nt) != CURLE_OK)
                return -EINVAL;
        return curl_apply_endpoint_tls(c, e);
}

void watch_notify(Watch *w, const char *role_name, WatchIncident *wi, const char *event, const char *message,
                  WarningLevel level)
{
        const MonitorConfig *mc = w->config->monitor;
        const RoleConfig *role = mc ? monitor_config_find_role(mc, role_name) : NULL;
        char **headers = NULL;
        Notification *nt;
        json_t *o;
        int r;

        if (!role || !role->endpoint) {
                log_warning("notify: unknown role %s", role_name);
                return;
        }
        if (!w->notify_curl) {
                log_warning("notify %s: no HTTP client", role_name);
                return;
        }
        nt = xcalloc(1, sizeof(*nt));
        nt->w = w;
        nt->role = xstrdup(role_name);
        nt->url = xasprintf("%s%s", role->endpoint->base_url, role->path ?: "/");
        nt->incident_id = wi ? wi->id : 0;
        o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:I}", "source", "droverd", "event", event, "role",
                      role_name, "message", message, "level", (int) level, "level_name",
                      warning_level_to_string(level), "at_usec", (json_int_t) watch_now_rt());
        if (wi) {
                json_object_set_new(o, "incident", json_integer(wi->id));
                json_object_set_new(o, "site", json_string(incident_get_site(wi->inc)));
                json_object_set_new(o, "state",
                                    json_string(incident_state_to_string(incident_get_state(wi->inc))));
        }
        nt->body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        r = watch_expand_headers(w->config, role->endpoint, &headers);
        if (r < 0) {
                log_warning_errno(r, "notify %s: cannot expand the endpoint's headers: %s", role_name,
                                  strerror(-r));
                notification_free(nt);
                return;
        }
        usec_t timeout = role->endpoint->timeout > 0 ? role->endpoint->timeout : NOTIFY_DEFAULT_TIMEOUT;
        r = notification_setup(nt, role->endpoint, headers, timeout);
        strv_free(headers);
        if (r >= 0)
                r = curl_event_add(w->notify_curl, nt->easy);
        if (r < 0) {
                log_warning_errno(r, "notify %s: cannot send: %s", role_name, strerror(-r));
                /* Not in the multi: nothing to remove. */
                curl_easy_cleanup(nt->easy);
                nt->easy = NULL;
                notification_free(nt);
                return;
        }
        nt->next = w->notifications;
        w->notifications = nt;
        /* Let curl start it now; completions come back on the loop. */
        curl_event_kick(w->notify_curl);
}

int watch_notify_init(Watch *w)
{
        if (w->notify_curl)
                return 0;
        return curl_event_new(&w->notify_curl, w->m->event, on_notify_done, w);
}

void watch_notify_done(Watch *w)
{
        while (w->notifications) {
                Notification *nt = w->notifications;
                w->notifications = nt->next;
                notification_free(nt);
        }
        w->notify_curl = curl_event_free(w->notify_curl);
}
