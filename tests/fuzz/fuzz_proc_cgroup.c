/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the other /proc and cgroup texts the sysinfo handler
 * reads (handlers/cgroup.c, handlers/sysinfo.c, handlers/target.c). A
 * container names its own cgroups and its processes' comm, so these texts
 * are partly written by the caller. Each input is tried as /proc/PID/cgroup
 * (parsed, and read from a scratch file as the handler does), a memory.stat
 * text, a single cgroup value, /proc/PID/stat and a /proc/PID/ns link.
 *
 * Beyond "no crash, no leak": a cgroup path taken from the text is absolute,
 * has no ".." component and is NUL-terminated inside its buffer.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/cgroup.h"
#include "handlers/sysinfo_layout.h"
#include "handlers/target.h"
#include "tests/fuzz/fuzz.h"

static int proc_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	proc_fd = fuzz_scratch_dir(NULL);
	return 0;
}

static void check_path(const char *p)
{
	size_t n = strnlen(p, PATH_MAX);

	FUZZ_CHECK(n < PATH_MAX, "a cgroup path fills its buffer");
	if (n == 0)
		return;
	FUZZ_CHECK(p[0] == '/', "relative cgroup path '%s'", p);
	FUZZ_CHECK(!strstr(p, "/../") && !(n >= 3 && strcmp(p + n - 3, "/..") == 0),
		   "cgroup path '%s' leaves its hierarchy", p);
}

static void check_paths(const struct cgroup_paths *p)
{
	check_path(p->v2);
	check_path(p->v1_memory);
	check_path(p->v1_pids);
}

static void check_cgroup_file(const uint8_t *data, size_t size, const char *text)
{
	struct cgroup_paths paths;

	if (cgroup_parse_proc(text, &paths) == 0)
		check_paths(&paths);
	fuzz_write_file(proc_fd, "cgroup", data, size);
	if (cgroup_read_paths(proc_fd, 0, &paths) == 0)
		check_paths(&paths);
}

static void check_values(const char *text)
{
	static const char *const keys[] = {
		"file", "shmem", "total_cache", "total_shmem", "total_swap",
		"hierarchical_memory_limit", "hierarchical_memsw_limit",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		(void)cgroup_stat_lookup(text, keys[i], &v);
	(void)cgroup_parse_value(text, &v);
	(void)sysinfo_parse_starttime(text, &v);
	(void)target_ns_link_inode(text, "user", &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);

	check_cgroup_file(data, size, text);
	check_values(text);
	free(text);
	return 0;
}
