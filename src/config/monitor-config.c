/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor-config.c — loads the monitoring sections of drover.yaml (`monitor`,
 * `levels`, `roles`, `responses`, `deadlines`, `failover`) into a MonitorConfig
 * and checks it. The detector, level and policy inputs are built from it above,
 * in monitor/monitor-build.c and incident/policy-build.c.
 *
 * Owns: these sections' schema (key tables below), their defaults and every
 * cross-reference check. Does not own: the inventory sections (config.c, which
 * calls monitor_config_load() last), YAML hygiene (yaml-node.c), playbooks (a
 * response's playbook is a name the daemon resolves). Called by config.c.
 *
 * Like config.c, every problem is reported in one pass: a section that fails
 * keeps going with its siblings, so one typo does not hide the next.
 */
#include <math.h>
#include <regex.h>
#include <string.h>

#include "config/monitor-config.h"
#include "config/yaml-node.h"
#include "shared/strbuf.h"

/* "did you mean" over thousands of names costs more than it helps (as config.c) */
#define SUGGEST_MAX_CANDIDATES 512
#define PATH_MAX_LEN           1024
#define RAISE_FREQUENCY_MAX    100.0

static const char *const top_keys[] = {"monitor",   "levels",   "roles", "responses",
                                       "deadlines", "failover", NULL};
static const char *const monitor_keys[] = {"defaults", "vantage_points", "probes", NULL};
static const char *const defaults_keys[] = {"interval", "timeout", "jitter", "fall", "rise", NULL};
static const char *const vantage_keys[] = {"host", NULL};
/* Every probe key; which kind may use which is probe_key_applies(). */
static const char *const probe_keys[] = {
        "kind",
        "site",
        "critical",
        "vantage_points",
        "quorum",
        "interval",
        "timeout",
        "jitter",
        "fall",
        "rise",
        "latency_threshold",
        "endpoint",
        "path",
        "expect_status",
        "body_matches",
        "host",
        "port",
        "command",
        "expect_exit_status",
        "max_value",
        "field",
        "min",
        NULL,
};
static const char *const probe_common_keys[] = {
        "kind",   "site", "critical", "vantage_points",    "quorum", "interval", "timeout",
        "jitter", "fall", "rise",     "latency_threshold", NULL,
};
static const char *const probe_kind_keys[_PROBE_KIND_MAX][6] = {
        [PROBE_KIND_HTTP] = {"endpoint", "path", "expect_status", "body_matches", NULL},
        [PROBE_KIND_TCP] = {"host", "port", NULL},
        [PROBE_KIND_SSH] = {"host", "command", "expect_exit_status", "max_value", NULL},
        [PROBE_KIND_VENDOR_METRIC] = {"endpoint", "path", "field", "min", NULL},
};
/* The spellings of the spec; the enums' own tables use '_' (accepted too). */
static const char *const probe_kind_names[_PROBE_KIND_MAX] = {
        [PROBE_KIND_HTTP] = "http",
        [PROBE_KIND_TCP] = "tcp",
        [PROBE_KIND_SSH] = "ssh",
        [PROBE_KIND_VENDOR_METRIC] = "vendor-metric",
};
static const char *const level_rule_keys[] = {"name", "level",     "condition", "subject",
                                              "for",  "threshold", NULL};
static const char *const role_keys[] = {"endpoint", "path", NULL};
static const char *const response_keys[] = {"notify", "raise_frequency", "playbook", "params", "auto", NULL};
static const char *const deadline_keys[] = {"verify", "locate", "first_solution", NULL};
static const char *const failover_keys[] = {"cooldown", "active_site", NULL};

/* A sorted view of names for O(log n) reference checks, whatever a (possibly
 * hostile) file declares. Every indexed element type starts with `char *name`. */
typedef struct NameRef {
        const char *name;
        size_t index;
} NameRef;

typedef struct Names {
        NameRef *sorted;
        const char **in_order;
        size_t n;
} Names;

static int name_ref_compare(const void *a, const void *b)
{
        return strcmp(((const NameRef *) a)->name, ((const NameRef *) b)->name);
}

static void names_build(Names *x, const void *array, size_t n, size_t stride)
{
        x->n = n;
        x->sorted = xcalloc(n + 1, sizeof(NameRef));
        x->in_order = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                const char *name = *(char *const *) ((const char *) array + i * stride);
                x->sorted[i] = (NameRef){.name = name, .index = i};
                x->in_order[i] = name;
        }
        qsort(x->sorted, n, sizeof(NameRef), name_ref_compare);
}

static void names_done(Names *x)
{
        free(x->sorted);
        free(x->in_order);
        *x = (Names){};
}

static ssize_t names_find(const Names *x, const char *name)
{
        NameRef key = {.name = name};
        const NameRef *e;

        if (x->n == 0 || !name)
                return -ENOENT;
        e = bsearch(&key, x->sorted, x->n, sizeof(NameRef), name_ref_compare);
        return e ? (ssize_t) e->index : -ENOENT;
}

typedef struct MLoader {
        const Config *config;
        MonitorConfig *m;
        DiagList *diags;
        Names sites, hosts, endpoints, vantages, probes, roles;
        /* per Config site: probes, critical probes, vendor-metric probes */
        size_t *site_probes, *site_critical, *site_metric;
} MLoader;

static void report_unknown(MLoader *l, const YNode *at, const Names *idx, const char *kind, const char *name,
                           const char *what, const char *const *extra)
{
        const char *near = NULL;

        if (idx->n <= SUGGEST_MAX_CANDIDATES)
                near = string_nearest(name, idx->in_order, idx->n);
        if (!near && extra) {
                size_t n = 0;
                while (extra[n])
                        n++;
                near = string_nearest(name, extra, n);
        }
        if (near)
                ynode_error(l->diags, at, "%s: unknown %s '%.64s' (did you mean '%s'?)", what, kind, name,
                            near);
        else
                ynode_error(l->diags, at, "%s: unknown %s '%.64s'", what, kind, name);
}

