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
 * Any other option is appended to the file "argv" on the tmpfs it mounts, so
 * the test can see what it was given.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
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
	if (strncmp(b, "stay", 4) == 0)
		sleep(60);
	return 0;
}
