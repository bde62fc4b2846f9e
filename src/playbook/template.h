/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * template.h — strings with ${...} references, parsed once at load time.
 *
 * A reference is a dotted path: params.NAME, steps.STEP.FIELD,
 * targets.TARGET.FIELD, secrets.NAME, run.FIELD. This module parses every reference
 * once into a typed TemplateRef (kind, name, field, column); the playbook validator
 * checks those at load (it knows the names) and the engine resolves the same typed
 * references at run time through a RefLookup callback, so neither side scans the text
 * again. Conditions (condition.h) use the same TemplateRef. `$$` is a literal `$`.
 * Pure: no I/O.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/diag.h"
#include "shared/macros.h"

/* What a reference names, from its first segment. */
typedef enum RefKind {
        REF_PARAM,  /* params.NAME */
        REF_STEPS,  /* steps.STEP.FIELD…: an earlier registered step's result */
        REF_STEP,   /* step.FIELD…: the current step's result (expect.that) */
        REF_TARGET, /* targets.TARGET.FIELD */
        REF_HOST,   /* host.FIELD: the host an ssh command runs on */
        REF_SECRET, /* secrets.NAME: NAME is the whole rest and may contain '.' */
        REF_RUN,    /* run.FIELD */
        _REF_KIND_MAX,
        _REF_KIND_INVALID = -EINVAL, /* any other first segment; reported at load */
} RefKind;

const char *ref_kind_to_string(RefKind k) _pure_;
RefKind ref_kind_from_string(const char *s) _pure_;

/* One parsed reference. Syntax is checked (non-empty [A-Za-z0-9_-] segments, at least
 * two); whether the names exist is checked by the playbook loader.
 *   kind    name      field
 *   PARAM   NAME      rest after NAME, or NULL (valid only when NULL)
 *   STEPS   STEP      rest after STEP ("stdout", "json.a.0"), or NULL
 *   TARGET  TARGET    rest after TARGET, or NULL
 *   SECRET  rest      NULL
 *   STEP, HOST, RUN   NULL, rest after the first segment
 *   INVALID NULL      NULL */
typedef struct TemplateRef {
        RefKind kind;
        char *path;   /* the whole reference as written: "steps.lag.stdout" */
        char *name;
        char *field;
        unsigned col; /* 1-based column within the source string */
} TemplateRef;

/* Parse the reference path s[0..n) (which must satisfy template_ref_is_valid()). */
void template_ref_parse(TemplateRef *ret, const char *s, size_t n, unsigned col);
void template_ref_done(TemplateRef *r);
/* The first segment of r->field as a length ("json" for "json.a.b"); 0 without a field. */
size_t template_ref_field_head(const TemplateRef *r);

typedef struct TemplatePart {
        bool is_ref;
        char *text;     /* literal text, or the reference path ("params.reason") */
        unsigned col;   /* 1-based column of the part within the source string, for diagnostics */
        TemplateRef ref; /* is_ref: the typed reference (ref.path equals text) */
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
/* Build a template piece by piece from parts already parsed elsewhere (the loader's JSON
 * bodies): template_put_literal() appends text, merging with a preceding literal;
 * template_put_ref() appends a copy of a parsed reference. t->source is set by the
 * caller. */
void template_put_literal(Template *t, const char *text, unsigned col);
void template_put_ref(Template *t, const TemplateRef *ref);
void template_done(Template *t);
bool template_is_set(const Template *t);
bool template_has_refs(const Template *t);

/* Whether `s` (n bytes) is a syntactically valid reference path: segments of
 * [A-Za-z0-9_-]+ joined by '.', at least two segments. Shared with condition.c. */
bool template_ref_is_valid(const char *s, size_t n);

/* Column offset (in characters, counting UTF-8 sequences as one) of byte `offset` in s. */
unsigned template_char_offset(const char *s, size_t offset);

/* Resolve one reference. Return 0 and a newly allocated *ret_value; set *ret_secret when
 * the value is a secret (or derived from one). Return -ENOENT for unknown references,
 * -ENODATA when the reference is known but has no value yet (e.g. a skipped step). */
typedef int (*RefLookup)(void *userdata, const TemplateRef *ref, char **ret_value, bool *ret_secret);
/* The same by path, for callers that only need the text (secrets in drover.yaml headers). */
typedef int (*ScopeLookup)(void *userdata, const char *ref, char **ret_value, bool *ret_secret);

/* Expand through the typed references. On error returns the lookup's error and sets
 * *ret_bad_ref (borrowed: the reference's path) when non-NULL. *ret_secret is set when
 * any expanded reference was secret. */
int template_expand_refs(const Template *t, RefLookup lookup, void *userdata, char **ret, bool *ret_secret,
                         const char **ret_bad_ref);
/* A RefLookup that calls a ScopeLookup with the reference's path; userdata is a
 * PathLookup. Used by template_expand() and condition_eval(). */
typedef struct PathLookup {
        ScopeLookup lookup;
        void *userdata;
} PathLookup;
int path_lookup_adapter(void *userdata, const TemplateRef *ref, char **ret_value, bool *ret_secret);

/* template_expand_refs() with a lookup by path. */
int template_expand(const Template *t, ScopeLookup lookup, void *userdata, char **ret, bool *ret_secret,
                    const char **ret_bad_ref);
