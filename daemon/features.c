/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel feature probes, run once by the main thread before other threads
 * exist. Each probe asks the kernel directly rather than trusting a version.
 */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "daemon/features.h"
#include "daemon/macro.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static bool probe_user_notif(void)
{
	struct seccomp_notif_sizes sizes;

	return syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
}

static bool probe_openat2(void)
{
	/* NULL how: ENOSYS when missing, EFAULT (or similar) when present */
	return syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) < 0 && errno != ENOSYS;
}

static bool probe_pidfd_thread(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), PIDFD_THREAD);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool is_cgroup2(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

void features_detect(struct kernel_features *f)
{
	memset(f, 0, sizeof(*f));
	f->seccomp_user_notif = probe_user_notif();
	/* CONTINUE arrived in 5.5, after user notification itself; openat2 is 5.6 */
	f->openat2 = probe_openat2();
	f->notif_continue = f->seccomp_user_notif && f->openat2;
	f->pidfd_thread = probe_pidfd_thread();
	if (is_cgroup2("/sys/fs/cgroup")) {
		f->cgroup_v2_unified = true;
	} else if (is_cgroup2("/sys/fs/cgroup/unified")) {
		f->cgroup_v2_unified = true;
		f->cgroup_hybrid = true;
	}
}
