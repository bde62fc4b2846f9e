/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-executor.c — see fake-executor.h. A deterministic executor for tests:
 * completions happen in fake-time order, ties in submit order.
 */
#include <string.h>

#include "engine/fake-executor.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

typedef struct FakeRule {
        ActionKind kind;
        char *pattern;
        unsigned times; /* 0 = forever */
        unsigned used;
        FakeResult res;
        char *out, *err, *error, *exit_signal; /* owned copies */
} FakeRule;

typedef struct FakeInFlight {
        uint64_t tag;
        usec_t started;
        usec_t finish; /* USEC_INFINITY: hangs */
        ActionStatus status;
        FakeResult res;
        bool ignore_cancel;
        size_t seq;
} FakeInFlight;

struct FakeExecutor {
        usec_t now;
        FakeRule *rules;
        size_t n_rules;
        FakeAction *submitted;
        size_t n_submitted;
        FakeInFlight *flight;
        size_t n_flight;
        unsigned max_in_flight;
        unsigned n_cancel_all;
        unsigned n_infinite_waits;
        bool interrupted;
        usec_t hook_at;
        void (*hook)(void *userdata);
        void *hook_userdata;
};

int fake_executor_new(FakeExecutor **ret)
{
        FakeExecutor *f = xcalloc(1, sizeof(FakeExecutor));

        f->now = FAKE_EXECUTOR_EPOCH;
        f->hook_at = USEC_INFINITY;
        *ret = f;
        return 0;
}

FakeExecutor *fake_executor_free(FakeExecutor *f)
{
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_rules; i++) {
                free(f->rules[i].pattern);
                free(f->rules[i].out);
                free(f->rules[i].err);
                free(f->rules[i].error);
                free(f->rules[i].exit_signal);
        }
        free(f->rules);
        for (size_t i = 0; i < f->n_submitted; i++) {
                FakeAction *a = &f->submitted[i];
                free(a->key);
                free(a->host);
                free(a->command);
                free(a->method);
                free(a->url);
                strv_free(a->headers);
                free(a->body);
                strv_free(a->argv);
        }
        free(f->submitted);
        free(f->flight);
        free(f);
        return NULL;
}

void fake_executor_script(FakeExecutor *f, ActionKind kind, const char *pattern, unsigned times,
                          const FakeResult *res)
{
        FakeRule *r = array_push(&f->rules, &f->n_rules, sizeof(FakeRule));

        r->kind = kind;
        r->pattern = xstrdup(pattern);
        r->times = times;
        r->res = *res;
        r->out = xstrdup(res->out);
        r->err = xstrdup(res->err);
        r->error = xstrdup(res->error);
        r->exit_signal = xstrdup(res->exit_signal);
        r->res.out = r->out;
        r->res.err = r->err;
        r->res.error = r->error;
        r->res.exit_signal = r->exit_signal;
}

void fake_executor_at(FakeExecutor *f, usec_t at, void (*hook)(void *userdata), void *userdata)
{
        f->hook_at = at;
        f->hook = hook;
        f->hook_userdata = userdata;
}

static int fake_submit(void *userdata, const Action *action)
{
        FakeExecutor *f = userdata;
        FakeAction *a = array_push(&f->submitted, &f->n_submitted, sizeof(FakeAction));
        FakeResult res = { .status = ACTION_DONE };
        FakeInFlight *fl;
        StrBuf key = STRBUF_INIT;

        a->kind = action->kind;
        a->tag = action->tag;
        a->submitted = f->now;
        a->deadline = action->deadline;
        switch (action->kind) {
        case ACTION_SSH:
                a->host = xstrdup(action->host->name);
                a->command = xstrdup(action->command);
                strbuf_printf(&key, "%s: %s", a->host, a->command);
                break;
        case ACTION_HTTP:
                a->method = xstrdup(action->method);
                a->url = xstrdup(action->url);
                a->headers = strv_copy(action->headers);
                a->body = action->body ? xstrndup(action->body, action->body_len) : NULL;
                strbuf_printf(&key, "%s %s", a->method, a->url);
                break;
        case ACTION_LOCAL:
                a->argv = strv_copy(action->argv);
                for (size_t i = 0; a->argv && a->argv[i]; i++)
                        strbuf_printf(&key, "%s%s", i > 0 ? " " : "", a->argv[i]);
                break;
        default:
                return -EINVAL;
        }
        a->key = strbuf_steal(&key);

        for (size_t i = 0; i < f->n_rules; i++) {
                FakeRule *r = &f->rules[i];

                if (r->kind != action->kind || (r->times > 0 && r->used >= r->times))
                        continue;
                if (r->pattern && !strstr(a->key, r->pattern))
                        continue;
                r->used++;
                res = r->res;
                break;
        }

        fl = array_push(&f->flight, &f->n_flight, sizeof(FakeInFlight));
        fl->tag = action->tag;
        fl->started = f->now;
        fl->res = res;
        fl->status = res.status;
        fl->seq = f->n_submitted;
        fl->ignore_cancel = res.ignore_cancel;
        if (res.hang)
                fl->finish = USEC_INFINITY;
        else {
                fl->finish = usec_add(f->now, res.delay > 0 ? res.delay : FAKE_EXECUTOR_DEFAULT_DELAY);
                if (fl->finish > action->deadline) {
                        fl->finish = MAX(action->deadline, f->now);
                        fl->status = ACTION_TIMEOUT;
                }
        }
        if (f->n_flight > f->max_in_flight)
                f->max_in_flight = (unsigned) f->n_flight;
        return 0;
}

