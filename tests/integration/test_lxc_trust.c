/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A mismatched or buggy LXC monitor against the real daemon. A fake monitor
 * relays real notifications (a child's sysinfo into a global buffer) over the
 * LXC proxy socket with one thing wrong at a time: the header's seccomp_data
 * size, a "listener" that is a regular file, a pipe or an eventfd, a pid that
 * names another process than the /proc fds, the mem file of another process.
 * Each must get the empty datagram and no action: neither the caller's buffer
 * nor the other process's is written, nothing counts as emulated, and the
 * connection keeps working. Root only (a TAP skip otherwise).
 */
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/intake_lxc.h"
#include "daemon/engine/notify.h"
#include "fdpass.h"
#include "harness.h"

#define SENTINEL 0x5a
#define COOKIE "trust"
#define REPLY_SIZE (LXC_HEADER_SIZE + sizeof(struct seccomp_notif) + sizeof(struct seccomp_notif_resp))

/* Where the trapped sysinfo writes; the same address in every process forked from us. */
static uint8_t g_buf[128];

static struct harness H;

struct proc {
	pid_t pid;
	int ctl;      /* callers: the command socket */
	int listener; /* callers: the notify fd */
};

/* What the fake monitor gets wrong; zeroes and -1 mean "as LXC would send it". */
struct relay {
	uint16_t data_size; /* sizes.seccomp_data to claim */
	pid_t notif_pid;    /* the pid in the relayed seccomp_notif */
	pid_t proc_of;      /* whose /proc/PID to pass */
	pid_t mem_of;       /* whose /proc/PID/mem to pass */
	int listener;       /* the fd passed as the listener */
};

/* What the caller saw: its sysinfo() errno and whether its buffer was written. */
struct outcome {
	int err;
	bool written;
};

/* ---------------- processes ---------------- */

static bool buf_written(const uint8_t *buf)
{
	/* every byte equal to the next, and the first one the sentinel */
	return buf[0] != SENTINEL || memcmp(buf, buf + 1, sizeof(g_buf) - 1) != 0;
}

static _Noreturn void caller_main(int sock)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	char cmd;
	int fd;

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sysinfo), 0) < 0 ||
	    seccomp_load(ctx) < 0 || (fd = seccomp_notify_fd(ctx)) < 0)
		_exit(2);
	if (fdpass_send(sock, "F", 1, &fd, 1) != 1)
		_exit(3);
	close(fd);
	while (read(sock, &cmd, 1) == 1) {
		struct outcome o = { 0 };

		memset(g_buf, SENTINEL, sizeof(g_buf));
		o.err = syscall(SYS_sysinfo, g_buf) < 0 ? errno : 0;
		o.written = buf_written(g_buf);
		if (write(sock, &o, sizeof(o)) != sizeof(o))
			_exit(4);
	}
	_exit(0);
}

static struct proc start(bool caller)
{
	struct proc p = { .ctl = -1, .listener = -1 };
	int sv[2];
	char byte;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	memset(g_buf, SENTINEL, sizeof(g_buf));
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		if (caller)
			caller_main(sv[1]);
		for (;;)
			pause(); /* the bystander: its g_buf stays SENTINEL unless someone writes it */
	}
	close(sv[1]);
	p.ctl = sv[0];
	if (caller) {
		assert_int_equal(fdpass_recv(p.ctl, &byte, 1, &p.listener, NULL), 1);
		assert_true(p.listener >= 0);
	}
	return p;
}

static void stop(struct proc *p)
{
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	close(p->ctl);
	if (p->listener >= 0)
		close(p->listener);
}

/* Was the bystander's copy of g_buf written by anyone? */
static bool written_in(pid_t pid)
{
	uint8_t copy[sizeof(g_buf)];
	struct iovec local = { .iov_base = copy, .iov_len = sizeof(copy) };
	struct iovec remote = { .iov_base = g_buf, .iov_len = sizeof(g_buf) };

	assert_int_equal(process_vm_readv(pid, &local, 1, &remote, 1, 0), (ssize_t)sizeof(copy));
	return buf_written(copy);
}

/* ---------------- the fake monitor ---------------- */

