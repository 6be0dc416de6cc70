# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Containers for the e2e tests (sourced by lib.sh), RT being runc, crun or lxc:
#   - a busybox-static rootfs per container, chowned for the user namespace without ever
#     crossing a mount (host /dev nodes bind-mounted into a container must never be touched)
#   - runc_*, crun_*, lxc_*: start/exec/stop an unprivileged container (0 -> 100000, 65536 ids),
#     set its memory limit before start, read the limit back from its cgroup
#   - the checks on a running container that every scenario uses (check_sysinfo_total,
#     check_userns, check_cgroup_memory, check_gone, ...)
# shellcheck disable=SC2034 # MIB256 is read by the scenarios

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

# oci_start RT NAME SECCOMP_JSON_FILE ("-" for none): start detached with runc or crun; fails
# if it is not running.
oci_start() {
	local rt=$1 name=$2 c console=()
	c=$(cdir "$name")
	oci_bundle "$name" "${3:-}" || return 1
	E2E_CONTAINERS+=("$rt $name")
	# with a terminal, the pty master goes to console_receiver (scenario_console)
	[ -f "$c/terminal" ] && console=(--console-socket "$c/console.sock")
	rt_io "${rt}_cmd" run -d --pid-file "$c/pid" "${console[@]}" --bundle "$c" "$name" \
		>"$c/run.log" 2>&1 ||
		{ cat "$c/run.log" >&2; return 1; }
	rt_io "${rt}_cmd" state "$name" | jq -e '.status == "running"' >/dev/null
}

# runc_start NAME SECCOMP_JSON_FILE ("-" for none): start detached; fails if it is not running.
runc_start() { oci_start runc "$@"; }
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

crun_start() { oci_start crun "$@"; }
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
# Any runtime

runc_exists() { rt_io runc_cmd state "$1" >/dev/null 2>&1; }
crun_exists() { rt_io crun_cmd state "$1" >/dev/null 2>&1; }
lxc_exists()  { [ -f "$(lxc_path)/$1/config" ]; }

is_oci() { [ "$1" != lxc ]; }

probe_in() { local rt=$1 n=$2; shift 2; "${rt}_exec" "$n" /bin/probe "$@"; }

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
