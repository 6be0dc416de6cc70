/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mount_probe: a static program for the mount scenario (scenario_mount.sh),
 * run inside e2e containers. Each subcommand prints "ok" (or a value) on
 * success, else the errno name, on the first line of stdout.
 *
 *   mount SOURCE TARGET TYPE [FLAGS [DATA]]   mount(2) as given; FLAGS a number;
 *       SOURCE and DATA may be "@null", "@bad" (an unmapped address) or, for
 *       DATA, "@mib" (1 MiB without a NUL); TYPE "@null" too
 *   nocap mount ...                            the same without CAP_SYS_ADMIN
 *   open PATH                                  open(2) read-only
 *   euid                                       print the effective uid
 *
 * Build: gcc -static -O2 -I tests/integration -o mount_probe mount_probe.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "caps.h" /* tests/integration/caps.h, shared with the privileged tests */

#define MIB (1024 * 1024)
#define EXIT_USAGE 125

static int fail(int err)
{
	const char *name = strerrorname_np(err);

	printf("%s\n", name ? name : "E?");
	return err > 0 && err < EXIT_USAGE ? err : 124;
}

static const void *pointer(const char *arg)
{
	static char *mib;

	if (strcmp(arg, "@null") == 0)
		return NULL;
	if (strcmp(arg, "@bad") == 0)
		return (const void *)(uintptr_t)0x10;
	if (strcmp(arg, "@mib") == 0) {
		mib = malloc(MIB);
		if (mib)
			memset(mib, 'A', MIB);
		return mib;
	}
	return arg;
}

static int cmd_mount(int argc, char **argv)
{
	unsigned long flags = 0;

	if (argc < 4)
		return EXIT_USAGE;
	if (argc > 4)
		flags = strtoul(argv[4], NULL, 0);
	if (mount(pointer(argv[1]), pointer(argv[2]), pointer(argv[3]), flags,
		  argc > 5 ? pointer(argv[5]) : NULL) < 0)
		return fail(errno);
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return EXIT_USAGE;
	if (strcmp(argv[1], "nocap") == 0) {
		if (caps_drop(CAP_SYS_ADMIN) < 0)
			return fail(errno);
		argv++;
		argc--;
	}
	if (strcmp(argv[1], "mount") == 0)
		return cmd_mount(argc - 1, argv + 1);
	if (strcmp(argv[1], "open") == 0 && argc == 3) {
		fd = open(argv[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return fail(errno);
		printf("ok\n");
		return 0;
	}
	if (strcmp(argv[1], "euid") == 0) {
		printf("%u\n", (unsigned)geteuid());
		return 0;
	}
	return EXIT_USAGE;
}
