/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-etcd-election.c — a small driver of src/cluster against a real etcd, for
 * tests/integration/250-etcd-election.sh and bench/etcd-bench.sh:
 *
 *   elect NODE PREFIX TTL_S STATUS_FILE ENDPOINT...
 *       run an election on sd-event until SIGTERM (or kill -9); after every role
 *       change STATUS_FILE holds "ROLE LEADER EPOCH" ("-" for none), replaced atomically, and
 *       stderr gets "REALTIME_USEC NODE: ROLE (REASON)";
 *       on SIGTERM resign (revoke the lease) and exit 0.
 *   elect-config DROVER_YAML STATUS_FILE
 *       the same, from a drover.yaml's cluster: section (what droverd will do).
 *   fence NODE EPOCH PREFIX ENDPOINT...
 *       one fenced step start; exit 0 (written), 3 (fenced: prints who leads), 4 (etcd error).
 *   runrec NODE EPOCH PREFIX ENDPOINT...
 *       begin a run, two steps (one ended, one in flight), list unfinished runs, read the
 *       run back and print its resume plan; exit 0 when everything round-trips.
 *   list-async PREFIX ENDPOINT...
 *       the unfinished runs, listed on an sd-event loop as droverd will; one id a line.
 *   bench-fence N NODE EPOCH PREFIX ENDPOINT...
 *       N fenced step starts; prints median and p95 in ms.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/election.h"
#include "cluster/fence.h"
#include "cluster/runrec.h"
#include "config/config.h"
#include "shared/strbuf.h"

static const char *status_file;

static void write_status(const ElectionStatus *st)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", status_file);
        FILE *f = fopen(tmp, "we");

        if (!f)
                return;
        fprintf(f, "%s %s %llu\n", cluster_role_to_string(st->role), st->leader ? st->leader : "-",
                (unsigned long long) st->epoch);
        fclose(f);
        (void) rename(tmp, status_file);
        /* CLOCK_REALTIME in µs first: the lab tests order events across namespaces by it. */
        fprintf(stderr, "%llu %s: %s (%s)\n", (unsigned long long) now_usec(CLOCK_REALTIME), st->node,
                cluster_role_to_string(st->role), strempty(st->reason));
}

static void on_role(Election *e, const ElectionStatus *st, void *userdata)
{
        write_status(st);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int do_elect(int argc, char **argv, bool from_config)
{
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        Election *e = NULL;
        sd_event *ev = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_default(&ev) < 0 || sd_event_add_signal(ev, NULL, SIGTERM, on_sigterm, NULL) < 0)
                return 4;
        if (from_config) {
                DiagList diags;
                if (argc < 3)
                        return 2;
                status_file = argv[2];
                diag_list_init(&diags);
                r = config_load(argv[1], &cfg, &diags);
                diag_list_done(&diags);
                if (r < 0 || !cfg->cluster)
                        return 2;
                r = election_new_from_config(&e, ev, cfg->cluster, on_role, NULL);
        } else {
                if (argc < 6)
                        return 2;
                status_file = argv[4];
                r = etcd_client_new(&c, argv + 5, NULL);
                if (r < 0)
                        return 4;
                r = election_new(&e, ev, c, argv[2], argv[1], (usec_t) atoi(argv[3]) * USEC_PER_SEC, on_role,
                                 NULL);
        }
        if (r < 0)
                return 4;
        {
                ElectionStatus st;
                election_get_status(e, &st);
                write_status(&st);
        }
        election_start(e);
        r = sd_event_loop(ev);
        (void) election_resign(e, 1 * USEC_PER_SEC);
        election_free(e);
        etcd_client_free(TAKE_PTR(c));
        sd_event_unref(ev);
        return r < 0 ? 4 : 0;
}

static int make_fence(char **argv, EtcdClient **c, Fence *f)
{
        if (etcd_client_new(c, argv + 4, NULL) < 0)
                return -EINVAL;
        *f = (Fence){.client = *c, .node = argv[1], .epoch = strtoull(argv[2], NULL, 10), .prefix = argv[3]};
        return 0;
}

