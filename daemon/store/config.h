/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/error.h"

/* The ten security.syscalls.intercept.* keys, in documentation order. */
enum config_key {
	CONFIG_MKNOD,
	CONFIG_SETXATTR,
	CONFIG_SCHED_SETSCHEDULER,
	CONFIG_SYSINFO,
	CONFIG_MOUNT,
	CONFIG_MOUNT_ALLOWED,
	CONFIG_MOUNT_FUSE,
	CONFIG_MOUNT_SHIFT,
	CONFIG_BPF,
	CONFIG_BPF_DEVICES,
	CONFIG_KEY_COUNT,
};

enum config_type {
	CONFIG_TYPE_BOOL,
	CONFIG_TYPE_FS_LIST,  /* comma list of filesystem types */
	CONFIG_TYPE_FUSE_MAP, /* comma list of fstype=binary */
};

struct config_key_info {
	const char *name;
	enum config_type type;
	const char *default_value;
	/* true when a change applies to the next notification of a running container */
	bool is_live;
	/* the syscalls the container's filter must trap for this key; NULL if none */
	const char *const *syscalls;
	const char *description;
};

extern const struct config_key_info config_keys[CONFIG_KEY_COUNT];

#define CONFIG_KEY_PREFIX "security.syscalls.intercept."

/* Returns the key's index, or -ENOENT for a name that is not one of the ten keys. */
int config_key_lookup(const char *name);

/*
 * Parse and normalize one value for @key: booleans become "true"/"false",
 * lists are trimmed and re-joined with ",". An empty string normalizes to NULL
 * (the key is unset). On success *ret_normalized is a new malloc'd string or
 * NULL. Errors name the key and the value in @reterr.
 */
int config_normalize_value(enum config_key key, const char *value, char **ret_normalized,
			   struct icd_error *reterr);

struct fuse_entry {
	char *fstype; /* owned */
	char *binary; /* owned */
};

/*
 * An immutable snapshot of one container's intercept configuration, as plain C.
 * Shared between the API thread and workers through its reference count.
 */
struct config {
	atomic_uint n_ref;
	char *values[CONFIG_KEY_COUNT]; /* owned, normalized; NULL when unset */
	bool enabled[CONFIG_KEY_COUNT]; /* boolean keys only */
	char **mount_allowed;           /* owned */
	size_t n_mount_allowed;
	struct fuse_entry *mount_fuse; /* owned */
	size_t n_mount_fuse;
};

/*
 * Build a snapshot from normalized or raw values (indexed by enum config_key,
 * NULL = unset). Every value is normalized and the cross-key rules are checked.
 * On success *ret_cfg holds a new reference.
 */
int config_new(const char *const values[CONFIG_KEY_COUNT], struct config **ret_cfg,
	       struct icd_error *reterr);

/* An empty configuration (every key unset). Returns NULL on ENOMEM. */
struct config *config_new_empty(void);

struct config *config_ref(struct config *cfg);
struct config *config_unref(struct config *cfg);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_unref)

static inline bool config_enabled(const struct config *cfg, enum config_key key)
{
	return cfg && cfg->enabled[key];
}

/*
 * Is @fstype in mount.allowed and a type interceptd emulates? A refused type
 * stored by an older version loads, but is never emulated.
 */
bool config_mount_fs_allowed(const struct config *cfg, const char *fstype);

/* Why mount.allowed may not hold @fstype (static text), or NULL when it may. */
const char *config_mount_type_refusal(const char *fstype);

/* -EINVAL naming the first refused type of mount.allowed, with the reason; else 0. */
int config_check_mount_allowed(const struct config *cfg, struct icd_error *reterr);
/* The FUSE binary configured for @fstype, or NULL. */
const char *config_mount_fuse_binary(const struct config *cfg, const char *fstype);

/* Bit (1 << key) set for each key whose syscalls this config makes the filter trap. */
unsigned config_trapped_keys(const struct config *cfg);
