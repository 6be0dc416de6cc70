/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests for the mknod, setxattr and sched_setscheduler handlers
 * against a real notify fd. A child unshares a user namespace (0 -> 100000),
 * then mount and pid namespaces, chroots into a scratch rootfs and installs a
 * NOTIFY filter; this process is the supervisor and calls the handlers
 * directly. The child runs one command at a time from us (a tiny RPC), so
 * every test sees the trapped call's real result in the child.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "handlers/handler.h"

#define HOST_ID 100000

enum op {
	OP_MKNOD,
	OP_MKNODAT,      /* dir: opened O_PATH as dirfd ("" = AT_FDCWD, "BAD" = 999, else path) */
	OP_MKNOD_NOCAP,  /* CAP_MKNOD dropped from the effective set */
	OP_MKNOD_PTR,    /* prio: 0 bad pointer, 1 unterminated before an unmapped page, 2 over-long */
	OP_MKNOD_KILLED, /* in a grandchild the supervisor kills */
	OP_CHDIR,
	OP_RW,           /* open path O_RDWR, write, read */
	OP_STAT,
	OP_SETXATTR,     /* prio: 0 setxattr, 1 lsetxattr, 2 fsetxattr */
	OP_SCHED,        /* prio param, pid, policy; mode 1: NULL param, 2: bad param */
	OP_SCHED_GET,
	OP_SWAP_XATTR,   /* a thread flips the name while the main thread calls setxattr */
	OP_SWAP_MKNOD,   /* a thread flips the path while the main thread calls mknod */
	OP_MKNOD_AS,     /* in a grandchild with fsuid, fsgid, groups and umask from the cmd */
	OP_EXIT,
};

struct cmd {
	int op;
	char dir[256];
	char path[256];
	char name[64];
	unsigned mode, dev;
	int pid, policy, prio;
	uid_t fsuid;
	gid_t fsgid;
	int n_groups; /* groups fsgid + 1 ... fsgid + n_groups */
	mode_t umask;
};

struct result {
	long ret;
	int err;
	unsigned mode;
	unsigned long rdev;
};

static struct {
	char tmp[64], root[96], outside[96];
	int sock;       /* to the child */
	int notify_fd;
	pid_t c1, init_pid;
	bool kill_next; /* supervisor kills the next caller before handling */
	struct handler_cache *cache; /* what the handlers get as ctx->cache (NULL by default) */
	int n_notif, last_handler_r;
	uint32_t last_flags;
	int nr_mknod, nr_mknodat, nr_setxattr, nr_lsetxattr, nr_fsetxattr, nr_sched;
} h;

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

static volatile int swap_stop;
static char swap_buf[256];
static const char *swap_a, *swap_b;

static void *swapper(void *arg)
{
	(void)arg;
	while (!swap_stop) {
		strcpy(swap_buf, swap_a);
		strcpy(swap_buf, swap_b);
	}
	return NULL;
}

static long run_swap(const struct cmd *c, bool xattr)
{
	pthread_t th;
	long ok = 0;

	swap_a = xattr ? "trusted.overlay.opaque" : c->path;
	swap_b = xattr ? "trusted.overlay.zzzzzz" : c->dir;
	strcpy(swap_buf, swap_a);
	swap_stop = 0;
	pthread_create(&th, NULL, swapper, NULL);
	/* 200 calls, then on until one went through: the swapper can fall into step with the reads */
	for (int i = 0; i < 200 || (ok == 0 && i < 20000); i++) {
		long r = xattr ? setxattr(c->path, swap_buf, "y", 1, 0)
			       : mknod(swap_buf, S_IFCHR | 0666, makedev(1, 3));
		if (r == 0)
			ok++;
		if (!xattr)
			(void)unlink(c->path);
	}
	swap_stop = 1;
	pthread_join(th, NULL);
	return ok;
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
	case OP_SWAP_XATTR:
		return run_swap(c, true);
	case OP_SWAP_MKNOD:
		return run_swap(c, false);
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

static void send_fd(int sock, int fd, int value)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &value, .iov_len = sizeof(value) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	(void)sendmsg(sock, &msg, 0);
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
	send_fd(sock, fd, 0);
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

static void child_main(int sock, int sync_fd)
{
	char b;
	pid_t init;
	int status;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER) < 0)
		_exit(77);
	(void)write(sync_fd, "u", 1);
	if (read(sync_fd, &b, 1) != 1 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		_exit(2);
	if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(77);
	init = fork();
	if (init == 0)
		container_init(sock);
	send_fd(sock, -1, init); /* its pid in our (the host's) namespace */
	waitpid(init, &status, 0);
	_exit(0);
}

