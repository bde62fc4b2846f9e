/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * drill.c — loads a drill file into a Drill and checks everything that can be checked
 * before a drill: keys, types, roles, fault kinds, sites and vendors against the
 * inventory, that every playbook exists and loads, that the params given to it check
 * against its declarations, objectives naming real steps, the schedule.
 *
 * Owns: the drill schema (key tables below), load-time validation, the schedule
 * arithmetic and the $DROVER_NOW test clock. Does not own: YAML hygiene (yaml-node.c),
 * the playbook language (playbook.c), running or journaling drills (ctl-drill.c,
 * journal-drill.c). Called by droverctl, the tests and fuzz-drill.
 *
 * Like the playbook loader it reports every problem, then refuses the whole file.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/yaml-node.h"
#include "drill/drill.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

#define DRILL_NAME_MAX         64
#define DRILL_MAX_EVERY_MONTHS 120

static const char *const drill_mode_table[_DRILL_MODE_MAX] = {
        [DRILL_MODE_TABLETOP] = "tabletop",
        [DRILL_MODE_LIVE] = "live",
};

static const char *const fault_kind_table[_FAULT_KIND_MAX] = {
        [FAULT_SITE_DOWN] = "site-down",
        [FAULT_LINK_DOWN] = "link-down",
        [FAULT_KILL_SERVICE] = "kill-service",
        [FAULT_KILL_DB] = "kill-db",
        [FAULT_LOSS] = "loss",
        [FAULT_DELAY] = "delay",
        [FAULT_PARTITION] = "partition",
        [FAULT_VENDOR_ERRORS] = "vendor-errors",
        [FAULT_VENDOR_BREACH] = "vendor-breach",
        [FAULT_DATA_LOSS] = "data-loss",
        [FAULT_DATA_LEAK] = "data-leak",
        [FAULT_NETWORK_ATTACK] = "network-attack",
        [FAULT_BUSINESS_INTERRUPTION] = "business-interruption",
        [FAULT_CUSTOMER_COMPLAINTS] = "customer-complaints",
        [FAULT_CUSTOM] = "custom",
};

static const char *const drill_role_table[_DRILL_ROLE_MAX] = {
        [DRILL_ROLE_COMMAND_CENTRE] = "command-centre",
        [DRILL_ROLE_DUTY_OFFICE] = "duty-office",
        [DRILL_ROLE_TECHNICAL_SUPPORT] = "technical-support",
        [DRILL_ROLE_BUSINESS_OPERATIONS] = "business-operations",
        [DRILL_ROLE_RISK] = "risk",
        [DRILL_ROLE_SECURITY] = "security",
        [DRILL_ROLE_SUPPORT_STAFF] = "support-staff",
};

DEFINE_STRING_TABLE(drill_mode, DrillMode, drill_mode_table)
DEFINE_STRING_TABLE(fault_kind, FaultKind, fault_kind_table)
DEFINE_STRING_TABLE(drill_role, DrillRole, drill_role_table)

/* ---- freeing (accepts half-built objects) ---- */

static void drill_command_done(DrillCommand *c)
{
        strv_free(c->argv);
        *c = (DrillCommand){};
}

Drill *drill_free(Drill *d)
{
        if (!d)
                return NULL;
        free(d->path);
        free(d->name);
        free(d->purpose);
        free(d->scenario.site);
        free(d->scenario.vendor);
        strv_free(d->scenario.args);
        free(d->scenario.description);
        drill_command_done(&d->scenario.inject);
        drill_command_done(&d->scenario.clear);
        for (size_t i = 0; i < d->n_playbooks; i++) {
                DrillPlaybook *p = &d->playbooks[i];
                free(p->name);
                free(p->path);
                for (size_t k = 0; k < p->n_params; k++) {
                        free(p->params[k].name);
                        free(p->params[k].value);
                }
                free(p->params);
                playbook_free(p->playbook);
        }
        free(d->playbooks);
        for (size_t i = 0; i < d->n_participants; i++)
                free(d->participants[i].name);
        free(d->participants);
        free(d->objectives.recovered_at);
        free(d->objectives.rpo_from);
        strv_free(d->objectives.must_succeed);
        free(d->schedule.on_calendar);
        free(d);
        return NULL;
}

/* ---- the loader ---- */

