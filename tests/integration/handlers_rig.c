/* SPDX-License-Identifier: Apache-2.0 */
/* The handler tests' rig: see handlers_rig.h. */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "handlers/handler.h"
#include "fdpass.h"
#include "handlers_rig.h"
#include "userns_child.h"

struct rig h;

/* ---------------- child side ---------------- */

static void drop_mknod(bool drop)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	syscall(SYS_capget, &hdr, d);
	if (drop)
		d[0].effective &= ~(1u << CAP_MKNOD);
	else
		d[0].effective |= 1u << CAP_MKNOD;
	syscall(SYS_capset, &hdr, d);
}

static long run_ptr(const struct cmd *c)
{
	static char longp[PATH_MAX + 16];
	char *p;

	if (c->prio == 0)
		return syscall(SYS_mknod, (void *)1, S_IFCHR | 0666, makedev(1, 3));
	if (c->prio == 1) {
		p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p + 4096, 4096);
		memset(p, 'a', 4096);
		/* shorter than PATH_MAX, no NUL before the hole: EFAULT (a full page would be ENAMETOOLONG) */
		return syscall(SYS_mknod, p + 100, S_IFCHR | 0666, makedev(1, 3));
	}
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	return syscall(SYS_mknod, longp, S_IFCHR | 0666, makedev(1, 3));
}

static void become(const struct cmd *c)
{
	gid_t groups[16];

	for (int i = 0; i < c->n_groups && i < 16; i++)
		groups[i] = c->fsgid + 1 + (gid_t)i;
	if (syscall(SYS_setgroups, (size_t)c->n_groups, groups) < 0)
		_exit(100);
	(void)setfsgid(c->fsgid);
	(void)setfsuid(c->fsuid);
	/* a non-zero fsuid dropped CAP_MKNOD from the effective set: raise it again */
	drop_mknod(false);
	umask(c->umask);
}

static long run_as(const struct cmd *c)
{
	pid_t g = fork();
	int status;

	if (g == 0) {
		become(c);
		_exit(syscall(SYS_mknod, c->path, c->mode, c->dev) == 0 ? 0 : errno);
	}
	if (waitpid(g, &status, 0) != g || !WIFEXITED(status))
		return -1;
	errno = WEXITSTATUS(status);
	return errno ? -1 : 0;
}

static long run_one(const struct cmd *c, struct result *res)
{
	struct sched_param sp = { .sched_priority = c->prio };
	struct stat st;
	int fd = -1, dfd;
	char buf[8];
	long r;

	switch (c->op) {
	case OP_MKNOD:
		return syscall(SYS_mknod, c->path, c->mode, c->dev);
	case OP_MKNODAT:
		dfd = c->dir[0] == '\0' ? AT_FDCWD : strcmp(c->dir, "BAD") == 0 ? 999 : open(c->dir, O_PATH);
		r = mknodat(dfd, c->path, c->mode, c->dev);
		if (dfd >= 0 && dfd != 999) {
			int e = errno;
			close(dfd);
			errno = e;
		}
		return r;
	case OP_MKNOD_NOCAP:
		drop_mknod(true);
		r = syscall(SYS_mknod, c->path, c->mode, c->dev);
		fd = errno;
		drop_mknod(false);
		errno = fd;
		return r;
	case OP_MKNOD_PTR:
		return run_ptr(c);
	case OP_MKNOD_KILLED: {
		pid_t g = fork();
		int status;

		if (g == 0)
			_exit(syscall(SYS_mknod, c->path, c->mode, c->dev) == 0 ? 0 : 1);
		waitpid(g, &status, 0);
		return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
	}
	case OP_CHDIR:
		return chdir(c->path);
	case OP_RW:
		fd = open(c->path, O_RDWR);
		if (fd < 0)
			return -1;
		r = write(fd, "hello", 5) == 5 && read(fd, buf, sizeof(buf)) == 0 ? 0 : -1;
		close(fd);
		return r;
	case OP_STAT:
		r = lstat(c->path, &st);
		res->mode = st.st_mode;
		res->rdev = st.st_rdev;
		return r;
	case OP_SETXATTR:
		if (c->prio == 0)
			return setxattr(c->path, c->name, "y", 1, 0);
		if (c->prio == 1)
			return lsetxattr(c->path, c->name, "y", 1, 0);
		fd = open(c->path, O_RDONLY | O_DIRECTORY);
		r = fsetxattr(fd, c->name, "y", 1, 0);
		close(fd);
		return r;
	case OP_SCHED:
		return syscall(SYS_sched_setscheduler, c->pid, c->policy,
			       c->mode == 1 ? NULL : c->mode == 2 ? (void *)8 : (void *)&sp);
	case OP_SCHED_GET:
		r = sched_getscheduler(c->pid);
		sched_getparam(c->pid, &sp);
		res->mode = (unsigned)sp.sched_priority;
		return r;
	case OP_MKNOD_AS:
		return run_as(c);
	default:
		_exit(0);
	}
}

static int install_filter(void)
{
	static const char *const names[] = { "mknod", "mknodat", "setxattr", "lsetxattr",
					     "fsetxattr", "sched_setscheduler" };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(names[i]), 0) < 0)
			return -1;
	if (seccomp_load(ctx) < 0)
		return -1;
	return seccomp_notify_fd(ctx);
}

