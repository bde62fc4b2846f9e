/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-prober.c — the prober in a real sd-event loop against a real sshd, the test HTTP
 * server and real sockets (started by 150-prober.sh, which passes ports and paths in the
 * environment). Asserts outcomes, values and counters; never exact durations or exact
 * counts of timer firings (a shared slow machine): only "at least" and orderings that a
 * stall cannot invert.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <fcntl.h>

#include "exec/prober-ssh.h"
#include "monitor/detector.h"
#include "monitor/prober.h"
#include "shared/strbuf.h"

static const char *lab;
static uint16_t sshd_port, http_port, free_port, blackhole_port;
/* When set, every result is fed to it as well (the detector-level tests). */
static Detector *feed_detector;

#define MAX_RECS 512

typedef struct Rec {
        char probe[64];
        char target[64];
        char vantage[16];
        char detail[256];
        ProbeOutcome outcome;
        usec_t latency, at;
        double value;
        bool has_value;
        bool in_flight_at_callback;
} Rec;

static Rec recs[MAX_RECS];
static size_t n_recs;

static void on_result(Prober *p, const ProbeResult *r, void *userdata)
{
        ProberStats st;
        Rec *x;

        if (n_recs >= MAX_RECS)
                return;
        x = &recs[n_recs++];
        snprintf(x->probe, sizeof(x->probe), "%s", r->probe);
        snprintf(x->target, sizeof(x->target), "%s", strempty(r->target));
        snprintf(x->vantage, sizeof(x->vantage), "%s", strempty(r->vantage));
        snprintf(x->detail, sizeof(x->detail), "%s", strempty(r->detail));
        x->outcome = r->outcome;
        x->latency = r->latency;
        x->at = r->at;
        x->value = r->value;
        x->has_value = r->has_value;
        if (feed_detector)
                assert_int_equal(detector_feed(feed_detector, r, NULL, 0, NULL), 0);
        assert_int_equal(prober_get_stats(p, r->probe, &st), 0);
        x->in_flight_at_callback = st.in_flight;
}

static size_t count_for(const char *probe)
{
        size_t n = 0;
        for (size_t i = 0; i < n_recs; i++)
                n += streq(recs[i].probe, probe);
        return n;
}

static const Rec *first_for(const char *probe)
{
        for (size_t i = 0; i < n_recs; i++)
                if (streq(recs[i].probe, probe))
                        return &recs[i];
        return NULL;
}

static const char *env_or_die(const char *name)
{
        const char *v = getenv(name);
        if (!v || !*v) {
                fprintf(stderr, "missing environment variable %s (run through 150-prober.sh)\n", name);
                exit(2);
        }
        return v;
}

typedef struct Fixture {
        sd_event *e;
        Prober *p;
} Fixture;

static int setup(void **state)
{
        Fixture *f = xcalloc(1, sizeof(*f));

        n_recs = 0;
        assert_int_equal(sd_event_new(&f->e), 0);
        assert_int_equal(prober_new(&f->p, f->e, on_result, NULL), 0);
        assert_int_equal(prober_set_ssh(f->p, &prober_ssh_real_ops), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        prober_free(f->p);
        sd_event_unref(f->e);
        free(f);
        return 0;
}

/* Run the loop until `probe` has `want` results or `max` passed (only a hang fails). */
static void run_until(Fixture *f, const char *probe, size_t want, usec_t max)
{
        usec_t end = now_usec(CLOCK_MONOTONIC) + max;

        while ((probe ? count_for(probe) : n_recs) < want && now_usec(CLOCK_MONOTONIC) < end)
                assert_true(sd_event_run(f->e, 100 * USEC_PER_MSEC) >= 0);
}

/* Run the loop for exactly `d` of wall time. */
static void run_for(Fixture *f, usec_t d)
{
        usec_t end = now_usec(CLOCK_MONOTONIC) + d;

        for (usec_t now; (now = now_usec(CLOCK_MONOTONIC)) < end;)
                assert_true(sd_event_run(f->e, end - now) >= 0);
}

/* One check now (or the scheduled one already running), then its first result. */
static const Rec *check_once(Fixture *f, const char *name)
{
        int r = prober_check_now(f->p, name);

        assert_true(r == 0 || r == -EBUSY);
        run_until(f, name, 1, 30 * USEC_PER_SEC);
        assert_int_equal(count_for(name), 1);
        return first_for(name);
}

static char url_buf[8][256];
static const char *url(int slot, const char *path)
{
        snprintf(url_buf[slot], sizeof(url_buf[slot]), "http://127.0.0.1:%u%s", http_port, path);
        return url_buf[slot];
}

/* Interval long enough that the schedule rarely fires during a one-shot test (and if
 * it does, check_once() accepts that check instead). */
#define ONE_SHOT .interval = 60 * USEC_PER_SEC, .timeout = 5 * USEC_PER_SEC

static ProbeSpec http_spec(const char *name, const char *u)
{
        return (ProbeSpec) { .name = name, .kind = PROBE_KIND_HTTP, .url = u, .site = "primary", ONE_SHOT };
}

/* ---- http ---- */

static void test_http_ok(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("web", url(0, "/health"));
        const Rec *r;

        s.body_regex = "\"status\": *\"ok\"";
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "web");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_string_equal(r->detail, "HTTP 200");
        assert_string_equal(r->target, "web");
        assert_string_equal(r->vantage, "local");
        assert_false(r->has_value);
        assert_true(isnan(r->value));
        assert_true(r->latency > 0);
        assert_true(r->at > 0 && r->at <= now_usec(CLOCK_MONOTONIC));
        assert_false(r->in_flight_at_callback);
}

