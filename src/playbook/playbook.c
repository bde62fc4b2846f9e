/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook.c — loads a playbook file into a Playbook and checks everything that
 * can be checked before a run: keys, types, limits, targets against the
 * inventory, every ${reference} and condition, step ordering and names.
 *
 * Owns: the playbook types' freeing and lookups, parameter values, the top-level,
 * params, targets and defaults schema, the load entry points and the file digest.
 * The rest of the loader: playbook-refs.c (names, ${...} references),
 * playbook-actions.c (ssh, http, local, approve, notify, expect), playbook-step.c
 * (the step mapping); they share playbook-internal.h. Does not own: the
 * template/condition syntax (template.c, condition.c), YAML hygiene (yaml-node.c), the inventory (config.c), running steps (engine/).
 * Called by droverctl (validate, run), droverd and the tests.
 *
 * Every problem is reported (never only the first), then the whole playbook is
 * refused: the loader keeps going after an error with whatever it could parse.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/yaml-node.h"
#include "playbook/playbook-internal.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

static const char *const playbook_kind_table[_PLAYBOOK_KIND_MAX] = {
        [PLAYBOOK_SWITCHOVER] = "switchover",
        [PLAYBOOK_FAILBACK] = "failback",
        [PLAYBOOK_RESTORE] = "restore",
        [PLAYBOOK_VENDOR_REPLACEMENT] = "vendor-replacement",
        [PLAYBOOK_CONTAINMENT] = "containment",
        [PLAYBOOK_CUSTOM] = "custom",
};

static const char *const param_type_table[_PARAM_TYPE_MAX] = {
        [PARAM_STRING] = "string", [PARAM_INT] = "int",   [PARAM_BOOL] = "bool",
        [PARAM_DURATION] = "duration", [PARAM_ENUM] = "enum",
};

static const char *const target_kind_table[_TARGET_KIND_MAX] = {
        [TARGET_HOST] = "host",
        [TARGET_GROUP] = "group",
        [TARGET_ENDPOINT] = "endpoint",
};

static const char *const step_kind_table[_STEP_KIND_MAX] = {
        [STEP_SSH] = "ssh",         [STEP_HTTP] = "http",       [STEP_LOCAL] = "local", [STEP_WAIT_FOR] = "wait_for",
        [STEP_APPROVE] = "approve", [STEP_NOTIFY] = "notify", [STEP_SLEEP] = "sleep",
};

static const char *const on_failure_table[_ON_FAILURE_MAX] = {
        [ON_FAILURE_ABORT] = "abort",
        [ON_FAILURE_CONTINUE] = "continue",
        [ON_FAILURE_ROLLBACK] = "rollback",
};

DEFINE_STRING_TABLE(playbook_kind, PlaybookKind, playbook_kind_table)
DEFINE_STRING_TABLE(param_type, ParamType, param_type_table)
DEFINE_STRING_TABLE(target_kind, TargetKind, target_kind_table)
DEFINE_STRING_TABLE(step_kind, StepKind, step_kind_table)
DEFINE_STRING_TABLE(on_failure, OnFailure, on_failure_table)

/* ---- freeing (accepts half-built objects: every field may be NULL/zero) ---- */

static void expect_done(Expect *e)
{
        free(e->statuses);
        template_done(&e->contains);
        free(e->matches);
        for (size_t i = 0; i < e->n_json; i++) {
                free(e->json[i].path);
                template_done(&e->json[i].value);
        }
        free(e->json);
        condition_done(&e->that);
        *e = (Expect) {};
}

static void step_done(Step *s);

static Step *step_free(Step *s)
{
        if (!s)
                return NULL;
        step_done(s);
        free(s);
        return NULL;
}

