/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/store/container.h"

/*
 * OCI listeners outlive a daemon restart in systemd's file descriptor store
 * (FDSTORE=1 on $NOTIFY_SOCKET, sent by sdnotify.c; handed back as LISTEN_FDS
 * with LISTEN_FDNAMES). runc and crun pass a listener once: without the store, a
 * restart would leave their containers' trapped syscalls failing with ENOSYS.
 * systemd drops a stored listener by itself when it hangs up (the container
 * is gone). Everything here is a no-op outside systemd.
 */

/*
 * "oci.PID.INITPID.NAME", or "oci.PID.INITPID.NAME+PROFILE" for an ephemeral
 * container (so a restart registers it again): the longest FDNAME systemd
 * accepts is 255.
 */
#define FDSTORE_NAME_MAX 255

struct fdstore_oci {
	pid_t pid;      /* the process that installed the filter; 0 = unknown */
	pid_t init_pid; /* the container's init; 0 = unknown */
	char name[CONTAINER_NAME_MAX + 1];
	char profile[CONTAINER_NAME_MAX + 1]; /* "" unless the container registered itself */
};

/* Format @o as an FDNAME. Returns 0 or -EINVAL (a name systemd would refuse). Pure. */
int fdstore_oci_format(const struct fdstore_oci *o, char buf[static FDSTORE_NAME_MAX + 1]);

/* Parse an FDNAME written by fdstore_oci_format(). Returns 0 or -EINVAL. Pure. */
int fdstore_oci_parse(const char *fdname, struct fdstore_oci *ret);

/* Is there a $NOTIFY_SOCKET to store listeners in? */
bool fdstore_available(void);

/* Store @fd under @fdname. 0 also when there is no $NOTIFY_SOCKET; else a negative errno. */
int fdstore_push(const char *fdname, int fd);

struct fdstore_fd {
	int fd; /* ours, O_CLOEXEC */
	char name[FDSTORE_NAME_MAX + 1];
};

/*
 * Take the fds systemd passed to this process (LISTEN_PID, LISTEN_FDS,
 * LISTEN_FDNAMES): socket units' sockets ("api", "lxc", "oci", which
 * sockets.c claims) and stored listeners ("oci.*", for the engine). Strict:
 * LISTEN_PID must be this process (else the fds are left alone), LISTEN_FDS a
 * plain decimal up to 65536, and only fds that are open are taken; a name
 * that is missing or not one systemd could send is left "". Each taken fd is
 * made close-on-exec; the variables are cleared in every case, and what is
 * refused is logged. Call once, before anything else opens files. *ret_fds is
 * NULL and *ret_n 0 when none were taken; free() it. Returns 0 or -ENOMEM.
 */
int fdstore_take(struct fdstore_fd **ret_fds, size_t *ret_n);
