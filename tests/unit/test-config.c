/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-config.c — drover.yaml: real files in a temp dir, defaults, paths, lookups, secrets, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "shared/strbuf.h"

static char tmpdir[] = "/tmp/test-config-XXXXXX";

static char *tmp_path(const char *name)
{
        return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *content)
{
        char *p = tmp_path(name);
        FILE *f = fopen(p, "we");

        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        free(p);
}

static int setup(void **state)
{
        if (!mkdtemp(tmpdir))
                return -1;
        write_file("id_ed25519", "not really a key\n");
        write_file("known_hosts", "");
        write_file("other_key", "x\n");
        write_file("ca.pem", "ca\n");
        write_file("client.pem", "c\n");
        write_file("client.key", "k\n");
        write_file("token", "s3cret\n");
        return 0;
}

static int teardown(void **state)
{
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Write `text` as NAME in the temp dir and load it. */
static int load(const char *name, const char *text, Config **ret, DiagList *l)
{
        _cleanup_free_ char *p = tmp_path(name);

        write_file(name, text);
        diag_list_init(l);
        return config_load(p, ret, l);
}

static void assert_diag(const DiagList *l, unsigned line, unsigned col, const char *sub)
{
        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].severity == DIAG_ERROR && l->items[i].line == line && l->items[i].col == col &&
                    strstr(l->items[i].message, sub))
                        return;
        for (size_t i = 0; i < l->n_items; i++)
                print_message("  have %u:%u: %s\n", l->items[i].line, l->items[i].col, l->items[i].message);
        fail_msg("no error at %u:%u containing '%s'", line, col, sub);
}

/* Load must fail, return nothing, and report `sub` at line:col. */
static void expect_fail(const char *text, unsigned line, unsigned col, const char *sub)
{
        Config *c = (Config *) 0x1; /* must stay untouched */
        DiagList l;

        assert_int_equal(load("bad.yaml", text, &c, &l), -EINVAL);
        assert_ptr_equal(c, (Config *) 0x1);
        assert_diag(&l, line, col, sub);
        diag_list_done(&l);
}

static const char good[] = "journal: state/drover.db\n"
                           "playbook_dir: /etc/drover/playbooks\n"
                           "defaults:\n"
                           "  step_timeout: 90s\n"
                           "  output_cap: 2048\n"
                           "  ssh:\n"
                           "    user: drover\n"
                           "    key: id_ed25519\n"
                           "    known_hosts: known_hosts\n"
                           "    port: 2222\n"
                           "    connect_timeout: 7s\n"
                           "sites:\n"
                           "  primary: {role: primary, description: \"Main data centre\"}\n"
                           "  backup: {role: backup}\n"
                           "  lab: {role: other}\n"
                           "hosts:\n"
                           "  db1: {site: primary, address: 10.0.0.1}\n"
                           "  db2: {site: backup, address: db2.example.org, port: 22, user: postgres,\n"
                           "        key: other_key, connect_timeout: 500ms}\n"
                           "  web1: {address: 10.0.0.3, agent: true}\n"
                           "  web2: {address: 'fe80::1', known_hosts: /dev/null}\n"
                           "groups:\n"
                           "  web: [web1, web2]\n"
                           "  all:\n"
                           "    - db1\n"
                           "    - db2\n"
                           "    - web1\n"
                           "endpoints:\n"
                           "  api:\n"
                           "    site: backup\n"
                           "    url: https://10.0.0.12:8443/\n"
                           "    ca: ca.pem\n"
                           "    client_cert: client.pem\n"
                           "    client_key: client.key\n"
                           "    timeout: 5s\n"
                           "    headers:\n"
                           "      Authorization: \"Bearer ${secrets.api_token}\"\n"
                           "      X-Cost: \"$$5 ${secrets.pg_password}\"\n"
                           "  hook: {url: http://hooks.example.org/x, tls_verify: false}\n"
                           "vendors:\n"
                           "  vendor-a: {endpoint: hook, description: \"Pager\", contact: \"+1 555\"}\n"
                           "secrets:\n"
                           "  api_token: {file: token}\n"
                           "  pg_password: {env: TEST_CONFIG_PGPASSWORD}\n"
                           "  webhook_key: {credential: webhook_key}\n";

