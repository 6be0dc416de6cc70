# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The scenarios every runtime runs (sourced by lib.sh; run_runtime calls them), RT being runc,
# crun or lxc:
#   1. scenario_baseline: an unprivileged container without a policy
#   2. scenario_agent: the policy in interceptd's shape, served by the mini_agent
#   3. scenario_daemon: registered over the API, started with the daemon's policy, a live
#      PATCH, metrics, a daemon restart
#   4. scenario_handlers: mknod, setxattr and sched_setscheduler through the daemon
#   5. scenario_fdstore (runc, crun): OCI listeners across a daemon crash, with an fd store
#      (and an ephemeral container's Kubernetes labels, scenario_profile.sh)
# shellcheck disable=SC2034 # BLOCKED is read by step() in lib_tap.sh

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
	# pid 0: the caller's own policy (the kernel alone refuses a real-time one: EPERM)
	probe_expect "$rt" "$name" ok chrt 0 rr 5 || return 1
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
	soft_step "$rt: handlers: chrt in the container works (pid 1, its own), on a host pid ESRCH" check_chrt "$rt" "$name"
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
	fdstore_ephemeral "$rt"
}
