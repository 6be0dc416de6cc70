/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the sysinfo handler's pure halves and its cgroup reader,
 * against fake cgroup trees in a scratch directory (no root needed).
 */
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "daemon/macro.h"
#include "handlers/cgroup.h"
#include "handlers/handler.h"
#include "handlers/sysinfo_layout.h"

#define MiB (1024ULL * 1024)
#define GiB (1024 * MiB)
#define V1_UNLIMITED "9223372036854771712\n"

static char tmp[64];
static uint64_t host_swap; /* the host's swap as the reader sees it; set per test */

/* ---- fake trees ---- */

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0755);
			*p = '/';
		}
	(void)mkdir(buf, 0755);
}

/* Write @content to tmp/@rel, creating directories. */
static void put(const char *rel, const char *content)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	host_swap = 2 * GiB;
	snprintf(tmp, sizeof(tmp), "/tmp/test_sysinfo.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void read_stats(enum cgroup_layout layout, const char *v2, const char *mem, const char *pids,
		       uint64_t host_total, struct cgroup_stats *ret)
{
	struct cgroup_host host = { .totalram = host_total, .totalswap = host_swap };
	struct cgroup_mounts m;
	struct cgroup_paths p;

	cgroup_mounts_init(&m, layout, tmp);
	snprintf(p.v2, sizeof(p.v2), "%s", v2);
	snprintf(p.v1_memory, sizeof(p.v1_memory), "%s", mem);
	snprintf(p.v1_pids, sizeof(p.v1_pids), "%s", pids);
	cgroup_read_stats(&m, &p, &host, ret);
}

static void put_v2(const char *dir, const char *max, const char *current, const char *stat)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/memory.max", dir);
	put(rel, max);
	snprintf(rel, sizeof(rel), "%s/memory.current", dir);
	put(rel, current);
	snprintf(rel, sizeof(rel), "%s/memory.stat", dir);
	put(rel, stat);
}

static const struct sysinfo host8g = {
	.uptime = 10000, .loads = { 1, 2, 3 }, .totalram = 8 * GiB, .freeram = 7 * GiB,
	.sharedram = 100 * MiB, .bufferram = 50 * MiB, .totalswap = 2 * GiB, .freeswap = 2 * GiB,
	.procs = 321, .totalhigh = 0, .freehigh = 0, .mem_unit = 1,
};

/* ---- parsing ---- */

static void test_cgroup_parse_proc_hybrid(void **state)
{
	struct cgroup_paths p;

	(void)state;
	assert_int_equal(cgroup_parse_proc("12:pids:/lxc.payload.c1\n"
					   "4:memory:/lxc.payload.c1/.lxc\n"
					   "2:cpu,cpuacct:/x\n"
					   "1:name=systemd:/init.scope\n"
					   "0::/lxc.payload.c1\n", &p), 0);
	assert_string_equal(p.v2, "/lxc.payload.c1");
	assert_string_equal(p.v1_memory, "/lxc.payload.c1/.lxc");
	assert_string_equal(p.v1_pids, "/lxc.payload.c1");
}

static void test_cgroup_parse_proc_rejects(void **state)
{
	struct cgroup_paths p;

	(void)state;
	/* combined controllers; a ".." path (outside our cgroup namespace) is ignored */
	assert_int_equal(cgroup_parse_proc("3:cpu,memory,pids:/a/b\n0::/../x\n", &p), 0);
	assert_string_equal(p.v1_memory, "/a/b");
	assert_string_equal(p.v1_pids, "/a/b");
	assert_string_equal(p.v2, "");
	assert_int_equal(cgroup_parse_proc("0::/a/..\n", &p), -ENOENT);
	assert_int_equal(cgroup_parse_proc("", &p), -ENOENT);
	assert_int_equal(cgroup_parse_proc("garbage\n", &p), -ENOENT);
	/* "..x" is a legitimate name */
	assert_int_equal(cgroup_parse_proc("0::/..x/y\n", &p), 0);
	assert_string_equal(p.v2, "/..x/y");
}