static void test_good(void **state)
{
        _cleanup_free_ char *key = tmp_path("id_ed25519"), *other = tmp_path("other_key"),
                            *kh = tmp_path("known_hosts"), *journal = tmp_path("state/drover.db"),
                            *ca = tmp_path("ca.pem"), *token = tmp_path("token"), *cfg = tmp_path("good.yaml");
        Config *c = NULL;
        const Host *h;
        const Group *g;
        const Endpoint *e;
        const Secret *s;
        DiagList l;

        assert_int_equal(load("good.yaml", good, &c, &l), 0);
        assert_int_equal(l.n_items, 0);
        assert_non_null(c);
        assert_string_equal(c->path, cfg);
        assert_string_equal(c->journal_path, journal);
        assert_string_equal(c->playbook_dir, "/etc/drover/playbooks");
        assert_int_equal(c->step_timeout, 90 * USEC_PER_SEC);
        assert_int_equal(c->output_cap, 2048);
        assert_int_equal(c->connect_timeout, 7 * USEC_PER_SEC);

        assert_int_equal(c->n_sites, 3);
        assert_int_equal(config_find_site(c, "primary")->role, SITE_ROLE_PRIMARY);
        assert_string_equal(config_find_site(c, "primary")->description, "Main data centre");
        assert_int_equal(config_find_site(c, "lab")->role, SITE_ROLE_OTHER);
        assert_null(config_find_site(c, "backup")->description);
        assert_int_equal(config_find_site(c, "backup")->line, 14);
        assert_int_equal(config_find_site(c, "backup")->col, 3);

        assert_int_equal(c->n_hosts, 4);
        h = config_find_host(c, "db1"); /* everything from defaults */
        assert_string_equal(h->site, "primary");
        assert_string_equal(h->address, "10.0.0.1");
        assert_int_equal(h->port, 2222);
        assert_string_equal(h->user, "drover");
        assert_string_equal(h->key_file, key);
        assert_false(h->use_agent);
        assert_string_equal(h->known_hosts, kh);
        assert_int_equal(h->connect_timeout, 7 * USEC_PER_SEC);
        assert_int_equal(h->line, 17);

        h = config_find_host(c, "db2"); /* everything overridden */
        assert_int_equal(h->port, 22);
        assert_string_equal(h->user, "postgres");
        assert_string_equal(h->key_file, other);
        assert_int_equal(h->connect_timeout, 500 * USEC_PER_MSEC);

        h = config_find_host(c, "web1"); /* agent replaces the default key */
        assert_true(h->use_agent);
        assert_null(h->key_file);
        assert_null(h->site);

        h = config_find_host(c, "web2");
        assert_string_equal(h->address, "fe80::1");
        assert_string_equal(h->known_hosts, "/dev/null");
        assert_string_equal(h->key_file, key);
        assert_null(config_find_host(c, "web3"));

        g = config_find_group(c, "web");
        assert_int_equal(g->n_hosts, 2);
        assert_string_equal(g->hosts[0], "web1");
        assert_string_equal(g->hosts[1], "web2");
        assert_null(g->hosts[2]);
        assert_int_equal(config_find_group(c, "all")->n_hosts, 3);

        e = config_find_endpoint(c, "api");
        assert_string_equal(e->base_url, "https://10.0.0.12:8443"); /* trailing slash dropped */
        assert_string_equal(e->site, "backup");
        assert_string_equal(e->ca_file, ca);
        assert_non_null(e->client_cert);
        assert_non_null(e->client_key);
        assert_true(e->tls_verify);
        assert_int_equal(e->timeout, 5 * USEC_PER_SEC);
        assert_int_equal(e->n_headers, 2);
        assert_string_equal(e->headers[0].name, "Authorization");
        assert_string_equal(e->headers[0].value, "Bearer ${secrets.api_token}");
        e = config_find_endpoint(c, "hook");
        assert_false(e->tls_verify);
        assert_int_equal(e->timeout, 0);
        assert_null(e->ca_file);
        assert_int_equal(e->n_headers, 0);

        assert_string_equal(config_find_vendor(c, "vendor-a")->endpoint, "hook");
        assert_string_equal(config_find_vendor(c, "vendor-a")->contact, "+1 555");

        s = config_find_secret(c, "api_token");
        assert_int_equal(s->source, SECRET_SOURCE_FILE);
        assert_string_equal(s->ref, token);
        assert_int_equal(config_find_secret(c, "pg_password")->source, SECRET_SOURCE_ENV);
        assert_int_equal(config_find_secret(c, "webhook_key")->source, SECRET_SOURCE_CREDENTIAL);
        assert_null(config_find_secret(c, "nope"));
        assert_null(config_find_secret(NULL, "nope"));

        config_free(c);
        diag_list_done(&l);
}

