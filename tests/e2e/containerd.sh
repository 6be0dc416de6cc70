# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# containerd as an e2e runtime (sourced by lib_fleet.sh): containerd 1.6 from a private
# config (lib_policy.sh: containerd_start, ctr_cmd; root, state and socket under the work
# dir, no CRI plugin), driven with `ctr`, running an unprivileged container (uid 0 -> 100000,
# 65536 ids) on the busybox rootfs of lib.sh through its runc shim.
#
# `ctr run --rootfs` ignores --uidmap/--gidmap (they apply to images only), so the container
# gets a full spec with --config: `ctr oci spec`, plus the user namespace and its maps, the
# seccomp profile (listenerPath, listenerMetadata), the memory limit, a cgroup of its own and
# the annotations a CRI would add. That is the same config.json the CRI plugin writes for a
# pod whose Localhost profile carries the listener fields.
#
# `ctr run --seccomp --seccomp-profile FILE` takes FILE as the spec's linux.seccomp, listener
# fields included, but only builds a full spec (--uidmap/--gidmap, --memory-limit, --cgroup)
# from an image: scenario_ctr_seccomp_profile imports the same rootfs as an image
# (containerd_image) and runs it that way, unprivileged.
#
# The runtime interface of lib.sh: containerd_set_memory, containerd_start_container NAME
# SECCOMP_JSON (containerd_start is the daemon's, in lib_policy.sh), containerd_exec,
# containerd_stop (kill, delete the task and the container), containerd_exists,
# containerd_pid, containerd_cgroup_memory; containerd_set_annotations NAME K=V....
# containerd_daemon_up / containerd_daemon_down run the daemon for a test file.
# shellcheck disable=SC2034 # BLOCKED is read by step() in lib_tap.sh

containerd_set_memory() { engine_set_memory "$@"; }
containerd_set_annotations() { engine_set_annotations "$@"; }

