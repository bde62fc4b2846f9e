/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook-step.c — the loader's step mapping: name, action, timeouts and retries,
 * when/register/on_failure, wait_for, and the rollback step under it.
 *
 * Owns: the step key table and the rules that tie a step's parts together. Does not
 * own: the actions (playbook-actions.c) or the reference checks (playbook-refs.c).
 * Called by playbook_parse() (playbook.c) through playbook-internal.h.
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

static const char *const wait_for_keys[] = { "ssh", "http", "expect", "interval", NULL };

static const char *const step_keys[] = { "name",     "ssh",     "http",        "local",   "wait_for",
                                         "approve",  "notify",  "sleep",       "timeout", "retries",
                                         "retry_delay", "backoff", "when",     "register", "expect",
                                         "on_failure", "rollback", "idempotent", NULL };

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

bool parse_backoff(Loader *l, const YNode *v, double *ret)
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
int load_step(Loader *l, const YNode *m, Step *s, size_t index, StepRole role, const Step *parent)
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