static void test_http_wrong_status(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("down", url(0, "/status/503"));
        const Rec *r;

        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "down");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_string_equal(r->detail, "HTTP 503");
}

static void test_http_expect_status_listed(void **state)
{
        Fixture *f = *state;
        static const long expect[] = { 418, 503 };
        ProbeSpec s = http_spec("maint", url(0, "/status/503"));
        ProbeSpec s2 = http_spec("ok-not-listed", url(1, "/health"));

        s.expect_status = expect;
        s.n_expect_status = 2;
        s2.expect_status = expect;
        s2.n_expect_status = 2;
        assert_int_equal(prober_add(f->p, &s), 0);
        assert_int_equal(prober_add(f->p, &s2), 0);
        assert_int_equal(check_once(f, "maint")->outcome, PROBE_OK);
        /* With a list, 200 is no longer "any 2xx". */
        assert_int_equal(check_once(f, "ok-not-listed")->outcome, PROBE_FAIL);
}

static void test_http_body_mismatch(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("body", url(0, "/health"));
        const Rec *r;

        s.body_regex = "\"status\": *\"down\"";
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "body");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "body does not match"));
}

static void test_http_slow(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("slow", url(0, "/slow?ms=400"));
        const Rec *r;

        s.latency_threshold = 100 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "slow");
        assert_int_equal(r->outcome, PROBE_SLOW);
        /* The server sleeps 400 ms before answering: a lower bound, not a timing guess. */
        assert_true(r->latency >= 400 * USEC_PER_MSEC);
        assert_non_null(strstr(r->detail, "over 100ms"));
}

static void test_http_timeout(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("hang", url(0, "/slow?ms=5000"));
        const Rec *r;

        s.timeout = 300 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "hang");
        assert_int_equal(r->outcome, PROBE_TIMEOUT);
        assert_true(r->latency >= 300 * USEC_PER_MSEC);
        assert_true(r->latency < 5 * USEC_PER_SEC); /* ended by the timeout, not by the answer */
}

static void test_http_refused(void **state)
{
        Fixture *f = *state;
        char u[64];
        ProbeSpec s;
        const Rec *r;

        snprintf(u, sizeof(u), "http://127.0.0.1:%u/health", free_port);
        s = http_spec("refused", u);
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "refused");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "connect"));
}

static void test_http_redirect_not_followed(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("redir", url(0, "/redirect?n=1"));
        const Rec *r;

        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "redir");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "HTTP 302 redirect to"));
        assert_non_null(strstr(r->detail, "not followed"));
}

static void test_http_repeats_on_schedule(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("rep", url(0, "/health"));
        ProberStats st;

        /* The same easy handle is re-added for every check: results keep coming. */
        s.interval = 100 * USEC_PER_MSEC;
        s.timeout = 90 * USEC_PER_MSEC;
        s.jitter = 10 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &s), 0);
        run_until(f, "rep", 5, 30 * USEC_PER_SEC);
        assert_true(count_for("rep") >= 5);
        assert_int_equal(prober_get_stats(f->p, "rep", &st), 0);
        assert_true(st.results >= 5);
        assert_true(st.started == st.results + (st.in_flight ? 1 : 0));
}

static void test_http_many_probes_several_multis(void **state)
{
        Fixture *f = *state;
        enum { N = 300 }; /* more than one multi handle's worth (256) */
        static char names[N][16];
        ProberStats st;

        for (int i = 0; i < N; i++) {
                ProbeSpec s = http_spec(names[i], url(0, "/health"));
                snprintf(names[i], sizeof(names[i]), "m%d", i);
                s.interval = 2 * USEC_PER_SEC;
                s.timeout = 1500 * USEC_PER_MSEC;
                s.jitter = 100 * USEC_PER_MSEC;
                assert_int_equal(prober_add(f->p, &s), 0);
        }
        assert_int_equal(prober_n_probes(f->p), N);
        /* Until every probe has answered at least once (only a hang fails). */
        usec_t end = now_usec(CLOCK_MONOTONIC) + 60 * USEC_PER_SEC;
        for (int i = 0; i < N; i++) {
                for (;;) {
                        assert_int_equal(prober_get_stats(f->p, names[i], &st), 0);
                        if (st.results >= 1 || now_usec(CLOCK_MONOTONIC) >= end)
                                break;
                        assert_true(sd_event_run(f->e, 100 * USEC_PER_MSEC) >= 0);
                }
                assert_true(st.results >= 1);
        }
        for (size_t i = 0; i < n_recs; i++)
                assert_int_equal(recs[i].outcome, PROBE_OK);
}

/* ---- vendor-metric ---- */

static ProbeSpec metric_spec(const char *name, const char *field, double min)
{
        return (ProbeSpec) {
                .name = name,
                .kind = PROBE_KIND_VENDOR_METRIC,
                .url = url(2, "/json"),
                .json_field = field,
                .min = min,
                ONE_SHOT,
        };
}

