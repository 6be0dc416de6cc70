/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

/*
 * The parts of systemd a Type=notify, socket-activated service meets, for
 * tests without systemd as pid 1: a $NOTIFY_SOCKET receiver, and listening
 * sockets handed to the daemon at fd 3.. with LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES, as a socket unit does.
 */

/* Bind a datagram socket at @path to receive notifications. Returns the fd (asserts). */
int fake_notify_open(const char *path);

/*
 * The next notification into @buf (NUL-terminated; fds it carried are closed).
 * Returns its length, or -ETIMEDOUT after @timeout_ms.
 */
ssize_t fake_notify_recv(int sock, char *buf, size_t size, int timeout_ms);

/*
 * Receive notifications until one contains @needle (e.g. "READY=1") or
 * @timeout_ms passes. Returns 0 with that message in @buf, or -ETIMEDOUT.
 */
int fake_notify_wait_for(int sock, const char *needle, char *buf, size_t size, int timeout_ms);

/* A listening unix socket of @type at @path with @mode, as a socket unit makes it (asserts). */
int fake_socket_unit(const char *path, int type, mode_t mode);

/* What the daemon the harness starts next gets; a field left NULL takes its default. */
struct fake_activation {
	const int *fds; /* placed at 3, 4, ... */
	size_t n_fds;
	const char *listen_pid;     /* default: the daemon's own pid */
	const char *listen_fds;     /* default: n_fds */
	const char *listen_fdnames; /* default: unset */
};

/*
 * Make the next harness_spawn()/harness_start() of @h pass @a (which must stay
 * valid until then); fake_activation_clear() stops it.
 */
void fake_activation_set(struct harness *h, struct fake_activation *a);
void fake_activation_clear(struct harness *h);

/* Does the daemon's log contain @needle? */
bool log_has(const struct harness *h, const char *needle);

/* Wait up to @timeout_ms for @needle in the daemon's log (a line written after the API answers). */
bool log_wait(const struct harness *h, const char *needle, int timeout_ms);

/* Empty the daemon's log (before a start whose lines a test looks for). */
void log_clear(const struct harness *h);
