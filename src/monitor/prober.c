/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prober.c — the prober's core: probes and their names, the jittered schedule on
 * one sd-event timer over a heap, one-check-in-flight, delivery of ProbeResults, TCP connect checks,
 * and SSH checks through the injected SSH runner (prober.h, "the SSH seam") whose
 * completion eventfd is an sd-event io source (the runner's worker threads never touch
 * the loop).
 *
 * Owns: Probe objects, the schedule heap and its timer, TCP sockets, the SSH runner once
 * created. Does not own: SSH itself (the runner's ops, given by the caller), the curl
 * multi handle and judging HTTP (probe-http.c), the loop, the config, health.
 * Called by droverd's watch (src/daemon/watch.c) and tests/integration/test-prober.c.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "monitor/prober-internal.h"

/* The schedule timer may be late by up to this much, so that one wake-up starts every
 * probe that fell due meanwhile: cheap wake-ups, still no lock-step (each probe keeps
 * its own jittered time). */
#define PROBE_TIMER_ACCURACY (5 * USEC_PER_MSEC)
/* The shortest effective interval a factor can produce. */
#define PROBE_MIN_INTERVAL (10 * USEC_PER_MSEC)
#define SSH_OUTPUT_CAP 4096

/* ---- small helpers ---------------------------------------------------------------- */

static uint64_t rng_next(Prober *p)
{
        /* xorshift64*: statistical quality is plenty for spreading timers. */
        uint64_t x = p->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        p->rng = x;
        return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n); 0 when n is 0. */
static usec_t rng_below(Prober *p, usec_t n)
{
        return n == 0 ? 0 : rng_next(p) % n;
}

static size_t name_hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return (size_t) h;
}

static Probe *probe_find(const Prober *p, const char *name)
{
        if (p->hash_size == 0)
                return NULL;
        for (size_t i = name_hash(name) & (p->hash_size - 1);; i = (i + 1) & (p->hash_size - 1)) {
                size_t k = p->hash[i];
                if (k == 0)
                        return NULL;
                if (streq(p->probes[k - 1]->name, name))
                        return p->probes[k - 1];
        }
}

static void hash_insert(Prober *p, size_t index)
{
        size_t i = name_hash(p->probes[index]->name) & (p->hash_size - 1);
        while (p->hash[i] != 0)
                i = (i + 1) & (p->hash_size - 1);
        p->hash[i] = index + 1;
}

static void hash_grow(Prober *p)
{
        /* Keep the load under one half. */
        if ((p->n_probes + 1) * 2 <= p->hash_size)
                return;
        free(p->hash);
        p->hash_size = p->hash_size ? p->hash_size * 2 : 64;
        p->hash = xcalloc(p->hash_size, sizeof(size_t));
        for (size_t i = 0; i < p->n_probes; i++)
                hash_insert(p, i);
}

static usec_t probe_interval(const Probe *pr)
{
        return MAX((usec_t) ((double) pr->interval / pr->factor), PROBE_MIN_INTERVAL);
}

static usec_t probe_jitter(const Probe *pr)
{
        return (usec_t) ((double) pr->jitter / pr->factor);
}

/* ---- delivery ------------------------------------------------------------------- */

void probe_deliver(Probe *pr, ProbeOutcome o, usec_t latency, double value, bool has_value, const char *detail)
{
        Prober *p = pr->prober;
        uint64_t at;

        pr->in_flight = false;
        if (p->freeing)
                return;
        pr->n_results++;
        if (sd_event_now(p->event, p->clock, &at) < 0)
                at = now_usec(p->clock);

        ProbeResult r = {
                .probe = pr->name,
                .target = pr->target,
                .site = pr->site,
                .vantage = pr->vantage ? pr->vantage : PROBER_VANTAGE_LOCAL,
                .outcome = o,
                .latency = latency,
                .value = has_value ? value : NAN,
                .has_value = has_value,
                .at = at,
                .detail = detail,
        };
        if (p->cb)
                p->cb(p, &r, p->userdata);
}

/* ---- TCP ------------------------------------------------------------------------ */

