/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptd benchmark. Every figure is compared with floors measured in the
 * same run: a minimal supervisor answering CONTINUE, one doing every safe step
 * of an emulation and nothing else (floor.c), or the calls made natively by
 * root. Floor and interceptd cases alternate round by round, and the reported
 * value of a case is the median of its round medians, because the machine is
 * noisy.
 *
 *   bench [--smoke] [--daemon PATH] [--json FILE] [--rounds N] [--seconds S]
 *         [--only CASE,...]   (cases, fanin, api, api-stall, api-burst, memory; the
 *                             floor, and the own floor of each selected case,
 *                             always run)
 *
 * Exit: 0 all cases ran, 77 not root or some interceptd cases skipped (the
 * daemon cannot serve them: not started, a resource missing; the floor still
 * ran), 1 the bench itself failed or a case's calls failed once it was set up.
 * Targets print PASS/FAIL but never change the exit code.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "bench.h"

#include "results.h"

/*
 * Each interceptd case next to its own floor (a round runs them in this
 * order, and backwards every other round, so that neither side of a pair
 * always goes first).
 */
const struct case_desc cases[CASE_COUNT] = {
	[CASE_FLOOR] = { "floor", false, WAIT_BLOCK, true, CALL_SYSINFO, NULL },
	[CASE_FLOOR_NOSYNC] = { "floor-nosync", false, WAIT_BLOCK, false, CALL_SYSINFO, NULL },
	[CASE_FLOOR_POLL] = { "floor-poll", false, WAIT_POLL, true, CALL_SYSINFO, NULL },
	[CASE_FLOOR_EPOLL] = { "floor-epoll", false, WAIT_EPOLL, true, CALL_SYSINFO, NULL },
	[CASE_CONTINUE] = { "continue", true, 0, false, CALL_SYSINFO, "bench-continue",
			    .own_floor = CASE_FLOOR },
	/* emulation is for unprivileged containers: a handler may leave host callers to the kernel */
	[CASE_FLOOR_SYSINFO] = { "floor-sysinfo", false, WAIT_BLOCK, true, CALL_SYSINFO, NULL, true,
				 .answer = FLOOR_SYSINFO },
	[CASE_SYSINFO] = { "sysinfo", true, 0, false, CALL_SYSINFO, "bench-sysinfo", true,
			   .own_floor = CASE_FLOOR_SYSINFO },
	[CASE_FLOOR_MKNOD] = { "floor-mknod", false, WAIT_BLOCK, true, CALL_MKNOD, NULL, true,
			       .answer = FLOOR_MKNOD },
	[CASE_MKNOD] = { "mknod", true, 0, false, CALL_MKNOD, "bench-mknod", true,
			 .own_floor = CASE_FLOOR_MKNOD },
	[CASE_FLOOR_SETXATTR] = { "floor-setxattr", false, WAIT_BLOCK, true, CALL_SETXATTR, NULL,
				  true, .answer = FLOOR_SETXATTR },
	[CASE_SETXATTR] = { "setxattr", true, 0, false, CALL_SETXATTR, "bench-setxattr", true,
			    .own_floor = CASE_FLOOR_SETXATTR },
	[CASE_FLOOR_SCHED] = { "floor-sched", false, WAIT_BLOCK, true, CALL_SCHED, NULL, true,
			       .answer = FLOOR_SCHED },
	[CASE_SCHED] = { "sched", true, 0, false, CALL_SCHED, "bench-sched", true,
			 .own_floor = CASE_FLOOR_SCHED },
	/* the mount case's floor is the mount itself: root, natively, no supervisor */
	[CASE_FLOOR_MOUNT] = { "floor-mount", false, 0, false, CALL_MOUNT, NULL, .native = true,
			       .own_floor = CASE_FLOOR_MOUNT },
	/* and a supervisor's: the mount trapped and made for the caller with every safe step */
	[CASE_FLOOR_MOUNT_NOTIFY] = { "floor-mount-notify", false, WAIT_BLOCK, true, CALL_MOUNT,
				      NULL, true, .answer = FLOOR_MOUNT },
	[CASE_MOUNT] = { "mount", true, 0, false, CALL_MOUNT, "bench-mount", true,
			 .own_floor = CASE_FLOOR_MOUNT, .safe_floor = CASE_FLOOR_MOUNT_NOTIFY },
	/* the floor of bpf is not a supervisor either: the same calls, made natively by root */
	[CASE_FLOOR_BPF] = { "floor-bpf", false, 0, false, CALL_BPF, NULL, .native = true,
			     .own_floor = CASE_FLOOR_BPF },
	/* and a supervisor's: the three calls trapped and answered with the fewest safe steps */
	[CASE_FLOOR_BPF_NOTIFY] = { "floor-bpf-notify", false, WAIT_BLOCK, true, CALL_BPF, NULL,
				    true, .answer = FLOOR_BPF },
	[CASE_BPF] = { "bpf", true, 0, false, CALL_BPF, "bench-bpf", true,
		       .own_floor = CASE_FLOOR_BPF, .safe_floor = CASE_FLOOR_BPF_NOTIFY },
};

