/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The intercept key table, value normalization and immutable config snapshots.
 * Snapshots are built by the API thread (or at startup) and then only read;
 * their reference count is the only mutable field. No locks here.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/store/config.h"
#include "daemon/escape.h"

static const char *const mknod_syscalls[] = { "mknod", "mknodat", NULL };
static const char *const setxattr_syscalls[] = { "setxattr", "lsetxattr", "fsetxattr", NULL };
static const char *const sched_syscalls[] = { "sched_setscheduler", NULL };
static const char *const sysinfo_syscalls[] = { "sysinfo", NULL };
static const char *const mount_syscalls[] = { "mount", NULL };
static const char *const bpf_syscalls[] = { "bpf", NULL };

const struct config_key_info config_keys[CONFIG_KEY_COUNT] = {
	[CONFIG_MKNOD] = { CONFIG_KEY_PREFIX "mknod", CONFIG_TYPE_BOOL, "false", false, mknod_syscalls,
			   "Emulate mknod/mknodat for a fixed allowlist of safe character devices "
			   "(null, zero, full, random, urandom, tty, console)" },
	[CONFIG_SETXATTR] = { CONFIG_KEY_PREFIX "setxattr", CONFIG_TYPE_BOOL, "false", false,
			      setxattr_syscalls,
			      "Emulate setting trusted.overlay.opaque=y on directories (overlayfs "
			      "opaque directories)" },
	[CONFIG_SCHED_SETSCHEDULER] = { CONFIG_KEY_PREFIX "sched_setscheduler", CONFIG_TYPE_BOOL,
					"false", false, sched_syscalls,
					"Emulate sched_setscheduler for processes of the same "
					"container when the caller has CAP_SYS_NICE in it" },
	[CONFIG_SYSINFO] = { CONFIG_KEY_PREFIX "sysinfo", CONFIG_TYPE_BOOL, "false", false,
			     sysinfo_syscalls,
			     "Answer sysinfo() with the container's cgroup limits and usage" },
	[CONFIG_MOUNT] = { CONFIG_KEY_PREFIX "mount", CONFIG_TYPE_BOOL, "false", false, mount_syscalls,
			   "Emulate mount() of new filesystems listed in mount.allowed or "
			   "mount.fuse; master switch for the mount.* keys" },
	[CONFIG_MOUNT_ALLOWED] = { CONFIG_KEY_PREFIX "mount.allowed", CONFIG_TYPE_FS_LIST, "", true,
				   NULL,
				   "Comma-separated filesystem types the container may mount "
				   "(e.g. ext4,xfs)" },
	[CONFIG_MOUNT_FUSE] = { CONFIG_KEY_PREFIX "mount.fuse", CONFIG_TYPE_FUSE_MAP, "", true, NULL,
				"Comma-separated fstype=fuse-binary pairs: mounts of fstype are "
				"redirected to the FUSE binary (e.g. ext4=fuse2fs)" },
	[CONFIG_MOUNT_SHIFT] = { CONFIG_KEY_PREFIX "mount.shift", CONFIG_TYPE_BOOL, "false", true,
				 NULL,
				 "Shift the ownership of emulated mounts into the container with an "
				 "idmapped mount" },
	[CONFIG_BPF] = { CONFIG_KEY_PREFIX "bpf", CONFIG_TYPE_BOOL, "false", false, bpf_syscalls,
			 "Trap bpf() program load, attach, detach, query and link creation; needs "
			 "bpf.devices to emulate anything (with it off, those calls get EPERM)" },
	[CONFIG_BPF_DEVICES] = { CONFIG_KEY_PREFIX "bpf.devices", CONFIG_TYPE_BOOL, "false", true,
				 NULL,
				 "Let a caller with CAP_SYS_ADMIN in the container load device cgroup "
				 "(BPF_PROG_TYPE_CGROUP_DEVICE) programs and attach them inside the "
				 "container's own cgroup subtree, always with BPF_F_ALLOW_MULTI" },
};

