/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for a FUSE binary in tests/integration/test_mount_notify.c,
 * linked statically so that it runs in the test container's bare root. It is
 * called as a FUSE binary is, BINARY SOURCE TARGET [-o OPTIONS], and does
 * what the option "behave=" says:
 *   mount   mount a tmpfs on TARGET (as an unprivileged FUSE user mounts
 *           /dev/fuse: in the caller's user namespace) and exit 0
 *   stay    the same, then stay in the foreground (a FUSE daemon)
 *   sleep   never mount: sleep in the foreground
 *   daemon  never mount: fork a child in a session of its own that sleeps, exit 0
 *   fail    exit 1
 *   probe   as mount, then write to the file "probe" on the tmpfs what it
 *           inherited: whether /dev/tty opens (and then writes to it), its
 *           blocked signals, RLIMIT_NOFILE and oom_score_adj; and its
 *           /proc/self/cgroup to the file "cgroup"
 *   deny    as mount, then try each call of the policies' deny list, and a
 *           seccomp notifier of its own, and write "NAME=ERRNO" lines (0: it
 *           worked) to the file "deny"; on x86_64 also "keyctl/i386": keyctl
 *           made through int 0x80 ("signal N" when that killed it)
 * Any other option is appended to the file "argv" on the tmpfs it mounts, so
 * the test can see what it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *behaviour(const char *opts)
{
	const char *b = opts ? strstr(opts, "behave=") : NULL;

	return b ? b + strlen("behave=") : "mount";
}

static int mount_and_record(int argc, char **argv)
{
	char path[512];
	int fd;

	if (mount("fakefuse", argv[2], "tmpfs", 0, "mode=0755") < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/argv", argv[2]);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	for (int i = 0; fd >= 0 && i < argc; i++)
		dprintf(fd, "%s\n", argv[i]);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The first line of @path starting with @key, without the key; "" when none. */
static void status_field(const char *path, const char *key, char *buf, size_t size)
{
	char line[256];
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			snprintf(buf, size, "%s", line + strlen(key));
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n = in < 0 ? -1 : read(in, buf, sizeof(buf));

	if (out >= 0 && n > 0)
		(void)!write(out, buf, (size_t)n);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

static void probe(const char *target)
{
	char path[512], sigblk[64], oom[32];
	struct rlimit nofile = { 0, 0 };
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int tty_err = tty < 0 ? errno : 0;
	FILE *f;

	if (tty >= 0) {
		/* what a hostile binary would do: type into a host terminal */
		(void)!write(tty, "container was here\n", 19);
		close(tty);
	}
	status_field("/proc/self/status", "SigBlk:\t", sigblk, sizeof(sigblk));
	status_field("/proc/self/oom_score_adj", "", oom, sizeof(oom));
	(void)getrlimit(RLIMIT_NOFILE, &nofile);
	snprintf(path, sizeof(path), "%s/probe", target);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "tty=%d\nsigblk=%s\nnofile=%llu\noom=%s\n", tty_err, sigblk,
		(unsigned long long)nofile.rlim_max, oom);
	fclose(f);
	snprintf(path, sizeof(path), "%s/cgroup", target);
	copy_file("/proc/self/cgroup", path);
}

/* -errno or the value, as the raw system call returns it: 0 when it worked */
static int outcome(long r)
{
	return r < 0 ? errno : 0;
}

#ifdef __x86_64__
#define I386_KEYCTL 288

/* keyctl through the i386 entry, in a child: the filter or a kernel without it may kill it. */
static void try_i386_keyctl(FILE *f)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		long r;

		__asm__ volatile("int $0x80"
				 : "=a"(r)
				 : "a"((long)I386_KEYCTL), "b"((long)KEYCTL_GET_KEYRING_ID),
				   "c"((long)KEY_SPEC_USER_KEYRING), "d"(0L)
				 : "memory");
		_exit(r < 0 ? (int)-r : 0); /* an errno fits in an exit status */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		fprintf(f, "keyctl/i386=lost\n");
	else if (WIFSIGNALED(status))
		fprintf(f, "keyctl/i386=signal %d\n", WTERMSIG(status));
	else
		fprintf(f, "keyctl/i386=%d\n", WEXITSTATUS(status));
}
#else
static void try_i386_keyctl(FILE *f)
{
	(void)f; /* no i386 entry to try */
}
#endif

/*
 * Each call with arguments the kernel refuses harmlessly on its own, so that
 * an errno from the filter is told apart where it can be: keyctl and add_key
 * work, request_key finds no key (ENOKEY), open_by_handle_at has neither fd
 * nor handle (EBADF or EFAULT), umount2 no path (ENOENT), seccomp no program
 * (EFAULT). kexec_load and the module calls need capabilities of the initial
 * user namespace (EPERM: the same as the filter's) or are not built (ENOSYS).
 */
static void try_denied(const char *target)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/deny", target);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "keyctl=%d\n", outcome(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
						  KEY_SPEC_USER_KEYRING, 0)));
	fprintf(f, "add_key=%d\n", outcome(syscall(SYS_add_key, "user", "interceptd-test", "x", 1,
						   KEY_SPEC_PROCESS_KEYRING)));
	fprintf(f, "request_key=%d\n",
		outcome(syscall(SYS_request_key, "user", "interceptd-none", NULL, 0)));
	fprintf(f, "open_by_handle_at=%d\n",
		outcome(syscall(SYS_open_by_handle_at, -1, NULL, O_RDONLY)));
	fprintf(f, "umount2=%d\n",
		outcome(syscall(SYS_umount2, "/interceptd-none", MNT_FORCE)));
	fprintf(f, "seccomp=%d\n", outcome(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
						   SECCOMP_FILTER_FLAG_NEW_LISTENER, NULL)));
	fprintf(f, "kexec_load=%d\n", outcome(syscall(SYS_kexec_load, 0, 0, NULL, ~0UL)));
	fprintf(f, "init_module=%d\n", outcome(syscall(SYS_init_module, NULL, 0, "")));
	fprintf(f, "finit_module=%d\n", outcome(syscall(SYS_finit_module, -1, "", 0)));
	fprintf(f, "delete_module=%d\n",
		outcome(syscall(SYS_delete_module, "interceptd_none", O_NONBLOCK)));
	try_i386_keyctl(f);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *b;

	if (argc < 3)
		return 2;
	b = behaviour(argc >= 5 && strcmp(argv[3], "-o") == 0 ? argv[4] : NULL);
	if (strncmp(b, "fail", 4) == 0)
		return 1;
	if (strncmp(b, "sleep", 5) == 0) {
		sleep(60);
		return 0;
	}
	if (strncmp(b, "daemon", 6) == 0) {
		if (fork() == 0) {
			setsid();
			sleep(60);
			_exit(0);
		}
		return 0;
	}
	if (mount_and_record(argc, argv) != 0)
		return 1;
	if (strncmp(b, "probe", 5) == 0)
		probe(argv[2]);
	if (strncmp(b, "deny", 4) == 0)
		try_denied(argv[2]);
	if (strncmp(b, "stay", 4) == 0)
		sleep(60);
	return 0;
}
