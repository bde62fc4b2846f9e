/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * detector.c — hysteresis per (target, vantage point) and quorum per target; the
 * rules are spelled out in detector.h. Pure: no I/O, no clock, no logging.
 *
 * Two state machines live here, each with one transition function that is the
 * only writer of its state: vantage_transition() for a vantage's health and
 * target_transition() for a target's aggregate health.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/detector.h"
#include "shared/macros.h"

#define DEFAULT_FALL 3U
#define DEFAULT_RISE 2U
#define VANTAGE_DETAIL_MAX 96

typedef enum SampleClass {
        SAMPLE_GOOD,
        SAMPLE_WEAK,
        SAMPLE_BAD,
} SampleClass;

typedef struct Vantage {
        char *name;
        Health health;
        bool reported;
        bool unavailable;   /* the last result was PROBE_UNAVAILABLE: abstains until a real one */
        unsigned bad;       /* consecutive bad samples */
        unsigned good;      /* consecutive good samples */
        unsigned not_good;  /* consecutive weak-or-bad samples */
        unsigned non_bad;   /* consecutive good-or-weak samples */
        usec_t last_at;
        ProbeOutcome last_outcome;
        char detail[VANTAGE_DETAIL_MAX]; /* why the last non-good sample was not good */
} Vantage;

typedef struct Target {
        DetectorTargetConfig config; /* strings point at the copies below */
        char *name;
        char *site;
        char **vantage_names;
        Vantage *vantages;
        size_t n_vantages;

        Health health;
        usec_t since;
        usec_t down_since;
        usec_t last_result_at;
        unsigned vantages_down;
        unsigned vantages_fresh;
        unsigned vantages_unavailable;
        char reason[HEALTH_REASON_MAX];
} Target;

struct Detector {
        Target *targets;
        size_t n_targets;
};

/* What target_evaluate() decided, before it is committed. */
typedef struct Verdict {
        Health health;
        unsigned down;
        unsigned fresh;
        unsigned unavailable;
        char reason[HEALTH_REASON_MAX];
} Verdict;

static void target_done(Target *t)
{
        if (!t)
                return;
        free(t->name);
        free(t->site);
        for (size_t i = 0; i < t->n_vantages; i++) {
                free(t->vantages ? t->vantages[i].name : NULL);
        }
        free(t->vantages);
        free(t->vantage_names);
}

int detector_new(Detector **ret)
{
        Detector *d;

        if (!ret)
                return -EINVAL;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

Detector *detector_free(Detector *d)
{
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_targets; i++)
                target_done(&d->targets[i]);
        free(d->targets);
        free(d);
        return NULL;
}

static Target *detector_find(const Detector *d, const char *name)
{
        if (!name)
                return NULL;
        for (size_t i = 0; i < d->n_targets; i++)
                if (streq(d->targets[i].name, name))
                        return &d->targets[i];
        return NULL;
}

static Vantage *target_find_vantage(const Target *t, const char *name)
{
        for (size_t i = 0; i < t->n_vantages; i++)
                if (streq(t->vantages[i].name, name))
                        return &t->vantages[i];
        return NULL;
}

int detector_add_target(Detector *d, const DetectorTargetConfig *c)
{
        static const char *const local_only[] = { DETECTOR_VANTAGE_LOCAL };
        const char *const *names;
        size_t n;
        Target t = {};
        Target *a;
        int r;

        if (!d || !c || !c->name || !c->site || c->name[0] == '\0' || c->site[0] == '\0')
                return -EINVAL;
        if (c->n_vantages > 0 && !c->vantages)
                return -EINVAL;
        if (detector_find(d, c->name))
                return -EEXIST;

        names = c->n_vantages > 0 ? c->vantages : local_only;
        n = c->n_vantages > 0 ? c->n_vantages : 1;

        t.config = *c;
        t.config.fall = c->fall > 0 ? c->fall : DEFAULT_FALL;
        t.config.rise = c->rise > 0 ? c->rise : DEFAULT_RISE;
        t.config.quorum = c->quorum > 0 ? c->quorum : 1;
        if (t.config.quorum > n)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (!names[i] || names[i][0] == '\0')
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (streq(names[i], names[j]))
                                return -EINVAL;
        }

        t.name = strdup(c->name);
        t.site = strdup(c->site);
        t.vantages = calloc(n, sizeof(Vantage));
        t.vantage_names = calloc(n + 1, sizeof(char *));
        if (!t.name || !t.site || !t.vantages || !t.vantage_names) {
                r = -ENOMEM;
                goto fail;
        }
        t.n_vantages = n;
        for (size_t i = 0; i < n; i++) {
                t.vantages[i].name = strdup(names[i]);
                if (!t.vantages[i].name) {
                        r = -ENOMEM;
                        goto fail;
                }
                t.vantages[i].health = HEALTH_UNKNOWN;
                t.vantages[i].last_outcome = _PROBE_OUTCOME_INVALID;
                t.vantage_names[i] = t.vantages[i].name;
        }
        t.config.name = t.name;
        t.config.site = t.site;
        t.config.vantages = (const char *const *) t.vantage_names;
        t.config.n_vantages = n;
        t.health = HEALTH_UNKNOWN;
        t.down_since = USEC_INFINITY;

        a = realloc(d->targets, (d->n_targets + 1) * sizeof(Target));
        if (!a) {
                r = -ENOMEM;
                goto fail;
        }
        d->targets = a;
        d->targets[d->n_targets++] = t;
        return 0;

