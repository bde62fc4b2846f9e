/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec-ssh.c — SSH actions over libssh2: one session per Host, opened on first use and
 * kept for the executor's lifetime, each action a channel on it. Strict host-key
 * checking against the host's known_hosts file; public key or ssh-agent
 * authentication. Every phase (DNS, TCP connect, handshake, auth, channel open, exec,
 * read, close) runs non-blocking under poll() with the action's deadline and its
 * cancel eventfd, so a hung host costs only its own action.
 *
 * Owns: SshSession (socket + LIBSSH2_SESSION), appending to known_hosts when told to
 * accept new keys. Does not own: scheduling (executor-real.c guarantees one job per
 * session at a time, so a libssh2 session is never used from two threads at once),
 * decisions, logging (never logs commands or output). Called by worker threads.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libssh2.h>

#include "drover/worker-protocol.h"
#include "exec/exec-internal.h"

struct SshSession {
        const Host *host;
        bool busy; /* guarded by the executor's lock */
        LIBSSH2_SESSION *session;
        int fd;
};

/* Serialises read-check-append of known_hosts files inside this process; flock() does
 * the same between processes. */
static pthread_mutex_t known_hosts_lock = PTHREAD_MUTEX_INITIALIZER;

void exec_ssh_global_init(void)
{
        /* Called once through pthread_once() before any worker exists. */
        (void) libssh2_init(0);
}

SshSession *ssh_session_new(const Host *host)
{
        SshSession *s = xcalloc(1, sizeof(*s));

        s->host = host;
        s->fd = -EBADF;
        return s;
}

const Host *ssh_session_host(const SshSession *s)
{
        return s->host;
}

bool *ssh_session_busy(SshSession *s)
{
        return &s->busy;
}

/* Throw the connection away. Used whenever a session might be in a state we cannot
 * trust: after a timeout or cancellation in the middle of a libssh2 call sequence
 * (libssh2's non-blocking state machines cannot be abandoned halfway and reused),
 * after a transport error, or when a command outlives its deadline (OpenSSH keeps a
 * session channel open until its command exits, so a graceful channel close would
 * block as long as the hung command runs). The next action on the host reconnects. */
static void ssh_drop(SshSession *s)
{
        if (s->session) {
                /* With the socket shut down every libssh2 read/write fails at once instead
                 * of returning EAGAIN, so freeing in blocking mode cannot hang; the
                 * session timeout is a second guard. */
                if (s->fd >= 0)
                        (void) shutdown(s->fd, SHUT_RDWR);
                libssh2_session_set_timeout(s->session, 1000);
                libssh2_session_set_blocking(s->session, 1);
                (void) libssh2_session_free(s->session);
                s->session = NULL;
        }
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -EBADF;
}

SshSession *ssh_session_free(SshSession *s)
{
        if (!s)
                return NULL;
        if (s->session) {
                /* Polite goodbye, best effort: one packet, never waited for. */
                libssh2_session_set_blocking(s->session, 0);
                (void) libssh2_session_disconnect(s->session, "drover executor closing");
        }
        ssh_drop(s);
        free(s);
        return NULL;
}

static const char *ssh_error_message(LIBSSH2_SESSION *session)
{
        char *msg = NULL;

        if (!session)
                return "no session";
        (void) libssh2_session_last_error(session, &msg, NULL, 0);
        return msg && *msg ? msg : "unknown libssh2 error";
}

/* "addr:port" for connection messages. */
static char *host_port(const Host *h)
{
        return xasprintf(strchr(h->address, ':') ? "[%s]:%u" : "%s:%u", h->address, (unsigned) h->port);
}

/* The name known_hosts uses: "addr" for port 22, "[addr]:port" otherwise. */
static char *known_hosts_name(const Host *h)
{
        if (h->port == 22)
                return xstrdup(h->address);
        return xasprintf("[%s]:%u", h->address, (unsigned) h->port);
}

/* Wait until the socket is ready in the direction libssh2 asked for. Returns 0 (try
 * again), -ETIME, -ECANCELED or -errno. */
