/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-exec.c — the real executor against a real sshd, a real HTTP server and real
 * local processes (started by 010-exec.sh, which passes ports and paths in the
 * environment). Asserts outcomes only, never durations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/executor-real.h"
#include "shared/strbuf.h"

static const char *lab;
static uint16_t sshd2_port, sshd_port, http_port, blackhole_port, free_port;
static const char *hostkey_fp;

static const char *env_or_die(const char *name)
{
        const char *v = getenv(name);
        if (!v || !*v) {
                fprintf(stderr, "missing environment variable %s (run through 010-exec.sh)\n", name);
                exit(2);
        }
        return v;
}

static char *lab_path(const char *name)
{
        return xasprintf("%s/%s", lab, name);
}

static Host host_make(const char *name, uint16_t port, const char *key, const char *known_hosts)
{
        return (Host) {
                .name = (char *) name,
                .address = (char *) "127.0.0.1",
                .port = port,
                .user = (char *) "root",
                .key_file = lab_path(key),
                .known_hosts = lab_path(known_hosts),
                .connect_timeout = 10 * USEC_PER_SEC,
        };
}

static void host_done(Host *h)
{
        free(h->key_file);
        free(h->known_hosts);
}

static Action ssh_action(const Host *h, const char *cmd, uint64_t tag, usec_t timeout)
{
        return (Action) {
                .kind = ACTION_SSH,
                .tag = tag,
                .deadline = now_usec(CLOCK_MONOTONIC) + timeout,
                .output_cap = 65536,
                .host = h,
                .command = cmd,
        };
}

static void wait_result(Executor ex, ActionResult *r)
{
        /* Generous: only a hang fails here. */
        int k = ex.ops->wait(ex.userdata, now_usec(CLOCK_MONOTONIC) + 120 * USEC_PER_SEC, r);
        assert_int_equal(k, 0);
}

static void run_one(Executor ex, const Action *a, ActionResult *r)
{
        assert_int_equal(ex.ops->submit(ex.userdata, a), 0);
        wait_result(ex, r);
        assert_int_equal(r->tag, a->tag);
        if (getenv("TEST_EXEC_VERBOSE"))
                fprintf(stderr, "# %s: %s\n", action_status_to_string(r->status), strna(r->error));
}

static char *read_file(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        StrBuf b = STRBUF_INIT;
        char buf[4096];
        size_t n;

        if (!f)
                return NULL;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                strbuf_append(&b, buf, n);
        return strbuf_steal(&b);
}

static void write_file(const char *path, const char *content)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

/* ---- SSH ---- */

static void test_ssh_exec_basic(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, &(RealExecutorOptions) { 0 }), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "echo hi; echo err >&2; exit 3", 7, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        if (r.status != ACTION_DONE)
                fprintf(stderr, "error: %s\n", strna(r.error));
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.exit_status, 3);
        assert_null(r.exit_signal);
        assert_string_equal(r.out, "hi\n");
        assert_int_equal(r.out_len, 3);
        assert_string_equal(r.err, "err\n");
        assert_false(r.out_truncated);
        assert_true(r.finished >= r.started);
        action_result_done(&r);

        /* A signal ends the remote command: reported as the signal, not an exit status. */
        a = ssh_action(&h, "kill -TERM $$", 8, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.exit_status, -1);
        assert_non_null(r.exit_signal);
        assert_string_equal(r.exit_signal, "TERM");
        action_result_done(&r);
        host_done(&h);
}

