/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/daemon.h"

/*
 * Start the notification engine: the worker pool and the LXC and OCI intake
 * sockets. Takes ownership of both listening fds (bound and listening).
 * Called once from the main thread after the registry is loaded.
 */
int engine_start(struct daemon *d, int lxc_listen_fd, int oci_listen_fd);

/*
 * Stop intake and workers, answer what is in flight, close every listener.
 * Sets d->workers_left_behind when workers stuck in a caller's memory could
 * not be joined: their memory is then kept, and the process must exit
 * without further cleanup.
 */
void engine_stop(struct daemon *d);