static void tcp_end(Probe *pr)
{
        pr->io = sd_event_source_disable_unref(pr->io);
        pr->deadline = sd_event_source_disable_unref(pr->deadline);
        if (pr->fd >= 0)
                close(pr->fd);
        pr->fd = -EBADF;
}

static void tcp_finish(Probe *pr, int err)
{
        char detail[192], b[FORMAT_DURATION_MAX];
        usec_t latency = usec_sub_unsigned(now_usec(CLOCK_MONOTONIC), pr->check_started);

        tcp_end(pr);
        if (err == 0) {
                snprintf(detail, sizeof(detail), "connected in %s", format_duration(b, latency));
                probe_deliver(pr, PROBE_OK, latency, NAN, false, detail);
        } else if (err == ETIMEDOUT) {
                snprintf(detail, sizeof(detail), "connect: no answer within %s", format_duration(b, pr->timeout));
                probe_deliver(pr, PROBE_TIMEOUT, latency, NAN, false, detail);
        } else {
                snprintf(detail, sizeof(detail), "connect: %s", strerror(err));
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
        }
}

static int tcp_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Probe *pr = userdata;
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        else if (err == 0 && (revents & (EPOLLERR | EPOLLHUP)))
                err = ECONNRESET;
        tcp_finish(pr, err);
        return 0;
}

static int tcp_deadline_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
        tcp_finish(userdata, ETIMEDOUT);
        return 0;
}

static void tcp_start(Probe *pr)
{
        Prober *p = pr->prober;
        char detail[192];
        int r;

        if (!pr->addr) {
                snprintf(detail, sizeof(detail), "address %.120s did not resolve when the probe was added",
                         pr->address);
                probe_deliver(pr, PROBE_FAIL, 0, NAN, false, detail);
                return;
        }

        pr->fd = socket(pr->addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (pr->fd < 0) {
                tcp_finish(pr, errno);
                return;
        }
        if (connect(pr->fd, (const struct sockaddr *) pr->addr, pr->addrlen) == 0) {
                tcp_finish(pr, 0);
                return;
        }
        if (errno != EINPROGRESS) {
                tcp_finish(pr, errno);
                return;
        }
        r = sd_event_add_io(p->event, &pr->io, pr->fd, EPOLLOUT, tcp_io_cb, pr);
        if (r >= 0)
                r = sd_event_add_time(p->event, &pr->deadline, CLOCK_MONOTONIC, pr->check_started + pr->timeout,
                                      1, tcp_deadline_cb, pr);
        if (r < 0)
                tcp_finish(pr, -r);
}

/* ---- SSH ------------------------------------------------------------------------ */

static void ssh_finish(Probe *pr, const ProberSshResult *a)
{
        char detail[192], b[FORMAT_DURATION_MAX];
        usec_t latency = a->finished > a->started ? a->finished - a->started : 0;
        double value = NAN;
        char *end;

        switch (a->status) {
        case PROBER_SSH_DONE:
                break;
        case PROBER_SSH_TIMEOUT:
                snprintf(detail, sizeof(detail), "no answer within %s", format_duration(b, pr->timeout));
                probe_deliver(pr, PROBE_TIMEOUT, latency, NAN, false, detail);
                return;
        default:
                /* The runner's messages name hosts and errors, never command output. */
                snprintf(detail, sizeof(detail), "%s: %.150s", strempty(a->status_name), strempty(a->error));
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                return;
        }

        if (a->exit_signal) {
                snprintf(detail, sizeof(detail), "killed by SIG%.20s", a->exit_signal);
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                return;
        }
        if (a->exit_status != pr->expect_exit_status) {
                snprintf(detail, sizeof(detail), "exit status %d, expected %d", a->exit_status,
                         pr->expect_exit_status);
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, detail);
                return;
        }
        if (!pr->has_max_value) {
                snprintf(detail, sizeof(detail), "exit status %d", a->exit_status);
                probe_deliver(pr, PROBE_OK, latency, NAN, false, detail);
                return;
        }

        errno = 0;
        value = a->out ? strtod(a->out, &end) : NAN;
        if (!a->out || end == a->out || errno != 0 || !isfinite(value) || end[strspn(end, " \t\r\n")] != '\0') {
                /* Output is not echoed: it may hold anything the command prints. */
                probe_deliver(pr, PROBE_FAIL, latency, NAN, false, "output is not a number");
                return;
        }
        if (value > pr->max_value) {
                snprintf(detail, sizeof(detail), "value %.6g over %.6g", value, pr->max_value);
                probe_deliver(pr, PROBE_SLOW, latency, value, true, detail);
                return;
        }
        snprintf(detail, sizeof(detail), "value %.6g", value);
        probe_deliver(pr, PROBE_OK, latency, value, true, detail);
}

