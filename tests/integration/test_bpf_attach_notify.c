/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests of BPF_PROG_ATTACH, PROG_DETACH, LINK_CREATE and
 * PROG_QUERY through handle_bpf() for a real user-namespace "container"
 * (bpf_child.h): device programs work in the container's own subtree and
 * nowhere else, only narrow what the runtime allowed, never touch the
 * runtime's own program, and an attach type swapped mid-call attaches
 * nothing anywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf_child.h"

#define B bpfc_env

static long call(struct bpfc_cmd c)
{
	return bpfc_call(&B, &c).ret;
}

static long load_deny_null(void)
{
	long fd = call((struct bpfc_cmd){ .op = BPFC_LOAD, .kind = BPFT_DENY_DEV, .major = 1, .minor = 3 });

	assert_true(fd >= 0);
	return fd;
}

static long attach(const char *target, long prog, uint32_t flags)
{
	struct bpfc_cmd c = { .op = BPFC_ATTACH, .prog_fd = (int)prog, .flags = flags };

	snprintf(c.target, sizeof(c.target), "%s", target);
	return call(c);
}

static long detach(const char *target, long prog)
{
	struct bpfc_cmd c = { .op = BPFC_DETACH, .prog_fd = (int)prog };

	snprintf(c.target, sizeof(c.target), "%s", target);
	return call(c);
}

static void close_in_child(long fd)
{
	assert_int_equal(call((struct bpfc_cmd){ .op = BPFC_CLOSE, .prog_fd = (int)fd }), 0);
}

static int progs_at(const char *path)
{
	return bpfc_host_query(path, NULL, NULL);
}

static void test_attach_in_own_child_blocks_then_detach_restores(void **state)
{
	long prog = load_deny_null();

	(void)state;
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), 0);
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), 0);
	assert_int_equal(B.n_continue, 0);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), -EPERM);
	assert_int_equal(bpfc_open_dev(&B, B.deep, "/dev/null"), -EPERM); /* and below it */
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/zero"), 0);
	assert_int_equal(bpfc_open_dev(&B, B.c, "/dev/null"), 0);
	assert_int_equal(detach(B.child, prog), 0);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), 0);
	close_in_child(prog);
}

/* The caller asked for no flags: the attach is MULTI all the same. */
static void test_attach_always_multi(void **state)
{
	long prog = load_deny_null();
	uint32_t flags = 0;

	(void)state;
	assert_int_equal(attach(B.c, prog, 0), 0);
	assert_int_equal(bpfc_host_query(B.c, NULL, &flags), 1);
	assert_int_equal(flags, BPF_F_ALLOW_MULTI);
	assert_int_equal(detach(B.c, prog), 0);
	close_in_child(prog);
}

/* The runtime denied /dev/null at the container's cgroup: an allow-all program below opens nothing. */
static void test_allow_all_cannot_widen_runtime(void **state)
{
	int runtime = bpfc_host_load(BPFT_DENY_DEV, 1, 3), cg = bpfc_open_dir(B.c);
	long mine = call((struct bpfc_cmd){ .op = BPFC_LOAD, .kind = BPFT_ALLOW_ALL });

	(void)state;
	assert_true(runtime >= 0 && cg >= 0 && mine >= 0);
	assert_int_equal(bpft_attach(cg, runtime, BPF_F_ALLOW_MULTI, 0, 0), 0);
	assert_int_equal(attach(B.child, mine, BPF_F_ALLOW_MULTI), 0);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), -EPERM);
	assert_int_equal(detach(B.child, mine), 0);
	assert_int_equal(bpft_attach(cg, runtime, 0, 0, 1), 0);
	close_in_child(mine);
	close(runtime);
	close(cg);
}

static void test_outside_subtree_eperm_and_nothing_attached(void **state)
{
	long prog = load_deny_null();
	struct bpfc_cmd c = { .op = BPFC_LINK, .prog_fd = (int)prog };

	(void)state;
	assert_int_equal(attach(B.host, prog, BPF_F_ALLOW_MULTI), -EPERM);
	assert_int_equal(attach(B.root, prog, BPF_F_ALLOW_MULTI), -EPERM); /* above the container */
	snprintf(c.target, sizeof(c.target), "%s", B.host);
	assert_int_equal(call(c), -EPERM);
	c.op = BPFC_QUERY;
	c.prog_cnt = 8;
	assert_int_equal(call(c), -EPERM);
	assert_int_equal(progs_at(B.host), 0);
	assert_int_equal(progs_at(B.root), 0);
	close_in_child(prog);
}

