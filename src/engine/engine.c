/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine.c — runs one playbook (see engine.h for the contract).
 *
 * Owns: parameter checking, the run's scope (params, steps, targets, secrets, run,
 * host, step), expanding templates, `when`, fan-out with `parallel`, per-attempt
 * deadlines, retries with backoff, judging results against `expect`, `register`,
 * wait_for / approve / sleep / notify, on_failure, reverse-order rollback,
 * cancellation, dry runs, and masking every string before the observer sees it.
 * Does not own: any I/O (the Executor), durability (the EngineObserver), asking a
 * human (the Approver), parsing templates or conditions (playbook/).
 *
 * Single-threaded: one loop drives the executor through submit()/wait(). The only
 * thing that may happen asynchronously is engine_request_cancel() (from a signal
 * handler), which bumps a counter and interrupts the executor's wait().
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <string.h>

#include "engine/engine.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"
#include "shared/strv.h"
#include "shared/time-util.h"

/* How long past an action's deadline we trust the executor to still report it. */
#define EXECUTOR_GRACE_USEC (5 * USEC_PER_SEC)
/* Longest single retry delay, whatever backoff says. */
#define RETRY_DELAY_MAX_USEC (1 * USEC_PER_HOUR)

/* ---------------------------------------------------------------- types */

/* The values one attempt produced: what `register` keeps and `step.*` sees. */
typedef struct ResultValues {
        bool set;
        bool is_http;
        char *out; /* stdout, or the HTTP body */
        char *err;
        int exit_status;
        long http_status;
        json_t *json;
        bool json_tried;
} ResultValues;

typedef struct StepRecord {
        bool ran;             /* acted (not skipped, not failed before acting) */
        StepOutcome outcome;
        ResultValues values;  /* only with register: true */
        char **ok_targets;    /* where it succeeded: host names (ssh) or the target label */
        char **all_targets;
} StepRecord;

typedef struct SecretValue {
        char *name;
        char *value;
} SecretValue;

struct Engine {
        const Config *config;
        const Playbook *playbook;
        RunMode mode;
        char *trigger;
        char *actor;
        Executor executor;
        EngineObserver observer;
        Approver approver;

        char **param_values; /* one per playbook param; NULL = not given, no default */
        char *params_json;

        SecretValue *secrets;
        size_t n_secrets;
        char **masks; /* every secret value (and its JSON-escaped form), longest first */
        size_t n_masks;

        StepRecord *records; /* one per forward step */
        RunInfo info;
        uint64_t next_tag;

        volatile sig_atomic_t cancel_requests;
};

/* The scope of one expansion. */
typedef struct Scope {
        Engine *e;
        const Host *host;    /* host.* (ssh commands) */
        ResultValues *step;  /* step.* (expect.that) */
        char *error;         /* first failure worth a precise message (secret read) */
} Scope;

/* ---------------------------------------------------------------- small helpers */

static void *mfree(void *p)
{
        free(p);
        return NULL;
}

static const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);

        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static char *strdup_trim_newlines(const char *s)
{
        size_t n = strlen(strempty(s));

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        return xstrndup(strempty(s), n);
}

static char *json_escape(const char *s)
{
        StrBuf b = STRBUF_INIT;

        strbuf_put_json_escaped(&b, s, false);
        return strbuf_steal(&b);
}

/* Quote an argv element for display only (never executed through a shell). */
static void shell_quote_append(StrBuf *b, const char *s)
{
        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/.=:,+-@%") ==
                          strlen(s)) {
                strbuf_puts(b, s);
                return;
        }
        strbuf_putc(b, '\'');
        for (const char *p = s; *p; p++) {
                if (*p == '\'')
                        strbuf_puts(b, "'\\''");
                else
                        strbuf_putc(b, *p);
        }
        strbuf_putc(b, '\'');
}

static usec_t engine_now(const Engine *e)
{
        if (e->executor.ops && e->executor.ops->now)
                return e->executor.ops->now(e->executor.userdata);
        return now_usec(CLOCK_MONOTONIC);
}

static usec_t engine_now_realtime(const Engine *e)
{
        if (e->executor.ops && e->executor.ops->now_realtime)
                return e->executor.ops->now_realtime(e->executor.userdata);
        return now_usec(CLOCK_REALTIME);
}

/* A tabletop drill walks the plan with people, like a dry run: nothing acts. */
static bool engine_is_plan_only(const Engine *e)
{
        return e->mode == RUN_MODE_DRY_RUN || e->mode == RUN_MODE_TABLETOP;
}

static bool engine_cancel_pending(const Engine *e, int level)
{
        return e->cancel_requests >= level;
}

static usec_t step_timeout(const Engine *e, const Step *s)
{
        if (s->timeout > 0)
                return s->timeout;
        if (e->config && e->config->step_timeout > 0)
                return e->config->step_timeout;
        return CONFIG_DEFAULT_STEP_TIMEOUT;
}

static size_t engine_output_cap(const Engine *e)
{
        return e->config && e->config->output_cap > 0 ? e->config->output_cap : CONFIG_DEFAULT_OUTPUT_CAP;
}

/* ---------------------------------------------------------------- masking */

static void engine_add_mask_one(Engine *e, const char *v)
{
        size_t i, l;

        if (!v || !*v)
                return;
        for (i = 0; i < e->n_masks; i++)
                if (streq(e->masks[i], v))
                        return;
        /* Longest first: a secret that contains another must be masked whole. */
        l = strlen(v);
        e->masks = xrealloc(e->masks, (e->n_masks + 1) * sizeof(char *));
        for (i = e->n_masks; i > 0 && strlen(e->masks[i - 1]) < l; i--)
                e->masks[i] = e->masks[i - 1];
        e->masks[i] = xstrdup(v);
        e->n_masks++;
}

static void engine_add_mask(Engine *e, const char *v)
{
        _cleanup_free_ char *escaped = NULL;

        engine_add_mask_one(e, v);
        /* The same secret inside a JSON body looks different when it holds quotes etc. */
        if (v) {
                escaped = json_escape(v);
                engine_add_mask_one(e, escaped);
        }
}

char *engine_mask(const Engine *e, const char *s)
{
        StrBuf b = STRBUF_INIT;

        if (!s)
                return NULL;
        if (!e || e->n_masks == 0)
                return xstrdup(s);

        for (const char *p = s; *p;) {
                bool hit = false;

                for (size_t i = 0; i < e->n_masks; i++) {
                        size_t l = strlen(e->masks[i]);

                        if (strncmp(p, e->masks[i], l) == 0) {
                                strbuf_puts(&b, SECRET_MASK);
                                p += l;
                                hit = true;
                                break;
                        }
                }
                if (!hit)
                        strbuf_putc(&b, *p++);
        }
        return strbuf_steal(&b);
}

bool engine_cancel_requested(const Engine *e)
{
        return e && e->cancel_requests > 0;
}

void engine_request_cancel(Engine *e)
{
        if (!e)
                return;
        if (e->cancel_requests < 1000)
                e->cancel_requests = e->cancel_requests + 1;
        if (e->executor.ops && e->executor.ops->interrupt)
                e->executor.ops->interrupt(e->executor.userdata);
}

/* ---------------------------------------------------------------- result values */

static void result_values_done(ResultValues *v)
{
        free(v->out);
        free(v->err);
        if (v->json)
                json_decref(v->json);
        *v = (ResultValues) { .exit_status = -1 };
}

static void result_values_move(ResultValues *dst, ResultValues *src)
{
        result_values_done(dst);
        *dst = *src;
        *src = (ResultValues) { .exit_status = -1 };
}

static json_t *result_values_json(ResultValues *v)
{
        if (!v->json_tried) {
                v->json_tried = true;
                v->json = json_loads(strempty(v->out), JSON_DECODE_ANY, NULL);
        }
        return v->json;
}

static json_t *json_walk(json_t *root, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;
        json_t *cur = root;

        for (char *seg = strtok_r(copy, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save)) {
                if (json_is_object(cur))
                        cur = json_object_get(cur, seg);
                else if (json_is_array(cur) && strspn(seg, "0123456789") == strlen(seg))
                        cur = json_array_get(cur, strtoul(seg, NULL, 10));
                else
                        cur = NULL;
        }
        return cur;
}

static char *json_string_form(json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return xstrndup(json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                return xasprintf("%lld", (long long) json_integer_value(v));
        case JSON_REAL:
                return xasprintf("%g", json_real_value(v));
        case JSON_TRUE:
                return xstrdup("true");
        case JSON_FALSE:
                return xstrdup("false");
        case JSON_NULL:
                return xstrdup("null");
        default: {
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                char *r = xstrdup(strempty(s));
                free(s);
                return r;
        }
        }
}

static int result_values_lookup(ResultValues *v, const char *field, char **ret)
{
        const char *path;

        if (!v || !v->set)
                return -ENODATA;
        if (streq(field, "stdout"))
                *ret = strdup_trim_newlines(v->out);
        else if (streq(field, "stderr"))
                *ret = strdup_trim_newlines(v->err);
        else if (streq(field, "body"))
                *ret = xstrdup(strempty(v->out));
        else if (streq(field, "exit_status"))
                *ret = xasprintf("%d", v->is_http ? -1 : v->exit_status);
        else if (streq(field, "http_status"))
                *ret = xasprintf("%ld", v->is_http ? v->http_status : 0L);
        else if ((path = startswith(field, "json."))) {
                json_t *root = result_values_json(v), *n;

                if (!root)
                        return -ENODATA;
                n = json_walk(root, path);
                if (!n)
                        return -ENODATA;
                *ret = json_string_form(n);
        } else
                return -ENOENT;
        return 0;
}

/* ---------------------------------------------------------------- secrets */

static int engine_get_secret(Engine *e, const char *name, const char **ret, char **ret_error)
{
        const Secret *s;
        char *v = NULL;
        SecretValue *sv;
        int r;

        for (size_t i = 0; i < e->n_secrets; i++)
                if (streq(e->secrets[i].name, name)) {
                        *ret = e->secrets[i].value;
                        return 0;
                }

        s = e->config ? config_find_secret(e->config, name) : NULL;
        if (!s) {
                if (ret_error)
                        *ret_error = xasprintf("cannot read secret %s: not defined in the inventory", name);
                return -ENOENT;
        }
        r = secret_read_value(s, &v);
        if (r < 0) {
                if (ret_error)
                        *ret_error = xasprintf("cannot read secret %s: %s", name, strerror(-r));
                return r;
        }
        /* Mask it the moment it exists in our memory. */
        engine_add_mask(e, v);
        sv = array_push(&e->secrets, &e->n_secrets, sizeof(SecretValue));
        sv->name = xstrdup(name);
        sv->value = v;
        *ret = v;
        return 0;
}

