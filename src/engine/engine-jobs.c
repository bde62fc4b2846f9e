/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine-jobs.c — turning a step into jobs (one action per target: ssh hosts,
 * http and notify endpoints, local commands) and judging each result against the
 * step's expect block.
 *
 * Owns: target resolution and host filters, URL joining and endpoint headers,
 * action details for events and dry runs, the verdict on one result. Called by
 * engine-step.c and engine.c through engine-internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <string.h>

#include "engine/engine-internal.h"

/* ---------------------------------------------------------------- jobs: one action per target */


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

void jobs_free(Job *jobs, size_t n)
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
int engine_resolve_hosts(Engine *e, const char *target, const Host ***ret, size_t *ret_n, char **ret_error)
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

/* An http or notify step's target (a target name whose ref is an endpoint), or none:
 * *ret stays NULL when name is NULL. */
static int find_endpoint_target(Engine *e, const char *name, const Endpoint **ret, char **ret_error)
{
        const Target *t;

        if (!name)
                return 0;
        t = engine_find_target(e, name, ret_error);
        if (!t)
                return -ENOENT;
        *ret = config_find_endpoint(e->config, t->ref);
        if (!*ret) {
                *ret_error = xasprintf("endpoint '%s' is not in the inventory", t->ref);
                return -ENOENT;
        }
        return 0;
}

static int engine_build_http_job(Engine *e, const Step *step, Job **jobs, size_t *n, char **ret_error)
{
        const HttpAction *h = &step->http;
        Scope sc = { .e = e };
        _cleanup_free_ char *path = NULL;
        const Endpoint *ep = NULL;
        Job *j;
        int r;

        r = find_endpoint_target(e, h->target, &ep, ret_error);
        if (r < 0)
                return r;
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

        r = find_endpoint_target(e, na->target, &ep, ret_error);
        if (r < 0)
                return r;
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

int engine_build_jobs(Engine *e, const Step *step, char *const *host_filter, Job **ret, size_t *ret_n,
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

StepOutcome engine_judge(Engine *e, const Step *step, Job *j, const ActionResult *res, char **ret_error)
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
