/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe-capacity.c — how much CPU the prober needs for N HTTP probes on loopback, each
 * probed once per interval (the target: 10,000 probes once a second in under
 * half a core).
 *
 * A tiny epoll HTTP/1.1 responder runs as a CHILD PROCESS (so its CPU is not counted:
 * getrusage(RUSAGE_SELF) of the parent is the prober alone — the prober has no threads
 * for HTTP, and 127.0.0.1 needs no resolver thread). It answers every request with a
 * fixed "200 OK" and keeps connections alive. The parent runs the real prober in an
 * sd-event loop: N probes of kind http, interval 1 s, timeout 800 ms, jitter 100 ms.
 * After a warm-up (the first checks spread over the first interval and open their
 * connections), it measures over D seconds: results per second, CPU seconds (user +
 * system) per 1000 checks, and the fraction of one core. Steady state is honest: each
 * probe reuses its easy handle, and idle keep-alive connections stay in the multi's
 * pool between checks, so no check pays a TCP handshake once warmed up.
 *
 * Then, in the same run and against the same responder, the same N targets through
 * Prometheus blackbox_exporter (Debian: prometheus-blackbox-exporter), which probes once
 * per scrape of /probe?target=…: the exporter runs as a child on 127.0.0.1 with its own
 * config (module http_2xx: prober http, timeout = 80% of the interval, like the prober's
 * checks), stopped by PID at the end. A bounded scraper in this process (curl multi,
 * keep-alive, at most SCRAPE_SLOTS requests in flight) issues N /probe requests per
 * interval, evenly spread; a request due while every slot is busy is dropped and counted
 * rather than queued, so an overloaded exporter shows as fewer probes/s, not as a growing
 * backlog. A probe counts when the scrape answers 200 with "probe_success 1". The
 * exporter's CPU (all its threads) comes from /proc/PID/stat; the scraper's own CPU
 * (getrusage of this process, the prober freed by then) is printed separately.
 *
 * Usage: probe-capacity [-n PROBES] [-d SECONDS] [-i INTERVAL_MS] [-w WARMUP_SECONDS] [-p PORTS]
 *                       [-b BLACKBOX_EXPORTER | -B]
 *   -p: the responder listens on PORTS ports and probe i targets port i % PORTS (default
 *       1). curl pools idle connections per host:port, so with one port the probes share
 *       a pool (a few hundred connections); with many ports (-p 4000) most probes keep a
 *       connection of their own, closer to 10,000 distinct targets.
 *   -b: the exporter binary (default /usr/bin/prometheus-blackbox-exporter, skipped with
 *       a note when it is not installed); -B: skip the comparison.
 * Built by bench/meson.build, never run by `meson test`.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>

#include "monitor/prober.h"
#include "shared/strbuf.h"

#define BLACKBOX_DEFAULT "/usr/bin/prometheus-blackbox-exporter"
/* The scraper's bound: requests to the exporter in flight at once (and kept-alive
 * connections to it). */
#define SCRAPE_SLOTS 512U
#define SCRAPE_BODY_MAX 16384U

