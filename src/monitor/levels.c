/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * levels.c — warning levels from health and probe results; the rules are spelled
 * out in levels.h. Pure: no I/O, no clock, no logging.
 *
 * Two kinds of state, each with a single writer: a rule's {cond, active} pair is
 * written only by rule_set_cond() and rule_advance(); a subject's reported level
 * only by levels_evaluate().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/levels.h"
#include "shared/string-table.h"

#define DETAIL_MAX 128

typedef struct ProbeState {
        char *probe;
        char *vantage;
        ProbeOutcome outcome;
        bool has_value;
        double value;
        char detail[64];
} ProbeState;

typedef struct LTarget {
        char *name;
        char *site;
        bool critical;
        Health health;
        ProbeState *probes;
        size_t n_probes;
} LTarget;

typedef struct Rule {
        LevelRule rule;        /* strings point at the copies below */
        char *name;
        char *subject;
        bool subject_is_site;
        bool cond;             /* the condition as of cond_since */
        usec_t cond_since;
        bool active;
        char detail[DETAIL_MAX]; /* why the condition last held */
} Rule;

typedef struct Subject {
        char *name;            /* borrowed from the target or site */
        const char *site;
        bool is_site;
        WarningLevel level;
        usec_t since;
        int rule;
} Subject;

struct LevelEvaluator {
        LTarget *targets;
        size_t n_targets;
        Rule *rules;
        size_t n_rules;
        Subject *subjects;
        size_t n_subjects;
        char **sites;          /* unique site names, owned */
        size_t n_sites;
        usec_t clock;          /* the latest time seen; time never runs backwards here */
};

int levels_new(LevelEvaluator **ret)
{
        LevelEvaluator *e;

        if (!ret)
                return -EINVAL;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        *ret = e;
        return 0;
}

LevelEvaluator *levels_free(LevelEvaluator *e)
{
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_targets; i++) {
                LTarget *t = &e->targets[i];
                for (size_t j = 0; j < t->n_probes; j++) {
                        free(t->probes[j].probe);
                        free(t->probes[j].vantage);
                }
                free(t->probes);
                free(t->name);
                free(t->site);
        }
        for (size_t i = 0; i < e->n_rules; i++) {
                free(e->rules[i].name);
                free(e->rules[i].subject);
        }
        for (size_t i = 0; i < e->n_sites; i++)
                free(e->sites[i]);
        free(e->targets);
        free(e->rules);
        free(e->subjects);
        free(e->sites);
        free(e);
        return NULL;
}

static void *grow(void *p, size_t n, size_t size)
{
        return reallocarray(p, n + 1, size);
}

static LTarget *find_target(const LevelEvaluator *e, const char *name)
{
        for (size_t i = 0; name && i < e->n_targets; i++)
                if (streq(e->targets[i].name, name))
                        return &e->targets[i];
        return NULL;
}

static const char *find_site(const LevelEvaluator *e, const char *name)
{
        for (size_t i = 0; name && i < e->n_sites; i++)
                if (streq(e->sites[i], name))
                        return e->sites[i];
        return NULL;
}

static Subject *find_subject(const LevelEvaluator *e, const char *name, bool is_site)
{
        for (size_t i = 0; name && i < e->n_subjects; i++)
                if (e->subjects[i].is_site == is_site && streq(e->subjects[i].name, name))
                        return &e->subjects[i];
        return NULL;
}

static int add_subject(LevelEvaluator *e, char *name, const char *site, bool is_site)
{
        Subject *a;

        if (find_subject(e, name, is_site))
                return 0;
        a = grow(e->subjects, e->n_subjects, sizeof(Subject));
        if (!a)
                return -ENOMEM;
        e->subjects = a;
        e->subjects[e->n_subjects++] = (Subject) {
                .name = name, .site = site, .is_site = is_site, .level = LEVEL_NONE, .rule = -1,
        };
        return 0;
}

int levels_add_target(LevelEvaluator *e, const char *target, const char *site, bool critical)
{
        _cleanup_free_ char *n = NULL, *s = NULL;
        const char *site_name;
        LTarget *a;

        if (!e || !target || !site || !*target || !*site)
                return -EINVAL;
        if (find_target(e, target))
                return -EEXIST;

        site_name = find_site(e, site);
        if (!site_name) {
                char **sa;
                int r;

                s = strdup(site);
                if (!s)
                        return -ENOMEM;
                sa = grow(e->sites, e->n_sites, sizeof(char *));
                if (!sa)
                        return -ENOMEM;
                e->sites = sa;
                r = add_subject(e, s, s, true);
                if (r < 0)
                        return r;
                site_name = e->sites[e->n_sites++] = TAKE_PTR(s);
        }

        n = strdup(target);
        s = strdup(site);
        if (!n || !s)
                return -ENOMEM;
        a = grow(e->targets, e->n_targets, sizeof(LTarget));
        if (!a)
                return -ENOMEM;
        e->targets = a;
        e->targets[e->n_targets++] = (LTarget) {
                .name = TAKE_PTR(n), .site = TAKE_PTR(s), .critical = critical, .health = HEALTH_UNKNOWN,
        };
        return 0;
}

