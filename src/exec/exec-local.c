/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec-local.c — local commands: an absolute program (or one found in a fixed PATH)
 * started by src/shared/spawn.h (posix_spawn + pidfd), with a clean environment (PATH,
 * LANG=C.UTF-8, HOME=/, and DROVER_FENCING_TOKEN in a cluster run), stdin from /dev/null, stdout/stderr captured through pipes up
 * to the output cap, no other descriptor, in a new process group. At the deadline (or
 * on cancel) the whole group gets SIGTERM, then SIGKILL after a 2 s grace; the child is
 * always reaped here (pidfd + waitpid), so a local action may outlive its deadline by at
 * most that grace.
 *
 * Owns: the child process and its pipes. Does not own: shell parsing (the engine
 * builds argv, `shell:` steps pass /bin/sh -c explicitly). Called by worker threads.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "drover/worker-protocol.h"
#include "exec/exec-internal.h"
#include "shared/spawn.h"

#define LOCAL_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define KILL_GRACE (2 * USEC_PER_SEC)
/* After the child exits, a daemon it started may still hold the pipes: read on only briefly. */
#define DRAIN_AFTER_EXIT (500 * USEC_PER_MSEC)

static char *local_find_program(const char *name)
{
        if (strchr(name, '/'))
                return name[0] == '/' ? xstrdup(name) : NULL;

        const char *p = LOCAL_PATH;
        while (*p) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *cand = xasprintf("%.*s/%s", (int) n, p, name);
                if (access(cand, X_OK) == 0)
                        return TAKE_PTR(cand);
                p += n;
                if (*p == ':')
                        p++;
        }
        return NULL;
}

static const char *signal_name(int sig)
{
        const char *s = sigabbrev_np(sig);
        return s ? s : "UNKNOWN";
}

