/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook.c — loads a playbook file into a Playbook and checks everything that
 * can be checked before a run: keys, types, limits, targets against the
 * inventory, every ${reference} and condition, step ordering and names.
 *
 * Owns: the playbook schema (key tables below), load-time validation, the file
 * digest. Does not own: the template/condition syntax (template.c, condition.c),
 * YAML hygiene (yaml-node.c), the inventory (config.c), running steps (engine/).
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
#include "playbook/playbook.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

#define PLAYBOOK_NAME_MAX 64
#define PLAYBOOK_MAX_PARALLEL 1024

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

/* ---- the loader ---- */

typedef struct Loader {
        const char *path;
        const char *text; /* the file's bytes, for locating columns inside scalars */
        size_t len;
        const Config *config;
        DiagList *diags;
        Playbook *pb;
        const YNode *step_nodes_root; /* the steps sequence */
        /* defaults */
        usec_t timeout, retry_delay;
        unsigned retries;
        double backoff;
} Loader;

/* What a template or condition may reference. */
typedef struct RefScope {
        size_t n_earlier;   /* steps[0..n_earlier) may be referenced (when registered) */
        bool allow_host;    /* host.* — inside an ssh command */
        bool allow_step;    /* step.* — inside expect.that */
        const char *where;  /* for messages: "ssh command", "expect.that" */
} RefScope;

