/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

struct daemon;

/*
 * --config-dir: when d->opts.config_dir is set, open it, apply it once (a
 * directory with bad files starts with the last good generation and reports
 * them) and watch it from a thread of its own. Returns 0 (also when there is
 * no config directory) or -errno, logged, when the directory cannot be
 * opened or watched. Main thread, after the store is open.
 */
int configdir_watch_start(struct daemon *d);

/*
 * Stop watching and free the config directory. Call after the API server
 * stopped (it reads d->configdir); does nothing after a start that failed or
 * none. Main thread.
 */
void configdir_watch_stop(struct daemon *d);
