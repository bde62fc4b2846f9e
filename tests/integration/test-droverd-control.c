/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-droverd-control.c — droverd with a command channel on stdin, for the tests of the
 * commander's surface (manager.h) before and besides the D-Bus API: the same Manager,
 * the same loop, plus one command per input line, each answered by one JSON line on
 * stdout; the observer's calls are printed as JSON lines too. Not installed.
 *
 *   test-droverd-control --config FILE [--db FILE]   (NOTIFY_SOCKET etc. as droverd)
 *   commands:
 *     sites | runs
 *     start PLAYBOOK ACTOR [TRIGGER [INCIDENT [KEY=VALUE...]]]
 *     dry-run PLAYBOOK ACTOR [KEY=VALUE...]
 *     answer run|incident ID yes|no ACTOR [COMMENT...]
 *     abort RUN ACTOR | ack ID ACTOR | note ID ACTOR TEXT... | reload ACTOR
 *     maintenance SITE on|off ACTOR | override SITE|all on|off ACTOR
 * Every answer is {"cmd": …, "r": 0 or -errno, …}. EOF on stdin changes nothing (the
 * daemon keeps running until SIGTERM).
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/manager.h"
#include "shared/log.h"
#include "shared/strbuf.h"

typedef struct Ctl {
        Manager *m;
        StrBuf line;
        sd_event_source *in;
} Ctl;

static void out(json_t *o)
{
        char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        if (s) {
                printf("%s\n", s);
                fflush(stdout);
        }
        free(s);
}

static void obs_site(void *u, const ManagerSite *s)
{
        out(json_pack("{s:s, s:s, s:s, s:i, s:b, s:b}", "observer", "site_changed", "site", s->name,
                      "health", s->health, "level", s->level, "active", s->active, "maintenance",
                      s->maintenance));
}

static void obs_incident(void *u, int64_t id, const char *state, int level)
{
        out(json_pack("{s:s, s:I, s:s, s:i}", "observer", "incident_changed", "id", (json_int_t) id, "state",
                      state, "level", level));
}

static void obs_run(void *u, const ManagerRun *r)
{
        out(json_pack("{s:s, s:I, s:s, s:s, s:s?, s:i, s:i}", "observer", "run_changed", "id",
                      (json_int_t) r->id, "playbook", r->playbook, "state",
                      manager_run_state_to_string(r->state), "outcome",
                      run_outcome_is_final(r->outcome) ? run_outcome_to_string(r->outcome) : NULL, "steps_done",
                      (int) r->steps_done, "steps_total", (int) r->steps_total));
}

static void obs_approval(void *u, const char *kind, int64_t id, const char *prompt)
{
        out(json_pack("{s:s, s:s, s:I, s:s}", "observer", "approval_requested", "kind", kind, "id",
                      (json_int_t) id, "prompt", prompt));
}

static json_t *sites_json(Manager *m, int *r)
{
        ManagerSite *s = NULL;
        size_t n = 0;
        json_t *a = json_array();

        *r = manager_list_sites(m, &s, &n);
        for (size_t i = 0; *r >= 0 && i < n; i++)
                json_array_append_new(a,
                                      json_pack("{s:s, s:s, s:s, s:i, s:b, s:b}", "name", s[i].name, "role",
                                                s[i].role, "health", s[i].health, "level", s[i].level,
                                                "active", s[i].active, "maintenance", s[i].maintenance));
        manager_site_free_array(s, n);
        return a;
}

static json_t *runs_json(Manager *m, int *r)
{
        ManagerRun *a = NULL;
        size_t n = 0;
        json_t *l = json_array();

        *r = manager_list_runs(m, &a, &n);
        for (size_t i = 0; *r >= 0 && i < n; i++)
                json_array_append_new(
                        l,
                        json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?, s:s?, s:i, s:i}", "id",
                                  (json_int_t) a[i].id, "playbook", a[i].playbook, "trigger", a[i].trigger,
                                  "actor", a[i].actor, "incident", (json_int_t) a[i].incident_id, "state",
                                  manager_run_state_to_string(a[i].state), "step", a[i].current_step,
                                  "outcome",
                                  run_outcome_is_final(a[i].outcome) ? run_outcome_to_string(a[i].outcome) : NULL,
                                  "prompt", a[i].pending_prompt, "steps_done",
                                  (int) a[i].steps_done, "steps_total", (int) a[i].steps_total));
        manager_run_free_array(a, n);
        return l;
}