const char *const fan_containers[N_FAN_CONTAINERS] = {
	"fan-0", "fan-1", "fan-2", "fan-3", "fan-4", "fan-5", "fan-6", "fan-7",
};

const struct container_def main_defs[] = {
	{ "bench-continue", NULL },
	{ "bench-sysinfo", "security.syscalls.intercept.sysinfo" },
	{ "bench-mknod", "security.syscalls.intercept.mknod" },
	{ "bench-api", NULL },
	{ "fan-0", NULL }, { "fan-1", NULL }, { "fan-2", NULL }, { "fan-3", NULL },
	{ "fan-4", NULL }, { "fan-5", NULL }, { "fan-6", NULL }, { "fan-7", NULL },
	{ "bench-mount", "security.syscalls.intercept.mount",
	  "\"security.syscalls.intercept.mount.allowed\":\"ext4\"" },
	{ "bench-bpf", "security.syscalls.intercept.bpf",
	  "\"security.syscalls.intercept.bpf.devices\":\"true\"" },
	/* after fan-7: the workers=1 daemon registers main_defs[4..11] */
	{ "bench-setxattr", "security.syscalls.intercept.setxattr" },
	{ "bench-sched", "security.syscalls.intercept.sched_setscheduler" },
};

const unsigned fan_sizes[] = { 1, 16, 256 };

static void set_skip(char *buf, size_t size, const char *why)
{
	if (!buf[0])
		(void)snprintf(buf, size, "%s", why);
}

/* Is @name among --only's comma-separated names (or is there no --only)? */
static bool selected(const struct options *o, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = o->only; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
	return !o->only;
}

/* Is @id selected, or a floor of a selected case? */
static bool case_wanted(const struct options *o, enum case_id id)
{
	for (enum case_id c = 0; c < CASE_COUNT; c++)
		if (cases[c].daemon && (cases[c].own_floor == id || cases[c].safe_floor == id) &&
		    selected(o, cases[c].name))
			return true;
	return selected(o, cases[id].name);
}

static void deselect_cases(struct bench *b)
{
	for (enum case_id id = CASE_FLOOR + 1; id < CASE_COUNT; id++)
		if (!case_wanted(&b->o, id))
			set_skip(b->cr[id].skip, sizeof(b->cr[id].skip), "not selected (--only)");
	for (unsigned w = 0; !selected(&b->o, "fanin") && w < 2; w++)
		for (unsigned s = 0; s < N_FAN_SIZES; s++)
			set_skip(b->fr[w][s].skip, sizeof(b->fr[w][s].skip), "not selected (--only)");
	if (!selected(&b->o, "api"))
		set_skip(b->api.skip, sizeof(b->api.skip), "not selected (--only)");
	if (!selected(&b->o, "api-stall"))
		set_skip(b->stall.skip, sizeof(b->stall.skip), "not selected (--only)");
	if (!selected(&b->o, "api-burst"))
		set_skip(b->burst.skip, sizeof(b->burst.skip), "not selected (--only)");
	if (!selected(&b->o, "memory"))
		set_skip(b->mem.skip, sizeof(b->mem.skip), "not selected (--only)");
}

/* Can interceptd serve notifications in this run? */
static bool daemon_ready(const struct bench *b)
{
	return b->main_up && !b->daemon_skip[0];
}

/* What a latency case's client does, and where. */
static void latency_spec(struct bench *b, const struct case_desc *cd, struct fleet_spec *spec)
{
	spec->userns = cd->userns;
	spec->native = cd->native;
	if (cd->call == CALL_MKNOD) {
		spec->mknod_path = b->mknod_path;
		(void)unlink(b->mknod_path);
	}
	spec->xattr_path = b->xattr_path;
	spec->mount_source = b->mount.source;
	spec->mount_target = b->mount.target;
	if (cd->call == CALL_BPF) {
		/* a container's own cgroup and a child: it runs in one, attaches to the other */
		spec->cgroup = b->bpf_c;
		spec->bpf_target = b->bpf_t;
	}
}

