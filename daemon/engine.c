/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder engine: keeps the intake sockets open until the real one lands. */
#include "daemon/engine.h"
#include "daemon/macro.h"

static int lxc_fd = -EBADF, oci_fd = -EBADF;

int engine_start(struct daemon *d, int lxc_listen_fd, int oci_listen_fd)
{
	(void)d;
	lxc_fd = lxc_listen_fd;
	oci_fd = oci_listen_fd;
	return 0;
}

void engine_stop(struct daemon *d)
{
	(void)d;
	close_nointr(lxc_fd);
	close_nointr(oci_fd);
}
