/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The setxattr floor: the safe steps of interceptd's setxattr emulation
 * (handlers/setxattr.c) for the call the bench makes, setxattr(PATH,
 * "trusted.overlay.opaque", "y", 1, 0), and nothing else:
 *
 *  - name, value and path read once from the caller's memory;
 *  - /proc/TID, its status and root pinned (kept between calls as floor.c
 *    says), ID_VALID, the caller's credentials read through them;
 *  - emulated only for the container's initial user namespace with
 *    CAP_SYS_ADMIN there (anything else is CONTINUE, as the handler answers);
 *  - the path opened O_PATH with the caller's fsuid, fsgid, groups and umask
 *    and no capability, openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from
 *    its root;
 *  - the object checked: a directory whose owner and group the caller's user
 *    namespace maps (its uid_map and gid_map), so that a host directory
 *    mounted into the container stays untouched;
 *  - ID_VALID again, then the attribute set by us (root) on that very inode
 *    through /proc/self/fd/N.
 *
 * Runs in the single-threaded floor supervisor.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>

#include "bench.h"
#include "floor.h"

#define OPAQUE_NAME "trusted.overlay.opaque"

/* What the caller asked for, read once. */
struct xattr_call {
	char name[256];
	char value;
	char path[4096];
};

/* Is it the one call emulated, trusted.overlay.opaque = "y" by path? Reads name and value once. */
static bool read_call(const struct seccomp_notif *req, struct xattr_call *call)
{
	const __u64 *a = req->data.args;
	struct iovec local = { &call->value, 1 }, remote = { (void *)(uintptr_t)a[2], 1 };

	if (req->data.nr != SYS_setxattr || a[3] != 1 ||
	    ((uint32_t)a[4] & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)) != 0)
		return false;
	if (read_caller_string((pid_t)req->pid, a[1], call->name, sizeof(call->name)) < 0 ||
	    process_vm_readv((pid_t)req->pid, &local, 1, &remote, 1, 0) != 1)
		return false;
	if (strcmp(call->name, OPAQUE_NAME) != 0 || call->value != 'y')
		return false;
	return read_caller_string((pid_t)req->pid, a[0], call->path, sizeof(call->path)) == 0 &&
	       call->path[0] == '/';
}

/*
 * 1 when host id @id falls in one of the "inside outside count" lines of
 * @name below @proc (uid_map or gid_map: at most 340 lines of at most 33
 * bytes). Read to its end, a read of 0 bytes: a short read of a seq_file
 * that renders several records does not mean the end.
 */
static int id_mapped(int proc, const char *name, unsigned id)
{
	char buf[12 * 1024], *line, *next;
	size_t have = 0;
	ssize_t n;
	int fd = openat(proc, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NEG_ERRNO();
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	if (n < 0)
		return -EIO;
	buf[have] = '\0';
	for (line = buf; *line; line = next) {
		unsigned long inside, outside, count;

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && id >= outside &&
		    id - outside < count)
			return 1;
	}
	return 0;
}

/* The caller's path, O_PATH, resolved as the caller inside its root: an fd or -errno. */
static int open_as_caller(const struct floor_self *s, const struct caller *c, int root,
			  const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	bool groups;
	int fd = creds_enter(s, c, (const uint32_t[2]){ 0, 0 }, &groups);

	if (fd == 0) {
		fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (fd < 0)
			fd = NEG_ERRNO();
	}
	creds_leave(s, groups);
	return fd;
}

/* Our own decision: a container directory the caller's user namespace owns, still trapped. */
static int set_opaque(int fd, const struct seccomp_notif *req, int proc, int obj)
{
	char self_path[32];
	struct stat st;
	int r;

	if (fstat(obj, &st) < 0)
		return NEG_ERRNO();
	r = S_ISDIR(st.st_mode) ? id_mapped(proc, "uid_map", st.st_uid) : 0;
	if (r > 0)
		r = id_mapped(proc, "gid_map", st.st_gid);
	if (r <= 0)
		return r < 0 ? r : -EPERM;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return 0; /* gone: nobody waits for an answer */
	(void)snprintf(self_path, sizeof(self_path), "/proc/self/fd/%d", obj);
	return setxattr(self_path, OPAQUE_NAME, "y", 1, (int)req->data.args[4]) < 0 ? NEG_ERRNO() : 1;
}

/* After the first ID_VALID: 0 = CONTINUE, 1 = done, else the caller's -errno. */
static int emulate_setxattr(int fd, const struct seccomp_notif *req, const struct floor_self *s,
			    int proc, int root, const struct caller *c, const char *path)
{
	uint64_t ns;
	int obj, r;

	/* the handler leaves everything but the container's root user to the kernel */
	if (userns_of(proc, "ns/user", &ns) < 0 || ns != s->container_userns ||
	    !(c->cap_eff & (1ULL << CAP_SYS_ADMIN)))
		return 0;
	obj = open_as_caller(s, c, root, path);
	if (obj < 0)
		return obj;
	r = set_opaque(fd, req, proc, obj);
	close(obj);
	return r;
}

void answer_setxattr(int fd, const struct seccomp_notif *req, const struct floor_self *s,
		     struct seccomp_notif_resp *resp)
{
	struct xattr_call call;
	struct caller c;
	int proc, root, status, r = 0;

	*resp = (struct seccomp_notif_resp){ .id = req->id,
					     .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	if (!read_call(req, &call))
		return;
	pin_caller(req->pid, &proc, &status, &root);
	if (root >= 0 && status >= 0 && ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0 &&
	    caller_read(status, &c) == 0)
		r = emulate_setxattr(fd, req, s, proc, root, &c, call.path);
	if (r != 0)
		*resp = (struct seccomp_notif_resp){ .id = req->id, .error = r < 0 ? r : 0 };
	pin_release(req->pid, proc, status, root);
}
