/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * template.h — strings with ${...} references, parsed once at load time.
 *
 * A reference is a dotted path: params.NAME, steps.STEP.FIELD,
 * targets.TARGET.FIELD, secrets.NAME, run.FIELD. Load-time checking is done by
 * the playbook validator (which knows the names); this module parses, lists the
 * references and expands them through a lookup callback. `$$` is a literal `$`.
 * Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/diag.h"

typedef struct TemplatePart {
        bool is_ref;
        char *text;     /* literal text, or the reference path ("params.reason") */
        unsigned col;   /* 1-based column of the part within the source string, for diagnostics */
} TemplatePart;

typedef struct Template {
        char *source;   /* the string as written; NULL for an absent template */
        TemplatePart *parts;
        size_t n_parts;
        const char *path;
        unsigned line, col; /* where the scalar starts */
        /* Set for HttpAction.json_body: the literal parts are JSON syntax and every
         * reference sits inside a JSON string's quotes, so template_expand() escapes each
         * expanded value as JSON string content (quotes, backslashes, control bytes).
         * The engine needs to do nothing extra; it sends the expansion as is. */
        bool json_escape;
} Template;

/* Parse `s`. Syntax errors ("unterminated ${", "empty reference", bad characters in a
 * reference) are reported at path:line:(col+offset) and return -EINVAL. */
int template_parse(Template *t, const char *s, const char *path, unsigned line, unsigned col, DiagList *diags);
/* Like template_parse(), but when exact_cols is false every error is reported at
 * (line, col) itself: for multi-line block scalars, where an offset into the value
 * does not map onto a column of the file. */
int template_parse_at(Template *t, const char *s, const char *path, unsigned line, unsigned col, bool exact_cols,
                      DiagList *diags);
void template_done(Template *t);
bool template_is_set(const Template *t);
bool template_has_refs(const Template *t);

/* Resolve one reference. Return 0 and a newly allocated *ret_value; set *ret_secret when
 * the value is a secret (or derived from one). Return -ENOENT for unknown references,
 * -ENODATA when the reference is known but has no value yet (e.g. a skipped step). */
/* Whether `s` (n bytes) is a syntactically valid reference path: segments of
 * [A-Za-z0-9_-]+ joined by '.', at least two segments. Shared with condition.c. */
bool template_ref_is_valid(const char *s, size_t n);

/* Column offset (in characters, counting UTF-8 sequences as one) of byte `offset` in s. */
unsigned template_char_offset(const char *s, size_t offset);

typedef int (*ScopeLookup)(void *userdata, const char *ref, char **ret_value, bool *ret_secret);

/* Expand. On error returns the lookup's error and sets *ret_bad_ref (borrowed) when non-NULL.
 * *ret_secret is set when any expanded reference was secret. */
int template_expand(const Template *t, ScopeLookup lookup, void *userdata, char **ret, bool *ret_secret,
                    const char **ret_bad_ref);
