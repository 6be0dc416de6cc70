/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged test for the sysinfo handler against a real notify fd. A child
 * is put into fresh memory and pids cgroups (v1 controllers on a hybrid or
 * legacy host, cgroup2 on a unified one) with a memory limit, installs a
 * NOTIFY filter for sysinfo and hands us the listener; we supervise by
 * calling handle_sysinfo() and the child reports what its sysinfo() saw.
 *
 * The i386 case needs no 32-bit toolchain: a 64-bit process that executes
 * "int $0x80" makes a compat (i386) syscall, which seccomp reports as
 * AUDIT_ARCH_I386 and the kernel answers with compat_sysinfo. The same call
 * before the filter gives the kernel's own layout as a reference.
 *
 * What the write goes through: the caller's memory, pinned before ID_VALID.
 * The binary is linked with --wrap=notify_id_valid, so a test can kill the
 * caller right after the handler's check and hand its pid to another
 * process; that process must not be written. And a caller that execs (a
 * vfork child sharing its parent's mm, without ASLR so that both images
 * have the buffer at one address) gets its values in the new image, never
 * in the parent's memory. What copy_to_user() refuses (read-only, guard pages)
 * gets EFAULT, whichever way the handler found the caller's memory, and what
 * it grows (the stack) is written.
 *
 * Needs root; exits 77 otherwise, or when no memory controller is usable.
 */
#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "fdpass.h"
#include "handlers/cgroup.h"
#include "handlers/handler.h"
#include "handlers/sysinfo_layout.h"

#define LIMIT (64ULL * 1024 * 1024)
#define SENTINEL 0xa5
#define NR_SYSINFO_I386 116

enum mode { MODE_NATIVE, MODE_I386 };

struct child_result {
	long ret, ret_fault, ref_ret;
	int err, err_fault;
	uint8_t buf[128]; /* what the trapped call wrote, sentinel-filled beforehand */
	uint8_t ref[128]; /* i386: the kernel's own answer before the filter */
};

static struct {
	char mem_dir[PATH_MAX], pids_dir[PATH_MAX];
	bool has_pids, unified;
	pid_t init_pid; /* for the ctx: 0 = unknown, else whose age is the uptime */
} g;

/* ---------------- cgroups ---------------- */

static int write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX + 64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		r = -errno;
	close(fd);
	return r;
}

static int setup(void **state)
{
	const struct cgroup_mounts *m = cgroup_mounts_host();
	char limit[32], probe[PATH_MAX + 32];

	(void)state;
	snprintf(limit, sizeof(limit), "%llu", LIMIT);
	g.unified = m->layout == CGROUP_LAYOUT_UNIFIED;
	if (g.unified) {
		snprintf(g.mem_dir, sizeof(g.mem_dir), "%s/icd-test-%d", m->v2, (int)getpid());
		if (mkdir(g.mem_dir, 0755) < 0 || write_file(g.mem_dir, "memory.max", limit) < 0)
			return -1;
		/* one directory serves both controllers */
		snprintf(probe, sizeof(probe), "%s/pids.current", g.mem_dir);
		g.has_pids = access(probe, F_OK) == 0;
		snprintf(g.pids_dir, sizeof(g.pids_dir), "%s", g.mem_dir);
		return 0;
	}
	if (!m->v1_memory)
		return -1;
	snprintf(g.mem_dir, sizeof(g.mem_dir), "%s/icd-test-%d", m->v1_memory, (int)getpid());
	if (mkdir(g.mem_dir, 0755) < 0 || write_file(g.mem_dir, "memory.limit_in_bytes", limit) < 0)
		return -1;
	snprintf(g.pids_dir, sizeof(g.pids_dir), "%s/icd-test-%d", m->v1_pids, (int)getpid());
	g.has_pids = mkdir(g.pids_dir, 0755) == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (g.has_pids && !g.unified)
		(void)rmdir(g.pids_dir);
	return rmdir(g.mem_dir) < 0 ? -1 : 0;
}

/* ---------------- child ---------------- */

