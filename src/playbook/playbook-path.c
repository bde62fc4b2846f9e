/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook-path.c — see playbook-path.h. Looks at the file system (access()), nothing more.
 */
#include <string.h>
#include <unistd.h>

#include "playbook/playbook-path.h"
#include "shared/strbuf.h"

char *playbook_resolve_path(const Config *config, const char *arg)
{
        _cleanup_free_ char *dir = NULL;
        char *p;

        if (strchr(arg, '/') || access(arg, F_OK) == 0)
                return xstrdup(arg);
        if (config->playbook_dir) {
                p = xasprintf("%s/%s.yaml", config->playbook_dir, arg);
                if (access(p, F_OK) == 0)
                        return p;
                free(p);
        }
        const char *slash = strrchr(config->path, '/');
        dir = slash ? xstrndup(config->path, (size_t) (slash - config->path)) : xstrdup(".");
        p = xasprintf("%s/playbooks/%s.yaml", dir, arg);
        if (access(p, F_OK) == 0)
                return p;
        free(p);
        return xstrdup(arg);
}
