/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-bad-input.c — the bad-input corpus runner. Every NAME.yaml under
 * $DROVER_TEST_DATA/bad-input/{config,playbook,drill}/ must be refused, with an error
 * at exactly the line:col and with the message fragment written in NAME.expected
 * ("LINE:COL: SUBSTRING"). One cmocka test per file, so a failure names the file.
 * Playbooks load against bad-input/playbook/_inventory.yaml, which must load
 * cleanly; files starting with '_' are not cases. Drills load against the same inventory,
 * with bad-input/drill/_playbooks/ as their playbook directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "drill/drill.h"
#include "playbook/playbook.h"
#include "shared/strbuf.h"

#define MIN_CONFIG_CASES 15
#define MIN_PLAYBOOK_CASES 30
#define MIN_DRILL_CASES 10

typedef enum CaseKind {
        CASE_CONFIG,
        CASE_PLAYBOOK,
        CASE_DRILL,
} CaseKind;

typedef struct Case {
        CaseKind kind;
        char *yaml;     /* full path */
        char *expected; /* full path */
} Case;

static const char *data_dir;
static Config *inventory; /* for playbook and drill cases; NULL when it failed to load */
static char *drill_playbook_dir;
static char *inventory_errors;

static char *read_all(const char *path)
{
        FILE *f = fopen(path, "re");
        StrBuf b = STRBUF_INIT;
        char chunk[4096];
        size_t n;

        if (!f)
                return NULL;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                strbuf_append(&b, chunk, n);
        fclose(f);
        return strbuf_steal(&b);
}

static char *diags_to_string(DiagList *l)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        diag_print(l, f);
        fclose(f);
        return buf;
}

static bool is_case(const struct dirent *de)
{
        size_t n = strlen(de->d_name);

        return de->d_name[0] != '_' && de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".yaml");
}

static int case_filter(const struct dirent *de)
{
        return is_case(de);
}

/* Append every case of one directory; returns how many. */
static size_t collect(CaseKind kind, const char *sub, Case **cases, size_t *n_cases)
{
        _cleanup_free_ char *dir = xasprintf("%s/bad-input/%s", data_dir, sub);
        struct dirent **list = NULL;
        int n = scandir(dir, &list, case_filter, alphasort);

        if (n < 0)
                return 0;
        for (int i = 0; i < n; i++) {
                Case *c = array_push(cases, n_cases, sizeof(Case));
                size_t len = strlen(list[i]->d_name);

                c->kind = kind;
                c->yaml = xasprintf("%s/%s", dir, list[i]->d_name);
                c->expected = xasprintf("%s/%.*s.expected", dir, (int) (len - 5), list[i]->d_name);
                free(list[i]);
        }
        free(list);
        return (size_t) n;
}

static void run_case(void **state)
{
        const Case *c = *state;
        _cleanup_free_ char *expected = read_all(c->expected), *printed = NULL, *prefix = NULL;
        unsigned line = 0, col = 0;
        int consumed = 0, r;
        const char *sub;
        char *nl;
        bool found = false;
        DiagList l;

        if (!expected)
                fail_msg("%s: missing %s", c->yaml, c->expected);
        if (sscanf(expected, "%u:%u: %n", &line, &col, &consumed) != 2 || consumed == 0 || line == 0)
                fail_msg("%s: malformed (want 'LINE:COL: SUBSTRING')", c->expected);
        sub = expected + consumed;
        nl = strchr(expected, '\n');
        if (nl)
                *nl = '\0';
        if (sub[0] == '\0')
                fail_msg("%s: empty substring", c->expected);

        diag_list_init(&l);
        if (c->kind == CASE_CONFIG) {
                Config *cfg = NULL;
                r = config_load(c->yaml, &cfg, &l);
                if (r >= 0)
                        config_free(cfg);
                assert_null(cfg);
        } else if (c->kind == CASE_DRILL) {
                Drill *d = NULL;
                if (!inventory)
                        fail_msg("inventory did not load:\n%s", strempty(inventory_errors));
                r = drill_load(c->yaml, inventory, drill_playbook_dir, &d, &l);
                if (r >= 0)
                        drill_free(d);
                assert_null(d);
        } else {
                Playbook *p = NULL;
                if (!inventory)
                        fail_msg("inventory did not load:\n%s", strempty(inventory_errors));
                r = playbook_load(c->yaml, inventory, &p, &l);
                if (r >= 0)
                        playbook_free(p);
                assert_null(p);
        }
        printed = diags_to_string(&l);
        if (r >= 0)
                fail_msg("%s loaded, expected it to fail with %u:%u: %s", c->yaml, line, col, sub);
        if (!diag_has_errors(&l))
                fail_msg("%s failed (%d) without an error diagnostic", c->yaml, r);

        for (size_t i = 0; i < l.n_items && !found; i++)
                found = l.items[i].severity == DIAG_ERROR && l.items[i].line == line && l.items[i].col == col &&
                        strstr(l.items[i].message, sub);
        if (!found)
                fail_msg("%s: no error at %u:%u containing '%s'; got:\n%s", c->yaml, line, col, sub, printed);

        /* And the user sees it as `PATH:LINE:COL: error: ...SUBSTRING...`. */
        prefix = xasprintf("%s:%u:%u: error: ", c->yaml, line, col);
        found = false;
        for (const char *p = printed; p && *p && !found;) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t) (end - p) : strlen(p);
                _cleanup_free_ char *text = xstrndup(p, len);

                found = strncmp(text, prefix, strlen(prefix)) == 0 && strstr(text, sub);
                p = end ? end + 1 : NULL;
        }
        if (!found)
                fail_msg("%s: printed output has no line starting '%s' with '%s':\n%s", c->yaml, prefix, sub,
                         printed);
        diag_list_done(&l);
}