static int run_latency(struct bench *b, enum case_id id, double secs)
{
	const struct case_desc *cd = &cases[id];
	struct case_result *res = &b->cr[id];
	struct fleet_spec spec = {
		.call = cd->call, .n = 1, .record = true, .warmup = 20, .ready_timeout_ms = 3000,
		.to = { .floor_sock = -1 },
	};
	struct fleet fl;
	pid_t sup = -1;
	int sock = -EBADF, r;
	uint64_t cpu0 = 0, cpu1 = 0, cpu = 0, notifs;
	struct shm *shm = b->shm;

	latency_spec(b, cd, &spec);
	if (cd->native) {
		/* the floor: the calls themselves, made by root */
	} else if (cd->daemon) {
		spec.containers = &cd->container;
		spec.n_containers = 1;
		spec.to.oci_path = b->main_d.oci;
		(void)proc_cpu_ns(b->main_d.pid, &cpu0);
	} else {
		r = floor_start(cd->mode, cd->sync && b->has_sync, cd->answer, &sup, &sock);
		if (r < 0)
			return r;
		spec.to.floor_sock = sock;
	}
	r = fleet_start(shm, &spec, &fl);
	if (sock >= 0)
		close(sock);
	if (r < 0) {
		if (sup > 0)
			(void)floor_stop(sup, &cpu);
		if (r == -EPROTO)
			return -(1000 + atomic_load(&shm->first_errno));
		return r;
	}
	fleet_go(&fl);
	sleep_ns((uint64_t)(secs * 1e9));
	r = fleet_stop(shm, &fl, 3000);
	notifs = atomic_load(&shm->count[0]);
	if (sup > 0) {
		int r2 = floor_stop(sup, &cpu);

		if (r2 < 0)
			return r2;
	} else if (cd->native && cd->call != CALL_MOUNT) {
		cpu = shm->client_cpu_ns; /* the kernel's work, in the caller itself */
	} else if (cd->daemon) {
		(void)proc_cpu_ns(b->main_d.pid, &cpu1);
		cpu = cpu1 - cpu0;
	}
	/* a mount is mostly the kernel's work in the caller (umount) or in the daemon's helper */
	if (cd->call == CALL_MOUNT)
		cpu += shm->cpu_ns;
	if (atomic_load(&shm->failed))
		return -(1000 + atomic_load(&shm->first_errno));
	if (r < 0 || shm->n_samples == 0)
		return -EIO;
	qsort(shm->lat_ns, shm->n_samples, sizeof(uint32_t), cmp_u32);
	stat_add(&res->med_us, shm->lat_ns[rank(shm->n_samples, 0.5)] / 1e3);
	stat_add(&res->p99_us, shm->lat_ns[rank(shm->n_samples, 0.99)] / 1e3);
	stat_add(&res->rate, (double)shm->n_samples / ((double)shm->loop_ns / 1e9));
	stat_add(&res->cpu_us, notifs ? (double)cpu / 1e3 / (double)notifs : NAN);
	return 0;
}

static void latency_round(struct bench *b, double secs, bool backwards)
{
	for (unsigned i = 0; i < CASE_COUNT; i++) {
		enum case_id id = backwards ? CASE_COUNT - 1 - i : i;
		char why[SKIP_LEN];
		int r;

		if (b->cr[id].skip[0])
			continue;
		if (cases[id].daemon && !daemon_ready(b)) {
			set_skip(b->cr[id].skip, sizeof(b->cr[id].skip), b->daemon_skip);
			continue;
		}
		r = run_latency(b, id, secs);
		if (r >= 0)
			continue;
		if (r <= -1000 && atomic_load(&b->shm->fail_stage) == STAGE_CALL)
			(void)snprintf(why, sizeof(why), "the trapped call failed: %s%s",
				       strerror(-r - 1000),
				       cases[id].daemon && cases[id].call != CALL_SYSINFO
					       ? " (not emulated: handler missing or refused)"
					       : "");
		else if (r <= -1000)
			(void)snprintf(why, sizeof(why), "%s failed: %s",
				       fail_stage_name(atomic_load(&b->shm->fail_stage)),
				       strerror(-r - 1000));
		else
			(void)snprintf(why, sizeof(why), "%s%s", strerror(-r),
				       r == -ETIMEDOUT ? ": listener never served" : "");
		if ((!cases[id].daemon && !cases[id].native) || r <= -1000) {
			/* a floor that fails, or a call that fails once set up: a defect, not a skip */
			fprintf(stderr, "bench: %s failed: %s\n", cases[id].name, why);
			daemon_log_tail(&b->main_d);
			b->broken = true;
		} else {
			fprintf(stderr, "bench: %s skipped: %s\n", cases[id].name, why);
			daemon_log_tail(&b->main_d);
		}
		set_skip(b->cr[id].skip, sizeof(b->cr[id].skip), why);
	}
}

