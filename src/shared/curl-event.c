/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * curl-event.c — a curl multi handle on an sd-event loop (see curl-event.h). Owns the
 * multi, one io source per socket curl asks for, one timer source. Called by
 * probe-http.c and src/daemon/watch-notify.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "shared/curl-event.h"
#include "shared/macros.h"
#include "shared/time-util.h"

typedef struct CurlSock CurlSock;

struct CurlSock {
        sd_event_source *src;
        CurlSock *prev, *next;
};

struct CurlEvent {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        CurlSock *socks; /* every io source curl asked for, to free them all */
        CurlEventDone done;
        void *userdata;
        bool global_init;
};

static void curl_sock_free(CurlEvent *ce, CurlSock *cs)
{
        if (cs->prev)
                cs->prev->next = cs->next;
        else
                ce->socks = cs->next;
        if (cs->next)
                cs->next->prev = cs->prev;
        sd_event_source_disable_unref(cs->src);
        free(cs);
}

static void check_done(CurlEvent *ce)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(ce->multi, &left))) {
                CURL *easy = m->easy_handle;
                CURLcode code = m->data.result;

                if (m->msg != CURLMSG_DONE)
                        continue;
                /* m is invalid once the handle is removed: everything was read above. */
                (void) curl_multi_remove_handle(ce->multi, easy);
                if (ce->done)
                        ce->done(ce, easy, code, ce->userdata);
        }
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        CurlEvent *ce = userdata;
        int flags = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                flags |= CURL_CSELECT_ERR;
        (void) curl_multi_socket_action(ce->multi, fd, flags, &running);
        check_done(ce);
        return 0;
}

static int timer_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
        CurlEvent *ce = userdata;
        int running;

        (void) curl_multi_socket_action(ce->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(ce);
        return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        CurlEvent *ce = userp;
        CurlSock *cs = socketp;
        uint32_t events;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (cs) {
                        (void) curl_multi_assign(ce->multi, fd, NULL);
                        curl_sock_free(ce, cs);
                }
                return 0;
        }

        events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        if (!cs) {
                cs = calloc(1, sizeof(*cs));
                if (!cs)
                        return -1;
                r = sd_event_add_io(ce->event, &cs->src, fd, events, io_cb, ce);
                if (r < 0) {
                        free(cs);
                        return -1; /* curl fails this transfer */
                }
                cs->next = ce->socks;
                if (ce->socks)
                        ce->socks->prev = cs;
                ce->socks = cs;
                (void) curl_multi_assign(ce->multi, fd, cs);
                return 0;
        }
        r = sd_event_source_set_io_events(cs->src, events);
        if (r >= 0)
                r = sd_event_source_set_enabled(cs->src, SD_EVENT_ON);
        return r < 0 ? -1 : 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
        CurlEvent *ce = userp;
        usec_t when;
        int r;

        if (timeout_ms < 0) {
                if (ce->timer)
                        (void) sd_event_source_set_enabled(ce->timer, SD_EVENT_OFF);
                return 0;
        }
        when = now_usec(CLOCK_MONOTONIC) + (usec_t) timeout_ms * USEC_PER_MSEC;
        if (!ce->timer) {
                /* 1 ms accuracy: curl's deadlines are in ms anyway, and a coarser one keeps
                 * sd-event from re-programming its timerfd on every tiny change. */
                r = sd_event_add_time(ce->event, &ce->timer, CLOCK_MONOTONIC, when, USEC_PER_MSEC,
                                      timer_fire, ce);
                return r < 0 ? -1 : 0;
        }
        r = sd_event_source_set_time(ce->timer, when);
        if (r >= 0)
                r = sd_event_source_set_enabled(ce->timer, SD_EVENT_ONESHOT);
        return r < 0 ? -1 : 0;
}

CurlEvent *curl_event_free(CurlEvent *ce)
{
        if (!ce)
                return NULL;
        /* Closes the pooled connections (curl may still call the socket callback: ce is
         * valid until the end). */
        if (ce->multi)
                curl_multi_cleanup(ce->multi);
        while (ce->socks)
                curl_sock_free(ce, ce->socks);
        sd_event_source_disable_unref(ce->timer);
        sd_event_unref(ce->event);
        if (ce->global_init)
                curl_global_cleanup();
        free(ce);
        return NULL;
}

int curl_event_new(CurlEvent **ret, sd_event *e, CurlEventDone done, void *userdata)
{
        CurlEvent *ce;

        if (!ret || !e)
                return -EINVAL;
        ce = calloc(1, sizeof(*ce));
        if (!ce)
                return -ENOMEM;
        ce->event = sd_event_ref(e);
        ce->done = done;
        ce->userdata = userdata;
        /* Thread-safe and reference-counted since curl 7.84; paired in curl_event_free(). */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                curl_event_free(ce);
                return -EIO;
        }
        ce->global_init = true;
        ce->multi = curl_multi_init();
        if (!ce->multi) {
                curl_event_free(ce);
                return -ENOMEM;
        }
        if (curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce) != CURLM_OK) {
                curl_event_free(ce);
                return -EINVAL;
        }
        *ret = ce;
        return 0;
}

CURLM *curl_event_get_multi(CurlEvent *ce)
{
        return ce ? ce->multi : NULL;
}

int curl_event_add(CurlEvent *ce, CURL *easy)
{
        if (!ce || !easy)
                return -EINVAL;
        return curl_multi_add_handle(ce->multi, easy) == CURLM_OK ? 0 : -EINVAL;
}

void curl_event_kick(CurlEvent *ce)
{
        int running;

        if (!ce)
                return;
        (void) curl_multi_socket_action(ce->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(ce);
}

void curl_event_remove(CurlEvent *ce, CURL *easy)
{
        if (ce && easy)
                (void) curl_multi_remove_handle(ce->multi, easy);
}