# containerd_spec NAME SECCOMP_JSON: $(cdir NAME)/config.json from `ctr oci spec`.
containerd_spec() {
	local name=$1 seccomp=$2 c mem=null ann='{}'
	c=$(cdir "$name")
	[ -f "$c/memory_limit" ] && mem=$(cat "$c/memory_limit")
	[ -f "$c/annotations" ] && ann=$(jq -R 'split("=") | {(.[0]): (.[1:] | join("="))}' \
		<"$c/annotations" | jq -s 'add')
	ctr_cmd oci spec </dev/null >"$c/spec.json" || return 1
	jq --arg root "$c/rootfs" --arg name "$name" --argjson base "$E2E_UID_BASE" \
		--argjson size "$E2E_ID_COUNT" --argjson mem "$mem" --argjson ann "$ann" \
		--arg pid "$$" \
		--slurpfile sec "$seccomp" '
		.root = { path: $root, readonly: false }
		| .hostname = $name
		| .process.args = ["/bin/sleep", "2147483647"]
		| .process.terminal = false
		| .process.capabilities |= with_entries(.value += ["CAP_MKNOD"] | .value |= unique)
		| .linux.namespaces += [{ type: "user" }]
		| .linux.uidMappings = [{ containerID: 0, hostID: $base, size: $size }]
		| .linux.gidMappings = [{ containerID: 0, hostID: $base, size: $size }]
		| .linux.cgroupsPath = "/interceptd-e2e-" + $pid + "/" + $name
		| .linux.seccomp = $sec[0]
		| if $mem != null then .linux.resources.memory = { limit: $mem } else . end
		| .annotations = ((.annotations // {}) + $ann)
		' "$c/spec.json" >"$c/config.json"
}

# containerd_start_container NAME SECCOMP_JSON: `ctr run -d --config`; running, or fails.
containerd_start_container() {
	local name=$1 c
	c=$(cdir "$name")
	mkdir -p "$c"
	rootfs_build "$c/rootfs" && containerd_spec "$name" "$2" || return 1
	E2E_CONTAINERS+=("containerd $name")
	rt_io ctr_cmd run -d --config "$c/config.json" "$name" >"$c/run.log" 2>&1 ||
		{ cat "$c/run.log" >&2; return 1; }
	rt_io ctr_cmd task ls | awk -v n="$name" '$1 == n && $3 == "RUNNING" { f = 1 } END { exit !f }' ||
		{ echo "task $name is not running:"; rt_io ctr_cmd task ls; cat "$c/run.log"; return 1; }
}

CONTAINERD_EXEC_SEQ=0
containerd_exec() {
	local n=$1
	shift
	CONTAINERD_EXEC_SEQ=$((CONTAINERD_EXEC_SEQ + 1))
	rt_io ctr_cmd task exec --exec-id "e2e-$$-$CONTAINERD_EXEC_SEQ-$RANDOM" "$n" "$@"
}

# Kill the task, delete it and the container; a missing task or container is not an error.
containerd_stop() {
	[ -S "$E2E_WORK/containerd/containerd.sock" ] || return 0
	rt_io ctr_cmd task kill -s SIGKILL "$1" >/dev/null 2>&1
	for _ in $(seq 50); do
		rt_io ctr_cmd task ls | awk -v n="$1" '$1 == n && $3 == "RUNNING" { f = 1 } END { exit !f }' ||
			break
		sleep 0.1
	done
	rt_io ctr_cmd task delete -f "$1" >/dev/null 2>&1
	rt_io ctr_cmd containers rm "$1" >/dev/null 2>&1
	! containerd_exists "$1"
}

containerd_exists() { rt_io ctr_cmd containers info "$1" >/dev/null 2>&1; }
containerd_pid() { rt_io ctr_cmd task ls | awk -v n="$1" '$1 == n { print $2 }'; }
containerd_cgroup_memory() { cgroup_memory_limit_of_pid "$(containerd_pid "$1")"; }

# containerd_base: the linux.seccomp of `ctr run --seccomp` (lib_policy.sh) in
# $E2E_WORK/base-containerd.json, made once a run. base_containerd starts and stops a
# containerd of its own: call it before containerd_daemon_up.
containerd_base() {
	[ -s "$E2E_WORK/base-containerd.json" ] || base_containerd "$E2E_WORK/base-containerd.json"
}

# containerd_daemon_up / _down: our containerd for a test file. Steps run in subshells, so
# the caller puts containerd_daemon_down in E2E_CLEANUP_HOOKS itself, in the test's own shell.
containerd_daemon_up() { containerd_start; }

# Stops the containerd we started (by PID) and removes the cgroups our containers used.
containerd_daemon_down() {
	stop_pid "$E2E_WORK/containerd/pid"
	local d
	for d in /sys/fs/cgroup/*/"interceptd-e2e-$$"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

# oci_blob LAYOUT FILE: FILE stored in the OCI layout LAYOUT under its digest; prints the
# descriptor's "digest" and "size" members.
oci_blob() {
	local hex
	hex=$(sha256sum "$2" | cut -d' ' -f1) || return 1
	cp "$2" "$1/blobs/sha256/$hex" &&
		printf '"digest": "sha256:%s", "size": %s' "$hex" "$(stat -c %s "$2")"
}

# containerd_image REF: the busybox rootfs of lib.sh imported as image REF, from an OCI
# layout written here: one uncompressed layer whose files are owned by 0, for `ctr run
# --uidmap` to shift into the container's ids.
containerd_image() {
	local d=$E2E_WORK/image layer_hex layer config manifest
	mkdir -p "$d/layout/blobs/sha256"
	rootfs_build "$d/rootfs" &&
		tar --numeric-owner --owner=0 --group=0 -C "$d/rootfs" -cf "$d/layer.tar" . || return 1
	layer_hex=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	layer=$(oci_blob "$d/layout" "$d/layer.tar") || return 1
	printf '{"architecture": "%s", "os": "linux", "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": ["sha256:%s"]}}' \
		"$(dpkg --print-architecture)" "$layer_hex" >"$d/config.json"
	config=$(oci_blob "$d/layout" "$d/config.json") || return 1
	printf '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", %s}, "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", %s}]}' \
		"$config" "$layer" >"$d/manifest.json"
	manifest=$(oci_blob "$d/layout" "$d/manifest.json") || return 1
	printf '{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", %s, "annotations": {"io.containerd.image.name": "%s"}}]}' \
		"$manifest" "$1" >"$d/layout/index.json"
	echo '{"imageLayoutVersion": "1.0.0"}' >"$d/layout/oci-layout"
	tar -C "$d/layout" -cf "$d/image.tar" . || return 1
	if ! rt_io ctr_cmd image import "$d/image.tar" >"$d/import.log" 2>&1; then
		cat "$d/import.log"
		return 1
	fi
}

# start_ctr_seccomp_profile NAME IMAGE PROFILE: `ctr run --seccomp --seccomp-profile` of
# IMAGE, unprivileged, with a 256 MiB limit and a cgroup that containerd_daemon_down removes.
start_ctr_seccomp_profile() {
	local name=$1 c
	c=$(cdir "$name")
	mkdir -p "$c"
	rt_io ctr_cmd run -d --seccomp --seccomp-profile "$3" \
		--uidmap "0:$E2E_UID_BASE:$E2E_ID_COUNT" --gidmap "0:$E2E_UID_BASE:$E2E_ID_COUNT" \
		--memory-limit "$MIB256" --cgroup "/interceptd-e2e-$$/$name" \
		"$2" "$name" /bin/sleep 2147483647 >"$c/run.log" 2>&1 || { cat "$c/run.log"; return 1; }
	rt_io ctr_cmd containers info "$name" | jq -e --arg p "$(daemon_oci_socket)" --arg n "$name" \
		'.Spec.linux.seccomp | .listenerPath == $p and .listenerMetadata == $n' >/dev/null ||
		{ echo "the spec lacks the listener fields of $3"; return 1; }
	wait_listeners "$name" 1
}

CTR_PROFILE_STEPS=(
	"registered by name; containerd's default profile merged with its rules"
	"the busybox rootfs imported as an image (ctr image import)"
	"ctr run --seccomp --seccomp-profile MERGED --uidmap --gidmap --memory-limit: the listener attached"
	"user namespace 0 -> 100000; sysinfo reports the 256 MiB limit"
	"mknod c 1 3 is emulated: the node works like /dev/null"
	"container deleted and unregistered, the image removed"
)

register_ctr_run() {
	api_expect_2xx POST /1.0/containers "{\"name\":\"$1\",\"config\":{$FLEET_KEYS}}" &&
		fetch_merged "$1" "$E2E_WORK/base-containerd.json" "$2"
}

check_ctr_run_limits() { check_userns containerd "$1" && check_sysinfo_total containerd "$1" "$MIB256"; }

delete_ctr_run() { delete_and_unregister containerd "$1" && rt_io ctr_cmd image rm "$2" >/dev/null; }

# scenario_ctr_seccomp_profile: the profile-file route of `ctr run` (README: Engines).
scenario_ctr_seccomp_profile() {
	local name=e2e-ctr-sp-$$ image=docker.io/library/interceptd-e2e-busybox:$$
	local merged=$E2E_WORK/merged-ctr-sp.json what="containerd: seccomp-profile"
	BLOCKED=""
	E2E_CONTAINERS+=("containerd $name")
	step "$what: ${CTR_PROFILE_STEPS[0]}" register_ctr_run "$name" "$merged"
	step "$what: ${CTR_PROFILE_STEPS[1]}" containerd_image "$image"
	step "$what: ${CTR_PROFILE_STEPS[2]}" start_ctr_seccomp_profile "$name" "$image" "$merged"
	soft_step "$what: ${CTR_PROFILE_STEPS[3]}" check_ctr_run_limits "$name"
	soft_step "$what: ${CTR_PROFILE_STEPS[4]}" check_null_node containerd "$name" /tmp/null
	BLOCKED=""
	step "$what: ${CTR_PROFILE_STEPS[5]}" delete_ctr_run "$name" "$image"
}
