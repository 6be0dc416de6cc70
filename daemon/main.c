/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptd entry point: options, startup order, the signal loop and
 * shutdown. This is the only file that calls exit(). Startup runs on the main
 * thread before any other thread exists: the fds systemd passed are taken,
 * signals are blocked (and later read with signalfd), the state is loaded,
 * the sockets are bound or taken from systemd's socket units, the API and the
 * engine threads start, and only then is READY=1 sent (Type=notify).
 */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "api/metrics_http.h"
#include "api/metrics_listener.h"
#include "api/server.h"
#include "daemon/events/bus.h"
#include "daemon/configdir_watch.h"
#include "daemon/fdstore.h"
#include "daemon/engine/engine.h"
#include "daemon/features.h"
#include "daemon/log.h"
#include "daemon/sockets.h"
#include "daemon/status.h"
#include "daemon/store/store.h"
#include "version.h"

static void help(void)
{
	printf("Usage: interceptd [OPTIONS]\n\n"
	       "Seccomp user-notification supervisor for unprivileged containers.\n\n"
	       "  --api-socket PATH       management API socket [/run/interceptd/api.sock]\n"
	       "  --api-socket-mode MODE  octal mode of the API socket [0660]\n"
	       "  --lxc-socket PATH       LXC seccomp proxy socket [/run/interceptd/lxc.sock]\n"
	       "  --oci-socket PATH       OCI listenerPath socket [/run/interceptd/oci.sock]\n"
	       "  --state-dir DIR         durable state [/var/lib/interceptd]\n"
	       "  --config-dir DIR        profiles declared as files, applied live [none]\n"
	       "  --workers N             worker threads [online CPUs]\n"
	       "  --admin-group NAME      group allowed to change the registry [none]\n"
	       "  --log-level LEVEL       error, warning, info or debug [info]\n"
	       "  --log-format FORMAT     text (\"<N>message\") or json (an object a line) [text]\n"
	       "  --log-file PATH         log to PATH instead of stderr (reopened on SIGHUP)\n"
	       "  --lxc-deadline-ms N     answer CONTINUE to LXC after N ms [5000]\n"
	       "  --metrics-address HOST:PORT\n"
	       "                          serve /1.0/metrics and /healthz read-only over TCP\n"
	       "                          (127.0.0.1:9464, [::1]:9464) [off]\n"
	       "  --help                  show this help\n"
	       "  --version               show the version\n");
}

enum {
	OPT_API_SOCKET = 0x100,
	OPT_API_SOCKET_MODE,
	OPT_LXC_SOCKET,
	OPT_OCI_SOCKET,
	OPT_STATE_DIR,
	OPT_WORKERS,
	OPT_ADMIN_GROUP,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_LOG_FILE,
	OPT_LXC_DEADLINE,
	OPT_METRICS_ADDRESS,
	OPT_CONFIG_DIR,
	OPT_HELP,
	OPT_VERSION,
};