static void step_done(Step *s)
{
        if (!s)
                return;
        switch (s->kind) {
        case STEP_SSH:
                free(s->ssh.target);
                template_done(&s->ssh.command);
                break;
        case STEP_HTTP:
                free(s->http.target);
                free(s->http.method);
                template_done(&s->http.url);
                for (size_t i = 0; i < s->http.n_headers; i++) {
                        free(s->http.headers[i].name);
                        template_done(&s->http.headers[i].value);
                }
                free(s->http.headers);
                template_done(&s->http.body);
                template_done(&s->http.json_body);
                break;
        case STEP_LOCAL:
                for (size_t i = 0; i < s->local.argc; i++)
                        template_done(&s->local.argv[i]);
                free(s->local.argv);
                template_done(&s->local.shell);
                break;
        case STEP_WAIT_FOR:
                step_free(s->wait_for.check);
                break;
        case STEP_APPROVE:
                template_done(&s->approve.prompt);
                break;
        case STEP_NOTIFY:
                free(s->notify.target);
                template_done(&s->notify.url);
                template_done(&s->notify.message);
                break;
        default:
                break;
        }
        free(s->name);
        condition_done(&s->when);
        expect_done(&s->expect);
        step_free(s->rollback);
        *s = (Step) {};
}

Playbook *playbook_free(Playbook *p)
{
        if (!p)
                return NULL;
        free(p->path);
        free(p->name);
        free(p->description);
        for (size_t i = 0; i < p->n_params; i++) {
                free(p->params[i].name);
                free(p->params[i].default_value);
                strv_free(p->params[i].values);
                free(p->params[i].description);
        }
        free(p->params);
        for (size_t i = 0; i < p->n_targets; i++) {
                free(p->targets[i].name);
                free(p->targets[i].ref);
        }
        free(p->targets);
        for (size_t i = 0; i < p->n_steps; i++)
                step_done(&p->steps[i]);
        free(p->steps);
        free(p);
        return NULL;
}

/* ---- lookups ---- */

const Param *playbook_find_param(const Playbook *p, const char *name)
{
        for (size_t i = 0; p && name && i < p->n_params; i++)
                if (streq_ptr(p->params[i].name, name))
                        return &p->params[i];
        return NULL;
}

const Target *playbook_find_target(const Playbook *p, const char *name)
{
        for (size_t i = 0; p && name && i < p->n_targets; i++)
                if (streq_ptr(p->targets[i].name, name))
                        return &p->targets[i];
        return NULL;
}

const Step *playbook_find_step(const Playbook *p, const char *name)
{
        for (size_t i = 0; p && name && i < p->n_steps; i++) {
                if (streq_ptr(p->steps[i].name, name))
                        return &p->steps[i];
                if (p->steps[i].rollback && streq_ptr(p->steps[i].rollback->name, name))
                        return p->steps[i].rollback;
        }
        return NULL;
}

/* ---- parameter values ---- */

int param_check_value(const Param *p, const char *value, char **ret_value, char **ret_error)
{
        _cleanup_free_ char *norm = NULL, *err = NULL;

        if (!value)
                value = "";

        switch (p->type) {
        case PARAM_INT: {
                const char *d = value + (value[0] == '-' || value[0] == '+');
                char *end;
                long long v;

                errno = 0;
                if (*d == '\0' || strspn(d, "0123456789") != strlen(d)) {
                        err = xasprintf("'%.64s' is not an integer", value);
                        break;
                }
                v = strtoll(value, &end, 10);
                if (errno == ERANGE) {
                        err = xasprintf("'%.64s' is out of range", value);
                        break;
                }
                norm = xasprintf("%lld", v);
                break;
        }
        case PARAM_BOOL:
                if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 || streq(value, "1"))
                        norm = xstrdup("true");
                else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 || streq(value, "0"))
                        norm = xstrdup("false");
                else
                        err = xasprintf("'%.64s' is not a boolean (true, false, yes, no, 1, 0)", value);
                break;
        case PARAM_DURATION: {
                usec_t u;

                if (parse_duration(value, &u) < 0)
                        err = xasprintf("'%.64s' is not a duration (e.g. 500ms, 30s, 2m, 1h)", value);
                else
                        norm = xstrdup(value);
                break;
        }
        case PARAM_ENUM: {
                StrBuf b = STRBUF_INIT;

                for (char **v = p->values; v && *v; v++)
                        if (streq(*v, value)) {
                                norm = xstrdup(value);
                                break;
                        }
                if (norm)
                        break;
                for (char **v = p->values; v && *v; v++)
                        strbuf_printf(&b, "%s%s", v == p->values ? "" : ", ", *v);
                err = xasprintf("'%.64s' is not one of: %s", value, strbuf_str(&b));
                strbuf_done(&b);
                break;
        }
        case PARAM_STRING:
                if (strpbrk(value, "\n\r"))
                        err = xstrdup("a string parameter cannot contain a newline");
                else
                        norm = xstrdup(value);
                break;
        default:
                err = xstrdup("parameter has no valid type");
        }

        if (err) {
                if (ret_error)
                        *ret_error = TAKE_PTR(err);
                return -EINVAL;
        }
        if (ret_value)
                *ret_value = TAKE_PTR(norm);
        return 0;
}