static bool rule_holds(const LevelEvaluator *e, const Rule *r, char detail[static DETAIL_MAX]);
static void rule_set_cond(Rule *r, bool cond, const char *detail, usec_t at);

int levels_add_rule(LevelEvaluator *e, const LevelRule *rule)
{
        _cleanup_free_ char *name = NULL, *subject = NULL;
        const LTarget *t;
        const char *site;
        bool is_site, critical = false;
        Rule *a;
        int r;

        if (!e || !rule || !rule->site_or_target)
                return -EINVAL;
        if (rule->level < LEVEL_RED || rule->level > LEVEL_BLUE)
                return -EINVAL;
        if (rule->cond < 0 || rule->cond >= _LEVEL_COND_MAX)
                return -EINVAL;
        if (rule->cond == LEVEL_COND_METRIC_BELOW && isnan(rule->threshold))
                return -EINVAL;

        t = find_target(e, rule->site_or_target);
        site = t ? t->site : find_site(e, rule->site_or_target);
        if (!t && !site)
                return -ENOENT;
        is_site = !t;

        if (rule->cond == LEVEL_COND_SITE_DOWN) {
                /* "Site down" means its critical services are down; a site without
                 * any is a config mistake, not a rule that silently never fires. */
                if (!is_site)
                        return -EINVAL;
                for (size_t i = 0; i < e->n_targets; i++)
                        critical = critical || (e->targets[i].critical && streq(e->targets[i].site, site));
                if (!critical)
                        return -EINVAL;
        }

        subject = strdup(rule->site_or_target);
        if (!subject)
                return -ENOMEM;
        if (rule->name) {
                name = strdup(rule->name);
                if (!name)
                        return -ENOMEM;
        }
        if (!is_site) {
                r = add_subject(e, t->name, t->site, false);
                if (r < 0)
                        return r;
        }
        a = grow(e->rules, e->n_rules, sizeof(Rule));
        if (!a)
                return -ENOMEM;
        e->rules = a;
        e->rules[e->n_rules] = (Rule) {
                .rule = *rule,
                .subject_is_site = is_site,
                .cond_since = e->clock,
        };
        e->rules[e->n_rules].name = TAKE_PTR(name);
        e->rules[e->n_rules].subject = TAKE_PTR(subject);
        e->rules[e->n_rules].rule.name = e->rules[e->n_rules].name;
        e->rules[e->n_rules].rule.site_or_target = e->rules[e->n_rules].subject;
        e->n_rules++;

        /* What was fed before the rule existed counts from now on. */
        {
                Rule *added = &e->rules[e->n_rules - 1];
                char detail[DETAIL_MAX] = "";
                bool holds = rule_holds(e, added, detail);

                rule_set_cond(added, holds, detail, e->clock);
        }
        return 0;
}

/* ---- conditions ---- */

static bool rule_in_scope(const Rule *r, const LTarget *t)
{
        return r->subject_is_site ? streq(t->site, r->subject) : streq(t->name, r->subject);
}

static bool probe_failing(const ProbeState *p)
{
        return p->outcome == PROBE_FAIL || p->outcome == PROBE_TIMEOUT;
}

/* Does the rule's condition hold for this target? Writes why to detail. */
static bool target_matches(const Rule *r, const LTarget *t, char detail[static DETAIL_MAX])
{
        switch (r->rule.cond) {
        case LEVEL_COND_TARGET_DOWN:
                if (t->health != HEALTH_DOWN)
                        return false;
                snprintf(detail, DETAIL_MAX, "target %s down", t->name);
                return true;
        case LEVEL_COND_SITE_DOWN:
                if (!t->critical || t->health != HEALTH_DOWN)
                        return false;
                snprintf(detail, DETAIL_MAX, "site %s down: critical target %s down", t->site, t->name);
                return true;
        case LEVEL_COND_LATENCY_OVER:
                if (t->health != HEALTH_DEGRADED && t->health != HEALTH_DOWN)
                        return false;
                snprintf(detail, DETAIL_MAX, "target %s %s", t->name, health_to_string(t->health));
                return true;
        case LEVEL_COND_METRIC_BELOW:
                for (size_t i = 0; i < t->n_probes; i++) {
                        const ProbeState *p = &t->probes[i];
                        if (p->has_value && !(p->value >= r->rule.threshold)) {
                                snprintf(detail, DETAIL_MAX, "metric %.4g below %.4g on %s (probe %s from %s)",
                                         p->value, r->rule.threshold, t->name, p->probe, p->vantage);
                                return true;
                        }
                }
                return false;
        case LEVEL_COND_PROBE_FAILING:
                for (size_t i = 0; i < t->n_probes; i++) {
                        const ProbeState *p = &t->probes[i];
                        if (probe_failing(p)) {
                                snprintf(detail, DETAIL_MAX, "probe %s of %s from %s: %s", p->probe, t->name,
                                         p->vantage, p->detail);
                                return true;
                        }
                }
                return false;
        default:
                return false;
        }
}

