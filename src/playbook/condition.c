/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * condition.c — the `when:` / `expect.that:` expression language: a tokenizer,
 * a recursive-descent parser into a small tree, and an evaluator that resolves
 * references through the same typed TemplateRef and RefLookup as templates.
 *
 * Owns: the grammar (see condition.h), syntax errors with exact columns, the
 * comparison and truthiness rules. Does not own: which references exist
 * (playbook-refs.c checks `ref_items` at load) or their values (the engine's lookup).
 * Called by playbook.c (parse) and the engine (eval). Pure: no I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "playbook/condition.h"
#include "shared/strbuf.h"

typedef enum CondNodeType {
        COND_OR,
        COND_AND,
        COND_NOT,
        COND_CMP,
        COND_REF,
        COND_LITERAL,
} CondNodeType;

typedef enum CondOp {
        OP_EQ,
        OP_NE,
        OP_LT,
        OP_LE,
        OP_GT,
        OP_GE,
        OP_CONTAINS,
} CondOp;

struct CondNode {
        CondNodeType type;
        CondOp op;
        CondNode *left, *right;
        char *text; /* COND_REF: the reference path; COND_LITERAL: the value */
        size_t ref; /* COND_REF: index into Condition.ref_items */
};

typedef enum TokenType {
        TOK_END,
        TOK_REF,
        TOK_NUMBER,
        TOK_STRING,
        TOK_TRUE,
        TOK_FALSE,
        TOK_AND,
        TOK_OR,
        TOK_NOT,
        TOK_OP, /* comparison operator, including `contains` */
        TOK_LPAREN,
        TOK_RPAREN,
} TokenType;

typedef struct Token {
        TokenType type;
        CondOp op;
        char *text;    /* TOK_REF, TOK_NUMBER, TOK_STRING */
        size_t offset; /* byte offset in the source */
} Token;

typedef struct Parser {
        const char *s;
        size_t pos;
        Token tok;
        const char *path;
        unsigned line, col;
        bool exact_cols;
        DiagList *diags;
        bool failed;
        Condition *c;
} Parser;

static CondNode *cond_node_free(CondNode *n)
{
        if (!n)
                return NULL;
        cond_node_free(n->left);
        cond_node_free(n->right);
        free(n->text);
        free(n);
        return NULL;
}

static CondNode *cond_node_new(CondNodeType type, CondNode *left, CondNode *right, char *text)
{
        CondNode *n = xcalloc(1, sizeof(CondNode));

        n->type = type;
        n->left = left;
        n->right = right;
        n->text = text;
        return n;
}

static unsigned parser_col(Parser *p, size_t offset)
{
        return p->exact_cols ? p->col + template_char_offset(p->s, offset) : p->col;
}

static void parser_error(Parser *p, size_t offset, const char *fmt, ...) _printf_(3, 4);
static void parser_error(Parser *p, size_t offset, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        StrBuf b = STRBUF_INIT;
        va_list ap;

        /* Report only the first problem: after it the parse is out of step and later
         * messages would be noise. */
        if (p->failed)
                return;
        p->failed = true;
        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        m = strbuf_steal(&b);
        diag_error(p->diags, p->path, p->line, parser_col(p, offset), "%s", m);
}

static bool is_word_char(char c)
{
        return isalnum((unsigned char) c) || c == '_' || c == '-' || c == '.';
}

static bool is_delimiter(char c)
{
        return c == '\0' || isspace((unsigned char) c) || strchr("()=!<>'\"", c);
}

/* Describe the token at `offset` for "unexpected ..." messages. */
static char *token_excerpt(const char *s, size_t offset)
{
        size_t n = 0;

        if (s[offset] == '\0')
                return xstrdup("end of condition");
        while (s[offset + n] && !isspace((unsigned char) s[offset + n]) && n < 20)
                n++;
        return xasprintf("'%.*s'", (int) n, s + offset);
}

static void parser_next(Parser *p)
{
        const char *s = p->s;
        size_t i = p->pos;

        free(p->tok.text);
        p->tok = (Token) {};

        while (isspace((unsigned char) s[i]))
                i++;
        p->tok.offset = i;

        if (s[i] == '\0') {
                p->tok.type = TOK_END;
                p->pos = i;
                return;
        }

        if (s[i] == '(' || s[i] == ')') {
                p->tok.type = s[i] == '(' ? TOK_LPAREN : TOK_RPAREN;
                p->pos = i + 1;
                return;
        }

        if (strchr("=!<>", s[i])) {
                p->tok.type = TOK_OP;
                if (s[i] == '=' && s[i + 1] == '=')
                        p->tok.op = OP_EQ, p->pos = i + 2;
                else if (s[i] == '!' && s[i + 1] == '=')
                        p->tok.op = OP_NE, p->pos = i + 2;
                else if (s[i] == '<' && s[i + 1] == '=')
                        p->tok.op = OP_LE, p->pos = i + 2;
                else if (s[i] == '>' && s[i + 1] == '=')
                        p->tok.op = OP_GE, p->pos = i + 2;
                else if (s[i] == '<')
                        p->tok.op = OP_LT, p->pos = i + 1;
                else if (s[i] == '>')
                        p->tok.op = OP_GT, p->pos = i + 1;
                else {
                        parser_error(p, i, "unknown operator '%c' (use ==, !=, <, <=, >, >=, contains, not)",
                                     s[i]);
                        p->tok.type = TOK_END;
                        p->pos = i + 1;
                }
                return;
        }

        if (s[i] == '\'' || s[i] == '"') {
                char q = s[i];
                StrBuf b = STRBUF_INIT;
                size_t j = i + 1;

                for (; s[j] && s[j] != q; j++) {
                        /* Double-quoted strings allow \" and \\; single-quoted are verbatim. */
                        if (q == '"' && s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\'))
                                j++;
                        strbuf_putc(&b, s[j]);
                }
                if (s[j] != q) {
                        strbuf_done(&b);
                        parser_error(p, i, "unterminated string (missing closing %c)", q);
                        p->tok.type = TOK_END;
                        p->pos = j;
                        return;
                }
                p->tok.type = TOK_STRING;
                p->tok.text = strbuf_steal(&b);
                p->pos = j + 1;
                return;
        }

        if (s[i] == '$' && s[i + 1] == '{') {
                parser_error(p, i, "references in conditions are written bare (params.x), not as ${...}");
                p->tok.type = TOK_END;
                p->pos = i + strlen(s + i);
                return;
        }

        if (isdigit((unsigned char) s[i]) ||
            ((s[i] == '-' || s[i] == '+' || s[i] == '.') &&
             (isdigit((unsigned char) s[i + 1]) || (s[i + 1] == '.' && isdigit((unsigned char) s[i + 2]))))) {
                char *end;
                double v;

                errno = 0;
                v = strtod(s + i, &end);
                if (end == s + i || !isfinite(v) || !is_delimiter(*end)) {
                        size_t j = i;
                        while (!is_delimiter(s[j]))
                                j++;
                        parser_error(p, i, "invalid number '%.*s'", (int) (j - i), s + i);
                        p->tok.type = TOK_END;
                        p->pos = j;
                        return;
                }
                p->tok.type = TOK_NUMBER;
                p->tok.text = xstrndup(s + i, (size_t) (end - (s + i)));
                p->pos = (size_t) (end - s);
                return;
        }

        if (isalnum((unsigned char) s[i]) || s[i] == '_') {
                size_t j = i;
                _cleanup_free_ char *w = NULL;

                while (is_word_char(s[j]))
                        j++;
                w = xstrndup(s + i, j - i);
                p->pos = j;
                if (!is_delimiter(s[j])) {
                        parser_error(p, j, "unexpected character '%c' in reference '%s'", s[j], w);
                        p->tok.type = TOK_END;
                        return;
                }
                if (streq(w, "and"))
                        p->tok.type = TOK_AND;
                else if (streq(w, "or"))
                        p->tok.type = TOK_OR;
                else if (streq(w, "not"))
                        p->tok.type = TOK_NOT;
                else if (streq(w, "true"))
                        p->tok.type = TOK_TRUE;
                else if (streq(w, "false"))
                        p->tok.type = TOK_FALSE;
                else if (streq(w, "contains"))
                        p->tok.type = TOK_OP, p->tok.op = OP_CONTAINS;
                else if (template_ref_is_valid(w, j - i)) {
                        p->tok.type = TOK_REF;
                        p->tok.text = TAKE_PTR(w);
                } else {
                        if (!strchr(w, '.'))
                                parser_error(p, i,
                                             "unknown word '%s' (a reference has at least two segments, "
                                             "like params.%s; strings are quoted)",
                                             w, w);
                        else
                                parser_error(p, i, "invalid reference '%s'", w);
                        p->tok.type = TOK_END;
                }
                return;
        }

        {
                /* Quote the whole UTF-8 sequence, not its first byte. */
                int l = utf8_char_length(s + i, strlen(s + i));
                if (l < 1)
                        l = 1;
                parser_error(p, i, "unexpected character '%.*s'", l, s + i);
                p->tok.type = TOK_END;
                p->pos = i + (size_t) l;
        }
}

static size_t parser_add_ref(Parser *p, const char *ref, size_t offset)
{
        size_t n = p->c->n_ref_items;

        template_ref_parse(array_push(&p->c->ref_items, &p->c->n_ref_items, sizeof(TemplateRef)), ref, strlen(ref),
                           1 + template_char_offset(p->s, offset));
        p->c->refs = xrealloc(p->c->refs, (n + 2) * sizeof(char *));
        p->c->refs[n] = xstrdup(ref);
        p->c->refs[n + 1] = NULL;
        p->c->ref_cols = xrealloc(p->c->ref_cols, (n + 1) * sizeof(unsigned));
        p->c->ref_cols[n] = 1 + template_char_offset(p->s, offset);
        return n;
}

static CondNode *parse_or(Parser *p, unsigned depth);

#define COND_MAX_DEPTH 64

static CondNode *parse_operand(Parser *p, unsigned depth)
{
        CondNode *n = NULL;
        _cleanup_free_ char *what = NULL;

        if (p->failed)
                return NULL;
        switch (p->tok.type) {
        case TOK_REF: {
                size_t ref = parser_add_ref(p, p->tok.text, p->tok.offset);
                n = cond_node_new(COND_REF, NULL, NULL, TAKE_PTR(p->tok.text));
                n->ref = ref;
                parser_next(p);
                return n;
        }
        case TOK_NUMBER:
        case TOK_STRING:
                n = cond_node_new(COND_LITERAL, NULL, NULL, TAKE_PTR(p->tok.text));
                parser_next(p);
                return n;
        case TOK_TRUE:
        case TOK_FALSE:
                n = cond_node_new(COND_LITERAL, NULL, NULL, xstrdup(p->tok.type == TOK_TRUE ? "true" : "false"));
                parser_next(p);
                return n;
        case TOK_LPAREN: {
                size_t open = p->tok.offset;

                parser_next(p);
                n = parse_or(p, depth + 1);
                if (p->failed)
                        return cond_node_free(n);
                if (p->tok.type != TOK_RPAREN) {
                        what = token_excerpt(p->s, p->tok.offset);
                        if (p->tok.type == TOK_END)
                                parser_error(p, open, "unbalanced '(' (missing ')')");
                        else
                                parser_error(p, p->tok.offset, "expected ')' but found %s", what);
                        return cond_node_free(n);
                }
                parser_next(p);
                return n;
        }
        default:
                what = token_excerpt(p->s, p->tok.offset);
                parser_error(p, p->tok.offset,
                             "expected a reference, number, quoted string, true, false or '(' but found %s",
                             what);
                return NULL;
        }
}

static CondNode *parse_cmp(Parser *p, unsigned depth)
{
        CondNode *l, *r;
        CondOp op;

        l = parse_operand(p, depth);
        if (!l || p->tok.type != TOK_OP)
                return l;
        op = p->tok.op;
        parser_next(p);
        r = parse_operand(p, depth);
        if (!r)
                return cond_node_free(l);
        l = cond_node_new(COND_CMP, l, r, NULL);
        l->op = op;
        return l;
}

static CondNode *parse_unary(Parser *p, unsigned depth)
{
        if (depth > COND_MAX_DEPTH) {
                parser_error(p, p->tok.offset, "condition nested too deeply (more than %d levels)",
                             COND_MAX_DEPTH);
                return NULL;
        }
        if (p->tok.type == TOK_NOT) {
                CondNode *n;

                parser_next(p);
                n = parse_unary(p, depth + 1);
                if (!n)
                        return NULL;
                return cond_node_new(COND_NOT, n, NULL, NULL);
        }
        return parse_cmp(p, depth);
}

static CondNode *parse_and(Parser *p, unsigned depth)
{
        CondNode *l = parse_unary(p, depth);

        while (l && p->tok.type == TOK_AND) {
                CondNode *r;

                parser_next(p);
                r = parse_unary(p, depth);
                if (!r)
                        return cond_node_free(l);
                l = cond_node_new(COND_AND, l, r, NULL);
        }
        return l;
}

static CondNode *parse_or(Parser *p, unsigned depth)
{
        CondNode *l;

        if (depth > COND_MAX_DEPTH) {
                parser_error(p, p->tok.offset, "condition nested too deeply (more than %d levels)",
                             COND_MAX_DEPTH);
                return NULL;
        }
        l = parse_and(p, depth);
        while (l && p->tok.type == TOK_OR) {
                CondNode *r;

                parser_next(p);
                r = parse_and(p, depth);
                if (!r)
                        return cond_node_free(l);
                l = cond_node_new(COND_OR, l, r, NULL);
        }
        return l;
}

int condition_parse_at(Condition *c, const char *s, const char *path, unsigned line, unsigned col, bool exact_cols,
                       DiagList *diags)
{
        Parser p = {
                .s = s,
                .path = path,
                .line = line,
                .col = col,
                .exact_cols = exact_cols,
                .diags = diags,
                .c = c,
        };
        CondNode *root;

        *c = (Condition) {
                .source = xstrdup(s),
                .path = path,
                .line = line,
                .col = col,
        };

        parser_next(&p);
        if (p.tok.type == TOK_END && !p.failed) {
                parser_error(&p, 0, "empty condition");
                goto fail;
        }
        root = parse_or(&p, 0);
        if (root && !p.failed && p.tok.type != TOK_END) {
                _cleanup_free_ char *what = token_excerpt(s, p.tok.offset);
                parser_error(&p, p.tok.offset, "unexpected %s after a complete condition (missing 'and'/'or'?)",
                             what);
        }
        if (p.failed || !root) {
                cond_node_free(root);
                goto fail;
        }
        free(p.tok.text);
        c->root = root;
        if (!c->refs)
                c->refs = xcalloc(1, sizeof(char *));
        return 0;

fail:
        free(p.tok.text);
        condition_done(c);
        return -EINVAL;
}

int condition_parse(Condition *c, const char *s, const char *path, unsigned line, unsigned col, DiagList *diags)
{
        return condition_parse_at(c, s, path, line, col, true, diags);
}

void condition_done(Condition *c)
{
        if (!c)
                return;
        free(c->source);
        cond_node_free(c->root);
        for (size_t i = 0; i < c->n_ref_items; i++)
                template_ref_done(&c->ref_items[i]);
        free(c->ref_items);
        strv_free(c->refs);
        free(c->ref_cols);
        *c = (Condition) {};
}

/* A string that is a number as a whole, surrounding whitespace allowed. */
static bool parse_number(const char *s, double *ret)
{
        char *end;
        double v;

        while (isspace((unsigned char) *s))
                s++;
        if (*s == '\0')
                return false;
        errno = 0;
        v = strtod(s, &end);
        if (end == s || isnan(v))
                return false;
        while (isspace((unsigned char) *end))
                end++;
        if (*end != '\0')
                return false;
        *ret = v;
        return true;
}

bool condition_value_is_true(const char *v)
{
        _cleanup_free_ char *t = NULL;
        double d;
        size_t n;

        if (!v)
                return false;
        while (isspace((unsigned char) *v))
                v++;
        n = strlen(v);
        while (n > 0 && isspace((unsigned char) v[n - 1]))
                n--;
        t = xstrndup(v, n);
        if (strcasecmp(t, "true") == 0 || strcasecmp(t, "yes") == 0)
                return true;
        if (parse_number(t, &d))
                return d != 0;
        return false;
}

typedef struct EvalCtx {
        const Condition *c;
        RefLookup lookup;
        void *userdata;
        const char *bad_ref;
} EvalCtx;

static int eval_bool(EvalCtx *e, const CondNode *n, bool *ret);

static int eval_value(EvalCtx *e, const CondNode *n, char **ret)
{
        bool b, secret = false;
        int r;

        switch (n->type) {
        case COND_REF:
                r = e->lookup(e->userdata, &e->c->ref_items[n->ref], ret, &secret);
                if (r < 0) {
                        e->bad_ref = n->text;
                        return r;
                }
                if (!*ret)
                        *ret = xstrdup("");
                return 0;
        case COND_LITERAL:
                *ret = xstrdup(n->text);
                return 0;
        default:
                r = eval_bool(e, n, &b);
                if (r < 0)
                        return r;
                *ret = xstrdup(b ? "true" : "false");
                return 0;
        }
}

static int eval_cmp(CondOp op, const char *a, const char *b)
{
        double x, y;
        int c;

        if (op == OP_CONTAINS)
                return strstr(a, b) != NULL;
        if (parse_number(a, &x) && parse_number(b, &y))
                c = x < y ? -1 : x > y ? 1 : 0;
        else
                c = strcmp(a, b);
        switch (op) {
        case OP_EQ:
                return c == 0;
        case OP_NE:
                return c != 0;
        case OP_LT:
                return c < 0;
        case OP_LE:
                return c <= 0;
        case OP_GT:
                return c > 0;
        case OP_GE:
                return c >= 0;
        default:
                return 0;
        }
}

static int eval_bool(EvalCtx *e, const CondNode *n, bool *ret)
{
        bool a;
        int r;

        switch (n->type) {
        case COND_OR:
        case COND_AND:
                /* Short-circuit: `params.force == true and steps.lag.stdout < 10` must not
                 * look up a step that was skipped when force is false. */
                r = eval_bool(e, n->left, &a);
                if (r < 0)
                        return r;
                if (n->type == COND_OR ? a : !a) {
                        *ret = a;
                        return 0;
                }
                return eval_bool(e, n->right, ret);
        case COND_NOT:
                r = eval_bool(e, n->left, &a);
                if (r < 0)
                        return r;
                *ret = !a;
                return 0;
        case COND_CMP: {
                _cleanup_free_ char *l = NULL, *rv = NULL;

                r = eval_value(e, n->left, &l);
                if (r < 0)
                        return r;
                r = eval_value(e, n->right, &rv);
                if (r < 0)
                        return r;
                *ret = eval_cmp(n->op, l, rv);
                return 0;
        }
        case COND_REF:
        case COND_LITERAL: {
                _cleanup_free_ char *v = NULL;

                r = eval_value(e, n, &v);
                if (r < 0)
                        return r;
                *ret = condition_value_is_true(v);
                return 0;
        }
        }
        return -EINVAL;
}

int condition_eval_refs(const Condition *c, RefLookup lookup, void *userdata, bool *ret, const char **ret_bad_ref)
{
        EvalCtx e = { .c = c, .lookup = lookup, .userdata = userdata };
        bool b;
        int r;

        if (!c || !c->root) {
                /* An unset condition (no `when:`) always holds. */
                *ret = true;
                return 0;
        }
        r = eval_bool(&e, c->root, &b);
        if (r < 0) {
                if (ret_bad_ref)
                        *ret_bad_ref = e.bad_ref;
                return r;
        }
        *ret = b;
        return 0;
}

int condition_eval(const Condition *c, ScopeLookup lookup, void *userdata, bool *ret, const char **ret_bad_ref)
{
        PathLookup pl = { .lookup = lookup, .userdata = userdata };

        return condition_eval_refs(c, path_lookup_adapter, &pl, ret, ret_bad_ref);
}
