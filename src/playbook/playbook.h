/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * playbook.h — an emergency playbook: header (name, kind, params, objectives,
 * targets) and an ordered list of steps, each remembering where it was written.
 *
 * Owns: the Playbook/Step types, loading a playbook file against a Config,
 * and every load-time check (unknown keys, types, targets, references in
 * templates and conditions, duplicate step names, limits). Does not own:
 * executing anything (engine/), the inventory (config/).
 *
 * A Playbook is immutable after playbook_load(). The language is documented in
 * playbooks/README.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "playbook/condition.h"
#include "playbook/template.h"
#include "shared/diag.h"
#include "shared/time-util.h"

#define PLAYBOOK_MAX_STEPS 256
#define PLAYBOOK_MAX_RETRIES 100
#define PLAYBOOK_DEFAULT_PARALLEL 64 /* hosts of a group acted on at once */
#define PLAYBOOK_DEFAULT_APPROVE_TIMEOUT (30 * USEC_PER_MINUTE)
#define PLAYBOOK_DEFAULT_WAIT_INTERVAL (1 * USEC_PER_SEC)

typedef enum PlaybookKind {
        PLAYBOOK_SWITCHOVER,
        PLAYBOOK_FAILBACK,
        PLAYBOOK_RESTORE,
        PLAYBOOK_VENDOR_REPLACEMENT,
        PLAYBOOK_CONTAINMENT,
        PLAYBOOK_CUSTOM,
        _PLAYBOOK_KIND_MAX,
        _PLAYBOOK_KIND_INVALID = -EINVAL,
} PlaybookKind;
const char *playbook_kind_to_string(PlaybookKind k);
PlaybookKind playbook_kind_from_string(const char *s);

typedef enum ParamType {
        PARAM_STRING,
        PARAM_INT,
        PARAM_BOOL,
        PARAM_DURATION,
        PARAM_ENUM,
        _PARAM_TYPE_MAX,
        _PARAM_TYPE_INVALID = -EINVAL,
} ParamType;
const char *param_type_to_string(ParamType t);
ParamType param_type_from_string(const char *s);

typedef struct Param {
        char *name;
        ParamType type;
        bool required;
        char *default_value; /* NULL = none; already checked against type */
        char **values;       /* PARAM_ENUM: NULL-terminated allowed values */
        bool secret;         /* value masked everywhere */
        char *description;
        unsigned line, col;
} Param;

/* Check a value given on the command line against the param's type. Returns 0 or
 * -EINVAL with a human message in *ret_error (allocated). Normalizes bools to
 * "true"/"false" in *ret_value. */
int param_check_value(const Param *p, const char *value, char **ret_value, char **ret_error);

typedef enum TargetKind {
        TARGET_HOST,
        TARGET_GROUP,
        TARGET_ENDPOINT,
        _TARGET_KIND_MAX,
        _TARGET_KIND_INVALID = -EINVAL,
} TargetKind;
const char *target_kind_to_string(TargetKind k);

typedef struct Target {
        char *name;
        TargetKind kind;
        char *ref; /* name in the inventory; checked at load */
        unsigned line, col;
} Target;

typedef enum StepKind {
        STEP_SSH,
        STEP_HTTP,
        STEP_LOCAL,
        STEP_WAIT_FOR,
        STEP_APPROVE,
        STEP_NOTIFY,
        STEP_SLEEP,
        _STEP_KIND_MAX,
        _STEP_KIND_INVALID = -EINVAL,
} StepKind;
const char *step_kind_to_string(StepKind k);

typedef enum OnFailure {
        ON_FAILURE_ABORT,    /* stop; no rollback (default) */
        ON_FAILURE_CONTINUE, /* record the failure and go on */
        ON_FAILURE_ROLLBACK, /* stop; run the rollbacks of completed steps in reverse order */
        _ON_FAILURE_MAX,
        _ON_FAILURE_INVALID = -EINVAL,
} OnFailure;
const char *on_failure_to_string(OnFailure f);

typedef struct SshAction {
        char *target;       /* a Target of kind host or group */
        Template command;   /* run by the remote user's shell */
        unsigned parallel;  /* hosts at once for a group; default PLAYBOOK_DEFAULT_PARALLEL */
} SshAction;

typedef struct TemplateHeader {
        char *name;
        Template value;
} TemplateHeader;