int config_key_lookup(const char *name)
{
	for (size_t i = 0; name && i < CONFIG_KEY_COUNT; i++)
		if (strcmp(name, config_keys[i].name) == 0)
			return (int)i;
	return -ENOENT;
}

static int parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* Trim ASCII whitespace in place and return the start. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static bool fstype_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return false;
	return true;
}

static bool fuse_binary_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == ',' || *s == '=')
			return false;
	return true;
}

/* Validate one list entry in place; on success it is trimmed (fstype and binary). */
static int check_entry(enum config_key key, char *entry, char **ret_fstype, char **ret_binary,
		       struct icd_error *reterr)
{
	const char *name = config_keys[key].name;
	char *eq = NULL, *fstype;

	if (config_keys[key].type == CONFIG_TYPE_FUSE_MAP) {
		eq = strchr(entry, '=');
		if (!eq)
			return icd_error_set(reterr, -EINVAL,
					     "%s: entry '%s' is not of the form 'filesystem=fuse-binary'",
					     name, ESCAPED(entry, 64));
		*eq = '\0';
	}
	fstype = trim(entry);
	if (!fstype_valid(fstype))
		return icd_error_set(reterr, -EINVAL, "%s: invalid filesystem type '%s'", name,
				     ESCAPED(fstype, 64));
	*ret_fstype = fstype;
	if (eq) {
		char *binary = trim(eq + 1);

		if (!fuse_binary_valid(binary))
			return icd_error_set(reterr, -EINVAL, "%s: invalid FUSE binary '%s' for '%s'",
					     name, ESCAPED(binary, 64), fstype);
		*ret_binary = binary;
	}
	return 0;
}

static int append(char *buf, size_t size, size_t *len, const char *sep, const char *s)
{
	int n = snprintf(buf + *len, size - *len, "%s%s", sep, s);

	if (n < 0 || (size_t)n >= size - *len)
		return -E2BIG;
	*len += (size_t)n;
	return 0;
}

static int normalize_list(enum config_key key, const char *value, char **ret,
			  struct icd_error *reterr)
{
	const char *name = config_keys[key].name;
	_cleanup_free_ char *copy = strdup(value), *out = NULL;
	size_t out_size = strlen(value) + 1, len = 0, n_seen = 0;
	_cleanup_free_ const char **seen = NULL;
	char *save = NULL, *tok, *p;
	int r;

	if (!copy || !(out = malloc(out_size)) || !(seen = calloc(out_size, sizeof(char *))))
		return -ENOMEM;
	out[0] = '\0';
	/* strtok_r would silently skip empty entries; walk the commas ourselves */
	for (p = copy; p; p = save) {
		char *fstype = NULL, *binary = NULL;

		tok = p;
		save = strchr(p, ',');
		if (save)
			*save++ = '\0';
		if (trim(tok)[0] == '\0')
			return icd_error_set(reterr, -EINVAL, "%s: empty entry in '%s'", name,
					     ESCAPED(value, 64));
		r = check_entry(key, tok, &fstype, &binary, reterr);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n_seen; i++)
			if (strcmp(seen[i], fstype) == 0)
				return icd_error_set(reterr, -EINVAL,
						     "%s: filesystem type '%s' listed twice", name,
						     fstype);
		seen[n_seen++] = fstype;
		r = append(out, out_size, &len, len ? "," : "", fstype);
		if (r >= 0 && binary)
			r = append(out, out_size, &len, "=", binary);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

int config_normalize_value(enum config_key key, const char *value, char **ret_normalized,
			   struct icd_error *reterr)
{
	_cleanup_free_ char *copy = NULL;
	char *v;
	int b;