static int ssh_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Prober *p = userdata;
        ProberSshResult a;
        uint64_t v;

        /* Reset the eventfd first: a result queued after this read makes it readable again. */
        (void) !read(fd, &v, sizeof(v));
        while (p->ssh_ops->collect(p->ssh, &a) == 0) {
                if (a.tag < p->n_probes && p->probes[a.tag]->in_flight) {
                        Probe *pr = p->probes[a.tag];
                        if (pr->vantage)
                                probe_remote_finish(pr, &a);
                        else
                                ssh_finish(pr, &a);
                }
        }
        return 0;
}

int prober_ensure_ssh(Prober *p)
{
        int r;

        if (p->ssh)
                return 0;
        if (!p->ssh_ops)
                return -EOPNOTSUPP;
        r = p->ssh_ops->new(&p->ssh);
        if (r < 0)
                return r;
        r = sd_event_add_io(p->event, &p->ssh_io, p->ssh_ops->get_fd(p->ssh), EPOLLIN, ssh_io_cb, p);
        if (r < 0) {
                p->ssh_ops->free(p->ssh);
                p->ssh = NULL;
                return r;
        }
        return 0;
}

int prober_set_ssh(Prober *p, const ProberSshOps *ops)
{
        if (!p || !ops || !ops->new || !ops->free || !ops->get_fd || !ops->submit || !ops->collect)
                return -EINVAL;
        if (p->ssh)
                return -EBUSY;
        p->ssh_ops = ops;
        return 0;
}

static void ssh_start(Probe *pr)
{
        Prober *p = pr->prober;
        ProberSshRequest a = {
                .tag = pr->index,
                .deadline = pr->check_started + pr->timeout,
                .output_cap = SSH_OUTPUT_CAP,
                .host = pr->host,
                .command = pr->command,
        };
        int r;

        r = p->ssh_ops->submit(p->ssh, &a);
        if (r < 0) {
                char detail[128];
                snprintf(detail, sizeof(detail), "cannot start: %s", strerror(-r));
                probe_deliver(pr, PROBE_FAIL, 0, NAN, false, detail);
        }
}

/* ---- schedule ------------------------------------------------------------------- */

static void probe_check_start(Probe *pr, bool kick_curl)
{
        pr->in_flight = true;
        pr->n_started++;
        pr->check_started = now_usec(CLOCK_MONOTONIC);
        if (pr->vantage) {
                probe_remote_start(pr);
                return;
        }
        switch (pr->kind) {
        case PROBE_KIND_HTTP:
        case PROBE_KIND_VENDOR_METRIC:
                probe_http_start(pr, kick_curl);
                break;
        case PROBE_KIND_TCP:
                tcp_start(pr);
                break;
        case PROBE_KIND_SSH:
                ssh_start(pr);
                break;
        default:
                probe_deliver(pr, PROBE_FAIL, 0, NAN, false, "unknown probe kind");
        }
}

/* Every probe's next check sits in one binary min-heap on `next`, served by ONE sd-event
 * timer. A timer source per probe would cost a loop iteration and a timerfd_settime()
 * per check (sd-event dispatches one source per iteration); the heap starts every probe
 * that is due in a single dispatch. */
static bool heap_less(Prober *p, size_t a, size_t b)
{
        return p->heap[a].next < p->heap[b].next;
}

static void heap_swap(Prober *p, size_t a, size_t b)
{
        HeapEntry t = p->heap[a];
        p->heap[a] = p->heap[b];
        p->heap[b] = t;
        p->heap[a].probe->heap_idx = a;
        p->heap[b].probe->heap_idx = b;
}

