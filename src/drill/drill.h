/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * drill.h — a drill definition (drills/NAME.yaml): purpose, scenario (the fault and
 * how drover injects and clears it in a live drill), the playbook(s) walked or run
 * with their params, participants and their roles, objectives and the schedule.
 *
 * Owns: the Drill types with source locations, loading a drill file against a Config,
 * every load-time check (keys, types, roles, fault kinds, sites and vendors against
 * the inventory, the playbooks exist and load, their params check), and the schedule
 * arithmetic (when is a drill due). Does not own: running anything (src/ctl/ctl-drill.c
 * with the engine), the journal (src/journal/journal-drill.c), the playbook language
 * (src/playbook/). Called by droverctl (validate, drill …), the tests and the fuzzer.
 *
 * A Drill is immutable after drill_load(). The format is documented in drover-drill(5).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "playbook/playbook.h"
#include "shared/diag.h"
#include "shared/time-util.h"

#define DRILL_MAX_PLAYBOOKS           16
#define DRILL_MAX_PARTICIPANTS        256
#define DRILL_MAX_ARGV                64
#define DRILL_DEFAULT_COMMAND_TIMEOUT (60 * USEC_PER_SEC)
#define DRILL_DEFAULT_EVERY_MONTHS    12 /* the plans demand a drill at least once a year */
/* Substituted in playbook params at run time (live: the moment the fault was injected). */
#define DRILL_VAR_FAULT_AT "${drill.fault_at}"
#define DRILL_VAR_NAME     "${drill.name}"

typedef enum DrillMode {
        DRILL_MODE_TABLETOP,
        DRILL_MODE_LIVE,
        _DRILL_MODE_MAX,
        _DRILL_MODE_INVALID = -EINVAL,
} DrillMode;
const char *drill_mode_to_string(DrillMode m);
DrillMode drill_mode_from_string(const char *s);

/* The scenario kinds of the requirements (§7): technical failures the lab can inject,
 * and the business kinds a tabletop walks. */
typedef enum FaultKind {
        FAULT_SITE_DOWN,
        FAULT_LINK_DOWN,
        FAULT_KILL_SERVICE,
        FAULT_KILL_DB,
        FAULT_LOSS,
        FAULT_DELAY,
        FAULT_PARTITION,
        FAULT_VENDOR_ERRORS,
        FAULT_VENDOR_BREACH,
        FAULT_DATA_LOSS,
        FAULT_DATA_LEAK,
        FAULT_NETWORK_ATTACK,
        FAULT_BUSINESS_INTERRUPTION,
        FAULT_CUSTOMER_COMPLAINTS,
        FAULT_CUSTOM,
        _FAULT_KIND_MAX,
        _FAULT_KIND_INVALID = -EINVAL,
} FaultKind;
const char *fault_kind_to_string(FaultKind k);
FaultKind fault_kind_from_string(const char *s);

/* The roles the banks' plans name. */
typedef enum DrillRole {
        DRILL_ROLE_COMMAND_CENTRE,
        DRILL_ROLE_DUTY_OFFICE,
        DRILL_ROLE_TECHNICAL_SUPPORT,
        DRILL_ROLE_BUSINESS_OPERATIONS,
        DRILL_ROLE_RISK,
        DRILL_ROLE_SECURITY,
        DRILL_ROLE_SUPPORT_STAFF,
        _DRILL_ROLE_MAX,
        _DRILL_ROLE_INVALID = -EINVAL,
} DrillRole;
const char *drill_role_to_string(DrillRole r);
DrillRole drill_role_from_string(const char *s);

typedef struct DrillCommand {
        char **argv; /* NULL-terminated; NULL = none. A relative argv[0] with a '/' is
                      * resolved against the drill file's directory at load. */
        usec_t timeout;
        unsigned line, col;
} DrillCommand;

typedef struct DrillScenario {
        FaultKind fault;
        char *site;   /* a site of the inventory, or NULL */
        char *vendor; /* a vendor of the inventory, or NULL */
        char **args;  /* NULL-terminated extra arguments (documentation; the inject command holds them) */
        char *description;
        DrillCommand inject; /* live: run by drover before the playbooks */
        DrillCommand clear;  /* live: run by drover after them, whatever happened */
} DrillScenario;

