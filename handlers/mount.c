/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mount(2) for user-namespace containers: security.syscalls.intercept.mount
 * with mount.allowed, mount.fuse and mount.shift, read per notification.
 *
 * Only a mount that creates a new superblock is emulated; remount, bind,
 * move and propagation changes go to the kernel (CONTINUE). So does a type
 * in neither list, and a caller without CAP_SYS_ADMIN in the container's
 * initial user namespace or whose mount namespace that user namespace does
 * not own: the kernel then decides with the container's own rights.
 *
 * The arguments are read once, in the kernel's order: the type (into a small
 * buffer: a longer one is in no list), the source, at most one page of data
 * (as copy_mount_options(): up to the first unreadable byte), the target.
 * Once the call is decided to be emulated, every outcome is an errno the
 * kernel itself would give (ENOENT, ENOTBLK, ENOTDIR, EBUSY, EINVAL, ENODEV,
 * EPERM, EFAULT, ELOOP, ...), never CONTINUE. The acting halves are
 * mount_fs.c (mount.allowed) and mount_fuse.c (mount.fuse).
 *
 * Called from worker threads; no locks, no allocation.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <string.h>
#include <sys/ioctl.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/handler.h"
#include "handlers/mount.h"
#include "handlers/procmem.h"

#define PAGE_BYTES 4096u

/* The arguments as read from the caller, with the kernel's errno for each. */
struct mount_args {
	char fstype[MOUNT_FSTYPE_MAX];
	char source[PATH_MAX];
	char target[PATH_MAX];
	char data[MOUNT_DATA_MAX];
	bool has_source, has_data;
	int source_r, data_r, target_r;
};

/* A mount string (type, source) as strndup_user(PATH_MAX) copies it: too long is EINVAL. */
static int read_mount_string(const struct notif_ctx *ctx, uint64_t addr, char *buf, size_t size)
{
	int r = procmem_read_string((pid_t)ctx->req->pid, ctx->mem_fd, addr, buf, size);

	return r == -ENAMETOOLONG ? -EINVAL : r;
}

/*
 * copy_mount_options(): as much of one page as can be read, EFAULT only when
 * nothing can; the kernel then cuts it at PAGE_SIZE - 1. A string that ends
 * in an unreadable page without a NUL ends where the readable bytes end.
 */
static int read_data(const struct notif_ctx *ctx, uint64_t addr, char *buf)
{
	size_t have = 0;

	while (have < PAGE_BYTES) {
		size_t chunk = PAGE_BYTES - ((addr + have) % PAGE_BYTES);

		if (chunk > PAGE_BYTES - have)
			chunk = PAGE_BYTES - have;
		if (procmem_read((pid_t)ctx->req->pid, ctx->mem_fd, addr + have, buf + have, chunk) <
		    0)
			break;
		if (memchr(buf + have, '\0', chunk))
			return 0;
		have += chunk;
	}
	if (have == 0)
		return -EFAULT;
	buf[have < PAGE_BYTES ? have : PAGE_BYTES - 1] = '\0';
	return 0;
}

/* Everything but the type, which was read first to see whether we care at all. */
static int read_rest(const struct notif_ctx *ctx, struct mount_args *a)
{
	const __u64 *arg = ctx->req->data.args;

	a->has_source = arg[0] != 0;
	a->source_r = a->has_source ? read_mount_string(ctx, arg[0], a->source, sizeof(a->source))
				    : 0;
	a->has_data = arg[4] != 0;
	a->data_r = a->has_data ? read_data(ctx, arg[4], a->data) : 0;
	/* getname(): a NULL target is EFAULT, "" is ENOENT (from the lookup) */
	a->target_r = procmem_read_string((pid_t)ctx->req->pid, ctx->mem_fd, arg[1], a->target,
					  sizeof(a->target));
	/* ESRCH: the caller is gone; anything else is its own error */
	if (a->source_r == -ESRCH || a->data_r == -ESRCH || a->target_r == -ESRCH)
		return -ENOENT;
	return 0;
}

/* Is the caller's mount namespace owned by its user namespace? */
static int mntns_owned(const struct target *t)
{
	_cleanup_close_ int mnt_fd = openat(t->proc_dfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int owner_fd = -EBADF;
	struct ns_ident owner;
	int r;

	if (mnt_fd < 0)
		return negative_errno();
	owner_fd = ioctl(mnt_fd, NS_GET_USERNS);
	if (owner_fd < 0)
		return negative_errno();
	r = ns_ident_at(owner_fd, "", &owner);
	if (r < 0)
		return r;
	/* the caller's user namespace, as target_open() read it */
	return ns_ident_equal(&owner, &t->userns_id);
}

static int act(const struct notif_ctx *ctx, const struct target *t, enum mount_route route,
	       struct mount_args *a, uint64_t flags)
{
	const struct mount_request m = {
		.flags = flags,
		.fstype = a->fstype,
		.source = a->has_source ? a->source : NULL,
		.target = a->target,
		.data = a->has_data ? a->data : NULL,
		.is_shift = config_enabled(ctx->cfg, CONFIG_MOUNT_SHIFT),
		.fuse_binary = config_mount_fuse_binary(ctx->cfg, a->fstype),
	};

	return route == MOUNT_ROUTE_FUSE ? mount_fuse_act(ctx, t, &m) : mount_fs_act(ctx, t, &m);
}

int handle_mount(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	_cleanup_(target_closep) struct target t = TARGET_INIT;
	const uint64_t flags = mount_flags_strip_magic(ctx->req->data.args[3]);
	struct mount_caller caller;
	enum mount_route route;
	struct mount_args a;
	struct decision d;
	int r;

	/* cheap first: the boot-time mounts of proc, sysfs, tmpfs... end here */
	if (!mount_creates_superblock(flags) ||
	    read_mount_string(ctx, ctx->req->data.args[2], a.fstype, sizeof(a.fstype)) < 0 ||
	    (route = mount_route(ctx->cfg, a.fstype)) == MOUNT_ROUTE_NONE) {
		reply_continue(reply);
		return 0;
	}
	r = read_rest(ctx, &a);
	if (r < 0)
		return r;
	if (a.target_r == 0)
		audit_note_path(ctx, a.target);
	r = target_open(ctx, &t);
	if (r < 0)
		return r;
	r = mntns_owned(&t);
	if (r < 0)
		return r;
	caller = (struct mount_caller){ t.userns, t.st.cap_eff, r > 0 };
	d = mount_decide(route, &caller, a.source_r, a.data_r, a.target_r);
	if (d.kind != DECISION_EMULATE) {
		decision_reply(d, reply);
		return 0;
	}
	r = act(ctx, &t, route, &a, flags);
	/* decided to emulate: an errno from here on, unless the caller is gone */
	if (r == -ENOENT && notify_id_valid(ctx->notify_fd, ctx->req->id) == -ENOENT)
		return r;
	log_debug_errno(r, "id=%llu: mount of type '%s': %m", (unsigned long long)ctx->req->id,
			a.fstype);
	reply_result(reply, r);
	return 0;
}
