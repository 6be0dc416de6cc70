/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests of BPF_PROG_LOAD through handle_bpf() for a real
 * user-namespace "container" (bpf_child.h): the fd the caller gets, the
 * key, the attr rules as the kernel states them, broken pointers, the
 * verifier log, the capabilities the program is verified with, large
 * programs, the owner mark and the memory cgroup charged.
 */
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf_child.h"

/* enum bpf_prog_type in /proc/PID/fdinfo */
#define FDINFO_CGROUP_DEVICE 15

#define B bpfc_env

static struct bpfc_result load(struct bpfc_cmd c)
{
	c.op = BPFC_LOAD;
	return bpfc_call(&B, &c);
}

static void close_in_child(long fd)
{
	struct bpfc_cmd c = { .op = BPFC_CLOSE, .prog_fd = (int)fd };

	assert_int_equal(bpfc_call(&B, &c).ret, 0);
}

static void test_load_gives_cloexec_device_fd(void **state)
{
	struct bpfc_result r = load((struct bpfc_cmd){ .kind = BPFT_DENY_DEV, .major = 1, .minor = 3 });
	struct bpf_prog_info info;
	int fd;

	(void)state;
	assert_true(r.ret >= 0);
	assert_true(r.cloexec);
	assert_int_equal(r.fdinfo_type, FDINFO_CGROUP_DEVICE);
	assert_int_equal(B.n_continue, 0);
	/* the owner mark: loaded with the caller's host uid as real uid (its 0 inside) */
	assert_int_equal(r.created_by_uid, 0);
	fd = (int)bpft_sys(BPF_PROG_GET_FD_BY_ID, &(union bpf_attr){ .prog_id = r.prog_id },
			   sizeof(union bpf_attr));
	assert_true(fd >= 0);
	assert_int_equal(bpft_info(fd, &info), 0);
	assert_int_equal(info.created_by_uid, BPFC_HOST_ID);
	close(fd);
	close_in_child(r.ret);
}

static void test_load_devices_off_eperm(void **state)
{
	struct bpfc_result r;

	(void)state;
	bpfc_set_devices(&B, false);
	r = load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL });
	bpfc_set_devices(&B, true);
	assert_int_equal(r.ret, -EPERM);
	assert_int_equal(B.n_continue, 0); /* refused, never left to the kernel */
}

/* Other program types are the kernel's: EPERM here, where unprivileged bpf is off. */
static void test_load_other_type_kernel_answers(void **state)
{
	struct bpfc_result r = load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL,
						       .prog_type = BPF_PROG_TYPE_SOCKET_FILTER });

	(void)state;
	assert_int_equal(B.n_continue, 1);
	if (r.ret >= 0) /* a host that allows unprivileged socket filters */
		close_in_child(r.ret);
	else
		assert_int_equal(r.ret, -EPERM);
}

static void test_load_without_cap_sys_admin_eperm(void **state)
{
	struct bpfc_cmd caps = { .op = BPFC_CAPS, .caps = ~((uint64_t)1 << CAP_SYS_ADMIN) };
	struct bpfc_result r;

	(void)state;
	assert_int_equal(bpfc_call(&B, &caps).ret, 0);
	r = load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL });
	caps.caps = ~0ULL;
	assert_int_equal(bpfc_call(&B, &caps).ret, 0);
	assert_int_equal(r.ret, -EPERM);
}

/* The verifier sees CAP_BPF and CAP_NET_ADMIN only: no reading kernel memory. */
static void test_load_probe_read_kernel_refused_with_log(void **state)
{
	struct bpfc_result r = load((struct bpfc_cmd){ .kind = BPFT_PROBE_READ, .log_level = 1,
						       .log_size = 4096, .size = 144 });

	(void)state;
	assert_true(r.ret == -EINVAL || r.ret == -EACCES);
	for (char *nl = strchr(r.log, '\n'); nl; nl = strchr(nl, '\n'))
		*nl = ' '; /* one TAP comment line */
	print_message("# verifier: %s\n", r.log);
	assert_non_null(strstr(r.log, "bpf_probe_read_kernel"));
	assert_true(r.log_true_size > 0);
	assert_true(r.log_true_size <= strlen(r.log) + 1 || strlen(r.log) == sizeof(r.log) - 1);
}

