# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Shared helpers for the interceptd end-to-end tests (sourced by tests/e2e/test_*.sh).
#
# What lives here:
#   - TAP reporting (tap_ok / tap_fail / tap_skip / tap_check); run.sh numbers the lines
#   - a work dir under /tmp, and a cleanup trap that always deletes containers, stops what we
#     started (by PID) and unmounts what was mounted
#   - a busybox-static rootfs per container, chowned for the user namespace without ever
#     crossing a mount (host /dev nodes bind-mounted into a container must never be touched)
#   - the interceptd daemon (temp sockets and state dir) and `api` over its unix socket
#   - the mini_agent test tool (OCI + LXC seccomp agent answering CONTINUE)
#   - runc_*, crun_*, lxc_*: start/exec/stop an unprivileged container (0 -> 100000, 65536 ids),
#     set its memory limit before start, read the limit back from its cgroup
#
# Environment:
#   INTERCEPTD_BIN   daemon binary [BUILD_DIR/daemon/interceptd]
#   E2E_BUILD_DIR    meson build dir [SRC/build]
#   E2E_KEEP=1       keep the work dir (logs, rootfs) after the run
#   E2E_VERBOSE=1    echo every container command on stderr
#   E2E_SCENARIOS    run only these scenarios, e.g. "bpf" or "daemon handlers" [all]

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_SRC=$(cd "$E2E_DIR/../.." && pwd)
E2E_BUILD_DIR=${E2E_BUILD_DIR:-$E2E_SRC/build}
INTERCEPTD_BIN=${INTERCEPTD_BIN:-$E2E_BUILD_DIR/daemon/interceptd}

E2E_UID_BASE=100000
E2E_ID_COUNT=65536
E2E_SUBID_LINE="root:100000:10000001"
E2E_WORK=""
E2E_FAILED=0
E2E_CONTAINERS=()	# "runtime name" of every container started, for the cleanup trap
E2E_CLEANUP_HOOKS=()	# commands the cleanup trap runs once the containers are gone

# ---------------------------------------------------------------------------------------------
# TAP. Test files print unnumbered lines; run.sh numbers them and prints the plan.

tap_ok()   { printf 'ok - %s\n' "$1"; }
tap_fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
tap_skip() { printf 'ok - %s # SKIP %s\n' "$1" "$2"; }
diag()     { printf '%s\n' "$*" | sed 's/^/# /'; }

# tap_check DESC CMD...: ok when CMD succeeds, not ok with its output otherwise.
tap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$out"
	fi
}

# rt_io CMD...: run a container runtime command whose stdio are only files of our own.
# crun 1.8.1 fchown()s its stdio to the container's root uid: given the host's /dev/null as
# stdin it made the host /dev/null owned by 100000. So never hand a runtime /dev/null, a
# terminal or the caller's pipes: stdin is a private empty file, stdout and stderr go to
# private files that are copied to ours afterwards.
rt_io() {
	local out err rc
	out=$(mktemp "$E2E_WORK/io.XXXXXX") && err=$(mktemp "$E2E_WORK/io.XXXXXX") || return 1
	: >"$E2E_WORK/stdin"
	"$@" <"$E2E_WORK/stdin" >"$out" 2>"$err"
	rc=$?
	cat "$out"
	cat "$err" >&2
	rm -f "$out" "$err"
	return "$rc"
}

# The host device nodes a runtime bind-mounts into containers, with their owner, so a run
# can prove it left them alone (and put them back if not).
HOST_DEVS="/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty"
host_devs_snapshot() { local d; for d in $HOST_DEVS; do stat -c '%n %u:%g %a' "$d"; done; }

# e2e_v CMD...: run CMD under a timeout (E2E_CMD_TIMEOUT seconds, default 60), echoing it
# when E2E_VERBOSE=1. Every runtime command goes through it, so a hung container cannot hang
# the suite.
e2e_v() {
	[ "${E2E_VERBOSE:-0}" = 1 ] && echo "+ $*" >&2
	timeout -k 5 "${E2E_CMD_TIMEOUT:-60}" "$@"
}

# ---------------------------------------------------------------------------------------------
# Setup and teardown

# e2e_init: root check, subordinate ids, work dir, test binaries, cleanup trap.
e2e_init() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP e2e tests need root"
		exit 77
	fi
	ensure_subids || return 1
	E2E_WORK=$(mktemp -d /tmp/interceptd-e2e.XXXXXX) || return 1
	chmod 0755 "$E2E_WORK"	# the container's uid 100000 must traverse it
	: >"$E2E_WORK/empty"
	: >"$E2E_WORK/stdin"
	host_devs_snapshot >"$E2E_WORK/devs.before"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	build_tools
}

# The LXC/uidmap tools want root's subordinate range; add it once, never twice.
ensure_subids() {
	local f
	for f in /etc/subuid /etc/subgid; do
		grep -qxF "$E2E_SUBID_LINE" "$f" 2>/dev/null || echo "$E2E_SUBID_LINE" >>"$f" || return 1
	done
}

build_tools() {
	mkdir -p "$E2E_WORK/bin"
	gcc -static -O2 -Wall -Wextra -Werror -o "$E2E_WORK/bin/probe" "$E2E_DIR/probe.c" ||
		{ echo "Bail out! cannot build probe (gcc -static)"; exit 1; }
	gcc -O2 -Wall -Wextra -Werror -o "$E2E_WORK/bin/mini_agent" "$E2E_DIR/mini_agent.c" -lseccomp ||
		{ echo "Bail out! cannot build mini_agent (libseccomp-dev?)"; exit 1; }
	gcc -O2 -Wall -Wextra -Werror -o "$E2E_WORK/bin/fdstore_keeper" "$E2E_DIR/fdstore_keeper.c" ||
		{ echo "Bail out! cannot build fdstore_keeper"; exit 1; }
	gcc -O2 -Wall -Wextra -Werror -o "$E2E_WORK/bin/console_receiver" "$E2E_DIR/console_receiver.c" ||
		{ echo "Bail out! cannot build console_receiver"; exit 1; }
}

e2e_cleanup() {
	local rc=$? entry
	trap - EXIT
	for entry in "${E2E_CONTAINERS[@]}"; do
		# shellcheck disable=SC2086
		set -- $entry
		"${1}_stop" "$2" >"$E2E_WORK/stop.log" 2>&1
	done
	for entry in "${E2E_CLEANUP_HOOKS[@]}"; do
		"$entry" >"$E2E_WORK/stop.log" 2>&1
	done
	agent_stop
	receivers_stop
	daemon_stop
	mount_cleanup
	if [ -n "$E2E_WORK" ] && [ -f "$E2E_WORK/devs.before" ]; then
		host_devs_check || rc=1
	fi
	if [ -n "$E2E_WORK" ] && [ -d "$E2E_WORK" ]; then
		umount_under "$E2E_WORK"
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			diag "work dir kept: $E2E_WORK"
		else
			safe_rm "$E2E_WORK"
		fi
	fi
	exit "$rc"
}

