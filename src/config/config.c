/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.c — loads and validates drover.yaml (the inventory) into a Config.
 *
 * Owns: the drover.yaml schema (key tables below), defaults merging, relative
 * path resolution, cross-reference and file checks, and reading a secret's value
 * when a run needs it. Does not own: YAML hygiene (yaml-node.c), playbooks, any
 * network I/O. Called by droverctl, droverd and the engine.
 *
 * Every problem is collected in one pass; any error refuses the whole file, so
 * a Config, once returned, is entirely valid.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/monitor-config.h"
#include "config/yaml-node.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"

#define CONFIG_OUTPUT_CAP_MIN 1024
#define CONFIG_OUTPUT_CAP_MAX (16 * 1024 * 1024)
#define SECRET_VALUE_MAX (1024 * 1024)
/* "did you mean" over thousands of names costs more than it helps */
#define SUGGEST_MAX_CANDIDATES 512

static const char *const site_role_table[_SITE_ROLE_MAX] = {
        [SITE_ROLE_PRIMARY] = "primary",
        [SITE_ROLE_BACKUP] = "backup",
        [SITE_ROLE_OTHER] = "other",
};

DEFINE_STRING_TABLE(site_role, SiteRole, site_role_table)

static const char *const secret_source_table[_SECRET_SOURCE_MAX] = {
        [SECRET_SOURCE_FILE] = "file",
        [SECRET_SOURCE_ENV] = "env",
        [SECRET_SOURCE_CREDENTIAL] = "credential",
};

const char *secret_source_to_string(SecretSource s)
{
        if (s < 0 || s >= _SECRET_SOURCE_MAX)
                return NULL;
        return secret_source_table[s];
}

/* Declarative key tables: one per mapping of drover.yaml. */
static const char *const top_keys[] = {
        "journal", "playbook_dir", "defaults", "sites", "hosts", "groups", "endpoints", "vendors", "secrets",
        "approvals", "dbus", "cluster",
        /* monitor-config.c */
        "monitor", "levels", "roles", "responses", "deadlines", "failover", NULL,
};
static const char *const defaults_keys[] = { "step_timeout", "output_cap", "ssh", NULL };
static const char *const ssh_keys[] = {
        "user", "key", "public_key", "agent", "known_hosts", "port", "connect_timeout", NULL,
};
static const char *const site_keys[] = { "role", "description", NULL };
static const char *const host_keys[] = {
        "site", "address", "port", "user", "key", "public_key", "agent", "known_hosts", "connect_timeout", NULL,
};
static const char *const endpoint_keys[] = {
        "site", "url", "ca", "client_cert", "client_key", "tls_verify", "timeout", "headers", NULL,
};
static const char *const vendor_keys[] = { "endpoint", "description", "contact", NULL };
static const char *const secret_keys[] = { "file", "env", "credential", NULL };
static const char *const approvals_keys[] = { "four_eyes", NULL };
static const char *const dbus_keys[] = { "required", NULL };
static const char *const cluster_keys[] = { "node", "name", "endpoints", "tls", "lease_ttl", NULL };
static const char *const cluster_tls_keys[] = { "ca", "cert", "key", NULL };

static void site_done(Site *s)
{
        free(s->name);
        free(s->description);
}

static void host_done(Host *h)
{
        free(h->name);
        free(h->site);
        free(h->address);
        free(h->user);
        free(h->key_file);
        free(h->public_key_file);
        free(h->known_hosts);
}

static void group_done(Group *g)
{
        free(g->name);
        strv_free(g->hosts);
}

static void endpoint_done(Endpoint *e)
{
        free(e->name);
        free(e->site);
        free(e->base_url);
        free(e->ca_file);
        free(e->client_cert);
        free(e->client_key);
        for (size_t i = 0; i < e->n_headers; i++) {
                free(e->headers[i].name);
                free(e->headers[i].value);
        }
        free(e->headers);
}

static void vendor_done(Vendor *v)
{
        free(v->name);
        free(v->endpoint);
        free(v->description);
        free(v->contact);
}

static void secret_done(Secret *s)
{
        free(s->name);
        free(s->ref);
}

static ClusterConfig *cluster_config_free(ClusterConfig *k)
{
        if (!k)
                return NULL;
        free(k->node);
        free(k->name);
        free(k->prefix);
        strv_free(k->endpoints);
        free(k->ca_file);
        free(k->cert_file);
        free(k->key_file);
        free(k);
        return NULL;
}

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_sites; i++)
                site_done(&c->sites[i]);
        free(c->sites);
        for (size_t i = 0; i < c->n_hosts; i++)
                host_done(&c->hosts[i]);
        free(c->hosts);
        for (size_t i = 0; i < c->n_groups; i++)
                group_done(&c->groups[i]);
        free(c->groups);
        for (size_t i = 0; i < c->n_endpoints; i++)
                endpoint_done(&c->endpoints[i]);
        free(c->endpoints);
        for (size_t i = 0; i < c->n_vendors; i++)
                vendor_done(&c->vendors[i]);
        free(c->vendors);
        for (size_t i = 0; i < c->n_secrets; i++)
                secret_done(&c->secrets[i]);
        free(c->secrets);
        monitor_config_free(c->monitor);
        cluster_config_free(c->cluster);
        free(c->path);
        free(c->journal_path);
        free(c->playbook_dir);
        free(c);
        return NULL;
}