/* Words of a line, split on spaces (no quoting; the rest of the line for free text). */
static size_t split(char *s, char **w, size_t max)
{
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(s, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
                w[n++] = t;
        return n;
}

static char *rest(char **w, size_t n, size_t from)
{
        StrBuf b = STRBUF_INIT;
        for (size_t i = from; i < n; i++)
                strbuf_printf(&b, "%s%s", i > from ? " " : "", w[i]);
        return b.len ? strbuf_steal(&b) : NULL;
}

static void command(Ctl *c, char *line)
{
        char *w[64];
        size_t n = split(line, w, ELEMENTSOF(w));
        json_t *o;
        int r = -EINVAL;

        if (n == 0)
                return;
        o = json_pack("{s:s}", "cmd", w[0]);
        if (streq(w[0], "sites"))
                json_object_set_new(o, "sites", sites_json(c->m, &r));
        else if (streq(w[0], "runs"))
                json_object_set_new(o, "runs", runs_json(c->m, &r));
        else if ((streq(w[0], "start") || streq(w[0], "dry-run")) && n >= 3) {
                bool dry = streq(w[0], "dry-run");
                ParamValue p[32];
                size_t np = 0, first = dry ? 3 : 5;
                char *error = NULL, *plan = NULL;
                int64_t id = 0;
                for (size_t i = first; i < n && np < ELEMENTSOF(p); i++) {
                        char *eq = strchr(w[i], '=');
                        if (!eq)
                                continue;
                        *eq = '\0';
                        p[np++] = (ParamValue){.name = w[i], .value = eq + 1};
                }
                r = manager_start_run(c->m,
                                      &(ManagerRunRequest){
                                              .playbook = w[1],
                                              .actor = w[2],
                                              .trigger = !dry && n > 3 ? w[3] : "manual",
                                              .incident_id = !dry && n > 4 ? strtoll(w[4], NULL, 10) : 0,
                                              .params = p,
                                              .n_params = np,
                                              .dry_run = dry,
                                      },
                                      &id, &plan, &error);
                json_object_set_new(o, "run", json_integer(id));
                if (error)
                        json_object_set_new(o, "error", json_string(error));
                if (plan)
                        json_object_set_new(o, "plan", json_string(plan));
                free(error);
                free(plan);
        } else if (streq(w[0], "answer") && n >= 5) {
                _cleanup_free_ char *comment = rest(w, n, 5);
                r = manager_answer(c->m, w[1], strtoll(w[2], NULL, 10), streq(w[3], "yes"), w[4], comment);
        } else if (streq(w[0], "abort") && n == 3)
                r = manager_abort_run(c->m, strtoll(w[1], NULL, 10), w[2]);
        else if (streq(w[0], "ack") && n == 3)
                r = manager_ack_incident(c->m, strtoll(w[1], NULL, 10), w[2]);
        else if (streq(w[0], "note") && n >= 4) {
                _cleanup_free_ char *text = rest(w, n, 3);
                r = manager_note_incident(c->m, strtoll(w[1], NULL, 10), w[2], text);
        } else if (streq(w[0], "reload") && n == 2)
                r = manager_request_reload(c->m, w[1]);
        else if (streq(w[0], "maintenance") && n == 4)
                r = manager_set_maintenance(c->m, w[1], streq(w[2], "on"), w[3]);
        else if (streq(w[0], "override") && n == 4)
                r = manager_set_override(c->m, streq(w[1], "all") ? NULL : w[1], streq(w[2], "on"), w[3]);
        json_object_set_new(o, "r", json_integer(r));
        out(o);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Ctl *c = userdata;
        char buf[1024];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n <= 0) {
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] != '\n') {
                        strbuf_putc(&c->line, buf[i]);
                        continue;
                }
                _cleanup_free_ char *l = strbuf_steal(&c->line);
                command(c, l ?: (char *) "");
        }
        return 0;
}

int main(int argc, char **argv)
{
        _cleanup_(manager_freep) Manager *m = NULL;
        const char *config = NULL, *db = NULL;
        Ctl c = {.line = STRBUF_INIT};
        int r;

        log_set_program("droverd");
        for (int i = 1; i + 1 < argc; i += 2) {
                if (streq(argv[i], "--config"))
                        config = argv[i + 1];
                else if (streq(argv[i], "--db"))
                        db = argv[i + 1];
        }
        if (getenv("DROVERD_DEBUG"))
                log_set_max_level(LOG_DEBUG);
        (void) signal(SIGPIPE, SIG_IGN);
        r = manager_new(&m, config, db);
        if (r < 0)
                return 3;
        r = manager_startup(m);
        if (r < 0)
                return r == -EINVAL ? 2 : 3;
        c.m = m;
        manager_set_observer(m, &(ManagerObserver){
                                        .userdata = &c,
                                        .site_changed = obs_site,
                                        .incident_changed = obs_incident,
                                        .run_changed = obs_run,
                                        .approval_requested = obs_approval,
                                });
        r = sd_event_add_io(manager_get_event(m), &c.in, STDIN_FILENO, EPOLLIN, on_stdin, &c);
        if (r < 0)
                return 3;
        r = manager_run(m);
        sd_event_source_disable_unref(c.in);
        strbuf_done(&c.line);
        return r < 0 ? 3 : 0;
}