fail:
        target_done(&t);
        return r;
}

static SampleClass classify(const Target *t, const ProbeResult *r, char detail[static VANTAGE_DETAIL_MAX])
{
        char buf[FORMAT_DURATION_MAX];

        detail[0] = '\0';
        switch (r->outcome) {
        case PROBE_FAIL:
        case PROBE_TIMEOUT:
                snprintf(detail, VANTAGE_DETAIL_MAX, "%s%s%s", probe_outcome_to_string(r->outcome),
                         r->detail ? ": " : "", strempty(r->detail));
                return SAMPLE_BAD;
        case PROBE_SLOW:
                snprintf(detail, VANTAGE_DETAIL_MAX, "slow (%s)", format_duration(buf, r->latency));
                return SAMPLE_WEAK;
        default:
                break;
        }
        /* An answer that carries a vendor metric under the threshold is weak even
         * though the probe itself succeeded: the vendor answers, but badly. */
        if (r->has_value && !isnan(t->config.metric_min) && !(r->value >= t->config.metric_min)) {
                snprintf(detail, VANTAGE_DETAIL_MAX, "metric %.4g below %.4g", r->value, t->config.metric_min);
                return SAMPLE_WEAK;
        }
        return SAMPLE_GOOD;
}

/* The only writer of Vantage.health and its counters. */
static void vantage_transition(Vantage *v, SampleClass c, unsigned fall, unsigned rise)
{
        switch (c) {
        case SAMPLE_BAD:
                v->bad++, v->not_good++, v->good = 0, v->non_bad = 0;
                break;
        case SAMPLE_WEAK:
                v->bad = 0, v->not_good++, v->good = 0, v->non_bad++;
                break;
        case SAMPLE_GOOD:
                v->bad = 0, v->not_good = 0, v->good++, v->non_bad++;
                break;
        }

        if (v->bad >= fall)
                v->health = HEALTH_DOWN;
        else if (v->good >= rise)
                v->health = HEALTH_UP;
        else
                switch (v->health) {
                case HEALTH_UNKNOWN:
                case HEALTH_UP:
                        if (v->not_good >= fall)
                                v->health = HEALTH_DEGRADED;
                        break;
                case HEALTH_DOWN:
                        /* Answering again for `rise` samples, but not well enough to be up. */
                        if (v->non_bad >= rise)
                                v->health = HEALTH_DEGRADED;
                        break;
                default:
                        break;
                }
}

static bool vantage_is_fresh(const Vantage *v, usec_t interval, usec_t now)
{
        if (!v->reported || v->unavailable)
                return false;
        if (interval == 0 || now <= v->last_at)
                return true;
        return now - v->last_at <= (usec_t) DETECTOR_STALE_INTERVALS * interval;
}

/* Appends "name (detail), name (detail)" of the fresh vantages in state h. */
static void append_vantages(char *buf, size_t size, const Target *t, Health h, usec_t now)
{
        size_t len = strlen(buf);
        bool first = true;

        for (size_t i = 0; i < t->n_vantages && len < size; i++) {
                const Vantage *v = &t->vantages[i];
                int k;

                if (v->health != h || !vantage_is_fresh(v, t->config.interval, now))
                        continue;
                k = snprintf(buf + len, size - len, "%s%s%s%s%s", first ? ": " : ", ", v->name,
                             v->detail[0] ? " (" : "", v->detail, v->detail[0] ? ")" : "");
                if (k < 0)
                        break;
                len += (size_t) k;
                first = false;
        }
}

