/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cmocka fixture: a fresh directory under /tmp, open as dir_fd, removed
 * with everything in it afterwards. Include after <cmocka.h>.
 */
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	int dir_fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/icd-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dir_fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->dir_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}