static bool check_name(MLoader *l, const YNode *n, const char *kind)
{
        if (n->kind == YNODE_SCALAR && config_name_is_valid(n->scalar))
                return true;
        if (n->kind != YNODE_SCALAR)
                ynode_error(l->diags, n, "%s name must be a string", kind);
        else
                ynode_error(l->diags, n,
                            "invalid %s name '%.64s' (use letters, digits, '_', '.' and '-', start with a "
                            "letter or "
                            "digit, at most %d characters)",
                            kind, n->scalar, CONFIG_NAME_MAX);
        return false;
}

/* A mapping section; absent or `null` means empty. */
static bool section_ok(MLoader *l, const YNode *section, const char *name)
{
        if (!section || ynode_is_null(section))
                return false;
        return ynode_expect(section, YNODE_MAPPING, name, l->diags);
}

/* A plain decimal number (YAML float syntax, finite). Same contract as ynode_get_*. */
static int get_number(MLoader *l, const YNode *map, const char *key, const char *what, bool required,
                      double *ret)
{
        const YNode *v = ynode_get(map, key);
        char *end = NULL;
        double d;

        if (!v) {
                if (!required)
                        return 0;
                ynode_error(l->diags, map, "missing required key '%s' in %s", key, what);
                return -ENOENT;
        }
        if (v->kind != YNODE_SCALAR || !v->plain || v->scalar[0] == '\0' || ynode_is_null(v)) {
                ynode_error(l->diags, v, "%s: %s must be a number", what, key);
                return -EINVAL;
        }
        errno = 0;
        d = strtod(v->scalar, &end);
        /* strtod would also take "nan", "inf" and hex: none of them is a threshold */
        if (errno != 0 || *end != '\0' || !isfinite(d) || strpbrk(v->scalar, "xXnN")) {
                ynode_error(l->diags, v, "%s: %s must be a number, not '%.64s'", what, key, v->scalar);
                return -EINVAL;
        }
        *ret = d;
        return 1;
}

static bool path_is_valid(const char *p)
{
        if (p[0] != '/' || strlen(p) > PATH_MAX_LEN)
                return false;
        for (; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7F)
                        return false;
        return true;
}

/* An optional URL path (default "/"). */
static void get_url_path(MLoader *l, const YNode *map, const char *what, char **ret)
{
        const char *s = NULL;

        if (ynode_get_string(map, "path", what, false, &s, l->diags) > 0) {
                if (!path_is_valid(s)) {
                        ynode_error(
                                l->diags, ynode_get(map, "path"),
                                "%s: path must start with '/' and contain no spaces or control characters, "
                                "not '%.64s'",
                                what, s);
                        return;
                }
                *ret = xstrdup(s);
        } else
                *ret = xstrdup("/");
}

/* A level given as 1..4 or red|orange|yellow|blue; LEVEL_NONE is never a valid one here. */
static WarningLevel parse_level(MLoader *l, const YNode *v, const char *what)
{
        WarningLevel lv = _WARNING_LEVEL_INVALID;

        if (v->kind == YNODE_SCALAR)
                lv = warning_level_from_string(v->scalar);
        if (lv <= LEVEL_NONE || lv >= _WARNING_LEVEL_MAX) {
                ynode_error(l->diags, v, "%s: level must be 1..4 or red, orange, yellow, blue, not '%.64s'",
                            what, v->kind == YNODE_SCALAR ? v->scalar : ynode_kind_to_string(v->kind));
                return _WARNING_LEVEL_INVALID;
        }
        return lv;
}

/* "site-down" (the spec) and "site_down" (levels.c's table) both mean LEVEL_COND_SITE_DOWN. */
static int enum_from_dashed(const char *s, int (*from_string)(const char *))
{
        _cleanup_free_ char *u = xstrdup(s);

        for (char *p = u; *p; p++)
                if (*p == '-')
                        *p = '_';
        return from_string(u);
}

static int condition_from_string(const char *s)
{
        return (int) level_condition_from_string(s);
}

static int kind_from_string(const char *s)
{
        return (int) probe_kind_from_string(s);
}

/* ---- freeing -------------------------------------------------------------------------- */

static void probe_done(ProbeConfig *p)
{
        free(p->name);
        free(p->site);
        free(p->path);
        free(p->expect_status);
        free(p->body_matches);
        free(p->command);
        free(p->field);
        strv_free(p->vantage_points);
}

static void response_done(ResponseConfig *r)
{
        strv_free(r->notify);
        free(r->playbook);
        for (size_t i = 0; i < r->n_params; i++) {
                free((char *) r->params[i].name);
                free((char *) r->params[i].value);
        }
        free(r->params);
}

MonitorConfig *monitor_config_free(MonitorConfig *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_vantage_points; i++)
                free(m->vantage_points[i].name);
        free(m->vantage_points);
        for (size_t i = 0; i < m->n_probes; i++)
                probe_done(&m->probes[i]);
        free(m->probes);
        for (size_t i = 0; i < m->n_level_rules; i++) {
                free(m->level_rules[i].name);
                free(m->level_rules[i].subject);
        }
        free(m->level_rules);
        for (size_t i = 0; i < m->n_roles; i++) {
                free(m->roles[i].name);
                free(m->roles[i].path);
        }
        free(m->roles);
        for (size_t i = 0; i < _WARNING_LEVEL_MAX; i++)
                response_done(&m->responses[i]);
        free(m->active_site);
        free(m);
        return NULL;
}

