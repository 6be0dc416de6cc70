/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl [profile] policy NAME --lxc | --oci [--merge-into CONFIG
 * [--trap-denied]]: the seccomp policy that routes a container's (or a
 * profile's) trapped calls to interceptd. --lxc prints the LXC config lines,
 * --oci the OCI linux.seccomp object. --merge-into sends an OCI bundle's
 * linux.seccomp to the daemon's merge (POST ?format=oci, with trap_denied=true
 * for --trap-denied) and writes the result back into that config.json atomically:
 * a temporary file beside it (same owner and mode), fsync, rename over it,
 * fsync of the directory, so a crash leaves the old file or the new one.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/cli/client.h"
#include "api/cli/output.h"
#include "daemon/fileio.h"

/* A bundle's config.json is a few KiB; this leaves room for any real one. */
#define CONFIG_MAX (16u << 20)

static int print_lxc(const struct cli *c)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	_cleanup_free_ char *path = client_object_path(c, c->args[0], "/seccomp?format=lxc");
	int r;

	if (!path)
		return -ENOMEM;
	r = client_request(c, "GET", path, NULL, NULL, &rep);
	if (r < 0)
		return r;
	if (!client_ok(rep))
		return client_report(rep);
	/* text/plain, meant to be appended to an LXC config as it is */
	fwrite(rep->data ? rep->data : "", 1, rep->len, stdout);
	return 0;
}

/* Print each "299 interceptd "text"" Warning header as "Warning: text". */
static void print_warnings(const char *warnings)
{
	for (const char *p = warnings; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = strndup(p, len), *shown = NULL;
		char *open = line ? strchr(line, '"') : NULL, *close = line ? strrchr(line, '"') : NULL;

		if (open && close > open) {
			*close = '\0';
			shown = output_escape(open + 1);
		} else {
			shown = output_escape(line);
		}
		fprintf(stderr, "Warning: %s\n", strempty(shown));
		p += len + (p[len] == '\n');
	}
}

static json_t *load_config(const char *file)
{
	json_error_t err;
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	json_t *j;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "Error: cannot read '%s': %m\n", file);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CONFIG_MAX) {
		fprintf(stderr, "Error: '%s' is not a regular file of at most %u MiB\n", file,
			CONFIG_MAX >> 20);
		return NULL;
	}
	j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		fprintf(stderr, "Error: '%s' is not JSON: %s (line %d, column %d)\n", file,
			err.text, err.line, err.column);
	else if (!json_is_object(j) ||
		 (json_object_get(j, "linux") && !json_is_object(json_object_get(j, "linux")))) {
		fprintf(stderr, "Error: '%s' is not an OCI config.json (no object, or 'linux' is not one)\n",
			file);
		json_decref(TAKE_PTR(j));
	}
	return j;
}

/* Write @text over @file: temp file in its directory, fsync, rename, fsync the directory. */
static int replace_file(const char *file, const char *text)
{
	_cleanup_free_ char *copy = strdup(file), *tmp = NULL;
	_cleanup_close_ int fd = -EBADF, dir_fd = -EBADF;
	const char *dir = copy ? dirname(copy) : NULL;
	struct stat st;
	int r;

	if (!dir || stat(file, &st) < 0 || asprintf(&tmp, "%s/.interceptctl.XXXXXX", dir) < 0)
		return negative_errno();
	dir_fd = RET_NERRNO(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (dir_fd < 0)
		return dir_fd;
	fd = RET_NERRNO(mkostemp(tmp, O_CLOEXEC));
	if (fd < 0)
		return fd;
	/* the new file is the old one's: owner (when we may) and mode */
	if (fchmod(fd, st.st_mode & 07777) < 0 ||
	    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0))
		r = negative_errno();
	else
		r = write_all(fd, text, strlen(text));
	if (r >= 0)
		r = write_all(fd, "\n", 1);
	if (r >= 0)
		r = RET_NERRNO(fsync(fd));
	if (r >= 0)
		r = RET_NERRNO(rename(tmp, file));
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	return RET_NERRNO(fsync(dir_fd));
}

/* Ask the daemon to merge @base; the merged linux.seccomp in *ret (new reference). */
static int merge(const struct cli *c, const json_t *base, json_t **ret)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	/* without a base there is nothing it denies: trap_denied would change nothing */
	_cleanup_free_ char *path = client_object_path(
		c, c->args[0],
		base && c->trap_denied ? "/seccomp?format=oci&trap_denied=true" : "/seccomp?format=oci");
	json_t *meta;
	int r;

	if (!path)
		return -ENOMEM;
	r = client_call(c, base ? "POST" : "GET", path, base, NULL, &rep, &meta);
	if (r < 0)
		return r;
	print_warnings(rep->warnings);
	if (!json_is_object(meta)) {
		fprintf(stderr, "Error: the daemon's policy for '%s' is not an object\n", c->args[0]);
		return -EPROTO;
	}
	*ret = json_incref(meta);
	return 0;
}

static int merge_into(const struct cli *c)
{
	_cleanup_free_ char *text = NULL, *file = realpath(c->merge_into, NULL);
	json_auto_t *config = NULL, *merged = NULL;
	json_t *linux_obj, *base;
	int r;

	/* through a symlink, the file it points to is replaced */
	if (!file) {
		fprintf(stderr, "Error: cannot read '%s': %m\n", c->merge_into);
		return negative_errno();
	}
	config = load_config(file);
	if (!config)
		return -EINVAL;
	linux_obj = json_object_get(config, "linux");
	base = json_object_get(linux_obj, "seccomp");
	if (!base)
		fprintf(stderr, "Note: '%s' has no linux.seccomp: it gets interceptd's own profile "
				"(default allow, a deny list, the NOTIFY rules)\n",
			c->merge_into);
	r = merge(c, base, &merged);
	if (r < 0)
		return r;
	if (!linux_obj && json_object_set_new(config, "linux", linux_obj = json_object()) < 0)
		return -ENOMEM;
	if (json_object_set(linux_obj, "seccomp", merged) < 0)
		return -ENOMEM;
	text = json_dumps(config, JSON_INDENT(2));
	if (!text)
		return -ENOMEM;
	r = replace_file(file, text);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "Error: cannot write '%s': %m\n", c->merge_into);
	}
	return r;
}

int cmd_policy(const struct cli *c)
{
	if (c->merge_into)
		return merge_into(c);
	if (c->want_lxc)
		return print_lxc(c);
	/* the object goes into config.json: JSON unless YAML was asked for */
	return cli_show_container(c, "/seccomp?format=oci", NULL);
}