/* ---- the loader: params, targets, defaults, the top level ---- */

static void load_params(Loader *l, const YNode *m)
{
        static const char *const keys[] = { "type", "required", "default", "values", "secret", "description", NULL };

        if (!ynode_expect(m, YNODE_MAPPING, "params", l->diags))
                return;
        l->pb->params = xcalloc(m->n_items ?: 1, sizeof(Param));
        for (size_t i = 0; i < m->n_items; i++) {
                const YNode *k = m->keys[i], *v = m->items[i], *x;
                Param *p;
                const char *s = NULL;

                if (k->kind != YNODE_SCALAR || !check_name(l, k, "parameter"))
                        continue;
                p = &l->pb->params[l->pb->n_params++];
                p->name = xstrdup(k->scalar);
                p->line = k->line;
                p->col = k->col;
                p->type = PARAM_STRING;
                if (!ynode_expect(v, YNODE_MAPPING, "a parameter", l->diags))
                        continue;
                ynode_check_keys(v, keys, "parameter", l->diags);
                if (ynode_get_string(v, "type", "parameter", false, &s, l->diags) > 0) {
                        ParamType t = param_type_from_string(s);
                        if (t < 0)
                                ynode_error(l->diags, ynode_get(v, "type"),
                                            "unknown parameter type '%.64s' (expected string, int, bool, duration "
                                            "or enum)",
                                            s);
                        else
                                p->type = t;
                }
                (void) ynode_get_bool(v, "required", "parameter", false, &p->required, l->diags);
                (void) ynode_get_bool(v, "secret", "parameter", false, &p->secret, l->diags);
                if (ynode_get_string(v, "description", "parameter", false, &s, l->diags) > 0)
                        p->description = xstrdup(s);

                x = ynode_get(v, "values");
                if (x && p->type != PARAM_ENUM)
                        ynode_error(l->diags, ynode_get_key(v, "values"), "values is only allowed for type enum");
                else if (x && ynode_expect(x, YNODE_SEQUENCE, "values", l->diags)) {
                        size_t n = 0;
                        p->values = xcalloc(x->n_items + 1, sizeof(char *));
                        for (size_t j = 0; j < x->n_items; j++) {
                                if (!ynode_expect(x->items[j], YNODE_SCALAR, "an enum value", l->diags))
                                        continue;
                                for (size_t q = 0; q < n; q++)
                                        if (streq(p->values[q], x->items[j]->scalar))
                                                ynode_error(l->diags, x->items[j], "duplicate enum value '%.64s'",
                                                            x->items[j]->scalar);
                                p->values[n++] = xstrdup(x->items[j]->scalar);
                        }
                        if (x->n_items == 0)
                                ynode_error(l->diags, x, "an enum parameter needs at least one value");
                }
                if (p->type == PARAM_ENUM && !x)
                        ynode_error(l->diags, v, "parameter '%s' of type enum needs 'values'", p->name);

                x = ynode_get(v, "default");
                if (x) {
                        _cleanup_free_ char *norm = NULL, *err = NULL;

                        if (p->secret)
                                ynode_error(l->diags, ynode_get_key(v, "default"),
                                            "secret parameter '%s' cannot have a default (secrets are never "
                                            "written in playbooks)",
                                            p->name);
                        else if (p->required)
                                ynode_error(l->diags, ynode_get_key(v, "default"),
                                            "required parameter '%s' cannot have a default", p->name);
                        else if (x->kind != YNODE_SCALAR || ynode_is_null(x))
                                ynode_error(l->diags, x, "default of parameter '%s' must be a scalar", p->name);
                        else if (p->type == PARAM_ENUM && !p->values)
                                ; /* already reported: no values to check against */
                        else if (param_check_value(p, x->scalar, &norm, &err) < 0)
                                ynode_error(l->diags, x, "default of %s parameter '%s': %s",
                                            param_type_to_string(p->type), p->name, err);
                        else
                                p->default_value = TAKE_PTR(norm);
                }
        }
}

