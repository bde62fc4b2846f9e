/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prober-ssh.c — ProberSshOps over a RealExecutor (prober-ssh.h): a ProberSshRequest
 * becomes an ACTION_SSH Action, an ActionResult becomes a ProberSshResult whose
 * strings stay the executor's until the next collect. Called by the prober only,
 * through the ops table.
 */
#include <errno.h>
#include <stdlib.h>

#include "exec/executor-real.h"
#include "exec/prober-ssh.h"
#include "shared/macros.h"
#include "shared/strbuf.h"

typedef struct ProberSshReal {
        RealExecutor *executor;
        ActionResult last; /* handed out by the last collect; freed by the next one */
        bool has_last;
} ProberSshReal;

static void last_done(ProberSshReal *s)
{
        if (s->has_last)
                action_result_done(&s->last);
        s->has_last = false;
}

static int real_new(void **ret)
{
        RealExecutorOptions opts = {.accept_new_host_keys = false};
        ProberSshReal *s;
        int r;

        s = xcalloc(1, sizeof(*s));
        r = real_executor_new(&s->executor, &opts);
        if (r < 0) {
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static void real_free(void *userdata)
{
        ProberSshReal *s = userdata;

        if (!s)
                return;
        last_done(s);
        real_executor_free(s->executor);
        free(s);
}

static int real_get_fd(void *userdata)
{
        ProberSshReal *s = userdata;

        return real_executor_get_fd(s->executor);
}

static int real_submit(void *userdata, const ProberSshRequest *req)
{
        ProberSshReal *s = userdata;
        Executor ex = real_executor_get(s->executor);
        Action a = {
                .kind = ACTION_SSH,
                .tag = req->tag,
                .deadline = req->deadline,
                .output_cap = req->output_cap,
                .host = req->host,
                .command = req->command,
                .input = req->input,
                .input_len = req->input_len,
        };

        return ex.ops->submit(ex.userdata, &a);
}

static int real_collect(void *userdata, ProberSshResult *ret)
{
        ProberSshReal *s = userdata;
        Executor ex = real_executor_get(s->executor);
        ActionResult *a = &s->last;
        int r;

        last_done(s);
        r = ex.ops->wait(ex.userdata, 0, a);
        if (r < 0)
                return r == -ETIME ? -EAGAIN : r;
        s->has_last = true;
        *ret = (ProberSshResult){
                .tag = a->tag,
                .status = a->status == ACTION_DONE      ? PROBER_SSH_DONE
                          : a->status == ACTION_TIMEOUT ? PROBER_SSH_TIMEOUT
                                                        : PROBER_SSH_FAILED,
                .status_name = action_status_to_string(a->status),
                .error = a->error,
                .exit_status = a->exit_status,
                .exit_signal = a->exit_signal,
                .out = a->out,
                .out_len = a->out_len,
                .out_truncated = a->out_truncated,
                .err = a->err,
                .started = a->started,
                .finished = a->finished,
        };
        return 0;
}

const ProberSshOps prober_ssh_real_ops = {
        .new = real_new,
        .free = real_free,
        .get_fd = real_get_fd,
        .submit = real_submit,
        .collect = real_collect,
};