static void test_minimal_defaults(void **state)
{
        Config *c = NULL;
        DiagList l;

        assert_int_equal(load("min.yaml", "sites:\n", &c, &l), 0);
        assert_null(c->journal_path);
        assert_null(c->playbook_dir);
        assert_int_equal(c->step_timeout, CONFIG_DEFAULT_STEP_TIMEOUT);
        assert_int_equal(c->connect_timeout, CONFIG_DEFAULT_CONNECT_TIMEOUT);
        assert_int_equal(c->output_cap, CONFIG_DEFAULT_OUTPUT_CAP);
        assert_int_equal(c->n_hosts + c->n_sites + c->n_groups + c->n_endpoints + c->n_vendors + c->n_secrets, 0);
        config_free(c);
        diag_list_done(&l);

        /* a host with its own everything and no defaults; port defaults to 22 */
        assert_int_equal(load("min.yaml",
                              "hosts:\n  h: {address: h.example, user: u, key: /dev/null, known_hosts: /dev/null}\n",
                              &c, &l),
                         0);
        assert_int_equal(config_find_host(c, "h")->port, 22);
        assert_int_equal(config_find_host(c, "h")->connect_timeout, CONFIG_DEFAULT_CONNECT_TIMEOUT);
        config_free(c);
        diag_list_done(&l);

        /* agent from defaults */
        assert_int_equal(load("min.yaml",
                              "defaults: {ssh: {user: u, agent: true, known_hosts: /dev/null}}\n"
                              "hosts:\n  h: {address: h.example}\n  k: {address: k, key: /dev/null}\n",
                              &c, &l),
                         0);
        assert_true(config_find_host(c, "h")->use_agent);
        assert_false(config_find_host(c, "k")->use_agent);
        assert_string_equal(config_find_host(c, "k")->key_file, "/dev/null");
        config_free(c);
        diag_list_done(&l);
}

static void test_relative_config_path(void **state)
{
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        _cleanup_free_ char *expect = tmp_path("id_ed25519");
        Config *c = NULL;
        DiagList l;

        write_file("rel.yaml", "defaults: {ssh: {user: u, key: id_ed25519, known_hosts: known_hosts}}\n"
                               "hosts: {h: {address: h}}\n");
        assert_int_equal(chdir(tmpdir), 0);
        diag_list_init(&l);
        assert_int_equal(config_load("rel.yaml", &c, &l), 0);
        assert_int_equal(chdir(cwd), 0);
        /* resolved to an absolute path at load time, not against a later cwd */
        assert_string_equal(config_find_host(c, "h")->key_file, expect);
        config_free(c);
        diag_list_done(&l);
}

static void test_load_buffer(void **state)
{
        Config *c = NULL;
        DiagList l;
        const char *text = "sites: {a: {role: backup}}\n";

        diag_list_init(&l);
        assert_int_equal(config_load_buffer("/nonexistent/drover.yaml", text, strlen(text), &c, &l), 0);
        assert_int_equal(config_find_site(c, "a")->role, SITE_ROLE_BACKUP);
        config_free(c);
        c = NULL;
        assert_int_equal(config_load_buffer("/x/drover.yaml", "sites: [", 8, &c, &l), -EINVAL);
        assert_null(c);
        diag_list_done(&l);
}

/* dbus.required: true unless the file says false (droverd then runs without its API). */
static void test_dbus_required(void **state)
{
        Config *c = NULL;
        DiagList l;

        assert_int_equal(load("dbus.yaml", "sites:\n", &c, &l), 0);
        assert_true(c->dbus_required);
        config_free(c);
        diag_list_done(&l);

        assert_int_equal(load("dbus.yaml", "dbus: {required: false}\n", &c, &l), 0);
        assert_false(c->dbus_required);
        config_free(c);
        diag_list_done(&l);

        assert_int_equal(load("dbus.yaml", "dbus: {}\n", &c, &l), 0);
        assert_true(c->dbus_required);
        config_free(c);
        diag_list_done(&l);
}

