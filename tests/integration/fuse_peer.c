/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FUSE server of fuse_peer.h, spoken by hand over /dev/fuse: the file
 * system is a root directory holding "f", a one-page regular file. Test
 * threads only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/macro.h"
#include "fuse_peer.h"

#define FILE_INO 2

static void reply(int dev, uint64_t unique, int error, const void *body, size_t len)
{
	struct fuse_out_header h = { .len = (uint32_t)(sizeof(h) + len), .error = error,
				     .unique = unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };

	(void)writev(dev, iov, len ? 2 : 1);
}

static struct fuse_attr attr_of(uint64_t ino)
{
	struct fuse_attr a = { .ino = ino, .nlink = 1, .blksize = 4096 };

	if (ino == FILE_INO) {
		a.mode = S_IFREG | 0644;
		a.size = 4096;
		a.blocks = 8;
	} else {
		a.mode = S_IFDIR | 0755;
	}
	return a;
}

/* One request; READs are held (never answered) and reported on @reads. */
static void answer(int dev, int reads, const struct fuse_in_header *in, const char *arg)
{
	switch (in->opcode) {
	case FUSE_INIT: {
		/* no readahead: a fault then reads its page synchronously */
		struct fuse_init_out o = { .major = FUSE_KERNEL_VERSION, .minor = 31,
					   .max_write = 4096, .max_background = 1,
					   .congestion_threshold = 1 };

		reply(dev, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out o = { .nodeid = FILE_INO, .generation = 1,
					    .attr = attr_of(FILE_INO) };

		if (strcmp(arg, "f") == 0)
			reply(dev, in->unique, 0, &o, sizeof(o));
		else
			reply(dev, in->unique, -ENOENT, NULL, 0);
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out o = { .attr = attr_of(in->nodeid) };

		reply(dev, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_OPEN: {
		struct fuse_open_out o = { .fh = 1 };

		reply(dev, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_READ:
		(void)write(reads, "r", 1);
		break;
	case FUSE_INTERRUPT: /* the READ stays held */
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
		break;
	default:
		reply(dev, in->unique, -ENOSYS, NULL, 0);
	}
}

static _Noreturn void serve(int dev, int reads)
{
	static char buf[FUSE_MIN_READ_BUFFER + 4096];

	for (;;) {
		ssize_t n = read(dev, buf, sizeof(buf));

		if (n < 0 && (errno == EINTR || errno == ENOENT))
			continue;
		if (n < (ssize_t)sizeof(struct fuse_in_header))
			_exit(0); /* unmounted */
		buf[n] = '\0';
		answer(dev, reads, (const struct fuse_in_header *)buf,
		       buf + sizeof(struct fuse_in_header));
	}
}

/* Mount and serve in the calling process's mount namespace. */
static int mount_and_serve(struct fuse_peer *f)
{
	char opts[128];
	int dev, pipe_fds[2];

	snprintf(f->dir, sizeof(f->dir), "/tmp/interceptd-fuse-XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0 || pipe2(pipe_fds, O_CLOEXEC) < 0) {
		close_nointr(dev);
		(void)rmdir(f->dir);
		return -ENODEV;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	if (mount("interceptd-test", f->dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0 ||
	    (f->pid = fork()) < 0) {
		close(dev);
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		(void)umount2(f->dir, MNT_DETACH);
		(void)rmdir(f->dir);
		return -ENODEV;
	}
	if (f->pid == 0) {
		close(pipe_fds[0]);
		serve(dev, pipe_fds[1]);
	}
	close(dev); /* the server's copy is the only one: its death aborts the connection */
	close(pipe_fds[1]);
	f->reads = pipe_fds[0];
	snprintf(f->file, sizeof(f->file), "%s/f", f->dir);
	return 0;
}

int fuse_peer_start(struct fuse_peer *f)
{
	*f = (struct fuse_peer){ .reads = -EBADF, .ns_fd = -EBADF };
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	return mount_and_serve(f);
}

int fuse_peer_start_in(struct fuse_peer *f, int mntns_fd)
{
	int r;

	*f = (struct fuse_peer){ .reads = -EBADF, .ns_fd = -EBADF };
	f->ns_fd = fcntl(mntns_fd, F_DUPFD_CLOEXEC, 3);
	if (f->ns_fd < 0 || setns(f->ns_fd, CLONE_NEWNS) < 0)
		return -errno;
	r = mount_and_serve(f);
	if (r < 0) {
		close(f->ns_fd);
		f->ns_fd = -EBADF;
	}
	return r;
}

bool fuse_peer_wait_read(struct fuse_peer *f, int ms)
{
	struct pollfd p = { .fd = f->reads, .events = POLLIN };
	char byte;

	return poll(&p, 1, ms) == 1 && read(f->reads, &byte, 1) == 1;
}

void fuse_peer_stop(struct fuse_peer *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	close_nointr(f->reads);
	if (f->ns_fd >= 0)
		(void)setns(f->ns_fd, CLONE_NEWNS);
	close_nointr(f->ns_fd);
	(void)umount2(f->dir, MNT_DETACH);
	(void)rmdir(f->dir);
	f->pid = 0;
	f->reads = f->ns_fd = -EBADF;
}