/* runc's BPF_F_REPLACE probe: a target that is no cgroup gets EBADF. */
static void test_not_a_cgroup_ebadf(void **state)
{
	long prog = load_deny_null();
	char file[sizeof(B.child) + 16];

	(void)state;
	assert_int_equal(attach("/dev/null", prog, BPF_F_ALLOW_MULTI | BPF_F_REPLACE), -EBADF);
	assert_int_equal(attach("/proc", prog, BPF_F_ALLOW_MULTI), -EBADF);
	/* a file of a cgroup inside the subtree: a cgroup2 fd, but no directory */
	snprintf(file, sizeof(file), "%s/cgroup.procs", B.child);
	assert_int_equal(attach(file, prog, BPF_F_ALLOW_MULTI), -EBADF);
	assert_int_equal(progs_at(B.child), 0);
	/* a v1 hierarchy is not the kernel's either */
	if (access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0)
		assert_int_equal(attach("/sys/fs/cgroup/memory", prog, BPF_F_ALLOW_MULTI), -EBADF);
	close_in_child(prog);
}

/* An OVERRIDE program above would yield to any program below it: no attach under it. */
static void test_override_above_eperm(void **state)
{
	int runtime = bpfc_host_load(BPFT_ALLOW_ALL, 0, 0), cg = bpfc_open_dir(B.c);
	long prog = load_deny_null();

	(void)state;
	assert_int_equal(bpft_attach(cg, runtime, BPF_F_ALLOW_OVERRIDE, 0, 0), 0);
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), -EPERM);
	assert_int_equal(progs_at(B.child), 0);
	assert_int_equal(bpft_attach(cg, runtime, 0, 0, 1), 0);
	close_in_child(prog);
	close(runtime);
	close(cg);
}

/*
 * The same for a level above the container's own cgroup (the levels whose
 * identity the walk does not look up, known by the container's depth): an
 * OVERRIDE program there refuses attaches below, at any depth; a MULTI one
 * does not.
 */
static void test_override_above_container_eperm(void **state)
{
	int runtime = bpfc_host_load(BPFT_ALLOW_ALL, 0, 0), above = bpfc_open_dir(B.root);
	long prog = load_deny_null();

	(void)state;
	assert_int_equal(bpft_attach(above, runtime, BPF_F_ALLOW_OVERRIDE, 0, 0), 0);
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), -EPERM);
	assert_int_equal(attach(B.deep, prog, BPF_F_ALLOW_MULTI), -EPERM);
	assert_int_equal(progs_at(B.child) + progs_at(B.deep), 0);
	assert_int_equal(bpft_attach(above, runtime, 0, 0, 1), 0);
	assert_int_equal(bpft_attach(above, runtime, BPF_F_ALLOW_MULTI, 0, 0), 0);
	assert_int_equal(attach(B.deep, prog, BPF_F_ALLOW_MULTI), 0);
	assert_int_equal(detach(B.deep, prog), 0);
	assert_int_equal(bpft_attach(above, runtime, 0, 0, 1), 0);
	close_in_child(prog);
	close(runtime);
	close(above);
}

/*
 * The caller's capabilities are its own thread's, as for a load (for these
 * commands they come through its pidfd and capget(), not its status file):
 * without CAP_SYS_ADMIN, attach and detach are EPERM and change nothing.
 */
static void test_attach_detach_without_cap_sys_admin_eperm(void **state)
{
	struct bpfc_cmd caps = { .op = BPFC_CAPS, .caps = ~((uint64_t)1 << CAP_SYS_ADMIN) };
	long prog = load_deny_null();

	(void)state;
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), 0);
	assert_int_equal(bpfc_call(&B, &caps).ret, 0);
	assert_int_equal(attach(B.deep, prog, BPF_F_ALLOW_MULTI), -EPERM);
	assert_int_equal(detach(B.child, prog), -EPERM);
	caps.caps = ~0ULL;
	assert_int_equal(bpfc_call(&B, &caps).ret, 0);
	assert_int_equal(progs_at(B.deep), 0);
	assert_int_equal(progs_at(B.child), 1);
	assert_int_equal(detach(B.child, prog), 0);
	close_in_child(prog);
}