/* ------------------------------------------------------------------ fan-in */

static int run_fanin(struct bench *b, struct daemon_run *d, unsigned n, double secs,
		     struct fanin_result *res)
{
	struct fleet_spec spec = {
		.call = CALL_SYSINFO, .n = n, .containers = fan_containers,
		.n_containers = N_FAN_CONTAINERS, .to = { .floor_sock = -1, .oci_path = d->oci },
		.warmup = 1, .ready_timeout_ms = 5000 + 20 * (int)n,
	};
	_cleanup_free_ uint64_t *c0 = calloc(n, sizeof(uint64_t));
	struct fleet fl;
	uint64_t t0, t1;
	double total = 0, slowest = INFINITY;
	int r;

	if (!c0)
		return -ENOMEM;
	r = fleet_start(b->shm, &spec, &fl);
	if (r < 0)
		return r;
	fleet_go(&fl);
	sleep_ns(secs > 0.5 ? 100000000ULL : 20000000ULL); /* let every client get going */
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		c0[i] = atomic_load(&b->shm->count[i]);
	sleep_ns((uint64_t)(secs * 1e9));
	t1 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		double rate = (double)(atomic_load(&b->shm->count[i]) - c0[i]) /
			      ((double)(t1 - t0) / 1e9);

		total += rate;
		if (rate < slowest)
			slowest = rate;
	}
	r = fleet_stop(b->shm, &fl, 5000);
	if (r < 0 || atomic_load(&b->shm->failed))
		return -EIO;
	stat_add(&res->total, total);
	stat_add(&res->mean, total / n);
	stat_add(&res->slowest, slowest);
	return 0;
}

static void fanin_round(struct bench *b)
{
	for (unsigned s = 0; s < N_FAN_SIZES; s++)
		for (unsigned w = 0; w < 2; w++) {
			struct fanin_result *res = &b->fr[w][s];
			struct daemon_run *d = w ? &b->main_d : &b->one_d;
			bool up = daemon_ready(b) && (w ? b->main_up : b->one_up);
			int r;

			if (res->skip[0])
				continue;
			if (!up) {
				set_skip(res->skip, sizeof(res->skip), b->daemon_skip);
				continue;
			}
			r = run_fanin(b, d, fan_sizes[s], b->o.fanin_s, res);
			if (r < 0) {
				(void)snprintf(res->skip, sizeof(res->skip), "%s", strerror(-r));
				fprintf(stderr, "bench: fan-in %u workers=%u skipped: %s\n",
					fan_sizes[s], d->workers, res->skip);
			}
		}
}

/* ------------------------------------------------------------------ API */

static int api_series(struct daemon_run *d, const char *method, const char *path,
		      unsigned n, bool toggle, double *ret_med, double *ret_p99, size_t *ret_bytes)
{
	_cleanup_free_ uint64_t *t = calloc(n, sizeof(uint64_t));
	char body[128];

	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		long status = 0;
		char *out = NULL;
		int r;

		(void)snprintf(body, sizeof(body),
			       "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"%s\"}}",
			       i % 2 ? "false" : "true");
		/* generous: a write stuck behind a stalled disk is a figure, not a failure */
		r = api_request(d, method, path, toggle ? body : NULL, 30000, &status, &t[i],
				ret_bytes ? &out : NULL);
		if (ret_bytes && out)
			*ret_bytes = strlen(out);
		free(out);
		if (r < 0 || status != 200) {
			fprintf(stderr, "bench: %s %s (request %u of %u): %s\n", method, path, i + 1, n,
				r < 0 ? strerror(-r) : "unexpected HTTP status");
			return r < 0 ? r : -EBADMSG;
		}
	}
	qsort(t, n, sizeof(uint64_t), cmp_u64);
	*ret_med = ms_percentile(t, n, 0.5);
	*ret_p99 = ms_percentile(t, n, 0.99);
	return 0;
}