# After all containers are gone: the host device nodes must be as they were. If a runtime
# changed one, say so (not ok) and put its owner and mode back.
host_devs_check() {
	local now
	now=$(host_devs_snapshot)
	if [ "$now" = "$(cat "$E2E_WORK/devs.before")" ]; then
		tap_ok "host device nodes untouched ($HOST_DEVS)"
		return 0
	fi
	tap_fail "host device nodes untouched" "before: $(cat "$E2E_WORK/devs.before")" "after: $now"
	local name owner mode
	while read -r name owner mode; do
		chown "$owner" "$name" && chmod "$mode" "$name"
	done <"$E2E_WORK/devs.before"
	return 1
}

# ---------------------------------------------------------------------------------------------
# Mount-safe file operations

# Mount points at or below DIR, deepest first (the kernel escapes spaces as \040).
mounts_under() {
	local dir
	dir=$(realpath -m "$1")
	awk -v d="$dir" '{ gsub(/\\040/, " ", $2); if ($2 == d || index($2, d "/") == 1) print $2 }' \
		/proc/self/mounts | sort -r
}

umount_under() {
	local m
	while IFS= read -r m; do
		[ -n "$m" ] && umount -l "$m" 2>/dev/null
	done < <(mounts_under "$1")
	[ -z "$(mounts_under "$1")" ]
}

# chown a tree for the container's user namespace, refusing if anything is mounted below it.
safe_chown() {
	local dir=$1 owner=$2
	if [ -n "$(mounts_under "$dir")" ]; then
		echo "refusing to chown $dir: mounts below it: $(mounts_under "$dir" | tr '\n' ' ')" >&2
		return 1
	fi
	find "$dir" -xdev -exec chown -h "$owner" {} +
}

safe_rm() {
	local dir=$1
	case $dir in /tmp/interceptd-e2e.*) ;; *) echo "safe_rm: refusing '$dir'" >&2; return 1;; esac
	if ! umount_under "$dir"; then
		echo "safe_rm: mounts remain under $dir, not removing" >&2
		return 1
	fi
	rm -rf --one-file-system "$dir"
}

# ---------------------------------------------------------------------------------------------
# Root filesystem

# rootfs_build DIR: busybox-static applets, passwd/group, probe; owned by the userns root.
rootfs_build() {
	local root=$1 applet
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var,usr/bin,usr/sbin}
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
		>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	cp "$E2E_WORK/bin/probe" "$root/bin/probe"
	# a scenario's own files (scenario_mount.sh)
	[ -z "${ROOTFS_EXTRA:-}" ] || "$ROOTFS_EXTRA" "$root" || return 1
	safe_chown "$root" "$E2E_UID_BASE:$E2E_UID_BASE"
}

cdir() { echo "$E2E_WORK/c/$1"; }

# ---------------------------------------------------------------------------------------------
# cgroups (hybrid v1 + v2 here; plain v2 elsewhere)

memory_is_v1() { awk '$3 == "cgroup" && $2 == "/sys/fs/cgroup/memory" { f = 1 } END { exit !f }' /proc/self/mounts; }

# The memory limit in bytes of the cgroup PID is in ("max" on v2 when unlimited).
cgroup_memory_limit_of_pid() {
	local pid=$1 path
	if memory_is_v1; then
		path=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes"
	else
		path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
		if [ -d /sys/fs/cgroup/unified ]; then
			cat "/sys/fs/cgroup/unified$path/memory.max"
		else
			cat "/sys/fs/cgroup$path/memory.max"
		fi
	fi
}

host_memtotal_bytes() { awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo; }

# kv KEY < probe output: the value of KEY=…
kv() { sed -n "s/^$1=//p" | head -n1; }

# ---------------------------------------------------------------------------------------------
# The daemon and its API

daemon_start() {
	local d=$E2E_WORK/daemon
	mkdir -p "$d/state"
	if [ ! -x "$INTERCEPTD_BIN" ]; then
		echo "no daemon binary at $INTERCEPTD_BIN" >&2
		return 1
	fi
	# --log-file: lines with their time, to set beside LXC's log; anything else on stderr
	: >"$d/log"
	# shellcheck disable=SC2094 # both append; nothing reads it here
	"$INTERCEPTD_BIN" --api-socket "$d/api.sock" --lxc-socket "$d/lxc.sock" \
		--oci-socket "$d/oci.sock" --state-dir "$d/state" --log-level debug \
		--log-file "$d/log" </dev/null >>"$d/log" 2>&1 &
	echo $! >"$d/pid"
	for _ in $(seq 100); do
		[ -S "$d/api.sock" ] && [ -S "$d/oci.sock" ] && [ -S "$d/lxc.sock" ] && return 0
		kill -0 "$(cat "$d/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "daemon did not come up; log:" >&2
	cat "$d/log" >&2
	return 1
}

# stop_pid PIDFILE: TERM, wait up to 5 s, then KILL. Only ever the PID we recorded.
stop_pid() {
	local pidfile=$1 pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	rm -f "$pidfile"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

daemon_stop() { [ -n "$E2E_WORK" ] && stop_pid "$E2E_WORK/daemon/pid"; }
daemon_log()  { cat "$E2E_WORK/daemon/log" 2>/dev/null; }
daemon_oci_socket() { echo "$E2E_WORK/daemon/oci.sock"; }

# api METHOD PATH [BODY]: sets API_STATUS (000 when no answer) and API_BODY.
API_STATUS=000
API_BODY=""
api() {
	local method=$1 path=$2 body=${3-} out=$E2E_WORK/daemon/api.out
	# generous: a loaded host can hold the daemon for seconds; a daemon that never
	# answers fails all the same
	local args=(-s --unix-socket "$E2E_WORK/daemon/api.sock" --max-time 30 -o "$out"
		-w '%{http_code}' -X "$method")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	: >"$out"
	API_STATUS=$(curl "${args[@]}" "http://localhost$path" 2>/dev/null) || true
	[ -n "$API_STATUS" ] || API_STATUS=000
	API_BODY=$(cat "$out")
}

# Whether the running daemon serves the management API (GET /1.0 and /1.0/containers).
# Prints the reason when it does not.
daemon_api_ready() {
	api GET /1.0
	if [ "$API_STATUS" != 200 ]; then
		echo "interceptd API not available yet (GET /1.0 -> $API_STATUS)"
		return 1
	fi
	api GET /1.0/containers
	if [ "$API_STATUS" != 200 ]; then
		echo "interceptd API has no /1.0/containers yet (GET -> $API_STATUS)"
		return 1
	fi
}

# metric_value NAME LABEL=VALUE...: the sample value of the series with all those labels (with
# none, also of a metric that has no labels).
metric_value() {
	local name=$1
	shift
	api GET /1.0/metrics
	[ "$API_STATUS" = 200 ] || return 1
	printf '%s\n' "$API_BODY" | awk -v name="$name" -v want="$*" '
		index($0, name "{") == 1 || (want == "" && index($0, name " ") == 1) {
			n = split(want, w, " "); ok = 1
			for (i = 1; i <= n; i++) {
				split(w[i], kvp, "=")
				if (index($0, kvp[1] "=\"" kvp[2] "\"") == 0) ok = 0
			}
			if (ok) { print $NF; found = 1; exit }
		}
		END { exit !found }'
}

# ---------------------------------------------------------------------------------------------
# mini_agent

agent_start() {
	local a=$E2E_WORK/agent
	mkdir -p "$a"
	"$E2E_WORK/bin/mini_agent" --oci "$a/oci.sock" --lxc "$a/lxc.sock" </dev/null >"$a/log" 2>&1 &
	echo $! >"$a/pid"
	for _ in $(seq 50); do
		grep -q '^ready$' "$a/log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "mini_agent did not start: $(cat "$a/log")" >&2
	return 1
}

agent_stop() { [ -n "$E2E_WORK" ] && stop_pid "$E2E_WORK/agent/pid"; }
agent_oci_socket() { echo "$E2E_WORK/agent/oci.sock"; }
agent_lxc_socket() { echo "$E2E_WORK/agent/lxc.sock"; }
agent_log() { cat "$E2E_WORK/agent/log" 2>/dev/null; }
# agent_count ERE: how many agent log lines match.
agent_count() { grep -cE "$1" "$E2E_WORK/agent/log" 2>/dev/null || true; }

# The OCI linux.seccomp object our daemon generates, for LISTENER and NAME.
oci_policy_json() {
	jq -n --arg path "$1" --arg name "$2" '{
		defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		listenerPath: $path,
		listenerMetadata: $name,
		syscalls: [
			{ names: ["seccomp"], action: "SCMP_ACT_ERRNO", errnoRet: 22,
			  args: [{ index: 1, value: 8, valueTwo: 8, op: "SCMP_CMP_MASKED_EQ" }] },
			{ names: ["sysinfo"], action: "SCMP_ACT_NOTIFY" }
		]}'
}

