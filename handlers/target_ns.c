/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Namespace identities for the handlers: a namespace is named by its nsfs
 * inode. Owns the daemon's own user and pid namespaces (looked up once: a
 * multi-threaded process can change neither, and setns/unshare of a pid
 * namespace only move its future children), reading a task's namespace from
 * the text of its /proc ns link, getting a pinned task's namespaces through
 * its pidfd, walking a namespace's ancestors, and translating a pid seen in a
 * task's pid namespace to ours.
 *
 * Called from worker threads; no locks beyond pthread_once, no allocation.
 */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "daemon/macro.h"
#include "handlers/target.h"

#ifndef PIDFS_IOCTL_MAGIC
#define PIDFS_IOCTL_MAGIC 0xFF
#endif
#ifndef PIDFD_GET_PID_NAMESPACE
#define PIDFD_GET_PID_NAMESPACE _IO(PIDFS_IOCTL_MAGIC, 5)
#endif
#ifndef PIDFD_GET_USER_NAMESPACE
#define PIDFD_GET_USER_NAMESPACE _IO(PIDFS_IOCTL_MAGIC, 9)
#endif
#ifndef NS_GET_PID_FROM_PIDNS
#define NS_GET_PID_FROM_PIDNS _IOR(NSIO, 0x6, int)
#endif

/* Nesting is bounded by the kernel (32 levels of user and of pid namespaces). */
#define NS_DEPTH_MAX 40

static const char *const ns_names[] = { [TARGET_NS_USER] = "user", [TARGET_NS_PID] = "pid" };
static const unsigned long pidfd_ns_ioctls[] = {
	[TARGET_NS_USER] = PIDFD_GET_USER_NAMESPACE,
	[TARGET_NS_PID] = PIDFD_GET_PID_NAMESPACE,
};

int ns_ident_at(int dfd, const char *path, struct ns_ident *ret)
{
	struct stat st;

	if (fstatat(dfd, path, &st, *path ? 0 : AT_EMPTY_PATH) < 0)
		return negative_errno();
	*ret = (struct ns_ident){ .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

static pthread_once_t own_once = PTHREAD_ONCE_INIT;
static struct ns_ident own_ns[2];
static int own_r[2];

static void own_lookup(void)
{
	own_r[TARGET_NS_USER] = ns_ident_at(AT_FDCWD, "/proc/self/ns/user", &own_ns[TARGET_NS_USER]);
	own_r[TARGET_NS_PID] = ns_ident_at(AT_FDCWD, "/proc/self/ns/pid", &own_ns[TARGET_NS_PID]);
}

int target_own_ns(enum target_ns_type type, struct ns_ident *ret)
{
	(void)pthread_once(&own_once, own_lookup);
	if (own_r[type] < 0)
		return own_r[type];
	*ret = own_ns[type];
	return 0;
}

int target_ns_link_inode(const char *link, const char *type, uint64_t *ret_ino)
{
	size_t n = strlen(type);
	unsigned long long ino;
	char *end;

	if (strncmp(link, type, n) != 0 || strncmp(link + n, ":[", 2) != 0)
		return -EINVAL;
	link += n + 2;
	if (*link < '0' || *link > '9')
		return -EINVAL;
	errno = 0;
	ino = strtoull(link, &end, 10);
	if (errno || strcmp(end, "]") != 0)
		return -EINVAL;
	*ret_ino = ino;
	return 0;
}

/*
 * Following the link would allocate a dentry and an inode on nsfs on every
 * call. The text names the inode; every namespace lives on the one nsfs
 * superblock, whose device our own namespace's inode tells.
 */
static int ns_of_link(int dfd, const char *name, enum target_ns_type type, struct ns_ident *ret)
{
	struct ns_ident ours;
	char link[64];
	uint64_t ino;
	ssize_t n;
	int r;

	r = target_own_ns(type, &ours);
	if (r < 0)
		return r;
	n = readlinkat(dfd, name, link, sizeof(link) - 1);
	if (n < 0)
		return negative_errno();
	link[n] = '\0';
	if (target_ns_link_inode(link, ns_names[type], &ino) < 0)
		return -EIO;
	*ret = (struct ns_ident){ .dev = ours.dev, .ino = (ino_t)ino };
	return 0;
}

int target_ns_of(int proc_dfd, enum target_ns_type type, struct ns_ident *ret)
{
	char name[16];

	(void)snprintf(name, sizeof(name), "ns/%s", ns_names[type]);
	return ns_of_link(proc_dfd, name, type, ret);
}

int target_ns_of_pid(pid_t pid, enum target_ns_type type, struct ns_ident *ret)
{
	char path[48];

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_names[type]);
	return ns_of_link(AT_FDCWD, path, type, ret);
}

int target_ns_within(int ns_fd, const struct ns_ident *ancestor)
{
	/* only the parents are ours: @ns_fd itself is looked at as it is, no copy made */
	_cleanup_close_ int parent_fd = -EBADF;
	int fd = ns_fd;

	for (int depth = 0; depth < NS_DEPTH_MAX; depth++) {
		struct ns_ident id;
		int parent, r = ns_ident_at(fd, "", &id);

		if (r < 0)
			return r;
		if (ns_ident_equal(&id, ancestor))
			return 1;
		/* EPERM: no parent (the initial namespace) or one outside ours */
		parent = ioctl(fd, NS_GET_PARENT);
		if (parent < 0)
			return errno == EPERM ? 0 : negative_errno();
		if (parent_fd >= 0)
			(void)close_nointr(parent_fd);
		fd = parent_fd = parent;
	}
	return 0;
}

/*
 * By tid, then the pidfd proves the tid still named its task when it was
 * opened: kernels without the pidfd ioctls, and zombies (an exited task has
 * no namespaces for the ioctls, but its /proc/PID/ns links still answer from
 * its credentials and pid until it is reaped).
 */
static int ns_by_tid(int pidfd, pid_t pid, enum target_ns_type type)
{
	_cleanup_close_ int fd = -EBADF;
	char path[48];

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_names[type]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	return TAKE_FD(fd);
}

int target_pidfd_ns(int pidfd, pid_t pid, enum target_ns_type type)
{
	int fd = ioctl(pidfd, pidfd_ns_ioctls[type], 0);

	if (fd >= 0)
		return fd;
	if (errno == ENOTTY || errno == EINVAL || errno == ESRCH)
		return ns_by_tid(pidfd, pid, type);
	return negative_errno();
}

int target_pid_from_ns(int proc_dfd, pid_t pid, pid_t *ret_host_pid)
{
	_cleanup_close_ int ns_fd = openat(proc_dfd, "ns/pid", O_RDONLY | O_CLOEXEC);
	int r;

	if (ns_fd < 0)
		return negative_errno();
	/* the kernel's own lookup: @pid in that namespace (or below), as seen from ours */
	r = ioctl(ns_fd, NS_GET_PID_FROM_PIDNS, pid);
	if (r < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : negative_errno();
	if (r == 0)
		return -ESRCH; /* visible there but not from our namespace */
	*ret_host_pid = r;
	return 0;
}