static void run_api(struct bench *b)
{
	struct fleet_spec spec = {
		.call = CALL_SYSINFO, .n = 16, .containers = fan_containers,
		.n_containers = N_FAN_CONTAINERS,
		.to = { .floor_sock = -1, .oci_path = b->main_d.oci },
		.warmup = 1, .ready_timeout_ms = 5000,
	};
	struct fleet fl;
	int r;

	if (!b->main_up || b->api_skip[0]) {
		set_skip(b->api.skip, sizeof(b->api.skip), b->api_skip[0] ? b->api_skip : b->daemon_skip);
		return;
	}
	/* GET and PATCH while 16 listeners keep the workers busy (idle if the engine is missing) */
	bool busy = !b->daemon_skip[0] && fleet_start(b->shm, &spec, &fl) == 0;

	if (busy)
		fleet_go(&fl);
	r = api_series(&b->main_d, "GET", "/1.0", b->o.api_n, false, &b->api.get_med,
		       &b->api.get_p99, NULL);
	if (r == 0)
		r = api_series(&b->main_d, "PATCH", "/1.0/containers/bench-api", b->o.api_n, true,
			       &b->api.patch_med, &b->api.patch_p99, NULL);
	if (busy)
		(void)fleet_stop(b->shm, &fl, 5000);
	if (r == 0)
		r = api_series(&b->main_d, "GET", "/1.0/metrics", b->o.metrics_n, false,
			       &b->api.metrics_med, &b->api.metrics_p99, &b->api.metrics_bytes);
	if (r < 0) {
		(void)snprintf(b->api.skip, sizeof(b->api.skip), "API request failed: %s",
			       r == -EBADMSG ? "unexpected HTTP status" : strerror(-r));
		return;
	}
	if (!busy)
		fprintf(stderr, "bench: api measured without busy listeners (%s)\n",
			b->daemon_skip[0] ? b->daemon_skip : "fleet failed");
	b->api.ran = true;
}

/* ------------------------------------------------------------------ memory */

static void run_memory(struct bench *b)
{
	struct daemon_run d;
	char dir[200];
	uint64_t kib, start;
	pid_t holder = -1;
	int r;

	b->mem.containers = b->o.mem_containers;
	b->mem.listeners = b->o.mem_listeners;
	if (!b->main_up) {
		set_skip(b->mem.skip, sizeof(b->mem.skip), b->daemon_skip);
		return;
	}
	(void)snprintf(dir, sizeof(dir), "%s/mem", b->dir);
	(void)mkdir(dir, 0700);
	(void)snprintf(d.state_dir, sizeof(d.state_dir), "%s/state", dir);
	r = state_write(d.state_dir, NULL, 0, b->o.mem_containers);
	start = now_ns();
	if (r < 0 || (r = daemon_start(&d, b->o.daemon_bin, dir, b->cpus)) < 0) {
		(void)snprintf(b->mem.skip, sizeof(b->mem.skip), "daemon start: %s", strerror(-r));
		return;
	}
	b->mem.start_ms = (double)(now_ns() - start) / 1e6;
	sleep_ns(300000000ULL);
	if (proc_rss_kib(d.pid, &kib) == 0) {
		b->mem.rss_base_mib = (double)kib / 1024;
		b->mem.ran_base = true;
	}
	if (b->daemon_skip[0]) {
		set_skip(b->mem.skip, sizeof(b->mem.skip), b->daemon_skip);
	} else {
		r = holder_start(b->shm, d.oci, b->o.mem_listeners, 0, 30000, &holder);
		if (r == 0 && proc_rss_kib(d.pid, &kib) == 0) {
			b->mem.rss_mib = (double)kib / 1024;
			b->mem.ran = true;
		} else {
			(void)snprintf(b->mem.skip, sizeof(b->mem.skip),
				       "%d of %u listeners served: %s", atomic_load(&b->shm->ready),
				       b->o.mem_listeners, strerror(r < 0 ? -r : EIO));
		}
		if (holder > 0) {
			(void)kill(holder, SIGKILL);
			(void)wait_or_kill(holder, 5000, NULL);
		}
	}
	daemon_stop(&d);
	/* a restart is what stalls containers (their listeners wait in the fd store) */
	start = now_ns();
	if (daemon_start(&d, b->o.daemon_bin, dir, b->cpus) == 0) {
		b->mem.restart_ms = (double)(now_ns() - start) / 1e6;
		daemon_stop(&d);
	}
}