static void test_ssh_session_reused(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        char cmds[10][32];
        bool seen[10] = { false };

        assert_int_equal(real_executor_new(&e, &(RealExecutorOptions) { 0 }), 0);
        Executor ex = real_executor_get(e);

        /* Ten actions for one host at once: they queue behind each other on one session. */
        for (unsigned i = 0; i < 10; i++) {
                snprintf(cmds[i], sizeof(cmds[i]), "echo %u", i);
                Action a = ssh_action(&h, cmds[i], i, 60 * USEC_PER_SEC);
                assert_int_equal(ex.ops->submit(ex.userdata, &a), 0);
        }
        for (unsigned i = 0; i < 10; i++) {
                ActionResult r = { 0 };
                char expect[16];

                wait_result(ex, &r);
                assert_true(r.tag < 10);
                assert_false(seen[r.tag]);
                seen[r.tag] = true;
                assert_int_equal(r.status, ACTION_DONE);
                assert_int_equal(r.exit_status, 0);
                snprintf(expect, sizeof(expect), "%u\n", (unsigned) r.tag);
                assert_string_equal(r.out, expect);
                action_result_done(&r);
        }
        assert_int_equal(real_executor_sessions_opened(e), 1);

        /* And one after the other. */
        for (unsigned i = 0; i < 10; i++) {
                ActionResult r = { 0 };
                Action a = ssh_action(&h, "true", 100 + i, 20 * USEC_PER_SEC);
                run_one(ex, &a, &r);
                assert_int_equal(r.status, ACTION_DONE);
                action_result_done(&r);
        }
        assert_int_equal(real_executor_sessions_opened(e), 1);
        host_done(&h);
}

static void test_ssh_output_cap(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "head -c 300000 /dev/zero | tr '\\0' x; head -c 5000 /dev/zero | tr '\\0' y >&2",
                              1, 30 * USEC_PER_SEC);
        a.output_cap = 1024;
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.exit_status, 0);
        assert_int_equal(r.out_len, 1024);
        assert_int_equal(strlen(r.out), 1024);
        assert_true(r.out_truncated);
        assert_int_equal(r.out[0], 'x');
        assert_int_equal(r.err_len, 1024);
        assert_true(r.err_truncated);
        assert_int_equal(r.err[1023], 'y');
        action_result_done(&r);
        host_done(&h);
}

static void test_ssh_hostkey_unknown(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        _cleanup_free_ char *path = lab_path("known_hosts_empty");
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts_empty");
        ActionResult r = { 0 };
        char name[64];

        write_file(path, "");
        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "true", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_HOSTKEY_REJECTED);
        assert_non_null(r.error);
        snprintf(name, sizeof(name), "[127.0.0.1]:%u", (unsigned) sshd_port);
        assert_non_null(strstr(r.error, name));
        assert_non_null(strstr(r.error, hostkey_fp));
        assert_non_null(strstr(r.error, "--accept-new-host-keys"));
        assert_int_equal(real_executor_sessions_opened(e), 0);
        action_result_done(&r);

        _cleanup_free_ char *content = read_file(path);
        assert_string_equal(content, "");
        host_done(&h);
}

static void test_ssh_hostkey_accept_new(void **state)
{
        _cleanup_free_ char *path = lab_path("known_hosts_new");
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts_new");
        ActionResult r = { 0 };
        char prefix[64];

        /* A comment and an unrelated entry must survive the append. */
        write_file(path, "# kept\n[10.9.9.9]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl");
        {
                _cleanup_(real_executor_freep) RealExecutor *e = NULL;
                assert_int_equal(real_executor_new(&e, &(RealExecutorOptions) { .accept_new_host_keys = true }), 0);
                Executor ex = real_executor_get(e);
                Action a = ssh_action(&h, "echo accepted", 1, 20 * USEC_PER_SEC);
                run_one(ex, &a, &r);
                if (r.status != ACTION_DONE)
                        fprintf(stderr, "error: %s\n", strna(r.error));
                assert_int_equal(r.status, ACTION_DONE);
                assert_string_equal(r.out, "accepted\n");
                action_result_done(&r);
        }

        _cleanup_free_ char *content = read_file(path);
        snprintf(prefix, sizeof(prefix), "\n[127.0.0.1]:%u ssh-ed25519 ", (unsigned) sshd_port);
        assert_non_null(strstr(content, prefix));
        assert_true(strncmp(content, "# kept\n[10.9.9.9]:22 ssh-ed25519 ", 33) == 0);

        /* A second executor, without accept-new, now trusts the recorded key. */
        {
                _cleanup_(real_executor_freep) RealExecutor *e = NULL;
                assert_int_equal(real_executor_new(&e, NULL), 0);
                Executor ex = real_executor_get(e);
                Action a = ssh_action(&h, "true", 2, 20 * USEC_PER_SEC);
                run_one(ex, &a, &r);
                assert_int_equal(r.status, ACTION_DONE);
                action_result_done(&r);
        }
        host_done(&h);
}

