/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-manager-run-gate.c — issue 9: who may start a run in a cluster
 * (manager_run_cluster_gate(), src/daemon/manager-run.c, pure): standalone as ever; a
 * leader sure of its lease, with its epoch as the fencing token; a follower refused with
 * the leader's name; no quorum refused unless a commander overrides; a dry run everywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/manager-cluster.h"
#include "daemon/manager-internal.h"

static int gate(ClusterRole role, bool may_act, bool dry, bool override, uint64_t *epoch, bool *ov,
                char **err)
{
        ManagerClusterView v = {.role = role, .node = "beta", .leader = "alpha", .epoch = 41};
        *err = NULL;
        return manager_run_cluster_gate(&v, may_act, dry, override, epoch, ov, err);
}

static void test_gate(void **state)
{
        (void) state;
        uint64_t epoch;
        bool ov;
        char *err;

        assert_int_equal(gate(CLUSTER_ROLE_STANDALONE, true, false, false, &epoch, &ov, &err), 0);
        assert_int_equal(epoch, 0);
        assert_false(ov);

        assert_int_equal(gate(CLUSTER_ROLE_LEADER, true, false, false, &epoch, &ov, &err), 0);
        assert_int_equal(epoch, 41);
        assert_false(ov);

        assert_int_equal(gate(CLUSTER_ROLE_FOLLOWER, false, false, false, &epoch, &ov, &err), -EREMOTE);
        assert_non_null(strstr(err, "alpha leads the cluster"));
        free(err);
        /* an override is for a lost quorum, never for going around the leader */
        assert_int_equal(gate(CLUSTER_ROLE_FOLLOWER, false, false, true, &epoch, &ov, &err), -EREMOTE);
        free(err);

        assert_int_equal(gate(CLUSTER_ROLE_NO_QUORUM, false, false, false, &epoch, &ov, &err), -ENOLINK);
        assert_non_null(strstr(err, "explicit override"));
        free(err);
        assert_int_equal(gate(CLUSTER_ROLE_NO_QUORUM, false, false, true, &epoch, &ov, &err), 0);
        assert_int_equal(epoch, 0); /* no fence to write to */
        assert_true(ov);

        /* a leader that cannot be sure of its lease acts like no quorum */
        assert_int_equal(gate(CLUSTER_ROLE_LEADER, false, false, false, &epoch, &ov, &err), -ENOLINK);
        free(err);

        /* a dry run acts on nothing */
        assert_int_equal(gate(CLUSTER_ROLE_FOLLOWER, false, true, false, &epoch, &ov, &err), 0);
        assert_int_equal(epoch, 0);
        assert_false(ov);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
