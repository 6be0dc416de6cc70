/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure half of mount emulation: how mount(2) flags and data become
 * new-mount-API calls, hugetlbfs ids, the options handed to a FUSE binary,
 * and the decision. No system calls, no state; any thread.
 */
#include <linux/capability.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "daemon/macro.h"
#include "handlers/mount.h"

/* path_mount()'s dispatch: any of these means "not a new superblock". */
#define MS_NOT_NEW_SB (MS_REMOUNT | MS_BIND | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE | MS_MOVE)
/* The kernel's MS_NOUSER is the int (1<<31): tested against an unsigned long, bits 31-63. */
#define MS_NOUSER_BITS (~(uint64_t)0 << 31)

uint64_t mount_flags_strip_magic(uint64_t flags)
{
	if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
		flags &= ~(uint64_t)MS_MGC_MSK;
	return flags;
}

bool mount_creates_superblock(uint64_t flags)
{
	return !(flags & MS_NOT_NEW_SB);
}

static unsigned atime_attr(uint64_t flags)
{
	/* path_mount(): relatime unless noatime; strictatime clears both */
	if (flags & MS_STRICTATIME)
		return MOUNT_ATTR_STRICTATIME;
	if (flags & MS_NOATIME)
		return MOUNT_ATTR_NOATIME;
	return MOUNT_ATTR_RELATIME;
}

int mount_flags_translate(uint64_t flags, bool is_shift, struct mount_attrs *ret)
{
	static const struct {
		uint64_t ms;
		unsigned attr, sb;
	} map[] = {
		{ MS_RDONLY, MOUNT_ATTR_RDONLY, MOUNT_SB_RDONLY },
		{ MS_NOSUID, MOUNT_ATTR_NOSUID, 0 },
		{ MS_NODEV, MOUNT_ATTR_NODEV, 0 },
		{ MS_NOEXEC, MOUNT_ATTR_NOEXEC, 0 },
		{ MS_NODIRATIME, MOUNT_ATTR_NODIRATIME, 0 },
		{ MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW, 0 },
		{ MS_SYNCHRONOUS, 0, MOUNT_SB_SYNC },
		{ MS_DIRSYNC, 0, MOUNT_SB_DIRSYNC },
		{ MS_LAZYTIME, 0, MOUNT_SB_LAZYTIME },
	};
	/* nodev always: device nodes on the image would open with the host's rights */
	struct mount_attrs a = { .attr = atime_attr(flags) | MOUNT_ATTR_NODEV };

	if (flags & MS_NOUSER_BITS)
		return -EINVAL;
	/*
	 * Everything else is dropped: MS_SILENT, MS_REC, MS_KERNMOUNT and
	 * MS_ACTIVE are ignored by the kernel here, MS_MANDLOCK has meant nothing
	 * since 5.15, MS_POSIXACL is the filesystem's own business, and
	 * MS_I_VERSION is always on where supported (fsconfig refuses "iversion").
	 */
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (flags & map[i].ms) {
			a.attr |= map[i].attr;
			a.sb |= map[i].sb;
		}
	/* unshifted, a setuid file's owner is no id of the container: host root for uid 0 */
	if (!is_shift)
		a.attr |= MOUNT_ATTR_NOSUID;
	*ret = a;
	return 0;
}

const char *mount_sb_flag_name(unsigned bit)
{
	switch (bit) {
	case MOUNT_SB_RDONLY:
		return "ro";
	case MOUNT_SB_SYNC:
		return "sync";
	case MOUNT_SB_DIRSYNC:
		return "dirsync";
	case MOUNT_SB_LAZYTIME:
		return "lazytime";
	default:
		return NULL;
	}
}

/*
 * Options the host must not take from a container: values naming a path or
 * device the host would open, and errors=panic (ext2/3/4, fat, exfat, f2fs),
 * with which an error the container provokes on its own image panics the host.
 */
static int check_opt(const char *key, const char *value)
{
	static const char *const host_paths[] = { "journal_path", "journal_dev", "logdev", "rtdev",
						  "device" };

	/* the mount's source is ours; a second one is the kernel's "multiple sources" */
	if (strcmp(key, "source") == 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(host_paths); i++)
		if (strcmp(key, host_paths[i]) == 0)
			return -EPERM;
	if (strcmp(key, "errors") == 0 && value && strcmp(value, "panic") == 0)
		return -EPERM;
	return 0;
}

static int add_opt(struct mount_opts *o, char *opt)
{
	char *eq = strchr(opt, '=');
	int r;

	if (eq)
		*eq = '\0';
	if (opt[0] == '\0' || strlen(opt) > MOUNT_PARAM_MAX ||
	    (eq && strlen(eq + 1) > MOUNT_PARAM_MAX) || o->n == MOUNT_OPTS_MAX)
		return -EINVAL;
	r = check_opt(opt, eq ? eq + 1 : NULL);
	if (r < 0)
		return r;
	o->opt[o->n++] = (struct mount_opt){ .key = opt, .value = eq ? eq + 1 : NULL };
	return 0;
}

int mount_data_parse(char *data, struct mount_opts *ret)
{
	char *next = data;

	ret->n = 0;
	while (next) {
		char *opt = next;
		int r;

		next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (opt[0] == '\0')
			continue;
		r = add_opt(ret, opt);
		if (r < 0)
			return r;
	}
	return 0;
}

bool mount_sb_is_rdonly(const struct mount_attrs *a, const struct mount_opts *o)
{
	bool is_rdonly = a->sb & MOUNT_SB_RDONLY;

	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->opt[i].key, "ro") == 0)
			is_rdonly = true;
		else if (strcmp(o->opt[i].key, "rw") == 0)
			is_rdonly = false;
	return is_rdonly;
}