#define DEFINE_FIND(Type, func, array, count)                                                               \
        const Type *func(const Config *c, const char *name)                                                 \
        {                                                                                                   \
                if (!c || !name)                                                                            \
                        return NULL;                                                                        \
                for (size_t i = 0; i < c->count; i++)                                                       \
                        if (streq(c->array[i].name, name))                                                  \
                                return &c->array[i];                                                        \
                return NULL;                                                                                \
        }

DEFINE_FIND(Site, config_find_site, sites, n_sites)
DEFINE_FIND(Host, config_find_host, hosts, n_hosts)
DEFINE_FIND(Group, config_find_group, groups, n_groups)
DEFINE_FIND(Endpoint, config_find_endpoint, endpoints, n_endpoints)
DEFINE_FIND(Vendor, config_find_vendor, vendors, n_vendors)
DEFINE_FIND(Secret, config_find_secret, secrets, n_secrets)

/* A sorted view of one section's names, so that cross-reference checks stay
 * O(n log n) however many hosts a (possibly hostile) file declares. */
typedef struct NameEntry {
        const char *name;
        size_t index; /* position in file order */
} NameEntry;

typedef struct NameIndex {
        NameEntry *sorted;
        const char **in_order; /* file order, for suggestions */
        size_t n;
} NameIndex;

static int name_entry_compare(const void *a, const void *b)
{
        return strcmp(((const NameEntry *) a)->name, ((const NameEntry *) b)->name);
}

static void name_index_build(NameIndex *idx, const void *array, size_t n, size_t stride)
{
        idx->n = n;
        idx->sorted = xcalloc(n + 1, sizeof(NameEntry));
        idx->in_order = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                /* every element type starts with `char *name` */
                const char *name = *(char *const *) ((const char *) array + i * stride);
                idx->sorted[i] = (NameEntry) { .name = name, .index = i };
                idx->in_order[i] = name;
        }
        qsort(idx->sorted, n, sizeof(NameEntry), name_entry_compare);
}

static void name_index_done(NameIndex *idx)
{
        free(idx->sorted);
        free(idx->in_order);
        *idx = (NameIndex) {};
}

/* Position in file order, or -ENOENT. */
static ssize_t name_index_find(const NameIndex *idx, const char *name)
{
        NameEntry key = { .name = name };
        const NameEntry *e;

        if (idx->n == 0)
                return -ENOENT;
        e = bsearch(&key, idx->sorted, idx->n, sizeof(NameEntry), name_entry_compare);
        return e ? (ssize_t) e->index : -ENOENT;
}

static bool name_index_contains(const NameIndex *idx, const char *name)
{
        return name_index_find(idx, name) >= 0;
}

static void report_unknown(DiagList *diags, const YNode *at, const NameIndex *idx, const char *kind,
                           const char *name, const char *where)
{
        const char *near = NULL;

        if (idx->n <= SUGGEST_MAX_CANDIDATES)
                near = string_nearest(name, idx->in_order, idx->n);
        if (near)
                ynode_error(diags, at, "unknown %s '%.64s'%s (did you mean '%s'?)", kind, name, strempty(where),
                            near);
        else
                ynode_error(diags, at, "unknown %s '%.64s'%s", kind, name, strempty(where));
}

bool config_name_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > CONFIG_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool env_name_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 255 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* RFC 9110 token characters. */
static bool header_name_is_valid(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n <= 256 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") == n;
}

typedef struct Loader {
        Config *config;
        DiagList *diags;
        const char *base_dir; /* absolute directory of the config file */

        /* defaults.ssh, with the nodes that set them for locating errors */
        const char *ssh_user;
        char *ssh_key;
        char *ssh_public_key;
        bool ssh_agent;
        char *ssh_known_hosts;
        uint16_t ssh_port;

        NameIndex sites, hosts, secrets, endpoints;
} Loader;

static char *path_resolve(const Loader *l, const char *p)
{
        if (p[0] == '/')
                return xstrdup(p);
        return xasprintf("%s/%s", l->base_dir, p);
}

/* Key, known_hosts, CA and client certificate files must be there at load time: a
 * typo found during an incident is a typo found too late. */
static void check_readable_file(Loader *l, const YNode *at, const char *what, const char *path)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        ynode_error(l->diags, at, "%s '%s' does not exist", what, path);
                else
                        ynode_error(l->diags, at, "cannot read %s '%s': %s", what, path, strerror(errno));
                return;
        }
        if (fstat(fd, &st) < 0) {
                ynode_error(l->diags, at, "cannot read %s '%s': %s", what, path, strerror(errno));
                return;
        }
        if (S_ISDIR(st.st_mode))
                ynode_error(l->diags, at, "%s '%s' is a directory, not a file", what, path);
}

/* An optional path-valued key: resolved, and checked to be readable when `must_exist`. */
static int get_path(Loader *l, const YNode *map, const char *key, const char *what, bool must_exist,
                    char **ret)
{
        const char *s = NULL;
        int r;

        r = ynode_get_string(map, key, what, false, &s, l->diags);
        if (r <= 0)
                return r;
        char *p = path_resolve(l, s);
        if (must_exist) {
                StrBuf desc = STRBUF_INIT;
                strbuf_printf(&desc, "%s file", key);
                check_readable_file(l, ynode_get(map, key), strbuf_str(&desc), p);
                strbuf_done(&desc);
        }
        free(*ret);
        *ret = p;
        return 1;
}