static void test_ssh_hostkey_changed(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        _cleanup_free_ char *path = lab_path("known_hosts_impostor");
        _cleanup_free_ char *before = read_file(path);
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts_impostor");
        ActionResult r = { 0 };

        assert_non_null(before);
        assert_int_equal(real_executor_new(&e, &(RealExecutorOptions) { .accept_new_host_keys = true }), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "true", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_HOSTKEY_REJECTED);
        assert_non_null(strstr(r.error, "HOST KEY CHANGED"));
        assert_non_null(strstr(r.error, hostkey_fp));
        action_result_done(&r);

        _cleanup_free_ char *after = read_file(path);
        assert_string_equal(before, after);
        host_done(&h);
}

static void test_ssh_auth_failed(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_other", "known_hosts");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "true", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_AUTH_FAILED);
        assert_non_null(strstr(r.error, "authentication as root refused"));
        assert_non_null(strstr(r.error, "id_other"));
        action_result_done(&r);
        host_done(&h);
}

static void test_ssh_connect_refused(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("dead", free_port, "id_ed25519", "known_hosts");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "true", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_CONNECT_FAILED);
        assert_non_null(strstr(r.error, "refused"));
        action_result_done(&r);
        host_done(&h);
}

static void test_ssh_blackhole_delays_only_itself(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host hung = host_make("hung", blackhole_port, "id_ed25519", "known_hosts");
        Host good = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        ActionResult r = { 0 };

        hung.connect_timeout = 60 * USEC_PER_SEC; /* the action deadline is what ends it */
        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&hung, "true", 1, 3 * USEC_PER_SEC);
        Action b = ssh_action(&good, "echo alive", 2, 60 * USEC_PER_SEC);
        assert_int_equal(ex.ops->submit(ex.userdata, &a), 0);
        assert_int_equal(ex.ops->submit(ex.userdata, &b), 0);

        wait_result(ex, &r);
        assert_int_equal(r.tag, 2);
        assert_int_equal(r.status, ACTION_DONE);
        assert_string_equal(r.out, "alive\n");
        action_result_done(&r);

        wait_result(ex, &r);
        assert_int_equal(r.tag, 1);
        assert_int_equal(r.status, ACTION_TIMEOUT);
        action_result_done(&r);

        /* connect_timeout shorter than the deadline bounds the handshake too. */
        hung.connect_timeout = 1 * USEC_PER_SEC;
        a = ssh_action(&hung, "true", 3, 60 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_TIMEOUT);
        assert_non_null(strstr(r.error, "connect_timeout"));
        action_result_done(&r);
        host_done(&hung);
        host_done(&good);
}

static void test_ssh_command_timeout(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "echo started; sleep 30", 1, 1 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_TIMEOUT);
        assert_non_null(r.error);
        action_result_done(&r);

        /* The host works again afterwards (on a new session). */
        a = ssh_action(&h, "echo again", 2, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_string_equal(r.out, "again\n");
        action_result_done(&r);
        assert_int_equal(real_executor_sessions_opened(e), 2);
        host_done(&h);
}

