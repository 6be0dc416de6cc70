/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Bounded access to a trapped task's memory. Every function returns 0 or a
 * negative errno: -EFAULT for an unmapped address, never a short copy.
 *
 * Reads go by pid (process_vm_readv: no fd, one syscall, honours page
 * protections; LXC's /proc/PID/mem when the kernel lacks cross-memory
 * attach). That is safe because callers read each argument once and check
 * ID_VALID afterwards: a pid that was reused in between fails that check.
 *
 * Writes come after the check, so they never go by pid number (a caller
 * killed after ID_VALID frees its pid for reuse): they go through a
 * /proc/TID/mem file opened *before* ID_VALID. Such a file names the mm the
 * task had when it was opened, which is the trapped caller's for as long as
 * the notification is pending, and it never follows the number to another
 * process. A write through it is the kernel's /proc/PID/mem write, which
 * forces its way into read-only and PROT_NONE private mappings (FOLL_FORCE,
 * the default of proc_mem.force_override), where the kernel's own
 * copy_to_user() fails with EFAULT. A caller that cannot open /proc/self/mem
 * (a sandbox inside the container) could not do that itself, so writes stop
 * before any mapping that the caller's /proc/TID/maps, opened with the mem
 * file, shows not writable. Its other threads can still mprotect() a page
 * between that look-up and the write, which then lands as if it came just
 * before.
 */

/*
 * The range of a caller's memory that a thread is copying from or to, for
 * another thread to find out what a thread stuck in a copy waits on (the
 * daemon's shutdown looks which FUSE file backs it). end == 0: no copy in
 * progress. Written by its own thread only, read by any.
 */
struct procmem_range {
	atomic_uint_fast64_t start, end;
};

/*
 * From now on, the calling thread's copies below record their range in
 * @range (NULL: stop recording). Costs two relaxed stores per copy.
 */
void procmem_track(struct procmem_range *range);

/* Copy exactly @len bytes at @addr in @pid into @buf. */
int procmem_read(pid_t pid, int mem_fd, uint64_t addr, void *buf, size_t len);

/*
 * Read a NUL-terminated string of at most @size - 1 characters into @buf,
 * page by page so that a string ending right before an unmapped page works.
 * -ENAMETOOLONG if no NUL within @size bytes, -EFAULT if unreadable.
 */
int procmem_read_string(pid_t pid, int mem_fd, uint64_t addr, char *buf, size_t size);

/*
 * Open the memory of task @tid for writing: "mem" below @proc_dfd (its
 * /proc/TID directory) when that is given, else /proc/TID/mem. Call it
 * before ID_VALID. Returns a new O_RDWR|O_CLOEXEC fd, -ENOENT when the task
 * is gone, or another negative errno.
 */
int procmem_open(int proc_dfd, pid_t tid);

/* The same for its "maps" (O_RDONLY); opened before ID_VALID too, it names the same mm. */
int procmem_open_maps(int proc_dfd, pid_t tid);

/*
 * How far from @addr (at most @end) a write through the mem file does what
 * copy_to_user() would, in *@ret_end: across writable mappings and the gaps
 * below them (a stack grows into its gap; elsewhere the write stops there),
 * up to the first mapping that is not writable (a mem file write would force
 * it). From @maps_fd: PROCMAP_QUERY, or its text on kernels before 6.11,
 * read from its start each time (one file may serve several look-ups).
 * 0 or a negative errno.
 */
int procmem_writable_end(int maps_fd, uint64_t addr, uint64_t end, uint64_t *ret_end);

/* One mapping, as PROCMAP_QUERY describes it. */
struct procmem_mapping {
	uint64_t start, end;
	bool is_writable;
	unsigned dev_major, dev_minor; /* of the file mapped; 0:0 when anonymous */
};

/*
 * The mapping of @maps_fd's mm that covers @addr, else the next one above it,
 * by PROCMAP_QUERY (Linux 6.11): -ENOENT when there is none, -ENOTTY on older
 * kernels. It asks the mm, not the task: it works while the mm lives, also
 * once the task that @maps_fd was opened on is gone.
 */
int procmem_query_mapping(int maps_fd, uint64_t addr, struct procmem_mapping *ret);

/*
 * Copy @len bytes from @buf to @addr through @mem_fd (procmem_open(), or
 * LXC's) as copy_to_user() would: never into a mapping @maps_fd shows not
 * writable, and -EFAULT (after writing what comes before) at such a mapping
 * or where nothing is mapped and no stack grows.
 */
int procmem_write(int mem_fd, int maps_fd, uint64_t addr, const void *buf, size_t len);
