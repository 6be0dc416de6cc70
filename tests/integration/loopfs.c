/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A freezable ext4 on a loop device (see loopfs.h). The guard is a forked
 * child reading commands from a pipe: "t" + a uint32_t delay in ms schedules a
 * thaw; "q", or EOF (the parent is dead), thaws, unmounts, detaches and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopfs.h"

static int fs_ioctl(const char *mount, unsigned long req)
{
	int fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, 0) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

static void detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)ioctl(fd, LOOP_CLR_FD, 0);
		(void)close(fd);
	}
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The guard's life: timed thaws until EOF, then everything undone. */
static void guard_main(const struct loopfs *l, int fd)
{
	long long thaw_at = -1;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long now = mono_ms();
		int timeout = thaw_at < 0 ? -1 : thaw_at > now ? (int)(thaw_at - now) : 0;
		uint32_t ms;
		char cmd;

		if (poll(&p, 1, timeout) == 0) {
			(void)fs_ioctl(l->mount, FITHAW);
			thaw_at = -1;
			continue;
		}
		if (read(fd, &cmd, 1) != 1 || cmd == 'q')
			break;
		if (cmd == 't' && read(fd, &ms, sizeof(ms)) == sizeof(ms))
			thaw_at = mono_ms() + ms;
	}
	(void)fs_ioctl(l->mount, FITHAW);
	/* lazily: a daemon being stopped may still hold a file there */
	(void)umount2(l->mount, MNT_DETACH);
	detach(l->dev);
	(void)unlink(l->image);
	_exit(0);
}

static int start_guard(struct loopfs *l)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	l->guard = fork();
	if (l->guard < 0) {
		int r = -errno;

		(void)close(p[0]);
		(void)close(p[1]);
		return r;
	}
	if (l->guard == 0) {
		(void)close(p[1]);
		guard_main(l, p[0]);
	}
	(void)close(p[0]);
	l->guard_fd = p[1];
	return 0;
}

static int run_mkfs(const char *image)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0) {
			(void)dup2(null, STDOUT_FILENO);
			(void)dup2(null, STDERR_FILENO);
		}
		execlp("mkfs.ext4", "mkfs.ext4", "-q", "-F", "-E", "nodiscard", image, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -EOPNOTSUPP;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Attach @image to a free loop device; other users may race us for it. */
static int attach(struct loopfs *l)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), img, r = -EBUSY;

	if (ctl < 0)
		return -EOPNOTSUPP;
	img = open(l->image, O_RDWR | O_CLOEXEC);
	for (int tries = 0; img >= 0 && r == -EBUSY && tries < 10; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE), dev;

		if (n < 0) {
			r = -EOPNOTSUPP;
			break;
		}
		(void)snprintf(l->dev, sizeof(l->dev), "/dev/loop%d", n);
		dev = open(l->dev, O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			r = -EOPNOTSUPP;
			break;
		}
		r = ioctl(dev, LOOP_SET_FD, img) < 0 ? -errno : 0;
		(void)close(dev);
	}
	if (img < 0)
		r = -errno;
	else
		(void)close(img);
	(void)close(ctl);
	return r;
}

static int make_image(const char *image, unsigned size_mib)
{
	int fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size_mib << 20) < 0)
		r = -errno;
	(void)close(fd);
	return r < 0 ? r : run_mkfs(image);
}

int loopfs_setup(struct loopfs *l, const char *image, const char *mount_dir, unsigned size_mib,
		 char *why, size_t why_len)
{
	int r;

	*l = (struct loopfs){ .guard = -1, .guard_fd = -1 };
	(void)snprintf(l->image, sizeof(l->image), "%s", image);
	(void)snprintf(l->mount, sizeof(l->mount), "%s", mount_dir);
	if (geteuid() != 0) {
		(void)snprintf(why, why_len, "needs root (loop devices, mount, FIFREEZE)");
		return -EOPNOTSUPP;
	}
	r = make_image(image, size_mib);
	if (r == -EOPNOTSUPP)
		(void)snprintf(why, why_len, "mkfs.ext4 is not installed (e2fsprogs)");
	if (r >= 0) {
		r = attach(l);
		if (r == -EOPNOTSUPP)
			(void)snprintf(why, why_len, "no loop device available (/dev/loop-control)");
	}
	if (r >= 0 && (mkdir(mount_dir, 0755) < 0 && errno != EEXIST))
		r = -errno;
	if (r >= 0 && mount(l->dev, mount_dir, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
		r = -errno;
	if (r >= 0)
		r = start_guard(l);
	if (r < 0) {
		(void)umount2(mount_dir, MNT_DETACH);
		if (l->dev[0])
			detach(l->dev);
		(void)unlink(image);
		if (r != -EOPNOTSUPP)
			(void)snprintf(why, why_len, "cannot set up a loop-mounted ext4: %s",
				       strerror(-r));
	}
	return r;
}

int loopfs_freeze(struct loopfs *l)
{
	return fs_ioctl(l->mount, FIFREEZE);
}

int loopfs_thaw(struct loopfs *l)
{
	return fs_ioctl(l->mount, FITHAW);
}

int loopfs_thaw_later(struct loopfs *l, unsigned ms)
{
	char msg[1 + sizeof(uint32_t)] = { 't' };
	uint32_t v = ms;

	memcpy(msg + 1, &v, sizeof(v));
	return write(l->guard_fd, msg, sizeof(msg)) == (ssize_t)sizeof(msg) ? 0 : -EIO;
}

void loopfs_teardown(struct loopfs *l)
{
	/* say so rather than close: a forked child may hold a copy of our end */
	if (l->guard_fd >= 0) {
		(void)!write(l->guard_fd, "q", 1);
		(void)close(l->guard_fd);
	}
	l->guard_fd = -1;
	if (l->guard > 0)
		while (waitpid(l->guard, NULL, 0) < 0 && errno == EINTR)
			;
	l->guard = -1;
}
