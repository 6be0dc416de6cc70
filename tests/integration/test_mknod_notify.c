/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests for the console (5:1), the undo of a failed mknod bind
 * mount, and setxattr from a nested user namespace, against a real notify fd.
 *
 * The "container" is one child process, the init of a pid namespace owned by
 * its user namespace (0 -> 100000): its own mount namespace with a scratch
 * root, a /dev tmpfs mounted inside the user namespace (so device nodes on it
 * cannot be opened: SB_I_NODEV) and a fresh devpts whose first pty can play
 * the container's console. It installs a NOTIFY filter and then runs each
 * command from us in a new process of its own, so every command may change
 * its credentials or namespaces. This process is the supervisor and calls
 * the handlers directly.
 */
#include <fcntl.h>
#include <grp.h>
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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

#include "daemon/log.h"
#include "daemon/engine/notify.h"
#include "handlers/handler.h"
#include "tests/integration/fdpass.h"
#include "tests/integration/userns_child.h"
#include "tests/integration/userns_skip.h"

#define HOST_ID USERNS_CHILD_HOST_ID
#define USER_ID 1000 /* an ordinary user of the container */
#define OPAQUE "trusted.overlay.opaque"

enum op {
	OP_MKNOD,           /* path mode dev, as the container's root */
	OP_MKNOD_FOREIGN,   /* path mode dev, as USER_ID with only CAP_MKNOD, see foreign_root() */
	OP_SETXATTR,        /* path: OPAQUE = "y" */
	OP_SETXATTR_NESTED, /* path: the same from a nested user namespace (unshare -Ur) */
	OP_MKDIR,           /* path mode */
	OP_CREATE,          /* path text: a new file holding text */
	OP_WRITE,           /* path text: write text to an existing file */
	OP_BIND,            /* text onto path */
	OP_UMOUNT,          /* path */
	OP_STAT,            /* path: lstat() */
	OP_INIT_NESTED,     /* the init itself becomes USER_ID, root of a nested user namespace */
};

struct cmd {
	int op;
	char path[128];
	char text[64];
	unsigned mode;
	unsigned long dev;
};

struct result {
	int ret, err;
	unsigned mode;
	unsigned long rdev;
};

static struct {
	char tmp[64], root[96], log[96]; /* log: the handlers' log, at debug level */
	pid_t child;    /* made the user and pid namespaces, then waits for the init */
	pid_t init;     /* the container's init: pid 1 of that pid namespace */
	pid_t ctx_init; /* the init the handlers are told of (normally init) */
	int sock;       /* commands to the container, results back */
	int notify_fd;  /* its listener */
	int pty_fd;     /* the master of the pty the container may use as its console */
	int nr_mknod, nr_mknodat, nr_setxattr;
	uint32_t last_flags;
	int last_handler_r;
} h = { .sock = -1, .notify_fd = -1, .pty_fd = -1 };

/* ---------------- the container side ---------------- */

static struct result *op_result; /* MAP_SHARED: filled by each command's process */
static int host_proc_fd = -1;    /* the host's /proc, kept from before the chroot */

/* Write @s to @name below @dfd, opened with @flags (O_CREAT: mode 0644) added. */
static int write_at(int dfd, const char *name, const char *s, int flags)
{
	int fd = openat(dfd, name, O_WRONLY | O_NOCTTY | O_CLOEXEC | flags, 0644);
	ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* unshare -Ur as @id: root of a user namespace nested in the container's, all capabilities */
static int nested_userns(unsigned id)
{
	char map[32];

	snprintf(map, sizeof(map), "0 %u 1", id);
	/* our setresuid() at the start made us undumpable: /proc/self/ would be root's */
	if (prctl(PR_SET_DUMPABLE, 1) < 0 || unshare(CLONE_NEWUSER) < 0 ||
	    write_at(host_proc_fd, "self/setgroups", "deny", 0) < 0 ||
	    write_at(host_proc_fd, "self/uid_map", map, 0) < 0 ||
	    write_at(host_proc_fd, "self/gid_map", map, 0) < 0)
		return -1;
	return 0;
}

/* An init that runs as an ordinary user (OCI process.user) and starts with unshare -Ur. */
static int init_nested_userns(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(USER_ID, USER_ID, USER_ID) < 0 ||
	    setresuid(USER_ID, USER_ID, USER_ID) < 0)
		return -1;
	return nested_userns(USER_ID);
}

