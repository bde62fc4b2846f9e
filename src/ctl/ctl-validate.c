/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-validate.c — `droverctl validate [--config FILE] FILE...`: checks the inventory
 * and each playbook or drill (drover-drill(5)) without contacting anything. Every problem of every file is
 * printed (path:line:col: error: …, source line, caret); exit 0 with "OK" when all is
 * clean, 2 otherwise.
 */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "config/config.h"
#include "config/yaml-node.h"
#include "ctl/ctl.h"
#include "drill/drill.h"
#include "playbook/playbook.h"
#include "shared/diag.h"
#include "shared/log.h"

typedef enum FileType {
        FILE_CONFIG,
        FILE_PLAYBOOK,
} FileType;

/* A drill is a file under a drills/ directory, or one that looks like a drill (scenario,
 * participants or playbooks, no steps). The lab's own files (drills/lab/) are not drills. */
static bool is_drill(const char *path)
{
        const char *d = strstr(path, "drills/");

        if (d && (d == path || d[-1] == '/') && !strstr(path, "drills/lab/"))
                return true;
        return drill_document_looks_like(path);
}

/* A playbook has `steps:`; anything else is taken for an inventory. A file that does not
 * even parse is reported by whichever loader reads it, so guess "playbook" then. */
static FileType guess_type(const char *path)
{
        _cleanup_(ydocument_freep) YDocument *doc = NULL;
        DiagList scratch;
        FileType t = FILE_PLAYBOOK;

        diag_list_init(&scratch);
        if (ydocument_load_file(path, &doc, &scratch) >= 0 && doc->root->kind == YNODE_MAPPING &&
            !ynode_get(doc->root, "steps") &&
            (ynode_get(doc->root, "hosts") || ynode_get(doc->root, "sites") || ynode_get(doc->root, "endpoints") ||
             ynode_get(doc->root, "secrets") || ynode_get(doc->root, "defaults")))
                t = FILE_CONFIG;
        diag_list_done(&scratch);
        return t;
}

static json_t *diags_to_json(const DiagList *d)
{
        json_t *a = json_array();

        for (size_t i = 0; i < d->n_items; i++) {
                const Diag *x = &d->items[i];
                json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s, s:s}", "path", strempty(x->path), "line",
                                                   (int) x->line, "col", (int) x->col, "severity",
                                                   x->severity == DIAG_ERROR     ? "error"
                                                   : x->severity == DIAG_WARNING ? "warning"
                                                                                 : "note",
                                                   "message", strempty(x->message)));
        }
        return a;
}

int verb_validate(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(config_freep) Config *config = NULL;
        DiagList diags;
        const char *config_path;
        bool config_ok = true;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: droverctl validate [--config FILE] [--json] [FILE...]\n\n"
                               "Check drover.yaml, playbooks and drills (files under drills/). Every problem is reported as\n"
                               "path:line:col: error: message. Exit 0 and print OK when clean, else 2.\n");
                        return EXIT_OK;
                }
                if (!ctl_common_option(g, c, optarg))
                        return EXIT_USAGE;
        }

        /* `droverctl validate drover.yaml` validates that file as the inventory. */
        config_path = g->config_path;
        for (int i = optind; i < argc && !config_path; i++)
                if (guess_type(argv[i]) == FILE_CONFIG)
                        config_path = argv[i];
        if (!config_path)
                config_path = CONFIG_DEFAULT_PATH;

        diag_list_init(&diags);
        r = config_load(config_path, &config, &diags);
        if (r < 0) {
                config_ok = false;
                if (r != -EINVAL)
                        diag_error(&diags, config_path, 0, 0, "cannot read inventory: %s", strerror(-r));
        }

        for (int i = optind; i < argc; i++) {
                _cleanup_(playbook_freep) Playbook *p = NULL;

                if (streq(argv[i], config_path))
                        continue;
                if (guess_type(argv[i]) == FILE_CONFIG) {
                        _cleanup_(config_freep) Config *other = NULL;
                        r = config_load(argv[i], &other, &diags);
                        if (r < 0 && r != -EINVAL)
                                diag_error(&diags, argv[i], 0, 0, "cannot read: %s", strerror(-r));
                        continue;
                }
                if (!config_ok) {
                        diag_add(&diags, DIAG_NOTE, argv[i], 0, 0,
                                 "not checked: the inventory %s must be valid first", config_path);
                        continue;
                }
                if (is_drill(argv[i])) {
                        _cleanup_(drill_freep) Drill *d = NULL;
                        (void) drill_load(argv[i], config, NULL, &d, &diags);
                        continue;
                }
                r = playbook_load(argv[i], config, &p, &diags);
                if (r < 0 && r != -EINVAL)
                        diag_error(&diags, argv[i], 0, 0, "cannot read: %s", strerror(-r));
        }

        bool ok = !diag_has_errors(&diags);
        if (g->json) {
                ctl_print_json_line(json_pack("{s:b, s:o}", "ok", ok, "diagnostics", diags_to_json(&diags)));
        } else {
                diag_print(&diags, stderr);
                if (ok)
                        printf("OK\n");
                else
                        fprintf(stderr, "%zu error(s); nothing was run.\n", diag_count_errors(&diags));
        }
        diag_list_done(&diags);
        return ok ? EXIT_OK : EXIT_USAGE;
}
