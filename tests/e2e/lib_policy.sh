# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# e2e helpers for the generated policies' protections and for merged OCI profiles (sourced
# by lib.sh; uses its TAP, container, daemon and API helpers).
#
#   - check_deny_list: interceptd's default deny list (LXC's common.seccomp plus the kernel
#     keyring) answers every listed call with the policy's errno, as `probe denied` sees it
#   - lxc_rules_added: LXC 5.0.2's own log says it added each deny-list rule
#   - base_podman / base_containerd: the linux.seccomp that Podman 4.3 writes into a bundle and
#     that `ctr` (containerd 1.6) puts in a container's spec with --seccomp, obtained for real
#     from the tools here (private storage, --rootfs, no image, no network)
#   - scenario_merge RT: each base merged with POST …/seccomp?format=oci and run under RT; the
#     calls interceptd traps that the base denies (mount under containerd's, bpf under both)
#     keep the base's errno
# shellcheck disable=SC2034 # BLOCKED is read by step() in lib_tap.sh

# What `probe denied` prints under the generated policies.
DENY_EXPECT=(umount2=EACCES kexec_load=EPERM open_by_handle_at=EPERM init_module=EPERM
	finit_module=EPERM delete_module=EPERM keyctl=EPERM add_key=EPERM request_key=EPERM)
DENY_CALLS=(umount2 kexec_load open_by_handle_at init_module finit_module delete_module keyctl
	add_key request_key)

# check_deny_list RT NAME: every deny-list call fails with the errno of the policy.
check_deny_list() {
	local out want
	out=$(probe_in "$1" "$2" denied) || { echo "$out"; return 1; }
	for want in "${DENY_EXPECT[@]}"; do
		expect_eq "${want%%=*}" "$(kv "${want%%=*}" <<<"$out")" "${want#*=}" || { echo "$out"; return 1; }
	done
}

# check_deny_baseline RT NAME: without a policy the kernel answers the keyring calls and the
# force umount differently, so check_deny_list can tell a policy that lacks them. Keeps the
# answers in $E2E_WORK/denied-baseline for scenario_merge (record_deny_baseline).
check_deny_baseline() {
	local out want
	out=$(probe_in "$1" "$2" denied) || { echo "$out"; return 1; }
	printf '%s\n' "$out" >"$E2E_WORK/denied-baseline"
	for want in keyctl=ok add_key=ok request_key=ENOKEY umount2=ENOENT; do
		expect_eq "${want%%=*} without a policy" "$(kv "${want%%=*}" <<<"$out")" "${want#*=}" ||
			{ echo "$out"; return 1; }
	done
}

