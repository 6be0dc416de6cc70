/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the store's unit tests: one change through the writer threads of the
 * test's store S, waited for. Include after <cmocka.h> and after declaring
 * `static struct store *S`.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "daemon/store/store.h"

/*
 * Change (@is_profile: profile) @name by @op with @cfg (taken over; NULL for
 * a delete), applying profile @profile (NULL: none). Returns the result.
 */
static int change(bool is_profile, enum store_op op, const char *name, struct config *cfg,
		  const char *profile)
{
	_cleanup_(store_change_freep) struct store_change *ch =
		is_profile ? store_change_new_profile(op, name) : store_change_new(op, name);

	assert_non_null(ch);
	ch->cfg = cfg;
	if (profile) {
		ch->profiles = calloc(2, sizeof(char *));
		assert_non_null(ch->profiles);
		ch->profiles[0] = strdup(profile);
	}
	return store_apply(S, ch);
}