static void test_missing_file(void **state)
{
        Config *c = NULL;
        DiagList l;

        diag_list_init(&l);
        assert_int_equal(config_load("/nonexistent/drover.yaml", &c, &l), -ENOENT);
        assert_null(c);
        diag_list_done(&l);
}

static void test_enums(void **state)
{
        assert_string_equal(site_role_to_string(SITE_ROLE_BACKUP), "backup");
        assert_int_equal(site_role_from_string("other"), SITE_ROLE_OTHER);
        assert_int_equal(site_role_from_string("Primary"), _SITE_ROLE_INVALID);
        assert_int_equal(site_role_from_string(NULL), _SITE_ROLE_INVALID);
        assert_null(site_role_to_string(_SITE_ROLE_MAX));
        assert_null(site_role_to_string(_SITE_ROLE_INVALID));
        assert_string_equal(secret_source_to_string(SECRET_SOURCE_CREDENTIAL), "credential");
        assert_null(secret_source_to_string(_SECRET_SOURCE_MAX));
        config_free(NULL);
}

static void test_secret_values(void **state)
{
        _cleanup_free_ char *p1 = tmp_path("s1"), *p2 = tmp_path("s2"), *p3 = tmp_path("s3"),
                            *missing = tmp_path("nope");
        Secret s = { .name = (char *) "x" };
        char *v = NULL;

        write_file("s1", "value\n");
        write_file("s2", "two\n\n");
        write_file("s3", "no newline");

        s.source = SECRET_SOURCE_FILE;
        s.ref = p1;
        assert_int_equal(secret_read_value(&s, &v), 0);
        assert_string_equal(v, "value");
        free(v);
        s.ref = p2; /* exactly one newline stripped */
        assert_int_equal(secret_read_value(&s, &v), 0);
        assert_string_equal(v, "two\n");
        free(v);
        s.ref = p3;
        assert_int_equal(secret_read_value(&s, &v), 0);
        assert_string_equal(v, "no newline");
        free(v);
        v = NULL;
        s.ref = missing;
        assert_int_equal(secret_read_value(&s, &v), -ENOENT);
        assert_null(v);

        s.source = SECRET_SOURCE_ENV;
        s.ref = (char *) "TEST_CONFIG_SECRET_ENV";
        unsetenv("TEST_CONFIG_SECRET_ENV");
        assert_int_equal(secret_read_value(&s, &v), -ENOENT);
        setenv("TEST_CONFIG_SECRET_ENV", "from-env\n", 1);
        assert_int_equal(secret_read_value(&s, &v), 0);
        assert_string_equal(v, "from-env\n"); /* environment values are taken as they are */
        free(v);
        unsetenv("TEST_CONFIG_SECRET_ENV");

        s.source = SECRET_SOURCE_CREDENTIAL;
        s.ref = (char *) "s1";
        unsetenv("CREDENTIALS_DIRECTORY");
        v = NULL;
        assert_int_equal(secret_read_value(&s, &v), -ENXIO);
        assert_null(v);
        setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
        assert_int_equal(secret_read_value(&s, &v), 0);
        assert_string_equal(v, "value");
        free(v);
        s.ref = (char *) "nope";
        assert_int_equal(secret_read_value(&s, &v), -ENOENT);
        unsetenv("CREDENTIALS_DIRECTORY");
}

static void test_secret_from_loaded_config(void **state)
{
        Config *c = NULL;
        DiagList l;
        char *v = NULL;

        assert_int_equal(load("good2.yaml", good, &c, &l), 0);
        assert_int_equal(secret_read_value(config_find_secret(c, "api_token"), &v), 0);
        assert_string_equal(v, "s3cret");
        free(v);
        setenv("TEST_CONFIG_PGPASSWORD", "pw", 1);
        assert_int_equal(secret_read_value(config_find_secret(c, "pg_password"), &v), 0);
        assert_string_equal(v, "pw");
        free(v);
        unsetenv("TEST_CONFIG_PGPASSWORD");
        config_free(c);
        diag_list_done(&l);
}

#define H "defaults: {ssh: {user: u, key: /dev/null, known_hosts: /dev/null}}\n"