#define DEFINE_FIND(Type, func, array, count)                                                               \
        const Type *func(const MonitorConfig *m, const char *name)                                          \
        {                                                                                                   \
                if (!m || !name)                                                                            \
                        return NULL;                                                                        \
                for (size_t i = 0; i < m->count; i++)                                                       \
                        if (streq(m->array[i].name, name))                                                  \
                                return &m->array[i];                                                        \
                return NULL;                                                                                \
        }

DEFINE_FIND(ProbeConfig, monitor_config_find_probe, probes, n_probes)
DEFINE_FIND(VantagePoint, monitor_config_find_vantage_point, vantage_points, n_vantage_points)
DEFINE_FIND(RoleConfig, monitor_config_find_role, roles, n_roles)

/* ---- monitor ---------------------------------------------------------------------------- */

static void load_defaults(MLoader *l, const YNode *monitor)
{
        MonitorConfig *m = l->m;
        const YNode *d = ynode_get(monitor, "defaults");
        const char *what = "monitor.defaults";
        uint64_t u;

        if (!section_ok(l, d, what))
                return;
        ynode_check_keys(d, defaults_keys, what, l->diags);
        if (ynode_get_duration(d, "interval", what, false, &m->default_interval, l->diags) > 0 &&
            m->default_interval == 0)
                ynode_error(l->diags, ynode_get(d, "interval"), "%s: interval must be greater than 0", what);
        if (ynode_get_duration(d, "timeout", what, false, &m->default_timeout, l->diags) > 0 &&
            m->default_timeout == 0)
                ynode_error(l->diags, ynode_get(d, "timeout"), "%s: timeout must be greater than 0", what);
        (void) ynode_get_duration(d, "jitter", what, false, &m->default_jitter, l->diags);
        if (ynode_get_uint(d, "fall", what, false, 1, MONITOR_FALL_RISE_MAX, &u, l->diags) > 0)
                m->default_fall = (unsigned) u;
        if (ynode_get_uint(d, "rise", what, false, 1, MONITOR_FALL_RISE_MAX, &u, l->diags) > 0)
                m->default_rise = (unsigned) u;

        if (m->default_interval > 0 && m->default_timeout >= m->default_interval)
                ynode_error(l->diags, ynode_get(d, "timeout") ?: ynode_get(d, "interval"),
                            "%s: timeout must be shorter than interval", what);
        if (m->default_interval > 0 && m->default_jitter >= m->default_interval)
                ynode_error(l->diags, ynode_get(d, "jitter") ?: ynode_get(d, "interval"),
                            "%s: jitter must be shorter than interval", what);
}

static void load_vantage_points(MLoader *l, const YNode *monitor)
{
        MonitorConfig *m = l->m;
        const YNode *section = ynode_get(monitor, "vantage_points");

        if (!section_ok(l, section, "monitor.vantage_points"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *host = NULL;
                VantagePoint *vp;
                ssize_t h;

                if (!check_name(l, key, "vantage point"))
                        continue;
                if (streq(key->scalar, VANTAGE_LOCAL)) {
                        ynode_error(l->diags, key,
                                    "vantage point 'local' is drover's own host and cannot be redefined");
                        continue;
                }
                what = xasprintf("vantage point '%s'", key->scalar);
                vp = array_push(&m->vantage_points, &m->n_vantage_points, sizeof(VantagePoint));
                vp->name = xstrdup(key->scalar);
                vp->line = key->line;
                vp->col = key->col;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, vantage_keys, what, l->diags);
                if (ynode_get_string(v, "host", what, true, &host, l->diags) <= 0)
                        continue;
                h = names_find(&l->hosts, host);
                if (h < 0)
                        report_unknown(l, ynode_get(v, "host"), &l->hosts, "host", host, what, NULL);
                else
                        vp->host = &l->config->hosts[h];
        }
}

static bool probe_key_applies(ProbeKind kind, const char *key)
{
        for (size_t i = 0; probe_common_keys[i]; i++)
                if (streq(probe_common_keys[i], key))
                        return true;
        for (size_t i = 0; probe_kind_keys[kind][i]; i++)
                if (streq(probe_kind_keys[kind][i], key))
                        return true;
        return false;
}

static const Endpoint *probe_endpoint(MLoader *l, const YNode *v, const char *what)
{
        const char *s = NULL;
        ssize_t i;

        if (ynode_get_string(v, "endpoint", what, true, &s, l->diags) <= 0)
                return NULL;
        i = names_find(&l->endpoints, s);
        if (i < 0) {
                report_unknown(l, ynode_get(v, "endpoint"), &l->endpoints, "endpoint", s, what, NULL);
                return NULL;
        }
        return &l->config->endpoints[i];
}

static const Host *probe_host(MLoader *l, const YNode *v, const char *what)
{
        const char *s = NULL;
        ssize_t i;

        if (ynode_get_string(v, "host", what, true, &s, l->diags) <= 0)
                return NULL;
        i = names_find(&l->hosts, s);
        if (i < 0) {
                report_unknown(l, ynode_get(v, "host"), &l->hosts, "host", s, what, NULL);
                return NULL;
        }
        return &l->config->hosts[i];
}

