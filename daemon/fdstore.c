/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systemd file descriptor store, spoken directly (no libsystemd): one
 * datagram per stored listener to $NOTIFY_SOCKET (sdnotify.c), and the
 * LISTEN_FDS convention at startup, which also brings the socket units'
 * sockets. Called from the main thread (take, which logs what it refuses) and
 * the intake thread (push).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fdstore.h"
#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/sdnotify.h"

#define PROFILE_SEPARATOR "+"
#define OCI_PREFIX "oci."
#define LISTEN_FDS_START 3
#define LISTEN_FDS_MAX 65536

int fdstore_oci_format(const struct fdstore_oci *o, char buf[static FDSTORE_NAME_MAX + 1])
{
	int n;

	/* 0: unknown (crun 1.8 hands over an exec's listener with "pid": 0) */
	if (o->pid < 0 || o->init_pid < 0 || !container_name_valid(o->name) ||
	    (o->profile[0] && !container_name_valid(o->profile)))
		return -EINVAL;
	n = snprintf(buf, FDSTORE_NAME_MAX + 1, OCI_PREFIX "%d.%d.%s%s%s", (int)o->pid,
		     (int)o->init_pid, o->name, o->profile[0] ? PROFILE_SEPARATOR : "", o->profile);
	return n > 0 && n <= FDSTORE_NAME_MAX ? 0 : -EINVAL;
}

/* A decimal pid (0 = unknown, no leading zeros) up to the next '.'; advances *p past it. */
static int parse_pid_field(const char **p, pid_t *ret)
{
	char *end;
	long v;

	if (**p < '0' || **p > '9' || ((*p)[0] == '0' && (*p)[1] != '.'))
		return -EINVAL;
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || *end != '.' || v < 0 || v > INT_MAX)
		return -EINVAL;
	*ret = (pid_t)v;
	*p = end + 1;
	return 0;
}

int fdstore_oci_parse(const char *fdname, struct fdstore_oci *ret)
{
	struct fdstore_oci o = {};
	const char *p = fdname, *sep;

	if (strncmp(p, OCI_PREFIX, strlen(OCI_PREFIX)) != 0)
		return -EINVAL;
	p += strlen(OCI_PREFIX);
	if (parse_pid_field(&p, &o.pid) < 0 || parse_pid_field(&p, &o.init_pid) < 0)
		return -EINVAL;
	/* "NAME" or "NAME+PROFILE": '+' is in neither */
	sep = strchr(p, PROFILE_SEPARATOR[0]);
	if (sep && (!container_name_valid(sep + 1) || (size_t)(sep - p) > CONTAINER_NAME_MAX))
		return -EINVAL;
	if (sep) {
		strcpy(o.profile, sep + 1);
		memcpy(o.name, p, (size_t)(sep - p));
	} else if (strlen(p) <= CONTAINER_NAME_MAX) {
		strcpy(o.name, p);
	}
	if (!container_name_valid(o.name))
		return -EINVAL;
	*ret = o;
	return 0;
}

bool fdstore_available(void)
{
	return notify_socket_available();
}

int fdstore_push(const char *fdname, int fd)
{
	char text[FDSTORE_NAME_MAX + 32];

	snprintf(text, sizeof(text), "FDSTORE=1\nFDNAME=%s", fdname);
	return notify_socket_send(text, fd);
}

/* $@name as a plain decimal in [0, @max]: digits only, no sign, space or leading zero. */
static int env_decimal(const char *name, long max, long *ret)
{
	const char *e = getenv(name);
	char *end;
	long v;

	if (!e)
		return -ENOENT;
	if (e[0] < '0' || e[0] > '9' || (e[0] == '0' && e[1]))
		return -EINVAL;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A name systemd could have sent (FileDescriptorName=, FDNAME=): printable, no ':'. */
static bool fdname_valid(const char *s, size_t len)
{
	if (len == 0 || len > FDSTORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':')
			return false;
	return true;
}

/* Split LISTEN_FDNAMES over @fds; a missing or malformed name is left "". The count. */
static size_t split_names(const char *names, struct fdstore_fd *fds, size_t n)
{
	const char *p = names;
	size_t i;

	for (i = 0; p && *p; i++) {
		size_t len = strcspn(p, ":");

		if (i < n && fdname_valid(p, len)) {
			memcpy(fds[i].name, p, len);
			fds[i].name[len] = '\0';
		}
		p = p[len] ? p + len + 1 : NULL;
	}
	return i;
}

/* Fill @fds (@n slots) with the open fds among 3..3+@n-1 and their names. Returns how many. */
static size_t collect_fds(long n, const char *names, struct fdstore_fd *fds)
{
	size_t n_names = names ? split_names(names, fds, (size_t)n) : 0, n_open = 0;

	if (names && n_names != (size_t)n)
		log_warning("LISTEN_FDNAMES names %zu fds, LISTEN_FDS passes %ld: the unnamed ones "
			    "will be closed", n_names, n);
	for (long i = 0; i < n; i++) {
		int fd = LISTEN_FDS_START + (int)i;

		/* fds the variables promise but the process does not hold are not ours */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			continue;
		fds[n_open] = fds[i]; /* n_open <= i: moves a name down, never over a later one */
		fds[n_open++].fd = fd;
	}
	if (n_open != (size_t)n)
		log_warning("LISTEN_FDS=%ld, but only %zu of fds %d..%ld are open: taking those",
			    n, n_open, LISTEN_FDS_START, LISTEN_FDS_START + n - 1);
	return n_open;
}

static void unset_listen_env(void)
{
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}

/* The fd count systemd passed to this process; 0 when the variables are absent or not ours. */
static long listen_fds_count(void)
{
	const char *pid_text = getenv("LISTEN_PID"), *fds_text = getenv("LISTEN_FDS");
	long pid, n;

	if (!pid_text && !fds_text)
		return 0;
	if (env_decimal("LISTEN_PID", INT_MAX, &pid) < 0 || pid != getpid()) {
		/* meant for another process (an inherited environment): its fds are not ours */
		log_warning("Ignoring LISTEN_FDS: LISTEN_PID='%s' is not this process (%d)",
			    strempty(pid_text), (int)getpid());
		return 0;
	}
	if (env_decimal("LISTEN_FDS", LISTEN_FDS_MAX, &n) < 0) {
		log_error("Ignoring invalid LISTEN_FDS='%s': expected 0-%d", strempty(fds_text),
			  LISTEN_FDS_MAX);
		return 0;
	}
	return n;
}

int fdstore_take(struct fdstore_fd **ret_fds, size_t *ret_n)
{
	long n = listen_fds_count();
	struct fdstore_fd *fds = NULL;
	size_t n_open = 0;

	if (n > 0) {
		fds = calloc((size_t)n, sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		n_open = collect_fds(n, getenv("LISTEN_FDNAMES"), fds);
	}
	if (n_open == 0) {
		free(fds);
		fds = NULL;
	}
	unset_listen_env();
	*ret_fds = fds;
	*ret_n = n_open;
	return 0;
}
