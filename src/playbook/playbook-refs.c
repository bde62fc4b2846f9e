/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook-refs.c — the loader's checks of names and ${...} references.
 *
 * Owns: playbook-declared name rules, locating a scalar's columns in the file, the
 * load-time check of every typed TemplateRef (does the parameter, step, target,
 * secret or field exist, and may it be referenced here), and load_template() /
 * load_condition(), which parse a scalar once and check its references. Called by
 * the rest of the loader (playbook*.c) through playbook-internal.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/yaml-node.h"
#include "playbook/playbook-internal.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

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

bool check_name(Loader *l, const YNode *n, const char *what)
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
int load_template(Loader *l, const YNode *n, const char *what, const RefScope *sc, Template *t)
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

int load_condition(Loader *l, const YNode *n, const char *what, const RefScope *sc, Condition *c)
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
