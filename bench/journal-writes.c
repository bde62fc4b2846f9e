/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-writes.c — what a journal write costs: step attempts begun and ended (two
 * writes each) through the public journal API on a fresh file, measured two ways:
 * committed one by one (each write a transaction with its fsync, as a run does) and
 * batched (1000 writes per transaction: the CPU cost of a write without the disk).
 * Uses only the API that existed before the audit chain, so that the same source
 * measures a build without it. Not a test; run by hand:
 *   build/bench/journal-writes [-n STEPS] [-d DIR] [-r ROUNDS] [-k]
 * -k keeps the last batched journal (its path is printed), e.g. to time
 * `droverctl --db PATH audit verify` on it.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal/journal.h"
#include "shared/time-util.h"

static int write_steps(Journal *j, int64_t run_id, unsigned n, bool batch)
{
        for (unsigned i = 0; i < n; i++) {
                StepRecord s = {.run_id = run_id,
                                .step_index = (int) i,
                                .step_name = (char *) "bench",
                                .kind = (char *) "ssh",
                                .phase = STEP_PHASE_FORWARD,
                                .target = (char *) "db1",
                                .attempt = 1,
                                .detail = (char *) "systemctl stop postgresql"};
                int64_t id;
                int r;

                if (batch && i % 500 == 0 && (r = journal_begin(j)) < 0)
                        return r;
                if ((r = journal_step_begin(j, &s, &id)) < 0)
                        return r;
                s = (StepRecord){.id = id,
                                 .outcome = STEP_OK,
                                 .exit_status = 0,
                                 .duration = 1234,
                                 .stdout_text = (char *) "stopped\n"};
                if ((r = journal_step_end(j, &s)) < 0)
                        return r;
                if (batch && (i % 500 == 499 || i == n - 1) && (r = journal_commit(j)) < 0)
                        return r;
        }
        return 0;
}

static double measure(const char *dir, unsigned n, bool batch, bool keep)
{
        char path[PATH_MAX];
        Journal *j = NULL;
        RunRecord run = {.playbook = (char *) "bench"};
        int64_t run_id;
        usec_t t0, t1;

        (void) snprintf(path, sizeof path, "%s/bench-%d-%s.db", dir, (int) getpid(),
                        batch ? "batch" : "one");
        if (journal_open(path, &j) < 0 || journal_run_begin(j, &run, &run_id) < 0) {
                fprintf(stderr, "cannot open %s\n", path);
                exit(1);
        }
        t0 = now_usec(CLOCK_MONOTONIC);
        if (write_steps(j, run_id, n, batch) < 0) {
                fprintf(stderr, "write failed: %s\n", journal_errmsg(j));
                exit(1);
        }
        t1 = now_usec(CLOCK_MONOTONIC);
        journal_close(j);
        if (keep) {
                printf("kept %s\n", path);
                return 2.0 * n / ((double) (t1 - t0) / USEC_PER_SEC);
        }
        for (size_t k = 0; k < 3; k++) {
                char f[PATH_MAX + 8];
                (void) snprintf(f, sizeof f, "%s%s", path, (const char *[]){"", "-wal", "-shm"}[k]);
                (void) unlink(f);
        }
        return 2.0 * n / ((double) (t1 - t0) / USEC_PER_SEC);
}

int main(int argc, char **argv)
{
        const char *dir = "/tmp";
        unsigned n = 500, rounds = 3;
        bool keep = false;
        int c;

        while ((c = getopt(argc, argv, "n:d:r:k")) >= 0)
                switch (c) {
                case 'n':
                        n = (unsigned) atoi(optarg);
                        break;
                case 'd':
                        dir = optarg;
                        break;
                case 'r':
                        rounds = (unsigned) atoi(optarg);
                        break;
                case 'k':
                        keep = true;
                        break;
                default:
                        fprintf(stderr, "usage: journal-writes [-n STEPS] [-d DIR] [-r ROUNDS] [-k]\n");
                        return 2;
                }
        if (n == 0 || rounds == 0)
                return 2;
        printf("schema %d, %u step attempts (%u writes) per round, %u rounds, in %s\n",
               JOURNAL_SCHEMA_VERSION, n, 2 * n, rounds, dir);
        for (unsigned r = 0; r < rounds; r++)
                printf("round %u: committed one by one %8.0f writes/s   batched %8.0f writes/s\n", r + 1,
                       measure(dir, n, false, false), measure(dir, 20 * n, true, keep && r == rounds - 1));
        return 0;
}