static void target_evaluate(const Target *t, usec_t now, Verdict *ret)
{
        unsigned down = 0, degraded = 0, up = 0, fresh = 0, stale = 0, unavailable = 0;
        size_t len;

        for (size_t i = 0; i < t->n_vantages; i++) {
                const Vantage *v = &t->vantages[i];

                if (v->unavailable) {
                        unavailable++;
                        continue;
                }
                if (!vantage_is_fresh(v, t->config.interval, now)) {
                        if (v->reported)
                                stale++;
                        continue;
                }
                fresh++;
                down += v->health == HEALTH_DOWN;
                degraded += v->health == HEALTH_DEGRADED;
                up += v->health == HEALTH_UP;
        }

        *ret = (Verdict) { .down = down, .fresh = fresh, .unavailable = unavailable };
        if (down >= t->config.quorum) {
                ret->health = HEALTH_DOWN;
                snprintf(ret->reason, sizeof(ret->reason), "down from %u of %zu vantage points (quorum %u)",
                         down, t->n_vantages, t->config.quorum);
                append_vantages(ret->reason, sizeof(ret->reason), t, HEALTH_DOWN, now);
        } else if (down > 0) {
                ret->health = HEALTH_DEGRADED;
                snprintf(ret->reason, sizeof(ret->reason), "down from %u of %zu vantage points (quorum %u)",
                         down, t->n_vantages, t->config.quorum);
                append_vantages(ret->reason, sizeof(ret->reason), t, HEALTH_DOWN, now);
        } else if (degraded > 0) {
                ret->health = HEALTH_DEGRADED;
                snprintf(ret->reason, sizeof(ret->reason), "degraded from %u of %zu vantage points", degraded,
                         t->n_vantages);
                append_vantages(ret->reason, sizeof(ret->reason), t, HEALTH_DEGRADED, now);
        } else if (up > 0) {
                ret->health = HEALTH_UP;
                snprintf(ret->reason, sizeof(ret->reason), "up from %u of %zu vantage points", up, t->n_vantages);
        } else {
                ret->health = HEALTH_UNKNOWN;
                snprintf(ret->reason, sizeof(ret->reason), "no vantage point has decided yet");
        }

        len = strlen(ret->reason);
        if (stale > 0 && len < sizeof(ret->reason))
                snprintf(ret->reason + len, sizeof(ret->reason) - len, "; %u stale", stale);
        len = strlen(ret->reason);
        if (unavailable > 0 && len < sizeof(ret->reason))
                snprintf(ret->reason + len, sizeof(ret->reason) - len, "; %u unavailable", unavailable);
}

/* The only writer of Target.health; returns true (and fills *change) on a change. */
static bool target_transition(Target *t, const Verdict *v, usec_t at, HealthChange *change)
{
        Health from = t->health;

        t->vantages_down = v->down;
        t->vantages_fresh = v->fresh;
        t->vantages_unavailable = v->unavailable;
        if (v->health == from)
                return false;

        t->health = v->health;
        t->since = at;
        t->down_since = v->health == HEALTH_DOWN ? at : USEC_INFINITY;
        memcpy(t->reason, v->reason, sizeof(t->reason));

        *change = (HealthChange) {
                .target = t->name,
                .site = t->site,
                .from = from,
                .to = v->health,
                .at = at,
                .vantages_down = v->down,
                .vantages_fresh = v->fresh,
                .quorum = t->config.quorum,
        };
        memcpy(change->reason, v->reason, sizeof(change->reason));
        return true;
}

