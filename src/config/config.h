/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.h — drover.yaml, the inventory: sites, SSH hosts, host groups, HTTP
 * endpoints, vendors and named secrets, plus journal/default settings.
 *
 * Owns: the Config types, loading and validating drover.yaml, resolving a
 * secret's value at the moment a run needs it. Does not own: playbooks, the
 * journal, any network I/O. Called by droverctl, droverd and the engine.
 *
 * A Config is immutable after config_load(); lookups return borrowed pointers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/diag.h"
#include "shared/macros.h"
#include "shared/time-util.h"

#define CONFIG_DEFAULT_PATH "/etc/drover/drover.yaml"
#define CONFIG_DEFAULT_STEP_TIMEOUT (60 * USEC_PER_SEC)
#define CONFIG_DEFAULT_CONNECT_TIMEOUT (10 * USEC_PER_SEC)
#define CONFIG_DEFAULT_OUTPUT_CAP (64 * 1024)
#define CONFIG_NAME_MAX 64

/* The monitoring sections (monitor, levels, roles, responses, deadlines,
 * failover): monitor-config.h. */
typedef struct MonitorConfig MonitorConfig;

typedef enum SiteRole {
        SITE_ROLE_PRIMARY,
        SITE_ROLE_BACKUP,
        SITE_ROLE_OTHER,
        _SITE_ROLE_MAX,
        _SITE_ROLE_INVALID = -EINVAL,
} SiteRole;

const char *site_role_to_string(SiteRole r);
SiteRole site_role_from_string(const char *s);

typedef struct Site {
        char *name;
        SiteRole role;
        char *description;
        unsigned line, col;
} Site;

typedef struct Host {
        char *name;
        char *site;        /* may be NULL */
        char *address;     /* IP address or DNS name */
        uint16_t port;     /* default 22 */
        char *user;        /* required (from host or defaults.ssh) */
        char *key_file;    /* private key (ed25519/ECDSA); NULL when use_agent */
        char *public_key_file; /* NULL = key_file + ".pub" if it exists */
        bool use_agent;    /* authenticate through $SSH_AUTH_SOCK */
        char *known_hosts; /* required: host keys are always checked */
        usec_t connect_timeout;
        unsigned line, col;
} Host;

typedef struct Group {
        char *name;
        char **hosts; /* NULL-terminated, names of Host; every one exists */
        size_t n_hosts;
        unsigned line, col;
} Group;

typedef struct HttpHeader {
        char *name;
        char *value; /* may hold ${secrets.NAME} references, expanded at run time */
} HttpHeader;

typedef struct Endpoint {
        char *name;
        char *site;        /* may be NULL */
        char *base_url;    /* http:// or https:// */
        char *ca_file;     /* NULL = system trust store */
        char *client_cert; /* PEM, optional */
        char *client_key;  /* PEM, optional */
        bool tls_verify;   /* default true; false only when written explicitly */
        usec_t timeout;    /* default for requests to this endpoint */
        HttpHeader *headers;
        size_t n_headers;
        unsigned line, col;
} Endpoint;

typedef struct Vendor {
        char *name;
        char *endpoint; /* name of an Endpoint */
        char *description;
        char *contact;
        unsigned line, col;
} Vendor;

typedef enum SecretSource {
        SECRET_SOURCE_FILE,       /* a file's content, trailing newline stripped */
        SECRET_SOURCE_ENV,        /* an environment variable */
        SECRET_SOURCE_CREDENTIAL, /* $CREDENTIALS_DIRECTORY/NAME (systemd LoadCredential=) */
        _SECRET_SOURCE_MAX,
        _SECRET_SOURCE_INVALID = -EINVAL,
} SecretSource;

const char *secret_source_to_string(SecretSource s);

typedef struct Secret {
        char *name;
        SecretSource source;
        char *ref; /* path, variable name or credential name */
        unsigned line, col;
} Secret;

/* cluster: several droverd, one leader elected through etcd (src/cluster/). */
#define CLUSTER_DEFAULT_NAME "drover"
#define CLUSTER_DEFAULT_LEASE_TTL (5 * USEC_PER_SEC)
#define CLUSTER_LEASE_TTL_MIN (2 * USEC_PER_SEC)
#define CLUSTER_LEASE_TTL_MAX (120 * USEC_PER_SEC)
#define CLUSTER_ENDPOINTS_MAX 16

typedef struct ClusterConfig {
        char *node;       /* this droverd's name in the cluster (value of the leader key) */
        char *name;       /* the cluster's name: keys live under /drover/<name>/ */
        char *prefix;     /* "/drover/<name>", derived */
        char **endpoints; /* NULL-terminated etcd client URLs (http:// or https://), at least one */
        size_t n_endpoints;
        char *ca_file;    /* tls.ca: NULL = system trust store */
        char *cert_file;  /* tls.cert and tls.key: client certificate, both or neither */
        char *key_file;
        usec_t lease_ttl; /* default CLUSTER_DEFAULT_LEASE_TTL, whole seconds */
        unsigned line, col;
} ClusterConfig;

typedef struct Config {
        char *path;
        char *journal_path;     /* NULL = JOURNAL_DEFAULT_PATH */
        usec_t step_timeout;    /* default per-step deadline */
        usec_t connect_timeout; /* default SSH connect+handshake+auth deadline */
        size_t output_cap;      /* bytes of stdout/stderr kept per step */
        char *playbook_dir;     /* where `droverctl run NAME` looks; NULL = beside the config */
        bool four_eyes;         /* approvals.four_eyes: a run's requester may not approve its gates */
        bool dbus_required;     /* dbus.required (default true): droverd exits when it cannot own its name */

        Site *sites;
        size_t n_sites;
        Host *hosts;
        size_t n_hosts;
        Group *groups;
        size_t n_groups;
        Endpoint *endpoints;
        size_t n_endpoints;
        Vendor *vendors;
        size_t n_vendors;
        Secret *secrets;
        size_t n_secrets;

        MonitorConfig *monitor; /* NULL when the file has no monitoring section */
        ClusterConfig *cluster; /* NULL without a cluster: section: one droverd, no etcd */
} Config;

/* Load and validate. All problems go to diags; on any error returns -EINVAL and
 * nothing is returned (never half loaded). */
int config_load(const char *path, Config **ret, DiagList *diags);
/* The same, from memory (fuzzing, tests); relative paths resolve against path's directory. */
int config_load_buffer(const char *path, const char *buf, size_t len, Config **ret, DiagList *diags);
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Names of sites, hosts, probes …: letters, digits, '_', '.', '-', starting with a
 * letter or digit, at most CONFIG_NAME_MAX characters. */
bool config_name_is_valid(const char *s);

const Site *config_find_site(const Config *c, const char *name);
const Host *config_find_host(const Config *c, const char *name);
const Group *config_find_group(const Config *c, const char *name);
const Endpoint *config_find_endpoint(const Config *c, const char *name);
const Vendor *config_find_vendor(const Config *c, const char *name);
const Secret *config_find_secret(const Config *c, const char *name);

/* Read a secret's value now. Returns 0, -ENOENT (file/variable/credential absent),
 * -ENXIO (no $CREDENTIALS_DIRECTORY) or -errno. The value is never logged by this module. */
int secret_read_value(const Secret *s, char **ret);