static bool rule_holds(const LevelEvaluator *e, const Rule *r, char detail[static DETAIL_MAX])
{
        for (size_t i = 0; i < e->n_targets; i++)
                if (rule_in_scope(r, &e->targets[i]) && target_matches(r, &e->targets[i], detail))
                        return true;
        return false;
}

/* Would the rule be active at `now`, given its condition since cond_since? */
static bool rule_active_at(const Rule *r, usec_t now)
{
        if (r->cond == r->active)
                return r->active;
        if (now >= usec_add(r->cond_since, r->rule.for_duration))
                return r->cond;
        return r->active;
}

static void rule_advance(Rule *r, usec_t now)
{
        r->active = rule_active_at(r, now);
}

static void rule_set_cond(Rule *r, bool cond, const char *detail, usec_t at)
{
        rule_advance(r, at);
        if (cond)
                snprintf(r->detail, sizeof(r->detail), "%s", detail);
        if (cond == r->cond)
                return;
        r->cond = cond;
        r->cond_since = at;
        rule_advance(r, at); /* for_duration 0: takes effect at once */
}

static void levels_update_rules(LevelEvaluator *e, usec_t at)
{
        for (size_t i = 0; i < e->n_rules; i++) {
                char detail[DETAIL_MAX] = "";
                bool holds = rule_holds(e, &e->rules[i], detail);

                rule_set_cond(&e->rules[i], holds, detail, at);
        }
}

static usec_t levels_tick(LevelEvaluator *e, usec_t at)
{
        if (at > e->clock)
                e->clock = at;
        return e->clock;
}

int levels_feed_health(LevelEvaluator *e, const HealthChange *c)
{
        LTarget *t;

        if (!e || !c || c->to < 0 || c->to >= _HEALTH_MAX)
                return -EINVAL;
        t = find_target(e, c->target);
        if (!t)
                return -ENOENT;
        t->health = c->to;
        levels_update_rules(e, levels_tick(e, c->at));
        return 0;
}

int levels_feed_probe(LevelEvaluator *e, const ProbeResult *r)
{
        const char *probe, *vantage;
        ProbeState *p = NULL;
        LTarget *t;

        if (!e || !r || r->outcome < 0 || r->outcome >= _PROBE_OUTCOME_MAX)
                return -EINVAL;
        t = find_target(e, r->target);
        if (!t)
                return -ENOENT;

        probe = strempty(r->probe);
        vantage = r->vantage ? r->vantage : "local";
        for (size_t i = 0; i < t->n_probes; i++)
                if (streq(t->probes[i].probe, probe) && streq(t->probes[i].vantage, vantage))
                        p = &t->probes[i];
        if (!p) {
                _cleanup_free_ char *pn = strdup(probe), *vn = strdup(vantage);
                ProbeState *a;

                if (!pn || !vn)
                        return -ENOMEM;
                a = grow(t->probes, t->n_probes, sizeof(ProbeState));
                if (!a)
                        return -ENOMEM;
                t->probes = a;
                p = &t->probes[t->n_probes++];
                *p = (ProbeState) { .probe = TAKE_PTR(pn), .vantage = TAKE_PTR(vn) };
        }
        p->outcome = r->outcome;
        p->has_value = r->has_value;
        p->value = r->value;
        snprintf(p->detail, sizeof(p->detail), "%s%s%s", probe_outcome_to_string(r->outcome),
                 r->detail ? ": " : "", strempty(r->detail));

        levels_update_rules(e, levels_tick(e, r->at));
        return 0;
}

/* ---- levels ---- */

static bool subject_covers(const LevelEvaluator *e, const Subject *s, const Rule *r)
{
        const LTarget *t;

        if (!s->is_site)
                return !r->subject_is_site && streq(r->subject, s->name);
        if (r->subject_is_site)
                return streq(r->subject, s->name);
        t = find_target(e, r->subject);
        return t && streq(t->site, s->name);
}

/* The most severe active rule covering the subject, or -1. `active` is per rule. */
static int subject_winner(const LevelEvaluator *e, const Subject *s, const bool *active)
{
        int best = -1;

        for (size_t i = 0; i < e->n_rules; i++) {
                if (!active[i] || !subject_covers(e, s, &e->rules[i]))
                        continue;
                if (best < 0 || warning_level_more_severe(e->rules[i].rule.level, e->rules[best].rule.level))
                        best = (int) i;
        }
        return best;
}