static size_t n_config_cases, n_playbook_cases, n_drill_cases;

static void test_corpus_size(void **state)
{
        if (n_config_cases < MIN_CONFIG_CASES)
                fail_msg("only %zu config cases in %s/bad-input/config (want >= %d)", n_config_cases, data_dir,
                         MIN_CONFIG_CASES);
        if (n_playbook_cases < MIN_PLAYBOOK_CASES)
                fail_msg("only %zu playbook cases in %s/bad-input/playbook (want >= %d)", n_playbook_cases,
                         data_dir, MIN_PLAYBOOK_CASES);
        if (n_drill_cases < MIN_DRILL_CASES)
                fail_msg("only %zu drill cases in %s/bad-input/drill (want >= %d)", n_drill_cases, data_dir,
                         MIN_DRILL_CASES);
}

static void test_inventory_loads(void **state)
{
        if (!inventory)
                fail_msg("bad-input/playbook/_inventory.yaml must load cleanly:\n%s", strempty(inventory_errors));
}

int main(void)
{
        _cleanup_free_ char *inventory_path = NULL;
        Case *cases = NULL;
        size_t n_cases = 0;
        struct CMUnitTest *tests;
        DiagList l;
        int r;

        data_dir = getenv("DROVER_TEST_DATA");
        if (!data_dir) {
                fprintf(stderr, "DROVER_TEST_DATA is not set (run through meson test)\n");
                return 1;
        }

        /* The inventory refers to no secrets' values, but say it anyway: nothing is read. */
        inventory_path = xasprintf("%s/bad-input/playbook/_inventory.yaml", data_dir);
        diag_list_init(&l);
        if (config_load(inventory_path, &inventory, &l) < 0)
                inventory_errors = diags_to_string(&l);
        diag_list_done(&l);

        n_config_cases = collect(CASE_CONFIG, "config", &cases, &n_cases);
        n_playbook_cases = collect(CASE_PLAYBOOK, "playbook", &cases, &n_cases);
        n_drill_cases = collect(CASE_DRILL, "drill", &cases, &n_cases);
        drill_playbook_dir = xasprintf("%s/bad-input/drill/_playbooks", data_dir);

        tests = xcalloc(n_cases + 2, sizeof(struct CMUnitTest));
        tests[0] = (struct CMUnitTest) { .name = "corpus-size", .test_func = test_corpus_size };
        tests[1] = (struct CMUnitTest) { .name = "inventory-loads", .test_func = test_inventory_loads };
        for (size_t i = 0; i < n_cases; i++) {
                const char *base = strrchr(cases[i].yaml, '/') + 1;
                tests[i + 2] = (struct CMUnitTest) {
                        .name = xasprintf("%s/%s",
                                          cases[i].kind == CASE_CONFIG     ? "config"
                                          : cases[i].kind == CASE_PLAYBOOK ? "playbook"
                                                                           : "drill",
                                          base),
                        .test_func = run_case,
                        .initial_state = &cases[i],
                };
        }

        r = _cmocka_run_group_tests("bad-input", tests, n_cases + 2, NULL, NULL);

        for (size_t i = 0; i < n_cases; i++) {
                free((char *) tests[i + 2].name);
                free(cases[i].yaml);
                free(cases[i].expected);
        }
        free(tests);
        free(cases);
        free(inventory_errors);
        free(drill_playbook_dir);
        config_free(inventory);
        return r;
}