static int get_optional_string(Loader *l, const YNode *map, const char *key, const char *what, char **ret)
{
        const char *s = NULL;
        int r = ynode_get_string(map, key, what, false, &s, l->diags);

        if (r <= 0)
                return r;
        free(*ret);
        *ret = xstrdup(s);
        return 1;
}

/* A section is a mapping of NAME -> entry; `null` (an empty section) is fine. */
static bool section_ok(Loader *l, const YNode *section, const char *name)
{
        if (!section || ynode_is_null(section))
                return false;
        return ynode_expect(section, YNODE_MAPPING, name, l->diags);
}

static bool check_entry_name(Loader *l, const YNode *key, const char *kind)
{
        if (config_name_is_valid(key->scalar))
                return true;
        ynode_error(l->diags, key,
                    "invalid %s name '%.64s' (use letters, digits, '_', '.' and '-', start with a letter or digit, "
                    "at most %d characters)",
                    kind, key->scalar, CONFIG_NAME_MAX);
        return false;
}

static void load_top(Loader *l, const YNode *root)
{
        Config *c = l->config;
        const YNode *defaults, *ssh;
        uint64_t u;

        (void) get_path(l, root, "journal", "drover.yaml", false, &c->journal_path);
        (void) get_path(l, root, "playbook_dir", "drover.yaml", false, &c->playbook_dir);

        defaults = ynode_get(root, "defaults");
        if (!section_ok(l, defaults, "defaults"))
                return;
        ynode_check_keys(defaults, defaults_keys, "defaults", l->diags);

        if (ynode_get_duration(defaults, "step_timeout", "defaults", false, &c->step_timeout, l->diags) > 0 &&
            c->step_timeout == 0)
                ynode_error(l->diags, ynode_get(defaults, "step_timeout"), "step_timeout must be greater than 0");
        if (ynode_get_uint(defaults, "output_cap", "defaults", false, CONFIG_OUTPUT_CAP_MIN, CONFIG_OUTPUT_CAP_MAX,
                           &u, l->diags) > 0)
                c->output_cap = (size_t) u;

        ssh = ynode_get(defaults, "ssh");
        if (!section_ok(l, ssh, "defaults.ssh"))
                return;
        ynode_check_keys(ssh, ssh_keys, "defaults.ssh", l->diags);
        (void) ynode_get_string(ssh, "user", "defaults.ssh", false, &l->ssh_user, l->diags);
        (void) get_path(l, ssh, "key", "defaults.ssh", true, &l->ssh_key);
        (void) get_path(l, ssh, "public_key", "defaults.ssh", true, &l->ssh_public_key);
        (void) get_path(l, ssh, "known_hosts", "defaults.ssh", true, &l->ssh_known_hosts);
        (void) ynode_get_bool(ssh, "agent", "defaults.ssh", false, &l->ssh_agent, l->diags);
        if (ynode_get_uint(ssh, "port", "defaults.ssh", false, 1, 65535, &u, l->diags) > 0)
                l->ssh_port = (uint16_t) u;
        if (ynode_get_duration(ssh, "connect_timeout", "defaults.ssh", false, &c->connect_timeout, l->diags) > 0 &&
            c->connect_timeout == 0)
                ynode_error(l->diags, ynode_get(ssh, "connect_timeout"), "connect_timeout must be greater than 0");
        if (l->ssh_key && l->ssh_agent)
                ynode_error(l->diags, ynode_get(ssh, "agent"),
                            "defaults.ssh: key and agent: true are mutually exclusive");
}

/* approvals: who may answer an approval gate (droverd's D-Bus API enforces it). */
static void load_approvals(Loader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "approvals");

        if (!section_ok(l, section, "approvals"))
                return;
        ynode_check_keys(section, approvals_keys, "approvals", l->diags);
        (void) ynode_get_bool(section, "four_eyes", "approvals", false, &l->config->four_eyes, l->diags);
}

/* dbus: whether droverd may run without its D-Bus API (read by droverd.c at start). */
static void load_dbus(Loader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "dbus");

        if (!section_ok(l, section, "dbus"))
                return;
        ynode_check_keys(section, dbus_keys, "dbus", l->diags);
        (void) ynode_get_bool(section, "required", "dbus", false, &l->config->dbus_required, l->diags);
}

static void load_sites(Loader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "sites");

        if (!section_ok(l, section, "sites"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *role = NULL;
                Site *s;

                if (key->kind != YNODE_SCALAR || !check_entry_name(l, key, "site"))
                        continue;
                what = xasprintf("site '%s'", key->scalar);
                s = array_push(&l->config->sites, &l->config->n_sites, sizeof(Site));
                s->name = xstrdup(key->scalar);
                s->line = key->line;
                s->col = key->col;
                s->role = _SITE_ROLE_INVALID;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, site_keys, what, l->diags);
                if (ynode_get_string(v, "role", what, true, &role, l->diags) > 0) {
                        s->role = site_role_from_string(role);
                        if (s->role < 0)
                                ynode_error(l->diags, ynode_get(v, "role"),
                                            "%s: role must be primary, backup or other, not '%.64s'", what, role);
                }
                (void) get_optional_string(l, v, "description", what, &s->description);
        }
}

