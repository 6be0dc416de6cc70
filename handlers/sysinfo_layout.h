/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/sysinfo.h>

#include "handlers/cgroup.h"

/*
 * The pure halves of the sysinfo handler: host values + cgroup values →
 * the container's struct sysinfo, and that struct → the caller's ABI bytes.
 * No system calls, no state; covered by tests/unit/test_sysinfo.c.
 */

/* The user-visible struct sysinfo of an LP64 caller (x86_64, and x32: see sysinfo.c). */
struct sysinfo_abi64 {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2; /* the compiler's alignment hole, spelled out so it is zeroed */
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	uint32_t pad3; /* tail padding of the 112-byte kernel struct */
};
_Static_assert(sizeof(struct sysinfo_abi64) == 112, "64-bit struct sysinfo is 112 bytes");
_Static_assert(offsetof(struct sysinfo_abi64, procs) == 80, "procs at 80");
_Static_assert(offsetof(struct sysinfo_abi64, totalhigh) == 88, "totalhigh at 88");
_Static_assert(offsetof(struct sysinfo_abi64, mem_unit) == 104, "mem_unit at 104");

/* The kernel's struct compat_sysinfo: an i386 caller's struct sysinfo. */
struct sysinfo_abi32 {
	int32_t uptime;
	uint32_t loads[3];
	uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t totalhigh, freehigh;
	uint32_t mem_unit;
	char f[8]; /* 20 - 2 * sizeof(u32) - sizeof(int) */
};
_Static_assert(sizeof(struct sysinfo_abi32) == 64, "compat struct sysinfo is 64 bytes");
_Static_assert(offsetof(struct sysinfo_abi32, procs) == 40, "procs at 40");
_Static_assert(offsetof(struct sysinfo_abi32, mem_unit) == 52, "mem_unit at 52");

enum sysinfo_abi {
	SYSINFO_ABI_UNSUPPORTED, /* answer CONTINUE: never a write of the wrong size */
	SYSINFO_ABI_64,
	SYSINFO_ABI_32,
};

union sysinfo_buf {
	struct sysinfo_abi64 a64;
	struct sysinfo_abi32 a32;
};

/* The caller's layout from its AUDIT_ARCH and syscall number (x32 sets __X32_SYSCALL_BIT). */
enum sysinfo_abi sysinfo_abi_for(uint32_t arch, int nr);

/*
 * Normalise a host sysinfo() result to mem_unit = 1 (byte counts). Saturates
 * at UINT64_MAX; a 64-bit host reports mem_unit 1 already.
 */
void sysinfo_host_normalise(struct sysinfo *s);

/*
 * The container's view. @host is normalised (mem_unit 1); @cg as read by
 * cgroup_read_stats() (has_* = false → host value); @uptime is the container's
 * age in seconds, or <= 0 to keep the host's uptime. Pure.
 */
void sysinfo_compute(const struct sysinfo *host, const struct cgroup_stats *cg, long uptime,
		     struct sysinfo *ret);

/*
 * Age in seconds of a task that started @start_ticks clock ticks after boot,
 * @host_uptime seconds after boot; 0 when not positive or @clk_tck <= 0.
 */
long sysinfo_age(long host_uptime, uint64_t start_ticks, long clk_tck);

/* Field 22 (starttime) of a /proc/PID/stat text, parsed after the last ')'. 0 or -EINVAL. */
int sysinfo_parse_starttime(const char *stat, uint64_t *ret);

/*
 * Encode @s (mem_unit 1) in @abi's layout into @buf, zeroing every padding
 * byte. For SYSINFO_ABI_32 the memory fields are scaled by a power-of-two
 * mem_unit, as the kernel's compat path does, so that they fit in 32 bits.
 * Returns the number of bytes to write, or 0 for SYSINFO_ABI_UNSUPPORTED.
 */
size_t sysinfo_encode(enum sysinfo_abi abi, const struct sysinfo *s, union sysinfo_buf *buf);
