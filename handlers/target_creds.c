/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Switching the *calling thread's* filesystem credentials to a caller's for
 * the duration of one emulated call, and back.
 *
 * Owns: one thread-local record per worker thread, the thread's own
 * credentials (its baseline), captured on the thread's first switch together
 * with unshare(CLONE_FS) (which makes umask per thread). Worker threads never
 * change their credentials otherwise, so the baseline stays exact and each
 * call only pays for the changes it makes: every credential change commits a
 * new struct cred in the kernel, the expensive part of the switch.
 *
 * Called from worker threads, one switch at a time per thread. No locks, no
 * allocation. Raw syscalls only: glibc's setgroups() would broadcast the
 * change to every thread of the daemon.
 */
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "daemon/macro.h"
#include "handlers/target.h"

/* The kernel's CAP_FS_MASK: what a change of fsuid to or from 0 raises or drops. */
#define FS_CAPS                                                                                    \
	((1ULL << CAP_CHOWN) | (1ULL << CAP_MKNOD) | (1ULL << CAP_DAC_OVERRIDE) |                 \
	 (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) |            \
	 (1ULL << CAP_MAC_OVERRIDE))

struct thread_baseline {
	bool is_captured;
	bool is_poisoned;        /* a restore failed: this thread must not act for anyone again */
	bool leave_needs_capset; /* setfsuid(0) on the way back changes the effective set */
	uid_t fsuid;
	gid_t fsgid;
	mode_t umask;
	mode_t umask_now; /* the thread's umask now: only this file changes it (private fs_struct) */
	size_t n_groups;
	gid_t groups[TARGET_GROUPS_MAX];
	uint32_t cap_eff[2], cap_prm[2], cap_inh[2];
};

static __thread struct thread_baseline baseline;

static uint64_t caps64(const uint32_t c[2])
{
	return (uint64_t)c[0] | (uint64_t)c[1] << 32;
}

bool target_creds_fsuid_root_raises(const uint32_t eff[2], const uint32_t prm[2])
{
	uint64_t e = caps64(eff);

	return (e | (FS_CAPS & caps64(prm))) != e;
}

static int caps_get(uint32_t eff[2], uint32_t prm[2], uint32_t inh[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return negative_errno();
	for (int i = 0; i < 2; i++)
		eff[i] = data[i].effective, prm[i] = data[i].permitted, inh[i] = data[i].inheritable;
	return 0;
}

/* capset() either fails or sets exactly these sets: no read-back needed. */
static int caps_set(const uint32_t eff[2], const uint32_t prm[2], const uint32_t inh[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++)
		data[i] = (struct __user_cap_data_struct){ eff[i], prm[i], inh[i] };
	return RET_NERRNO((int)syscall(SYS_capset, &hdr, data));
}

static int set_fsid(long nr, unsigned id)
{
	(void)syscall(nr, id);
	/* setfs[ug]id never fails visibly; an invalid id (-1) reads the current one back */
	return (unsigned)syscall(nr, (unsigned)-1) == id ? 0 : -EPERM;
}

static int set_groups(size_t n, const gid_t *groups)
{
	return RET_NERRNO((int)syscall(SYS_setgroups, n, groups));
}

static int baseline_capture(struct thread_baseline *b)
{
	int n, r;

	/* a private fs_struct makes umask() per thread */
	if (unshare(CLONE_FS) < 0)
		return negative_errno();
	r = caps_get(b->cap_eff, b->cap_prm, b->cap_inh);
	if (r < 0)
		return r;
	n = (int)syscall(SYS_getgroups, TARGET_GROUPS_MAX, b->groups);
	if (n < 0)
		return negative_errno();
	b->n_groups = (size_t)n;
	b->fsuid = (uid_t)syscall(SYS_setfsuid, (unsigned)-1);
	b->fsgid = (gid_t)syscall(SYS_setfsgid, (unsigned)-1);
	b->umask = umask(0);
	(void)umask(b->umask);
	b->umask_now = b->umask;
	b->leave_needs_capset = target_creds_fsuid_root_raises(b->cap_eff, b->cap_prm);
	b->is_captured = true;
	return 0;
}

/* A umask() only where it changes something: a caller mostly has the thread's own. */
static void set_umask(struct thread_baseline *b, mode_t mask)
{
	if (mask == b->umask_now)
		return;
	(void)umask(mask);
	b->umask_now = mask;
}

bool target_creds_thread_usable(void)
{
	return !baseline.is_poisoned;
}

static bool groups_are_baseline(size_t n, const gid_t *groups)
{
	/* both lists come from the kernel, which keeps them sorted */
	return n == baseline.n_groups && memcmp(groups, baseline.groups, n * sizeof(gid_t)) == 0;
}

int target_creds_leave(const struct target_saved_creds *saved)
{
	struct thread_baseline *b = &baseline;
	int r = 0;

	/* capabilities first: CAP_SETGID and CAP_SETUID come back with them */
	if (caps_set(b->cap_eff, b->cap_prm, b->cap_inh) < 0)
		r = -EPERM;
	if (saved->groups_changed && set_groups(b->n_groups, b->groups) < 0)
		r = -EPERM;
	if (set_fsid(SYS_setfsgid, b->fsgid) < 0)
		r = -EPERM;
	if (set_fsid(SYS_setfsuid, b->fsuid) < 0)
		r = -EPERM;
	/* setfsuid(0) raised the fs capabilities the baseline does not hold: drop them again */
	if (b->leave_needs_capset && caps_set(b->cap_eff, b->cap_prm, b->cap_inh) < 0)
		r = -EPERM;
	set_umask(b, b->umask);
	if (r < 0)
		baseline.is_poisoned = true;
	return r;
}

int target_creds_enter(const struct target_status *st, uint64_t caps_keep,
		       struct target_saved_creds *saved)
{
	const size_t n_groups = st->groups_overflow ? 0 : st->n_groups;
	uint32_t want[2];
	int r;

	if (baseline.is_poisoned)
		return -ENOTRECOVERABLE;
	if (!baseline.is_captured && (r = baseline_capture(&baseline)) < 0)
		return r;
	*saved = (struct target_saved_creds){};
	set_umask(&baseline, st->umask & 0777);
	if (!groups_are_baseline(n_groups, st->groups)) {
		saved->groups_changed = true;
		if (set_groups(n_groups, st->groups) < 0)
			goto out_restore;
	}
	if (set_fsid(SYS_setfsgid, st->fsgid) < 0 || set_fsid(SYS_setfsuid, st->fsuid) < 0)
		goto out_restore;
	want[0] = (uint32_t)caps_keep & baseline.cap_prm[0];
	want[1] = (uint32_t)(caps_keep >> 32) & baseline.cap_prm[1];
	if (caps_set(want, baseline.cap_prm, baseline.cap_inh) < 0)
		goto out_restore;
	return 0;

out_restore:
	(void)target_creds_leave(saved);
	return -EPERM;
}