/* ---------------------------------------------------------------- scope lookup */

static int host_field(const Host *h, const char *field, char **ret)
{
        if (!h)
                return -ENOENT;
        if (streq(field, "name"))
                *ret = xstrdup(h->name);
        else if (streq(field, "address"))
                *ret = xstrdup(h->address);
        else if (streq(field, "port"))
                *ret = xasprintf("%u", (unsigned) h->port);
        else if (streq(field, "user"))
                *ret = xstrdup(strempty(h->user));
        else if (streq(field, "site"))
                *ret = xstrdup(strempty(h->site));
        else
                return -ENOENT;
        return 0;
}

static int target_field(Engine *e, const Target *t, const char *field, char **ret)
{
        switch (t->kind) {
        case TARGET_HOST:
                return host_field(config_find_host(e->config, t->ref), field, ret);
        case TARGET_GROUP: {
                const Group *g = config_find_group(e->config, t->ref);

                if (!g)
                        return -ENOENT;
                if (streq(field, "hosts"))
                        *ret = strv_join(g->hosts, " ");
                else if (streq(field, "name"))
                        *ret = xstrdup(g->name);
                else
                        return -ENOENT;
                return 0;
        }
        case TARGET_ENDPOINT: {
                const Endpoint *ep = config_find_endpoint(e->config, t->ref);

                if (!ep)
                        return -ENOENT;
                if (streq(field, "url"))
                        *ret = xstrdup(ep->base_url);
                else if (streq(field, "site"))
                        *ret = xstrdup(strempty(ep->site));
                else if (streq(field, "name"))
                        *ret = xstrdup(ep->name);
                else
                        return -ENOENT;
                return 0;
        }
        default:
                return -ENOENT;
        }
}

/* Resolve a reference parsed (and checked) at load: the typed form says what it names. */
static int scope_lookup(void *userdata, const TemplateRef *ref, char **ret_value, bool *ret_secret)
{
        Scope *sc = userdata;
        Engine *e = sc->e;
        const Playbook *pb = e->playbook;
        bool dry = engine_is_plan_only(e);
        bool secret_dummy;

        if (!ret_secret)
                ret_secret = &secret_dummy;
        *ret_secret = false;

        switch (ref->kind) {
        case REF_PARAM: {
                const Param *p = ref->field ? NULL : playbook_find_param(pb, ref->name);

                if (!p)
                        return -ENOENT;
                /* An optional param without default that was not given expands to "". */
                *ret_value = xstrdup(strempty(e->param_values[p - pb->params]));
                *ret_secret = p->secret;
                return 0;
        }

        case REF_STEPS: {
                size_t i = 0;

                /* Forward steps only: rollback results cannot be referenced. */
                while (i < pb->n_steps && !streq_ptr(pb->steps[i].name, ref->name))
                        i++;
                if (!ref->field || i >= pb->n_steps)
                        return -ENOENT;
                if (dry) {
                        /* Runtime values do not exist in a dry run: show where they go. */
                        *ret_value = xasprintf("<%s>", ref->path);
                        return 0;
                }
                return result_values_lookup(&e->records[i].values, ref->field, ret_value);
        }

        case REF_STEP:
                if (dry) {
                        *ret_value = xasprintf("<%s>", ref->path);
                        return 0;
                }
                if (!sc->step)
                        return -ENOENT;
                return result_values_lookup(sc->step, ref->field, ret_value);

        case REF_TARGET: {
                const Target *t = ref->field ? playbook_find_target(pb, ref->name) : NULL;

                if (!t)
                        return -ENOENT;
                return target_field(e, t, ref->field, ret_value);
        }

        case REF_SECRET: {
                const char *v;
                char *msg = NULL;
                int r;

                r = engine_get_secret(e, ref->name, &v, &msg);
                if (r < 0) {
                        if (!sc->error)
                                sc->error = msg;
                        else
                                free(msg);
                        return r;
                }
                *ret_value = xstrdup(v);
                *ret_secret = true;
                return 0;
        }

        case REF_RUN:
                if (streq(ref->field, "id"))
                        *ret_value = xasprintf("%" PRIi64, e->info.journal_id);
                else if (streq(ref->field, "playbook"))
                        *ret_value = xstrdup(pb->name);
                else if (streq(ref->field, "actor"))
                        *ret_value = xstrdup(strempty(e->actor));
                else if (streq(ref->field, "trigger"))
                        *ret_value = xstrdup(strempty(e->trigger));
                else if (streq(ref->field, "mode"))
                        *ret_value = xstrdup(run_mode_to_string(e->mode));
                else
                        return -ENOENT;
                return 0;

        case REF_HOST:
                return host_field(sc->host, ref->field, ret_value);

        default:
                return -ENOENT;
        }
}

static char *expand_error(Scope *sc, int r, const char *what, const char *bad_ref)
{
        if (sc->error) {
                char *m = sc->error;
                sc->error = NULL;
                return m;
        }
        if (r == -ENODATA) {
                if (bad_ref && startswith(bad_ref, "steps."))
                        return xasprintf("%s: %s has no value (its step was skipped or produced no result)",
                                         what, bad_ref);
                return xasprintf("%s: %s has no value", what, strna(bad_ref));
        }
        if (r == -ENOENT)
                return xasprintf("%s: unknown reference %s", what, strna(bad_ref));
        return xasprintf("%s: cannot expand %s: %s", what, strna(bad_ref), strerror(-r));
}

static int engine_expand(Scope *sc, const Template *t, const char *what, char **ret, char **ret_error)
{
        const char *bad = NULL;
        bool secret = false;
        char *v = NULL;
        int r;

        if (!t->source) {
                *ret = xstrdup("");
                return 0;
        }
        r = template_expand_refs(t, scope_lookup, sc, &v, &secret, &bad);
        if (r < 0) {
                *ret_error = expand_error(sc, r, what, bad);
                return r;
        }
        sc->error = mfree(sc->error);
        *ret = v;
        return 0;
}

static int engine_eval(Scope *sc, const Condition *c, const char *what, bool *ret, char **ret_error)
{
        const char *bad = NULL;
        int r;

        r = condition_eval_refs(c, scope_lookup, sc, ret, &bad);
        if (r < 0) {
                *ret_error = expand_error(sc, r, what, bad);
                return r;
        }
        sc->error = mfree(sc->error); /* a failed lookup the condition did not need */
        return 0;
}

/* Endpoint header values in drover.yaml are plain strings that may hold
 * ${secrets.NAME} (checked at config load); parse them with the one template parser
 * and expand the typed references like any other. */
static int engine_expand_raw(Scope *sc, const char *s, char **ret, char **ret_error)
{
        Template t = {};
        DiagList scratch;
        int r;

        diag_list_init(&scratch);
        r = template_parse(&t, s, NULL, 0, 0, &scratch);
        diag_list_done(&scratch);
        if (r < 0) {
                *ret_error = xstrdup("endpoint header: invalid ${...} reference");
                return r;
        }
        r = engine_expand(sc, &t, "endpoint header", ret, ret_error);
        template_done(&t);
        return r;
}

/* ---------------------------------------------------------------- observer glue */

static int observer_steps_started(Engine *e, StepEvent *ev, size_t n)
{
        if (n == 0 || !e->observer.steps_started)
                return 0;
        return e->observer.steps_started(e->observer.userdata, &e->info, ev, n);
}

static int observer_steps_finished(Engine *e, StepEvent *ev, size_t n)
{
        if (n == 0 || !e->observer.steps_finished)
                return 0;
        return e->observer.steps_finished(e->observer.userdata, &e->info, ev, n);
}

static void observer_event(Engine *e, const char *kind, const char *message)
{
        _cleanup_free_ char *m = engine_mask(e, message);

        if (e->observer.event)
                e->observer.event(e->observer.userdata, &e->info, kind, m);
}

/* One event for a step that is not a fan-out of actions (skip, error, approve,
 * wait_for, sleep). Strings it points to are owned here and masked. */
typedef struct SingleEvent {
        StepEvent ev;
        usec_t mono_start;
        char *detail, *out, *error;
} SingleEvent;

static void single_event_init(Engine *e, SingleEvent *s, const Step *step, size_t index, StepPhase phase,
                              const char *target, const char *detail)
{
        *s = (SingleEvent) {};
        s->detail = engine_mask(e, detail);
        s->mono_start = engine_now(e);
        s->ev = (StepEvent) {
                .step = step,
                .step_index = index,
                .phase = phase,
                .target = target ? target : "-",
                .attempt = 1,
                .detail = s->detail,
                .started = engine_now_realtime(e),
                .outcome = STEP_RUNNING,
                .exit_status = -1,
        };
}

static void single_event_done(SingleEvent *s)
{
        free(s->detail);
        free(s->out);
        free(s->error);
        *s = (SingleEvent) {};
}

static int single_event_start(Engine *e, SingleEvent *s)
{
        return observer_steps_started(e, &s->ev, 1);
}

static int single_event_finish(Engine *e, SingleEvent *s, StepOutcome o, const char *out, const char *error)
{
        free(s->out);
        free(s->error);
        s->out = engine_mask(e, out);
        s->error = engine_mask(e, error);
        s->ev.out = s->out;
        s->ev.error = s->error;
        s->ev.outcome = o;
        s->ev.finished = engine_now_realtime(e);
        s->ev.duration = usec_sub_unsigned(engine_now(e), s->mono_start);
        return observer_steps_finished(e, &s->ev, 1);
}

/* Started and finished at once (skipped, errors before acting). */
static int engine_emit_now(Engine *e, const Step *step, size_t index, StepPhase phase, const char *target,
                           const char *detail, StepOutcome o, const char *out, const char *error)
{
        SingleEvent s;
        int r;

        single_event_init(e, &s, step, index, phase, target, detail);
        r = single_event_start(e, &s);
        if (r >= 0)
                r = single_event_finish(e, &s, o, out, error);
        single_event_done(&s);
        return r;
}