static void heap_fix(Prober *p, size_t i)
{
        while (i > 0 && heap_less(p, i, (i - 1) / 2)) {
                heap_swap(p, i, (i - 1) / 2);
                i = (i - 1) / 2;
        }
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < p->n_heap && heap_less(p, l, m))
                        m = l;
                if (r < p->n_heap && heap_less(p, r, m))
                        m = r;
                if (m == i)
                        break;
                heap_swap(p, i, m);
                i = m;
        }
}

static void heap_push(Prober *p, Probe *pr)
{
        p->heap = xrealloc(p->heap, (p->n_heap + 1) * sizeof(HeapEntry));
        p->heap[p->n_heap] = (HeapEntry) { .next = pr->next, .probe = pr };
        pr->heap_idx = p->n_heap++;
        heap_fix(p, pr->heap_idx);
}

static int schedule_arm(Prober *p)
{
        if (p->n_heap == 0)
                return sd_event_source_set_enabled(p->sched, SD_EVENT_OFF);
        int r = sd_event_source_set_time(p->sched, p->heap[0].next);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->sched, SD_EVENT_ONESHOT);
        return r;
}

static void probe_set_next(Probe *pr, usec_t when)
{
        pr->next = when;
        pr->prober->heap[pr->heap_idx].next = when;
        heap_fix(pr->prober, pr->heap_idx);
}

/* The next check: base advances by whole intervals (no drift), each firing is moved by
 * a fresh uniform offset in [-jitter, +jitter]. */
static void probe_schedule_next(Probe *pr, usec_t now)
{
        usec_t iv = probe_interval(pr), j = probe_jitter(pr), when;

        pr->base += iv;
        if (pr->base <= now) /* the loop stalled (or the factor changed): start afresh from now */
                pr->base = now + iv;
        when = pr->base - j + rng_below(pr->prober, 2 * j + 1);
        if (when <= now)
                when = now + 1;
        probe_set_next(pr, when);
}

static int schedule_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
        Prober *p = userdata;
        usec_t now = now_usec(CLOCK_MONOTONIC);

        while (p->n_heap > 0 && p->heap[0].next <= now) {
                Probe *pr = p->heap[0].probe;

                /* Re-planned first: a check that ends at once (a refused local connect) runs
                 * the callback, which may change factors or add probes — the heap is
                 * consistent by then. */
                probe_schedule_next(pr, now);
                if (pr->in_flight)
                        pr->n_skipped++;
                else
                        probe_check_start(pr, false);
        }
        /* One curl pass per multi handle starts every transfer added above (instead of a
         * zero-timeout timer and another loop iteration each). */
        prober_http_kick_pending(p);
        (void) schedule_arm(p);
        return 0;
}

/* ---- probes --------------------------------------------------------------------- */

static void probe_free(Probe *pr)
{
        if (!pr)
                return;
        tcp_end(pr);
        probe_http_free(pr);
        probe_remote_free(pr);
        if (pr->re) {
                regfree(pr->re);
                free(pr->re);
        }
        free(pr->name);
        free(pr->target);
        free(pr->site);
        free(pr->json_field);
        free(pr->addr);
        free(pr->address);
        free(pr->command);
        free(pr);
}

