/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-worker-proto.c — the worker protocol's codec (src/engine/worker-proto.c): every
 * progress message and the answer line survive encode → decode; the exact bytes of the
 * lines `droverctl run --json` prints to people; malformed and unknown lines; the
 * worker's command line built by droverd and parsed by drover-worker. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/worker-proto.h"

/* Encode, check the line, decode, and hand back the decoded message. */
static void round_trip(const WorkerMessage *in, WorkerMessage *out, const char *expect_line)
{
        char *line = NULL;

        assert_int_equal(worker_message_format(in, &line), 0);
        assert_non_null(line);
        assert_null(strchr(line, '\n'));
        if (expect_line)
                assert_string_equal(line, expect_line);
        assert_int_equal(worker_message_parse(line, out), 0);
        assert_int_equal(out->type, in->type);
        assert_int_equal(out->run, in->run);
        free(line);
}

static void test_run_started(void **state)
{
        (void) state;
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_STARTED), d = {};

        m.run = 42;
        m.playbook = "site-switchover";
        m.kind = "switchover";
        m.mode = RUN_MODE_LIVE;
        m.trigger = "auto";
        m.actor = "policy";
        m.steps = 9;
        m.params_json = "{\"reason\":\"drill\",\"token\":\"********\"}";
        round_trip(&m, &d,
                   "{\"event\":\"run-started\",\"run\":42,\"playbook\":\"site-switchover\",\"kind\":"
                   "\"switchover\","
                   "\"mode\":\"live\",\"trigger\":\"auto\",\"actor\":\"policy\",\"steps\":9,"
                   "\"params\":{\"reason\":\"drill\",\"token\":\"********\"}}");
        assert_string_equal(d.playbook, "site-switchover");
        assert_string_equal(d.kind, "switchover");
        assert_int_equal(d.mode, RUN_MODE_LIVE);
        assert_string_equal(d.trigger, "auto");
        assert_string_equal(d.actor, "policy");
        assert_int_equal(d.steps, 9);
        assert_string_equal(d.params_json, m.params_json);
        worker_message_done(&d);

        /* No parameters: "params": null. */
        m.params_json = NULL;
        m.run = 0; /* a dry run */
        round_trip(&m, &d, NULL);
        assert_null(d.params_json);
        worker_message_done(&d);
}

static void test_steps(void **state)
{
        (void) state;
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_STEP_STARTED), d = {};

        m.run = 7;
        m.step = "promote";
        m.index = 3;
        m.kind = "ssh";
        m.phase = STEP_PHASE_FORWARD;
        m.target = "backup-db";
        m.attempt = 2;
        round_trip(&m, &d,
                   "{\"event\":\"step-started\",\"run\":7,\"step\":\"promote\",\"index\":3,\"kind\":\"ssh\","
                   "\"phase\":\"forward\",\"target\":\"backup-db\",\"attempt\":2}");
        assert_string_equal(d.step, "promote");
        assert_int_equal(d.index, 3);
        assert_string_equal(d.target, "backup-db");
        assert_int_equal(d.attempt, 2);
        assert_null(d.detail);
        assert_int_equal(d.phase, STEP_PHASE_FORWARD);
        assert_int_equal(d.step_outcome, _STEP_OUTCOME_INVALID);
        assert_int_equal(d.exit_status, -1);
        worker_message_done(&d);

        /* Finished, with every optional field; non-ASCII is escaped (a line is pure ASCII). */
        m.type = WORKER_MESSAGE_STEP_FINISHED;
        m.detail = "pg_ctl promote -D /srv/pg — now";
        m.step_outcome = STEP_FAILED;
        m.duration_ms = 1534;
        m.exit_status = 3;
        m.http_status = 503;
        m.error = "exit status 3";
        round_trip(
                &m, &d,
                "{\"event\":\"step-finished\",\"run\":7,\"step\":\"promote\",\"index\":3,\"kind\":\"ssh\","
                "\"phase\":\"forward\",\"target\":\"backup-db\",\"attempt\":2,"
                "\"detail\":\"pg_ctl promote -D /srv/pg \\u2014 "
                "now\",\"outcome\":\"failed\",\"duration_ms\":1534,"
                "\"exit_status\":3,\"http_status\":503,\"error\":\"exit status 3\"}");
        assert_string_equal(d.detail, m.detail);
        assert_int_equal(d.step_outcome, STEP_FAILED);
        assert_int_equal(d.duration_ms, 1534);
        assert_int_equal(d.exit_status, 3);
        assert_int_equal(d.http_status, 503);
        assert_string_equal(d.error, "exit status 3");
        worker_message_done(&d);

        /* Optional fields absent: no exit status, no HTTP status, no error. */
        m.detail = m.error = NULL;
        m.exit_status = -1;
        m.http_status = 0;
        m.step_outcome = STEP_OK;
        m.phase = STEP_PHASE_ROLLBACK;
        round_trip(&m, &d, NULL);
        assert_int_equal(d.exit_status, -1);
        assert_int_equal(d.http_status, 0);
        assert_null(d.error);
        assert_int_equal(d.step_outcome, STEP_OK);
        assert_int_equal(d.phase, STEP_PHASE_ROLLBACK);
        worker_message_done(&d);

        /* A step line needs its phase, a finished one its outcome. */
        char *line = NULL;
        m.step_outcome = _STEP_OUTCOME_INVALID;
        assert_int_equal(worker_message_format(&m, &line), -EINVAL);
        m.type = WORKER_MESSAGE_STEP_STARTED;
        assert_int_equal(worker_message_format(&m, &line), 0);
        free(line);
        m.phase = _STEP_PHASE_INVALID;
        assert_int_equal(worker_message_format(&m, &line), -EINVAL);
}

