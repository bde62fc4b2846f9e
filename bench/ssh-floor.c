/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ssh-floor.c — the floor for drover's SSH benchmark: the least work any libssh2-based
 * tool must do to run the same commands. One thread per host opens one session
 * (TCP connect, handshake, known_hosts check, public key auth), runs the commands as
 * sequential channels on it, and closes it; the program prints the wall time from
 * start to the last host finishing. Blocking libssh2, no journal, no deadlines, no
 * output kept: nothing drover needs for safety, so drover can only approach it.
 *
 * Not a test and not part of drover: bench/run-ssh-bench.sh drives it.
 *
 *   ssh-floor -u USER -k KEY -K KNOWN_HOSTS [-n COMMANDS] [-c COMMAND] [-f FILE] [ADDR:PORT...]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

typedef struct Target {
        char *addr;
        unsigned port;
        pthread_t thread;
        int ok;
        char error[256];
} Target;

static const char *user, *key, *known_hosts, *command = "true";
static unsigned n_commands = 10;

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int tcp_connect(const Target *t)
{
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
        char port[8];
        int fd = -1, one = 1;

        snprintf(port, sizeof(port), "%u", t->port);
        if (getaddrinfo(t->addr, port, &hints, &ai) != 0)
                return -1;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        continue;
                if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
                        break;
                close(fd);
                fd = -1;
        }
        freeaddrinfo(ai);
        if (fd >= 0)
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
}

