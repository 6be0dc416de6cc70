/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor supervisor of the mount case (floor-mount-notify): the bench's
 * client (a container's init, in a mount namespace its user namespace owns)
 * mounts its ext4 block device; this supervisor makes that mount for it with
 * every step a safe emulation takes, so that what interceptd adds on top of
 * any safe emulation is measured apart from what such an emulation costs:
 *
 *  - the type, source and target read once from the caller's memory;
 *  - /proc/TID, its root and status pinned before ID_VALID (kept between
 *    calls, floor.c); the caller's user namespace, CAP_SYS_ADMIN there and
 *    the owner of its mount namespace, for the decision;
 *  - target and source resolved inside the caller's root (RESOLVE_IN_ROOT,
 *    no magic links) as the caller (its fsuid, fsgid and groups, no
 *    capability), the source checked to be a block device the caller may
 *    open for reading and writing;
 *  - the caller's mount and user namespaces and its cgroups (cgroup2, and
 *    the v1 devices controller on a hybrid host) opened, ID_VALID again;
 *  - a helper created inside the caller's cgroup2 cgroup, joining its v1
 *    devices cgroup (the device cgroup of the task doing the create is what
 *    the kernel checks), that creates the superblock (fsopen,
 *    FSCONFIG_CMD_CREATE_EXCL, fsmount with nodev and nosuid), locks the
 *    mount's flags through a copy of a one-tmpfs staging namespace made from
 *    the caller's user namespace, and moves the locked clone onto the target
 *    from the caller's mount namespace; the helper shares our memory while we
 *    wait (handlers/nsexec.c: the cheapest process a helper can be).
 *
 * What it leaves out is interceptd's: the config read per notification, the
 * data options, mount.shift, the metrics and the engine. It handles the call
 * the bench makes (ext4, no data); anything else is CONTINUE. Runs in the
 * single-threaded floor supervisor (floor.c).
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "floor.h"
#include "handlers/nsexec.h"

#ifndef FSCONFIG_CMD_CREATE_EXCL
#define FSCONFIG_CMD_CREATE_EXCL 8
#endif

#define HELPER_TIMEOUT_MS 3000
#define CGROUP_TEXT_MAX 4096

static struct {
	int v2_fd;      /* the cgroup2 mount */
	int devices_fd; /* the v1 devices mount, or -1 on a cgroup2-only host */
	int stage_fd;   /* the staging mount namespace */
} host = { -1, -1, -1 };

/* What the helper needs; the fds are the supervisor's (the helper gets copies). */
struct mount_job {
	char source[32]; /* "/proc/self/fd/N": the node resolved as the caller */
	int target_fd, mntns_fd, userns_fd, devices_fd;
};

/* In a helper sharing our fd table: a copy of our namespace pivoted onto an empty tmpfs. */
static int build_stage(const void *arg)
{
	long ns = -1, fs = -1, mnt = -1;
	int err = 0;

	if (syscall(SYS_unshare, CLONE_NEWNS) < 0 ||
	    syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    (ns = syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/mnt",
			  O_RDONLY | O_CLOEXEC)) < 0 ||
	    (fs = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC)) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY)) < 0 ||
	    syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    syscall(SYS_fchdir, mnt) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    syscall(SYS_umount2, ".", MNT_DETACH) < 0)
		err = errno;
	if (fs >= 0)
		(void)syscall(SYS_close, fs);
	if (mnt >= 0)
		(void)syscall(SYS_close, mnt);
	if (err && ns >= 0)
		(void)syscall(SYS_close, ns);
	if (!err)
		*(int *)arg = (int)ns;
	return err;
}

