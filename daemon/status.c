/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readiness and status for systemd's Type=notify (READY=1, STATUS=,
 * STOPPING=1) over the hand-written $NOTIFY_SOCKET code in sdnotify.c.
 * Main thread only (it keeps the last status sent); the counts
 * take the registry lock, then each container's lock briefly.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/sdnotify.h"
#include "daemon/status.h"

char *service_status_format(struct daemon *d, char *buf, size_t size)
{
	struct container **list = NULL;
	size_t n = 0, by_source[LISTENER_SOURCE_COUNT] = { 0 };

	if (registry_list(d->registry, &list, &n) < 0) {
		snprintf(buf, size, "%zu containers", registry_count(d->registry));
		return buf;
	}
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&list[i]->lock);
		for (const struct listener *l = list[i]->listeners; l; l = l->next)
			if (l->source < LISTENER_SOURCE_COUNT)
				by_source[l->source]++;
		pthread_mutex_unlock(&list[i]->lock);
	}
	registry_list_free(list, n);
	snprintf(buf, size, "%zu container%s, %zu listener%s (%zu lxc, %zu oci)", n,
		 n == 1 ? "" : "s", by_source[LISTENER_SOURCE_LXC] + by_source[LISTENER_SOURCE_OCI],
		 by_source[LISTENER_SOURCE_LXC] + by_source[LISTENER_SOURCE_OCI] == 1 ? "" : "s",
		 by_source[LISTENER_SOURCE_LXC], by_source[LISTENER_SOURCE_OCI]);
	return buf;
}

static void send_or_warn(const char *text)
{
	int r = notify_socket_send(text, -EBADF);

	if (r < 0)
		log_warning_errno(r, "Cannot notify systemd ('%.*s'), ignoring: %m",
				  (int)strcspn(text, "\n"), text);
}

void service_notify_ready(struct daemon *d, char last_status[static SERVICE_STATUS_MAX])
{
	char text[SERVICE_STATUS_MAX + 32];

	if (!notify_socket_available())
		return;
	service_status_format(d, last_status, SERVICE_STATUS_MAX);
	snprintf(text, sizeof(text), "READY=1\nSTATUS=%s", last_status);
	send_or_warn(text);
}

void service_notify_status(struct daemon *d, char last_status[static SERVICE_STATUS_MAX])
{
	char status[SERVICE_STATUS_MAX], text[SERVICE_STATUS_MAX + 16];

	if (!notify_socket_available())
		return;
	service_status_format(d, status, sizeof(status));
	if (strcmp(status, last_status) == 0)
		return;
	strcpy(last_status, status);
	snprintf(text, sizeof(text), "STATUS=%s", status);
	send_or_warn(text);
}

void service_notify_stopping(void)
{
	if (notify_socket_available())
		send_or_warn("STOPPING=1\nSTATUS=Stopping");
}
