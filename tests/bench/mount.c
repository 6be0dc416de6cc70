/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mount case's fixture: an ext4 image on a loop device of the bench's own
 * (never one of the host's), a block node for it that the client's root
 * (100000) owns, as a runtime gives a container one, and the mount point.
 * Called from the bench's only thread.
 */
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "bench.h"

#define IMAGE_MIB 16

/* Attach @image to a free loop device; its number, or a negative errno. */
static int loop_attach(const char *image)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int img = open(image, O_RDWR | O_CLOEXEC);
	char dev[32];
	int nr;

	if (ctl < 0 || img < 0)
		return NEG_ERRNO();
	for (int attempt = 0; attempt < 8; attempt++) {
		_cleanup_close_ int fd = -EBADF;

		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			return NEG_ERRNO();
		(void)snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return NEG_ERRNO();
		/* another tool may take the same free device: then try the next one */
		if (ioctl(fd, LOOP_SET_FD, img) == 0)
			return nr; /* detached by mount_fixture_cleanup() */
		if (errno != EBUSY)
			return NEG_ERRNO();
	}
	return -EBUSY;
}

int mount_fixture_setup(const char *dir, struct mount_fixture *ret, char *why, size_t why_size)
{
	char image[300], cmd[700];
	int r;

	*ret = (struct mount_fixture){ .loop_nr = -1 };
	(void)snprintf(image, sizeof(image), "%s/ext4.img", dir);
	(void)snprintf(cmd, sizeof(cmd), "truncate -s %dM '%s' && mkfs.ext4 -q '%s'", IMAGE_MIB,
		       image, image);
	if (system(cmd) != 0) {
		(void)snprintf(why, why_size, "cannot make an ext4 image (mkfs.ext4)");
		return -EIO;
	}
	ret->loop_nr = loop_attach(image);
	if (ret->loop_nr < 0) {
		r = ret->loop_nr;
		(void)snprintf(why, why_size, "no loop device: %s", strerror(-r));
		return r;
	}
	(void)snprintf(ret->source, sizeof(ret->source), "%s/blk", dir);
	(void)snprintf(ret->target, sizeof(ret->target), "%s/mnt", dir);
	r = mknod(ret->source, S_IFBLK | 0600, makedev(7, (unsigned)ret->loop_nr)) < 0 ||
			    chown(ret->source, 100000, 100000) < 0 || mkdir(ret->target, 0755) < 0 ||
			    chown(ret->target, 100000, 100000) < 0
		    ? NEG_ERRNO()
		    : 0;
	if (r < 0)
		(void)snprintf(why, why_size, "cannot make the device node: %s", strerror(-r));
	return r;
}

void mount_fixture_cleanup(struct mount_fixture *f)
{
	char dev[32];
	int fd;

	if (f->loop_nr < 0)
		return;
	(void)snprintf(dev, sizeof(dev), "/dev/loop%d", f->loop_nr);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		(void)ioctl(fd, LOOP_CLR_FD, 0);
		close(fd);
	}
	f->loop_nr = -1;
}
