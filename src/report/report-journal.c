/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report-journal.c — the report's I/O edge: reads a run, a drill run or an incident
 * (with its log and the runs it started) through the journal's public API, the drill
 * tables through journal-drill.h (the drill run a drill/tabletop run belongs to, its
 * tabletop reviews, evaluation and improvement actions), and each run's playbook file
 * for its objectives; then hands the records to the pure model (report.c). Does not
 * own: the model, rendering, writing the result. Called by droverctl's `report` verb
 * and tests.
 */
#include <stdlib.h>
#include <string.h>

#include "config/yaml-node.h"
#include "report/report.h"
#include "shared/diag.h"
#include "shared/sha256.h"

static char *read_small_file(const char *path, size_t *ret_len, int *ret_errno)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                *ret_errno = errno;
                return NULL;
        }
        StrBuf b = STRBUF_INIT;
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
                strbuf_append(&b, buf, n);
                if (b.len > YNODE_MAX_FILE_SIZE)
                        break;
        }
        if (ferror(f) || b.len > YNODE_MAX_FILE_SIZE) {
                *ret_errno = ferror(f) ? EIO : EFBIG;
                strbuf_done(&b);
                return NULL;
        }
        *ret_len = b.len;
        return strbuf_steal(&b);
}

void report_read_objectives(const char *path, const char *sha256, ReportObjectives *ret)
{
        *ret = (ReportObjectives){};
        if (!path || !*path) {
                ret->unknown_reason = xstrdup("the run journaled no playbook path");
                return;
        }
        size_t len = 0;
        int err = 0;
        _cleanup_free_ char *buf = read_small_file(path, &len, &err);
        if (!buf) {
                ret->unknown_reason =
                        xasprintf("the playbook %s cannot be read now (%s)", path, strerror(err));
                return;
        }
        char hex[SHA256_HEX_SIZE];
        sha256_hex(buf, len, hex);
        if (!sha256 || !streq(hex, sha256)) {
                ret->unknown_reason = xasprintf("the playbook %s changed since the run (sha256 %.12s… now, "
                                                "%.12s… then)",
                                                path, hex, strempty(sha256));
                return;
        }

        DiagList diags;
        diag_list_init(&diags);
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        int r = ydocument_load_buffer(path, buf, len, &doc, &diags);
        const YNode *v =
                r >= 0 && doc->root->kind == YNODE_MAPPING ? ynode_get(doc->root, "objectives") : NULL;
        if (r < 0)
                ret->unknown_reason = xasprintf("the playbook %s does not parse", path);
        else {
                ret->known = true;
                if (v && v->kind == YNODE_MAPPING) {
                        ret->has_rto =
                                ynode_get_duration(v, "rto", "objectives", false, &ret->rto, &diags) > 0;
                        ret->has_rpo =
                                ynode_get_duration(v, "rpo", "objectives", false, &ret->rpo, &diags) > 0;
                }
        }
        diag_list_done(&diags);
}

static int load_run(Journal *j, int64_t id, ReportRun *ret)
{
        ReportRun rr = {};
        int r = journal_get_run(j, id, &rr.run);
        if (r < 0)
                return r;
        r = journal_list_steps(j, id, &rr.steps, &rr.n_steps);
        if (r >= 0)
                r = journal_list_events(j, id, &rr.events, &rr.n_events);
        if (r < 0) {
                report_run_done(&rr);
                return r;
        }
        report_read_objectives(rr.run.playbook_path, rr.run.playbook_sha256, &rr.objectives);
        *ret = rr;
        return 0;
}

/* The drill run a playbook run belongs to, with its reviews, evaluation and actions.
 * -ENOENT when the run is not a drill's (a drill-mode run started by hand). */
static int load_drill(JournalDrill *jd, Report *rep, int64_t run_id)
{
        DrillRunRecord dr = {};
        DrillReviewRecord *reviews = NULL;
        DrillEvaluationRecord *evals = NULL;
        DrillActionRecord *acts = NULL;
        size_t n_reviews = 0, n_evals = 0, n_acts = 0;
        int64_t drill_run_id = 0;
        int r;

        r = journal_drill_find_by_run(jd, run_id, &drill_run_id);
        if (r < 0)
                return r;
        r = journal_drill_get_run(jd, drill_run_id, &dr);
        if (r >= 0)
                r = journal_drill_list_reviews(jd, drill_run_id, &reviews, &n_reviews);
        if (r >= 0)
                r = journal_drill_list_evaluations(jd, drill_run_id, &evals, &n_evals);
        if (r >= 0)
                r = journal_drill_list_actions(jd, false, drill_run_id, &acts, &n_acts);
        if (r >= 0)
                r = report_set_drill(rep, &dr, reviews, n_reviews, evals, n_evals, acts, n_acts);
        if (r < 0) {
                drill_run_record_done(&dr);
                drill_review_record_free_array(reviews, n_reviews);
                drill_evaluation_record_free_array(evals, n_evals);
                drill_action_record_free_array(acts, n_acts);
                /* -ENOENT from here would read as "no such run": the drill run vanished. */
                return r == -ENOENT ? -EIO : r;
        }
        return 0;
}

int report_load(Journal *j, JournalDrill *jd, ReportKind kind, int64_t id, usec_t generated_at, Report **ret)
{
        _cleanup_(report_freep) Report *rep = NULL;
        int r;

        if (!j || id <= 0 || !ret)
                return -EINVAL;
        r = report_new(&rep, kind, generated_at);
        if (r < 0)
                return r;

        if (kind == REPORT_INCIDENT) {
                IncidentRecord inc = {};
                IncidentLogRecord *log = NULL;
                size_t n_log = 0;

                r = journal_get_incident(j, id, &inc);
                if (r < 0)
                        return r;
                r = journal_list_incident_log(j, id, &log, &n_log);
                if (r < 0) {
                        incident_record_done(&inc);
                        return r;
                }
                r = report_set_incident(rep, &inc, log, n_log);
                if (r < 0) {
                        incident_record_done(&inc);
                        incident_log_record_free_array(log, n_log);
                        return r;
                }
                /* The runs this incident started or concerns, each once. */
                for (size_t i = 0; i < rep->n_log; i++) {
                        int64_t run_id = rep->log[i].run_id;
                        bool seen = false;
                        if (run_id <= 0)
                                continue;
                        for (size_t k = 0; k < rep->n_runs && !seen; k++)
                                seen = rep->runs[k].run.id == run_id;
                        if (seen)
                                continue;
                        ReportRun rr = {};
                        r = load_run(j, run_id, &rr);
                        if (r == -ENOENT)
                                continue; /* the log names a run this journal does not hold */
                        if (r < 0)
                                return r;
                        report_add_run(rep, &rr);
                }
        } else {
                ReportRun rr = {};
                r = load_run(j, id, &rr);
                if (r < 0)
                        return r;
                bool drill_mode = run_mode_is_drill(rr.run.mode);
                report_add_run(rep, &rr);
                if (jd && drill_mode) {
                        r = load_drill(jd, rep, id);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
        }

        r = report_finish(rep);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rep);
        return 0;
}