static int ssh_wait(ExecJob *j, SshSession *s, usec_t until)
{
        int dir = libssh2_session_block_directions(s->session);
        struct pollfd p = { .fd = s->fd };
        usec_t u = until;
        int r;

        if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
                p.events |= POLLIN;
        if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
                p.events |= POLLOUT;
        if (p.events == 0) {
                /* libssh2 did not say: wait for input, but only briefly. */
                p.events = POLLIN;
                u = MIN(until, usec_add(exec_now(), 10 * USEC_PER_MSEC));
        }
        r = exec_poll(j, &p, 1, u);
        if (r == -ETIME && u != until)
                return 0;
        return r < 0 ? r : 0;
}

/* ---- name resolution with a deadline ---- */

typedef struct Resolve {
        atomic_int refs;
        char *node;
        char service[8];
        int done_fd;
        int error;
        struct addrinfo *ai;
} Resolve;

static void resolve_unref(Resolve *r)
{
        if (atomic_fetch_sub(&r->refs, 1) != 1)
                return;
        if (r->ai)
                freeaddrinfo(r->ai);
        if (r->done_fd >= 0)
                close(r->done_fd);
        free(r->node);
        free(r);
}

static void *resolve_thread(void *userdata)
{
        Resolve *r = userdata;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
        uint64_t one = 1;

        r->error = getaddrinfo(r->node, r->service, &hints, &r->ai);
        (void) !write(r->done_fd, &one, sizeof(one));
        resolve_unref(r);
        return NULL;
}

/* getaddrinfo() has no deadline, so a DNS name is resolved on a detached helper thread
 * that we stop waiting for at `until` (it finishes and frees itself later). Returns 0,
 * -ETIME, -ECANCELED, or -EHOSTUNREACH with *gai_error set. */
static int ssh_resolve(ExecJob *j, const Host *h, usec_t until, struct addrinfo **ret, int *gai_error)
{
        struct addrinfo hints = {
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST,
        };
        char service[8];
        pthread_attr_t attr;
        pthread_t t;
        Resolve *r;
        int k;

        snprintf(service, sizeof(service), "%u", (unsigned) h->port);
        k = getaddrinfo(h->address, service, &hints, ret);
        if (k == 0)
                return 0;
        if (k != EAI_NONAME) {
                *gai_error = k;
                return -EHOSTUNREACH;
        }

        r = xcalloc(1, sizeof(*r));
        r->node = xstrdup(h->address);
        memcpy(r->service, service, sizeof(service));
        r->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->done_fd < 0) {
                k = -errno;
                free(r->node);
                free(r);
                return k;
        }
        atomic_store(&r->refs, 2);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        k = pthread_create(&t, &attr, resolve_thread, r);
        pthread_attr_destroy(&attr);
        if (k != 0) {
                atomic_store(&r->refs, 1);
                resolve_unref(r);
                return -k;
        }

        struct pollfd p = { .fd = r->done_fd, .events = POLLIN };
        k = exec_poll(j, &p, 1, until);
        if (k < 0) {
                resolve_unref(r);
                return k;
        }
        if (r->error != 0) {
                *gai_error = r->error;
                resolve_unref(r);
                return -EHOSTUNREACH;
        }
        *ret = TAKE_PTR(r->ai);
        resolve_unref(r);
        return 0;
}

/* ---- TCP ---- */

static void socket_tune(int fd)
{
        int one = 1, idle = 30, intvl = 10, cnt = 3;

        /* SSH sends many small packets; Nagle would add delayed-ACK stalls to each exec. */
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* Sessions idle between steps (approvals, waits): notice a vanished peer. */
        (void) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Returns the connected socket, or -ETIME, -ECANCELED, or another -errno (the last
 * connect error). */
static int tcp_connect(ExecJob *j, const struct addrinfo *ai, usec_t until)
{
        int last = -EHOSTUNREACH;

        for (const struct addrinfo *a = ai; a; a = a->ai_next) {
                _cleanup_close_ int fd = -EBADF;
                int r, err = 0;
                socklen_t len = sizeof(err);

                fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        last = -errno;
                        continue;
                }
                if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
                        return TAKE_FD(fd);
                if (errno != EINPROGRESS) {
                        last = -errno;
                        continue;
                }
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                r = exec_poll(j, &p, 1, until);
                if (r < 0)
                        return r; /* out of time or cancelled: no point trying other addresses */
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err != 0) {
                        last = -err;
                        continue;
                }
                return TAKE_FD(fd);
        }
        return last;
}

/* ---- host keys ---- */

