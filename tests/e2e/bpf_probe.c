/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpf_probe: device-cgroup programs from inside an e2e container (static).
 *
 * Each subcommand prints `key=value` lines; an errno is printed by name
 * (EPERM). Exit 0 when the subcommand ran, 125 on usage errors, 1 when the
 * test program itself broke. The programs come from
 * tests/integration/bpf_progs.h, shared with the privileged tests.
 *
 * Build: gcc -static -O2 -I tests/integration -o bpf_probe bpf_probe.c -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf_progs.h"

#define EXIT_USAGE 125
#define PROGS_ROOM 16

static const char *name_of(long r)
{
	static char buf[24];
	const char *n;

	if (r >= 0)
		return "ok";
	n = strerrorname_np((int)-r);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%ld", -r);
	return buf;
}

static long load_kind(enum bpft_prog kind, unsigned major, unsigned minor)
{
	struct bpf_insn insns[PROGS_ROOM];

	return bpft_load(insns, bpft_build(kind, major, minor, 0, insns));
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "bpf_probe: %s: %m\n", path);
		exit(1);
	}
	return fd;
}

static int fdinfo_type(long fd)
{
	char path[64], buf[1024], *p;
	int f, n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%ld", fd);
	f = open(path, O_RDONLY);
	n = f < 0 ? -1 : (int)read(f, buf, sizeof(buf) - 1);
	if (f >= 0)
		close(f);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "prog_type:");
	return p ? atoi(p + strlen("prog_type:")) : -1;
}

/* load: a device program; fd, close-on-exec and its type as /proc says. */
static int cmd_load(char **argv)
{
	long fd = load_kind(BPFT_DENY_DEV, 1, 3);

	(void)argv;
	printf("load=%s\n", name_of(fd));
	if (fd >= 0)
		printf("cloexec=%d\nprog_type=%d\n", (fcntl((int)fd, F_GETFD) & FD_CLOEXEC) != 0,
		       fdinfo_type(fd));
	return 0;
}

/* A child moves into @cgroup and opens @dev: 0 or -errno. */
static long open_in(const char *cgroup, const char *dev)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char procs[512], me[16];
		int fd;

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
		snprintf(me, sizeof(me), "%d", getpid());
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, me, strlen(me)) < 0)
			_exit(200);
		_exit(open(dev, O_RDONLY) < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -EIO;
	if (WEXITSTATUS(status) == 200) {
		fprintf(stderr, "bpf_probe: cannot join %s\n", cgroup);
		exit(1);
	}
	return -WEXITSTATUS(status);
}

/* The program `block` attaches: deny c 1:3, allow all, or clear earlier denials. */
static long load_block(const char *kind)
{
	struct bpf_insn insns[PROGS_ROOM];
	union bpf_attr a;

	if (strcmp(kind, "overrule") != 0)
		return load_kind(strcmp(kind, "allow") == 0 ? BPFT_ALLOW_ALL : BPFT_DENY_DEV, 1, 3);
	/* bpf_set_retval() is there for programs of the device attach type only */
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.expected_attach_type = BPF_CGROUP_DEVICE;
	a.insn_cnt = bpft_build(BPFT_SET_RETVAL, 0, 0, 0, insns);
	a.insns = (uintptr_t)insns;
	a.license = (uintptr_t)"GPL";
	return bpft_sys(BPF_PROG_LOAD, &a, sizeof(a));
}

/*
 * block CGROUP DEV deny|allow|overrule [link]: a program denying c 1:3,
 * allowing everything, or calling bpf_set_retval(0) after allowing, attached
 * MULTI (or as a link) to CGROUP; DEV opened by a task there before, while
 * attached and after the detach.
 */
static int cmd_block(char **argv)
{
	long prog = load_block(argv[2]);
	int cg = open_dir(argv[0]);
	bool as_link = argv[3] && strcmp(argv[3], "link") == 0;
	long r;

	printf("load=%s\nbefore=%s\n", name_of(prog), name_of(open_in(argv[0], argv[1])));
	if (prog < 0)
		return 0;
	r = as_link ? bpft_link_create(cg, (int)prog, BPF_CGROUP_DEVICE)
		    : bpft_attach(cg, (int)prog, BPF_F_ALLOW_MULTI, 0, 0);
	printf("attach=%s\nattached=%s\n", name_of(r), name_of(open_in(argv[0], argv[1])));
	if (r < 0)
		return 0;
	if (as_link) {
		close((int)r);
		close((int)prog);
		prog = -1;
		usleep(100000); /* a closed link is released after an RCU grace period */
	} else {
		r = bpft_attach(cg, (int)prog, 0, 0, 1);
	}
	printf("detach=%s\ndetached=%s\n", name_of(r), name_of(open_in(argv[0], argv[1])));
	return 0;
}