typedef struct Loader {
        const char *path;
        const Config *config;
        const char *playbook_dir;
        DiagList *diags;
        Drill *d;
} Loader;

static bool name_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > DRILL_NAME_MAX || !isalnum((unsigned char) s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-')
                        return false;
        return true;
}

/* "did you mean" over a string table. */
static void error_unknown(Loader *l, const YNode *n, const char *what, const char *const *table,
                          size_t n_table, const char *expected)
{
        const char *near = string_nearest(n->scalar, table, n_table);

        if (near)
                ynode_error(l->diags, n, "unknown %s '%.64s' (did you mean '%s'?)", what, n->scalar, near);
        else
                ynode_error(l->diags, n, "unknown %s '%.64s' (expected %s)", what, n->scalar, expected);
}

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? xstrndup(path, (size_t) (slash - path)) : xstrdup(".");
}

/* A sequence of strings, NULL-terminated; NULL on a type error (reported). */
static char **load_strv(Loader *l, const YNode *n, const char *what, size_t max)
{
        char **v;

        if (!ynode_expect(n, YNODE_SEQUENCE, what, l->diags))
                return NULL;
        if (n->n_items > max) {
                ynode_error(l->diags, n->items[max], "%s: too many items (at most %zu)", what, max);
                return NULL;
        }
        v = xcalloc(n->n_items + 1, sizeof(char *));
        for (size_t i = 0, k = 0; i < n->n_items; i++) {
                if (!ynode_expect(n->items[i], YNODE_SCALAR, what, l->diags) || ynode_is_null(n->items[i])) {
                        if (n->items[i]->kind == YNODE_SCALAR)
                                ynode_error(l->diags, n->items[i], "%s: empty item", what);
                        strv_free(v);
                        return NULL;
                }
                v[k++] = xstrdup(n->items[i]->scalar);
        }
        return v;
}

static void load_command(Loader *l, const YNode *n, const char *what, usec_t timeout, DrillCommand *c)
{
        _cleanup_free_ char *dir = NULL;

        c->line = n->line;
        c->col = n->col;
        c->timeout = timeout;
        c->argv = load_strv(l, n, what, DRILL_MAX_ARGV);
        if (!c->argv)
                return;
        if (!c->argv[0]) {
                ynode_error(l->diags, n, "%s must name a program", what);
                return;
        }
        /* A relative program path is relative to the drill file, so that a drill shipped
         * beside drills/lab/ finds lab.sh wherever the tree is. Bare names go through PATH. */
        if (c->argv[0][0] != '/' && strchr(c->argv[0], '/')) {
                char *abs;
                dir = dir_of(l->path);
                abs = xasprintf("%s/%s", dir, c->argv[0]);
                free(c->argv[0]);
                c->argv[0] = abs;
        }
}

