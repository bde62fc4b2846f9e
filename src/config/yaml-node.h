/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * yaml-node.h — a YAML document as a tree of nodes that remember where they came
 * from (line, column), built with libyaml. This is the only place that talks to
 * libyaml. It owns the hygiene rules every drover file obeys and reports each as a
 * diagnostic: size limit, empty document, invalid UTF-8, tab characters, aliases
 * and anchors, duplicate mapping keys, non-scalar keys, more than one document,
 * and libyaml's own syntax errors.
 *
 * It also offers the declarative key-table check used by every loader:
 * unknown keys are errors with the nearest known key suggested.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/diag.h"
#include "shared/time-util.h"

#define YNODE_MAX_FILE_SIZE (1024 * 1024) /* 1 MiB: no hand-written drover file is larger */
#define YNODE_MAX_DEPTH 64

typedef enum YNodeKind {
        YNODE_SCALAR,
        YNODE_SEQUENCE,
        YNODE_MAPPING,
} YNodeKind;

typedef struct YNode YNode;
struct YNode {
        YNodeKind kind;
        const char *path; /* borrowed from the document */
        unsigned line;    /* 1-based */
        unsigned col;     /* 1-based */
        /* YNODE_SCALAR */
        char *scalar;     /* NUL-terminated; never NULL for a scalar ("" for empty) */
        bool plain;       /* unquoted plain scalar: `null`, `~` and `` are null only when plain */
        /* YNODE_SEQUENCE: items[0..n_items); YNODE_MAPPING: keys[i] -> items[i] */
        YNode **items;
        YNode **keys;
        size_t n_items;
};

typedef struct YDocument {
        char *path;
        YNode *root; /* never NULL after a successful load */
} YDocument;

/* Load and check a file. On any problem returns -EINVAL (or -errno for I/O) with every
 * problem in diags, and *ret untouched. The source text is registered in diags. */
int ydocument_load_file(const char *path, YDocument **ret, DiagList *diags);
int ydocument_load_buffer(const char *path, const char *buf, size_t len, YDocument **ret, DiagList *diags);
YDocument *ydocument_free(YDocument *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(YDocument *, ydocument_free);

const char *ynode_kind_to_string(YNodeKind k);
bool ynode_is_null(const YNode *n); /* plain scalar "", "~", "null", "Null", "NULL" */

/* Mapping lookup; NULL if absent or n is not a mapping. */
const YNode *ynode_get(const YNode *map, const char *key);
/* The key node of the entry `key`, for locating errors about the key itself. */
const YNode *ynode_get_key(const YNode *map, const char *key);

/* Report every key of `map` not in `known` (NULL-terminated) as
 * "unknown key 'x' in WHAT (did you mean 'y'?)". Returns the number of unknown keys. */
size_t ynode_check_keys(const YNode *map, const char *const *known, const char *what, DiagList *diags);

/* Kind check with a uniform message: "WHAT must be a mapping, not a sequence". Returns bool. */
bool ynode_expect(const YNode *n, YNodeKind kind, const char *what, DiagList *diags);

/* Typed accessors on a mapping entry. If the key is missing: when `required`, report
 * "missing required key 'KEY' in WHAT" at the mapping and return -ENOENT; otherwise return 0
 * leaving *ret unchanged. On a wrong type, report at the value and return -EINVAL.
 * On success return 1 and set *ret (strings are borrowed from the node). */
int ynode_get_string(const YNode *map, const char *key, const char *what, bool required, const char **ret,
                     DiagList *diags);
int ynode_get_bool(const YNode *map, const char *key, const char *what, bool required, bool *ret,
                   DiagList *diags);
int ynode_get_uint(const YNode *map, const char *key, const char *what, bool required, uint64_t min,
                   uint64_t max, uint64_t *ret, DiagList *diags);
int ynode_get_duration(const YNode *map, const char *key, const char *what, bool required, usec_t *ret,
                       DiagList *diags);

/* Report an error located at node n. */
void ynode_error(DiagList *diags, const YNode *n, const char *fmt, ...) _printf_(3, 4);
