/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct daemon;

/*
 * Bind and listen on a unix socket at @path with @type (SOCK_STREAM or
 * SOCK_SEQPACKET), then give the file @mode and, if @gid is not (gid_t)-1,
 * that group. A stale socket file is replaced; a path held by a live listener
 * fails with -EADDRINUSE. Returns the listening fd (CLOEXEC, NONBLOCK).
 */
int socket_listen_unix(const char *path, int type, mode_t mode, gid_t gid);

/* Create @path and any missing parents with @mode (like mkdir -p). */
int mkdir_parents(const char *path, mode_t mode);

enum daemon_socket {
	DAEMON_SOCKET_API,
	DAEMON_SOCKET_LXC,
	DAEMON_SOCKET_OCI,
	DAEMON_SOCKET_COUNT,
};

/* The listening sockets main hands over to the API server and the engine. */
struct daemon_sockets {
	int fd[DAEMON_SOCKET_COUNT];       /* -EBADF once handed over */
	bool is_bound[DAEMON_SOCKET_COUNT]; /* bound here: its file is removed at exit */
	bool is_passed[DAEMON_SOCKET_COUNT]; /* passed by systemd: left to systemd at exit */
	char *passed_path[DAEMON_SOCKET_COUNT]; /* owned: where a passed one listens */
};

/*
 * Get the API, LXC and OCI sockets: take the ones systemd passed under the
 * names "api", "lxc" and "oci" out of d->stored_fds (socket activation), and
 * bind the others at the configured paths. A passed socket must be a
 * listening AF_UNIX socket of the right type at a path (the intake ones
 * owned by root and writable by nobody else); when its path is not the
 * configured one, it is used and d->opts points at it (until
 * daemon_sockets_close()). Logs why it fails. Main thread, before any other
 * thread starts. Returns 0 or a negative errno; call daemon_sockets_close()
 * either way.
 */
int daemon_sockets_open(struct daemon *d, struct daemon_sockets *s);

/*
 * Close what was not handed over and remove the socket files bound here;
 * sockets systemd passed stay where they are, still listening in systemd.
 * After the threads using d->opts have stopped.
 */
void daemon_sockets_close(struct daemon *d, struct daemon_sockets *s);