static void load_scenario(Loader *l, const YNode *m)
{
        static const char *const keys[] = {"fault",  "site",  "vendor",  "args", "description",
                                           "inject", "clear", "timeout", NULL};
        DrillScenario *s = &l->d->scenario;
        usec_t timeout = DRILL_DEFAULT_COMMAND_TIMEOUT;
        const char *v = NULL;
        const YNode *x;

        s->fault = _FAULT_KIND_INVALID;
        if (!ynode_expect(m, YNODE_MAPPING, "scenario", l->diags))
                return;
        ynode_check_keys(m, keys, "scenario", l->diags);
        if (ynode_get_string(m, "fault", "scenario", true, &v, l->diags) > 0) {
                s->fault = fault_kind_from_string(v);
                if (s->fault < 0)
                        error_unknown(l, ynode_get(m, "fault"), "fault kind", fault_kind_table,
                                      _FAULT_KIND_MAX,
                                      "site-down, link-down, kill-service, kill-db, loss, delay, partition, "
                                      "vendor-errors, vendor-breach, data-loss, data-leak, network-attack, "
                                      "business-interruption, customer-complaints or custom");
        }
        if (ynode_get_string(m, "site", "scenario", false, &v, l->diags) > 0) {
                s->site = xstrdup(v);
                if (!config_find_site(l->config, v)) {
                        _cleanup_free_ const char **cand = xcalloc(l->config->n_sites + 1, sizeof(char *));
                        const char *near;
                        for (size_t i = 0; i < l->config->n_sites; i++)
                                cand[i] = l->config->sites[i].name;
                        near = string_nearest(v, cand, l->config->n_sites);
                        ynode_error(l->diags, ynode_get(m, "site"), "unknown site '%.64s' in %s%s%s%s", v,
                                    l->config->path ?: "inventory", near ? " (did you mean '" : "",
                                    near ?: "", near ? "'?)" : "");
                }
        }
        if (ynode_get_string(m, "vendor", "scenario", false, &v, l->diags) > 0) {
                s->vendor = xstrdup(v);
                if (!config_find_vendor(l->config, v)) {
                        _cleanup_free_ const char **cand = xcalloc(l->config->n_vendors + 1, sizeof(char *));
                        const char *near;
                        for (size_t i = 0; i < l->config->n_vendors; i++)
                                cand[i] = l->config->vendors[i].name;
                        near = string_nearest(v, cand, l->config->n_vendors);
                        ynode_error(l->diags, ynode_get(m, "vendor"), "unknown vendor '%.64s' in %s%s%s%s",
                                    v, l->config->path ?: "inventory", near ? " (did you mean '" : "",
                                    near ?: "", near ? "'?)" : "");
                }
        }
        if (s->site && s->vendor)
                ynode_error(l->diags, ynode_get_key(m, "vendor"),
                            "a scenario names a site or a vendor, not both");
        if (ynode_get_string(m, "description", "scenario", false, &v, l->diags) > 0)
                s->description = xstrdup(v);
        x = ynode_get(m, "args");
        if (x)
                s->args = load_strv(l, x, "scenario args", DRILL_MAX_ARGV);
        if (ynode_get_duration(m, "timeout", "scenario", false, &timeout, l->diags) > 0 && timeout == 0)
                ynode_error(l->diags, ynode_get(m, "timeout"), "timeout must be greater than 0");
        x = ynode_get(m, "inject");
        if (x)
                load_command(l, x, "scenario inject", timeout, &s->inject);
        x = ynode_get(m, "clear");
        if (x)
                load_command(l, x, "scenario clear", timeout, &s->clear);
        if (s->inject.argv && !ynode_get(m, "clear"))
                ynode_error(l->diags, ynode_get_key(m, "inject"),
                            "scenario has 'inject' but no 'clear': a drill must undo the fault it injects");
}

/* Playbook names found in dir, for "did you mean". */
static char **list_playbook_names(const char *dir)
{
        char **v = NULL;
        size_t n = 0;
        DIR *dp = dir ? opendir(dir) : NULL;
        struct dirent *de;

        if (!dp)
                return xcalloc(1, sizeof(char *));
        while ((de = readdir(dp)) && n < 1024) {
                size_t len = strlen(de->d_name);
                if (len > 5 && streq(de->d_name + len - 5, ".yaml") && de->d_name[0] != '.') {
                        v = xrealloc(v, (n + 2) * sizeof(char *));
                        v[n++] = xstrndup(de->d_name, len - 5);
                        v[n] = NULL;
                }
        }
        closedir(dp);
        return v ?: xcalloc(1, sizeof(char *));
}

static char *playbook_dir_of(Loader *l)
{
        if (l->playbook_dir)
                return xstrdup(l->playbook_dir);
        if (l->config->playbook_dir)
                return xstrdup(l->config->playbook_dir);
        if (l->config->path) {
                _cleanup_free_ char *d = dir_of(l->config->path);
                return xasprintf("%s/playbooks", d);
        }
        return xstrdup("playbooks");
}