static void test_ssh_cancel(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "sleep 30", 1, 60 * USEC_PER_SEC);
        Action b = ssh_action(&h, "echo queued", 2, 60 * USEC_PER_SEC); /* waits behind a */
        assert_int_equal(ex.ops->submit(ex.userdata, &a), 0);
        assert_int_equal(ex.ops->submit(ex.userdata, &b), 0);
        assert_int_equal(ex.ops->wait(ex.userdata, now_usec(CLOCK_MONOTONIC) + 500 * USEC_PER_MSEC, &r), -ETIME);
        ex.ops->cancel_all(ex.userdata);

        bool seen[3] = { false };
        for (int i = 0; i < 2; i++) {
                wait_result(ex, &r);
                assert_true(r.tag == 1 || r.tag == 2);
                seen[r.tag] = true;
                assert_int_equal(r.status, ACTION_CANCELLED);
                action_result_done(&r);
        }
        assert_true(seen[1] && seen[2]);
        assert_int_equal(ex.ops->wait(ex.userdata, 0, &r), -ETIME);
        host_done(&h);
}

/* A server with ECDSA and ed25519 host keys while known_hosts holds only the ed25519 one:
 * we must ask for ed25519 (libssh2 would prefer ECDSA and then find it unknown). */
static void test_ssh_hostkey_type_preference(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("multi", sshd2_port, "id_ed25519", "known_hosts2");
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "echo multi", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_string_equal(r.out, "multi\n");
        action_result_done(&r);
        host_done(&h);
}

/* A DNS name goes through the resolver thread; "localhost" may resolve to ::1 first,
 * where nothing listens, and the next address must then be tried. */
static void test_ssh_dns_name(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        _cleanup_free_ char *path = lab_path("known_hosts_dns");
        _cleanup_free_ char *pub_path = lab_path("sshd/ssh_host_ed25519_key.pub");
        _cleanup_free_ char *pub = read_file(pub_path);
        Host h = host_make("byname", sshd_port, "id_ed25519", "known_hosts_dns");
        ActionResult r = { 0 };

        assert_non_null(pub);
        *strrchr(pub, ' ') = '\0'; /* drop the comment */
        _cleanup_free_ char *line = xasprintf("[localhost]:%u %s\n", (unsigned) sshd_port, pub);
        write_file(path, line);
        h.address = (char *) "localhost";

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "echo named", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_string_equal(r.out, "named\n");
        action_result_done(&r);

        h.address = (char *) "no-such-host.invalid";
        Host h2 = h;
        a = ssh_action(&h2, "true", 2, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_CONNECT_FAILED);
        assert_non_null(strstr(r.error, "resolve"));
        action_result_done(&r);
        h.address = NULL;
        host_done(&h);
}

/* Kill the per-connection sshd processes (children of the lab's listening sshd). */
static unsigned kill_sshd_connections(pid_t listener)
{
        unsigned n = 0;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "ps -o pid= --ppid %d", (int) listener);
        FILE *p = popen(cmd, "re");
        assert_non_null(p);
        int pid;
        while (fscanf(p, "%d", &pid) == 1)
                if (kill(pid, SIGTERM) == 0)
                        n++;
        pclose(p);
        return n;
}

static void test_ssh_reconnect_after_remote_close(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        pid_t listener = (pid_t) atoi(env_or_die("SSHD_PID"));
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "echo one", 1, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        action_result_done(&r);
        assert_int_equal(real_executor_sessions_opened(e), 1);

        /* The server side of the kept session goes away while it is idle. */
        assert_true(kill_sshd_connections(listener) >= 1);
        usleep(200 * 1000);

        a = ssh_action(&h, "echo two", 2, 20 * USEC_PER_SEC);
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_string_equal(r.out, "two\n");
        action_result_done(&r);
        assert_int_equal(real_executor_sessions_opened(e), 2);
        host_done(&h);
}

/* ---- wait / interrupt ---- */

static void *interrupter(void *userdata)
{
        Executor *ex = userdata;

        usleep(200 * 1000);
        ex->ops->interrupt(ex->userdata);
        return NULL;
}