static void test_load_log_on_success_and_enospc(void **state)
{
	struct bpfc_result r = load((struct bpfc_cmd){ .kind = BPFT_DENY_DEV, .major = 1,
						       .minor = 3, .log_level = 2, .log_size = 65536 });

	(void)state;
	assert_true(r.ret >= 0);
	assert_non_null(strstr(r.log, "r2 = *(u32 *)(r1 +0)")); /* the program's first instruction */
	assert_true(r.log_true_size > strlen(r.log)); /* the whole log; we see its start */
	close_in_child(r.ret);
	/* a log too small for what the verifier writes: the kernel's ENOSPC, no fd */
	r = load((struct bpfc_cmd){ .kind = BPFT_DENY_DEV, .major = 1, .minor = 3, .log_level = 2,
				    .log_size = 32 });
	assert_int_equal(r.ret, -ENOSPC);
	assert_true(r.log_true_size > 32);
}

/* Refused before the verifier sees them (it would look fd 3 up in the daemon's fd table): no log. */
static void test_load_references_einval(void **state)
{
	struct bpfc_result r;

	(void)state;
	r = load((struct bpfc_cmd){ .kind = BPFT_MAP_REF, .log_level = 1, .log_size = 4096 });
	assert_int_equal(r.ret, -EINVAL);
	assert_string_equal(r.log, "");
	r = load((struct bpfc_cmd){ .kind = BPFT_KFUNC, .log_level = 1, .log_size = 4096 });
	assert_int_equal(r.ret, -EINVAL);
	assert_string_equal(r.log, "");
	/* prog_btf_fd, fd_array, prog_token_fd */
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .poke_off = 72 }).ret,
			 -EINVAL);
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .poke_off = 120 }).ret,
			 -EINVAL);
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .size = 168,
						.poke_off = 144 }).ret,
			 -EINVAL);
}

static void test_load_unknown_tail_e2big(void **state)
{
	(void)state;
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .size = 4096,
						.poke_off = 1000 }).ret,
			 -E2BIG);
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .size = 4097 }).ret, -E2BIG);
	/* a zero tail is fine, as in the kernel */
	struct bpfc_result r = load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .size = 4096 });
	assert_true(r.ret >= 0);
	close_in_child(r.ret);
}

static void test_load_bad_pointers_efault(void **state)
{
	static const int modes[] = { BPFC_PTR_ATTR_UNMAPPED, BPFC_PTR_ATTR_CUT,
				     BPFC_PTR_INSNS_UNMAPPED, BPFC_PTR_LICENSE_UNMAPPED };
	struct bpfc_cmd count = { .op = BPFC_COUNT_FDS };
	long fds_before = bpfc_call(&B, &count).ret;

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		print_message("# pointer mode %d\n", modes[i]);
		assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .ptr = modes[i] }).ret,
				 -EFAULT);
	}
	/* the log is written after verification: EFAULT, and the program is not handed over */
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL, .log_level = 1,
						.log_size = 4096, .ptr = BPFC_PTR_LOG_UNMAPPED }).ret,
			 -EFAULT);
	assert_int_equal(bpfc_call(&B, &count).ret, fds_before);
}

