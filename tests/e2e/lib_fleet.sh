# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# e2e scenarios for the container engines of many machines: Podman (podman.sh) and containerd
# driven by ctr (containerd.sh), each starting an unprivileged container whose seccomp profile
# is the engine's own default merged with interceptd's rules over the API
# (POST …/seccomp?format=oci; listenerPath = the OCI socket, listenerMetadata = the name).
# Sourced by test_podman.sh and test_containerd.sh after lib.sh; run_engine ENGINE runs it all.
#
#   scenario_engine ENGINE       registered by name: the memory limit the engine set is what
#                                sysinfo shows, mknod c 1 3 is emulated, both keys toggled off
#                                (the kernel's answers) and on again live, metrics
#   scenario_engine_profile ENGINE
#                                a profile (POST /1.0/profiles) and listenerMetadata
#                                "profile=NAME": an ephemeral container named from the CRI
#                                annotations, k8s_* metric labels, removed with its listener.
#                                Skipped, with the reason, while the daemon has no profiles.
#   scenario_ctr_seccomp_profile (containerd.sh)
#                                `ctr run --seccomp --seccomp-profile` of an image, unprivileged
# shellcheck disable=SC2034 # BLOCKED is read by step() in lib_tap.sh

# shellcheck source=podman.sh
source "$E2E_DIR/podman.sh"
# shellcheck source=containerd.sh
source "$E2E_DIR/containerd.sh"

FLEET_KEYS='"security.syscalls.intercept.sysinfo":"true","security.syscalls.intercept.mknod":"true"'

# engine_set_memory NAME BYTES, engine_set_annotations NAME K=V...: for the next start
# (the engine files turn them into their options or the spec).
engine_set_memory() { mkdir -p "$(cdir "$1")" && echo "$2" >"$(cdir "$1")/memory_limit"; }

engine_set_annotations() {
	local name=$1
	shift
	mkdir -p "$(cdir "$name")" && printf '%s\n' "$@" >"$(cdir "$name")/annotations"
}

engine_tool() { case $1 in containerd) echo ctr;; *) echo "$1";; esac; }

# engine_start ENGINE NAME PROFILE: the container runs with PROFILE as its linux.seccomp.
engine_start() {
	case $1 in
	podman) podman_start "$2" "$3" ;;
	containerd) containerd_start_container "$2" "$3" ;;
	esac
}

# engine_ready ENGINE: the engine's default profile is in $E2E_WORK/base-ENGINE.json and the
# engine is ready to run containers (containerd: our own daemon, started after the base).
engine_ready() {
	"${1}_base" || return 1
	[ "$1" != containerd ] || containerd_daemon_up
}

# start_engine_merged ENGINE NAME: merge the base for NAME, then start it with a 256 MiB limit
# that the engine sets (Podman --memory, the spec's linux.resources for containerd).
start_engine_merged() {
	local engine=$1 name=$2 merged=$E2E_WORK/merged-$2.json
	fetch_merged "$name" "$E2E_WORK/base-$engine.json" "$merged" || return 1
	"${engine}_set_memory" "$name" "$MIB256"
	engine_start "$engine" "$name" "$merged" || return 1
	check_cgroup_memory "$engine" "$name" "$MIB256"
}

check_null_node() { probe_expect "$1" "$2" ok mknod "$3" c 1 3 && probe_expect "$1" "$2" ok rw-null "$3"; }

patch_keys() {
	api_expect_2xx PATCH "/1.0/containers/$1" \
		"{\"config\":{\"security.syscalls.intercept.sysinfo\":\"$2\",\"security.syscalls.intercept.mknod\":\"$2\"}}"
}

# Keys off: from the next call on the kernel answers: mknod c 1 3 in a user namespace is
# EPERM, sysinfo shows the host's memory. No restart.
check_toggle_off() {
	patch_keys "$2" false || return 1
	probe_expect "$1" "$2" EPERM mknod /tmp/null-off c 1 3 || return 1
	check_sysinfo_total "$1" "$2" "$(host_memtotal_bytes)"
}

check_toggle_on() {
	patch_keys "$2" true || return 1
	check_null_node "$1" "$2" /tmp/null-on && check_sysinfo_total "$1" "$2" "$MIB256"
}

# metric_positive NAME LABEL=VALUE...: the series exists and is > 0.
metric_positive() {
	local v
	v=$(metric_value "$@") || { echo "no series $* in GET /1.0/metrics"; return 1; }
	awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || { echo "$*: $v"; return 1; }
}

# sysinfo emulated, mknod (glibc's mknod() is mknodat) emulated and continued (key off),
# and the container's OCI listeners (the init's and the running exec's) in the gauge.
check_engine_metrics() {
	local name=$1 sc outcome found
	metric_positive interceptd_syscalls_total "container=$name" syscall=sysinfo outcome=emulated &&
		metric_positive interceptd_syscalls_total "container=$name" syscall=sysinfo outcome=continued ||
		return 1
	for outcome in emulated continued; do
		found=0
		for sc in mknod mknodat; do
			metric_positive interceptd_syscalls_total "container=$name" "syscall=$sc" \
				"outcome=$outcome" >/dev/null && found=1
		done
		[ "$found" = 1 ] || { echo "no mknod/mknodat sample with outcome=$outcome"; return 1; }
	done
	metric_positive interceptd_listeners "container=$name" source=oci
}