/* ---------------------------------------------------------------- jobs: one action per target */

typedef struct Job {
        char *target;       /* event target: host, endpoint, "local", "-" */
        const Host *host;
        const Endpoint *endpoint;
        ActionKind kind;

        char *command;
        const char *method;
        char *url;
        char **headers;
        char *body;
        char **argv;
        char *detail;       /* masked */
        char *dry_detail;   /* masked, with headers and body, for dry runs */
        Action action;

        unsigned attempt;   /* attempts started so far */
        bool in_flight, done;
        usec_t due;         /* when the next attempt may start */
        usec_t mono_start;

        StepEvent ev;
        char *ev_out, *ev_err, *ev_error;

        StepOutcome outcome; /* final */
        char *error;         /* final, masked */
        ResultValues values; /* of the last result */
} Job;

static void job_done(Job *j)
{
        free(j->target);
        free(j->command);
        free(j->url);
        strv_free(j->headers);
        free(j->body);
        strv_free(j->argv);
        free(j->detail);
        free(j->dry_detail);
        free(j->ev_out);
        free(j->ev_err);
        free(j->ev_error);
        free(j->error);
        result_values_done(&j->values);
        *j = (Job) {};
}

static void jobs_free(Job *jobs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                job_done(&jobs[i]);
        free(jobs);
}

static Job *jobs_push(Job **jobs, size_t *n)
{
        Job *j = array_push(jobs, n, sizeof(Job));

        j->values.exit_status = -1;
        return j;
}

static const Target *engine_find_target(Engine *e, const char *name, char **ret_error)
{
        const Target *t = name ? playbook_find_target(e->playbook, name) : NULL;

        if (!t && ret_error)
                *ret_error = xasprintf("unknown target '%s'", strna(name));
        return t;
}

/* Hosts an ssh step acts on (borrowed pointers), in inventory order. */
static int engine_resolve_hosts(Engine *e, const char *target, const Host ***ret, size_t *ret_n, char **ret_error)
{
        const Target *t = engine_find_target(e, target, ret_error);
        const Host **hosts = NULL;
        size_t n = 0;

        if (!t)
                return -ENOENT;
        if (t->kind == TARGET_HOST) {
                const Host *h = config_find_host(e->config, t->ref);

                if (!h) {
                        *ret_error = xasprintf("host '%s' is not in the inventory", t->ref);
                        return -ENOENT;
                }
                hosts = xmalloc(sizeof(Host *));
                hosts[n++] = h;
        } else if (t->kind == TARGET_GROUP) {
                const Group *g = config_find_group(e->config, t->ref);

                if (!g) {
                        *ret_error = xasprintf("group '%s' is not in the inventory", t->ref);
                        return -ENOENT;
                }
                hosts = xcalloc(g->n_hosts + 1, sizeof(Host *));
                for (size_t i = 0; i < g->n_hosts; i++) {
                        const Host *h = config_find_host(e->config, g->hosts[i]);

                        if (!h) {
                                free(hosts);
                                *ret_error = xasprintf("host '%s' of group '%s' is not in the inventory",
                                                       g->hosts[i], g->name);
                                return -ENOENT;
                        }
                        hosts[n++] = h;
                }
        } else {
                *ret_error = xasprintf("target '%s' is not a host or group", target);
                return -EINVAL;
        }
        *ret = hosts;
        *ret_n = n;
        return 0;
}

static char *url_join(const char *base, const char *path)
{
        size_t bl = strlen(base);

        if (startswith(path, "http://") || startswith(path, "https://"))
                return xstrdup(path);
        while (bl > 0 && base[bl - 1] == '/')
                bl--;
        if (!*path)
                return xstrndup(base, bl);
        return xasprintf("%.*s%s%s", (int) bl, base, path[0] == '/' ? "" : "/", path);
}

static bool headers_have(char *const *headers, const char *name)
{
        size_t l = strlen(name);

        for (size_t i = 0; headers && headers[i]; i++)
                if (strncasecmp(headers[i], name, l) == 0 && headers[i][l] == ':')
                        return true;
        return false;
}

static int job_add_endpoint_headers(Scope *sc, Job *j, const Endpoint *ep, char **ret_error)
{
        for (size_t i = 0; ep && i < ep->n_headers; i++) {
                _cleanup_free_ char *v = NULL;
                int r;

                r = engine_expand_raw(sc, strempty(ep->headers[i].value), &v, ret_error);
                if (r < 0)
                        return r;
                strv_push(&j->headers, xasprintf("%s: %s", ep->headers[i].name, v));
        }
        return 0;
}

static void job_finish_http_detail(Engine *e, Job *j)
{
        StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *plain = xasprintf("%s %s", j->method, j->url);

        j->detail = engine_mask(e, plain);
        strbuf_puts(&b, plain);
        for (size_t i = 0; j->headers && j->headers[i]; i++)
                strbuf_printf(&b, "\n%s", j->headers[i]);
        if (j->body)
                strbuf_printf(&b, "\n\n%s", j->body);
        _cleanup_free_ char *full = strbuf_steal(&b);
        j->dry_detail = engine_mask(e, full);

        j->action.kind = ACTION_HTTP;
        j->action.endpoint = j->endpoint;
        j->action.method = j->method;
        j->action.url = j->url;
        j->action.headers = j->headers;
        j->action.body = j->body;
        j->action.body_len = j->body ? strlen(j->body) : 0;
}

static int engine_build_http_job(Engine *e, const Step *step, Job **jobs, size_t *n, char **ret_error)
{
        const HttpAction *h = &step->http;
        Scope sc = { .e = e };
        _cleanup_free_ char *path = NULL;
        const Endpoint *ep = NULL;
        Job *j;
        int r;

        if (h->target) {
                const Target *t = engine_find_target(e, h->target, ret_error);

                if (!t)
                        return -ENOENT;
                ep = config_find_endpoint(e->config, t->ref);
                if (!ep) {
                        *ret_error = xasprintf("endpoint '%s' is not in the inventory", t->ref);
                        return -ENOENT;
                }
        }
        r = engine_expand(&sc, &h->url, "url", &path, ret_error);
        if (r < 0)
                return r;

        j = jobs_push(jobs, n);
        j->kind = ACTION_HTTP;
        j->endpoint = ep;
        j->target = xstrdup(ep ? ep->name : "-");
        j->method = h->method ? h->method : "GET";
        j->url = ep ? url_join(ep->base_url, path) : TAKE_PTR(path);

        r = job_add_endpoint_headers(&sc, j, ep, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < h->n_headers; i++) {
                _cleanup_free_ char *v = NULL;

                r = engine_expand(&sc, &h->headers[i].value, "header", &v, ret_error);
                if (r < 0)
                        return r;
                strv_push(&j->headers, xasprintf("%s: %s", h->headers[i].name, v));
        }
        if (h->json_body.source) {
                /* JSON text whose string leaves hold the references; the Template is
                 * marked json_escape, so template_expand() escapes each value itself. */
                r = engine_expand(&sc, &h->json_body, "json body", &j->body, ret_error);
                if (r < 0)
                        return r;
                if (!headers_have(j->headers, "Content-Type"))
                        strv_push(&j->headers, xstrdup("Content-Type: application/json"));
        } else if (h->body.source) {
                r = engine_expand(&sc, &h->body, "body", &j->body, ret_error);
                if (r < 0)
                        return r;
        }
        if (!j->headers)
                j->headers = xcalloc(1, sizeof(char *));
        job_finish_http_detail(e, j);
        return 0;
}

static int engine_build_notify_job(Engine *e, const Step *step, Job **jobs, size_t *n, char **ret_error)
{
        const NotifyAction *na = &step->notify;
        Scope sc = { .e = e };
        _cleanup_free_ char *msg = NULL, *path = NULL;
        const Endpoint *ep = NULL;
        StrBuf b = STRBUF_INIT;
        Job *j;
        int r;

        if (na->target) {
                const Target *t = engine_find_target(e, na->target, ret_error);

                if (!t)
                        return -ENOENT;
                ep = config_find_endpoint(e->config, t->ref);
                if (!ep) {
                        *ret_error = xasprintf("endpoint '%s' is not in the inventory", t->ref);
                        return -ENOENT;
                }
        }
        r = engine_expand(&sc, &na->url, "url", &path, ret_error);
        if (r < 0)
                return r;
        if (!ep && !startswith(path, "http://") && !startswith(path, "https://")) {
                *ret_error = xstrdup("notify needs an endpoint target or an absolute url");
                return -EINVAL;
        }
        r = engine_expand(&sc, &na->message, "message", &msg, ret_error);
        if (r < 0)
                return r;

        j = jobs_push(jobs, n);
        j->kind = ACTION_HTTP;
        j->endpoint = ep;
        j->target = xstrdup(ep ? ep->name : "-");
        j->method = "POST";
        j->url = ep ? url_join(ep->base_url, path) : TAKE_PTR(path);

        strbuf_puts(&b, "{\"text\":\"");
        strbuf_put_json_escaped(&b, msg, false);
        strbuf_puts(&b, "\",\"playbook\":\"");
        strbuf_put_json_escaped(&b, e->playbook->name, false);
        strbuf_printf(&b, "\",\"run\":%" PRIi64 ",\"trigger\":\"", e->info.journal_id);
        strbuf_put_json_escaped(&b, strempty(e->trigger), false);
        strbuf_puts(&b, "\"}");
        j->body = strbuf_steal(&b);

        r = job_add_endpoint_headers(&sc, j, ep, ret_error);
        if (r < 0)
                return r;
        if (!headers_have(j->headers, "Content-Type"))
                strv_push(&j->headers, xstrdup("Content-Type: application/json"));
        job_finish_http_detail(e, j);
        return 0;
}

