/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * A FUSE file system whose server (a child process) answers all that mapping
 * its one file needs, but never a READ: whoever faults the file's page in from
 * outside (the daemon reading a caller's argument) waits in the kernel, and
 * once a fatal signal has come, even SIGKILL cannot end that wait until the
 * server answers or goes away. What a container's own FUSE mount can do.
 */
struct fuse_peer {
	pid_t pid;     /* the server */
	int reads;     /* a byte arrives here for each READ the server holds */
	char dir[64];  /* the mount point */
	char file[80]; /* its one file, one page long */
	int ns_fd;     /* the mount namespace it is mounted in when not the starter's own, or < 0 */
};

/*
 * Mount and serve, in a mount namespace of the calling process's own (which
 * children forked afterwards share). Returns 0, or a negative errno when FUSE
 * is unavailable. Fork nothing in another thread meanwhile: a child holding
 * /dev/fuse would keep the connection alive after the server dies.
 */
int fuse_peer_start(struct fuse_peer *f);
/*
 * The same, mounted in mount namespace @mntns_fd (the daemon's, or the host's:
 * where lxcfs is), which the calling process joins. It must be
 * single-threaded.
 */
int fuse_peer_start_in(struct fuse_peer *f, int mntns_fd);
/* Whether a READ arrived within @ms. */
bool fuse_peer_wait_read(struct fuse_peer *f, int ms);
/*
 * Kill the server (the connection aborts: every waiter gets an error) and
 * unmount, in the namespace it was mounted in (the calling process stays there).
 */
void fuse_peer_stop(struct fuse_peer *f);