static int parse_unsigned(const char *s, unsigned long max, unsigned long *ret, int base)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_option(struct daemon_options *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_API_SOCKET: o->api_socket = arg; return 0;
	case OPT_LXC_SOCKET: o->lxc_socket = arg; return 0;
	case OPT_OCI_SOCKET: o->oci_socket = arg; return 0;
	case OPT_STATE_DIR: o->state_dir = arg; return 0;
	case OPT_ADMIN_GROUP: o->admin_group = arg; return 0;
	case OPT_LOG_FILE: o->log_file = arg; return 0;
	case OPT_CONFIG_DIR: o->config_dir = arg; return 0;
	case OPT_API_SOCKET_MODE:
		if (parse_unsigned(arg, 0777, &v, 8) < 0)
			return log_error_errno(EINVAL, "Invalid --api-socket-mode '%s'", arg);
		o->api_socket_mode = (mode_t)v;
		return 0;
	case OPT_WORKERS:
		if (parse_unsigned(arg, 1024, &v, 10) < 0 || v == 0)
			return log_error_errno(EINVAL, "Invalid --workers '%s' (1-1024)", arg);
		o->n_workers = (unsigned)v;
		return 0;
	case OPT_LXC_DEADLINE:
		if (parse_unsigned(arg, 25000, &v, 10) < 0 || v == 0)
			return log_error_errno(EINVAL, "Invalid --lxc-deadline-ms '%s' (1-25000)", arg);
		o->lxc_deadline_ms = (unsigned)v;
		return 0;
	case OPT_METRICS_ADDRESS: {
		struct icd_error err = { 0 };
		struct sockaddr_storage sa;
		socklen_t len;

		/* refused here, before anything is bound or loaded */
		if (metrics_address_parse(arg, &sa, &len, &err) < 0)
			return log_error_errno(EINVAL, "Invalid --metrics-address: %s", err.msg);
		o->metrics_address = arg;
		return 0;
	}
	case OPT_LOG_LEVEL: {
		int level = log_level_from_string(arg);

		if (level < 0)
			return log_error_errno(EINVAL, "Invalid --log-level '%s'", arg);
		log_set_level(level);
		return 0;
	}
	case OPT_LOG_FORMAT: {
		int format = log_format_from_string(arg);

		if (format < 0)
			return log_error_errno(EINVAL, "Invalid --log-format '%s': expected text or json",
					       arg);
		log_set_format(format);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* Returns 1 to continue, 0 to exit successfully (help, version), < 0 on error. */
static int parse_argv(int argc, char **argv, struct daemon_options *o)
{
	static const struct option options[] = {
		{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
		{ "api-socket-mode", required_argument, NULL, OPT_API_SOCKET_MODE },
		{ "lxc-socket", required_argument, NULL, OPT_LXC_SOCKET },
		{ "oci-socket", required_argument, NULL, OPT_OCI_SOCKET },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "admin-group", required_argument, NULL, OPT_ADMIN_GROUP },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "log-file", required_argument, NULL, OPT_LOG_FILE },
		{ "lxc-deadline-ms", required_argument, NULL, OPT_LXC_DEADLINE },
		{ "metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS },
		{ "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{}
	};
	int c, r;

	*o = (struct daemon_options){
		.api_socket = "/run/interceptd/api.sock",
		.lxc_socket = "/run/interceptd/lxc.sock",
		.oci_socket = "/run/interceptd/oci.sock",
		.state_dir = "/var/lib/interceptd",
		.api_socket_mode = 0660,
		.lxc_deadline_ms = 5000,
	};
	while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		if (c == OPT_HELP) {
			help();
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("interceptd %s\n", INTERCEPTD_VERSION);
			return 0;
		}
		if (c == '?')
			return -EINVAL;
		r = parse_option(o, c, optarg);
		if (r < 0)
			return r;
	}
	if (optind < argc)
		return log_error_errno(EINVAL, "Unexpected argument '%s'", argv[optind]);
	if (o->n_workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o->n_workers = n > 0 && n <= 1024 ? (unsigned)n : 1;
	}
	return 1;
}

static int open_state(struct daemon *d)
{
	struct icd_error err = { 0 };
	int r = store_open(d->opts.state_dir, d->registry, &d->store, &err);

	if (r < 0)
		return log_error_errno(r, "Refusing to start: state in '%s': %s (files left untouched)",
				       d->opts.state_dir, err.msg);
	store_set_events(d->store, d->events);
	return 0;
}

static int resolve_admin_group(struct daemon *d)
{
	struct group *gr;

	if (!d->opts.admin_group)
		return 0;
	errno = 0;
	gr = getgrnam(d->opts.admin_group);
	if (!gr)
		return log_error_errno(errno ? errno : ENOENT, "Unknown --admin-group '%s'",
				       d->opts.admin_group);
	d->admin_gid = gr->gr_gid;
	d->has_admin_gid = true;
	return 0;
}

static int block_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	/* every thread inherits this mask, so only signalfd sees these signals */
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		return -EINVAL;
	return RET_NERRNO(signalfd(-1, &mask, SFD_CLOEXEC));
}

/* How often the signal loop looks whether systemd's STATUS= line changed. */
#define STATUS_INTERVAL_MS 2000

/* Returns when SIGINT or SIGTERM arrives; meanwhile keeps STATUS= current. */
static void signal_loop(struct daemon *d, int sfd, char status[static SERVICE_STATUS_MAX])
{
	for (;;) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		ssize_t n;

		if (poll(&p, 1, STATUS_INTERVAL_MS) == 0) {
			service_notify_status(d, status);
			continue;
		}
		n = read(sfd, &si, sizeof(si));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != sizeof(si))
			return;
		if (si.ssi_signo == SIGHUP) {
			int r = log_reopen();

			if (r < 0)
				log_warning_errno(r, "Cannot reopen log file, ignoring: %m");
			else
				log_info("Reopened logs on SIGHUP");
			continue;
		}
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
			log_info("Received %s, shutting down", strsignal((int)si.ssi_signo));
			return;
		}
	}
}