static void test_event_approval_finished(void **state)
{
        (void) state;
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_EVENT), d = {};

        m.run = 5;
        m.kind = "rollback-started";
        m.message = "rolling back 2 steps";
        round_trip(&m, &d,
                   "{\"event\":\"run-event\",\"run\":5,\"kind\":\"rollback-started\","
                   "\"message\":\"rolling back 2 steps\"}");
        assert_string_equal(d.kind, "rollback-started");
        assert_string_equal(d.message, "rolling back 2 steps");
        worker_message_done(&d);

        m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_APPROVAL_REQUESTED);
        m.run = 5;
        m.step = "gate";
        m.prompt = "Promote \"backup\"?\nSure?";
        m.expires_in_ms = 600000;
        round_trip(&m, &d, NULL);
        assert_string_equal(d.step, "gate");
        assert_string_equal(d.prompt, m.prompt);
        assert_int_equal(d.expires_in_ms, 600000);
        assert_false(d.skippable);
        worker_message_done(&d);

        m.skippable = true; /* a resume gate */
        round_trip(&m, &d, NULL);
        assert_true(d.skippable);
        worker_message_done(&d);
        assert_int_equal(
                worker_message_parse("{\"event\":\"approval-requested\",\"run\":5,\"skippable\":1}", &d),
                -EBADMSG);

        m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_FINISHED);
        m.run = 5;
        m.run_outcome = RUN_FAILED;
        m.duration_ms = 12;
        m.ok = 3;
        m.failed = 1;
        m.skipped = 2;
        m.rollback_ok = 4;
        m.rollback_failed = 5;
        m.error = "step promote failed";
        round_trip(
                &m, &d,
                "{\"event\":\"run-finished\",\"run\":5,\"outcome\":\"failed\",\"duration_ms\":12,\"ok\":3,"
                "\"failed\":1,\"skipped\":2,\"rollback_ok\":4,\"rollback_failed\":5,"
                "\"error\":\"step promote failed\"}");
        assert_int_equal(d.run_outcome, RUN_FAILED);
        assert_int_equal(d.ok, 3);
        assert_int_equal(d.failed, 1);
        assert_int_equal(d.skipped, 2);
        assert_int_equal(d.rollback_ok, 4);
        assert_int_equal(d.rollback_failed, 5);
        assert_string_equal(d.error, "step promote failed");
        worker_message_done(&d);

        /* Every type has its wire name, and back. */
        for (int t = 0; t < _WORKER_MESSAGE_TYPE_MAX; t++)
                assert_int_equal(worker_message_type_from_string(worker_message_type_to_string(t)), t);
        char *line = NULL;
        m.type = _WORKER_MESSAGE_TYPE_MAX;
        assert_int_equal(worker_message_format(&m, &line), -EINVAL);
        assert_null(line);
}

