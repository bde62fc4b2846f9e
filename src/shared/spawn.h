/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spawn.h — the one way drover starts a child process: posix_spawn() (never a fork
 * without exec: droverd and the worker have threads and locks), then pidfd_open().
 *
 * The child gets exactly the descriptors it is given (fds[i] becomes descriptor i, every
 * other one is closed), exactly the environment it is given, an empty signal mask, every
 * signal at its default disposition, and optionally its own process group. Nothing the
 * caller cannot see in SpawnOptions leaks into it.
 *
 * What it cannot do: run code in the child between fork and exec (prctl, setsid
 * beyond the process group). A child that must die with its parent sets
 * PR_SET_PDEATHSIG itself (see drover-worker's start).
 *
 * Called by: droverd's run worker spawn (src/daemon/manager-run.c), local commands
 * (src/exec/exec-local.c), drill scenario commands (src/ctl/ctl-drill.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fds[i] value: a /dev/null opened for reading and writing at descriptor i. */
#define SPAWN_FD_DEVNULL (-1)

typedef struct SpawnOptions {
        const char *path;        /* the program: absolute, or a name looked up in search_path */
        char *const *argv;       /* argv[0] included, NULL-terminated */
        char *const *envp;       /* the whole environment, NULL-terminated; NULL = empty */
        const int *fds;          /* fds[i] → descriptor i in the child (SPAWN_FD_DEVNULL allowed) */
        size_t n_fds;            /* descriptors >= n_fds are closed in the child */
        bool new_process_group;  /* the child leads its own group (kill(-pid) reaches its children) */
        const char *search_path; /* when path has no '/': a PATH to look it up in (NULL: refuse) */
} SpawnOptions;

/* Starts the child. Returns 0 with *ret_pid set and, when ret_pidfd is given, *ret_pidfd a
 * CLOEXEC pidfd (or -EBADF where the kernel has none: poll the pid instead); -ENOENT,
 * -EACCES, … when the program could not be executed (nothing was started); -EINVAL for bad
 * options. The caller reaps the child. */
int spawn(const SpawnOptions *o, pid_t *ret_pid, int *ret_pidfd);

/* pidfd_open(2), CLOEXEC; -errno (-ENOSYS on kernels without it). */
int pidfd_open_cloexec(pid_t pid);
/* pidfd_send_signal(2) when pidfd >= 0, else kill(pid); -errno. */
int pidfd_kill(int pidfd, pid_t pid, int sig);
