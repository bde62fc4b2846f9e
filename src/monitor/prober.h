/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prober.h — runs the monitor's probes (http, tcp, ssh, vendor-metric) inside droverd's
 * sd-event loop and hands every finished check to a callback as a ProbeResult.
 *
 * Owns: curl multi handles driven by the loop (the glue is shared/curl-event.c; all
 * HTTP and vendor-metric checks; one reused easy handle per probe, connections kept
 * alive in the pools; one multi per 256 probes because curl ≤ 8.10 walks a multi's whole
 * pool on every finished transfer — see probe-http.c), the schedule (one sd-event timer
 * over a heap of per-probe times: own interval, uniform jitter, never lock-step),
 * non-blocking TCP connects, and the SSH runner for SSH checks and for checks from
 * remote vantage points (probe-remote.c: kept sessions per vantage host), whose
 * completion eventfd the loop watches (its worker threads never touch sd-event). Does
 * not own: SSH itself — the caller injects it with prober_set_ssh() (droverd: the
 * RealExecutor, exec/prober-ssh.h), so that monitoring does not depend on the layer of
 * executors —, the config (the caller turns monitor.probes into ProbeSpecs), judging
 * health (detector.h), the event loop itself. Called by droverd's watch
 * (src/daemon/watch.c) and by tests/integration/test-prober.c.
 *
 * Rules:
 *   - each probe has at most one check in flight: a check still running when the next
 *     one is due is skipped and counted (ProberStats.skipped);
 *   - every check ends by its timeout with PROBE_TIMEOUT;
 *   - the first check of a probe runs at a uniformly random point of its first
 *     interval, then every interval ± uniform jitter around a drift-free schedule;
 *   - HTTP: TLS verified unless the Endpoint says tls_verify: false; redirects are NOT
 *     followed — a 3xx is judged like any status: it fails (detail names the redirect)
 *     unless listed in expect_status;
 *   - outcomes: ok when the status is expected (default any 2xx) and the body matches;
 *     slow when ok but the latency is over latency_threshold, or (vendor-metric) the
 *     value is under `min`, or (ssh) stdout is over `max_value`; timeout when the check
 *     hit its timeout; fail otherwise (refused, wrong status, body mismatch, JSON
 *     field missing or not a number, wrong exit status).
 *   - vendor-metric always reports the parsed value (has_value) as well, so the
 *     detector's metric_min (weak) and the level evaluator's METRIC_BELOW (value) judge
 *     it whichever they look at; a slow outcome and a value under metric_min are the
 *     same "weak" sample for the detector, never counted twice.
 *
 * Remote vantage points (ProbeSpec.vantage other than "local", with vantage_host):
 *   - kinds http, vendor-metric and tcp run on the vantage host over SSH, through the
 *     prober's SSH runner (droverd's: the RealExecutor with strict known_hosts), sessions
 *     kept open, a channel per check;
 *     up to PROBER_VANTAGE_LANES sessions per vantage host, a new one opened only while
 *     every open one is busy, so that a hung target delays no other check. Kind ssh is
 *     refused (-EOPNOTSUPP): it asks about the state of a host, not about reachability
 *     from a point of view; use tcp from the vantage point for that.
 *   - http/vendor-metric run `curl` (>= 7.63) on the vantage host: bounded by the probe's
 *     timeout (--max-time), redirects not followed, the body (for body_regex / the JSON
 *     field) capped at PROBER_BODY_MAX, judged exactly like a local check. The URL, the
 *     headers and the TLS options reach curl as a config on stdin (`curl -K -`), never
 *     in the remote argv; the TLS file paths (ca_file, client cert/key) must exist on the
 *     vantage host.
 *   - tcp runs `timeout T bash -c '... /dev/tcp/$h/$p'` (coreutils timeout, bash with
 *     /dev/tcp): host and port arrive on stdin (a name is resolved on the vantage host,
 *     with its resolver: that is part of its point of view), the connect time is
 *     measured there ($EPOCHREALTIME, bash >= 5).
 *   - the SSH action's deadline is the probe's timeout + PROBER_VANTAGE_GRACE: the remote
 *     command is bounded by the timeout itself, so an SSH leg that does not come back by
 *     the deadline is the vantage's fault, not the target's.
 *   - outcome unavailable: the check could not be run — the vantage host is unreachable,
 *     refuses the host key or the login, the SSH leg hit its deadline, or curl / bash /
 *     timeout is missing there. It says nothing about the target; the detector lets the
 *     vantage abstain (detector.h), so losing a vantage point never votes "down".
 *
 * ProbeResult strings are borrowed for the duration of the callback. `at` is the
 * completion time on the prober's clock (CLOCK_MONOTONIC unless prober_set_clock()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "monitor/probe-result.h"