/* A container id as the kernel parses it (any base, 32 bits) turned into a host id. */
static int id_to_host(const char *value, const struct idmap *m, char *buf, size_t size)
{
	unsigned long long v;
	uint32_t host;
	char *end;

	if (!value || value[0] < '0' || value[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno || *end || v > UINT32_MAX || idmap_to_host(m, (uint32_t)v, &host) < 0)
		return -EINVAL;
	(void)snprintf(buf, size, "%u", host);
	return 0;
}

/* Translate option @key, or add it with @host_id: its value is then in @buf. */
static int set_id(struct mount_opts *o, const char *key, const struct idmap *m, uint32_t host_id,
		  char *buf, size_t size)
{
	for (size_t i = 0; i < o->n; i++) {
		int r;

		if (strcmp(o->opt[i].key, key) != 0)
			continue;
		r = id_to_host(o->opt[i].value, m, buf, size);
		if (r < 0)
			return r;
		o->opt[i].value = buf; /* a repeated key is set again: the last one counts */
	}
	if (buf[0])
		return 0;
	if (o->n == MOUNT_OPTS_MAX)
		return -EINVAL;
	(void)snprintf(buf, size, "%u", host_id);
	o->opt[o->n++] = (struct mount_opt){ .key = key, .value = buf };
	return 0;
}

int mount_hugetlbfs_ids(struct mount_opts *o, const struct idmap *uids, const struct idmap *gids,
			uint32_t host_uid, uint32_t host_gid, struct mount_id_text *text)
{
	int r;

	*text = (struct mount_id_text){};
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->opt[i].key, "min_size") == 0)
			return -EPERM;
	r = set_id(o, "uid", uids, host_uid, text->uid, sizeof(text->uid));
	if (r < 0)
		return r;
	return set_id(o, "gid", gids, host_gid, text->gid, sizeof(text->gid));
}

int mount_fuse_options(uint64_t flags, const char *data, char *buf, size_t size)
{
	/* the flags libfuse 2 and 3 turn into mount flags themselves */
	static const struct {
		uint64_t ms;
		const char *name;
	} words[] = {
		{ MS_RDONLY, "ro" },	     { MS_NOSUID, "nosuid" },	  { MS_NODEV, "nodev" },
		{ MS_NOEXEC, "noexec" },     { MS_SYNCHRONOUS, "sync" },  { MS_DIRSYNC, "dirsync" },
		{ MS_NOATIME, "noatime" },
	};
	size_t len = 0;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	for (size_t i = 0; i <= ARRAY_SIZE(words); i++) {
		const char *w = i < ARRAY_SIZE(words) ? ((flags & words[i].ms) ? words[i].name : NULL)
						      : (data && data[0] ? data : NULL);
		int n;

		if (!w)
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", w);
		if (n < 0 || (size_t)n >= size - len)
			return -EINVAL;
		len += (size_t)n;
	}
	return 0;
}

unsigned mount_fuse_attrs(uint64_t flags)
{
	return ((flags & MS_NOSYMFOLLOW) ? MOUNT_ATTR_NOSYMFOLLOW : 0) |
	       ((flags & MS_NODIRATIME) ? MOUNT_ATTR_NODIRATIME : 0);
}

/* The column where /proc/PID/limits' soft limit starts ("%-25s "). */
#define LIMITS_VALUES_COLUMN 26

static int limit_value(const char *s, rlim_t *ret)
{
	unsigned long long v;
	char *end;

	if (strcmp(s, "unlimited") == 0) {
		*ret = RLIM_INFINITY;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = (rlim_t)v;
	return 0;
}

int mount_limits_parse(const char *text, struct rlimit ret[RLIM_NLIMITS])
{
	const char *line = strchr(text, '\n');

	for (int i = 0; i < RLIM_NLIMITS; i++) {
		const char *end = line ? strchr(line + 1, '\n') : NULL;
		char soft[32], hard[32], extra;

		if (!end || end - (line + 1) <= LIMITS_VALUES_COLUMN ||
		    sscanf(line + 1 + LIMITS_VALUES_COLUMN, "%31s %31s%c", soft, hard, &extra) != 3 ||
		    limit_value(soft, &ret[i].rlim_cur) < 0 || limit_value(hard, &ret[i].rlim_max) < 0)
			return -EINVAL;
		line = end;
	}
	return 0;
}

enum mount_route mount_route(const struct config *cfg, const char *fstype)
{
	if (!cfg || !fstype)
		return MOUNT_ROUTE_NONE;
	if (config_mount_fs_allowed(cfg, fstype))
		return MOUNT_ROUTE_DIRECT;
	if (config_mount_fuse_binary(cfg, fstype))
		return MOUNT_ROUTE_FUSE;
	return MOUNT_ROUTE_NONE;
}

struct decision mount_decide(enum mount_route route, const struct mount_caller *c, int source_r,
			     int data_r, int target_r)
{
	if (route == MOUNT_ROUTE_NONE || c->userns != TARGET_USERNS_CONTAINER ||
	    !(c->cap_eff & ((uint64_t)1 << CAP_SYS_ADMIN)) || !c->is_mntns_owned)
		return DECIDE_CONTINUE;
	/* the kernel copies the type, the source and the data, then looks up the target */
	if (source_r < 0)
		return DECIDE_ERRNO(source_r);
	if (data_r < 0)
		return DECIDE_ERRNO(data_r);
	if (target_r < 0)
		return DECIDE_ERRNO(target_r);
	return DECIDE_EMULATE;
}