static bool name_is_valid(const char *s)
{
        /* Playbook-declared names (params, targets, steps) have no '.': they appear as
         * one segment of a dotted reference, which must stay unambiguous. */
        size_t n = strlen(s);

        if (n == 0 || n > PLAYBOOK_NAME_MAX || !isalnum((unsigned char) s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-')
                        return false;
        return true;
}

static bool check_name(Loader *l, const YNode *n, const char *what)
{
        if (name_is_valid(n->scalar))
                return true;
        ynode_error(l->diags, n, "invalid %s name '%.64s' (letters, digits, '_' and '-', starting with a letter "
                                 "or digit, at most %d characters)",
                    what, n->scalar, PLAYBOOK_NAME_MAX);
        return false;
}

/* Find where the value of scalar n begins in the file, and whether byte offsets into
 * the value map 1:1 onto columns (a one-line plain or quoted scalar without escapes).
 * Otherwise (block scalars, folded lines, escapes) errors point at the scalar start. */
static void scalar_origin(Loader *l, const YNode *n, unsigned *ret_col, bool *ret_exact)
{
        const char *p = l->text, *end = l->text + l->len;
        unsigned col = n->col;
        size_t vlen;

        *ret_col = n->col;
        *ret_exact = false;
        if (!p || n->kind != YNODE_SCALAR || n->line == 0 || n->col == 0)
                return;
        for (unsigned line = 1; line < n->line && p < end; p++)
                if (*p == '\n')
                        line++;
        for (unsigned c = 1; c < n->col && p < end && *p != '\n'; c++) {
                int k = utf8_char_length(p, (size_t) (end - p));
                p += k > 0 ? k : 1;
        }
        if (p >= end)
                return;
        if (*p == '"' || *p == '\'') {
                p++;
                col++;
        } else if (*p == '|' || *p == '>')
                return;
        vlen = strlen(n->scalar);
        if (strchr(n->scalar, '\n') || (size_t) (end - p) < vlen || memcmp(p, n->scalar, vlen) != 0 ||
            memchr(p, '\n', vlen))
                return;
        *ret_col = col;
        *ret_exact = true;
}

static const char *const step_fields[] = { "stdout", "stderr", "exit_status", "http_status", "body", NULL };

static bool step_field_is_valid(const char *field)
{
        /* one of step_fields, or json.<path> */
        if (!field)
                return false;
        for (size_t i = 0; step_fields[i]; i++)
                if (streq(field, step_fields[i]))
                        return true;
        return strncmp(field, "json.", 5) == 0;
}

static void report_unknown_name(Loader *l, unsigned line, unsigned col, const char *kind, const char *name,
                                const char *ref, const char *const *candidates, size_t n)
{
        const char *near = string_nearest(name, candidates, n);

        if (near)
                diag_error(l->diags, l->path, line, col, "unknown %s '%s' in reference '%s' (did you mean '%s'?)",
                           kind, name, ref, near);
        else
                diag_error(l->diags, l->path, line, col, "unknown %s '%s' in reference '%s'", kind, name, ref);
}

static void check_ref(Loader *l, const RefScope *sc, const TemplateRef *tr, unsigned line, unsigned col)
{
        _cleanup_free_ const char **cand = NULL;
        const Playbook *pb = l->pb;
        const char *ref = tr->path;

        switch (tr->kind) {
        case REF_PARAM:
                if (tr->field) {
                        diag_error(l->diags, l->path, line, col, "invalid reference '%s' (expected params.NAME)",
                                   ref);
                        return;
                }
                if (playbook_find_param(pb, tr->name))
                        return;
                cand = xcalloc(pb->n_params + 1, sizeof(char *));
                for (size_t i = 0; i < pb->n_params; i++)
                        cand[i] = pb->params[i].name;
                report_unknown_name(l, line, col, "parameter", tr->name, ref, cand, pb->n_params);
                return;

        case REF_STEPS: {
                const Step *s = NULL;
                size_t idx = 0;

                if (!tr->field) {
                        diag_error(l->diags, l->path, line, col,
                                   "invalid reference '%s' (expected steps.STEP.FIELD)", ref);
                        return;
                }
                for (size_t i = 0; i < pb->n_steps; i++)
                        if (streq_ptr(pb->steps[i].name, tr->name)) {
                                s = &pb->steps[i];
                                idx = i;
                                break;
                        }
                if (!s) {
                        bool rb = false;
                        for (size_t i = 0; i < pb->n_steps && !rb; i++)
                                rb = pb->steps[i].rollback && streq_ptr(pb->steps[i].rollback->name, tr->name);
                        if (rb) {
                                diag_error(l->diags, l->path, line, col,
                                           "reference '%s': '%s' is a rollback step, whose results cannot be "
                                           "referenced",
                                           ref, tr->name);
                                return;
                        }
                        cand = xcalloc(pb->n_steps + 1, sizeof(char *));
                        for (size_t i = 0; i < pb->n_steps; i++)
                                cand[i] = pb->steps[i].name;
                        report_unknown_name(l, line, col, "step", tr->name, ref, cand, pb->n_steps);
                        return;
                }
                if (idx >= sc->n_earlier) {
                        diag_error(l->diags, l->path, line, col,
                                   "reference '%s': step '%s' does not run before this point (only earlier "
                                   "steps can be referenced)",
                                   ref, tr->name);
                        return;
                }
                if (!s->register_result) {
                        diag_error(l->diags, l->path, line, col,
                                   "reference '%s': step '%s' does not have 'register: true'", ref, tr->name);
                        return;
                }
                if (!step_field_is_valid(tr->field))
                        diag_error(l->diags, l->path, line, col,
                                   "unknown field '%.*s' in reference '%s' (expected stdout, stderr, exit_status, "
                                   "http_status, body or json.PATH)",
                                   (int) template_ref_field_head(tr), tr->field, ref);
                return;
        }

        case REF_STEP:
                if (!sc->allow_step) {
                        diag_error(l->diags, l->path, line, col,
                                   "reference '%s': step.* is only available in expect.that (use "
                                   "steps.NAME.FIELD for an earlier registered step)",
                                   ref);
                        return;
                }
                if (!step_field_is_valid(tr->field))
                        diag_error(l->diags, l->path, line, col,
                                   "unknown field '%.*s' in reference '%s' (expected stdout, stderr, exit_status, "
                                   "http_status, body or json.PATH)",
                                   (int) template_ref_field_head(tr), tr->field, ref);
                return;

        case REF_TARGET: {
                static const char *const host_fields[] = { "name", "address", "port", "user", "site", NULL };
                static const char *const group_fields[] = { "name", "hosts", NULL };
                static const char *const endpoint_fields[] = { "name", "url", "site", NULL };
                const char *const *fields;
                const Target *t;

                if (!tr->field || strchr(tr->field, '.')) {
                        diag_error(l->diags, l->path, line, col,
                                   "invalid reference '%s' (expected targets.TARGET.FIELD)", ref);
                        return;
                }
                t = playbook_find_target(pb, tr->name);
                if (!t) {
                        cand = xcalloc(pb->n_targets + 1, sizeof(char *));
                        for (size_t i = 0; i < pb->n_targets; i++)
                                cand[i] = pb->targets[i].name;
                        report_unknown_name(l, line, col, "target", tr->name, ref, cand, pb->n_targets);
                        return;
                }
                fields = t->kind == TARGET_HOST    ? host_fields
                         : t->kind == TARGET_GROUP ? group_fields
                                                   : endpoint_fields;
                for (size_t i = 0; fields[i]; i++)
                        if (streq(fields[i], tr->field))
                                return;
                {
                        StrBuf b = STRBUF_INIT;
                        for (size_t i = 0; fields[i]; i++)
                                strbuf_printf(&b, "%s%s", i ? ", " : "", fields[i]);
                        diag_error(l->diags, l->path, line, col,
                                   "unknown field '%s' in reference '%s' for a %s target (expected %s)", tr->field,
                                   ref, target_kind_to_string(t->kind), strbuf_str(&b));
                        strbuf_done(&b);
                }
                return;
        }

        case REF_HOST: {
                static const char *const fields[] = { "name", "address", "port", "user", "site" };

                if (!sc->allow_host) {
                        diag_error(l->diags, l->path, line, col,
                                   "reference '%s': host.* is only available inside an ssh step's command", ref);
                        return;
                }
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (streq(fields[i], tr->field))
                                return;
                diag_error(l->diags, l->path, line, col,
                           "unknown field in reference '%s' (expected host.name, host.address, host.port, "
                           "host.user or host.site)",
                           ref);
                return;
        }

        case REF_SECRET:
                if (config_find_secret(l->config, tr->name))
                        return;
                cand = xcalloc(l->config->n_secrets + 1, sizeof(char *));
                for (size_t i = 0; i < l->config->n_secrets; i++)
                        cand[i] = l->config->secrets[i].name;
                report_unknown_name(l, line, col, "secret", tr->name, ref, cand, l->config->n_secrets);
                return;

        case REF_RUN: {
                static const char *const fields[] = { "id", "playbook", "actor", "trigger", "mode" };

                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (streq(fields[i], tr->field))
                                return;
                diag_error(l->diags, l->path, line, col,
                           "unknown field in reference '%s' (expected run.id, run.playbook, run.actor, "
                           "run.trigger or run.mode)",
                           ref);
                return;
        }

        default: {
                static const char *const roots[] = { "params", "steps", "step",   "targets",
                                                     "host",   "secrets", "run" };
                _cleanup_free_ char *root = xstrndup(ref, strcspn(ref, "."));
                const char *near = string_nearest(root, roots, ELEMENTSOF(roots));

                if (near)
                        diag_error(l->diags, l->path, line, col, "unknown reference '%s' (did you mean '%s.…'?)",
                                   ref, near);
                else
                        diag_error(l->diags, l->path, line, col,
                                   "unknown reference '%s' (references start with params, steps, targets, host, "
                                   "secrets, run or step)",
                                   ref);
        }
        }
}

/* Parse scalar n as a template into t and check its references. Returns 0 or -EINVAL. */
static int load_template(Loader *l, const YNode *n, const char *what, const RefScope *sc, Template *t)
{
        unsigned col;
        bool exact;
        int r;

        if (n->kind != YNODE_SCALAR) {
                ynode_error(l->diags, n, "%s must be a string, not a %s", what, ynode_kind_to_string(n->kind));
                return -EINVAL;
        }
        scalar_origin(l, n, &col, &exact);
        r = template_parse_at(t, n->scalar, l->path, n->line, col, exact, l->diags);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_parts; i++)
                if (t->parts[i].is_ref)
                        check_ref(l, sc, &t->parts[i].ref, n->line, exact ? col + t->parts[i].col - 1 : col);
        return 0;
}

static int load_condition(Loader *l, const YNode *n, const char *what, const RefScope *sc, Condition *c)
{
        unsigned col;
        bool exact;
        int r;

        if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
                ynode_error(l->diags, n, "%s must be a condition string", what);
                return -EINVAL;
        }
        scalar_origin(l, n, &col, &exact);
        r = condition_parse_at(c, n->scalar, l->path, n->line, col, exact, l->diags);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_ref_items; i++)
                check_ref(l, sc, &c->ref_items[i], n->line, exact ? col + c->ref_items[i].col - 1 : col);
        return 0;
}

