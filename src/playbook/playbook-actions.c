/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook-actions.c — the loader's step actions: ssh, http (with its JSON body
 * built from the parsed parts), local, approve, notify, and the expect block
 * (regexes checked for tameness).
 *
 * Owns: the key tables of each action and of expect and their load-time rules.
 * Does not own: the step mapping around them (playbook-step.c). Called by
 * load_step() through playbook-internal.h.
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

static const char *const expect_keys[] = { "status", "exit_status", "contains", "matches", "json", "that", NULL };


int load_ssh(Loader *l, const YNode *m, Step *s, const RefScope *base)
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

int load_http(Loader *l, const YNode *m, Step *s, const RefScope *sc)
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

int load_local(Loader *l, const YNode *m, Step *s, const RefScope *sc)
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

int load_approve(Loader *l, const YNode *m, Step *s, const RefScope *sc)
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

int load_notify(Loader *l, const YNode *m, Step *s, const RefScope *sc)
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

void load_expect(Loader *l, const YNode *m, Step *s, const RefScope *base)
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