static long sysinfo_int80(uint32_t addr)
{
	long ret = NR_SYSINFO_I386;

	__asm__ volatile("int $0x80" : "+a"(ret) : "b"(addr) : "memory", "r8", "r9", "r10", "r11");
	return (int)ret;
}

static int install_filter(bool i386)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = -1;

	if (!ctx)
		return -1;
	if ((!i386 || seccomp_arch_add(ctx, SCMP_ARCH_X86) == 0) &&
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sysinfo), 0) == 0 &&
	    seccomp_load(ctx) == 0)
		fd = seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	return fd;
}

static void send_fd(int sock, int fd)
{
	(void)fdpass_send(sock, "", 1, &fd, 1);
}

static void calls(enum mode mode, struct child_result *res, uint8_t *low)
{
	if (mode == MODE_I386) {
		memset(low, SENTINEL, 128);
		errno = 0;
		res->ret = sysinfo_int80((uint32_t)(uintptr_t)low);
		memcpy(res->buf, low, sizeof(res->buf));
		return;
	}
	memset(res->buf, SENTINEL, sizeof(res->buf));
	errno = 0;
	res->ret = syscall(SYS_sysinfo, res->buf);
	res->err = errno;
	errno = 0;
	res->ret_fault = syscall(SYS_sysinfo, (void *)8);
	res->err_fault = errno;
}

static void child(int sock, enum mode mode)
{
	struct child_result res = { 0 };
	uint8_t *low = NULL;
	char go;
	int fd;

	if (read(sock, &go, 1) != 1)
		_exit(2);
	if (mode == MODE_I386) {
		low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
			   -1, 0);
		if (low == MAP_FAILED)
			_exit(3);
		memset(low, SENTINEL, 128);
		res.ref_ret = sysinfo_int80((uint32_t)(uintptr_t)low); /* the kernel's own answer */
		memcpy(res.ref, low, sizeof(res.ref));
	}
	fd = install_filter(mode == MODE_I386);
	if (fd < 0)
		_exit(4);
	send_fd(sock, fd);
	close(fd);
	calls(mode, &res, low);
	_exit(write(sock, &res, sizeof(res)) == sizeof(res) ? 0 : 5);
}

/* ---------------- supervisor ---------------- */

static int recv_fd(int sock)
{
	char byte;
	int fd = -1;

	return fdpass_recv(sock, &byte, 1, &fd, NULL) > 0 ? fd : -1;
}

/* Answer one notification with handle_sysinfo(); returns the handler's result. */
static int supervise_one(int notify_fd, uint32_t want_arch)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp = { 0 };
	struct notif_reply reply;
	struct notif_ctx ctx = { .req = &req, .notify_fd = notify_fd, .init_pid = g.init_pid,
				 .proc_fd = -EBADF, .mem_fd = -EBADF };
	struct pollfd p = { .fd = notify_fd, .events = POLLIN };
	int r;

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(notify_recv(notify_fd, &req), 0);
	assert_int_equal(req.data.arch, want_arch);
	reply_continue(&reply);
	r = handle_sysinfo(&ctx, &reply);
	if (r < 0)
		reply_continue(&reply);
	resp = (struct seccomp_notif_resp){ .id = req.id, .val = reply.val, .error = reply.error,
					    .flags = reply.flags };
	assert_int_equal(notify_send(notify_fd, &resp), 0);
	return r;
}

static void run(enum mode mode, int n_calls, struct child_result *res)
{
	char pid[16];
	int sv[2], notify_fd, status;
	pid_t c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		close(sv[0]);
		child(sv[1], mode);
	}
	close(sv[1]);
	snprintf(pid, sizeof(pid), "%d", (int)c);
	assert_int_equal(write_file(g.mem_dir, "cgroup.procs", pid), 0);
	if (g.has_pids && !g.unified)
		assert_int_equal(write_file(g.pids_dir, "cgroup.procs", pid), 0);
	assert_int_equal(write(sv[0], "g", 1), 1);
	notify_fd = recv_fd(sv[0]);
	assert_true(notify_fd >= 0);
	for (int i = 0; i < n_calls; i++)
		assert_int_equal(supervise_one(notify_fd, mode == MODE_I386 ? AUDIT_ARCH_I386
									    : AUDIT_ARCH_X86_64), 0);
	assert_int_equal(read(sv[0], res, sizeof(*res)), sizeof(*res));
	assert_int_equal(waitpid(c, &status, 0), c);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(notify_fd);
	close(sv[0]);
}