/* reach CGROUP: attach, link and query there; what each gets. */
static int cmd_reach(char **argv)
{
	long prog = load_kind(BPFT_DENY_DEV, 1, 3);
	int cg = open_dir(argv[0]);
	uint32_t ids[8], cnt = 0;
	long r;

	printf("load=%s\n", name_of(prog));
	r = bpft_attach(cg, (int)prog, BPF_F_ALLOW_MULTI, 0, 0);
	printf("attach=%s\n", name_of(r));
	if (r == 0)
		(void)bpft_attach(cg, (int)prog, 0, 0, 1);
	r = bpft_link_create(cg, (int)prog, BPF_CGROUP_DEVICE);
	printf("link=%s\n", name_of(r));
	if (r >= 0)
		close((int)r);
	r = bpft_query(cg, ids, 8, &cnt, NULL);
	printf("query=%s\nquery_cnt=%u\n", name_of(r), r == 0 ? cnt : 0);
	return 0;
}

/*
 * hold CGROUP: load a program, say so, wait for /tmp/bpf-go, then try to link
 * and attach it to CGROUP: what a container still holding a program fd can do
 * once bpf.devices is switched off.
 */
static int cmd_hold(char **argv)
{
	long prog = load_kind(BPFT_DENY_DEV, 1, 3);
	int cg = open_dir(argv[0]);

	printf("loaded=%s\n", name_of(prog));
	while (access("/tmp/bpf-go", F_OK) < 0)
		usleep(20000);
	printf("link=%s\n", name_of(bpft_link_create(cg, (int)prog, BPF_CGROUP_DEVICE)));
	printf("attach=%s\n", name_of(bpft_attach(cg, (int)prog, BPF_F_ALLOW_MULTI, 0, 0)));
	return 0;
}

#if defined(__x86_64__)
/* bpf(2) through int 0x80, the i386 ABI, from 64-bit code: an attr below 4 GiB. */
static long ia32_bpf(int cmd, const union bpf_attr *a)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(357L /* i386 __NR_bpf */), "b"((long)cmd), "c"(a), "d"(sizeof(*a))
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* ia32 CGROUP: LINK_CREATE and PROG_ATTACH of a held program on CGROUP, by the i386 ABI. */
static int cmd_ia32(char **argv)
{
	union bpf_attr *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long prog = load_kind(BPFT_DENY_DEV, 1, 3), r;
	int cg = open_dir(argv[0]);

	if (a == MAP_FAILED)
		return 1;
	printf("load=%s\n", name_of(prog));
	a->link_create.prog_fd = (uint32_t)prog;
	a->link_create.target_fd = (uint32_t)cg;
	a->link_create.attach_type = BPF_CGROUP_DEVICE;
	r = ia32_bpf(BPF_LINK_CREATE, a);
	printf("ia32_link=%s\n", name_of(r));
	memset(a, 0, sizeof(*a));
	a->target_fd = (uint32_t)cg;
	a->attach_bpf_fd = (uint32_t)prog;
	a->attach_type = BPF_CGROUP_DEVICE;
	a->attach_flags = BPF_F_ALLOW_MULTI;
	printf("ia32_attach=%s\n", name_of(ia32_bpf(BPF_PROG_ATTACH, a)));
	return 0;
}
#else
static int cmd_ia32(char **argv)
{
	(void)argv;
	printf("ia32_link=EPERM\nia32_attach=EPERM\n"); /* no i386 ABI to try */
	return 0;
}
#endif

/* A load with one attr byte set (BTF fds, tails) or a broken pointer. */
static long load_odd(uint32_t size, int poke, int kind, bool unmapped_insns)
{
	uint8_t *attr = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct bpf_insn insns[PROGS_ROOM];
	union bpf_attr *a = (union bpf_attr *)attr;
	long r;

	a->prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a->insn_cnt = bpft_build(kind, 1, 3, 0, insns);
	a->insns = unmapped_insns ? 8 : (uintptr_t)insns;
	a->license = (uintptr_t)"GPL";
	if (poke > 0)
		attr[poke] = 1;
	r = bpft_sys(BPF_PROG_LOAD, attr, size);
	munmap(attr, 8192);
	return r;
}

