/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exit-status.h — the exit statuses of drover's binaries. A contract with the scripts,
 * timers and monitoring that call droverctl (and later droverd's helpers): keep the
 * numbers stable.
 */
#pragma once

enum {
        DROVER_EXIT_OK = 0,         /* success: the run succeeded, the files are valid */
        DROVER_EXIT_RUN_FAILED = 1, /* the playbook failed (after rollback if any) or was aborted */
        DROVER_EXIT_USAGE = 2,      /* usage or validation error: nothing ran */
        DROVER_EXIT_INFRA = 3,      /* infrastructure error: journal unusable, executor failed, droverd
                                     * unreachable, … */
        DROVER_EXIT_REFUSED = 4,    /* droverd refused the caller: not a commander, four-eyes */
        DROVER_EXIT_NOT_FOUND = 5,  /* no such run, incident or site */
        DROVER_EXIT_NOTHING_TO_DO = 6, /* nothing pending: the run ended, no gate waits, already acknowledged,
                                        * or droverd is stopping */
};