static void load_drill_playbook(Loader *l, const YNode *item, DrillPlaybook *dp)
{
        static const char *const keys[] = {"name", "params", NULL};
        _cleanup_free_ char *dir = playbook_dir_of(l);
        const YNode *name_node = item, *params = NULL;
        Playbook *pb = NULL;
        int r;

        dp->line = item->line;
        dp->col = item->col;
        if (item->kind == YNODE_MAPPING) {
                const char *s = NULL;
                ynode_check_keys(item, keys, "drill playbook", l->diags);
                if (ynode_get_string(item, "name", "drill playbook", true, &s, l->diags) <= 0)
                        return;
                name_node = ynode_get(item, "name");
                params = ynode_get(item, "params");
        } else if (!ynode_expect(item, YNODE_SCALAR, "a playbook (a name or {name, params})", l->diags))
                return;
        if (ynode_is_null(name_node)) {
                ynode_error(l->diags, name_node, "empty playbook name");
                return;
        }
        dp->name = xstrdup(name_node->scalar);
        if (strchr(dp->name, '/'))
                dp->path = xstrdup(dp->name);
        else
                dp->path = xasprintf("%s/%s.yaml", dir, dp->name);

        if (access(dp->path, F_OK) < 0) {
                _cleanup_strv_free_ char **names = list_playbook_names(dir);
                size_t n = 0;
                const char *near;
                while (names[n])
                        n++;
                near = string_nearest(dp->name, (const char *const *) names, n);
                ynode_error(l->diags, name_node, "unknown playbook '%.64s' (no %s)%s%s%s", dp->name,
                            dp->path, near ? " (did you mean '" : "", near ?: "", near ? "'?)" : "");
                return;
        }
        r = playbook_load(dp->path, l->config, &pb, l->diags);
        if (r < 0) {
                ynode_error(l->diags, name_node, "playbook '%.64s' does not load (see the errors in %s)",
                            dp->name, dp->path);
                return;
        }
        dp->playbook = pb;

        if (params && !ynode_is_null(params) && ynode_expect(params, YNODE_MAPPING, "params", l->diags)) {
                dp->params = xcalloc(params->n_items + 1, sizeof(DrillParam));
                for (size_t i = 0; i < params->n_items; i++) {
                        const YNode *k = params->keys[i], *v = params->items[i];
                        const Param *p = playbook_find_param(pb, k->scalar);
                        DrillParam *x;

                        if (!p) {
                                _cleanup_free_ const char **cand = xcalloc(pb->n_params + 1, sizeof(char *));
                                const char *near;
                                for (size_t j = 0; j < pb->n_params; j++)
                                        cand[j] = pb->params[j].name;
                                near = string_nearest(k->scalar, cand, pb->n_params);
                                ynode_error(l->diags, k, "playbook '%s' has no parameter '%.64s'%s%s%s",
                                            pb->name, k->scalar, near ? " (did you mean '" : "", near ?: "",
                                            near ? "'?)" : "");
                                continue;
                        }
                        if (p->secret) {
                                ynode_error(l->diags, k,
                                            "parameter '%s' is secret: secrets are never written in drills",
                                            p->name);
                                continue;
                        }
                        if (v->kind != YNODE_SCALAR || ynode_is_null(v)) {
                                ynode_error(l->diags, v, "value of parameter '%s' must be a scalar",
                                            p->name);
                                continue;
                        }
                        x = &dp->params[dp->n_params++];
                        x->name = xstrdup(k->scalar);
                        x->line = v->line;
                        x->col = v->col;
                        /* A value with a drill variable is known only at run time; the engine
                         * checks it then. Everything else is checked now. */
                        if (strstr(v->scalar, "${")) {
                                if (!strstr(v->scalar, DRILL_VAR_FAULT_AT) &&
                                    !strstr(v->scalar, DRILL_VAR_NAME)) {
                                        ynode_error(l->diags, v,
                                                    "unknown reference in '%.64s' (a drill knows "
                                                    "${drill.fault_at} "
                                                    "and ${drill.name})",
                                                    v->scalar);
                                        continue;
                                }
                                x->value = xstrdup(v->scalar);
                        } else {
                                _cleanup_free_ char *norm = NULL, *err = NULL;
                                if (param_check_value(p, v->scalar, &norm, &err) < 0) {
                                        ynode_error(l->diags, v, "parameter '%s' of playbook '%s': %s",
                                                    p->name, pb->name, err);
                                        continue;
                                }
                                x->value = TAKE_PTR(norm);
                        }
                }
        }
        for (size_t i = 0; i < pb->n_params; i++) {
                const Param *p = &pb->params[i];
                bool given = false;

                if (!p->required || p->secret)
                        continue;
                for (size_t k = 0; params && params->kind == YNODE_MAPPING && k < params->n_items; k++)
                        if (params->keys[k]->kind == YNODE_SCALAR && streq(params->keys[k]->scalar, p->name))
                                given = true;
                if (!given)
                        ynode_error(l->diags, name_node, "playbook '%s' needs parameter '%s' (required)",
                                    pb->name, p->name);
        }
}

