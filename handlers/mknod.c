/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mknod and mknodat for user-namespace containers.
 *
 * Only the harmless character devices below are emulated, for a caller with
 * CAP_MKNOD in the container's initial user namespace. Everything else,
 * whiteouts (0:0) included, is CONTINUE: the kernel gives its own answer.
 *
 * Emulation on a worker thread, without forking:
 *  1. the path is read once into a stack buffer;
 *  2. the caller's root, and its cwd or dirfd for relative paths, are opened
 *     through /proc/TID (pinned by the ID_VALID check in target_open());
 *  3. the thread takes the caller's fsuid/fsgid/groups/umask, keeps only
 *     CAP_MKNOD effective, resolves the parent inside the root
 *     (target_resolve(): RESOLVE_IN_ROOT, never magic links) and mknodat()s;
 *     permission checks on the walk and on the parent are the caller's own;
 *  4. the credentials are restored and the node is probed: if it cannot be
 *     opened although its mount is not "nodev", it sits on a superblock
 *     owned by the user namespace (SB_I_NODEV, e.g. the container's /dev
 *     tmpfs). Only then a forked helper (nsexec) makes a real node on a
 *     private tmpfs and bind-mounts it onto the one just created, inside the
 *     container's mount namespace. Nothing is left on the host. The answer
 *     is remembered per mount (unique mount id) in the listener's cache, so
 *     that later nodes on the same mount skip the probe.
 *
 * Called from worker threads; no locks, no allocation; the only state kept
 * is the listener's handler_cache, which only its worker touches.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/notify.h"
#include "handlers/decide.h"
#include "handlers/handler.h"
#include "handlers/nsexec.h"
#include "handlers/procmem.h"
#include "handlers/target.h"

#define FALLBACK_TIMEOUT_MS 5000

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U /* Linux 6.8 */
#endif

static const struct {
	unsigned major, minor;
} allowed_devices[] = {
	{ 1, 3 }, /* null */
	{ 1, 5 }, /* zero */
	{ 1, 7 }, /* full */
	{ 1, 8 }, /* random */
	{ 1, 9 }, /* urandom */
	{ 5, 0 }, /* tty */
	{ 5, 1 }, /* console */
};

/* The kernel's new_decode_dev() for the 32-bit dev the syscall takes. */
static unsigned dev_major(uint32_t dev)
{
	return (dev & 0xfff00) >> 8;
}

static unsigned dev_minor(uint32_t dev)
{
	return (dev & 0xff) | ((dev >> 12) & 0xfff00);
}

bool mknod_device_allowed(unsigned mode, uint32_t dev)
{
	if ((mode & S_IFMT) != S_IFCHR)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(allowed_devices); i++)
		if (allowed_devices[i].major == dev_major(dev) &&
		    allowed_devices[i].minor == dev_minor(dev))
			return true;
	return false;
}

struct decision mknod_decide(unsigned mode, uint32_t dev, int path_r, enum target_userns userns,
			     uint64_t cap_eff)
{
	if (!mknod_device_allowed(mode, dev))
		return DECIDE_CONTINUE;
	/* the kernel copies the name before it checks CAP_MKNOD */
	if (path_r < 0)
		return DECIDE_ERRNO(path_r);
	switch (userns) {
	case TARGET_USERNS_HOST:
		return DECIDE_CONTINUE;
	case TARGET_USERNS_CONTAINER:
		if (cap_eff & ((uint64_t)1 << CAP_MKNOD))
			return DECIDE_EMULATE;
		return DECIDE_ERRNO(-EPERM);
	case TARGET_USERNS_OTHER:
	default:
		return DECIDE_ERRNO(-EPERM);
	}
}