/* A thread flips the program type while loading: only device programs ever come back from us. */
static void test_load_swapped_type_read_once(void **state)
{
	struct bpfc_cmd c = { .op = BPFC_SWAP_LOAD, .iterations = 2000 };
	struct bpfc_result r = bpfc_call(&B, &c);

	(void)state;
	print_message("# device %d, EPERM %d, other type %d\n", r.n_ok, r.n_eperm, r.n_other);
	assert_true(r.n_ok > 0);
	assert_int_equal(r.n_other, 0); /* the kernel's answer to a socket filter here: EPERM */
	assert_int_equal(r.n_ok + r.n_eperm, 2000);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A million instructions is the most; more is E2BIG before anything is read. */
static void test_load_million_instructions(void **state)
{
	double t0 = now_s();
	struct bpfc_result r = load((struct bpfc_cmd){ .kind = BPFT_LINEAR, .n = 1000000 });

	(void)state;
	print_message("# 1M instructions: %ld in %.2f s\n", r.ret, now_s() - t0);
	assert_true(r.ret >= 0 || r.ret == -E2BIG || r.ret == -ENOMEM);
	if (r.ret >= 0)
		close_in_child(r.ret);
	assert_int_equal(load((struct bpfc_cmd){ .kind = BPFT_LINEAR, .n = 1000001 }).ret, -E2BIG);
	assert_true(now_s() - t0 < 30);
}

static long memcg_usage(void)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", B.memcg);
	f = fopen(path, "r");
	if (f && !fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (f)
		fclose(f);
	return atol(buf);
}

/* Usage once the charges of programs freed earlier (after an RCU grace period) are gone. */
static long memcg_settled(void)
{
	long prev = memcg_usage(), cur;

	for (int i = 0; i < 50; i++) {
		usleep(20000);
		cur = memcg_usage();
		if (cur == prev)
			return cur;
		prev = cur;
	}
	return prev;
}

/* The program's memory is charged to the caller's memory cgroup, not to the daemon. */
static void test_load_charged_to_container_memcg(void **state)
{
	long before, after, fds[20];

	(void)state;
	if (!B.memcg[0])
		skip();
	before = memcg_settled();
	for (int i = 0; i < 20; i++) {
		fds[i] = load((struct bpfc_cmd){ .kind = BPFT_LINEAR, .n = 32768 }).ret;
		assert_true(fds[i] >= 0);
	}
	after = memcg_usage();
	print_message("# memcg usage %ld -> %ld\n", before, after);
	/* 20 programs of 256 KiB of instructions each, give or take the charge batches */
	assert_true(after - before >= 4 * 1024 * 1024);
	for (int i = 0; i < 20; i++)
		close_in_child(fds[i]);
}

/* Three loads of one container at once, on three workers: the third is told to come back. */
static void test_load_concurrent_bounded_per_container(void **state)
{
	struct bpfc_cmd c = { .op = BPFC_LOAD_THREADS, .iterations = 3, .n = 1000000 };
	struct bpfc_result r = bpfc_call_concurrent(&B, &c, 3);

	(void)state;
	print_message("# loaded %d, EAGAIN %d, other %d\n", r.n_ok, r.n_eperm, r.n_other);
	assert_int_equal(r.n_ok, 2);
	assert_int_equal(r.n_eperm, 1);
	assert_int_equal(r.n_other, 0);
}

/*
 * In the container: a load with the fd table full up to RLIMIT_NOFILE (the
 * limit at the lowest free fd), then the limit back as it was.
 */
static long run_load_at_fd_limit(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	struct bpf_insn insns[16];
	struct rlimit old, full;
	int lowest = dup(c->target_fd);
	long r;

	(void)res;
	if (lowest < 0 || getrlimit(RLIMIT_NOFILE, &old) < 0)
		return -errno;
	close(lowest);
	full = (struct rlimit){ .rlim_cur = (rlim_t)lowest, .rlim_max = old.rlim_max };
	if (setrlimit(RLIMIT_NOFILE, &full) < 0)
		return -errno;
	r = bpft_load(insns, bpft_build(BPFT_ALLOW_ALL, 0, 0, 0, insns));
	if (setrlimit(RLIMIT_NOFILE, &old) < 0)
		return -errno;
	return r;
}

/*
 * The program fd reaches the caller by the install that answers the call
 * (OCI) or by an install and the protocol's answer (LXC): each call
 * answered once, and a full fd table is the caller's EMFILE with no fd left
 * behind, either way.
 */
static void test_load_answered_once_and_emfile(void **state)
{
	struct bpfc_cmd count = { .op = BPFC_COUNT_FDS };
	struct bpfc_cmd full = { .op = BPFC_RUN, .run = run_load_at_fd_limit, .target_fd = 0 };

	(void)state;
	for (int lxc = 0; lxc <= 1; lxc++) {
		long fds_before, fd;

		print_message("# %s\n", lxc ? "as for LXC" : "as for OCI");
		B.is_lxc_like = lxc;
		B.n_send_failed = 0;
		fds_before = bpfc_call(&B, &count).ret;
		assert_int_equal(bpfc_call(&B, &full).ret, -EMFILE);
		assert_int_equal(bpfc_call(&B, &count).ret, fds_before);
		fd = load((struct bpfc_cmd){ .kind = BPFT_ALLOW_ALL }).ret;
		assert_true(fd >= 0);
		assert_int_equal(bpfc_call(&B, &count).ret, fds_before + 1);
		close_in_child(fd);
		assert_int_equal(B.n_send_failed, 0);
	}
	B.is_lxc_like = false;
}

static void on_alarm(int sig)
{
	(void)sig; /* interrupting the caller's wait for its answer is all it is for */
}

/* Is @fd a bpf program (not stdin or another file the answer could name by mistake)? */
static bool is_prog_fd(long fd)
{
	char path[64], target[64];
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf-prog") == 0;
}

/*
 * In the container: c->iterations loads under a stream of SIGALRMs whose
 * handler has no SA_RESTART, so a signal that ends the wait for the answer
 * ends the call with EINTR. n_ok: program fds (closed again), n_eperm:
 * EINTRs, n_other: anything else.
 */
static long run_loads_under_signals(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval every = { .it_interval = { .tv_usec = 400 }, .it_value = { .tv_usec = 400 } };
	struct bpf_insn insns[16];
	uint32_t n = bpft_build(BPFT_ALLOW_ALL, 0, 0, 0, insns);

	if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &every, NULL) < 0)
		return -errno;
	for (int i = 0; i < c->iterations; i++) {
		long fd = bpft_load(insns, n);

		if (fd >= 0 && is_prog_fd(fd))
			res->n_ok++;
		else if (fd == -EINTR)
			res->n_eperm++;
		else
			res->n_other++;
		if (fd >= 0)
			close((int)fd);
	}
	every = (struct itimerval){};
	return setitimer(ITIMER_REAL, &every, NULL) < 0 ? -errno : 0;
}