/* ------------------------------------------------------------------ setup */

static void probe_daemon(struct bench *b)
{
	struct fleet_spec spec = {
		.call = CALL_SYSINFO, .n = 1, .containers = &cases[CASE_CONTINUE].container,
		.n_containers = 1, .to = { .floor_sock = -1, .oci_path = b->main_d.oci },
		.warmup = 1, .ready_timeout_ms = 3000,
	};
	struct fleet fl;
	long status = 0;
	int r;

	r = api_request(&b->main_d, "GET", "/1.0", NULL, 2000, &status, NULL, NULL);
	if (r < 0 || status != 200)
		(void)snprintf(b->api_skip, sizeof(b->api_skip),
			       "GET /1.0 failed (%s): the API is not served yet",
			       r < 0 ? strerror(-r) : "HTTP error");
	r = fleet_start(b->shm, &spec, &fl);
	if (r == 0)
		(void)fleet_stop(b->shm, &fl, 2000);
	else
		(void)snprintf(b->daemon_skip, sizeof(b->daemon_skip),
			       "the OCI hand-off was ignored (a trapped sysinfo was not answered "
			       "within 3 s): the engine is not there yet");
	if (b->api_skip[0])
		fprintf(stderr, "bench: %s\n", b->api_skip);
	if (b->daemon_skip[0]) {
		fprintf(stderr, "bench: %s\n", b->daemon_skip);
		daemon_log_tail(&b->main_d);
	}
}

static void start_daemons(struct bench *b)
{
	char dir[200];
	int r;

	(void)snprintf(dir, sizeof(dir), "%s/main", b->dir);
	(void)mkdir(dir, 0700);
	(void)snprintf(b->main_d.state_dir, sizeof(b->main_d.state_dir), "%s/state", dir);
	r = state_write(b->main_d.state_dir, main_defs, sizeof(main_defs) / sizeof(main_defs[0]),
			N_MAIN_CONTAINERS - sizeof(main_defs) / sizeof(main_defs[0]));
	if (r == 0)
		r = daemon_start(&b->main_d, b->o.daemon_bin, dir, b->cpus);
	if (r < 0) {
		(void)snprintf(b->daemon_skip, sizeof(b->daemon_skip), "cannot start '%s': %s",
			       b->o.daemon_bin, r == -ECHILD ? "it exited at once" : strerror(-r));
		set_skip(b->api_skip, sizeof(b->api_skip), b->daemon_skip);
		fprintf(stderr, "bench: %s\n", b->daemon_skip);
		if (r == -ECHILD)
			daemon_log_tail(&b->main_d);
		return;
	}
	b->main_up = true;
	probe_daemon(b);
	if (b->daemon_skip[0])
		return; /* no point in a second daemon that cannot serve either */
	(void)snprintf(dir, sizeof(dir), "%s/one", b->dir);
	(void)mkdir(dir, 0700);
	(void)snprintf(b->one_d.state_dir, sizeof(b->one_d.state_dir), "%s/state", dir);
	r = state_write(b->one_d.state_dir, main_defs + 4, N_FAN_CONTAINERS, 0);
	if (r == 0)
		r = daemon_start(&b->one_d, b->o.daemon_bin, dir, 1);
	b->one_up = r == 0;
	if (r < 0)
		fprintf(stderr, "bench: cannot start the workers=1 daemon: %s\n", strerror(-r));
}

/*
 * A tmpfs owned by the mknod client (root of a user namespace mapped to
 * 100000), and the directory in it the setxattr client marks opaque.
 */
static int setup_mknod_dir(struct bench *b)
{
	(void)snprintf(b->mknod_dir, sizeof(b->mknod_dir), "%s/mknod", b->dir);
	(void)snprintf(b->mknod_path, sizeof(b->mknod_path), "%s/null", b->mknod_dir);
	(void)snprintf(b->xattr_path, sizeof(b->xattr_path), "%s/opaque", b->mknod_dir);
	if (mkdir(b->mknod_dir, 0755) < 0)
		return NEG_ERRNO();
	if (mount("bench-tmpfs", b->mknod_dir, "tmpfs", MS_NOSUID, "size=1m,mode=0755") < 0)
		return NEG_ERRNO();
	b->mknod_mounted = true;
	if (chown(b->mknod_dir, 100000, 100000) < 0 || mkdir(b->xattr_path, 0755) < 0 ||
	    chown(b->xattr_path, 100000, 100000) < 0)
		return NEG_ERRNO();
	return 0;
}