static void test_malformed(void **state)
{
        (void) state;
        static const char *const bad[] = {
                "",
                "not json",
                "[1,2]",
                "\"run-started\"",
                "{\"run\":9}",
                "{\"event\":3}",
                "{\"event\":null}",
                "{\"event\":\"run-started\",\"run\":\"42\"}",
                "{\"event\":\"run-started\",\"run\":-1}",
                "{\"event\":\"run-started\",\"steps\":\"9\"}",
                "{\"event\":\"run-started\",\"params\":\"a=b\"}",
                "{\"event\":\"step-finished\",\"index\":-2}",
                "{\"event\":\"step-finished\",\"index\":1.5}",
                "{\"event\":\"step-finished\",\"step\":[\"a\"]}",
                "{\"event\":\"step-finished\",\"exit_status\":-7}",
                "{\"event\":\"step-finished\",\"outcome\":true}",
                "{\"event\":\"run-finished\",\"ok\":4294967296}",
                "{\"event\":\"run-finished\",\"event\":\"run-started\"}",
                "{\"event\":\"run-finished\"} trailing",
        };
        WorkerMessage d = {};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = worker_message_parse(bad[i], &d);
                if (r != -EBADMSG)
                        fail_msg("line %zu (%s): got %d, want -EBADMSG", i, bad[i], r);
                assert_null(d.json_);
        }
        assert_int_equal(worker_message_parse(NULL, &d), -EBADMSG);

        /* A newer worker's event: well-formed, not ours. */
        assert_int_equal(worker_message_parse("{\"event\":\"run-paused\",\"run\":1}", &d), -EOPNOTSUPP);
        /* Unknown fields and null are ignored. */
        assert_int_equal(worker_message_parse(
                                 "{\"event\":\"run-finished\",\"run\":1,\"outcome\":null,\"x\":[1]}", &d),
                         0);
        assert_int_equal(d.type, WORKER_MESSAGE_RUN_FINISHED);
        assert_int_equal(d.run_outcome, _RUN_OUTCOME_INVALID);
        worker_message_done(&d);
        /* A name this version does not know: _INVALID, the line still good. */
        assert_int_equal(worker_message_parse("{\"event\":\"step-finished\",\"phase\":\"sideways\","
                                              "\"outcome\":\"exploded\"}",
                                              &d),
                         0);
        assert_int_equal(d.phase, _STEP_PHASE_INVALID);
        assert_int_equal(d.step_outcome, _STEP_OUTCOME_INVALID);
        worker_message_done(&d);
        assert_int_equal(worker_message_parse("{\"event\":\"run-started\",\"mode\":\"drill\"}", &d), 0);
        assert_int_equal(d.mode, RUN_MODE_DRILL);
        worker_message_done(&d);
}

