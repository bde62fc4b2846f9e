/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-journal.h — the half of a run's EngineObserver that makes it durable: the run row
 * (and its incident link) before any step acts, each batch of attempts in one transaction
 * before they act and after they end, run events, the end. It also counts the outcomes
 * that the run's summary reports. It shows nothing: the other half (the terminal, JSON
 * lines, the worker's progress) is the caller's.
 *
 * Callers: `droverctl run` and `drill start` (src/ctl/ctl-run.c) and drover-worker
 * (src/worker/), so that a run journals the same records whoever runs it. Logs its
 * journal errors (the caller then abandons the run, as the engine asks).
 */
#pragma once

#include "engine/engine.h"
#include "journal/journal.h"

typedef struct RunCounts {
        unsigned ok, failed, skipped, rollback_ok, rollback_failed;
} RunCounts;

typedef struct RunJournal {
        Journal *journal;    /* NULL: a dry run, nothing is written (outcomes are still counted) */
        int64_t incident_id; /* > 0: the run serves this incident ("incident-link" event) */
        int64_t run_id;      /* the journal's id, once run_started made the run durable */
        RunCounts counts;
} RunJournal;

int run_journal_run_started(RunJournal *rj, RunInfo *info);
int run_journal_steps_started(RunJournal *rj, const RunInfo *info, StepEvent *events, size_t n);
int run_journal_steps_finished(RunJournal *rj, const RunInfo *info, StepEvent *events, size_t n);
void run_journal_event(RunJournal *rj, const RunInfo *info, const char *kind, const char *message);
int run_journal_run_finished(RunJournal *rj, const RunInfo *info, RunOutcome outcome, const char *error);