static void check_site_ref(Loader *l, const YNode *map, const char *what, char **ret)
{
        const char *site = NULL;

        if (ynode_get_string(map, "site", what, false, &site, l->diags) <= 0)
                return;
        if (!name_index_contains(&l->sites, site)) {
                _cleanup_free_ char *where = xasprintf(" in %s", what);
                report_unknown(l->diags, ynode_get(map, "site"), &l->sites, "site", site, where);
                return;
        }
        *ret = xstrdup(site);
}

static bool address_is_valid(const char *a)
{
        /* Host names, IPv4 and IPv6 literals; never anything an ssh command line could
         * mistake for an option or that could split an argument. */
        return a[0] != '\0' && a[0] != '-' && strlen(a) <= 255 &&
               strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]%") == strlen(a);
}

static void load_hosts(Loader *l, const YNode *root)
{
        Config *c = l->config;
        const YNode *section = ynode_get(root, "hosts");

        if (!section_ok(l, section, "hosts"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *s = NULL;
                bool agent = false, agent_set;
                uint64_t u;
                Host *h;

                if (key->kind != YNODE_SCALAR || !check_entry_name(l, key, "host"))
                        continue;
                what = xasprintf("host '%s'", key->scalar);
                h = array_push(&c->hosts, &c->n_hosts, sizeof(Host));
                h->name = xstrdup(key->scalar);
                h->line = key->line;
                h->col = key->col;
                h->port = l->ssh_port;
                h->connect_timeout = c->connect_timeout;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, host_keys, what, l->diags);

                check_site_ref(l, v, what, &h->site);
                if (ynode_get_string(v, "address", what, true, &s, l->diags) > 0) {
                        if (!address_is_valid(s))
                                ynode_error(l->diags, ynode_get(v, "address"),
                                            "%s: invalid address '%.64s' (expected an IP address or DNS name)",
                                            what, s);
                        else
                                h->address = xstrdup(s);
                }
                if (ynode_get_uint(v, "port", what, false, 1, 65535, &u, l->diags) > 0)
                        h->port = (uint16_t) u;
                if (ynode_get_duration(v, "connect_timeout", what, false, &h->connect_timeout, l->diags) > 0 &&
                    h->connect_timeout == 0)
                        ynode_error(l->diags, ynode_get(v, "connect_timeout"),
                                    "connect_timeout must be greater than 0");

                s = l->ssh_user;
                (void) ynode_get_string(v, "user", what, false, &s, l->diags);
                if (s)
                        h->user = xstrdup(s);
                else if (!ynode_get(v, "user"))
                        ynode_error(l->diags, key, "%s has no user (set user here or in defaults.ssh)", what);

                /* Authentication: the host's own choice (key, or agent: true) wins as a whole
                 * over defaults.ssh; `agent: false` alone falls back to the defaults' key. */
                (void) get_path(l, v, "key", what, true, &h->key_file);
                (void) get_path(l, v, "public_key", what, true, &h->public_key_file);
                agent_set = ynode_get_bool(v, "agent", what, false, &agent, l->diags) > 0;
                if (h->key_file && agent_set && agent)
                        ynode_error(l->diags, ynode_get(v, "agent"),
                                    "%s: key and agent: true are mutually exclusive", what);
                else if (!ynode_get(v, "key") && !(agent_set && agent)) {
                        if (l->ssh_key) {
                                h->key_file = xstrdup(l->ssh_key);
                                if (!ynode_get(v, "public_key"))
                                        h->public_key_file = xstrdup(l->ssh_public_key);
                        } else if (l->ssh_agent && !agent_set)
                                h->use_agent = true;
                        else
                                ynode_error(l->diags, key,
                                            "%s has no SSH authentication (set key or agent: true here or in "
                                            "defaults.ssh)",
                                            what);
                } else if (agent_set && agent)
                        h->use_agent = true;

                if (ynode_get(v, "known_hosts"))
                        (void) get_path(l, v, "known_hosts", what, true, &h->known_hosts);
                else if (l->ssh_known_hosts)
                        h->known_hosts = xstrdup(l->ssh_known_hosts);
                else
                        ynode_error(l->diags, key,
                                    "%s has no known_hosts file (set known_hosts here or in defaults.ssh; host "
                                    "keys are always checked)",
                                    what);
        }
}

static void load_groups(Loader *l, const YNode *root)
{
        Config *c = l->config;
        const YNode *section = ynode_get(root, "groups");
        /* per host: 1 + index of the group that last listed it, and where; one pair of
         * arrays for all groups keeps this linear */
        _cleanup_free_ size_t *seen = NULL;
        _cleanup_free_ const YNode **first_at = NULL;

        if (!section_ok(l, section, "groups"))
                return;
        seen = xcalloc(l->hosts.n + 1, sizeof(size_t));
        first_at = xcalloc(l->hosts.n + 1, sizeof(YNode *));
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                Group *g;

                if (key->kind != YNODE_SCALAR || !check_entry_name(l, key, "group"))
                        continue;
                what = xasprintf("group '%s'", key->scalar);
                g = array_push(&c->groups, &c->n_groups, sizeof(Group));
                g->name = xstrdup(key->scalar);
                g->line = key->line;
                g->col = key->col;
                g->hosts = xcalloc(1, sizeof(char *));
                if (!ynode_expect(v, YNODE_SEQUENCE, what, l->diags))
                        continue;
                if (v->n_items == 0) {
                        ynode_error(l->diags, v, "%s must list at least one host", what);
                        continue;
                }
                for (size_t j = 0; j < v->n_items; j++) {
                        const YNode *m = v->items[j];
                        ssize_t h;

                        if (!ynode_expect(m, YNODE_SCALAR, "a group member", l->diags))
                                continue;
                        h = name_index_find(&l->hosts, m->scalar);
                        if (h < 0) {
                                _cleanup_free_ char *where = xasprintf(" in %s", what);
                                report_unknown(l->diags, m, &l->hosts, "host", m->scalar, where);
                                continue;
                        }
                        if (seen[h] == i + 1) {
                                ynode_error(l->diags, m, "host '%s' is listed twice in %s (first at line %u)",
                                            m->scalar, what, first_at[h]->line);
                                continue;
                        }
                        seen[h] = i + 1;
                        first_at[h] = m;
                        g->hosts = xrealloc(g->hosts, (g->n_hosts + 2) * sizeof(char *));
                        g->hosts[g->n_hosts++] = xstrdup(m->scalar);
                        g->hosts[g->n_hosts] = NULL;
                }
        }
}