# engine_exec_detached ENGINE NAME CMD...: an exec left running in the container.
engine_exec_detached() {
	local e=$1 n=$2
	shift 2
	case $e in
	podman) rt_io podman_cmd exec -d "$n" "$@" >/dev/null ;;
	containerd) rt_io ctr_cmd task exec -d --exec-id "e2e-wait-$$-$RANDOM" "$n" "$@" >/dev/null ;;
	esac
}

# wait_listeners NAME N: the container has at least N attached listeners.
wait_listeners() {
	local n=0
	for _ in $(seq 100); do
		api GET "/1.0/containers/$1/state"
		n=$(jq '.metadata.listeners | length' <<<"$API_BODY" 2>/dev/null) || n=0
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "$1 has $n listeners, want $2: $API_BODY"
	return 1
}

# What a rolling update of the DaemonSet does to a running pod when no fd store keeps the
# listeners: an exec that is waiting when the daemon stops keeps its filter and a dead
# listener, so the kernel answers its trapped sysinfo ENOSYS; a new exec hands a new listener
# to the new daemon and is served.
check_restart_without_store() {
	local e=$1 name=$2 root out
	root=$(cdir "$name")/rootfs
	rm -f "$root/tmp/go" "$root/tmp/waited.out"
	engine_exec_detached "$e" "$name" /bin/sh -c \
		'while [ ! -e /tmp/go ]; do sleep 0.1; done; /bin/probe sysinfo >/tmp/waited.out 2>&1' || return 1
	wait_listeners "$name" 2 || return 1
	daemon_stop
	if ! daemon_start >/dev/null || ! daemon_api_ready >/dev/null; then
		echo "daemon did not restart"
		return 1
	fi
	touch "$root/tmp/go"
	for _ in $(seq 100); do
		[ -s "$root/tmp/waited.out" ] && break
		sleep 0.1
	done
	out=$(head -n1 "$root/tmp/waited.out" 2>/dev/null)
	expect_eq "sysinfo of the exec that was running across the restart" "$out" ENOSYS || return 1
	check_sysinfo_total "$e" "$name" "$MIB256"
}

ENGINE_STEPS=(
	"the engine's default seccomp profile, and the engine ready"
	"registered by name with sysinfo and mknod on"
	"starts with the merged profile and a 256 MiB limit set by the engine"
	"sysinfo reports totalram = the 256 MiB limit"
	"mknod c 1 3 is emulated: the node works like /dev/null"
	"PATCH both keys off: mknod EPERM and the host's MemTotal, live"
	"PATCH both keys on: emulated again, live"
	"metrics: sysinfo and mknod emulated and continued, an OCI listener"
	"daemon restarted without an fd store: a running exec gets ENOSYS, a new exec is served"
	"container deleted and unregistered"
)

scenario_engine() {
	local e=$1 name=e2e-$1-$$ s
	BLOCKED=""
	E2E_CONTAINERS+=("$e $name")	# steps run in subshells: the cleanup trap must know it here
	step "$e: ${ENGINE_STEPS[0]}" engine_ready "$e"
	step "$e: ${ENGINE_STEPS[1]}" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{$FLEET_KEYS}}"
	step "$e: ${ENGINE_STEPS[2]}" start_engine_merged "$e" "$name"
	soft_step "$e: ${ENGINE_STEPS[3]}" check_sysinfo_total "$e" "$name" "$MIB256"
	soft_step "$e: ${ENGINE_STEPS[4]}" check_null_node "$e" "$name" /tmp/null
	soft_step "$e: ${ENGINE_STEPS[5]}" check_toggle_off "$e" "$name"
	soft_step "$e: ${ENGINE_STEPS[6]}" check_toggle_on "$e" "$name"
	soft_step "$e: ${ENGINE_STEPS[7]}" check_engine_metrics "$name"
	[ "${E2E_VERBOSE:-0}" != 1 ] || { api GET /1.0/metrics; grep "container=\"$name\"" <<<"$API_BODY" | diag_lines; }
	soft_step "$e: ${ENGINE_STEPS[8]}" check_restart_without_store "$e" "$name"
	BLOCKED=""
	step "$e: ${ENGINE_STEPS[9]}" delete_and_unregister "$e" "$name"
}

diag_lines() { sed 's/^/# /'; }

# shellcheck source=lib_fleet_profile.sh
source "$E2E_DIR/lib_fleet_profile.sh"

# run_engine ENGINE: everything for Podman or containerd; skips, with the reason, when the
# engine is not installed.
run_engine() {
	local e=$1 tool s
	exec 3>&1	# diagnostics from inside step() captures
	e2e_init
	tool=$(engine_tool "$e")
	if ! command -v "$tool" >/dev/null || { [ "$e" = containerd ] && ! command -v containerd >/dev/null; }; then
		for s in "${ENGINE_STEPS[@]}" "${PROFILE_STEPS[@]}"; do
			tap_skip "$e: $s" "$e is not installed (tests/e2e/deps.sh)"
		done
		[ "$e" != containerd ] || for s in "${CTR_PROFILE_STEPS[@]}"; do
			tap_skip "containerd: seccomp-profile: $s" "containerd is not installed (tests/e2e/deps.sh)"
		done
		return 0
	fi
	[ "$e" != containerd ] || E2E_CLEANUP_HOOKS+=(containerd_daemon_down)
	daemon_up "$e: interceptd starts" || return 0
	scenario_engine "$e"
	scenario_engine_profile "$e"
	[ "$e" != containerd ] || scenario_ctr_seccomp_profile
	if [ "$E2E_FAILED" -gt 0 ]; then
		daemon_log | tail -n 30 | diag_lines
	fi
	daemon_stop
}