static int engine_build_local_job(Engine *e, const Step *step, Job **jobs, size_t *n, char **ret_error)
{
        const LocalAction *l = &step->local;
        Scope sc = { .e = e };
        StrBuf b = STRBUF_INIT;
        Job *j;
        int r;

        j = jobs_push(jobs, n);
        j->kind = ACTION_LOCAL;
        j->target = xstrdup("local");
        if (l->shell.source) {
                _cleanup_free_ char *cmd = NULL;

                r = engine_expand(&sc, &l->shell, "shell", &cmd, ret_error);
                if (r < 0)
                        return r;
                strv_push(&j->argv, xstrdup("/bin/sh"));
                strv_push(&j->argv, xstrdup("-c"));
                strv_push(&j->argv, TAKE_PTR(cmd));
        } else {
                for (size_t i = 0; i < l->argc; i++) {
                        char *v = NULL;

                        r = engine_expand(&sc, &l->argv[i], "argv", &v, ret_error);
                        if (r < 0)
                                return r;
                        strv_push(&j->argv, v);
                }
        }
        if (!j->argv) {
                *ret_error = xstrdup("local step has no command");
                return -EINVAL;
        }
        for (size_t i = 0; j->argv[i]; i++) {
                if (i > 0)
                        strbuf_putc(&b, ' ');
                shell_quote_append(&b, j->argv[i]);
        }
        _cleanup_free_ char *plain = strbuf_steal(&b);
        j->detail = engine_mask(e, plain);
        j->dry_detail = xstrdup(j->detail);
        j->action.kind = ACTION_LOCAL;
        j->action.argv = j->argv;
        return 0;
}

/* host_filter: when non-NULL, only hosts in it (rollback on the hosts where the
 * forward step succeeded). */
static int engine_build_ssh_jobs(Engine *e, const Step *step, char *const *host_filter, Job **jobs, size_t *n,
                                 char **ret_error)
{
        _cleanup_free_ const Host **hosts = NULL;
        size_t n_hosts = 0;
        int r;

        r = engine_resolve_hosts(e, step->ssh.target, &hosts, &n_hosts, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_hosts; i++) {
                Scope sc = { .e = e, .host = hosts[i] };
                Job *j;

                if (host_filter && !strv_contains(host_filter, hosts[i]->name))
                        continue;
                j = jobs_push(jobs, n);
                j->kind = ACTION_SSH;
                j->host = hosts[i];
                j->target = xstrdup(hosts[i]->name);
                r = engine_expand(&sc, &step->ssh.command, "command", &j->command, ret_error);
                if (r < 0)
                        return r;
                j->detail = engine_mask(e, j->command);
                j->dry_detail = xstrdup(j->detail);
                j->action.kind = ACTION_SSH;
                j->action.host = j->host;
                j->action.command = j->command;
        }
        return 0;
}