static void load_secrets(Loader *l, const YNode *root)
{
        Config *c = l->config;
        const YNode *section = ynode_get(root, "secrets");

        if (!section_ok(l, section, "secrets"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *first = NULL;
                Secret *s;

                if (key->kind != YNODE_SCALAR || !check_entry_name(l, key, "secret"))
                        continue;
                what = xasprintf("secret '%s'", key->scalar);
                s = array_push(&c->secrets, &c->n_secrets, sizeof(Secret));
                s->name = xstrdup(key->scalar);
                s->line = key->line;
                s->col = key->col;
                s->source = _SECRET_SOURCE_INVALID;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, secret_keys, what, l->diags);

                /* In file order, so the second source written is the one pointed at. */
                for (size_t j = 0; j < v->n_items; j++) {
                        const YNode *k = v->keys[j];
                        const char *ref = NULL;
                        SecretSource src = _SECRET_SOURCE_INVALID;

                        if (k->kind != YNODE_SCALAR)
                                continue;
                        for (int t = 0; t < _SECRET_SOURCE_MAX; t++)
                                if (streq(k->scalar, secret_source_table[t]))
                                        src = (SecretSource) t;
                        if (src < 0)
                                continue; /* reported as an unknown key */
                        if (first) {
                                ynode_error(l->diags, k, "%s has more than one source ('%s' and '%s'); use one of "
                                                         "file, env or credential",
                                            what, first, k->scalar);
                                continue;
                        }
                        first = k->scalar;
                        if (ynode_get_string(v, k->scalar, what, true, &ref, l->diags) <= 0)
                                continue;
                        s->source = src;
                        if (src == SECRET_SOURCE_FILE)
                                s->ref = path_resolve(l, ref);
                        else {
                                bool ok = src == SECRET_SOURCE_ENV ? env_name_is_valid(ref) :
                                                                     config_name_is_valid(ref);
                                if (!ok)
                                        ynode_error(l->diags, v->items[j], "%s: invalid %s name '%.64s'", what,
                                                    src == SECRET_SOURCE_ENV ? "environment variable" :
                                                                               "credential",
                                                    ref);
                                s->ref = xstrdup(ref);
                        }
                }
                if (!first)
                        ynode_error(l->diags, key, "%s needs one source: file, env or credential", what);
        }
}

/* Header values may carry ${secrets.NAME} and nothing else: an endpoint is not part of
 * a run, so params and steps mean nothing here. A small scanner of our own keeps the
 * inventory independent of the playbook template engine. */
static void check_header_value(Loader *l, const YNode *v, const char *header, const char *what)
{
        const char *s = v->scalar;
        unsigned base = v->col + (v->plain ? 0 : 1);
        unsigned col = 0; /* characters from the start of the value */

        if (strpbrk(s, "\r\n")) {
                ynode_error(l->diags, v, "%s: header '%s' must not contain line breaks", what, header);
                return;
        }
        for (size_t i = 0; s[i];) {
                const char *end;
                int n;

                if (s[i] == '$' && s[i + 1] == '$') {
                        i += 2;
                        col += 2;
                        continue;
                }
                if (s[i] == '$' && s[i + 1] == '{') {
                        /* Point at the reference itself when the scalar sits on one source line. */
                        YNode at = *v;
                        at.col = base + col;
                        end = strchr(s + i + 2, '}');
                        if (!end) {
                                ynode_error(l->diags, &at, "%s: unterminated '${' in header '%s'", what, header);
                                return;
                        }
                        _cleanup_free_ char *ref = xstrndup(s + i + 2, (size_t) (end - (s + i + 2)));
                        if (strncmp(ref, "secrets.", 8) != 0)
                                ynode_error(l->diags, &at,
                                            "%s: header '%s' may only reference ${secrets.NAME}, not '${%.64s}'",
                                            what, header, ref);
                        else if (!name_index_contains(&l->secrets, ref + 8)) {
                                _cleanup_free_ char *where = xasprintf(" in header '%s' of %s", header, what);
                                report_unknown(l->diags, &at, &l->secrets, "secret", ref + 8, where);
                        }
                        for (const char *p = s + i; p <= end;) {
                                n = utf8_char_length(p, (size_t) (end + 1 - p));
                                p += n > 0 ? n : 1;
                                col++;
                        }
                        i = (size_t) (end + 1 - s);
                        continue;
                }
                n = utf8_char_length(s + i, strlen(s + i));
                i += n > 0 ? (size_t) n : 1;
                col++;
        }
}