static void test_interrupt(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        ActionResult r = { 0 };
        pthread_t t;

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);

        assert_int_equal(ex.ops->wait(ex.userdata, 0, &r), -ETIME);
        ex.ops->interrupt(ex.userdata);
        assert_int_equal(ex.ops->wait(ex.userdata, USEC_INFINITY, &r), -EINTR);
        /* The flag is cleared. */
        assert_int_equal(ex.ops->wait(ex.userdata, 0, &r), -ETIME);

        assert_int_equal(pthread_create(&t, NULL, interrupter, &ex), 0);
        assert_int_equal(ex.ops->wait(ex.userdata, USEC_INFINITY, &r), -EINTR);
        pthread_join(t, NULL);

        assert_true(ex.ops->now(ex.userdata) > 0);
        assert_true(ex.ops->now_realtime(ex.userdata) > 1600000000ULL * USEC_PER_SEC);

        Action bad = { .kind = ACTION_SSH };
        assert_int_equal(ex.ops->submit(ex.userdata, &bad), -EINVAL);
        bad = (Action) { .kind = _ACTION_KIND_MAX };
        assert_int_equal(ex.ops->submit(ex.userdata, &bad), -EINVAL);
}

/* ---- HTTP ---- */

static void http_get(Executor ex, const char *path, usec_t timeout, ActionResult *r)
{
        _cleanup_free_ char *url = NULL;
        uint16_t port = http_port;

        if (strncmp(path, "refused:", 8) == 0) {
                port = free_port;
                path += 8;
        }
        url = xasprintf("http://127.0.0.1:%u%s", (unsigned) port, path);
        char *headers[] = { (char *) "X-Test: 1", NULL };
        Action a = {
                .kind = ACTION_HTTP,
                .tag = 42,
                .deadline = now_usec(CLOCK_MONOTONIC) + timeout,
                .output_cap = 65536,
                .method = "GET",
                .url = url,
                .headers = headers,
        };
        run_one(ex, &a, r);
}

static void test_http(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);

        http_get(ex, "/health", 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.http_status, 200);
        assert_non_null(strstr(r.out, "\"status\": \"ok\""));
        assert_null(r.err);
        action_result_done(&r);

        http_get(ex, "/status/503", 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.http_status, 503);
        action_result_done(&r);

        http_get(ex, "/slow?ms=5000", 1 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_TIMEOUT);
        action_result_done(&r);

        http_get(ex, "refused:/health", 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_CONNECT_FAILED);
        assert_int_equal(r.http_status, 0);
        action_result_done(&r);

        http_get(ex, "/redirect?n=3", 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.http_status, 200);
        assert_non_null(strstr(r.out, "redirected"));
        action_result_done(&r);

        http_get(ex, "/redirect?n=10", 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_FAILED);
        assert_non_null(strstr(r.error, "redirects"));
        action_result_done(&r);
}

static void test_http_post_and_cap(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%u/record/post1", (unsigned) http_port);
        _cleanup_free_ char *rec_path = lab_path("http/post1.1.json");
        const char *body = "{\"hello\": \"world\"}";
        char *headers[] = { (char *) "Content-Type: application/json", NULL };
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = {
                .kind = ACTION_HTTP,
                .tag = 1,
                .deadline = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC,
                .output_cap = 4,
                .method = "POST",
                .url = url,
                .headers = headers,
                .body = body,
                .body_len = strlen(body),
        };
        run_one(ex, &a, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.http_status, 200);
        assert_int_equal(r.out_len, 4);
        assert_true(r.out_truncated);
        action_result_done(&r);

        _cleanup_free_ char *rec = read_file(rec_path);
        assert_non_null(rec);
        assert_non_null(strstr(rec, "\"method\": \"POST\""));
        assert_non_null(strstr(rec, "hello"));
}