static void load_targets(Loader *l, const YNode *m)
{
        static const char *const keys[] = { "host", "group", "endpoint", NULL };

        if (!ynode_expect(m, YNODE_MAPPING, "targets", l->diags))
                return;
        l->pb->targets = xcalloc(m->n_items ?: 1, sizeof(Target));
        for (size_t i = 0; i < m->n_items; i++) {
                const YNode *k = m->keys[i], *v = m->items[i], *ref = NULL;
                Target *t;
                size_t n_kinds = 0;

                if (k->kind != YNODE_SCALAR || !check_name(l, k, "target"))
                        continue;
                if (!ynode_expect(v, YNODE_MAPPING, "a target", l->diags))
                        continue;
                ynode_check_keys(v, keys, "target", l->diags);
                t = &l->pb->targets[l->pb->n_targets++];
                t->name = xstrdup(k->scalar);
                t->line = k->line;
                t->col = k->col;
                t->kind = _TARGET_KIND_INVALID;
                for (TargetKind j = 0; j < _TARGET_KIND_MAX; j++) {
                        const YNode *x = ynode_get(v, target_kind_to_string(j));
                        if (!x)
                                continue;
                        if (++n_kinds > 1) {
                                ynode_error(l->diags, ynode_get_key(v, target_kind_to_string(j)),
                                            "target '%s' has more than one of host, group, endpoint", t->name);
                                continue;
                        }
                        t->kind = j;
                        ref = x;
                }
                if (n_kinds == 0) {
                        ynode_error(l->diags, v, "target '%s' needs one of host, group or endpoint", t->name);
                        continue;
                }
                if (!ynode_expect(ref, YNODE_SCALAR, "a target reference", l->diags))
                        continue;
                t->ref = xstrdup(ref->scalar);
                if ((t->kind == TARGET_HOST && !config_find_host(l->config, ref->scalar)) ||
                    (t->kind == TARGET_GROUP && !config_find_group(l->config, ref->scalar)) ||
                    (t->kind == TARGET_ENDPOINT && !config_find_endpoint(l->config, ref->scalar))) {
                        _cleanup_free_ const char **cand = NULL;
                        const char *near = NULL;
                        size_t n = t->kind == TARGET_HOST    ? l->config->n_hosts
                                   : t->kind == TARGET_GROUP ? l->config->n_groups
                                                             : l->config->n_endpoints;

                        cand = xcalloc(n + 1, sizeof(char *));
                        for (size_t j = 0; j < n; j++)
                                cand[j] = t->kind == TARGET_HOST    ? l->config->hosts[j].name
                                          : t->kind == TARGET_GROUP ? l->config->groups[j].name
                                                                    : l->config->endpoints[j].name;
                        near = string_nearest(ref->scalar, cand, n);
                        if (near)
                                ynode_error(l->diags, ref, "unknown %s '%.64s' in %s (did you mean '%s'?)",
                                            target_kind_to_string(t->kind), ref->scalar, l->config->path ?: "inventory",
                                            near);
                        else
                                ynode_error(l->diags, ref, "unknown %s '%.64s' in %s", target_kind_to_string(t->kind),
                                            ref->scalar, l->config->path ?: "inventory");
                }
        }
}