static bool url_is_valid(const char *u)
{
        const char *host;

        if (strncmp(u, "https://", 8) == 0)
                host = u + 8;
        else if (strncmp(u, "http://", 7) == 0)
                host = u + 7;
        else
                return false;
        if (*host == '\0' || *host == '/' || *host == ':')
                return false;
        for (const char *p = u; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7F)
                        return false;
        return true;
}

static void load_endpoints(Loader *l, const YNode *root)
{
        Config *c = l->config;
        const YNode *section = ynode_get(root, "endpoints");

        if (!section_ok(l, section, "endpoints"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i], *headers;
                _cleanup_free_ char *what = NULL;
                const char *url = NULL;
                Endpoint *e;

                if (key->kind != YNODE_SCALAR || !check_entry_name(l, key, "endpoint"))
                        continue;
                what = xasprintf("endpoint '%s'", key->scalar);
                e = array_push(&c->endpoints, &c->n_endpoints, sizeof(Endpoint));
                e->name = xstrdup(key->scalar);
                e->line = key->line;
                e->col = key->col;
                e->tls_verify = true;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, endpoint_keys, what, l->diags);

                check_site_ref(l, v, what, &e->site);
                if (ynode_get_string(v, "url", what, true, &url, l->diags) > 0) {
                        if (!url_is_valid(url))
                                ynode_error(l->diags, ynode_get(v, "url"),
                                            "%s: url must start with http:// or https:// and name a host, not "
                                            "'%.64s'",
                                            what, url);
                        else {
                                /* Step urls are paths appended to this; one slash between. */
                                size_t n = strlen(url);
                                while (n > 0 && url[n - 1] == '/')
                                        n--;
                                e->base_url = xstrndup(url, n);
                        }
                }
                (void) get_path(l, v, "ca", what, true, &e->ca_file);
                (void) get_path(l, v, "client_cert", what, true, &e->client_cert);
                (void) get_path(l, v, "client_key", what, true, &e->client_key);
                if (e->client_cert && !ynode_get(v, "client_key"))
                        ynode_error(l->diags, ynode_get_key(v, "client_cert"), "%s: client_cert needs client_key",
                                    what);
                if (e->client_key && !ynode_get(v, "client_cert"))
                        ynode_error(l->diags, ynode_get_key(v, "client_key"), "%s: client_key needs client_cert",
                                    what);
                (void) ynode_get_bool(v, "tls_verify", what, false, &e->tls_verify, l->diags);
                if (ynode_get_duration(v, "timeout", what, false, &e->timeout, l->diags) > 0 && e->timeout == 0)
                        ynode_error(l->diags, ynode_get(v, "timeout"), "timeout must be greater than 0");

                headers = ynode_get(v, "headers");
                if (!headers || ynode_is_null(headers))
                        continue;
                _cleanup_free_ char *hwhat = xasprintf("headers of %s", what);
                if (!ynode_expect(headers, YNODE_MAPPING, hwhat, l->diags))
                        continue;
                e->headers = xcalloc(headers->n_items + 1, sizeof(HttpHeader));
                for (size_t j = 0; j < headers->n_items; j++) {
                        const YNode *hk = headers->keys[j], *hv = headers->items[j];

                        if (hk->kind != YNODE_SCALAR)
                                continue;
                        if (!header_name_is_valid(hk->scalar)) {
                                ynode_error(l->diags, hk, "%s: invalid header name '%.64s'", what, hk->scalar);
                                continue;
                        }
                        if (hv->kind != YNODE_SCALAR) {
                                ynode_error(l->diags, hv, "%s: header '%s' must be a string, not a %s", what,
                                            hk->scalar, ynode_kind_to_string(hv->kind));
                                continue;
                        }
                        check_header_value(l, hv, hk->scalar, what);
                        e->headers[e->n_headers].name = xstrdup(hk->scalar);
                        e->headers[e->n_headers].value = xstrdup(hv->scalar);
                        e->n_headers++;
                }
        }
}

static void load_vendors(Loader *l, const YNode *root)
{
        Config *c = l->config;
        const YNode *section = ynode_get(root, "vendors");

        if (!section_ok(l, section, "vendors"))
                return;
        for (size_t i = 0; i < section->n_items; i++) {
                const YNode *key = section->keys[i], *v = section->items[i];
                _cleanup_free_ char *what = NULL;
                const char *ep = NULL;
                Vendor *vd;

                if (key->kind != YNODE_SCALAR || !check_entry_name(l, key, "vendor"))
                        continue;
                what = xasprintf("vendor '%s'", key->scalar);
                vd = array_push(&c->vendors, &c->n_vendors, sizeof(Vendor));
                vd->name = xstrdup(key->scalar);
                vd->line = key->line;
                vd->col = key->col;
                if (!ynode_expect(v, YNODE_MAPPING, what, l->diags))
                        continue;
                ynode_check_keys(v, vendor_keys, what, l->diags);
                if (ynode_get_string(v, "endpoint", what, true, &ep, l->diags) > 0) {
                        if (!name_index_contains(&l->endpoints, ep)) {
                                _cleanup_free_ char *where = xasprintf(" in %s", what);
                                report_unknown(l->diags, ynode_get(v, "endpoint"), &l->endpoints, "endpoint", ep,
                                               where);
                        } else
                                vd->endpoint = xstrdup(ep);
                }
                (void) get_optional_string(l, v, "description", what, &vd->description);
                (void) get_optional_string(l, v, "contact", what, &vd->contact);
        }
}