static void test_replace_with_unheld_fd_ebadf(void **state)
{
	long prog = load_deny_null();
	struct bpfc_cmd c = { .op = BPFC_ATTACH, .prog_fd = (int)prog, .replace_fd = 999,
			      .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE };

	(void)state;
	snprintf(c.target, sizeof(c.target), "%s", B.child);
	assert_int_equal(call(c), -EBADF);
	assert_int_equal(progs_at(B.child), 0);
	close_in_child(prog);
}

/* Even holding the runtime's program fd, the container cannot detach or replace it. */
static void test_runtime_program_never_detached(void **state)
{
	int runtime = bpfc_host_load(BPFT_DENY_DEV, 1, 5), cg = bpfc_open_dir(B.c);
	long mine = load_deny_null(), theirs;
	uint32_t id = 0;
	struct bpfc_cmd c = { .op = BPFC_ATTACH, .prog_fd = (int)mine,
			      .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE };

	(void)state;
	assert_int_equal(bpft_attach(cg, runtime, BPF_F_ALLOW_MULTI, 0, 0), 0);
	theirs = bpfc_give_fd(&B, runtime);
	assert_true(theirs >= 0);
	assert_int_equal(detach(B.c, 999), -EBADF);      /* no program fd */
	assert_int_equal(detach(B.c, mine), -ENOENT);    /* not attached there */
	assert_int_equal(detach(B.c, theirs), -EPERM);   /* the runtime's */
	c.replace_fd = (int)theirs;
	snprintf(c.target, sizeof(c.target), "%s", B.c);
	assert_int_equal(call(c), -EPERM);
	assert_int_equal(bpfc_host_query(B.c, &id, NULL), 1);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/zero"), -EPERM);
	assert_int_equal(bpft_attach(cg, runtime, 0, 0, 1), 0);
	close_in_child(theirs);
	close_in_child(mine);
	close(runtime);
	close(cg);
}

/* A program of the container replaced by another of its own. */
static void test_replace_own_program(void **state)
{
	long a = load_deny_null();
	long b = call((struct bpfc_cmd){ .op = BPFC_LOAD, .kind = BPFT_DENY_DEV, .major = 1, .minor = 5 });
	struct bpfc_cmd c = { .op = BPFC_ATTACH, .prog_fd = (int)b, .replace_fd = (int)a,
			      .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE };

	(void)state;
	assert_int_equal(attach(B.child, a, BPF_F_ALLOW_MULTI), 0);
	snprintf(c.target, sizeof(c.target), "%s", B.child);
	assert_int_equal(call(c), 0);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), 0);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/zero"), -EPERM);
	assert_int_equal(detach(B.child, b), 0);
	close_in_child(a);
	close_in_child(b);
}

/* Nothing about which programs are ours lives in the daemon: a fresh one detaches them too. */
static void test_detach_after_restart(void **state)
{
	long prog = load_deny_null();

	(void)state;
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), 0);
	B.cache = (struct handler_cache){}; /* what a restarted interceptd starts with */
	assert_int_equal(detach(B.child, prog), 0);
	assert_int_equal(progs_at(B.child), 0);
	close_in_child(prog);
}

static void test_query_subtree(void **state)
{
	int runtime = bpfc_host_load(BPFT_ALLOW_ALL, 0, 0), cg = bpfc_open_dir(B.c);
	struct bpfc_cmd c = { .op = BPFC_QUERY, .prog_cnt = 8 };
	struct bpf_prog_info info;
	struct bpfc_result r;

	(void)state;
	assert_int_equal(bpft_attach(cg, runtime, BPF_F_ALLOW_MULTI, 0, 0), 0);
	assert_int_equal(bpft_info(runtime, &info), 0);
	snprintf(c.target, sizeof(c.target), "%s", B.c);
	r = bpfc_call(&B, &c);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.prog_cnt, 1);
	assert_int_equal(r.ids[0], info.id);
	assert_int_equal(r.attach_flags, BPF_F_ALLOW_MULTI);
	/* a child sees the inherited one only when asking for the effective programs */
	snprintf(c.target, sizeof(c.target), "%s", B.child);
	assert_int_equal(bpfc_call(&B, &c).prog_cnt, 0);
	c.query_flags = BPF_F_QUERY_EFFECTIVE;
	assert_int_equal(bpfc_call(&B, &c).prog_cnt, 1);
	/* no room: ENOSPC with the real count, as the kernel says */
	c.prog_cnt = 0;
	c.query_flags = 0;
	snprintf(c.target, sizeof(c.target), "%s", B.c);
	r = bpfc_call(&B, &c);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.prog_cnt, 1);
	assert_int_equal(bpft_attach(cg, runtime, 0, 0, 1), 0);
	close(runtime);
	close(cg);
}

