/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report.c — `droverctl report run RUN | drill RUN | incident ID [--format
 * md|json|html] [-o FILE]`: build a report from the journal (src/report/) and print it
 * or write it to a file (atomically: a temporary file in the same directory, then
 * rename). Read-only on the journal, except that opening it marks runs of dead
 * processes as interrupted (journal_recover()). Decides nothing about the content.
 */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "report/report.h"
#include "shared/log.h"

/* As `runs`/`show`: the journal is readable without a valid drover.yaml when --db or
 * $DROVER_DB names it; a broken config must not hide the record. *ret_path is the
 * journal's path, for the drill tables' own connection. */
static int open_for_reading(CtlGlobals *g, Journal **ret, char **ret_path)
{
        _cleanup_(config_freep) Config *config = NULL;

        if (!g->db_path && !getenv(JOURNAL_ENV)) {
                int r = ctl_load_config(g, &config);
                if (r != EXIT_OK)
                        return r;
        }
        *ret_path = xstrdup(journal_resolve_path(g->db_path, config ? config->journal_path : NULL));
        return ctl_open_journal(g, config, ret);
}

static int write_atomic(const char *path, const char *text)
{
        _cleanup_free_ char *copy = xstrdup(path);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.XXXXXX", dirname(copy), basename((char *) path));
        size_t len = strlen(text), done = 0;
        int fd = mkostemp(tmp, O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0)
                goto fail;
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        goto fail;
                }
                done += (size_t) n;
        }
        if (fsync(fd) < 0 || close(fd) < 0) {
                fd = -1;
                goto fail;
        }
        fd = -1;
        if (rename(tmp, path) < 0)
                goto fail;
        return 0;
fail:;
        int err = -errno;
        if (fd >= 0)
                close(fd);
        (void) unlink(tmp);
        return err;
}

static void help(void)
{
        printf("Usage: droverctl report run RUN | drill RUN | incident ID [--format md|json|html] [-o "
               "FILE]\n"
               "\n"
               "Build a report from the journal: a run, a drill run (mode drill or tabletop), or an\n"
               "incident with its level history, actions and the runs it started. Markdown (default),\n"
               "JSON (also --json), or one self-contained HTML page with an SVG timeline.\n"
               "\n"
               "  -f, --format FMT   md, json or html\n"
               "  -o, --output FILE  write FILE (atomically) instead of standard output\n");
}

int verb_report(CtlGlobals *g, int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_OPTIONS,
                {"format", required_argument, NULL, 'f'},
                {"output", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(journal_closep) Journal *j = NULL;
        _cleanup_(journal_drill_closep) JournalDrill *jd = NULL;
        _cleanup_(report_freep) Report *rep = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *text = NULL;
        ReportFormat format = _REPORT_FORMAT_INVALID;
        const char *output = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vf:o:h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'f':
                        format = report_format_from_string(optarg);
                        if (format < 0) {
                                log_error("--format wants md, json or html, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'o':
                        output = optarg;
                        break;
                default:
                        if (!ctl_common_option(g, c, optarg))
                                return EXIT_USAGE;
                }
        }
        if (format < 0)
                format = g->json ? REPORT_FORMAT_JSON : REPORT_FORMAT_MARKDOWN;
        if (optind + 2 != argc) {
                log_error("report wants 'run RUN', 'drill RUN' or 'incident ID'; see 'droverctl report "
                          "--help'");
                return EXIT_USAGE;
        }
        ReportKind kind = report_kind_from_string(argv[optind]);
        if (kind < 0) {
                log_error("report: unknown kind '%s' (run, drill or incident)", argv[optind]);
                return EXIT_USAGE;
        }
        char *end;
        errno = 0;
        long long id = strtoll(argv[optind + 1], &end, 10);
        if (errno || *end || id <= 0 || end == argv[optind + 1]) {
                log_error("'%s' is not a %s id", argv[optind + 1],
                          kind == REPORT_INCIDENT ? "incident" : "run");
                return EXIT_USAGE;
        }

        r = open_for_reading(g, &j, &path);
        if (r != EXIT_OK)
                return r;
        /* A drill/tabletop run's drill run, reviews, evaluation and actions live in the
         * drill tables (journal-drill.h), read through their own connection. */
        if (kind != REPORT_INCIDENT) {
                r = journal_drill_open(path, &jd);
                if (r < 0)
                        return log_error_errno(r, "cannot read the drill tables of %s: %s", path,
                                               strerror(-r)),
                               EXIT_INFRA;
        }
        r = report_load(j, jd, kind, id, now_usec(CLOCK_REALTIME), &rep);
        if (r == -ENOENT) {
                log_error("no %s %lld in the journal", kind == REPORT_INCIDENT ? "incident" : "run", id);
                return EXIT_USAGE;
        }
        if (r == -EMEDIUMTYPE) {
                log_error(
                        "run %lld is not a drill (its mode is not drill or tabletop); use 'report run %lld'",
                        id, id);
                return EXIT_USAGE;
        }
        if (r < 0)
                return log_error_errno(r, "cannot build the report of %s %lld: %s",
                                       report_kind_to_string(kind), id, strerror(-r)),
                       EXIT_INFRA;

        r = report_render(rep, format, &text);
        if (r < 0)
                return log_error_errno(r, "cannot render the report: %s", strerror(-r)), EXIT_INFRA;

        if (!output || streq(output, "-")) {
                fputs(text, stdout);
                if (fflush(stdout) != 0)
                        return log_error("cannot write the report to standard output: %m"), EXIT_INFRA;
                return EXIT_OK;
        }
        r = write_atomic(output, text);
        if (r < 0)
                return log_error_errno(r, "cannot write %s: %s", output, strerror(-r)), EXIT_INFRA;
        return EXIT_OK;
}
