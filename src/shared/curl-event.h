/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * curl-event.h — one curl multi handle driven by an sd-event loop: CURLMOPT_SOCKETFUNCTION
 * → io sources, CURLMOPT_TIMERFUNCTION → one timer source, curl_multi_socket_action on
 * events, curl_multi_info_read for completions. No thread, no fork: every transfer runs
 * on the loop's thread; each one's deadline is the caller's CURLOPT_TIMEOUT_MS.
 *
 * Owns: the multi handle, its io and timer sources. Does not own: the easy handles (the
 * caller creates, configures and frees them; a finished transfer is removed from the
 * multi before the done callback runs). Called by the prober's HTTP half
 * (src/monitor/probe-http.c: one per shard) and droverd's notifier
 * (src/daemon/watch-notify.c).
 */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

typedef struct CurlEvent CurlEvent;

/* A transfer ended (result CURLE_OK or why not). easy is no longer in the multi: the
 * callback may free it, or add it again. */
typedef void (*CurlEventDone)(CurlEvent *ce, CURL *easy, CURLcode result, void *userdata);

int curl_event_new(CurlEvent **ret, sd_event *e, CurlEventDone done, void *userdata);
/* Remove (or free) the easy handles still added first: this closes the pooled
 * connections and frees the sources. */
CurlEvent *curl_event_free(CurlEvent *ce);

CURLM *curl_event_get_multi(CurlEvent *ce);
/* Add a transfer. It starts at the next curl_event_kick() (or when curl's timer fires):
 * a batch of adds is kicked once. Returns 0 or -EINVAL (curl refused it). */
int curl_event_add(CurlEvent *ce, CURL *easy);
/* Let curl run every transfer that is due and report completions. Never call it from
 * the done callback. */
void curl_event_kick(CurlEvent *ce);
/* Take an unfinished transfer out (no done callback for it). */
void curl_event_remove(CurlEvent *ce, CURL *easy);
