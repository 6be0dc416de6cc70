/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "daemon/store/config.h"
#include "handlers/idmap.h"
#include "handlers/target.h"

/*
 * mount(2) emulation, shared by handlers/mount*.c. The pure half
 * (mount_rules.c: flags, data options, the decision) has no system calls and
 * is covered by tests/unit/test_mount.c; the acting half builds the mount
 * with the new mount API (mount_fs.c) or runs a FUSE binary inside the
 * container (mount_fuse.c).
 */

#define MOUNT_DATA_MAX 4096   /* one page, as the kernel's copy_mount_options() */
#define MOUNT_PARAM_MAX 255   /* fsconfig() takes keys and values of at most 255 characters */
#define MOUNT_OPTS_MAX 64     /* options in one data string */
#define MOUNT_FSTYPE_MAX 64   /* longer types are in no list: the kernel decides */
#define MOUNT_HELPER_TIMEOUT_MS 3000 /* within LXC's default --lxc-deadline-ms (5 s) */

/*
 * The staging mount namespace: owned by the initial user namespace and
 * holding one empty read-only tmpfs, built on first use. Its nsfs fd, or a
 * negative errno when it could not be built (then the caller's namespace is
 * copied instead). Thread-safe.
 */
int mount_stage_ns(void);

/* ---- flags ---- */

/* Drop MS_MGC_VAL and the whole magic half of @flags, as path_mount() does. */
uint64_t mount_flags_strip_magic(uint64_t flags);

/*
 * Would path_mount() create a new superblock for @flags (magic stripped)?
 * Not for remount, bind, propagation changes or move, in its order.
 */
bool mount_creates_superblock(uint64_t flags);

/* Superblock flags, set with FSCONFIG_SET_FLAG; mount_sb_flag_name() gives the key. */
enum mount_sb_flag {
	MOUNT_SB_RDONLY = 1u << 0,
	MOUNT_SB_SYNC = 1u << 1,
	MOUNT_SB_DIRSYNC = 1u << 2,
	MOUNT_SB_LAZYTIME = 1u << 3,
	MOUNT_SB_ALL = (1u << 4) - 1,
};

struct mount_attrs {
	unsigned attr; /* MOUNT_ATTR_* for fsmount() */
	unsigned sb;   /* enum mount_sb_flag bits */
};

/*
 * Translate mount(2) flags (magic stripped) for the new mount API: read-only,
 * sync, dirsync and lazytime go to the superblock (read-only to the mount as
 * well), nosuid, nodev, noexec, nosymfollow and the atime mode to the mount.
 * nodev is always added, nosuid unless @is_shift. Flags the kernel ignores
 * or keeps for itself are dropped (MS_SILENT, MS_REC, MS_POSIXACL,
 * MS_MANDLOCK, MS_I_VERSION, MS_KERNMOUNT, ...). 0, or -EINVAL for MS_NOUSER.
 */
int mount_flags_translate(uint64_t flags, bool is_shift, struct mount_attrs *ret);

/* "ro", "sync", "dirsync" or "lazytime" for one enum mount_sb_flag bit; NULL otherwise. */
const char *mount_sb_flag_name(unsigned bit);

/* ---- data options ---- */

struct mount_opt {
	const char *key;
	const char *value; /* NULL: a flag (FSCONFIG_SET_FLAG) */
};

struct mount_opts {
	size_t n;
	struct mount_opt opt[MOUNT_OPTS_MAX];
};

/*
 * Split a data string in place at commas into key[=value] options, as the
 * kernel splits mount(2) data; empty ones are skipped. Keys that would make
 * the host open a path or device of its own choosing are refused: "source"
 * (the kernel's "multiple sources": -EINVAL), and ext4's journal_path and
 * journal_dev, xfs's logdev and rtdev, btrfs's device (-EPERM); so is
 * errors=panic (-EPERM: an error provoked on a crafted image would panic the
 * host). A key or value over MOUNT_PARAM_MAX characters or more than
 * MOUNT_OPTS_MAX options:
 * -EINVAL. @data may be NULL (no options).
 */
int mount_data_parse(char *data, struct mount_opts *ret);

/*
 * Will the superblock be read-only? MS_RDONLY (MOUNT_SB_RDONLY in @a), then
 * each "ro" and "rw" of @o in order: the kernel takes those keys as
 * superblock flags whatever their value. The source device must be writable
 * by the caller unless it is. Pure.
 */
