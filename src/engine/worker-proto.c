/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * worker-proto.c — see worker-proto.h. JSON through jansson, keys in the order
 * `droverctl run --json` has always printed them (people's scripts may read them as
 * text); ASCII-only output so that a line never splits inside a multi-byte sequence.
 */
#include <jansson.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/worker-proto.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

static const char *const worker_message_type_table[_WORKER_MESSAGE_TYPE_MAX] = {
        [WORKER_MESSAGE_RUN_STARTED] = WORKER_EVENT_RUN_STARTED,
        [WORKER_MESSAGE_STEP_STARTED] = WORKER_EVENT_STEP_STARTED,
        [WORKER_MESSAGE_STEP_FINISHED] = WORKER_EVENT_STEP_FINISHED,
        [WORKER_MESSAGE_RUN_EVENT] = WORKER_EVENT_RUN_EVENT,
        [WORKER_MESSAGE_APPROVAL_REQUESTED] = WORKER_EVENT_APPROVAL_REQUESTED,
        [WORKER_MESSAGE_RUN_FINISHED] = WORKER_EVENT_RUN_FINISHED,
};
DEFINE_STRING_TABLE(worker_message_type, WorkerMessageType, worker_message_type_table);

void worker_message_done(WorkerMessage *m)
{
        json_decref(m->json_);
        free(m->params_owned_);
        *m = WORKER_MESSAGE_INIT(m->type);
}

