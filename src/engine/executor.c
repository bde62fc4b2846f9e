/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * executor.c — the small shared helpers of the executor seam (executor.h): the
 * ActionStatus string table and freeing an ActionResult. Owns nothing else; the
 * real executor lives in exec/, the fake one in fake-executor.c. Used by both and
 * by the engine.
 */
#include <stdlib.h>

#include "engine/executor.h"

static const char *const action_status_table[_ACTION_STATUS_MAX] = {
        [ACTION_DONE] = "done",
        [ACTION_TIMEOUT] = "timeout",
        [ACTION_CANCELLED] = "cancelled",
        [ACTION_CONNECT_FAILED] = "connect-failed",
        [ACTION_HOSTKEY_REJECTED] = "hostkey-rejected",
        [ACTION_AUTH_FAILED] = "auth-failed",
        [ACTION_FAILED] = "failed",
};

const char *action_status_to_string(ActionStatus s)
{
        if (s < 0 || s >= _ACTION_STATUS_MAX)
                return NULL;
        return action_status_table[s];
}

void action_result_done(ActionResult *r)
{
        if (!r)
                return;
        free(r->exit_signal);
        free(r->out);
        free(r->err);
        free(r->error);
        *r = (ActionResult) { .exit_status = -1 };
}