#include "shared/macros.h"
#include "shared/time-util.h"

#define PROBER_VANTAGE_LOCAL VANTAGE_LOCAL
/* Response bytes kept for body_regex / the JSON field; a longer body is judged on
 * its first PROBER_BODY_MAX bytes (and a truncated JSON document fails to parse). */
#define PROBER_BODY_MAX (64U * 1024U)
#define PROBER_EXPECT_STATUS_MAX 16
/* Remote vantage points: time the SSH leg may add to the probe's timeout, and the most
 * SSH sessions kept open to one vantage host. */
#define PROBER_VANTAGE_GRACE (2 * USEC_PER_SEC)
#define PROBER_VANTAGE_LANES 8U

typedef struct Prober Prober;

/* Called from the loop for every finished check. May call prober_set_interval_factor()
 * and prober_get_stats(); must not free the prober. */
typedef void (*ProberCallback)(Prober *p, const ProbeResult *r, void *userdata);

typedef struct ProbeSpec {
        const char *name;            /* required, unique; copied */
        const char *target;          /* ProbeResult.target; NULL = name; copied */
        ProbeKind kind;
        const char *site;            /* copied; may be NULL */
        const char *vantage;         /* NULL or "local": drover itself. Any other name is a
                                      * remote vantage point: the check runs over SSH on
                                      * vantage_host (see "Remote vantage points" above);
                                      * ProbeResult.vantage carries the name. Copied. */
        const Host *vantage_host;    /* required for a remote vantage, NULL otherwise; borrowed:
                                      * must outlive the prober (sessions are kept per Host) */

        /* http and vendor-metric */
        const char *url;             /* absolute http:// or https://; copied */
        const Endpoint *endpoint;    /* TLS options (ca_file, client cert/key, tls_verify);
                                      * read at add time only; NULL = verify with the system store */
        char *const *headers;        /* NULL-terminated "Name: value", secrets already expanded
                                      * by the caller; copied; never logged */
        const long *expect_status;   /* NULL/0 = any 2xx */
        size_t n_expect_status;      /* <= PROBER_EXPECT_STATUS_MAX */
        const char *body_regex;      /* POSIX ERE, compiled at add (-EINVAL if bad); NULL = none */
        usec_t latency_threshold;    /* 0 = none */
        const char *json_field;      /* vendor-metric: dotted path ("data.lag", "items.0.id") */
        double min;                  /* vendor-metric: under it → slow; NAN = none */

        /* tcp */
        const char *address;         /* numeric IPv4/IPv6 or a name resolved once at add time */
        uint16_t port;

        /* ssh (vantage "local" only: a remote vantage is -EOPNOTSUPP) */
        const Host *host;            /* borrowed: must outlive the prober (SSH sessions are
                                      * kept per Host pointer) */
        const char *command;         /* copied */
        int expect_exit_status;
        bool has_max_value;
        double max_value;            /* stdout parsed as a number must be <= this, else slow */

        usec_t interval;             /* required, > 0 */
        usec_t timeout;              /* required, > 0 */
        usec_t jitter;               /* < interval; 0 = none */
} ProbeSpec;

typedef struct ProberStats {
        uint64_t started;            /* checks started */
        uint64_t results;            /* results delivered to the callback */
        uint64_t skipped;            /* checks not started because the previous was in flight */
        bool in_flight;
        usec_t next;                 /* CLOCK_MONOTONIC time of the next check; USEC_INFINITY if none */
        usec_t interval;             /* effective: configured interval / factor */
        double factor;
} ProberStats;

/* ---- the SSH seam ----------------------------------------------------------------
 * SSH checks and checks from remote vantage points run through an SSH runner that the
 * caller gives the prober with prober_set_ssh(); the prober creates it at the first
 * probe that needs it and frees it first thing in prober_free(). The runner runs each
 * request on its own threads, one at a time per Host pointer (a kept session per Host),
 * and signals finished ones on an eventfd that the prober watches in its loop. */

typedef struct ProberSshRequest {
        uint64_t tag;          /* returned in the result */
        usec_t deadline;       /* CLOCK_MONOTONIC: the request ends by then */
        size_t output_cap;     /* bytes of stdout/stderr kept; the rest is dropped */
        const Host *host;      /* borrowed until its result has been collected */
        const char *command;
        const char *input;     /* written to the command's stdin, then EOF; NULL = none.
                                * For data that must stay out of the remote argv (secrets). */
        size_t input_len;
} ProberSshRequest;