static void test_metric_below(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = metric_spec("lag-low", "data.lag", 5);
        const Rec *r;

        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "lag-low");
        assert_int_equal(r->outcome, PROBE_SLOW);
        assert_true(r->has_value);
        assert_true(r->value == 3.0);
        assert_non_null(strstr(r->detail, "below 5"));
}

static void test_metric_ok(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = metric_spec("lag-ok", "data.lag", 2);
        ProbeSpec s2 = metric_spec("item", "items.0.id", NAN);
        const Rec *r;

        assert_int_equal(prober_add(f->p, &s), 0);
        assert_int_equal(prober_add(f->p, &s2), 0);
        r = check_once(f, "lag-ok");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_true(r->has_value);
        assert_true(r->value == 3.0);
        r = check_once(f, "item");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_true(r->value == 7.0);
}

static void test_metric_field_missing_or_not_number(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = metric_spec("nofield", "data.nope", 1);
        ProbeSpec s2 = metric_spec("string", "data.state", 1);
        const Rec *r;

        assert_int_equal(prober_add(f->p, &s), 0);
        assert_int_equal(prober_add(f->p, &s2), 0);
        r = check_once(f, "nofield");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_false(r->has_value);
        assert_non_null(strstr(r->detail, "is missing"));
        r = check_once(f, "string");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "not a number"));
}

/* ---- tcp ---- */

static ProbeSpec tcp_spec(const char *name, uint16_t port)
{
        return (ProbeSpec) { .name = name, .kind = PROBE_KIND_TCP, .address = "127.0.0.1", .port = port, ONE_SHOT };
}

static void test_tcp_ok_and_refused(void **state)
{
        Fixture *f = *state;
        ProbeSpec ok = tcp_spec("sshd-port", sshd_port), no = tcp_spec("free-port", free_port);
        const Rec *r;

        assert_int_equal(prober_add(f->p, &ok), 0);
        assert_int_equal(prober_add(f->p, &no), 0);
        r = check_once(f, "sshd-port");
        assert_int_equal(r->outcome, PROBE_OK);
        r = check_once(f, "free-port");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "refused"));
}

static void test_tcp_timeout_full_backlog(void **state)
{
        Fixture *f = *state;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int l, c;
        ProbeSpec s;
        const Rec *r;

        /* A listener with backlog 0 that never accepts: after one queued connection the
         * kernel drops further SYNs, so the next connect neither succeeds nor is refused. */
        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
        assert_int_equal(listen(l, 0), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *) &a, &len), 0);
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(c, (struct sockaddr *) &a, sizeof(a)), 0);

        s = tcp_spec("backlog", ntohs(a.sin_port));
        s.timeout = 500 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "backlog");
        assert_int_equal(r->outcome, PROBE_TIMEOUT);
        assert_true(r->latency >= 500 * USEC_PER_MSEC);
        close(c);
        close(l);
}

/* ---- ssh ---- */

static Host ssh_host;

static ProbeSpec ssh_spec(const char *name, const char *cmd)
{
        return (ProbeSpec) { .name = name, .kind = PROBE_KIND_SSH, .host = &ssh_host, .command = cmd, ONE_SHOT };
}

static void test_ssh(void **state)
{
        Fixture *f = *state;
        ProbeSpec t = ssh_spec("ssh-true", "true"), e1 = ssh_spec("ssh-exit1", "exit 1"),
                  v = ssh_spec("ssh-value", "echo 5"), vok = ssh_spec("ssh-value-ok", "echo 2"),
                  h = ssh_spec("ssh-hang", "sleep 5");
        const Rec *r;

        v.has_max_value = vok.has_max_value = true;
        v.max_value = vok.max_value = 3;
        h.timeout = 1 * USEC_PER_SEC;
        assert_int_equal(prober_add(f->p, &t), 0);
        assert_int_equal(prober_add(f->p, &e1), 0);
        assert_int_equal(prober_add(f->p, &v), 0);
        assert_int_equal(prober_add(f->p, &vok), 0);
        assert_int_equal(prober_add(f->p, &h), 0);

        r = check_once(f, "ssh-true");
        assert_int_equal(r->outcome, PROBE_OK);
        r = check_once(f, "ssh-exit1");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "exit status 1"));
        r = check_once(f, "ssh-value");
        assert_int_equal(r->outcome, PROBE_SLOW);
        assert_true(r->has_value && r->value == 5.0);
        r = check_once(f, "ssh-value-ok");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_true(r->has_value && r->value == 2.0);
        r = check_once(f, "ssh-hang");
        assert_int_equal(r->outcome, PROBE_TIMEOUT);
        assert_true(r->latency < 5 * USEC_PER_SEC);
}

/* The SSH seam (prober.h): without prober_set_ssh() the prober has no SSH at all, so
 * ssh probes and remote vantage points are refused and nothing else changes; with it,
 * the runner is created at the first such probe and cannot be swapped afterwards. */
