/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: a static test program run inside e2e containers.
 *
 * Every subcommand prints machine-readable results on stdout (`key=value` lines, or `ok`),
 * and on failure prints the errno name (e.g. `EPERM`) on stdout and exits with the errno
 * value. Usage errors exit 125. Add a subcommand by writing one function and one line in
 * the command table at the bottom.
 *
 * Build: gcc -static -O2 -o probe probe.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 125

/* Print the errno name and return the exit code for it. */
static int fail(int err, const char *what)
{
	const char *name = strerrorname_np(err);

	if (name)
		printf("%s\n", name);
	else
		printf("E%d\n", err);
	fprintf(stderr, "probe: %s: %s\n", what, strerror(err));
	return err > 0 && err < 125 ? err : 124;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int cmd_sysinfo(char **argv)
{
	struct sysinfo si;

	(void)argv;
	if (sysinfo(&si) < 0)
		return fail(errno, "sysinfo");
	printf("totalram=%lu\nfreeram=%lu\nsharedram=%lu\nbufferram=%lu\n"
	       "totalswap=%lu\nfreeswap=%lu\nprocs=%u\nuptime=%ld\nmem_unit=%u\n"
	       "totalram_bytes=%llu\n",
	       si.totalram, si.freeram, si.sharedram, si.bufferram, si.totalswap,
	       si.freeswap, (unsigned)si.procs, si.uptime, si.mem_unit,
	       (unsigned long long)si.totalram * si.mem_unit);
	return 0;
}

static int cmd_loop_sysinfo(char **argv)
{
	struct timespec a, b;
	struct sysinfo si;
	uint64_t n, i;

	if (parse_u64(argv[0], &n) < 0 || n == 0)
		return EXIT_USAGE;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		if (sysinfo(&si) < 0)
			return fail(errno, "sysinfo");
	clock_gettime(CLOCK_MONOTONIC, &b);
	uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)b.tv_nsec -
		      (uint64_t)a.tv_nsec;
	printf("calls=%llu\ntotal_ns=%llu\nns_per_call=%llu\ntotalram_bytes=%llu\n",
	       (unsigned long long)n, (unsigned long long)ns, (unsigned long long)(ns / n),
	       (unsigned long long)si.totalram * si.mem_unit);
	return 0;
}

static int cmd_mknod(char **argv)
{
	uint64_t major, minor;
	mode_t type;

	if (!strcmp(argv[1], "c"))
		type = S_IFCHR;
	else if (!strcmp(argv[1], "b"))
		type = S_IFBLK;
	else if (!strcmp(argv[1], "p"))
		type = S_IFIFO;
	else if (!strcmp(argv[1], "f"))
		type = S_IFREG;
	else
		return EXIT_USAGE;
	if (parse_u64(argv[2], &major) < 0 || parse_u64(argv[3], &minor) < 0)
		return EXIT_USAGE;
	if (mknod(argv[0], type | 0666, makedev(major, minor)) < 0)
		return fail(errno, "mknod");
	printf("ok\n");
	return 0;
}