int detector_feed(Detector *d, const ProbeResult *r, HealthChange *ret_changes, size_t max, size_t *ret_n)
{
        char detail[VANTAGE_DETAIL_MAX];
        HealthChange change;
        Verdict verdict;
        SampleClass c;
        Target *t;
        Vantage *v;

        if (!d || !r || !r->target || r->outcome < 0 || r->outcome >= _PROBE_OUTCOME_MAX)
                return -EINVAL;
        if (ret_changes && max < 1)
                return -EINVAL;
        if (ret_n)
                *ret_n = 0;

        t = detector_find(d, r->target);
        if (!t)
                return -ENOENT;
        v = target_find_vantage(t, r->vantage ? r->vantage : DETECTOR_VANTAGE_LOCAL);
        if (!v)
                return -ENOENT;

        /* Results from remote vantages can arrive late; an older sample must not
         * overwrite a newer one's verdict. */
        if ((v->reported || v->unavailable) && r->at < v->last_at)
                return 0;

        if (r->outcome == PROBE_UNAVAILABLE) {
                /* Not a sample of the target: the vantage abstains (detector.h), its
                 * counters wait for its next real sample. */
                v->unavailable = true;
                v->last_at = r->at;
                v->last_outcome = r->outcome;
                snprintf(v->detail, sizeof(v->detail), "unavailable%s%s", r->detail ? ": " : "",
                         strempty(r->detail));
        } else {
                c = classify(t, r, detail);
                vantage_transition(v, c, t->config.fall, t->config.rise);
                v->unavailable = false;
                v->reported = true;
                v->last_at = r->at;
                v->last_outcome = r->outcome;
                if (c != SAMPLE_GOOD)
                        memcpy(v->detail, detail, sizeof(v->detail));
                else if (v->health == HEALTH_UP)
                        v->detail[0] = '\0';
        }
        if (r->at > t->last_result_at)
                t->last_result_at = r->at;

        target_evaluate(t, r->at, &verdict);
        if (target_transition(t, &verdict, r->at, &change)) {
                if (ret_changes)
                        ret_changes[0] = change;
                if (ret_n)
                        *ret_n = 1;
        }
        return 0;
}

int detector_tick(Detector *d, usec_t now, HealthChange *ret_changes, size_t max, size_t *ret_n)
{
        size_t n = 0, k = 0;

        if (!d)
                return -EINVAL;

        /* Count first, so that a too-small buffer changes nothing. */
        if (ret_changes) {
                for (size_t i = 0; i < d->n_targets; i++) {
                        Verdict v;

                        target_evaluate(&d->targets[i], now, &v);
                        n += v.health != d->targets[i].health;
                }
                if (n > max)
                        return -ENOBUFS;
        }

        for (size_t i = 0; i < d->n_targets; i++) {
                HealthChange change;
                Verdict v;

                target_evaluate(&d->targets[i], now, &v);
                if (target_transition(&d->targets[i], &v, now, &change) && ret_changes)
                        ret_changes[k++] = change;
        }
        if (ret_n)
                *ret_n = k;
        return 0;
}

Health detector_health(const Detector *d, const char *target)
{
        const Target *t;

        if (!d)
                return _HEALTH_INVALID;
        t = detector_find(d, target);
        return t ? t->health : _HEALTH_INVALID;
}

int detector_target_stats(const Detector *d, const char *target, DetectorTargetStats *ret)
{
        const Target *t;
        unsigned bad = 0;

        if (!d || !ret)
                return -EINVAL;
        t = detector_find(d, target);
        if (!t)
                return -ENOENT;

        for (size_t i = 0; i < t->n_vantages; i++)
                bad = MAX(bad, t->vantages[i].bad);

        *ret = (DetectorTargetStats) {
                .health = t->health,
                .since = t->since,
                .down_since = t->down_since,
                .consecutive_bad = bad,
                .vantages_down = t->vantages_down,
                .vantages_fresh = t->vantages_fresh,
                .vantages_unavailable = t->vantages_unavailable,
                .n_vantages = (unsigned) t->n_vantages,
                .quorum = t->config.quorum,
                .last_result_at = t->last_result_at,
                .reason = t->reason,
        };
        return 0;
}

int detector_vantage_stats(const Detector *d, const char *target, const char *vantage, usec_t now,
                           DetectorVantageStats *ret)
{
        const Target *t;
        const Vantage *v;

        if (!d || !ret)
                return -EINVAL;
        t = detector_find(d, target);
        if (!t)
                return -ENOENT;
        v = target_find_vantage(t, vantage ? vantage : DETECTOR_VANTAGE_LOCAL);
        if (!v)
                return -ENOENT;

        *ret = (DetectorVantageStats) {
                .health = v->health,
                .reported = v->reported,
                .stale = v->reported && !v->unavailable && !vantage_is_fresh(v, t->config.interval, now),
                .unavailable = v->unavailable,
                .consecutive_bad = v->bad,
                .consecutive_good = v->good,
                .consecutive_not_good = v->not_good,
                .last_at = v->last_at,
                .last_outcome = v->last_outcome,
        };
        return 0;
}

size_t detector_n_targets(const Detector *d)
{
        return d ? d->n_targets : 0;
}

const DetectorTargetConfig *detector_target_config(const Detector *d, size_t i)
{
        if (!d || i >= d->n_targets)
                return NULL;
        return &d->targets[i].config;
}
