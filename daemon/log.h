/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "daemon/macro.h"

/* syslog priorities, so journald can read the "<N>" prefix */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* How a line is written: "<N>message" (journald) or one JSON object. */
enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/*
 * What a line is about, for the JSON format's "container" and "syscall"
 * members; NULL members are left out. The text format does not show them, so
 * a message still names its container itself.
 */
struct log_fields {
	const char *container;
	const char *syscall;
};

/* Parse "error", "warning", "info" or "debug". Returns the level or -EINVAL. */
int log_level_from_string(const char *s);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "text" or "json". Returns the format or -EINVAL. */
int log_format_from_string(const char *s);
/* Main thread, before other threads start logging. */
void log_set_format(enum log_format format);

/*
 * Send log lines to @path (appending) instead of stderr; NULL means stderr.
 * log_reopen() reopens that path, for SIGHUP after log rotation.
 * Both are called from the main thread only.
 */
int log_open_file(const char *path);
int log_reopen(void);

/*
 * Write one line if @level is enabled. When @error is non-zero, errno is set to
 * its absolute value first so that "%m" prints it. Returns -abs(error), or 0.
 * Thread-safe: each line is written with a single write().
 */
int log_internal(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

/*
 * log_internal() for a line about one container and syscall (@fields, may be
 * NULL). In the JSON format: {"time", "level", "container", "syscall",
 * "message"}, with "time" in RFC 3339 UTC with microseconds; every string is
 * escaped as in the text format (escape.h), so a line is valid JSON and valid
 * UTF-8 with no control character, and its "message" decodes to the text
 * format's message.
 */
int log_internal_fields(enum log_level level, int error, const struct log_fields *fields,
			const char *fmt, ...) _printf_(4, 5);

static inline bool log_enabled(enum log_level level)
{
	return level <= log_get_level();
}

#define log_full_errno(level, error, ...)                                                          \
	({                                                                                         \
		int _e = (error);                                                                  \
		log_enabled(level) ? log_internal(level, _e, __VA_ARGS__) : -(_e < 0 ? -_e : _e);  \
	})

/* A line about @container (and @syscall, may be NULL): the worker and dispatch lines. */
#define log_about_errno(level, error, container, syscall, ...)                                     \
	({                                                                                         \
		int _e = (error);                                                                  \
		log_enabled(level) ? log_internal_fields(level, _e,                                \
							 &(struct log_fields){ (container),        \
									       (syscall) },        \
							 __VA_ARGS__)                              \
				   : -(_e < 0 ? -_e : _e);                                         \
	})

#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_LEVEL_INFO, e, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, e, __VA_ARGS__)