# lxc_rules_added NAME: LXC's log (lxc_start -l DEBUG) shows each deny-list rule was added for
# the native architecture with its errno (action = SCMP_ACT_ERRNO(e) = 0x50000 + e), i.e.
# LXC 5.0.2's parser took every line as meant.
lxc_rules_added() {
	local log want s action
	log=$(cdir "$1")/lxc.log
	for want in "${DENY_EXPECT[@]}"; do
		s=${want%%=*}
		case ${want#*=} in EPERM) action=$((0x50000 + 1));; EACCES) action=$((0x50000 + 13));; esac
		grep -qE "Adding native rule for syscall\[[0-9]+:$s\] action\[$action:errno\]" "$log" ||
			{ echo "no native rule for $s with action $action in $log:"; grep -E 'seccomp' "$log" | tail -n 30; return 1; }
	done
}

# --- bases from the real tools ---

podman_cmd() {
	local d=$E2E_WORK/podman
	e2e_v podman --root "$d/root" --runroot "$d/runroot" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
podman_stop() { rt_io podman_cmd rm -f "$1"; }
podman_exists() { rt_io podman_cmd container exists "$1"; }

# base_podman OUT: create and init a container (runc makes the bundle), copy its
# linux.seccomp, remove the container. -i: Podman would give it the host's /dev/null otherwise.
base_podman() {
	local out=$1 name=e2e-base-$$ cfg
	command -v podman >/dev/null || { echo "podman is not installed (tests/e2e/deps.sh)"; return 1; }
	rootfs_build "$E2E_WORK/podman/rootfs" || return 1
	E2E_CONTAINERS+=("podman $name")
	rt_io podman_cmd create -i --name "$name" --network none --ulimit nofile=1024:1024 \
		--ulimit nproc=1024:1024 --rootfs "$E2E_WORK/podman/rootfs" /bin/sh >/dev/null || return 1
	rt_io podman_cmd init "$name" >/dev/null || return 1
	cfg=$(rt_io podman_cmd inspect --format '{{.OCIConfigPath}}' "$name") || return 1
	jq -e '.linux.seccomp | objects' "$cfg" >"$out" || { echo "no linux.seccomp in $cfg"; return 1; }
	podman_stop "$name" >/dev/null
}

ctr_cmd() { e2e_v ctr --address "$E2E_WORK/containerd/containerd.sock" "$@"; }

containerd_start() {
	local d=$E2E_WORK/containerd
	mkdir -p "$d"
	cat >"$d/config.toml" <<-EOF
	version = 2
	root = "$d/root"
	state = "$d/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$d/containerd.sock"
	[ttrpc]
	  address = "$d/containerd.sock.ttrpc"
	EOF
	containerd --config "$d/config.toml" </dev/null >"$d/log" 2>&1 &
	echo $! >"$d/pid"
	for _ in $(seq 100); do
		[ -S "$d/containerd.sock" ] && return 0
		sleep 0.1
	done
	echo "containerd did not start:"; tail -n 20 "$d/log"
	return 1
}

# base_containerd OUT: `ctr containers create --seccomp` stores the spec `ctr run --seccomp`
# runs; copy its linux.seccomp. No task is started, so no runtime is involved.
base_containerd() {
	local out=$1 name=e2e-base-$$ rc=0
	if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
		echo "containerd is not installed (tests/e2e/deps.sh)"
		return 1
	fi
	rootfs_build "$E2E_WORK/containerd-rootfs" && containerd_start || return 1
	if ctr_cmd containers create --rootfs --seccomp "$E2E_WORK/containerd-rootfs" "$name" /bin/sh \
		</dev/null >/dev/null; then
		ctr_cmd containers info "$name" </dev/null | jq -e '.Spec.linux.seccomp | objects' >"$out" || rc=1
		ctr_cmd containers rm "$name" </dev/null >/dev/null || rc=1
	else
		rc=1
	fi
	stop_pid "$E2E_WORK/containerd/pid"
	return $rc
}

# --- scenario: a runtime's default profile merged with the container's rules ---

# The errno name of a number (the ones these profiles use).
errno_name() {
	case $1 in 1) echo EPERM;; 13) echo EACCES;; 22) echo EINVAL;; 38) echo ENOSYS;; *) echo "E$1";; esac
}