int mknod_path_split(const char *path, struct mknod_path *ret)
{
	size_t len = strlen(path), end, slash;

	if (len == 0)
		return -ENOENT;
	if (len >= sizeof(ret->parent))
		return -ENAMETOOLONG;
	*ret = (struct mknod_path){};
	end = len;
	while (end > 0 && path[end - 1] == '/')
		end--;
	if (end == 0) { /* "/", "//": the root itself */
		strcpy(ret->parent, "/");
		strcpy(ret->last, ".");
		ret->is_special = true;
		return 0;
	}
	ret->has_trailing_slash = end < len;
	slash = end;
	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	if (end - slash > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(ret->last, path + slash, end - slash);
	ret->last[end - slash] = '\0';
	ret->is_special = strcmp(ret->last, ".") == 0 || strcmp(ret->last, "..") == 0;
	if (slash == 0) {
		strcpy(ret->parent, ".");
	} else {
		memcpy(ret->parent, path, slash);
		ret->parent[slash] = '\0';
	}
	return 0;
}

/* Runs with the caller's filesystem credentials. Returns the caller's result. */
static int create_node(int root_fd, int base_fd, const struct mknod_path *sp, unsigned mode,
		       uint32_t dev, int *ret_parent_fd)
{
	struct stat st;
	int fd;

	fd = target_resolve(root_fd, base_fd, sp->parent, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd == -EXDEV ? -EPERM : fd; /* -EXDEV: a base outside the root */
	*ret_parent_fd = fd;
	if (sp->is_special)
		return -EEXIST;
	if (sp->has_trailing_slash) {
		if (fstatat(fd, sp->last, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return -EEXIST;
		return errno == ENOENT ? -ENOENT : negative_errno();
	}
	return RET_NERRNO(mknodat(fd, sp->last, S_IFCHR | (mode & 07777),
				  makedev(dev_major(dev), dev_minor(dev))));
}

struct bind_args {
	int mntns_fd;
	int target_fd;
	mode_t mode;
	dev_t dev;
	uid_t uid;
	gid_t gid;
};

/*
 * In the helper child: raw syscalls only. Make the node on a private tmpfs
 * (owned by the initial user namespace, so devices work), clone it as a
 * detached bind mount, enter the container's mount namespace and put it over
 * the placeholder.
 */
static int bind_node_child(const void *arg)
{
	const struct bind_args *a = arg;
	long fs, mnt, tree;

	if (syscall(SYS_unshare, CLONE_NEWNS) < 0 ||
	    syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	fs = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return errno;
	mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	/* attached in our private namespace so that open_tree() may clone from it */
	if (mnt < 0 || syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return errno;
	if (syscall(SYS_mknodat, mnt, "node", S_IFCHR | 0600, a->dev) < 0 ||
	    syscall(SYS_fchownat, mnt, "node", a->uid, a->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    syscall(SYS_fchmodat, mnt, "node", a->mode & 07777) < 0)
		return errno;
	tree = syscall(SYS_open_tree, mnt, "node", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0 || syscall(SYS_setns, a->mntns_fd, CLONE_NEWNS) < 0)
		return errno;
	if (syscall(SYS_move_mount, tree, "", a->target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return errno;
	return 0;
}

static int bind_fallback(const struct target *t, int node_fd, const struct stat *st)
{
	_cleanup_close_ int mntns_fd = openat(t->proc_dfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
	struct bind_args a = {
		.target_fd = node_fd,
		.mode = st->st_mode & 07777,
		.dev = st->st_rdev,
		.uid = st->st_uid,
		.gid = st->st_gid,
	};

	if (mntns_fd < 0)
		return negative_errno();
	a.mntns_fd = mntns_fd;
	return nsexec_run(bind_node_child, &a, FALLBACK_TIMEOUT_MS);
}

int mknod_nodev_lookup(const struct nodev_cache *c, uint64_t mnt_id)
{
	if (mnt_id == 0)
		return -ENOENT;
	for (size_t i = 0; i < NODEV_CACHE_SLOTS; i++)
		if (c->mnt_id[i] == mnt_id)
			return c->is_nodev_sb[i];
	return -ENOENT;
}

void mknod_nodev_record(struct nodev_cache *c, uint64_t mnt_id, bool is_nodev_sb)
{
	unsigned slot = c->next % NODEV_CACHE_SLOTS;

	if (mnt_id == 0)
		return;
	for (unsigned i = 0; i < NODEV_CACHE_SLOTS; i++)
		if (c->mnt_id[i] == mnt_id) {
			c->is_nodev_sb[i] = is_nodev_sb;
			return;
		}
	c->mnt_id[slot] = mnt_id;
	c->is_nodev_sb[slot] = is_nodev_sb;
	c->next = (slot + 1) % NODEV_CACHE_SLOTS;
}

/* The unique (never reused) id of @fd's mount; 0 where the kernel has none (before 6.8). */
static uint64_t unique_mount_id(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID_UNIQUE))
		return 0;
	return stx.stx_mnt_id;
}

/* Can a device node be opened through @node_fd (O_PATH)? 1 yes, 0 EACCES (nodev), else < 0. */
static int node_opens(int node_fd)
{
	char p[32];
	int fd;

	(void)snprintf(p, sizeof(p), "/proc/self/fd/%d", node_fd);
	fd = open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		(void)close(fd);
		return 1;
	}
	return errno == EACCES ? 0 : negative_errno();
}

/*
 * Does the node behind @node_fd sit on a superblock that refuses devices?
 * @known is what the cache said about its directory's mount (-ENOENT:
 * nothing); a definite answer from probing is recorded for the node's mount.
 */
static bool on_nodev_sb(struct nodev_cache *cache, int known, int node_fd)
{
	struct statfs sfs;
	int r;

	if (known < 0) {
		r = node_opens(node_fd);
		if (r < 0)
			return false; /* not a nodev refusal: nothing we could fix */
		if (r > 0 && cache)
			mknod_nodev_record(cache, unique_mount_id(node_fd), false);
		if (r > 0)
			return false;
	}
	/* a "nodev" mount: the kernel's node would be unusable there as well */
	if (fstatfs(node_fd, &sfs) < 0 || (sfs.f_flags & ST_NODEV))
		return false;
	if (known < 0 && cache)
		mknod_nodev_record(cache, unique_mount_id(node_fd), true);
	return true;
}

/* Bind a real node over the placeholder; remove the placeholder if that fails. */
static int fall_back_or_undo(const struct notif_ctx *ctx, const struct target *t, int parent_fd,
			     const char *last, int node_fd, const struct stat *st)
{
	struct stat now;
	int r;

	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0)
		return r;
	r = bind_fallback(t, node_fd, st);
	if (r == 0)
		return 0;
	log_debug_errno(r, "id=%llu: bind-mount fallback for mknod failed: %m",
			(unsigned long long)ctx->req->id);
	if (fstatat(parent_fd, last, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == st->st_ino &&
	    now.st_dev == st->st_dev)
		(void)unlinkat(parent_fd, last, 0);
	return -EPERM;
}

/*
 * The node @last below @parent_fd was just created. Make sure it works like
 * the one the kernel would have created for a privileged caller: if it cannot
 * be opened although its mount is not "nodev", its superblock refuses devices
 * and a real node is bind-mounted over it. The listener's cache remembers per
 * mount whether that is needed, so the usual case costs one statx(). Returns
 * the caller's result: 0, or -EPERM when the fallback failed.
 */
static int ensure_usable(const struct notif_ctx *ctx, const struct target *t, int parent_fd,
			 const char *last, uint32_t dev)
{
	struct nodev_cache *cache = ctx->cache ? &ctx->cache->nodev : NULL;
	const int known = cache ? mknod_nodev_lookup(cache, unique_mount_id(parent_fd)) : -ENOENT;
	_cleanup_close_ int node_fd = -EBADF;
	struct stat st;

	if (known == 0)
		return 0; /* devices work on that superblock: so does the node */
	node_fd = openat(parent_fd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	/* gone or replaced already: the container raced itself, our mknod succeeded */
	if (node_fd < 0 || fstat(node_fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(dev_major(dev), dev_minor(dev)))
		return 0;
	if (!on_nodev_sb(cache, known, node_fd))
		return 0;
	return fall_back_or_undo(ctx, t, parent_fd, last, node_fd, &st);
}

/* Returns < 0 for an internal failure; the caller's result goes to *ret_err. */
static int mknod_act(const struct notif_ctx *ctx, const struct target *t, int dirfd,
		     const char *path, unsigned mode, uint32_t dev, int *ret_err)
{
	_cleanup_close_ int root_fd = -EBADF, base_fd = -EBADF, parent_fd = -EBADF;
	struct target_saved_creds saved;
	struct mknod_path sp;
	int r, err;

	r = mknod_path_split(path, &sp);
	if (r < 0) {
		*ret_err = r;
		return 0;
	}
	root_fd = openat(t->proc_dfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return negative_errno();
	if (path[0] != '/') {
		base_fd = target_open_base(t, dirfd);
		if (base_fd == -EBADF || base_fd == -ENOTDIR) {
			*ret_err = base_fd;
			return 0;
		}
		if (base_fd < 0)
			return base_fd;
	}
	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0)
		return r;
	r = target_creds_enter(&t->st, (uint64_t)1 << CAP_MKNOD, &saved);
	if (r < 0)
		return r;
	err = create_node(root_fd, base_fd, &sp, mode, dev, &parent_fd);
	r = target_creds_leave(&saved);
	if (r < 0)
		return log_error_errno(r, "Failed to restore worker credentials after mknod: %m");
	if (err == 0)
		err = ensure_usable(ctx, t, parent_fd, sp.last, dev);
	*ret_err = err;
	return 0;
}

static int do_mknod(const struct notif_ctx *ctx, struct notif_reply *reply, int dirfd,
		    uint64_t path_addr, uint64_t mode_arg, uint64_t dev_arg)
{
	_cleanup_(target_closep) struct target t = TARGET_INIT;
	const unsigned mode = (uint16_t)mode_arg; /* umode_t */
	const uint32_t dev = (uint32_t)dev_arg;   /* the syscall takes an unsigned int */
	char path[PATH_MAX];
	struct decision d;
	int path_r, r, err = 0;

	if (!mknod_device_allowed(mode, dev)) {
		reply_continue(reply);
		return 0;
	}
	path_r = procmem_read_string((pid_t)ctx->req->pid, ctx->mem_fd, path_addr, path,
				     sizeof(path));
	if (path_r < 0 && path_r != -EFAULT && path_r != -ENAMETOOLONG)
		return path_r == -ESRCH ? -ENOENT : path_r;
	r = target_open(ctx, &t);
	if (r < 0)
		return r;
	d = mknod_decide(mode, dev, path_r, t.userns, t.st.cap_eff);
	if (d.kind != DECISION_EMULATE) {
		decision_reply(d, reply);
		return 0;
	}
	r = mknod_act(ctx, &t, dirfd, path, mode, dev, &err);
	if (r < 0)
		return r;
	reply_result(reply, err);
	return 0;
}

int handle_mknod(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	const __u64 *a = ctx->req->data.args;

	return do_mknod(ctx, reply, AT_FDCWD, a[0], a[1], a[2]);
}

int handle_mknodat(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	const __u64 *a = ctx->req->data.args;

	/* (int): a 32-bit caller's AT_FDCWD arrives zero-extended */
	return do_mknod(ctx, reply, (int)a[0], a[1], a[2], a[3]);
}
