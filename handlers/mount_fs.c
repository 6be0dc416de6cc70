/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mount.allowed: a new superblock made by the host for the caller, with the
 * new mount API.
 *
 * On the worker thread, with the caller's fsuid/fsgid/groups and no
 * capability: the target and the source are resolved inside the caller's
 * root (target_resolve(): RESOLVE_IN_ROOT, never magic links), the source
 * must be a block device node and is opened once read-only or read-write as
 * a check that the caller may use it (then closed again: an exclusive open
 * held across the create would make the kernel's own fail with EBUSY).
 *
 * Then a helper (nsexec_run_in_cgroup(): it shares our memory while this
 * thread waits, unless cgroup2 holds the memory controller), created inside
 * the caller's cgroup2 cgroup and joining its v1 cgroups, so that the
 * container's device cgroup applies to the open the kernel makes during the
 * create: fsopen() in the initial user namespace, fsconfig() with the
 * source as /proc/self/fd/N (the node we resolved, not a path the kernel
 * would look up again), the data options and
 * the superblock flags, FSCONFIG_CMD_CREATE_EXCL (EBUSY instead of sharing a
 * superblock someone else has mounted), fsmount() with nodev always and
 * nosuid unless mount.shift, for mount.shift an idmapped mount to the
 * caller's user namespace, and move_mount() onto the target from inside the
 * caller's mount namespace, with the mount's flags locked (attach_locked()).
 * A failure before the move leaves nothing behind: the detached mount, and
 * the helper's own mount namespaces, die with the helper.
 *
 * Called from worker threads; no locks, no allocation.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "daemon/log.h"
#include "daemon/engine/notify.h"
#include "handlers/cgroup_join.h"
#include "handlers/mount.h"
#include "handlers/nsexec.h"

#ifndef FSCONFIG_CMD_CREATE_EXCL
#define FSCONFIG_CMD_CREATE_EXCL 8 /* Linux 6.6 */
#endif

/* Exit status bit of the helper: the idmap step failed (errnos used here are < 128). */
#define STEP_IDMAP 0x80

/* What the superblock helper needs; prepared on the worker, only read in the child. */
struct sb_job {
	const char *fstype;
	char source[32]; /* "/proc/self/fd/N" for the device; "" for none */
	const struct mount_opts *opts;
	unsigned sb;     /* enum mount_sb_flag */
	unsigned attr;   /* MOUNT_ATTR_* */
	bool is_shift;   /* idmap to the caller's user namespace */
	int userns_fd;   /* the caller's user namespace */
	int mntns_fd;
	int stage_fd;    /* mount_stage_ns(), or the caller's mntns_fd without one */
	int target_fd;
	const struct cgroup_join *cg;
};

/* The caller's paths, resolved as the caller; the fds are owned. */
struct sb_paths {
	int root_fd, base_fd, target_fd, source_fd;
	int target_r, source_r; /* the caller's errors, kept for the kernel's order */
};

#define SB_PATHS_INIT                                                                              \
	((struct sb_paths){ .root_fd = -EBADF, .base_fd = -EBADF, .target_fd = -EBADF,            \
			    .source_fd = -EBADF })

static void sb_paths_closep(struct sb_paths *p)
{
	closep(&p->root_fd);
	closep(&p->base_fd);
	closep(&p->target_fd);
	closep(&p->source_fd);
}

static int child_errno(void)
{
	return errno > 0 && errno < STEP_IDMAP ? errno : EIO;
}

static int configure(const struct sb_job *j, long fs)
{
	if (j->source[0] &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", j->source, 0) < 0)
		return child_errno();
	for (unsigned bit = 1; bit & MOUNT_SB_ALL; bit <<= 1)
		if ((j->sb & bit) &&
		    syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, mount_sb_flag_name(bit), NULL, 0) < 0)
			return child_errno();
	for (size_t i = 0; i < j->opts->n; i++) {
		const struct mount_opt *o = &j->opts->opt[i];
		long r = o->value ? syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, o->key, o->value, 0)
				  : syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, o->key, NULL, 0);

		if (r < 0)
			return child_errno();
	}
	return 0;
}