static void test_bad_top(void **state)
{
        expect_fail("- a\n- b\n", 1, 1, "top level of drover.yaml must be a mapping, not a sequence");
        expect_fail("hots: {}\n", 1, 1, "unknown key 'hots' in drover.yaml (did you mean 'hosts'?)");
        expect_fail("journal: [a]\n", 1, 10, "journal must be a string, not a sequence");
        expect_fail("defaults: {step_timeout: forever}\n", 1, 26, "invalid duration 'forever' for step_timeout");
        expect_fail("defaults: {step_timeout: 0s}\n", 1, 26, "step_timeout must be greater than 0");
        expect_fail("defaults:\n  output_cap: 10\n", 2, 15, "defaults: output_cap must be between 1024 and 16777216");
        expect_fail("defaults:\n  ssh:\n    prot: 22\n", 3, 5, "unknown key 'prot' in defaults.ssh (did you mean 'port'?)");
        expect_fail("defaults: {ssh: {port: 0}}\n", 1, 24, "port must be between 1 and 65535");
        expect_fail("defaults: {ssh: {key: /dev/null, agent: true}}\n", 1, 41, "mutually exclusive");
        expect_fail("hosts: [a]\n", 1, 8, "hosts must be a mapping, not a sequence");
}

static void test_bad_sites(void **state)
{
        expect_fail("sites:\n  a: {role: main}\n", 2, 13, "role must be primary, backup or other, not 'main'");
        expect_fail("sites:\n  a: {description: x}\n", 2, 6, "missing required key 'role' in site 'a'");
        expect_fail("sites:\n  a: {role: primary, descr: x}\n", 2, 22, "unknown key 'descr' in site 'a'");
        expect_fail("sites:\n  -bad: {role: primary}\n", 2, 3, "invalid site name '-bad'");
        expect_fail("sites:\n  a: primary\n", 2, 6, "site 'a' must be a mapping, not a scalar");
}

static void test_bad_hosts(void **state)
{
        expect_fail(H "hosts:\n  db1: {port: 22}\n", 3, 8, "missing required key 'address' in host 'db1'");
        expect_fail(H "hosts:\n  db1: {address: x, adress: y}\n", 3, 21, "unknown key 'adress' in host 'db1' (did you mean 'address'?)");
        expect_fail(H "hosts:\n  db1: {address: x, port: 70000}\n", 3, 27, "host 'db1': port must be between 1 and 65535");
        expect_fail(H "hosts:\n  db1: {address: x, port: ssh}\n", 3, 27, "port must be a number");
        expect_fail(H "hosts:\n  db1: {address: x, site: primry}\n", 3, 27, "unknown site 'primry' in host 'db1'");
        expect_fail("sites: {primary: {role: primary}}\n" H "hosts:\n  db1: {address: x, site: primry}\n", 4, 27,
                    "unknown site 'primry' in host 'db1' (did you mean 'primary'?)");
        expect_fail(H "hosts:\n  db1: {address: '-oProxyCommand=x'}\n", 3, 18, "invalid address");
        expect_fail(H "hosts:\n  db1: {address: x, key: missing_key}\n", 3, 26, "key file '");
        expect_fail(H "hosts:\n  db1: {address: x, key: missing_key}\n", 3, 26, "missing_key' does not exist");
        expect_fail(H "hosts:\n  db1: {address: x, known_hosts: /tmp}\n", 3, 34, "is a directory");
        expect_fail(H "hosts:\n  db1: {address: x, key: /dev/null, agent: true}\n", 3, 44, "mutually exclusive");
        expect_fail(H "hosts:\n  db1: {address: x, agent: maybe}\n", 3, 28, "agent must be true or false");
        expect_fail(H "hosts:\n  db1: {address: x, connect_timeout: 1 sec}\n", 3, 38, "invalid duration '1 sec'");
        expect_fail("hosts:\n  db1: {address: x, key: /dev/null, known_hosts: /dev/null}\n", 2, 3,
                    "host 'db1' has no user");
        expect_fail("hosts:\n  db1: {address: x, user: u, known_hosts: /dev/null}\n", 2, 3,
                    "host 'db1' has no SSH authentication");
        expect_fail("hosts:\n  db1: {address: x, user: u, agent: false, known_hosts: /dev/null}\n", 2, 3,
                    "has no SSH authentication");
        expect_fail("hosts:\n  db1: {address: x, user: u, agent: true}\n", 2, 3, "host 'db1' has no known_hosts file");
        expect_fail(H "hosts:\n  db1:\n", 3, 7, "host 'db1' must be a mapping, not empty");
}