static void load_defaults(Loader *l, const YNode *m)
{
        static const char *const keys[] = { "timeout", "retries", "retry_delay", "backoff", NULL };
        uint64_t u;
        const YNode *v;

        if (!ynode_expect(m, YNODE_MAPPING, "defaults", l->diags))
                return;
        ynode_check_keys(m, keys, "defaults", l->diags);
        if (ynode_get_duration(m, "timeout", "defaults", false, &l->timeout, l->diags) > 0 && l->timeout == 0)
                ynode_error(l->diags, ynode_get(m, "timeout"), "timeout must be greater than 0");
        if (ynode_get_uint(m, "retries", "defaults", false, 0, PLAYBOOK_MAX_RETRIES, &u, l->diags) > 0)
                l->retries = (unsigned) u;
        (void) ynode_get_duration(m, "retry_delay", "defaults", false, &l->retry_delay, l->diags);
        v = ynode_get(m, "backoff");
        if (v)
                (void) parse_backoff(l, v, &l->backoff);
}

static void check_duplicate_names(Loader *l, const YNode *steps)
{
        typedef struct Seen {
                const char *name;
                const YNode *at;
        } Seen;
        _cleanup_free_ Seen *seen = NULL;
        size_t n = 0;

        seen = xcalloc(2 * l->pb->n_steps + 1, sizeof(Seen));
        for (size_t i = 0; i < l->pb->n_steps; i++) {
                const YNode *sm = steps->items[i];
                for (int rb = 0; rb < 2; rb++) {
                        const Step *s = rb ? l->pb->steps[i].rollback : &l->pb->steps[i];
                        const YNode *at;

                        if (!s || !s->name)
                                continue;
                        at = rb ? ynode_get(sm, "rollback") : sm;
                        at = ynode_get(at, "name") ?: at;
                        for (size_t j = 0; j < n; j++)
                                if (streq(seen[j].name, s->name)) {
                                        ynode_error(l->diags, at, "duplicate step name '%s' (first used at line %u)",
                                                    s->name, seen[j].at->line);
                                        break;
                                }
                        seen[n++] = (Seen) { s->name, at };
                }
        }
}

static int playbook_parse(Loader *l, const YNode *root)
{
        static const char *const top_keys[] = { "name",    "description", "kind",     "params",
                                                "objectives", "targets",  "defaults", "steps", NULL };
        Playbook *pb = l->pb;
        const YNode *v;
        const char *s = NULL;

        if (!ynode_expect(root, YNODE_MAPPING, "a playbook", l->diags))
                return -EINVAL;
        ynode_check_keys(root, top_keys, "playbook", l->diags);

        if (ynode_get_string(root, "name", "playbook", true, &s, l->diags) > 0) {
                check_name(l, ynode_get(root, "name"), "playbook");
                pb->name = xstrdup(s);
        }
        if (ynode_get_string(root, "description", "playbook", false, &s, l->diags) > 0)
                pb->description = xstrdup(s);
        pb->kind = _PLAYBOOK_KIND_INVALID;
        if (ynode_get_string(root, "kind", "playbook", true, &s, l->diags) > 0) {
                pb->kind = playbook_kind_from_string(s);
                if (pb->kind < 0) {
                        const char *near = string_nearest(s, playbook_kind_table, _PLAYBOOK_KIND_MAX);
                        ynode_error(l->diags, ynode_get(root, "kind"),
                                    "unknown playbook kind '%.64s'%s%s%s (expected switchover, failback, restore, "
                                    "vendor-replacement, containment or custom)",
                                    s, near ? " (did you mean '" : "", near ?: "", near ? "'?)" : "");
                }
        }

        v = ynode_get(root, "params");
        if (v && !ynode_is_null(v))
                load_params(l, v);
        v = ynode_get(root, "objectives");
        if (v && !ynode_is_null(v) && ynode_expect(v, YNODE_MAPPING, "objectives", l->diags)) {
                static const char *const keys[] = { "rto", "rpo", NULL };
                ynode_check_keys(v, keys, "objectives", l->diags);
                pb->objectives.has_rto = ynode_get_duration(v, "rto", "objectives", false, &pb->objectives.rto,
                                                            l->diags) > 0;
                pb->objectives.has_rpo = ynode_get_duration(v, "rpo", "objectives", false, &pb->objectives.rpo,
                                                            l->diags) > 0;
        }
        v = ynode_get(root, "targets");
        if (v && !ynode_is_null(v))
                load_targets(l, v);
        v = ynode_get(root, "defaults");
        if (v && !ynode_is_null(v))
                load_defaults(l, v);

        v = ynode_get(root, "steps");
        if (!v) {
                ynode_error(l->diags, root, "missing required key 'steps' in playbook");
                return -EINVAL;
        }
        if (!ynode_expect(v, YNODE_SEQUENCE, "steps", l->diags))
                return -EINVAL;
        if (v->n_items == 0) {
                ynode_error(l->diags, v, "steps must hold at least one step");
                return -EINVAL;
        }
        if (v->n_items > PLAYBOOK_MAX_STEPS) {
                ynode_error(l->diags, v->items[PLAYBOOK_MAX_STEPS], "too many steps (at most %d)",
                            PLAYBOOK_MAX_STEPS);
                return -EINVAL;
        }

        /* n_steps grows as steps load, so references see only the steps loaded so far
         * plus the names of later ones (for "does not run before this point"). */
        pb->steps = xcalloc(v->n_items, sizeof(Step));
        for (size_t i = 0; i < v->n_items; i++) {
                const YNode *sm = v->items[i];
                const char *nm = NULL;

                pb->steps[i].kind = _STEP_KIND_INVALID;
                if (sm->kind == YNODE_MAPPING && (nm = ynode_get(sm, "name") ? ynode_get(sm, "name")->scalar : NULL))
                        pb->steps[i].name = xstrdup(nm);
        }
        pb->n_steps = v->n_items;
        for (size_t i = 0; i < v->n_items; i++) {
                Step *st = &pb->steps[i];
                free(st->name);
                st->name = NULL;
                (void) load_step(l, v->items[i], st, i, ROLE_FORWARD, NULL);
                /* Keep the name of a step whose mapping was broken, so that later references
                 * and duplicate checks still see it. */
        }
        check_duplicate_names(l, v);
        return 0;
}

