/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/*
 * systemd's notification protocol, spoken by hand (no libsystemd): one
 * datagram of newline-separated KEY=VALUE assignments to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace),
 * optionally carrying one fd. Used for readiness (READY=1, STATUS=,
 * STOPPING=1) and for the fd store (fdstore.h). Everything is a no-op when
 * $NOTIFY_SOCKET is unset. Thread-safe: every call uses its own socket.
 */

/* Is $NOTIFY_SOCKET set to an address we can send to? */
bool notify_socket_available(void);

/*
 * Send @text (e.g. "READY=1\nSTATUS=...") with @fd attached when @fd >= 0.
 * Returns 0, also when there is no $NOTIFY_SOCKET, else a negative errno
 * (-EINVAL: $NOTIFY_SOCKET is malformed).
 */
int notify_socket_send(const char *text, int fd);