/* A JSON number as written in JSON (so it may be passed through verbatim). */
static bool is_json_number(const char *s)
{
        const char *p = s;

        if (*p == '-')
                p++;
        if (*p == '0')
                p++;
        else if (*p >= '1' && *p <= '9')
                while (isdigit((unsigned char) *p))
                        p++;
        else
                return false;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return false;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!isdigit((unsigned char) *p))
                        return false;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        return *p == '\0';
}

/* Append literal JSON syntax to both the body's source text and its template. */
static void json_put(StrBuf *b, Template *t, const char *text)
{
        template_put_literal(t, text, 1 + (unsigned) b->len);
        strbuf_puts(b, text);
}

/* Append s as JSON string content: with '$' written "$$" in the source text (which is
 * template syntax), as is in the template's literal part. */
static void json_put_escaped(StrBuf *b, Template *t, const char *s)
{
        StrBuf e = STRBUF_INIT;

        strbuf_put_json_escaped(&e, s, false);
        template_put_literal(t, strbuf_str(&e), 1 + (unsigned) b->len);
        strbuf_put_json_escaped(b, s, true);
        strbuf_done(&e);
}

/* Serialise n as JSON into b (the body as written, with ${...} kept) and into t: the
 * literal JSON syntax as text parts, each reference as the typed part load_template()
 * parsed, so the body is never parsed a second time. */
static int json_serialise(Loader *l, const YNode *n, const RefScope *sc, StrBuf *b, Template *t)
{
        int r = 0;

        switch (n->kind) {
        case YNODE_MAPPING:
                json_put(b, t, "{");
                for (size_t i = 0; i < n->n_items; i++) {
                        if (i > 0)
                                json_put(b, t, ", ");
                        json_put(b, t, "\"");
                        json_put_escaped(b, t, n->keys[i]->kind == YNODE_SCALAR ? n->keys[i]->scalar : "");
                        json_put(b, t, "\": ");
                        if (json_serialise(l, n->items[i], sc, b, t) < 0)
                                r = -EINVAL;
                }
                json_put(b, t, "}");
                return r;
        case YNODE_SEQUENCE:
                json_put(b, t, "[");
                for (size_t i = 0; i < n->n_items; i++) {
                        if (i > 0)
                                json_put(b, t, ", ");
                        if (json_serialise(l, n->items[i], sc, b, t) < 0)
                                r = -EINVAL;
                }
                json_put(b, t, "]");
                return r;
        case YNODE_SCALAR: {
                Template v;

                if (n->plain && !strstr(n->scalar, "${")) {
                        if (ynode_is_null(n)) {
                                json_put(b, t, "null");
                                return 0;
                        }
                        if (streq(n->scalar, "true") || streq(n->scalar, "false") || is_json_number(n->scalar)) {
                                json_put(b, t, n->scalar);
                                return 0;
                        }
                }
                r = load_template(l, n, "a json value", sc, &v);
                if (r < 0)
                        return r;
                json_put(b, t, "\"");
                for (size_t i = 0; i < v.n_parts; i++)
                        if (v.parts[i].is_ref) {
                                strbuf_printf(b, "${%s}", v.parts[i].text);
                                template_put_ref(t, &v.parts[i].ref);
                        } else
                                json_put_escaped(b, t, v.parts[i].text);
                json_put(b, t, "\"");
                template_done(&v);
                return 0;
        }
        }
        return -EINVAL;
}

static const Target *lookup_target(Loader *l, const YNode *n, const char *step_kind)
{
        const Target *t = playbook_find_target(l->pb, n->scalar);

        if (!t) {
                _cleanup_free_ const char **cand = xcalloc(l->pb->n_targets + 1, sizeof(char *));
                const char *near;

                for (size_t i = 0; i < l->pb->n_targets; i++)
                        cand[i] = l->pb->targets[i].name;
                near = string_nearest(n->scalar, cand, l->pb->n_targets);
                if (near)
                        ynode_error(l->diags, n, "unknown target '%.64s' (did you mean '%s'?)", n->scalar, near);
                else
                        ynode_error(l->diags, n, "unknown target '%.64s' (declare it under targets:)", n->scalar);
        }
        return t;
}