static void load_playbooks(Loader *l, const YNode *m)
{
        Drill *d = l->d;

        if (!ynode_expect(m, YNODE_SEQUENCE, "playbooks", l->diags))
                return;
        if (m->n_items == 0) {
                ynode_error(l->diags, m, "playbooks must name at least one playbook");
                return;
        }
        if (m->n_items > DRILL_MAX_PLAYBOOKS) {
                ynode_error(l->diags, m->items[DRILL_MAX_PLAYBOOKS], "too many playbooks (at most %d)",
                            DRILL_MAX_PLAYBOOKS);
                return;
        }
        d->playbooks = xcalloc(m->n_items, sizeof(DrillPlaybook));
        for (size_t i = 0; i < m->n_items; i++)
                load_drill_playbook(l, m->items[i], &d->playbooks[d->n_playbooks++]);
}

static void load_participants(Loader *l, const YNode *m)
{
        static const char *const keys[] = {"name", "role", NULL};
        Drill *d = l->d;

        if (!ynode_expect(m, YNODE_SEQUENCE, "participants", l->diags))
                return;
        if (m->n_items == 0) {
                ynode_error(l->diags, m, "participants must name at least one person");
                return;
        }
        if (m->n_items > DRILL_MAX_PARTICIPANTS) {
                ynode_error(l->diags, m->items[DRILL_MAX_PARTICIPANTS], "too many participants (at most %d)",
                            DRILL_MAX_PARTICIPANTS);
                return;
        }
        d->participants = xcalloc(m->n_items, sizeof(DrillParticipant));
        for (size_t i = 0; i < m->n_items; i++) {
                const YNode *p = m->items[i];
                DrillParticipant *x;
                const char *s = NULL;

                if (!ynode_expect(p, YNODE_MAPPING, "a participant", l->diags))
                        continue;
                ynode_check_keys(p, keys, "participant", l->diags);
                x = &d->participants[d->n_participants++];
                x->line = p->line;
                x->col = p->col;
                x->role = _DRILL_ROLE_INVALID;
                if (ynode_get_string(p, "name", "participant", true, &s, l->diags) > 0) {
                        if (!*s || strchr(s, '\n'))
                                ynode_error(l->diags, ynode_get(p, "name"),
                                            "participant name must be one line of text");
                        x->name = xstrdup(s);
                }
                if (ynode_get_string(p, "role", "participant", true, &s, l->diags) > 0) {
                        x->role = drill_role_from_string(s);
                        if (x->role < 0)
                                error_unknown(l, ynode_get(p, "role"), "role", drill_role_table,
                                              _DRILL_ROLE_MAX,
                                              "command-centre, duty-office, technical-support, "
                                              "business-operations, risk, security or support-staff");
                }
        }
}

/* A step named in the objectives: "STEP" (any playbook of the drill) or "PLAYBOOK/STEP". */
static bool drill_has_step(const Drill *d, const char *ref, size_t only)
{
        const char *slash = strchr(ref, '/');

        for (size_t i = 0; i < d->n_playbooks; i++) {
                const Playbook *pb = d->playbooks[i].playbook;
                if (only != SIZE_MAX && i != only)
                        continue;
                if (!pb)
                        return true; /* already reported; do not pile on */
                if (slash) {
                        if (strncmp(ref, pb->name, (size_t) (slash - ref)) == 0 && !pb->name[slash - ref] &&
                            playbook_find_step(pb, slash + 1))
                                return true;
                } else if (playbook_find_step(pb, ref))
                        return true;
        }
        return false;
}