/*
 * Keep the root in the container's mount namespace, but move the process to a
 * copy of it: the daemon makes the node under that root, and a bind mount in
 * the process's own namespace cannot reach it, so the nodev fallback fails
 * for real. Then become USER_ID holding CAP_MKNOD and nothing else: a sticky
 * directory's files of others are out of its reach.
 */
static int foreign_root(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2] = { { .effective = 1u << CAP_MKNOD,
						    .permitted = 1u << CAP_MKNOD } };
	int old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (old_root < 0 || unshare(CLONE_NEWNS) < 0 || fchdir(old_root) < 0 || chroot(".") < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(USER_ID, USER_ID, USER_ID) < 0 || setresuid(USER_ID, USER_ID, USER_ID) < 0)
		return -1;
	return (int)syscall(SYS_capset, &hdr, caps);
}

static int run_op(const struct cmd *c, struct result *res)
{
	struct stat st;

	switch (c->op) {
	case OP_MKNOD_FOREIGN:
		if (foreign_root() < 0)
			return -1;
		/* fall through */
	case OP_MKNOD:
		return mknod(c->path, c->mode, c->dev);
	case OP_SETXATTR_NESTED:
		if (nested_userns(0) < 0)
			return -1;
		/* fall through */
	case OP_SETXATTR:
		return setxattr(c->path, OPAQUE, "y", 1, 0);
	case OP_MKDIR:
		return mkdir(c->path, 0) < 0 ? -1 : chmod(c->path, c->mode);
	case OP_CREATE:
		return write_at(AT_FDCWD, c->path, c->text, O_CREAT | O_EXCL);
	case OP_WRITE:
		return write_at(AT_FDCWD, c->path, c->text, 0);
	case OP_BIND:
		return mount(c->text, c->path, NULL, MS_BIND, NULL);
	case OP_UMOUNT:
		return umount2(c->path, MNT_DETACH);
	case OP_STAT:
		if (lstat(c->path, &st) < 0)
			return -1;
		res->mode = st.st_mode;
		res->rdev = st.st_rdev;
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}

/* Run @c in a new process, or in the init itself for OP_INIT_NESTED; the result in op_result. */
static void run_cmd(const struct cmd *c)
{
	int status;
	pid_t pid = c->op == OP_INIT_NESTED ? 0 : fork();

	if (pid == 0) {
		*op_result = (struct result){ 0 };
		errno = 0;
		op_result->ret = c->op == OP_INIT_NESTED ? init_nested_userns() : run_op(c, op_result);
		op_result->err = op_result->ret < 0 ? errno : 0;
		if (c->op == OP_INIT_NESTED)
			return;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		*op_result = (struct result){ .ret = -1, .err = ECHILD };
}

static void serve_commands(int sock)
{
	struct cmd c;

	while (read(sock, &c, sizeof(c)) == sizeof(c)) {
		run_cmd(&c);
		if (write(sock, op_result, sizeof(*op_result)) != sizeof(*op_result))
			break;
	}
}

/*
 * The container's mounts, then pivot_root (a chrooted process may not create
 * user namespaces). Returns the master of devpts' first pty, or -1.
 */
static int make_container(void)
{
	int pty;

	host_proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (host_proc_fd < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(h.root, h.root, NULL, MS_BIND, NULL) < 0 || chdir(h.root) < 0 ||
	    mount("tmpfs", "dev", "tmpfs", 0, "mode=0755") < 0 || mkdir("dev/pts", 0755) < 0 ||
	    mount("devpts", "dev/pts", "devpts", 0, "newinstance,ptmxmode=0666,mode=0620") < 0)
		return -1;
	pty = open("dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty < 0 || unlockpt(pty) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -1;
	return pty;
}

static int install_filter(void)
{
	static const char *const names[] = { "mknod", "mknodat", "setxattr" };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0) < 0)
			return -1;
	}
	if (seccomp_load(ctx) < 0)
		return -1;
	return seccomp_notify_fd(ctx);
}

/* Both fds in one message: the listener, then the pty master. */
static int send_two_fds(int sock, int a, int b)
{
	int fds[2] = { a, b };

	return fdpass_send(sock, "f", 1, fds, 2) == 1 ? 0 : -1;
}