# The LXC config lines our daemon generates: writes the policy file POLICY, prints the lines.
lxc_policy_lines() {
	local sock=$1 name=$2 policy=$3
	printf '2\ndenylist\n[all]\nseccomp errno 22 [1,8,SCMP_CMP_MASKED_EQ,8]\nsysinfo notify\n' >"$policy"
	printf 'lxc.seccomp.profile = %s\nlxc.seccomp.notify.proxy = unix:%s\nlxc.seccomp.notify.cookie = %s\n' \
		"$policy" "$sock" "$name"
}

# ---------------------------------------------------------------------------------------------
# OCI runtimes (runc, crun): one bundle per container, private state dirs under the work dir

# <runtime>_set_memory NAME BYTES: memory limit for the next start.
runc_set_memory() { mkdir -p "$(cdir "$1")" && echo "$2" >"$(cdir "$1")/memory_limit"; }
crun_set_memory() { runc_set_memory "$@"; }

# oci_bundle NAME SECCOMP_JSON_FILE: rootfs + config.json (from `runc spec`, made unprivileged).
oci_bundle() {
	local name=$1 seccomp=${2:-} c mem=null
	c=$(cdir "$name")
	mkdir -p "$c"
	rootfs_build "$c/rootfs" || return 1
	rm -f "$c/config.json"
	runc spec --bundle "$c" || return 1
	[ -f "$c/memory_limit" ] && mem=$(cat "$c/memory_limit")
	local caps=[] rt=null term=false proc=null
	[ -f "$c/caps" ] && caps=$(jq -R 'split(" ")' <"$c/caps")
	# process.json: an object merged into .process (user, args), see scenario_nested_init
	[ -f "$c/process.json" ] && proc=$(cat "$c/process.json")
	[ -f "$c/terminal" ] && term=true
	[ -f "$c/rt_runtime" ] && rt=$(cat "$c/rt_runtime")
	if [ -z "$seccomp" ] || [ "$seccomp" = - ]; then
		seccomp="$c/no-seccomp.json"
		echo null >"$seccomp"
	fi
	jq --arg name "$name" --argjson base "$E2E_UID_BASE" --argjson size "$E2E_ID_COUNT" \
		--argjson mem "$mem" --argjson caps "$caps" --argjson rt "$rt" --argjson term "$term" \
		--argjson proc "$proc" --slurpfile sec "$seccomp" '
		.process.terminal = $term
		| .process.args = ["/bin/sleep", "2147483647"]
		| .hostname = $name
		| .root = { path: "rootfs", readonly: false }
		| .linux.namespaces = ([.linux.namespaces[] | select(.type != "user")] + [{ type: "user" }])
		| .linux.uidMappings = [{ containerID: 0, hostID: $base, size: $size }]
		| .linux.gidMappings = [{ containerID: 0, hostID: $base, size: $size }]
		| if $sec[0] != null then .linux.seccomp = $sec[0] else del(.linux.seccomp) end
		| if $mem != null then .linux.resources.memory = { limit: $mem } else . end
		| .process.capabilities |= with_entries(.value += $caps)
		| if $rt != null then .linux.resources.cpu = { realtimeRuntime: $rt, realtimePeriod: 1000000 } else . end
		| if $proc != null then .process += $proc else . end
		' "$c/config.json" >"$c/config.json.new" && mv "$c/config.json.new" "$c/config.json" ||
		return 1
	# config.jq: a scenario's own changes (devices, mounts), applied last
	[ ! -f "$c/config.jq" ] ||
		{ jq -f "$c/config.jq" "$c/config.json" >"$c/config.json.new" &&
			mv "$c/config.json.new" "$c/config.json"; }
}

runc_cmd() { e2e_v runc --root "$E2E_WORK/runc-state" "$@"; }

# runc_start NAME SECCOMP_JSON_FILE ("-" for none): start detached; fails if it is not running.
runc_start() {
	local name=$1 c console=()
	c=$(cdir "$name")
	oci_bundle "$name" "${2:-}" || return 1
	E2E_CONTAINERS+=("runc $name")
	# with a terminal, the pty master goes to console_receiver (scenario_console)
	[ -f "$c/terminal" ] && console=(--console-socket "$c/console.sock")
	rt_io runc_cmd run -d --pid-file "$c/pid" "${console[@]}" --bundle "$c" "$name" \
		>"$c/run.log" 2>&1 ||
		{ cat "$c/run.log" >&2; return 1; }
	rt_io runc_cmd state "$name" | jq -e '.status == "running"' >/dev/null
}
runc_exec() { local n=$1; shift; rt_io runc_cmd exec "$n" "$@"; }
runc_stop() { rt_io runc_cmd delete -f "$1"; }
runc_pid()  { cat "$(cdir "$1")/pid"; }
runc_cgroup_memory() { cgroup_memory_limit_of_pid "$(runc_pid "$1")"; }