static const char response[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 16\r\n"
                               "Connection: keep-alive\r\n"
                               "\r\n"
                               "{\"status\":\"ok\"}\n";

typedef struct Conn {
        int fd;
        bool listener;
        size_t matched; /* bytes of "\r\n\r\n" matched so far, across reads */
} Conn;

static volatile sig_atomic_t responder_stop, responder_report;

static void responder_sigterm(int sig)
{
        responder_stop = 1;
}

static void responder_sigusr1(int sig)
{
        responder_report = 1;
}

/* The child: accept, read, answer one response per request head. GET requests have no
 * body, so counting "\r\n\r\n" is counting requests. On SIGTERM it prints how many
 * connections it accepted: far fewer than requests means keep-alive worked. */
static _noreturn_ void responder(const int *lfds, unsigned n_lfds)
{
        static const char end[] = "\r\n\r\n";
        struct sigaction sa = { .sa_handler = responder_sigterm }, su = { .sa_handler = responder_sigusr1 };
        unsigned long long n_accepted = 0, n_requests = 0;
        struct epoll_event evs[256];
        char buf[16384];
        int ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep < 0 || sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGUSR1, &su, NULL) < 0)
                _exit(1);
        for (unsigned i = 0; i < n_lfds; i++) {
                Conn *l = calloc(1, sizeof(*l));
                if (!l)
                        _exit(1);
                *l = (Conn) { .fd = lfds[i], .listener = true };
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
                if (epoll_ctl(ep, EPOLL_CTL_ADD, lfds[i], &ev) < 0)
                        _exit(1);
        }
        for (;;) {
                int n = epoll_wait(ep, evs, 256, -1);
                if (responder_report) {
                        /* SIGUSR1: the counts so far, between the bench's phases. */
                        responder_report = 0;
                        printf("responder: so far %llu connections accepted, %llu requests answered\n", n_accepted,
                               n_requests);
                        fflush(stdout);
                }
                if (responder_stop) {
                        printf("responder: %llu connections accepted, %llu requests answered\n", n_accepted,
                               n_requests);
                        fflush(stdout);
                        _exit(0);
                }
                for (int i = 0; i < n; i++) {
                        Conn *c = evs[i].data.ptr;
                        if (c->listener) {
                                int fd;
                                while ((fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                                        int one = 1;
                                        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                                        Conn *nc = calloc(1, sizeof(*nc));
                                        if (!nc)
                                                _exit(1);
                                        nc->fd = fd;
                                        n_accepted++;
                                        struct epoll_event ce = { .events = EPOLLIN, .data.ptr = nc };
                                        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce) < 0)
                                                _exit(1);
                                }
                                continue;
                        }
                        ssize_t k = read(c->fd, buf, sizeof(buf));
                        if (k <= 0) {
                                if (k < 0 && errno == EAGAIN)
                                        continue;
                                close(c->fd); /* also leaves the epoll set */
                                free(c);
                                continue;
                        }
                        unsigned reqs = 0;
                        for (ssize_t j = 0; j < k; j++) {
                                if (buf[j] == end[c->matched]) {
                                        if (++c->matched == 4) {
                                                reqs++;
                                                c->matched = 0;
                                        }
                                } else
                                        c->matched = buf[j] == '\r' ? 1 : 0;
                        }
                        n_requests += reqs;
                        for (unsigned r = 0; r < reqs; r++)
                                (void) !write(c->fd, response, sizeof(response) - 1);
                }
        }
}

static uint64_t n_results, n_ok, n_other;

static void on_result(Prober *p, const ProbeResult *r, void *userdata)
{
        n_results++;
        if (r->outcome == PROBE_OK)
                n_ok++;
        else if (n_other++ < 5)
                fprintf(stderr, "probe %s: %s (%s)\n", r->probe, probe_outcome_to_string(r->outcome),
                        strempty(r->detail));
}

static double cpu_seconds(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
}

static void run_for(sd_event *e, usec_t d)
{
        usec_t end = now_usec(CLOCK_MONOTONIC) + d;

        for (usec_t now; (now = now_usec(CLOCK_MONOTONIC)) < end;)
                if (sd_event_run(e, end - now) < 0)
                        exit(1);
}

/* ---- blackbox_exporter, driven by a bounded scraper ---------------------------------- */

typedef struct Figures {
        bool valid;
        double probes_per_s, cpu_per_1000, core_fraction;
        double scraper_core_fraction, scraper_cpu_per_1000;
        uint64_t ok, other, dropped;
} Figures;

typedef struct Slot {
        CURL *easy;
        bool busy;
        StrBuf body;
        char url[160];
} Slot;

static size_t slot_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        Slot *sl = userdata;

        strbuf_append(&sl->body, ptr, size * nmemb);
        return size * nmemb;
}