static void test_cgroup_parse_value(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(cgroup_parse_value("max\n", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cgroup_parse_value("1073741824\n", &v), 0);
	assert_true(v == GiB);
	assert_int_equal(cgroup_parse_value("", &v), -EINVAL);
	assert_int_equal(cgroup_parse_value("-1\n", &v), -EINVAL);
	assert_int_equal(cgroup_parse_value("12x\n", &v), -EINVAL);
	assert_int_equal(cgroup_parse_value("maxi\n", &v), -EINVAL);
}

static void test_cgroup_stat_lookup(void **state)
{
	const char *stat = "anon 10\nfile_mapped 7\nfile 20\nshmem 3\n";
	uint64_t v;

	(void)state;
	assert_int_equal(cgroup_stat_lookup(stat, "file", &v), 0);
	assert_true(v == 20);
	assert_int_equal(cgroup_stat_lookup(stat, "shmem", &v), 0);
	assert_true(v == 3);
	assert_int_equal(cgroup_stat_lookup(stat, "cache", &v), -ENOENT);
	assert_int_equal(cgroup_stat_lookup("file x\n", "file", &v), -EINVAL);
}

static void test_cgroup_read_paths_proc_fd(void **state)
{
	_cleanup_close_ int fd = -EBADF;
	struct cgroup_paths p;

	(void)state;
	put("proc/cgroup", "0::/c9\n");
	fd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	{
		_cleanup_close_ int pfd = openat(fd, "proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

		assert_int_equal(cgroup_read_paths(pfd, 0, &p), 0);
		assert_string_equal(p.v2, "/c9");
	}
	assert_int_equal(cgroup_read_paths(-EBADF, getpid(), &p), 0); /* our own, by pid */
}

/* ---- cgroup trees ---- */

static void test_cgroup_v2_limit(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	put_v2("c1", "1073741824\n", "314572800\n", "anon 200\nfile 104857600\nshmem 10485760\n");
	put("c1/memory.swap.max", "max\n");
	put("c1/memory.swap.current", "0\n");
	put("c1/pids.current", "5\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == GiB);
	assert_true(st.has_usage && st.usage == 300 * MiB);
	assert_true(st.has_file && st.file == 100 * MiB);
	assert_true(st.has_shmem && st.shmem == 10 * MiB);
	assert_true(st.has_pids && st.pids == 5);

	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == GiB);
	assert_true(s.freeram == GiB - 300 * MiB);
	assert_true(s.sharedram == 10 * MiB);
	assert_true(s.bufferram == 100 * MiB);
	assert_true(s.totalswap == 2 * GiB && s.freeswap == 2 * GiB); /* max → host swap */
	assert_int_equal(s.procs, 5);
	assert_int_equal(s.loads[1], 2);
	assert_int_equal(s.uptime, 10000);
	assert_int_equal(s.mem_unit, 1);
}

static void test_cgroup_v2_max(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	put_v2("c1", "max\n", "1048576\n", "file 0\nshmem 0\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	assert_false(st.has_limit);
	assert_false(st.has_pids);
	assert_false(st.has_swap);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == 8 * GiB);
	assert_true(s.freeram == 8 * GiB - MiB); /* the container's own usage */
	assert_int_equal(s.procs, 321);          /* host's */
}

static void test_cgroup_v2_child_walks_up(void **state)
{
	struct cgroup_stats st;

	(void)state;
	put_v2("lxc.payload.c1", "2147483648\n", "0\n", "");
	put_v2("lxc.payload.c1/mid", "1073741824\n", "0\n", "");
	put_v2("lxc.payload.c1/mid/.lxc", "max\n", "4096\n", "file 0\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/lxc.payload.c1/mid/.lxc", "", "", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == GiB); /* smallest of the ancestors */
	assert_true(st.usage == 4096);                 /* usage stays the caller's own */
}

static void test_cgroup_walk_stops_below_root(void **state)
{
	struct cgroup_stats st;

	(void)state;
	put("memory.max", "1048576\n"); /* a root cannot be limited: never read */
	put_v2("c1", "max\n", "0\n", "");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	assert_false(st.has_limit);
}

static void test_cgroup_v1_limit(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	put("memory/c1/memory.limit_in_bytes", "536870912\n");
	put("memory/c1/memory.usage_in_bytes", "104857600\n");
	put("memory/c1/memory.stat", "cache 1\nshmem 2\nhierarchical_memory_limit 536870912\n"
				     "total_cache 52428800\ntotal_shmem 4096\n");
	put("pids/c1/pids.current", "7\n");
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/c1", "/c1", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == 512 * MiB);
	assert_true(st.file == 50 * MiB && st.shmem == 4096);
	assert_false(st.has_swap); /* no memsw files */
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == 512 * MiB && s.freeram == 412 * MiB);
	assert_true(s.totalswap == 2 * GiB); /* host swap */
	assert_int_equal(s.procs, 7);
}

static void test_cgroup_v1_huge_limit(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	put("memory/c1/memory.limit_in_bytes", V1_UNLIMITED);
	put("memory/c1/memory.usage_in_bytes", "0\n");
	put("memory/c1/memory.stat", "hierarchical_memory_limit " V1_UNLIMITED);
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/c1", "", 8 * GiB, &st);
	assert_false(st.has_limit);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == 8 * GiB && s.freeram == 8 * GiB);
}