static char *base64_nopad(const unsigned char *in, size_t n)
{
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;

        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) in[i + 1] << 8;
                if (i + 2 < n)
                        v |= in[i + 2];
                *o++ = tbl[(v >> 18) & 63];
                *o++ = tbl[(v >> 12) & 63];
                if (i + 1 < n)
                        *o++ = tbl[(v >> 6) & 63];
                if (i + 2 < n)
                        *o++ = tbl[v & 63];
        }
        *o = '\0';
        return out;
}

static int hostkey_type_to_knownhost(int type)
{
        switch (type) {
        case LIBSSH2_HOSTKEY_TYPE_RSA:
                return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
        case LIBSSH2_HOSTKEY_TYPE_DSS:
                return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
                return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
                return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
                return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
        case LIBSSH2_HOSTKEY_TYPE_ED25519:
                return LIBSSH2_KNOWNHOST_KEY_ED25519;
        default:
                return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
        }
}

static const char *knownhost_key_algorithms(int keybits)
{
        switch (keybits) {
        case LIBSSH2_KNOWNHOST_KEY_ED25519:
                return "ssh-ed25519";
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_256:
                return "ecdsa-sha2-nistp256";
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_384:
                return "ecdsa-sha2-nistp384";
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_521:
                return "ecdsa-sha2-nistp521";
        case LIBSSH2_KNOWNHOST_KEY_SSHRSA:
                return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
        case LIBSSH2_KNOWNHOST_KEY_SSHDSS:
                return "ssh-dss";
        default:
                return NULL;
        }
}

static bool alg_supported(const char **algs, int n, const char *alg, size_t len)
{
        for (int i = 0; i < n; i++)
                if (strlen(algs[i]) == len && strncmp(algs[i], alg, len) == 0)
                        return true;
        return false;
}

/* Append the comma-separated algorithms in `list` that this libssh2 supports and that
 * are not in `prefs` yet. libssh2 1.10's method_pref() corrupts memory (overlapping
 * memcpy) when it has to drop a name it does not know, so only known names go in. */
static void prefs_add(StrBuf *prefs, const char **algs, int n, const char *list)
{
        while (*list) {
                size_t len = strcspn(list, ",");
                bool dup = false;

                for (const char *p = strbuf_str(prefs); *p;) {
                        size_t l = strcspn(p, ",");
                        if (l == len && strncmp(p, list, len) == 0)
                                dup = true;
                        p += l;
                        if (*p == ',')
                                p++;
                }
                if (!dup && alg_supported(algs, n, list, len)) {
                        if (prefs->len > 0)
                                strbuf_putc(prefs, ',');
                        strbuf_append(prefs, list, len);
                }
                list += len;
                if (*list == ',')
                        list++;
        }
}

/* Ask the server for a host key type that known_hosts already holds for this host (as
 * OpenSSH does); otherwise a server with several host keys may offer one we do not
 * know and be refused although its ed25519 key is recorded. */
static void ssh_prefer_known_key_types(LIBSSH2_SESSION *session, LIBSSH2_KNOWNHOSTS *kh, const char *name)
{
        static const char fallback[] = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
                                       "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa";
        struct libssh2_knownhost *prev = NULL, *cur;
        StrBuf prefs = STRBUF_INIT;
        const char **algs = NULL;
        int n;

        n = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs);
        if (n <= 0)
                return; /* keep libssh2's default order */

        while (libssh2_knownhost_get(kh, &cur, prev) == 0) {
                prev = cur;
                if (!cur->name || !streq(cur->name, name))
                        continue; /* hashed entries cannot be attributed; fallback order covers them */
                const char *alg = knownhost_key_algorithms(cur->typemask & LIBSSH2_KNOWNHOST_KEY_MASK);
                if (alg)
                        prefs_add(&prefs, algs, n, alg);
        }
        prefs_add(&prefs, algs, n, fallback);
        if (prefs.len > 0)
                (void) libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, strbuf_str(&prefs));
        libssh2_free(session, algs);
        strbuf_done(&prefs);
}

static int knownhost_check(LIBSSH2_KNOWNHOSTS *kh, const Host *h, const char *key, size_t len, int keybits)
{
        return libssh2_knownhost_checkp(kh, h->address, h->port, key, len,
                                        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keybits,
                                        NULL);
}