static int engine_build_jobs(Engine *e, const Step *step, char *const *host_filter, Job **ret, size_t *ret_n,
                             char **ret_error)
{
        Job *jobs = NULL;
        size_t n = 0;
        int r;

        switch (step->kind) {
        case STEP_SSH:
                r = engine_build_ssh_jobs(e, step, host_filter, &jobs, &n, ret_error);
                break;
        case STEP_HTTP:
                r = engine_build_http_job(e, step, &jobs, &n, ret_error);
                break;
        case STEP_LOCAL:
                r = engine_build_local_job(e, step, &jobs, &n, ret_error);
                break;
        case STEP_NOTIFY:
                r = engine_build_notify_job(e, step, &jobs, &n, ret_error);
                break;
        default:
                *ret_error = xasprintf("step kind %s has no actions", strna(step_kind_to_string(step->kind)));
                r = -EINVAL;
        }
        if (r < 0) {
                jobs_free(jobs, n);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                jobs[i].action.output_cap = engine_output_cap(e);
        *ret = jobs;
        *ret_n = n;
        return 0;
}

/* ---------------------------------------------------------------- judging a result */

static bool http_status_ok(const Expect *x, long status)
{
        if (x->n_statuses == 0)
                return status >= 200 && status <= 299;
        for (size_t i = 0; i < x->n_statuses; i++)
                if (x->statuses[i] == status)
                        return true;
        return false;
}

static StepOutcome engine_judge(Engine *e, const Step *step, Job *j, const ActionResult *res, char **ret_error)
{
        const Expect *x = &step->expect;
        bool is_http = j->kind == ACTION_HTTP;
        const char *what = is_http ? "body" : "output";
        char buf[FORMAT_DURATION_MAX];

        result_values_done(&j->values);
        switch (res->status) {
        case ACTION_DONE:
                break;
        case ACTION_TIMEOUT:
                *ret_error = xasprintf("timed out after %s%s%s", format_duration(buf, step_timeout(e, step)),
                                       res->error ? ": " : "", strempty(res->error));
                return STEP_TIMEOUT;
        case ACTION_CANCELLED:
                *ret_error = xstrdup("cancelled by operator");
                return STEP_CANCELLED;
        default:
                *ret_error = xasprintf("%s: %s", strna(action_status_to_string(res->status)),
                                       res->error ? res->error : "no details");
                return STEP_ERROR;
        }

        j->values = (ResultValues) {
                .set = true,
                .is_http = is_http,
                .out = xstrdup(strempty(res->out)),
                .err = xstrdup(strempty(res->err)),
                .exit_status = res->exit_status,
                .http_status = res->http_status,
        };

        if (is_http) {
                if (!http_status_ok(x, res->http_status)) {
                        StrBuf b = STRBUF_INIT;

                        if (x->n_statuses == 0)
                                strbuf_puts(&b, "2xx");
                        for (size_t i = 0; i < x->n_statuses; i++)
                                strbuf_printf(&b, "%s%d", i > 0 ? ", " : "", x->statuses[i]);
                        *ret_error = xasprintf("HTTP status %ld (expected %s)", res->http_status, strbuf_str(&b));
                        strbuf_done(&b);
                        return STEP_FAILED;
                }
        } else {
                int want = x->has_exit_status ? x->exit_status : 0;

                if (res->exit_signal) {
                        *ret_error = xasprintf("killed by signal %s", res->exit_signal);
                        return STEP_FAILED;
                }
                if (res->exit_status != want) {
                        *ret_error = xasprintf("exit status %d (expected %d)", res->exit_status, want);
                        return STEP_FAILED;
                }
        }

        if (x->contains.source) {
                Scope sc = { .e = e, .host = j->host, .step = &j->values };
                _cleanup_free_ char *c = NULL;

                if (engine_expand(&sc, &x->contains, "expect.contains", &c, ret_error) < 0)
                        return STEP_ERROR;
                if (!strstr(j->values.out, c)) {
                        *ret_error = xasprintf("%s does not contain \"%s\"", what, c);
                        return STEP_FAILED;
                }
        }

        if (x->matches) {
                regex_t re;
                int rc;

                rc = regcomp(&re, x->matches, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
                if (rc != 0) {
                        *ret_error = xasprintf("expect.matches: invalid regular expression /%s/", x->matches);
                        return STEP_ERROR;
                }
                rc = regexec(&re, j->values.out, 0, NULL, 0);
                regfree(&re);
                if (rc != 0) {
                        *ret_error = xasprintf("%s does not match /%s/", what, x->matches);
                        return STEP_FAILED;
                }
        }

        if (x->n_json > 0) {
                json_t *root = result_values_json(&j->values);

                if (!root) {
                        *ret_error = xasprintf("%s is not JSON", what);
                        return STEP_FAILED;
                }
                for (size_t i = 0; i < x->n_json; i++) {
                        Scope sc = { .e = e, .host = j->host, .step = &j->values };
                        _cleanup_free_ char *want = NULL, *got = NULL;
                        json_t *node = json_walk(root, x->json[i].path);

                        if (engine_expand(&sc, &x->json[i].value, "expect.json", &want, ret_error) < 0)
                                return STEP_ERROR;
                        if (!node) {
                                *ret_error = xasprintf("json %s is missing (expected \"%s\")", x->json[i].path,
                                                       want);
                                return STEP_FAILED;
                        }
                        got = json_string_form(node);
                        if (!streq(got, want)) {
                                *ret_error = xasprintf("json %s is \"%s\" (expected \"%s\")", x->json[i].path, got,
                                                       want);
                                return STEP_FAILED;
                        }
                }
        }

        if (x->that.source) {
                Scope sc = { .e = e, .host = j->host, .step = &j->values };
                bool ok = false;

                if (engine_eval(&sc, &x->that, "expect.that", &ok, ret_error) < 0)
                        return STEP_ERROR;
                if (!ok) {
                        *ret_error = xasprintf("expect.that is false: %s", x->that.source);
                        return STEP_FAILED;
                }
        }
        return STEP_OK;
}

/* ---------------------------------------------------------------- running a set of jobs */

typedef struct JobSet {
        const Step *step;
        size_t step_index;
        StepPhase phase;
        Job *jobs;
        size_t n;
        unsigned parallel;
        unsigned retries;
        bool quiet;          /* wait_for checks: no events of their own */
        int cancel_level;    /* number of cancel requests that cancel this set */
        usec_t cap_deadline; /* no attempt may end later (wait_for); USEC_INFINITY = none */

        size_t n_flight, n_done;
        StepEvent *fin;      /* finished events waiting to be reported */
        size_t n_fin;
        bool cancelled;
} JobSet;

static usec_t retry_delay(const Step *s, unsigned attempt)
{
        double backoff = s->backoff >= 1.0 ? s->backoff : 1.0;
        double d = (double) s->retry_delay * pow(backoff, (double) (attempt - 1));

        if (!(d < (double) RETRY_DELAY_MAX_USEC))
                return RETRY_DELAY_MAX_USEC;
        return (usec_t) d;
}

/* Record how an attempt ended; schedule a retry or mark the job done. Takes error. */
static void job_complete(Engine *e, JobSet *js, Job *j, StepOutcome o, char *error, const ActionResult *res)
{
        usec_t now = engine_now(e);

        free(j->ev_out);
        free(j->ev_err);
        free(j->ev_error);
        j->ev_out = res ? engine_mask(e, res->out) : NULL;
        j->ev_err = res ? engine_mask(e, res->err) : NULL;
        j->ev_error = engine_mask(e, error);
        free(error);

        j->ev.outcome = o;
        j->ev.out = j->ev_out;
        j->ev.err = j->ev_err;
        j->ev.error = j->ev_error;
        j->ev.finished = engine_now_realtime(e);
        if (res && res->finished > res->started)
                j->ev.duration = res->finished - res->started;
        else
                j->ev.duration = usec_sub_unsigned(now, j->mono_start);
        if (res && res->status == ACTION_DONE) {
                j->ev.exit_status = j->kind == ACTION_HTTP ? -1 : res->exit_status;
                j->ev.http_status = j->kind == ACTION_HTTP ? res->http_status : 0;
        }

        if (o != STEP_OK && o != STEP_CANCELLED && j->attempt <= js->retries && !js->cancelled &&
            !engine_cancel_pending(e, js->cancel_level)) {
                j->due = usec_add(now, retry_delay(js->step, j->attempt));
        } else {
                j->done = true;
                j->outcome = o;
                free(j->error);
                j->error = xstrdup(j->ev_error);
                js->n_done++;
        }
        if (!js->quiet)
                js->fin[js->n_fin++] = j->ev;
}

static Job *jobset_find_tag(JobSet *js, uint64_t tag)
{
        for (size_t i = 0; i < js->n; i++)
                if (js->jobs[i].in_flight && js->jobs[i].action.tag == tag)
                        return &js->jobs[i];
        return NULL;
}

static int jobset_flush(Engine *e, JobSet *js)
{
        int r;

        if (js->n_fin == 0)
                return 0;
        r = observer_steps_finished(e, js->fin, js->n_fin);
        js->n_fin = 0;
        return r;
}

static usec_t jobset_latest_deadline(JobSet *js)
{
        usec_t m = 0;

        for (size_t i = 0; i < js->n; i++)
                if (js->jobs[i].in_flight)
                        m = MAX(m, js->jobs[i].action.deadline);
        return m;
}

/* Cancel whatever is in flight and collect the results. report: record them as
 * STEP_CANCELLED (operator cancel); otherwise drop them (infrastructure failure). */
static int jobset_cancel(Engine *e, JobSet *js, bool report)
{
        const ExecutorOps *ops = e->executor.ops;

        js->cancelled = true;
        if (js->n_flight > 0)
                ops->cancel_all(e->executor.userdata);

        while (js->n_flight > 0) {
                /* Cancelled actions end promptly; never wait past their deadlines + grace. */
                usec_t until = usec_add(MAX(jobset_latest_deadline(js), engine_now(e)), EXECUTOR_GRACE_USEC);
                ActionResult res = { .exit_status = -1 };
                Job *j;
                int r;

                r = ops->wait(e->executor.userdata, until, &res);
                if (r == -EINTR)
                        continue;
                if (r < 0) {
                        /* The executor is not answering: give up on what is left. */
                        for (size_t i = 0; i < js->n; i++) {
                                Job *k = &js->jobs[i];

                                if (!k->in_flight)
                                        continue;
                                k->in_flight = false;
                                js->n_flight--;
                                if (report)
                                        job_complete(e, js, k, STEP_CANCELLED,
                                                     xstrdup("cancelled by operator; executor did not return"),
                                                     NULL);
                        }
                        break;
                }
                j = jobset_find_tag(js, res.tag);
                if (j) {
                        j->in_flight = false;
                        js->n_flight--;
                        if (report) {
                                /* A result that raced the cancel still counts as what it was. */
                                char *err = NULL;
                                StepOutcome o = res.status == ACTION_DONE ? engine_judge(e, js->step, j, &res, &err)
                                                                          : STEP_CANCELLED;
                                if (o != STEP_OK && o != STEP_CANCELLED) {
                                        free(err);
                                        err = NULL;
                                        o = STEP_CANCELLED;
                                }
                                if (o == STEP_CANCELLED && !err)
                                        err = xstrdup("cancelled by operator");
                                job_complete(e, js, j, o, err, &res);
                        }
                }
                action_result_done(&res);
        }

        /* Jobs that never started or were waiting for a retry end as cancelled, unreported. */
        for (size_t i = 0; i < js->n; i++) {
                Job *j = &js->jobs[i];

                if (!j->done) {
                        j->done = true;
                        j->outcome = STEP_CANCELLED;
                        free(j->error);
                        j->error = xstrdup("cancelled by operator");
                        js->n_done++;
                }
        }
        return report ? jobset_flush(e, js) : 0;
}

static int jobset_run(Engine *e, JobSet *js)
{
        const ExecutorOps *ops = e->executor.ops;
        _cleanup_free_ StepEvent *batch = xcalloc(js->n + 1, sizeof(StepEvent));
        _cleanup_free_ Job **bjobs = xcalloc(js->n + 1, sizeof(Job *));
        _cleanup_free_ StepEvent *fin = xcalloc(js->n + 1, sizeof(StepEvent));
        unsigned parallel = js->parallel > 0 ? js->parallel : PLAYBOOK_DEFAULT_PARALLEL;
        int r;

        js->fin = fin;
        js->n_fin = 0;

        while (js->n_done < js->n) {
                usec_t now = engine_now(e), until = USEC_INFINITY;
                ActionResult res = { .exit_status = -1 };
                size_t nb = 0;

                if (engine_cancel_pending(e, js->cancel_level)) {
                        r = jobset_cancel(e, js, !js->quiet);
                        js->fin = NULL;
                        return r;
                }

                /* Start every attempt that is due, up to `parallel` in flight. */
                for (size_t i = 0; i < js->n; i++) {
                        Job *j = &js->jobs[i];

                        if (j->done || j->in_flight || j->due > now)
                                continue;
                        if (js->n_flight + nb >= parallel)
                                break;
                        bjobs[nb++] = j;
                }
                if (nb > 0) {
                        usec_t rt = engine_now_realtime(e);

                        for (size_t k = 0; k < nb; k++) {
                                Job *j = bjobs[k];

                                j->attempt++;
                                j->ev = (StepEvent) {
                                        .step = js->step,
                                        .step_index = js->step_index,
                                        .phase = js->phase,
                                        .target = j->target,
                                        .attempt = j->attempt,
                                        .detail = j->detail,
                                        .started = rt,
                                        .outcome = STEP_RUNNING,
                                        .exit_status = -1,
                                };
                                batch[k] = j->ev;
                        }
                        /* Durable before anything acts: one call for the whole batch. */
                        if (!js->quiet) {
                                r = observer_steps_started(e, batch, nb);
                                if (r < 0) {
                                        (void) jobset_cancel(e, js, false);
                                        js->fin = NULL;
                                        return r;
                                }
                        }
                        for (size_t k = 0; k < nb; k++) {
                                Job *j = bjobs[k];

                                j->ev.journal_id = batch[k].journal_id;
                                j->action.tag = ++e->next_tag;
                                j->action.deadline = MIN(usec_add(now, step_timeout(e, js->step)), js->cap_deadline);
                                j->mono_start = now;
                                r = ops->submit(e->executor.userdata, &j->action);
                                if (r < 0) {
                                        job_complete(e, js, j, STEP_ERROR,
                                                     xasprintf("cannot start: %s", strerror(-r)), NULL);
                                        continue;
                                }
                                j->in_flight = true;
                                js->n_flight++;
                        }
                }
                r = jobset_flush(e, js);
                if (r < 0)
                        goto infra;
                if (js->n_done >= js->n)
                        break;

                /* Sleep until the earliest of: a retry due, an action's deadline + grace. */
                for (size_t i = 0; i < js->n; i++) {
                        Job *j = &js->jobs[i];

                        if (j->in_flight)
                                until = MIN(until, usec_add(j->action.deadline, EXECUTOR_GRACE_USEC));
                        else if (!j->done && js->n_flight < parallel)
                                until = MIN(until, j->due);
                }
                if (until == USEC_INFINITY)
                        until = usec_add(now, USEC_PER_SEC); /* defensive: never block forever */

                r = ops->wait(e->executor.userdata, until, &res);
                if (r == -EINTR)
                        continue; /* the loop head looks at the cancel counter */
                if (r == -ETIME) {
                        now = engine_now(e);
                        for (size_t i = 0; i < js->n; i++) {
                                Job *j = &js->jobs[i];

                                if (!j->in_flight || usec_add(j->action.deadline, EXECUTOR_GRACE_USEC) > now)
                                        continue;
                                j->in_flight = false;
                                js->n_flight--;
                                job_complete(e, js, j, STEP_TIMEOUT, xstrdup("executor did not return"), NULL);
                        }
                        r = jobset_flush(e, js);
                        if (r < 0)
                                goto infra;
                        continue;
                }
                if (r < 0)
                        goto infra;

                /* Drain whatever else is ready, report it in one call. */
                do {
                        Job *j = jobset_find_tag(js, res.tag);

                        if (j) {
                                char *err = NULL;
                                StepOutcome o;

                                j->in_flight = false;
                                js->n_flight--;
                                o = engine_judge(e, js->step, j, &res, &err);
                                job_complete(e, js, j, o, err, &res);
                        }
                        action_result_done(&res);
                        res = (ActionResult) { .exit_status = -1 };
                } while (ops->wait(e->executor.userdata, 0, &res) == 0);

                r = jobset_flush(e, js);
                if (r < 0)
                        goto infra;
        }
        js->fin = NULL;
        return 0;

infra:
        (void) jobset_cancel(e, js, false);
        js->fin = NULL;
        return r;
}

/* ---------------------------------------------------------------- one step */

typedef struct StepRun {
        StepOutcome outcome;
        char *error;          /* masked */
        char **ok_targets;
        char **all_targets;
        ResultValues values;  /* the single target's last result (for register) */
} StepRun;

static void step_run_done(StepRun *s)
{
        free(s->error);
        strv_free(s->ok_targets);
        strv_free(s->all_targets);
        result_values_done(&s->values);
        *s = (StepRun) {};
}

static void step_run_from_jobs(Engine *e, StepRun *sr, JobSet *js)
{
        size_t n_bad = 0;
        StrBuf b = STRBUF_INIT;
        const Job *first_bad = NULL;

        sr->outcome = STEP_OK;
        for (size_t i = 0; i < js->n; i++) {
                Job *j = &js->jobs[i];

                strv_push(&sr->all_targets, xstrdup(j->target));
                if (j->outcome == STEP_OK) {
                        strv_push(&sr->ok_targets, xstrdup(j->target));
                        continue;
                }
                if (!first_bad)
                        first_bad = j;
                n_bad++;
                strbuf_printf(&b, "%s%s (%s)", n_bad > 1 ? ", " : "", j->target, strempty(j->error));
        }
        if (js->cancelled)
                sr->outcome = STEP_CANCELLED;
        else if (first_bad)
                sr->outcome = first_bad->outcome;

        if (first_bad) {
                if (js->cancelled)
                        sr->error = xstrdup("cancelled by operator");
                else if (js->n == 1)
                        sr->error = xstrdup(strempty(first_bad->error));
                else
                        sr->error = xasprintf("failed on %zu of %zu targets: %s", n_bad, js->n, strbuf_str(&b));
        }
        strbuf_done(&b);
        if (js->n == 1)
                result_values_move(&sr->values, &js->jobs[0].values);
        (void) e;
}

static unsigned step_parallel(const Step *s)
{
        return s->kind == STEP_SSH ? s->ssh.parallel : 1;
}

static int engine_exec_jobs_step(Engine *e, const Step *step, size_t index, StepPhase phase,
                                 char *const *host_filter, int cancel_level, StepRun *sr)
{
        Job *jobs = NULL;
        size_t n = 0;
        char *error = NULL;
        JobSet js;
        int r;

        r = engine_build_jobs(e, step, host_filter, &jobs, &n, &error);
        if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = engine_mask(e, error);
                free(error);
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }
        if (n == 0) {
                /* A rollback whose forward step succeeded nowhere it applies. */
                sr->outcome = STEP_SKIPPED;
                jobs_free(jobs, n);
                return 0;
        }
        js = (JobSet) {
                .step = step,
                .step_index = index,
                .phase = phase,
                .jobs = jobs,
                .n = n,
                .parallel = step_parallel(step),
                .retries = step->retries,
                .cancel_level = cancel_level,
                .cap_deadline = USEC_INFINITY,
        };
        r = jobset_run(e, &js);
        if (r >= 0)
                step_run_from_jobs(e, sr, &js);
        jobs_free(jobs, n);
        return r;
}

/* Sleep on the executor's clock with nothing in flight. */
static int engine_sleep_until(Engine *e, usec_t until, int cancel_level, bool *ret_cancelled)
{
        const ExecutorOps *ops = e->executor.ops;

        *ret_cancelled = false;
        for (;;) {
                ActionResult res = { .exit_status = -1 };
                int r;

                if (engine_cancel_pending(e, cancel_level)) {
                        *ret_cancelled = true;
                        return 0;
                }
                if (engine_now(e) >= until)
                        return 0;
                r = ops->wait(e->executor.userdata, until, &res);
                if (r == 0) {
                        action_result_done(&res); /* a straggler we already gave up on */
                        continue;
                }
                if (r == -ETIME || r == -EINTR)
                        continue;
                return r;
        }
}

static int engine_exec_sleep(Engine *e, const Step *step, size_t index, StepPhase phase, int cancel_level,
                             StepRun *sr)
{
        char buf[FORMAT_DURATION_MAX];
        _cleanup_free_ char *detail = xasprintf("sleep %s", format_duration(buf, step->sleep));
        SingleEvent s;
        bool cancelled;
        int r;

        single_event_init(e, &s, step, index, phase, "-", detail);
        r = single_event_start(e, &s);
        if (r < 0)
                goto finish;
        r = engine_sleep_until(e, usec_add(engine_now(e), step->sleep), cancel_level, &cancelled);
        if (r < 0)
                goto finish;
        sr->outcome = cancelled ? STEP_CANCELLED : STEP_OK;
        if (cancelled)
                sr->error = xstrdup("cancelled by operator");
        strv_push(&sr->ok_targets, xstrdup("-"));
        strv_push(&sr->all_targets, xstrdup("-"));
        r = single_event_finish(e, &s, sr->outcome, NULL, sr->error);
finish:
        single_event_done(&s);
        return r;
}

static int engine_exec_wait_for(Engine *e, const Step *step, size_t index, StepPhase phase, int cancel_level,
                                StepRun *sr)
{
        const Step *check = step->wait_for.check;
        usec_t interval = step->wait_for.interval > 0 ? step->wait_for.interval : PLAYBOOK_DEFAULT_WAIT_INTERVAL;
        usec_t deadline = usec_add(engine_now(e), step_timeout(e, step));
        _cleanup_free_ char *last_error = NULL, *detail = NULL, *target = NULL;
        char buf[FORMAT_DURATION_MAX], buf2[FORMAT_DURATION_MAX];
        SingleEvent s = {};
        unsigned k = 0;
        int r = 0;

        if (!check) {
                sr->outcome = STEP_ERROR;
                sr->error = xstrdup("wait_for has no check");
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }

        for (;;) {
                Job *jobs = NULL;
                size_t n = 0;
                char *error = NULL;
                JobSet js;
                bool all_ok = true, cancelled = false;
                usec_t next;

                r = engine_build_jobs(e, check, NULL, &jobs, &n, &error);
                if (r < 0) {
                        sr->outcome = STEP_ERROR;
                        sr->error = engine_mask(e, error);
                        free(error);
                        if (k == 0)
                                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL,
                                                       sr->error);
                        r = single_event_finish(e, &s, STEP_ERROR, NULL, sr->error);
                        goto finish;
                }
                if (k == 0) {
                        /* One event for the whole wait. */
                        target = xstrdup(n == 1 ? jobs[0].target : strna(check->ssh.target));
                        detail = xasprintf("wait_for %s every %s up to %s", n > 0 ? jobs[0].detail : "",
                                           format_duration(buf, interval),
                                           format_duration(buf2, step_timeout(e, step)));
                        single_event_init(e, &s, step, index, phase, target, detail);
                        r = single_event_start(e, &s);
                        if (r < 0) {
                                jobs_free(jobs, n);
                                goto finish;
                        }
                }
                k++;

                js = (JobSet) {
                        .step = check,
                        .step_index = index,
                        .phase = phase,
                        .jobs = jobs,
                        .n = n,
                        .parallel = step_parallel(check),
                        .retries = 0,
                        .quiet = true,
                        .cancel_level = cancel_level,
                        .cap_deadline = deadline,
                };
                r = jobset_run(e, &js);
                if (r < 0) {
                        jobs_free(jobs, n);
                        goto finish;
                }
                for (size_t i = 0; i < n; i++)
                        if (jobs[i].outcome != STEP_OK) {
                                all_ok = false;
                                free(last_error);
                                last_error = n == 1 ? xstrdup(strempty(jobs[i].error))
                                                    : xasprintf("%s: %s", jobs[i].target, strempty(jobs[i].error));
                        }
                if (n == 1)
                        result_values_move(&sr->values, &jobs[0].values);
                for (size_t i = 0; i < n; i++)
                        strv_push(&sr->all_targets, xstrdup(jobs[i].target));
                if (js.cancelled) {
                        jobs_free(jobs, n);
                        sr->outcome = STEP_CANCELLED;
                        sr->error = xstrdup("cancelled by operator");
                        r = single_event_finish(e, &s, STEP_CANCELLED, NULL, sr->error);
                        goto finish;
                }
                if (all_ok) {
                        _cleanup_free_ char *out = xasprintf("passed after %u check%s", k, k == 1 ? "" : "s");

                        for (size_t i = 0; i < n; i++)
                                strv_push(&sr->ok_targets, xstrdup(jobs[i].target));
                        jobs_free(jobs, n);
                        sr->outcome = STEP_OK;
                        r = single_event_finish(e, &s, STEP_OK, out, NULL);
                        goto finish;
                }
                jobs_free(jobs, n);
                strv_free(sr->all_targets);
                sr->all_targets = NULL;

                next = usec_add(engine_now(e), interval);
                if (next >= deadline) {
                        sr->outcome = STEP_TIMEOUT;
                        sr->error = xasprintf("not ready after %u check%s in %s: %s", k, k == 1 ? "" : "s",
                                              format_duration(buf, step_timeout(e, step)),
                                              strempty(last_error));
                        _cleanup_free_ char *m = engine_mask(e, sr->error);
                        free(sr->error);
                        sr->error = TAKE_PTR(m);
                        r = single_event_finish(e, &s, STEP_TIMEOUT, NULL, sr->error);
                        goto finish;
                }
                r = engine_sleep_until(e, next, cancel_level, &cancelled);
                if (r < 0)
                        goto finish;
                if (cancelled) {
                        sr->outcome = STEP_CANCELLED;
                        sr->error = xstrdup("cancelled by operator");
                        r = single_event_finish(e, &s, STEP_CANCELLED, NULL, sr->error);
                        goto finish;
                }
        }
finish:
        single_event_done(&s);
        return r;
}