/* pid 1 of the new pid namespace: the "container init" and the caller */
static void container_init(int sock)
{
	char dev[128];
	struct cmd c;
	int fd;

	snprintf(dev, sizeof(dev), "%s/dev", h.root);
	/* a tmpfs mounted inside the user namespace: SB_I_NODEV */
	if (mount("tmpfs", dev, "tmpfs", 0, "mode=0755") < 0 || chroot(h.root) < 0 || chdir("/") < 0)
		_exit(3);
	if (fork() == 0) { /* the sibling, pid 2 */
		for (;;)
			pause();
	}
	umask(022);
	fd = install_filter();
	if (fd < 0)
		_exit(4);
	(void)fdpass_send(sock, &(int){ 0 }, sizeof(int), &fd, 1);
	close(fd);
	while (read(sock, &c, sizeof(c)) == sizeof(c)) {
		struct result res = { 0 };

		errno = 0;
		res.ret = run_one(&c, &res);
		res.err = res.ret < 0 ? errno : 0;
		if (write(sock, &res, sizeof(res)) != sizeof(res))
			break;
	}
	_exit(0);
}

/* ---------------- supervisor side ---------------- */

/* Serve one notification of the child (@unused: userns_child_call()'s userdata). */
static void supervise_one(void *unused)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp = { 0 };
	struct notif_reply reply = { .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	struct notif_ctx ctx = { .req = &req, .notify_fd = h.notify_fd, .init_pid = h.init_pid,
				 .proc_fd = -EBADF, .mem_fd = -EBADF, .cache = h.cache };
	handler_fn *fn = NULL;
	int r;

	(void)unused;
	if (notify_recv(h.notify_fd, &req) < 0)
		return;
	h.n_notif++;
	if (h.kill_next) {
		h.kill_next = false;
		kill((pid_t)req.pid, SIGKILL);
		for (int i = 0; i < 1000 && notify_id_valid(h.notify_fd, req.id) == 0; i++)
			usleep(1000);
	}
	if ((int)req.data.nr == h.nr_mknod)
		fn = handle_mknod;
	else if ((int)req.data.nr == h.nr_mknodat)
		fn = handle_mknodat;
	else if ((int)req.data.nr == h.nr_sched)
		fn = handle_sched_setscheduler;
	else
		fn = handle_setxattr;
	r = fn(&ctx, &reply);
	h.last_handler_r = r;
	if (r < 0)
		reply = (struct notif_reply){ .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	h.last_flags = reply.flags;
	resp = (struct seccomp_notif_resp){ .id = req.id, .val = reply.val, .error = reply.error,
					    .flags = reply.flags };
	(void)notify_send(h.notify_fd, &resp);
}

bool try_call(const struct cmd *c, struct result *res)
{
	*res = (struct result){ .ret = -999 };
	h.n_notif = 0;
	h.last_handler_r = 0;
	h.last_flags = 0;
	return userns_child_call(h.sock, h.notify_fd, c, sizeof(*c), res, sizeof(*res), 10000,
				 supervise_one, NULL);
}

struct result call(const struct cmd *c)
{
	struct result res;

	assert_true(try_call(c, &res));
	return res;
}

struct result do_mknod(const char *path, unsigned mode, unsigned dev)
{
	struct cmd c = { .op = OP_MKNOD, .mode = mode, .dev = dev };

	snprintf(c.path, sizeof(c.path), "%s", path);
	return call(&c);
}

struct result do_op(int op, const char *dir, const char *path)
{
	struct cmd c = { .op = op, .mode = S_IFCHR | 0666, .dev = makedev(1, 3) };

	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	snprintf(c.path, sizeof(c.path), "%s", path);
	return call(&c);
}

bool host_exists(const char *rel_to_tmp)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", h.tmp, rel_to_tmp);
	return lstat(p, &st) == 0;
}

void host_path(char *buf, size_t size, const char *rel_to_root)
{
	snprintf(buf, size, "%s%s", h.root, rel_to_root);
}

void host_mkdir(const char *rel, uid_t uid)
{
	char p[256];

	host_path(p, sizeof(p), rel);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, uid, uid), 0);
}

void host_chmod(const char *rel, mode_t mode)
{
	char p[256];

	host_path(p, sizeof(p), rel);
	assert_int_equal(chmod(p, mode), 0);
}

/* ---------------- setup ---------------- */

int rig_setup(void **state)
{
	int v, init = 0;

	(void)state;
	h.nr_mknod = seccomp_syscall_resolve_name("mknod");
	h.nr_mknodat = seccomp_syscall_resolve_name("mknodat");
	h.nr_sched = seccomp_syscall_resolve_name("sched_setscheduler");
	snprintf(h.tmp, sizeof(h.tmp), "/tmp/interceptd-handlers.XXXXXX");
	if (!mkdtemp(h.tmp))
		return -1;
	(void)chmod(h.tmp, 0755);
	snprintf(h.root, sizeof(h.root), "%s/root", h.tmp);
	snprintf(h.outside, sizeof(h.outside), "%s/outside", h.tmp);
	if (mkdir(h.root, 0755) < 0 || mkdir(h.outside, 0777) < 0)
		return -1;
	host_mkdir("/tmp", HOST_ID);
	host_mkdir("/dev", HOST_ID);
	if (userns_child_start_init(container_init, &h.c1, &h.sock) < 0)
		return -1;
	/* the container init's pid, then the notify fd from it, in either order */
	for (int i = 0; i < 2; i++) {
		int fd = -1;

		if (fdpass_recv(h.sock, &v, sizeof(v), &fd, NULL) != sizeof(v))
			return -1;
		if (fd >= 0)
			h.notify_fd = fd;
		else
			init = v;
	}
	h.init_pid = init;
	return h.notify_fd > 0 && h.init_pid > 0 ? 0 : -1;
}

int rig_teardown(void **state)
{
	char cmd[160];

	(void)state;
	kill(h.c1, SIGKILL);
	waitpid(h.c1, NULL, 0);
	/* the child's mounts died with its namespace; nothing below is a mount point */
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", h.tmp);
	return system(cmd) == 0 ? 0 : -1;
}
