/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

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
 * process. Writing through it is the kernel's /proc/PID/mem write (FOLL_FORCE
 * unless proc_mem.force_override says otherwise): a read-only private mapping
 * of the caller is written where the kernel's own copy_to_user() would fail
 * with EFAULT. Only the caller's own memory can be reached that way.
 */

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

/* Copy exactly @len bytes from @buf to @addr through @mem_fd (procmem_open(), or LXC's). */
int procmem_write(int mem_fd, uint64_t addr, const void *buf, size_t len);
