/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine-scope.c — what a run's templates and conditions see, and what the
 * observer is shown.
 *
 * Owns: masking secrets out of every string, the values a result exposes
 * (stdout, json.PATH, …), reading secrets, the scope lookup that resolves the typed
 * references parsed at load (params, steps, step, targets, host, secrets, run),
 * expanding templates and evaluating conditions with precise errors, and the glue
 * that reports step events to the observer. Called by the rest of the engine
 * through engine-internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <string.h>

#include "engine/engine-internal.h"

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

void engine_add_mask(Engine *e, const char *v)
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

void result_values_done(ResultValues *v)
{
        free(v->out);
        free(v->err);
        if (v->json)
                json_decref(v->json);
        *v = (ResultValues) { .exit_status = -1 };
}

void result_values_move(ResultValues *dst, ResultValues *src)
{
        result_values_done(dst);
        *dst = *src;
        *src = (ResultValues) { .exit_status = -1 };
}

json_t *result_values_json(ResultValues *v)
{
        if (!v->json_tried) {
                v->json_tried = true;
                v->json = json_loads(strempty(v->out), JSON_DECODE_ANY, NULL);
        }
        return v->json;
}

json_t *json_walk(json_t *root, const char *path)
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

char *json_string_form(json_t *v)
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

int engine_expand(Scope *sc, const Template *t, const char *what, char **ret, char **ret_error)
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

int engine_eval(Scope *sc, const Condition *c, const char *what, bool *ret, char **ret_error)
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
int engine_expand_raw(Scope *sc, const char *s, char **ret, char **ret_error)
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

int observer_steps_started(Engine *e, StepEvent *ev, size_t n)
{
        if (n == 0 || !e->observer.steps_started)
                return 0;
        return e->observer.steps_started(e->observer.userdata, &e->info, ev, n);
}

int observer_steps_finished(Engine *e, StepEvent *ev, size_t n)
{
        if (n == 0 || !e->observer.steps_finished)
                return 0;
        return e->observer.steps_finished(e->observer.userdata, &e->info, ev, n);
}

void observer_event(Engine *e, const char *kind, const char *message)
{
        _cleanup_free_ char *m = engine_mask(e, message);

        if (e->observer.event)
                e->observer.event(e->observer.userdata, &e->info, kind, m);
}


void single_event_init(Engine *e, SingleEvent *s, const Step *step, size_t index, StepPhase phase,
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

void single_event_done(SingleEvent *s)
{
        free(s->detail);
        free(s->out);
        free(s->error);
        *s = (SingleEvent) {};
}

int single_event_start(Engine *e, SingleEvent *s)
{
        return observer_steps_started(e, &s->ev, 1);
}

int single_event_finish(Engine *e, SingleEvent *s, StepOutcome o, const char *out, const char *error)
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
int engine_emit_now(Engine *e, const Step *step, size_t index, StepPhase phase, const char *target,
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