static void probe_load_http(MLoader *l, const YNode *v, const char *what, ProbeConfig *p)
{
        const YNode *st = ynode_get(v, "expect_status");
        const char *re = NULL;

        p->endpoint = probe_endpoint(l, v, what);
        get_url_path(l, v, what, &p->path);

        if (st && !ynode_is_null(st)) {
                _cleanup_free_ char *swhat = xasprintf("expect_status of %s", what);
                if (ynode_expect(st, YNODE_SEQUENCE, swhat, l->diags)) {
                        if (st->n_items == 0)
                                ynode_error(l->diags, st,
                                            "%s: expect_status must list at least one status "
                                            "(omit it for any 2xx)",
                                            what);
                        p->expect_status = xcalloc(st->n_items + 1, sizeof(unsigned));
                        for (size_t i = 0; i < st->n_items; i++) {
                                const YNode *s = st->items[i];
                                char *end = NULL;
                                unsigned long u = 0;

                                if (s->kind == YNODE_SCALAR && s->plain && s->scalar[0] >= '0' &&
                                    s->scalar[0] <= '9')
                                        u = strtoul(s->scalar, &end, 10);
                                if (!end || *end != '\0' || u < 100 || u > 599) {
                                        ynode_error(l->diags, s,
                                                    "%s: expect_status must hold HTTP status "
                                                    "codes 100..599, not '%.64s'",
                                                    what,
                                                    s->kind == YNODE_SCALAR ? s->scalar : "a collection");
                                        continue;
                                }
                                p->expect_status[p->n_expect_status++] = (unsigned) u;
                        }
                }
        }

        if (ynode_get_string(v, "body_matches", what, false, &re, l->diags) > 0) {
                regex_t rx;
                int r = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
                if (r != 0) {
                        char buf[128];
                        regerror(r, &rx, buf, sizeof(buf));
                        ynode_error(l->diags, ynode_get(v, "body_matches"),
                                    "%s: body_matches is not a valid POSIX extended regular expression: %s",
                                    what, buf);
                } else {
                        regfree(&rx);
                        p->body_matches = xstrdup(re);
                }
        }
}

static void probe_load_kind(MLoader *l, const YNode *v, const char *what, ProbeConfig *p)
{
        uint64_t u;
        const char *s = NULL;

        switch (p->kind) {
        case PROBE_KIND_HTTP:
                probe_load_http(l, v, what, p);
                break;
        case PROBE_KIND_TCP:
                p->host = probe_host(l, v, what);
                if (p->host)
                        p->port = p->host->port;
                if (ynode_get_uint(v, "port", what, false, 1, 65535, &u, l->diags) > 0)
                        p->port = (uint16_t) u;
                break;
        case PROBE_KIND_SSH:
                p->host = probe_host(l, v, what);
                if (ynode_get_string(v, "command", what, true, &s, l->diags) > 0) {
                        if (s[0] == '\0')
                                ynode_error(l->diags, ynode_get(v, "command"),
                                            "%s: command must not be empty", what);
                        else
                                p->command = xstrdup(s);
                }
                if (ynode_get_uint(v, "expect_exit_status", what, false, 0, 255, &u, l->diags) > 0)
                        p->expect_exit_status = (int) u;
                p->has_max_value = get_number(l, v, "max_value", what, false, &p->max_value) > 0;
                break;
        case PROBE_KIND_VENDOR_METRIC:
                p->endpoint = probe_endpoint(l, v, what);
                get_url_path(l, v, what, &p->path);
                if (ynode_get_string(v, "field", what, true, &s, l->diags) > 0) {
                        size_t n = strlen(s);
                        if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") ||
                            strpbrk(s, " \t\r\n"))
                                ynode_error(
                                        l->diags, ynode_get(v, "field"),
                                        "%s: field must be a dotted JSON path like 'stats.success_rate', "
                                        "not '%.64s'",
                                        what, s);
                        else
                                p->field = xstrdup(s);
                }
                (void) get_number(l, v, "min", what, true, &p->min);
                break;
        default:
                break;
        }
}

/* interval/timeout/jitter: the probe's own values over monitor.defaults. A problem
 * is reported at the probe only when the probe set one of the keys involved; bad
 * defaults alone were reported at monitor.defaults. */
static void probe_load_timing(MLoader *l, const YNode *v, const char *what, ProbeConfig *p)
{
        const YNode *iv = ynode_get(v, "interval"), *to = ynode_get(v, "timeout"),
                    *ji = ynode_get(v, "jitter");
        uint64_t u;

        if (ynode_get_duration(v, "interval", what, false, &p->interval, l->diags) > 0 && p->interval == 0) {
                ynode_error(l->diags, iv, "%s: interval must be greater than 0", what);
                iv = NULL; /* do not compare against it */
        }
        if (ynode_get_duration(v, "timeout", what, false, &p->timeout, l->diags) > 0 && p->timeout == 0)
                ynode_error(l->diags, to, "%s: timeout must be greater than 0", what);
        (void) ynode_get_duration(v, "jitter", what, false, &p->jitter, l->diags);
        if (ynode_get_uint(v, "fall", what, false, 1, MONITOR_FALL_RISE_MAX, &u, l->diags) > 0)
                p->fall = (unsigned) u;
        if (ynode_get_uint(v, "rise", what, false, 1, MONITOR_FALL_RISE_MAX, &u, l->diags) > 0)
                p->rise = (unsigned) u;

        if (p->interval == 0)
                return;
        if ((iv || to) && p->timeout >= p->interval)
                ynode_error(l->diags, to ?: iv, "%s: timeout must be shorter than interval", what);
        if ((iv || ji) && p->jitter >= p->interval)
                ynode_error(l->diags, ji ?: iv, "%s: jitter must be shorter than interval", what);
}

