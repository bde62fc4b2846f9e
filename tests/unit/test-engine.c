/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-engine.c — the engine against the fake executor and its fake clock: real
 * drover.yaml and playbook files (written to a temp dir, loaded by config_load and
 * playbook_load), a recording observer, a scripted approver. No sockets, no sleeping,
 * no timing assertions on the real clock: every time checked is the fake clock's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/engine.h"
#include "engine/fake-executor.h"
#include "shared/strbuf.h"

#include <jansson.h>

#define SECRET_FILE_VALUE "tok-S3cr3t-file"
#define SECRET_PARAM_VALUE "pw-hunter2-param"
#define SEC (USEC_PER_SEC)

/* ---------------------------------------------------------------- recording observer */

typedef struct Rec {
        StepPhase phase;
        size_t step_index;
        char *step;
        char *target;
        unsigned attempt;
        char *detail;
        StepOutcome outcome;
        int exit_status;
        long http_status;
        char *out, *err, *error;
        int64_t journal_id;
        unsigned call;   /* which steps_started / steps_finished call */
        usec_t fake_now; /* fake clock when reported */
} Rec;

typedef struct Obs {
        FakeExecutor *fake;
        Rec *started;
        size_t n_started;
        Rec *finished;
        size_t n_finished;
        unsigned n_started_calls, n_finished_calls;
        char **events; /* "kind: message" */
        size_t n_events;
        char **strings; /* every string handed to us, for the masking checks */
        size_t n_strings;
        char *params_json;
        bool run_finished;
        RunOutcome outcome;
        char *run_error;
        int64_t next_id;
        int fail_run_started;
        unsigned fail_started_call;  /* 1-based call number that fails, 0 = never */
        unsigned fail_finished_call;
} Obs;

static void obs_keep(Obs *o, const char *s)
{
        char **slot;

        if (!s)
                return;
        slot = array_push(&o->strings, &o->n_strings, sizeof(char *));
        *slot = xstrdup(s);
}

static void rec_from(Obs *o, Rec *r, const StepEvent *ev, unsigned call)
{
        *r = (Rec) {
                .phase = ev->phase,
                .step_index = ev->step_index,
                .step = xstrdup(ev->step ? ev->step->name : "?"),
                .target = xstrdup(ev->target),
                .attempt = ev->attempt,
                .detail = xstrdup(ev->detail),
                .outcome = ev->outcome,
                .exit_status = ev->exit_status,
                .http_status = ev->http_status,
                .out = xstrdup(ev->out),
                .err = xstrdup(ev->err),
                .error = xstrdup(ev->error),
                .journal_id = ev->journal_id,
                .call = call,
                .fake_now = o->fake ? fake_executor_now(o->fake) : 0,
        };
        obs_keep(o, ev->detail);
        obs_keep(o, ev->out);
        obs_keep(o, ev->err);
        obs_keep(o, ev->error);
        obs_keep(o, ev->target);
}

static int obs_run_started(void *userdata, RunInfo *info)
{
        Obs *o = userdata;

        if (o->fail_run_started)
                return o->fail_run_started;
        info->journal_id = 77;
        free(o->params_json);
        o->params_json = xstrdup(info->params_json);
        obs_keep(o, info->params_json);
        return 0;
}

static int obs_steps_started(void *userdata, const RunInfo *info, StepEvent *ev, size_t n)
{
        Obs *o = userdata;

        o->n_started_calls++;
        if (o->fail_started_call == o->n_started_calls)
                return -EIO;
        for (size_t i = 0; i < n; i++) {
                ev[i].journal_id = ++o->next_id;
                rec_from(o, array_push(&o->started, &o->n_started, sizeof(Rec)), &ev[i], o->n_started_calls);
        }
        return 0;
}

static int obs_steps_finished(void *userdata, const RunInfo *info, StepEvent *ev, size_t n)
{
        Obs *o = userdata;

        o->n_finished_calls++;
        if (o->fail_finished_call == o->n_finished_calls)
                return -ENOSPC;
        for (size_t i = 0; i < n; i++)
                rec_from(o, array_push(&o->finished, &o->n_finished, sizeof(Rec)), &ev[i], o->n_finished_calls);
        return 0;
}

static void obs_event(void *userdata, const RunInfo *info, const char *kind, const char *message)
{
        Obs *o = userdata;
        char **slot = array_push(&o->events, &o->n_events, sizeof(char *));

        *slot = xasprintf("%s: %s", kind, strempty(message));
        obs_keep(o, message);
}

static int obs_run_finished(void *userdata, const RunInfo *info, RunOutcome outcome, const char *error)
{
        Obs *o = userdata;

        o->run_finished = true;
        o->outcome = outcome;
        o->run_error = xstrdup(error);
        obs_keep(o, error);
        return 0;
}

static void rec_done(Rec *r)
{
        free(r->step);
        free(r->target);
        free(r->detail);
        free(r->out);
        free(r->err);
        free(r->error);
}

static void obs_done(Obs *o)
{
        for (size_t i = 0; i < o->n_started; i++)
                rec_done(&o->started[i]);
        for (size_t i = 0; i < o->n_finished; i++)
                rec_done(&o->finished[i]);
        free(o->started);
        free(o->finished);
        for (size_t i = 0; i < o->n_events; i++)
                free(o->events[i]);
        free(o->events);
        for (size_t i = 0; i < o->n_strings; i++)
                free(o->strings[i]);
        free(o->strings);
        free(o->params_json);
        free(o->run_error);
        *o = (Obs) {};
}

/* The finished record of `step` on `target` (NULL = any), the `nth` one (0-based). */
static const Rec *obs_find(const Obs *o, const char *step, const char *target, unsigned nth)
{
        for (size_t i = 0; i < o->n_finished; i++) {
                const Rec *r = &o->finished[i];

                if (!streq(r->step, step) || (target && !streq(r->target, target)))
                        continue;
                if (nth-- == 0)
                        return r;
        }
        return NULL;
}

static size_t obs_count(const Obs *o, const char *step)
{
        size_t n = 0;

        for (size_t i = 0; i < o->n_finished; i++)
                if (streq(o->finished[i].step, step))
                        n++;
        return n;
}