static void test_http_cancel(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%u/slow?ms=20000", (unsigned) http_port);
        ActionResult r = { 0 };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = {
                .kind = ACTION_HTTP,
                .tag = 1,
                .deadline = now_usec(CLOCK_MONOTONIC) + 60 * USEC_PER_SEC,
                .url = url,
        };
        assert_int_equal(ex.ops->submit(ex.userdata, &a), 0);
        assert_int_equal(ex.ops->wait(ex.userdata, now_usec(CLOCK_MONOTONIC) + 300 * USEC_PER_MSEC, &r), -ETIME);
        ex.ops->cancel_all(ex.userdata);
        wait_result(ex, &r);
        assert_int_equal(r.status, ACTION_CANCELLED);
        action_result_done(&r);
}

/* ---- local ---- */

static void run_local(Executor ex, char **argv, usec_t timeout, ActionResult *r)
{
        Action a = {
                .kind = ACTION_LOCAL,
                .tag = 9,
                .deadline = now_usec(CLOCK_MONOTONIC) + timeout,
                .output_cap = 65536,
                .argv = argv,
        };
        run_one(ex, &a, r);
}

static void test_local_clean_env(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        ActionResult r = { 0 };

        setenv("DROVER_TEST_LEAK", "must-not-appear", 1);
        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);

        char *sh[] = { (char *) "/bin/sh", (char *) "-c", (char *) "echo $HOME; echo oops >&2; exit 4", NULL };
        run_local(ex, sh, 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.exit_status, 4);
        assert_string_equal(r.out, "/\n");
        assert_string_equal(r.err, "oops\n");
        action_result_done(&r);

        /* Looked up in the fixed PATH; exactly three variables. */
        char *env[] = { (char *) "env", NULL };
        run_local(ex, env, 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.exit_status, 0);
        assert_string_equal(r.out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                                   "LANG=C.UTF-8\nHOME=/\n");
        action_result_done(&r);

        /* stdin is /dev/null: cat ends at once. */
        char *cat[] = { (char *) "/bin/cat", NULL };
        run_local(ex, cat, 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_DONE);
        assert_int_equal(r.exit_status, 0);
        assert_int_equal(r.out_len, 0);
        action_result_done(&r);

        char *missing[] = { (char *) "no-such-program-drover", NULL };
        run_local(ex, missing, 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_FAILED);
        assert_non_null(strstr(r.error, "not found"));
        action_result_done(&r);

        char *relative[] = { (char *) "./x", NULL };
        run_local(ex, relative, 20 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_FAILED);
        action_result_done(&r);
}

static bool process_gone(pid_t pid)
{
        char path[64], buf[512];

        /* Orphans are reaped slowly here: a zombie counts as gone. */
        for (int i = 0; i < 100; i++) {
                snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                if (!f)
                        return true;
                if (fgets(buf, sizeof(buf), f)) {
                        char *p = strrchr(buf, ')');
                        if (p && (p[2] == 'Z' || p[2] == 'X'))
                                return true;
                }
                usleep(50 * 1000);
        }
        return false;
}

static void test_local_timeout_kills_group(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        ActionResult r = { 0 };
        int pid = 0;

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);

        /* The grandchild (sleep) is in the group and dies with it. */
        char *sh[] = { (char *) "/bin/sh", (char *) "-c", (char *) "sleep 60 & echo $!; wait", NULL };
        run_local(ex, sh, 1 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_TIMEOUT);
        assert_int_equal(r.exit_status, -1);
        assert_string_equal(r.exit_signal, "TERM");
        assert_int_equal(sscanf(r.out, "%d", &pid), 1);
        assert_true(pid > 1);
        assert_true(process_gone(pid));
        action_result_done(&r);

        /* SIGTERM ignored by the whole group: SIGKILL after the grace. */
        char *stubborn[] = { (char *) "/bin/sh", (char *) "-c", (char *) "trap '' TERM; sleep 60 & echo $!; wait",
                             NULL };
        run_local(ex, stubborn, 1 * USEC_PER_SEC, &r);
        assert_int_equal(r.status, ACTION_TIMEOUT);
        assert_string_equal(r.exit_signal, "KILL");
        assert_int_equal(sscanf(r.out, "%d", &pid), 1);
        assert_true(process_gone(pid));
        assert_non_null(strstr(r.error, "SIGKILL"));
        action_result_done(&r);
}