/* Sockets bound (or passed), state loaded, API and engine serving: tell whoever waits. */
static void announce_ready(struct daemon *d, char status[static SERVICE_STATUS_MAX])
{
	if (!fdstore_available())
		log_info("No $NOTIFY_SOCKET: OCI containers will lose their listeners if interceptd "
			 "restarts (run it under systemd with the unit in deploy/ to keep them)");
	log_info("interceptd %s ready: api=%s lxc=%s oci=%s state=%s workers=%u containers=%zu",
		 INTERCEPTD_VERSION, d->opts.api_socket, d->opts.lxc_socket, d->opts.oci_socket,
		 d->opts.state_dir, d->opts.n_workers, registry_count(d->registry));
	service_notify_ready(d, status);
}

static int run(struct daemon *d)
{
	struct daemon_sockets s;
	struct api_server *api = NULL;
	struct metrics_listener *metrics = NULL;
	_cleanup_close_ int sfd = -EBADF;
	char status[SERVICE_STATUS_MAX];
	int r;

	sfd = block_signals();
	if (sfd < 0)
		return log_error_errno(sfd, "Cannot set up signal handling: %m");
	r = resolve_admin_group(d);
	if (r < 0)
		return r;
	r = open_state(d);
	if (r < 0)
		return r;
	features_detect(&d->features);
	r = configdir_watch_start(d);
	if (r >= 0)
		r = daemon_sockets_open(d, &s);
	if (r < 0)
		goto out_sockets;
	if (d->opts.metrics_address) {
		r = metrics_listener_start(d, d->opts.metrics_address, &metrics);
		if (r < 0)
			goto out_sockets;
	}
	r = api_server_start(d, TAKE_FD(s.fd[DAEMON_SOCKET_API]), &api);
	if (r < 0) {
		log_error_errno(r, "Cannot start the API server: %m");
		goto out_sockets;
	}
	r = engine_start(d, TAKE_FD(s.fd[DAEMON_SOCKET_LXC]), TAKE_FD(s.fd[DAEMON_SOCKET_OCI]));
	if (r < 0) {
		log_error_errno(r, "Cannot start the notification engine: %m");
		goto out_api;
	}
	announce_ready(d, status);
	signal_loop(d, sfd, status);
	service_notify_stopping();
	engine_stop(d);
out_api:
	if (api_server_stop(api) == -ETIMEDOUT) {
		log_error("A state write has not come back from the disk: exiting without it");
		d->writes_left_behind = true;
	}
out_sockets:
	metrics_listener_stop(metrics);
	daemon_sockets_close(d, &s);
	configdir_watch_stop(d);
	return r;
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	int r;

	/* first, so that no fd passed by systemd is mistaken for a free one */
	if (fdstore_take(&d.stored_fds, &d.n_stored_fds) < 0)
		return 1;
	r = parse_argv(argc, argv, &d.opts);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (d.opts.log_file && (r = log_open_file(d.opts.log_file)) < 0) {
		log_error_errno(r, "Cannot open log file '%s': %m", d.opts.log_file);
		return 1;
	}
	d.registry = registry_new();
	d.events = event_bus_new();
	if (!d.registry || !d.events)
		return 1;
	d.started_at = (int64_t)time(NULL);
	r = run(&d);
	if (d.workers_left_behind || d.writes_left_behind) {
		/* threads blocked in a caller's page or in a state write may still touch
		 * the registry and the listeners: free nothing, and let the process's end
		 * kill them, skipping atexit handlers that would wait for them. A read held
		 * by the caller's FUSE server that the pool could not abort (its caller
		 * gone, say) is not ended even by SIGKILL and would keep the process, and
		 * with it every fd: let go of the listeners now, as an ended daemon does */
		(void)close_range(3, ~0U, 0);
		_exit(r < 0 ? 1 : 0);
	}
	for (size_t i = 0; i < d.n_stored_fds; i++) /* the engine never started */
		close_nointr(d.stored_fds[i].fd);
	free(d.stored_fds);
	store_free(d.store);
	registry_free(d.registry);
	event_bus_free(d.events);
	return r < 0 ? 1 : 0;
}