static bool url_is_absolute(const char *s)
{
        return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* url + target rules shared by http and notify. */
static void check_url_target(Loader *l, const YNode *url, const Target *target, bool has_target, const char *what)
{
        if (!url)
                return;
        if (has_target && url_is_absolute(url->scalar))
                ynode_error(l->diags, url,
                            "%s: with a target, url is a path appended to the endpoint's URL, not an absolute "
                            "URL",
                            what);
        else if (!has_target && !url_is_absolute(url->scalar))
                ynode_error(l->diags, url, "%s: without a target, url must be an absolute http:// or https:// URL",
                            what);
}

static const char *const ssh_keys[] = { "target", "command", "parallel", NULL };
static const char *const http_keys[] = { "target", "method", "url", "headers", "body", "json", NULL };
static const char *const local_keys[] = { "argv", "shell", NULL };
static const char *const approve_keys[] = { "prompt", "timeout", NULL };
static const char *const notify_keys[] = { "target", "url", "message", NULL };
static const char *const wait_for_keys[] = { "ssh", "http", "expect", "interval", NULL };
static const char *const expect_keys[] = { "status", "exit_status", "contains", "matches", "json", "that", NULL };
static const char *const step_keys[] = { "name",     "ssh",     "http",        "local",   "wait_for",
                                         "approve",  "notify",  "sleep",       "timeout", "retries",
                                         "retry_delay", "backoff", "when",     "register", "expect",
                                         "on_failure", "rollback", "idempotent", NULL };

static int load_ssh(Loader *l, const YNode *m, Step *s, const RefScope *base)
{
        const char *target = NULL;
        const YNode *cmd;
        RefScope sc = *base;
        uint64_t par = PLAYBOOK_DEFAULT_PARALLEL;

        if (!ynode_expect(m, YNODE_MAPPING, "ssh", l->diags))
                return -EINVAL;
        ynode_check_keys(m, ssh_keys, "ssh", l->diags);
        if (ynode_get_string(m, "target", "ssh", true, &target, l->diags) > 0) {
                const Target *t = lookup_target(l, ynode_get(m, "target"), "ssh");
                s->ssh.target = xstrdup(target);
                if (t && t->kind == TARGET_ENDPOINT)
                        ynode_error(l->diags, ynode_get(m, "target"),
                                    "ssh needs a host or group target; '%.64s' is an endpoint", target);
        }
        cmd = ynode_get(m, "command");
        if (!cmd)
                ynode_error(l->diags, m, "missing required key 'command' in ssh");
        else {
                sc.allow_host = true;
                sc.where = "ssh command";
                (void) load_template(l, cmd, "ssh: command", &sc, &s->ssh.command);
        }
        if (ynode_get_uint(m, "parallel", "ssh", false, 1, PLAYBOOK_MAX_PARALLEL, &par, l->diags) >= 0)
                s->ssh.parallel = (unsigned) par;
        return 0;
}

static int load_http(Loader *l, const YNode *m, Step *s, const RefScope *sc)
{
        static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" };
        const char *target = NULL, *method = NULL;
        const YNode *url, *headers, *body, *json;
        bool has_target = false;

        if (!ynode_expect(m, YNODE_MAPPING, "http", l->diags))
                return -EINVAL;
        ynode_check_keys(m, http_keys, "http", l->diags);
        if (ynode_get_string(m, "target", "http", false, &target, l->diags) > 0) {
                const Target *t = lookup_target(l, ynode_get(m, "target"), "http");
                has_target = true;
                s->http.target = xstrdup(target);
                if (t && t->kind != TARGET_ENDPOINT)
                        ynode_error(l->diags, ynode_get(m, "target"),
                                    "http needs an endpoint target; '%.64s' is a %s", target,
                                    target_kind_to_string(t->kind));
        }
        if (ynode_get_string(m, "method", "http", false, &method, l->diags) > 0) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(methods) && !ok; i++)
                        ok = streq(methods[i], method);
                if (!ok)
                        ynode_error(l->diags, ynode_get(m, "method"),
                                    "unknown HTTP method '%.64s' (expected GET, POST, PUT, PATCH, DELETE or HEAD)",
                                    method);
        }
        s->http.method = xstrdup(method ?: "GET");

        url = ynode_get(m, "url");
        if (!url)
                ynode_error(l->diags, m, "missing required key 'url' in http");
        else if (load_template(l, url, "http: url", sc, &s->http.url) >= 0)
                check_url_target(l, url, NULL, has_target, "http");

        headers = ynode_get(m, "headers");
        if (headers && ynode_expect(headers, YNODE_MAPPING, "http: headers", l->diags))
                for (size_t i = 0; i < headers->n_items; i++) {
                        const YNode *k = headers->keys[i];
                        TemplateHeader *h;

                        if (k->kind != YNODE_SCALAR || k->scalar[0] == '\0' ||
                            strpbrk(k->scalar, " \t:\r\n()<>@,;\\\"/[]?={}")) {
                                ynode_error(l->diags, k, "invalid HTTP header name '%.64s'",
                                            k->kind == YNODE_SCALAR ? k->scalar : "");
                                continue;
                        }
                        h = array_push(&s->http.headers, &s->http.n_headers, sizeof(TemplateHeader));
                        h->name = xstrdup(k->scalar);
                        (void) load_template(l, headers->items[i], "http: header value", sc, &h->value);
                }

        body = ynode_get(m, "body");
        json = ynode_get(m, "json");
        if (body && json)
                ynode_error(l->diags, ynode_get_key(m, "json"),
                            "http: 'body' and 'json' are mutually exclusive (write one of them)");
        if (body)
                (void) load_template(l, body, "http: body", sc, &s->http.body);
        if (json) {
                StrBuf b = STRBUF_INIT;
                Template t = {};

                if (json->kind == YNODE_SCALAR)
                        ynode_error(l->diags, json,
                                    "http: json must be a mapping or a sequence (use body: for raw text)");
                else if (json_serialise(l, json, sc, &b, &t) >= 0) {
                        t.source = strbuf_steal(&b);
                        t.path = l->path;
                        t.line = json->line;
                        t.col = json->col;
                        t.json_escape = true;
                        s->http.json_body = t;
                        t = (Template) {};
                }
                template_done(&t);
                strbuf_done(&b);
        }
        return 0;
}