	if (key < 0 || key >= CONFIG_KEY_COUNT || !value)
		return icd_error_set(reterr, -EINVAL, "invalid configuration key");
	if (strlen(value) > 4096)
		return icd_error_set(reterr, -EINVAL, "%s: value longer than 4096 bytes",
				     config_keys[key].name);
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	v = trim(copy);
	if (v[0] == '\0') {
		*ret_normalized = NULL;
		return 0;
	}
	if (config_keys[key].type != CONFIG_TYPE_BOOL)
		return normalize_list(key, v, ret_normalized, reterr);
	b = parse_bool(v);
	if (b < 0)
		return icd_error_set(reterr, -EINVAL, "%s: invalid boolean '%s'",
				     config_keys[key].name, ESCAPED(value, 64));
	*ret_normalized = strdup(b ? "true" : "false");
	return *ret_normalized ? 0 : -ENOMEM;
}

static void config_free(struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		free(cfg->values[i]);
	for (size_t i = 0; i < cfg->n_mount_allowed; i++)
		free(cfg->mount_allowed[i]);
	free(cfg->mount_allowed);
	for (size_t i = 0; i < cfg->n_mount_fuse; i++) {
		free(cfg->mount_fuse[i].fstype);
		free(cfg->mount_fuse[i].binary);
	}
	free(cfg->mount_fuse);
	free(cfg);
}

struct config *config_ref(struct config *cfg)
{
	if (cfg)
		atomic_fetch_add_explicit(&cfg->n_ref, 1, memory_order_relaxed);
	return cfg;
}

struct config *config_unref(struct config *cfg)
{
	if (cfg && atomic_fetch_sub_explicit(&cfg->n_ref, 1, memory_order_acq_rel) == 1)
		config_free(cfg);
	return NULL;
}

struct config *config_new_empty(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg)
		atomic_init(&cfg->n_ref, 1);
	return cfg;
}

static size_t count_entries(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == ',';
	return n;
}

/* Split the normalized lists into arrays for fast lookups by workers. */
static int split_lists(struct config *cfg)
{
	const char *allowed = cfg->values[CONFIG_MOUNT_ALLOWED], *fuse = cfg->values[CONFIG_MOUNT_FUSE];
	char *save = NULL, *tok;

	if (allowed) {
		_cleanup_free_ char *copy = strdup(allowed);

		cfg->mount_allowed = calloc(count_entries(allowed), sizeof(char *));
		if (!copy || !cfg->mount_allowed)
			return -ENOMEM;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!(cfg->mount_allowed[cfg->n_mount_allowed++] = strdup(tok)))
				return -ENOMEM;
	}
	if (fuse) {
		_cleanup_free_ char *copy = strdup(fuse);

		cfg->mount_fuse = calloc(count_entries(fuse), sizeof(struct fuse_entry));
		if (!copy || !cfg->mount_fuse)
			return -ENOMEM;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct fuse_entry *e = &cfg->mount_fuse[cfg->n_mount_fuse++];
			char *eq = strchr(tok, '=');

			*eq = '\0';
			e->fstype = strdup(tok);
			e->binary = strdup(eq + 1);
			if (!e->fstype || !e->binary)
				return -ENOMEM;
		}
	}
	return 0;
}

static bool in_mount_allowed(const struct config *cfg, const char *fstype)
{
	for (size_t i = 0; i < cfg->n_mount_allowed; i++)
		if (strcmp(cfg->mount_allowed[i], fstype) == 0)
			return true;
	return false;
}

static int check_cross_keys(const struct config *cfg, struct icd_error *reterr)
{
	for (size_t i = 0; i < cfg->n_mount_fuse; i++)
		if (in_mount_allowed(cfg, cfg->mount_fuse[i].fstype))
			return icd_error_set(reterr, -EINVAL,
					     "filesystem type '%s' is in both %s and %s",
					     cfg->mount_fuse[i].fstype,
					     config_keys[CONFIG_MOUNT_ALLOWED].name,
					     config_keys[CONFIG_MOUNT_FUSE].name);
	return 0;
}