typedef enum ProberSshStatus {
        PROBER_SSH_DONE,       /* the command ran: exit_status / exit_signal are valid */
        PROBER_SSH_TIMEOUT,    /* the deadline came first */
        PROBER_SSH_FAILED,     /* it could not run (connect, host key, auth, …): see status_name, error */
} ProberSshStatus;

/* Strings are the runner's, valid until the next collect() or free(). */
typedef struct ProberSshResult {
        uint64_t tag;
        ProberSshStatus status;
        const char *status_name;  /* the runner's word for what happened ("connect-failed" …) */
        const char *error;        /* names hosts and errors, never command output; may be NULL */
        int exit_status;          /* -1 when killed by a signal or unknown */
        const char *exit_signal;  /* "TERM", … or NULL */
        const char *out;          /* stdout, NUL-terminated, capped; may be NULL */
        size_t out_len;
        bool out_truncated;
        const char *err;          /* stderr, NUL-terminated, capped; may be NULL */
        usec_t started, finished; /* CLOCK_MONOTONIC */
} ProberSshResult;

typedef struct ProberSshOps {
        /* Creates the runner (called once, at the first ssh or remote-vantage probe). */
        int (*new)(void **ret);
        /* Cancels what is in flight, waits for it, closes every session. */
        void (*free)(void *ssh);
        /* An eventfd, readable when a result may be waiting; the prober reads 8 bytes to
         * reset it, then collects until -EAGAIN. Owned by the runner. */
        int (*get_fd)(void *ssh);
        /* Starts a request; 0 or -errno. What the request points to stays valid until its
         * result has been collected. */
        int (*submit)(void *ssh, const ProberSshRequest *req);
        /* One finished request, without waiting: 0 with *ret filled, or -EAGAIN. */
        int (*collect)(void *ssh, ProberSshResult *ret);
} ProberSshOps;

/* -ENOMEM, or errors from sd-event/curl setup. Does not start anything by itself:
 * checks run when the loop runs. Takes a reference on `e`. */
int prober_new(Prober **ret, sd_event *e, ProberCallback cb, void *userdata);
/* Stops every check (in-flight results are dropped, no callbacks), frees everything.
 * Must not be called from the callback. */
Prober *prober_free(Prober *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Prober *, prober_free);

/* The SSH runner for ssh probes and remote vantage points (ops is borrowed: a static
 * table). Call it right after prober_new(): -EBUSY once a runner has been created.
 * Without one, prober_add() refuses such probes with -EOPNOTSUPP. */
int prober_set_ssh(Prober *p, const ProberSshOps *ops);

/* Validates, copies, and schedules the probe's first check. -EINVAL for a bad spec
 * (missing keys for its kind, bad regex, jitter >= interval, a remote vantage without
 * vantage_host or vantage_host without a remote vantage, control characters in a URL or
 * header of a remote check, …), -EEXIST for a duplicate name, -EOPNOTSUPP for kind ssh
 * from a remote vantage. Names are unique across vantages: a probe checked from two
 * vantage points is two ProbeSpecs (e.g. "web" and "web@from-backup") with the same
 * target. -EOPNOTSUPP too for kind ssh or a remote vantage without prober_set_ssh(). */
int prober_add(Prober *p, const ProbeSpec *spec);

/* Raise (factor > 1) or restore (factor 1) the frequency of one probe (name) or of
 * every probe (NULL): the effective interval and jitter are divided by `factor`.
 * The next check is rescheduled at a random point of the new interval when that
 * is sooner than the current plan. -EINVAL unless factor is finite and >= 1,
 * -ENOENT for an unknown name. */
int prober_set_interval_factor(Prober *p, const char *name_or_null, double factor);

/* Start one check of `name` now, outside its schedule (which is unchanged): for a
 * manual "probe now" and for tests. -EBUSY while a check is in flight, -ENOENT for an
 * unknown name. The result arrives through the callback like any other — possibly
 * before this returns (a refused local connect ends at once). */
int prober_check_now(Prober *p, const char *name);

/* The clock of ProbeResult.at (CLOCK_MONOTONIC by default; CLOCK_REALTIME for a
 * wall-clock journal). Timers and latencies always use CLOCK_MONOTONIC. */
int prober_set_clock(Prober *p, clockid_t clock);

/* -ENOENT for an unknown name. */
int prober_get_stats(Prober *p, const char *name, ProberStats *ret);
size_t prober_n_probes(const Prober *p);
