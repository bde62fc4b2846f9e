/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-drill-internal.h — what the files of `droverctl drill` share: the helpers in
 * ctl-drill.c (finding drills and the journal, ids, times, the scenario command) and
 * each verb's entry point. Private to src/ctl/: ctl-drill.c (helpers, dispatch),
 * ctl-drill-start.c (drill start), ctl-drill-show.c (runs, show, status),
 * ctl-drill-eval.c (evaluate, actions, timer).
 */
#pragma once

#include <stdint.h>

#include "config/config.h"
#include "drill/drill.h"
#include "ctl/ctl.h"
#include "journal/journal-drill.h"
#include "shared/time-util.h"

/* ctl-drill-start.c */
void help_drill(void);
int drill_start(CtlGlobals *g, int argc, char **argv);

/* ctl-drill-show.c */
int drill_runs(CtlGlobals *g, int argc, char **argv);
int drill_show(CtlGlobals *g, int argc, char **argv);
int drill_status(CtlGlobals *g, int argc, char **argv);

/* ctl-drill-eval.c */
int drill_evaluate(CtlGlobals *g, int argc, char **argv);
int drill_actions(CtlGlobals *g, int argc, char **argv);
int drill_action(CtlGlobals *g, int argc, char **argv);
int drill_timer(CtlGlobals *g, int argc, char **argv);

/* ctl-drill.c */
char *playbook_dir_for(const Config *config);
char **drill_dirs(const Config *config);
char *resolve_drill(const Config *config, const char *arg);
int open_drill_journal(CtlGlobals *g, const Config *config, Journal **ret_j, JournalDrill **ret_d);
int open_drill_journal_with_config(CtlGlobals *g, Config **config, Journal **ret_j, JournalDrill **ret_d);
int open_drill_journal_for_reading(CtlGlobals *g, Config **config, Journal **ret_j, JournalDrill **ret_d);
int parse_id(const char *s, int64_t *ret);
char *fmt_ts(usec_t t);
char *fmt_us(int64_t us);
int run_command(const DrillCommand *c);
char *participants_json(const Drill *d);