int config_new(const char *const values[CONFIG_KEY_COUNT], struct config **ret_cfg,
	       struct icd_error *reterr)
{
	_cleanup_(config_unrefp) struct config *cfg = config_new_empty();
	int r;

	if (!cfg)
		return -ENOMEM;
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (!values[i])
			continue;
		r = config_normalize_value(i, values[i], &cfg->values[i], reterr);
		if (r < 0)
			return r;
		if (config_keys[i].type == CONFIG_TYPE_BOOL)
			cfg->enabled[i] = cfg->values[i] && strcmp(cfg->values[i], "true") == 0;
	}
	r = split_lists(cfg);
	if (r < 0)
		return r;
	r = check_cross_keys(cfg, reterr);
	if (r < 0)
		return r;
	*ret_cfg = TAKE_PTR(cfg);
	return 0;
}

/*
 * The types an emulated mount may create: filesystems on a block device, and
 * hugetlbfs. The superblock is made in the initial user namespace, so a type
 * that binds itself to its creator's namespaces (proc to a pid namespace, a
 * network filesystem to a network namespace) must never be on this list.
 */
static const char *const emulable_types[] = {
	"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "exfat", "ntfs3", "f2fs", "iso9660",
	"udf", "squashfs", "erofs", "hugetlbfs",
};

/* Mountable inside a user namespace already (FS_USERNS_MOUNT); ramfs too. */
static const char *const userns_types[] = {
	"proc", "sysfs", "tmpfs", "ramfs", "devpts", "mqueue", "cgroup", "cgroup2", "fuse",
	"overlay",
};

static const char *const network_types[] = {
	"nfs", "nfs4", "cifs", "smb3", "9p", "ceph", "afs", "glusterfs", "ncpfs", "coda",
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

const char *config_mount_type_refusal(const char *fstype)
{
	if (in_list(emulable_types, ARRAY_SIZE(emulable_types), fstype))
		return NULL;
	if (in_list(userns_types, ARRAY_SIZE(userns_types), fstype))
		return "a user namespace mounts it itself; mounted from the host it would be bound "
		       "to the host's namespaces";
	if (in_list(network_types, ARRAY_SIZE(network_types), fstype))
		return "a network filesystem mounted from the host would use the host's network";
	return "only ext2, ext3, ext4, xfs, btrfs, vfat, exfat, ntfs3, f2fs, iso9660, udf, "
	       "squashfs, erofs and hugetlbfs are emulated";
}

int config_check_mount_allowed(const struct config *cfg, struct icd_error *reterr)
{
	for (size_t i = 0; cfg && i < cfg->n_mount_allowed; i++) {
		const char *why = config_mount_type_refusal(cfg->mount_allowed[i]);

		if (why)
			return icd_error_set(reterr, -EINVAL, "%s: '%s' refused: %s",
					     config_keys[CONFIG_MOUNT_ALLOWED].name,
					     cfg->mount_allowed[i], why);
	}
	return 0;
}

bool config_mount_fs_allowed(const struct config *cfg, const char *fstype)
{
	/* a refused type stored before the rule: never */
	return cfg && fstype && in_mount_allowed(cfg, fstype) && !config_mount_type_refusal(fstype);
}

const char *config_mount_fuse_binary(const struct config *cfg, const char *fstype)
{
	for (size_t i = 0; cfg && fstype && i < cfg->n_mount_fuse; i++)
		if (strcmp(cfg->mount_fuse[i].fstype, fstype) == 0)
			return cfg->mount_fuse[i].binary;
	return NULL;
}

unsigned config_trapped_keys(const struct config *cfg)
{
	unsigned mask = 0;

	for (size_t i = 0; cfg && i < CONFIG_KEY_COUNT; i++)
		if (config_keys[i].syscalls && cfg->enabled[i])
			mask |= 1u << i;
	return mask;
}
