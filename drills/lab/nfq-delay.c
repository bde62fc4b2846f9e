/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfq-delay — holds every packet of one NFQUEUE for a fixed time, then accepts it.
 *
 * The lab's stand-in for `tc netem delay`, which this machine's kernel lacks. Owns only
 * the verdicts of its queue; the nft rule that feeds the queue belongs to the caller
 * (drills/lab/lab.sh `fault delay SITE MS`, tests/lab/test-nfq-delay.sh), and so does
 * the network namespace it runs in (an NFQUEUE is per namespace).
 *
 *     nfq-delay --queue N --delay-ms MS [--max-held COUNT]
 *
 * Single-threaded: one poll() loop on the netlink socket and a signalfd, with the
 * timeout set to the next release. The delay is the same for every packet, so release
 * times arrive in order and a ring of (packet id, release time) is the whole timer
 * queue. Beyond --max-held (default 10000) packets are accepted at once, and the queue
 * is created fail-open, so the kernel accepts rather than drops when we fall behind.
 * SIGTERM/SIGINT accept everything still held, unbind and exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include "shared/macros.h"
#include "shared/time-util.h"

#define DEFAULT_MAX_HELD 10000U
#define MAX_DELAY_MS     600000U
#define RCVBUF_BYTES     (8U * 1024U * 1024U)

typedef struct Held {
        uint32_t id;
        usec_t release;
} Held;

typedef struct Delay {
        struct nfq_handle *handle;
        struct nfq_q_handle *queue;
        usec_t delay;
        Held *ring;
        size_t capacity; /* == max_held */
        size_t head;     /* oldest */
        size_t count;
        uint64_t n_delayed, n_overflow;
        int verdict_errno;
} Delay;

/* Local on purpose: nfq-delay links nothing of libdrover, only its headers. */
static usec_t clock_now(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000U;
}

static void delay_accept(Delay *d, uint32_t id)
{
        if (nfq_set_verdict(d->queue, id, NF_ACCEPT, 0, NULL) < 0 && d->verdict_errno == 0)
                d->verdict_errno = errno; /* reported once at exit; the packet is lost to us either way */
}

static int on_packet(_unused_ struct nfq_q_handle *qh, _unused_ struct nfgenmsg *msg, struct nfq_data *nfa,
                     void *userdata)
{
        Delay *d = userdata;
        struct nfqnl_msg_packet_hdr *ph;
        uint32_t id;

        ph = nfq_get_msg_packet_hdr(nfa);
        if (!ph)
                return 0;
        id = ntohl(ph->packet_id);

        if (d->count >= d->capacity) {
                d->n_overflow++;
                delay_accept(d, id);
                return 0;
        }

        d->ring[(d->head + d->count) % d->capacity] = (Held){.id = id, .release = clock_now() + d->delay};
        d->count++;
        d->n_delayed++;
        return 0;
}

/* Accept every held packet whose time has come (all of them when `all`). */
static void delay_release(Delay *d, bool all)
{
        usec_t now = clock_now();

        while (d->count > 0) {
                Held *h = &d->ring[d->head];

                if (!all && h->release > now)
                        break;
                delay_accept(d, h->id);
                d->head = (d->head + 1) % d->capacity;
                d->count--;
        }
}

static int delay_timeout_ms(const Delay *d)
{
        usec_t now, release;

        if (d->count == 0)
                return -1;
        release = d->ring[d->head].release;
        now = clock_now();
        if (release <= now)
                return 0;
        /* round up, so that we never wake a little early and spin */
        return (int) MIN((release - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) INT_MAX);
}