static void test_ssh_seam(void **state)
{
        Fixture *f = *state;
        _cleanup_(prober_freep) Prober *bare = NULL;
        ProbeSpec t = ssh_spec("seam-true", "true"), h = http_spec("seam-web", url(0, "/health"));
        ProbeSpec rh = http_spec("seam-web@b", url(0, "/health"));
        const Rec *r;

        rh.vantage = "from-b";
        rh.vantage_host = &ssh_host;
        assert_int_equal(prober_new(&bare, f->e, on_result, NULL), 0);
        assert_int_equal(prober_set_ssh(bare, NULL), -EINVAL);
        assert_int_equal(prober_add(bare, &t), -EOPNOTSUPP);
        assert_int_equal(prober_add(bare, &rh), -EOPNOTSUPP);
        assert_int_equal(prober_add(bare, &h), 0);
        assert_int_equal(prober_n_probes(bare), 1);
        /* No runner was created by the refused adds: one may still be given. */
        assert_int_equal(prober_set_ssh(bare, &prober_ssh_real_ops), 0);
        assert_int_equal(prober_add(bare, &t), 0);
        assert_int_equal(prober_set_ssh(bare, &prober_ssh_real_ops), -EBUSY);
        bare = prober_free(bare);

        /* The fixture's prober has the RealExecutor's runner: a check goes through it. */
        assert_int_equal(prober_add(f->p, &t), 0);
        assert_int_equal(prober_set_ssh(f->p, &prober_ssh_real_ops), -EBUSY);
        r = check_once(f, "seam-true");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_string_equal(r->detail, "exit status 0");
}

/* ---- remote vantage points (the test sshd on loopback is the vantage host) ---- */

#define VANTAGE "from-b"

static Host down_host, badkey_host, hung_host;

static ProbeSpec remote(ProbeSpec s)
{
        s.vantage = VANTAGE;
        s.vantage_host = &ssh_host;
        return s;
}

static void test_remote_http_ok(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = remote(http_spec("r-web", url(0, "/health")));
        const Rec *r;

        s.target = "web";
        s.body_regex = "\"status\": *\"ok\"";
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "r-web");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_string_equal(r->detail, "HTTP 200");
        assert_string_equal(r->target, "web");
        assert_string_equal(r->vantage, VANTAGE);
        assert_false(r->has_value);
        assert_true(r->latency > 0);
        assert_false(r->in_flight_at_callback);
        /* Again on the kept session. */
        n_recs = 0;
        r = check_once(f, "r-web");
        assert_int_equal(r->outcome, PROBE_OK);
}

static void test_remote_http_wrong_status_and_body(void **state)
{
        Fixture *f = *state;
        ProbeSpec st = remote(http_spec("r-503", url(0, "/status/503")));
        ProbeSpec body = remote(http_spec("r-body", url(1, "/health")));
        ProbeSpec redir = remote(http_spec("r-redir", url(2, "/redirect?n=1")));
        static const long expect[] = { 503 };
        ProbeSpec listed = remote(http_spec("r-503-listed", url(3, "/status/503")));
        const Rec *r;

        body.body_regex = "\"status\": *\"down\"";
        listed.expect_status = expect;
        listed.n_expect_status = 1;
        assert_int_equal(prober_add(f->p, &st), 0);
        assert_int_equal(prober_add(f->p, &body), 0);
        assert_int_equal(prober_add(f->p, &redir), 0);
        assert_int_equal(prober_add(f->p, &listed), 0);
        r = check_once(f, "r-503");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_string_equal(r->detail, "HTTP 503");
        assert_string_equal(r->vantage, VANTAGE);
        r = check_once(f, "r-body");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "body does not match"));
        r = check_once(f, "r-redir");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "HTTP 302 redirect to"));
        assert_non_null(strstr(r->detail, "/redirect?n=0"));
        r = check_once(f, "r-503-listed");
        assert_int_equal(r->outcome, PROBE_OK);
}

static void test_remote_http_timeout_and_refused(void **state)
{
        Fixture *f = *state;
        char u[64];
        ProbeSpec hang = remote(http_spec("r-hang", url(0, "/slow?ms=5000")));
        ProbeSpec slow = remote(http_spec("r-slow", url(1, "/slow?ms=400")));
        ProbeSpec refused;
        const Rec *r;

        snprintf(u, sizeof(u), "http://127.0.0.1:%u/health", free_port);
        refused = remote(http_spec("r-refused", u));
        hang.timeout = 300 * USEC_PER_MSEC;
        slow.latency_threshold = 100 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &hang), 0);
        assert_int_equal(prober_add(f->p, &slow), 0);
        assert_int_equal(prober_add(f->p, &refused), 0);
        /* The target's timeout, measured on the vantage host: timeout, not unavailable. */
        r = check_once(f, "r-hang");
        assert_int_equal(r->outcome, PROBE_TIMEOUT);
        assert_true(r->latency >= 300 * USEC_PER_MSEC);
        r = check_once(f, "r-slow");
        assert_int_equal(r->outcome, PROBE_SLOW);
        assert_true(r->latency >= 400 * USEC_PER_MSEC);
        r = check_once(f, "r-refused");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "connect"));
}

static void test_remote_metric(void **state)
{
        Fixture *f = *state;
        ProbeSpec low = remote(metric_spec("r-lag-low", "data.lag", 5));
        ProbeSpec item = remote(metric_spec("r-item", "items.0.id", NAN));
        ProbeSpec missing = remote(metric_spec("r-missing", "data.nope", 1));
        const Rec *r;

        assert_int_equal(prober_add(f->p, &low), 0);
        assert_int_equal(prober_add(f->p, &item), 0);
        assert_int_equal(prober_add(f->p, &missing), 0);
        r = check_once(f, "r-lag-low");
        assert_int_equal(r->outcome, PROBE_SLOW);
        assert_true(r->has_value && r->value == 3.0);
        assert_non_null(strstr(r->detail, "below 5"));
        r = check_once(f, "r-item");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_true(r->has_value && r->value == 7.0);
        assert_string_equal(r->vantage, VANTAGE);
        r = check_once(f, "r-missing");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "is missing"));
}