static void test_answers(void **state)
{
        (void) state;
        WorkerAnswer d = {};
        char *line = NULL;

        assert_int_equal(worker_answer_format(
                                 &(WorkerAnswer){.approve = true, .actor = "bob", .comment = "go"}, &line),
                         0);
        assert_string_equal(line, "{\"approve\":true,\"actor\":\"bob\",\"comment\":\"go\"}");
        assert_int_equal(worker_answer_parse(line, &d), 0);
        assert_true(d.approve);
        assert_string_equal(d.actor, "bob");
        assert_string_equal(d.comment, "go");
        free(line);

        assert_int_equal(worker_answer_format(&(WorkerAnswer){.approve = false, .actor = "carol"}, &line),
                         0);
        assert_string_equal(line, "{\"approve\":false,\"actor\":\"carol\"}");
        assert_int_equal(worker_answer_parse(line, &d), 0);
        assert_false(d.approve);
        assert_string_equal(d.actor, "carol");
        assert_null(d.comment);
        free(line);
        worker_answer_done(&d);

        assert_int_equal(worker_answer_format(&(WorkerAnswer){.skip = true, .actor = "dave"}, &line), 0);
        assert_string_equal(line, "{\"approve\":false,\"actor\":\"dave\",\"skip\":true}");
        assert_int_equal(worker_answer_parse(line, &d), 0);
        assert_false(d.approve);
        assert_true(d.skip);
        free(line);
        worker_answer_done(&d);

        assert_int_equal(worker_answer_format(&(WorkerAnswer){.approve = true, .actor = ""}, &line),
                         -EINVAL);
        assert_int_equal(
                worker_answer_format(&(WorkerAnswer){.approve = true, .skip = true, .actor = "e"}, &line),
                -EINVAL);
        static const char *const bad[] = {
                "yes",
                "{}",
                "{\"approve\":\"yes\",\"actor\":\"bob\"}",
                "{\"approve\":1,\"actor\":\"bob\"}",
                "{\"approve\":true}",
                "{\"approve\":true,\"actor\":\"\"}",
                "{\"approve\":true,\"actor\":7}",
                "{\"approve\":true,\"actor\":\"bob\",\"comment\":5}",
                "{\"approve\":false,\"actor\":\"bob\",\"skip\":\"yes\"}",
                "{\"approve\":true,\"actor\":\"bob\",\"skip\":true}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (worker_answer_parse(bad[i], &d) != -EBADMSG)
                        fail_msg("answer %zu (%s) was accepted", i, bad[i]);
                assert_null(d.json_);
        }
}

static void test_argv(void **state)
{
        (void) state;
        ParamValue params[] = {
                {.name = (char *) "reason", .value = (char *) "a=b c"},
                {.name = (char *) "n", .value = (char *) ""},
        };
        WorkerArgs a = {
                .protocol = DROVER_WORKER_PROTOCOL_VERSION,
                .parent_pid = 4242,
                .config_path = "/etc/drover/drover.yaml",
                .db_path = "/var/lib/drover/drover.db",
                .playbook = "-odd-name",
                .trigger = "approved",
                .actor = "alice smith",
                .incident_id = 17,
                .dry_run = true,
                .params = params,
                .n_params = ELEMENTSOF(params),
        };
        WorkerArgs d = {};
        char *error = NULL;
        char **argv = worker_args_to_argv("/usr/libexec/drover/drover-worker", &a);
        int argc = 0;

        while (argv[argc])
                argc++;
        assert_string_equal(argv[0], "/usr/libexec/drover/drover-worker");
        assert_string_equal(argv[argc - 2], "--");
        assert_int_equal(worker_args_parse(argc, argv, &d, &error), 0);
        assert_null(error);
        assert_int_equal(d.protocol, DROVER_WORKER_PROTOCOL_VERSION);
        assert_int_equal(d.parent_pid, 4242);
        assert_string_equal(d.config_path, a.config_path);
        assert_string_equal(d.db_path, a.db_path);
        assert_string_equal(d.playbook, "-odd-name");
        assert_string_equal(d.trigger, "approved");
        assert_string_equal(d.actor, "alice smith");
        assert_int_equal(d.incident_id, 17);
        assert_true(d.dry_run);
        assert_int_equal(d.n_params, 2);
        assert_string_equal(d.params[0].name, "reason");
        assert_string_equal(d.params[0].value, "a=b c");
        assert_string_equal(d.params[1].name, "n");
        assert_string_equal(d.params[1].value, "");
        worker_args_done(&d);
        strv_free(argv);

        /* Minimal: no incident, no dry run, no parameters, no config or db. */
        a = (WorkerArgs){.protocol = 1, .parent_pid = 1, .playbook = "p", .trigger = "manual", .actor = "x"};
        argv = worker_args_to_argv("w", &a);
        for (argc = 0; argv[argc];)
                argc++;
        assert_int_equal(worker_args_parse(argc, argv, &d, &error), 0);
        assert_int_equal(d.incident_id, 0);
        assert_false(d.dry_run);
        assert_int_equal(d.n_params, 0);
        assert_null(d.config_path);
        assert_int_equal(d.cluster_epoch, 0);
        assert_null(d.resume);
        worker_args_done(&d);
        strv_free(argv);
}