static void container_main(int sock, int sync_fd)
{
	int pty, listener;

	op_result = mmap(NULL, sizeof(*op_result), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (op_result == MAP_FAILED)
		_exit(77);
	userns_child_enter_init(sync_fd);
	pty = make_container();
	if (pty < 0)
		_exit(77);
	listener = install_filter();
	if (listener < 0 || send_two_fds(sock, listener, pty) < 0)
		_exit(4);
	close(listener);
	close(pty);
	serve_commands(sock);
	_exit(0);
}

/* ---------------- the supervisor side ---------------- */

/* Serve one notification of the container (@unused: userns_child_call()'s userdata). */
static void handle_one(void *unused)
{
	struct seccomp_notif req;
	struct notif_reply reply;
	struct notif_ctx ctx = { .req = &req, .notify_fd = h.notify_fd, .init_pid = h.ctx_init,
				 .proc_fd = -EBADF, .mem_fd = -EBADF };
	handler_fn *fn = handle_mknod;
	struct seccomp_notif_resp resp;

	(void)unused;
	if (notify_recv(h.notify_fd, &req) < 0)
		return;
	if ((int)req.data.nr == h.nr_mknodat)
		fn = handle_mknodat;
	else if ((int)req.data.nr == h.nr_setxattr)
		fn = handle_setxattr;
	h.last_handler_r = fn(&ctx, &reply);
	if (h.last_handler_r < 0)
		reply_continue(&reply);
	h.last_flags = reply.flags;
	resp = (struct seccomp_notif_resp){ .id = req.id, .val = reply.val, .error = reply.error,
					    .flags = reply.flags };
	(void)notify_send(h.notify_fd, &resp);
}

/* Run @c in the container, answering its notifications on this thread. false: the link broke. */
static bool run_in_container(const struct cmd *c, struct result *res)
{
	h.last_flags = UINT32_MAX; /* "no notification" */
	h.last_handler_r = 0;
	return userns_child_call(h.sock, h.notify_fd, c, sizeof(*c), res, sizeof(*res), 10000,
				 handle_one, NULL);
}

static struct result run(int op, const char *path, const char *text, unsigned mode,
			 unsigned long dev)
{
	struct cmd c = { .op = op, .mode = mode, .dev = dev };
	struct result res;

	snprintf(c.path, sizeof(c.path), "%s", path);
	snprintf(c.text, sizeof(c.text), "%s", text);
	assert_true(run_in_container(&c, &res));
	return res;
}

#define assert_ok(res)                                                                             \
	do {                                                                                       \
		struct result _r = (res);                                                          \
		assert_int_equal(_r.err, 0);                                                       \
		assert_int_equal(_r.ret, 0);                                                       \
	} while (0)
#define assert_errno(res, want)                                                                    \
	do {                                                                                       \
		struct result _r = (res);                                                          \
		assert_int_equal(_r.err, (want));                                                  \
		assert_int_equal(_r.ret, -1);                                                      \
	} while (0)

/* A path inside the container as the host reaches it: through the child's root. */
static void in_container(char *buf, size_t size, const char *path)
{
	snprintf(buf, size, "/proc/%d/root%s", (int)h.init, path);
}

static bool container_has(const char *path)
{
	char p[256];
	struct stat st;

	in_container(p, sizeof(p), path);
	return lstat(p, &st) == 0;
}

/* What the pty master has to read within a second (NUL-terminated). */
static void read_pty(char *buf, size_t size)
{
	struct pollfd p = { .fd = h.pty_fd, .events = POLLIN };
	size_t have = 0;

	while (have + 1 < size && poll(&p, 1, 1000) > 0) {
		ssize_t n = read(h.pty_fd, buf + have, size - 1 - have);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
}

/* ---- the console: a bind of the container's own, never the host's ---- */

static void make_console_mountpoint(void)
{
	if (!container_has("/dev/console"))
		assert_ok(run(OP_CREATE, "/dev/console", "", 0, 0));
}

static void test_mknod_console_without_own_console_eperm(void **state)
{
	(void)state;
	/* no /dev/console at all: LXC with lxc.console.path = none, runc without a terminal */
	assert_errno(run(OP_MKNOD, "/tmp/cons0", "", S_IFCHR | 0600, makedev(5, 1)), EPERM);
	assert_int_equal(h.last_flags, 0); /* our answer, not the kernel's */
	assert_false(container_has("/tmp/cons0"));
	/* an empty file there: a mount point nothing was bound onto */
	make_console_mountpoint();
	assert_errno(run(OP_MKNOD, "/tmp/cons0", "", S_IFCHR | 0600, makedev(5, 1)), EPERM);
	assert_false(container_has("/tmp/cons0"));
	/* a devpts node that is no pty of its own: ptmx (5:2) */
	assert_ok(run(OP_BIND, "/dev/console", "/dev/pts/ptmx", 0, 0));
	assert_errno(run(OP_MKNOD, "/tmp/cons0", "", S_IFCHR | 0600, makedev(5, 1)), EPERM);
	assert_false(container_has("/tmp/cons0"));
	assert_ok(run(OP_UMOUNT, "/dev/console", "", 0, 0));
}

static void test_mknod_console_leads_to_own_pty(void **state)
{
	struct result st;
	char got[256];

	(void)state;
	/* as runc with terminal: true and LXC bind the console pty */
	make_console_mountpoint();
	assert_ok(run(OP_BIND, "/dev/console", "/dev/pts/0", 0, 0));
	assert_ok(run(OP_MKNOD, "/tmp/cons", "", S_IFCHR | 0600, makedev(5, 1)));
	assert_int_equal(h.last_flags, 0);
	st = run(OP_STAT, "/tmp/cons", "", 0, 0);
	assert_ok(st);
	assert_true(S_ISCHR(st.mode));
	assert_int_equal(major(st.rdev), 136); /* the pty, not 5:1 */
	assert_int_equal(minor(st.rdev), 0);
	assert_ok(run(OP_WRITE, "/tmp/cons", "through-the-new-node", 0, 0));
	read_pty(got, sizeof(got));
	assert_non_null(strstr(got, "through-the-new-node"));
	/* the kernel's errnos for the name itself */
	assert_errno(run(OP_MKNOD, "/tmp/cons", "", S_IFCHR | 0600, makedev(5, 1)), EEXIST);
	assert_errno(run(OP_MKNOD, "/nonexistent/cons", "", S_IFCHR | 0600, makedev(5, 1)), ENOENT);
	/* on the userns-owned /dev tmpfs as well */
	assert_ok(run(OP_MKNOD, "/dev/console2", "", S_IFCHR | 0600, makedev(5, 1)));
	assert_ok(run(OP_WRITE, "/dev/console2", "second", 0, 0));
	read_pty(got, sizeof(got));
	assert_non_null(strstr(got, "second"));
	assert_ok(run(OP_UMOUNT, "/dev/console", "", 0, 0));
}

/* ---- setxattr: only the container's initial user namespace ---- */

static void test_setxattr_nested_userns_continue(void **state)
{
	char p[256], v[4];

	(void)state;
	assert_ok(run(OP_MKDIR, "/tmp/ovl-nested", "", 0755, 0));
	assert_errno(run(OP_SETXATTR_NESTED, "/tmp/ovl-nested", "", 0, 0), EPERM);
	/* CONTINUE: the EPERM is the kernel's */
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	in_container(p, sizeof(p), "/tmp/ovl-nested");
	assert_int_equal(getxattr(p, OPAQUE, v, sizeof(v)), -1);
	assert_int_equal(errno, ENODATA);
	/* the same directory from the container's own user namespace */
	assert_ok(run(OP_SETXATTR, "/tmp/ovl-nested", "", 0, 0));
	assert_int_equal(h.last_flags, 0);
	assert_int_equal(getxattr(p, OPAQUE, v, sizeof(v)), 1);
}

/* The root of a nested user namespace sets no trusted xattr in @dir and makes no node. */
static void assert_nested_root_gets_nothing(const char *dir)
{
	char path[128], p[256], v[4];

	assert_ok(run(OP_MKDIR, dir, "", 0755, 0));
	assert_errno(run(OP_SETXATTR, dir, "", 0, 0), EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	in_container(p, sizeof(p), dir);
	assert_int_equal(getxattr(p, OPAQUE, v, sizeof(v)), -1);
	assert_int_equal(errno, ENODATA);
	snprintf(path, sizeof(path), "%s/null", dir);
	assert_errno(run(OP_MKNOD, path, "", S_IFCHR | 0666, makedev(1, 3)), EPERM);
	assert_false(container_has(path));
}

/*
 * A container whose init runs as an ordinary user and starts with unshare -Ur: when
 * the daemon first looks (a new exec listener, a restarted daemon) the init is in the
 * nested user namespace. Its root still gets neither a trusted xattr nor a node.
 */
static void test_init_in_nested_userns_gets_nothing(void **state)
{
	(void)state;
	assert_ok(run(OP_MKDIR, "/tmp/shared", "", 01777, 0));
	/* an init without a pid namespace of its own: the direct child of ours is the container's */
	h.ctx_init = h.child;
	assert_ok(run(OP_MKDIR, "/tmp/shared/ovl-own", "", 0755, 0));
	assert_ok(run(OP_SETXATTR, "/tmp/shared/ovl-own", "", 0, 0));
	assert_int_equal(h.last_flags, 0);
	h.ctx_init = h.init;
	assert_ok(run(OP_INIT_NESTED, "", "", 0, 0));
	assert_nested_root_gets_nothing("/tmp/shared/ovl-init");
	h.ctx_init = h.child;
	assert_nested_root_gets_nothing("/tmp/shared/ovl-init2");
}

/* ---- a failed nodev fallback is taken back as the caller ---- */

#define STICKY "/dev/sticky" /* on the userns-owned /dev tmpfs: nodes there need the fallback */

static void make_sticky_dir(void)
{
	if (!container_has(STICKY))
		assert_ok(run(OP_MKDIR, STICKY, "", 01777, 0));
}

/* How many lines of the handlers' log start with @prefix. */
static int log_lines_starting(const char *prefix)
{
	char line[512];
	FILE *f = fopen(h.log, "re");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	if (f)
		fclose(f);
	return n;
}

#define FORGED "<3>forged by the container"
#define FORGED_NAME STICKY "/plain\n" FORGED

static void test_mknod_failed_fallback_taken_back(void **state)
{
	(void)state;
	make_sticky_dir();
	/* the undo logs at debug level: a name must not add a line of its own choosing there */
	assert_errno(run(OP_MKNOD_FOREIGN, FORGED_NAME, "", S_IFCHR | 0666, makedev(1, 3)), EPERM);
	assert_int_equal(h.last_flags, 0);
	assert_false(container_has(FORGED_NAME));
	assert_true(log_lines_starting("<7>") > 0);
	assert_int_equal(log_lines_starting(FORGED), 0);
	/* the same caller in its own mount namespace: the fallback works */
	assert_ok(run(OP_MKNOD, STICKY "/works", "", S_IFCHR | 0666, makedev(1, 3)));
	assert_ok(run(OP_WRITE, STICKY "/works", "x", 0, 0));
}

/*
 * A seccomp filter on the serving thread traps its unlinkat(): the undo's.
 * While it is held, this thread renames the other file over the placeholder,
 * exactly between the undo's identity check and its unlink.
 */
struct race {
	int pipe[2];        /* the serving thread hands its listener over */
	struct result res;  /* what the caller got */
	bool is_link_ok;
	volatile bool done;
	int n_trapped, n_renamed;
};

static void *serve_with_trapped_unlink(void *arg)
{
	struct race *race = arg;
	struct cmd c = { .op = OP_MKNOD_FOREIGN, .path = STICKY "/node", .mode = S_IFCHR | 0666,
			 .dev = makedev(1, 3) };
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int listener = -1;

	/* this thread only (no TSYNC); the helper processes it clones inherit it */
	if (f && seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(unlinkat), 0) == 0 &&
	    seccomp_load(f) == 0)
		listener = seccomp_notify_fd(f);
	if (write(race->pipe[1], &listener, sizeof(listener)) == sizeof(listener) && listener >= 0)
		race->is_link_ok = run_in_container(&c, &race->res);
	race->done = true;
	seccomp_release(f);
	return NULL;
}

static void rename_during_unlink(struct race *race, int listener)
{
	char from[256], to[256];
	struct pollfd p = { .fd = listener, .events = POLLIN };
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	in_container(from, sizeof(from), STICKY "/victim");
	in_container(to, sizeof(to), STICKY "/node");
	while (!race->done) {
		if (poll(&p, 1, 100) <= 0 || notify_recv(listener, &req) < 0)
			continue;
		race->n_trapped++;
		race->n_renamed += rename(from, to) == 0;
		resp = (struct seccomp_notif_resp){ .id = req.id,
						    .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
		(void)notify_send(listener, &resp);
	}
}

static void test_mknod_undo_race_spares_other_file(void **state)
{
	struct race race = { .pipe = { -1, -1 } };
	char p[256], content[16] = "";
	pthread_t th;
	int listener = -1, fd;

	(void)state;
	make_sticky_dir();
	/* the container's root owns it; USER_ID may not remove it from the sticky directory */
	assert_ok(run(OP_CREATE, STICKY "/victim", "victim", 0, 0));
	assert_int_equal(pipe(race.pipe), 0);
	assert_int_equal(pthread_create(&th, NULL, serve_with_trapped_unlink, &race), 0);
	assert_int_equal(read(race.pipe[0], &listener, sizeof(listener)), sizeof(listener));
	if (listener >= 0)
		rename_during_unlink(&race, listener);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(race.pipe[0]);
	close(race.pipe[1]);
	assert_true(listener >= 0);
	close(listener);
	assert_true(race.is_link_ok);
	assert_int_equal(race.res.err, EPERM);
	assert_int_equal(race.n_trapped, 1); /* the undo's unlink, and nothing else */
	assert_int_equal(race.n_renamed, 1);
	/* the other file survived under the new name */
	in_container(p, sizeof(p), STICKY "/node");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, content, sizeof(content) - 1), 6);
	close(fd);
	assert_string_equal(content, "victim");
}

/* ---------------- setup ---------------- */

static int recv_two_fds(int sock, int *a, int *b)
{
	int fds[2];
	size_t n_fds;
	char byte;

	if (fdpass_recv_fds(sock, &byte, 1, fds, 2, &n_fds, NULL) != 1 || n_fds != 2)
		return -1;
	*a = fds[0];
	*b = fds[1];
	return 0;
}

static int make_host_dir(const char *rel, uid_t uid)
{
	char p[160];

	snprintf(p, sizeof(p), "%s%s", h.root, rel);
	return mkdir(p, 0755) < 0 || chown(p, uid, uid) < 0 ? -1 : 0;
}

/* Start the container: its user namespace gets 0 -> HOST_ID, 65536 ids. */
static int start_container(void)
{
	if (userns_child_start_with_init(container_main, &h.child, &h.init, &h.sock) < 0)
		return -1;
	h.ctx_init = h.init;
	return recv_two_fds(h.sock, &h.notify_fd, &h.pty_fd);
}

static int setup(void **state)
{
	(void)state;
	h.nr_mknod = seccomp_syscall_resolve_name("mknod");
	h.nr_mknodat = seccomp_syscall_resolve_name("mknodat");
	h.nr_setxattr = seccomp_syscall_resolve_name("setxattr");
	snprintf(h.tmp, sizeof(h.tmp), "/tmp/interceptd-mknod.XXXXXX");
	if (!mkdtemp(h.tmp) || chmod(h.tmp, 0755) < 0)
		return -1;
	snprintf(h.root, sizeof(h.root), "%s/root", h.tmp);
	snprintf(h.log, sizeof(h.log), "%s/log", h.tmp);
	log_set_level(LOG_LEVEL_DEBUG);
	if (log_open_file(h.log) < 0 || mkdir(h.root, 0755) < 0 || make_host_dir("/tmp", HOST_ID) < 0 ||
	    make_host_dir("/dev", HOST_ID) < 0)
		return -1;
	return start_container();
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	userns_child_stop(h.child, h.init);
	/* the container's mounts died with its mount namespace */
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", h.tmp);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mknod_console_without_own_console_eperm),
		cmocka_unit_test(test_mknod_console_leads_to_own_pty),
		cmocka_unit_test(test_setxattr_nested_userns_continue),
		cmocka_unit_test(test_mknod_failed_fallback_taken_back),
		cmocka_unit_test(test_mknod_undo_race_spares_other_file),
		cmocka_unit_test(test_init_in_nested_userns_gets_nothing), /* last: moves the init */
	};

	if (!userns_tests_can_run())
		return 0;
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