/* cluster: one droverd per site, one leader elected through etcd (src/cluster/). Only
 * syntax here: whether etcd answers is the daemon's business. */
static void load_cluster(Loader *l, const YNode *root)
{
        const YNode *section = ynode_get(root, "cluster"), *eps, *tls, *v;
        ClusterConfig *k;
        const char *s = NULL;
        usec_t ttl;

        if (!section || ynode_is_null(section))
                return;
        if (!ynode_expect(section, YNODE_MAPPING, "cluster", l->diags))
                return;
        ynode_check_keys(section, cluster_keys, "cluster", l->diags);
        k = xcalloc(1, sizeof(ClusterConfig));
        l->config->cluster = k;
        k->line = section->line;
        k->col = section->col;
        k->lease_ttl = CLUSTER_DEFAULT_LEASE_TTL;

        if (ynode_get_string(section, "node", "cluster", true, &s, l->diags) > 0) {
                if (!config_name_is_valid(s))
                        ynode_error(l->diags, ynode_get(section, "node"),
                                    "cluster: invalid node name '%.64s' (use letters, digits, '_', '.' and '-', "
                                    "start with a letter or digit, at most %d characters)",
                                    s, CONFIG_NAME_MAX);
                else
                        k->node = xstrdup(s);
        }
        s = NULL;
        if (ynode_get_string(section, "name", "cluster", false, &s, l->diags) > 0 && !config_name_is_valid(s))
                ynode_error(l->diags, ynode_get(section, "name"),
                            "cluster: invalid cluster name '%.64s' (use letters, digits, '_', '.' and '-', start "
                            "with a letter or digit, at most %d characters)",
                            s, CONFIG_NAME_MAX);
        else
                k->name = xstrdup(s ? s : CLUSTER_DEFAULT_NAME);
        if (k->name)
                k->prefix = xasprintf("/drover/%s", k->name);

        eps = ynode_get(section, "endpoints");
        if (!eps)
                ynode_error(l->diags, section, "missing required key 'endpoints' in cluster");
        else if (ynode_expect(eps, YNODE_SEQUENCE, "cluster.endpoints", l->diags)) {
                if (eps->n_items == 0)
                        ynode_error(l->diags, eps, "cluster.endpoints: at least one etcd endpoint is needed");
                else if (eps->n_items > CLUSTER_ENDPOINTS_MAX)
                        ynode_error(l->diags, eps, "cluster.endpoints: at most %d endpoints",
                                    CLUSTER_ENDPOINTS_MAX);
                k->endpoints = xcalloc(eps->n_items + 1, sizeof(char *));
                for (size_t i = 0; i < eps->n_items && i < CLUSTER_ENDPOINTS_MAX; i++) {
                        const YNode *e = eps->items[i];
                        size_t n;

                        if (!ynode_expect(e, YNODE_SCALAR, "an etcd endpoint", l->diags))
                                continue;
                        if (!url_is_valid(e->scalar) || strchr(strchr(e->scalar, ':') + 3, '/')) {
                                ynode_error(l->diags, e,
                                            "cluster.endpoints: an etcd endpoint is http://HOST:PORT or "
                                            "https://HOST:PORT, not '%.64s'",
                                            e->scalar);
                                continue;
                        }
                        n = strlen(e->scalar);
                        k->endpoints[k->n_endpoints++] = xstrndup(e->scalar, n);
                }
        }

        tls = ynode_get(section, "tls");
        if (tls && !ynode_is_null(tls) && ynode_expect(tls, YNODE_MAPPING, "cluster.tls", l->diags)) {
                ynode_check_keys(tls, cluster_tls_keys, "cluster.tls", l->diags);
                (void) get_path(l, tls, "ca", "cluster.tls", true, &k->ca_file);
                (void) get_path(l, tls, "cert", "cluster.tls", true, &k->cert_file);
                (void) get_path(l, tls, "key", "cluster.tls", true, &k->key_file);
                if (ynode_get(tls, "cert") && !ynode_get(tls, "key"))
                        ynode_error(l->diags, ynode_get_key(tls, "cert"), "cluster.tls: cert needs key");
                if (ynode_get(tls, "key") && !ynode_get(tls, "cert"))
                        ynode_error(l->diags, ynode_get_key(tls, "key"), "cluster.tls: key needs cert");
                for (size_t i = 0; i < k->n_endpoints; i++)
                        if (strncmp(k->endpoints[i], "https://", 8) != 0) {
                                ynode_error(l->diags, eps->items[i],
                                            "cluster.endpoints: '%.64s' is plain http:// but cluster.tls is set",
                                            k->endpoints[i]);
                                break;
                        }
        }

        if (ynode_get_duration(section, "lease_ttl", "cluster", false, &ttl, l->diags) > 0) {
                v = ynode_get(section, "lease_ttl");
                if (ttl % USEC_PER_SEC != 0)
                        ynode_error(l->diags, v, "cluster: lease_ttl must be whole seconds (etcd leases count seconds)");
                else if (ttl < CLUSTER_LEASE_TTL_MIN || ttl > CLUSTER_LEASE_TTL_MAX)
                        ynode_error(l->diags, v, "cluster: lease_ttl must be between %llus and %llus",
                                    (unsigned long long) (CLUSTER_LEASE_TTL_MIN / USEC_PER_SEC),
                                    (unsigned long long) (CLUSTER_LEASE_TTL_MAX / USEC_PER_SEC));
                else
                        k->lease_ttl = ttl;
        }
}

