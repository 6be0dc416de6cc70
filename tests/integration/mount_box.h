/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/store/config.h"
#include "tests/integration/userns_child.h"

/*
 * A user-namespace "container" for the mount tests (test_mount_notify.c):
 * one child that is the init of a pid namespace owned by its user namespace
 * (0 -> BOX_HOST_ID, 65536 ids: userns_child.h), with its own mount namespace
 * on a scratch root (proc mounted), and a NOTIFY filter on every mount(2). It runs each
 * command from the test in a new process; the test is the supervisor and
 * answers the notifications with handle_mount() and the config it holds.
 */

#define BOX_HOST_ID USERNS_CHILD_HOST_ID

enum box_op {
	BOX_MOUNT,       /* mount(source, target, type, flags, data) as the container's root */
	BOX_MOUNT_NOCAP, /* the same without CAP_SYS_ADMIN */
	BOX_MOUNT_FEWER_CAPS, /* drop_bounding and drop_permitted first, report the caps left */
	BOX_UMOUNT,      /* target */
	BOX_MKDIR,       /* target */
	BOX_CREATE,      /* target: an empty file */
	BOX_SYMLINK,     /* target -> source */
	BOX_STAT,        /* target: owner and mode */
	BOX_OPEN,        /* target, read-only */
};

/* What to pass for a pointer argument of mount(2). */
enum box_ptr {
	BOX_PTR_STRING, /* the string in the command ("" too) */
	BOX_PTR_NULL,
	BOX_PTR_BAD,    /* an unmapped address */
	BOX_PTR_MIB,    /* data: 1 MiB without a NUL */
};

struct box_cmd {
	enum box_op op;
	char source[256], target[256], type[32], data[512];
	uint64_t flags;
	enum box_ptr source_ptr, target_ptr, data_ptr;
	/* BOX_MOUNT_FEWER_CAPS: capabilities (bit masks) to drop */
	uint64_t drop_bounding;  /* from the bounding set, and so from every other */
	uint64_t drop_permitted; /* from the permitted, effective and inheritable sets only */
};

/* A process's capability sets, as /proc/PID/status shows them. */
struct box_caps {
	uint64_t eff, prm, inh, bnd, amb;
};

struct box_result {
	int ret, err;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct box_caps caps; /* BOX_MOUNT_FEWER_CAPS: the caller's, as it mounted */
};

struct box {
	char tmp[64], root[96];
	pid_t child;      /* made the user and pid namespaces, waits for the init */
	pid_t init;       /* pid 1 of the box */
	int sock;         /* commands in, results out */
	int notify_fd;
	struct config *cfg; /* what handle_mount() sees; replace with box_config() */
	uint32_t last_flags; /* of the last answer; UINT32_MAX when nothing was trapped */
	int last_r;          /* what handle_mount() returned */
	uint64_t max_handle_ns; /* the longest handle_mount() of the last box_run() */
};

/*
 * Start the box below a fresh /tmp directory. @prepare_root runs on the host
 * once the root directory exists, before the box starts. 0, or -1.
 */
int box_start(struct box *b, int (*prepare_root)(const char *root));

/* Kill the box and remove its directory. */
void box_stop(struct box *b);

/* Set the config handle_mount() sees from now on (key = value pairs, NULL-terminated). */
void box_config(struct box *b, ...);

/* Run @c in the box, answering its notifications. false when the link broke. */
bool box_run(struct box *b, const struct box_cmd *c, struct box_result *res);

/* A BOX_MOUNT command; NULL @source or @data passes NULL, NULL @type passes "". */
struct box_cmd box_mount_cmd(const char *source, const char *target, const char *type,
			     uint64_t flags, const char *data);

/* The box's mount at @target: "TYPE PER-MOUNT-OPTIONS SUPER-OPTIONS", "" when none. */
void box_mount_options(const struct box *b, const char *target, char *buf, size_t size);

/* ---- for the tests' setup, on the host ---- */

/* Run a shell command made from @fmt. 0, or -1 when it failed. */
int box_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Can the mount tests run here (root, user namespaces, mkfs.ext4, losetup,
 * $MOUNT_FAKE_FUSE)? If not, print the TAP plan that skips them all.
 */
bool box_tests_can_run(const char **ret_fake_fuse);

/* Write @text to the existing file @path. 0, or -1. */
int box_write_text(const char *path, const char *text);

/* The capability sets in @status_path (a /proc/PID/status). 0, or -1 when one is missing. */
int box_read_caps(const char *status_path, struct box_caps *ret);

/* The start of the file at @path, NUL-terminated ("" when unreadable). */
void box_read_text(const char *path, char *buf, size_t size);

/* Attach @file to a free loop device: its path into @loop, its number into @ret_rdev. */
int box_attach_loop(const char *file, char *loop, size_t size, dev_t *ret_rdev);

#define BOX_IMAGES_MAX 4

/* The tests' image files, in a directory of the host, on loop devices. */
struct box_images {
	char dir[64];                      /* "" until box_images_init() */
	char loop[BOX_IMAGES_MAX][32];     /* /dev/loopN of image i, "" when not attached */
	dev_t rdev[BOX_IMAGES_MAX];
};

/* Make im->dir, a new /tmp/interceptd-@name.XXXXXX. 0, or -1. */
int box_images_init(struct box_images *im, const char *name);

/* Attach im->dir/@file as image @i (< BOX_IMAGES_MAX). 0, or -1. */
int box_images_attach(struct box_images *im, int i, const char *file);

/* Detach the images and remove im->dir with everything below it. 0, or -1. */
int box_images_remove(struct box_images *im);

/* Move the box's processes, its first child and then its init, into the v1 cgroup @cg. */
int box_join_cgroup(const struct box *b, const char *cg);