# crun 1.8.1 refuses a hybrid host whose cgroup2 lists controllers: run every crun command in
# a private mount namespace where that file is masked by an empty one. The host is untouched.
crun_cmd() {
	local ctl=/sys/fs/cgroup/unified/cgroup.controllers
	if [ -f "$ctl" ] && [ -n "$(cat "$ctl")" ]; then
		# shellcheck disable=SC2016 # expanded by the inner sh
		e2e_v unshare -m --propagation private sh -c \
			'mount --bind "$0" "$1" && shift && exec crun "$@"' \
			"$E2E_WORK/empty" "$ctl" --root "$E2E_WORK/crun-state" "$@"
	else
		e2e_v crun --root "$E2E_WORK/crun-state" "$@"
	fi
}

crun_start() {
	local name=$1 c console=()
	c=$(cdir "$name")
	oci_bundle "$name" "${2:-}" || return 1
	E2E_CONTAINERS+=("crun $name")
	# with a terminal, the pty master goes to console_receiver (scenario_console)
	[ -f "$c/terminal" ] && console=(--console-socket "$c/console.sock")
	rt_io crun_cmd run -d --pid-file "$c/pid" "${console[@]}" --bundle "$c" "$name" \
		>"$c/run.log" 2>&1 ||
		{ cat "$c/run.log" >&2; return 1; }
	rt_io crun_cmd state "$name" | jq -e '.status == "running"' >/dev/null
}
crun_exec() { local n=$1; shift; rt_io crun_cmd exec "$n" "$@"; }
crun_stop() { rt_io crun_cmd delete -f "$1"; }
crun_pid()  { cat "$(cdir "$1")/pid"; }
crun_cgroup_memory() { cgroup_memory_limit_of_pid "$(crun_pid "$1")"; }

# ---------------------------------------------------------------------------------------------
# LXC (unprivileged, started by root)

lxc_path() { echo "$E2E_WORK/lxc"; }

# lxc_set_memory NAME BYTES: the v1 key on this hybrid host, the cgroup2 key on a v2 host.
lxc_set_memory() {
	local c
	c=$(cdir "$1")
	mkdir -p "$c"
	if memory_is_v1; then
		echo "lxc.cgroup.memory.limit_in_bytes = $2" >"$c/memory.conf"
	else
		echo "lxc.cgroup2.memory.max = $2" >"$c/memory.conf"
	fi
}

# lxc_start NAME EXTRA_CONFIG_FILE ("-" for none): e.g. the lines from ?format=lxc.
lxc_start() {
	local name=$1 extra=${2:-} c lp state
	c=$(cdir "$name")
	lp=$(lxc_path)
	mkdir -p "$c" "$lp/$name"
	rootfs_build "$c/rootfs" || return 1
	{
		echo "lxc.uts.name = $name"
		echo "lxc.rootfs.path = dir:$c/rootfs"
		echo "lxc.idmap = u 0 $E2E_UID_BASE $E2E_ID_COUNT"
		echo "lxc.idmap = g 0 $E2E_UID_BASE $E2E_ID_COUNT"
		echo "lxc.net.0.type = empty"
		echo "lxc.mount.auto = proc:mixed sys:ro cgroup:mixed"
		echo "lxc.autodev = 1"
		echo "lxc.tty.max = 0"
		echo "lxc.pty.max = 8"
		echo "lxc.console.path = none"
		echo "lxc.init.cmd = /bin/sleep 2147483647"
		[ -f "$c/memory.conf" ] && cat "$c/memory.conf"
		[ -f "$c/rt_runtime" ] && echo "lxc.cgroup.cpu.rt_runtime_us = $(cat "$c/rt_runtime")"
		[ -n "$extra" ] && [ "$extra" != - ] && cat "$extra"
	} >"$lp/$name/config"
	E2E_CONTAINERS+=("lxc $name")
	rt_io e2e_v lxc-start -P "$lp" -n "$name" -o "$c/lxc.log" -l DEBUG >"$c/run.log" 2>&1 ||
		{ cat "$c/run.log" >&2; return 1; }
	rt_io e2e_v lxc-wait -P "$lp" -n "$name" -s RUNNING -t 10 >/dev/null 2>&1
	# With the proxy down LXC ends up STOPPED and lxc-start still returns 0: check.
	state=$(rt_io lxc-info -P "$lp" -n "$name" -s -H 2>/dev/null)
	if [ "$state" != RUNNING ]; then
		echo "lxc container $name is '$state' after lxc-start; errors from $c/lxc.log:" >&2
		{ grep -E ' (ERROR|WARN) ' "$c/lxc.log" || tail -n 15 "$c/lxc.log"; } | tail -n 15 >&2
		return 1
	fi
}
lxc_exec() { local n=$1; shift; rt_io e2e_v lxc-attach -P "$(lxc_path)" -n "$n" --clear-env -- "$@"; }
lxc_pid()  { rt_io lxc-info -P "$(lxc_path)" -n "$1" -p -H; }
lxc_cgroup_memory() { cgroup_memory_limit_of_pid "$(lxc_pid "$1")"; }

# Always stop and destroy; lxc-destroy only when nothing is mounted below the rootfs.
lxc_stop() {
	local name=$1 lp c
	lp=$(lxc_path)
	c=$(cdir "$name")
	[ -f "$lp/$name/config" ] || return 0
	rt_io e2e_v lxc-stop -P "$lp" -n "$name" -k >/dev/null 2>&1
	if umount_under "$c/rootfs"; then
		rt_io e2e_v lxc-destroy -P "$lp" -n "$name" >/dev/null 2>&1
	fi
	rm -f "$lp/$name/config"
}

# How many LXC calls the daemon answered itself because --lxc-deadline-ms passed (0 for OCI).
lxc_deadline_count() {
	local v
	v=$(metric_value interceptd_lxc_deadline_exceeded_total) || v=0
	echo "${v%.*}"
}

# LXC 5.0.2's errors when its exchange with the seccomp proxy fails: the caller gets ENOSYS, and
# once its one reconnect failed, so does every later lxc-attach process.
LXC_PROXY_ERRORS='No seccomp proxy|Failed to (forward message to|receive message from|reconnect to) seccomp proxy|Proxy (returned response with invalid id|filled reserved data)'

# check_lxc_proxy NAME: LXC's log of container NAME shows no failed exchange with the daemon:
# every call got one reply of the right size within LXC's 30 s. Calls the daemon answered at
# --lxc-deadline-ms (a loaded host can make a call that slow) are only reported.
check_lxc_proxy() {
	local log errors n
	log=$(cdir "$1")/lxc.log
	[ -f "$log" ] || { echo "no LXC log at $log"; return 1; }
	n=$(lxc_deadline_count)
	[ "$n" = 0 ] || diag "lxc: $n calls answered at --lxc-deadline-ms" >&3
	errors=$(grep -E "$LXC_PROXY_ERRORS" "$log") || return 0
	echo "LXC's exchange with the seccomp proxy failed (its callers got ENOSYS):"
	tail -n 20 <<<"$errors"
	return 1
}