static void test_cgroup_v1_child_walks_up(void **state)
{
	struct cgroup_stats st;

	(void)state;
	/* hierarchical_memory_limit wins without a walk */
	put("memory/a/memory.limit_in_bytes", "268435456\n");
	put("memory/a/b/memory.limit_in_bytes", V1_UNLIMITED);
	put("memory/a/b/memory.usage_in_bytes", "0\n");
	put("memory/a/b/memory.stat", "hierarchical_memory_limit 134217728\n");
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/a/b", "", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == 128 * MiB);
	/* without it, the parents are read */
	put("memory/a/b/memory.stat", "total_cache 0\n");
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/a/b", "", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == 256 * MiB);
}

static void test_cgroup_hybrid_prefers_v1_memory(void **state)
{
	struct cgroup_stats st;

	(void)state;
	/* cgroup2 at unified/ has the cgroup but no memory controller */
	put("unified/c1/cgroup.procs", "");
	put("memory/c1/memory.limit_in_bytes", "1073741824\n");
	put("memory/c1/memory.usage_in_bytes", "1024\n");
	put("memory/c1/memory.stat", "total_cache 0\n"); /* always there on a real v1 */
	put("pids/c1/pids.current", "70000\n");
	read_stats(CGROUP_LAYOUT_HYBRID, "/c1", "/c1", "/c1", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == GiB && st.usage == 1024);
	assert_true(st.has_pids && st.pids == 70000);
	/* and a v2 memory controller, when present, wins */
	put_v2("unified/c1", "2147483648\n", "1\n", "");
	read_stats(CGROUP_LAYOUT_HYBRID, "/c1", "/c1", "/c1", 8 * GiB, &st);
	assert_true(st.limit == 2 * GiB && st.usage == 1);
}

static void test_cgroup_hybrid_v2_without_controllers(void **state)
{
	struct cgroup_mounts m;
	struct cgroup_stats st;

	(void)state;
	/* cgroup.controllers of the v2 root says which controllers it holds */
	put("unified/cgroup.controllers", "cpu hugetlb\n");
	put_v2("unified/c1", "2147483648\n", "1\n", "");
	put("unified/c1/pids.current", "3\n");
	put("memory/c1/memory.limit_in_bytes", "1073741824\n");
	put("memory/c1/memory.stat", "total_cache 0\n");
	put("pids/c1/pids.current", "4\n");
	cgroup_mounts_init(&m, CGROUP_LAYOUT_HYBRID, tmp);
	assert_false(m.v2_memory || m.v2_pids);
	read_stats(CGROUP_LAYOUT_HYBRID, "/c1", "/c1", "/c1", 8 * GiB, &st);
	assert_true(st.limit == GiB && st.pids == 4); /* v1, without probing v2 */
	put("unified/cgroup.controllers", "memory pids\n");
	cgroup_mounts_init(&m, CGROUP_LAYOUT_HYBRID, tmp);
	assert_true(m.v2_memory && m.v2_pids);
	read_stats(CGROUP_LAYOUT_HYBRID, "/c1", "/c1", "/c1", 8 * GiB, &st);
	assert_true(st.limit == 2 * GiB && st.pids == 3);
}