static bool obs_has_event(const Obs *o, const char *prefix)
{
        for (size_t i = 0; i < o->n_events; i++)
                if (strncmp(o->events[i], prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

/* ---------------------------------------------------------------- scripted approver */

typedef struct FakeApprover {
        int r;
        bool approved;
        bool skip;
        bool skippable; /* what the last request offered */
        const char *who;
        const char *comment;
        unsigned n_asked;
        usec_t deadline;
        char *prompt;
} FakeApprover;

static int fake_ask(void *userdata, const ApprovalRequest *req, ApprovalAnswer *ret)
{
        FakeApprover *a = userdata;

        a->n_asked++;
        a->deadline = req->deadline;
        free(a->prompt);
        a->prompt = xstrdup(req->prompt);
        a->skippable = req->skippable;
        if (a->r < 0)
                return a->r;
        ret->approved = a->approved;
        ret->skip = a->skip;
        ret->who = xstrdup(a->who);
        ret->comment = xstrdup(a->comment);
        return 0;
}

/* ---------------------------------------------------------------- fixture */

typedef struct T {
        char dir[64];
        Config *config;
        Playbook *pb;
        FakeExecutor *fake;
        Obs obs;
        FakeApprover approver;
        EngineFence fence;   /* issue 9: none unless a test sets it */
        EngineResume resume;
        Engine *e;
        char *new_error;
} T;

static void write_file(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "we");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static const char inventory[] =
        "defaults:\n"
        "  step_timeout: 60s\n"
        "  ssh: {user: drover, key: @DIR@/id_ed25519, known_hosts: @DIR@/known_hosts}\n"
        "sites:\n"
        "  primary: {role: primary}\n"
        "  backup: {role: backup}\n"
        "hosts:\n"
        "  db1: {site: primary, address: 10.0.0.11}\n"
        "  web1: {site: primary, address: 10.0.0.21}\n"
        "  web2: {site: primary, address: 10.0.0.22}\n"
        "  web3: {site: primary, address: 10.0.0.23}\n"
        "  dr1: {site: backup, address: 10.0.1.11, port: 2222}\n"
        "groups:\n"
        "  web: [web1, web2, web3]\n"
        "endpoints:\n"
        "  api:\n"
        "    site: backup\n"
        "    url: https://api.example:8443/\n"
        "    headers: {Authorization: \"Bearer ${secrets.api_token}\"}\n"
        "  hooks: {url: http://hooks.example}\n"
        "secrets:\n"
        "  api_token: {file: @DIR@/api_token}\n"
        "  gone: {file: @DIR@/no-such-secret}\n";

static char *replace_dir(const char *text, const char *dir)
{
        StrBuf b = STRBUF_INIT;

        for (const char *p = text; *p;) {
                if (strncmp(p, "@DIR@", 5) == 0) {
                        strbuf_puts(&b, dir);
                        p += 5;
                } else
                        strbuf_putc(&b, *p++);
        }
        return strbuf_steal(&b);
}

static int setup(void **state)
{
        T *t = xcalloc(1, sizeof(T));
        _cleanup_free_ char *inv = NULL, *path = NULL;
        DiagList diags;
        int r;

        strcpy(t->dir, "/tmp/test-engine-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        write_file(t->dir, "id_ed25519", "not really a key\n");
        write_file(t->dir, "known_hosts", "");
        write_file(t->dir, "api_token", SECRET_FILE_VALUE "\n");
        inv = replace_dir(inventory, t->dir);
        write_file(t->dir, "drover.yaml", inv);

        path = xasprintf("%s/drover.yaml", t->dir);
        diag_list_init(&diags);
        r = config_load(path, &t->config, &diags);
        if (r < 0)
                diag_print(&diags, stderr);
        diag_list_done(&diags);
        assert_int_equal(r, 0);

        assert_int_equal(fake_executor_new(&t->fake), 0);
        t->obs.fake = t->fake;
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        T *t = *state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", t->dir);

        engine_free(t->e);
        playbook_free(t->pb);
        config_free(t->config);
        fake_executor_free(t->fake);
        obs_done(&t->obs);
        free(t->approver.prompt);
        free(t->new_error);
        assert_int_equal(system(cmd), 0);
        free(t);
        return 0;
}

static void load(T *t, const char *yaml)
{
        _cleanup_free_ char *path = xasprintf("%s/pb.yaml", t->dir);
        DiagList diags;
        int r;

        write_file(t->dir, "pb.yaml", yaml);
        diag_list_init(&diags);
        r = playbook_load(path, t->config, &t->pb, &diags);
        if (r < 0)
                diag_print(&diags, stderr);
        diag_list_done(&diags);
        assert_int_equal(r, 0);
}

static int make_engine(T *t, RunMode mode, const ParamValue *params, size_t n_params)
{
        EngineOptions opts = {
                .config = t->config,
                .playbook = t->pb,
                .params = params,
                .n_params = n_params,
                .mode = mode,
                .trigger = "manual",
                .actor = "alice",
                .executor = fake_executor_get(t->fake),
                .observer = {
                        .userdata = &t->obs,
                        .run_started = obs_run_started,
                        .steps_started = obs_steps_started,
                        .steps_finished = obs_steps_finished,
                        .event = obs_event,
                        .run_finished = obs_run_finished,
                },
                .approver = { .userdata = &t->approver, .ask = fake_ask },
                .fence = t->fence,
                .resume = t->resume,
        };

        engine_free(t->e);
        t->e = NULL;
        free(t->new_error);
        t->new_error = NULL;
        return engine_new(&t->e, &opts, &t->new_error);
}

/* Load, build and run; returns engine_run's value. */
static int run_full(T *t, const char *yaml, RunMode mode, const ParamValue *params, size_t n_params)
{
        RunOutcome o = _RUN_OUTCOME_INVALID;
        int r;

        load(t, yaml);
        assert_int_equal(make_engine(t, mode, params, n_params), 0);
        r = engine_run(t->e, &o);
        if (r >= 0) {
                assert_int_equal((int) o, r);
                assert_true(t->obs.run_finished);
                assert_int_equal(t->obs.outcome, o);
        }
        /* Whatever happened, the engine never blocked forever. */
        assert_int_equal(fake_executor_n_infinite_waits(t->fake), 0);
        return r;
}

static void assert_contains(const char *haystack, const char *needle)
{
        if (!haystack || !strstr(haystack, needle)) {
                fprintf(stderr, "expected \"%s\" to contain \"%s\"\n", strna(haystack), needle);
                fail();
        }
}

/* Every started event has a finished one with the same journal id. */
static void assert_events_paired(const Obs *o)
{
        assert_int_equal(o->n_started, o->n_finished);
        for (size_t i = 0; i < o->n_started; i++) {
                bool found = false;

                for (size_t k = 0; k < o->n_finished; k++)
                        if (o->finished[k].journal_id == o->started[i].journal_id)
                                found = true;
                assert_true(found);
        }
}

/* ---------------------------------------------------------------- tests */

static void test_string_tables(void **state)
{
        for (int i = 0; i < _RUN_OUTCOME_MAX; i++)
                assert_int_equal(run_outcome_from_string(run_outcome_to_string(i)), i);
        for (int i = 0; i < _STEP_OUTCOME_MAX; i++)
                assert_int_equal(step_outcome_from_string(step_outcome_to_string(i)), i);
        for (int i = 0; i < _RUN_MODE_MAX; i++)
                assert_non_null(run_mode_to_string(i));
        assert_string_equal(step_phase_to_string(STEP_PHASE_ROLLBACK), "rollback");
        assert_string_equal(run_mode_to_string(RUN_MODE_DRY_RUN), "dry-run");
        assert_int_equal(run_outcome_from_string("nope"), _RUN_OUTCOME_INVALID);
        assert_int_equal(step_outcome_from_string(NULL), _STEP_OUTCOME_INVALID);
        assert_null(step_outcome_to_string(_STEP_OUTCOME_MAX));
        assert_string_equal(action_status_to_string(ACTION_HOSTKEY_REJECTED), "hostkey-rejected");
}


static const char pb_all_ok[] =
        "name: all-ok\n"
        "kind: custom\n"
        "targets:\n"
        "  db: {host: db1}\n"
        "  api: {endpoint: api}\n"
        "steps:\n"
        "  - name: lag\n"
        "    ssh: {target: db, command: \"psql -Atc 'select 42' -h ${host.address}\"}\n"
        "    register: true\n"
        "  - name: switch\n"
        "    http: {target: api, method: POST, url: /v1/switch, json: {lag: \"${steps.lag.stdout}\", n: 3}}\n"
        "  - name: log\n"
        "    local: {argv: [/usr/bin/logger, \"run ${run.id} by ${run.actor}\"]}\n"
        "  - name: tell\n"
        "    notify: {target: api, url: /hooks, message: \"done on ${targets.db.address}\"}\n";

static void test_all_success(void **state)
{
        T *t = *state;
        const FakeAction *a;
        bool auth = false, ctype = false;

        fake_executor_script(t->fake, ACTION_SSH, "db1: psql", 0, &(FakeResult) { .out = "42\n" });
        assert_int_equal(run_full(t, pb_all_ok, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_null(t->obs.run_error);
        assert_int_equal(fake_executor_n_submitted(t->fake), 4);

        a = fake_executor_submitted(t->fake, 0);
        assert_int_equal(a->kind, ACTION_SSH);
        assert_string_equal(a->host, "db1");
        assert_string_equal(a->command, "psql -Atc 'select 42' -h 10.0.0.11");
        assert_int_equal(a->deadline, a->submitted + 60 * SEC);

        a = fake_executor_submitted(t->fake, 1);
        assert_int_equal(a->kind, ACTION_HTTP);
        assert_string_equal(a->method, "POST");
        assert_string_equal(a->url, "https://api.example:8443/v1/switch");
        assert_non_null(a->body);
        assert_contains(a->body, "\"lag\"");
        assert_contains(a->body, "\"42\"");
        for (size_t i = 0; a->headers && a->headers[i]; i++) {
                if (streq(a->headers[i], "Authorization: Bearer " SECRET_FILE_VALUE))
                        auth = true;
                if (streq(a->headers[i], "Content-Type: application/json"))
                        ctype = true;
        }
        assert_true(auth);
        assert_true(ctype);

        a = fake_executor_submitted(t->fake, 2);
        assert_int_equal(a->kind, ACTION_LOCAL);
        assert_string_equal(a->argv[0], "/usr/bin/logger");
        assert_string_equal(a->argv[1], "run 77 by alice");
        assert_null(a->argv[2]);

        a = fake_executor_submitted(t->fake, 3);
        assert_string_equal(a->method, "POST");
        assert_string_equal(a->url, "https://api.example:8443/hooks");
        {
                json_error_t jerr;
                json_t *j = json_loads(a->body, 0, &jerr);

                assert_non_null(j);
                assert_string_equal(json_string_value(json_object_get(j, "text")), "done on 10.0.0.11");
                assert_string_equal(json_string_value(json_object_get(j, "playbook")), "all-ok");
                assert_int_equal(json_integer_value(json_object_get(j, "run")), 77);
                assert_string_equal(json_string_value(json_object_get(j, "trigger")), "manual");
                json_decref(j);
        }

        assert_events_paired(&t->obs);
        assert_int_equal(t->obs.n_finished, 4);
        for (size_t i = 0; i < t->obs.n_finished; i++) {
                assert_int_equal(t->obs.finished[i].outcome, STEP_OK);
                assert_int_equal(t->obs.finished[i].phase, STEP_PHASE_FORWARD);
                assert_int_equal(t->obs.finished[i].step_index, i);
                assert_int_equal(t->obs.finished[i].attempt, 1);
                assert_null(t->obs.finished[i].error);
        }
        assert_string_equal(obs_find(&t->obs, "lag", "db1", 0)->out, "42\n");
        assert_int_equal(obs_find(&t->obs, "lag", "db1", 0)->exit_status, 0);
        assert_int_equal(obs_find(&t->obs, "switch", "api", 0)->http_status, 200);
        assert_string_equal(obs_find(&t->obs, "log", "local", 0)->detail, "/usr/bin/logger 'run 77 by alice'");
        assert_string_equal(obs_find(&t->obs, "switch", "api", 0)->detail,
                            "POST https://api.example:8443/v1/switch");
}

static const char pb_params[] =
        "name: params\n"
        "kind: custom\n"
        "params:\n"
        "  reason: {type: string, required: true}\n"
        "  batch: {type: int, default: 2}\n"
        "  force: {type: bool, default: false}\n"
        "  mode: {type: enum, values: [fast, safe], default: safe}\n"
        "  token: {type: string, secret: true}\n"
        "  note: {type: string}\n"
        "targets:\n"
        "  db: {host: db1}\n"
        "steps:\n"
        "  - name: go\n"
        "    ssh: {target: db, command: \"run ${params.reason} ${params.batch} ${params.force} ${params.mode} "
        "[${params.note}]\"}\n";

static void test_params(void **state)
{
        T *t = *state;
        ParamValue unknown[] = { { "reason", "x" }, { "bogus", "1" } };
        ParamValue bad_int[] = { { "reason", "x" }, { "batch", "many" } };
        ParamValue bad_enum[] = { { "reason", "x" }, { "mode", "slow" } };
        ParamValue good[] = { { "reason", "dc fire" }, { "force", "yes" }, { "token", SECRET_PARAM_VALUE } };
        RunOutcome o;
        json_t *j;

        load(t, pb_params);

        assert_int_equal(make_engine(t, RUN_MODE_LIVE, NULL, 0), -EINVAL);
        assert_null(t->e);
        assert_string_equal(t->new_error, "missing required parameter 'reason'");

        assert_int_equal(make_engine(t, RUN_MODE_LIVE, unknown, 2), -EINVAL);
        assert_string_equal(t->new_error,
                            "unknown parameter 'bogus' (playbook has: reason, batch, force, mode, token, note)");

        assert_int_equal(make_engine(t, RUN_MODE_LIVE, bad_int, 2), -EINVAL);
        assert_contains(t->new_error, "batch");
        assert_int_equal(make_engine(t, RUN_MODE_LIVE, bad_enum, 2), -EINVAL);
        assert_contains(t->new_error, "mode");
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);

        assert_int_equal(make_engine(t, RUN_MODE_LIVE, good, 3), 0);
        assert_int_equal(engine_run(t->e, &o), RUN_SUCCEEDED);
        /* Defaults filled, bool normalized, unset optional param empty. */
        assert_string_equal(fake_executor_submitted(t->fake, 0)->command, "run dc fire 2 true safe []");

        j = json_loads(t->obs.params_json, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "reason")), "dc fire");
        assert_int_equal(json_integer_value(json_object_get(j, "batch")), 2);
        assert_true(json_is_true(json_object_get(j, "force")));
        assert_string_equal(json_string_value(json_object_get(j, "token")), SECRET_MASK);
        assert_null(json_object_get(j, "note"));
        json_decref(j);
}

static void test_when_skipped(void **state)
{
        T *t = *state;
        const Rec *r;

        fake_executor_script(t->fake, ACTION_SSH, "check", 0, &(FakeResult) { .out = "5\n" });
        assert_int_equal(run_full(t,
                                  "name: when\n"
                                  "kind: custom\n"
                                  "params:\n"
                                  "  force: {type: bool, default: false}\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: maybe\n"
                                  "    ssh: {target: db, command: check}\n"
                                  "    when: \"params.force == true\"\n"
                                  "    register: true\n"
                                  "  - name: always\n"
                                  "    ssh: {target: db, command: always}\n"
                                  "  - name: uses\n"
                                  "    ssh: {target: db, command: uses}\n"
                                  "    when: \"steps.maybe.stdout > 3\"\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_FAILED);
        r = obs_find(&t->obs, "maybe", NULL, 0);
        assert_non_null(r);
        assert_int_equal(r->outcome, STEP_SKIPPED);
        assert_contains(r->out, "params.force == true");
        assert_int_equal(obs_count(&t->obs, "maybe"), 1);
        assert_int_equal(obs_find(&t->obs, "always", "db1", 0)->outcome, STEP_OK);
        /* A condition on a skipped step's value is an error, not false. */
        r = obs_find(&t->obs, "uses", NULL, 0);
        assert_int_equal(r->outcome, STEP_ERROR);
        assert_contains(r->error, "steps.maybe.stdout");
        assert_int_equal(fake_executor_n_submitted(t->fake), 1);
        assert_contains(t->obs.run_error, "step 'uses'");
        assert_events_paired(&t->obs);
}

static void test_register_template(void **state)
{
        T *t = *state;

        fake_executor_script(t->fake, ACTION_SSH, "lag", 0,
                             &(FakeResult) { .out = "{\"data\": {\"lsn\": \"0/3000\", \"n\": [1, 2.5, true]}}\n\n",
                                             .err = "warn\n", .exit_status = 3 });
        assert_int_equal(run_full(t,
                                  "name: reg\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: lag\n"
                                  "    ssh: {target: db, command: lag}\n"
                                  "    register: true\n"
                                  "    expect: {exit_status: 3}\n"
                                  "  - name: use\n"
                                  "    ssh: {target: db, command: \"use ${steps.lag.json.data.lsn} "
                                  "${steps.lag.json.data.n.1} ${steps.lag.json.data.n.2} ${steps.lag.exit_status} "
                                  "${steps.lag.stderr}|\"}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_SUCCEEDED);
        assert_int_equal(fake_executor_n_submitted(t->fake), 2);
        assert_string_equal(fake_executor_submitted(t->fake, 1)->command, "use 0/3000 2.5 true 3 warn|");
}

static void test_retries_backoff(void **state)
{
        T *t = *state;
        const FakeAction *a0, *a1, *a2;

        fake_executor_script(t->fake, ACTION_SSH, "flaky", 2,
                             &(FakeResult) { .exit_status = 1, .delay = 100 * USEC_PER_MSEC });
        assert_int_equal(run_full(t,
                                  "name: retry\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: flaky\n"
                                  "    ssh: {target: db, command: flaky}\n"
                                  "    retries: 3\n"
                                  "    retry_delay: 1s\n"
                                  "    backoff: 2\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_SUCCEEDED);
        assert_int_equal(fake_executor_n_submitted(t->fake), 3);
        a0 = fake_executor_submitted(t->fake, 0);
        a1 = fake_executor_submitted(t->fake, 1);
        a2 = fake_executor_submitted(t->fake, 2);
        /* Each retry waits retry_delay * backoff^(k-1) after the failure it follows. */
        assert_int_equal(a1->submitted - (a0->submitted + 100 * USEC_PER_MSEC), 1 * SEC);
        assert_int_equal(a2->submitted - (a1->submitted + 100 * USEC_PER_MSEC), 2 * SEC);
        assert_int_equal(obs_count(&t->obs, "flaky"), 3);
        assert_int_equal(obs_find(&t->obs, "flaky", "db1", 0)->outcome, STEP_FAILED);
        assert_int_equal(obs_find(&t->obs, "flaky", "db1", 0)->attempt, 1);
        assert_contains(obs_find(&t->obs, "flaky", "db1", 0)->error, "exit status 1");
        assert_int_equal(obs_find(&t->obs, "flaky", "db1", 2)->outcome, STEP_OK);
        assert_int_equal(obs_find(&t->obs, "flaky", "db1", 2)->attempt, 3);
        assert_events_paired(&t->obs);
}

static void test_retries_exhausted(void **state)
{
        T *t = *state;

        fake_executor_script(t->fake, ACTION_SSH, "broken", 0, &(FakeResult) { .exit_status = 2 });
        assert_int_equal(run_full(t,
                                  "name: retry\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: broken\n"
                                  "    ssh: {target: db, command: broken}\n"
                                  "    retries: 2\n"
                                  "  - name: never\n"
                                  "    ssh: {target: db, command: never}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_FAILED);
        assert_int_equal(fake_executor_n_submitted(t->fake), 3);
        assert_int_equal(obs_count(&t->obs, "broken"), 3);
        assert_int_equal(obs_count(&t->obs, "never"), 0);
        assert_contains(t->obs.run_error, "step 'broken'");
        assert_contains(t->obs.run_error, "exit status 2 (expected 0)");
        assert_false(obs_has_event(&t->obs, "rollback-started"));
}

static void test_on_failure_continue(void **state)
{
        T *t = *state;

        fake_executor_script(t->fake, ACTION_SSH, "optional", 0, &(FakeResult) { .exit_status = 1 });
        assert_int_equal(run_full(t,
                                  "name: cont\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: optional\n"
                                  "    ssh: {target: db, command: optional}\n"
                                  "    on_failure: continue\n"
                                  "  - name: next\n"
                                  "    ssh: {target: db, command: next}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_SUCCEEDED);
        assert_int_equal(obs_find(&t->obs, "optional", "db1", 0)->outcome, STEP_FAILED);
        assert_int_equal(obs_find(&t->obs, "next", "db1", 0)->outcome, STEP_OK);
        assert_true(obs_has_event(&t->obs, "step-failed-continue: step 'optional'"));
}

static const char pb_rollback[] =
        "name: rb\n"
        "kind: custom\n"
        "params:\n"
        "  fail_undo: {type: bool, default: false}\n"
        "targets:\n"
        "  db: {host: db1}\n"
        "  web: {group: web}\n"
        "steps:\n"
        "  - name: a\n"
        "    ssh: {target: db, command: do-a}\n"
        "    rollback: {name: undo-a, ssh: {target: db, command: undo-a}}\n"
        "  - name: b\n"
        "    ssh: {target: db, command: do-b}\n"
        "    when: \"1 == 2\"\n"
        "    rollback: {name: undo-b, ssh: {target: db, command: undo-b}}\n"
        "  - name: c\n"
        "    ssh: {target: web, command: do-c}\n"
        "    rollback: {name: undo-c, ssh: {target: web, command: \"undo-c ${params.fail_undo}\"}}\n"
        "  - name: d\n"
        "    ssh: {target: web, command: do-d, parallel: 3}\n"
        "    on_failure: rollback\n"
        "    rollback: {name: undo-d, ssh: {target: web, command: undo-d}}\n"
        "  - name: e\n"
        "    ssh: {target: db, command: do-e}\n";

static void test_rollback(void **state)
{
        T *t = *state;
        ssize_t ud, uc, ua;
        const Rec *r;

        fake_executor_script(t->fake, ACTION_SSH, "web2: do-d", 0, &(FakeResult) { .exit_status = 1 });
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_FAILED);

        /* d's own rollback only where d succeeded (web1, web3), then c on all three, then a; b was
         * skipped and e never ran. */
        assert_true(fake_executor_find(t->fake, "web2: undo-d", 0) < 0);
        ud = fake_executor_find(t->fake, "web1: undo-d", 0);
        assert_true(ud >= 0);
        assert_true(fake_executor_find(t->fake, "web3: undo-d", 0) >= 0);
        uc = fake_executor_find(t->fake, "undo-c", 0);
        ua = fake_executor_find(t->fake, "undo-a", 0);
        assert_true(ud < uc && uc < ua);
        assert_true(fake_executor_find(t->fake, "web2: undo-c", 0) >= 0);
        assert_true(fake_executor_find(t->fake, "undo-b", 0) < 0);
        assert_true(fake_executor_find(t->fake, "do-e", 0) < 0);
        assert_int_equal(fake_executor_n_submitted(t->fake), 1 + 3 + 3 + 2 + 3 + 1);

        r = obs_find(&t->obs, "undo-c", "web2", 0);
        assert_non_null(r);
        assert_int_equal(r->phase, STEP_PHASE_ROLLBACK);
        assert_int_equal(r->step_index, 2);
        assert_int_equal(r->outcome, STEP_OK);
        assert_int_equal(obs_find(&t->obs, "undo-a", "db1", 0)->step_index, 0);
        assert_true(obs_has_event(&t->obs, "rollback-started"));
        assert_true(obs_has_event(&t->obs, "rollback-finished: rollback complete"));
        assert_contains(t->obs.run_error, "step 'd'");
        assert_contains(t->obs.run_error, "web2");
        assert_contains(t->obs.run_error, "rolled back");
        assert_events_paired(&t->obs);
}

static void test_rollback_incomplete(void **state)
{
        T *t = *state;
        ParamValue p[] = { { "fail_undo", "true" } };

        fake_executor_script(t->fake, ACTION_SSH, "web2: do-d", 0, &(FakeResult) { .exit_status = 1 });
        fake_executor_script(t->fake, ACTION_SSH, "web3: undo-c true", 0, &(FakeResult) { .exit_status = 9 });
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, p, 1), RUN_FAILED);
        /* The failing rollback is recorded and the remaining ones still run. */
        assert_int_equal(obs_find(&t->obs, "undo-c", "web3", 0)->outcome, STEP_FAILED);
        assert_int_equal(obs_find(&t->obs, "undo-c", "web1", 0)->outcome, STEP_OK);
        assert_non_null(obs_find(&t->obs, "undo-a", "db1", 0));
        assert_int_equal(obs_find(&t->obs, "undo-a", "db1", 0)->outcome, STEP_OK);
        assert_contains(t->obs.run_error, "rollback incomplete");
        assert_contains(t->obs.run_error, "undo-c");
        assert_true(obs_has_event(&t->obs, "rollback-finished: rollback incomplete"));
}


/* ---------------------------------------------------------------- issue 9: fence and resume */

typedef struct FakeFence {
        unsigned n_calls;      /* step_starting calls */
        unsigned refuse_at;    /* 1-based call that is refused; 0 = never */
        int refuse_with;
        StepPhase phases[16];
        size_t indexes[16];
        unsigned n_ended;
        StepOutcome ended[16];
} FakeFence;

static int fake_fence_starting(void *userdata, const RunInfo *info, const Step *step, size_t index,
                               StepPhase phase, char **ret_error)
{
        FakeFence *f = userdata;
        (void) info;
        (void) step;
        if (f->n_calls < 16) {
                f->phases[f->n_calls] = phase;
                f->indexes[f->n_calls] = index;
        }
        f->n_calls++;
        if (f->refuse_at == f->n_calls) {
                *ret_error = xstrdup("fenced: beta leads in epoch 9");
                return f->refuse_with ? f->refuse_with : -ESTALE;
        }
        return 0;
}

static void fake_fence_ended(void *userdata, const RunInfo *info, const Step *step, size_t index, StepOutcome o)
{
        FakeFence *f = userdata;
        (void) info;
        (void) step;
        (void) index;
        if (f->n_ended < 16)
                f->ended[f->n_ended] = o;
        f->n_ended++;
}

static void use_fence(T *t, FakeFence *f)
{
        t->fence = (EngineFence){.userdata = f, .step_starting = fake_fence_starting, .step_ended = fake_fence_ended};
}

/* The fence is asked once per forward step (a skipped one too), before it acts; each end
 * is reported with its outcome. */
static void test_fence_every_step(void **state)
{
        T *t = *state;
        FakeFence f = {};

        use_fence(t, &f);
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_int_equal(f.n_calls, 5);
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(f.indexes[i], i);
                assert_int_equal(f.phases[i], STEP_PHASE_FORWARD);
        }
        assert_int_equal(f.n_ended, 5);
        assert_int_equal(f.ended[1], STEP_SKIPPED);
        assert_int_equal(f.ended[4], STEP_OK);
}

/* Refused at step c: c and everything after it never act, no rollback runs (the next
 * leader decides), the run ends interrupted with the fence's reason and an event. */
static void test_fence_refuses(void **state)
{
        T *t = *state;
        FakeFence f = {.refuse_at = 3};

        use_fence(t, &f);
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_INTERRUPTED);
        assert_true(fake_executor_find(t->fake, "do-a", 0) >= 0);
        assert_true(fake_executor_find(t->fake, "do-c", 0) < 0);
        assert_true(fake_executor_find(t->fake, "undo-a", 0) < 0);
        assert_int_equal(fake_executor_n_submitted(t->fake), 1);
        assert_null(obs_find(&t->obs, "c", NULL, 0));
        assert_true(obs_has_event(&t->obs, "cluster-fenced: step 'c' did not act: fenced: beta leads in epoch 9"));
        assert_contains(t->obs.run_error, "fenced: beta leads in epoch 9");
        assert_int_equal(f.n_ended, 2);
}

/* A rollback step asks the fence too; refused there, the rollback stops and the run is
 * interrupted, not failed. */
static void test_fence_refuses_rollback(void **state)
{
        T *t = *state;
        FakeFence f = {.refuse_at = 5, .refuse_with = -ETIMEDOUT}; /* a..d forward (1-4), then undo-d */

        use_fence(t, &f);
        fake_executor_script(t->fake, ACTION_SSH, "web2: do-d", 0, &(FakeResult) { .exit_status = 1 });
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_INTERRUPTED);
        assert_int_equal(f.phases[4], STEP_PHASE_ROLLBACK);
        assert_true(fake_executor_find(t->fake, "undo-d", 0) < 0);
        assert_true(fake_executor_find(t->fake, "undo-c", 0) < 0);
        assert_true(obs_has_event(&t->obs, "rollback-finished: rollback stopped: this node was fenced"));
}

/* Resumed at step c: a and b are neither run nor reported, c onwards run. */
static void test_resume_continue(void **state)
{
        T *t = *state;

        t->resume = (EngineResume){.start_index = 2};
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_true(fake_executor_find(t->fake, "do-a", 0) < 0);
        assert_null(obs_find(&t->obs, "a", NULL, 0));
        assert_true(fake_executor_find(t->fake, "do-c", 0) >= 0);
        assert_true(fake_executor_find(t->fake, "do-e", 0) >= 0);
        assert_int_equal(t->approver.n_asked, 0);
}

/* A step in flight elsewhere and not idempotent: the gate asks; deny aborts before it acts,
 * approve runs it again. A failure after the take-over rolls back only what this node did. */
static void test_resume_gate(void **state)
{
        T *t = *state;

        t->resume = (EngineResume){.start_index = 2, .ask = true, .prompt = "Run 'c' again?"};
        t->approver = (FakeApprover) { .approved = false, .who = "carol" };
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_ABORTED);
        assert_int_equal(t->approver.n_asked, 1);
        assert_string_equal(t->approver.prompt, "Run 'c' again?");
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
        assert_contains(t->obs.run_error, "step 'c' not run again: denied by carol");

        t->e = engine_free(t->e);
        fake_executor_free(t->fake);
        assert_int_equal(fake_executor_new(&t->fake), 0);
        obs_done(&t->obs);
        t->obs = (Obs){.fake = t->fake};
        playbook_free(t->pb);
        t->pb = NULL;
        free(t->approver.prompt);
        t->approver = (FakeApprover) { .approved = true, .who = "bob" };
        fake_executor_script(t->fake, ACTION_SSH, "web2: do-d", 0, &(FakeResult) { .exit_status = 1 });
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_FAILED);
        assert_true(obs_has_event(&t->obs, "resume-rerun-approved: step 'c' runs again: approved by bob"));
        assert_true(fake_executor_find(t->fake, "web1: do-c", 0) >= 0);
        assert_true(fake_executor_find(t->fake, "undo-c", 0) >= 0); /* this node ran c */
        assert_true(fake_executor_find(t->fake, "undo-a", 0) < 0);  /* a was another node's */
}

/* Skip at a resume gate: the in-flight step c does not run here, is journaled skipped (the
 * fence asked first, its end reported skipped), and the run goes on with d and e. A gate that
 * offers no skip (can_skip false) treats the same answer as a denial. */
static void test_resume_skip(void **state)
{
        T *t = *state;
        FakeFence f = {};
        const Rec *c;

        use_fence(t, &f);
        t->resume =
                (EngineResume){.start_index = 2, .ask = true, .can_skip = true, .prompt = "Run 'c' again?"};
        t->approver = (FakeApprover){.skip = true, .who = "dave", .comment = "c moved: checked"};
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_true(t->approver.skippable);
        assert_true(fake_executor_find(t->fake, "do-c", 0) < 0);
        assert_true(fake_executor_find(t->fake, "do-d", 0) >= 0);
        assert_true(fake_executor_find(t->fake, "do-e", 0) >= 0);
        c = obs_find(&t->obs, "c", NULL, 0);
        assert_non_null(c);
        assert_int_equal(c->outcome, STEP_SKIPPED);
        assert_true(obs_has_event(
                &t->obs, "resume-skip-decided: step 'c' is skipped, not run again: decided by dave: "
                         "c moved: checked"));
        assert_int_equal(f.n_calls, 3); /* c (the skip), d, e */
        assert_int_equal(f.indexes[0], 2);
        assert_int_equal(f.ended[0], STEP_SKIPPED);

        t->e = engine_free(t->e);
        fake_executor_free(t->fake);
        assert_int_equal(fake_executor_new(&t->fake), 0);
        obs_done(&t->obs);
        t->obs = (Obs){.fake = t->fake};
        playbook_free(t->pb);
        t->pb = NULL;
        free(t->approver.prompt);
        t->resume.can_skip = false; /* a gate after a failed step: go on or abort */
        t->approver = (FakeApprover){.skip = true, .who = "dave"};
        assert_int_equal(run_full(t, pb_rollback, RUN_MODE_LIVE, NULL, 0), RUN_ABORTED);
        assert_false(t->approver.skippable);
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
}

static void test_timeout_and_lost_result(void **state)
{
        T *t = *state;
        const Rec *r;

        fake_executor_script(t->fake, ACTION_SSH, "slow", 0, &(FakeResult) { .delay = 30 * SEC });
        fake_executor_script(t->fake, ACTION_SSH, "hang", 0, &(FakeResult) { .hang = true, .ignore_cancel = true });
        assert_int_equal(run_full(t,
                                  "name: to\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: slow\n"
                                  "    ssh: {target: db, command: slow}\n"
                                  "    timeout: 5s\n"
                                  "    on_failure: continue\n"
                                  "  - name: lost\n"
                                  "    ssh: {target: db, command: hang}\n"
                                  "    timeout: 2s\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_FAILED);
        r = obs_find(&t->obs, "slow", "db1", 0);
        assert_int_equal(r->outcome, STEP_TIMEOUT);
        assert_contains(r->error, "timed out after 5.00s");
        assert_int_equal(r->fake_now, fake_executor_submitted(t->fake, 0)->submitted + 5 * SEC);
        /* The executor never answered: the engine gives up 5 s past the deadline. */
        r = obs_find(&t->obs, "lost", "db1", 0);
        assert_int_equal(r->outcome, STEP_TIMEOUT);
        assert_string_equal(r->error, "executor did not return");
        assert_int_equal(r->fake_now, fake_executor_submitted(t->fake, 1)->submitted + 7 * SEC);
}

static void test_parallel_and_slow_host(void **state)
{
        T *t = *state;
        const Rec *w1, *w2, *w3;

        fake_executor_script(t->fake, ACTION_SSH, "web2: restart", 0, &(FakeResult) { .delay = 10 * SEC });
        fake_executor_script(t->fake, ACTION_SSH, "restart", 0, &(FakeResult) { .delay = 1 * SEC });
        assert_int_equal(run_full(t,
                                  "name: par\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  web: {group: web}\n"
                                  "steps:\n"
                                  "  - name: restart\n"
                                  "    ssh: {target: web, command: restart}\n"
                                  "  - name: two\n"
                                  "    ssh: {target: web, command: two, parallel: 2}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_SUCCEEDED);
        /* All three started in one steps_started call, before any submit. */
        assert_int_equal(t->obs.started[0].call, t->obs.started[2].call);
        w1 = obs_find(&t->obs, "restart", "web1", 0);
        w2 = obs_find(&t->obs, "restart", "web2", 0);
        w3 = obs_find(&t->obs, "restart", "web3", 0);
        /* The slow host does not hold back the others, which are reported together. */
        assert_int_equal(w1->call, w3->call);
        assert_true(w1->call < w2->call);
        assert_int_equal(w1->fake_now, fake_executor_submitted(t->fake, 0)->submitted + 1 * SEC);
        assert_int_equal(w2->fake_now, fake_executor_submitted(t->fake, 0)->submitted + 10 * SEC);

        /* parallel: 2 — the third host starts when one of the first two is done. */
        assert_int_equal(fake_executor_max_in_flight(t->fake), 3);
        assert_int_equal(fake_executor_submitted(t->fake, 5)->submitted,
                         fake_executor_submitted(t->fake, 3)->submitted + FAKE_EXECUTOR_DEFAULT_DELAY);
        assert_int_equal(fake_executor_submitted(t->fake, 4)->submitted,
                         fake_executor_submitted(t->fake, 3)->submitted);
}

static void test_parallel_limit(void **state)
{
        T *t = *state;

        assert_int_equal(run_full(t,
                                  "name: par\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  web: {group: web}\n"
                                  "steps:\n"
                                  "  - name: one\n"
                                  "    ssh: {target: web, command: one, parallel: 1}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_SUCCEEDED);
        assert_int_equal(fake_executor_max_in_flight(t->fake), 1);
        assert_int_equal(fake_executor_n_submitted(t->fake), 3);
        assert_int_equal(t->obs.n_started_calls, 3);
}

static const char pb_expect[] =
        "name: ex\n"
        "kind: custom\n"
        "params:\n"
        "  want: {type: string, default: ready}\n"
        "targets:\n"
        "  db: {host: db1}\n"
        "  api: {endpoint: api}\n"
        "steps:\n"
        "  - name: s1\n"
        "    ssh: {target: db, command: s1}\n"
        "    expect: {contains: \"${params.want}\", matches: '^state=[a-z]+$', that: \"step.stdout contains 'rea'\"}\n"
        "    on_failure: continue\n"
        "  - name: h1\n"
        "    http: {target: api, url: /status}\n"
        "    expect:\n"
        "      status: [200, 204]\n"
        "      json: {data.state: \"${params.want}\", items.1.id: \"7\", ok: \"true\"}\n"
        "      that: \"step.http_status == 200\"\n"
        "    on_failure: continue\n"
        "  - name: h2\n"
        "    http: {target: api, url: /created}\n"
        "    on_failure: continue\n"
        "  - name: h3\n"
        "    http: {target: api, url: /moved}\n"
        "    on_failure: continue\n";

static void test_expect_pass(void **state)
{
        T *t = *state;

        fake_executor_script(t->fake, ACTION_SSH, "s1", 0, &(FakeResult) { .out = "state=ready\n" });
        fake_executor_script(t->fake, ACTION_HTTP, "/status", 0,
                             &(FakeResult) { .out = "{\"data\":{\"state\":\"ready\"},\"items\":[{\"id\":1},{\"id\":7}],"
                                                    "\"ok\":true}" });
        fake_executor_script(t->fake, ACTION_HTTP, "/created", 0, &(FakeResult) { .http_status = 204 });
        fake_executor_script(t->fake, ACTION_HTTP, "/moved", 0, &(FakeResult) { .http_status = 301 });
        assert_int_equal(run_full(t, pb_expect, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_int_equal(obs_find(&t->obs, "s1", NULL, 0)->outcome, STEP_OK);
        assert_int_equal(obs_find(&t->obs, "h1", NULL, 0)->outcome, STEP_OK);
        /* Default: any 2xx. */
        assert_int_equal(obs_find(&t->obs, "h2", NULL, 0)->outcome, STEP_OK);
        assert_int_equal(obs_find(&t->obs, "h3", NULL, 0)->outcome, STEP_FAILED);
        assert_contains(obs_find(&t->obs, "h3", NULL, 0)->error, "HTTP status 301 (expected 2xx)");
}

static void test_expect_fail(void **state)
{
        T *t = *state;
        ParamValue p[] = { { "want", "ready" } };

        fake_executor_script(t->fake, ACTION_SSH, "s1", 0, &(FakeResult) { .out = "state=Ready\n" });
        fake_executor_script(t->fake, ACTION_HTTP, "/status", 0,
                             &(FakeResult) { .out = "{\"data\":{\"state\":\"ready\"},\"items\":[{\"id\":1},{\"id\":8}]}" });
        fake_executor_script(t->fake, ACTION_HTTP, "/created", 0, &(FakeResult) { .http_status = 500 });
        assert_int_equal(run_full(t, pb_expect, RUN_MODE_LIVE, p, 1), RUN_SUCCEEDED);
        assert_int_equal(obs_find(&t->obs, "s1", NULL, 0)->outcome, STEP_FAILED);
        assert_contains(obs_find(&t->obs, "s1", NULL, 0)->error, "does not contain \"ready\"");
        assert_int_equal(obs_find(&t->obs, "h1", NULL, 0)->outcome, STEP_FAILED);
        assert_contains(obs_find(&t->obs, "h1", NULL, 0)->error, "json items.1.id is \"8\" (expected \"7\")");
        assert_int_equal(obs_find(&t->obs, "h2", NULL, 0)->outcome, STEP_FAILED);
}

static void test_expect_matches_and_that(void **state)
{
        T *t = *state;

        fake_executor_script(t->fake, ACTION_SSH, "m1", 0, &(FakeResult) { .out = "state=ready 1\n" });
        fake_executor_script(t->fake, ACTION_SSH, "t1", 0, &(FakeResult) { .out = "12\n" });
        assert_int_equal(run_full(t,
                                  "name: ex2\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: m1\n"
                                  "    ssh: {target: db, command: m1}\n"
                                  "    expect: {matches: '^state=[a-z]+$'}\n"
                                  "    on_failure: continue\n"
                                  "  - name: t1\n"
                                  "    ssh: {target: db, command: t1}\n"
                                  "    expect: {that: \"step.stdout < 10\"}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_FAILED);
        assert_contains(obs_find(&t->obs, "m1", NULL, 0)->error, "does not match /^state=[a-z]+$/");
        assert_contains(obs_find(&t->obs, "t1", NULL, 0)->error, "expect.that is false");
}

static const char pb_wait[] =
        "name: wf\n"
        "kind: custom\n"
        "targets:\n"
        "  api: {endpoint: api}\n"
        "steps:\n"
        "  - name: healthy\n"
        "    wait_for:\n"
        "      http: {target: api, url: /health}\n"
        "      expect: {status: 200}\n"
        "      interval: 2s\n"
        "    timeout: 30s\n";

static void test_wait_for_passes(void **state)
{
        T *t = *state;
        const Rec *r;

        fake_executor_script(t->fake, ACTION_HTTP, "/health", 4, &(FakeResult) { .http_status = 503 });
        assert_int_equal(run_full(t, pb_wait, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_int_equal(fake_executor_n_submitted(t->fake), 5);
        /* One event for the whole wait. */
        assert_int_equal(t->obs.n_finished, 1);
        r = obs_find(&t->obs, "healthy", NULL, 0);
        assert_int_equal(r->outcome, STEP_OK);
        assert_string_equal(r->out, "passed after 5 checks");
        assert_int_equal(fake_executor_submitted(t->fake, 1)->submitted,
                         fake_executor_submitted(t->fake, 0)->submitted + FAKE_EXECUTOR_DEFAULT_DELAY + 2 * SEC);
}

static void test_wait_for_times_out(void **state)
{
        T *t = *state;
        const Rec *r;
        size_t n;

        fake_executor_script(t->fake, ACTION_HTTP, "/health", 0, &(FakeResult) { .http_status = 503 });
        assert_int_equal(run_full(t, pb_wait, RUN_MODE_LIVE, NULL, 0), RUN_FAILED);
        r = obs_find(&t->obs, "healthy", NULL, 0);
        assert_int_equal(r->outcome, STEP_TIMEOUT);
        assert_contains(r->error, "HTTP status 503");
        n = fake_executor_n_submitted(t->fake);
        assert_true(n >= 13 && n <= 15);
        /* Never past the deadline. */
        assert_true(r->fake_now <= fake_executor_submitted(t->fake, 0)->submitted + 30 * SEC);
}

static const char pb_approve[] =
        "name: ap\n"
        "kind: custom\n"
        "targets:\n"
        "  api: {endpoint: api}\n"
        "  db: {host: db1}\n"
        "steps:\n"
        "  - name: go\n"
        "    approve: {prompt: \"Switch to ${targets.api.url}?\", timeout: 10m}\n"
        "  - name: after\n"
        "    ssh: {target: db, command: after}\n";

static void test_approve(void **state)
{
        T *t = *state;
        const Rec *r;

        t->approver = (FakeApprover) { .approved = true, .who = "bob", .comment = "looks fine" };
        assert_int_equal(run_full(t, pb_approve, RUN_MODE_LIVE, NULL, 0), RUN_SUCCEEDED);
        assert_int_equal(t->approver.n_asked, 1);
        assert_string_equal(t->approver.prompt, "Switch to https://api.example:8443?");
        assert_int_equal(t->approver.deadline, FAKE_EXECUTOR_EPOCH + 10 * USEC_PER_MINUTE);
        assert_true(obs_has_event(&t->obs, "approval-requested: Switch to https://api.example:8443?"));
        r = obs_find(&t->obs, "go", NULL, 0);
        assert_int_equal(r->outcome, STEP_OK);
        assert_contains(r->out, "approved by bob at 2026-01-01T00:");
        assert_contains(r->out, "Z: looks fine");
        assert_int_equal(fake_executor_n_submitted(t->fake), 1);
}

static void test_approve_denied(void **state)
{
        T *t = *state;

        t->approver = (FakeApprover) { .approved = false, .who = "carol" };
        assert_int_equal(run_full(t, pb_approve, RUN_MODE_LIVE, NULL, 0), RUN_FAILED);
        assert_int_equal(obs_find(&t->obs, "go", NULL, 0)->outcome, STEP_FAILED);
        assert_string_equal(obs_find(&t->obs, "go", NULL, 0)->error, "denied by carol");
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
}

static void test_approve_expired(void **state)
{
        T *t = *state;

        t->approver = (FakeApprover) { .r = -ETIME };
        assert_int_equal(run_full(t, pb_approve, RUN_MODE_LIVE, NULL, 0), RUN_FAILED);
        assert_int_equal(obs_find(&t->obs, "go", NULL, 0)->outcome, STEP_TIMEOUT);
        assert_string_equal(obs_find(&t->obs, "go", NULL, 0)->error, "approval expired");
}

static void test_approve_cancelled(void **state)
{
        T *t = *state;

        t->approver = (FakeApprover) { .r = -ECANCELED };
        assert_int_equal(run_full(t, pb_approve, RUN_MODE_LIVE, NULL, 0), RUN_ABORTED);
        assert_int_equal(obs_find(&t->obs, "go", NULL, 0)->outcome, STEP_CANCELLED);
        assert_string_equal(t->obs.run_error, "cancelled by operator");
}

static void test_sleep(void **state)
{
        T *t = *state;

        assert_int_equal(run_full(t,
                                  "name: sl\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: a\n"
                                  "    ssh: {target: db, command: a}\n"
                                  "  - name: pause\n"
                                  "    sleep: 90s\n"
                                  "  - name: b\n"
                                  "    ssh: {target: db, command: b}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_SUCCEEDED);
        assert_int_equal(fake_executor_submitted(t->fake, 1)->submitted,
                         fake_executor_submitted(t->fake, 0)->submitted + FAKE_EXECUTOR_DEFAULT_DELAY + 90 * SEC);
        assert_int_equal(obs_find(&t->obs, "pause", NULL, 0)->outcome, STEP_OK);
}

static void cancel_hook(void *userdata)
{
        engine_request_cancel(userdata);
}

static void test_cancel_mid_step(void **state)
{
        T *t = *state;
        RunOutcome o;

        load(t,
             "name: cancel\n"
             "kind: custom\n"
             "targets:\n"
             "  db: {host: db1}\n"
             "  web: {group: web}\n"
             "steps:\n"
             "  - name: a\n"
             "    ssh: {target: db, command: do-a}\n"
             "    rollback: {name: undo-a, ssh: {target: db, command: undo-a}}\n"
             "  - name: b\n"
             "    ssh: {target: web, command: do-b}\n"
             "    on_failure: rollback\n"
             "    rollback: {name: undo-b, ssh: {target: web, command: undo-b}}\n"
             "  - name: c\n"
             "    ssh: {target: db, command: do-c}\n");
        fake_executor_script(t->fake, ACTION_SSH, "web1: do-b", 0, &(FakeResult) { .delay = 1 * SEC });
        fake_executor_script(t->fake, ACTION_SSH, "do-b", 0, &(FakeResult) { .delay = 60 * SEC });
        assert_int_equal(make_engine(t, RUN_MODE_LIVE, NULL, 0), 0);
        fake_executor_at(t->fake, FAKE_EXECUTOR_EPOCH + 5 * SEC, cancel_hook, t->e);
        assert_int_equal(engine_run(t->e, &o), RUN_ABORTED);
        assert_int_equal(o, RUN_ABORTED);

        assert_int_equal(fake_executor_n_cancel_all(t->fake), 1);
        assert_int_equal(obs_find(&t->obs, "b", "web1", 0)->outcome, STEP_OK);
        assert_int_equal(obs_find(&t->obs, "b", "web2", 0)->outcome, STEP_CANCELLED);
        assert_int_equal(obs_find(&t->obs, "b", "web3", 0)->outcome, STEP_CANCELLED);
        assert_int_equal(obs_find(&t->obs, "b", "web3", 0)->fake_now, FAKE_EXECUTOR_EPOCH + 5 * SEC);
        /* b's own rollback on the host it finished on, then a's. */
        assert_true(fake_executor_find(t->fake, "web1: undo-b", 0) >= 0);
        assert_true(fake_executor_find(t->fake, "web2: undo-b", 0) < 0);
        assert_true(fake_executor_find(t->fake, "db1: undo-a", 0) > fake_executor_find(t->fake, "undo-b", 0));
        assert_true(fake_executor_find(t->fake, "do-c", 0) < 0);
        assert_string_equal(t->obs.run_error, "cancelled by operator");
        assert_true(obs_has_event(&t->obs, "rollback-finished: rollback complete"));
        assert_events_paired(&t->obs);
}

static void second_cancel_hook(void *userdata)
{
        T *t = userdata;

        engine_request_cancel(t->e);
        engine_request_cancel(t->e);
}

static void test_double_cancel(void **state)
{
        T *t = *state;
        RunOutcome o;

        load(t,
             "name: cancel2\n"
             "kind: custom\n"
             "targets:\n"
             "  db: {host: db1}\n"
             "steps:\n"
             "  - name: a\n"
             "    ssh: {target: db, command: do-a}\n"
             "    on_failure: rollback\n"
             "    rollback: {name: undo-a, ssh: {target: db, command: undo-a}}\n"
             "  - name: b\n"
             "    ssh: {target: db, command: do-b}\n"
             "    on_failure: rollback\n");
        fake_executor_script(t->fake, ACTION_SSH, "do-b", 0, &(FakeResult) { .delay = 60 * SEC });
        assert_int_equal(make_engine(t, RUN_MODE_LIVE, NULL, 0), 0);
        fake_executor_at(t->fake, FAKE_EXECUTOR_EPOCH + 5 * SEC, second_cancel_hook, t);
        assert_int_equal(engine_run(t->e, &o), RUN_ABORTED);
        /* Two requests: the rollback is cancelled too. */
        assert_true(fake_executor_find(t->fake, "undo-a", 0) < 0);
        assert_contains(t->obs.run_error, "rollback incomplete (cancelled)");
}

static void test_secret_masking(void **state)
{
        T *t = *state;
        ParamValue p[] = { { "token", SECRET_PARAM_VALUE } };
        bool raw_in_command = false;

        fake_executor_script(t->fake, ACTION_SSH, "login", 0,
                             &(FakeResult) { .out = "token " SECRET_PARAM_VALUE " key " SECRET_FILE_VALUE "\n",
                                             .err = "bad " SECRET_FILE_VALUE, .exit_status = 1 });
        fake_executor_script(t->fake, ACTION_HTTP, "/v1", 0,
                             &(FakeResult) { .out = "echo " SECRET_FILE_VALUE, .http_status = 500 });
        assert_int_equal(run_full(t,
                                  "name: sec\n"
                                  "kind: custom\n"
                                  "params:\n"
                                  "  token: {type: string, secret: true, required: true}\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "  api: {endpoint: api}\n"
                                  "steps:\n"
                                  "  - name: login\n"
                                  "    ssh: {target: db, command: \"login ${params.token} ${secrets.api_token}\"}\n"
                                  "    on_failure: continue\n"
                                  "  - name: call\n"
                                  "    http: {target: api, method: PUT, url: /v1, body: \"k=${secrets.api_token}\"}\n"
                                  "    expect: {contains: \"${params.token}\"}\n"
                                  "    on_failure: continue\n"
                                  "  - name: check\n"
                                  "    ssh: {target: db, command: check}\n"
                                  "    expect: {contains: \"${secrets.api_token}\"}\n",
                                  RUN_MODE_LIVE, p, 1),
                         RUN_FAILED);
        /* The executor got the real values ... */
        raw_in_command = strstr(fake_executor_submitted(t->fake, 0)->command, SECRET_FILE_VALUE) &&
                         strstr(fake_executor_submitted(t->fake, 0)->command, SECRET_PARAM_VALUE);
        assert_true(raw_in_command);
        /* ... the observer never did. */
        assert_true(t->obs.n_strings > 5);
        for (size_t i = 0; i < t->obs.n_strings; i++) {
                if (strstr(t->obs.strings[i], SECRET_FILE_VALUE) || strstr(t->obs.strings[i], SECRET_PARAM_VALUE)) {
                        fprintf(stderr, "secret leaked: %s\n", t->obs.strings[i]);
                        fail();
                }
        }
        assert_string_equal(obs_find(&t->obs, "login", NULL, 0)->detail, "login " SECRET_MASK " " SECRET_MASK);
        assert_string_equal(obs_find(&t->obs, "login", NULL, 0)->out,
                            "token " SECRET_MASK " key " SECRET_MASK "\n");
        assert_string_equal(obs_find(&t->obs, "login", NULL, 0)->err, "bad " SECRET_MASK);
        assert_contains(obs_find(&t->obs, "call", NULL, 0)->out, SECRET_MASK);
        assert_contains(obs_find(&t->obs, "check", NULL, 0)->error, "does not contain \"" SECRET_MASK "\"");
        assert_contains(t->obs.run_error, SECRET_MASK);
        {
                char *m = engine_mask(t->e, "x" SECRET_FILE_VALUE "y");
                assert_string_equal(m, "x" SECRET_MASK "y");
                free(m);
        }
}

static void test_secret_unreadable(void **state)
{
        T *t = *state;
        const Rec *r;

        assert_int_equal(run_full(t,
                                  "name: sec2\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "steps:\n"
                                  "  - name: use\n"
                                  "    ssh: {target: db, command: \"use ${secrets.gone}\"}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_FAILED);
        r = obs_find(&t->obs, "use", NULL, 0);
        assert_int_equal(r->outcome, STEP_ERROR);
        assert_contains(r->error, "cannot read secret gone: ");
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
}

static void test_dry_run(void **state)
{
        T *t = *state;
        const Rec *r;
        bool seen_rollback = false;

        assert_int_equal(run_full(t,
                                  "name: dry\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  db: {host: db1}\n"
                                  "  web: {group: web}\n"
                                  "  api: {endpoint: api}\n"
                                  "steps:\n"
                                  "  - name: lag\n"
                                  "    ssh: {target: db, command: \"lag ${secrets.api_token}\"}\n"
                                  "    register: true\n"
                                  "  - name: restart\n"
                                  "    ssh: {target: web, command: \"restart ${host.name} ${steps.lag.stdout}\"}\n"
                                  "    when: \"steps.lag.stdout < 100\"\n"
                                  "    rollback: {name: undo, ssh: {target: web, command: undo}}\n"
                                  "  - name: call\n"
                                  "    http: {target: api, method: POST, url: /x, json: {a: \"${steps.lag.stdout}\"}}\n"
                                  "  - name: go\n"
                                  "    approve: {prompt: \"ok?\"}\n"
                                  "  - name: pause\n"
                                  "    sleep: 5s\n",
                                  RUN_MODE_DRY_RUN, NULL, 0),
                         RUN_SUCCEEDED);
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
        assert_int_equal(t->approver.n_asked, 0);
        for (size_t i = 0; i < t->obs.n_finished; i++) {
                assert_int_equal(t->obs.finished[i].outcome, STEP_SKIPPED);
                if (t->obs.finished[i].phase == STEP_PHASE_ROLLBACK)
                        seen_rollback = true;
        }
        assert_true(seen_rollback);
        assert_string_equal(obs_find(&t->obs, "lag", "db1", 0)->detail, "lag " SECRET_MASK);
        r = obs_find(&t->obs, "restart", "web2", 0);
        assert_non_null(r);
        assert_string_equal(r->detail, "restart web2 <steps.lag.stdout>");
        assert_string_equal(r->out, "when: steps.lag.stdout < 100");
        assert_int_equal(obs_count(&t->obs, "restart"), 3);
        r = obs_find(&t->obs, "call", NULL, 0);
        assert_contains(r->detail, "POST https://api.example:8443/x");
        assert_contains(r->detail, "Authorization: Bearer " SECRET_MASK);
        assert_contains(r->detail, "<steps.lag.stdout>");
        assert_contains(obs_find(&t->obs, "go", NULL, 0)->detail, "ok?");
        assert_non_null(obs_find(&t->obs, "undo", "web1", 0));
        assert_int_equal(obs_find(&t->obs, "undo", "web1", 0)->phase, STEP_PHASE_ROLLBACK);
        assert_events_paired(&t->obs);
}

static void test_tabletop_never_acts(void **state)
{
        T *t = *state;

        assert_int_equal(run_full(t, pb_all_ok, RUN_MODE_TABLETOP, NULL, 0), RUN_SUCCEEDED);
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
        assert_int_equal(t->obs.n_finished, 4);
        assert_int_equal(obs_find(&t->obs, "lag", "db1", 0)->outcome, STEP_SKIPPED);
}

static void test_observer_errors(void **state)
{
        T *t = *state;
        RunOutcome o = RUN_RUNNING;

        load(t, pb_all_ok);
        t->obs.fail_run_started = -EROFS;
        assert_int_equal(make_engine(t, RUN_MODE_LIVE, NULL, 0), 0);
        assert_int_equal(engine_run(t->e, &o), -EROFS);
        assert_int_equal(fake_executor_n_submitted(t->fake), 0);
        assert_false(t->obs.run_finished);

        /* steps_started failing: nothing of that batch is submitted. */
        t->obs.fail_run_started = 0;
        t->obs.fail_started_call = 2;
        assert_int_equal(make_engine(t, RUN_MODE_LIVE, NULL, 0), 0);
        assert_int_equal(engine_run(t->e, &o), -EIO);
        assert_int_equal(fake_executor_n_submitted(t->fake), 1);

        /* steps_finished failing: the run is abandoned with that errno. */
        t->obs.fail_started_call = 0;
        t->obs.n_started_calls = t->obs.n_finished_calls = 0;
        t->obs.fail_finished_call = 1;
        assert_int_equal(make_engine(t, RUN_MODE_LIVE, NULL, 0), 0);
        assert_int_equal(engine_run(t->e, &o), -ENOSPC);
        assert_int_equal(fake_executor_n_submitted(t->fake), 2);
}

static void test_executor_errors(void **state)
{
        T *t = *state;
        const Rec *r;

        fake_executor_script(t->fake, ACTION_SSH, "web2", 0,
                             &(FakeResult) { .status = ACTION_HOSTKEY_REJECTED, .error = "host key changed" });
        assert_int_equal(run_full(t,
                                  "name: hk\n"
                                  "kind: custom\n"
                                  "targets:\n"
                                  "  web: {group: web}\n"
                                  "steps:\n"
                                  "  - name: a\n"
                                  "    ssh: {target: web, command: a}\n",
                                  RUN_MODE_LIVE, NULL, 0),
                         RUN_FAILED);
        r = obs_find(&t->obs, "a", "web2", 0);
        assert_int_equal(r->outcome, STEP_ERROR);
        assert_string_equal(r->error, "hostkey-rejected: host key changed");
        assert_contains(t->obs.run_error, "failed on 1 of 3 targets: web2 (hostkey-rejected: host key changed)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_string_tables),
                cmocka_unit_test_setup_teardown(test_all_success, setup, teardown),
                cmocka_unit_test_setup_teardown(test_params, setup, teardown),
                cmocka_unit_test_setup_teardown(test_when_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_register_template, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retries_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retries_exhausted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_on_failure_continue, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fence_every_step, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fence_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fence_refuses_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_continue, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_gate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_skip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rollback_incomplete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_timeout_and_lost_result, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parallel_and_slow_host, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parallel_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expect_pass, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expect_fail, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expect_matches_and_that, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_for_passes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_for_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_approve, setup, teardown),
                cmocka_unit_test_setup_teardown(test_approve_denied, setup, teardown),
                cmocka_unit_test_setup_teardown(test_approve_expired, setup, teardown),
                cmocka_unit_test_setup_teardown(test_approve_cancelled, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sleep, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel_mid_step, setup, teardown),
                cmocka_unit_test_setup_teardown(test_double_cancel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_masking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_unreadable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tabletop_never_acts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_observer_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_executor_errors, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
