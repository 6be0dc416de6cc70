/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real daemon answering a hostile container's bpf calls (bpf_child.h: a
 * user-namespace "container" with CAP_SYS_ADMIN in its own namespace; its
 * listener handed over as runc does, or relayed as an LXC monitor does).
 * Every answer that does not come from the bpf handler itself (the LXC
 * deadline, the key turned off while the container runs, a container no
 * longer registered) must refuse a BPF_LINK_CREATE: a CONTINUE lets the kernel
 * attach a program the container holds to any cgroup it can open, with no
 * capability at all. Root only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "bpf_child.h"
#include "peers.h"

#define B bpfc_env
#define DEADLINE_MS "1000"
/* the container serves its attr page this long after the daemon began to read it */
#define SERVE_AFTER_MS 2000
#define CONFIG_ON                                                                                  \
	"{\"security.syscalls.intercept.bpf\":\"true\","                                           \
	"\"security.syscalls.intercept.bpf.devices\":\"true\"}"

/* Run @c in the container while the daemon serves its notifications: the result. */
static struct bpfc_result daemon_call(const struct bpfc_cmd *c)
{
	struct pollfd p = { .fd = B.sock, .events = POLLIN };
	struct bpfc_result res;

	assert_int_equal(write(B.sock, c, sizeof(*c)), sizeof(*c));
	assert_int_equal(poll(&p, 1, 20000), 1);
	assert_int_equal(read(B.sock, &res, sizeof(res)), sizeof(res));
	return res;
}

static void register_container(const char *name)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"config\":" CONFIG_ON "}", name);
	api("POST", "/1.0/containers", body, 201);
}

/* The container's listener handed to the OCI socket as runc does (the connection stays open). */
static int hand_over(const char *name)
{
	struct child runtime = { .pid = B.init_pid, .listener = B.notify_fd };

	return oci_handoff_child(&runtime, name);
}

static void close_in_child(long fd)
{
	if (fd >= 0)
		(void)daemon_call(&(struct bpfc_cmd){ .op = BPFC_CLOSE, .prog_fd = (int)fd });
}

static struct bpfc_cmd link_on_host(long prog)
{
	struct bpfc_cmd c = { .op = BPFC_LINK, .prog_fd = (int)prog };

	snprintf(c.target, sizeof(c.target), "%s", B.host);
	return c;
}

static const struct bpfc_cmd load_cmd = { .op = BPFC_LOAD, .kind = BPFT_DENY_DEV, .major = 1,
					  .minor = 3 };

/* Nothing reached the host's cgroup: checked, then what the container got is closed. */
static void expect_refused(const char *what, long prog, long link)
{
	int on_host = bpfc_host_query(B.host, NULL, NULL);

	close_in_child(link);
	close_in_child(prog);
	for (int i = 0; i < 100 && bpfc_host_query(B.host, NULL, NULL) > 0; i++)
		usleep(10000); /* a link goes after an RCU grace period */
	print_message("# %s: load %ld, link on the host's cgroup %ld, programs there %d\n", what,
		      prog, link, on_host);
	assert_true(prog >= 0);
	assert_int_equal(link, -EPERM);
	assert_int_equal(on_host, 0);
}

/*
 * Through the OCI socket: the container loads a program, then the API call
 * @method @path @body changes what the daemon knows of it, then the container
 * links its program on the host's cgroup.
 */
static void link_after(const char *name, const char *method, const char *path, const char *body)
{
	struct bpfc_cmd link_cmd;
	long prog, link = -EBADF;
	int sock;

	register_container(name);
	sock = hand_over(name);
	wait_listeners(name, 1);
	prog = daemon_call(&load_cmd).ret;
	api(method, path, body, 200);
	link_cmd = link_on_host(prog);
	if (prog >= 0)
		link = daemon_call(&link_cmd).ret;
	expect_refused(name, prog, link);
	close(sock);
}

/* `security.syscalls.intercept.bpf` turned off while the container runs: its filter still traps. */
static void test_key_off_never_continues_link_create(void **state)
{
	(void)state;
	link_after("bpf-off", "PATCH", "/1.0/containers/bpf-off",
		   "{\"config\":{\"security.syscalls.intercept.bpf\":\"false\"}}");
}

/* The container unregistered while it runs (DELETE): its listener stays, its filter traps. */
static void test_unregistered_never_continues_link_create(void **state)
{
	(void)state;
	link_after("bpf-gone", "DELETE", "/1.0/containers/bpf-gone", NULL);
}

/* ---- through the LXC proxy ---- */

/*
 * The relay of peers.h sends a command byte to its child first: ours is
 * driven over its own socket, so that byte goes to /dev/null.
 */
static struct child lxc_monitor(void)
{
	struct child m = { .pid = B.init_pid, .ctl = open("/dev/null", O_WRONLY | O_CLOEXEC),
			   .listener = B.notify_fd };

	assert_true(m.ctl >= 0);
	return m;
}

/* Run @c in the container, relaying each notification it causes as an LXC monitor does. */
static struct bpfc_result lxc_call(int proxy, struct child *m, const struct bpfc_cmd *c,
				   struct seccomp_notif_resp *ret_last)
{
	struct pollfd p[2] = { { .fd = B.notify_fd, .events = POLLIN },
			       { .fd = B.sock, .events = POLLIN } };
	struct bpfc_result res;

