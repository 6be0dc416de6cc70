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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/notify.h"
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
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	(void)sendmsg(sock, &msg, 0);
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
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysinfo_native_reports_cgroup_limit),
		cmocka_unit_test(test_sysinfo_i386_compat_layout),
	};

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
