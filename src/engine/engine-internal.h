/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine-internal.h — what the engine's files share: the Engine, its per-run types
 * (results, jobs, job sets, step runs, events), small inline helpers, and the
 * functions each file provides. Private to src/engine/: engine.c (rollback, dry run,
 * the run, construction), engine-scope.c (masking, results, secrets, the scope
 * lookup, observer glue), engine-jobs.c (building jobs, judging results),
 * engine-step.c (running a set of jobs, one step of each kind).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "engine/engine.h"
#include "shared/strbuf.h"
#include "shared/string-table.h"
#include "shared/strv.h"
#include "shared/time-util.h"

/* How long past an action's deadline we trust the executor to still report it. */
#define EXECUTOR_GRACE_USEC (5 * USEC_PER_SEC)
/* Longest single retry delay, whatever backoff says. */
#define RETRY_DELAY_MAX_USEC (1 * USEC_PER_HOUR)

/* ---------------------------------------------------------------- types */

/* The values one attempt produced: what `register` keeps and `step.*` sees. */
typedef struct ResultValues {
        bool set;
        bool is_http;
        char *out; /* stdout, or the HTTP body */
        char *err;
        int exit_status;
        long http_status;
        json_t *json;
        bool json_tried;
} ResultValues;

typedef struct StepRecord {
        bool ran;             /* acted (not skipped, not failed before acting) */
        StepOutcome outcome;
        ResultValues values;  /* only with register: true */
        char **ok_targets;    /* where it succeeded: host names (ssh) or the target label */
        char **all_targets;
} StepRecord;

typedef struct SecretValue {
        char *name;
        char *value;
} SecretValue;

struct Engine {
        const Config *config;
        const Playbook *playbook;
        RunMode mode;
        char *trigger;
        char *actor;
        Executor executor;
        EngineObserver observer;
        Approver approver;
        EngineFence fence;
        EngineResume resume;
        char *fence_error; /* set when the fence refused a step: nothing acts any more */

        char **param_values; /* one per playbook param; NULL = not given, no default */
        char *params_json;

        SecretValue *secrets;
        size_t n_secrets;
        char **masks; /* every secret value (and its JSON-escaped form), longest first */
        size_t n_masks;

        StepRecord *records; /* one per forward step */
        RunInfo info;
        uint64_t next_tag;

        volatile sig_atomic_t cancel_requests;
};

/* The scope of one expansion. */
typedef struct Scope {
        Engine *e;
        const Host *host;    /* host.* (ssh commands) */
        ResultValues *step;  /* step.* (expect.that) */
        char *error;         /* first failure worth a precise message (secret read) */
} Scope;

/* ---------------------------------------------------------------- small helpers */

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

static inline const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);

        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static inline char *strdup_trim_newlines(const char *s)
{
        size_t n = strlen(strempty(s));

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        return xstrndup(strempty(s), n);
}

static inline char *json_escape(const char *s)
{
        StrBuf b = STRBUF_INIT;

        strbuf_put_json_escaped(&b, s, false);
        return strbuf_steal(&b);
}

/* Quote an argv element for display only (never executed through a shell). */
static inline void shell_quote_append(StrBuf *b, const char *s)
{
        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/.=:,+-@%") ==
                          strlen(s)) {
                strbuf_puts(b, s);
                return;
        }
        strbuf_putc(b, '\'');
        for (const char *p = s; *p; p++) {
                if (*p == '\'')
                        strbuf_puts(b, "'\\''");
                else
                        strbuf_putc(b, *p);
        }
        strbuf_putc(b, '\'');
}

static inline usec_t engine_now(const Engine *e)
{
        if (e->executor.ops && e->executor.ops->now)
                return e->executor.ops->now(e->executor.userdata);
        return now_usec(CLOCK_MONOTONIC);
}

static inline usec_t engine_now_realtime(const Engine *e)
{
        if (e->executor.ops && e->executor.ops->now_realtime)
                return e->executor.ops->now_realtime(e->executor.userdata);
        return now_usec(CLOCK_REALTIME);
}

/* A tabletop drill walks the plan with people, like a dry run: nothing acts. */
static inline bool engine_is_plan_only(const Engine *e)
{
        return e->mode == RUN_MODE_DRY_RUN || e->mode == RUN_MODE_TABLETOP;
}

static inline bool engine_cancel_pending(const Engine *e, int level)
{
        return e->cancel_requests >= level;
}

