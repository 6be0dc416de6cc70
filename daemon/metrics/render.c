/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The whole Prometheus text exposition (format 0.0.4) of GET /1.0/metrics, in
 * one place: every family, its HELP and TYPE lines and its samples, from the
 * registry, the containers' counters (metrics.c), the daemon's own counters
 * and the process. api/routes_server.c and the --metrics-address listener
 * (api/metrics_listener.c) only call metrics_render().
 *
 * Runs on the API thread or the metrics listener's. Takes the registry's
 * lock to list the containers and each container's lock briefly to count its
 * listeners (lock order registry → container); counters are read with
 * relaxed atomics, without a lock, so a scrape never slows a worker.
 */
#include <dirent.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/metrics/render.h"
#include "daemon/store/registry.h"
#include "version.h"

static const char *const bucket_labels[METRICS_BUCKET_COUNT] = {
	"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.01", "0.025", "0.1", "0.25", "1",
};

/* The "# HELP"/"# TYPE" header of a family. */
static void write_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* An unlabelled counter family: its header and its one sample. */
static void write_counter(FILE *f, const char *name, const char *help, uint64_t value)
{
	write_family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, value);
}

void metrics_write_label_value(FILE *f, const char *value)
{
	fputc('"', f);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*p, f);
	}
	fputc('"', f);
}

/*
 * container="NAME", then the Kubernetes names of a container that registered
 * itself from a pod (@k8s NULL or without a pod: none). An ephemeral
 * container's series go with it, so these labels stay bounded.
 */
static void write_container_labels(FILE *f, const char *container, const struct container_k8s *k8s)
{
	fputs("container=", f);
	metrics_write_label_value(f, container);
	if (!k8s || !k8s->pod[0])
		return;
	fputs(",k8s_namespace=", f);
	metrics_write_label_value(f, k8s->namespace);
	fputs(",k8s_pod=", f);
	metrics_write_label_value(f, k8s->pod);
	fputs(",k8s_container=", f);
	metrics_write_label_value(f, k8s->container);
}

/* interceptd_syscalls_total samples of one container (without the header). */
static void write_counts(FILE *f, const char *container, const struct container_k8s *k8s,
			 const struct container_metrics *m)
{
	for (size_t s = 0; s < METRICS_SYSCALL_COUNT; s++)
		for (size_t o = 0; o < METRICS_OUTCOME_COUNT; o++) {
			uint64_t v = atomic_load_explicit(&m->syscalls[s].outcomes[o],
							  memory_order_relaxed);

			if (!v)
				continue;
			fputs("interceptd_syscalls_total{", f);
			write_container_labels(f, container, k8s);
			fprintf(f, ",syscall=\"%s\",outcome=\"%s\"} %" PRIu64 "\n",
				metrics_syscall_name(s), metrics_outcome_name(o), v);
		}
}

static void write_histogram(FILE *f, const char *container, const struct container_k8s *k8s,
			    const struct syscall_metrics *sm, const char *syscall)
{
	uint64_t cumulative = 0;

	for (size_t b = 0; b <= METRICS_BUCKET_COUNT; b++) {
		cumulative += atomic_load_explicit(&sm->buckets[b], memory_order_relaxed);
		fputs("interceptd_syscall_duration_seconds_bucket{", f);
		write_container_labels(f, container, k8s);
		fprintf(f, ",syscall=\"%s\",le=\"%s\"} %" PRIu64 "\n", syscall,
			b < METRICS_BUCKET_COUNT ? bucket_labels[b] : "+Inf", cumulative);
	}
	fputs("interceptd_syscall_duration_seconds_sum{", f);
	write_container_labels(f, container, k8s);
	fprintf(f, ",syscall=\"%s\"} %.9f\n", syscall,
		(double)atomic_load_explicit(&sm->sum_ns, memory_order_relaxed) / 1e9);
	fputs("interceptd_syscall_duration_seconds_count{", f);
	write_container_labels(f, container, k8s);
	fprintf(f, ",syscall=\"%s\"} %" PRIu64 "\n", syscall, cumulative);
}

