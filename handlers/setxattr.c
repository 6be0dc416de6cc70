/* SPDX-License-Identifier: Apache-2.0 */
/*
 * setxattr, lsetxattr and fsetxattr: only "trusted.overlay.opaque" = "y" on a
 * directory inside the container, for a caller with CAP_SYS_ADMIN in the
 * container's initial user namespace (overlayfs inside a container marks
 * opaque directories this way). A nested user namespace does not count: any
 * user of the container can make one (unshare -Ur) and hold CAP_SYS_ADMIN
 * there. Everything else is CONTINUE: the kernel answers with the caller's
 * privileges.
 *
 * The target is opened O_PATH (never a FIFO or device for reading), by path
 * with the caller's filesystem credentials and RESOLVE_IN_ROOT (O_NOFOLLOW for
 * lsetxattr), or by fd with pidfd_getfd(). It must be a directory whose owner
 * the caller's user namespace maps (the kernel's capable_wrt_inode_uidgid()
 * rule), so a host directory bind-mounted into the container stays untouched.
 * The attribute is then set as the daemon through /proc/self/fd/N.
 *
 * Called from worker threads; no locks, no allocation, no global state.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/decide.h"
#include "handlers/handler.h"
#include "handlers/procmem.h"
#include "handlers/target.h"

#define OPAQUE_NAME "trusted.overlay.opaque"
#define XATTR_NAME_BUF 256 /* XATTR_NAME_MAX + 1 */

enum xattr_kind {
	XATTR_BY_PATH,
	XATTR_BY_LPATH,
	XATTR_BY_FD,
};

bool setxattr_request_matches(int name_r, const char *name, uint64_t size, int value_r,
			      const char *value, uint64_t flags)
{
	/* flags is an int for the kernel: the upper half of the register is ignored */
	if (size != 1 || ((uint32_t)flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)) != 0)
		return false;
	if (name_r < 0 || value_r < 0)
		return false;
	return strcmp(name, OPAQUE_NAME) == 0 && value[0] == 'y';
}

struct decision setxattr_decide(bool matches, int path_r, enum target_userns userns,
				uint64_t cap_eff)
{
	if (!matches || userns != TARGET_USERNS_CONTAINER)
		return DECIDE_CONTINUE;
	if (!(cap_eff & ((uint64_t)1 << CAP_SYS_ADMIN)))
		return DECIDE_CONTINUE;
	if (path_r < 0)
		return DECIDE_ERRNO(path_r);
	return DECIDE_EMULATE;
}

static int kind_of(const struct seccomp_notif *req, enum xattr_kind *ret)
{
	static const char *const names[] = {
		[XATTR_BY_PATH] = "setxattr",
		[XATTR_BY_LPATH] = "lsetxattr",
		[XATTR_BY_FD] = "fsetxattr",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (seccomp_syscall_resolve_name_arch(req->data.arch, names[i]) == req->data.nr) {
			*ret = (enum xattr_kind)i;
			return 0;
		}
	return -ENOSYS;
}

/* Open the object the call names, O_PATH. Returns an fd or the caller's -errno. */
static int open_object(const struct target *t, enum xattr_kind kind, int fd_arg, const char *path)
{
	_cleanup_close_ int root_fd = -EBADF, base_fd = -EBADF, fd = -EBADF;
	struct target_saved_creds saved;
	int r, fl;

	if (kind == XATTR_BY_FD) {
		fd = target_getfd(t, fd_arg);
		if (fd < 0)
			return fd;
		fl = fcntl(fd, F_GETFL);
		if (fl < 0)
			return negative_errno();
		if (fl & O_PATH)
			return -EBADF; /* fsetxattr() on an O_PATH fd: the kernel says EBADF */
		return TAKE_FD(fd);
	}
	root_fd = openat(t->proc_dfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return negative_errno();
	if (path[0] != '/') {
		base_fd = target_open_base(t, AT_FDCWD);
		if (base_fd < 0)
			return base_fd;
	}
	r = target_creds_enter(&t->st, 0, &saved);
	if (r < 0)
		return r;
	fd = target_resolve(root_fd, base_fd, path,
			    O_PATH | (kind == XATTR_BY_LPATH ? O_NOFOLLOW : 0));
	r = target_creds_leave(&saved);
	if (r < 0)
		return r;
	if (fd == -EXDEV)
		return -EPERM;
	return TAKE_FD(fd);
}

/* Returns < 0 for an internal failure; the caller's result goes to *ret_err. */
static int setxattr_act(const struct notif_ctx *ctx, const struct target *t, enum xattr_kind kind,
			const char *path, int flags, int *ret_err)
{
	_cleanup_close_ int fd = -EBADF;
	char proc_path[32];
	struct stat st;
	int r;

	fd = open_object(t, kind, (int)ctx->req->data.args[0], path);
	if (fd < 0) {
		*ret_err = fd;
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return negative_errno();
	/* anything but a container-owned directory: what the kernel tells an unprivileged caller */
	r = S_ISDIR(st.st_mode) ? target_ids_mapped(t, st.st_uid, st.st_gid) : 0;
	if (r < 0)
		return r;
	if (r == 0) {
		*ret_err = -EPERM;
		return 0;
	}
	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0)
		return r;
	(void)snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	*ret_err = RET_NERRNO(setxattr(proc_path, OPAQUE_NAME, "y", 1, flags));
	return 0;
}

int handle_setxattr(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	_cleanup_(target_closep) struct target t = TARGET_INIT;
	const __u64 *a = ctx->req->data.args;
	const pid_t pid = (pid_t)ctx->req->pid;
	char name[XATTR_NAME_BUF], value[1] = { 0 }, path[PATH_MAX] = "";
	enum xattr_kind kind;
	int name_r, value_r = -EFAULT, path_r = 0, r, err = 0;
	struct decision d;

	if (kind_of(ctx->req, &kind) < 0) {
		reply_continue(reply);
		return 0;
	}
	name_r = procmem_read_string(pid, ctx->mem_fd, a[1], name, sizeof(name));
	if (a[3] == 1)
		value_r = procmem_read(pid, ctx->mem_fd, a[2], value, 1);
	if (!setxattr_request_matches(name_r, name, a[3], value_r, value, a[4])) {
		reply_continue(reply);
		return 0;
	}
	if (kind != XATTR_BY_FD)
		path_r = procmem_read_string(pid, ctx->mem_fd, a[0], path, sizeof(path));
	if (path_r < 0 && path_r != -EFAULT && path_r != -ENAMETOOLONG)
		return path_r == -ESRCH ? -ENOENT : path_r;
	/* procmem_read_string() returns 0 for a string read; fsetxattr's path stays "" */
	if (path_r == 0)
		audit_note_path(ctx, path);
	r = target_open(ctx, &t);
	if (r < 0)
		return r;
	d = setxattr_decide(true, path_r, t.userns, t.st.cap_eff);
	if (d.kind != DECISION_EMULATE) {
		decision_reply(d, reply);
		return 0;
	}
	r = setxattr_act(ctx, &t, kind, path, (int)a[4], &err);
	if (r < 0)
		return r;
	reply_result(reply, err);
	return 0;
}