/* ---------------- tests ---------------- */

static void test_sysinfo_native_reports_cgroup_limit(void **state)
{
	struct child_result res;
	struct sysinfo host, s;

	(void)state;
	g.init_pid = 1; /* uptime: the age of our own init */
	run(MODE_NATIVE, 2, &res);
	assert_int_equal(sysinfo(&host), 0);
	assert_int_equal(res.ret, 0);
	memcpy(&s, res.buf, sizeof(s));
	print_message("# totalram %lu freeram %lu bufferram %lu procs %u uptime %ld (host %ld)\n",
		      s.totalram, s.freeram, s.bufferram, s.procs, s.uptime, host.uptime);
	assert_int_equal(s.mem_unit, 1);
	assert_true(s.totalram == LIMIT);
	assert_true(s.freeram > 0 && s.freeram <= LIMIT);
	assert_true(s.bufferram <= LIMIT && s.sharedram <= LIMIT);
	assert_true(s.procs >= 1);
	if (g.has_pids)
		assert_int_equal(s.procs, 1); /* alone in its pids cgroup */
	assert_true(s.uptime > 0 && s.uptime <= host.uptime + 1);
	assert_true(s.totalswap <= host.totalswap);
	for (size_t i = 112; i < sizeof(res.buf); i++)
		assert_int_equal(res.buf[i], SENTINEL); /* exactly 112 bytes written */
	/* a bad pointer: EFAULT, as the kernel would say */
	assert_int_equal(res.ret_fault, -1);
	assert_int_equal(res.err_fault, EFAULT);
}

static void test_sysinfo_i386_compat_layout(void **state)
{
	struct child_result res;
	struct sysinfo_abi32 got, ref;
	struct sysinfo host;

	(void)state;
	g.init_pid = 0; /* unknown: host uptime */
	run(MODE_I386, 1, &res);
	if (res.ref_ret == -ENOSYS)
		skip(); /* ia32 emulation off */
	assert_int_equal(sysinfo(&host), 0);
	/* our struct against the kernel's own compat answer */
	assert_int_equal(res.ref_ret, 0);
	memcpy(&ref, res.ref, sizeof(ref));
	assert_true((uint64_t)ref.totalram * ref.mem_unit == (uint64_t)host.totalram * host.mem_unit);
	for (size_t i = 64; i < sizeof(res.ref); i++)
		assert_int_equal(res.ref[i], SENTINEL);
	/* and the emulated one */
	assert_int_equal(res.ret, 0);
	memcpy(&got, res.buf, sizeof(got));
	print_message("# i386: totalram %u x %u, procs %u; kernel's own: totalram %u x %u\n",
		      got.totalram, got.mem_unit, got.procs, ref.totalram, ref.mem_unit);
	assert_true((uint64_t)got.totalram * got.mem_unit == LIMIT);
	assert_true(got.freeram > 0 && got.freeram <= got.totalram);
	assert_true(got.procs >= 1);
	assert_true(got.uptime >= ref.uptime && got.uptime <= ref.uptime + 2);
	for (size_t i = 64; i < sizeof(res.buf); i++)
		assert_int_equal(res.buf[i], SENTINEL); /* exactly 64 bytes written */
}

/* ---------------- what the write goes through ---------------- */

/* Where the callers below write: one address in every process forked or exec'd from us. */
static uint8_t g_target[128];

/* Run by the wrapped ID_VALID after a successful check, i.e. just before the handler acts. */
static void (*after_id_valid)(void);

