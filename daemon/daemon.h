/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/metrics/metrics.h"
#include "daemon/store/registry.h"

struct api_server;
struct configdir;
struct configdir_watch;
struct engine;
struct event_bus;
struct store;

/* Kernel features detected at startup; reported by GET /1.0. */
struct kernel_features {
	bool seccomp_user_notif;
	bool notif_continue;
	bool sync_wake_up;   /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6+) */
	bool pidfd_thread;   /* PIDFD_THREAD (6.9+) */
	bool openat2;
	bool cgroup_v2_unified; /* a cgroup2 hierarchy is mounted */
	bool cgroup_hybrid;     /* v1 controllers plus a cgroup2 hierarchy */
};

/* Options from the command line. Strings are owned by argv or static storage. */
struct daemon_options {
	const char *api_socket;
	const char *lxc_socket;
	const char *oci_socket;
	const char *state_dir;
	const char *admin_group;
	const char *log_file;
	const char *metrics_address; /* NULL: no metrics listener */
	const char *config_dir; /* NULL: none */
	mode_t api_socket_mode;
	unsigned n_workers;
	unsigned lxc_deadline_ms; /* answer CONTINUE when a LXC notification takes longer */
};

/*
 * Everything the API thread, the intake code and workers share. Created by
 * main before any thread starts; fields are immutable afterwards unless noted.
 */
struct fdstore_fd;

struct daemon {
	struct daemon_options opts;
	struct registry *registry; /* owned: what is published, read by everyone */
	struct store *store;       /* owned: the only writer of the registry and the state */
	struct event_bus *events;  /* owned: GET /1.0/events (daemon/events/bus.h) */
	gid_t admin_gid;
	bool has_admin_gid;
	int64_t started_at;
	struct kernel_features features;

	struct engine *engine; /* owned; NULL while the engine is not running (engine/engine.c) */

	/* owned: --config-dir and its watcher; NULL without one (configdir_watch.c) */
	struct configdir *configdir;
	struct configdir_watch *configdir_watch;

	/* fds systemd handed back at startup (fdstore.h); the engine adopts and clears them */
	struct fdstore_fd *stored_fds;
	size_t n_stored_fds;

	/* notifications from containers that are not registered; rendered with
	 * container="_unregistered" (a name no container can have) */
	struct container_metrics unregistered;
	/* LXC notifications answered CONTINUE because the deadline had passed */
	atomic_uint_fast64_t lxc_deadline_exceeded;
	/* worker threads started in place of workers stuck in a caller's notification */
	atomic_uint_fast64_t workers_replaced;
	/* listeners moved between workers because of a stuck one */
	atomic_uint_fast64_t watchdog_moves;
	/* set at shutdown when stuck workers were left running: exit without cleanup */
	bool workers_left_behind;
	/* set at shutdown when a state write never came back from the disk: the same */
	bool writes_left_behind;
};