/* utime + stime of every thread of pid, in seconds; < 0 if it is gone. */
static double proc_cpu_seconds(pid_t pid)
{
        char path[64], buf[4096], *q;
        unsigned long long ut = 0, st = 0;
        ssize_t k;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        k = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (k <= 0)
                return -1;
        buf[k] = '\0';
        /* Fields after the command name (which may hold spaces) start after the last ')'. */
        q = strrchr(buf, ')');
        if (!q || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return -1;
        return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static int wait_port(uint16_t port, pid_t child, usec_t max)
{
        usec_t end = now_usec(CLOCK_MONOTONIC) + max;

        while (now_usec(CLOCK_MONOTONIC) < end) {
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

                ok = fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
                if (fd >= 0)
                        close(fd);
                if (ok)
                        return 0;
                if (waitpid(child, NULL, WNOHANG) == child)
                        return -ECHILD;
                (void) poll(NULL, 0, 20);
        }
        return -ETIMEDOUT;
}

static uint16_t free_loopback_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint16_t port = 0;

        if (fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *) &a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

/* Runs the scraper from now until `end`, counting into f. Request k is due at
 * start + k × interval / n and targets k % n; *k carries on across calls. */
static void scrape(CURLM *multi, Slot *slots, unsigned n_slots, uint16_t exporter_port, const uint16_t *ports,
                   unsigned n, unsigned n_ports, usec_t interval, usec_t start, usec_t end, uint64_t *k, Figures *f)
{
        for (;;) {
                usec_t now = now_usec(CLOCK_MONOTONIC), next;
                int running, left, timeout_ms;
                CURLMsg *m;

                if (now >= end)
                        break;
                /* Start everything that is due; drop (and count) what finds no free slot. */
                for (; start + *k * interval / n <= now; (*k)++) {
                        Slot *sl = NULL;

                        for (unsigned i = 0; i < n_slots && !sl; i++)
                                if (!slots[i].busy)
                                        sl = &slots[i];
                        if (!sl) {
                                f->dropped++;
                                continue;
                        }
                        snprintf(sl->url, sizeof(sl->url),
                                 "http://127.0.0.1:%u/probe?module=http_2xx&target=http://127.0.0.1:%u/health",
                                 exporter_port, ports[(*k % n) % n_ports]);
                        (void) curl_easy_setopt(sl->easy, CURLOPT_URL, sl->url);
                        strbuf_reset(&sl->body);
                        sl->busy = true;
                        (void) curl_multi_add_handle(multi, sl->easy);
                }
                (void) curl_multi_perform(multi, &running);
                while ((m = curl_multi_info_read(multi, &left))) {
                        Slot *sl = NULL;
                        long status = 0;

                        if (m->msg != CURLMSG_DONE)
                                continue;
                        (void) curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &sl);
                        (void) curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
                        bool good = m->data.result == CURLE_OK && status == 200 &&
                                    strstr(strbuf_str(&sl->body), "\nprobe_success 1");
                        (void) curl_multi_remove_handle(multi, sl->easy);
                        sl->busy = false;
                        if (good)
                                f->ok++;
                        else
                                f->other++;
                }
                next = start + *k * interval / n;
                now = now_usec(CLOCK_MONOTONIC);
                timeout_ms = next > now ? (int) MIN((next - now + 999) / 1000, 10) : 0;
                (void) curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
        }
}

static void blackbox_run(const char *binary, const uint16_t *ports, unsigned n, unsigned n_ports,
                         unsigned interval_ms, unsigned warmup, unsigned seconds, Figures *f)
{
        char dir[] = "/tmp/probe-capacity.XXXXXX", cfg[64], logf[64], listen[64], config_arg[96];
        unsigned n_slots = MIN(n, SCRAPE_SLOTS);
        Slot *slots = NULL;
        CURLM *multi = NULL;
        uint16_t port;
        uint64_t k = 0;
        pid_t pid = -1;
        bool keep = false; /* keep the log when something went wrong */
        FILE *c;
        int r;

        *f = (Figures) {};
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return;
        }
        snprintf(cfg, sizeof(cfg), "%s/blackbox.yml", dir);
        snprintf(logf, sizeof(logf), "%s/exporter.log", dir);
        c = fopen(cfg, "we");
        if (!c) {
                perror(cfg);
                goto finish;
        }
        /* The same check as the prober's: GET, any 2xx, IPv4, timeout 80% of the interval. */
        fprintf(c, "modules:\n  http_2xx:\n    prober: http\n    timeout: %ums\n    http:\n      method: GET\n"
                   "      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n",
                interval_ms * 8 / 10);
        fclose(c);

        port = free_loopback_port();
        snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", port);
        snprintf(config_arg, sizeof(config_arg), "--config.file=%s", cfg);
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                goto finish;
        }
        if (pid == 0) {
                int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), nul = open("/dev/null", O_RDONLY);
                if (fd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(127);
                execl(binary, binary, config_arg, listen, "--log.level=error", (char *) NULL);
                _exit(127);
        }
        r = wait_port(port, pid, 10 * USEC_PER_SEC);
        if (r < 0) {
                fprintf(stderr, "blackbox_exporter did not start (%s); see %s\n", strerror(-r), logf);
                if (r == -ECHILD)
                        pid = -1;
                keep = true;
                goto finish;
        }

        multi = curl_multi_init();
        slots = xcalloc(n_slots, sizeof(Slot));
        (void) curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) n_slots);
        for (unsigned i = 0; i < n_slots; i++) {
                slots[i].easy = curl_easy_init();
                slots[i].body.limit = SCRAPE_BODY_MAX;
                (void) curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
                (void) curl_easy_setopt(slots[i].easy, CURLOPT_WRITEFUNCTION, slot_write);
                (void) curl_easy_setopt(slots[i].easy, CURLOPT_WRITEDATA, &slots[i]);
                (void) curl_easy_setopt(slots[i].easy, CURLOPT_NOSIGNAL, 1L);
                /* The exporter answers within its module timeout; 2 intervals is generous. */
                (void) curl_easy_setopt(slots[i].easy, CURLOPT_TIMEOUT_MS, (long) interval_ms * 2);
        }

        usec_t interval = (usec_t) interval_ms * USEC_PER_MSEC, start = now_usec(CLOCK_MONOTONIC);
        usec_t measure_from = start + (usec_t) warmup * USEC_PER_SEC;
        usec_t end = measure_from + (usec_t) seconds * USEC_PER_SEC;

        printf("blackbox_exporter %s on 127.0.0.1:%u (PID %d): %u targets, one /probe each per %u ms, "
               "scraper bound %u in flight\n",
               binary, port, (int) pid, n, interval_ms, n_slots);
        scrape(multi, slots, n_slots, port, ports, n, n_ports, interval, start, measure_from, &k, f);
        printf("warm-up: %llu probes ok, %llu failed, %llu dropped\n", (unsigned long long) f->ok,
               (unsigned long long) f->other, (unsigned long long) f->dropped);
        f->ok = f->other = f->dropped = 0;
        double e0 = proc_cpu_seconds(pid), s0 = cpu_seconds();
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        scrape(multi, slots, n_slots, port, ports, n, n_ports, interval, start, end, &k, f);
        double wall = (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1e6;
        double e1 = proc_cpu_seconds(pid), s1 = cpu_seconds();
        if (e0 < 0 || e1 < 0) {
                fprintf(stderr, "blackbox_exporter exited during the measurement; see %s\n", logf);
                pid = -1;
                keep = true;
                goto finish;
        }
        f->valid = true;
        f->probes_per_s = (double) f->ok / wall;
        f->cpu_per_1000 = f->ok ? (e1 - e0) / (double) f->ok * 1000.0 : 0;
        f->core_fraction = (e1 - e0) / wall;
        f->scraper_core_fraction = (s1 - s0) / wall;
        f->scraper_cpu_per_1000 = f->ok ? (s1 - s0) / (double) f->ok * 1000.0 : 0;
        printf("blackbox_exporter: %llu probes ok in %.2f s = %.0f probes/s (failed %llu, dropped by the scraper's "
               "bound %llu)\n",
               (unsigned long long) f->ok, wall, f->probes_per_s, (unsigned long long) f->other,
               (unsigned long long) f->dropped);
        printf("blackbox_exporter CPU: %.2f s = %.3f of one core; %.4f CPU s per 1000 probes (scraper: %.3f of one "
               "core, %.4f CPU s per 1000)\n",
               e1 - e0, f->core_fraction, f->cpu_per_1000, f->scraper_core_fraction, f->scraper_cpu_per_1000);

finish:
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
        for (unsigned i = 0; slots && i < n_slots; i++) {
                if (slots[i].busy)
                        (void) curl_multi_remove_handle(multi, slots[i].easy);
                curl_easy_cleanup(slots[i].easy);
                strbuf_done(&slots[i].body);
        }
        free(slots);
        if (multi)
                curl_multi_cleanup(multi);
        if (!keep) {
                (void) unlink(cfg);
                (void) unlink(logf);
                (void) rmdir(dir);
        }
}

