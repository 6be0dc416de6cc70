/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mknod and mknodat for user-namespace containers.
 *
 * Only the harmless character devices below are emulated, for a caller with
 * CAP_MKNOD in the container's initial user namespace. Everything else,
 * whiteouts (0:0) included, is CONTINUE: the kernel gives its own answer.
 *
 * The console (5:1) is never a device node: a node with those numbers opens
 * the kernel's console, which is the host's. The new name becomes a bind of
 * the container's own /dev/console instead (a devpts pty, as runc, crun and
 * LXC set it up), made by a forked helper (nsexec) on an empty file created
 * as the caller; a container without a console of its own gets EPERM.
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
 *  5. when a bind fails, the entry created in step 3 is taken back by name,
 *     again with the caller's filesystem identity and no capability at all:
 *     if a rename put another file there meanwhile, the unlink can only do
 *     what the caller could have done itself.
 *
 * Called from worker threads; no locks, no allocation; the only state kept
 * is the listener's handler_cache, which only its worker touches.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
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
#include "daemon/engine/notify.h"
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
	{ 5, 1 }, /* console: bound to the container's own, never a node (see above) */
};

#define CONSOLE_MAJOR 5
#define CONSOLE_MINOR 1
/* Unix98 pty slaves: UNIX98_PTY_MAJOR_COUNT majors from UNIX98_PTY_SLAVE_MAJOR */
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143

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

bool mknod_is_console(unsigned mode, uint32_t dev)
{
	return (mode & S_IFMT) == S_IFCHR && dev_major(dev) == CONSOLE_MAJOR &&
	       dev_minor(dev) == CONSOLE_MINOR;
}

bool mknod_console_is_own(mode_t st_mode, dev_t rdev, long fs_type)
{
	return S_ISCHR(st_mode) && major(rdev) >= PTY_SLAVE_MAJOR_FIRST &&
	       major(rdev) <= PTY_SLAVE_MAJOR_LAST && fs_type == DEVPTS_SUPER_MAGIC;
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

/* What mknod_act() opened and made as the caller; the fds are owned. */
struct mknod_made {
	int parent_fd;      /* the directory of the new entry */
	int console_fd;     /* console: the container's /dev/console (O_PATH) */
	int placeholder_fd; /* console: the empty file made for it */
};

#define MKNOD_MADE_INIT                                                                            \
	((struct mknod_made){ .parent_fd = -EBADF, .console_fd = -EBADF, .placeholder_fd = -EBADF })

static void mknod_made_closep(struct mknod_made *m)
{
	closep(&m->parent_fd);
	closep(&m->console_fd);
	closep(&m->placeholder_fd);
}

/* Runs with the caller's filesystem credentials. The new entry's directory, or the caller's error. */
static int open_parent(int root_fd, int base_fd, const struct mknod_path *sp, int *ret_parent_fd)
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
	return 0;
}

/*
 * Runs with the caller's filesystem credentials, so the caller must be able to
 * reach its /dev/console: the bind only gives another name to a pty the caller
 * can already reach, and opening it still checks the pty's own permissions.
 * Opens the container's own console (-EPERM when it has none) and makes the
 * empty file @last for it to be bound onto: O_CREAT|O_EXCL, so
 * *ret_placeholder_fd is the very file we made. Returns the caller's result.
 */