static int open_proc(pid_t pid, const char *name, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d%s", (int)pid, name);
	fd = open(path, flags | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/*
 * Relay one sysinfo of @caller as @how says. Answers the notification the way
 * LXC does (the daemon's resp, or ENOSYS after an empty reply) and returns
 * the reply's length; *ret what the caller saw.
 */
static ssize_t relay(int proxy, const struct proc *caller, const struct relay *how,
		     struct outcome *ret)
{
	struct lxc_proxy_header hdr = {
		.monitor_pid = getpid(), .init_pid = caller->pid,
		.sizes = { sizeof(struct seccomp_notif), sizeof(struct seccomp_notif_resp),
			   how->data_size ? how->data_size : sizeof(struct seccomp_data) },
		.cookie_len = strlen(COOKIE),
	};
	struct seccomp_notif req, sent;
	struct seccomp_notif_resp resp = { 0 };
	struct pollfd pfd = { .fd = caller->listener, .events = POLLIN };
	char out[512], in[512];
	int fds[3];
	ssize_t n;

	assert_int_equal(write(caller->ctl, "s", 1), 1);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(notify_recv(caller->listener, &req), 0);
	sent = req;
	if (how->notif_pid)
		sent.pid = (uint32_t)how->notif_pid;
	resp.id = req.id;
	memcpy(out, &hdr, sizeof(hdr));
	memcpy(out + LXC_HEADER_SIZE, &sent, sizeof(sent));
	memcpy(out + LXC_HEADER_SIZE + sizeof(sent), &resp, sizeof(resp));
	memcpy(out + REPLY_SIZE, COOKIE, strlen(COOKIE));
	fds[0] = open_proc(how->proc_of ? how->proc_of : (pid_t)req.pid, "", O_RDONLY | O_DIRECTORY);
	fds[1] = open_proc(how->mem_of ? how->mem_of : (pid_t)req.pid, "/mem", O_RDWR);
	fds[2] = how->listener >= 0 ? how->listener : caller->listener;
	assert_int_equal(fdpass_send(proxy, out, REPLY_SIZE + strlen(COOKIE), fds, 3),
			 (ssize_t)(REPLY_SIZE + strlen(COOKIE)));
	close(fds[0]);
	close(fds[1]);
	n = recv(proxy, in, sizeof(in), MSG_TRUNC);
	if (n == (ssize_t)REPLY_SIZE)
		memcpy(&resp, in + LXC_HEADER_SIZE + sizeof(req), sizeof(resp));
	else
		resp = (struct seccomp_notif_resp){ .id = req.id, .error = -ENOSYS };
	(void)notify_send(caller->listener, &resp);
	assert_int_equal(read(caller->ctl, ret, sizeof(*ret)), sizeof(*ret));
	return n;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0 && strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	/* a missing answer fails the test instead of hanging it */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static long emulated_count(void)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	const char *needle = "interceptd_syscalls_total{container=\"" COOKIE
			     "\",syscall=\"sysinfo\",outcome=\"emulated\"} ";
	const char *p;

	assert_int_equal(harness_request(&H, "GET", "/1.0/metrics", NULL, &r), 0);
	p = strstr(r->data, needle);
	return p ? strtol(p + strlen(needle), NULL, 10) : 0;
}

/* ---------------- tests ---------------- */

struct fixture {
	int proxy;
	struct proc caller, bystander;
};

static int setup(void **state)
{
	static struct fixture f;
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	if (harness_request(&H, "POST", "/1.0/containers",
			    "{\"name\":\"" COOKIE "\",\"config\":"
			    "{\"security.syscalls.intercept.sysinfo\":\"true\"}}", &r) < 0 ||
	    r->status != 201)
		return -1;
	f.caller = start(true);
	f.bystander = start(false);
	f.proxy = unix_connect(H.lxc_socket);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	close(f->proxy);
	stop(&f->caller);
	stop(&f->bystander);
	return harness_request(&H, "DELETE", "/1.0/containers/" COOKIE, NULL, &r);
}

#define AS_LXC ((struct relay){ .listener = -1 })

/* The control: a faithful message is emulated, and is again after every refusal. */
static void assert_relay_works(struct fixture *f, long emulated_before)
{
	struct outcome o;

	assert_int_equal(relay(f->proxy, &f->caller, &AS_LXC, &o), (ssize_t)REPLY_SIZE);
	assert_int_equal(o.err, 0);
	assert_true(o.written);
	assert_int_equal(emulated_count(), emulated_before + 1);
}

/* A refused message: the empty reply, the caller got LXC's ENOSYS, nobody was written. */
static void assert_refused(struct fixture *f, const struct relay *how)
{
	long before = emulated_count();
	struct outcome o;

	assert_int_equal(relay(f->proxy, &f->caller, how, &o), 0);
	assert_int_equal(o.err, ENOSYS);
	assert_false(o.written);
	assert_false(written_in(f->bystander.pid));
	assert_int_equal(emulated_count(), before);
	assert_relay_works(f, before);
}

static void test_lxc_seccomp_data_size_refused(void **state)
{
	struct fixture *f = *state;
	struct relay how = AS_LXC;

	assert_relay_works(f, emulated_count());
	how.data_size = sizeof(struct seccomp_data) - 1;
	assert_refused(f, &how);
	how.data_size = sizeof(struct seccomp_data) + 8;
	assert_refused(f, &how);
}

static void test_lxc_listener_not_seccomp_refused(void **state)
{
	struct fixture *f = *state;
	struct relay how = AS_LXC;
	char path[] = "/tmp/interceptd-trust.XXXXXX";
	int file = mkstemp(path), pipefd[2], efd = eventfd(0, EFD_CLOEXEC);

	assert_true(file >= 0 && efd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	how.listener = file;
	assert_refused(f, &how);
	how.listener = pipefd[0];
	assert_refused(f, &how);
	how.listener = efd;
	assert_refused(f, &how);
	close(file);
	close(pipefd[0]);
	close(pipefd[1]);
	close(efd);
}

/* The notification names the bystander while the /proc fds are the caller's, and so on. */
static void test_lxc_proc_fds_of_another_task_refused(void **state)
{
	struct fixture *f = *state;
	const pid_t other = f->bystander.pid, caller = f->caller.pid;

	assert_refused(f, &(struct relay){ .listener = -1, .notif_pid = other });
	assert_refused(f, &(struct relay){ .listener = -1, .proc_of = other, .mem_of = other });
	assert_refused(f, &(struct relay){ .listener = -1, .mem_of = other });
	assert_refused(f, &(struct relay){ .listener = -1, .proc_of = other, .mem_of = caller });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lxc_seccomp_data_size_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lxc_listener_not_seccomp_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lxc_proc_fds_of_another_task_refused, setup,
						teardown),
	};
	int failed;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (notify filters, /proc/PID/mem of other processes)\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (harness_main_setup(&H, NULL) < 0)
		return 1;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	return harness_main_teardown(&H, failed);
}