/* The mount cases' loop device (only when one of them runs: it is the host's resource). */
static void setup_mount_cases(struct bench *b)
{
	char why[SKIP_LEN];
	int r;

	b->mount.loop_nr = -1;
	if (b->cr[CASE_MOUNT].skip[0] && b->cr[CASE_FLOOR_MOUNT].skip[0] &&
	    b->cr[CASE_FLOOR_MOUNT_NOTIFY].skip[0])
		return;
	r = mount_fixture_setup(b->dir, &b->mount, why, sizeof(why));
	if (r < 0) {
		set_skip(b->cr[CASE_MOUNT].skip, sizeof(b->cr[0].skip), why);
		set_skip(b->cr[CASE_FLOOR_MOUNT].skip, sizeof(b->cr[0].skip), why);
		set_skip(b->cr[CASE_FLOOR_MOUNT_NOTIFY].skip, sizeof(b->cr[0].skip), why);
	}
}

/*
 * The cgroup2 directories of the bpf cases: ours, the client's (a container's
 * own cgroup, owned by its root as a runtime delegates it) and a child of it.
 */
static int setup_bpf_cgroups(struct bench *b)
{
	const char *root = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0
				   ? "/sys/fs/cgroup/unified"
				   : "/sys/fs/cgroup";

	if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) < 0 &&
	    access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) < 0)
		return -ENOENT;
	(void)snprintf(b->bpf_cg, sizeof(b->bpf_cg), "%s/interceptd-bench-%d", root, (int)getpid());
	(void)snprintf(b->bpf_c, sizeof(b->bpf_c), "%s/c", b->bpf_cg);
	(void)snprintf(b->bpf_t, sizeof(b->bpf_t), "%s/t", b->bpf_c);
	if (mkdir(b->bpf_cg, 0755) < 0 || mkdir(b->bpf_c, 0755) < 0 || mkdir(b->bpf_t, 0755) < 0)
		return NEG_ERRNO();
	if (chown(b->bpf_c, 100000, 100000) < 0 || chown(b->bpf_t, 100000, 100000) < 0)
		return NEG_ERRNO();
	return 0;
}

static void cleanup(struct bench *b)
{
	daemon_stop(&b->main_d);
	daemon_stop(&b->one_d);
	/* the clients are gone: the directories are empty */
	if (b->bpf_cg[0]) {
		(void)rmdir(b->bpf_t);
		(void)rmdir(b->bpf_c);
		(void)rmdir(b->bpf_cg);
	}
	if (b->mknod_mounted)
		(void)umount2(b->mknod_dir, MNT_DETACH);
	mount_fixture_cleanup(&b->mount);
	if (b->dir[0] && !getenv("BENCH_KEEP")) {
		char cmd[300];

		/* only our own mkdtemp directory; nothing is mounted in it any more */
		(void)snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", b->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench: could not remove %s\n", b->dir);
	}
}