/* Append one OpenSSH known_hosts line for the key, after re-checking under a lock that
 * nobody recorded a key meanwhile. libssh2_knownhost_writefile() is not used because it
 * rewrites the whole file from what libssh2 parsed, dropping comments and lines it does
 * not understand. Returns a LIBSSH2_KNOWNHOST_CHECK_* value, or -errno. */
static int known_hosts_append(SshSession *s, const char *name, const char *key, size_t len, int keybits)
{
        const Host *h = s->host;
        LIBSSH2_KNOWNHOSTS *kh = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct libssh2_knownhost *entry = NULL;
        char line[16384];
        size_t line_len = 0;
        struct stat st;
        int r;

        pthread_mutex_lock(&known_hosts_lock);
        fd = open(h->known_hosts, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                r = -errno;
                goto finish;
        }
        if (flock(fd, LOCK_EX) < 0) {
                r = -errno;
                goto finish;
        }
        kh = libssh2_knownhost_init(s->session);
        if (!kh) {
                r = -ENOMEM;
                goto finish;
        }
        if (libssh2_knownhost_readfile(kh, h->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
                r = -EBADMSG;
                goto finish;
        }
        r = knownhost_check(kh, h, key, len, keybits);
        if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
                goto finish;

        if (libssh2_knownhost_addc(kh, name, NULL, key, len, NULL, 0,
                                   LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keybits,
                                   &entry) < 0 ||
            libssh2_knownhost_writeline(kh, entry, line, sizeof(line), &line_len,
                                        LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
                r = -EINVAL;
                goto finish;
        }
        /* Never glue our line to an unterminated last line. */
        if (fstat(fd, &st) == 0 && st.st_size > 0) {
                char last = '\n';
                if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' && write(fd, "\n", 1) != 1) {
                        r = -errno;
                        goto finish;
                }
        }
        if (write(fd, line, line_len) != (ssize_t) line_len) {
                r = errno > 0 ? -errno : -EIO;
                goto finish;
        }
        (void) fsync(fd);
        r = LIBSSH2_KNOWNHOST_CHECK_MATCH;
finish:
        if (kh)
                libssh2_knownhost_free(kh);
        pthread_mutex_unlock(&known_hosts_lock);
        return r;
}

static int ssh_check_host_key(ExecJob *j, SshSession *s, LIBSSH2_KNOWNHOSTS *kh)
{
        const Host *h = s->host;
        _cleanup_free_ char *name = known_hosts_name(h), *fp = NULL;
        const unsigned char *hash;
        const char *key;
        size_t len = 0;
        int type = 0, keybits, r;

        key = libssh2_session_hostkey(s->session, &len, &type);
        if (!key)
                return exec_fail(j, ACTION_HOSTKEY_REJECTED, "no host key from %s; refusing", name);
        hash = (const unsigned char *) libssh2_hostkey_hash(s->session, LIBSSH2_HOSTKEY_HASH_SHA256);
        if (!hash)
                return exec_fail(j, ACTION_HOSTKEY_REJECTED, "cannot fingerprint the host key of %s; refusing",
                                 name);
        _cleanup_free_ char *b64 = base64_nopad(hash, 32);
        fp = xasprintf("SHA256:%s", b64);
        keybits = hostkey_type_to_knownhost(type);

        r = knownhost_check(kh, h, key, len, keybits);
        if (r == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND && exec_accept_new_host_keys(j->executor)) {
                r = known_hosts_append(s, name, key, len, keybits);
                if (r < 0)
                        return exec_fail(j, ACTION_HOSTKEY_REJECTED,
                                         "cannot record the host key of %s (SHA256 fingerprint %s) in %s: %s",
                                         name, fp, h->known_hosts, strerror(-r));
        }
        switch (r) {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
                return 0;
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
                return exec_fail(j, ACTION_HOSTKEY_REJECTED,
                                 "HOST KEY CHANGED for %s: it now presents SHA256 fingerprint %s, which does not "
                                 "match %s; refusing (this may be an attack; fix known_hosts by hand if the "
                                 "change is expected)",
                                 name, fp, h->known_hosts);
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
                return exec_fail(j, ACTION_HOSTKEY_REJECTED,
                                 "host key for %s is not in %s; SHA256 fingerprint %s (use "
                                 "--accept-new-host-keys to trust it)",
                                 name, h->known_hosts, fp);
        default:
                return exec_fail(j, ACTION_HOSTKEY_REJECTED, "cannot check the host key of %s against %s: %s",
                                 name, h->known_hosts, ssh_error_message(s->session));
        }
}

/* ---- authentication ---- */

static bool libssh2_error_is_transport(int rc)
{
        return rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV ||
               rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
               rc == LIBSSH2_ERROR_SOCKET_NONE || rc == LIBSSH2_ERROR_TIMEOUT;
}

static int ssh_fail_wait(ExecJob *j, int r, const char *what, const char *hp)
{
        if (r == -ECANCELED)
                return exec_fail(j, ACTION_CANCELLED, "cancelled while %s %s", what, hp);
        if (r == -ETIME)
                return exec_fail(j, ACTION_TIMEOUT, "timed out while %s %s", what, hp);
        return exec_fail(j, ACTION_FAILED, "poll failed while %s %s: %s", what, hp, strerror(-r));
}

static int ssh_auth_agent(ExecJob *j, SshSession *s, usec_t until, const char *hp)
{
        const Host *h = s->host;
        LIBSSH2_AGENT *agent;
        struct libssh2_agent_publickey *id = NULL, *prev = NULL;
        unsigned tried = 0;
        int rc, r = 0;

        agent = libssh2_agent_init(s->session);
        if (!agent)
                return exec_fail(j, ACTION_AUTH_FAILED, "cannot use ssh-agent: %s", ssh_error_message(s->session));
        if (libssh2_agent_connect(agent) != 0) {
                r = exec_fail(j, ACTION_AUTH_FAILED, "cannot reach ssh-agent (SSH_AUTH_SOCK): %s",
                              ssh_error_message(s->session));
                goto finish;
        }
        if (libssh2_agent_list_identities(agent) != 0) {
                r = exec_fail(j, ACTION_AUTH_FAILED, "cannot list ssh-agent keys: %s",
                              ssh_error_message(s->session));
                goto finish;
        }
        while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
                prev = id;
                tried++;
                while ((rc = libssh2_agent_userauth(agent, h->user, id)) == LIBSSH2_ERROR_EAGAIN) {
                        r = ssh_wait(j, s, until);
                        if (r < 0) {
                                r = ssh_fail_wait(j, r, "authenticating to", hp);
                                goto finish;
                        }
                }
                if (rc == 0) {
                        r = 0;
                        goto finish;
                }
                if (libssh2_error_is_transport(rc)) {
                        r = exec_fail(j, ACTION_CONNECT_FAILED, "connection to %s lost during authentication: %s",
                                      hp, ssh_error_message(s->session));
                        goto finish;
                }
        }
        r = exec_fail(j, ACTION_AUTH_FAILED, "authentication as %s refused by %s (ssh-agent, %u key%s tried)",
                      h->user, hp, tried, tried == 1 ? "" : "s");
finish:
        (void) libssh2_agent_disconnect(agent);
        libssh2_agent_free(agent);
        return r;
}