static int dump(json_t *o, size_t flags, char **ret)
{
        char *s;

        if (!o)
                return -ENOMEM;
        s = json_dumps(o, JSON_COMPACT | flags);
        json_decref(o);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static void set_str(json_t *o, const char *key, const char *v)
{
        json_object_set_new(o, key, json_string(strempty(v)));
}

static void set_int(json_t *o, const char *key, json_int_t v)
{
        json_object_set_new(o, key, json_integer(v));
}

/* The names a type needs, or NULL when one is missing. */
static bool names_present(const WorkerMessage *m)
{
        switch (m->type) {
        case WORKER_MESSAGE_RUN_STARTED:
                return run_mode_to_string(m->mode);
        case WORKER_MESSAGE_STEP_STARTED:
                return step_phase_to_string(m->phase);
        case WORKER_MESSAGE_STEP_FINISHED:
                return step_phase_to_string(m->phase) && step_outcome_to_string(m->step_outcome);
        case WORKER_MESSAGE_RUN_FINISHED:
                return run_outcome_to_string(m->run_outcome);
        default:
                return true;
        }
}

int worker_message_format(const WorkerMessage *m, char **ret)
{
        const char *event = worker_message_type_to_string(m->type);
        json_t *o;

        if (!event || !names_present(m))
                return -EINVAL;
        o = json_object();
        if (!o)
                return -ENOMEM;
        set_str(o, WORKER_FIELD_EVENT, event);
        set_int(o, WORKER_FIELD_RUN, m->run);

        switch (m->type) {
        case WORKER_MESSAGE_RUN_STARTED:
                set_str(o, WORKER_FIELD_PLAYBOOK, m->playbook);
                set_str(o, WORKER_FIELD_KIND, m->kind);
                set_str(o, WORKER_FIELD_MODE, run_mode_to_string(m->mode));
                set_str(o, WORKER_FIELD_TRIGGER, m->trigger);
                set_str(o, WORKER_FIELD_ACTOR, m->actor);
                set_int(o, WORKER_FIELD_STEPS, m->steps);
                json_object_set_new(o, WORKER_FIELD_PARAMS,
                                    (m->params_json ? json_loads(m->params_json, 0, NULL) : NULL)
                                            ?: json_null());
                break;
        case WORKER_MESSAGE_STEP_STARTED:
        case WORKER_MESSAGE_STEP_FINISHED:
                set_str(o, WORKER_FIELD_STEP, m->step);
                set_int(o, WORKER_FIELD_INDEX, m->index);
                set_str(o, WORKER_FIELD_KIND, m->kind);
                set_str(o, WORKER_FIELD_PHASE, step_phase_to_string(m->phase));
                set_str(o, WORKER_FIELD_TARGET, m->target);
                set_int(o, WORKER_FIELD_ATTEMPT, m->attempt);
                if (m->detail)
                        set_str(o, WORKER_FIELD_DETAIL, m->detail);
                if (m->type == WORKER_MESSAGE_STEP_STARTED)
                        break;
                set_str(o, WORKER_FIELD_OUTCOME, step_outcome_to_string(m->step_outcome));
                set_int(o, WORKER_FIELD_DURATION_MS, m->duration_ms);
                if (m->exit_status >= 0)
                        set_int(o, WORKER_FIELD_EXIT_STATUS, m->exit_status);
                if (m->http_status > 0)
                        set_int(o, WORKER_FIELD_HTTP_STATUS, m->http_status);
                if (m->error)
                        set_str(o, WORKER_FIELD_ERROR, m->error);
                break;
        case WORKER_MESSAGE_RUN_EVENT:
                set_str(o, WORKER_FIELD_KIND, m->kind);
                set_str(o, WORKER_FIELD_MESSAGE, m->message);
                break;
        case WORKER_MESSAGE_APPROVAL_REQUESTED:
                set_str(o, WORKER_FIELD_STEP, m->step);
                set_str(o, WORKER_FIELD_PROMPT, m->prompt);
                set_int(o, WORKER_FIELD_EXPIRES_IN_MS, m->expires_in_ms);
                if (m->skippable)
                        json_object_set_new(o, WORKER_FIELD_SKIPPABLE, json_true());
                break;
        case WORKER_MESSAGE_RUN_FINISHED:
                set_str(o, WORKER_FIELD_OUTCOME, run_outcome_to_string(m->run_outcome));
                set_int(o, WORKER_FIELD_DURATION_MS, m->duration_ms);
                set_int(o, WORKER_FIELD_OK, m->ok);
                set_int(o, WORKER_FIELD_FAILED, m->failed);
                set_int(o, WORKER_FIELD_SKIPPED, m->skipped);
                set_int(o, WORKER_FIELD_ROLLBACK_OK, m->rollback_ok);
                set_int(o, WORKER_FIELD_ROLLBACK_FAILED, m->rollback_failed);
                if (m->error)
                        set_str(o, WORKER_FIELD_ERROR, m->error);
                break;
        default:
                break;
        }
        return dump(o, JSON_ENSURE_ASCII, ret);
}

/* A string field: a missing field (or null) leaves *ret; another type is a malformed line. */
static int get_str(json_t *o, const char *key, const char **ret)
{
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = json_string_value(v);
        return 0;
}

/* The fields of a progress line, one row each: what the decoder accepts. The names of modes,
 * phases and outcomes are read as strings and turned into enums afterwards. */
typedef enum FieldType {
        FIELD_STRING,
        FIELD_UNSIGNED, /* unsigned: 0 … UINT32_MAX */
        FIELD_INT64,    /* int64_t: 0 … */
        FIELD_EXIT,     /* int: -1 … INT32_MAX */
        FIELD_LONG,     /* long: 0 … */
        FIELD_BOOL,
} FieldType;

typedef struct Names {
        const char *mode, *phase, *outcome;
} Names;

typedef struct Field {
        const char *key;
        FieldType type;
        bool in_names; /* offset into Names, not WorkerMessage */
        size_t offset;
} Field;

#define F(key, type, member)                                                                                \
        {                                                                                                   \
                key, type, false, offsetof(WorkerMessage, member)                                           \
        }
#define N(key, member)                                                                                      \
        {                                                                                                   \
                key, FIELD_STRING, true, offsetof(Names, member)                                            \
        }
static const Field fields[] = {
        F(WORKER_FIELD_RUN, FIELD_INT64, run),
        F(WORKER_FIELD_PLAYBOOK, FIELD_STRING, playbook),
        F(WORKER_FIELD_KIND, FIELD_STRING, kind),
        N(WORKER_FIELD_MODE, mode),
        F(WORKER_FIELD_TRIGGER, FIELD_STRING, trigger),
        F(WORKER_FIELD_ACTOR, FIELD_STRING, actor),
        F(WORKER_FIELD_STEPS, FIELD_UNSIGNED, steps),
        F(WORKER_FIELD_STEP, FIELD_STRING, step),
        F(WORKER_FIELD_INDEX, FIELD_UNSIGNED, index),
        N(WORKER_FIELD_PHASE, phase),
        F(WORKER_FIELD_TARGET, FIELD_STRING, target),
        F(WORKER_FIELD_ATTEMPT, FIELD_UNSIGNED, attempt),
        F(WORKER_FIELD_DETAIL, FIELD_STRING, detail),
        N(WORKER_FIELD_OUTCOME, outcome),
        F(WORKER_FIELD_DURATION_MS, FIELD_INT64, duration_ms),
        F(WORKER_FIELD_EXIT_STATUS, FIELD_EXIT, exit_status),
        F(WORKER_FIELD_HTTP_STATUS, FIELD_LONG, http_status),
        F(WORKER_FIELD_ERROR, FIELD_STRING, error),
        F(WORKER_FIELD_MESSAGE, FIELD_STRING, message),
        F(WORKER_FIELD_PROMPT, FIELD_STRING, prompt),
        F(WORKER_FIELD_EXPIRES_IN_MS, FIELD_INT64, expires_in_ms),
        F(WORKER_FIELD_SKIPPABLE, FIELD_BOOL, skippable),
        F(WORKER_FIELD_OK, FIELD_UNSIGNED, ok),
        F(WORKER_FIELD_FAILED, FIELD_UNSIGNED, failed),
        F(WORKER_FIELD_SKIPPED, FIELD_UNSIGNED, skipped),
        F(WORKER_FIELD_ROLLBACK_OK, FIELD_UNSIGNED, rollback_ok),
        F(WORKER_FIELD_ROLLBACK_FAILED, FIELD_UNSIGNED, rollback_failed),
};
#undef F
#undef N

static int get_field(json_t *o, const Field *f, void *base)
{
        json_t *v = json_object_get(o, f->key);
        void *p = (char *) base + f->offset;
        json_int_t i;

        if (!v || json_is_null(v))
                return 0; /* absent: the default stays */
        if (f->type == FIELD_STRING)
                return get_str(o, f->key, p);
        if (f->type == FIELD_BOOL) {
                if (!json_is_boolean(v))
                        return -EBADMSG;
                *(bool *) p = json_is_true(v);
                return 0;
        }
        if (!json_is_integer(v))
                return -EBADMSG;
        i = json_integer_value(v);
        switch (f->type) {
        case FIELD_UNSIGNED:
                if (i < 0 || i > (json_int_t) UINT32_MAX)
                        return -EBADMSG;
                *(unsigned *) p = (unsigned) i;
                return 0;
        case FIELD_INT64:
                if (i < 0)
                        return -EBADMSG;
                *(int64_t *) p = i;
                return 0;
        case FIELD_EXIT:
                if (i < -1 || i > INT32_MAX)
                        return -EBADMSG;
                *(int *) p = (int) i;
                return 0;
        case FIELD_LONG:
                if (i < 0 || i > LONG_MAX)
                        return -EBADMSG;
                *(long *) p = (long) i;
                return 0;
        default:
                return -EINVAL;
        }
}

int worker_message_parse(const char *line, WorkerMessage *ret)
{
        WorkerMessage m = WORKER_MESSAGE_INIT(_WORKER_MESSAGE_TYPE_INVALID);
        const char *event = NULL;
        Names names = {};
        json_t *o, *params;
        int r;

        worker_message_done(ret);
        *ret = WORKER_MESSAGE_INIT(_WORKER_MESSAGE_TYPE_INVALID);
        o = line ? json_loads(line, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (!json_is_object(o)) {
                json_decref(o);
                return -EBADMSG;
        }
        m.json_ = o;
        if (get_str(o, WORKER_FIELD_EVENT, &event) < 0 || !event) {
                worker_message_done(&m);
                return -EBADMSG;
        }
        m.type = worker_message_type_from_string(event);
        if (m.type < 0) {
                worker_message_done(&m);
                return -EOPNOTSUPP;
        }

        /* Every field a known event may carry; those it does not carry are simply absent. */
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                r = get_field(o, &fields[i], fields[i].in_names ? (void *) &names : (void *) &m);
                if (r < 0) {
                        worker_message_done(&m);
                        return r;
                }
        }
        params = json_object_get(o, WORKER_FIELD_PARAMS);
        if (json_is_object(params))
                m.params_json = m.params_owned_ = json_dumps(params, JSON_COMPACT | JSON_ENSURE_ASCII);
        else if (params && !json_is_null(params)) {
                worker_message_done(&m);
                return -EBADMSG;
        }

        m.mode = names.mode ? run_mode_from_string(names.mode) : _RUN_MODE_INVALID;
        m.phase = names.phase ? step_phase_from_string(names.phase) : _STEP_PHASE_INVALID;
        if (names.outcome && m.type == WORKER_MESSAGE_RUN_FINISHED)
                m.run_outcome = run_outcome_from_string(names.outcome);
        else if (names.outcome)
                m.step_outcome = step_outcome_from_string(names.outcome);
        *ret = m;
        return 0;
}

WorkerMessage worker_message_run_started(const RunInfo *info)
{
        WorkerMessage m = WORKER_MESSAGE_INIT(WORKER_MESSAGE_RUN_STARTED);

        m.run = info->journal_id;
        m.playbook = info->playbook->name;
        m.kind = playbook_kind_to_string(info->playbook->kind);
        m.mode = info->mode;
        m.trigger = info->trigger;
        m.actor = info->actor;
        m.steps = (unsigned) info->playbook->n_steps;
        m.params_json = info->params_json;
        return m;
}

WorkerMessage worker_message_step(WorkerMessageType type, const RunInfo *info, const StepEvent *ev)
{
        WorkerMessage m = WORKER_MESSAGE_INIT(type);

        m.run = info->journal_id;
        m.step = ev->step->name;
        m.index = (unsigned) ev->step_index + 1;
        m.kind = step_kind_to_string(ev->step->kind);
        m.phase = ev->phase;
        m.target = ev->target;
        m.attempt = ev->attempt;
        m.detail = ev->detail;
        if (type == WORKER_MESSAGE_STEP_FINISHED) {
                m.step_outcome = ev->outcome;
                m.duration_ms = (int64_t) (ev->duration / 1000);
                m.exit_status = ev->exit_status;
                m.http_status = ev->http_status;
                m.error = ev->error;
        }
        return m;
}

void worker_answer_done(WorkerAnswer *a)
{
        json_decref(a->json_);
        *a = (WorkerAnswer){};
}

int worker_answer_format(const WorkerAnswer *a, char **ret)
{
        if (!a->actor || !*a->actor || (a->approve && a->skip))
                return -EINVAL;
        json_t *o =
                json_pack("{s:b, s:s}", WORKER_ANSWER_APPROVE, a->approve, WORKER_ANSWER_ACTOR, a->actor);
        if (o && a->comment)
                set_str(o, WORKER_ANSWER_COMMENT, a->comment);
        if (o && a->skip)
                json_object_set_new(o, WORKER_ANSWER_SKIP, json_true());
        return dump(o, 0, ret);
}

int worker_answer_parse(const char *line, WorkerAnswer *ret)
{
        WorkerAnswer a = {};
        json_t *o, *approve, *skip;

        worker_answer_done(ret);
        o = line ? json_loads(line, JSON_REJECT_DUPLICATES, NULL) : NULL;
        a.json_ = o;
        approve = json_object_get(o, WORKER_ANSWER_APPROVE);
        skip = json_object_get(o, WORKER_ANSWER_SKIP);
        if (!json_is_object(o) || !json_is_boolean(approve) || (skip && !json_is_boolean(skip)) ||
            (json_is_true(approve) && json_is_true(skip)) || get_str(o, WORKER_ANSWER_ACTOR, &a.actor) < 0 ||
            !a.actor || !*a.actor || get_str(o, WORKER_ANSWER_COMMENT, &a.comment) < 0) {
                worker_answer_done(&a);
                return -EBADMSG;
        }
        a.approve = json_is_true(approve);
        a.skip = json_is_true(skip);
        *ret = a;
        return 0;
}

bool worker_trigger_valid(const char *s)
{
        return s && (streq(s, "manual") || streq(s, "auto") || streq(s, "drill") || streq(s, "approved"));
}

void worker_args_done(WorkerArgs *a)
{
        for (size_t i = 0; i < a->n_params; i++) {
                free(a->params[i].name);
                free(a->params[i].value);
        }
        free(a->params);
        *a = (WorkerArgs){};
}

char **worker_args_to_argv(const char *program, const WorkerArgs *a)
{
        char **argv = NULL;
        size_t n = 0;

#define ARG(x) (*(char **) array_push(&argv, &n, sizeof(char *)) = (x))
        ARG(xstrdup(program));
        ARG(xasprintf("--" WORKER_OPT_PROTOCOL "=%u", a->protocol));
        ARG(xasprintf("--" WORKER_OPT_PARENT_PID "=%d", (int) a->parent_pid));
        if (a->config_path)
                ARG(xasprintf("--" WORKER_OPT_CONFIG "=%s", a->config_path));
        if (a->db_path)
                ARG(xasprintf("--" WORKER_OPT_DB "=%s", a->db_path));
        ARG(xasprintf("--" WORKER_OPT_TRIGGER "=%s", strempty(a->trigger)));
        ARG(xasprintf("--" WORKER_OPT_ACTOR "=%s", strempty(a->actor)));
        if (a->incident_id > 0)
                ARG(xasprintf("--" WORKER_OPT_INCIDENT "=%lld", (long long) a->incident_id));
        if (a->dry_run)
                ARG(xstrdup("--" WORKER_OPT_DRY_RUN));
        for (size_t i = 0; i < a->n_params; i++)
                ARG(xasprintf("--" WORKER_OPT_PARAM "=%s=%s", a->params[i].name,
                              strempty(a->params[i].value)));
        if (a->cluster_epoch > 0)
                ARG(xasprintf("--" WORKER_OPT_CLUSTER_EPOCH "=%" PRIu64, a->cluster_epoch));
        if (a->resume)
                ARG(xasprintf("--" WORKER_OPT_RESUME "=%s", a->resume));
        ARG(xstrdup("--")); /* a playbook name can never be taken for an option */
        if (a->playbook || !a->resume)
                ARG(xstrdup(strempty(a->playbook)));
        ARG(NULL);
#undef ARG
        return argv;
}

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *ret)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "--NAME=VALUE": the value when arg is option NAME, else NULL. */
static const char *opt_value(const char *arg, const char *name)
{
        size_t n = strlen(name);
        if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 || arg[2 + n] != '=')
                return NULL;
        return arg + 2 + n + 1;
}