/* Behaves like /dev/null: writes are swallowed, reads hit EOF at once. */
static int cmd_rw_null(char **argv)
{
	char buf[16];
	ssize_t n;
	int fd;

	fd = open(argv[0], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open");
	n = write(fd, "probe", 5);
	if (n < 0)
		return fail(errno, "write");
	if (n != 5)
		return fail(EIO, "short write");
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return fail(errno, "read");
	if (n != 0)
		return fail(EIO, "read returned data");
	close(fd);
	printf("ok\n");
	return 0;
}

static int cmd_setxattr_opaque(char **argv)
{
	if (setxattr(argv[0], "trusted.overlay.opaque", "y", 1, 0) < 0)
		return fail(errno, "setxattr");
	printf("ok\n");
	return 0;
}

/* Write TEXT to an existing PATH (a device or the console, never a new file). */
static int cmd_write(char **argv)
{
	size_t len = strlen(argv[1]);
	int fd = open(argv[0], O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return fail(errno, "open");
	ssize_t n = write(fd, argv[1], len);

	if (n < 0)
		return fail(errno, "write");
	if ((size_t)n != len)
		return fail(EIO, "short write");
	close(fd);
	printf("ok\n");
	return 0;
}

/* type=c|b|f|d|l|p|s major=N minor=N, without following a last symlink. */
static int cmd_stat(char **argv)
{
	static const struct {
		mode_t type;
		char c;
	} types[] = { { S_IFCHR, 'c' }, { S_IFBLK, 'b' }, { S_IFREG, 'f' }, { S_IFDIR, 'd' },
		      { S_IFLNK, 'l' }, { S_IFIFO, 'p' }, { S_IFSOCK, 's' } };
	struct stat st;
	char c = '?';

	if (lstat(argv[0], &st) < 0)
		return fail(errno, "lstat");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((st.st_mode & S_IFMT) == types[i].type)
			c = types[i].c;
	printf("type=%c\nmajor=%u\nminor=%u\n", c, major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * As `unshare -Ur` would: root of a new user namespace nested in the container's, then
 * setxattr. A failure to get there prints "setup:" before the errno name, so that it never
 * passes for the setxattr's own answer.
 */
static int cmd_nested_setxattr_opaque(char **argv)
{
	char uid_map[32], gid_map[32];

	snprintf(uid_map, sizeof(uid_map), "0 %u 1", (unsigned)geteuid());
	snprintf(gid_map, sizeof(gid_map), "0 %u 1", (unsigned)getegid());
	if (unshare(CLONE_NEWUSER) < 0 || write_proc("/proc/self/uid_map", uid_map) < 0 ||
	    write_proc("/proc/self/setgroups", "deny") < 0 ||
	    write_proc("/proc/self/gid_map", gid_map) < 0) {
		printf("setup:");
		return fail(errno, "entering a nested user namespace");
	}
	return cmd_setxattr_opaque(argv);
}

static const struct {
	const char *name;
	int policy;
} policies[] = {
	{ "other", SCHED_OTHER }, { "fifo", SCHED_FIFO },   { "rr", SCHED_RR },
	{ "batch", SCHED_BATCH }, { "idle", SCHED_IDLE },
};

static int cmd_chrt(char **argv)
{
	struct sched_param sp = { 0 };
	uint64_t pid, prio;
	int policy = -1;

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(argv[1], policies[i].name))
			policy = policies[i].policy;
	if (policy < 0 || parse_u64(argv[0], &pid) < 0 || parse_u64(argv[2], &prio) < 0)
		return EXIT_USAGE;
	sp.sched_priority = (int)prio;
	if (sched_setscheduler((pid_t)pid, policy, &sp) < 0)
		return fail(errno, "sched_setscheduler");
	printf("ok\n");
	return 0;
}

/*
 * Try to install an allow-all filter with a new listener, as a nested seccomp agent would.
 * interceptd's policies refuse this (EINVAL) so a container cannot stack its own listener.
 */
static int cmd_seccomp_listener(char **argv)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow };
	long fd;

	(void)argv;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(errno, "prctl");
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
		     &prog);
	if (fd < 0)
		return fail(errno, "seccomp");
	printf("ok\n");
	return 0;
}

/* --- hostile: arguments a malicious container could pass; prints case=ERRNO lines --- */

static const char *errname(long r)
{
	const char *n = r < 0 ? strerrorname_np(errno) : "ok";

	return n ? n : "E?";
}

static long try_mknod(const char *path)
{
	return syscall(SYS_mknodat, AT_FDCWD, path, S_IFCHR | 0666, makedev(1, 3));
}

/* A string of @len 'a's ending exactly where an unmapped page begins (no NUL). */
static char *unterminated(size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + page, page);
	memset(p, 'a', page);
	return p + page - len;
}

struct swapper {
	char *buf;
	const char *a, *b;
	volatile int stop;
};

static void *swap_path(void *arg)
{
	struct swapper *s = arg;

	while (!s->stop) {
		strcpy(s->buf, s->a);
		strcpy(s->buf, s->b);
	}
	return NULL;
}

/* Another thread flips the path between a safe place and a symlink to the host. */
static void hostile_swap(const char *escape_dir)
{
	static char buf[256];
	char evil[256];
	struct swapper s = { .buf = buf, .a = "/tmp/race-n", .b = evil };
	pthread_t t;
	int ok = 0;

	snprintf(evil, sizeof(evil), "%s/race-n", escape_dir);
	pthread_create(&t, NULL, swap_path, &s);
	for (int i = 0; i < 300; i++) {
		if (try_mknod(buf) == 0)
			ok++;
		unlink("/tmp/race-n");
	}
	s.stop = 1;
	pthread_join(t, NULL);
	printf("swap_race_created=%d\n", ok);
}

/* Children looping on mknod are killed at random points, mid-notification. */
static void hostile_kill(void)
{
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			char path[64];

			snprintf(path, sizeof(path), "/tmp/kill-%d", (int)getpid());
			for (;;) {
				try_mknod(path);
				unlink(path);
			}
		}
		usleep(2000 + 500 * i);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	printf("killed_children=20\n");
}