static int probe_resolve(Probe *pr)
{
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
        struct addrinfo *res = NULL;
        char port[8];

        snprintf(port, sizeof(port), "%u", (unsigned) pr->port);
        /* A name is resolved once, here (blocking, at start or reload); a numeric
         * address needs no resolver at all. */
        if (getaddrinfo(pr->address, port, &hints, &res) != 0 || !res)
                return 0; /* checks report it: the daemon must not refuse to start when DNS is down */
        pr->addr = xcalloc(1, sizeof(*pr->addr));
        memcpy(pr->addr, res->ai_addr, res->ai_addrlen);
        pr->addrlen = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

static int spec_validate(const ProbeSpec *s)
{
        if (!s->name || !*s->name || s->interval == 0 || s->timeout == 0 || s->jitter >= s->interval)
                return -EINVAL;
        switch (s->kind) {
        case PROBE_KIND_HTTP:
                break;
        case PROBE_KIND_VENDOR_METRIC:
                if (!s->json_field || !*s->json_field)
                        return -EINVAL;
                break;
        case PROBE_KIND_TCP:
                if (!s->address || !*s->address || s->port == 0)
                        return -EINVAL;
                break;
        case PROBE_KIND_SSH:
                if (!s->host || !s->command || !*s->command)
                        return -EINVAL;
                break;
        default:
                return -EINVAL;
        }
        if (s->n_expect_status > PROBER_EXPECT_STATUS_MAX || (s->n_expect_status > 0 && !s->expect_status))
                return -EINVAL;
        for (size_t i = 0; i < s->n_expect_status; i++)
                if (s->expect_status[i] < 100 || s->expect_status[i] > 599)
                        return -EINVAL;
        if (s->vantage && !*s->vantage)
                return -EINVAL;
        if (s->vantage && !streq(s->vantage, PROBER_VANTAGE_LOCAL)) {
                if (!s->vantage_host)
                        return -EINVAL;
                if (s->kind == PROBE_KIND_SSH)
                        return -EOPNOTSUPP;
        } else if (s->vantage_host)
                return -EINVAL;
        return 0;
}

/* Kind-specific setup of a check run by drover itself (vantage "local"). */
static int probe_setup_local(Probe *pr, const ProbeSpec *s)
{
        switch (s->kind) {
        case PROBE_KIND_HTTP:
        case PROBE_KIND_VENDOR_METRIC:
                return probe_http_setup(pr, s);
        case PROBE_KIND_TCP:
                pr->address = xstrdup(s->address);
                pr->port = s->port;
                return probe_resolve(pr);
        case PROBE_KIND_SSH:
                pr->host = s->host;
                pr->command = xstrdup(s->command);
                pr->expect_exit_status = s->expect_exit_status;
                pr->has_max_value = s->has_max_value;
                pr->max_value = s->max_value;
                return prober_ensure_ssh(pr->prober);
        default:
                return -EINVAL;
        }
}

int prober_add(Prober *p, const ProbeSpec *s)
{
        Probe *pr;
        usec_t now;
        int r;

        if (!p || !s)
                return -EINVAL;
        r = spec_validate(s);
        if (r < 0)
                return r;
        if (probe_find(p, s->name))
                return -EEXIST;

        pr = xcalloc(1, sizeof(*pr));
        pr->prober = p;
        pr->index = p->n_probes;
        pr->fd = -EBADF;
        pr->kind = s->kind;
        pr->name = xstrdup(s->name);
        pr->target = xstrdup(s->target ? s->target : s->name);
        pr->site = xstrdup(s->site);
        pr->interval = s->interval;
        pr->timeout = s->timeout;
        pr->jitter = s->jitter;
        pr->factor = 1.0;
        pr->latency_threshold = s->latency_threshold;
        pr->min = s->min;
        pr->json_field = xstrdup(s->json_field);
        for (size_t i = 0; i < s->n_expect_status; i++)
                pr->expect[i] = (uint16_t) s->expect_status[i];
        pr->n_expect = (uint8_t) s->n_expect_status;

        if (s->body_regex) {
                pr->re = xcalloc(1, sizeof(*pr->re));
                if (regcomp(pr->re, s->body_regex, REG_EXTENDED | REG_NOSUB) != 0) {
                        free(pr->re);
                        pr->re = NULL;
                        r = -EINVAL;
                        goto fail;
                }
        }

        if (s->kind == PROBE_KIND_HTTP)
                pr->min = NAN;
        r = s->vantage_host ? probe_remote_setup(pr, s) : probe_setup_local(pr, s);
        if (r < 0)
                goto fail;

        /* The first check lands anywhere in the first interval: probes added together
         * (10,000 at start-up) spread over the second instead of firing at once. */
        now = now_usec(CLOCK_MONOTONIC);
        pr->base = pr->next = now + rng_below(p, probe_interval(pr)) + 1;

        hash_grow(p);
        p->probes = xrealloc(p->probes, (p->n_probes + 1) * sizeof(Probe *));
        p->probes[p->n_probes++] = pr;
        hash_insert(p, pr->index);
        heap_push(p, pr);
        (void) schedule_arm(p);
        return 0;

fail:
        probe_free(pr);
        return r;
}

static int probe_set_factor(Probe *pr, double factor, usec_t now)
{
        usec_t iv;

        if (pr->factor == factor)
                return 0;
        pr->factor = factor;
        iv = probe_interval(pr);
        if (pr->next > now + iv) {
                /* Sooner than planned, at a random point of the new interval (never all at once). */
                pr->base = now + rng_below(pr->prober, iv) + 1;
                probe_set_next(pr, pr->base);
        }
        return 0;
}

int prober_set_interval_factor(Prober *p, const char *name, double factor)
{
        usec_t now;
        int r = 0;

        if (!p || !isfinite(factor) || factor < 1.0)
                return -EINVAL;
        now = now_usec(CLOCK_MONOTONIC);
        if (name) {
                Probe *pr = probe_find(p, name);
                if (!pr)
                        return -ENOENT;
                r = probe_set_factor(pr, factor, now);
        } else
                for (size_t i = 0; i < p->n_probes && r >= 0; i++)
                        r = probe_set_factor(p->probes[i], factor, now);
        if (r >= 0)
                r = schedule_arm(p);
        return r;
}

int prober_check_now(Prober *p, const char *name)
{
        Probe *pr;

        if (!p || !name)
                return -EINVAL;
        pr = probe_find(p, name);
        if (!pr)
                return -ENOENT;
        if (pr->in_flight)
                return -EBUSY;
        probe_check_start(pr, true);
        return 0;
}

int prober_set_clock(Prober *p, clockid_t clock)
{
        if (!p || (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME))
                return -EINVAL;
        p->clock = clock;
        return 0;
}

int prober_get_stats(Prober *p, const char *name, ProberStats *ret)
{
        Probe *pr;

        if (!p || !name || !ret)
                return -EINVAL;
        pr = probe_find(p, name);
        if (!pr)
                return -ENOENT;
        *ret = (ProberStats) {
                .started = pr->n_started,
                .results = pr->n_results,
                .skipped = pr->n_skipped,
                .in_flight = pr->in_flight,
                .next = pr->next,
                .interval = probe_interval(pr),
                .factor = pr->factor,
        };
        return 0;
}

size_t prober_n_probes(const Prober *p)
{
        return p ? p->n_probes : 0;
}

int prober_new(Prober **ret, sd_event *e, ProberCallback cb, void *userdata)
{
        Prober *p;
        int r;

        if (!ret || !e)
                return -EINVAL;
        p = xcalloc(1, sizeof(*p));
        p->event = sd_event_ref(e);
        p->cb = cb;
        p->userdata = userdata;
        p->clock = CLOCK_MONOTONIC;
        if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != (ssize_t) sizeof(p->rng))
                p->rng = now_usec(CLOCK_MONOTONIC) ^ ((uint64_t) getpid() << 32);
        p->rng |= 1; /* xorshift must not start at 0 */

        r = sd_event_add_time(e, &p->sched, CLOCK_MONOTONIC, USEC_INFINITY, PROBE_TIMER_ACCURACY, schedule_cb, p);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->sched, SD_EVENT_OFF);
        if (r >= 0)
                r = prober_http_init(p);
        if (r < 0) {
                sd_event_source_disable_unref(p->sched);
                sd_event_unref(p->event);
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

Prober *prober_free(Prober *p)
{
        if (!p)
                return NULL;
        p->freeing = true;

        /* The SSH runner first: its in-flight requests point into the probes. */
        p->ssh_io = sd_event_source_disable_unref(p->ssh_io);
        if (p->ssh)
                p->ssh_ops->free(p->ssh);
        p->ssh = NULL;
        prober_remote_done(p);

        for (size_t i = 0; i < p->n_probes; i++)
                probe_free(p->probes[i]);
        free(p->probes);
        free(p->heap);
        free(p->hash);
        p->sched = sd_event_source_disable_unref(p->sched);
        prober_http_done(p);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