static void fake_fill(FakeExecutor *f, const FakeInFlight *fl, ActionResult *ret, bool is_http)
{
        *ret = (ActionResult) {
                .tag = fl->tag,
                .status = fl->status,
                .exit_status = -1,
                .started = fl->started,
                .finished = f->now,
        };
        if (fl->status == ACTION_DONE) {
                ret->exit_status = is_http ? -1 : fl->res.exit_status;
                ret->exit_signal = xstrdup(fl->res.exit_signal);
                ret->http_status = is_http ? (fl->res.http_status ? fl->res.http_status : 200) : 0;
                ret->out = xstrdup(strempty(fl->res.out));
                ret->out_len = strlen(ret->out);
                if (!is_http) {
                        ret->err = xstrdup(strempty(fl->res.err));
                        ret->err_len = strlen(ret->err);
                }
        } else if (fl->status == ACTION_TIMEOUT)
                ret->error = xstrdup("deadline reached");
        else if (fl->status == ACTION_CANCELLED)
                ret->error = xstrdup("cancelled");
        else
                ret->error = xstrdup(fl->res.error ? fl->res.error : "fake failure");
}

static bool fake_is_http(FakeExecutor *f, uint64_t tag)
{
        for (size_t i = 0; i < f->n_submitted; i++)
                if (f->submitted[i].tag == tag)
                        return f->submitted[i].kind == ACTION_HTTP;
        return false;
}

static int fake_wait(void *userdata, usec_t until, ActionResult *ret)
{
        FakeExecutor *f = userdata;
        size_t best = SIZE_MAX;
        usec_t next;

        if (f->interrupted) {
                f->interrupted = false;
                return -EINTR;
        }
        until = MAX(until, f->now); /* 0 = poll: whatever is done by now */

        for (size_t i = 0; i < f->n_flight; i++)
                if (best == SIZE_MAX || f->flight[i].finish < f->flight[best].finish ||
                    (f->flight[i].finish == f->flight[best].finish && f->flight[i].seq < f->flight[best].seq))
                        best = i;
        next = best == SIZE_MAX ? USEC_INFINITY : f->flight[best].finish;

        if (f->hook && f->hook_at <= MIN(next, until)) {
                void (*hook)(void *) = f->hook;

                f->now = MAX(f->now, f->hook_at);
                f->hook = NULL;
                hook(f->hook_userdata);
                if (f->interrupted) {
                        f->interrupted = false;
                        return -EINTR;
                }
        }

        if (best != SIZE_MAX && next <= until) {
                FakeInFlight fl = f->flight[best];

                f->now = MAX(f->now, next);
                memmove(&f->flight[best], &f->flight[best + 1], (f->n_flight - best - 1) * sizeof(FakeInFlight));
                f->n_flight--;
                fake_fill(f, &fl, ret, fake_is_http(f, fl.tag));
                return 0;
        }
        if (until == USEC_INFINITY) {
                /* Would block forever: the engine must never do this. */
                f->n_infinite_waits++;
                return -EDEADLK;
        }
        f->now = until;
        return -ETIME;
}

static void fake_cancel_all(void *userdata)
{
        FakeExecutor *f = userdata;

        f->n_cancel_all++;
        for (size_t i = 0; i < f->n_flight; i++) {
                if (f->flight[i].ignore_cancel)
                        continue;
                f->flight[i].status = ACTION_CANCELLED;
                f->flight[i].finish = f->now;
        }
}

static void fake_interrupt(void *userdata)
{
        FakeExecutor *f = userdata;

        f->interrupted = true;
}

static usec_t fake_now(void *userdata)
{
        FakeExecutor *f = userdata;

        return f->now;
}

static usec_t fake_now_realtime(void *userdata)
{
        FakeExecutor *f = userdata;

        return FAKE_EXECUTOR_REALTIME_BASE + f->now;
}

static const ExecutorOps fake_ops = {
        .submit = fake_submit,
        .wait = fake_wait,
        .cancel_all = fake_cancel_all,
        .interrupt = fake_interrupt,
        .now = fake_now,
        .now_realtime = fake_now_realtime,
};

Executor fake_executor_get(FakeExecutor *f)
{
        return (Executor) { .ops = &fake_ops, .userdata = f };
}

size_t fake_executor_n_submitted(const FakeExecutor *f)
{
        return f->n_submitted;
}

const FakeAction *fake_executor_submitted(const FakeExecutor *f, size_t i)
{
        return i < f->n_submitted ? &f->submitted[i] : NULL;
}

ssize_t fake_executor_find(const FakeExecutor *f, const char *pattern, size_t from)
{
        for (size_t i = from; i < f->n_submitted; i++)
                if (strstr(f->submitted[i].key, pattern))
                        return (ssize_t) i;
        return -1;
}

unsigned fake_executor_max_in_flight(const FakeExecutor *f)
{
        return f->max_in_flight;
}

unsigned fake_executor_n_cancel_all(const FakeExecutor *f)
{
        return f->n_cancel_all;
}

unsigned fake_executor_n_infinite_waits(const FakeExecutor *f)
{
        return f->n_infinite_waits;
}

usec_t fake_executor_now(const FakeExecutor *f)
{
        return f->now;
}