int playbook_load_buffer(const char *path, const char *buf, size_t len, const Config *config, Playbook **ret,
                         DiagList *diags)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        _cleanup_(playbook_freep) Playbook *pb = NULL;
        size_t errors_before = diag_count_errors(diags);
        Loader l;
        int r;

        r = ydocument_load_buffer(path, buf, len, &doc, diags);
        if (r < 0)
                return r;

        pb = xcalloc(1, sizeof(Playbook));
        pb->path = xstrdup(path);
        sha256_hex(buf, len, pb->sha256);

        l = (Loader) {
                .path = pb->path,
                .text = buf,
                .len = len,
                .config = config,
                .diags = diags,
                .pb = pb,
                .timeout = config->step_timeout > 0 ? config->step_timeout : CONFIG_DEFAULT_STEP_TIMEOUT,
                .retries = 0,
                .retry_delay = 1 * USEC_PER_SEC,
                .backoff = 2,
        };
        (void) playbook_parse(&l, doc->root);

        if (diag_count_errors(diags) > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(pb);
        return 0;
}

int playbook_load(const char *path, const Config *config, Playbook **ret, DiagList *diags)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, cap = 0;

        f = fopen(path, "re");
        if (!f) {
                int r = -errno;
                diag_error(diags, path, 0, 0, "cannot open playbook: %s", strerror(errno));
                return r;
        }
        for (;;) {
                size_t k;

                if (cap - n < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        buf = xrealloc(buf, cap + 1);
                }
                k = fread(buf + n, 1, cap - n, f);
                n += k;
                if (k == 0)
                        break;
                if (n > YNODE_MAX_FILE_SIZE + 1)
                        break; /* yaml-node reports the size limit */
        }
        if (ferror(f)) {
                int r = errno > 0 ? -errno : -EIO;
                diag_error(diags, path, 0, 0, "cannot read playbook: %s", strerror(-r));
                return r;
        }
        buf[n] = '\0';
        return playbook_load_buffer(path, buf, n, config, ret, diags);
}