/* interceptd_syscall_duration_seconds samples of one container: syscalls seen at least once. */
static void write_histograms(FILE *f, const char *container, const struct container_k8s *k8s,
			     const struct container_metrics *m)
{
	for (size_t s = 0; s < METRICS_SYSCALL_COUNT; s++) {
		const struct syscall_metrics *sm = &m->syscalls[s];
		uint64_t n = 0;

		for (size_t b = 0; b <= METRICS_BUCKET_COUNT; b++)
			n += atomic_load_explicit(&sm->buckets[b], memory_order_relaxed);
		if (n)
			write_histogram(f, container, k8s, sm, metrics_syscall_name(s));
	}
}

static void write_listeners(FILE *f, struct container **list, size_t n)
{
	write_family(f, "interceptd_listeners", "gauge",
		     "Attached seccomp listeners by container and intake source");
	for (size_t i = 0; i < n; i++) {
		unsigned count[LISTENER_SOURCE_COUNT] = { 0 };

		pthread_mutex_lock(&list[i]->lock);
		for (const struct listener *l = list[i]->listeners; l; l = l->next)
			if (l->source < LISTENER_SOURCE_COUNT)
				count[l->source]++;
		pthread_mutex_unlock(&list[i]->lock);
		for (size_t s = 0; s < LISTENER_SOURCE_COUNT; s++) {
			fputs("interceptd_listeners{", f);
			write_container_labels(f, list[i]->name, container_k8s(list[i]));
			fprintf(f, ",source=\"%s\"} %u\n", listener_source_name(s), count[s]);
		}
	}
}

/* Is @key on in @cfg: a boolean set to true, or a list set at all. */
static bool key_is_on(const struct config *cfg, size_t key)
{
	if (config_keys[key].type == CONFIG_TYPE_BOOL)
		return cfg->enabled[key];
	return cfg->values[key] != NULL;
}

/* Per container: each key on or off, and how many keys wait for a restart. */
static void write_container_keys(FILE *f, struct container **list, size_t n)
{
	write_family(f, "interceptd_container_key_enabled", "gauge",
		     "1 for each intercept key a container has on (true, or a list set), else 0");
	for (size_t i = 0; i < n; i++) {
		_cleanup_(config_unrefp) struct config *cfg = container_config_get(list[i]);

		for (size_t k = 0; cfg && k < CONFIG_KEY_COUNT; k++) {
			fputs("interceptd_container_key_enabled{", f);
			write_container_labels(f, list[i]->name, container_k8s(list[i]));
			fprintf(f, ",key=\"%s\"} %d\n", config_keys[k].name, key_is_on(cfg, k));
		}
	}
	write_family(f, "interceptd_container_restart_required", "gauge",
		     "Keys a container has on that an attached filter does not trap: they take "
		     "effect when it restarts (GET /1.0/containers/NAME/state names them)");
	for (size_t i = 0; i < n; i++) {
		_cleanup_(config_unrefp) struct config *cfg = container_config_get(list[i]);

		fputs("interceptd_container_restart_required{", f);
		write_container_labels(f, list[i]->name, container_k8s(list[i]));
		fprintf(f, "} %d\n", __builtin_popcount(cfg ? container_untrapped_keys(list[i], cfg) : 0));
	}
}

/* Registered containers, then the unregistered ones under container="_unregistered". */
static void write_syscall_families(FILE *f, struct daemon *d, struct container **list, size_t n)
{
	write_family(f, "interceptd_syscalls_total", "counter",
		     "Trapped system calls answered, by container, syscall and outcome");
	for (size_t i = 0; i < n; i++)
		write_counts(f, list[i]->name, container_k8s(list[i]), &list[i]->metrics);
	write_counts(f, "_unregistered", NULL, &d->unregistered);
	write_family(f, "interceptd_syscall_duration_seconds", "histogram",
		     "Time from receiving a notification to replying to it");
	for (size_t i = 0; i < n; i++)
		write_histograms(f, list[i]->name, container_k8s(list[i]), &list[i]->metrics);
	write_histograms(f, "_unregistered", NULL, &d->unregistered);
}

