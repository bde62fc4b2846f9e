/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-drill.c — `droverctl drill …`: start a drill (tabletop: walk the plan with the
 * participants answering each step on stdin; live: inject the scenario's fault, run the
 * playbooks for real, measure the achieved RTO/RPO, clear the fault), list drill runs
 * and show one, the annual status (every playbook's last drill, overdue drills), the
 * evaluation and the improvement actions.
 *
 * Owns: the drill verbs' options, output and the decisions a drill run makes (outcome,
 * objectives met). Does not own: running a playbook (ctl-run.c's ctl_run_playbook with
 * the engine), the drill format (src/drill/), storage (journal.c, journal-drill.c).
 *
 * This file: the helpers the verbs share and the dispatch. The verbs live in
 * ctl-drill-start.c (start), ctl-drill-show.c (runs, show, status) and
 * ctl-drill-eval.c (evaluate, actions, action, timer); ctl-drill-internal.h
 * declares what they share.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/yaml-node.h"
#include "ctl/ctl-drill-internal.h"
#include "drill/drill.h"
#include "journal/journal-drill.h"
#include "shared/diag.h"
#include "shared/log.h"
#include "shared/spawn.h"
#include "shared/strbuf.h"
#include "shared/strv.h"

#ifndef DROVER_DRILL_DIR
#define DROVER_DRILL_DIR "/usr/share/drover/drills"
#endif

extern char **environ;

/* ---------------------------------------------------------------- helpers */

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? xstrndup(path, (size_t) (slash - path)) : xstrdup(".");
}

char *playbook_dir_for(const Config *config)
{
        _cleanup_free_ char *d = NULL;

        if (config->playbook_dir)
                return xstrdup(config->playbook_dir);
        d = dir_of(config->path);
        return xasprintf("%s/playbooks", d);
}

/* Where drills are looked up by name, in order: $DROVER_DRILL_DIR, drills/ beside the
 * config (/etc/drover/drills: the site's own), drills/ beside the playbook directory,
 * the installed ones. */
char **drill_dirs(const Config *config)
{
        _cleanup_free_ char *pb = playbook_dir_for(config), *cd = dir_of(config->path);
        char **v = xcalloc(5, sizeof(char *));
        size_t n = 0;
        const char *e = getenv("DROVER_DRILL_DIR");

        if (e && *e)
                v[n++] = xstrdup(e);
        v[n++] = xasprintf("%s/drills", cd);
        v[n++] = xasprintf("%s/../drills", pb);
        v[n++] = xstrdup(DROVER_DRILL_DIR);
        return v;
}

char *resolve_drill(const Config *config, const char *arg)
{
        _cleanup_strv_free_ char **dirs = NULL;

        if (strchr(arg, '/') || access(arg, F_OK) == 0)
                return xstrdup(arg);
        dirs = drill_dirs(config);
        for (char **d = dirs; *d; d++) {
                char *p = xasprintf("%s/%s.yaml", *d, arg);
                if (access(p, F_OK) == 0)
                        return p;
                free(p);
        }
        return xstrdup(arg);
}

int open_drill_journal(CtlGlobals *g, const Config *config, Journal **ret_j, JournalDrill **ret_d)
{
        const char *path = journal_resolve_path(g->db_path, config ? config->journal_path : NULL);
        unsigned n = 0;
        int r;

        r = ctl_open_journal(g, config, ret_j);
        if (r != EXIT_OK)
                return r;
        r = journal_drill_open(path, ret_d);
        if (r < 0) {
                *ret_j = journal_close(*ret_j);
                return log_error_errno(r, "cannot open the drill tables of %s: %s", path, strerror(-r)),
                       EXIT_INFRA;
        }
        (void) journal_drill_recover(*ret_d, &n);
        if (n > 0)
                log_warning("journal: %u drill run(s) were left running by a process that died; marked "
                            "interrupted.",
                            n);
        return EXIT_OK;
}

/* For the verbs that write: drover.yaml is needed, then the journal it names. */
int open_drill_journal_with_config(CtlGlobals *g, Config **config, Journal **ret_j,
                                          JournalDrill **ret_d)
{
        int r = ctl_load_config(g, config);
        if (r != EXIT_OK)
                return r;
        return open_drill_journal(g, *config, ret_j, ret_d);
}

/* Like ctl-runs.c: the journal can be read without a valid drover.yaml via --db/$DROVER_DB. */
int open_drill_journal_for_reading(CtlGlobals *g, Config **config, Journal **ret_j,
                                          JournalDrill **ret_d)
{
        if (!g->db_path && !getenv(JOURNAL_ENV))
                return open_drill_journal_with_config(g, config, ret_j, ret_d);
        return open_drill_journal(g, *config, ret_j, ret_d);
}

int parse_id(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end || v <= 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

char *fmt_ts(usec_t t)
{
        char b[FORMAT_TIMESTAMP_MAX];
        return t ? xstrdup(format_timestamp(b, t)) : xstrdup("-");
}

char *fmt_us(int64_t us)
{
        char b[FORMAT_DURATION_MAX];
        return us >= 0 ? xstrdup(format_duration(b, (usec_t) us)) : xstrdup("-");
}

/* Run a scenario command (inject/clear) with a deadline; its output goes to stderr so
 * that --json output stays clean. Returns the exit status (>= 0) or -errno/-ETIME. */
int run_command(const DrillCommand *c)
{
        usec_t deadline = usec_add(now_usec(CLOCK_MONOTONIC), c->timeout ?: DRILL_DEFAULT_COMMAND_TIMEOUT);
        int fds[] = {SPAWN_FD_DEVNULL, STDERR_FILENO, STDERR_FILENO};
        pid_t pid;
        int r, status;

        /* The commander's own environment and PATH (a scenario runs their tools). */
        r = spawn(&(SpawnOptions){.path = c->argv[0],
                                  .argv = c->argv,
                                  .envp = environ,
                                  .fds = fds,
                                  .n_fds = ELEMENTSOF(fds),
                                  .search_path = getenv("PATH") ?: "/bin:/usr/bin"},
                  &pid, NULL);
        if (r < 0)
                return r;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (now_usec(CLOCK_MONOTONIC) >= deadline) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        return -ETIME;
                }
                (void) usleep(10000);
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

char *participants_json(const Drill *d)
{
        json_t *a = json_array();
        char *s, *r;

        for (size_t i = 0; i < d->n_participants; i++)
                json_array_append_new(a, json_pack("{s:s, s:s}", "name", strempty(d->participants[i].name),
                                                   "role", drill_role_to_string(d->participants[i].role)));
        s = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        r = xstrdup(s ?: "[]");
        free(s);
        return r;
}

/* ---------------------------------------------------------------- dispatch */

int verb_drill(CtlGlobals *g, int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*run)(CtlGlobals *g, int argc, char **argv);
        } subs[] = {
                {"start", drill_start},   {"runs", drill_runs},         {"show", drill_show},
                {"status", drill_status}, {"evaluate", drill_evaluate}, {"actions", drill_actions},
                {"action", drill_action}, {"timer", drill_timer},
        };

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help_drill();
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                if (streq(argv[1], subs[i].name)) {
                        optind = 0;
                        return subs[i].run(g, argc - 1, argv + 1);
                }
        log_error("unknown 'drill %s'; see 'droverctl drill --help'", argv[1]);
        return EXIT_USAGE;
}
