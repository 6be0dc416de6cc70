/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0, GET /1.0/metadata/configuration and GET /1.0/metrics (rendered by
 * daemon/metrics/render.c). Read-only; run on the MHD thread.
 */
#include <string.h>
#include <sys/utsname.h>

#include "api/json.h"
#include "api/router.h"
#include "daemon/fdstore.h"
#include "daemon/metrics/render.h"
#include "daemon/store/configdir.h"
#include "version.h"

/*
 * What clients may rely on: only what is implemented is listed.
 */
static const char *const api_extensions[] = {
	"container_syscall_intercept",
	"container_syscall_intercept_sched_setscheduler",
	"container_syscall_intercept_sysinfo",
	"container_syscall_intercept_mount",
	"container_syscall_intercept_mount_fuse",
	"container_syscall_intercept_hugetlbfs",
	"container_syscall_intercept_bpf_devices",
	"container_state_restart_required",
	"container_seccomp_lxc_oci",
	"container_ephemeral",
	"container_seccomp_oci_merge",
	"config_dir",
	"etag_if_match_star",
	"events",
	"metrics",
	"oci_listener_fd_store",
	"profiles",
};

static json_t *features_json(const struct kernel_features *f)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "seccomp_user_notif",
			 f->seccomp_user_notif, "notif_continue", f->notif_continue,
			 "sync_wake_up", f->sync_wake_up, "pidfd_thread", f->pidfd_thread,
			 "openat2", f->openat2, "cgroup_v2_unified", f->cgroup_v2_unified,
			 "cgroup_hybrid", f->cgroup_hybrid);
}

/* The event streams open now, and how many were dropped for falling behind. */
static json_t *events_json(struct event_bus *b)
{
	unsigned n = 0;
	uint64_t n_dropped = 0;

	if (b)
		event_bus_counts(b, &n, &n_dropped);
	return json_pack("{s:i, s:I}", "streams", (int)n, "dropped", (json_int_t)n_dropped);
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
	if (resp->metadata)
		json_object_set_new(resp->metadata, "events", events_json(req->d->events));
	/* what --config-dir applied and why it refused the last change, if it did */
	if (resp->metadata && req->d->configdir &&
	    json_object_set_new(resp->metadata, "config_dir",
				configdir_status_json(req->d->configdir)) < 0)
		json_decref(TAKE_PTR(resp->metadata));
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

int routes_server_metrics(const struct api_request *req, struct api_response *resp)
{
	char *text = NULL;
	int r = metrics_render(req->d, &text);

	if (r < 0)
		return r;
	resp->text = text;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