static void write_engine_counters(FILE *f, struct daemon *d)
{
	write_counter(f, "interceptd_lxc_deadline_exceeded_total",
		      "LXC notifications answered CONTINUE because --lxc-deadline-ms passed",
		      atomic_load(&d->lxc_deadline_exceeded));
	write_counter(f, "interceptd_workers_replaced_total",
		      "Worker threads started in place of workers stuck in a caller's notification",
		      atomic_load(&d->workers_replaced));
	write_counter(f, "interceptd_watchdog_moves_total",
		      "Listeners moved to another worker because of a stuck one",
		      atomic_load(&d->watchdog_moves));
}

static void write_api(FILE *f)
{
	write_family(f, "interceptd_api_requests_total", "counter",
		     "API requests answered, by method and HTTP status code");
	for (size_t m = 0; m < METRICS_API_METHOD_COUNT; m++)
		for (size_t c = 0; c < METRICS_API_CODE_COUNT; c++) {
			uint64_t v = metrics_api_count(m, c);
			unsigned code = metrics_api_code(c);

			if (!v)
				continue;
			if (code)
				fprintf(f, "interceptd_api_requests_total{method=\"%s\",code=\"%u\"} %" PRIu64 "\n",
					metrics_api_method_name(m), code, v);
			else
				fprintf(f, "interceptd_api_requests_total{method=\"%s\",code=\"other\"} %" PRIu64 "\n",
					metrics_api_method_name(m), v);
		}
}

static void write_build_info(FILE *f)
{
	const struct scmp_version *v = seccomp_version();

	write_family(f, "interceptd_build_info", "gauge",
		     "Always 1: the version of interceptd and of the libseccomp it runs with");
	fprintf(f, "interceptd_build_info{version=\"%s\",libseccomp=\"%u.%u.%u\"} 1\n",
		INTERCEPTD_VERSION, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0);
}

/* CPU time and the fd limit, as every Prometheus client library names them. */
static void write_process_limits(FILE *f)
{
	struct rusage ru;
	struct rlimit rl;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		write_family(f, "process_cpu_seconds_total", "counter",
			     "Total user and system CPU time spent in seconds");
		fprintf(f, "process_cpu_seconds_total %.6f\n",
			(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		write_family(f, "process_max_fds", "gauge",
			     "Maximum number of open file descriptors");
		if (rl.rlim_cur == RLIM_INFINITY)
			fputs("process_max_fds +Inf\n", f);
		else
			fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
}

static void write_process(FILE *f, struct daemon *d)
{
	unsigned long long pages = 0, rss = 0;
	FILE *statm = fopen("/proc/self/statm", "re");
	DIR *dir = opendir("/proc/self/fd");
	unsigned n_fds = 0;

	if (statm && fscanf(statm, "%llu %llu", &pages, &rss) == 2) {
		write_family(f, "process_resident_memory_bytes", "gauge",
			     "Resident memory size in bytes");
		fprintf(f, "process_resident_memory_bytes %llu\n",
			rss * (unsigned long long)sysconf(_SC_PAGESIZE));
	}
	if (statm)
		fclose(statm);
	if (dir) {
		for (struct dirent *de; (de = readdir(dir));)
			n_fds += de->d_name[0] != '.';
		closedir(dir);
		write_family(f, "process_open_fds", "gauge", "Number of open file descriptors");
		fprintf(f, "process_open_fds %u\n", n_fds > 0 ? n_fds - 1 : 0); /* minus opendir's */
	}
	write_family(f, "process_start_time_seconds", "gauge",
		     "Start time of the process since the unix epoch in seconds");
	fprintf(f, "process_start_time_seconds %" PRId64 "\n", d->started_at);
}

int metrics_render(struct daemon *d, char **ret_text)
{
	struct container **list = NULL;
	size_t n = 0, size = 0;
	char *text = NULL;
	FILE *f;
	int r;

	r = registry_list(d->registry, &list, &n);
	if (r < 0)
		return r;
	f = open_memstream(&text, &size);
	if (!f) {
		registry_list_free(list, n);
		return -ENOMEM;
	}
	write_family(f, "interceptd_containers", "gauge", "Registered containers");
	fprintf(f, "interceptd_containers %zu\n", n);
	write_build_info(f);
	write_listeners(f, list, n);
	write_container_keys(f, list, n);
	write_syscall_families(f, d, list, n);
	write_engine_counters(f, d);
	write_api(f);
	write_process(f, d);
	write_process_limits(f);
	registry_list_free(list, n);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret_text = text;
	return 0;
}