# ---------------------------------------------------------------------------------------------
# Scenarios shared by the per-runtime test files. RT is runc, crun or lxc.

runc_exists() { rt_io runc_cmd state "$1" >/dev/null 2>&1; }
crun_exists() { rt_io crun_cmd state "$1" >/dev/null 2>&1; }
lxc_exists()  { [ -f "$(lxc_path)/$1/config" ]; }

is_oci() { [ "$1" != lxc ]; }

probe_in() { local rt=$1 n=$2; shift 2; "${rt}_exec" "$n" /bin/probe "$@"; }

# Steps of one scenario: once a step fails, the later ones report "not ok" as blocked, so
# every run prints the same list of tests.
BLOCKED=""
step() {
	local desc=$1 out
	shift
	if [ -n "$BLOCKED" ]; then
		tap_fail "$desc" "blocked: $BLOCKED"
		return 1
	fi
	if out=$("$@" 2>&1); then
		tap_ok "$desc"
		[ -n "$out" ] && [ "${E2E_VERBOSE:-0}" = 1 ] && diag "$out"
		return 0
	fi
	tap_fail "$desc" "$out"
	# what the daemon said meanwhile: a later restart or the run's end may hide it
	daemon_log | grep -v '^<7>API ' | tail -n 15 | sed 's/^/#   daemon: /'
	[ -n "${SOFT:-}" ] || BLOCKED=$desc
	return 1
}
# soft_step DESC CMD...: a step whose failure does not block the later ones.
soft_step() { SOFT=1 step "$@"; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: got '$2', want '$3'"
	return 1
}

# check_sysinfo_total RT NAME WANT_BYTES: `probe sysinfo` totalram * mem_unit == WANT_BYTES.
check_sysinfo_total() {
	local out
	out=$(probe_in "$1" "$2" sysinfo) || { echo "probe sysinfo failed: $out"; return 1; }
	expect_eq "totalram_bytes" "$(kv totalram_bytes <<<"$out")" "$3" || { echo "$out"; return 1; }
}

check_userns() {
	local map
	map=$("${1}_exec" "$2" /bin/cat /proc/self/uid_map) || return 1
	map=$(tr -s ' \t' '  ' <<<"$map" | sed 's/^ //; s/ $//')
	expect_eq "uid_map" "$map" "0 $E2E_UID_BASE $E2E_ID_COUNT"
}

check_probe_sysinfo_runs() {
	local out
	out=$(probe_in "$1" "$2" sysinfo) || { echo "$out"; return 1; }
	if [ "$(kv totalram <<<"$out")" -gt 0 ] && [ -n "$(kv mem_unit <<<"$out")" ]; then
		return 0
	fi
	echo "$out"
	return 1
}

check_cgroup_memory() { expect_eq "cgroup memory limit" "$("${1}_cgroup_memory" "$2")" "$3"; }

check_gone() {
	"${1}_stop" "$2" || return 1
	if "${1}_exists" "$2"; then
		echo "$1 container $2 still exists after stop"
		return 1
	fi
}

MIB256=268435456

# 1. A plain unprivileged container: user namespace, probe, memory limit in the cgroup.
scenario_baseline() {
	local rt=$1 name=e2e-$1-base-$$
	BLOCKED=""
	"${rt}_set_memory" "$name" "$MIB256"
	step "$rt: unprivileged container starts (no seccomp policy)" "${rt}_start" "$name" -
	step "$rt: uid 0 inside maps to $E2E_UID_BASE outside" check_userns "$rt" "$name"
	step "$rt: probe sysinfo runs" check_probe_sysinfo_runs "$rt" "$name"
	step "$rt: cgroup memory limit is 256 MiB" check_cgroup_memory "$rt" "$name" "$MIB256"
	step "$rt: probe seccomp-listener succeeds without a policy" probe_in "$rt" "$name" seccomp-listener
	step "$rt: without a policy the keyring calls work and umount2 -f gets ENOENT" \
		check_deny_baseline "$rt" "$name"
	BLOCKED=""
	step "$rt: container deleted" check_gone "$rt" "$name"
}

# Notifications for NAME with syscall sysinfo that the agent has answered so far.
agent_sysinfo_count() {
	if is_oci "$1"; then
		agent_count "^oci notify meta=$2 .*name=sysinfo$"
	else
		agent_count "^lxc notify cookie=$2 .*name=sysinfo "
	fi
}

start_with_agent_policy() {
	local rt=$1 name=$2 f
	f=$E2E_WORK/policy-$name
	if is_oci "$rt"; then
		oci_policy_json "$(agent_oci_socket)" "$name" >"$f.json" && "${rt}_start" "$name" "$f.json"
	else
		lxc_policy_lines "$(agent_lxc_socket)" "$name" "$f.seccomp" >"$f.conf" &&
			lxc_start "$name" "$f.conf"
	fi
}

check_agent_attach() {
	is_oci "$1" || return 0	# LXC's monitor connects on the first notification
	[ "$(agent_count "^oci attach meta=$2 id=$2 ")" -ge 1 ] || { agent_log; return 1; }
}

# probe sysinfo completes and the agent saw exactly one more sysinfo from this container.
check_sysinfo_via_agent() {
	local before after out
	before=$(agent_sysinfo_count "$1" "$2")
	out=$(probe_in "$1" "$2" sysinfo) || { echo "probe sysinfo failed: $out"; return 1; }
	after=$(agent_sysinfo_count "$1" "$2")
	expect_eq "host totalram (agent answers CONTINUE)" "$(kv totalram_bytes <<<"$out")" \
		"$(host_memtotal_bytes)" || return 1
	[ "$after" -gt "$before" ] || { echo "no sysinfo notification (before=$before after=$after)"; agent_log | tail -n 20; return 1; }
}

check_seccomp_errno_rule() {
	local out rc=0
	out=$(probe_in "$1" "$2" seccomp-listener) || rc=$?
	expect_eq "seccomp(NEW_LISTENER) under the policy" "$out rc=$rc" "EINVAL rc=22"
}

check_agent_loop() {
	local out before after
	before=$(agent_sysinfo_count "$1" "$2")
	out=$(probe_in "$1" "$2" loop-sysinfo 2000) || { echo "$out"; return 1; }
	after=$(agent_sysinfo_count "$1" "$2")
	expect_eq "notifications for 2000 calls" "$((after - before))" 2000 || return 1
	diag "$1 via mini_agent: $(kv ns_per_call <<<"$out") ns per trapped sysinfo (2000 calls)" >&3
}

# 2. The policy shape interceptd generates, against mini_agent: accepted, notifications arrive.
scenario_agent() {
	local rt=$1 name=e2e-$1-agent-$$
	BLOCKED=""
	step "$rt: starts with the NOTIFY policy (mini_agent listener)" start_with_agent_policy "$rt" "$name"
	step "$rt: mini_agent received the listener (metadata = name)" check_agent_attach "$rt" "$name"
	step "$rt: probe sysinfo completes via a CONTINUE notification" check_sysinfo_via_agent "$rt" "$name"
	step "$rt: seccomp(NEW_LISTENER) refused with EINVAL by the policy" check_seccomp_errno_rule "$rt" "$name"
	step "$rt: 2000 sysinfo calls give 2000 notifications" check_agent_loop "$rt" "$name"
	BLOCKED=""
	step "$rt: container deleted" check_gone "$rt" "$name"
}

