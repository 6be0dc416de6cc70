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
 * Any other option is appended to the file "argv" on the tmpfs it mounts, so
 * the test can see what it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
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
	if (strncmp(b, "stay", 4) == 0)
		sleep(60);
	return 0;
}