static void test_local_cancel(void **state)
{
        _cleanup_(real_executor_freep) RealExecutor *e = NULL;
        ActionResult r = { 0 };
        char *argv[] = { (char *) "/bin/sleep", (char *) "60", NULL };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = {
                .kind = ACTION_LOCAL,
                .tag = 5,
                .deadline = now_usec(CLOCK_MONOTONIC) + 60 * USEC_PER_SEC,
                .argv = argv,
        };
        assert_int_equal(ex.ops->submit(ex.userdata, &a), 0);
        assert_int_equal(ex.ops->wait(ex.userdata, now_usec(CLOCK_MONOTONIC) + 300 * USEC_PER_MSEC, &r), -ETIME);
        ex.ops->cancel_all(ex.userdata);
        wait_result(ex, &r);
        assert_int_equal(r.status, ACTION_CANCELLED);
        assert_string_equal(r.exit_signal, "TERM");
        action_result_done(&r);
}

/* Freeing an executor with work in flight cancels it and returns promptly. */
static void test_free_in_flight(void **state)
{
        RealExecutor *e = NULL;
        Host h = host_make("h1", sshd_port, "id_ed25519", "known_hosts");
        char *argv[] = { (char *) "/bin/sleep", (char *) "60", NULL };

        assert_int_equal(real_executor_new(&e, NULL), 0);
        Executor ex = real_executor_get(e);
        Action a = ssh_action(&h, "sleep 60", 1, 60 * USEC_PER_SEC);
        Action b = { .kind = ACTION_LOCAL, .tag = 2, .deadline = now_usec(CLOCK_MONOTONIC) + 60 * USEC_PER_SEC,
                     .argv = argv };
        assert_int_equal(ex.ops->submit(ex.userdata, &a), 0);
        assert_int_equal(ex.ops->submit(ex.userdata, &b), 0);
        usleep(300 * 1000);
        real_executor_free(e);
        host_done(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ssh_exec_basic),
                cmocka_unit_test(test_ssh_session_reused),
                cmocka_unit_test(test_ssh_output_cap),
                cmocka_unit_test(test_ssh_hostkey_unknown),
                cmocka_unit_test(test_ssh_hostkey_accept_new),
                cmocka_unit_test(test_ssh_hostkey_changed),
                cmocka_unit_test(test_ssh_hostkey_type_preference),
                cmocka_unit_test(test_ssh_dns_name),
                cmocka_unit_test(test_ssh_reconnect_after_remote_close),
                cmocka_unit_test(test_ssh_auth_failed),
                cmocka_unit_test(test_ssh_connect_refused),
                cmocka_unit_test(test_ssh_blackhole_delays_only_itself),
                cmocka_unit_test(test_ssh_command_timeout),
                cmocka_unit_test(test_ssh_cancel),
                cmocka_unit_test(test_interrupt),
                cmocka_unit_test(test_http),
                cmocka_unit_test(test_http_post_and_cap),
                cmocka_unit_test(test_http_cancel),
                cmocka_unit_test(test_local_clean_env),
                cmocka_unit_test(test_local_timeout_kills_group),
                cmocka_unit_test(test_local_cancel),
                cmocka_unit_test(test_free_in_flight),
        };

        signal(SIGPIPE, SIG_IGN);
        lab = env_or_die("TEST_LAB");
        sshd_port = (uint16_t) atoi(env_or_die("SSHD_PORT"));
        http_port = (uint16_t) atoi(env_or_die("HTTP_PORT"));
        blackhole_port = (uint16_t) atoi(env_or_die("BLACKHOLE_PORT"));
        free_port = (uint16_t) atoi(env_or_die("FREE_PORT"));
        sshd2_port = (uint16_t) atoi(env_or_die("SSHD2_PORT"));
        hostkey_fp = env_or_die("HOSTKEY_FP");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
