/* SPDX-License-Identifier: Apache-2.0 */
/*
 * (audit arch, syscall nr) → handler. Numbers come from libseccomp for each
 * architecture the policies name, never from hand-written tables. Built once
 * by the main thread, then read-only for the workers.
 */
#include <seccomp.h>

#include "daemon/macro.h"
#include "handlers/table.h"

static const struct handler_entry entries[] = {
	{ "sysinfo", handle_sysinfo, CONFIG_SYSINFO },
	{ "mknod", handle_mknod, CONFIG_MKNOD },
	{ "mknodat", handle_mknodat, CONFIG_MKNOD },
	{ "setxattr", handle_setxattr, CONFIG_SETXATTR },
	{ "lsetxattr", handle_setxattr, CONFIG_SETXATTR },
	{ "fsetxattr", handle_setxattr, CONFIG_SETXATTR },
	{ "sched_setscheduler", handle_sched_setscheduler, CONFIG_SCHED_SETSCHEDULER },
	{ "mount", handle_mount, CONFIG_MOUNT },
	/* attaching needs no capability once one holds a program fd: never CONTINUE */
	{ "bpf", handle_bpf, CONFIG_BPF, -EPERM },
};

_Static_assert(ARRAY_SIZE(entries) <= HANDLER_TABLE_MAX, "raise HANDLER_TABLE_MAX");

struct slot {
	uint32_t arch;
	int nr;
	const struct handler_entry *entry;
};

#define MAX_ARCHES 3
static struct slot slots[ARRAY_SIZE(entries) * MAX_ARCHES];
static size_t n_slots;

/* The architectures our policies list, with the audit arch the kernel reports. */
static size_t policy_arches(uint32_t arches[MAX_ARCHES], uint32_t audit[MAX_ARCHES])
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		arches[0] = SCMP_ARCH_X86_64, audit[0] = SCMP_ARCH_X86_64;
		arches[1] = SCMP_ARCH_X86, audit[1] = SCMP_ARCH_X86;
		/* x32 reports AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT in nr */
		arches[2] = SCMP_ARCH_X32, audit[2] = SCMP_ARCH_X86_64;
		return 3;
	case SCMP_ARCH_AARCH64:
		arches[0] = SCMP_ARCH_AARCH64, audit[0] = SCMP_ARCH_AARCH64;
		arches[1] = SCMP_ARCH_ARM, audit[1] = SCMP_ARCH_ARM;
		return 2;
	default:
		arches[0] = audit[0] = seccomp_arch_native();
		return 1;
	}
}

int handler_table_init(void)
{
	uint32_t arches[MAX_ARCHES], audit[MAX_ARCHES];
	size_t n = policy_arches(arches, audit);

	n_slots = 0;
	for (size_t a = 0; a < n; a++)
		for (size_t e = 0; e < ARRAY_SIZE(entries); e++) {
			int nr = seccomp_syscall_resolve_name_arch(arches[a], entries[e].name);

			if (nr < 0) /* e.g. no mknod on aarch64 */
				continue;
			slots[n_slots++] = (struct slot){ audit[a], nr, &entries[e] };
		}
	return n_slots > 0 ? 0 : -ENOSYS;
}

const struct handler_entry *handler_lookup(uint32_t arch, int nr)
{
	for (size_t i = 0; i < n_slots; i++)
		if (slots[i].nr == nr && slots[i].arch == arch)
			return slots[i].entry;
	return NULL;
}

size_t handler_table_size(void)
{
	return ARRAY_SIZE(entries);
}

const struct handler_entry *handler_table_entry(size_t index)
{
	return index < ARRAY_SIZE(entries) ? &entries[index] : NULL;
}

size_t handler_index(const struct handler_entry *e)
{
	return (size_t)(e - entries);
}