static int do_fence(int argc, char **argv)
{
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        FenceHolder h = {};
        Fence f;
        int r;

        if (argc < 5 || make_fence(argv, &c, &f) < 0)
                return 2;
        _cleanup_free_ char *id = runrec_make_id(f.epoch, f.node, 1);
        StepRecord s = {.index = 0,
                        .name = (char *) "step",
                        .attempt = 1,
                        .node = (char *) f.node,
                        .epoch = f.epoch,
                        .started = now_usec(CLOCK_REALTIME)};
        _cleanup_free_ char *key = runrec_key_step(f.prefix, id, 0, 1);
        _cleanup_free_ char *value = steprec_encode(&s);
        EtcdOp op = {.type = ETCD_OP_PUT, .key = key, .value = value};

        r = fence_txn(&f, &op, 1, &h);
        if (r == -ESTALE) {
                printf("fenced: leader is %s epoch %llu\n", h.leader ? h.leader : "-",
                       (unsigned long long) h.epoch);
                fence_holder_done(&h);
                return 3;
        }
        if (r < 0) {
                printf("error: %s\n", strerror(-r));
                return 4;
        }
        printf("written\n");
        return 0;
}

static int do_runrec(int argc, char **argv)
{
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_(runrec_freep) RunRecord *back = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        Fence f;
        ResumePlan plan;
        int r;

        if (argc < 5 || make_fence(argv, &c, &f) < 0)
                return 2;
        RunParam params[] = {{"site", "primary", false}, {"password", "s3cr3t-value", true}};
        _cleanup_free_ char *pj = runrec_params_json(params, 2);
        _cleanup_free_ char *id = runrec_make_id(f.epoch, f.node, 9);
        RunRecord run = {.id = id,
                         .playbook = (char *) "site-switchover",
                         .params_json = pj,
                         .trigger = (char *) "test",
                         .actor = (char *) "test",
                         .node = (char *) f.node,
                         .epoch = f.epoch,
                         .local_id = 9,
                         .started = now_usec(CLOCK_REALTIME)};
        StepRecord s0 = {.index = 0,
                         .name = (char *) "fence-old-primary",
                         .attempt = 1,
                         .node = (char *) f.node,
                         .epoch = f.epoch,
                         .idempotent = true,
                         .started = now_usec(CLOCK_REALTIME)};
        StepRecord s1 = {.index = 1,
                         .name = (char *) "promote-db",
                         .attempt = 1,
                         .node = (char *) f.node,
                         .epoch = f.epoch,
                         .started = now_usec(CLOCK_REALTIME)};

        if ((r = runrec_begin(&f, &run)) < 0 || (r = runrec_step_start(&f, id, &s0)) < 0)
                goto fail;
        s0.outcome = STEPREC_OK;
        s0.ended = now_usec(CLOCK_REALTIME);
        if ((r = runrec_step_end(&f, id, &s0)) < 0 || (r = runrec_step_start(&f, id, &s1)) < 0)
                goto fail;
        if ((r = runrec_list_unfinished(c, f.prefix, 2 * USEC_PER_SEC, &ids)) < 0)
                goto fail;
        for (char **i = ids; *i; i++)
                printf("unfinished %s\n", *i);
        if ((r = runrec_read(c, f.prefix, id, 2 * USEC_PER_SEC, &back)) < 0)
                goto fail;
        printf("run %s playbook %s params %s node %s epoch %llu steps %zu\n", back->id, back->playbook,
               back->params_json, back->node, (unsigned long long) back->epoch, back->n_steps);
        for (size_t i = 0; i < back->n_steps; i++)
                printf("step %u.%u %s %s by %s\n", back->steps[i].index, back->steps[i].attempt,
                       back->steps[i].name, steprec_outcome_to_string(back->steps[i].outcome),
                       back->steps[i].node);
        runrec_resume_plan(back, &plan);
        printf("resume %s at %u attempt %u\n", resume_action_to_string(plan.action), plan.next_index,
               plan.next_attempt);
        /* finish: the active marker goes */
        if ((r = runrec_finish(&f, back, RUNREC_SUCCEEDED, now_usec(CLOCK_REALTIME))) < 0)
                goto fail;
        strv_free(ids);
        ids = NULL;
        if ((r = runrec_list_unfinished(c, f.prefix, 2 * USEC_PER_SEC, &ids)) < 0)
                goto fail;
        printf("unfinished after finish: %zu\n", (size_t) (ids[0] ? 1 : 0));
        return 0;
fail:
        printf("error: %s\n", strerror(-r));
        return r == -ESTALE ? 3 : 4;
}

