/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

struct daemon;

#define SERVICE_STATUS_MAX 256

/*
 * The service's one-line status for systemd (STATUS=, shown by systemctl
 * status): "N containers, L listeners (X lxc, Y oci)". Counts the registry
 * under each container's lock in turn. Any thread; returns @buf.
 */
char *service_status_format(struct daemon *d, char *buf, size_t size);

/*
 * Tell systemd READY=1 with the status, once every socket listens and the
 * state is loaded; the status sent goes into @last_status. A no-op without
 * $NOTIFY_SOCKET. Main thread.
 */
void service_notify_ready(struct daemon *d, char last_status[static SERVICE_STATUS_MAX]);

/*
 * Send STATUS= when it differs from @last_status (then updated). Cheap enough
 * for a timer. Main thread.
 */
void service_notify_status(struct daemon *d, char last_status[static SERVICE_STATUS_MAX]);

/* Tell systemd STOPPING=1: the daemon is shutting down. Main thread. */
void service_notify_stopping(void);