# base_answer BASE SYSCALL: what the base does with SYSCALL: "allow" or its errno name. The
# first unconditional rule naming it decides (libseccomp's rule), else the default action.
base_answer() {
	local v
	v=$(jq -r --arg s "$2" '
		([.syscalls[]? | select((.names | index($s)) and ((.args // []) | length == 0))] | first) as $r
		| if $r == null then
			(if .defaultAction == "SCMP_ACT_ERRNO" then (.defaultErrnoRet // 1) else "allow" end)
		  elif $r.action == "SCMP_ACT_ERRNO" then ($r.errnoRet // 1)
		  elif $r.action == "SCMP_ACT_ALLOW" then "allow" else "other" end' "$1") || return 1
	case $v in allow|other) echo "$v";; *) errno_name "$v";; esac
}

# check_base_kept RT NAME BASE: each deny-list call answers as the base says: its errno where it
# denies it, the kernel's answer (as without any policy) where it allows it.
check_base_kept() {
	local out s want n_denied=0
	out=$(probe_in "$1" "$2" denied) || { echo "$out"; return 1; }
	for s in "${DENY_CALLS[@]}"; do
		want=$(base_answer "$3" "$s") || return 1
		if [ "$want" = allow ]; then
			want=$(kv "$s" <"$E2E_WORK/denied-baseline")
		else
			n_denied=$((n_denied + 1))
		fi
		expect_eq "$s" "$(kv "$s" <<<"$out")" "$want" || { echo "$out"; return 1; }
	done
	[ "$n_denied" -gt 0 ] || { echo "the base denies none of ${DENY_CALLS[*]}: nothing checked"; return 1; }
}

# record_deny_baseline RT: the kernel's answers to the deny-list calls without a policy, which
# check_base_kept compares with. The baseline scenario leaves them in $E2E_WORK/denied-baseline;
# when the merge scenario runs without it, a container with no policy of its own records them.
record_deny_baseline() {
	local rt=$1 name=e2e-$1-nopolicy-$$ rc=0
	[ -s "$E2E_WORK/denied-baseline" ] && return 0
	if "${rt}_start" "$name" - && check_deny_baseline "$rt" "$name"; then
		rc=0
	else
		rc=1
		rm -f "$E2E_WORK/denied-baseline"
	fi
	check_gone "$rt" "$name" || rc=1
	return $rc
}

# Calls interceptd traps (their keys are on) that a base may deny, each with the probe
# command making it and the kernel's own answer, which differs from the bases' errnos: a tmpfs
# mount with CAP_SYS_ADMIN in the container's user namespace, and a BPF_PROG_LOAD whose attr
# cannot be read. Trapped (merged with trap_denied=true, or as the merge once did), mount
# reaches the kernel and succeeds, and bpf gets interceptd's EFAULT (with bpf.devices on, it
# reads the attr, and cannot), not the base's EPERM.
DENIED_CALLS=(mount bpf)
declare -A DENIED_PROBE=([mount]="mount-tmpfs /tmp" [bpf]="bpf-bad-attr")
declare -A DENIED_KERNEL=([mount]=ok [bpf]=EFAULT)

denied_desc() { echo "$1: $2 base: $3 gets the base's errno where the base denies it"; }

# check_denied_kept RT NAME BASE SYSCALL: where the base denies SYSCALL, the call gets the base's
# errno in the merged container, not the kernel's answer; where it allows it, the kernel's.
check_denied_kept() {
	local rt=$1 name=$2 s=$4 want
	want=$(base_answer "$3" "$s") || return 1
	case $want in
	allow) want=${DENIED_KERNEL[$s]} ;;
	E*) [ "$want" != "${DENIED_KERNEL[$s]}" ] ||
		{ echo "the base's answer to $s is the kernel's ($want): nothing told apart"; return 1; } ;;
	*) echo "the base's answer to $s is '$want', not an errno"; return 1 ;;
	esac
	# shellcheck disable=SC2086 # the probe command is words
	probe_expect "$rt" "$name" "$want" ${DENIED_PROBE[$s]}
}

# fetch_merged NAME BASE OUT: POST the base, keep .metadata; the merged profile has our listener.
fetch_merged() {
	local name=$1 base=$2 out=$3
	api_expect_2xx POST "/1.0/containers/$name/seccomp?format=oci" "$(cat "$base")" || return 1
	jq -e '.metadata | objects' <<<"$API_BODY" >"$out" || { echo "no object in .metadata: $API_BODY"; return 1; }
	jq -e --arg p "$(daemon_oci_socket)" --arg n "$name" \
		'.listenerPath == $p and .listenerMetadata == $n and (has("flags") | not)' "$out" >/dev/null ||
		{ echo "listener fields wrong: $(jq -c '{listenerPath, listenerMetadata, flags}' "$out")"; return 1; }
}

start_merged() {
	local rt=$1 name=$2 c
	c=$(cdir "$name")
	mkdir -p "$c"
	# CAP_SYS_ADMIN: the kernel alone would let the container mount a tmpfs
	echo "CAP_MKNOD CAP_SYS_ADMIN" >"$c/caps"
	"${rt}_set_memory" "$name" "$MIB256"
	"${rt}_start" "$name" "$3"
}

MERGE_KEYS='"security.syscalls.intercept.sysinfo":"true","security.syscalls.intercept.mknod":"true",'
MERGE_KEYS+='"security.syscalls.intercept.mount":"true","security.syscalls.intercept.bpf":"true",'
MERGE_KEYS+='"security.syscalls.intercept.bpf.devices":"true"'

MERGE_STEPS=(
	"the tool writes its default linux.seccomp"
	"registered with sysinfo, mknod, mount, bpf and bpf.devices on"
	"merged over the API (listener set, flags gone)"
	"the container starts with the merged profile"
	"sysinfo is trapped and emulated (256 MiB)"
	"mknod c 1 3 is trapped and emulated"
	"a FIFO is still made by the kernel (mknodat stays allowed)"
	"calls the base denies are still denied, the others not"
	"container deleted and unregistered"
)

# merge_one RT BASE_NAME: register, merge the base, run, check, delete. Skipped, with the
# reason, when the base's tool is not installed.
merge_one() {
	local rt=$1 which=$2 name=e2e-$1-$2-$$ base=$E2E_WORK/base-$2.json merged tool s
	merged=$E2E_WORK/merged-$name.json
	tool=$which
	[ "$which" = containerd ] && tool=ctr
	if ! command -v "$tool" >/dev/null; then
		for s in "${MERGE_STEPS[@]}"; do tap_skip "$rt: $which base: $s" "$tool is not installed (tests/e2e/deps.sh)"; done
		for s in "${DENIED_CALLS[@]}"; do
			tap_skip "$(denied_desc "$rt" "$which" "$s")" "$tool is not installed (tests/e2e/deps.sh)"
		done
		return 0
	fi
	BLOCKED=""
	if [ ! -s "$base" ]; then
		step "$rt: $which base: ${MERGE_STEPS[0]}" "base_$which" "$base"
	else
		tap_ok "$rt: $which base: ${MERGE_STEPS[0]}"
	fi
	step "$rt: $which base: ${MERGE_STEPS[1]}" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{$MERGE_KEYS}}"
	step "$rt: $which base: ${MERGE_STEPS[2]}" fetch_merged "$name" "$base" "$merged"
	step "$rt: $which base: ${MERGE_STEPS[3]}" start_merged "$rt" "$name" "$merged"
	soft_step "$rt: $which base: ${MERGE_STEPS[4]}" check_sysinfo_total "$rt" "$name" "$MIB256"
	soft_step "$rt: $which base: ${MERGE_STEPS[5]}" probe_expect "$rt" "$name" ok mknod /tmp/null c 1 3
	soft_step "$rt: $which base: ${MERGE_STEPS[6]}" probe_expect "$rt" "$name" ok mknod /tmp/fifo p 0 0
	soft_step "$rt: $which base: ${MERGE_STEPS[7]}" check_base_kept "$rt" "$name" "$base"
	for s in "${DENIED_CALLS[@]}"; do
		soft_step "$(denied_desc "$rt" "$which" "$s")" check_denied_kept "$rt" "$name" "$base" "$s"
	done
	BLOCKED=""
	step "$rt: $which base: ${MERGE_STEPS[8]}" delete_and_unregister "$rt" "$name"
}

# probe_killed RT NAME CMD...: the probe is killed by SIGSYS (exit 128 + 31) and prints nothing.
probe_killed() {
	local rt=$1 name=$2 out rc=0
	shift 2
	out=$(probe_in "$rt" "$name" "$@" 2>&1) || rc=$?
	expect_eq "exit status of probe $*" "$rc" 159 || { echo "$out"; return 1; }
}

HARDENED_STEPS=(
	"registered with sysinfo, mknod, mount, bpf and bpf.devices on"
	"merged over the API"
	"the container starts with the merged profile"
	"seccomp with a listener is killed (SIGSYS) as the base says, not answered EINVAL"
	"sysinfo is still trapped and emulated (256 MiB)"
	"container deleted and unregistered"
)

# merge_hardened RT: the Podman base with seccomp killed outright, as a hardened profile kills
# what it forbids. interceptd's own guard (EINVAL for a new listener) must not turn that kill
# into an errno the process survives. Skipped when the Podman base was not written.
merge_hardened() {
	local rt=$1 name=e2e-$1-hardened-$$ base=$E2E_WORK/base-podman.json hardened merged s
	hardened=$E2E_WORK/base-hardened.json
	merged=$E2E_WORK/merged-$name.json
	if [ ! -s "$base" ]; then
		for s in "${HARDENED_STEPS[@]}"; do tap_skip "$rt: hardened base: $s" "no Podman base"; done
		return 0
	fi
	jq '.syscalls = [{names: ["seccomp"], action: "SCMP_ACT_KILL_PROCESS"}] + .syscalls' \
		"$base" >"$hardened"
	BLOCKED=""
	step "$rt: hardened base: ${HARDENED_STEPS[0]}" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{$MERGE_KEYS}}"
	step "$rt: hardened base: ${HARDENED_STEPS[1]}" fetch_merged "$name" "$hardened" "$merged"
	step "$rt: hardened base: ${HARDENED_STEPS[2]}" start_merged "$rt" "$name" "$merged"
	soft_step "$rt: hardened base: ${HARDENED_STEPS[3]}" probe_killed "$rt" "$name" seccomp-listener
	soft_step "$rt: hardened base: ${HARDENED_STEPS[4]}" check_sysinfo_total "$rt" "$name" "$MIB256"
	BLOCKED=""
	step "$rt: hardened base: ${HARDENED_STEPS[5]}" delete_and_unregister "$rt" "$name"
}

scenario_merge() {
	local rt=$1 which
	BLOCKED=""
	daemon_start >/dev/null 2>&1 && daemon_api_ready >/dev/null || {
		tap_fail "$rt: merge: interceptd starts" "$(daemon_log | tail -n 5)"
		daemon_stop
		return 0
	}
	step "$rt: merge: the kernel's answers without a policy, to compare with" \
		record_deny_baseline "$rt"
	for which in podman containerd; do
		merge_one "$rt" "$which"
	done
	merge_hardened "$rt"
	if [ "$E2E_FAILED" -gt 0 ]; then
		daemon_log | tail -n 30 | sed 's/^/# /'
	fi
	daemon_stop
}