static int check_host_key(LIBSSH2_SESSION *s, const Target *t)
{
        static const int types[] = {
                [LIBSSH2_HOSTKEY_TYPE_RSA] = LIBSSH2_KNOWNHOST_KEY_SSHRSA,
                [LIBSSH2_HOSTKEY_TYPE_DSS] = LIBSSH2_KNOWNHOST_KEY_SSHDSS,
                [LIBSSH2_HOSTKEY_TYPE_ECDSA_256] = LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
                [LIBSSH2_HOSTKEY_TYPE_ECDSA_384] = LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
                [LIBSSH2_HOSTKEY_TYPE_ECDSA_521] = LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
                [LIBSSH2_HOSTKEY_TYPE_ED25519] = LIBSSH2_KNOWNHOST_KEY_ED25519,
        };
        LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
        const char *k;
        size_t len;
        int type, r = -1;

        if (!kh)
                return -1;
        k = libssh2_session_hostkey(s, &len, &type);
        if (k && type > 0 && type < (int) (sizeof(types) / sizeof(types[0])) &&
            libssh2_knownhost_readfile(kh, known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0 &&
            libssh2_knownhost_checkp(kh, t->addr, (int) t->port, k, len,
                                     LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | types[type],
                                     NULL) == LIBSSH2_KNOWNHOST_CHECK_MATCH)
                r = 0;
        libssh2_knownhost_free(kh);
        return r;
}

static void *host_main(void *userdata)
{
        Target *t = userdata;
        LIBSSH2_SESSION *s = NULL;
        char buf[4096];
        int fd;

        fd = tcp_connect(t);
        if (fd < 0) {
                snprintf(t->error, sizeof(t->error), "connect: %s", strerror(errno));
                return NULL;
        }
        s = libssh2_session_init();
        if (!s || libssh2_session_handshake(s, fd) != 0) {
                snprintf(t->error, sizeof(t->error), "handshake failed");
                goto finish;
        }
        if (check_host_key(s, t) < 0) {
                snprintf(t->error, sizeof(t->error), "host key not in %s", known_hosts);
                goto finish;
        }
        if (libssh2_userauth_publickey_fromfile(s, user, NULL, key, NULL) != 0) {
                snprintf(t->error, sizeof(t->error), "authentication refused");
                goto finish;
        }
        for (unsigned i = 0; i < n_commands; i++) {
                LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(s);
                if (!ch || libssh2_channel_exec(ch, command) != 0) {
                        snprintf(t->error, sizeof(t->error), "channel/exec failed");
                        goto finish;
                }
                while (libssh2_channel_read(ch, buf, sizeof(buf)) > 0)
                        ;
                while (libssh2_channel_read_stderr(ch, buf, sizeof(buf)) > 0)
                        ;
                libssh2_channel_close(ch);
                libssh2_channel_wait_closed(ch);
                if (libssh2_channel_get_exit_status(ch) != 0) {
                        snprintf(t->error, sizeof(t->error), "command exited non-zero");
                        libssh2_channel_free(ch);
                        goto finish;
                }
                libssh2_channel_free(ch);
        }
        t->ok = 1;
finish:
        if (s) {
                libssh2_session_disconnect(s, "bye");
                libssh2_session_free(s);
        }
        close(fd);
        return NULL;
}

static int add_target(Target **ts, size_t *n, const char *spec)
{
        const char *colon = strrchr(spec, ':');
        Target *t;

        if (!colon || colon == spec)
                return -1;
        *ts = realloc(*ts, (*n + 1) * sizeof(**ts));
        if (!*ts)
                abort();
        t = &(*ts)[(*n)++];
        memset(t, 0, sizeof(*t));
        t->addr = strndup(spec, (size_t) (colon - spec));
        t->port = (unsigned) strtoul(colon + 1, NULL, 10);
        return t->addr && t->port > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
        Target *ts = NULL;
        size_t n = 0, failed = 0;
        const char *file = NULL;
        double t0, t1;
        int c;

        while ((c = getopt(argc, argv, "u:k:K:n:c:f:")) != -1) {
                switch (c) {
                case 'u': user = optarg; break;
                case 'k': key = optarg; break;
                case 'K': known_hosts = optarg; break;
                case 'n': n_commands = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'c': command = optarg; break;
                case 'f': file = optarg; break;
                default:
                        fprintf(stderr, "usage: ssh-floor -u USER -k KEY -K KNOWN_HOSTS [-n N] [-c CMD] "
                                        "[-f FILE] [ADDR:PORT...]\n");
                        return 2;
                }
        }
        if (!user || !key || !known_hosts) {
                fprintf(stderr, "ssh-floor: -u, -k and -K are required\n");
                return 2;
        }
        if (file) {
                FILE *f = fopen(file, "re");
                char line[512];
                if (!f) {
                        perror(file);
                        return 2;
                }
                while (fgets(line, sizeof(line), f)) {
                        line[strcspn(line, "\r\n \t")] = '\0';
                        if (line[0] && line[0] != '#' && add_target(&ts, &n, line) < 0) {
                                fprintf(stderr, "ssh-floor: bad target %s\n", line);
                                return 2;
                        }
                }
                fclose(f);
        }
        for (int i = optind; i < argc; i++)
                if (add_target(&ts, &n, argv[i]) < 0) {
                        fprintf(stderr, "ssh-floor: bad target %s (want ADDR:PORT)\n", argv[i]);
                        return 2;
                }
        if (n == 0) {
                fprintf(stderr, "ssh-floor: no targets\n");
                return 2;
        }

        libssh2_init(0);
        t0 = now_s();
        for (size_t i = 0; i < n; i++)
                if (pthread_create(&ts[i].thread, NULL, host_main, &ts[i]) != 0) {
                        fprintf(stderr, "ssh-floor: cannot start a thread\n");
                        return 1;
                }
        for (size_t i = 0; i < n; i++)
                pthread_join(ts[i].thread, NULL);
        t1 = now_s();

        for (size_t i = 0; i < n; i++)
                if (!ts[i].ok) {
                        failed++;
                        fprintf(stderr, "ssh-floor: %s:%u: %s\n", ts[i].addr, ts[i].port, ts[i].error);
                }
        printf("hosts %zu commands %u failed %zu wall %.3f\n", n, n_commands, failed, t1 - t0);
        libssh2_exit();
        return failed ? 1 : 0;
}
