/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/error.h"
#include "daemon/store/container.h"

/*
 * The Kubernetes names of an ephemeral container, kept across a daemon
 * restart: STATE_DIR/k8s-labels/NAME.json, one small file per container whose
 * listener came from a pod. The fd-store name of its listener carries only
 * NAME+PROFILE (255 characters; a pod name alone may have 253), so a restart
 * reads the rest from here. Nothing depends on these files being there: a
 * lost one only loses labels, so they are written without fsync.
 *
 * {"namespace": "shop", "pod": "web-7d4b9", "container": "nginx"}
 *
 * Read back at start as hostile input: at most K8S_LABELS_FILE_MAX bytes,
 * strict JSON (one object, exactly these three string keys, no duplicates),
 * each value only of [A-Za-z0-9._-] (container_k8s_char_valid()) and within
 * its field, the pod not empty.
 */
#define K8S_LABELS_DIR "k8s-labels"
#define K8S_LABELS_FILE_MAX 4096

/* @k8s as a file's text (a new string, free() it). Returns 0, -EINVAL (no pod) or -ENOMEM. Pure. */
int k8s_labels_format(const struct container_k8s *k8s, char **ret_text);

/*
 * Parse @len bytes of @text into *@ret (written only on success). Returns 0
 * or -EINVAL with the reason in @reterr (may be NULL). Pure.
 */
int k8s_labels_parse(const char *text, size_t len, struct container_k8s *ret,
		     struct icd_error *reterr);

/*
 * Write container @name's file in @dir_fd atomically (temporary file and
 * rename, no fsync); a file that already holds the same labels is left alone.
 * Returns 0 or a negative errno.
 */
int k8s_labels_save(int dir_fd, const char *name, const struct container_k8s *k8s);

/*
 * Read container @name's file from @dir_fd into *@ret. -ENOENT when there is
 * none; -EINVAL (why in @reterr) when it is not a regular file, is larger
 * than K8S_LABELS_FILE_MAX or does not parse; another negative errno when it
 * cannot be read.
 */
int k8s_labels_load(int dir_fd, const char *name, struct container_k8s *ret,
		    struct icd_error *reterr);

/* Remove container @name's file from @dir_fd. Missing is fine. Returns 0 or a negative errno. */
int k8s_labels_remove(int dir_fd, const char *name);

/*
 * Remove every entry of @dir_fd but the files of the containers @keep
 * (called with the container name and @userdata) says to keep: leftovers of
 * containers that are gone, temporary files, anything else. Returns how many
 * were removed, or a negative errno when the directory cannot be read.
 */
int k8s_labels_sweep(int dir_fd, bool (*keep)(const char *name, void *userdata), void *userdata);