/* errors CGROUP: what the kernel would say to each kind of bad request. */
static int cmd_errors(char **argv)
{
	static char log[4096];
	struct bpf_insn insns[PROGS_ROOM];
	long prog = load_kind(BPFT_DENY_DEV, 1, 3);
	int cg = open_dir(argv[0]);
	union bpf_attr a;
	long r;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = bpft_build(BPFT_ALLOW_ALL, 0, 0, 0, insns);
	a.insns = (uintptr_t)insns;
	a.license = (uintptr_t)"GPL";
	printf("socket_filter=%s\n", name_of(bpft_sys(BPF_PROG_LOAD, &a, sizeof(a))));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insn_cnt = bpft_build(BPFT_PROBE_READ, 0, 0, 0, insns);
	a.log_level = 1;
	a.log_size = sizeof(log);
	a.log_buf = (uintptr_t)log;
	r = bpft_sys(BPF_PROG_LOAD, &a, sizeof(a));
	printf("probe_read_kernel=%s\nlog_names_helper=%d\n", name_of(r),
	       strstr(log, "bpf_probe_read_kernel") != NULL);
	printf("map_fd=%s\n", name_of(load_odd(144, 0, BPFT_MAP_REF, false)));
	printf("btf_fd=%s\n", name_of(load_odd(144, 72, BPFT_ALLOW_ALL, false)));
	printf("unknown_tail=%s\n", name_of(load_odd(4096, 1000, BPFT_ALLOW_ALL, false)));
	printf("bad_insns=%s\n", name_of(load_odd(144, 0, BPFT_ALLOW_ALL, true)));
	r = bpft_attach(cg, (int)prog, BPF_F_ALLOW_MULTI | BPF_F_REPLACE, 999, 0);
	printf("replace_unheld=%s\n", name_of(r));
	printf("detach_unheld=%s\n", name_of(bpft_attach(cg, 999, 0, 0, 1)));
	printf("detach_unattached=%s\n", name_of(bpft_attach(cg, (int)prog, 0, 0, 1)));
	return 0;
}

/*
 * On the host, as the runtime: runtime CGROUP deny|allow MAJOR MINOR multi|override
 * attaches such a program there (it stays attached after we exit).
 */