int __real_notify_id_valid(int notify_fd, uint64_t id);
int __wrap_notify_id_valid(int notify_fd, uint64_t id);

int __wrap_notify_id_valid(int notify_fd, uint64_t id)
{
	int r = __real_notify_id_valid(notify_fd, id);

	if (r == 0 && after_id_valid)
		after_id_valid();
	return r;
}

static bool target_written(const uint8_t *buf)
{
	/* every byte equal to the next, and the first one the sentinel */
	return buf[0] != SENTINEL || memcmp(buf, buf + 1, sizeof(g_target) - 1) != 0;
}

/* Fork a child that runs @child_main(its end of a socket pair); *ret_sock gets ours. */
static pid_t fork_with_socket(void (*child_main)(int sock), int *ret_sock)
{
	int sv[2];
	pid_t c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		child_main(sv[1]);
		_exit(127);
	}
	close(sv[1]);
	*ret_sock = sv[0];
	return c;
}

static void trapped_caller_main(int sock)
{
	int fd = install_filter(false);

	if (fd < 0)
		_exit(4);
	send_fd(sock, fd);
	_exit(syscall(SYS_sysinfo, g_target) == 0 ? 0 : 5);
}

/* A child that traps sysinfo(g_target) at once; returns its pid, *ret_fd its listener. */
static pid_t start_trapped_caller(int *ret_fd)
{
	int sock;
	pid_t c = fork_with_socket(trapped_caller_main, &sock);

	*ret_fd = recv_fd(sock);
	close(sock);
	assert_true(*ret_fd >= 0);
	return c;
}

static void receive_one(int notify_fd, struct seccomp_notif *req)
{
	struct pollfd p = { .fd = notify_fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(notify_recv(notify_fd, req), 0);
}

static struct {
	pid_t caller, victim;
} reuse;

/* The caller dies after the check; its pid goes to a fresh copy of us (g_target unwritten). */
static void hand_caller_pid_to_victim(void)
{
	char last[16];
	int fd;

	after_id_valid = NULL;
	kill(reuse.caller, SIGKILL);
	waitpid(reuse.caller, NULL, 0);
	snprintf(last, sizeof(last), "%d", (int)reuse.caller - 1);
	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, last, strlen(last));
		close(fd);
	}
	reuse.victim = fork();
	if (reuse.victim == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
}

/* Was the victim's copy of g_target written? */
static bool victim_written(void)
{
	uint8_t copy[sizeof(g_target)];
	struct iovec local = { .iov_base = copy, .iov_len = sizeof(copy) };
	struct iovec remote = { .iov_base = g_target, .iov_len = sizeof(g_target) };

	assert_int_equal(process_vm_readv(reuse.victim, &local, 1, &remote, 1, 0),
			 (ssize_t)sizeof(copy));
	return target_written(copy);
}

/*
 * Killed after ID_VALID, the caller frees its pid, which another process may
 * take before the write: the write must not follow the number there. The
 * pid comes back through ns_last_pid; other processes on the host may take
 * it first, so a few attempts.
 */
static void test_sysinfo_write_never_follows_a_reused_pid(void **state)
{
	(void)state;
	for (int attempt = 0; attempt < 10; attempt++) {
		struct seccomp_notif req;
		struct notif_reply reply;
		struct notif_ctx ctx = { .req = &req, .proc_fd = -EBADF, .mem_fd = -EBADF };
		bool landed;

		memset(g_target, SENTINEL, sizeof(g_target));
		reuse.caller = start_trapped_caller(&ctx.notify_fd);
		receive_one(ctx.notify_fd, &req);
		after_id_valid = hand_caller_pid_to_victim;
		reply_continue(&reply);
		(void)handle_sysinfo(&ctx, &reply);
		after_id_valid = NULL;
		landed = reuse.victim == reuse.caller;
		if (landed)
			assert_false(victim_written());
		kill(reuse.victim, SIGKILL);
		waitpid(reuse.victim, NULL, 0);
		close(ctx.notify_fd);
		if (landed)
			return;
	}
	print_message("# the caller's pid was never handed out again\n");
	skip();
}

