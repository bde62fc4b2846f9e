/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook-internal.h — what the loader's files share: the Loader state, the scope a
 * reference is checked in, and the loader functions each file provides. Private to
 * src/playbook/: playbook.c (entry points, params, targets, defaults),
 * playbook-refs.c (names, references), playbook-actions.c (ssh, http, local,
 * approve, notify, expect), playbook-step.c (the step mapping).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/yaml-node.h"
#include "playbook/playbook.h"

#define PLAYBOOK_NAME_MAX 64
#define PLAYBOOK_MAX_PARALLEL 1024

typedef struct Loader {
        const char *path;
        const char *text; /* the file's bytes, for locating columns inside scalars */
        size_t len;
        const Config *config;
        DiagList *diags;
        Playbook *pb;
        const YNode *step_nodes_root; /* the steps sequence */
        /* defaults */
        usec_t timeout, retry_delay;
        unsigned retries;
        double backoff;
} Loader;

/* What a template or condition may reference. */
typedef struct RefScope {
        size_t n_earlier;   /* steps[0..n_earlier) may be referenced (when registered) */
        bool allow_host;    /* host.* — inside an ssh command */
        bool allow_step;    /* step.* — inside expect.that */
        const char *where;  /* for messages: "ssh command", "expect.that" */
} RefScope;

typedef enum StepRole {
        ROLE_FORWARD,
        ROLE_ROLLBACK,
        ROLE_CHECK,
} StepRole;

/* playbook-refs.c */
bool check_name(Loader *l, const YNode *n, const char *what);
int load_template(Loader *l, const YNode *n, const char *what, const RefScope *sc, Template *t);
int load_condition(Loader *l, const YNode *n, const char *what, const RefScope *sc, Condition *c);

/* playbook-actions.c */
int load_ssh(Loader *l, const YNode *m, Step *s, const RefScope *base);
int load_http(Loader *l, const YNode *m, Step *s, const RefScope *sc);
int load_local(Loader *l, const YNode *m, Step *s, const RefScope *sc);
int load_approve(Loader *l, const YNode *m, Step *s, const RefScope *sc);
int load_notify(Loader *l, const YNode *m, Step *s, const RefScope *sc);
void load_expect(Loader *l, const YNode *m, Step *s, const RefScope *base);

/* playbook-step.c */
bool parse_backoff(Loader *l, const YNode *v, double *ret);
int load_step(Loader *l, const YNode *m, Step *s, size_t index, StepRole role, const Step *parent);