static void test_remote_tcp(void **state)
{
        Fixture *f = *state;
        ProbeSpec ok = remote(tcp_spec("r-sshd-port", sshd_port)), no = remote(tcp_spec("r-free-port", free_port));
        const Rec *r;

        assert_int_equal(prober_add(f->p, &ok), 0);
        assert_int_equal(prober_add(f->p, &no), 0);
        r = check_once(f, "r-sshd-port");
        assert_int_equal(r->outcome, PROBE_OK);
        assert_string_equal(r->vantage, VANTAGE);
        assert_non_null(strstr(r->detail, "connected in"));
        r = check_once(f, "r-free-port");
        assert_int_equal(r->outcome, PROBE_FAIL);
        assert_non_null(strstr(r->detail, "refused"));
}

static void test_remote_tcp_timeout(void **state)
{
        Fixture *f = *state;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        ProbeSpec s;
        const Rec *r;
        int l, c;

        /* As in test_tcp_timeout_full_backlog: SYNs to a full backlog are dropped. */
        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
        assert_int_equal(listen(l, 0), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *) &a, &len), 0);
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(c, (struct sockaddr *) &a, sizeof(a)), 0);

        s = remote(tcp_spec("r-backlog", ntohs(a.sin_port)));
        s.timeout = 500 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &s), 0);
        r = check_once(f, "r-backlog");
        assert_int_equal(r->outcome, PROBE_TIMEOUT);
        close(c);
        close(l);
}

static void test_remote_vantage_down_is_unavailable(void **state)
{
        Fixture *f = *state;
        ProbeSpec refused = remote(http_spec("r-vantage-refused", url(0, "/health")));
        ProbeSpec badkey = remote(tcp_spec("r-vantage-badkey", sshd_port));
        ProbeSpec hung = remote(http_spec("r-vantage-hung", url(1, "/health")));
        const Rec *r;

        /* The target answers; only the way to the vantage host is broken. */
        refused.vantage_host = &down_host;
        badkey.vantage_host = &badkey_host;
        hung.vantage_host = &hung_host;
        hung.timeout = 300 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &refused), 0);
        assert_int_equal(prober_add(f->p, &badkey), 0);
        assert_int_equal(prober_add(f->p, &hung), 0);

        r = check_once(f, "r-vantage-refused");
        assert_int_equal(r->outcome, PROBE_UNAVAILABLE);
        assert_non_null(strstr(r->detail, "vantage " VANTAGE ": "));
        assert_string_equal(r->vantage, VANTAGE);
        r = check_once(f, "r-vantage-badkey");
        assert_int_equal(r->outcome, PROBE_UNAVAILABLE);
        assert_non_null(strstr(r->detail, "known_hosts"));
        /* An SSH server that never speaks: the SSH leg's deadline, still not the target's fault. */
        r = check_once(f, "r-vantage-hung");
        assert_int_equal(r->outcome, PROBE_UNAVAILABLE);
        assert_true(r->latency >= 300 * USEC_PER_MSEC);
}

static bool file_contains(const char *path, const char *needle, size_t needle_len)
{
        char buf[65536];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool found = false;

        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf));
        close(fd);
        /* cmdline is NUL-separated: search the raw bytes. */
        if (n > 0 && memmem(buf, (size_t) n, needle, needle_len))
                found = true;
        return found;
}

/* Scans every process's argv; *ret_seen counts those that contain `marker`. */
static bool any_cmdline_contains(const char *secret, const char *marker, unsigned *ret_seen)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        bool found = false;

        assert_non_null(d);
        while ((de = readdir(d))) {
                char path[300];

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                if (file_contains(path, secret, strlen(secret)))
                        found = true;
                if (file_contains(path, marker, strlen(marker)))
                        (*ret_seen)++;
        }
        closedir(d);
        return found;
}

static void test_remote_secrets_not_in_argv(void **state)
{
        Fixture *f = *state;
        char secret[64], hdr[96], path[512];
        char *const headers[] = { hdr, (char *) "X-Quoted: a \"b\" \\c", NULL };
        ProbeSpec rec = remote(http_spec("r-record", url(0, "/record/vsecret")));
        ProbeSpec slow = remote(http_spec("r-secret-slow", url(1, "/slow?ms=2500")));
        unsigned seen = 0;
        const Rec *r;

        snprintf(secret, sizeof(secret), "vantage-s3cr3t-%ld", (long) getpid());
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", secret);
        rec.headers = slow.headers = headers;
        assert_int_equal(prober_add(f->p, &rec), 0);
        assert_int_equal(prober_add(f->p, &slow), 0);

        /* The header reaches the target, quoting intact... */
        r = check_once(f, "r-record");
        assert_int_equal(r->outcome, PROBE_OK);
        snprintf(path, sizeof(path), "%s/http/vsecret.1.json", lab);
        assert_true(file_contains(path, secret, strlen(secret)));
        assert_true(file_contains(path, "a \\\"b\\\" \\\\c", strlen("a \\\"b\\\" \\\\c")));
        assert_null(strstr(r->detail, secret));

        /* ...but never through any process's argv while the remote curl runs. */
        assert_int_equal(prober_check_now(f->p, "r-secret-slow"), 0);
        usec_t end = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;
        while (count_for("r-secret-slow") == 0 && now_usec(CLOCK_MONOTONIC) < end) {
                assert_false(any_cmdline_contains(secret, "drover-probe/", &seen));
                assert_true(sd_event_run(f->e, 50 * USEC_PER_MSEC) >= 0);
        }
        assert_int_equal(count_for("r-secret-slow"), 1);
        assert_int_equal(first_for("r-secret-slow")->outcome, PROBE_OK);
        /* The scan did see the remote curl (its -A argument) at least once. */
        assert_true(seen >= 1);
}

