/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * droverctl.c — the commander's command line: global options and the verb table.
 * Each verb lives in its own ctl-*.c file; this file only dispatches.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

static const Verb verbs[] = {
        { "validate", "[--config FILE] FILE...", "check drover.yaml and playbooks; nothing runs", verb_validate },
        { "run", "PLAYBOOK [-p KEY=VALUE]... [--dry-run] [--accept-new-host-keys]",
          "run a playbook now, with live progress", verb_run },
        { "runs", "[--limit N]", "list runs from the journal", verb_runs },
        { "show", "RUN", "show one run with its steps, timings and events", verb_show },
        { "drill", "start|runs|show|status|evaluate|actions|action …",
          "drills: tabletop and live runs, annual status, evaluation, improvement actions", verb_drill },
        { "audit", "verify [--head SEQ:HASH] | head",
          "check the journal's hash chain and rows; print the chain head for export", verb_audit },
        { "journal", "prune --before DATE [--reason TEXT] --yes",
          "retention: remove old runs and closed incidents, journaled in the audit chain", verb_journal },
        { "report", "run RUN|drill RUN|incident ID [--format md|json|html] [-o FILE]",
          "a report for people and regulators: Markdown, JSON or HTML with an SVG timeline", verb_report },
};

static void help(FILE *f)
{
        fprintf(f,
                "Usage: droverctl [--config FILE] [--db FILE] [--json] VERB [ARGS...]\n"
                "\n"
                "drover's commander tool: validate and run emergency playbooks, read the journal.\n"
                "\n"
                "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-9s %s\n  %9s %s\n", verbs[i].name, verbs[i].args, "", verbs[i].summary);
        fprintf(f,
                "\n"
                "Options (also accepted after the verb):\n"
                "  -c, --config FILE  inventory (default " CONFIG_DEFAULT_PATH ")\n"
                "      --db FILE      journal (default $" JOURNAL_ENV ", the config's, or " CONFIG_DEFAULT_JOURNAL
                ")\n"
                "      --json         machine-readable output (one JSON object per line for run)\n"
                "      --no-color     never colour the output\n"
                "  -v, --verbose      debug logging\n"
                "  -h, --help         this help; 'droverctl VERB --help' for a verb\n"
                "      --version      print the version\n"
                "\n"
                "Exit status: 0 success, 1 playbook failed or aborted, 2 usage or validation error,\n"
                "3 infrastructure error (journal unusable, …).\n");
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        CtlGlobals g = {
                .color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
        };
        int c;

        log_set_program("droverctl");
        while ((c = getopt_long(argc, argv, "+c:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help(stdout);
                        return EXIT_OK;
                case 'V':
                        printf("droverctl %s\n", DROVER_VERSION);
                        return EXIT_OK;
                default:
                        if (!ctl_common_option(&g, c, optarg))
                                return EXIT_USAGE;
                }
        }

        if (optind >= argc) {
                help(stderr);
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        /* The verb parses its own arguments, argv[0] being the verb. */
                        int vargc = argc - optind;
                        char **vargv = argv + optind;
                        optind = 0; /* reset getopt for the verb */
                        return verbs[i].run(&g, vargc, vargv);
                }

        log_error("unknown verb '%s'; see 'droverctl --help'", argv[optind]);
        return EXIT_USAGE;
}
