/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prober-internal.h — what the prober's core (prober.c: timers, schedule, TCP, SSH,
 * delivery) shares with its HTTP half (probe-http.c: curl multi handles on sd-event).
 * Private to src/monitor/prober*.c and probe-http.c.
 */
#pragma once

#include <regex.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "monitor/prober.h"
#include "shared/strbuf.h"

typedef struct CurlShard CurlShard;
typedef struct RemoteVantage RemoteVantage;
typedef struct RemoteLane RemoteLane;

typedef struct Probe {
        Prober *prober;
        size_t index;              /* in Prober.probes; the SSH action tag */
        char *name, *target, *site;
        ProbeKind kind;
        usec_t interval, timeout, jitter; /* as configured */
        double factor;
        usec_t base;               /* drift-free schedule point of the planned check */
        usec_t next;               /* CLOCK_MONOTONIC: when the next check starts */
        size_t heap_idx;           /* position in Prober.heap */
        bool in_flight;
        usec_t check_started;      /* CLOCK_MONOTONIC */
        uint64_t n_started, n_results, n_skipped;

        /* http, vendor-metric */
        CURL *easy;                /* configured once, re-added to the multi per check */
        CurlShard *shard;          /* the multi handle it belongs to */
        struct curl_slist *headers;
        uint16_t expect[PROBER_EXPECT_STATUS_MAX];
        uint8_t n_expect;
        bool want_body;
        regex_t *re;
        usec_t latency_threshold;
        char *json_field;
        double min;
        StrBuf body;

        /* tcp */
        struct sockaddr_storage *addr; /* NULL when the name did not resolve at add time */
        socklen_t addrlen;
        char *address;
        uint16_t port;
        int fd;
        sd_event_source *io, *deadline;

        /* ssh */
        const Host *host;
        char *command;
        int expect_exit_status;
        bool has_max_value;
        double max_value;

        /* a remote vantage point (http, vendor-metric, tcp run over SSH on its host;
         * probe-remote.c). NULL vantage = local. */
        char *vantage;
        RemoteVantage *remote;     /* the prober's lanes to the vantage host */
        RemoteLane *lane;          /* the lane of the check in flight, or NULL */
        char *remote_command;      /* fixed per probe: nothing from the config in it but numbers */
        char *remote_input;        /* stdin: URL, headers (secrets), TLS files / host and port */
        size_t remote_input_len;
} Probe;

/* `next` is kept in the entry too: sifting compares without touching the probes. */
typedef struct HeapEntry {
        usec_t next;
        Probe *probe;
} HeapEntry;

struct Prober {
        sd_event *event;
        ProberCallback cb;
        void *userdata;
        clockid_t clock;
        bool freeing;
        uint64_t rng;

        Probe **probes;
        size_t n_probes;
        size_t *hash;              /* open addressing: index + 1, 0 = empty */
        size_t hash_size;
        HeapEntry *heap;           /* every probe, min-heap on `next` */
        size_t n_heap;
        sd_event_source *sched;    /* fires at heap[0].next */

        /* HTTP */
        CurlShard **shards;        /* multi handles of up to PROBER_SHARD_PROBES probes each */
        size_t n_shards;

        /* SSH: the injected runner (prober_set_ssh()), created at the first probe needing it */
        const ProberSshOps *ssh_ops;
        void *ssh;
        sd_event_source *ssh_io;

        /* remote vantage points, one per vantage host (probe-remote.c) */
        RemoteVantage **remotes;
        size_t n_remotes;
};

/* The check ended: clears in_flight, counts, calls the callback (not while freeing). */
void probe_deliver(Probe *pr, ProbeOutcome o, usec_t latency, double value, bool has_value,
                   const char *detail);

/* Judges an HTTP answer (status, body, JSON field, latency) and delivers the result:
 * shared by local checks (curl multi) and remote ones (curl on a vantage host). body is
 * NUL-terminated; location is the redirect target of a 3xx, or NULL. */
void probe_http_judge(Probe *pr, long status, usec_t latency, const char *body, size_t body_len, bool truncated,
                      const char *location);

int prober_http_init(Prober *p);
void prober_http_done(Prober *p);
/* Sets up the probe's easy handle (kind http or vendor-metric). */
int probe_http_setup(Probe *pr, const ProbeSpec *spec);
void probe_http_free(Probe *pr);
/* Start one check; on failure it delivers a fail result itself. With kick, curl starts
 * the transfer at once; without, the caller calls prober_http_kick() after a batch. */
void probe_http_start(Probe *pr, bool kick);
/* Let curl run every transfer that is due (newly added ones included) on each multi
 * handle that had a check started without kick. Never call it from a curl callback. */
void prober_http_kick_pending(Prober *p);

/* prober.c: the SSH runner shared by SSH checks and remote vantage points; -EOPNOTSUPP
 * when none was given (prober_set_ssh()). */
int prober_ensure_ssh(Prober *p);

/* probe-remote.c: checks run from a remote vantage point. */
/* Builds the remote command and its stdin, attaches the probe to the vantage host's
 * lanes. -EINVAL for a spec that cannot be run remotely (control characters in the URL
 * or a header, a kind other than http/vendor-metric/tcp). */
int probe_remote_setup(Probe *pr, const ProbeSpec *spec);
void probe_remote_free(Probe *pr);
/* Start one check; on failure it delivers an unavailable result itself. */
void probe_remote_start(Probe *pr);
/* The SSH runner finished the check's request. */
void probe_remote_finish(Probe *pr, const ProberSshResult *a);
void prober_remote_done(Prober *p);