static int load_local(Loader *l, const YNode *m, Step *s, const RefScope *sc)
{
        const YNode *argv, *shell;

        if (!ynode_expect(m, YNODE_MAPPING, "local", l->diags))
                return -EINVAL;
        ynode_check_keys(m, local_keys, "local", l->diags);
        argv = ynode_get(m, "argv");
        shell = ynode_get(m, "shell");
        if (argv && shell) {
                ynode_error(l->diags, ynode_get_key(m, "shell"),
                            "local: 'argv' and 'shell' are mutually exclusive (write one of them)");
                return -EINVAL;
        }
        if (!argv && !shell) {
                ynode_error(l->diags, m, "local needs 'argv' (a list) or 'shell' (a command line)");
                return -EINVAL;
        }
        if (shell)
                return load_template(l, shell, "local: shell", sc, &s->local.shell);
        if (!ynode_expect(argv, YNODE_SEQUENCE, "local: argv", l->diags))
                return -EINVAL;
        if (argv->n_items == 0) {
                ynode_error(l->diags, argv, "local: argv must not be empty");
                return -EINVAL;
        }
        s->local.argv = xcalloc(argv->n_items, sizeof(Template));
        for (size_t i = 0; i < argv->n_items; i++) {
                if (load_template(l, argv->items[i], "local: argv item", sc, &s->local.argv[s->local.argc]) < 0)
                        continue;
                s->local.argc++;
        }
        if (argv->items[0]->kind == YNODE_SCALAR && argv->items[0]->scalar[0] == '\0')
                ynode_error(l->diags, argv->items[0], "local: argv[0] (the program) must not be empty");
        return 0;
}

static int load_approve(Loader *l, const YNode *m, Step *s, const RefScope *sc)
{
        const YNode *prompt;
        usec_t t = PLAYBOOK_DEFAULT_APPROVE_TIMEOUT;

        if (!ynode_expect(m, YNODE_MAPPING, "approve", l->diags))
                return -EINVAL;
        ynode_check_keys(m, approve_keys, "approve", l->diags);
        prompt = ynode_get(m, "prompt");
        if (!prompt)
                ynode_error(l->diags, m, "missing required key 'prompt' in approve");
        else
                (void) load_template(l, prompt, "approve: prompt", sc, &s->approve.prompt);
        if (ynode_get_duration(m, "timeout", "approve", false, &t, l->diags) > 0 && t == 0)
                ynode_error(l->diags, ynode_get(m, "timeout"), "approve: timeout must be greater than 0");
        s->approve.timeout = t;
        return 0;
}

static int load_notify(Loader *l, const YNode *m, Step *s, const RefScope *sc)
{
        const char *target = NULL;
        const YNode *url, *msg;
        bool has_target = false;

        if (!ynode_expect(m, YNODE_MAPPING, "notify", l->diags))
                return -EINVAL;
        ynode_check_keys(m, notify_keys, "notify", l->diags);
        if (ynode_get_string(m, "target", "notify", false, &target, l->diags) > 0) {
                const Target *t = lookup_target(l, ynode_get(m, "target"), "notify");
                has_target = true;
                s->notify.target = xstrdup(target);
                if (t && t->kind != TARGET_ENDPOINT)
                        ynode_error(l->diags, ynode_get(m, "target"),
                                    "notify needs an endpoint target; '%.64s' is a %s", target,
                                    target_kind_to_string(t->kind));
        }
        url = ynode_get(m, "url");
        if (url) {
                if (load_template(l, url, "notify: url", sc, &s->notify.url) >= 0)
                        check_url_target(l, url, NULL, has_target, "notify");
        } else if (!has_target)
                ynode_error(l->diags, m, "notify needs a 'target' (an endpoint) or an absolute 'url'");
        msg = ynode_get(m, "message");
        if (!msg)
                ynode_error(l->diags, m, "missing required key 'message' in notify");
        else
                (void) load_template(l, msg, "notify: message", sc, &s->notify.message);
        return 0;
}

#define REGEX_MAX_LEN 1024
#define REGEX_MAX_EXPANSION 65536

/* glibc's regcomp() copies the subtree of every repetition: stacked or nested
 * quantifiers ("a+++++", "((a{99}){99}){99}") take exponential memory. A playbook
 * is operator-written but still must not be able to exhaust drover's memory at
 * load, so bound the worst-case expansion (product of repetition factors, as if
 * all were nested) and refuse a quantifier applied directly to a quantifier. */