static int cmd_runtime(char **argv)
{
	long prog = load_kind(strcmp(argv[1], "allow") == 0 ? BPFT_ALLOW_ALL : BPFT_DENY_DEV,
			      (unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	uint32_t flags = strcmp(argv[4], "override") == 0 ? BPF_F_ALLOW_OVERRIDE : BPF_F_ALLOW_MULTI;
	long r = prog < 0 ? prog : bpft_attach(open_dir(argv[0]), (int)prog, flags, 0, 0);

	printf("runtime=%s\n", name_of(r));
	return r < 0;
}

/* On the host: every device program attached at CGROUP detached again. */
static int cmd_clear(char **argv)
{
	int cg = open_dir(argv[0]);
	uint32_t ids[64], cnt = 0;
	long r = bpft_query(cg, ids, 64, &cnt, NULL);

	for (uint32_t i = 0; r == 0 && i < cnt; i++) {
		long fd = bpft_sys(BPF_PROG_GET_FD_BY_ID, &(union bpf_attr){ .prog_id = ids[i] },
				   sizeof(union bpf_attr));

		r = fd < 0 ? fd : bpft_attach(cg, (int)fd, 0, 0, 1);
	}
	printf("clear=%s\n", name_of(r));
	return r < 0;
}

/* count CGROUP: device programs attached there (on the host: what really happened). */
static int cmd_count(char **argv)
{
	uint32_t ids[64], cnt = 0;
	long r = bpft_query(open_dir(argv[0]), ids, 64, &cnt, NULL);

	if (r == 0)
		printf("programs=%u\n", cnt);
	else
		printf("programs=%s\n", name_of(r));
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * hostile CGROUP: an attr pointer unmapped and one cut by a hole, an attach
 * type flipped by a thread while attaching to CGROUP (outside the
 * container), and a million-instruction program.
 */
static int cmd_hostile(char **argv)
{
	uint8_t *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t n = 1000000;
	struct bpf_insn *big = mmap(NULL, n * sizeof(*big), PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static union bpf_attr swap_attr;
	int swapped_ok = 0, other = 0;
	struct bpft_flipper f;
	double t0;
	long r;

	munmap(page + 4096, 4096);
	printf("attr_unmapped=%s\n", name_of(bpft_sys(BPF_PROG_LOAD, page + 4096, 144)));
	printf("attr_cut=%s\n", name_of(bpft_sys(BPF_PROG_LOAD, page + 4096 - 64, 144)));
	swap_attr.target_fd = (uint32_t)open_dir(argv[0]);
	swap_attr.attach_bpf_fd = (uint32_t)load_kind(BPFT_DENY_DEV, 1, 3);
	swap_attr.attach_type = BPF_CGROUP_DEVICE;
	swap_attr.attach_flags = BPF_F_ALLOW_MULTI;
	bpft_flip_start(&f, &swap_attr.attach_type, BPF_CGROUP_INET_EGRESS, BPF_CGROUP_DEVICE);
	for (int i = 0; i < 1000; i++) {
		r = bpft_sys(BPF_PROG_ATTACH, &swap_attr, sizeof(swap_attr));
		swapped_ok += r == 0;
		other += r != 0 && r != -EPERM;
	}
	bpft_flip_stop(&f);
	printf("swapped_attached=%d\nswapped_other=%d\n", swapped_ok, other);
	t0 = now_s();
	r = bpft_load(big, bpft_build(BPFT_LINEAR, 0, 0, (uint32_t)n, big));
	printf("million=%s\nmillion_s=%.1f\n", name_of(r), now_s() - t0);
	return 0;
}

/* What one flood process saw: loads that worked, EAGAIN, EPERM, anything else. */
struct flood_counts {
	int ok, again, perm, other;
	long first_other; /* the first unexpected -errno, or 0 */
};

static void flood_one(int loads, int out_fd)
{
	struct flood_counts c = { 0 };
	struct bpf_insn insns[4096];

	for (int i = 0; i < loads; i++) {
		long r = bpft_load(insns, bpft_build(BPFT_LINEAR, 0, 0, 4096, insns));

		if (r >= 0) {
			c.ok++;
			close((int)r);
		} else if (r == -EAGAIN) {
			c.again++;
		} else if (r == -EPERM) {
			c.perm++; /* through LXC: the answer past --lxc-deadline-ms */
		} else if (c.other++ == 0) {
			c.first_other = r;
		}
	}
	_exit(write(out_fd, &c, sizeof(c)) == sizeof(c) ? 0 : 1);
}

/*
 * flood N M: N processes load M programs each as fast as they can; the
 * counts by answer, the first unexpected errno and the time it took.
 */
static int cmd_flood(char **argv)
{
	int procs = atoi(argv[0]), loads = atoi(argv[1]), pipes[2];
	struct flood_counts sum = { 0 };
	double t0 = now_s();

	if (pipe(pipes) < 0)
		return 1;
	for (int p = 0; p < procs; p++)
		if (fork() == 0)
			flood_one(loads, pipes[1]);
	close(pipes[1]);
	for (int p = 0; p < procs; p++) {
		struct flood_counts c;

		if (read(pipes[0], &c, sizeof(c)) != sizeof(c))
			return 1;
		sum.ok += c.ok, sum.again += c.again, sum.perm += c.perm, sum.other += c.other;
		if (!sum.first_other)
			sum.first_other = c.first_other;
	}
	while (wait(NULL) > 0)
		;
	printf("loaded=%d\neagain=%d\neperm=%d\nother=%d\nfirst_other=%s\nflood_s=%.1f\n", sum.ok,
	       sum.again, sum.perm, sum.other, sum.first_other ? name_of(sum.first_other) : "none",
	       now_s() - t0);
	return 0;
}

static const struct {
	const char *name;
	int n_args;
	int (*fn)(char **argv);
	const char *usage;
} commands[] = {
	{ "load", 0, cmd_load, "load" },
	{ "block", 3, cmd_block, "block CGROUP DEV deny|allow|overrule [link]" },
	{ "ia32", 1, cmd_ia32, "ia32 CGROUP" },
	{ "reach", 1, cmd_reach, "reach CGROUP" },
	{ "errors", 1, cmd_errors, "errors CGROUP" },
	{ "hostile", 1, cmd_hostile, "hostile OUTSIDE_CGROUP" },
	{ "flood", 2, cmd_flood, "flood PROCS LOADS" },
	{ "hold", 1, cmd_hold, "hold CGROUP (waits for /tmp/bpf-go)" },
	{ "runtime", 5, cmd_runtime, "runtime CGROUP deny|allow MAJOR MINOR multi|override (host)" },
	{ "clear", 1, cmd_clear, "clear CGROUP (host)" },
	{ "count", 1, cmd_count, "count CGROUP" },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0 && argc - 2 >= commands[i].n_args)
			return commands[i].fn(argv + 2);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "usage: bpf_probe %s\n", commands[i].usage);
	return EXIT_USAGE;
}
