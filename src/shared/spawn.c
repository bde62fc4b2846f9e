/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spawn.c — see spawn.h. posix_spawn() with file actions and attributes only: glibc
 * runs them in a vfork-like child that shares nothing with the caller's other threads
 * but the address space until exec, and reports exec failures as the return value.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macros.h"
#include "shared/spawn.h"
#include "shared/strbuf.h"

int pidfd_open_cloexec(pid_t pid)
{
#ifdef SYS_pidfd_open
        /* A pidfd is always close-on-exec (pidfd_open(2)). */
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd >= 0 ? fd : -errno;
#else
        return -ENOSYS;
#endif
}

int pidfd_kill(int pidfd, pid_t pid, int sig)
{
#ifdef SYS_pidfd_send_signal
        if (pidfd >= 0)
                return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
#endif
        if (pid <= 0)
                return -ESRCH;
        return kill(pid, sig) < 0 ? -errno : 0;
}

/* A name without '/' found in a PATH-like list; allocated, or NULL. */
static char *find_in_path(const char *name, const char *search_path)
{
        const char *p = search_path;

        while (*p) {
                size_t n = strcspn(p, ":");
                if (n > 0) {
                        _cleanup_free_ char *cand = xasprintf("%.*s/%s", (int) n, p, name);
                        if (access(cand, X_OK) == 0)
                                return TAKE_PTR(cand);
                }
                p += n;
                if (*p == ':')
                        p++;
        }
        return NULL;
}

int spawn(const SpawnOptions *o, pid_t *ret_pid, int *ret_pidfd)
{
        static char *const empty_env[] = {NULL};
        _cleanup_free_ char *program = NULL;
        _cleanup_free_ int *moved = NULL;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
        pid_t pid;
        int r = 0;

        if (!o || !o->path || !*o->path || !o->argv || !o->argv[0] || !ret_pid)
                return -EINVAL;
        if (strchr(o->path, '/'))
                program = xstrdup(o->path);
        else if (o->search_path) {
                program = find_in_path(o->path, o->search_path);
                if (!program)
                        return -ENOENT;
        } else
                return -EINVAL;

        /* A source descriptor that is itself a target below n_fds could be overwritten by an
         * earlier dup2: move every such source above n_fds first (CLOEXEC, closed below). */
        moved = xcalloc(o->n_fds ? o->n_fds : 1, sizeof(int));
        for (size_t i = 0; i < o->n_fds; i++)
                moved[i] = -EBADF;
        for (size_t i = 0; i < o->n_fds; i++) {
                int fd = o->fds[i];
                if (fd < 0 || (size_t) fd >= o->n_fds)
                        continue;
                moved[i] = fcntl(fd, F_DUPFD_CLOEXEC, (int) o->n_fds);
                if (moved[i] < 0) {
                        r = -errno;
                        goto close_moved;
                }
        }

        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        for (size_t i = 0; i < o->n_fds; i++) {
                int fd = moved[i] >= 0 ? moved[i] : o->fds[i];
                if (fd < 0)
                        r = posix_spawn_file_actions_addopen(&fa, (int) i, "/dev/null", O_RDWR, 0);
                else
                        /* dup2 clears CLOEXEC on the copy: the source's flag does not matter. */
                        r = posix_spawn_file_actions_adddup2(&fa, fd, (int) i);
                if (r != 0)
                        goto destroy;
        }
        /* Nothing of the caller's but what it named: no journal, sockets, lock files. */
        r = posix_spawn_file_actions_addclosefrom_np(&fa, (int) o->n_fds);
        if (r != 0)
                goto destroy;

        sigemptyset(&none);
        sigfillset(&all);
        (void) posix_spawnattr_setsigmask(&attr, &none);
        (void) posix_spawnattr_setsigdefault(&attr, &all);
        if (o->new_process_group) {
                (void) posix_spawnattr_setpgroup(&attr, 0);
                flags |= POSIX_SPAWN_SETPGROUP;
        }
        (void) posix_spawnattr_setflags(&attr, flags);

        r = posix_spawn(&pid, program, &fa, &attr, o->argv, o->envp ? o->envp : empty_env);

destroy:
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        r = r > 0 ? -r : r;
close_moved:
        for (size_t i = 0; i < o->n_fds; i++)
                if (moved[i] >= 0)
                        (void) close(moved[i]);
        if (r < 0)
                return r;

        *ret_pid = pid;
        if (ret_pidfd) {
                int fd = pidfd_open_cloexec(pid);
                *ret_pidfd = fd >= 0 ? fd : -EBADF;
        }
        return 0;
}