static void test_remote_hung_check_does_not_block_others(void **state)
{
        Fixture *f = *state;
        ProbeSpec hang = remote(http_spec("r-long", url(0, "/slow?ms=6000")));
        ProbeSpec quick = remote(http_spec("r-quick", url(1, "/health")));
        const Rec *r;

        /* quick's SSH deadline (1 s + grace) is shorter than the long check: on a single
         * session it would queue behind it and end unavailable. */
        hang.timeout = 8 * USEC_PER_SEC;
        quick.timeout = 1 * USEC_PER_SEC;
        assert_int_equal(prober_add(f->p, &hang), 0);
        assert_int_equal(prober_add(f->p, &quick), 0);
        assert_int_equal(prober_check_now(f->p, "r-long"), 0);
        run_for(f, 200 * USEC_PER_MSEC);
        r = check_once(f, "r-quick");
        assert_int_equal(r->outcome, PROBE_OK);
        /* teardown frees the prober with r-long still running. */
}

/* ---- the detector on real results: quorum 2 of [local, remote] ---- */

static void detector_target(Detector *d, const char *name)
{
        static const char *const vantages[] = { "local", VANTAGE };
        DetectorTargetConfig c = {
                .name = name,
                .site = "primary",
                .fall = 2,
                .rise = 2,
                .quorum = 2,
                .vantages = vantages,
                .n_vantages = 2,
                .metric_min = NAN,
        };
        assert_int_equal(detector_add_target(d, &c), 0);
}

static void test_remote_quorum(void **state)
{
        Fixture *f = *state;
        _cleanup_(detector_freep) Detector *d = NULL;
        char refused_url[64];
        ProbeSpec specs[6];
        DetectorTargetStats st;

        /* split: drover's own view fails (its link to the target is "lost": a refused
         * port), the remote vantage sees the target answer. both: both see it fail.
         * lost: drover's view fails and the vantage host itself is unreachable. */
        snprintf(refused_url, sizeof(refused_url), "http://127.0.0.1:%u/health", free_port);
        specs[0] = http_spec("split", refused_url);
        specs[1] = remote(http_spec("split@" VANTAGE, url(0, "/health")));
        specs[1].target = "split";
        specs[2] = http_spec("both", refused_url);
        specs[3] = remote(http_spec("both@" VANTAGE, url(1, "/status/503")));
        specs[3].target = "both";
        specs[4] = http_spec("lost", refused_url);
        specs[5] = remote(http_spec("lost@" VANTAGE, url(2, "/health")));
        specs[5].target = "lost";
        specs[5].vantage_host = &down_host;

        assert_int_equal(detector_new(&d), 0);
        detector_target(d, "split");
        detector_target(d, "both");
        detector_target(d, "lost");
        for (size_t i = 0; i < ELEMENTSOF(specs); i++)
                assert_int_equal(prober_add(f->p, &specs[i]), 0);

        feed_detector = d;
        for (size_t round = 1; round <= 3; round++) {
                for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                        int r = prober_check_now(f->p, specs[i].name);
                        assert_true(r == 0 || r == -EBUSY);
                }
                for (size_t i = 0; i < ELEMENTSOF(specs); i++)
                        run_until(f, specs[i].name, round, 30 * USEC_PER_SEC);
                for (size_t i = 0; i < ELEMENTSOF(specs); i++)
                        assert_true(count_for(specs[i].name) >= round);
        }
        feed_detector = NULL;

        /* Only drover's own view failed: not down (no failover from our own outage). */
        assert_int_equal(detector_target_stats(d, "split", &st), 0);
        assert_int_equal(st.health, HEALTH_DEGRADED);
        assert_int_equal(st.vantages_down, 1);
        assert_non_null(strstr(st.reason, "down from 1 of 2 vantage points (quorum 2)"));
        /* Both agree: down. */
        assert_int_equal(detector_target_stats(d, "both", &st), 0);
        assert_int_equal(st.health, HEALTH_DOWN);
        assert_int_equal(st.vantages_down, 2);
        /* The vantage host is gone: it abstains, it does not vote down. */
        assert_int_equal(detector_target_stats(d, "lost", &st), 0);
        assert_int_equal(st.health, HEALTH_DEGRADED);
        assert_int_equal(st.vantages_down, 1);
        assert_int_equal(st.vantages_unavailable, 1);
        assert_non_null(strstr(st.reason, "1 unavailable"));
}

/* ---- schedule ---- */

static usec_t spread(const usec_t *v, size_t n)
{
        usec_t lo = USEC_INFINITY, hi = 0;
        for (size_t i = 0; i < n; i++) {
                lo = MIN(lo, v[i]);
                hi = MAX(hi, v[i]);
        }
        return hi - lo;
}

