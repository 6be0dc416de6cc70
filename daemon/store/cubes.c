/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sets of 64-bit values written as unions of "cubes", (arg & mask) == value:
 * how daemon/store/policy_merge.c turns interceptd's MASKED_EQ conditions into
 * the MASKED_EQ comparisons that match exactly when none of them does. Pure.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "daemon/store/cubes.h"

/* Cubes while a complement is worked out: the intermediate sets are wider than the result (bpf: 150). */
#define MAX_CUBES_WORK 256

static bool cube_within(struct cube inner, struct cube outer)
{
	return (outer.mask & ~inner.mask) == 0 && ((inner.value ^ outer.value) & outer.mask) == 0;
}

/* Add @c to @set (room for @max) unless a wider cube holds it; drop the cubes @c holds. */
static int cube_add(struct cube *set, size_t *n, size_t max, struct cube c)
{
	size_t kept = 0;

	for (size_t i = 0; i < *n; i++)
		if (cube_within(c, set[i]))
			return 0;
	for (size_t i = 0; i < *n; i++)
		if (!cube_within(set[i], c))
			set[kept++] = set[i];
	if (kept >= max)
		return -E2BIG;
	set[kept++] = c;
	*n = kept;
	return 0;
}

/*
 * The complement of one cube is "some bit of its mask differs", one cube per
 * bit; intersecting those sets one cube at a time gives the whole complement.
 */
int cubes_complement(const struct cube *in, size_t n_in, struct cube *ret, size_t max,
		     size_t *ret_n)
{
	struct cube cur[MAX_CUBES_WORK] = { { 0, 0 } }, next[MAX_CUBES_WORK];
	size_t n_cur = 1, n_next;
	int r;

	for (size_t i = 0; i < n_in; i++) {
		n_next = 0;
		for (size_t j = 0; j < n_cur; j++)
			for (unsigned b = 0; b < 64; b++) {
				uint64_t bit = UINT64_C(1) << b, want = ~in[i].value & bit;

				if (!(in[i].mask & bit) ||
				    ((cur[j].mask & bit) && (cur[j].value & bit) != want))
					continue;
				r = cube_add(next, &n_next, MAX_CUBES_WORK,
					     (struct cube){ cur[j].mask | bit, cur[j].value | want });
				if (r < 0)
					return r;
			}
		memcpy(cur, next, n_next * sizeof(*next));
		n_cur = n_next;
	}
	if (n_cur > max)
		return -E2BIG;
	memcpy(ret, cur, n_cur * sizeof(*cur));
	*ret_n = n_cur;
	return 0;
}
