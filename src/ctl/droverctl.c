/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * droverctl.c — the commander's command line: global options and the verb table.
 * Each verb lives in its own ctl-*.c file; this file only dispatches.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "shared/log.h"

static const Verb verbs[] = {
        { "validate", "[--config FILE] FILE...", "check drover.yaml and playbooks; nothing runs", verb_validate },
        { "status", "", "sites, levels, open incidents and runs in progress at a glance", verb_status },
        { "sites", "", "the sites droverd watches: health, level, maintenance", verb_sites },
        { "incidents", "[--all]", "open incidents (--all: closed ones too)", verb_incidents },
        { "incident", "ID", "one incident with its log", verb_incident },
        { "run", "PLAYBOOK [-p KEY=VALUE]... [--dry-run] [--detach] [--local]",
          "run a playbook (through droverd when it runs, else here), with live progress", verb_run },
        { "attach", "RUN", "follow a run of droverd to its end", verb_attach },
        { "runs", "[--limit N]", "list runs from the journal", verb_runs },
        { "show", "RUN", "show one run with its steps, timings and events", verb_show },
        { "approve", "[run|incident] ID [-m COMMENT]", "approve a pending approval gate", verb_approve },
        { "deny", "[run|incident] ID [-m COMMENT]", "deny a pending approval gate", verb_deny },
        { "skip", "[run] ID [-m COMMENT]", "at a resume gate, skip the step left in flight and go on",
          verb_skip },
        { "abort", "RUN", "abort a run of droverd (its rollback runs)", verb_abort },
        { "ack", "INCIDENT", "acknowledge an incident (verified by the duty office)", verb_ack },
        { "note", "INCIDENT TEXT", "add a note to an incident", verb_note },
        { "maintenance", "SITE on|off", "silence a site, or end its maintenance", verb_maintenance },
        { "override", "SITE|--all on|off", "manual override: nothing automatic, proposals only", verb_override },
        { "reload", "", "make droverd reload its inventory", verb_reload },
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
                "drover's commander tool: validate and run emergency playbooks, read the journal,\n"
                "and drive droverd (runs, approvals, incidents) over D-Bus.\n"
                "\n"
                "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-11s %s\n  %11s %s\n", verbs[i].name, verbs[i].args, "", verbs[i].summary);
        fprintf(f,
                "\n"
                "Options (also accepted after the verb):\n"
                "  -c, --config FILE  inventory (default " CONFIG_DEFAULT_PATH ")\n"
                "      --db FILE      journal (default $" JOURNAL_ENV ", the config's, or " JOURNAL_DEFAULT_PATH
                ")\n"
                "      --json         machine-readable output (one JSON object per line for run)\n"
                "      --no-color     never colour the output\n"
                "  -v, --verbose      debug logging\n"
                "  -h, --help         this help; 'droverctl VERB --help' for a verb\n"
                "      --version      print the version\n"
                "\n"
                "Exit status: 0 success, 1 playbook failed or aborted, 2 usage or validation error\n"
                "(or bad arguments), 3 infrastructure error (journal unusable, droverd unreachable, …),\n"
                "4 refused by droverd (not a commander, four-eyes), 5 no such run/incident/site,\n"
                "6 nothing to do (no pending gate, run ended, droverd stopping).\n");
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
