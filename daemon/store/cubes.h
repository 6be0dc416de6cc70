/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* (arg & mask) == value, the "cube" of the bits in mask. */
struct cube {
	uint64_t mask, value;
};

/*
 * The complement of the union of the @n_in cubes of @in, as a union of at
 * most @max cubes written to @ret. Returns 0 with their number in *ret_n, or
 * -E2BIG.
 */
int cubes_complement(const struct cube *in, size_t n_in, struct cube *ret, size_t max,
		     size_t *ret_n);
