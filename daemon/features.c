/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel feature probes, run once by the main thread before other threads
 * exist. Each probe asks the kernel directly rather than trusting a version.
 */
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "daemon/features.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"

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

/*
 * SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP needs a listener to ask. A filter installed
 * without TSYNC binds only the calling thread, so a short-lived thread installs
 * an allow-all filter with a new listener, tries the flag and exits, taking the
 * filter with it.
 */
static void *sync_wake_up_thread(void *arg)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			      SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);

	*(bool *)arg = fd >= 0 && notify_set_sync_wake_up(fd) >= 0;
	close_nointr(fd);
	return NULL;
}

static bool probe_sync_wake_up(void)
{
	bool ok = false;
	pthread_t t;

	if (pthread_create(&t, NULL, sync_wake_up_thread, &ok) != 0)
		return false;
	pthread_join(t, NULL);
	return ok;
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
	f->sync_wake_up = f->seccomp_user_notif && probe_sync_wake_up();
	if (is_cgroup2("/sys/fs/cgroup")) {
		f->cgroup_v2_unified = true;
	} else if (is_cgroup2("/sys/fs/cgroup/unified")) {
		f->cgroup_v2_unified = true;
		f->cgroup_hybrid = true;
	}
}