bool mount_sb_is_rdonly(const struct mount_attrs *a, const struct mount_opts *o);

/* Where a hugetlbfs option's translated id is written (owned by the caller). */
struct mount_id_text {
	char uid[12];
	char gid[12];
};

/*
 * hugetlbfs: the mount's root must belong to the caller. Given uid=/gid=
 * values are ids inside the container and become host ids through @uids and
 * @gids; absent ones become @host_uid/@host_gid (the caller's). Values point
 * into @text afterwards. 0, -EPERM for min_size (it reserves huge pages of
 * the host's pool when the superblock is made, charged to no cgroup), or
 * -EINVAL for a value that is no number or is not mapped, or when there is no
 * room for the options to add.
 */
int mount_hugetlbfs_ids(struct mount_opts *o, const struct idmap *uids, const struct idmap *gids,
			uint32_t host_uid, uint32_t host_gid, struct mount_id_text *text);

/*
 * The "-o" argument for a FUSE binary: the flags libfuse understands (ro,
 * nosuid, nodev, noexec, sync, dirsync, noatime), then @data. 0 or
 * -EINVAL when it does not fit in @size (the result may be "").
 */
int mount_fuse_options(uint64_t flags, const char *data, char *buf, size_t size);

/*
 * The per-mount restrictions of @flags that libfuse has no "-o" option for
 * (it refuses one it does not know): MOUNT_ATTR_NOSYMFOLLOW and
 * MOUNT_ATTR_NODIRATIME, set on the binary's mount once it appears. Pure.
 */
unsigned mount_fuse_attrs(uint64_t flags);

/*
 * Parse /proc/PID/limits (a header line, then one line per resource in the
 * kernel's order: the name padded to 25 columns, the soft and the hard limit,
 * each a number or "unlimited") into @ret. 0 or -EINVAL. Pure.
 */
int mount_limits_parse(const char *text, struct rlimit ret[RLIM_NLIMITS]);

/* ---- the decision ---- */

enum mount_route {
	MOUNT_ROUTE_NONE,   /* the kernel decides (CONTINUE) */
	MOUNT_ROUTE_DIRECT, /* mount.allowed: a superblock made by the host */
	MOUNT_ROUTE_FUSE,   /* mount.fuse: the FUSE binary, inside the container */
};

/* The route for @fstype (NULL: unreadable or none) under @cfg. */
enum mount_route mount_route(const struct config *cfg, const char *fstype);

struct mount_caller {
	enum target_userns userns; /* where its user namespace sits */
	uint64_t cap_eff;
	bool is_mntns_owned; /* its mount namespace is owned by its user namespace */
};

/*
 * CONTINUE for MOUNT_ROUTE_NONE, and unless the caller holds CAP_SYS_ADMIN in
 * the container's initial user namespace and its mount namespace is owned by
 * it. Then, in the kernel's order, the errors reading the source, the data and
 * the target (0 when fine) as ERRNO; else EMULATE.
 */
struct decision mount_decide(enum mount_route route, const struct mount_caller *c, int source_r,
			     int data_r, int target_r);

/* ---- acting ---- */

/* What the handler read and decided; strings live in the handler's buffers. */
struct mount_request {
	uint64_t flags;          /* magic stripped */
	const char *fstype;
	const char *source;      /* NULL when none was given */
	const char *target;
	char *data;              /* NUL-terminated, at most a page; NULL when none was given */
	bool is_shift;           /* mount.shift */
	const char *fuse_binary; /* MOUNT_ROUTE_FUSE */
};

/*
 * Make the superblock in a helper placed in the caller's cgroups, from the
 * initial user namespace, and attach it at the target inside the caller's
 * mount namespace. Returns the caller's result: 0 or the kernel's negative
 * errno (never an internal code that would turn into CONTINUE).
 */
int mount_fs_act(const struct notif_ctx *ctx, const struct target *t,
		 const struct mount_request *m);

/*
 * Run the FUSE binary inside the container, as the caller, and wait until its
 * mount appears. Returns the caller's result: 0, -ENODEV (no binary),
 * -ETIMEDOUT (no mount within MOUNT_HELPER_TIMEOUT_MS; nothing is left), -EIO
 * (it failed), or another negative errno.
 */
int mount_fuse_act(const struct notif_ctx *ctx, const struct target *t,
		   const struct mount_request *m);
