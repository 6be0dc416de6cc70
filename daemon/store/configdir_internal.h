/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdint.h>

#include "daemon/store/configdir.h"
#include "daemon/store/store_internal.h"

/* The config directory's insides, shared by configdir.c and configdir_apply.c. */
struct configdir {
	char *path;       /* owned: absolute */
	int dir_fd;       /* owned */
	int state_dir_fd; /* owned: where OWNED_FILE lives */
	struct store *store; /* not owned */

	/* guards the fields below, which the API thread reads; the reconciling thread writes */
	pthread_mutex_t lock;
	struct configdir_set applied; /* owned: the generation applied last */
	char **owned;   /* owned: the profiles files own: applied ones and kept ones */
	char **kept;    /* owned: profiles whose file went away, kept while in use */
	uint64_t generation;            /* generations applied so far */
	struct configdir_errors errors; /* why the last reading was refused; empty when applied */
};

/* Write @names durably as the profiles files own. */
int configdir_save_owned(struct configdir *cd, char *const *names);

static inline void configdir_freep(struct configdir **cd)
{
	configdir_free(*cd);
}
