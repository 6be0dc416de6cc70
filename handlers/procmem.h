/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Bounded access to a trapped task's memory. Uses process_vm_readv/writev
 * (no fd, one syscall); falls back to @mem_fd (LXC hands us /proc/PID/mem)
 * when given and the kernel lacks cross-memory attach. Every function returns
 * 0 or a negative errno: -EFAULT for an unmapped address, never a short copy.
 * Callers read each argument once, then check ID_VALID before acting.
 */

/* Copy exactly @len bytes at @addr in @pid into @buf. */
int procmem_read(pid_t pid, int mem_fd, uint64_t addr, void *buf, size_t len);

/* Copy exactly @len bytes from @buf to @addr in @pid (honours page protections). */
int procmem_write(pid_t pid, int mem_fd, uint64_t addr, const void *buf, size_t len);

/*
 * Read a NUL-terminated string of at most @size - 1 characters into @buf,
 * page by page so that a string ending right before an unmapped page works.
 * -ENAMETOOLONG if no NUL within @size bytes, -EFAULT if unreadable.
 */
int procmem_read_string(pid_t pid, int mem_fd, uint64_t addr, char *buf, size_t size);