static void drain_fd(int *fd, StrBuf *b)
{
        char buf[16384];

        if (*fd < 0)
                return;
        for (;;) {
                ssize_t n = read(*fd, buf, sizeof(buf));
                if (n > 0) {
                        strbuf_append(b, buf, (size_t) n);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                close(*fd); /* EOF or error */
                *fd = -EBADF;
                return;
        }
}

void exec_local_run(ExecJob *j)
{
        const Action *a = &j->action;
        char token[64] = "";
        char *envp[] = { (char *) "PATH=" LOCAL_PATH, (char *) "LANG=C.UTF-8", (char *) "HOME=/", NULL, NULL };
        StrBuf out = { .limit = exec_output_cap(a) }, err = { .limit = exec_output_cap(a) };
        _cleanup_free_ char *program = NULL;
        int pout[2] = { -EBADF, -EBADF }, perr[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF;
        bool exited = false;
        int killed_with = 0, wstatus = 0, r;
        usec_t kill_at = a->deadline, drain_until = USEC_INFINITY;
        pid_t pid = 0;

        if (exec_fencing_token(j->executor) > 0) {
                (void) snprintf(token, sizeof token, DROVER_FENCING_ENV "=%" PRIu64, exec_fencing_token(j->executor));
                envp[3] = token;
        }

        program = local_find_program(a->argv[0]);
        if (!program) {
                exec_fail(j, ACTION_FAILED, "%s: %s", a->argv[0],
                          strchr(a->argv[0], '/') ? "a program path must be absolute" : "command not found in " LOCAL_PATH);
                goto finish;
        }

        if (pipe2(pout, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(perr, O_CLOEXEC | O_NONBLOCK) < 0) {
                exec_fail(j, ACTION_FAILED, "cannot set up pipes for %s: %s", a->argv[0], strerror(errno));
                goto finish;
        }

        /* Descriptors of other threads (sockets, the journal) never leak into the child;
         * its own process group, so that a deadline reaches whatever it started. */
        int fds[] = { SPAWN_FD_DEVNULL, pout[1], perr[1] };
        r = spawn(&(SpawnOptions){ .path = program,
                                   .argv = a->argv,
                                   .envp = envp,
                                   .fds = fds,
                                   .n_fds = ELEMENTSOF(fds),
                                   .new_process_group = true },
                  &pid, &pidfd);
        if (r < 0) {
                exec_fail(j, ACTION_FAILED, "cannot run %s: %s", program, strerror(-r));
                goto finish;
        }
        close(pout[1]);
        close(perr[1]);
        pout[1] = perr[1] = -EBADF;

        for (;;) {
                struct pollfd p[3];
                size_t n = 0;
                int idx_pid = -1;
                usec_t until;

                if (!exited) {
                        if (waitpid(pid, &wstatus, WNOHANG) == pid) {
                                exited = true;
                                drain_until = usec_add(exec_now(), DRAIN_AFTER_EXIT);
                        }
                }
                if (exited && pout[0] < 0 && perr[0] < 0)
                        break;

                if (pout[0] >= 0)
                        p[n++] = (struct pollfd) { .fd = pout[0], .events = POLLIN };
                if (perr[0] >= 0)
                        p[n++] = (struct pollfd) { .fd = perr[0], .events = POLLIN };
                if (!exited && pidfd >= 0) {
                        idx_pid = (int) n;
                        p[n++] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
                }

                until = exited ? drain_until : kill_at;
                if (!exited && pidfd < 0) /* no pidfd: look at the child every 20 ms */
                        until = MIN(until, usec_add(exec_now(), 20 * USEC_PER_MSEC));

                if (killed_with != 0 || exited) {
                        /* Past the deadline or the cancel: plain poll, cancellation is already acted on. */
                        usec_t now = exec_now();
                        int ms = until <= now ? 0 : (int) MIN((until - now + 999) / 1000, (usec_t) 1000);
                        r = poll(p, n, ms);
                        if (r < 0 && errno != EINTR) {
                                r = -errno;
                                break;
                        }
                        r = r > 0 ? r : (exec_now() >= until ? -ETIME : 0);
                } else
                        r = exec_poll(j, p, n, until);

                if (r == -ETIME || r == -ECANCELED) {
                        if (exited)
                                break; /* pipes held open by someone else: stop reading */
                        if (until != kill_at && r == -ETIME && exec_now() < kill_at)
                                continue; /* just the 20 ms tick */
                        if (killed_with == 0) {
                                killed_with = SIGTERM;
                                if (r == -ECANCELED)
                                        exec_fail(j, ACTION_CANCELLED, "cancelled; sent SIGTERM to the process group");
                                else
                                        exec_fail(j, ACTION_TIMEOUT, "deadline reached; sent SIGTERM to the process group");
                                (void) kill(-pid, SIGTERM);
                                kill_at = usec_add(exec_now(), KILL_GRACE);
                        } else if (killed_with == SIGTERM) {
                                killed_with = SIGKILL;
                                (void) kill(-pid, SIGKILL);
                                free(j->result.error);
                                j->result.error = xasprintf("%s; still running after %llu s, sent SIGKILL",
                                                            j->result.status == ACTION_CANCELLED ? "cancelled"
                                                                                                  : "deadline reached",
                                                            (unsigned long long) (KILL_GRACE / USEC_PER_SEC));
                                /* SIGKILL cannot be ignored; wait for the exit without a deadline. */
                                kill_at = USEC_INFINITY;
                        }
                        continue;
                }
                if (r < 0) {
                        exec_fail(j, ACTION_FAILED, "poll failed: %s", strerror(-r));
                        (void) kill(-pid, SIGKILL);
                        (void) waitpid(pid, &wstatus, 0);
                        exited = true;
                        break;
                }
                for (size_t i = 0; i < n; i++) {
                        if (p[i].revents == 0 || (int) i == idx_pid)
                                continue;
                        if (p[i].fd == pout[0])
                                drain_fd(&pout[0], &out);
                        else if (p[i].fd == perr[0])
                                drain_fd(&perr[0], &err);
                }
        }

        if (!exited) {
                (void) waitpid(pid, &wstatus, 0);
                exited = true;
        }
        /* Whatever the process left in the pipes. */
        if (pout[0] >= 0)
                drain_fd(&pout[0], &out);
        if (perr[0] >= 0)
                drain_fd(&perr[0], &err);

        if (WIFEXITED(wstatus))
                j->result.exit_status = WEXITSTATUS(wstatus);
        else if (WIFSIGNALED(wstatus)) {
                j->result.exit_status = -1;
                j->result.exit_signal = xstrdup(signal_name(WTERMSIG(wstatus)));
        }

finish:
        exec_result_take_output(&out, &j->result.out, &j->result.out_len, &j->result.out_truncated);
        exec_result_take_output(&err, &j->result.err, &j->result.err_len, &j->result.err_truncated);
        for (int i = 0; i < 2; i++) {
                if (pout[i] >= 0)
                        close(pout[i]);
                if (perr[i] >= 0)
                        close(perr[i]);
        }
}