static bool regex_is_tame(const char *re, const char **ret_why)
{
        double expansion = 1;
        bool after_quantifier = false;
        size_t n = strlen(re);

        if (n > REGEX_MAX_LEN) {
                *ret_why = "longer than 1024 characters";
                return false;
        }
        for (size_t i = 0; i < n; i++) {
                char c = re[i];

                if (c == '\\') {
                        i++;
                        after_quantifier = false;
                        continue;
                }
                if (c == '[') {
                        /* Skip a bracket expression: a leading ']' (after an optional '^') is
                         * literal, and [:class:], [.x.], [=x=] may hold ']'. */
                        size_t j = i + 1;
                        if (re[j] == '^')
                                j++;
                        if (re[j] == ']')
                                j++;
                        while (j < n && re[j] != ']') {
                                if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
                                        const char *e = strchr(re + j + 2, re[j + 1]);
                                        while (e && e[1] != ']')
                                                e = strchr(e + 1, re[j + 1]);
                                        j = e ? (size_t) (e - re) + 2 : n;
                                } else
                                        j++;
                        }
                        i = j;
                        after_quantifier = false;
                        continue;
                }
                if (c == '*' || c == '+' || c == '?' || c == '{') {
                        double factor = c == '+' ? 2 : 1;

                        if (c == '{') {
                                char *end;
                                unsigned long lo, hi;

                                /* {n}, {n,} or {n,m}; "{n,}" costs like {n+1} when compiled. */
                                lo = strtoul(re + i + 1, &end, 10);
                                hi = lo;
                                if (*end == ',')
                                        hi = end[1] == '}' ? lo + 1 : strtoul(end + 1, NULL, 10);
                                end = strchr(re + i, '}');
                                if (!end) /* regcomp reports it */
                                        continue;
                                if (lo > 255 || hi > 255) {
                                        *ret_why = "repetition count above 255";
                                        return false;
                                }
                                factor = MAX(MAX(lo, hi), 1UL);
                                i = (size_t) (end - re);
                        }
                        if (after_quantifier) {
                                *ret_why = "a quantifier applied to a quantifier (like '++' or '*{2}')";
                                return false;
                        }
                        expansion *= factor;
                        if (expansion > REGEX_MAX_EXPANSION) {
                                *ret_why = "too many repetitions (it would expand too far when compiled)";
                                return false;
                        }
                        after_quantifier = true;
                        continue;
                }
                after_quantifier = false;
        }
        return true;
}

static void load_expect(Loader *l, const YNode *m, Step *s, const RefScope *base)
{
        bool is_http = s->kind == STEP_HTTP || s->kind == STEP_NOTIFY;
        bool is_cmd = s->kind == STEP_SSH || s->kind == STEP_LOCAL;
        Expect *e = &s->expect;
        const YNode *v;

        if (!ynode_expect(m, YNODE_MAPPING, "expect", l->diags))
                return;
        ynode_check_keys(m, expect_keys, "expect", l->diags);

        if (!is_http && !is_cmd) {
                ynode_error(l->diags, m, "expect is not allowed on a %s step%s", step_kind_to_string(s->kind),
                            s->kind == STEP_WAIT_FOR ? " (put it inside wait_for:, next to the check)" : "");
                return;
        }

        v = ynode_get(m, "status");
        if (v && !is_http)
                ynode_error(l->diags, ynode_get_key(m, "status"),
                            "expect.status is only allowed on http and notify steps (use exit_status)");
        else if (v) {
                const YNode *const *items = v->kind == YNODE_SEQUENCE ? (const YNode *const *) v->items : NULL;
                size_t n = v->kind == YNODE_SEQUENCE ? v->n_items : 1;

                if (v->kind == YNODE_MAPPING || (v->kind == YNODE_SEQUENCE && n == 0))
                        ynode_error(l->diags, v, "expect.status must be an HTTP status or a non-empty list of them");
                else
                        for (size_t i = 0; i < n; i++) {
                                const YNode *it = items ? items[i] : v;
                                char *end;
                                long st;

                                errno = 0;
                                st = it->kind == YNODE_SCALAR ? strtol(it->scalar, &end, 10) : 0;
                                if (it->kind != YNODE_SCALAR || !it->plain || it->scalar[0] == '\0' || *end ||
                                    errno || st < 100 || st > 599) {
                                        ynode_error(l->diags, it, "expect.status: '%.64s' is not an HTTP status "
                                                                  "(100..599)",
                                                    it->kind == YNODE_SCALAR ? it->scalar : "");
                                        continue;
                                }
                                *(int *) array_push(&e->statuses, &e->n_statuses, sizeof(int)) = (int) st;
                        }
        }

        v = ynode_get(m, "exit_status");
        if (v && !is_cmd)
                ynode_error(l->diags, ynode_get_key(m, "exit_status"),
                            "expect.exit_status is only allowed on ssh and local steps (use status)");
        else if (v) {
                uint64_t x;
                if (ynode_get_uint(m, "exit_status", "expect", false, 0, 255, &x, l->diags) > 0) {
                        e->has_exit_status = true;
                        e->exit_status = (int) x;
                }
        }

        v = ynode_get(m, "contains");
        if (v)
                (void) load_template(l, v, "expect.contains", base, &e->contains);

        v = ynode_get(m, "matches");
        if (v && ynode_expect(v, YNODE_SCALAR, "expect.matches", l->diags)) {
                const char *why = NULL;
                regex_t re;
                int r;

                if (!regex_is_tame(v->scalar, &why))
                        ynode_error(l->diags, v, "expect.matches: regular expression refused: %s", why);
                else if ((r = regcomp(&re, v->scalar, REG_EXTENDED | REG_NOSUB)) != 0) {
                        char buf[256];
                        regerror(r, &re, buf, sizeof(buf));
                        ynode_error(l->diags, v, "expect.matches: invalid regular expression: %s", buf);
                } else {
                        regfree(&re);
                        e->matches = xstrdup(v->scalar);
                }
        }

        v = ynode_get(m, "json");
        if (v && !is_http)
                ynode_error(l->diags, ynode_get_key(m, "json"),
                            "expect.json is only allowed on http and notify steps");
        else if (v && ynode_expect(v, YNODE_MAPPING, "expect.json", l->diags))
                for (size_t i = 0; i < v->n_items; i++) {
                        const YNode *k = v->keys[i];
                        JsonCheck *jc;
                        const char *p;
                        bool ok;

                        if (k->kind != YNODE_SCALAR)
                                continue;
                        /* A dotted path with non-empty segments: "data.state", "items.0.id". */
                        p = k->scalar;
                        ok = *p && *p != '.' && p[strlen(p) - 1] != '.' && !strstr(p, "..");
                        if (!ok) {
                                ynode_error(l->diags, k, "expect.json: invalid path '%.64s' (a dotted path like "
                                                         "data.state or items.0.id)",
                                            p);
                                continue;
                        }
                        if (v->items[i]->kind != YNODE_SCALAR) {
                                ynode_error(l->diags, v->items[i],
                                            "expect.json: the expected value of '%.64s' must be a scalar", p);
                                continue;
                        }
                        jc = array_push(&e->json, &e->n_json, sizeof(JsonCheck));
                        jc->path = xstrdup(p);
                        (void) load_template(l, v->items[i], "expect.json value", base, &jc->value);
                }

        v = ynode_get(m, "that");
        if (v) {
                RefScope sc = *base;
                sc.allow_step = true;
                sc.allow_host = false;
                sc.where = "expect.that";
                (void) load_condition(l, v, "expect.that", &sc, &e->that);
        }
}

