/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/error.h"
#include "daemon/registry.h"

#define STATE_FILE_NAME "state.json"

/*
 * Load STATE_DIR/state.json into @r (which must be empty). A missing file is an
 * empty registry. An unreadable or invalid file fails with a message in @reterr
 * and is left untouched. Leftover temporary files are removed.
 */
int state_load(int state_dir_fd, struct registry *r, struct icd_error *reterr);

/*
 * Write the whole registry durably: temporary file, fsync, rename, fsync of
 * the directory. Callers serialize writes (the API write lock).
 */
int state_save(int state_dir_fd, struct registry *r);