static void load_objectives(Loader *l, const YNode *m)
{
        static const char *const keys[] = {"rto", "rpo", "recovered_at", "rpo_from", "must_succeed", NULL};
        DrillObjectives *o = &l->d->objectives;
        const char *s = NULL;
        const YNode *x;

        if (!ynode_expect(m, YNODE_MAPPING, "objectives", l->diags))
                return;
        ynode_check_keys(m, keys, "objectives", l->diags);
        o->has_rto = ynode_get_duration(m, "rto", "objectives", false, &o->rto, l->diags) > 0;
        o->has_rpo = ynode_get_duration(m, "rpo", "objectives", false, &o->rpo, l->diags) > 0;
        if (ynode_get_string(m, "recovered_at", "objectives", false, &s, l->diags) > 0) {
                o->recovered_at = xstrdup(s);
                if (l->d->n_playbooks > 0 && !drill_has_step(l->d, s, l->d->n_playbooks - 1))
                        ynode_error(l->diags, ynode_get(m, "recovered_at"),
                                    "recovered_at: no step '%.64s' in the drill's last playbook", s);
        }
        if (ynode_get_string(m, "rpo_from", "objectives", false, &s, l->diags) > 0) {
                o->rpo_from = xstrdup(s);
                if (!drill_has_step(l->d, s, SIZE_MAX))
                        ynode_error(l->diags, ynode_get(m, "rpo_from"),
                                    "rpo_from: no step '%.64s' in the drill's playbooks", s);
        }
        x = ynode_get(m, "must_succeed");
        if (x) {
                o->must_succeed = load_strv(l, x, "must_succeed", PLAYBOOK_MAX_STEPS);
                for (size_t i = 0; o->must_succeed && o->must_succeed[i]; i++)
                        if (!drill_has_step(l->d, o->must_succeed[i], SIZE_MAX))
                                ynode_error(l->diags, x->items[i],
                                            "must_succeed: no step '%.64s' in the drill's playbooks",
                                            o->must_succeed[i]);
        }
}

/* "12 months", "1 year", "2 weeks", "30 days", or a duration ("720h"). */
static void load_every(Loader *l, const YNode *v, DrillSchedule *s)
{
        static const struct {
                const char *unit;
                unsigned months;
                usec_t usec;
        } units[] = {
                {"month", 1, 0},
                {"months", 1, 0},
                {"year", 12, 0},
                {"years", 12, 0},
                {"week", 0, 7 * 24 * USEC_PER_HOUR},
                {"weeks", 0, 7 * 24 * USEC_PER_HOUR},
                {"day", 0, 24 * USEC_PER_HOUR},
                {"days", 0, 24 * USEC_PER_HOUR},
        };
        const char *p = v->scalar;
        char *end;
        unsigned long n;

        if (!ynode_expect(v, YNODE_SCALAR, "schedule every", l->diags))
                return;
        errno = 0;
        n = isdigit((unsigned char) *p) ? strtoul(p, &end, 10) : 0;
        if (n > 0 && errno == 0 && *end == ' ') {
                while (*end == ' ')
                        end++;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (streq(end, units[i].unit)) {
                                if (units[i].months) {
                                        if (n * units[i].months > DRILL_MAX_EVERY_MONTHS)
                                                break;
                                        s->every_months = (unsigned) (n * units[i].months);
                                        s->every = 0;
                                } else {
                                        if (n > 3650)
                                                break;
                                        s->every = n * units[i].usec;
                                        s->every_months = 0;
                                }
                                return;
                        }
        } else if (parse_duration(p, &s->every) >= 0 && s->every > 0) {
                s->every_months = 0;
                return;
        }
        ynode_error(l->diags, v,
                    "schedule every: '%.64s' is not a period (write '12 months', '1 year', '2 weeks', '30 "
                    "days' or a "
                    "duration; at most %d months)",
                    p, DRILL_MAX_EVERY_MONTHS);
}

static void load_schedule(Loader *l, const YNode *m)
{
        static const char *const keys[] = {"every", "on_calendar", NULL};
        DrillSchedule *s = &l->d->schedule;
        const char *v = NULL;
        const YNode *x;

        if (!ynode_expect(m, YNODE_MAPPING, "schedule", l->diags))
                return;
        ynode_check_keys(m, keys, "schedule", l->diags);
        x = ynode_get(m, "every");
        if (x)
                load_every(l, x, s);
        if (ynode_get_string(m, "on_calendar", "schedule", false, &v, l->diags) > 0) {
                bool ok = *v != '\0' && strlen(v) <= 256;
                for (const char *c = v; ok && *c; c++)
                        if (!isprint((unsigned char) *c))
                                ok = false;
                if (!ok)
                        ynode_error(l->diags, ynode_get(m, "on_calendar"),
                                    "on_calendar must be one line of printable text (a systemd OnCalendar= "
                                    "expression, see systemd.time(7))");
                else
                        s->on_calendar = xstrdup(v);
        }
}