typedef struct HttpAction {
        char *target;        /* a Target of kind endpoint, or NULL when `url` is absolute */
        char *method;        /* GET (default), POST, PUT, PATCH, DELETE, HEAD */
        Template url;        /* with target: a path appended to the endpoint's base_url */
        TemplateHeader *headers;
        size_t n_headers;
        Template body;       /* raw body */
        /* `json:` mapping/sequence serialised to JSON text at load (jansson-compatible
         * escaping; plain true/false/null/numbers stay JSON literals). String leaves may
         * hold ${...}: each reference sits INSIDE a JSON string's quotes and the Template
         * has json_escape = true, so template_expand() JSON-escapes every expanded value
         * itself — the engine sends the expansion as is (Content-Type: application/json).
         * The Template's source is that JSON text, with literal '$' written as "$$". */
        Template json_body;
} HttpAction;

typedef struct LocalAction {
        Template *argv;      /* argv[0] is an absolute path or a name looked up in PATH */
        size_t argc;
        Template shell;      /* `shell:` — run by /bin/sh -c, only when written explicitly */
} LocalAction;

typedef struct JsonCheck {
        char *path;          /* dotted path into the JSON body ("data.state", "items.0.id") */
        Template value;      /* expected value, compared as string form */
} JsonCheck;

typedef struct Expect {
        int *statuses;       /* HTTP: accepted statuses; none = 2xx */
        size_t n_statuses;
        bool has_exit_status;
        int exit_status;     /* ssh/local: default 0 — the loader sets has_exit_status = true and
                              * exit_status = 0 for every ssh/local step (and check) that does
                              * not write one, so the engine just checks has_exit_status */
        Template contains;   /* stdout (ssh/local) or body (http) must contain */
        char *matches;       /* POSIX extended regex on stdout/body; compiled at load to check it */
        JsonCheck *json;
        size_t n_json;
        Condition that;      /* optional condition evaluated with `step.*` = this step's result */
} Expect;

typedef struct Step Step;

typedef struct WaitForAction {
        Step *check;         /* an ssh or http step (name = parent's name + "/check"), with its expect */
        usec_t interval;
} WaitForAction;

typedef struct ApproveAction {
        Template prompt;
        usec_t timeout;      /* the gate expires (the step fails) after this */
} ApproveAction;

typedef struct NotifyAction {
        char *target;        /* endpoint target, or NULL when `url` is absolute */
        Template url;        /* optional with a target (a path appended to base_url, "" = the base
                              * URL itself); required and absolute http(s):// without one */
        Template message;    /* POST {"text": message, "playbook":…, "run":…} */
} NotifyAction;

struct Step {
        char *name;
        StepKind kind;
        const char *path;
        unsigned line, col;

        usec_t timeout;      /* whole-step deadline per target attempt; default from config */
        unsigned retries;    /* extra attempts after a failure */
        usec_t retry_delay;  /* before the first retry; default 1s */
        double backoff;      /* multiplier of the delay per retry; default 2 */
        Condition when;      /* unset (source == NULL) = always */
        bool register_result;/* makes ${steps.NAME.*} available */
        Expect expect;
        OnFailure on_failure;
        Step *rollback;      /* undo step, or NULL */
        bool idempotent;     /* safe to run again after an interruption */

        union {
                SshAction ssh;
                HttpAction http;
                LocalAction local;
                WaitForAction wait_for;
                ApproveAction approve;
                NotifyAction notify;
                usec_t sleep;
        };
};

typedef struct Objectives {
        usec_t rto; /* 0 = not set */
        usec_t rpo; /* 0 = not set; USEC_INFINITY never */
        bool has_rto, has_rpo;
} Objectives;

typedef struct Playbook {
        char *path;
        char *name;
        char *description;
        PlaybookKind kind;
        Param *params;
        size_t n_params;
        Objectives objectives;
        Target *targets;
        size_t n_targets;
        Step *steps;
        size_t n_steps;
        char sha256[65]; /* hex digest of the file as loaded, journaled with each run */
} Playbook;

/* Load and validate against the inventory. Every problem goes to diags; on any error
 * returns -EINVAL and nothing (never half loaded). */
int playbook_load(const char *path, const Config *config, Playbook **ret, DiagList *diags);
/* The same from memory (fuzzing, tests); `path` is used for diagnostics only. */
int playbook_load_buffer(const char *path, const char *buf, size_t len, const Config *config, Playbook **ret,
                         DiagList *diags);
Playbook *playbook_free(Playbook *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Playbook *, playbook_free);

const Param *playbook_find_param(const Playbook *p, const char *name);
const Target *playbook_find_target(const Playbook *p, const char *name);
const Step *playbook_find_step(const Playbook *p, const char *name); /* forward and rollback steps */

StepKind step_kind_from_string(const char *s);
OnFailure on_failure_from_string(const char *s);
TargetKind target_kind_from_string(const char *s);
