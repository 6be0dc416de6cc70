/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kept Kubernetes labels of ephemeral containers (k8s_labels.h): the
 * file format, pure, and the few file operations on their directory. Callers
 * serialize the writes and removals of one container's file (store_k8s.c);
 * no locks here. Logs nothing.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/fileio.h"
#include "daemon/macro.h"
#include "daemon/store/k8s_labels.h"

#define FILE_SUFFIX ".json"

static void file_name(const char *name, char buf[static CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)])
{
	(void)snprintf(buf, CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX), "%s" FILE_SUFFIX, name);
}

int k8s_labels_format(const struct container_k8s *k8s, char **ret_text)
{
	json_t *o;
	char *text;

	if (!k8s->pod[0])
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:s}", "namespace", k8s->namespace, "pod", k8s->pod,
		      "container", k8s->container);
	text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

/* String @key of @o into @dst (@size bytes): present, a string, short enough, valid characters. */
static int take_label(json_t *o, const char *key, char *dst, size_t size, struct icd_error *reterr)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (!s)
		return icd_error_set(reterr, -EINVAL, "'%s' is missing or not a string", key);
	if (len >= size)
		return icd_error_set(reterr, -EINVAL, "'%s' is longer than %zu characters", key,
				     size - 1);
	for (size_t i = 0; i < len; i++)
		if (!container_k8s_char_valid(s[i])) /* a NUL inside included */
			return icd_error_set(reterr, -EINVAL,
					     "'%s' holds a character outside [A-Za-z0-9._-]", key);
	memcpy(dst, s, len + 1);
	return 0;
}

int k8s_labels_parse(const char *text, size_t len, struct container_k8s *ret,
		     struct icd_error *reterr)
{
	json_auto_t *o = NULL;
	struct container_k8s k8s = { 0 };
	json_error_t jerr;
	int r;

	if (len > K8S_LABELS_FILE_MAX)
		return icd_error_set(reterr, -EINVAL, "larger than %d bytes", K8S_LABELS_FILE_MAX);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return icd_error_set(reterr, -EINVAL, "not JSON: %s", jerr.text);
	if (!json_is_object(o) || json_object_size(o) != 3)
		return icd_error_set(reterr, -EINVAL,
				     "not an object of exactly namespace, pod and container");
	r = take_label(o, "namespace", k8s.namespace, sizeof(k8s.namespace), reterr);
	if (r >= 0)
		r = take_label(o, "pod", k8s.pod, sizeof(k8s.pod), reterr);
	if (r >= 0)
		r = take_label(o, "container", k8s.container, sizeof(k8s.container), reterr);
	if (r < 0)
		return r;
	if (!k8s.pod[0])
		return icd_error_set(reterr, -EINVAL, "'pod' is empty");
	*ret = k8s;
	return 0;
}

int k8s_labels_save(int dir_fd, const char *name, const struct container_k8s *k8s)
{
	char file[CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)];
	_cleanup_free_ char *text = NULL;
	int r;

	if (!container_name_valid(name))
		return -EINVAL;
	r = k8s_labels_format(k8s, &text);
	if (r < 0)
		return r;
	file_name(name, file);
	/* taken back after a restart: the same labels, no new inode */
	if (file_has_content(dir_fd, file, text, strlen(text)) > 0)
		return 0;
	return write_file_atomic(dir_fd, file, text, strlen(text), 0600, 0);
}

int k8s_labels_load(int dir_fd, const char *name, struct container_k8s *ret,
		    struct icd_error *reterr)
{
	char file[CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)];
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	size_t len;
	int r;

	if (!container_name_valid(name))
		return -EINVAL;
	file_name(name, file);
	/* O_NONBLOCK: a FIFO planted here must not block the start */
	fd = RET_NERRNO(openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
	if (fd == -ELOOP)
		return icd_error_set(reterr, -EINVAL, "a symbolic link");
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return icd_error_set(reterr, -EINVAL, "not a regular file");
	r = read_fd_all(fd, K8S_LABELS_FILE_MAX, &text, &len);
	if (r == -EFBIG)
		return icd_error_set(reterr, -EINVAL, "larger than %d bytes", K8S_LABELS_FILE_MAX);
	if (r < 0)
		return r;
	return k8s_labels_parse(text, len, ret, reterr);
}

int k8s_labels_remove(int dir_fd, const char *name)
{
	char file[CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)];

	if (!container_name_valid(name))
		return -EINVAL;
	file_name(name, file);
	return unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
}

struct sweep {
	bool (*keep)(const char *name, void *userdata);
	void *userdata;
	int n_removed;
};

/* One entry: kept if it is NAME.json of a container to keep, else removed (not a directory). */
static int sweep_entry(int dir_fd, const char *entry, void *userdata)
{
	struct sweep *sw = userdata;
	size_t len = strlen(entry), base = len - strlen(FILE_SUFFIX);
	char name[CONTAINER_NAME_MAX + 1];

	if (len > strlen(FILE_SUFFIX) && base <= CONTAINER_NAME_MAX &&
	    strcmp(entry + base, FILE_SUFFIX) == 0) {
		memcpy(name, entry, base);
		name[base] = '\0';
		if (container_name_valid(name) && sw->keep(name, sw->userdata))
			return 0;
	}
	if (unlinkat(dir_fd, entry, 0) >= 0)
		sw->n_removed++;
	return 0;
}

int k8s_labels_sweep(int dir_fd, bool (*keep)(const char *name, void *userdata), void *userdata)
{
	struct sweep sw = { .keep = keep, .userdata = userdata };
	int r = dir_for_each_entry(dir_fd, sweep_entry, &sw);

	return r < 0 ? r : sw.n_removed;
}