static void probe_load_vantages(MLoader *l, const YNode *v, const char *what, ProbeConfig *p)
{
        const YNode *vps = ynode_get(v, "vantage_points");
        uint64_t u;

        if (vps && !ynode_is_null(vps)) {
                _cleanup_free_ char *vwhat = xasprintf("vantage_points of %s", what);
                if (ynode_expect(vps, YNODE_SEQUENCE, vwhat, l->diags)) {
                        if (vps->n_items == 0)
                                ynode_error(l->diags, vps, "%s: vantage_points must name at least one",
                                            what);
                        p->vantage_points = xcalloc(vps->n_items + 1, sizeof(char *));
                        for (size_t i = 0; i < vps->n_items; i++) {
                                const YNode *n = vps->items[i];
                                static const char *const local[] = {VANTAGE_LOCAL, NULL};
                                bool dup = false;

                                if (!ynode_expect(n, YNODE_SCALAR, vwhat, l->diags))
                                        continue;
                                if (!streq(n->scalar, VANTAGE_LOCAL) &&
                                    names_find(&l->vantages, n->scalar) < 0) {
                                        report_unknown(l, n, &l->vantages, "vantage point", n->scalar, what,
                                                       local);
                                        continue;
                                }
                                for (size_t j = 0; j < p->n_vantage_points && !dup; j++)
                                        dup = streq(p->vantage_points[j], n->scalar);
                                if (dup) {
                                        ynode_error(l->diags, n, "%s: vantage point '%s' is listed twice",
                                                    what, n->scalar);
                                        continue;
                                }
                                /* An ssh probe asks about a host's state (a command's exit status,
                                 * replication lag), not about reachability from a point of view:
                                 * the prober runs it from drover only. */
                                if (p->kind == PROBE_KIND_SSH && !streq(n->scalar, VANTAGE_LOCAL)) {
                                        ynode_error(l->diags, n,
                                                    "%s: ssh probes run only from 'local', not from vantage point "
                                                    "'%s' (use a tcp probe from there to check reachability)",
                                                    what, n->scalar);
                                        continue;
                                }
                                p->vantage_points[p->n_vantage_points++] = xstrdup(n->scalar);
                        }
                }
        }
        if (!p->vantage_points) {
                p->vantage_points = xcalloc(2, sizeof(char *));
                p->vantage_points[0] = xstrdup(VANTAGE_LOCAL);
                p->n_vantage_points = 1;
        }

        if (ynode_get_uint(v, "quorum", what, false, 1, MAX(p->n_vantage_points, (size_t) 1), &u, l->diags) >
            0)
                p->quorum = (unsigned) u;
}

static void load_probes(MLoader *l, const YNode *monitor)
{
        MonitorConfig *m = l->m;
        const YNode *section = ynode_get(monitor, "probes");

        if (!section_ok(l, section, "monitor.probes"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *s = NULL;
                ProbeConfig *p;

                if (!check_name(l, key, "probe"))
                        continue;
                what = xasprintf("probe '%s'", key->scalar);
                p = array_push(&m->probes, &m->n_probes, sizeof(ProbeConfig));
                p->name = xstrdup(key->scalar);
                p->line = key->line;
                p->col = key->col;
                p->kind = _PROBE_KIND_INVALID;
                p->min = NAN;
                p->quorum = 1;
                p->interval = m->default_interval;
                p->timeout = m->default_timeout;
                p->jitter = m->default_jitter;
                p->fall = m->default_fall;
                p->rise = m->default_rise;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, probe_keys, what, l->diags);

                if (ynode_get_string(v, "kind", what, true, &s, l->diags) > 0) {
                        p->kind = (ProbeKind) enum_from_dashed(s, kind_from_string);
                        if (p->kind < 0)
                                ynode_error(l->diags, ynode_get(v, "kind"),
                                            "%s: kind must be http, tcp, ssh or vendor-metric, not '%.64s'",
                                            what, s);
                }
                if (p->kind >= 0) {
                        /* Keys of another kind are refused: they would be silently ignored. */
                        for (size_t j = 0; j < v->n_items; j++) {
                                const YNode *k = v->keys[j];
                                bool known = false;

                                if (k->kind != YNODE_SCALAR)
                                        continue;
                                for (size_t t = 0; probe_keys[t] && !known; t++)
                                        known = streq(probe_keys[t], k->scalar);
                                if (known && !probe_key_applies(p->kind, k->scalar))
                                        ynode_error(l->diags, k, "%s: key '%s' does not apply to %s probes",
                                                    what, k->scalar, probe_kind_names[p->kind]);
                        }
                        probe_load_kind(l, v, what, p);
                }

                (void) ynode_get_bool(v, "critical", what, false, &p->critical, l->diags);
                if (ynode_get_duration(v, "latency_threshold", what, false, &p->latency_threshold,
                                       l->diags) > 0 &&
                    p->latency_threshold == 0)
                        ynode_error(l->diags, ynode_get(v, "latency_threshold"),
                                    "%s: latency_threshold must be greater than 0 (omit it for none)", what);
                probe_load_timing(l, v, what, p);
                probe_load_vantages(l, v, what, p);

                /* The site: explicit, else the endpoint's or host's. */
                if (ynode_get_string(v, "site", what, false, &s, l->diags) > 0) {
                        if (names_find(&l->sites, s) < 0)
                                report_unknown(l, ynode_get(v, "site"), &l->sites, "site", s, what, NULL);
                        else
                                p->site = xstrdup(s);
                } else if (!ynode_get(v, "site")) {
                        const char *from = p->endpoint ? p->endpoint->site : p->host ? p->host->site : NULL;
                        if (from)
                                p->site = xstrdup(from);
                        else if (p->endpoint || p->host)
                                ynode_error(l->diags, key, "%s has no site: its %s '%s' has none (set site)",
                                            what, p->endpoint ? "endpoint" : "host",
                                            p->endpoint ? p->endpoint->name : p->host->name);
                }
        }
}

