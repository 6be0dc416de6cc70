/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0, GET /1.0/metadata/configuration and GET /1.0/metrics. Read-only;
 * run on the MHD thread. The metrics route takes each container's lock
 * briefly to count its listeners (lock order registry → container).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "api/json.h"
#include "api/router.h"
#include "daemon/fdstore.h"
#include "daemon/listener.h"
#include "daemon/registry.h"
#include "version.h"

/*
 * What clients may rely on. The mount keys are accepted and trapped but not
 * emulated yet (answered CONTINUE), so their extension is not listed.
 */
static const char *const api_extensions[] = {
	"container_syscall_intercept",
	"container_syscall_intercept_sched_setscheduler",
	"container_syscall_intercept_sysinfo",
	"container_syscall_intercept_bpf_devices",
	"container_state_restart_required",
	"container_seccomp_lxc_oci",
	"etag_if_match_star",
	"metrics",
	"oci_listener_fd_store",
};

static json_t *features_json(const struct kernel_features *f)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "seccomp_user_notif",
			 f->seccomp_user_notif, "notif_continue", f->notif_continue,
			 "sync_wake_up", f->sync_wake_up, "pidfd_thread", f->pidfd_thread,
			 "openat2", f->openat2, "cgroup_v2_unified", f->cgroup_v2_unified,
			 "cgroup_hybrid", f->cgroup_hybrid);
}

int routes_server_get(const struct api_request *req, struct api_response *resp)
{
	const struct daemon_options *o = &req->d->opts;
	json_t *ext = json_array();
	struct utsname u;

	if (uname(&u) < 0)
		strcpy(u.release, "unknown");
	for (size_t i = 0; ext && i < ARRAY_SIZE(api_extensions); i++)
		json_array_append_new(ext, json_string(api_extensions[i]));
	resp->metadata = json_pack("{s:s, s:s, s:s, s:o, s:s, s:{s:s, s:o}, s:{s:s, s:s, s:s}, s:s, s:o, s:b}",
				   "api_version", "1.0", "api_status", "stable", "version",
				   INTERCEPTD_VERSION, "api_extensions", ext, "auth",
				   req->peer.is_admin ? "admin" : "read-only", "kernel", "release",
				   u.release, "features", features_json(&req->d->features),
				   "sockets", "api", o->api_socket, "lxc", o->lxc_socket, "oci",
				   o->oci_socket, "state_dir", o->state_dir, "started_at",
				   json_time(req->d->started_at), "fd_store", fdstore_available());
	return resp->metadata ? 0 : -ENOMEM;
}

static const char *type_name(enum config_type t)
{
	switch (t) {
	case CONFIG_TYPE_BOOL: return "bool";
	case CONFIG_TYPE_FS_LIST: return "fs-list";
	default: return "fuse-map";
	}
}

int routes_server_configuration(const struct api_request *req, struct api_response *resp)
{
	json_t *keys = json_object();

	(void)req;
	for (size_t i = 0; keys && i < CONFIG_KEY_COUNT; i++) {
		const struct config_key_info *k = &config_keys[i];
		json_t *syscalls = json_array();

		for (const char *const *s = k->syscalls; syscalls && s && *s; s++)
			json_array_append_new(syscalls, json_string(*s));
		json_object_set_new(keys, k->name,
				    json_pack("{s:s, s:s, s:s, s:b, s:o}", "type", type_name(k->type),
					      "default", k->default_value, "description",
					      k->description, "live", k->is_live, "syscalls",
					      syscalls));
	}
	resp->metadata = json_pack("{s:o}", "keys", keys);
	return resp->metadata ? 0 : -ENOMEM;
}

static void write_listeners(FILE *f, struct container **list, size_t n)
{
	metrics_write_family(f, "interceptd_listeners", "gauge",
			     "Attached seccomp listeners by container and intake source");
	for (size_t i = 0; i < n; i++) {
		unsigned count[LISTENER_SOURCE_COUNT] = { 0 };

		pthread_mutex_lock(&list[i]->lock);
		for (const struct listener *l = list[i]->listeners; l; l = l->next)
			if (l->source < LISTENER_SOURCE_COUNT)
				count[l->source]++;
		pthread_mutex_unlock(&list[i]->lock);
		for (size_t s = 0; s < LISTENER_SOURCE_COUNT; s++) {
			fputs("interceptd_listeners{container=", f);
			metrics_write_label_value(f, list[i]->name);
			fprintf(f, ",source=\"%s\"} %u\n", listener_source_name(s), count[s]);
		}
	}
}

static void write_syscall_families(FILE *f, struct daemon *d, struct container **list, size_t n)
{
	metrics_write_family(f, "interceptd_syscalls_total", "counter",
			     "Trapped system calls answered, by container, syscall and outcome");
	for (size_t i = 0; i < n; i++)
		metrics_write_container(f, list[i]->name, &list[i]->metrics, 0);
	metrics_write_container(f, "_unregistered", &d->unregistered, 0);
	metrics_write_family(f, "interceptd_syscall_duration_seconds", "histogram",
			     "Time from receiving a notification to replying to it");
	for (size_t i = 0; i < n; i++)
		metrics_write_container(f, list[i]->name, &list[i]->metrics, 1);
	metrics_write_container(f, "_unregistered", &d->unregistered, 1);
}

static void write_process(FILE *f, struct daemon *d)
{
	unsigned long long pages = 0, rss = 0;
	FILE *statm = fopen("/proc/self/statm", "re");
	DIR *dir = opendir("/proc/self/fd");
	unsigned n_fds = 0;

	if (statm && fscanf(statm, "%llu %llu", &pages, &rss) == 2) {
		metrics_write_family(f, "process_resident_memory_bytes", "gauge",
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
		metrics_write_family(f, "process_open_fds", "gauge", "Number of open file descriptors");
		fprintf(f, "process_open_fds %u\n", n_fds > 0 ? n_fds - 1 : 0); /* minus opendir's */
	}
	metrics_write_family(f, "process_start_time_seconds", "gauge",
			     "Start time of the process since the unix epoch in seconds");
	fprintf(f, "process_start_time_seconds %" PRId64 "\n", d->started_at);
}

int routes_server_metrics(const struct api_request *req, struct api_response *resp)
{
	struct container **list = NULL;
	size_t n = 0, size = 0;
	char *text = NULL;
	FILE *f;
	int r;

	r = registry_list(req->d->registry, &list, &n);
	if (r < 0)
		return r;
	f = open_memstream(&text, &size);
	if (!f) {
		registry_list_free(list, n);
		return -ENOMEM;
	}
	metrics_write_family(f, "interceptd_containers", "gauge", "Registered containers");
	fprintf(f, "interceptd_containers %zu\n", n);
	write_listeners(f, list, n);
	write_syscall_families(f, req->d, list, n);
	metrics_write_counter(f, "interceptd_lxc_deadline_exceeded_total",
			      "LXC notifications answered CONTINUE because --lxc-deadline-ms passed",
			      atomic_load(&req->d->lxc_deadline_exceeded));
	metrics_write_counter(f, "interceptd_workers_replaced_total",
			      "Worker threads started in place of workers stuck in a caller's notification",
			      atomic_load(&req->d->workers_replaced));
	metrics_write_counter(f, "interceptd_watchdog_moves_total",
			      "Listeners moved to another worker because of a stuck one",
			      atomic_load(&req->d->watchdog_moves));
	metrics_write_api(f);
	write_process(f, req->d);
	registry_list_free(list, n);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	resp->text = text;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
