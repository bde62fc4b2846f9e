/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-spawn.c — src/shared/spawn.c with real children (/bin/sh): descriptors mapped as
 * asked (also when a source is another target's number) and nothing else inherited, the
 * environment exactly as given, signal mask and dispositions reset, the process group,
 * the pidfd, and programs that cannot run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/spawn.h"
#include "shared/strbuf.h"

/* Runs `sh -c script` with stdout on a pipe (and the given extra fds after it); returns
 * its output and exit status. */
static char *run_sh(const char *script, char *const *envp, const int *extra, size_t n_extra, bool pgroup,
                    int *ret_status, pid_t *ret_pid)
{
        int out[2];
        int fds[8] = {SPAWN_FD_DEVNULL};
        char *const argv[] = {(char *) "sh", (char *) "-c", (char *) script, NULL};
        StrBuf b = STRBUF_INIT;
        pid_t pid;
        int pidfd, status;
        char buf[512];
        ssize_t n;

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        fds[1] = out[1];
        fds[2] = out[1];
        for (size_t i = 0; i < n_extra; i++)
                fds[3 + i] = extra[i];
        assert_int_equal(spawn(&(SpawnOptions){.path = "/bin/sh",
                                               .argv = argv,
                                               .envp = envp,
                                               .fds = fds,
                                               .n_fds = 3 + n_extra,
                                               .new_process_group = pgroup},
                               &pid, &pidfd),
                         0);
        assert_true(pid > 0);
        assert_true(pidfd >= 0);
        close(out[1]);
        while ((n = read(out[0], buf, sizeof(buf))) > 0)
                strbuf_append(&b, buf, (size_t) n);
        close(out[0]);

        /* The pidfd becomes readable when the child exits. */
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, -1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(pidfd);
        *ret_status = status;
        if (ret_pid)
                *ret_pid = pid;
        return strbuf_steal(&b) ?: xstrdup("");
}

static void test_fds_and_env(void **state)
{
        (void) state;
        char *const envp[] = {(char *) "PATH=/usr/bin:/bin", (char *) "ONLY=this", NULL};
        int leak = open("/dev/null", O_RDONLY); /* not CLOEXEC: must still not reach the child */
        int status;
        char *out;

        assert_true(leak >= 3);
        setenv("DROVER_TEST_SECRET", "hunter2", 1);
        out = run_sh("ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; env | grep -v '^PWD=' | sort | tr "
                     "'\\n' ' '",
                     envp, NULL, 0, false, &status, NULL);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* 0, 1, 2 and ls's own directory descriptor (3); never `leak` beyond. */
        assert_string_equal(out, "0 1 2 3 \nONLY=this PATH=/usr/bin:/bin ");
        free(out);
        close(leak);
        unsetenv("DROVER_TEST_SECRET");
}

static void test_fd_shuffle(void **state)
{
        (void) state;
        int a[2], saved0, status;
        char buf[16] = {};
        char *out;

        /* The child's fd 3 is our fd 0 and must not be clobbered by the dup2 onto 0. Put a
         * pipe's read end at our descriptor 0 for the test, and restore stdin after. */
        saved0 = dup(0);
        assert_int_equal(pipe(a), 0);
        assert_int_equal(dup2(a[0], 0), 0);
        close(a[0]);
        assert_int_equal(write(a[1], "via-fd3\n", 8), 8);
        close(a[1]);
        int extra[] = {0};
        out = run_sh("read x <&3; echo \"$x\"", NULL, extra, 1, false, &status, NULL);
        assert_int_equal(dup2(saved0, 0), 0);
        close(saved0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_string_equal(out, "via-fd3\n");
        (void) buf;
        free(out);
}

static void test_signals_and_group(void **state)
{
        (void) state;
        sigset_t block, old;
        int status;
        pid_t pid;
        char *out;

        /* A blocked SIGUSR1 and an ignored SIGTERM in the parent reach the child as an empty
         * mask and default dispositions. */
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
        signal(SIGTERM, SIG_IGN);
        out = run_sh("sed -n 's/^SigBlk:\\t//p; s/^SigIgn:\\t//p' /proc/self/status | tr '\\n' ' '; "
                     "cut -d' ' -f5 /proc/$$/stat",
                     NULL, NULL, 0, true, &status, &pid);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        unsigned long long blk, ign;
        int pgid;
        assert_int_equal(sscanf(out, "%llx %llx %d", &blk, &ign, &pgid), 3);
        assert_int_equal(blk, 0);
        /* Signals 1..31; glibc keeps its two internal real-time signals to itself. */
        assert_int_equal(ign & 0x7fffffffULL, 0);
        assert_int_equal(pgid, pid);
        free(out);
}

static void test_failures(void **state)
{
        (void) state;
        char *const argv[] = {(char *) "x", NULL};
        pid_t pid = 0;
        int pidfd = -1;

        assert_int_equal(
                spawn(&(SpawnOptions){.path = "/nonexistent/drover-test", .argv = argv}, &pid, &pidfd),
                -ENOENT);
        assert_int_equal(pid, 0);
        assert_int_equal(spawn(&(SpawnOptions){.path = "/tmp", .argv = argv}, &pid, &pidfd), -EACCES);
        /* A bare name: only with a search path. */
        assert_int_equal(spawn(&(SpawnOptions){.path = "true", .argv = argv}, &pid, &pidfd), -EINVAL);
        assert_int_equal(spawn(&(SpawnOptions){.path = "no-such-drover-tool",
                                               .argv = argv,
                                               .search_path = "/usr/bin:/bin"},
                               &pid, &pidfd),
                         -ENOENT);
        assert_int_equal(
                spawn(&(SpawnOptions){.path = "true", .argv = argv, .search_path = "/nonexistent:/bin"},
                      &pid, NULL),
                0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(spawn(NULL, &pid, NULL), -EINVAL);
}

static void test_pidfd_kill(void **state)
{
        (void) state;
        char *const argv[] = {(char *) "sleep", (char *) "60", NULL};
        pid_t pid;
        int pidfd, status;

        assert_int_equal(spawn(&(SpawnOptions){.path = "/bin/sleep", .argv = argv}, &pid, &pidfd), 0);
        assert_true(pidfd >= 0);
        assert_int_equal(pidfd_kill(pidfd, pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Reaped: the pidfd refers to a dead process (ESRCH), never to a new one. */
        assert_int_equal(pidfd_kill(pidfd, pid, SIGKILL), -ESRCH);
        close(pidfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fds_and_env),       cmocka_unit_test(test_fd_shuffle),
                cmocka_unit_test(test_signals_and_group), cmocka_unit_test(test_failures),
                cmocka_unit_test(test_pidfd_kill),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