static void load_monitor(MLoader *l, const YNode *root)
{
        const YNode *monitor = ynode_get(root, "monitor");

        if (!section_ok(l, monitor, "monitor"))
                return;
        ynode_check_keys(monitor, monitor_keys, "monitor", l->diags);
        load_defaults(l, monitor);
        load_vantage_points(l, monitor);
        names_build(&l->vantages, l->m->vantage_points, l->m->n_vantage_points, sizeof(VantagePoint));
        load_probes(l, monitor);
}

/* ---- roles, levels, responses, deadlines, failover ------------------------------------- */

static void load_roles(MLoader *l, const YNode *root)
{
        MonitorConfig *m = l->m;
        const YNode *section = ynode_get(root, "roles");

        if (!section_ok(l, section, "roles"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *ep = NULL;
                RoleConfig *r;
                ssize_t e;

                if (!check_name(l, key, "role"))
                        continue;
                what = xasprintf("role '%s'", key->scalar);
                r = array_push(&m->roles, &m->n_roles, sizeof(RoleConfig));
                r->name = xstrdup(key->scalar);
                r->line = key->line;
                r->col = key->col;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, role_keys, what, l->diags);
                if (ynode_get_string(v, "endpoint", what, true, &ep, l->diags) > 0) {
                        e = names_find(&l->endpoints, ep);
                        if (e < 0)
                                report_unknown(l, ynode_get(v, "endpoint"), &l->endpoints, "endpoint", ep,
                                               what, NULL);
                        else
                                r->endpoint = &l->config->endpoints[e];
                }
                get_url_path(l, v, what, &r->path);
        }
}

static void count_site_probes(MLoader *l)
{
        size_t n = l->config->n_sites + 1;

        l->site_probes = xcalloc(n, sizeof(size_t));
        l->site_critical = xcalloc(n, sizeof(size_t));
        l->site_metric = xcalloc(n, sizeof(size_t));
        for (size_t i = 0; i < l->m->n_probes; i++) {
                const ProbeConfig *p = &l->m->probes[i];
                ssize_t s = names_find(&l->sites, p->site);

                if (s < 0)
                        continue;
                l->site_probes[s]++;
                if (p->critical)
                        l->site_critical[s]++;
                if (p->kind == PROBE_KIND_VENDOR_METRIC)
                        l->site_metric[s]++;
        }
}

static void level_rule_subject(MLoader *l, const YNode *v, const char *what, LevelRuleConfig *r)
{
        const char *subject = NULL;
        const YNode *at = ynode_get(v, "subject");
        ssize_t p, s;

        if (ynode_get_string(v, "subject", what, true, &subject, l->diags) <= 0)
                return;
        p = names_find(&l->probes, subject);
        s = names_find(&l->sites, subject);
        if (p < 0 && s < 0) {
                /* Suggest from probes first, then sites. */
                const char *near = NULL;
                if (l->probes.n <= SUGGEST_MAX_CANDIDATES)
                        near = string_nearest(subject, l->probes.in_order, l->probes.n);
                if (!near && l->sites.n <= SUGGEST_MAX_CANDIDATES)
                        near = string_nearest(subject, l->sites.in_order, l->sites.n);
                if (near)
                        ynode_error(l->diags, at,
                                    "%s: subject '%.64s' is neither a probe nor a site (did you "
                                    "mean '%s'?)",
                                    what, subject, near);
                else
                        ynode_error(l->diags, at, "%s: subject '%.64s' is neither a probe nor a site", what,
                                    subject);
                return;
        }
        r->subject = xstrdup(subject);
        r->subject_is_site = p < 0;

        if (r->cond == LEVEL_COND_SITE_DOWN) {
                if (!r->subject_is_site)
                        ynode_error(l->diags, at, "%s: site-down needs a site as subject, '%s' is a probe",
                                    what, subject);
                else if (l->site_critical[s] == 0)
                        ynode_error(l->diags, at,
                                    "%s: site-down needs a site with a critical probe; site '%s' has none "
                                    "(set critical: true on one of its probes)",
                                    what, subject);
                return;
        }
        if (r->subject_is_site && l->site_probes[s] == 0) {
                ynode_error(l->diags, at, "%s: site '%s' has no probes, so the rule could never hold", what,
                            subject);
                return;
        }
        if (r->cond == LEVEL_COND_METRIC_BELOW) {
                if (!r->subject_is_site && l->m->probes[p].kind != PROBE_KIND_VENDOR_METRIC)
                        ynode_error(l->diags, at,
                                    "%s: metric-below needs a vendor-metric probe, '%s' is a %s "
                                    "probe",
                                    what, subject,
                                    l->m->probes[p].kind >= 0 ? probe_kind_names[l->m->probes[p].kind]
                                                              : "bad");
                else if (r->subject_is_site && l->site_metric[s] == 0)
                        ynode_error(l->diags, at,
                                    "%s: metric-below needs a vendor-metric probe, site '%s' has "
                                    "none",
                                    what, subject);
        }
}

