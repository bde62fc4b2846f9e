/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * droverd.c — the daemon's main: options, logging set-up, then the Manager does
 * the rest (manager.c). Started by systemd (units/droverd.service, Type=notify) or
 * by hand/tests with NOTIFY_SOCKET set.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"
#include "daemon/manager.h"
#include "drover/exit-status.h"
#include "shared/log.h"

static void help(FILE *f)
{
        fprintf(f,
                "Usage: droverd [--config FILE] [--db FILE] [--check-config]\n"
                "\n"
                "drover's daemon: watches the sites of the inventory and journals what it does.\n"
                "\n"
                "Options:\n"
                "  -c, --config FILE  inventory (default " CONFIG_DEFAULT_PATH ")\n"
                "      --db FILE      journal (default $" JOURNAL_ENV ", the config's, or " JOURNAL_DEFAULT_PATH
                ")\n"
                "      --check-config validate the inventory and exit (0 valid, 2 invalid); the\n"
                "                     journal is not touched\n"
                "  -v, --verbose      debug logging\n"
                "  -h, --help         this help\n"
                "      --version      print the version\n"
                "\n"
                "Signals: SIGHUP reloads the inventory (an invalid one is refused and the old one\n"
                "kept); SIGTERM and SIGINT stop.\n"
                "Exit status: 0 stopped cleanly, 2 usage or invalid configuration, 3 infrastructure\n"
                "error (journal unusable, no D-Bus API unless dbus.required is false, …).\n");
}

#if DROVER_TEST_HOOKS
/* Test-only (meson -Dtest_hooks=true, never in a default build): SIGUSR2 hangs the event
 * loop for good, as a stuck callback would, so that tests/systemd can prove the watchdog
 * (WatchdogSec=) kills droverd and systemd restarts it. */
static int on_test_hang(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        log_warning("test hook: SIGUSR2, hanging the event loop (no more watchdog pings)");
        for (;;)
                (void) pause();
        return 0;
}

static int test_hooks_install(Manager *m)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR2);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        return sd_event_add_signal(manager_get_event(m), NULL, SIGUSR2, on_test_hang, NULL);
}
#endif

int main(int argc, char **argv)
{
        enum { ARG_DB = 0x100, ARG_CHECK, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "db", required_argument, NULL, ARG_DB },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(bus_freep) Bus *bus = NULL; /* freed before the manager's loop */
        const char *config_path = NULL, *db_path = NULL;
        bool check_only = false;
        int c, r;

        log_set_program("droverd");
        (void) log_detect_journal_stream();

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case ARG_DB:
                        db_path = optarg;
                        break;
                case ARG_CHECK:
                        check_only = true;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help(stdout);
                        return DROVER_EXIT_OK;
                case ARG_VERSION:
                        printf("droverd %s\n", DROVER_VERSION);
                        return DROVER_EXIT_OK;
                default:
                        return DROVER_EXIT_USAGE;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'; see 'droverd --help'", argv[optind]);
                return DROVER_EXIT_USAGE;
        }

        if (check_only) {
                r = manager_check_config(config_path);
                return r == 0 ? DROVER_EXIT_OK : DROVER_EXIT_USAGE;
        }

        /* A peer that goes away (HTTP, the notify socket) must be an error return, not death. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = manager_new(&m, config_path, db_path);
        if (r < 0) {
                log_error_errno(r, "cannot set up the event loop: %s", strerror(-r));
                return DROVER_EXIT_INFRA;
        }
        manager_set_ready_later(m);
        r = manager_startup(m);
        if (r == -EINVAL)
                return DROVER_EXIT_USAGE;
        if (r < 0)
                return DROVER_EXIT_INFRA;

        /* The D-Bus API (src/bus). Commanders have no other way in, so by default droverd
         * refuses to run without it (no bus, or the policy does not let it own its name);
         * `dbus: {required: false}` lets it watch and journal without. A second droverd
         * owning the name is an error either way. */
        r = bus_new(&bus, m, journal_resolve_path(db_path, manager_get_config(m)->journal_path));
        if (r == -EEXIST)
                return DROVER_EXIT_INFRA;
        if (r < 0 && manager_get_config(m)->dbus_required) {
                log_error("exiting: no D-Bus API (%s), and drover.yaml does not say 'dbus: {required: false}'",
                          strerror(-r));
                return DROVER_EXIT_INFRA;
        }
        if (r < 0)
                log_warning("running without the D-Bus API (%s): dbus.required is false", strerror(-r));
        manager_notify_ready(m);

#if DROVER_TEST_HOOKS
        r = test_hooks_install(m);
        if (r < 0)
                log_warning_errno(r, "test hook: cannot watch SIGUSR2: %s", strerror(-r));
#endif
        r = manager_run(m);
        if (r < 0) {
                log_error_errno(r, "event loop failed: %s", strerror(-r));
                return DROVER_EXIT_INFRA;
        }
        log_info("stopped");
        return DROVER_EXIT_OK;
}
