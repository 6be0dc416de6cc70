/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leveled logging to stderr (or a file given with --log-file), as text with a
 * syslog "<N>" prefix that journald understands, or as one JSON object per line
 * (--log-format json) for log shippers. Any thread may log; each line is one
 * write() so lines never interleave, and its message is escaped (escape.h) so
 * that text from a peer can never end the line or start a forged one. The
 * level and the file are changed only by the main thread, and read with
 * relaxed atomics.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon/escape.h"
#include "daemon/log.h"

/* One line, prefix and newline included; longer messages are cut. */
#define LOG_LINE_MAX 2048

static _Atomic int current_level = LOG_LEVEL_INFO;
static _Atomic int current_format = LOG_FORMAT_TEXT;
static _Atomic int log_fd = STDERR_FILENO;
static char *log_path; /* owned, main thread only */

int log_level_from_string(const char *s)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "error", LOG_LEVEL_ERROR }, { "err", LOG_LEVEL_ERROR },
		{ "warning", LOG_LEVEL_WARNING }, { "warn", LOG_LEVEL_WARNING },
		{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; s && i < ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].level;
	return -EINVAL;
}

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&current_level, level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return atomic_load_explicit(&current_level, memory_order_relaxed);
}

int log_format_from_string(const char *s)
{
	if (s && strcmp(s, "text") == 0)
		return LOG_FORMAT_TEXT;
	if (s && strcmp(s, "json") == 0)
		return LOG_FORMAT_JSON;
	return -EINVAL;
}

void log_set_format(enum log_format format)
{
	atomic_store_explicit(&current_format, format, memory_order_relaxed);
}

static int open_log_path(const char *path)
{
	return RET_NERRNO(open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640));
}

int log_open_file(const char *path)
{
	char *copy;
	int fd;

	if (!path)
		return 0;
	fd = open_log_path(path);
	if (fd < 0)
		return fd;
	copy = strdup(path);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	free(log_path);
	log_path = copy;
	atomic_store(&log_fd, fd);
	return 0;
}

int log_reopen(void)
{
	int fd, old;

	if (!log_path)
		return 0;
	fd = open_log_path(log_path);
	if (fd < 0)
		return fd;
	/* dup2 keeps the number stable so a concurrent writer never sees a closed fd */
	old = atomic_load(&log_fd);
	if (dup2(fd, old) < 0) {
		int r = negative_errno();

		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

/* "2026-11-28T10:00:00Z" or, with @with_micros, "2026-11-28T10:00:00.123456Z". */
static size_t format_time(char *buf, size_t size, bool with_micros)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_micros)
		return n + (size_t)snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
	return n + (size_t)snprintf(buf + n, size - n, "Z");
}

/*
 * Format the message into @msg (LOG_LINE_MAX bytes) and return its length; a
 * message cut to fit does not end in half a character.
 */
static size_t format_message(char *msg, const char *fmt, va_list ap) _printf_(2, 0);
static size_t format_message(char *msg, const char *fmt, va_list ap)
{
	int k = vsnprintf(msg, LOG_LINE_MAX, fmt, ap);
	size_t len = k < 0 ? 0 : (size_t)k;

	if (len >= LOG_LINE_MAX)
		len = escape_utf8_boundary(msg, LOG_LINE_MAX - 1);
	return len;
}

/*
 * "<N>" (and the time, in a file), then @msg with control characters and
 * invalid UTF-8 escaped. Peer-chosen text (a URL, an OCI id, an LXC process
 * title) reaches messages through %s; escaping here, once, covers every
 * message. Lines are short, so the scan costs little next to the write().
 * Returns the length, without the newline that 2 free bytes are left for.
 */
static size_t text_line(char *line, enum log_level level, const char *msg, size_t len)
{
	size_t n = (size_t)snprintf(line, LOG_LINE_MAX, "<%d>", (int)level), room;

	if (log_path) {
		n += format_time(line + n, LOG_LINE_MAX - n, false);
		line[n++] = ' ';
	}
	room = LOG_LINE_MAX - 1 - n;
	if (len < room && escape_is_clean(msg, len)) {
		memcpy(line + n, msg, len);
		return n + len;
	}
	(void)escape_text(line + n, room, msg, len);
	return n + strlen(line + n);
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR: return "error";
	case LOG_LEVEL_WARNING: return "warning";
	case LOG_LEVEL_INFO: return "info";
	default: return "debug";
	}
}

/* What a JSON line keeps free after a field: the message's opening, closing "} and newline. */
#define JSON_TAIL_LEN 32
/* A field value (container, syscall) is cut to this many bytes, escapes included. */
#define JSON_FIELD_MAX 256

/* Append ,"@name":"@value" to the @n bytes of @line, escaped and cut to @max bytes. */
static size_t json_member(char *line, size_t n, const char *name, const char *value, size_t max)
{
	size_t room;

	n += (size_t)snprintf(line + n, LOG_LINE_MAX - n, ",\"%s\":\"", name);
	room = LOG_LINE_MAX - JSON_TAIL_LEN - n;
	(void)escape_json(line + n, max < room ? max : room, value, strlen(value));
	n += strlen(line + n);
	line[n++] = '"';
	return n;
}

/* The JSON object of one line, without its newline (2 bytes are left free for it). */
static size_t json_line(char *line, enum log_level level, const struct log_fields *fields,
			const char *msg, size_t len)
{
	char time[64];
	size_t n, room;

	(void)format_time(time, sizeof(time), true);
	n = (size_t)snprintf(line, LOG_LINE_MAX, "{\"time\":\"%s\",\"level\":\"%s\"", time,
			     level_name(level));
	if (fields && fields->container)
		n = json_member(line, n, "container", fields->container, JSON_FIELD_MAX);
	if (fields && fields->syscall)
		n = json_member(line, n, "syscall", fields->syscall, JSON_FIELD_MAX);
	n += (size_t)snprintf(line + n, LOG_LINE_MAX - n, ",\"message\":\"");
	/* the message and escape_json's NUL take room bytes at most; '"', '}' and the newline follow */
	room = LOG_LINE_MAX - 2 - n;
	(void)escape_json(line + n, room, msg, len);
	n += strlen(line + n);
	line[n++] = '"';
	line[n++] = '}';
	return n;
}

static int log_line(enum log_level level, int error, const struct log_fields *fields,
		    const char *fmt, va_list ap) _printf_(4, 0);
static int log_line(enum log_level level, int error, const struct log_fields *fields,
		    const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	int saved = errno;
	size_t len, n;

	if (error < 0)
		error = -error;
	if (error)
		errno = error;
	len = format_message(msg, fmt, ap);
	if (atomic_load_explicit(&current_format, memory_order_relaxed) == LOG_FORMAT_JSON)
		n = json_line(line, level, fields, msg, len);
	else
		n = text_line(line, level, msg, len);
	line[n++] = '\n';
	(void)!write(atomic_load_explicit(&log_fd, memory_order_relaxed), line, n);
	errno = saved;
	return -error;
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_line(level, error, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int log_internal_fields(enum log_level level, int error, const struct log_fields *fields,
			const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_line(level, error, fields, fmt, ap);
	va_end(ap);
	return r;
}