static int ssh_auth_key(ExecJob *j, SshSession *s, usec_t until, const char *hp)
{
        const Host *h = s->host;
        _cleanup_free_ char *pub = NULL;
        int rc, r;

        if (h->public_key_file)
                pub = xstrdup(h->public_key_file);
        else {
                pub = xasprintf("%s.pub", h->key_file);
                if (access(pub, R_OK) < 0)
                        pub = mfree_str(pub); /* libssh2 derives it from the private key */
        }

        while ((rc = libssh2_userauth_publickey_fromfile_ex(s->session, h->user, (unsigned) strlen(h->user), pub,
                                                            h->key_file, NULL)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_wait(j, s, until);
                if (r < 0)
                        return ssh_fail_wait(j, r, "authenticating to", hp);
        }
        if (rc == 0)
                return 0;
        if (rc == LIBSSH2_ERROR_FILE)
                return exec_fail(j, ACTION_AUTH_FAILED, "cannot load key %s for %s: %s", h->key_file, hp,
                                 ssh_error_message(s->session));
        if (libssh2_error_is_transport(rc))
                return exec_fail(j, ACTION_CONNECT_FAILED, "connection to %s lost during authentication: %s", hp,
                                 ssh_error_message(s->session));
        return exec_fail(j, ACTION_AUTH_FAILED, "authentication as %s refused by %s (key %s)", h->user, hp,
                         h->key_file);
}

/* ---- connecting ---- */

static int ssh_connect(ExecJob *j, SshSession *s)
{
        const Host *h = s->host;
        usec_t deadline = j->action.deadline;
        usec_t ct = h->connect_timeout > 0 ? h->connect_timeout : CONFIG_DEFAULT_CONNECT_TIMEOUT;
        usec_t until = MIN(deadline, usec_add(exec_now(), ct));
        _cleanup_free_ char *hp = host_port(h), *khname = known_hosts_name(h);
        struct addrinfo *ai = NULL;
        LIBSSH2_KNOWNHOSTS *kh = NULL;
        char dbuf[FORMAT_DURATION_MAX];
        int gai_error = 0, fd, rc, r;

        /* connect_timeout bounds DNS + TCP + handshake + auth, never past the action deadline. */
        r = ssh_resolve(j, h, until, &ai, &gai_error);
        if (r == -EHOSTUNREACH)
                return exec_fail(j, ACTION_CONNECT_FAILED, "cannot resolve %s: %s", h->address,
                                 gai_strerror(gai_error));
        if (r < 0)
                return ssh_fail_wait(j, r, "resolving", h->address);

        fd = tcp_connect(j, ai, until);
        freeaddrinfo(ai);
        if (fd == -ETIME && until < deadline)
                return exec_fail(j, ACTION_CONNECT_FAILED, "connecting to %s timed out after %s (connect_timeout)",
                                 hp, format_duration(dbuf, ct));
        if (fd == -ETIME || fd == -ECANCELED)
                return ssh_fail_wait(j, fd, "connecting to", hp);
        if (fd < 0)
                return exec_fail(j, ACTION_CONNECT_FAILED, "cannot connect to %s: %s", hp, strerror(-fd));
        socket_tune(fd);

        s->fd = fd;
        s->session = libssh2_session_init_ex(NULL, NULL, NULL, NULL);
        if (!s->session) {
                r = exec_fail(j, ACTION_FAILED, "cannot allocate an SSH session");
                goto fail;
        }
        libssh2_session_set_blocking(s->session, 0);

        /* Read known_hosts before the handshake, to ask for a key type it holds. An unreadable
         * or unparsable file is a refusal: host keys are always checked. */
        kh = libssh2_knownhost_init(s->session);
        if (!kh) {
                r = exec_fail(j, ACTION_FAILED, "cannot allocate the known_hosts checker");
                goto fail;
        }
        if (libssh2_knownhost_readfile(kh, h->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
                r = exec_fail(j, ACTION_HOSTKEY_REJECTED, "cannot read known_hosts file %s (%s); refusing to connect",
                              h->known_hosts, ssh_error_message(s->session));
                goto fail;
        }
        ssh_prefer_known_key_types(s->session, kh, khname);

        while ((rc = libssh2_session_handshake(s->session, s->fd)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_wait(j, s, until);
                if (r == -ETIME) {
                        r = exec_fail(j, ACTION_TIMEOUT, "no SSH handshake from %s within %s%s", hp,
                                      format_duration(dbuf, until - j->result.started),
                                      until < deadline ? " (connect_timeout)" : "");
                        goto fail;
                }
                if (r < 0) {
                        r = ssh_fail_wait(j, r, "handshaking with", hp);
                        goto fail;
                }
        }
        if (rc != 0) {
                r = exec_fail(j, ACTION_CONNECT_FAILED, "SSH handshake with %s failed: %s", hp,
                              ssh_error_message(s->session));
                goto fail;
        }

        r = ssh_check_host_key(j, s, kh);
        if (r < 0)
                goto fail;
        libssh2_knownhost_free(kh);
        kh = NULL;

        r = h->use_agent ? ssh_auth_agent(j, s, until, hp) : ssh_auth_key(j, s, until, hp);
        if (r < 0) {
                if (j->result.status == ACTION_TIMEOUT && until < deadline)
                        (void) exec_fail(j, ACTION_TIMEOUT, "authentication to %s did not finish within %s "
                                         "(connect_timeout)", hp, format_duration(dbuf, ct));
                goto fail;
        }

        exec_count_session_opened(j->executor);
        return 0;

fail:
        if (kh)
                libssh2_knownhost_free(kh);
        ssh_drop(s);
        return r < 0 ? r : -EIO;
}

/* ---- running a command ---- */

static int ssh_call_wait(ExecJob *j, SshSession *s, usec_t until, const char *what, const char *hp)
{
        int r = ssh_wait(j, s, until);
        return r < 0 ? ssh_fail_wait(j, r, what, hp) : 0;
}

/* Runs the command on a channel. On failure the result is filled and the session must be
 * dropped; *retry says the failure happened before the command was sent on a session
 * that was reused, so a fresh session may try again. */
static int ssh_run_command(ExecJob *j, SshSession *s, bool fresh, bool *retry)
{
        const Host *h = s->host;
        usec_t deadline = j->action.deadline;
        usec_t ct = h->connect_timeout > 0 ? h->connect_timeout : CONFIG_DEFAULT_CONNECT_TIMEOUT;
        /* A reused session may be dead without anyone having told us (a firewall forgot
         * the connection): bound the channel open by connect_timeout and reconnect then. */
        usec_t open_until = fresh ? deadline : MIN(deadline, usec_add(exec_now(), ct));
        _cleanup_free_ char *hp = host_port(h);
        StrBuf out = { .limit = exec_output_cap(&j->action) };
        StrBuf err = { .limit = exec_output_cap(&j->action) };
        LIBSSH2_CHANNEL *ch = NULL;
        char buf[16384];
        int rc, r;

        *retry = false;

        while (!(ch = libssh2_channel_open_session(s->session))) {
                rc = libssh2_session_last_errno(s->session);
                if (rc != LIBSSH2_ERROR_EAGAIN) {
                        *retry = !fresh;
                        r = exec_fail(j, libssh2_error_is_transport(rc) ? ACTION_CONNECT_FAILED : ACTION_FAILED,
                                      "cannot open an SSH channel to %s: %s", hp, ssh_error_message(s->session));
                        goto finish;
                }
                r = ssh_wait(j, s, open_until);
                if (r == -ETIME && open_until < deadline) {
                        *retry = true;
                        r = exec_fail(j, ACTION_CONNECT_FAILED, "SSH session to %s stopped answering", hp);
                        goto finish;
                }
                if (r < 0) {
                        r = ssh_fail_wait(j, r, "opening a channel to", hp);
                        goto finish;
                }
        }

        /* The fencing token (issue 9): sshd passes it only with AcceptEnv DROVER_FENCING_TOKEN;
         * a refusal leaves the command without it (the resource then cannot check it), it does
         * not fail the step: drover's own fence was already checked before the step acted. */
        if (exec_fencing_token(j->executor) > 0) {
                char token[32];
                int n = snprintf(token, sizeof token, "%" PRIu64, exec_fencing_token(j->executor));
                while ((rc = libssh2_channel_setenv_ex(ch, DROVER_FENCING_ENV, strlen(DROVER_FENCING_ENV), token,
                                                       (unsigned) n)) == LIBSSH2_ERROR_EAGAIN) {
                        r = ssh_call_wait(j, s, deadline, "setting the fencing token on", hp);
                        if (r < 0)
                                goto finish;
                }
        }

        while ((rc = libssh2_channel_exec(ch, j->action.command)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_call_wait(j, s, deadline, "starting the command on", hp);
                if (r < 0)
                        goto finish;
        }
        if (rc != 0) {
                r = exec_fail(j, ACTION_FAILED, "%s refused to run the command: %s", hp,
                              ssh_error_message(s->session));
                goto finish;
        }

        /* stdin: small (a few KiB at most), so it fits in the channel window and is written
         * before any output is read; then EOF, so the command sees the end of its input. */
        for (size_t off = 0; j->action.input && off < j->action.input_len;) {
                ssize_t n = libssh2_channel_write(ch, j->action.input + off, j->action.input_len - off);
                if (n == LIBSSH2_ERROR_EAGAIN) {
                        r = ssh_call_wait(j, s, deadline, "writing the command's input to", hp);
                        if (r < 0)
                                goto finish;
                        continue;
                }
                if (n < 0) {
                        r = exec_fail(j, ACTION_FAILED, "writing the command's input to %s failed: %s", hp,
                                      ssh_error_message(s->session));
                        goto finish;
                }
                off += (size_t) n;
        }
        while (j->action.input && (rc = libssh2_channel_send_eof(ch)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_call_wait(j, s, deadline, "closing the command's input on", hp);
                if (r < 0)
                        goto finish;
        }
        if (j->action.input && rc != 0) {
                r = exec_fail(j, ACTION_FAILED, "closing the command's input on %s failed: %s", hp,
                              ssh_error_message(s->session));
                goto finish;
        }

        for (;;) {
                ssize_t n0, n1;
                bool progress = false;

                n0 = libssh2_channel_read_ex(ch, 0, buf, sizeof(buf));
                if (n0 > 0) {
                        strbuf_append(&out, buf, (size_t) n0);
                        progress = true;
                }
                n1 = libssh2_channel_read_ex(ch, SSH_EXTENDED_DATA_STDERR, buf, sizeof(buf));
                if (n1 > 0) {
                        strbuf_append(&err, buf, (size_t) n1);
                        progress = true;
                }
                if (progress)
                        continue;
                if ((n0 < 0 && n0 != LIBSSH2_ERROR_EAGAIN) || (n1 < 0 && n1 != LIBSSH2_ERROR_EAGAIN)) {
                        r = exec_fail(j, ACTION_FAILED, "reading the command's output from %s failed: %s", hp,
                                      ssh_error_message(s->session));
                        goto finish;
                }
                /* libssh2_channel_eof() stays 0 while data for the channel is still queued. */
                if (libssh2_channel_eof(ch))
                        break;
                r = ssh_call_wait(j, s, deadline, "running the command on", hp);
                if (r < 0)
                        goto finish;
        }

        while ((rc = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_call_wait(j, s, deadline, "closing the channel to", hp);
                if (r < 0)
                        goto finish;
        }
        while (rc == 0 && (rc = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_call_wait(j, s, deadline, "closing the channel to", hp);
                if (r < 0)
                        goto finish;
        }
        if (rc != 0) {
                r = exec_fail(j, ACTION_FAILED, "closing the channel to %s failed: %s", hp,
                              ssh_error_message(s->session));
                goto finish;
        }

        /* libssh2 1.10 reports 0 when no exit-status arrived; OpenSSH always sends either
         * exit-status or exit-signal for a command that ended, and we got here only
         * after a clean EOF and close. */
        char *sig = NULL;
        size_t sig_len = 0;
        j->result.exit_status = libssh2_channel_get_exit_status(ch);
        if (libssh2_channel_get_exit_signal(ch, &sig, &sig_len, NULL, NULL, NULL, NULL) == 0 && sig) {
                j->result.exit_signal = xstrndup(sig, sig_len);
                j->result.exit_status = -1;
                libssh2_free(s->session, sig);
        }

        while ((rc = libssh2_channel_free(ch)) == LIBSSH2_ERROR_EAGAIN) {
                r = ssh_call_wait(j, s, deadline, "closing the channel to", hp);
                if (r < 0)
                        goto finish;
        }
        ch = NULL;
        j->result.status = ACTION_DONE;
        r = 0;

finish:
        /* On failure `ch` is left to libssh2_session_free() in ssh_drop(): the channel may be
         * halfway through a non-blocking call and must not be touched again. */
        exec_result_take_output(&out, &j->result.out, &j->result.out_len, &j->result.out_truncated);
        exec_result_take_output(&err, &j->result.err, &j->result.err_len, &j->result.err_truncated);
        return r;
}

void exec_ssh_run(ExecJob *j)
{
        SshSession *s = j->ssh;

        for (unsigned attempt = 0;; attempt++) {
                bool fresh = false, retry = false;
                int r;

                if (!s->session) {
                        r = ssh_connect(j, s);
                        if (r < 0)
                                return; /* the session is already dropped */
                        fresh = true;
                }

                r = ssh_run_command(j, s, fresh, &retry);
                if (r >= 0)
                        return;

                if (retry && attempt == 0 && !exec_job_cancelled(j) && exec_now() < j->action.deadline) {
                        /* The kept session died while idle (remote restart, idle cut): nothing
                         * ran, reconnect once. */
                        ssh_drop(s);
                        j->result.status = ACTION_DONE;
                        j->result.error = mfree_str(j->result.error);
                        continue;
                }

                /* Tell the engine now; tearing the connection down may take a moment. */
                exec_job_post(j);
                ssh_drop(s);
                return;
        }
}
