/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h — logging for the binaries and the engine. Library layers (config,
 * playbook, journal queries) do not log: they return -errno and fill
 * diagnostics. The log level is drover's only mutable global.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "shared/macros.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Logs to stderr as "droverctl: message". Returns -abs(error) when error != 0, so
 * `return log_error_errno(r, "...")` reads naturally. */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);
void log_set_program(const char *name);

/* When stderr is connected to the systemd journal ($JOURNAL_STREAM names stderr's
 * device:inode), prefix each line with "<N>" (its syslog level, as sd-daemon.h's
 * SD_ERR etc.) so the journal records the right priority, and drop the program name
 * (the journal has it). Call once at start; returns whether the prefix is on. */
bool log_detect_journal_stream(void);

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
