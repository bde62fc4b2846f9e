/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-output.c — what every droverctl verb shares: loading the config with
 * diagnostics, opening the journal with recovery, who the actor is, colours and
 * JSON lines. Verbs decide; this file only prints and opens.
 */
#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/strbuf.h"

int ctl_load_config(const CtlGlobals *g, Config **ret)
{
        const char *path = g->config_path ? g->config_path : CONFIG_DEFAULT_PATH;
        DiagList diags;
        int r;

        diag_list_init(&diags);
        r = config_load(path, ret, &diags);
        diag_print(&diags, stderr);
        diag_list_done(&diags);
        if (r < 0) {
                if (r != -EINVAL)
                        log_error_errno(r, "cannot load %s: %s", path, strerror(-r));
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

int ctl_open_journal(const CtlGlobals *g, const Config *config, Journal **ret)
{
        const char *path = journal_resolve_path(g->db_path, config ? config->journal_path : NULL);
        unsigned n_runs = 0, n_steps = 0;
        Journal *j;
        int r;

        r = journal_open(path, &j);
        if (r < 0)
                return log_error_errno(r, "cannot open journal %s: %s", path, strerror(-r)), EXIT_INFRA;
        r = journal_recover(j, &n_runs, &n_steps);
        if (r < 0) {
                journal_close(j);
                return log_error_errno(r, "cannot recover journal %s: %s", path, strerror(-r)), EXIT_INFRA;
        }
        if (n_runs > 0)
                log_warning("journal: %u run(s) were left running by a process that died; marked interrupted "
                            "(%u step(s) in flight, outcome unknown). See 'droverctl runs'.",
                            n_runs, n_steps);
        *ret = j;
        return EXIT_OK;
}

char *ctl_actor(void)
{
        struct passwd *pw = getpwuid(getuid());
        const char *sudo = getenv("SUDO_USER");
        const char *name = pw ? pw->pw_name : NULL;

        if (getuid() == 0 && sudo && *sudo && !streq(sudo, "root"))
                return xasprintf("%s (via sudo)", sudo);
        if (name)
                return xstrdup(name);
        return xasprintf("uid:%u", (unsigned) getuid());
}

#define COLOR(fn, code)                                                                                    \
        const char *fn(const CtlGlobals *g)                                                                \
        {                                                                                                  \
                return g->color ? code : "";                                                               \
        }
COLOR(ansi_bold, "\033[1m")
COLOR(ansi_red, "\033[31;1m")
COLOR(ansi_green, "\033[32m")
COLOR(ansi_yellow, "\033[33m")
COLOR(ansi_grey, "\033[2m")
COLOR(ansi_reset, "\033[0m")

const char *run_outcome_color(const CtlGlobals *g, RunOutcome o)
{
        switch (o) {
        case RUN_SUCCEEDED:
                return ansi_green(g);
        case RUN_RUNNING:
                return ansi_grey(g);
        case RUN_ABORTED:
        case RUN_INTERRUPTED:
                return ansi_yellow(g);
        case RUN_FAILED:
                return ansi_red(g);
        default:
                return "";
        }
}

const char *step_outcome_color(const CtlGlobals *g, StepOutcome o)
{
        switch (o) {
        case STEP_OK:
                return ansi_green(g);
        case STEP_SKIPPED:
        case STEP_RUNNING:
                return ansi_grey(g);
        case STEP_INTERRUPTED:
        case STEP_CANCELLED:
                return ansi_yellow(g);
        case STEP_FAILED:
        case STEP_ERROR:
        case STEP_TIMEOUT:
                return ansi_red(g);
        default:
                return "";
        }
}

void ctl_print_json_line(void *json)
{
        json_t *v = json;
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);

        if (s) {
                fputs(s, stdout);
                fputc('\n', stdout);
                fflush(stdout);
        }
        free(s);
        json_decref(v);
}

bool ctl_common_option(CtlGlobals *g, int c, const char *arg)
{
        switch (c) {
        case 'c':
                g->config_path = arg;
                return true;
        case OPT_DB:
                g->db_path = arg;
                return true;
        case OPT_JSON:
                g->json = true;
                return true;
        case OPT_NO_COLOR:
                g->color = false;
                return true;
        case 'v':
                log_set_max_level(LOG_DEBUG);
                return true;
        default:
                return false;
        }
}