# --- 3. The interceptd scenario (SKIPs until the daemon serves the API) ---

DAEMON_STEPS=(
	"registered over the API with intercept.sysinfo=true"
	"policy fragment fetched from the API"
	"starts unprivileged with the daemon's policy and a 256 MiB limit"
	"probe sysinfo reports totalram = 256 MiB limit"
	"PATCH intercept.sysinfo=false: host MemTotal without restart"
	"metrics: interceptd_syscalls_total{outcome=emulated} for sysinfo > 0"
	"daemon restarted: interception resumes (LXC reconnects; OCI gets a new exec listener)"
	"container deleted and unregistered"
)

# restart_and_check RT NAME: turn sysinfo back on, restart the daemon with the same state,
# and check interception works again. LXC's monitor reconnects to the proxy; an OCI
# container's listeners died with the daemon, but every new exec hands over a new one.
restart_and_check() {
	api_expect_2xx PATCH "/1.0/containers/$2" '{"config":{"security.syscalls.intercept.sysinfo":"true"}}' ||
		return 1
	daemon_stop
	daemon_start >/dev/null || { echo "daemon did not restart"; return 1; }
	daemon_api_ready >/dev/null || { echo "API not ready after restart"; return 1; }
	check_sysinfo_total "$1" "$2" "$MIB256"
}

api_expect_2xx() {
	api "$@"
	case $API_STATUS in 2??) return 0;; esac
	echo "$1 $2 -> $API_STATUS: $API_BODY"
	return 1
}

fetch_daemon_policy() {
	local rt=$1 name=$2 f=$E2E_WORK/daemon-policy-$2
	if is_oci "$rt"; then
		api_expect_2xx GET "/1.0/containers/$name/seccomp?format=oci" || return 1
		jq -e '.metadata | objects' <<<"$API_BODY" >"$f.json" ||
			{ echo "no linux.seccomp object in .metadata: $API_BODY"; return 1; }
	else
		api_expect_2xx GET "/1.0/containers/$name/seccomp?format=lxc" || return 1
		printf '%s\n' "$API_BODY" >"$f.conf"
		grep -q '^lxc.seccomp.notify.proxy' "$f.conf" || { echo "no proxy line: $API_BODY"; return 1; }
	fi
}

start_with_daemon_policy() {
	local rt=$1 name=$2 f=$E2E_WORK/daemon-policy-$2
	"${rt}_set_memory" "$name" "$MIB256"
	if is_oci "$rt"; then
		"${rt}_start" "$name" "$f.json"
	else
		lxc_start "$name" "$f.conf"
	fi
}

check_metric_emulated() {
	local v
	v=$(metric_value interceptd_syscalls_total "container=$1" syscall=sysinfo outcome=emulated) ||
		{ echo "no such series in GET /1.0/metrics:"; echo "$API_BODY" | grep interceptd_syscalls_total; return 1; }
	awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || { echo "value $v"; return 1; }
}

delete_and_unregister() {
	local rc=0
	check_gone "$1" "$2" || rc=1
	api_expect_2xx DELETE "/1.0/containers/$2" || rc=1
	return $rc
}

scenario_daemon() {
	local rt=$1 name=e2e-$1-icd-$$ reason s
	BLOCKED=""
	reason=""
	if [ ! -x "$INTERCEPTD_BIN" ]; then
		reason="daemon binary not built ($INTERCEPTD_BIN)"
	elif ! daemon_start >"$E2E_WORK/daemon-start.err" 2>&1; then
		tap_fail "$rt: interceptd starts" "$(cat "$E2E_WORK/daemon-start.err")"
		reason="interceptd did not start"
	else
		reason=$(daemon_api_ready) && reason=""
	fi
	if [ -n "$reason" ]; then
		for s in "${DAEMON_STEPS[@]}"; do tap_skip "$rt: interceptd: $s" "$reason"; done
		daemon_stop
		return 0
	fi
	step "$rt: interceptd: ${DAEMON_STEPS[0]}" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}"
	step "$rt: interceptd: ${DAEMON_STEPS[1]}" fetch_daemon_policy "$rt" "$name"
	step "$rt: interceptd: ${DAEMON_STEPS[2]}" start_with_daemon_policy "$rt" "$name"
	soft_step "$rt: interceptd: ${DAEMON_STEPS[3]}" check_sysinfo_total "$rt" "$name" "$MIB256"
	soft_step "$rt: interceptd: the policy's deny list: umount2 -f EACCES, kexec_load, modules, keyring EPERM" \
		check_deny_list "$rt" "$name"
	is_oci "$rt" || soft_step "$rt: interceptd: LXC 5.0.2 added a native rule for every deny-list line" \
		lxc_rules_added "$name"
	soft_step "$rt: interceptd: ${DAEMON_STEPS[4]}" eval \
		"api_expect_2xx PATCH /1.0/containers/$name '{\"config\":{\"security.syscalls.intercept.sysinfo\":\"false\"}}' &&
		 check_sysinfo_total $rt $name \$(host_memtotal_bytes)"
	soft_step "$rt: interceptd: ${DAEMON_STEPS[5]}" check_metric_emulated "$name"
	soft_step "$rt: interceptd: ${DAEMON_STEPS[6]}" restart_and_check "$rt" "$name"
	BLOCKED=""
	step "$rt: interceptd: ${DAEMON_STEPS[7]}" delete_and_unregister "$rt" "$name"
	if [ -n "$E2E_FAILED" ] && [ "$E2E_FAILED" -gt 0 ]; then
		diag "interceptd log (tail):"
		daemon_log | tail -n 40 | sed 's/^/# /'
	fi
	daemon_stop
}

# --- 4. mknod, setxattr and sched_setscheduler through the generated policies ---

HANDLER_KEYS='"security.syscalls.intercept.mknod":"true","security.syscalls.intercept.setxattr":"true","security.syscalls.intercept.sched_setscheduler":"true"'

# probe_expect RT NAME WANT ARGS...: the probe's first output line (ok or an errno name).
probe_expect() {
	local rt=$1 name=$2 want=$3 out
	shift 3
	out=$(probe_in "$rt" "$name" "$@" 2>&1 | head -n1)
	expect_eq "probe $*" "$out" "$want"
}

start_for_handlers() {
	local rt=$1 name=$2 c
	c=$(cdir "$name")
	mkdir -p "$c"
	# runc's default spec keeps only three capabilities; a container root normally has these
	echo "CAP_MKNOD CAP_SYS_ADMIN CAP_SYS_NICE" >"$c/caps"
	# with RT group scheduling (cgroup v1) a cgroup without RT runtime refuses SCHED_FIFO
	# to everyone, root included: give the container a little, as an admin would
	[ -f /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] && echo 10000 >"$c/rt_runtime"
	start_with_daemon_policy "$rt" "$name"
}

