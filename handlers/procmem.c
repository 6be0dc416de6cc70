/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Target memory access for handlers, from any worker thread. Stateless but
 * for the range a thread may ask to have its copies recorded in
 * (procmem_track(): a thread-local pointer, so the hot path takes no lock).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "daemon/macro.h"
#include "handlers/procmem.h"

#define PAGE_SIZE_MIN 4096u

/*
 * PROCMAP_QUERY of /proc/PID/maps (Linux 6.11, uapi linux/fs.h), under our
 * own names for older headers: the mapping that covers an address (or, with
 * MAPS_COVERING_OR_NEXT, the next one above it).
 */
struct maps_query {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define MAPS_QUERY _IOWR('f', 17, struct maps_query)
#define MAPS_VMA_WRITABLE 0x02
#define MAPS_COVERING_OR_NEXT 0x10

/* Where this thread records its copies, or NULL. */
static _Thread_local struct procmem_range *tracked;

void procmem_track(struct procmem_range *range)
{
	tracked = range;
}

/* A copy of [@addr, @addr + @len) begins: a fault in it may block (userfaultfd, FUSE). */
static void copy_begins(uint64_t addr, size_t len)
{
	if (!tracked)
		return;
	atomic_store_explicit(&tracked->start, addr, memory_order_relaxed);
	atomic_store_explicit(&tracked->end, addr + len, memory_order_release);
}

static void copy_ends(void)
{
	if (tracked)
		atomic_store_explicit(&tracked->end, 0, memory_order_relaxed);
}

static int via_mem_fd(int mem_fd, uint64_t addr, void *buf, size_t len, bool write)
{
	ssize_t n;

	if (mem_fd < 0)
		return -ENOSYS;
	copy_begins(addr, len);
	n = write ? pwrite(mem_fd, buf, len, (off_t)addr) : pread(mem_fd, buf, len, (off_t)addr);
	copy_ends();
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
	copy_begins(addr, len);
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	copy_ends();
	if (n < 0 && errno == ENOSYS)
		return via_mem_fd(mem_fd, addr, buf, len, false);
	if (n < 0)
		return negative_errno();
	/* a partial transfer means the range crossed into an unmapped page */
	return (size_t)n == len ? 0 : -EFAULT;
}

static int open_below(int proc_dfd, pid_t tid, const char *name, int flags)
{
	char path[48];
	int fd;

	if (proc_dfd >= 0) {
		fd = openat(proc_dfd, name, flags | O_CLOEXEC | O_NOCTTY);
	} else {
		(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
		fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	}
	if (fd >= 0)
		return fd;
	return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
}

int procmem_open(int proc_dfd, pid_t tid)
{
	return open_below(proc_dfd, tid, "mem", O_RDWR);
}

int procmem_open_maps(int proc_dfd, pid_t tid)
{
	return open_below(proc_dfd, tid, "maps", O_RDONLY);
}

int procmem_query_mapping(int maps_fd, uint64_t addr, struct procmem_mapping *ret)
{
	struct maps_query q = { .size = sizeof(q), .query_addr = addr,
				.query_flags = MAPS_COVERING_OR_NEXT };

	if (ioctl(maps_fd, MAPS_QUERY, &q) < 0)
		return negative_errno();
	*ret = (struct procmem_mapping){ .start = q.vma_start, .end = q.vma_end,
					 .is_writable = q.vma_flags & MAPS_VMA_WRITABLE,
					 .dev_major = q.dev_major, .dev_minor = q.dev_minor };
	return 0;
}

/*
 * Where a write from @at may go, by PROCMAP_QUERY: through writable mappings
 * and the gaps below them (a stack grows down into its gap: the mem write
 * grows it there as copy_to_user() would, and stops where nothing grows).
 * It stops before a mapping that is not writable, which it would force.
 */
static int writable_end_query(int maps_fd, uint64_t at, uint64_t end, uint64_t *ret)
{
	while (at < end) {
		struct procmem_mapping m;
		int r = procmem_query_mapping(maps_fd, at, &m);

		if (r == -ENOENT)
			break; /* nothing mapped at or above @at */
		if (r < 0)
			return r;
		if (!m.is_writable || m.end <= at)
			break;
		at = m.end;
	}
	*ret = at;
	return 0;
}

/* One line of maps text, "start-end perms ...": false once the run from *at has ended. */
static bool maps_line_extends(const char *line, uint64_t *at)
{
	unsigned long long start, end;
	char perms[5];

	if (sscanf(line, "%llx-%llx %4s", &start, &end, perms) != 3)
		return false;
	if (end <= *at)
		return true; /* below: the lines are sorted, read on */
	if (perms[1] != 'w')
		return false;
	*at = end; /* with the gap below it, if any */
	return true;
}

/*
 * writable_end_query() from the text, for kernels without PROCMAP_QUERY
 * (before 6.11). pread() from the start: one maps file serves several writes
 * of a call (bpf's write-backs), and a read() would go on from where the last
 * look-up stopped, past the lines that matter (a maps file read from 0 is
 * rendered afresh).
 */
static int writable_end_text(int maps_fd, uint64_t at, uint64_t end, uint64_t *ret)
{
	char buf[4096], line[64]; /* the fields read fit in 38 characters */
	size_t n_line = 0;
	bool more = true;
	ssize_t n = 0;
	off_t off = 0;

	while (more && at < end && (n = pread(maps_fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		for (ssize_t i = 0; i < n && more && at < end; i++) {
			if (buf[i] != '\n') {
				if (n_line < sizeof(line) - 1)
					line[n_line++] = buf[i];
				continue;
			}
			line[n_line] = '\0';
			n_line = 0;
			more = maps_line_extends(line, &at);
		}
	}
	if (n < 0)
		return negative_errno();
	*ret = at;
	return 0;
}

int procmem_writable_end(int maps_fd, uint64_t addr, uint64_t end, uint64_t *ret_end)
{
	uint64_t at;
	int r = writable_end_query(maps_fd, addr, end, &at);

	if (r == -ENOTTY)
		r = writable_end_text(maps_fd, addr, end, &at);
	if (r < 0)
		return r;
	*ret_end = at < end ? at : end;
	return 0;
}

int procmem_write(int mem_fd, int maps_fd, uint64_t addr, const void *buf, size_t len)
{
	uint64_t end;
	int r;

	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	r = procmem_writable_end(maps_fd, addr, addr + len, &end);
	if (r < 0)
		return r;
	/* what copy_to_user() would write: the writable part, then EFAULT */
	if (end > addr) {
		/* a write into an mm whose task is gone copies nothing: 0, reported as -EFAULT */
		r = via_mem_fd(mem_fd, addr, (void *)buf, (size_t)(end - addr), true);
		if (r < 0)
			return r;
	}
	return end == addr + len ? 0 : -EFAULT;
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
