/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * failover-state.c — the shared failover state's key and encoding (see failover-state.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/failover-state.h"
#include "shared/macros.h"
#include "shared/strbuf.h"

void failover_state_done(FailoverState *s)
{
        if (!s)
                return;
        free(s->active_site);
        free(s->node);
        *s = (FailoverState){};
}

char *failover_state_key(const char *prefix)
{
        return xasprintf("%s/state/failover", prefix);
}

int failover_state_format(const FailoverState *s, char **ret)
{
        json_t *o;
        char *text;

        if (!s || !s->node || !*s->node || s->epoch == 0 || s->epoch > INT64_MAX ||
            s->last_auto_switchover > INT64_MAX)
                return -EINVAL;
        o = json_pack("{s:s, s:I, s:I}", "node", s->node, "epoch", (json_int_t) s->epoch,
                      "last_auto_switchover_us", (json_int_t) s->last_auto_switchover);
        if (!o)
                return -ENOMEM;
        if (s->active_site && json_object_set_new(o, "active_site", json_string(s->active_site)) < 0) {
                json_decref(o);
                return -EINVAL; /* not UTF-8 */
        }
        text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int failover_state_parse(const char *json, FailoverState *ret)
{
        json_t *o, *node, *epoch, *site, *last;
        int r = -EBADMSG;

        failover_state_done(ret);
        o = json ? json_loads(json, JSON_REJECT_DUPLICATES, NULL) : NULL;
        node = json_object_get(o, "node");
        epoch = json_object_get(o, "epoch");
        site = json_object_get(o, "active_site");
        last = json_object_get(o, "last_auto_switchover_us");
        if (!json_is_object(o) || !json_is_string(node) || !*json_string_value(node) ||
            !json_is_integer(epoch) || json_integer_value(epoch) <= 0 || (site && !json_is_string(site)) ||
            (last && (!json_is_integer(last) || json_integer_value(last) < 0)))
                goto out;
        *ret = (FailoverState){
                .active_site = site ? xstrdup(json_string_value(site)) : NULL,
                .last_auto_switchover = last ? (usec_t) json_integer_value(last) : 0,
                .node = xstrdup(json_string_value(node)),
                .epoch = (uint64_t) json_integer_value(epoch),
        };
        r = 0;
out:
        json_decref(o);
        return r;
}