check_node_works() {
	probe_expect "$1" "$2" ok mknod "$3" c 1 3 && probe_expect "$1" "$2" ok rw-null "$3"
}

# A symlink planted to point at a host directory must not let mknod reach it.
check_symlink_escape() {
	local rt=$1 name=$2 host=$E2E_WORK/host-target out
	mkdir -p "$host"
	"${rt}_exec" "$name" /bin/ln -sf "$host" /tmp/escape || return 1
	out=$(probe_in "$rt" "$name" mknod /tmp/escape/n c 1 3 2>&1 | head -n1)
	[ ! -e "$host/n" ] || { echo "node created on the host: $host/n"; return 1; }
	expect_eq "mknod through a symlink to a host path" "$out" ENOENT
}

check_opaque_xattr() {
	local rt=$1 name=$2 dir
	"${rt}_exec" "$name" /bin/mkdir -p /tmp/od || return 1
	probe_expect "$rt" "$name" ok setxattr-opaque /tmp/od || return 1
	dir=$(cdir "$name")/rootfs/tmp/od
	expect_eq "trusted.overlay.opaque on the host" \
		"$(getfattr --absolute-names --only-values -n trusted.overlay.opaque "$dir" 2>&1)" y
}

# An overlay whose upper directory the container made opaque (through interceptd) hides
# the lower directory. The overlay is mounted from the host: an overlay mounted inside
# a user namespace reads only user.overlay.* xattrs (the kernel's userxattr mode), so
# trusted.overlay.opaque matters to overlays mounted in the initial user namespace.
check_overlay_opaque() {
	local rt=$1 name=$2 out root merged
	out=$("${rt}_exec" "$name" /bin/sh -c '
		set -e
		mkdir -p /tmp/ov/lower/d /tmp/ov/upper/d /tmp/ov/work
		echo hidden >/tmp/ov/lower/d/file
		/bin/probe setxattr-opaque /tmp/ov/upper/d' 2>&1) || { echo "$out"; return 1; }
	root=$(cdir "$name")/rootfs/tmp/ov
	merged=$E2E_WORK/ov-merged-$name
	mkdir -p "$merged"
	mount -t overlay overlay -o "lowerdir=$root/lower,upperdir=$root/upper,workdir=$root/work" \
		"$merged" || return 1
	out=$(ls -A "$merged/d" 2>&1)
	umount "$merged"
	expect_eq "files visible under the opaque directory" "$out" ""
}

check_chrt() {
	local rt=$1 name=$2 out
	probe_expect "$rt" "$name" ok chrt 1 fifo 10 || return 1
	# a host pid (this shell) is outside the container's pid namespace
	out=$(probe_in "$rt" "$name" chrt "$$" fifo 10 2>&1 | head -n1)
	expect_eq "chrt on a host pid" "$out" ESRCH
}

# Hostile arguments from inside the container get the kernel's errnos, a path swapped
# mid-call never reaches the host, killed callers don't disturb the daemon.
check_hostile() {
	local rt=$1 name=$2 out want k
	out=$(probe_in "$rt" "$name" hostile /tmp/escape 2>&1) || { echo "$out"; return 1; }
	for want in mknod_unmapped=EFAULT mknod_unterminated_short=EFAULT \
		mknod_unterminated_page=ENAMETOOLONG mknod_overlong=ENAMETOOLONG \
		mknod_long_name=ENAMETOOLONG setxattr_unmapped_name=EFAULT \
		setxattr_unmapped_value=EFAULT sched_unmapped_param=EFAULT after=ok; do
		k=${want%%=*}
		expect_eq "$k" "$(kv "$k" <<<"$out")" "${want#*=}" || { echo "$out"; return 1; }
	done
	[ -z "$(ls -A "$E2E_WORK/host-target" 2>/dev/null)" ] ||
		{ echo "created on the host: $(ls -A "$E2E_WORK/host-target")"; return 1; }
	api_expect_2xx GET /1.0 >/dev/null
}

check_key_off_live() {
	api_expect_2xx PATCH "/1.0/containers/$2" '{"config":{"security.syscalls.intercept.mknod":"false"}}' ||
		return 1
	probe_expect "$1" "$2" EPERM mknod /tmp/after-off c 1 3
}

# glibc's mknod() is the mknodat syscall; count both
check_handler_metrics() {
	local outcome total sc v
	for outcome in emulated continued errno; do
		total=0
		for sc in mknod mknodat; do
			v=$(metric_value interceptd_syscalls_total "container=$1" syscall=$sc outcome=$outcome) || v=0
			total=$((total + ${v%.*}))
		done
		[ "$total" -gt 0 ] || { echo "no mknod/mknodat samples with outcome=$outcome"; return 1; }
	done
	v=$(metric_value interceptd_syscalls_total "container=$1" syscall=sched_setscheduler outcome=emulated) || v=0
	[ "${v%.*}" -gt 0 ] || { echo "sched_setscheduler emulated = $v"; return 1; }
}

# daemon_up DESC: start the daemon for a scenario; if it does not serve the API, "not ok DESC".
daemon_up() {
	daemon_start >/dev/null 2>&1 && daemon_api_ready >/dev/null && return 0
	tap_fail "$1" "$(daemon_log | tail -n 5)"
	daemon_stop
	return 1
}

# handlers_registered RT LABEL NAME: start the daemon and register NAME with HANDLER_KEYS on.
# Fails only when the daemon does not start (a failed registration blocks the later steps).
handlers_registered() {
	BLOCKED=""
	daemon_up "$1: $2: interceptd starts" || return 1
	step "$1: $2: registered with mknod, setxattr and sched_setscheduler on" \
		api_expect_2xx POST /1.0/containers "{\"name\":\"$3\",\"config\":{$HANDLER_KEYS}}"
	return 0
}

scenario_handlers() {
	local rt=$1 name=e2e-$1-hnd-$$
	handlers_registered "$rt" handlers "$name" || return 0
	step "$rt: handlers: policy fetched" fetch_daemon_policy "$rt" "$name"
	step "$rt: handlers: container starts unprivileged" start_for_handlers "$rt" "$name"
	soft_step "$rt: handlers: mknod /tmp/n c 1 3 works like /dev/null" check_node_works "$rt" "$name" /tmp/n
	soft_step "$rt: handlers: mknod /dev/null2 c 1 3 works like /dev/null" check_node_works "$rt" "$name" /dev/null2
	soft_step "$rt: handlers: mknod c 1 1 fails with EPERM" probe_expect "$rt" "$name" EPERM mknod /tmp/mem c 1 1
	soft_step "$rt: handlers: mknod b 8 0 fails with EPERM" probe_expect "$rt" "$name" EPERM mknod /tmp/sda b 8 0
	soft_step "$rt: handlers: whiteout mknod c 0 0 works" probe_expect "$rt" "$name" ok mknod /tmp/wh c 0 0
	soft_step "$rt: handlers: a symlink to a host path creates nothing outside" check_symlink_escape "$rt" "$name"
	soft_step "$rt: handlers: setxattr trusted.overlay.opaque=y on a directory" check_opaque_xattr "$rt" "$name"
	soft_step "$rt: handlers: overlay mount with an opaque directory" check_overlay_opaque "$rt" "$name"
	limit_steps "$rt" "$name"
	soft_step "$rt: handlers: chrt -f -p 10 in the container works, on a host pid ESRCH" check_chrt "$rt" "$name"
	soft_step "$rt: handlers: hostile pointers, paths, swaps and kills get kernel errnos" check_hostile "$rt" "$name"
	soft_step "$rt: handlers: mknod key off: EPERM again at once" check_key_off_live "$rt" "$name"
	soft_step "$rt: handlers: metrics count emulated, continued and errno" check_handler_metrics "$name"
	BLOCKED=""
	step "$rt: handlers: container deleted and unregistered" delete_and_unregister "$rt" "$name"
	if [ -n "$E2E_FAILED" ] && [ "$E2E_FAILED" -gt 0 ]; then
		daemon_log | tail -n 30 | sed 's/^/# /'
	fi
	daemon_stop
}

# run_runtime RT: everything for one runtime; the agent serves scenario 2.
# --- 5. OCI listeners across a daemon crash, with a systemd-style fd store ---
# (no systemd here: tests/e2e/fdstore_keeper.c plays its fd store and Restart=always)

keeper_start() {
	local d=$E2E_WORK/daemon
	mkdir -p "$d/state"
	"$E2E_WORK/bin/fdstore_keeper" "$d/notify.sock" -- "$INTERCEPTD_BIN" --api-socket "$d/api.sock" \
		--lxc-socket "$d/lxc.sock" --oci-socket "$d/oci.sock" --state-dir "$d/state" \
		--log-level debug </dev/null >"$d/log" 2>&1 &
	echo $! >"$d/pid"
	wait_api_ready
}

wait_api_ready() {
	for _ in $(seq 100); do
		api GET /1.0
		[ "$API_STATUS" = 200 ] && return 0
		sleep 0.1
	done
	echo "API not ready; log:"
	daemon_log | tail -n 20
	return 1
}

# start_sysinfo_loop RT NAME: a detached exec whose shell writes probe sysinfo's output
# to /tmp/fds.out every 0.2 s; everything it runs shares that exec's one listener.
start_sysinfo_loop() {
	rt_io "${1}_cmd" exec -d "$2" /bin/sh -c \
		'while :; do /bin/probe sysinfo >/tmp/fds.new 2>&1; mv /tmp/fds.new /tmp/fds.out; sleep 0.2; done'
}

# wait_loop_total RT NAME BYTES: a fresh /tmp/fds.out reporting totalram_bytes=BYTES.
wait_loop_total() {
	local f
	f=$(cdir "$2")/rootfs/tmp/fds.out
	rm -f "$f"
	for _ in $(seq 100); do
		[ -f "$f" ] && [ "$(kv totalram_bytes <"$f")" = "$3" ] && return 0
		sleep 0.1
	done
	echo "the loop never reported totalram_bytes=$3; last output: $(cat "$f" 2>/dev/null)"
	return 1
}

start_with_loop() {
	fetch_daemon_policy "$1" "$2" && start_with_daemon_policy "$1" "$2" &&
		start_sysinfo_loop "$1" "$2" && wait_loop_total "$1" "$2" "$MIB256"
}

# Both listeners, the init's and the exec's, went to the store.
check_listener_stored() {
	local n
	n=$(grep -Ec "^stored oci\.[0-9]+\.[0-9]+\.$2\$" "$E2E_WORK/daemon/log")
	[ "$n" -ge 2 ] || { echo "$n FDSTOREs of OCI listeners for $2, want 2:"; daemon_log | tail -n 20; return 1; }
}

crash_and_check_taken_back() {
	kill -USR1 "$(cat "$E2E_WORK/daemon/pid")" || return 1
	for _ in $(seq 50); do
		grep -q '^restarted with' "$E2E_WORK/daemon/log" && break
		sleep 0.1
	done
	wait_api_ready || return 1
	wait_loop_total "$1" "$2" "$MIB256" || { daemon_log | tail -n 20; return 1; }
	grep -q "Took back [1-9][0-9]* of [1-9][0-9]* OCI listeners" "$E2E_WORK/daemon/log" ||
		{ echo "no 'Took back' in the log"; return 1; }
}

scenario_fdstore() {
	local rt=$1 name=e2e-$1-fds-$$
	BLOCKED=""
	step "$rt: fd store: interceptd starts under a systemd-style fd store" keeper_start
	step "$rt: fd store: registered with intercept.sysinfo=true" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}"
	step "$rt: fd store: a long-running exec's sysinfo reports the 256 MiB limit" \
		start_with_loop "$rt" "$name"
	step "$rt: fd store: the init's and the exec's listeners went to the fd store" \
		check_listener_stored "$rt" "$name"
	step "$rt: fd store: daemon killed and restarted with the store: the same exec is served again" \
		crash_and_check_taken_back "$rt" "$name"
	BLOCKED=""
	step "$rt: fd store: container deleted and unregistered" delete_and_unregister "$rt" "$name"
	daemon_stop
}