static int drill_parse(Loader *l, const YNode *root)
{
        static const char *const top_keys[] = {"name",       "purpose",   "mode",
                                               "scenario",   "playbooks", "participants",
                                               "objectives", "schedule",  NULL};
        Drill *d = l->d;
        const char *s = NULL;
        const YNode *v;

        if (!ynode_expect(root, YNODE_MAPPING, "a drill", l->diags))
                return -EINVAL;
        ynode_check_keys(root, top_keys, "drill", l->diags);

        if (ynode_get_string(root, "name", "drill", true, &s, l->diags) > 0) {
                if (!name_is_valid(s))
                        ynode_error(
                                l->diags, ynode_get(root, "name"),
                                "invalid drill name '%.64s' (letters, digits, '_' and '-', starting with a "
                                "letter or digit, at most %d characters)",
                                s, DRILL_NAME_MAX);
                d->name = xstrdup(s);
        }
        if (ynode_get_string(root, "purpose", "drill", true, &s, l->diags) > 0) {
                if (!*s)
                        ynode_error(l->diags, ynode_get(root, "purpose"),
                                    "purpose must say why the drill is run");
                d->purpose = xstrdup(s);
        }
        d->mode = _DRILL_MODE_INVALID;
        if (ynode_get_string(root, "mode", "drill", true, &s, l->diags) > 0) {
                d->mode = drill_mode_from_string(s);
                if (d->mode < 0)
                        error_unknown(l, ynode_get(root, "mode"), "drill mode", drill_mode_table,
                                      _DRILL_MODE_MAX, "tabletop or live");
        }

        v = ynode_get(root, "scenario");
        if (!v)
                ynode_error(l->diags, root, "missing required key 'scenario' in drill");
        else
                load_scenario(l, v);
        if (d->mode == DRILL_MODE_LIVE && v && v->kind == YNODE_MAPPING && !ynode_get(v, "inject"))
                ynode_error(l->diags, v,
                            "a live drill needs scenario 'inject' (the command that injects the fault) and "
                            "'clear'");

        v = ynode_get(root, "playbooks");
        if (!v)
                ynode_error(l->diags, root, "missing required key 'playbooks' in drill");
        else
                load_playbooks(l, v);

        v = ynode_get(root, "participants");
        if (!v)
                ynode_error(l->diags, root, "missing required key 'participants' in drill");
        else
                load_participants(l, v);

        v = ynode_get(root, "objectives");
        if (v && !ynode_is_null(v))
                load_objectives(l, v);

        d->schedule.every_months = DRILL_DEFAULT_EVERY_MONTHS;
        v = ynode_get(root, "schedule");
        if (v && !ynode_is_null(v))
                load_schedule(l, v);
        return 0;
}

int drill_load_buffer(const char *path, const char *buf, size_t len, const Config *config,
                      const char *playbook_dir, Drill **ret, DiagList *diags)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        _cleanup_(drill_freep) Drill *d = NULL;
        size_t errors_before = diag_count_errors(diags);
        Loader l;
        int r;

        if (!path || !buf || !config || !ret || !diags)
                return -EINVAL;
        r = ydocument_load_buffer(path, buf, len, &doc, diags);
        if (r < 0)
                return r;

        d = xcalloc(1, sizeof(Drill));
        d->path = xstrdup(path);
        sha256_hex(buf, len, d->sha256);
        l = (Loader){
                .path = d->path,
                .config = config,
                .playbook_dir = playbook_dir,
                .diags = diags,
                .d = d,
        };
        (void) drill_parse(&l, doc->root);
        if (diag_count_errors(diags) > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(d);
        return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
        _cleanup_fclose_ FILE *f = NULL;
        StrBuf b = STRBUF_INIT;
        char chunk[8192];
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
                strbuf_append(&b, chunk, n);
                if (b.len > YNODE_MAX_FILE_SIZE + 1)
                        break; /* yaml-node reports the size limit */
        }
        if (ferror(f)) {
                strbuf_done(&b);
                return -EIO;
        }
        *ret_len = b.len;
        *ret = strbuf_steal(&b);
        return 0;
}

int drill_load(const char *path, const Config *config, const char *playbook_dir, Drill **ret,
               DiagList *diags)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, &buf, &len);
        if (r < 0) {
                diag_error(diags, path, 0, 0, "cannot read drill: %s", strerror(-r));
                return r;
        }
        return drill_load_buffer(path, buf, len, config, playbook_dir, ret, diags);
}

