# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Podman as an e2e runtime (sourced by lib_fleet.sh): a rootful, unprivileged container
# (uid 0 -> 100000, 65536 ids) on the busybox rootfs of lib.sh, started by Podman 4.3 with
# runc and a seccomp profile file that carries listenerPath and listenerMetadata.
#
# Podman itself comes from lib_policy.sh (podman_cmd: private --root/--runroot, vfs,
# cgroupfs, file events, runc). No image is pulled: --rootfs takes the directory.
# The traps met on these machines: --rootfs DIR is the first positional argument, so every option
# comes before it; root lacks CAP_SYS_RESOURCE here, so the nofile and nproc ulimits are
# lowered below the hard limits; -i with rt_io's private stdin file, or Podman hands the
# container the host's /dev/null.
#
# The runtime interface of lib.sh: podman_set_memory, podman_start NAME SECCOMP_JSON,
# podman_exec, podman_stop (lib_policy.sh), podman_exists (lib_policy.sh), podman_pid,
# podman_cgroup_memory. podman_set_annotations NAME K=V... adds OCI annotations.

podman_set_memory() { engine_set_memory "$@"; }
podman_set_annotations() { engine_set_annotations "$@"; }

# podman_start NAME SECCOMP_JSON: `podman run -d` with the profile; running, or fails.
podman_start() {
	local name=$1 profile=$2 c args=()
	c=$(cdir "$name")
	mkdir -p "$c"
	rootfs_build "$c/rootfs" || return 1
	args=(-d -i --name "$name" --hostname "$name" --network none
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024
		--uidmap "0:$E2E_UID_BASE:$E2E_ID_COUNT" --gidmap "0:$E2E_UID_BASE:$E2E_ID_COUNT"
		--cap-add MKNOD --security-opt "seccomp=$profile")
	[ -f "$c/memory_limit" ] && args+=(--memory "$(cat "$c/memory_limit")")
	if [ -f "$c/annotations" ]; then
		local a
		while IFS= read -r a; do args+=(--annotation "$a"); done <"$c/annotations"
	fi
	E2E_CONTAINERS+=("podman $name")
	rt_io podman_cmd run "${args[@]}" --rootfs "$c/rootfs" /bin/sleep 2147483647 \
		>"$c/run.log" 2>&1 || { cat "$c/run.log" >&2; return 1; }
	[ "$(rt_io podman_cmd inspect --format '{{.State.Running}}' "$name")" = true ] ||
		{ echo "podman container $name is not running"; cat "$c/run.log"; return 1; }
}

podman_exec() { local n=$1; shift; rt_io podman_cmd exec "$n" "$@"; }
podman_pid() { rt_io podman_cmd inspect --format '{{.State.Pid}}' "$1"; }
podman_cgroup_memory() { cgroup_memory_limit_of_pid "$(podman_pid "$1")"; }

# podman_base: the linux.seccomp Podman writes for a container (lib_policy.sh) in
# $E2E_WORK/base-podman.json, made once a run.
podman_base() { [ -s "$E2E_WORK/base-podman.json" ] || base_podman "$E2E_WORK/base-podman.json"; }
