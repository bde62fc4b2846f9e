/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib-floor.c — the resident memory of a process that only loads and initialises the
 * libraries droverd needs (libcurl, libssh2, SQLite, libsystemd's sd-event), doing
 * nothing else: the floor under droverd's VmRSS on this distribution. Printed by
 * bench/droverd-memory.sh next to droverd's own figures. Not a test.
 */
#include <curl/curl.h>
#include <libssh2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

int main(void)
{
        sd_event *e = NULL;
        char line[256];
        FILE *f;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || libssh2_init(0) != 0 ||
            sqlite3_initialize() != SQLITE_OK || sd_event_default(&e) < 0)
                return 1;
        f = fopen("/proc/self/status", "re");
        if (!f)
                return 1;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "VmRSS:", 6) == 0 || strncmp(line, "RssAnon:", 8) == 0 ||
                    strncmp(line, "RssFile:", 8) == 0)
                        fputs(line, stdout);
        fclose(f);
        sd_event_unref(e);
        libssh2_exit();
        curl_global_cleanup();
        return 0;
}