int main(int argc, char **argv)
{
        unsigned n = 10000, seconds = 10, interval_ms = 1000, warmup = 3, n_ports = 1;
        const char *blackbox = BLACKBOX_DEFAULT;
        bool blackbox_given = false;
        Figures ours = {}, bb = {};
        struct rlimit rl;
        sd_event *e = NULL;
        Prober *p = NULL;
        int opt, r, *lfds;
        uint16_t *ports;
        pid_t child;

        while ((opt = getopt(argc, argv, "n:d:i:w:p:b:B")) != -1) {
                switch (opt) {
                case 'n': n = (unsigned) atoi(optarg); break;
                case 'd': seconds = (unsigned) atoi(optarg); break;
                case 'i': interval_ms = (unsigned) atoi(optarg); break;
                case 'w': warmup = (unsigned) atoi(optarg); break;
                case 'p': n_ports = (unsigned) atoi(optarg); break;
                case 'b': blackbox = optarg; blackbox_given = true; break;
                case 'B': blackbox = NULL; break;
                default:
                        fprintf(stderr,
                                "usage: %s [-n PROBES] [-d SECONDS] [-i INTERVAL_MS] [-w WARMUP] [-p PORTS] "
                                "[-b BLACKBOX_EXPORTER | -B]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (n == 0 || seconds == 0 || interval_ms < 10 || n_ports == 0 || n_ports > n) {
                fprintf(stderr, "bad arguments\n");
                return 2;
        }

        /* Up to one connection per probe on each side, plus the listeners and slack. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
                if (rl.rlim_cur < (rlim_t) n + 64)
                        fprintf(stderr, "warning: RLIMIT_NOFILE %llu is below %u probes + slack\n",
                                (unsigned long long) rl.rlim_cur, n);
        }

        /* PORTS listeners on 127.0.0.1: probe i targets port i % PORTS. curl pools idle
         * connections per host:port, so with one port every probe shares one pool of
         * connections; with as many ports as probes each probe keeps its own. */
        lfds = xcalloc(n_ports, sizeof(int));
        ports = xcalloc(n_ports, sizeof(uint16_t));
        for (unsigned i = 0; i < n_ports; i++) {
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t alen = sizeof(a);
                int one = 1;

                lfds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (lfds[i] < 0 || setsockopt(lfds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                    bind(lfds[i], (struct sockaddr *) &a, sizeof(a)) < 0 || listen(lfds[i], 4096) < 0 ||
                    getsockname(lfds[i], (struct sockaddr *) &a, &alen) < 0) {
                        perror("listen");
                        return 1;
                }
                ports[i] = ntohs(a.sin_port);
        }
        fflush(stdout);
        child = fork();
        if (child < 0) {
                perror("fork");
                return 1;
        }
        if (child == 0)
                responder(lfds, n_ports);
        for (unsigned i = 0; i < n_ports; i++)
                close(lfds[i]);
        free(lfds);

        if (sd_event_new(&e) < 0 || prober_new(&p, e, on_result, NULL) < 0) {
                fprintf(stderr, "setup failed\n");
                goto finish;
        }
        for (unsigned i = 0; i < n; i++) {
                char name[32], url[64];
                snprintf(name, sizeof(name), "b%u", i);
                snprintf(url, sizeof(url), "http://127.0.0.1:%u/health", ports[i % n_ports]);
                ProbeSpec s = {
                        .name = name,
                        .kind = PROBE_KIND_HTTP,
                        .url = url,
                        .interval = interval_ms * USEC_PER_MSEC,
                        .timeout = interval_ms * USEC_PER_MSEC * 8 / 10,
                        .jitter = interval_ms * USEC_PER_MSEC / 10,
                };
                r = prober_add(p, &s);
                if (r < 0) {
                        fprintf(stderr, "prober_add: %s\n", strerror(-r));
                        goto finish;
                }
        }

        printf("probes: %u on %u target port(s), interval %u ms, warm-up %u s, measuring %u s\n", n, n_ports,
               interval_ms, warmup, seconds);
        run_for(e, (usec_t) warmup * USEC_PER_SEC);
        printf("warm-up: %llu results (%llu ok)\n", (unsigned long long) n_results, (unsigned long long) n_ok);

        n_results = n_ok = n_other = 0;
        double cpu0 = cpu_seconds();
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        run_for(e, (usec_t) seconds * USEC_PER_SEC);
        double wall = (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1e6, cpu = cpu_seconds() - cpu0;

        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("results: %llu in %.2f s = %.0f probes/s (ok %llu, other %llu)\n", (unsigned long long) n_results,
               wall, n_results / wall, (unsigned long long) n_ok, (unsigned long long) (n_results - n_ok));
        printf("prober CPU: %.2f s over %.2f s = %.3f of one core; %.4f CPU s per 1000 probes\n", cpu, wall,
               cpu / wall, n_results ? cpu / (double) n_results * 1000.0 : 0.0);
        printf("prober max RSS: %ld MiB\n", ru.ru_maxrss / 1024);
        ours = (Figures) {
                .valid = true,
                .probes_per_s = n_results / wall,
                .cpu_per_1000 = n_results ? cpu / (double) n_results * 1000.0 : 0.0,
                .core_fraction = cpu / wall,
        };

        /* The comparison runs after the prober is gone, so that neither competes with
         * the other for the cores; the responder is the same. */
        p = prober_free(p);
        fflush(stdout);
        kill(child, SIGUSR1);
        (void) poll(NULL, 0, 200); /* let it print before the next phase does */
        if (blackbox && access(blackbox, X_OK) < 0) {
                fprintf(stderr, "%s: %s; %s\n", blackbox, strerror(errno),
                        blackbox_given ? "no comparison" : "install prometheus-blackbox-exporter for the comparison");
                blackbox = NULL;
        }
        if (blackbox)
                blackbox_run(blackbox, ports, n, n_ports, interval_ms, warmup, seconds, &bb);

        printf("\n%-28s %10s %18s %14s\n", "", "probes/s", "CPU s/1000 probes", "core fraction");
        printf("%-28s %10.0f %18.4f %14.3f\n", "drover prober", ours.probes_per_s, ours.cpu_per_1000,
               ours.core_fraction);
        if (bb.valid) {
                printf("%-28s %10.0f %18.4f %14.3f\n", "blackbox_exporter", bb.probes_per_s, bb.cpu_per_1000,
                       bb.core_fraction);
                printf("%-28s %10s %18.4f %14.3f\n", "  + its scraper (this bench)", "", bb.scraper_cpu_per_1000,
                       bb.scraper_core_fraction);
        } else
                printf("%-28s %10s\n", "blackbox_exporter", "-");

finish:
        free(ports);
        prober_free(p);
        sd_event_unref(e);
        fflush(stdout);
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
        return 0;
}