static int make_console_placeholder(int root_fd, int parent_fd, const char *last, unsigned mode,
				    int *ret_console_fd, int *ret_placeholder_fd)
{
	_cleanup_close_ int console_fd = -EBADF;
	struct statfs sfs;
	struct stat st;
	int fd;

	console_fd = target_resolve(root_fd, -EBADF, "/dev/console", O_PATH);
	if (console_fd < 0 || fstat(console_fd, &st) < 0 || fstatfs(console_fd, &sfs) < 0 ||
	    !mknod_console_is_own(st.st_mode, st.st_rdev, (long)sfs.f_type))
		return -EPERM;
	fd = openat(parent_fd, last,
		    O_RDONLY | O_CREAT | O_EXCL | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		return negative_errno();
	*ret_console_fd = TAKE_FD(console_fd);
	*ret_placeholder_fd = fd;
	return 0;
}

struct bind_args {
	int mntns_fd;   /* the caller's mount namespace */
	int target_fd;  /* the placeholder to cover */
	int console_fd; /* console: the container's /dev/console (O_PATH) */
	mode_t mode;    /* nodev fallback: the node to make */
	dev_t dev;
	uid_t uid;
	gid_t gid;
};

/* Attach the detached mount @tree over the placeholder: 0 or an errno. */
static int cover_placeholder(const struct bind_args *a, long tree)
{
	if (syscall(SYS_move_mount, tree, "", a->target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return errno;
	return 0;
}

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
	return cover_placeholder(a, tree);
}

/*
 * In the helper child: raw syscalls only. Enter the container's mount
 * namespace, where the mount of its console lives, clone just that pty as a
 * detached bind mount and put it over the placeholder.
 */
static int bind_console_child(const void *arg)
{
	const struct bind_args *a = arg;
	long tree;

	if (syscall(SYS_setns, a->mntns_fd, CLONE_NEWNS) < 0)
		return errno;
	tree = syscall(SYS_open_tree, a->console_fd, "",
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return errno;
	return cover_placeholder(a, tree);
}

/* Run @child in a helper with @a and the caller's mount namespace: 0 or a negative errno. */
static int run_bind(const struct target *t, nsexec_fn *child, struct bind_args *a)
{
	_cleanup_close_ int mntns_fd = openat(t->proc_dfd, "ns/mnt", O_RDONLY | O_CLOEXEC);

	if (mntns_fd < 0)
		return negative_errno();
	a->mntns_fd = mntns_fd;
	return nsexec_run(child, a, FALLBACK_TIMEOUT_MS);
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

/*
 * Take back the entry @last below @parent_fd that we made for the caller as
 * @made. Only as the caller, and with no capability at all: a rename after the
 * identity check below can put another file under that name, and this unlink
 * must then fail wherever the caller's own would. (The check spares the
 * caller's own files; it is not what makes this safe.) Returns < 0 only for
 * an internal failure, such as credentials that could not be restored.
 */
static int undo_make(const struct target *t, int parent_fd, const char *last,
		     const struct stat *made)
{
	struct target_saved_creds saved;
	struct stat now;
	int r;

	r = target_creds_enter(&t->st, 0, &saved);
	if (r < 0)
		return r;
	if (fstatat(parent_fd, last, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_ino == made->st_ino && now.st_dev == made->st_dev)
		(void)unlinkat(parent_fd, last, 0);
	return target_creds_leave(&saved);
}

/*
 * Cover the placeholder @last (@made) with the bind mount @child makes, or
 * take the placeholder back. The caller's result goes to *ret_err: 0, or
 * -EPERM when no bind could be made. Returns < 0 for an internal failure.
 */
static int bind_or_undo(const struct notif_ctx *ctx, const struct target *t, int parent_fd,
			const char *last, const struct stat *made, nsexec_fn *child,
			struct bind_args *a, int *ret_err)
{
	int r;

	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r == 0)
		r = run_bind(t, child, a);
	if (r == 0) {
		*ret_err = 0;
		return 0;
	}
	/* not the name: the container chooses it, newlines ("\n<3>...") included */
	log_debug_errno(r, "id=%llu: bind mount for mknod failed, taking the new entry back: %m",
			(unsigned long long)ctx->req->id);
	*ret_err = -EPERM;
	return undo_make(t, parent_fd, last, made);
}

/*
 * The node @last below @parent_fd was just created. Make sure it works like
 * the one the kernel would have created for a privileged caller: if it cannot
 * be opened although its mount is not "nodev", its superblock refuses devices
 * and a real node is bind-mounted over it. The listener's cache remembers per
 * mount whether that is needed, so the usual case costs one statx(). The
 * caller's result goes to *ret_err: 0, or -EPERM when the fallback failed.
 */
static int ensure_usable(const struct notif_ctx *ctx, const struct target *t, int parent_fd,
			 const char *last, uint32_t dev, int *ret_err)
{
	struct nodev_cache *cache = ctx->cache ? &ctx->cache->nodev : NULL;
	const int known = cache ? mknod_nodev_lookup(cache, unique_mount_id(parent_fd)) : -ENOENT;
	_cleanup_close_ int node_fd = -EBADF;
	struct bind_args a;
	struct stat st;

	*ret_err = 0;
	if (known == 0)
		return 0; /* devices work on that superblock: so does the node */
	node_fd = openat(parent_fd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	/* gone or replaced already: the container raced itself, our mknod succeeded */
	if (node_fd < 0 || fstat(node_fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(dev_major(dev), dev_minor(dev)))
		return 0;
	if (!on_nodev_sb(cache, known, node_fd))
		return 0;
	a = (struct bind_args){ .target_fd = node_fd, .console_fd = -EBADF, .mode = st.st_mode,
				.dev = st.st_rdev, .uid = st.st_uid, .gid = st.st_gid };
	return bind_or_undo(ctx, t, parent_fd, last, &st, bind_node_child, &a, ret_err);
}

/* Bind the container's console over the placeholder, or take that back. As ensure_usable(). */
static int bind_console(const struct notif_ctx *ctx, const struct target *t, int parent_fd,
			const char *last, int console_fd, int placeholder_fd, int *ret_err)
{
	struct bind_args a = { .target_fd = placeholder_fd, .console_fd = console_fd };
	struct stat st;

	if (fstat(placeholder_fd, &st) < 0)
		return negative_errno();
	return bind_or_undo(ctx, t, parent_fd, last, &st, bind_console_child, &a, ret_err);
}

/* Runs with the caller's filesystem credentials. Returns the caller's result. */
static int make_entry(int root_fd, int base_fd, const struct mknod_path *sp, unsigned mode,
		      uint32_t dev, struct mknod_made *ret)
{
	int r;

	r = open_parent(root_fd, base_fd, sp, &ret->parent_fd);
	if (r < 0)
		return r;
	if (mknod_is_console(mode, dev))
		return make_console_placeholder(root_fd, ret->parent_fd, sp->last, mode,
						&ret->console_fd, &ret->placeholder_fd);
	return RET_NERRNO(mknodat(ret->parent_fd, sp->last, S_IFCHR | (mode & 07777),
				  makedev(dev_major(dev), dev_minor(dev))));
}

/* Returns < 0 for an internal failure; the caller's result goes to *ret_err. */
static int mknod_act(const struct notif_ctx *ctx, const struct target *t, int dirfd,
		     const char *path, unsigned mode, uint32_t dev, int *ret_err)
{
	_cleanup_close_ int root_fd = -EBADF, base_fd = -EBADF;
	_cleanup_(mknod_made_closep) struct mknod_made made = MKNOD_MADE_INIT;
	const bool is_console = mknod_is_console(mode, dev);
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
	/* an empty file for the console needs no CAP_MKNOD */
	r = target_creds_enter(&t->st, is_console ? 0 : (uint64_t)1 << CAP_MKNOD, &saved);
	if (r < 0)
		return r;
	err = make_entry(root_fd, base_fd, &sp, mode, dev, &made);
	r = target_creds_leave(&saved);
	if (r < 0)
		return log_error_errno(r, "Failed to restore worker credentials after mknod: %m");
	*ret_err = err;
	if (err < 0)
		return 0;
	if (is_console)
		return bind_console(ctx, t, made.parent_fd, sp.last, made.console_fd,
				    made.placeholder_fd, ret_err);
	return ensure_usable(ctx, t, made.parent_fd, sp.last, dev, ret_err);
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
	if (ctx->audit) {
		audit_note_path(ctx, path_r >= 0 ? path : "");
		(void)snprintf(ctx->audit->device, sizeof(ctx->audit->device), "%c %u:%u",
			       S_ISBLK(mode) ? 'b' : 'c', dev_major(dev), dev_minor(dev));
	}
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
