/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The config directory's watcher (configdir_watch.h): one thread waiting on
 * inotify for the directory's changes, letting a burst settle, then
 * reconciling (daemon/store/configdir.h). Start and stop run on the main
 * thread; the watcher is the only thread that reconciles after the start.
 *
 * What it watches for: files written in place (IN_CLOSE_WRITE), created,
 * removed or renamed in (a `kubectl cp`, an editor's rename), and a
 * Kubernetes ConfigMap's update, which writes a new "..2026_..." directory,
 * then renames a new "..data" symlink over the old one (IN_MOVED_TO): the
 * files, links through "..data", change all at once.
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "daemon/configdir_watch.h"
#include "daemon/clock.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/store/configdir.h"

/* a burst of events is over when none came for this long */
#define SETTLE_MS 100
/* but a directory that never stops changing is read at least this often */
#define SETTLE_MAX_MS 1000
/* how often a profile kept in use after its file went away is tried again */
#define KEPT_RETRY_MS 30000

#define WATCH_EVENTS                                                                               \
	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct configdir_watch {
	struct configdir *cd; /* not owned */
	int inotify_fd;       /* owned */
	int stop_fd;          /* owned: eventfd */
	pthread_t thread;
	bool has_thread;
};

/* Read every pending inotify event (they only say "look again"). */
static void drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Wait up to @timeout_ms: 1 on an event, 0 on the timeout, -ECANCELED when stopping. */
static int wait_event(struct configdir_watch *w, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = w->inotify_fd, .events = POLLIN },
			       { .fd = w->stop_fd, .events = POLLIN } };
	int r = poll(p, 2, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents)
		return -ECANCELED;
	if (p[0].revents) {
		drain(w->inotify_fd);
		return 1;
	}
	return 0;
}

/*
 * After a first event: wait until none came for SETTLE_MS, or SETTLE_MAX_MS
 * passed (by the clock: a burst wakes us many times a millisecond).
 * -ECANCELED when stopping.
 */
static int settle(struct configdir_watch *w)
{
	int64_t deadline = now_ms() + SETTLE_MAX_MS;

	for (int64_t left = SETTLE_MAX_MS; left > 0; left = deadline - now_ms()) {
		int r = wait_event(w, (int)(left < SETTLE_MS ? left : SETTLE_MS));

		if (r <= 0)
			return r;
	}
	return 0;
}

static void *watch_main(void *arg)
{
	struct configdir_watch *w = arg;

	for (;;) {
		int timeout = configdir_has_kept(w->cd) ? KEPT_RETRY_MS : -1;
		int r = wait_event(w, timeout);

		if (r > 0)
			r = settle(w);
		if (r == -ECANCELED)
			break;
		if (r < 0) {
			log_error_errno(r, "Config directory: cannot wait for changes, no longer "
					"watching: %m");
			break;
		}
		(void)configdir_reconcile(w->cd); /* logs its outcome */
	}
	return NULL;
}

static struct configdir_watch *watch_free(struct configdir_watch *w)
{
	if (!w)
		return NULL;
	if (w->has_thread) {
		(void)eventfd_write(w->stop_fd, 1);
		pthread_join(w->thread, NULL);
	}
	close_nointr(w->inotify_fd);
	close_nointr(w->stop_fd);
	free(w);
	return NULL;
}

static int watch_new(struct configdir *cd, struct configdir_watch **ret)
{
	struct configdir_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->cd = cd;
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->inotify_fd < 0 || w->stop_fd < 0) {
		r = -errno;
		watch_free(w);
		return r;
	}
	/* by path: the inotify API has no fd form; cd's path is the realpath it opened */
	if (inotify_add_watch(w->inotify_fd, configdir_path(cd), WATCH_EVENTS) < 0) {
		r = -errno;
		watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int configdir_watch_start(struct daemon *d)
{
	struct icd_error err = { 0 };
	int r;

	if (!d->opts.config_dir)
		return 0;
	r = configdir_new(d->opts.config_dir, d->store, &d->configdir, &err);
	if (r < 0)
		return log_error_errno(r, "Cannot use --config-dir: %s", err.msg);
	/* watch first: a change made while the first reading runs is not missed */
	r = watch_new(d->configdir, &d->configdir_watch);
	if (r < 0)
		return log_error_errno(r, "Cannot watch --config-dir '%s': %m",
				       configdir_path(d->configdir));
	(void)configdir_reconcile(d->configdir); /* logs; bad files leave the state as it was */
	r = -pthread_create(&d->configdir_watch->thread, NULL, watch_main, d->configdir_watch);
	if (r < 0)
		return log_error_errno(r, "Cannot start the config directory watcher: %m");
	d->configdir_watch->has_thread = true;
	return 0;
}

void configdir_watch_stop(struct daemon *d)
{
	if (d->writes_left_behind)
		return; /* a reconcile may be waiting for that write: leave it all to exit */
	d->configdir_watch = watch_free(d->configdir_watch);
	d->configdir = configdir_free(d->configdir);
}