/* Issue 9: the leader's epoch and the run to take over survive the round trip; a resumed
 * run's argv may leave the playbook out (the run record names it). */
static void test_argv_cluster(void **state)
{
        (void) state;
        WorkerArgs a = {.protocol = 1,
                        .parent_pid = 7,
                        .playbook = "site-switchover",
                        .trigger = "auto",
                        .actor = "policy",
                        .cluster_epoch = 9007199254740993ULL};
        WorkerArgs d = {};
        char *error = NULL;
        char **argv = worker_args_to_argv("w", &a);
        int argc = 0;

        while (argv[argc])
                argc++;
        assert_int_equal(worker_args_parse(argc, argv, &d, &error), 0);
        assert_true(d.cluster_epoch == 9007199254740993ULL);
        assert_null(d.resume);
        assert_string_equal(d.playbook, "site-switchover");
        worker_args_done(&d);
        strv_free(argv);

        a.playbook = NULL;
        a.cluster_epoch = 42;
        a.resume = "17-alpha-3";
        argv = worker_args_to_argv("w", &a);
        for (argc = 0; argv[argc];)
                argc++;
        assert_string_equal(argv[argc - 1], "--"); /* nothing after: no playbook */
        assert_int_equal(worker_args_parse(argc, argv, &d, &error), 0);
        assert_int_equal(d.cluster_epoch, 42);
        assert_string_equal(d.resume, "17-alpha-3");
        assert_null(d.playbook);
        worker_args_done(&d);
        strv_free(argv);
}

static void test_argv_refused(void **state)
{
        (void) state;
        static const struct {
                int r;
                const char *args[8];
        } bad[] = {
                {-EINVAL, {"--parent-pid=1", "--trigger=manual", "--actor=x", "p"}}, /* no protocol */
                {-EPROTONOSUPPORT, {"--protocol=2", "--parent-pid=1", "--trigger=manual", "--actor=x", "p"}},
                {-EINVAL, {"--protocol=one", "--parent-pid=1", "--trigger=manual", "--actor=x", "p"}},
                {-EINVAL, {"--protocol=1", "--trigger=manual", "--actor=x", "p"}}, /* no parent */
                {-EINVAL, {"--protocol=1", "--parent-pid=0", "--trigger=manual", "--actor=x", "p"}},
                {-EINVAL, {"--protocol=1", "--parent-pid=1", "--trigger=cron", "--actor=x", "p"}},
                {-EINVAL, {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=", "p"}},
                {-EINVAL, {"--protocol=1", "--parent-pid=1", "--trigger=manual", "p"}}, /* no actor */
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x"}}, /* no playbook */
                {-EINVAL, {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "p", "q"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--approver=tty", "p"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--param=x", "p"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--param==v", "p"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--incident=-3", "p"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--dry-run=yes", "p"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--cluster-epoch=0", "p"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--cluster-epoch=x", "p"}},
                {-EINVAL, /* --resume without an epoch */
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--resume=1-a-1"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--cluster-epoch=3",
                  "--resume="}},
                {-EINVAL, /* no playbook and nothing to resume */
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--cluster-epoch=3"}},
                {-EINVAL,
                 {"--protocol=1", "--parent-pid=1", "--trigger=manual", "--actor=x", "--cluster-epoch=3",
                  "--resume=1-a-1", "--dry-run"}},
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *argv[10] = {(char *) "drover-worker"};
                int argc = 1;
                WorkerArgs d = {};
                char *error = NULL;

                for (size_t k = 0; k < ELEMENTSOF(bad[i].args) && bad[i].args[k]; k++)
                        argv[argc++] = (char *) bad[i].args[k];
                int r = worker_args_parse(argc, argv, &d, &error);
                if (r != bad[i].r)
                        fail_msg("case %zu: got %d, want %d", i, r, bad[i].r);
                assert_non_null(error);
                assert_null(d.params);
                free(error);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_started),
                cmocka_unit_test(test_steps),
                cmocka_unit_test(test_event_approval_finished),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_answers),
                cmocka_unit_test(test_argv),
                cmocka_unit_test(test_argv_refused),
                cmocka_unit_test(test_argv_cluster),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