static void test_bad_groups(void **state)
{
#define HOSTS H "hosts:\n  web1: {address: a}\n  web2: {address: b}\n"

        expect_fail(H "groups:\n  web: [web1]\n", 3, 9, "unknown host 'web1' in group 'web'");
        expect_fail(HOSTS "groups:\n  web: [web1, web3]\n", 6, 15, "unknown host 'web3' in group 'web' (did you mean 'web1'?)");
        expect_fail(HOSTS "groups:\n  web: [web1, web2, web1]\n", 6, 21, "host 'web1' is listed twice in group 'web' (first at line 6)");
        expect_fail(HOSTS "groups:\n  web: []\n", 6, 8, "group 'web' must list at least one host");
        expect_fail(HOSTS "groups:\n  web: {web1: x}\n", 6, 8, "group 'web' must be a sequence, not a mapping");
        expect_fail(HOSTS "groups:\n  web: [[web1]]\n", 6, 9, "a group member must be a string, not a sequence");
}

static void test_bad_endpoints(void **state)
{
        expect_fail("endpoints:\n  api: {url: ftp://x}\n", 2, 14, "url must start with http:// or https://");
        expect_fail("endpoints:\n  api: {url: 'https://'}\n", 2, 14, "url must start with http:// or https://");
        expect_fail("endpoints:\n  api: {url: 'https://a b'}\n", 2, 14, "url must start");
        expect_fail("endpoints:\n  api: {site: x}\n", 2, 8, "missing required key 'url' in endpoint 'api'");
        expect_fail("endpoints:\n  api: {url: http://x, ca: nope.pem}\n", 2, 28, "ca file '");
        expect_fail("endpoints:\n  api: {url: http://x, client_cert: /dev/null}\n", 2, 24, "client_cert needs client_key");
        expect_fail("endpoints:\n  api: {url: http://x, tls_verify: 'no'}\n", 2, 36, "tls_verify must be true or false");
        expect_fail("endpoints:\n  api:\n    url: http://x\n    headers:\n      Authorization: \"Bearer ${secrets.tokn}\"\n",
                    5, 30, "unknown secret 'tokn' in header 'Authorization' of endpoint 'api'");
        expect_fail("secrets: {token: {env: T}}\nendpoints:\n  api:\n    url: http://x\n    headers:\n"
                    "      Authorization: Bearer ${secrets.tokn}\n",
                    6, 29, "unknown secret 'tokn' in header 'Authorization' of endpoint 'api' (did you mean 'token'?)");
        expect_fail("endpoints:\n  api:\n    url: http://x\n    headers: {X-Reason: '${params.reason}'}\n", 4, 26,
                    "may only reference ${secrets.NAME}");
        expect_fail("endpoints:\n  api:\n    url: http://x\n    headers: {X-A: 'a ${secrets.x'}\n", 4, 23,
                    "unterminated '${'");
        expect_fail("endpoints:\n  api:\n    url: http://x\n    headers: {'Bad Name': x}\n", 4, 15,
                    "invalid header name 'Bad Name'");
        expect_fail("endpoints:\n  api:\n    url: http://x\n    headers: {X-A: \"a\\nb\"}\n", 4, 20,
                    "must not contain line breaks");
}

static void test_bad_vendors_and_secrets(void **state)
{
        expect_fail("endpoints: {hook: {url: http://x}}\nvendors:\n  v: {endpoint: hok}\n", 3, 17,
                    "unknown endpoint 'hok' in vendor 'v' (did you mean 'hook'?)");
        expect_fail("vendors:\n  v: {description: x}\n", 2, 6, "missing required key 'endpoint' in vendor 'v'");
        expect_fail("secrets:\n  t: {file: a, env: B}\n", 2, 16, "secret 't' has more than one source ('file' and 'env')");
        expect_fail("secrets:\n  t: {}\n", 2, 3, "secret 't' needs one source");
        expect_fail("secrets:\n  t: {env: 'A-B'}\n", 2, 12, "invalid environment variable name 'A-B'");
        expect_fail("secrets:\n  t: {credential: ../x}\n", 2, 19, "invalid credential name '../x'");
        expect_fail("secrets:\n  t: {fiel: x}\n", 2, 7, "unknown key 'fiel' in secret 't' (did you mean 'file'?)");
}