static void delay_done(Delay *d)
{
        if (d->queue)
                (void) nfq_destroy_queue(d->queue);
        if (d->handle)
                (void) nfq_close(d->handle);
        free(d->ring);
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static void help(void)
{
        printf("nfq-delay --queue N --delay-ms MS [--max-held COUNT]\n\n"
               "Holds each packet of NFQUEUE N for MS milliseconds, then accepts it.\n"
               "Beyond COUNT held packets (default %u) packets are accepted at once.\n"
               "SIGTERM/SIGINT release everything held and exit.\n",
               DEFAULT_MAX_HELD);
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"queue", required_argument, NULL, 'q'},
                {"delay-ms", required_argument, NULL, 'd'},
                {"max-held", required_argument, NULL, 'm'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_close_ int sfd = -EBADF;
        unsigned queue_num = 0, delay_ms = 0, max_held = DEFAULT_MAX_HELD;
        bool have_queue = false, have_delay = false;
        Delay d = {};
        sigset_t mask;
        char buf[65536] __attribute__((aligned));
        int c, fd, r = EXIT_FAILURE;

        while ((c = getopt_long(argc, argv, "q:d:m:h", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        if (parse_uint(optarg, UINT16_MAX, &queue_num) < 0) {
                                fprintf(stderr, "nfq-delay: --queue wants 0..65535, got '%s'\n", optarg);
                                return EXIT_FAILURE;
                        }
                        have_queue = true;
                        break;
                case 'd':
                        if (parse_uint(optarg, MAX_DELAY_MS, &delay_ms) < 0) {
                                fprintf(stderr, "nfq-delay: --delay-ms wants 0..%u, got '%s'\n",
                                        MAX_DELAY_MS, optarg);
                                return EXIT_FAILURE;
                        }
                        have_delay = true;
                        break;
                case 'm':
                        if (parse_uint(optarg, 10000000U, &max_held) < 0) {
                                fprintf(stderr, "nfq-delay: --max-held wants 0..10000000, got '%s'\n",
                                        optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc || !have_queue || !have_delay) {
                fprintf(stderr, "nfq-delay: usage: nfq-delay --queue N --delay-ms MS [--max-held COUNT]\n");
                return EXIT_FAILURE;
        }

        d.delay = (usec_t) delay_ms * USEC_PER_MSEC;
        d.capacity = max_held;
        if (max_held > 0) {
                d.ring = calloc(max_held, sizeof(Held));
                if (!d.ring) {
                        fprintf(stderr, "nfq-delay: out of memory\n");
                        return EXIT_FAILURE;
                }
        }

        /* Signals arrive through the poll loop, never in the middle of a verdict. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
                fprintf(stderr, "nfq-delay: signalfd: %m\n");
                goto finish;
        }

        d.handle = nfq_open();
        if (!d.handle) {
                fprintf(stderr, "nfq-delay: nfq_open: %m\n");
                goto finish;
        }
        d.queue = nfq_create_queue(d.handle, (uint16_t) queue_num, on_packet, &d);
        if (!d.queue) {
                fprintf(stderr,
                        "nfq-delay: cannot bind queue %u (already taken, or no CAP_NET_ADMIN?): %m\n",
                        queue_num);
                goto finish;
        }
        /* Only the packet id is needed for a verdict: ask for metadata, no payload copies. */
        if (nfq_set_mode(d.queue, NFQNL_COPY_META, 0) < 0) {
                fprintf(stderr, "nfq-delay: nfq_set_mode: %m\n");
                goto finish;
        }
        if (nfq_set_queue_maxlen(d.queue, MAX(max_held, 1U) + 1024U) < 0)
                fprintf(stderr, "nfq-delay: nfq_set_queue_maxlen failed, keeping the kernel default: %m\n");
        if (nfq_set_queue_flags(d.queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
                fprintf(stderr, "nfq-delay: fail-open not supported, overflow will drop: %m\n");
        (void) nfnl_rcvbufsiz(nfq_nfnlh(d.handle), RCVBUF_BYTES);
        fd = nfq_fd(d.handle);

        fprintf(stderr, "nfq-delay: queue %u, delay %u ms, max held %u\n", queue_num, delay_ms, max_held);

        for (;;) {
                struct pollfd p[2] = {
                        {.fd = fd, .events = POLLIN},
                        {.fd = sfd, .events = POLLIN},
                };

                if (poll(p, ELEMENTSOF(p), delay_timeout_ms(&d)) < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "nfq-delay: poll: %m\n");
                        goto finish;
                }
                if (p[1].revents & POLLIN)
                        break;
                if (p[0].revents & POLLIN)
                        /* Drain what is there; each message ends up in on_packet(). */
                        for (;;) {
                                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

                                if (n < 0) {
                                        if (errno == EAGAIN || errno == EINTR)
                                                break;
                                        if (errno == ENOBUFS) /* the kernel dropped messages; carry on */
                                                continue;
                                        fprintf(stderr, "nfq-delay: recv: %m\n");
                                        goto finish;
                                }
                                (void) nfq_handle_packet(d.handle, buf, (int) n);
                        }
                else if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                        fprintf(stderr, "nfq-delay: netlink socket error\n");
                        goto finish;
                }
                delay_release(&d, false);
        }
        r = EXIT_SUCCESS;

finish:
        if (d.queue)
                delay_release(&d, true);
        if (d.verdict_errno != 0)
                fprintf(stderr, "nfq-delay: some verdicts failed: %s\n", strerror(d.verdict_errno));
        fprintf(stderr,
                "nfq-delay: exiting, %" PRIu64 " delayed, %" PRIu64 " accepted at once (over max held)\n",
                d.n_delayed, d.n_overflow);
        delay_done(&d);
        return r;
}
