/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/*
 * Bind and listen on a unix socket at @path with @type (SOCK_STREAM or
 * SOCK_SEQPACKET), then give the file @mode and, if @gid is not (gid_t)-1,
 * that group. A stale socket file is replaced; a path held by a live listener
 * fails with -EADDRINUSE. Returns the listening fd (CLOEXEC, NONBLOCK).
 */
int socket_listen_unix(const char *path, int type, mode_t mode, gid_t gid);

/* Create @path and any missing parents with @mode (like mkdir -p). */
int mkdir_parents(const char *path, mode_t mode);