/*
 * Attach @mnt onto the target with its flags locked, as the kernel locks
 * those of every mount it copies into a mount namespace of a less privileged
 * user namespace (MNT_LOCK_NODEV, _NOSUID, _READONLY, _NOEXEC, _ATIME).
 * Unlocked, the container, which owns its mount namespace, would drop nodev
 * and nosuid with a remount of its own (MS_REMOUNT | MS_BIND is never
 * trapped) and open the device nodes of an image on a superblock of the
 * initial user namespace. So the mount is attached in a private copy of the
 * staging namespace (mount_stage.c: one empty tmpfs, owned by the initial
 * user namespace), with our working directory on it; a second copy, made
 * from inside the caller's user namespace, locks it (and moves the working
 * directory onto the locked copy); a clone of that copy, which keeps the
 * locks but not MNT_LOCKED (the container may unmount it), is moved onto the
 * target from inside the caller's mount namespace. Both copies die with the
 * helper.
 */
static int attach_locked(const struct sb_job *j, long mnt)
{
	long locked;

	if (syscall(SYS_setns, j->stage_fd, CLONE_NEWNS) < 0 ||
	    syscall(SYS_unshare, CLONE_NEWNS) < 0 ||
	    syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    fchdir((int)mnt) < 0 || syscall(SYS_setns, j->userns_fd, CLONE_NEWUSER) < 0 ||
	    syscall(SYS_unshare, CLONE_NEWNS) < 0)
		return child_errno();
	locked = syscall(SYS_open_tree, AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (locked < 0 || syscall(SYS_setns, j->mntns_fd, CLONE_NEWNS) < 0 ||
	    syscall(SYS_move_mount, locked, "", j->target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return child_errno();
	return 0;
}

/* In the helper child: raw syscalls only. 0, an errno, or an errno | STEP_IDMAP. */
static int sb_child(const void *arg)
{
	const struct sb_job *j = arg;
	long fs, mnt;
	int r;

	r = cgroup_join_v1(j->cg);
	if (r)
		return r < STEP_IDMAP ? r : EIO;
	fs = syscall(SYS_fsopen, j->fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return child_errno();
	r = configure(j, fs);
	if (r)
		return r;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE_EXCL, NULL, NULL, 0) < 0)
		return child_errno();
	mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, j->attr);
	if (mnt < 0)
		return child_errno();
	if (j->is_shift) {
		struct mount_attr ma = { .attr_set = MOUNT_ATTR_IDMAP,
					 .userns_fd = (uint64_t)j->userns_fd };

		if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
			return child_errno() | STEP_IDMAP;
	}
	return attach_locked(j, mnt);
}

/* Runs as the caller: can it open the device node @fd (O_PATH) for this mount? */
static int check_source(int fd, bool is_rdonly)
{
	char p[32];
	struct stat st;
	int dev_fd;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	(void)snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	dev_fd = open(p, (is_rdonly ? O_RDONLY : O_RDWR) | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (dev_fd < 0)
		return negative_errno();
	(void)close(dev_fd);
	return 0;
}

/* A path of the caller, resolved inside its root. The caller's errno or a new fd. */
static int resolve(const struct sb_paths *p, const char *path)
{
	int fd = target_resolve(p->root_fd, p->base_fd, path, O_PATH);

	return fd == -EXDEV ? -EPERM : fd; /* -EXDEV: a cwd outside the root */
}

/*
 * Resolve the target and the source (when @needs_source) with the caller's
 * filesystem identity and no capability, and check that the caller may open
 * the source for reading, and for writing unless @is_rdonly. The caller's
 * errors go to p->target_r and p->source_r; < 0 only for internal failures.
 */
static int resolve_paths(const struct target *t, const struct mount_request *m, bool needs_source,
			 bool is_rdonly, struct sb_paths *p)
{
	struct target_saved_creds saved;
	int r;

	p->root_fd = openat(t->proc_dfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0)
		return negative_errno();
	if (m->target[0] != '/' || (needs_source && m->source && m->source[0] != '/')) {
		p->base_fd = target_open_base(t, AT_FDCWD);
		if (p->base_fd < 0)
			return p->base_fd;
	}
	r = target_creds_enter(&t->st, 0, &saved);
	if (r < 0)
		return r;
	p->target_r = p->target_fd = resolve(p, m->target);
	if (!needs_source)
		p->source_r = 0;
	else if (!m->source)
		p->source_r = -EINVAL; /* the kernel's "no source specified" */
	else if ((p->source_r = p->source_fd = resolve(p, m->source)) >= 0)
		p->source_r = check_source(p->source_fd, is_rdonly);
	r = target_creds_leave(&saved);
	if (r < 0)
		return log_error_errno(r, "Failed to restore worker credentials after mount: %m");
	return 0;
}

static bool is_dir(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The options: translated flags, parsed data, hugetlbfs ids. The caller's
 * errno, in the kernel's order after the target lookup.
 */
static int build_options(const struct target *t, const struct mount_request *m, bool is_hugetlbfs,
			 bool is_shift, struct mount_attrs *a, struct mount_opts *o,
			 struct mount_id_text *ids)
{
	struct idmap uids, gids;
	int r;

	r = mount_flags_translate(m->flags, is_shift, a);
	if (r < 0)
		return r;
	r = mount_data_parse(m->data, o);
	if (r < 0 || !is_hugetlbfs)
		return r;
	r = idmap_read(t->proc_dfd, "uid_map", &uids);
	if (r >= 0)
		r = idmap_read(t->proc_dfd, "gid_map", &gids);
	if (r < 0)
		return r;
	/* the root of the mount belongs to the caller, as it does for a mount of its own */
	return mount_hugetlbfs_ids(o, &uids, &gids, t->st.fsuid, t->st.fsgid, ids);
}

/* Make the helper's job and run it. The caller's result. */
static int run_helper(const struct notif_ctx *ctx, const struct target *t,
		      const struct mount_request *m, struct sb_job *j, const struct sb_paths *p,
		      bool is_shift)
{
	_cleanup_close_ int mntns_fd = openat(t->proc_dfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int userns_fd = openat(t->proc_dfd, "ns/user", O_RDONLY | O_CLOEXEC);
	_cleanup_(cgroup_join_close) struct cgroup_join cg = CGROUP_JOIN_INIT;
	int r;

	if (mntns_fd < 0 || userns_fd < 0)
		return negative_errno();
	/* the device cgroup is what the create must see (v2: its device programs) */
	r = cgroup_join_open(t->proc_dfd, "devices", &cg);
	if (r < 0)
		return r;
	if (p->source_fd >= 0)
		(void)snprintf(j->source, sizeof(j->source), "/proc/self/fd/%d", p->source_fd);
	j->fstype = m->fstype;
	j->is_shift = is_shift;
	j->userns_fd = userns_fd;
	j->mntns_fd = mntns_fd;
	j->stage_fd = mount_stage_ns();
	if (j->stage_fd < 0)
		j->stage_fd = mntns_fd;
	j->target_fd = p->target_fd;
	j->cg = &cg;
	/* everything above was opened through the caller's pinned /proc/TID */
	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0)
		return r;
	r = nsexec_run_in_cgroup(sb_child, j, cg.v2_fd, MOUNT_HELPER_TIMEOUT_MS);
	if (r < 0 && r != -ETIMEDOUT && (-r & STEP_IDMAP)) {
		r = -(-r & ~STEP_IDMAP);
		log_warning_errno(r, "id=%llu: mount.shift: a '%s' mount cannot be idmapped, refused "
				  "rather than mounted unshifted: %m",
				  (unsigned long long)ctx->req->id, m->fstype);
	}
	return r;
}

int mount_fs_act(const struct notif_ctx *ctx, const struct target *t,
		 const struct mount_request *m)
{
	const bool is_hugetlbfs = strcmp(m->fstype, "hugetlbfs") == 0;
	/*
	 * hugetlbfs is never idmapped, mount.shift or not (the kernel would let
	 * it be): its uid= and gid=, given ones translated to host ids and absent
	 * ones set to the caller's, already give the mount's root to the caller,
	 * as Incus does. An idmapping on top would translate those host ids a
	 * second time, through the container's map, which does not hold them:
	 * the root would show as the overflow id (65534) inside.
	 */
	const bool is_shift = m->is_shift && !is_hugetlbfs;
	_cleanup_(sb_paths_closep) struct sb_paths p = SB_PATHS_INIT;
	struct sb_job j = { .source = "" };
	struct mount_id_text ids;
	struct mount_opts opts;
	struct mount_attrs a;
	int r, opts_r;

	/* first: the data decides whether the device is opened for writing */
	opts_r = build_options(t, m, is_hugetlbfs, is_shift, &a, &opts, &ids);
	r = resolve_paths(t, m, !is_hugetlbfs, opts_r >= 0 && mount_sb_is_rdonly(&a, &opts), &p);
	if (r < 0)
		return r == -ENOTRECOVERABLE ? -EPERM : r;
	if (p.target_r < 0)
		return p.target_r;
	if (opts_r < 0)
		return opts_r;
	if (p.source_r < 0)
		return p.source_r;
	if (!is_dir(p.target_fd))
		return -ENOTDIR;
	j.opts = &opts;
	j.sb = a.sb;
	j.attr = a.attr;
	return run_helper(ctx, t, m, &j, &p, is_shift);
}
