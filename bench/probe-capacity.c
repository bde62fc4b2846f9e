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
 * Usage: probe-capacity [-n PROBES] [-d SECONDS] [-i INTERVAL_MS] [-w WARMUP_SECONDS] [-p PORTS]
 *   -p: the responder listens on PORTS ports and probe i targets port i % PORTS (default
 *       1). curl pools idle connections per host:port, so with one port the probes share
 *       a pool (a few hundred connections); with many ports (-p 4000) most probes keep a
 *       connection of their own, closer to 10,000 distinct targets.
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

#include "prober.h"
#include "strbuf.h"

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

static volatile sig_atomic_t responder_stop;

static void responder_sigterm(int sig)
{
        responder_stop = 1;
}

/* The child: accept, read, answer one response per request head. GET requests have no
 * body, so counting "\r\n\r\n" is counting requests. On SIGTERM it prints how many
 * connections it accepted: far fewer than requests means keep-alive worked. */
static _noreturn_ void responder(const int *lfds, unsigned n_lfds)
{
        static const char end[] = "\r\n\r\n";
        struct sigaction sa = { .sa_handler = responder_sigterm };
        unsigned long long n_accepted = 0, n_requests = 0;
        struct epoll_event evs[256];
        char buf[16384];
        int ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
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

int main(int argc, char **argv)
{
        unsigned n = 10000, seconds = 10, interval_ms = 1000, warmup = 3, n_ports = 1;
        struct rlimit rl;
        sd_event *e = NULL;
        Prober *p = NULL;
        int opt, r, *lfds;
        uint16_t *ports;
        pid_t child;

        while ((opt = getopt(argc, argv, "n:d:i:w:p:")) != -1) {
                switch (opt) {
                case 'n': n = (unsigned) atoi(optarg); break;
                case 'd': seconds = (unsigned) atoi(optarg); break;
                case 'i': interval_ms = (unsigned) atoi(optarg); break;
                case 'w': warmup = (unsigned) atoi(optarg); break;
                case 'p': n_ports = (unsigned) atoi(optarg); break;
                default:
                        fprintf(stderr, "usage: %s [-n PROBES] [-d SECONDS] [-i INTERVAL_MS] [-w WARMUP] [-p PORTS]\n",
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

finish:
        free(ports);
        prober_free(p);
        sd_event_unref(e);
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
        return 0;
}