static void test_jitter_not_lock_step(void **state)
{
        Fixture *f = *state;
        char names[5][16];
        usec_t next[5];
        ProberStats st;

        for (int i = 0; i < 5; i++) {
                ProbeSpec s = http_spec(names[i], url(0, "/health"));
                snprintf(names[i], sizeof(names[i]), "j%d", i);
                s.name = names[i];
                s.interval = 300 * USEC_PER_MSEC;
                s.timeout = 250 * USEC_PER_MSEC;
                s.jitter = 50 * USEC_PER_MSEC;
                assert_int_equal(prober_add(f->p, &s), 0);
        }
        /* Added in the same loop iteration with the same interval: still apart, and not
         * merely by the microseconds between the adds (uniform over 300 ms: five draws
         * within 1 ms of each other have a probability of about 1e-9). */
        for (int i = 0; i < 5; i++) {
                assert_int_equal(prober_get_stats(f->p, names[i], &st), 0);
                next[i] = st.next;
                assert_true(next[i] != USEC_INFINITY);
                for (int k = 0; k < i; k++)
                        assert_true(next[i] != next[k]);
        }
        assert_true(spread(next, 5) > USEC_PER_MSEC);
        /* And after each has fired a few times (jitter on top of the spread). */
        for (int i = 0; i < 5; i++)
                run_until(f, names[i], 3, 30 * USEC_PER_SEC);
        for (int i = 0; i < 5; i++) {
                assert_int_equal(prober_get_stats(f->p, names[i], &st), 0);
                assert_true(st.started >= 3);
                next[i] = st.next;
                for (int k = 0; k < i; k++)
                        assert_true(next[i] != next[k]);
        }
}

static void test_one_check_in_flight(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("overrun", url(0, "/slow?ms=700"));
        ProberStats st;

        s.interval = 200 * USEC_PER_MSEC;
        s.timeout = 5 * USEC_PER_SEC;
        s.jitter = 20 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &s), 0);
        run_until(f, "overrun", 2, 30 * USEC_PER_SEC);
        assert_int_equal(prober_get_stats(f->p, "overrun", &st), 0);
        assert_true(st.results >= 2);
        /* Each 700 ms check spans several 200 ms ticks: those were skipped, not stacked. */
        assert_true(st.skipped >= 1);
        assert_true(st.started == st.results + (st.in_flight ? 1 : 0));
        if (st.in_flight)
                assert_int_equal(prober_check_now(f->p, "overrun"), -EBUSY);
}

static void test_interval_factor(void **state)
{
        Fixture *f = *state;
        ProbeSpec a = http_spec("normal", url(0, "/health")), b = http_spec("raised", url(1, "/health"));
        ProberStats sa, sb;

        a.interval = b.interval = 400 * USEC_PER_MSEC;
        a.timeout = b.timeout = 150 * USEC_PER_MSEC;
        a.jitter = b.jitter = 20 * USEC_PER_MSEC;
        assert_int_equal(prober_add(f->p, &a), 0);
        assert_int_equal(prober_add(f->p, &b), 0);

        assert_int_equal(prober_set_interval_factor(f->p, "raised", 2), 0);
        assert_int_equal(prober_get_stats(f->p, "raised", &sb), 0);
        assert_int_equal(sb.interval, 200 * USEC_PER_MSEC);
        assert_true(sb.factor == 2.0);
        assert_int_equal(prober_get_stats(f->p, "normal", &sa), 0);
        assert_int_equal(sa.interval, 400 * USEC_PER_MSEC);

        run_for(f, 4 * USEC_PER_SEC);
        assert_int_equal(prober_get_stats(f->p, "normal", &sa), 0);
        assert_int_equal(prober_get_stats(f->p, "raised", &sb), 0);
        assert_true(sa.results >= 1);
        /* Twice the frequency over the same window: more results, whatever the stalls. */
        assert_true(sb.results > sa.results);

        /* NULL: every probe; 1 restores. */
        assert_int_equal(prober_set_interval_factor(f->p, NULL, 1), 0);
        assert_int_equal(prober_get_stats(f->p, "raised", &sb), 0);
        assert_int_equal(sb.interval, 400 * USEC_PER_MSEC);
        assert_int_equal(prober_set_interval_factor(f->p, NULL, 4), 0);
        assert_int_equal(prober_get_stats(f->p, "normal", &sa), 0);
        assert_int_equal(sa.interval, 100 * USEC_PER_MSEC);
        /* Raising pulls the next check into the new interval. */
        assert_true(sa.next <= now_usec(CLOCK_MONOTONIC) + 100 * USEC_PER_MSEC + 1);
}

/* ---- API ---- */

