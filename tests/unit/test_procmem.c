/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for where procmem_write() may write: procmem_writable_end() on
 * the text of a maps file (a memfd: no PROCMAP_QUERY, so the text path, as
 * on kernels before 6.11) and on our own /proc/self/maps (the query where
 * the kernel has it), both against mappings whose protections we set.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/macro.h"
#include "handlers/procmem.h"

/* A memfd holding @text, read from its start. */
static int maps_text(const char *text, size_t len)
{
	int fd = memfd_create("maps", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static uint64_t writable_end_in(const char *text, uint64_t addr, uint64_t end)
{
	_cleanup_close_ int fd = maps_text(text, strlen(text));
	uint64_t got = 0;

	assert_int_equal(procmem_writable_end(fd, addr, end, &got), 0);
	return got;
}

static const char MAPS[] =
	"00400000-00401000 r-xp 00000000 08:01 123 /bin/x\n"
	"00601000-00602000 rw-p 00001000 08:01 123 /bin/x\n"
	"00602000-00604000 rw-p 00000000 00:00 0 [heap]\n"
	"00604000-00605000 r--p 00000000 00:00 0\n"
	"7f0000000000-7f0000001000 ---p 00000000 00:00 0\n";

static void test_writable_end_text_runs_across_mappings(void **state)
{
	(void)state;
	/* two adjacent writable mappings are one run, cut at @end */
	assert_int_equal(writable_end_in(MAPS, 0x601f00, 0x603000), 0x603000);
	/* from writable into read-only: the writable start only */
	assert_int_equal(writable_end_in(MAPS, 0x603ff0, 0x604010), 0x604000);
}

static void test_writable_end_text_refuses_protected(void **state)
{
	(void)state;
	assert_int_equal(writable_end_in(MAPS, 0x400100, 0x400170), 0x400100); /* r-x */
	assert_int_equal(writable_end_in(MAPS, 0x604000, 0x604070), 0x604000); /* r-- */
	assert_int_equal(writable_end_in(MAPS, 0x7f0000000010, 0x7f0000000080),
			 0x7f0000000010); /* ---, a guard */
	/* a gap below a mapping that is not writable, or below nothing at all */
	assert_int_equal(writable_end_in(MAPS, 0x605000, 0x605070), 0x605000);
	assert_int_equal(writable_end_in(MAPS, 0x7f0000002000, 0x7f0000002070), 0x7f0000002000);
}

/* A gap below a writable mapping is left to the write: a stack grows down into it. */
static void test_writable_end_text_gap_below_writable(void **state)
{
	(void)state;
	assert_int_equal(writable_end_in(MAPS, 0x500000, 0x500070), 0x500070);
	assert_int_equal(writable_end_in(MAPS, 0x600ff0, 0x601010), 0x601010);
	assert_int_equal(writable_end_in(MAPS, 0x401000, 0x700000), 0x604000);
}

/* The same fd asked twice: the second look-up reads the text from its start again. */
static void test_writable_end_text_fd_asked_twice(void **state)
{
	_cleanup_close_ int fd = maps_text(MAPS, strlen(MAPS));
	uint64_t got = 0;

	(void)state;
	assert_int_equal(procmem_writable_end(fd, 0x604000, 0x604010, &got), 0);
	assert_int_equal(got, 0x604000);
	assert_int_equal(procmem_writable_end(fd, 0x601f00, 0x603000, &got), 0);
	assert_int_equal(got, 0x603000);
}

/* A path long enough that the next line starts a few bytes before the first read's end. */
static void test_writable_end_text_long_lines(void **state)
{
	static char text[16384];
	const char *head = "00601000-00602000 rw-p 00000000 08:01 7 /";
	const char *next = "00602000-00603000 rw-p 00000000 00:00 0\n";
	size_t n = strlen(head), path = 4096 - 10 - n - 1;

	(void)state;
	memcpy(text, head, n);
	memset(text + n, 'a', path);
	text[n + path] = '\n';
	memcpy(text + n + path + 1, next, strlen(next) + 1);
	assert_int_equal(writable_end_in(text, 0x601ff0, 0x602ff0), 0x602ff0);
}

/*
 * One maps file, several look-ups (bpf writes back up to three times per call
 * through one): each reads the text from its start. Here the first read ends
 * right after the read-only line, so a look-up going on from where the last
 * one stopped would see only the writable line above it.
 */
static void test_writable_end_text_reused_fd(void **state)
{
	static char text[8192];
	const char *below = "00601000-00602000 rw-p 00000000 00:00 0\n";
	const char *ro = "00602000-00603000 r--p 00000000 08:01 7 /";
	const char *above = "00603000-00604000 rw-p 00000000 00:00 0\n";
	size_t n = strlen(below), m = strlen(ro), path = 4096 - n - m - 1;
	_cleanup_close_ int fd = -EBADF;
	uint64_t got = 0;

	(void)state;
	memcpy(text, below, n);
	memcpy(text + n, ro, m);
	memset(text + n + m, 'a', path);
	text[4095] = '\n';
	memcpy(text + 4096, above, strlen(above) + 1);
	fd = maps_text(text, strlen(text));
	assert_int_equal(procmem_writable_end(fd, 0x601100, 0x602100, &got), 0);
	assert_int_equal(got, 0x602000);
	assert_int_equal(procmem_writable_end(fd, 0x602800, 0x604000, &got), 0);
	assert_int_equal(got, 0x602800);
	assert_int_equal(procmem_writable_end(fd, 0x603100, 0x603200, &got), 0);
	assert_int_equal(got, 0x603200);
}

/* Our own maps, by the query (or its text), and a copy of its text: the same answers. */
static void test_writable_end_own_maps(void **state)
{
	const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const uint64_t base = (uint64_t)(uintptr_t)p;
	_cleanup_close_ int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	static char copy[1 << 20];
	size_t n = 0;
	ssize_t r;

	(void)state;
	assert_true(p != MAP_FAILED && maps >= 0);
	/* writable, writable in a mapping of its own, read-only, guard */
	assert_int_equal(madvise(p + ps, ps, MADV_DONTFORK), 0);
	assert_int_equal(mprotect(p + 2 * ps, ps, PROT_READ), 0);
	assert_int_equal(mprotect(p + 3 * ps, ps, PROT_NONE), 0);
	while ((r = read(maps, copy + n, sizeof(copy) - 1 - n)) > 0)
		n += (size_t)r;
	assert_true(r == 0 && n > 0 && n < sizeof(copy) - 1);
	copy[n] = '\0';
	for (int i = 0; i < 2; i++) {
		_cleanup_close_ int fd = i ? maps_text(copy, n)
					   : open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		uint64_t got = 0;

		assert_true(fd >= 0);
		assert_int_equal(procmem_writable_end(fd, base + 8, base + 4 * ps, &got), 0);
		assert_int_equal(got, base + 2 * ps);
		assert_int_equal(procmem_writable_end(fd, base + 2 * ps, base + 3 * ps, &got), 0);
		assert_int_equal(got, base + 2 * ps);
		/* inside the guard */
		assert_int_equal(procmem_writable_end(fd, base + 3 * ps, base + 4 * ps, &got), 0);
		assert_int_equal(got, base + 3 * ps);
	}
	assert_int_equal(munmap(p, 4 * ps), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writable_end_text_runs_across_mappings),
		cmocka_unit_test(test_writable_end_text_refuses_protected),
		cmocka_unit_test(test_writable_end_text_gap_below_writable),
		cmocka_unit_test(test_writable_end_text_long_lines),
		cmocka_unit_test(test_writable_end_text_reused_fd),
		cmocka_unit_test(test_writable_end_text_fd_asked_twice),
		cmocka_unit_test(test_writable_end_own_maps),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