/* ---------------- supervisor side ---------------- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int r = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return r;
}

static int recv_fd(int sock, int *value)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = value, .iov_len = sizeof(*value) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &msg, 0) <= 0)
		return -2;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void supervise_one(void)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp = { 0 };
	struct notif_reply reply = { .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	struct notif_ctx ctx = { .req = &req, .notify_fd = h.notify_fd, .init_pid = h.init_pid,
				 .proc_fd = -EBADF, .mem_fd = -EBADF, .cache = h.cache };
	handler_fn *fn = NULL;
	int r;

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

/* Run @c in the child, serving its notifications on this thread. false: the RPC broke. */
static bool try_call(const struct cmd *c, struct result *res)
{
	struct pollfd p[2] = { { .fd = h.notify_fd, .events = POLLIN }, { .fd = h.sock, .events = POLLIN } };

	*res = (struct result){ .ret = -999 };
	h.n_notif = 0;
	h.last_handler_r = 0;
	h.last_flags = 0;
	if (write(h.sock, c, sizeof(*c)) != sizeof(*c))
		return false;
	for (;;) {
		if (poll(p, 2, 10000) <= 0)
			return false;
		if (p[0].revents & POLLIN)
			supervise_one();
		if (p[1].revents & POLLIN)
			return read(h.sock, res, sizeof(*res)) == sizeof(*res);
	}
}

static struct result call(const struct cmd *c)
{
	struct result res;

	assert_true(try_call(c, &res));
	return res;
}

static struct result do_mknod(const char *path, unsigned mode, unsigned dev)
{
	struct cmd c = { .op = OP_MKNOD, .mode = mode, .dev = dev };

	snprintf(c.path, sizeof(c.path), "%s", path);
	return call(&c);
}

static struct result do_op(int op, const char *dir, const char *path)
{
	struct cmd c = { .op = op, .mode = S_IFCHR | 0666, .dev = makedev(1, 3) };

	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	snprintf(c.path, sizeof(c.path), "%s", path);
	return call(&c);
}

static bool host_exists(const char *rel_to_tmp)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", h.tmp, rel_to_tmp);
	return lstat(p, &st) == 0;
}

static void host_path(char *buf, size_t size, const char *rel_to_root)
{
	snprintf(buf, size, "%s%s", h.root, rel_to_root);
}

static void host_mkdir(const char *rel, uid_t uid)
{
	char p[256];

	host_path(p, sizeof(p), rel);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, uid, uid), 0);
}

static void host_chmod(const char *rel, mode_t mode)
{
	char p[256];

	host_path(p, sizeof(p), rel);
	assert_int_equal(chmod(p, mode), 0);
}

#define assert_result(res, want_ret, want_err)                                                     \
	do {                                                                                       \
		struct result _r = (res);                                                          \
		assert_int_equal(_r.err, (want_err));                                              \
		assert_int_equal(_r.ret, (want_ret));                                              \
	} while (0)

/* ---- mknod ---- */

static void test_mknod_null_in_host_owned_dir(void **state)
{
	char p[256];
	struct stat st;

	(void)state;
	assert_result(do_mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3)), 0, 0);
	assert_int_equal(h.n_notif, 1);
	assert_int_equal(h.last_flags, 0); /* emulated, not continued */
	host_path(p, sizeof(p), "/tmp/null");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(st.st_mode & 07777, 0644); /* the caller's umask 022 */
	assert_int_equal(st.st_uid, HOST_ID);
	assert_int_equal(st.st_gid, HOST_ID);
	assert_result(do_op(OP_RW, "", "/tmp/null"), 0, 0);
}

static void test_mknod_refused_devices_continue(void **state)
{
	(void)state;
	assert_result(do_mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)), -1, EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_result(do_mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)), -1, EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_false(host_exists("root/tmp/mem"));
}

static void test_mknod_whiteout_native(void **state)
{
	char p[256];
	struct stat st;

	(void)state;
	assert_result(do_mknod("/tmp/wh", S_IFCHR | 0, makedev(0, 0)), 0, 0);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	host_path(p, sizeof(p), "/tmp/wh");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_rdev, makedev(0, 0));
}