/*
 * A caller whose wait is cut short by signals at any point of the load
 * (before the check, during the load, while the install answers it): each
 * call ends with a program fd or EINTR, never a value that names no program,
 * and no fd is left behind in the caller: the install answers the call, so
 * a call the signal ended first gets no fd. (Under LXC the protocol carries
 * the answer and an install can still land in a call a signal then ends.)
 */
static void test_load_interrupted_by_signals_no_stray_fd(void **state)
{
	struct bpfc_cmd count = { .op = BPFC_COUNT_FDS };
	struct bpfc_cmd loads = { .op = BPFC_RUN, .run = run_loads_under_signals,
				  .iterations = 300 };
	long fds_before = bpfc_call(&B, &count).ret;
	struct bpfc_result r;

	(void)state;
	r = bpfc_call(&B, &loads);
	print_message("# %d fds, %d EINTR, %d other\n", r.n_ok, r.n_eperm, r.n_other);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.n_other, 0);
	assert_int_equal(r.n_ok + r.n_eperm, loads.iterations);
	assert_int_equal(bpfc_call(&B, &count).ret, fds_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_gives_cloexec_device_fd),
		cmocka_unit_test(test_load_devices_off_eperm),
		cmocka_unit_test(test_load_other_type_kernel_answers),
		cmocka_unit_test(test_load_without_cap_sys_admin_eperm),
		cmocka_unit_test(test_load_probe_read_kernel_refused_with_log),
		cmocka_unit_test(test_load_log_on_success_and_enospc),
		cmocka_unit_test(test_load_references_einval),
		cmocka_unit_test(test_load_unknown_tail_e2big),
		cmocka_unit_test(test_load_bad_pointers_efault),
		cmocka_unit_test(test_load_swapped_type_read_once),
		cmocka_unit_test(test_load_charged_to_container_memcg),
		cmocka_unit_test(test_load_million_instructions),
		cmocka_unit_test(test_load_concurrent_bounded_per_container),
		cmocka_unit_test(test_load_answered_once_and_emfile),
		cmocka_unit_test(test_load_interrupted_by_signals_no_stray_fd),
	};
	return bpfc_run_group(tests, sizeof(tests) / sizeof(tests[0]));
}