static char *config_base_dir(const char *path)
{
        _cleanup_free_ char *cwd = NULL;
        const char *slash = strrchr(path, '/');
        char *dir;

        if (slash == path)
                return xstrdup("/");
        dir = slash ? xstrndup(path, (size_t) (slash - path)) : xstrdup(".");
        if (dir[0] == '/')
                return dir;
        /* Resolve now: a relative key path must not change meaning with the daemon's cwd. */
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return dir;
        char *abs = streq(dir, ".") ? xstrdup(cwd) : xasprintf("%s/%s", cwd, dir);
        free(dir);
        return abs;
}

static int config_parse(const char *path, YDocument *doc, Config **ret, DiagList *diags)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *base_dir = NULL;
        size_t errors_before = diag_count_errors(diags);
        Loader l = {};

        c = xcalloc(1, sizeof(Config));
        c->path = xstrdup(path);
        c->step_timeout = CONFIG_DEFAULT_STEP_TIMEOUT;
        c->connect_timeout = CONFIG_DEFAULT_CONNECT_TIMEOUT;
        c->output_cap = CONFIG_DEFAULT_OUTPUT_CAP;
        c->dbus_required = true;

        if (!ynode_expect(doc->root, YNODE_MAPPING, "the top level of drover.yaml", diags))
                return -EINVAL;
        ynode_check_keys(doc->root, top_keys, "drover.yaml", diags);

        base_dir = config_base_dir(path);
        l = (Loader) { .config = c, .diags = diags, .base_dir = base_dir, .ssh_port = 22 };

        /* Referenced sections first, whatever order the file uses. */
        load_top(&l, doc->root);
        load_approvals(&l, doc->root);
        load_dbus(&l, doc->root);
        load_sites(&l, doc->root);
        name_index_build(&l.sites, c->sites, c->n_sites, sizeof(Site));
        load_secrets(&l, doc->root);
        name_index_build(&l.secrets, c->secrets, c->n_secrets, sizeof(Secret));
        load_hosts(&l, doc->root);
        name_index_build(&l.hosts, c->hosts, c->n_hosts, sizeof(Host));
        load_groups(&l, doc->root);
        load_endpoints(&l, doc->root);
        name_index_build(&l.endpoints, c->endpoints, c->n_endpoints, sizeof(Endpoint));
        load_vendors(&l, doc->root);
        load_cluster(&l, doc->root);
        /* Last: the monitoring sections refer to every section above. */
        (void) monitor_config_load(doc->root, c, &c->monitor, diags);

        name_index_done(&l.sites);
        name_index_done(&l.secrets);
        name_index_done(&l.hosts);
        name_index_done(&l.endpoints);
        free(l.ssh_key);
        free(l.ssh_public_key);
        free(l.ssh_known_hosts);

        if (diag_count_errors(diags) > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, Config **ret, DiagList *diags)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        int r;

        r = ydocument_load_file(path, &doc, diags);
        if (r < 0)
                return r;
        return config_parse(path, doc, ret, diags);
}

int config_load_buffer(const char *path, const char *buf, size_t len, Config **ret, DiagList *diags)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        int r;

        r = ydocument_load_buffer(path, buf, len, &doc, diags);
        if (r < 0)
                return r;
        return config_parse(path, doc, ret, diags);
}

static int read_secret_file(const char *path, char **ret)
{
        _cleanup_close_ int fd = -EBADF;
        StrBuf b = STRBUF_INIT;
        char chunk[4096];
        int r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > SECRET_VALUE_MAX) {
                        r = -EFBIG;
                        break;
                }
                strbuf_append(&b, chunk, (size_t) n);
        }
        explicit_bzero(chunk, sizeof(chunk));
        if (r == 0 && b.data && memchr(b.data, '\0', b.len))
                r = -EBADMSG; /* would be silently cut short as a C string */
        if (r < 0) {
                if (b.data)
                        explicit_bzero(b.data, b.cap);
                strbuf_done(&b);
                return r;
        }
        /* Exactly one trailing newline: `echo secret > file` must not leak "\n" into a header. */
        if (b.len > 0 && b.data[b.len - 1] == '\n')
                b.data[--b.len] = '\0';
        *ret = strbuf_steal(&b);
        return 0;
}

int secret_read_value(const Secret *s, char **ret)
{
        const char *v, *dir;
        _cleanup_free_ char *p = NULL;

        if (!s || !s->ref || !ret)
                return -EINVAL;
        switch (s->source) {
        case SECRET_SOURCE_FILE:
                return read_secret_file(s->ref, ret);
        case SECRET_SOURCE_ENV:
                v = getenv(s->ref);
                if (!v)
                        return -ENOENT;
                *ret = xstrdup(v);
                return 0;
        case SECRET_SOURCE_CREDENTIAL:
                dir = getenv("CREDENTIALS_DIRECTORY");
                if (!dir || dir[0] == '\0')
                        return -ENXIO;
                if (!config_name_is_valid(s->ref))
                        return -EINVAL;
                p = xasprintf("%s/%s", dir, s->ref);
                return read_secret_file(p, ret);
        default:
                return -EINVAL;
        }
}