static void load_levels(MLoader *l, const YNode *root)
{
        MonitorConfig *m = l->m;
        const YNode *section = ynode_get(root, "levels");

        if (!section || ynode_is_null(section) || !ynode_expect(section, YNODE_SEQUENCE, "levels", l->diags))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *v = section->items[i], *n;
                _cleanup_free_ char *what = NULL;
                const char *s = NULL;
                LevelRuleConfig *r;

                n = v->kind == YNODE_MAPPING ? ynode_get(v, "name") : NULL;
                if (n && n->kind == YNODE_SCALAR && !ynode_is_null(n))
                        what = xasprintf("level rule '%.64s'", n->scalar);
                else
                        what = xasprintf("level rule %zu", i + 1);
                r = array_push(&m->level_rules, &m->n_level_rules, sizeof(LevelRuleConfig));
                r->line = v->line;
                r->col = v->col;
                r->level = _WARNING_LEVEL_INVALID;
                r->cond = _LEVEL_COND_INVALID;
                r->threshold = NAN;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, level_rule_keys, what, l->diags);

                if (n && check_name(l, n, "level rule")) {
                        for (size_t j = 0; j + 1 < m->n_level_rules; j++)
                                if (streq_ptr(m->level_rules[j].name, n->scalar)) {
                                        ynode_error(l->diags, n,
                                                    "%s: name already used by the rule at line %u", what,
                                                    m->level_rules[j].line);
                                        break;
                                }
                        r->name = xstrdup(n->scalar);
                }
                if (ynode_get(v, "level"))
                        r->level = parse_level(l, ynode_get(v, "level"), what);
                else
                        ynode_error(l->diags, v, "missing required key 'level' in %s", what);
                if (ynode_get_string(v, "condition", what, true, &s, l->diags) > 0) {
                        r->cond = (LevelCondition) enum_from_dashed(s, condition_from_string);
                        if (r->cond < 0)
                                ynode_error(l->diags, ynode_get(v, "condition"),
                                            "%s: condition must be target-down, site-down, metric-below, "
                                            "latency-over or probe-failing, not '%.64s'",
                                            what, s);
                }
                (void) ynode_get_duration(v, "for", what, false, &r->for_duration, l->diags);
                if (r->cond == LEVEL_COND_METRIC_BELOW)
                        (void) get_number(l, v, "threshold", what, true, &r->threshold);
                else if (r->cond >= 0 && ynode_get(v, "threshold"))
                        ynode_error(l->diags, ynode_get_key(v, "threshold"),
                                    "%s: threshold applies to metric-below only", what);
                if (r->cond >= 0)
                        level_rule_subject(l, v, what, r);
        }
}

static void load_response(MLoader *l, const YNode *v, const char *what, ResponseConfig *r)
{
        const YNode *notify = ynode_get(v, "notify"), *params = ynode_get(v, "params");
        const char *s = NULL;

        if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                return;
        ynode_check_keys(v, response_keys, what, l->diags);

        if (notify && !ynode_is_null(notify)) {
                _cleanup_free_ char *nwhat = xasprintf("notify of %s", what);
                if (ynode_expect(notify, YNODE_SEQUENCE, nwhat, l->diags)) {
                        size_t k = 0;
                        r->notify = xcalloc(notify->n_items + 1, sizeof(char *));
                        for (size_t i = 0; i < notify->n_items; i++) {
                                const YNode *n = notify->items[i];
                                bool dup = false;

                                if (!ynode_expect(n, YNODE_SCALAR, nwhat, l->diags))
                                        continue;
                                if (names_find(&l->roles, n->scalar) < 0) {
                                        report_unknown(l, n, &l->roles, "role", n->scalar, what, NULL);
                                        continue;
                                }
                                for (size_t j = 0; j < k && !dup; j++)
                                        dup = streq(r->notify[j], n->scalar);
                                if (dup) {
                                        ynode_error(l->diags, n, "%s: role '%s' is listed twice", what,
                                                    n->scalar);
                                        continue;
                                }
                                r->notify[k++] = xstrdup(n->scalar);
                        }
                }
        }

        if (get_number(l, v, "raise_frequency", what, false, &r->raise_frequency) > 0 &&
            (r->raise_frequency < 1.0 || r->raise_frequency > RAISE_FREQUENCY_MAX)) {
                ynode_error(l->diags, ynode_get(v, "raise_frequency"),
                            "%s: raise_frequency must be between 1 and %g", what, RAISE_FREQUENCY_MAX);
                r->raise_frequency = 1.0;
        }

        if (ynode_get_string(v, "playbook", what, false, &s, l->diags) > 0 &&
            check_name(l, ynode_get(v, "playbook"), "playbook"))
                r->playbook = xstrdup(s);

        if (params && !ynode_is_null(params)) {
                _cleanup_free_ char *pwhat = xasprintf("params of %s", what);
                if (!ynode_get(v, "playbook"))
                        ynode_error(l->diags, ynode_get_key(v, "params"), "%s: params need a playbook",
                                    what);
                else if (ynode_expect(params, YNODE_MAPPING, pwhat, l->diags)) {
                        r->params = xcalloc(params->n_items + 1, sizeof(PolicyParam));
                        for (size_t i = 0; i < params->n_items; i++) {
                                const YNode *pk = params->keys[i], *pv = params->items[i];

                                if (!check_name(l, pk, "parameter"))
                                        continue;
                                if (pv->kind != YNODE_SCALAR || ynode_is_null(pv)) {
                                        ynode_error(l->diags, pv, "%s: param '%s' must be a string", what,
                                                    pk->scalar);
                                        continue;
                                }
                                r->params[r->n_params++] = (PolicyParam){
                                        .name = xstrdup(pk->scalar),
                                        .value = xstrdup(pv->scalar),
                                };
                        }
                }
        }

        if (ynode_get_bool(v, "auto", what, false, &r->auto_run, l->diags) > 0 && r->auto_run &&
            !ynode_get(v, "playbook"))
                ynode_error(l->diags, ynode_get(v, "auto"), "%s: auto: true needs a playbook to run", what);
}