static void test_link_create_in_subtree(void **state)
{
	long prog = load_deny_null();
	struct bpfc_cmd c = { .op = BPFC_LINK, .prog_fd = (int)prog };
	struct bpfc_result r;

	(void)state;
	snprintf(c.target, sizeof(c.target), "%s", B.child);
	r = bpfc_call(&B, &c);
	assert_true(r.ret >= 0);
	assert_true(r.cloexec);
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), -EPERM);
	/* the link keeps it attached until its last fd is closed */
	close_in_child(prog);
	close_in_child(r.ret);
	for (int i = 0; i < 100 && progs_at(B.child) > 0; i++)
		usleep(10000); /* links are released after an RCU grace period */
	assert_int_equal(bpfc_open_dev(&B, B.child, "/dev/null"), 0);
}

/* A host task in the container's cgroup: the cgroup is shared, nothing is attached. */
static void test_shared_cgroup_eperm(void **state)
{
	long prog = load_deny_null(), shared;
	pid_t host_task = fork();

	(void)state;
	if (host_task == 0) {
		/* no fd of ours kept open: the container's init waits for our socket's end */
		(void)close_range(3, ~0U, 0);
		pause();
		_exit(0);
	}
	assert_int_equal(bpfc_move(B.c, host_task), 0);
	shared = attach(B.child, prog, BPF_F_ALLOW_MULTI);
	kill(host_task, SIGKILL);
	waitpid(host_task, NULL, 0);
	assert_int_equal(shared, -EPERM);
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), 0);
	assert_int_equal(detach(B.child, prog), 0);
	close_in_child(prog);
}

/* A thread flips the attach type while the caller attaches to a host cgroup. */
static void test_swapped_attach_type_attaches_nothing(void **state)
{
	long prog = load_deny_null();
	struct bpfc_cmd c = { .op = BPFC_SWAP, .prog_fd = (int)prog, .iterations = 2000 };
	struct bpfc_result r;

	(void)state;
	snprintf(c.target, sizeof(c.target), "%s", B.host);
	r = bpfc_call(&B, &c);
	print_message("# ok %d eperm %d other %d\n", r.n_ok, r.n_eperm, r.n_other);
	assert_int_equal(r.n_ok, 0);
	assert_int_equal(r.n_eperm, 2000);
	assert_int_equal(B.n_continue, 0);
	assert_int_equal(progs_at(B.host), 0);
	close_in_child(prog);
}

static void test_devices_off_attach_eperm(void **state)
{
	long prog = load_deny_null();

	(void)state;
	bpfc_set_devices(&B, false);
	assert_int_equal(attach(B.child, prog, BPF_F_ALLOW_MULTI), -EPERM);
	bpfc_set_devices(&B, true);
	assert_int_equal(B.n_continue, 0);
	assert_int_equal(progs_at(B.child), 0);
	close_in_child(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_in_own_child_blocks_then_detach_restores),
		cmocka_unit_test(test_attach_always_multi),
		cmocka_unit_test(test_allow_all_cannot_widen_runtime),
		cmocka_unit_test(test_outside_subtree_eperm_and_nothing_attached),
		cmocka_unit_test(test_not_a_cgroup_ebadf),
		cmocka_unit_test(test_override_above_eperm),
		cmocka_unit_test(test_override_above_container_eperm),
		cmocka_unit_test(test_attach_detach_without_cap_sys_admin_eperm),
		cmocka_unit_test(test_replace_with_unheld_fd_ebadf),
		cmocka_unit_test(test_runtime_program_never_detached),
		cmocka_unit_test(test_replace_own_program),
		cmocka_unit_test(test_detach_after_restart),
		cmocka_unit_test(test_query_subtree),
		cmocka_unit_test(test_link_create_in_subtree),
		cmocka_unit_test(test_shared_cgroup_eperm),
		cmocka_unit_test(test_swapped_attach_type_attaches_nothing),
		cmocka_unit_test(test_devices_off_attach_eperm),
	};

	return bpfc_run_group(tests, sizeof(tests) / sizeof(tests[0]));
}