static void test_mknod_without_cap_mknod_eperm(void **state)
{
	(void)state;
	assert_result(do_op(OP_MKNOD_NOCAP, "", "/tmp/nocap"), -1, EPERM);
	assert_int_equal(h.last_flags, 0);
	assert_false(host_exists("root/tmp/nocap"));
}

static void test_mknod_symlink_escape_confined(void **state)
{
	char link[256];

	(void)state;
	host_path(link, sizeof(link), "/tmp/esc");
	assert_int_equal(symlink(h.outside, link), 0);
	host_path(link, sizeof(link), "/tmp/esc2");
	assert_int_equal(symlink("../../../../../../../../outside", link), 0);
	assert_result(do_mknod("/tmp/esc/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_mknod("/tmp/esc2/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_op(OP_MKNODAT, "/tmp", "../../../../outside/y"), -1, ENOENT);
	assert_false(host_exists("outside/x"));
	assert_false(host_exists("outside/y"));
}

static void test_mknod_relative_cwd_and_dirfd(void **state)
{
	(void)state;
	host_mkdir("/tmp/sub", HOST_ID);
	assert_result(do_op(OP_MKNODAT, "/tmp/sub", "rel"), 0, 0);
	assert_true(host_exists("root/tmp/sub/rel"));
	assert_result(do_op(OP_CHDIR, "", "/tmp/sub"), 0, 0);
	assert_result(do_op(OP_MKNODAT, "", "cwdnode"), 0, 0);
	assert_true(host_exists("root/tmp/sub/cwdnode"));
	/* ".." above the cwd: resolved from the root with the cwd's path */
	assert_result(do_op(OP_MKNODAT, "", "../dotdot"), 0, 0);
	assert_true(host_exists("root/tmp/dotdot"));
	assert_result(do_op(OP_MKNODAT, "", "../../../../../tmp/deep"), 0, 0);
	assert_true(host_exists("root/tmp/deep"));
	assert_result(do_op(OP_CHDIR, "", "/"), 0, 0);
	assert_result(do_op(OP_MKNODAT, "/tmp/null", "x"), -1, ENOTDIR);
	assert_result(do_op(OP_MKNODAT, "BAD", "x"), -1, EBADF);
}

static void test_mknod_errnos(void **state)
{
	struct cmd c = { .op = OP_MKNOD_PTR };

	(void)state;
	assert_result(do_mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("/nonexistent/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_mknod("/tmp/null/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOTDIR);
	assert_result(do_mknod("/tmp/slash/", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_mknod("/tmp/null/", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("/tmp/.", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("/", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	for (c.prio = 0; c.prio < 3; c.prio++) {
		struct result r = call(&c);

		assert_int_equal(r.err, c.prio == 2 ? ENAMETOOLONG : EFAULT);
		assert_int_equal(h.last_flags, 0);
	}
}

static void test_mknod_nodev_tmpfs_falls_back_to_bind_mount(void **state)
{
	struct cmd c = { .op = OP_STAT, .path = "/dev/null" };
	struct result r;

	(void)state;
	assert_result(do_mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)), 0, 0);
	assert_int_equal(h.last_flags, 0);
	r = call(&c);
	assert_int_equal(r.ret, 0);
	assert_true(S_ISCHR(r.mode));
	assert_int_equal(r.rdev, makedev(1, 3));
	assert_int_equal(r.mode & 07777, 0644);
	assert_result(do_op(OP_RW, "", "/dev/null"), 0, 0);
	assert_result(do_mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
}

static void assert_usable_null(const char *path)
{
	struct cmd c = { .op = OP_STAT };
	struct result r;

	snprintf(c.path, sizeof(c.path), "%s", path);
	r = call(&c);
	assert_int_equal(r.ret, 0);
	assert_true(S_ISCHR(r.mode));
	assert_int_equal(r.rdev, makedev(1, 3));
	assert_result(do_op(OP_RW, "", path), 0, 0);
}

static int count_nodev_slots(const struct nodev_cache *c, bool is_nodev_sb)
{
	int n = 0;

	for (int i = 0; i < NODEV_CACHE_SLOTS; i++)
		n += c->mnt_id[i] != 0 && c->is_nodev_sb[i] == is_nodev_sb;
	return n;
}

/* With a listener cache: the first node on a mount probes, later ones trust the answer. */
static void test_mknod_nodev_answer_cached_per_mount(void **state)
{
	struct handler_cache cache = { .init_started_at = -1 };
	const char *const paths[] = { "/dev/cached1", "/dev/cached2", "/tmp/cached1", "/tmp/cached2" };

	(void)state;
	h.cache = &cache;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_result(do_mknod(paths[i], S_IFCHR | 0666, makedev(1, 3)), 0, 0);
		assert_int_equal(h.last_flags, 0);
		assert_usable_null(paths[i]);
	}
	h.cache = NULL;
	/* one SB_I_NODEV mount (the userns-owned /dev tmpfs), one where devices work */
	assert_int_equal(count_nodev_slots(&cache.nodev, true), 1);
	assert_int_equal(count_nodev_slots(&cache.nodev, false), 1);
	assert_int_equal(cache.init_userns_of, h.init_pid);
}

static void test_mknod_caller_killed(void **state)
{
	struct cmd c = { .op = OP_MKNOD_KILLED, .path = "/tmp/killed", .mode = S_IFCHR | 0666,
			 .dev = makedev(1, 3) };
	struct result r;

	(void)state;
	h.kill_next = true;
	r = call(&c);
	assert_int_equal(r.ret, SIGKILL);
	assert_int_equal(h.last_handler_r, -ENOENT);
	assert_false(host_exists("root/tmp/killed"));
}

static void test_mknod_swapped_path_stays_confined(void **state)
{
	struct cmd c = { .op = OP_SWAP_MKNOD, .path = "/tmp/sw", .dir = "/tmp/esc/sw" };
	struct result r;

	(void)state;
	r = call(&c);
	assert_true(r.ret > 0);
	assert_false(host_exists("outside/sw"));
}

/* ---- the worker thread's own credentials ---- */

struct creds_snapshot {
	uint32_t eff[2], prm[2], inh[2];
	long n_groups;
	gid_t groups[64];
	uid_t fsuid;
	gid_t fsgid;
	mode_t umask;
};

static void creds_snapshot(struct creds_snapshot *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	memset(s, 0, sizeof(*s));
	(void)syscall(SYS_capget, &hdr, d);
	for (int i = 0; i < 2; i++) {
		s->eff[i] = d[i].effective;
		s->prm[i] = d[i].permitted;
		s->inh[i] = d[i].inheritable;
	}
	s->n_groups = syscall(SYS_getgroups, 64, s->groups);
	s->fsuid = (uid_t)syscall(SYS_setfsuid, -1);
	s->fsgid = (gid_t)syscall(SYS_setfsgid, -1);
	s->umask = umask(0);
	(void)umask(s->umask);
}

#define CREDS_CALLS 24
#define OWN_GROUP (HOST_ID + 7) /* the worker's own group list; one caller below has the same */

struct creds_run {
	int n_ok;      /* emulated, node as the caller would have made it */
	int n_exact;   /* thread credentials equal to before afterwards */
	char why[160]; /* the first failure */
};

static void creds_case(int i, struct cmd *c)
{
	static const mode_t umasks[] = { 022, 077, 0, 002 };

	*c = (struct cmd){ .op = OP_MKNOD_AS, .mode = S_IFCHR | 0666, .dev = makedev(1, 3),
			   .fsuid = (uid_t)(i % 5) * 1000, .fsgid = (gid_t)(i % 3) * 1000,
			   .n_groups = i % 4, .umask = umasks[i % 4] };
	if (i % 6 == 5) { /* host groups { OWN_GROUP }: equal to the worker's, no setgroups */
		c->fsgid = OWN_GROUP - HOST_ID - 1;
		c->n_groups = 1;
	}
	snprintf(c->path, sizeof(c->path), "/tmp/anyone/n%d", i);
}

static bool node_as_expected(const struct cmd *c, struct result *res, char *why, size_t size)
{
	char p[512];
	struct stat st;

	host_path(p, sizeof(p), c->path);
	if (res->ret != 0 || h.last_flags != 0 || stat(p, &st) < 0) {
		snprintf(why, size, "%.64s: ret %ld errno %d flags %u", c->path, res->ret, res->err,
			 h.last_flags);
		return false;
	}
	if (st.st_uid != HOST_ID + c->fsuid || st.st_gid != HOST_ID + c->fsgid ||
	    (st.st_mode & 07777) != (0666 & ~c->umask)) {
		snprintf(why, size, "%.64s: owner %u:%u mode %o", c->path, st.st_uid, st.st_gid,
			 st.st_mode & 07777);
		return false;
	}
	return true;
}

/*
 * The worker's own credentials: groups { OWN_GROUP }, and CAP_FSETID permitted
 * but not effective, so that setfsuid(0) on the way back raises more than the
 * thread had.
 */
static int become_worker(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const gid_t own_group = OWN_GROUP;

	if (syscall(SYS_setgroups, 1, &own_group) < 0 || syscall(SYS_capget, &hdr, d) < 0)
		return -1;
	d[0].effective &= ~(1u << CAP_FSETID);
	return (int)syscall(SYS_capset, &hdr, d);
}

/* A worker-like thread; no cmocka asserts off the main thread. */
static void *serve_as_worker(void *arg)
{
	struct creds_run *run = arg;
	struct creds_snapshot before, after;
	struct handler_cache cache = { .init_started_at = -1 };

	if (become_worker() < 0) {
		snprintf(run->why, sizeof(run->why), "becoming a worker: %m");
		return NULL;
	}
	creds_snapshot(&before);
	h.cache = &cache;
	for (int i = 0; i < CREDS_CALLS; i++) {
		char why[sizeof(run->why)];
		struct result res;
		struct cmd c;

		creds_case(i, &c);
		if (!try_call(&c, &res)) {
			snprintf(run->why, sizeof(run->why), "%.64s: the RPC broke", c.path);
			break;
		}
		if (node_as_expected(&c, &res, why, sizeof(why)))
			run->n_ok++;
		else if (!run->why[0])
			memcpy(run->why, why, sizeof(why));
		creds_snapshot(&after);
		if (memcmp(&before, &after, sizeof(before)) == 0)
			run->n_exact++;
		else if (!run->why[0])
			snprintf(run->why, sizeof(run->why), "call %d: thread credentials changed", i);
	}
	h.cache = NULL;
	return NULL;
}

static void test_mknod_worker_creds_restored_exactly(void **state)
{
	struct creds_run run = { .why = "" };
	pthread_t th;

	(void)state;
	host_mkdir("/tmp/anyone", HOST_ID);
	host_chmod("/tmp/anyone", 01777);
	assert_int_equal(pthread_create(&th, NULL, serve_as_worker, &run), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (run.why[0])
		print_message("# %s\n", run.why);
	assert_int_equal(run.n_ok, CREDS_CALLS);
	assert_int_equal(run.n_exact, CREDS_CALLS);
}

/* ---- setxattr ---- */

static struct result do_xattr(int kind, const char *path, const char *name)
{
	struct cmd c = { .op = OP_SETXATTR, .prio = kind };

	snprintf(c.path, sizeof(c.path), "%s", path);
	snprintf(c.name, sizeof(c.name), "%s", name);
	return call(&c);
}

static void test_setxattr_opaque_on_dir(void **state)
{
	char p[256], v[4];

	(void)state;
	host_mkdir("/tmp/ovl", HOST_ID);
	host_mkdir("/tmp/ovl2", HOST_ID);
	host_mkdir("/hostdir", 0);
	assert_result(do_xattr(0, "/tmp/ovl", "trusted.overlay.opaque"), 0, 0);
	assert_int_equal(h.last_flags, 0);
	host_path(p, sizeof(p), "/tmp/ovl");
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_result(do_xattr(2, "/tmp/ovl2", "trusted.overlay.opaque"), 0, 0);
	host_path(p, sizeof(p), "/tmp/ovl2");
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	/* a file, a symlink for lsetxattr, a host-owned dir: what an unprivileged caller gets */
	assert_result(do_xattr(0, "/tmp/null", "trusted.overlay.opaque"), -1, EPERM);
	assert_result(do_xattr(1, "/tmp/esc", "trusted.overlay.opaque"), -1, EPERM);
	assert_result(do_xattr(0, "/hostdir", "trusted.overlay.opaque"), -1, EPERM);
	assert_result(do_xattr(0, "/tmp/esc", "trusted.overlay.opaque"), -1, ENOENT);
	assert_result(do_xattr(0, "/nonexistent", "trusted.overlay.opaque"), -1, ENOENT);
	/* another name: the kernel decides */
	assert_result(do_xattr(0, "/tmp/ovl", "trusted.overlay.redirect"), -1, EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static void test_setxattr_swapped_name_read_once(void **state)
{
	struct cmd c = { .op = OP_SWAP_XATTR, .path = "/tmp/swapdir" };
	char p[256], list[256];

	(void)state;
	host_mkdir("/tmp/swapdir", HOST_ID);
	(void)call(&c);
	host_path(p, sizeof(p), "/tmp/swapdir");
	/* only ever the name we checked, never the swapped one */
	assert_int_equal(listxattr(p, list, sizeof(list)), (ssize_t)sizeof("trusted.overlay.opaque"));
	assert_string_equal(list, "trusted.overlay.opaque");
}

/* ---- sched_setscheduler ---- */

static struct result do_sched(int pid, int policy, int prio, unsigned param_mode)
{
	struct cmd c = { .op = OP_SCHED, .pid = pid, .policy = policy, .prio = prio, .mode = param_mode };

	return call(&c);
}

static void test_sched_sibling_and_errnos(void **state)
{
	struct cmd get = { .op = OP_SCHED_GET, .pid = 2 };
	struct result r;

	(void)state;
	assert_result(do_sched(2, SCHED_RR, 7, 0), 0, 0);
	assert_int_equal(h.last_flags, 0);
	r = call(&get);
	assert_int_equal(r.ret, SCHED_RR);
	assert_int_equal(r.mode, 7);
	assert_result(do_sched(2, SCHED_OTHER, 0, 0), 0, 0);
	assert_result(do_sched(0, SCHED_FIFO, 3, 0), 0, 0);
	assert_result(do_sched(0, SCHED_OTHER, 0, 0), 0, 0);
	assert_result(do_sched(getpid(), SCHED_FIFO, 3, 0), -1, ESRCH);
	assert_result(do_sched(4000000, SCHED_FIFO, 3, 0), -1, ESRCH);
	assert_result(do_sched(2, SCHED_FIFO, 0, 0), -1, EINVAL);
	assert_result(do_sched(2, SCHED_OTHER, 5, 0), -1, EINVAL);
	assert_result(do_sched(2, 6, 0, 0), -1, EINVAL);
	assert_result(do_sched(2, -1, 0, 0), -1, EINVAL);
	assert_result(do_sched(-3, SCHED_FIFO, 3, 0), -1, EINVAL);
	assert_result(do_sched(2, SCHED_FIFO, 3, 1), -1, EINVAL);
	assert_result(do_sched(2, SCHED_FIFO, 3, 2), -1, EFAULT);
}

/* ---------------- setup ---------------- */

static int setup(void **state)
{
	int sp[2], sync[2], v, init = 0;
	char p[256], b;

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
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0)
		return -1;
	h.c1 = fork();
	if (h.c1 == 0) {
		close(sp[0]);
		close(sync[0]);
		child_main(sp[1], sync[1]);
	}
	close(sp[1]);
	close(sync[1]);
	h.sock = sp[0];
	if (read(sync[0], &b, 1) != 1)
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/uid_map", h.c1);
	if (write_file(p, "0 100000 65536\n") < 0)
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/gid_map", h.c1);
	if (write_file(p, "0 100000 65536\n") < 0 || write(sync[0], "g", 1) != 1)
		return -1;
	close(sync[0]);
	/* the container init's pid, then the notify fd from it */
	for (int i = 0; i < 2; i++) {
		int fd = recv_fd(h.sock, &v);

		if (fd == -2)
			return -1;
		if (fd >= 0)
			h.notify_fd = fd;
		else
			init = v;
	}
	h.init_pid = init;
	return h.notify_fd > 0 && h.init_pid > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	kill(h.c1, SIGKILL);
	waitpid(h.c1, NULL, 0);
	/* the child's mounts died with its namespace; nothing below is a mount point */
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", h.tmp);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mknod_null_in_host_owned_dir),
		cmocka_unit_test(test_mknod_refused_devices_continue),
		cmocka_unit_test(test_mknod_whiteout_native),
		cmocka_unit_test(test_mknod_without_cap_mknod_eperm),
		cmocka_unit_test(test_mknod_symlink_escape_confined),
		cmocka_unit_test(test_mknod_relative_cwd_and_dirfd),
		cmocka_unit_test(test_mknod_errnos),
		cmocka_unit_test(test_mknod_nodev_tmpfs_falls_back_to_bind_mount),
		cmocka_unit_test(test_mknod_nodev_answer_cached_per_mount),
		cmocka_unit_test(test_mknod_caller_killed),
		cmocka_unit_test(test_mknod_swapped_path_stays_confined),
		cmocka_unit_test(test_mknod_worker_creds_restored_exactly),
		cmocka_unit_test(test_setxattr_opaque_on_dir),
		cmocka_unit_test(test_setxattr_swapped_name_read_once),
		cmocka_unit_test(test_sched_sibling_and_errnos),
	};

	if (geteuid() != 0)
		return 77;
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
