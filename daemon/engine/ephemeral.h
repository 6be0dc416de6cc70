/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

#include "daemon/store/container.h"

/*
 * Containers that register themselves: what a listener's metadata and its
 * OCI state say about the ephemeral container it makes. Everything here is
 * pure and treats its input as hostile: annotations and listenerMetadata may
 * be chosen by whoever wrote the container's spec.
 */

/* Longest listenerMetadata and OCI id considered; longer ones are ignored. */
#define EPHEMERAL_METADATA_MAX 1024
#define EPHEMERAL_ID_MAX 1024

/*
 * listenerMetadata (or an LXC cookie) of the form "profile=NAME[,key=value...]".
 * Returns 1 with the profile in @ret_profile; 0 when @metadata is not of that
 * form at all (no '=': a container name, or empty); -EINVAL when it is but
 * is broken (no or two profile keys, an invalid profile name, an empty or
 * malformed pair). Other keys are allowed and ignored.
 */
int ephemeral_parse_metadata(const char *metadata, char ret_profile[static CONTAINER_NAME_MAX + 1]);

/*
 * The Kubernetes names in OCI @annotations (an object, or NULL): containerd's
 * io.kubernetes.cri.{sandbox-namespace,sandbox-name,container-name} or
 * CRI-O's io.kubernetes.{pod.namespace,pod.name,container.name}, each cut to
 * its field and reduced to [A-Za-z0-9._-] (anything else becomes '_').
 */
void ephemeral_k8s_from_annotations(json_t *annotations, struct container_k8s *ret);

/*
 * A container name for an ephemeral container: NAMESPACE.POD.CONTAINER (as
 * much as fits, the pod name first) when the pod is known, else the OCI id,
 * then "-" and 8 hex digits of a hash of the OCI id, so the name is unique on
 * the host and the same for the container's whole life. Always within the
 * name rules. -EINVAL when there is neither a pod name nor an id.
 */
int ephemeral_name(const struct container_k8s *k8s, const char *oci_id,
		   char ret[static CONTAINER_NAME_MAX + 1]);
