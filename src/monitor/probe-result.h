/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe-result.h — the plain structs that flow between the monitor stages:
 * probes → ProbeResult → detector → HealthChange → level evaluator → LevelChange
 * → incident/policy. Transparent on purpose (architecture.md, rule 6): they are
 * data, not objects with invariants.
 *
 * Owns: the enums ProbeOutcome and Health and their string tables (probe-result.c);
 * ProbeKind and WarningLevel are shared/monitoring.h's (config speaks them too). Does not own: producing or consuming them
 * (probes in src/monitor, detector.c, levels.c, src/incident).
 *
 * Lifetime of strings: every `const char *` in a ProbeResult is borrowed from the
 * caller for the duration of the call it is passed to. In a HealthChange or a
 * LevelChange, target/site/subject point into the configuration held by the
 * Detector or LevelEvaluator that produced it and stay valid as long as that
 * object lives; `reason` is an inline buffer, so a change can be copied freely.
 *
 * Stability: fields are only ever ADDED to these structs; consumers must
 * initialise them with designated initialisers.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "shared/monitoring.h"
#include "shared/time-util.h"

typedef enum ProbeOutcome {
        PROBE_OK,       /* answered correctly, within the latency threshold */
        PROBE_FAIL,     /* answered wrongly, refused, or could not connect */
        PROBE_TIMEOUT,  /* no answer before the probe's deadline */
        PROBE_SLOW,     /* answered correctly but over the latency threshold */
        PROBE_UNAVAILABLE, /* a remote vantage point could not run the check (its host is
                            * unreachable, refused us, or lacks curl/bash/timeout): says
                            * nothing about the target — never a vote for "down" */
        _PROBE_OUTCOME_MAX,
        _PROBE_OUTCOME_INVALID = -EINVAL,
} ProbeOutcome;
/* "ok", "fail", "timeout", "slow", "unavailable" */
const char *probe_outcome_to_string(ProbeOutcome o);
ProbeOutcome probe_outcome_from_string(const char *s);

typedef struct ProbeResult {
        const char *probe;    /* the probe's configured name */
        const char *target;   /* the target (service) it checks; the detector keys on this */
        const char *site;     /* informational; the detector uses the site from its config */
        const char *vantage;  /* where it ran from: "local" is drover itself */
        ProbeOutcome outcome;
        usec_t latency;
        double value;         /* vendor metric (e.g. success ratio 0..1); NAN if none */
        bool has_value;
        usec_t at;            /* when the result was taken (CLOCK_REALTIME usec) */
        const char *detail;   /* short human text ("HTTP 503", "connect: refused"); may be NULL */
} ProbeResult;

typedef enum Health {
        HEALTH_UNKNOWN,   /* nothing decided yet */
        HEALTH_UP,
        HEALTH_DEGRADED,  /* slow, vendor metric under threshold, or down without quorum */
        HEALTH_DOWN,
        _HEALTH_MAX,
        _HEALTH_INVALID = -EINVAL,
} Health;
/* "unknown", "up", "degraded", "down" */
const char *health_to_string(Health h);
Health health_from_string(const char *s);

#define HEALTH_REASON_MAX 256

typedef struct HealthChange {
        const char *target;
        const char *site;
        Health from, to;
        usec_t at;                       /* the `at` of the ProbeResult (or `now`) that caused it */
        unsigned vantages_down;          /* fresh vantage points saying down at that moment */
        unsigned vantages_fresh;         /* vantage points counted (not stale, have reported) */
        unsigned quorum;                 /* configured quorum of the target */
        char reason[HEALTH_REASON_MAX];  /* "down from 1 of 2 vantage points (quorum 2)" */
} HealthChange;

#define LEVEL_REASON_MAX 256

typedef struct LevelChange {
        const char *subject;     /* target or site name, as named by the rule */
        const char *site;        /* the site the subject belongs to (== subject for a site) */
        bool subject_is_site;
        WarningLevel from, to;
        usec_t at;               /* `now` of the evaluation that noticed it */
        int rule;                /* index of the rule that now holds (escalation) or last held
                                  * (de-escalation to NONE); -1 if none */
        const char *rule_name;   /* the rule's name, or NULL */
        char reason[LEVEL_REASON_MAX];
} LevelChange;