/* A caller gone before the check leaves nothing in the listener's cache. */
static void test_sysinfo_cache_filled_only_after_id_valid(void **state)
{
	struct handler_cache cache = { .init_started_at = -1 };
	struct seccomp_notif req;
	struct notif_reply reply;
	struct notif_ctx ctx = { .req = &req, .proc_fd = -EBADF, .mem_fd = -EBADF,
				 .cache = &cache };
	pid_t c;

	(void)state;
	c = start_trapped_caller(&ctx.notify_fd);
	receive_one(ctx.notify_fd, &req);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	assert_int_equal(handle_sysinfo(&ctx, &reply), -ENOENT);
	assert_int_equal(cache.sysinfo_filled_ns, 0);
	close(ctx.notify_fd);
}

/* ---- exec: the vfork parent, its child, the child's new image (argv entry points) ---- */

struct image_report {
	char who; /* 'P' the vfork parent, 'C' the child's new image */
	int err;
	uintptr_t addr;
	uint8_t buf[sizeof(g_target)];
};

static void report(int sock, char who, int err)
{
	struct image_report r = { .who = who, .err = err, .addr = (uintptr_t)g_target };

	memcpy(r.buf, g_target, sizeof(r.buf));
	if (write(sock, &r, sizeof(r)) != sizeof(r))
		_exit(6);
}

/* The child's new image: its buffer must get the values. */
static int exec_image_main(int sock)
{
	long r;

	memset(g_target, SENTINEL, sizeof(g_target));
	r = syscall(SYS_sysinfo, g_target);
	report(sock, 'C', r < 0 ? errno : 0);
	return 0;
}

struct vfork_args {
	int sock;
	char *const *argv;
};

/* Shares the parent's mm until execve: raw syscalls and plain stores only. */
__attribute__((no_sanitize("address", "undefined"))) static int vfork_child(void *arg)
{
	const struct vfork_args *a = arg;
	volatile uint8_t *p = g_target;

	(void)syscall(SYS_sysinfo, g_target); /* lands in the shared mm, as the kernel's would */
	for (size_t i = 0; i < sizeof(g_target); i++)
		p[i] = SENTINEL;
	(void)syscall(SYS_execve, "/proc/self/exe", a->argv, NULL);
	return 127;
}

/* The vfork parent: after the child's exec, its own buffer must stay untouched. */
static int vfork_parent_main(int sock, const char *argv0)
{
	static uint8_t stack[64 * 1024] __attribute__((aligned(16)));
	char fd_arg[16];
	char *argv[] = { (char *)argv0, "--exec-image", fd_arg, NULL };
	struct vfork_args a = { .sock = sock, .argv = argv };
	int fd = install_filter(false);
	pid_t c;

	if (fd < 0)
		return 4;
	send_fd(sock, fd);
	close(fd);
	snprintf(fd_arg, sizeof(fd_arg), "%d", sock);
	memset(g_target, SENTINEL, sizeof(g_target));
	c = clone(vfork_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (c < 0 || waitpid(c, NULL, 0) != c)
		return 5;
	report(sock, 'P', 0);
	return 0;
}

/* Serve the two notifications (one listener cache, as a worker would) until both reports. */
static void serve_exec_run(int sock, int notify_fd, struct image_report *child,
			   struct image_report *parent, pid_t tids[2])
{
	struct handler_cache cache = { .init_started_at = -1 };
	int n_notif = 0, n_reports = 0;

	while (n_reports < 2) {
		/* once both are served the listener only hangs up: stop watching it */
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = notify_fd, .events = POLLIN } };
		struct image_report r;

		assert_int_equal(poll(p, n_notif < 2 ? 2 : 1, 5000) > 0, 1);
		if (n_notif < 2 && (p[1].revents & POLLIN)) {
			struct seccomp_notif req;
			struct notif_reply reply;
			struct notif_ctx ctx = { .req = &req, .notify_fd = notify_fd,
						 .proc_fd = -EBADF, .mem_fd = -EBADF,
						 .cache = &cache };

			assert_int_equal(notify_recv(notify_fd, &req), 0);
			tids[n_notif++] = (pid_t)req.pid;
			assert_int_equal(handle_sysinfo(&ctx, &reply), 0);
			(void)notify_send(notify_fd, &(struct seccomp_notif_resp){
				.id = req.id, .val = reply.val, .error = reply.error });
		}
		if (p[0].revents & POLLIN) {
			assert_int_equal(read(sock, &r, sizeof(r)), sizeof(r));
			*(r.who == 'C' ? child : parent) = r;
			n_reports++;
		}
	}
	assert_int_equal(n_notif, 2);
}