static int cmd_hostile(char **argv)
{
	char longpath[5000], longname[320];
	char *unterm_short = unterminated(100), *unterm_page = unterminated(4096);
	struct sched_param *bad_param = (void *)16;
	/* volatile: the compiler must not see through the deliberately bad pointers */
	const void *volatile unmapped = (const void *)16;

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	snprintf(longname, sizeof(longname), "/tmp/%0300d", 0);
	printf("mknod_unmapped=%s\n", errname(try_mknod(unmapped)));
	printf("mknod_unterminated_short=%s\n", errname(try_mknod(unterm_short)));
	printf("mknod_unterminated_page=%s\n", errname(try_mknod(unterm_page)));
	printf("mknod_overlong=%s\n", errname(try_mknod(longpath)));
	printf("mknod_long_name=%s\n", errname(try_mknod(longname)));
	printf("setxattr_unmapped_name=%s\n",
	       errname(setxattr("/tmp", unmapped, "y", 1, 0)));
	printf("setxattr_unmapped_value=%s\n",
	       errname(setxattr("/tmp", "trusted.overlay.opaque", unmapped, 1, 0)));
	printf("sched_unmapped_param=%s\n", errname(sched_setscheduler(0, SCHED_FIFO, bad_param)));
	hostile_swap(argv[0]);
	hostile_kill();
	printf("after=%s\n", errname(try_mknod("/tmp/after-hostile")));
	return 0;
}

/*
 * --- denied: the calls of interceptd's default deny list, one `name=ERRNO` line each ---
 * Arguments are chosen so that the kernel alone answers something else than the policy
 * where it can (umount2 of a missing path: ENOENT, not EACCES; the keyring calls work);
 * kexec_load and the module calls get EPERM from the kernel too in a user namespace.
 */
static int cmd_denied(char **argv)
{
	(void)argv;
	printf("umount2=%s\n", errname(umount2("/probe-no-such-mount", MNT_FORCE)));
	printf("kexec_load=%s\n", errname(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL)));
	printf("open_by_handle_at=%s\n", errname(syscall(SYS_open_by_handle_at, -1, NULL, 0)));
	printf("init_module=%s\n", errname(syscall(SYS_init_module, NULL, 0UL, "")));
	printf("finit_module=%s\n", errname(syscall(SYS_finit_module, -1, "", 0)));
	printf("delete_module=%s\n", errname(syscall(SYS_delete_module, "probe_none", 0)));
	/* KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3), not creating it (0) */
	printf("keyctl=%s\n", errname(syscall(SYS_keyctl, 0, -3, 0)));
	/* a key in this process's own keyring (-2): gone when the probe exits */
	printf("add_key=%s\n", errname(syscall(SYS_add_key, "user", "probe", "x", 1UL, -2)));
	printf("request_key=%s\n", errname(syscall(SYS_request_key, "user", "probe-none", NULL, -2)));
	return 0;
}

/* --- mount-tmpfs DIR: mount(2) a small tmpfs on DIR: `ok`, or the errno name --- */
static int cmd_mount_tmpfs(char **argv)
{
	if (mount("none", argv[0], "tmpfs", 0, "size=1m") < 0)
		return fail(errno, "mount");
	printf("ok\n");
	return 0;
}

/*
 * --- bpf-bad-attr: BPF_PROG_LOAD with an unreadable attr: the kernel answers EFAULT, even
 * without privilege, so another answer is a seccomp profile's (or interceptd's) ---
 */
static int cmd_bpf_bad_attr(char **argv)
{
	(void)argv;
	printf("%s\n", errname(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, (void *)0x10, 64)));
	return 0;
}

static const struct command {
	const char *name;
	int nargs;
	const char *usage;
	int (*fn)(char **argv);
} commands[] = {
	{ "sysinfo", 0, "", cmd_sysinfo },
	{ "loop-sysinfo", 1, "N", cmd_loop_sysinfo },
	{ "mknod", 4, "PATH c|b|p|f MAJOR MINOR", cmd_mknod },
	{ "rw-null", 1, "PATH", cmd_rw_null },
	{ "setxattr-opaque", 1, "PATH", cmd_setxattr_opaque },
	{ "nested-setxattr-opaque", 1, "PATH", cmd_nested_setxattr_opaque },
	{ "write", 2, "PATH TEXT", cmd_write },
	{ "stat", 1, "PATH", cmd_stat },
	{ "chrt", 3, "PID other|fifo|rr|batch|idle PRIO", cmd_chrt },
	{ "seccomp-listener", 0, "", cmd_seccomp_listener },
	{ "hostile", 1, "ESCAPE_DIR", cmd_hostile },
	{ "denied", 0, "", cmd_denied },
	{ "mount-tmpfs", 1, "DIR", cmd_mount_tmpfs },
	{ "bpf-bad-attr", 0, "", cmd_bpf_bad_attr },
};

static int usage(void)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  probe %s %s\n", commands[i].name, commands[i].usage);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (argc - 2 != commands[i].nargs)
			return usage();
		int r = commands[i].fn(argv + 2);
		if (r == EXIT_USAGE)
			usage();
		return r;
	}
	return usage();
}