static int engine_exec_approve(Engine *e, const Step *step, size_t index, StepPhase phase, StepRun *sr)
{
        Scope sc = { .e = e };
        _cleanup_free_ char *prompt = NULL, *masked = NULL, *error = NULL, *label = NULL, *out = NULL;
        usec_t timeout = step->approve.timeout > 0 ? step->approve.timeout : PLAYBOOK_DEFAULT_APPROVE_TIMEOUT;
        ApprovalAnswer ans = {};
        ApprovalRequest req;
        SingleEvent s;
        int r;

        r = engine_expand(&sc, &step->approve.prompt, "prompt", &prompt, &error);
        if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = engine_mask(e, error);
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }
        masked = engine_mask(e, prompt);
        observer_event(e, "approval-requested", masked);

        single_event_init(e, &s, step, index, phase, "-", masked);
        r = single_event_start(e, &s);
        if (r < 0)
                goto finish;

        label = xasprintf("run %" PRIi64 " (%s)", e->info.journal_id, e->playbook->name);
        req = (ApprovalRequest) {
                .run_label = label,
                .step = step,
                .prompt = masked,
                .deadline = usec_add(engine_now(e), timeout),
        };
        if (!e->approver.ask)
                r = -EOPNOTSUPP;
        else
                r = e->approver.ask(e->approver.userdata, &req, &ans);

        if (r == -ECANCELED || engine_cancel_pending(e, 1)) {
                /* Cancelling at the gate is an operator cancel of the run. */
                if (e->cancel_requests < 1)
                        e->cancel_requests = 1;
                sr->outcome = STEP_CANCELLED;
                sr->error = xstrdup("cancelled by operator");
        } else if (r == -ETIME) {
                sr->outcome = STEP_TIMEOUT;
                sr->error = xstrdup("approval expired");
        } else if (r == -EOPNOTSUPP) {
                sr->outcome = STEP_ERROR;
                sr->error = xstrdup("no approver available for this run");
        } else if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = xasprintf("approval failed: %s", strerror(-r));
        } else if (ans.approved) {
                char ts[FORMAT_TIMESTAMP_MAX];

                sr->outcome = STEP_OK;
                out = xasprintf("approved by %s at %s%s%s", strna(ans.who),
                                format_timestamp(ts, engine_now_realtime(e)), ans.comment ? ": " : "",
                                strempty(ans.comment));
                strv_push(&sr->ok_targets, xstrdup("-"));
        } else {
                sr->outcome = STEP_FAILED;
                sr->error = xasprintf("denied by %s%s%s", strna(ans.who), ans.comment ? ": " : "",
                                      strempty(ans.comment));
        }
        strv_push(&sr->all_targets, xstrdup("-"));
        free(ans.who);
        free(ans.comment);
        r = single_event_finish(e, &s, sr->outcome, out, sr->error);