typedef enum StepRole {
        ROLE_FORWARD,
        ROLE_ROLLBACK,
        ROLE_CHECK,
} StepRole;

static int load_step(Loader *l, const YNode *m, Step *s, size_t index, StepRole role, const Step *parent);

static void load_wait_for(Loader *l, const YNode *m, Step *s, size_t index)
{
        const YNode *ssh, *http;
        Step *c;

        if (!ynode_expect(m, YNODE_MAPPING, "wait_for", l->diags))
                return;
        ynode_check_keys(m, wait_for_keys, "wait_for", l->diags);
        s->wait_for.interval = PLAYBOOK_DEFAULT_WAIT_INTERVAL;
        if (ynode_get_duration(m, "interval", "wait_for", false, &s->wait_for.interval, l->diags) > 0 &&
            s->wait_for.interval == 0)
                ynode_error(l->diags, ynode_get(m, "interval"), "wait_for: interval must be greater than 0");

        ssh = ynode_get(m, "ssh");
        http = ynode_get(m, "http");
        if (ssh && http) {
                ynode_error(l->diags, ynode_get_key(m, "http"),
                            "wait_for has both 'ssh' and 'http' (the check is one of them)");
                return;
        }
        if (!ssh && !http) {
                ynode_error(l->diags, m, "wait_for needs a check: 'ssh' or 'http'");
                return;
        }

        c = s->wait_for.check = xcalloc(1, sizeof(Step));
        c->name = xasprintf("%s/check", s->name ?: "?");
        c->kind = ssh ? STEP_SSH : STEP_HTTP;
        c->path = l->path;
        c->line = (ssh ?: http)->line;
        c->col = (ssh ?: http)->col;
        c->timeout = s->timeout;
        c->retry_delay = l->retry_delay;
        c->backoff = 1;
        c->on_failure = ON_FAILURE_ABORT;
        (void) load_step(l, m, c, index, ROLE_CHECK, s);

        if (c->kind == STEP_SSH && c->ssh.target) {
                const Target *t = playbook_find_target(l->pb, c->ssh.target);
                if (t && t->kind == TARGET_GROUP)
                        ynode_error(l->diags, ynode_get(ssh, "target"),
                                    "wait_for: the ssh check needs a host target, not a group");
        }
}

static bool parse_backoff(Loader *l, const YNode *v, double *ret)
{
        char *end;
        double d;

        if (v->kind != YNODE_SCALAR || !v->plain || v->scalar[0] == '\0') {
                ynode_error(l->diags, v, "backoff must be a number >= 1");
                return false;
        }
        errno = 0;
        d = strtod(v->scalar, &end);
        if (*end || errno || !isfinite(d) || d < 1 || d > 100) {
                ynode_error(l->diags, v, "backoff must be a number between 1 and 100, not '%.64s'", v->scalar);
                return false;
        }
        *ret = d;
        return true;
}

/* Load one step mapping. ROLE_CHECK parses only the action and expect of a wait_for
 * mapping into an already-named check step. */