# wanted SCENARIO: is it in E2E_SCENARIOS (space-separated names; unset or empty = all)?
wanted() { [ -z "${E2E_SCENARIOS:-}" ] || [[ " $E2E_SCENARIOS " == *" $1 "* ]]; }

run_runtime() {
	local rt=$1 s
	exec 3>&1	# diagnostics from inside step() captures
	e2e_init
	wanted baseline && scenario_baseline "$rt"
	if wanted agent; then
		if agent_start >"$E2E_WORK/agent-start.err" 2>&1; then
			scenario_agent "$rt"
			agent_stop
		else
			tap_fail "$rt: mini_agent starts" "$(cat "$E2E_WORK/agent-start.err")"
		fi
	fi
	for s in daemon handlers bpf; do
		wanted "$s" && "scenario_$s" "$rt"
	done
	if is_oci "$rt"; then
		for s in console nested_init fdstore merge profile; do
			wanted "$s" && "scenario_$s" "$rt"
		done
	fi
	wanted mount && scenario_mount "$rt"
	return 0
}

# shellcheck source=scenario_limits.sh
source "$E2E_DIR/scenario_limits.sh"
# shellcheck source=lib_policy.sh
source "$E2E_DIR/lib_policy.sh"
# shellcheck source=scenario_mount.sh
source "$E2E_DIR/scenario_mount.sh"
# shellcheck source=scenario_bpf.sh
source "$E2E_DIR/scenario_bpf.sh"
# shellcheck source=scenario_profile.sh
source "$E2E_DIR/scenario_profile.sh"