int worker_args_parse(int argc, char *const *argv, WorkerArgs *ret, char **ret_error)
{
        WorkerArgs a = {};
        bool have_protocol = false, have_parent = false, options = true;
        const char *v;
        int64_t n;
        int r = -EINVAL;

        worker_args_done(ret);
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];

                if (!options || arg[0] != '-') {
                        if (a.playbook) {
                                *ret_error =
                                        xasprintf("one playbook only, got '%s' and '%s'", a.playbook, arg);
                                goto fail;
                        }
                        a.playbook = arg;
                } else if (streq(arg, "--"))
                        options = false;
                else if ((v = opt_value(arg, WORKER_OPT_PROTOCOL))) {
                        if (parse_int(v, 1, UINT32_MAX, &n) < 0) {
                                *ret_error =
                                        xasprintf("--" WORKER_OPT_PROTOCOL " wants a version, got '%s'", v);
                                goto fail;
                        }
                        a.protocol = (unsigned) n;
                        have_protocol = true;
                } else if ((v = opt_value(arg, WORKER_OPT_PARENT_PID))) {
                        if (parse_int(v, 1, INT32_MAX, &n) < 0) {
                                *ret_error =
                                        xasprintf("--" WORKER_OPT_PARENT_PID " wants a pid, got '%s'", v);
                                goto fail;
                        }
                        a.parent_pid = (pid_t) n;
                        have_parent = true;
                } else if ((v = opt_value(arg, WORKER_OPT_CONFIG)))
                        a.config_path = v;
                else if ((v = opt_value(arg, WORKER_OPT_DB)))
                        a.db_path = v;
                else if ((v = opt_value(arg, WORKER_OPT_TRIGGER))) {
                        if (!worker_trigger_valid(v)) {
                                *ret_error = xasprintf("--" WORKER_OPT_TRIGGER
                                                       " wants manual, auto, drill or approved, got '%s'",
                                                       v);
                                goto fail;
                        }
                        a.trigger = v;
                } else if ((v = opt_value(arg, WORKER_OPT_ACTOR))) {
                        if (!*v) {
                                *ret_error = xstrdup("--" WORKER_OPT_ACTOR " wants a name");
                                goto fail;
                        }
                        a.actor = v;
                } else if ((v = opt_value(arg, WORKER_OPT_INCIDENT))) {
                        if (parse_int(v, 0, INT64_MAX, &n) < 0) {
                                *ret_error = xasprintf(
                                        "--" WORKER_OPT_INCIDENT " wants an incident id, got '%s'", v);
                                goto fail;
                        }
                        a.incident_id = n;
                } else if (streq(arg, "--" WORKER_OPT_DRY_RUN))
                        a.dry_run = true;
                else if ((v = opt_value(arg, WORKER_OPT_PARAM))) {
                        const char *eq = strchr(v, '=');
                        if (!eq || eq == v) {
                                *ret_error =
                                        xasprintf("--" WORKER_OPT_PARAM " wants NAME=VALUE, got '%s'", v);
                                goto fail;
                        }
                        ParamValue *pv = array_push(&a.params, &a.n_params, sizeof(ParamValue));
                        pv->name = xstrndup(v, (size_t) (eq - v));
                        pv->value = xstrdup(eq + 1);
                } else if ((v = opt_value(arg, WORKER_OPT_CLUSTER_EPOCH))) {
                        if (parse_int(v, 1, INT64_MAX, &n) < 0) {
                                *ret_error = xasprintf(
                                        "--" WORKER_OPT_CLUSTER_EPOCH " wants an epoch (> 0), got '%s'", v);
                                goto fail;
                        }
                        a.cluster_epoch = (uint64_t) n;
                } else if ((v = opt_value(arg, WORKER_OPT_RESUME))) {
                        if (!*v || strchr(v, '/')) {
                                *ret_error = xasprintf("--" WORKER_OPT_RESUME " wants a run id, got '%s'", v);
                                goto fail;
                        }
                        a.resume = v;
                } else {
                        *ret_error = xasprintf("unknown option '%s'", arg);
                        goto fail;
                }
        }

        if (!have_protocol || a.protocol != DROVER_WORKER_PROTOCOL_VERSION) {
                *ret_error = have_protocol
                                     ? xasprintf("protocol %u is not spoken here (this worker speaks %u)",
                                                 a.protocol, DROVER_WORKER_PROTOCOL_VERSION)
                                     : xstrdup("--" WORKER_OPT_PROTOCOL " is missing");
                r = have_protocol ? -EPROTONOSUPPORT : -EINVAL;
                goto fail;
        }
        if (!have_parent || !a.trigger || !a.actor) {
                *ret_error = xasprintf("--%s is missing", !have_parent ? WORKER_OPT_PARENT_PID
                                                          : !a.trigger ? WORKER_OPT_TRIGGER
                                                                       : WORKER_OPT_ACTOR);
                goto fail;
        }
        if (a.resume && a.cluster_epoch == 0) {
                *ret_error = xstrdup("--" WORKER_OPT_RESUME " needs --" WORKER_OPT_CLUSTER_EPOCH);
                goto fail;
        }
        if (a.resume && a.dry_run) {
                *ret_error = xstrdup("--" WORKER_OPT_RESUME " and --" WORKER_OPT_DRY_RUN " do not go together");
                goto fail;
        }
        /* A resumed run's record names its playbook. */
        if ((!a.playbook || !*a.playbook) && !a.resume) {
                *ret_error = xstrdup("no PLAYBOOK given");
                goto fail;
        }
        *ret = a;
        return 0;
fail:
        worker_args_done(&a);
        return r;
}