static const char *rule_label(const Rule *r, char buf[static 80])
{
        if (r->name)
                return r->name;
        snprintf(buf, 80, "%s %s", level_condition_to_string(r->rule.cond), r->subject);
        return buf;
}

static void change_reason(const LevelEvaluator *e, const Subject *s, int winner, LevelChange *c)
{
        char label[80], dur[FORMAT_DURATION_MAX];

        if (winner >= 0) {
                const Rule *r = &e->rules[winner];
                if (r->rule.for_duration > 0)
                        snprintf(c->reason, sizeof(c->reason), "%s: %s for %s", rule_label(r, label), r->detail,
                                 format_duration(dur, r->rule.for_duration));
                else
                        snprintf(c->reason, sizeof(c->reason), "%s: %s", rule_label(r, label), r->detail);
        } else if (s->rule >= 0) {
                const Rule *r = &e->rules[s->rule];
                snprintf(c->reason, sizeof(c->reason), "%s: clear for %s", rule_label(r, label),
                         format_duration(dur, r->rule.for_duration));
        } else
                snprintf(c->reason, sizeof(c->reason), "no rule holds");
}

int levels_evaluate(LevelEvaluator *e, usec_t now, LevelChange *ret_changes, size_t max, size_t *ret_n)
{
        _cleanup_free_ bool *active = NULL;
        size_t n = 0;

        if (!e)
                return -EINVAL;
        if (ret_n)
                *ret_n = 0;
        now = now > e->clock ? now : e->clock;

        /* Decide everything first, commit only if the changes fit. */
        active = calloc(e->n_rules + 1, sizeof(bool));
        if (!active)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_rules; i++)
                active[i] = rule_active_at(&e->rules[i], now);
        for (size_t i = 0; i < e->n_subjects; i++) {
                int w = subject_winner(e, &e->subjects[i], active);
                WarningLevel l = w >= 0 ? e->rules[w].rule.level : LEVEL_NONE;
                n += l != e->subjects[i].level;
        }
        if (ret_changes && n > max)
                return -ENOBUFS;

        e->clock = now;
        for (size_t i = 0; i < e->n_rules; i++)
                rule_advance(&e->rules[i], now);

        n = 0;
        for (size_t i = 0; i < e->n_subjects; i++) {
                Subject *s = &e->subjects[i];
                int w = subject_winner(e, s, active);
                WarningLevel l = w >= 0 ? e->rules[w].rule.level : LEVEL_NONE;

                if (l == s->level) {
                        if (w >= 0)
                                s->rule = w; /* same level, possibly held by another rule now */
                        continue;
                }
                if (ret_changes) {
                        LevelChange *c = &ret_changes[n++];

                        *c = (LevelChange) {
                                .subject = s->name,
                                .site = s->site,
                                .subject_is_site = s->is_site,
                                .from = s->level,
                                .to = l,
                                .at = now,
                                .rule = w >= 0 ? w : s->rule,
                        };
                        c->rule_name = c->rule >= 0 ? e->rules[c->rule].name : NULL;
                        change_reason(e, s, w, c);
                }
                s->level = l;
                s->since = now;
                if (w >= 0)
                        s->rule = w;
                else if (l == LEVEL_NONE)
                        s->rule = -1;
        }
        if (ret_n)
                *ret_n = n;
        return 0;
}

int levels_next_deadline(const LevelEvaluator *e, usec_t *ret)
{
        usec_t best = USEC_INFINITY;

        if (!e || !ret)
                return -EINVAL;
        for (size_t i = 0; i < e->n_rules; i++) {
                const Rule *r = &e->rules[i];
                if (r->cond != r->active)
                        best = MIN(best, usec_add(r->cond_since, r->rule.for_duration));
        }
        if (best == USEC_INFINITY)
                return -ENODATA;
        *ret = best;
        return 0;
}

int levels_get(const LevelEvaluator *e, const char *subject, bool is_site, LevelStatus *ret)
{
        const Subject *s;

        if (!e || !ret)
                return -EINVAL;
        s = find_subject(e, subject, is_site);
        if (!s)
                return -ENOENT;
        *ret = (LevelStatus) {
                .level = s->level,
                .since = s->since,
                .rule = s->level != LEVEL_NONE ? s->rule : -1,
                .rule_name = s->level != LEVEL_NONE && s->rule >= 0 ? e->rules[s->rule].name : NULL,
        };
        return 0;
}

size_t levels_n_rules(const LevelEvaluator *e)
{
        return e ? e->n_rules : 0;
}

bool levels_rule_active(const LevelEvaluator *e, size_t i)
{
        return e && i < e->n_rules && e->rules[i].active;
}