static void test_all_errors_in_one_pass(void **state)
{
        Config *c = NULL;
        DiagList l;

        assert_int_equal(load("many.yaml",
                              "sites:\n"
                              "  a: {role: nope}\n"
                              "hosts:\n"
                              "  h: {port: 0}\n"
                              "groups:\n"
                              "  g: [x]\n"
                              "endpoints:\n"
                              "  e: {url: gopher://x}\n"
                              "bogus: 1\n",
                              &c, &l),
                         -EINVAL);
        assert_null(c);
        assert_diag(&l, 2, 13, "role must be");
        assert_diag(&l, 4, 6, "missing required key 'address'");
        assert_diag(&l, 4, 13, "port must be between");
        assert_diag(&l, 4, 3, "has no user");
        assert_diag(&l, 6, 7, "unknown host 'x'");
        assert_diag(&l, 8, 12, "url must start");
        assert_diag(&l, 9, 1, "unknown key 'bogus'");
        diag_list_done(&l);
}

static void test_yaml_errors_pass_through(void **state)
{
        expect_fail("sites:\n\tprimary: {role: primary}\n", 2, 1, "tab character not allowed");
        expect_fail("sites: {a: {role: primary}, a: {role: backup}}\n", 1, 29, "duplicate key 'a'");
        expect_fail("# nothing\n", 1, 1, "file is empty");
}
static void test_cluster(void **state)
{
        Config *c = NULL;
        DiagList l;

        /* without cluster: one droverd, no etcd */
        assert_int_equal(load("cl.yaml", "sites:\n", &c, &l), 0);
        assert_null(c->cluster);
        config_free(c);
        diag_list_done(&l);

        assert_int_equal(load("cl.yaml",
                              "cluster:\n  node: primary\n  endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]\n",
                              &c, &l),
                         0);
        assert_non_null(c->cluster);
        assert_string_equal(c->cluster->node, "primary");
        assert_string_equal(c->cluster->name, CLUSTER_DEFAULT_NAME);
        assert_string_equal(c->cluster->prefix, "/drover/drover");
        assert_int_equal(c->cluster->n_endpoints, 2);
        assert_string_equal(c->cluster->endpoints[1], "http://10.0.0.2:2379");
        assert_null(c->cluster->endpoints[2]);
        assert_int_equal(c->cluster->lease_ttl, CLUSTER_DEFAULT_LEASE_TTL);
        assert_null(c->cluster->ca_file);
        config_free(c);
        diag_list_done(&l);

        assert_int_equal(load("cl.yaml",
                              "cluster:\n  node: b\n  name: bank-1\n  lease_ttl: 10s\n"
                              "  endpoints: [https://e1:2379]\n  tls: {ca: /dev/null, cert: /dev/null, key: /dev/null}\n",
                              &c, &l),
                         0);
        assert_string_equal(c->cluster->prefix, "/drover/bank-1");
        assert_int_equal(c->cluster->lease_ttl, 10 * USEC_PER_SEC);
        assert_string_equal(c->cluster->ca_file, "/dev/null");
        assert_string_equal(c->cluster->key_file, "/dev/null");
        config_free(c);
        diag_list_done(&l);

        /* every error of the section in one pass */
        assert_int_equal(load("cl.yaml",
                              "cluster:\n  node: -x\n  name: \"a b\"\n  endpoints: [ftp://x]\n  lease_ttl: 500s\n",
                              &c, &l),
                         -EINVAL);
        assert_diag(&l, 2, 9, "invalid node name");
        assert_diag(&l, 3, 9, "invalid cluster name");
        assert_diag(&l, 4, 15, "an etcd endpoint is");
        assert_diag(&l, 5, 14, "between 2s and 120s");
        diag_list_done(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_minimal_defaults),
                cmocka_unit_test(test_relative_config_path),
                cmocka_unit_test(test_load_buffer),
                cmocka_unit_test(test_dbus_required),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_enums),
                cmocka_unit_test(test_secret_values),
                cmocka_unit_test(test_secret_from_loaded_config),
                cmocka_unit_test(test_bad_top),
                cmocka_unit_test(test_bad_sites),
                cmocka_unit_test(test_bad_hosts),
                cmocka_unit_test(test_bad_groups),
                cmocka_unit_test(test_bad_endpoints),
                cmocka_unit_test(test_bad_vendors_and_secrets),
                cmocka_unit_test(test_all_errors_in_one_pass),
                cmocka_unit_test(test_yaml_errors_pass_through),
                cmocka_unit_test(test_cluster),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
