/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysinfo(2) with the container's view: memory and swap from the caller's
 * memory cgroup, procs from its pids cgroup, uptime from the container's
 * init, everything else (loads, high memory) from the host.
 *
 * Semantics (see also README's table):
 *  - totalram  = min(memory limit, host RAM). Own limit, else the smallest
 *                limit of the ancestors (v1: hierarchical_memory_limit).
 *  - freeram   = totalram − usage, clamped at 0. usage (memory.current,
 *                memory.usage_in_bytes) includes the page cache, and so does
 *                the kernel's own "used": page cache is not free memory, it is
 *                reported in bufferram. (Incus also subtracts "file", which
 *                counts the cache twice and can underflow.)
 *  - sharedram = shmem, bufferram = page cache ("file" / "total_cache"),
 *                both clamped to totalram.
 *  - swap      = v2 memory.swap.max/current; v1 memsw − memory; total bounded
 *                by the host's swap; host swap when not accounted.
 *  - procs     = pids.current, clamped to 65535 (the field is u16).
 *  - uptime    = age of ctx->init_pid (stat field 22, _SC_CLK_TCK); the host's
 *                uptime when init_pid is 0 or unreadable.
 * Any cgroup read failure keeps the host's value for that field.
 *
 * The caller's memory is written through /proc/TID/mem, never into a mapping
 * its /proc/TID/maps shows not writable, and its cgroup read through
 * /proc/TID, all opened before ID_VALID, never by pid number after it
 * (procmem.h says why); the listener's cache is filled only from a task
 * that passed the check. The mem file is opened per call rather than kept per
 * caller thread: it keeps the mm it was opened on, and an exec (or a vfork
 * child that shares its parent's mm and then execs) cannot be told cheaply
 * and reliably from outside, so a kept file could write into a stale mm.
 *
 * Layouts: x86_64 and x32 get the 112-byte LP64 struct. x32's sysinfo is the
 * "common" entry in syscall_64.tbl (sys_sysinfo, not compat_sys_sysinfo) and
 * its uapi __kernel_long_t is 64-bit, so the kernel itself writes the LP64
 * layout to x32 callers. i386 gets the 64-byte compat_sysinfo, scaled like
 * the kernel's compat path. Every other arch is CONTINUE.
 *
 * Called from worker threads; no locks (cgroup_mounts_host() is a
 * pthread_once), no allocation, no fork, debug logging only.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/cgroup.h"
#include "handlers/handler.h"
#include "handlers/procmem.h"
#include "handlers/sysinfo_layout.h"

#define COMPAT_PAGE_SHIFT 12 /* the kernel's compat path scales to PAGE_SIZE */
#define PROCS_MAX UINT16_MAX

/*
 * The fields of struct sysinfo counted in mem_unit: X(field) for each, so
 * that normalising and both encodings scale the same ones.
 */
#define FOR_EACH_MEM_FIELD(X)                                                                  \
	X(totalram) X(freeram) X(sharedram) X(bufferram) X(totalswap) X(freeswap) X(totalhigh) \
	X(freehigh)

/* ---- decide (pure) ---- */

enum sysinfo_abi sysinfo_abi_for(uint32_t arch, int nr)
{
	switch (arch) {
	case AUDIT_ARCH_X86_64:
		/* native, and x32 (nr & __X32_SYSCALL_BIT) alike: see the header comment */
		(void)nr;
		return SYSINFO_ABI_64;
	case AUDIT_ARCH_I386:
		return SYSINFO_ABI_32;
	default:
		return SYSINFO_ABI_UNSUPPORTED;
	}
}

static unsigned long mul_sat(unsigned long v, unsigned long unit)
{
	unsigned long r;

	return __builtin_mul_overflow(v, unit, &r) ? ULONG_MAX : r;
}

void sysinfo_host_normalise(struct sysinfo *s)
{
	unsigned long unit = s->mem_unit ? s->mem_unit : 1;

#define TO_BYTES(f) s->f = mul_sat(s->f, unit);
	FOR_EACH_MEM_FIELD(TO_BYTES)
#undef TO_BYTES
	s->mem_unit = 1;
}

static unsigned long min_ul(unsigned long a, uint64_t b)
{
	return b < a ? (unsigned long)b : a;
}

static unsigned long sub_clamp(unsigned long a, uint64_t b)
{
	return b < a ? a - (unsigned long)b : 0;
}

void sysinfo_compute(const struct sysinfo *host, const struct cgroup_stats *cg, long uptime,
		     struct sysinfo *ret)
{
	struct sysinfo s = *host;

	s.mem_unit = 1;
	if (cg->has_limit)
		s.totalram = min_ul(s.totalram, cg->limit);
	s.freeram = cg->has_usage ? sub_clamp(s.totalram, cg->usage) : min_ul(s.freeram, s.totalram);
	s.sharedram = min_ul(s.totalram, cg->has_shmem ? cg->shmem : s.sharedram);
	s.bufferram = min_ul(s.totalram, cg->has_file ? cg->file : s.bufferram);
	if (cg->has_swap) {
		s.totalswap = min_ul(s.totalswap, cg->swap_limit);
		s.freeswap = sub_clamp(s.totalswap, cg->swap_usage);
	}
	if (cg->has_pids)
		s.procs = (unsigned short)(cg->pids > PROCS_MAX ? PROCS_MAX : cg->pids);
	if (uptime > 0)
		s.uptime = uptime;
	*ret = s;
}

long sysinfo_age(long host_uptime, uint64_t start_ticks, long clk_tck)
{
	uint64_t started;

	if (clk_tck <= 0 || host_uptime <= 0)
		return 0;
	started = start_ticks / (uint64_t)clk_tck;
	return started < (uint64_t)host_uptime ? host_uptime - (long)started : 0;
}

int sysinfo_parse_starttime(const char *stat, uint64_t *ret)
{
	/* comm may hold spaces and ')': fields resume after the last ')' */
	const char *p = strrchr(stat, ')');
	unsigned long long v;
	char *end;

	if (!p)
		return -EINVAL;
	p++;
	for (int field = 3; field < 22; field++) {
		p += strspn(p, " ");
		p += strcspn(p, " \n");
		if (*p != ' ')
			return -EINVAL;
	}
	p += strspn(p, " ");
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* ---- layouts (pure) ---- */

static size_t encode64(const struct sysinfo *s, struct sysinfo_abi64 *o)
{
	memset(o, 0, sizeof(*o));
	o->uptime = s->uptime;
	for (size_t i = 0; i < 3; i++)
		o->loads[i] = s->loads[i];
#define COPY(f) o->f = s->f;
	FOR_EACH_MEM_FIELD(COPY)
#undef COPY
	o->procs = s->procs;
	o->mem_unit = s->mem_unit;
	return sizeof(*o);
}

/*
 * Like compat_sys_sysinfo: when totalram or totalswap needs more than 32
 * bits, go to mem_unit = PAGE_SIZE; unlike it, keep doubling (up to 2^31)
 * rather than truncate beyond 16 TiB, and saturate as a last resort.
 */
static unsigned compat_shift(const struct sysinfo *s)
{
	unsigned long max = s->totalram > s->totalswap ? s->totalram : s->totalswap;
	unsigned shift = 0;

	if (s->totalhigh > max)
		max = s->totalhigh;
	if (max <= UINT32_MAX)
		return 0;
	for (shift = COMPAT_PAGE_SHIFT; shift < 31 && (max >> shift) > UINT32_MAX; shift++)
		;
	return shift;
}

static uint32_t scale32(unsigned long v, unsigned shift)
{
	v >>= shift;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static size_t encode32(const struct sysinfo *s, struct sysinfo_abi32 *o)
{
	unsigned shift = compat_shift(s);

	memset(o, 0, sizeof(*o));
	o->uptime = s->uptime > INT32_MAX ? INT32_MAX : (int32_t)s->uptime;
	for (size_t i = 0; i < 3; i++)
		o->loads[i] = (uint32_t)s->loads[i]; /* truncated, as the kernel does */
#define SCALE(f) o->f = scale32(s->f, shift);
	FOR_EACH_MEM_FIELD(SCALE)
#undef SCALE
	o->procs = s->procs;
	o->mem_unit = (uint32_t)s->mem_unit << shift;
	return sizeof(*o);
}

size_t sysinfo_encode(enum sysinfo_abi abi, const struct sysinfo *s, union sysinfo_buf *buf)
{
	switch (abi) {
	case SYSINFO_ABI_64:
		return encode64(s, &buf->a64);
	case SYSINFO_ABI_32:
		return encode32(s, &buf->a32);
	case SYSINFO_ABI_UNSUPPORTED:
		break;
	}
	return 0;
}

/* ---- act ---- */

/*
 * Values are collected at most this often per listener: a burst of sysinfo()
 * calls (free, top, JVMs sizing their heap) then costs one round trip each
 * instead of a dozen cgroup file reads; memory figures may lag by this much.
 */
#define SYSINFO_CACHE_NS (100u * 1000000u)

/* The container's age in seconds from its init's start time; 0 = unknown. */
static long container_age(pid_t init_pid, long host_uptime)
{
	char path[32], buf[1024];
	uint64_t start;

	if (init_pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)init_pid);
	if (cgroup_read_line_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 ||
	    sysinfo_parse_starttime(buf, &start) < 0)
		return 0;
	return sysinfo_age(host_uptime, start, sysconf(_SC_CLK_TCK));
}

/* The cached view with a fresh uptime, or false when it is too old to use. */
static bool from_cache(struct handler_cache *cache, struct sysinfo *ret)
{
	struct timespec boot;

	if (!cache || !cache->sysinfo_filled_ns ||
	    now_ns() - cache->sysinfo_filled_ns > SYSINFO_CACHE_NS)
		return false;
	*ret = cache->sysinfo;
	if (cache->init_started_at >= 0 && clock_gettime(CLOCK_BOOTTIME, &boot) == 0 &&
	    boot.tv_sec > cache->init_started_at)
		ret->uptime = boot.tv_sec - cache->init_started_at;
	return true;
}

static void to_cache(struct handler_cache *cache, const struct sysinfo *s, long host_uptime,
		     long age)
{
	if (!cache)
		return;
	cache->sysinfo = *s;
	cache->init_started_at = age > 0 ? host_uptime - age : -1;
	cache->sysinfo_filled_ns = now_ns();
}

/*
 * Host values overlaid with the cgroup values of the task behind @proc_dfd
 * (checked with ID_VALID by the caller); fails only if sysinfo() does. The
 * listener's cache is filled here, so only ever from a validated task.
 */
static int sysinfo_collect(const struct notif_ctx *ctx, int proc_dfd, struct sysinfo *ret)
{
	struct cgroup_paths paths;
	struct cgroup_stats cg = { .swap_limit = UINT64_MAX };
	struct sysinfo host;
	long age;
	int r;

	r = RET_NERRNO(sysinfo(&host));
	if (r < 0)
		return r;
	sysinfo_host_normalise(&host);
	r = cgroup_read_paths(proc_dfd, (pid_t)ctx->req->pid, &paths);
	if (r < 0)
		log_debug("id=%llu: no cgroup for %d, host memory values: %d",
			  (unsigned long long)ctx->req->id, (int)ctx->req->pid, r);
	else
		cgroup_read_stats(cgroup_mounts_host(), &paths,
				  &(struct cgroup_host){ host.totalram, host.totalswap }, &cg);
	age = container_age(ctx->init_pid, host.uptime);
	sysinfo_compute(&host, &cg, age, ret);
	to_cache(ctx->cache, ret, host.uptime, age);
	return 0;
}

/* The caller's /proc/TID directory, memory and maps, opened before ID_VALID. */
struct caller_handles {
	int proc_dfd; /* -EBADF when not needed (the view came from the cache) */
	int mem_fd;
	int maps_fd;          /* ours: where the caller may be written (procmem_write()) */
	int own_dfd, own_mem; /* what else we opened (closed by caller_handles_close) */
};

#define CALLER_HANDLES_INIT                                                          \
	{ .proc_dfd = -EBADF, .mem_fd = -EBADF, .maps_fd = -EBADF, .own_dfd = -EBADF, \
	  .own_mem = -EBADF }

static void caller_handles_close(struct caller_handles *h)
{
	(void)close_nointr(h->own_dfd);
	(void)close_nointr(h->own_mem);
	(void)close_nointr(h->maps_fd);
}

/*
 * LXC hands over the directory and the memory (checked by the intake against
 * the notification's pid); otherwise they are opened by tid. The directory
 * is only needed to collect a fresh view: on the cached path, the mem and
 * maps files are opened by path.
 */
static int caller_handles_open(const struct notif_ctx *ctx, bool need_dir, struct caller_handles *h)
{
	const pid_t tid = (pid_t)ctx->req->pid;
	char path[32];

	h->proc_dfd = ctx->proc_fd;
	h->mem_fd = ctx->mem_fd;
	if (need_dir && h->proc_dfd < 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d", (int)tid);
		h->own_dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (h->own_dfd < 0)
			return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
		h->proc_dfd = h->own_dfd;
	}
	if (h->mem_fd < 0) {
		h->own_mem = procmem_open(h->proc_dfd, tid);
		if (h->own_mem < 0)
			return h->own_mem;
		h->mem_fd = h->own_mem;
	}
	h->maps_fd = procmem_open_maps(h->proc_dfd, tid);
	return h->maps_fd < 0 ? h->maps_fd : 0;
}

/* The container's view: from the listener's cache when fresh, else collected now. */
static int caller_view(const struct notif_ctx *ctx, struct sysinfo *s, bool cached,
		       struct caller_handles *h)
{
	int r = caller_handles_open(ctx, !cached, h);

	if (r < 0)
		return r;
	/* from here on the handles name the trapped task and its mm */
	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0 || cached)
		return r;
	return sysinfo_collect(ctx, h->proc_dfd, s);
}

int handle_sysinfo(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	enum sysinfo_abi abi = sysinfo_abi_for(ctx->req->data.arch, ctx->req->data.nr);
	_cleanup_(caller_handles_close) struct caller_handles h = CALLER_HANDLES_INIT;
	union sysinfo_buf buf;
	struct sysinfo s;
	size_t size;
	int r;

	if (abi == SYSINFO_ABI_UNSUPPORTED) {
		reply_continue(reply);
		return 0;
	}
	r = caller_view(ctx, &s, from_cache(ctx->cache, &s), &h);
	if (r < 0)
		return r;
	size = sysinfo_encode(abi, &s, &buf);
	r = procmem_write(h.mem_fd, h.maps_fd, ctx->req->data.args[0], &buf, size);
	if (r == -EFAULT) {
		reply_errno(reply, -EFAULT); /* as the kernel's copy_to_user() would */
		return 0;
	}
	if (r == -ESRCH || r == -ENOENT)
		return -ENOENT;
	if (r < 0)
		return r;
	reply_value(reply, 0);
	return 0;
}