static sd_event *list_event;

static void on_list(int error, char **ids, void *userdata)
{
        int *rc = userdata;

        if (error < 0) {
                printf("error: %s\n", strerror(-error));
                *rc = 4;
        } else {
                for (char **i = ids; *i; i++)
                        printf("%s\n", *i);
                strv_free(ids);
                *rc = 0;
        }
        (void) sd_event_exit(list_event, 0);
}

static int do_list_async(int argc, char **argv)
{
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        sd_event *ev = NULL;
        int rc = 4;

        if (argc < 3 || etcd_client_new(&c, argv + 2, NULL) < 0)
                return 2;
        if (sd_event_default(&ev) < 0 || etcd_client_attach_event(c, ev) < 0)
                return 4;
        list_event = ev;
        if (runrec_list_unfinished_async(c, argv[1], 2 * USEC_PER_SEC, on_list, &rc, NULL) < 0)
                return 4;
        (void) sd_event_loop(ev);
        etcd_client_free(TAKE_PTR(c));
        sd_event_unref(ev);
        return rc;
}

static int cmp_usec(const void *a, const void *b)
{
        usec_t x = *(const usec_t *) a, y = *(const usec_t *) b;
        return x < y ? -1 : x > y;
}

static void print_figures(const char *what, usec_t *t, int n)
{
        qsort(t, (size_t) n, sizeof(usec_t), cmp_usec);
        printf("%s: n=%d median %.2f ms p95 %.2f ms max %.2f ms\n", what, n, (double) t[n / 2] / 1000.0,
               (double) t[(size_t) n * 95 / 100] / 1000.0, (double) t[n - 1] / 1000.0);
}

static int do_bench_fence(int argc, char **argv)
{
        _cleanup_(etcd_client_freep) EtcdClient *c = NULL;
        _cleanup_free_ usec_t *t = NULL, *u = NULL;
        Fence f;
        int n;

        if (argc < 6)
                return 2;
        n = atoi(argv[1]);
        if (n <= 0 || make_fence(argv + 1, &c, &f) < 0)
                return 2;
        t = xcalloc((size_t) n, sizeof(usec_t));
        u = xcalloc((size_t) n, sizeof(usec_t));
        _cleanup_free_ char *id = runrec_make_id(f.epoch, f.node, 1);
        /* Interleaved, so that both see the same machine load: the fenced txn, and the same
         * record as a plain put (what the fence itself costs on top). */
        for (int i = 0; i < n; i++) {
                StepRecord s = {.index = (unsigned) (i % 10000),
                                .name = (char *) "bench",
                                .attempt = 1,
                                .node = (char *) f.node,
                                .epoch = f.epoch,
                                .started = now_usec(CLOCK_REALTIME)};
                _cleanup_free_ char *key = runrec_key_step(f.prefix, "plain", s.index, 1);
                _cleanup_free_ char *value = steprec_encode(&s);
                usec_t t0 = now_usec(CLOCK_MONOTONIC);
                int r = runrec_step_start(&f, id, &s);
                usec_t t1 = now_usec(CLOCK_MONOTONIC);
                if (r >= 0)
                        r = etcd_put(c, key, value, 0, 2 * USEC_PER_SEC);
                t[i] = t1 - t0;
                u[i] = now_usec(CLOCK_MONOTONIC) - t1;
                if (r < 0) {
                        printf("error at write %d: %s\n", i, strerror(-r));
                        return 4;
                }
        }
        print_figures("fenced step write (txn)", t, n);
        print_figures("plain put of the same record", u, n);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s elect|fence|runrec|bench-fence ...\n", argv[0]);
                return 2;
        }
        if (streq(argv[1], "elect"))
                return do_elect(argc - 1, argv + 1, false);
        if (streq(argv[1], "elect-config"))
                return do_elect(argc - 1, argv + 1, true);
        if (streq(argv[1], "fence"))
                return do_fence(argc - 1, argv + 1);
        if (streq(argv[1], "runrec"))
                return do_runrec(argc - 1, argv + 1);
        if (streq(argv[1], "list-async"))
                return do_list_async(argc - 1, argv + 1);
        if (streq(argv[1], "bench-fence"))
                return do_bench_fence(argc - 1, argv + 1);
        return 2;
}