finish:
        single_event_done(&s);
        return r;
}

/* Evaluate `when`: returns 1 to run, 0 when skipped (event emitted), <0 infra error;
 * on a condition error fills sr (STEP_ERROR, event emitted) and returns 0. */
static int engine_check_when(Engine *e, const Step *step, size_t index, StepPhase phase, StepRun *sr)
{
        Scope sc = { .e = e };
        _cleanup_free_ char *error = NULL, *out = NULL;
        bool ok = false;
        int r;

        if (!step->when.source)
                return 1;
        r = engine_eval(&sc, &step->when, "when", &ok, &error);
        if (r < 0) {
                sr->outcome = STEP_ERROR;
                sr->error = engine_mask(e, error);
                r = engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
                return r < 0 ? r : 0;
        }
        if (ok)
                return 1;
        sr->outcome = STEP_SKIPPED;
        out = xasprintf("when: %s is false", step->when.source);
        r = engine_emit_now(e, step, index, phase, "-", NULL, STEP_SKIPPED, out, NULL);
        return r < 0 ? r : 0;
}

static int engine_exec_step(Engine *e, const Step *step, size_t index, StepPhase phase, char *const *host_filter,
                            int cancel_level, StepRun *sr)
{
        int r;

        *sr = (StepRun) { .values.exit_status = -1 };
        r = engine_check_when(e, step, index, phase, sr);
        if (r <= 0)
                return r;

        switch (step->kind) {
        case STEP_SSH:
        case STEP_HTTP:
        case STEP_LOCAL:
        case STEP_NOTIFY:
                return engine_exec_jobs_step(e, step, index, phase, host_filter, cancel_level, sr);
        case STEP_WAIT_FOR:
                return engine_exec_wait_for(e, step, index, phase, cancel_level, sr);
        case STEP_APPROVE:
                return engine_exec_approve(e, step, index, phase, sr);
        case STEP_SLEEP:
                return engine_exec_sleep(e, step, index, phase, cancel_level, sr);
        default:
                sr->outcome = STEP_ERROR;
                sr->error = xstrdup("unknown step kind");
                return engine_emit_now(e, step, index, phase, "-", NULL, STEP_ERROR, NULL, sr->error);
        }
}

/* ---------------------------------------------------------------- rollback */

/* Which hosts a rollback acts on: when the rollback's hosts overlap the forward
 * step's hosts, only those where the forward step succeeded; when they are other
 * hosts altogether (undo on a different machine), all of them. NULL = no filter. */
static char **rollback_host_filter(Engine *e, const Step *fwd, const Step *rb, const StepRecord *rec)
{
        _cleanup_free_ const Host **hosts = NULL;
        _cleanup_free_ char *ignored = NULL;
        size_t n = 0;
        bool overlap = false;
        char **filter = NULL;

        if (fwd->kind != STEP_SSH || rb->kind != STEP_SSH)
                return NULL;
        if (engine_resolve_hosts(e, rb->ssh.target, &hosts, &n, &ignored) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strv_contains(rec->all_targets, hosts[i]->name))
                        overlap = true;
        if (!overlap)
                return NULL;
        for (size_t i = 0; rec->ok_targets && rec->ok_targets[i]; i++)
                strv_push(&filter, xstrdup(rec->ok_targets[i]));
        if (!filter)
                filter = xcalloc(1, sizeof(char *));
        return filter;
}

/* Run the rollbacks after forward step `failed` stopped the run. */
static int engine_rollback(Engine *e, size_t failed, char **ret_summary)
{
        const Playbook *pb = e->playbook;
        _cleanup_strv_free_ char **failed_names = NULL;
        bool cancelled = false;
        int r;

        {
                _cleanup_free_ char *m = xasprintf("rolling back after step '%s'", pb->steps[failed].name);
                observer_event(e, "rollback-started", m);
        }

        for (ssize_t i = (ssize_t) failed; i >= 0; i--) {
                const Step *fwd = &pb->steps[i];
                StepRecord *rec = &e->records[i];
                _cleanup_strv_free_ char **filter = NULL;
                StepRun sr;

                if (!fwd->rollback || !rec->ran || strv_length(rec->ok_targets) == 0)
                        continue;
                if (engine_cancel_pending(e, 2)) {
                        cancelled = true;
                        break;
                }
                filter = rollback_host_filter(e, fwd, fwd->rollback, rec);
                r = engine_exec_step(e, fwd->rollback, (size_t) i, STEP_PHASE_ROLLBACK, filter, 2, &sr);
                if (r < 0) {
                        step_run_done(&sr);
                        return r;
                }
                if (sr.outcome == STEP_CANCELLED) {
                        cancelled = true;
                        step_run_done(&sr);
                        break;
                }
                if (sr.outcome != STEP_OK && sr.outcome != STEP_SKIPPED)
                        strv_push(&failed_names, xstrdup(fwd->rollback->name));
                step_run_done(&sr);
        }

        if (cancelled) {
                _cleanup_free_ char *names = strv_join(failed_names, ", ");
                *ret_summary = failed_names ? xasprintf("rollback incomplete (cancelled; failed: %s)", names)
                                            : xstrdup("rollback incomplete (cancelled)");
        } else if (failed_names) {
                _cleanup_free_ char *names = strv_join(failed_names, ", ");
                *ret_summary = xasprintf("rollback incomplete (failed: %s)", names);
        } else
                *ret_summary = NULL;

        observer_event(e, "rollback-finished", *ret_summary ? *ret_summary : "rollback complete");
        return 0;
}

/* ---------------------------------------------------------------- dry run */

static int engine_dry_run_step(Engine *e, const Step *step, size_t index, StepPhase phase)
{
        _cleanup_free_ char *when = step->when.source ? xasprintf("when: %s", step->when.source) : NULL;
        _cleanup_free_ char *detail = NULL, *error = NULL;
        char buf[FORMAT_DURATION_MAX];
        Job *jobs = NULL;
        size_t n = 0;
        int r = 0;

        switch (step->kind) {
        case STEP_SSH:
        case STEP_HTTP:
        case STEP_LOCAL:
        case STEP_NOTIFY: {
                StepEvent *evs;
                usec_t rt = engine_now_realtime(e);

                r = engine_build_jobs(e, step, NULL, &jobs, &n, &error);
                if (r < 0)
                        break;
                evs = xcalloc(n, sizeof(StepEvent));
                for (size_t i = 0; i < n; i++)
                        evs[i] = (StepEvent) {
                                .step = step,
                                .step_index = index,
                                .phase = phase,
                                .target = jobs[i].target,
                                .attempt = 1,
                                .detail = jobs[i].dry_detail,
                                .started = rt,
                                .outcome = STEP_RUNNING,
                                .exit_status = -1,
                                .out = when,
                        };
                r = observer_steps_started(e, evs, n);
                if (r >= 0) {
                        for (size_t i = 0; i < n; i++) {
                                evs[i].outcome = STEP_SKIPPED;
                                evs[i].finished = rt;
                        }
                        r = observer_steps_finished(e, evs, n);
                }
                free(evs);
                jobs_free(jobs, n);
                return r;
        }
        case STEP_WAIT_FOR: {
                const Step *check = step->wait_for.check;

                if (!check)
                        break;
                r = engine_build_jobs(e, check, NULL, &jobs, &n, &error);
                if (r < 0)
                        break;
                {
                        char buf2[FORMAT_DURATION_MAX];
                        usec_t interval = step->wait_for.interval > 0 ? step->wait_for.interval
                                                                      : PLAYBOOK_DEFAULT_WAIT_INTERVAL;

                        detail = xasprintf("wait_for %s every %s up to %s", n > 0 ? jobs[0].dry_detail : "",
                                           format_duration(buf, interval),
                                           format_duration(buf2, step_timeout(e, step)));
                }
                jobs_free(jobs, n);
                break;
        }
        case STEP_APPROVE: {
                Scope sc = { .e = e };
                _cleanup_free_ char *prompt = NULL;

                r = engine_expand(&sc, &step->approve.prompt, "prompt", &prompt, &error);
                if (r < 0)
                        break;
                /* The gate is shown, never asked. */
                detail = xasprintf("approve: %s", prompt);
                break;
        }
        case STEP_SLEEP:
                detail = xasprintf("sleep %s", format_duration(buf, step->sleep));
                break;
        default:
                break;
        }

        /* Expansion problems (say, an unreadable secret) are shown on the plan; the
         * dry run itself goes on so that the operator sees everything at once. */
        return engine_emit_now(e, step, index, phase, "-", detail, STEP_SKIPPED, when, error);
}