static void test_cgroup_missing_everything(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	read_stats(CGROUP_LAYOUT_HYBRID, "/nope", "/nope", "/nope", 8 * GiB, &st);
	assert_false(st.has_limit || st.has_usage || st.has_file || st.has_shmem || st.has_swap ||
		     st.has_pids);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == host8g.totalram && s.freeram == host8g.freeram);
	assert_true(s.sharedram == host8g.sharedram && s.bufferram == host8g.bufferram);
	assert_true(s.totalswap == host8g.totalswap && s.freeswap == host8g.freeswap);
	assert_true(s.procs == host8g.procs && s.uptime == host8g.uptime);
}

/* ---- compute ---- */

static void test_sysinfo_compute_underflow_clamp(void **state)
{
	struct cgroup_stats st = { .has_limit = true, .limit = 100 * MiB, .has_usage = true,
				   .usage = 120 * MiB, .has_file = true, .file = 500 * MiB,
				   .has_shmem = true, .shmem = 200 * MiB, .swap_limit = UINT64_MAX };
	struct sysinfo s;

	(void)state;
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == 100 * MiB);
	assert_true(s.freeram == 0);
	assert_true(s.bufferram == 100 * MiB); /* clamped to totalram */
	assert_true(s.sharedram == 100 * MiB);
}

static void test_sysinfo_compute_limit_without_usage(void **state)
{
	struct cgroup_stats st = { .has_limit = true, .limit = GiB, .swap_limit = UINT64_MAX };
	struct sysinfo s;

	(void)state;
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalram == GiB && s.freeram == GiB); /* host free, bounded */
}

static void test_sysinfo_compute_procs_clamp(void **state)
{
	struct cgroup_stats st = { .has_pids = true, .pids = 70000, .swap_limit = UINT64_MAX };
	struct sysinfo s;

	(void)state;
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_int_equal(s.procs, 65535);
	st.pids = 65536;
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_int_equal(s.procs, 65535); /* not 0 */
}