static int load_step(Loader *l, const YNode *m, Step *s, size_t index, StepRole role, const Step *parent)
{
        static const char *const actions[] = { "ssh", "http", "local", "wait_for", "approve", "notify", "sleep" };
        const YNode *action = NULL, *v;
        const char *action_key = NULL, *name = NULL;
        RefScope sc = {
                /* A rollback runs after its parent completed, so it may use the parent's results. */
                .n_earlier = role == ROLE_ROLLBACK ? index + 1 : index,
        };
        uint64_t u;

        if (!ynode_expect(m, YNODE_MAPPING, role == ROLE_ROLLBACK ? "rollback" : "step", l->diags))
                return -EINVAL;

        if (role != ROLE_CHECK) {
                s->path = l->path;
                s->line = m->line;
                s->col = m->col;
                ynode_check_keys(m, step_keys, role == ROLE_ROLLBACK ? "rollback step" : "step", l->diags);

                if (role == ROLE_ROLLBACK) {
                        if (ynode_get_string(m, "name", "rollback step", false, &name, l->diags) > 0)
                                check_name(l, ynode_get(m, "name"), "step");
                        s->name = name ? xstrdup(name) : xasprintf("%s-rollback", parent->name ?: "?");
                } else if (ynode_get_string(m, "name", "step", true, &name, l->diags) > 0) {
                        check_name(l, ynode_get(m, "name"), "step");
                        s->name = xstrdup(name);
                }
        }

        /* Exactly one action key; in document order, so the error lands on the second one. */
        for (size_t k = 0; k < m->n_items; k++) {
                size_t i;

                if (m->keys[k]->kind != YNODE_SCALAR)
                        continue;
                for (i = 0; i < (role == ROLE_CHECK ? 2 : ELEMENTSOF(actions)); i++)
                        if (streq(m->keys[k]->scalar, actions[i]))
                                break;
                if (i >= (role == ROLE_CHECK ? 2 : ELEMENTSOF(actions)))
                        continue;
                if (action) {
                        ynode_error(l->diags, m->keys[k], "step '%s' has both '%s' and '%s'", s->name ?: "?",
                                    action_key, actions[i]);
                        continue;
                }
                action = m->items[k];
                action_key = actions[i];
                s->kind = (StepKind) i;
        }
        if (!action) {
                if (role != ROLE_CHECK)
                        ynode_error(l->diags, m,
                                    "step '%s' has no action (one of ssh, http, local, wait_for, approve, notify, "
                                    "sleep)",
                                    s->name ?: "?");
                s->kind = _STEP_KIND_INVALID;
                return -EINVAL;
        }

        if (role == ROLE_ROLLBACK && (s->kind == STEP_APPROVE || s->kind == STEP_WAIT_FOR)) {
                ynode_error(l->diags, ynode_get_key(m, action_key),
                            "a rollback step cannot be '%s' (rollbacks must run unattended)", action_key);
                s->kind = _STEP_KIND_INVALID;
                return -EINVAL;
        }

        if (role != ROLE_CHECK) {
                /* Defaults first: the wait_for check inherits the step's timeout. */
                s->timeout = l->timeout;
                s->retries = l->retries;
                s->retry_delay = l->retry_delay;
                s->backoff = l->backoff;
                s->on_failure = ON_FAILURE_ABORT;
                if (ynode_get_duration(m, "timeout", "step", false, &s->timeout, l->diags) > 0 && s->timeout == 0)
                        ynode_error(l->diags, ynode_get(m, "timeout"), "timeout must be greater than 0");
                if (ynode_get_uint(m, "retries", "step", false, 0, PLAYBOOK_MAX_RETRIES, &u, l->diags) > 0)
                        s->retries = (unsigned) u;
                (void) ynode_get_duration(m, "retry_delay", "step", false, &s->retry_delay, l->diags);
                v = ynode_get(m, "backoff");
                if (v)
                        (void) parse_backoff(l, v, &s->backoff);
                (void) ynode_get_bool(m, "idempotent", "step", false, &s->idempotent, l->diags);
        }

        switch (s->kind) {
        case STEP_SSH:
                (void) load_ssh(l, action, s, &sc);
                s->expect.has_exit_status = true;
                s->expect.exit_status = 0;
                break;
        case STEP_HTTP:
                (void) load_http(l, action, s, &sc);
                break;
        case STEP_LOCAL:
                (void) load_local(l, action, s, &sc);
                s->expect.has_exit_status = true;
                s->expect.exit_status = 0;
                break;
        case STEP_WAIT_FOR:
                load_wait_for(l, action, s, index);
                break;
        case STEP_APPROVE:
                (void) load_approve(l, action, s, &sc);
                break;
        case STEP_NOTIFY:
                (void) load_notify(l, action, s, &sc);
                break;
        case STEP_SLEEP:
                if (action->kind != YNODE_SCALAR || parse_duration(action->scalar, &s->sleep) < 0)
                        ynode_error(l->diags, action, "sleep must be a duration (e.g. 500ms, 30s, 2m), not '%.64s'",
                                    action->kind == YNODE_SCALAR ? action->scalar : ynode_kind_to_string(action->kind));
                break;
        default:
                break;
        }

        v = ynode_get(m, "expect");
        if (v)
                load_expect(l, v, s, &sc);
        else if (role == ROLE_CHECK)
                ynode_error(l->diags, m, "wait_for needs an 'expect' (the condition it waits for)");

        if (role == ROLE_CHECK)
                return 0;

        v = ynode_get(m, "when");
        if (v)
                (void) load_condition(l, v, "when", &sc, &s->when);

        if (ynode_get_bool(m, "register", "step", false, &s->register_result, l->diags) > 0 &&
            s->register_result) {
                const YNode *k = ynode_get_key(m, "register");
                if (role == ROLE_ROLLBACK)
                        ynode_error(l->diags, k, "register is not allowed on a rollback step");
                else if (s->kind == STEP_SLEEP || s->kind == STEP_APPROVE)
                        ynode_error(l->diags, k, "register is not allowed on a %s step (it has no result)",
                                    step_kind_to_string(s->kind));
                else if (s->kind == STEP_SSH && s->ssh.target) {
                        const Target *t = playbook_find_target(l->pb, s->ssh.target);
                        if (t && t->kind == TARGET_GROUP)
                                ynode_error(l->diags, k,
                                            "register is not allowed with a group target (one result per host; "
                                            "use a host target)");
                }
        }

        v = ynode_get(m, "on_failure");
        if (v && ynode_expect(v, YNODE_SCALAR, "on_failure", l->diags)) {
                OnFailure f = on_failure_from_string(v->scalar);
                if (f < 0)
                        ynode_error(l->diags, v, "unknown on_failure '%.64s' (expected abort, continue or rollback)",
                                    v->scalar);
                else if (role == ROLE_ROLLBACK && f == ON_FAILURE_ROLLBACK)
                        ynode_error(l->diags, v, "a rollback step cannot have on_failure: rollback");
                else
                        s->on_failure = f;
        }

        v = ynode_get(m, "rollback");
        if (v) {
                if (role == ROLE_ROLLBACK)
                        ynode_error(l->diags, ynode_get_key(m, "rollback"),
                                    "a rollback step cannot have its own rollback (no nested rollbacks)");
                else {
                        s->rollback = xcalloc(1, sizeof(Step));
                        (void) load_step(l, v, s->rollback, index, ROLE_ROLLBACK, s);
                }
        }
        return 0;
}

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