typedef struct DrillParam {
        char *name;
        char *value; /* may hold ${drill.fault_at} / ${drill.name} */
        unsigned line, col;
} DrillParam;

typedef struct DrillPlaybook {
        char *name; /* as written */
        char *path; /* resolved file */
        DrillParam *params;
        size_t n_params;
        Playbook *playbook; /* loaded and checked at drill load */
        unsigned line, col;
} DrillPlaybook;

typedef struct DrillParticipant {
        char *name;
        DrillRole role;
        unsigned line, col;
} DrillParticipant;

typedef struct DrillObjectives {
        usec_t rto, rpo;
        bool has_rto, has_rpo;
        char *recovered_at;  /* step of the last playbook whose success marks recovery; NULL = end of the run
                              */
        char *rpo_from;      /* step (any playbook) whose stdout is the achieved RPO in seconds; NULL = not
                                measured */
        char **must_succeed; /* NULL-terminated step names ("STEP" or "PLAYBOOK/STEP") */
} DrillObjectives;

typedef struct DrillSchedule {
        unsigned every_months; /* 0 when on_calendar is used */
        usec_t every;          /* `every: 30d`-style duration instead of months; 0 = months */
        char *on_calendar;     /* a systemd OnCalendar= expression for the timer; NULL = derived */
} DrillSchedule;

typedef struct Drill {
        char *path;
        char *name;
        char *purpose;
        DrillMode mode;
        DrillScenario scenario;
        DrillPlaybook *playbooks;
        size_t n_playbooks;
        DrillParticipant *participants;
        size_t n_participants;
        DrillObjectives objectives;
        DrillSchedule schedule;
        char sha256[65];
} Drill;

/* Load and validate against the inventory; playbooks are looked up by name in
 * playbook_dir (NULL = the config's playbook_dir, else playbooks/ beside the config) or
 * taken as paths. Every problem goes to diags; on any error returns -EINVAL and nothing. */
int drill_load(const char *path, const Config *config, const char *playbook_dir, Drill **ret,
               DiagList *diags);
/* From memory (fuzzing, tests); `path` is used for diagnostics and to resolve relative commands. */
int drill_load_buffer(const char *path, const char *buf, size_t len, const Config *config,
                      const char *playbook_dir, Drill **ret, DiagList *diags);
Drill *drill_free(Drill *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Drill *, drill_free);

/* Whether a YAML document looks like a drill (top-level `scenario` or `participants` and
 * no `steps`), for `droverctl validate`. */
bool drill_document_looks_like(const char *path);

/* Expand ${drill.fault_at} and ${drill.name} in a param value. fault_at is CLOCK_REALTIME
 * (0 = not injected: expands to ""). Returns a new string. */
char *drill_expand_value(const Drill *d, const char *value, usec_t fault_at);

/* `last` minus/plus the schedule: when the next drill is due. last = 0 means never: due now.
 * Months are calendar months in UTC (Jan 31 + 1 month = Feb 28/29). */
usec_t drill_schedule_next(const DrillSchedule *s, usec_t last);
/* now minus n calendar months (UTC). */
usec_t usec_minus_months(usec_t t, unsigned months);

/* The OnCalendar= expression for a drill's timer: on_calendar, else derived from
 * every_months ("*-01-15 03:00:00" style is not derivable from a period: the default is
 * "yearly" for 12 months, "monthly" for 1, "quarterly" for 3, else "*-01/N-01 03:00:00"). */
char *drill_schedule_on_calendar(const DrillSchedule *s);

/* The clock the drill verbs use: $DROVER_NOW (ISO-8601 UTC "2027-01-05T10:00:00Z" or
 * epoch seconds) when set — a documented test hook — else CLOCK_REALTIME. -EINVAL for a
 * malformed value. */
int drill_now(usec_t *ret);
int parse_timestamp(const char *s, usec_t *ret);