static void test_sysinfo_swap_v2(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	put_v2("c1", "max\n", "0\n", "");
	put("c1/memory.swap.max", "4294967296\n");
	put("c1/memory.swap.current", "104857600\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	assert_true(st.has_swap && st.swap_limit == 4 * GiB && st.swap_usage == 100 * MiB);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalswap == 2 * GiB); /* bounded by the host's swap */
	assert_true(s.freeswap == 2 * GiB - 100 * MiB);
	put("c1/memory.swap.max", "536870912\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalswap == 512 * MiB && s.freeswap == 412 * MiB);
	put("c1/memory.swap.current", "1073741824\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.freeswap == 0); /* clamped */
}

static void test_sysinfo_swap_v1(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s;

	(void)state;
	put("memory/c1/memory.limit_in_bytes", "1073741824\n");
	put("memory/c1/memory.usage_in_bytes", "314572800\n");
	put("memory/c1/memory.memsw.limit_in_bytes", "1610612736\n");
	put("memory/c1/memory.memsw.usage_in_bytes", "419430400\n");
	put("memory/c1/memory.stat", "total_cache 0\n"); /* no hierarchical_*: the files */
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/c1", "", 8 * GiB, &st);
	assert_true(st.has_swap && st.swap_limit == 512 * MiB && st.swap_usage == 100 * MiB);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalswap == 512 * MiB && s.freeswap == 412 * MiB);
	/* memsw unlimited → host swap */
	put("memory/c1/memory.memsw.limit_in_bytes", V1_UNLIMITED);
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/c1", "", 8 * GiB, &st);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_true(s.totalswap == 2 * GiB && s.freeswap == 2 * GiB - 100 * MiB);
}

static void test_sysinfo_swap_v1_from_stat(void **state)
{
	struct cgroup_stats st;

	(void)state;
	/* what a real v1 kernel reports: no memsw files needed */
	put("memory/c1/memory.usage_in_bytes", "314572800\n");
	put("memory/c1/memory.stat", "total_cache 0\nhierarchical_memory_limit 1073741824\n"
				     "hierarchical_memsw_limit 1342177280\ntotal_swap 1048576\n");
	read_stats(CGROUP_LAYOUT_LEGACY, "", "/c1", "", 8 * GiB, &st);
	assert_true(st.has_limit && st.limit == GiB);
	assert_true(st.has_swap && st.swap_limit == 256 * MiB && st.swap_usage == MiB);
}

static void test_sysinfo_swap_host_without_swap(void **state)
{
	struct cgroup_stats st;

	(void)state;
	host_swap = 0; /* swap is not read at all */
	put_v2("c1", "max\n", "0\n", "");
	put("c1/memory.swap.max", "4294967296\n");
	put("c1/memory.swap.current", "0\n");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	assert_false(st.has_swap);
}

static void test_sysinfo_swap_absent(void **state)
{
	struct cgroup_stats st;
	struct sysinfo s, host = host8g;

	(void)state;
	host.freeswap = GiB;
	put_v2("c1", "1073741824\n", "0\n", "");
	read_stats(CGROUP_LAYOUT_UNIFIED, "/c1", "", "", 8 * GiB, &st);
	assert_false(st.has_swap);
	sysinfo_compute(&host, &st, 0, &s);
	assert_true(s.totalswap == 2 * GiB && s.freeswap == GiB);
}

static void test_sysinfo_host_normalise(void **state)
{
	struct sysinfo s = { .totalram = 1000, .freeram = 10, .sharedram = 3, .bufferram = 4,
			     .totalswap = ULONG_MAX / 2, .freeswap = 5, .totalhigh = 6,
			     .freehigh = 7, .mem_unit = 4096 };

	(void)state;
	sysinfo_host_normalise(&s);
	assert_true(s.totalram == 4096000 && s.freeram == 40960);
	assert_true(s.totalswap == ULONG_MAX); /* saturated */
	/* every field counted in mem_unit, none forgotten */
	assert_true(s.sharedram == 3 * 4096 && s.bufferram == 4 * 4096 && s.freeswap == 5 * 4096);
	assert_true(s.totalhigh == 6 * 4096 && s.freehigh == 7 * 4096);
	assert_int_equal(s.mem_unit, 1);
}

/* ---- uptime ---- */

static void test_sysinfo_parse_starttime_odd_comm(void **state)
{
	char stat[512];
	uint64_t v;

	(void)state;
	/* fields 3..21, then starttime 123456 (field 22), then more */
	snprintf(stat, sizeof(stat),
		 "4242 (a) (b c) ) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
		 "123456 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0\n");
	assert_int_equal(sysinfo_parse_starttime(stat, &v), 0);
	assert_true(v == 123456);
	assert_int_equal(sysinfo_parse_starttime("1 (x) S 1 2\n", &v), -EINVAL);
	assert_int_equal(sysinfo_parse_starttime("no paren", &v), -EINVAL);
}

static void test_sysinfo_age(void **state)
{
	(void)state;
	assert_int_equal(sysinfo_age(1000, 50000, 100), 500);
	assert_int_equal(sysinfo_age(1000, 100000, 100), 0); /* not positive */
	assert_int_equal(sysinfo_age(1000, 200000, 100), 0); /* started "after now" */
	assert_int_equal(sysinfo_age(1000, 50000, 0), 0);
	assert_int_equal(sysinfo_age(1000, 50000, 250), 800);
}

static void test_sysinfo_compute_uptime(void **state)
{
	struct cgroup_stats st = { .swap_limit = UINT64_MAX };
	struct sysinfo s;

	(void)state;
	sysinfo_compute(&host8g, &st, 42, &s);
	assert_int_equal(s.uptime, 42);
	sysinfo_compute(&host8g, &st, 0, &s);
	assert_int_equal(s.uptime, 10000);
}

/* ---- layouts ---- */

static void test_sysinfo_abi_for(void **state)
{
	(void)state;
	assert_int_equal(sysinfo_abi_for(AUDIT_ARCH_X86_64, 99), SYSINFO_ABI_64);
	assert_int_equal(sysinfo_abi_for(AUDIT_ARCH_X86_64, 0x40000000 | 99), SYSINFO_ABI_64);
	assert_int_equal(sysinfo_abi_for(AUDIT_ARCH_I386, 116), SYSINFO_ABI_32);
	assert_int_equal(sysinfo_abi_for(AUDIT_ARCH_ARM, 116), SYSINFO_ABI_UNSUPPORTED);
	assert_int_equal(sysinfo_abi_for(AUDIT_ARCH_AARCH64, 179), SYSINFO_ABI_UNSUPPORTED);
	assert_int_equal(sysinfo_abi_for(AUDIT_ARCH_S390, 116), SYSINFO_ABI_UNSUPPORTED);
}

/* Fixed-width little-endian stores at explicit offsets: the expectation, written independently. */
static void st32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void st64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static void test_sysinfo_layout_native(void **state)
{
	struct sysinfo s = host8g;
	union sysinfo_buf buf;
	uint8_t want[112] = { 0 };
	uint16_t procs = 321;

	(void)state;
	memset(&buf, 0xaa, sizeof(buf));
	assert_int_equal(sysinfo_encode(SYSINFO_ABI_64, &s, &buf), 112);
	st64(want, 0, 10000);
	st64(want, 8, 1), st64(want, 16, 2), st64(want, 24, 3);
	st64(want, 32, 8 * GiB), st64(want, 40, 7 * GiB), st64(want, 48, 100 * MiB);
	st64(want, 56, 50 * MiB), st64(want, 64, 2 * GiB), st64(want, 72, 2 * GiB);
	memcpy(want + 80, &procs, 2);
	st64(want, 88, 0), st64(want, 96, 0);
	st32(want, 104, 1);
	assert_memory_equal(&buf.a64, want, sizeof(want));
#ifdef __x86_64__
	/* the daemon's own struct is the x86_64/x32 one */
	assert_int_equal(sizeof(struct sysinfo), 112);
	assert_int_equal(offsetof(struct sysinfo, procs), offsetof(struct sysinfo_abi64, procs));
	assert_int_equal(offsetof(struct sysinfo, totalhigh),
			 offsetof(struct sysinfo_abi64, totalhigh));
	assert_int_equal(offsetof(struct sysinfo, mem_unit),
			 offsetof(struct sysinfo_abi64, mem_unit));
#endif
}

static void test_sysinfo_layout_i386_small(void **state)
{
	struct sysinfo s = { .uptime = 77, .loads = { 65536, 2, 3 }, .totalram = 512 * MiB,
			     .freeram = 100 * MiB, .sharedram = 1, .bufferram = 2, .totalswap = 3,
			     .freeswap = 4, .procs = 9, .totalhigh = 5, .freehigh = 6, .mem_unit = 1 };
	union sysinfo_buf buf;
	uint8_t want[64] = { 0 };
	uint16_t procs = 9;

	(void)state;
	memset(&buf, 0xaa, sizeof(buf));
	assert_int_equal(sysinfo_encode(SYSINFO_ABI_32, &s, &buf), 64);
	st32(want, 0, 77);
	st32(want, 4, 65536), st32(want, 8, 2), st32(want, 12, 3);
	st32(want, 16, 512 * MiB), st32(want, 20, 100 * MiB), st32(want, 24, 1), st32(want, 28, 2);
	st32(want, 32, 3), st32(want, 36, 4);
	memcpy(want + 40, &procs, 2);
	st32(want, 44, 5), st32(want, 48, 6);
	st32(want, 52, 1); /* fits: mem_unit stays 1, as in the kernel */
	assert_memory_equal(&buf.a32, want, sizeof(want));
}

static void test_sysinfo_layout_i386_scaled(void **state)
{
	struct sysinfo s = host8g;
	union sysinfo_buf buf;

	(void)state;
	assert_int_equal(sysinfo_encode(SYSINFO_ABI_32, &s, &buf), 64);
	assert_int_equal(buf.a32.mem_unit, 4096); /* the kernel's compat choice */
	assert_int_equal(buf.a32.totalram, 8 * GiB / 4096);
	assert_int_equal(buf.a32.freeram, 7 * GiB / 4096);
	assert_int_equal(buf.a32.sharedram, 100 * MiB / 4096);
	assert_int_equal(buf.a32.totalswap, 2 * GiB / 4096);
	assert_int_equal(buf.a32.procs, 321);
	/* only swap too big: still scaled */
	s.totalram = GiB, s.freeram = GiB, s.totalswap = s.freeswap = 5 * GiB;
	sysinfo_encode(SYSINFO_ABI_32, &s, &buf);
	assert_int_equal(buf.a32.mem_unit, 4096);
	assert_int_equal(buf.a32.totalram, GiB / 4096);
	/* beyond 16 TiB: keep doubling instead of truncating */
	s.totalram = s.freeram = 1ULL << 50, s.totalswap = s.freeswap = 0;
	sysinfo_encode(SYSINFO_ABI_32, &s, &buf);
	assert_int_equal(buf.a32.mem_unit, 1u << 19);
	assert_int_equal(buf.a32.totalram, 1u << 31);
}

static void test_sysinfo_layout_unsupported(void **state)
{
	union sysinfo_buf buf;

	(void)state;
	assert_int_equal(sysinfo_encode(SYSINFO_ABI_UNSUPPORTED, &host8g, &buf), 0);
}

static void test_handle_sysinfo_unknown_arch_continues(void **state)
{
	struct seccomp_notif req = { .id = 1, .pid = 1, .data = { .nr = 116,
						.arch = AUDIT_ARCH_ARM, .args = { 0x1000 } } };
	struct notif_ctx ctx = { .req = &req, .notify_fd = -EBADF, .proc_fd = -EBADF,
				 .mem_fd = -EBADF };
	struct notif_reply reply = { .val = 9 };

	(void)state;
	assert_int_equal(handle_sysinfo(&ctx, &reply), 0);
	assert_int_equal(reply.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_int_equal(reply.val, 0);
	assert_int_equal(reply.error, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_parse_proc_hybrid),
		cmocka_unit_test(test_cgroup_parse_proc_rejects),
		cmocka_unit_test(test_cgroup_parse_value),
		cmocka_unit_test(test_cgroup_stat_lookup),
		T(test_cgroup_read_paths_proc_fd),
		T(test_cgroup_v2_limit),
		T(test_cgroup_v2_max),
		T(test_cgroup_v2_child_walks_up),
		T(test_cgroup_walk_stops_below_root),
		T(test_cgroup_v1_limit),
		T(test_cgroup_v1_huge_limit),
		T(test_cgroup_v1_child_walks_up),
		T(test_cgroup_hybrid_prefers_v1_memory),
		T(test_cgroup_hybrid_v2_without_controllers),
		T(test_cgroup_missing_everything),
		cmocka_unit_test(test_sysinfo_compute_underflow_clamp),
		cmocka_unit_test(test_sysinfo_compute_limit_without_usage),
		cmocka_unit_test(test_sysinfo_compute_procs_clamp),
		T(test_sysinfo_swap_v2),
		T(test_sysinfo_swap_v1),
		T(test_sysinfo_swap_v1_from_stat),
		T(test_sysinfo_swap_host_without_swap),
		T(test_sysinfo_swap_absent),
		cmocka_unit_test(test_sysinfo_host_normalise),
		cmocka_unit_test(test_sysinfo_parse_starttime_odd_comm),
		cmocka_unit_test(test_sysinfo_age),
		cmocka_unit_test(test_sysinfo_compute_uptime),
		cmocka_unit_test(test_sysinfo_abi_for),
		cmocka_unit_test(test_sysinfo_layout_native),
		cmocka_unit_test(test_sysinfo_layout_i386_small),
		cmocka_unit_test(test_sysinfo_layout_i386_scaled),
		cmocka_unit_test(test_sysinfo_layout_unsupported),
		cmocka_unit_test(test_handle_sysinfo_unknown_arch_continues),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