static void test_sysinfo_exec_lands_in_new_image(void **state)
{
	struct image_report child = { 0 }, parent = { 0 };
	struct sysinfo s;
	pid_t x, tids[2] = { 0, 0 };
	int sv[2], notify_fd;
	char fd_arg[16];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	x = fork();
	assert_true(x >= 0);
	if (x == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		snprintf(fd_arg, sizeof(fd_arg), "%d", sv[1]);
		/* no ASLR: both images put g_target at one address */
		(void)personality(ADDR_NO_RANDOMIZE);
		execl("/proc/self/exe", "test_sysinfo_notify", "--vfork-parent", fd_arg, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	notify_fd = recv_fd(sv[0]);
	assert_true(notify_fd >= 0);
	serve_exec_run(sv[0], notify_fd, &child, &parent, tids);
	assert_int_equal(waitpid(x, NULL, 0), x);
	assert_int_equal(tids[0], tids[1]); /* one thread, before and after its exec */
	assert_int_equal(child.err, 0);
	memcpy(&s, child.buf, sizeof(s));
	assert_int_equal(s.mem_unit, 1);
	assert_true(s.totalram > 0);
	/* the premise: the parent's mm has the buffer where the new image has it */
	assert_true(child.addr == parent.addr);
	assert_false(target_written(parent.buf));
	close(notify_fd);
	close(sv[0]);
}

/* ---- what the kernel's own copy_to_user() refuses ---- */

enum { N_PROTECTED = 4 };
static const int want_err[N_PROTECTED] = { EFAULT, EFAULT, EFAULT, 0 }; /* the kernel's */
enum serve_path { SERVE_OWN_DIR, SERVE_CACHED, SERVE_LXC_FDS, N_SERVE_PATHS };

struct protect_report {
	long ret[N_PROTECTED];
	int err[N_PROTECTED];
	bool intact; /* the read-only and the guard page still hold the sentinel */
};

/* The lowest address of our main stack, which grows down from there. */
static uint8_t *stack_bottom(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long lo = 0, hi;
	char line[512];

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]"))
			(void)sscanf(line, "%lx-%lx", &lo, &hi);
	return (uint8_t *)lo; /* f closes as this child exits */
}

/*
 * Three pages: writable, read-only, PROT_NONE (a guard page). sysinfo() into
 * the read-only one, into the guard, and from the writable one across into
 * the read-only one: the kernel answers EFAULT and writes neither protected
 * page. A mem file write would (FOLL_FORCE), which a caller that cannot open
 * /proc/self/mem (a sandbox inside the container) cannot do itself. And
 * below the stack, which the kernel grows there: success.
 */
static void protected_caller(int sock)
{
	const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct protect_report rep = { .intact = true };
	uint8_t *at[N_PROTECTED], *stack = stack_bottom();
	int fd;

	if (p == MAP_FAILED)
		_exit(3);
	memset(p, SENTINEL, 3 * ps);
	at[0] = p + ps, at[1] = p + 2 * ps, at[2] = p + ps - 16, at[3] = stack - 2 * ps;
	fd = install_filter(false);
	if (mprotect(p + ps, ps, PROT_READ) < 0 || mprotect(p + 2 * ps, ps, PROT_NONE) < 0 ||
	    fd < 0 || !stack)
		_exit(4);
	send_fd(sock, fd);
	for (int i = 0; i < N_PROTECTED; i++) {
		errno = 0;
		rep.ret[i] = syscall(SYS_sysinfo, at[i]);
		rep.err[i] = errno;
	}
	(void)mprotect(p + ps, 2 * ps, PROT_READ);
	for (size_t i = ps; i < 3 * ps; i++)
		rep.intact &= p[i] == SENTINEL;
	_exit(write(sock, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 5);
}

/* LXC hands over /proc/PID and /proc/PID/mem, opened as its monitor does. */
static void open_lxc_fds(struct notif_ctx *ctx)
{
	char path[48];

	snprintf(path, sizeof(path), "/proc/%u", ctx->req->pid);
	ctx->proc_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%u/mem", ctx->req->pid);
	ctx->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(ctx->proc_fd >= 0 && ctx->mem_fd >= 0);
}

/* Each call through one of the handler's three ways to its handles. */
static void serve_protected(int notify_fd, enum serve_path path)
{
	for (int i = 0; i < N_PROTECTED; i++) {
		struct handler_cache cache = { .init_started_at = -1 };
		struct seccomp_notif req;
		struct notif_reply reply;
		struct notif_ctx ctx = { .req = &req, .notify_fd = notify_fd, .proc_fd = -EBADF,
					 .mem_fd = -EBADF, .cache = &cache };
		struct timespec now;

		receive_one(notify_fd, &req);
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		if (path == SERVE_CACHED) /* fresh: no directory is opened */
			cache.sysinfo_filled_ns = (uint64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		if (path == SERVE_LXC_FDS)
			open_lxc_fds(&ctx);
		reply_continue(&reply);
		assert_int_equal(handle_sysinfo(&ctx, &reply), 0);
		if (path == SERVE_LXC_FDS) {
			close(ctx.proc_fd);
			close(ctx.mem_fd);
		}
		(void)notify_send(notify_fd, &(struct seccomp_notif_resp){
			.id = req.id, .val = reply.val, .error = reply.error });
	}
}

static void test_sysinfo_protected_pages_efault(void **state)
{
	(void)state;
	for (enum serve_path path = 0; path < N_SERVE_PATHS; path++) {
		struct protect_report rep;
		int sock, notify_fd;
		pid_t c = fork_with_socket(protected_caller, &sock);

		notify_fd = recv_fd(sock);
		assert_true(notify_fd >= 0);
		serve_protected(notify_fd, path);
		assert_int_equal(read(sock, &rep, sizeof(rep)), sizeof(rep));
		assert_int_equal(waitpid(c, NULL, 0), c);
		close(notify_fd);
		close(sock);
		print_message("# path %d: %d %d %d %d, %s\n", (int)path, rep.err[0], rep.err[1],
			      rep.err[2], rep.err[3], rep.intact ? "intact" : "WRITTEN");
		for (int i = 0; i < N_PROTECTED; i++) {
			assert_int_equal(rep.ret[i], want_err[i] ? -1 : 0);
			assert_int_equal(rep.err[i], want_err[i]);
		}
		assert_true(rep.intact);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysinfo_native_reports_cgroup_limit),
		cmocka_unit_test(test_sysinfo_i386_compat_layout),
		cmocka_unit_test(test_sysinfo_write_never_follows_a_reused_pid),
		cmocka_unit_test(test_sysinfo_cache_filled_only_after_id_valid),
		cmocka_unit_test(test_sysinfo_exec_lands_in_new_image),
		cmocka_unit_test(test_sysinfo_protected_pages_efault),
	};

	/* the exec test's other images */
	if (argc == 3 && strcmp(argv[1], "--vfork-parent") == 0)
		return vfork_parent_main(atoi(argv[2]), argv[0]);
	if (argc == 3 && strcmp(argv[1], "--exec-image") == 0)
		return exec_image_main(atoi(argv[2]));
	if (geteuid() != 0)
		return 77;
	if (setup(NULL) < 0) {
		(void)teardown(NULL);
		return 77; /* no usable memory controller */
	}
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
