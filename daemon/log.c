/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leveled logging to stderr (or a file given with --log-file) with a syslog
 * "<N>" prefix that journald understands. Any thread may log; each line is one
 * write() so lines never interleave, and its message is escaped (escape.h) so
 * that text from a peer can never end the line or start a forged one. The
 * level and the file are changed only by the main thread, and read with
 * relaxed atomics.
 */
#include <fcntl.h>
#include <stdarg.h>
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

/*
 * Append the formatted message to @line (@n bytes used of LOG_LINE_MAX), with
 * control characters and invalid UTF-8 escaped, and return the new length.
 * Peer-chosen text (a URL, an OCI id, an LXC process title) reaches messages
 * through %s; escaping here, once, covers every message. Lines are short, so
 * the scan costs little next to the write().
 */
static int append_message(char *line, int n, const char *fmt, va_list ap) _printf_(3, 0);
static int append_message(char *line, int n, const char *fmt, va_list ap)
{
	/* 2 bytes of the line stay free for the newline and the NUL */
	size_t room = (size_t)(LOG_LINE_MAX - 1 - n), len;
	char msg[LOG_LINE_MAX];
	int k;

	k = vsnprintf(msg, room, fmt, ap);
	len = k < 0 ? 0 : (size_t)k;
	if (len >= room) /* cut: do not leave half a character at the end */
		len = escape_utf8_boundary(msg, room - 1);
	if (escape_is_clean(msg, len)) {
		memcpy(line + n, msg, len);
		return n + (int)len;
	}
	(void)escape_text(line + n, room, msg, len);
	return n + (int)strlen(line + n);
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno, n;
	va_list ap;

	if (error < 0)
		error = -error;
	if (error)
		errno = error;
	n = snprintf(line, sizeof(line), "<%d>", (int)level);
	if (log_path) {
		struct timespec ts;
		struct tm tm;

		(void)clock_gettime(CLOCK_REALTIME, &ts);
		(void)gmtime_r(&ts.tv_sec, &tm);
		n += (int)strftime(line + n, sizeof(line) - (size_t)n, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	va_start(ap, fmt);
	n = append_message(line, n, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	(void)!write(atomic_load_explicit(&log_fd, memory_order_relaxed), line, (size_t)n);
	errno = saved;
	return -error;
}