static inline usec_t step_timeout(const Engine *e, const Step *s)
{
        if (s->timeout > 0)
                return s->timeout;
        if (e->config && e->config->step_timeout > 0)
                return e->config->step_timeout;
        return CONFIG_DEFAULT_STEP_TIMEOUT;
}

static inline size_t engine_output_cap(const Engine *e)
{
        return e->config && e->config->output_cap > 0 ? e->config->output_cap : CONFIG_DEFAULT_OUTPUT_CAP;
}

/* One event for a step that is not a fan-out of actions (skip, error, approve,
 * wait_for, sleep). Strings it points to are owned here and masked. */
typedef struct SingleEvent {
        StepEvent ev;
        usec_t mono_start;
        char *detail, *out, *error;
} SingleEvent;

typedef struct Job {
        char *target;       /* event target: host, endpoint, "local", "-" */
        const Host *host;
        const Endpoint *endpoint;
        ActionKind kind;

        char *command;
        const char *method;
        char *url;
        char **headers;
        char *body;
        char **argv;
        char *detail;       /* masked */
        char *dry_detail;   /* masked, with headers and body, for dry runs */
        Action action;

        unsigned attempt;   /* attempts started so far */
        bool in_flight, done;
        usec_t due;         /* when the next attempt may start */
        usec_t mono_start;

        StepEvent ev;
        char *ev_out, *ev_err, *ev_error;

        StepOutcome outcome; /* final */
        char *error;         /* final, masked */
        ResultValues values; /* of the last result */
} Job;

typedef struct JobSet {
        const Step *step;
        size_t step_index;
        StepPhase phase;
        Job *jobs;
        size_t n;
        unsigned parallel;
        unsigned retries;
        bool quiet;          /* wait_for checks: no events of their own */
        int cancel_level;    /* number of cancel requests that cancel this set */
        usec_t cap_deadline; /* no attempt may end later (wait_for); USEC_INFINITY = none */

        size_t n_flight, n_done;
        StepEvent *fin;      /* finished events waiting to be reported */
        size_t n_fin;
        bool cancelled;
} JobSet;

typedef struct StepRun {
        StepOutcome outcome;
        char *error;          /* masked */
        char **ok_targets;
        char **all_targets;
        ResultValues values;  /* the single target's last result (for register) */
} StepRun;

/* engine-scope.c */
void engine_add_mask(Engine *e, const char *v);
void result_values_done(ResultValues *v);
void result_values_move(ResultValues *dst, ResultValues *src);
json_t *result_values_json(ResultValues *v);
json_t *json_walk(json_t *root, const char *path);
char *json_string_form(json_t *v);
int engine_expand(Scope *sc, const Template *t, const char *what, char **ret, char **ret_error);
int engine_eval(Scope *sc, const Condition *c, const char *what, bool *ret, char **ret_error);
int engine_expand_raw(Scope *sc, const char *s, char **ret, char **ret_error);
int observer_steps_started(Engine *e, StepEvent *ev, size_t n);
int observer_steps_finished(Engine *e, StepEvent *ev, size_t n);
void observer_event(Engine *e, const char *kind, const char *message);
void single_event_init(Engine *e, SingleEvent *s, const Step *step, size_t index, StepPhase phase,
                       const char *target, const char *detail);
void single_event_done(SingleEvent *s);
int single_event_start(Engine *e, SingleEvent *s);
int single_event_finish(Engine *e, SingleEvent *s, StepOutcome o, const char *out, const char *error);
int engine_emit_now(Engine *e, const Step *step, size_t index, StepPhase phase, const char *target,
                    const char *detail, StepOutcome o, const char *out, const char *error);

/* engine-jobs.c */
void jobs_free(Job *jobs, size_t n);
int engine_resolve_hosts(Engine *e, const char *target, const Host ***ret, size_t *ret_n, char **ret_error);
int engine_build_jobs(Engine *e, const Step *step, char *const *host_filter, Job **ret, size_t *ret_n,
                      char **ret_error);
StepOutcome engine_judge(Engine *e, const Step *step, Job *j, const ActionResult *res, char **ret_error);

/* engine-step.c */
void step_run_done(StepRun *s);
int engine_exec_step(Engine *e, const Step *step, size_t index, StepPhase phase, char *const *host_filter,
                     int cancel_level, StepRun *sr);