static void test_add_errors(void **state)
{
        Fixture *f = *state;
        ProbeSpec s = http_spec("dup", url(0, "/health")), bad;

        assert_int_equal(prober_add(f->p, &s), 0);
        assert_int_equal(prober_add(f->p, &s), -EEXIST);

        bad = http_spec("bad-regex", url(0, "/health"));
        bad.body_regex = "(unclosed";
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        /* A remote vantage needs its host, and a host needs a remote vantage. */
        bad = http_spec("remote", url(0, "/health"));
        bad.vantage = "from-backup";
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);
        bad = http_spec("local-with-host", url(0, "/health"));
        bad.vantage_host = &ssh_host;
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);
        bad.vantage = "";
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);
        /* ssh checks are about a host's state, not a point of view: local only. */
        bad = ssh_spec("ssh-remote", "true");
        bad.vantage = "from-backup";
        bad.vantage_host = &ssh_host;
        assert_int_equal(prober_add(f->p, &bad), -EOPNOTSUPP);
        /* A CR/LF in a header of a remote check could inject lines into curl's config. */
        {
                char *const hdr[] = { (char *) "X-A: 1\r\nX-B: 2", NULL };
                bad = http_spec("remote-crlf", url(0, "/health"));
                bad.vantage = "from-backup";
                bad.vantage_host = &ssh_host;
                bad.headers = hdr;
                assert_int_equal(prober_add(f->p, &bad), -EINVAL);
        }
        bad = tcp_spec("remote-space", 22);
        bad.address = "127.0.0.1 23";
        bad.vantage = "from-backup";
        bad.vantage_host = &ssh_host;
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        bad = http_spec("jitter", url(0, "/health"));
        bad.jitter = bad.interval;
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        bad = http_spec("no-url", NULL);
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        bad = http_spec("ftp", "ftp://127.0.0.1/");
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        bad = metric_spec("no-field", NULL, 1);
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        bad = ssh_spec("no-host", "true");
        bad.host = NULL;
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        bad = tcp_spec("no-port", 0);
        assert_int_equal(prober_add(f->p, &bad), -EINVAL);

        /* Failed adds left nothing behind. */
        assert_int_equal(prober_n_probes(f->p), 1);
        assert_int_equal(prober_set_interval_factor(f->p, "nope", 2), -ENOENT);
        assert_int_equal(prober_set_interval_factor(f->p, "dup", 0.5), -EINVAL);
        assert_int_equal(prober_set_interval_factor(f->p, "dup", NAN), -EINVAL);
        assert_int_equal(prober_check_now(f->p, "nope"), -ENOENT);
}

static void test_free_with_checks_in_flight(void **state)
{
        Fixture *f = *state;
        ProbeSpec h = http_spec("inflight-http", url(0, "/slow?ms=3000"));
        ProbeSpec s = ssh_spec("inflight-ssh", "sleep 3");
        ProberStats st;

        assert_int_equal(prober_add(f->p, &h), 0);
        assert_int_equal(prober_add(f->p, &s), 0);
        assert_int_equal(prober_check_now(f->p, "inflight-http"), 0);
        assert_int_equal(prober_check_now(f->p, "inflight-ssh"), 0);
        run_for(f, 300 * USEC_PER_MSEC);
        assert_int_equal(prober_get_stats(f->p, "inflight-http", &st), 0);
        assert_true(st.in_flight);
        /* teardown frees the prober now: no callback, no leak (ASan), no hang. */
        n_recs = 0;
        f->p = prober_free(f->p);
        assert_int_equal(n_recs, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_http_ok, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_wrong_status, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_expect_status_listed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_body_mismatch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_slow, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_redirect_not_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_repeats_on_schedule, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http_many_probes_several_multis, setup, teardown),
                cmocka_unit_test_setup_teardown(test_metric_below, setup, teardown),
                cmocka_unit_test_setup_teardown(test_metric_ok, setup, teardown),
                cmocka_unit_test_setup_teardown(test_metric_field_missing_or_not_number, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tcp_ok_and_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tcp_timeout_full_backlog, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ssh, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ssh_seam, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_http_ok, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_http_wrong_status_and_body, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_http_timeout_and_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_metric, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_tcp, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_tcp_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_vantage_down_is_unavailable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_secrets_not_in_argv, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_hung_check_does_not_block_others, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_quorum, setup, teardown),
                cmocka_unit_test_setup_teardown(test_jitter_not_lock_step, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_check_in_flight, setup, teardown),
                cmocka_unit_test_setup_teardown(test_interval_factor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_add_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_with_checks_in_flight, setup, teardown),
        };
        char *key, *kh, *kh_empty;
        int r, fd;

        lab = env_or_die("TEST_LAB");
        sshd_port = (uint16_t) atoi(env_or_die("SSHD_PORT"));
        http_port = (uint16_t) atoi(env_or_die("HTTP_PORT"));
        free_port = (uint16_t) atoi(env_or_die("FREE_PORT"));
        blackhole_port = (uint16_t) atoi(env_or_die("BLACKHOLE_PORT"));
        key = xasprintf("%s/id_ed25519", lab);
        kh = xasprintf("%s/known_hosts", lab);
        ssh_host = (Host) {
                .name = (char *) "h1",
                .address = (char *) "127.0.0.1",
                .port = sshd_port,
                .user = (char *) "root",
                .key_file = key,
                .known_hosts = kh,
                .connect_timeout = 10 * USEC_PER_SEC,
        };
        /* Vantage hosts that cannot be reached: nothing listens; a host key nobody knows;
         * a TCP peer that never speaks SSH. */
        down_host = ssh_host;
        down_host.port = free_port;
        kh_empty = xasprintf("%s/known_hosts.empty", lab);
        fd = open(kh_empty, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        badkey_host = ssh_host;
        badkey_host.known_hosts = kh_empty;
        hung_host = ssh_host;
        hung_host.port = blackhole_port;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        free(key);
        free(kh);
        free(kh_empty);
        return r;
}
