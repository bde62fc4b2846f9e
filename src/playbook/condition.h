/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * condition.h — the expression language of `when:` (and `expect.that:`).
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | cmp
 *   cmp     := operand (("=="|"!="|"<"|"<="|">"|">="|"contains") operand)?
 *   operand := REFERENCE | NUMBER | 'single' | "double" | true | false | "(" expr ")"
 *
 * REFERENCE is a dotted path as in templates, written bare: params.force,
 * steps.lag.stdout. Comparisons are numeric when both sides parse as numbers
 * (surrounding whitespace ignored), otherwise string comparisons; a bare operand is
 * true when it is "true", "yes", "1" or a non-zero number. Pure: no I/O.
 */
#pragma once

#include <stdbool.h>

#include "playbook/template.h"
#include "shared/diag.h"

typedef struct CondNode CondNode;

typedef struct Condition {
        char *source;
        CondNode *root;
        TemplateRef *ref_items; /* every reference, typed, in source order: checked at load, */
        size_t n_ref_items;     /* resolved at run time (condition_eval_refs) */
        char **refs; /* NULL-terminated: ref_items[i].path, for callers that want the text */
        unsigned *ref_cols; /* ref_cols[i]: 1-based column of refs[i] within source */
        const char *path;
        unsigned line, col;
} Condition;

int condition_parse(Condition *c, const char *s, const char *path, unsigned line, unsigned col, DiagList *diags);
/* Like condition_parse(); with exact_cols false every error is reported at (line, col)
 * itself (multi-line block scalars). */
int condition_parse_at(Condition *c, const char *s, const char *path, unsigned line, unsigned col, bool exact_cols,
                       DiagList *diags);
void condition_done(Condition *c);
/* The truthiness rule of a bare operand: "true"/"yes" (any case) or a non-zero number. */
bool condition_value_is_true(const char *v);
/* Returns 0 and *ret, or the lookup's negative error (with *ret_bad_ref set when non-NULL). */
int condition_eval_refs(const Condition *c, RefLookup lookup, void *userdata, bool *ret, const char **ret_bad_ref);
/* condition_eval_refs() with a lookup by path. */
int condition_eval(const Condition *c, ScopeLookup lookup, void *userdata, bool *ret, const char **ret_bad_ref);
