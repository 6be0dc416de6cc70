/* SPDX-License-Identifier: Apache-2.0 */
/* Target memory access for handlers; stateless, any worker thread. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "daemon/macro.h"
#include "handlers/procmem.h"

#define PAGE_SIZE_MIN 4096u

static int via_mem_fd(int mem_fd, uint64_t addr, void *buf, size_t len, bool write)
{
	ssize_t n;

	if (mem_fd < 0)
		return -ENOSYS;
	n = write ? pwrite(mem_fd, buf, len, (off_t)addr) : pread(mem_fd, buf, len, (off_t)addr);
	if (n < 0)
		return errno == EIO ? -EFAULT : negative_errno();
	return (size_t)n == len ? 0 : -EFAULT;
}

int procmem_read(pid_t pid, int mem_fd, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0 && errno == ENOSYS)
		return via_mem_fd(mem_fd, addr, buf, len, false);
	if (n < 0)
		return negative_errno();
	/* a partial transfer means the range crossed into an unmapped page */
	return (size_t)n == len ? 0 : -EFAULT;
}

int procmem_open(int proc_dfd, pid_t tid)
{
	char path[32];
	int fd;

	if (proc_dfd >= 0) {
		fd = openat(proc_dfd, "mem", O_RDWR | O_CLOEXEC | O_NOCTTY);
	} else {
		(void)snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	}
	if (fd >= 0)
		return fd;
	return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
}

int procmem_write(int mem_fd, uint64_t addr, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	/* a write into an mm whose task is gone copies nothing: 0, reported as -EFAULT */
	return via_mem_fd(mem_fd, addr, (void *)buf, len, true);
}

int procmem_read_string(pid_t pid, int mem_fd, uint64_t addr, char *buf, size_t size)
{
	size_t off = 0;

	if (size == 0)
		return -EINVAL;
	while (off < size) {
		/* never read past the end of the page holding addr + off */
		size_t chunk = PAGE_SIZE_MIN - ((addr + off) % PAGE_SIZE_MIN);
		char *nul;
		int r;

		if (chunk > size - off)
			chunk = size - off;
		r = procmem_read(pid, mem_fd, addr + off, buf + off, chunk);
		if (r < 0)
			return r;
		nul = memchr(buf + off, '\0', chunk);
		if (nul)
			return 0;
		off += chunk;
	}
	buf[size - 1] = '\0';
	return -ENAMETOOLONG;
}