	assert_int_equal(write(B.sock, c, sizeof(*c)), sizeof(*c));
	for (;;) {
		assert_true(poll(p, 2, 20000) > 0);
		if (p[0].revents & POLLIN) {
			struct seccomp_notif req;

			relay_lxc_send(proxy, m, "bpf-lxc", 'x', &req);
			relay_lxc_answer(proxy, m, &req, ret_last);
		}
		if (p[1].revents & POLLIN) {
			assert_int_equal(read(B.sock, &res, sizeof(res)), sizeof(res));
			return res;
		}
	}
}

struct late_page {
	int uffd;
	uint8_t *page;
	union bpf_attr attr; /* what the page holds once served */
	int after_ms;
};

/* Serve the page's first fault @after_ms late (a FUSE server of the container's could). */
static void *serve_late(void *arg)
{
	struct late_page *l = arg;
	struct pollfd p = { .fd = l->uffd, .events = POLLIN };
	uint8_t *src = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffd_msg msg;

	if (src != MAP_FAILED && poll(&p, 1, 10000) == 1 && read(l->uffd, &msg, sizeof(msg)) > 0) {
		struct uffdio_copy copy = { .dst = (uintptr_t)l->page, .src = (uintptr_t)src,
					    .len = 4096 };

		usleep((useconds_t)l->after_ms * 1000);
		memcpy(src, &l->attr, sizeof(l->attr));
		(void)ioctl(l->uffd, UFFDIO_COPY, &copy);
	}
	if (src != MAP_FAILED)
		munmap(src, 4096);
	return NULL;
}

/*
 * In the container: LINK_CREATE of @c->prog_fd on @c->target, the attr in a
 * page that anyone reading it waits for until @c->iterations ms after the
 * first read began. @c->target_fd: /dev/userfaultfd, handed over.
 */
static long run_link_late(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	struct late_page l = { .after_ms = c->iterations };
	struct uffdio_api api_msg = { .api = UFFD_API };
	struct uffdio_register reg = { .range.len = 4096, .mode = UFFDIO_REGISTER_MODE_MISSING };
	int target = open(c->target, O_RDONLY | O_CLOEXEC);
	pthread_t server;
	long r = -EIO;

	(void)res;
	l.uffd = ioctl(c->target_fd, USERFAULTFD_IOC_NEW, O_CLOEXEC);
	l.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)l.page;
	l.attr.link_create.prog_fd = (uint32_t)c->prog_fd;
	l.attr.link_create.target_fd = (uint32_t)target;
	l.attr.link_create.attach_type = BPF_CGROUP_DEVICE;
	if (target >= 0 && l.uffd >= 0 && l.page != MAP_FAILED &&
	    ioctl(l.uffd, UFFDIO_API, &api_msg) == 0 && ioctl(l.uffd, UFFDIO_REGISTER, &reg) == 0 &&
	    pthread_create(&server, NULL, serve_late, &l) == 0) {
		r = bpft_sys(BPF_LINK_CREATE, l.page, sizeof(l.attr));
		pthread_join(server, NULL);
	}
	if (l.page != MAP_FAILED)
		munmap(l.page, 4096);
	close(l.uffd);
	close(target);
	close(c->target_fd);
	return r;
}

/*
 * The daemon is still reading the attr when --lxc-deadline-ms passes: the
 * answer sent on its behalf must not be CONTINUE, which the kernel would
 * carry out with the attr it reads then.
 */
static void test_lxc_deadline_never_continues_link_create(void **state)
{
	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC), proxy;
	struct seccomp_notif_resp resp = { 0 };
	struct child m = lxc_monitor();
	struct bpfc_cmd c;
	long prog, link = -EBADF;

	(void)state;
	if (dev < 0)
		skip(); /* no /dev/userfaultfd: a kernel before 6.1 */
	register_container("bpf-lxc");
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	prog = lxc_call(proxy, &m, &load_cmd, &resp).ret;
	c = link_on_host(prog);
	c.op = BPFC_RUN;
	c.run = run_link_late;
	c.target_fd = bpfc_give_fd(&B, dev);
	c.iterations = SERVE_AFTER_MS;
	close(dev);
	if (prog >= 0 && c.target_fd >= 0)
		link = lxc_call(proxy, &m, &c, &resp).ret;
	close(proxy);
	close(m.ctl);
	print_message("# the answer sent at the deadline: flags %u error %d\n", resp.flags, resp.error);
	expect_refused("LXC deadline", prog, link);
	assert_int_equal(resp.flags, 0);
	assert_int_equal(metric_value("interceptd_lxc_deadline_exceeded_total"), 1);
}

/* ---- setup ---- */

static int daemon_up(void **state)
{
	const char *args[] = { "--lxc-deadline-ms", DEADLINE_MS, NULL };

	(void)state;
	if (harness_init(&H) < 0 || harness_start(&H, args) < 0) {
		harness_cleanup(&H);
		return -1;
	}
	return 0;
}

static int daemon_down(void **state)
{
	(void)state;
	if (H.pid > 0)
		(void)harness_stop(&H, SIGTERM);
	harness_cleanup(&H);
	return 0;
}

#define DAEMON_TEST(t) cmocka_unit_test_setup_teardown(t, daemon_up, daemon_down)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DAEMON_TEST(test_lxc_deadline_never_continues_link_create),
		DAEMON_TEST(test_key_off_never_continues_link_create),
		DAEMON_TEST(test_unregistered_never_continues_link_create),
	};

	if (!getenv("INTERCEPTD_BIN")) {
		printf("1..0 # SKIP INTERCEPTD_BIN is not set\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return bpfc_run_group(tests, sizeof(tests) / sizeof(tests[0]));
}