static int engine_run_dry(Engine *e)
{
        const Playbook *pb = e->playbook;
        int r;

        for (size_t i = 0; i < pb->n_steps; i++) {
                if (engine_cancel_pending(e, 1))
                        return 1;
                r = engine_dry_run_step(e, &pb->steps[i], i, STEP_PHASE_FORWARD);
                if (r < 0)
                        return r;
        }
        /* The rollbacks, in the order they would run if the last step failed. A cancel
         * (Ctrl-C, or a tabletop stopped at the last forward step) ends the walk here too. */
        for (size_t i = pb->n_steps; i > 0; i--) {
                const Step *s = &pb->steps[i - 1];

                if (!s->rollback)
                        continue;
                if (engine_cancel_pending(e, 1))
                        return 1;
                r = engine_dry_run_step(e, s->rollback, i - 1, STEP_PHASE_ROLLBACK);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- the run */

static char *step_failure_message(const Engine *e, const Step *s, const StepRun *sr)
{
        if (s->path)
                return xasprintf("step '%s' (%s:%u:%u) %s: %s", s->name, s->path, s->line, s->col,
                                 step_outcome_to_string(sr->outcome), strempty(sr->error));
        return xasprintf("step '%s' %s: %s", s->name, step_outcome_to_string(sr->outcome), strempty(sr->error));
}

static int engine_run_live(Engine *e, RunOutcome *ret_outcome, char **ret_error)
{
        const Playbook *pb = e->playbook;
        int r;

        for (size_t i = 0; i < pb->n_steps; i++) {
                const Step *step = &pb->steps[i];
                StepRecord *rec = &e->records[i];
                StepRun sr;
                _cleanup_free_ char *msg = NULL, *rb = NULL;
                bool cancelled;

                if (engine_cancel_pending(e, 1)) {
                        /* Cancelled between steps: step i never started. */
                        observer_event(e, "cancel-requested", "cancelled before step started");
                        *ret_outcome = RUN_ABORTED;
                        if (step->on_failure == ON_FAILURE_ROLLBACK && i > 0) {
                                r = engine_rollback(e, i - 1, &rb);
                                if (r < 0)
                                        return r;
                        }
                        *ret_error = rb ? xasprintf("cancelled by operator; %s", rb)
                                        : xstrdup("cancelled by operator");
                        return 0;
                }

                r = engine_exec_step(e, step, i, STEP_PHASE_FORWARD, NULL, 1, &sr);
                if (r < 0) {
                        step_run_done(&sr);
                        return r;
                }
                rec->outcome = sr.outcome;
                rec->ran = sr.outcome != STEP_SKIPPED && sr.all_targets;
                rec->ok_targets = TAKE_PTR(sr.ok_targets);
                rec->all_targets = TAKE_PTR(sr.all_targets);
                if (step->register_result)
                        result_values_move(&rec->values, &sr.values);

                cancelled = sr.outcome == STEP_CANCELLED || engine_cancel_pending(e, 1);
                if (cancelled) {
                        observer_event(e, "cancel-requested", "cancelled by operator");
                        *ret_outcome = RUN_ABORTED;
                        if (step->on_failure == ON_FAILURE_ROLLBACK) {
                                r = engine_rollback(e, i, &rb);
                                if (r < 0) {
                                        step_run_done(&sr);
                                        return r;
                                }
                        }
                        *ret_error = rb ? xasprintf("cancelled by operator; %s", rb)
                                        : xstrdup("cancelled by operator");
                        step_run_done(&sr);
                        return 0;
                }
                if (sr.outcome == STEP_OK || sr.outcome == STEP_SKIPPED) {
                        step_run_done(&sr);
                        continue;
                }

                msg = step_failure_message(e, step, &sr);
                step_run_done(&sr);
                switch (step->on_failure) {
                case ON_FAILURE_CONTINUE: {
                        _cleanup_free_ char *m = xasprintf("%s; continuing", msg);
                        observer_event(e, "step-failed-continue", m);
                        continue;
                }
                case ON_FAILURE_ROLLBACK:
                        r = engine_rollback(e, i, &rb);
                        if (r < 0)
                                return r;
                        *ret_outcome = RUN_FAILED;
                        *ret_error = rb ? xasprintf("%s; %s", msg, rb) : xasprintf("%s; rolled back", msg);
                        return 0;
                default:
                        *ret_outcome = RUN_FAILED;
                        *ret_error = TAKE_PTR(msg);
                        return 0;
                }
        }
        *ret_outcome = RUN_SUCCEEDED;
        *ret_error = NULL;
        return 0;
}

int engine_run(Engine *e, RunOutcome *ret_outcome)
{
        RunOutcome outcome = RUN_SUCCEEDED;
        _cleanup_free_ char *error = NULL, *masked = NULL;
        int r;

        if (!e)
                return -EINVAL;
        if (!engine_is_plan_only(e) &&
            (!e->executor.ops || !e->executor.ops->submit || !e->executor.ops->wait ||
             !e->executor.ops->cancel_all))
                return -EINVAL;

        e->info = (RunInfo) {
                .playbook = e->playbook,
                .mode = e->mode,
                .trigger = e->trigger,
                .actor = e->actor,
                .params_json = e->params_json,
                .started = engine_now_realtime(e),
        };
        if (e->observer.run_started) {
                r = e->observer.run_started(e->observer.userdata, &e->info);
                if (r < 0)
                        return r;
        }

        if (engine_is_plan_only(e)) {
                r = engine_run_dry(e);
                if (r < 0)
                        return r;
                if (r > 0) {
                        outcome = RUN_ABORTED;
                        error = xstrdup("cancelled by operator");
                }
        } else {
                r = engine_run_live(e, &outcome, &error);
                if (r < 0)
                        return r;
        }

        masked = engine_mask(e, error);
        if (e->observer.run_finished) {
                r = e->observer.run_finished(e->observer.userdata, &e->info, outcome, masked);
                if (r < 0)
                        return r;
        }
        if (ret_outcome)
                *ret_outcome = outcome;
        return (int) outcome;
}

/* ---------------------------------------------------------------- construction */

static char *param_names_list(const Playbook *pb)
{
        StrBuf b = STRBUF_INIT;

        for (size_t i = 0; i < pb->n_params; i++)
                strbuf_printf(&b, "%s%s", i > 0 ? ", " : "", pb->params[i].name);
        if (pb->n_params == 0)
                strbuf_puts(&b, "no parameters");
        return strbuf_steal(&b);
}

static char *params_to_json(const Engine *e)
{
        const Playbook *pb = e->playbook;
        json_t *o = json_object();
        char *s, *r;

        for (size_t i = 0; i < pb->n_params; i++) {
                const Param *p = &pb->params[i];
                const char *v = e->param_values[i];
                json_t *j;

                if (!v)
                        continue;
                if (p->secret)
                        j = json_string(SECRET_MASK);
                else if (p->type == PARAM_INT)
                        j = json_integer(strtoll(v, NULL, 10));
                else if (p->type == PARAM_BOOL)
                        j = json_boolean(streq(v, "true"));
                else
                        j = json_string(v);
                if (!j) /* not UTF-8: keep the run going, say so */
                        j = json_string("<not UTF-8>");
                json_object_set_new(o, p->name, j);
        }
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        r = xstrdup(s ? s : "{}");
        free(s);
        return r;
}

int engine_new(Engine **ret, const EngineOptions *opts, char **ret_error)
{
        _cleanup_(engine_freep) Engine *e = NULL;
        const Playbook *pb;

        if (!ret || !opts || !opts->playbook || !ret_error)
                return -EINVAL;
        pb = opts->playbook;
        *ret_error = NULL;

        e = xcalloc(1, sizeof(Engine));
        e->config = opts->config;
        e->playbook = pb;
        e->mode = opts->mode;
        e->trigger = xstrdup(opts->trigger ? opts->trigger : "manual");
        e->actor = xstrdup(opts->actor ? opts->actor : "unknown");
        e->executor = opts->executor;
        e->observer = opts->observer;
        e->approver = opts->approver;
        e->param_values = xcalloc(pb->n_params + 1, sizeof(char *));
        e->records = xcalloc(pb->n_steps + 1, sizeof(StepRecord));
        for (size_t i = 0; i < pb->n_steps; i++)
                e->records[i].values.exit_status = -1;

        for (size_t i = 0; i < opts->n_params; i++) {
                const ParamValue *pv = &opts->params[i];
                const Param *p = pv->name ? playbook_find_param(pb, pv->name) : NULL;
                _cleanup_free_ char *norm = NULL, *err = NULL;
                size_t idx;
                int r;

                if (!p) {
                        _cleanup_free_ char *names = param_names_list(pb);
                        *ret_error = xasprintf("unknown parameter '%s' (playbook has: %s)", strna(pv->name),
                                               names);
                        return -EINVAL;
                }
                idx = p - pb->params;
                if (e->param_values[idx]) {
                        *ret_error = xasprintf("parameter '%s' given more than once", p->name);
                        return -EINVAL;
                }
                r = param_check_value(p, strempty(pv->value), &norm, &err);
                if (r < 0) {
                        /* The checker may quote the value: never show a secret one. */
                        if (p->secret)
                                *ret_error = xasprintf("parameter '%s': invalid value for type %s", p->name,
                                                       strna(param_type_to_string(p->type)));
                        else
                                *ret_error = xasprintf("parameter '%s': %s", p->name,
                                                       err ? err : "invalid value");
                        return -EINVAL;
                }
                e->param_values[idx] = norm ? TAKE_PTR(norm) : xstrdup(strempty(pv->value));
        }

        for (size_t i = 0; i < pb->n_params; i++) {
                const Param *p = &pb->params[i];

                if (e->param_values[i])
                        continue;
                if (p->default_value)
                        e->param_values[i] = xstrdup(p->default_value);
                else if (p->required) {
                        *ret_error = xasprintf("missing required parameter '%s'", p->name);
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < pb->n_params; i++)
                if (pb->params[i].secret)
                        engine_add_mask(e, e->param_values[i]);

        e->params_json = params_to_json(e);
        *ret = TAKE_PTR(e);
        return 0;
}

Engine *engine_free(Engine *e)
{
        if (!e)
                return NULL;
        free(e->trigger);
        free(e->actor);
        if (e->param_values && e->playbook)
                for (size_t i = 0; i < e->playbook->n_params; i++)
                        free(e->param_values[i]);
        free(e->param_values);
        free(e->params_json);
        for (size_t i = 0; i < e->n_secrets; i++) {
                /* Do not leave secret bytes lying around in freed memory. */
                explicit_bzero(e->secrets[i].value, strlen(e->secrets[i].value));
                free(e->secrets[i].value);
                free(e->secrets[i].name);
        }
        free(e->secrets);
        for (size_t i = 0; i < e->n_masks; i++) {
                explicit_bzero(e->masks[i], strlen(e->masks[i]));
                free(e->masks[i]);
        }
        free(e->masks);
        if (e->records && e->playbook)
                for (size_t i = 0; i < e->playbook->n_steps; i++) {
                        result_values_done(&e->records[i].values);
                        strv_free(e->records[i].ok_targets);
                        strv_free(e->records[i].all_targets);
                }
        free(e->records);
        free(e);
        return NULL;
}