int floor_mount_init(void)
{
	struct statfs sfs;
	int r;

	host.v2_fd = open("/sys/fs/cgroup/unified", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (host.v2_fd < 0 || fstatfs(host.v2_fd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (host.v2_fd >= 0)
			close(host.v2_fd);
		host.v2_fd = open("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	host.devices_fd = open("/sys/fs/cgroup/devices", O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = nsexec_run_sharing_fds(build_stage, &host.stage_fd, HELPER_TIMEOUT_MS);
	return host.v2_fd < 0 ? -ENOENT : r;
}

/* The cgroup @path (from /proc/TID/cgroup) below the mount @mnt_fd, never outside it. */
static int open_cgroup(int mnt_fd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_DIRECTORY | O_CLOEXEC),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };

	return (int)syscall(SYS_openat2, mnt_fd, path[1] ? path + 1 : ".", &how, sizeof(how));
}

/* The caller's cgroup2 directory and v1 devices directory (or -1 where there is none). */
static int open_cgroups(int proc, int *ret_v2, int *ret_devices)
{
	char text[CGROUP_TEXT_MAX], *save = NULL;
	int fd = openat(proc, "cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -ESRCH;
	text[n] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *path = strchr(strchr(l, ':') ? strchr(l, ':') + 1 : l, ':');

		if (!path || path[1] != '/' || strstr(path, "/.."))
			continue;
		if (strncmp(l, "0::", 3) == 0)
			*ret_v2 = open_cgroup(host.v2_fd, path + 1, O_RDONLY);
		else if (host.devices_fd >= 0 && strstr(l, ":devices:"))
			*ret_devices = open_cgroup(host.devices_fd, path + 1, O_PATH);
	}
	return *ret_v2 >= 0 ? 0 : -ENOENT;
}

/* In the helper (raw syscalls only): create, lock, attach. 0 or an errno. */
static int make_mount(const void *arg)
{
	const struct mount_job *j = arg;
	long tasks, fs, mnt, locked;

	if (j->devices_fd >= 0) {
		tasks = syscall(SYS_openat, j->devices_fd, "tasks", O_WRONLY | O_CLOEXEC);
		if (tasks < 0 || syscall(SYS_write, tasks, "0", 1) != 1)
			return errno;
	}
	fs = syscall(SYS_fsopen, "ext4", FSOPEN_CLOEXEC);
	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", j->source, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE_EXCL, NULL, NULL, 0) < 0)
		return errno;
	mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mnt < 0 || syscall(SYS_setns, host.stage_fd, CLONE_NEWNS) < 0 ||
	    syscall(SYS_unshare, CLONE_NEWNS) < 0 ||
	    syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    syscall(SYS_fchdir, mnt) < 0 || syscall(SYS_setns, j->userns_fd, CLONE_NEWUSER) < 0 ||
	    syscall(SYS_unshare, CLONE_NEWNS) < 0)
		return errno;
	locked = syscall(SYS_open_tree, AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (locked < 0 || syscall(SYS_setns, j->mntns_fd, CLONE_NEWNS) < 0 ||
	    syscall(SYS_move_mount, locked, "", j->target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return errno;
	return 0;
}

/* As the caller: target and source inside its root; the source a block device it may open. */
static int resolve_as_caller(const struct floor_self *s, const struct caller *c, int root,
			     const char *target, const char *source, int *ret_target,
			     int *ret_source)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	struct stat st;
	char self[32];
	bool groups;
	int r, dev;

	r = creds_enter(s, c, (const uint32_t[2]){ 0, 0 }, &groups);
	if (r == 0) {
		*ret_target = (int)syscall(SYS_openat2, root, target, &how, sizeof(how));
		*ret_source = (int)syscall(SYS_openat2, root, source, &how, sizeof(how));
		r = *ret_target < 0 || *ret_source < 0 ? -ENOENT : 0;
	}
	if (r == 0 && (fstat(*ret_source, &st) < 0 || !S_ISBLK(st.st_mode)))
		r = -ENOTBLK;
	if (r == 0) {
		(void)snprintf(self, sizeof(self), "/proc/self/fd/%d", *ret_source);
		dev = open(self, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		r = dev < 0 ? NEG_ERRNO() : 0;
		if (dev >= 0)
			close(dev);
	}
	creds_leave(s, groups);
	return r;
}

/* Emulated for CAP_SYS_ADMIN in the container's user namespace, owner of the caller's mount ns. */
static bool may_emulate(int proc, const struct floor_self *s, const struct caller *c)
{
	uint64_t userns;
	struct stat owner;
	int mntns = openat(proc, "ns/mnt", O_RDONLY | O_CLOEXEC);
	int owner_fd = mntns < 0 ? -1 : ioctl(mntns, NS_GET_USERNS);
	bool ok = owner_fd >= 0 && fstat(owner_fd, &owner) == 0 &&
		  userns_of(proc, "ns/user", &userns) == 0 && userns == s->container_userns &&
		  owner.st_ino == userns && (c->cap_eff & (1ULL << CAP_SYS_ADMIN));

	if (owner_fd >= 0)
		close(owner_fd);
	if (mntns >= 0)
		close(mntns);
	return ok;
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* After the first ID_VALID: 0 = CONTINUE, else the reply (1 = success, < 0 an errno). */
static int emulate_mount(int fd, const struct seccomp_notif *req, const struct floor_self *s,
			 int proc, int root, const struct caller *c, const char *target,
			 const char *source)
{
	struct mount_job j = { .target_fd = -1, .mntns_fd = -1, .userns_fd = -1, .devices_fd = -1 };
	int source_fd = -1, v2 = -1, r;

	if (!may_emulate(proc, s, c))
		return 0;
	r = resolve_as_caller(s, c, root, target, source, &j.target_fd, &source_fd);
	if (r == 0) {
		(void)snprintf(j.source, sizeof(j.source), "/proc/self/fd/%d", source_fd);
		j.mntns_fd = openat(proc, "ns/mnt", O_RDONLY | O_CLOEXEC);
		j.userns_fd = openat(proc, "ns/user", O_RDONLY | O_CLOEXEC);
		r = j.mntns_fd < 0 || j.userns_fd < 0 ? -ESRCH : open_cgroups(proc, &v2, &j.devices_fd);
	}
	if (r == 0 && ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		r = -ESRCH;
	if (r == 0)
		r = nsexec_run_in_cgroup(make_mount, &j, v2, HELPER_TIMEOUT_MS);
	close_all((const int[]){ j.target_fd, source_fd, j.mntns_fd, j.userns_fd, j.devices_fd, v2 },
		  6);
	return r < 0 ? r : 1;
}

void answer_mount(int fd, const struct seccomp_notif *req, const struct floor_self *s,
		  struct seccomp_notif_resp *resp)
{
	static char fstype[64], source[4096], target[4096];
	const pid_t tid = (pid_t)req->pid;
	struct caller c;
	int proc, root, status, r = 0;

	*resp = (struct seccomp_notif_resp){ .id = req->id,
					     .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	/* the bench's call: a new ext4 superblock, no flags, no data */
	if (req->data.args[3] != 0 || req->data.args[4] != 0 ||
	    read_caller_string(tid, req->data.args[2], fstype, sizeof(fstype)) < 0 ||
	    strcmp(fstype, "ext4") != 0 ||
	    read_caller_string(tid, req->data.args[0], source, sizeof(source)) < 0 ||
	    read_caller_string(tid, req->data.args[1], target, sizeof(target)) < 0)
		return;
	pin_caller(req->pid, &proc, &status, &root);
	if (root >= 0 && status >= 0 && ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0 &&
	    caller_read(status, &c) == 0)
		r = emulate_mount(fd, req, s, proc, root, &c, target, source);
	if (r != 0)
		*resp = (struct seccomp_notif_resp){ .id = req->id, .error = r < 0 ? r : 0 };
	pin_release(req->pid, proc, status, root);
}
