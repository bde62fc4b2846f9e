/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-run-progress.c — the run worker's JSON progress lines (as src/ctl/ctl-run.c prints
 * them) turned into a ManagerRun: ids, states, the step counter, the pending gate, the end,
 * and lines that are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/run-progress.h"

static void run_done(ManagerRun *r)
{
        free(r->playbook);
        free(r->trigger);
        free(r->actor);
        free(r->current_step);
        free(r->pending_prompt);
}

static void test_whole_run(void **state)
{
        (void) state;
        ManagerRun run = { .state = MANAGER_RUN_STARTING };
        RunProgress p = {};

        assert_int_equal(run_progress_apply(&run,
                                            "{\"event\":\"run-started\",\"run\":42,\"playbook\":\"site-switchover\","
                                            "\"kind\":\"switchover\",\"steps\":9}",
                                            &p),
                         0);
        assert_int_equal(p.kind, RUN_PROGRESS_STARTED);
        assert_string_equal(p.playbook_kind, "switchover");
        assert_int_equal(run.id, 42);
        assert_int_equal(run.steps_total, 9);
        assert_int_equal(run.state, MANAGER_RUN_RUNNING);

        assert_int_equal(run_progress_apply(&run,
                                            "{\"event\":\"step-started\",\"run\":42,\"step\":\"standby-lag\",\"index\":1,"
                                            "\"phase\":\"forward\",\"target\":\"backup-db\"}",
                                            &p),
                         0);
        assert_int_equal(p.kind, RUN_PROGRESS_STEP_STARTED);
        assert_string_equal(p.target, "backup-db");
        assert_string_equal(run.current_step, "standby-lag");
        assert_int_equal(run.steps_done, 0);

        assert_int_equal(run_progress_apply(&run,
                                            "{\"event\":\"step-finished\",\"run\":42,\"step\":\"standby-lag\",\"index\":1,"
                                            "\"phase\":\"forward\",\"target\":\"backup-db\",\"outcome\":\"ok\"}",
                                            &p),
                         0);
        assert_int_equal(p.kind, RUN_PROGRESS_STEP_FINISHED);
        assert_string_equal(p.outcome, "ok");
        assert_null(run.current_step);
        assert_int_equal(run.steps_done, 1);

        /* A rollback step does not count as a forward step done. */
        assert_int_equal(run_progress_apply(&run,
                                            "{\"event\":\"step-finished\",\"run\":42,\"step\":\"undo\",\"index\":5,"
                                            "\"phase\":\"rollback\",\"outcome\":\"ok\"}",
                                            &p),
                         0);
        assert_int_equal(run.steps_done, 1);

        assert_int_equal(run_progress_apply(&run,
                                            "{\"event\":\"approval-requested\",\"run\":42,\"step\":\"gate\","
                                            "\"prompt\":\"Promote?\"}",
                                            &p),
                         0);
        assert_int_equal(p.kind, RUN_PROGRESS_APPROVAL_REQUESTED);
        assert_int_equal(run.state, MANAGER_RUN_WAITING_APPROVAL);
        assert_string_equal(run.pending_prompt, "Promote?");

        /* The next step event clears the gate. */
        assert_int_equal(run_progress_apply(&run,
                                            "{\"event\":\"step-started\",\"run\":42,\"step\":\"promote\",\"index\":3,"
                                            "\"phase\":\"forward\"}",
                                            &p),
                         0);
        assert_int_equal(run.state, MANAGER_RUN_RUNNING);
        assert_null(run.pending_prompt);

        assert_int_equal(run_progress_apply(&run, "{\"event\":\"run-event\",\"run\":42,\"kind\":\"x\"}", &p), 0);
        assert_int_equal(p.kind, RUN_PROGRESS_NONE);

        assert_int_equal(run_progress_apply(&run, "{\"event\":\"run-finished\",\"run\":42,\"outcome\":\"succeeded\"}", &p),
                         0);
        assert_int_equal(p.kind, RUN_PROGRESS_FINISHED);
        assert_int_equal(run.state, MANAGER_RUN_ENDED);
        assert_int_equal(run.outcome, RUN_SUCCEEDED);
        assert_null(run.current_step);

        run_progress_done(&p);
        run_done(&run);
}

static void test_refused_lines(void **state)
{
        (void) state;
        ManagerRun run = { .state = MANAGER_RUN_STARTING, .id = 7 };
        RunProgress p = {};

        assert_int_equal(run_progress_apply(&run, "not json", &p), -EBADMSG);
        assert_int_equal(run_progress_apply(&run, "[1,2]", &p), -EBADMSG);
        assert_int_equal(run_progress_apply(&run, "{\"run\":9}", &p), -EBADMSG);
        assert_int_equal(run_progress_apply(&run, "{\"event\":3}", &p), -EBADMSG);
        assert_int_equal(run.id, 7);
        assert_int_equal(run.state, MANAGER_RUN_STARTING);
        run_progress_done(&p);
        run_done(&run);
}

static void test_kind_strings(void **state)
{
        (void) state;
        for (int k = 0; k < _RUN_PROGRESS_KIND_MAX; k++)
                assert_int_equal(run_progress_kind_from_string(run_progress_kind_to_string(k)), k);
        assert_int_equal(run_progress_kind_from_string("nope"), _RUN_PROGRESS_KIND_INVALID);
        assert_string_equal(manager_run_state_to_string(MANAGER_RUN_WAITING_APPROVAL), "waiting-approval");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole_run),
                cmocka_unit_test(test_refused_lines),
                cmocka_unit_test(test_kind_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