/* ------------------------------------------------------------------ report */

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "daemon", required_argument, NULL, 'd' },
		{ "json", required_argument, NULL, 'j' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned rounds = 0;
	double secs = 0;
	int c;

	*o = (struct options){ .daemon_bin = "build/daemon/interceptd" };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case 's': o->smoke = true; break;
		case 'd': o->daemon_bin = optarg; break;
		case 'j': o->json = optarg; break;
		case 'r': rounds = (unsigned)atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'o': o->only = optarg; break;
		case 'h':
			printf("Usage: bench [--smoke] [--daemon PATH] [--json FILE] [--rounds N] "
			       "[--seconds S] [--only CASE,...]\n");
			exit(0);
		default: return -EINVAL;
		}
	}
	if (o->smoke) {
		o->rounds = 1; o->case_s = 0.1; o->fanin_s = 0.1; o->fanin_rounds = 1;
		o->api_n = 10; o->metrics_n = 3; o->mem_containers = 2000; o->mem_listeners = 100;
	} else {
		o->rounds = 5; o->case_s = 1.0; o->fanin_s = 1.0; o->fanin_rounds = 3;
		o->api_n = 200; o->metrics_n = 30; o->mem_containers = 10000;
		o->mem_listeners = 1000;
	}
	if (rounds)
		o->rounds = o->fanin_rounds = rounds < MAX_ROUNDS ? rounds : MAX_ROUNDS;
	if (secs > 0)
		o->case_s = o->fanin_s = secs;
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct rlimit nofile = { 65536, 65536 };
	bool is_failed;
	long n;
	int r;

	if (parse_args(argc, argv, &b.o) < 0)
		return 1;
	if (geteuid() != 0) {
		fprintf(stderr, "bench: needs root (user namespaces mapped to 100000, mknod, "
				"the daemon), skipping\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	(void)setrlimit(RLIMIT_NOFILE, &nofile); /* the daemon inherits it: 1,000 listeners */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	b.cpus = n > 0 ? (unsigned)n : 1;
	b.shm = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (b.shm == MAP_FAILED)
		return 1;
	r = filters_init();
	if (r < 0) {
		fprintf(stderr, "bench: cannot build the filters: %s\n", strerror(-r));
		return 1;
	}
	b.has_sync = probe_sync_wake_up();
	if (!b.has_sync)
		(void)snprintf(b.cr[CASE_FLOOR_NOSYNC].skip, sizeof(b.cr[0].skip),
			       "SYNC_WAKE_UP not available: floor already runs without it");
	(void)snprintf(b.dir, sizeof(b.dir), "/tmp/interceptd-bench.XXXXXX");
	if (!mkdtemp(b.dir) || chmod(b.dir, 0755) < 0) {
		fprintf(stderr, "bench: mkdtemp: %m\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = setup_mknod_dir(&b);
	if (r < 0)
		for (enum case_id id = 0; id < CASE_COUNT; id++)
			if (cases[id].call == CALL_MKNOD || cases[id].call == CALL_SETXATTR)
				(void)snprintf(b.cr[id].skip, sizeof(b.cr[0].skip),
					       "cannot mount the client's tmpfs: %s", strerror(-r));
	r = sched_rt_probe();
	for (enum case_id id = CASE_FLOOR_SCHED; r < 0 && id <= CASE_SCHED; id++)
		(void)snprintf(b.cr[id].skip, sizeof(b.cr[0].skip),
			       "root cannot take SCHED_FIFO here (no RT runtime in our cgroup?): %s",
			       strerror(-r));
	r = setup_bpf_cgroups(&b);
	for (enum case_id id = CASE_FLOOR_BPF; r < 0 && id <= CASE_BPF; id++)
		(void)snprintf(b.cr[id].skip, sizeof(b.cr[0].skip), "no cgroup2 directory: %s",
			       strerror(-r));
	printf("interceptd bench (%s): %u CPUs, SYNC_WAKE_UP %s, %u rounds of %.1f s per case\n",
	       b.o.smoke ? "smoke" : "full", b.cpus, b.has_sync ? "yes" : "no", b.o.rounds,
	       b.o.case_s);
	deselect_cases(&b);
	setup_mount_cases(&b);
	start_daemons(&b);
	for (unsigned i = 0; i < b.o.rounds; i++) {
		printf("round %u/%u: latency cases\n", i + 1, b.o.rounds);
		latency_round(&b, b.o.case_s, i % 2);
	}
	for (unsigned i = 0; selected(&b.o, "fanin") && i < b.o.fanin_rounds; i++) {
		printf("round %u/%u: fan-in\n", i + 1, b.o.fanin_rounds);
		fanin_round(&b);
	}
	if (selected(&b.o, "api")) {
		printf("api\n");
		run_api(&b);
	}
	if (selected(&b.o, "api-stall")) {
		printf("api under a stalled write\n");
		run_api_stall(&b);
	}
	if (selected(&b.o, "api-burst")) {
		printf("api under a burst of connections\n");
		run_api_burst(&b);
	}
	if (selected(&b.o, "memory")) {
		printf("memory\n");
		run_memory(&b);
	}
	report(&b);
	cleanup(&b);
	curl_global_cleanup();
	/* a case the daemon failed is a failure, never a skip: the smoke run must catch it */
	is_failed = any_failed(&b); /* says which and why */
	if (b.broken || is_failed)
		return 1;
	return any_skipped(&b) ? 77 : 0;
}