static void load_responses(MLoader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "responses");
        const YNode *seen[_WARNING_LEVEL_MAX] = {};

        if (!section_ok(l, section, "responses"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                WarningLevel lv;

                lv = parse_level(l, key, "responses");
                if (lv < 0)
                        continue;
                if (seen[lv]) {
                        ynode_error(l->diags, key, "responses: level %s is given twice (first at line %u)",
                                    warning_level_to_string(lv), seen[lv]->line);
                        continue;
                }
                seen[lv] = key;
                what = xasprintf("responses.%s", key->scalar);
                l->m->responses[lv].configured = true;
                l->m->responses[lv].raise_frequency = 1.0;
                l->m->responses[lv].line = key->line;
                l->m->responses[lv].col = key->col;
                load_response(l, v, what, &l->m->responses[lv]);
        }
}

static void load_deadlines(MLoader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "deadlines");
        IncidentDeadlines *d = &l->m->deadlines;

        if (!section_ok(l, section, "deadlines"))
                return;
        ynode_check_keys(section, deadline_keys, "deadlines", l->diags);
        for (size_t k = 0; deadline_keys[k]; k++) {
                const char *key = deadline_keys[k];
                const YNode *v = ynode_get(section, key);
                usec_t *arr = k == 0   ? d->verify_within
                              : k == 1 ? d->locate_within
                                       : d->first_solution_within;
                _cleanup_free_ char *what = xasprintf("deadlines.%s", key);
                const YNode *seen[_WARNING_LEVEL_MAX] = {};
                usec_t u;

                if (!v)
                        continue;
                if (v->kind == YNODE_SCALAR) {
                        /* one duration for every level */
                        if (ynode_get_duration(section, key, "deadlines", false, &u, l->diags) > 0)
                                for (int lv = LEVEL_RED; lv < _WARNING_LEVEL_MAX; lv++)
                                        arr[lv] = u;
                        continue;
                }
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                for (size_t i = 0; i < v->n_items; i++) {
                        const YNode *lk = v->keys[i];
                        WarningLevel lv = parse_level(l, lk, what);

                        if (lv < 0)
                                continue;
                        if (seen[lv]) {
                                ynode_error(l->diags, lk, "%s: level %s is given twice (first at line %u)",
                                            what, warning_level_to_string(lv), seen[lv]->line);
                                continue;
                        }
                        seen[lv] = lk;
                        if (ynode_get_duration(v, lk->scalar, what, false, &u, l->diags) > 0)
                                arr[lv] = u;
                }
        }
}

static void load_failover(MLoader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "failover");
        const char *s = NULL;

        /* The default active site: the first with role primary. */
        for (size_t i = 0; i < l->config->n_sites && !l->m->active_site; i++)
                if (l->config->sites[i].role == SITE_ROLE_PRIMARY)
                        l->m->active_site = xstrdup(l->config->sites[i].name);

        if (!section_ok(l, section, "failover"))
                return;
        ynode_check_keys(section, failover_keys, "failover", l->diags);
        (void) ynode_get_duration(section, "cooldown", "failover", false, &l->m->cooldown, l->diags);
        if (ynode_get_string(section, "active_site", "failover", false, &s, l->diags) > 0) {
                if (names_find(&l->sites, s) < 0)
                        report_unknown(l, ynode_get(section, "active_site"), &l->sites, "site", s,
                                       "failover", NULL);
                else {
                        free(l->m->active_site);
                        l->m->active_site = xstrdup(s);
                }
        }
}

int monitor_config_load(const YNode *root, const Config *c, MonitorConfig **ret, DiagList *diags)
{
        size_t errors_before = diag_count_errors(diags);
        bool any = false;
        MonitorConfig *m;
        MLoader l;

        if (!root || !c || !ret)
                return -EINVAL;
        for (size_t i = 0; top_keys[i]; i++)
                any = any || ynode_get(root, top_keys[i]);
        if (!any) {
                *ret = NULL;
                return 0;
        }

        m = xcalloc(1, sizeof(MonitorConfig));
        m->default_interval = MONITOR_DEFAULT_INTERVAL;
        m->default_timeout = MONITOR_DEFAULT_TIMEOUT;
        m->default_jitter = MONITOR_DEFAULT_JITTER;
        m->default_fall = MONITOR_DEFAULT_FALL;
        m->default_rise = MONITOR_DEFAULT_RISE;
        m->cooldown = POLICY_DEFAULT_COOLDOWN;
        incident_deadlines_default(&m->deadlines);
        for (size_t i = 0; i < _WARNING_LEVEL_MAX; i++)
                m->responses[i].raise_frequency = 1.0;

        l = (MLoader){.config = c, .m = m, .diags = diags};
        names_build(&l.sites, c->sites, c->n_sites, sizeof(Site));
        names_build(&l.hosts, c->hosts, c->n_hosts, sizeof(Host));
        names_build(&l.endpoints, c->endpoints, c->n_endpoints, sizeof(Endpoint));

        /* Referenced sections first: probes (levels), roles (responses). */
        load_monitor(&l, root);
        names_build(&l.probes, m->probes, m->n_probes, sizeof(ProbeConfig));
        count_site_probes(&l);
        load_roles(&l, root);
        names_build(&l.roles, m->roles, m->n_roles, sizeof(RoleConfig));
        load_levels(&l, root);
        load_responses(&l, root);
        load_deadlines(&l, root);
        load_failover(&l, root);

        names_done(&l.sites);
        names_done(&l.hosts);
        names_done(&l.endpoints);
        names_done(&l.vantages);
        names_done(&l.probes);
        names_done(&l.roles);
        free(l.site_probes);
        free(l.site_critical);
        free(l.site_metric);

        *ret = m;
        return diag_count_errors(diags) > errors_before ? -EINVAL : 0;
}

/* ---- deadlines -------------------------------------------------------------------------- */

void monitor_config_deadlines(const MonitorConfig *m, IncidentDeadlines *ret)
{
        if (m)
                *ret = m->deadlines;
        else
                incident_deadlines_default(ret);
}