bool drill_document_looks_like(const char *path)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        DiagList scratch;
        bool yes = false;

        diag_list_init(&scratch);
        if (ydocument_load_file(path, &doc, &scratch) >= 0 && doc->root->kind == YNODE_MAPPING &&
            !ynode_get(doc->root, "steps") &&
            (ynode_get(doc->root, "scenario") || ynode_get(doc->root, "participants") ||
             ynode_get(doc->root, "playbooks")))
                yes = true;
        diag_list_done(&scratch);
        return yes;
}

char *drill_expand_value(const Drill *d, const char *value, usec_t fault_at)
{
        StrBuf b = STRBUF_INIT;

        for (const char *p = value; *p;) {
                if (strncmp(p, DRILL_VAR_FAULT_AT, strlen(DRILL_VAR_FAULT_AT)) == 0) {
                        if (fault_at > 0)
                                strbuf_printf(&b, "%llu.%06llu",
                                              (unsigned long long) (fault_at / USEC_PER_SEC),
                                              (unsigned long long) (fault_at % USEC_PER_SEC));
                        p += strlen(DRILL_VAR_FAULT_AT);
                } else if (strncmp(p, DRILL_VAR_NAME, strlen(DRILL_VAR_NAME)) == 0) {
                        strbuf_puts(&b, strempty(d->name));
                        p += strlen(DRILL_VAR_NAME);
                } else
                        strbuf_putc(&b, *p++);
        }
        return strbuf_steal(&b);
}

/* ---- time ---- */

static usec_t add_months(usec_t t, int months)
{
        time_t secs = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        int y, m, mdays;
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        if (!gmtime_r(&secs, &tm))
                return t;
        y = tm.tm_year + 1900;
        m = tm.tm_mon + months;
        y += m >= 0 ? m / 12 : -((11 - m) / 12);
        m = ((m % 12) + 12) % 12;
        mdays = days[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
        tm.tm_year = y - 1900;
        tm.tm_mon = m;
        if (tm.tm_mday > mdays)
                tm.tm_mday = mdays;
        secs = timegm(&tm);
        if (secs < 0)
                return 0;
        return (usec_t) secs * USEC_PER_SEC + t % USEC_PER_SEC;
}

usec_t usec_minus_months(usec_t t, unsigned months)
{
        return add_months(t, -(int) months);
}

usec_t drill_schedule_next(const DrillSchedule *s, usec_t last)
{
        if (last == 0)
                return 0;
        if (s->every > 0)
                return usec_add(last, s->every);
        return add_months(last, (int) (s->every_months ?: DRILL_DEFAULT_EVERY_MONTHS));
}

char *drill_schedule_on_calendar(const DrillSchedule *s)
{
        unsigned m = s->every_months;

        if (s->on_calendar)
                return xstrdup(s->on_calendar);
        if (s->every > 0)
                return xstrdup(
                        "yearly"); /* a period in days has no calendar form: the overdue check covers it */
        if (m == 0 || m == 12)
                return xstrdup("yearly");
        if (m == 1)
                return xstrdup("monthly");
        if (m == 3)
                return xstrdup("quarterly");
        if (m == 6)
                return xstrdup("semiannually");
        if (m < 12 && 12 % m == 0)
                return xasprintf("*-01/%u-01 00:00:00", m);
        return xstrdup("yearly");
}

int parse_timestamp(const char *s, usec_t *ret)
{
        struct tm tm = {};
        const char *end;
        char *e;

        if (!s || !*s)
                return -EINVAL;
        if (isdigit((unsigned char) s[0]) && !strchr(s, '-')) {
                double v;
                errno = 0;
                v = strtod(s, &e);
                if (errno || *e || v < 0 || v > 1e11)
                        return -EINVAL;
                *ret = (usec_t) (v * USEC_PER_SEC);
                return 0;
        }
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end) {
                memset(&tm, 0, sizeof tm);
                end = strptime(s, "%Y-%m-%d", &tm);
                if (!end)
                        return -EINVAL;
        }
        if (*end == 'Z')
                end++;
        if (*end)
                return -EINVAL;
        time_t t = timegm(&tm);
        if (t < 0)
                return -EINVAL;
        *ret = (usec_t) t * USEC_PER_SEC;
        return 0;
}

int drill_now(usec_t *ret)
{
        const char *e = getenv("DROVER_NOW");

        if (e && *e)
                return parse_timestamp(e, ret);
        *ret = now_usec(CLOCK_REALTIME);
        return 0;
}
