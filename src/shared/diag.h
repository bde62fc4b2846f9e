/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diag.h — diagnostics for files a human wrote (drover.yaml, playbooks, drills).
 * Loaders collect every problem into a DiagList and refuse the whole file when
 * it holds any error; the caller prints them all at once as
 *
 *     path:line:col: error: message
 *       source line
 *           ^
 *
 * Line and column are 1-based; 0 means "whole file" (no caret printed).
 * This module does not decide anything; it only records and prints.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "shared/macros.h"

typedef enum DiagSeverity {
        DIAG_ERROR,
        DIAG_WARNING,
        DIAG_NOTE,
} DiagSeverity;

typedef struct Diag {
        char *path;
        unsigned line;
        unsigned col;
        DiagSeverity severity;
        char *message;
} Diag;

typedef struct DiagSource {
        char *path;
        char *text; /* the file's bytes, NUL-terminated, for quoting lines */
        size_t len;
} DiagSource;

typedef struct DiagList {
        Diag *items;
        size_t n_items;
        DiagSource *sources;
        size_t n_sources;
        size_t max_errors; /* 0 = unlimited; past it, further errors are counted, not stored */
        size_t n_dropped;
} DiagList;

void diag_list_init(DiagList *l);
void diag_list_done(DiagList *l);

/* Keep a copy of a file's text so diag_print() can quote the offending line. */
void diag_list_add_source(DiagList *l, const char *path, const char *text, size_t len);

void diag_add(DiagList *l, DiagSeverity severity, const char *path, unsigned line, unsigned col, const char *fmt,
              ...) _printf_(6, 7);
#define diag_error(l, path, line, col, ...) diag_add((l), DIAG_ERROR, (path), (line), (col), __VA_ARGS__)

/* Counts stored errors plus those dropped past max_errors. */
size_t diag_count_errors(const DiagList *l);
bool diag_has_errors(const DiagList *l);

/* Sort by path, line, col (stable) and print every item, with the source line and a
 * caret when the source is known. */
void diag_print(DiagList *l, FILE *f);

/* Levenshtein distance; returns SIZE_MAX when either string is longer than 64 bytes. */
size_t string_distance(const char *a, const char *b);

/* Nearest candidate within distance max(2, strlen(word)/3), or NULL. */
const char *string_nearest(const char *word, const char *const *candidates, size_t n_candidates);

/* Length (1..4) of the valid UTF-8 sequence at s (n bytes available), or -EILSEQ.
 * Shared with yaml-node's pre-scan so both count columns the same way. */
int utf8_char_length(const char *s, size_t n);
