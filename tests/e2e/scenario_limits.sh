# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# What a container must not get through interceptd, with real containers (sourced by lib.sh):
#   - scenario_console RT (runc, crun): a container with a terminal; mknod c 5 1 must lead to
#     the container's own console pty, never to the host's console. console_receiver.c holds
#     the pty master, as a real console socket would, and records what arrives on it.
#   - limit_steps RT NAME: steps for the container of scenario_handlers, which has no console
#     of its own (no terminal; LXC with lxc.console.path = none): mknod c 5 1 gets EPERM, and
#     an ordinary user of the container (uid 1000) who makes itself root of a nested user
#     namespace (unshare -Ur) and sets trusted.overlay.opaque on its own directory gets the
#     kernel's EPERM, and nothing is set.
#   - scenario_nested_init RT (runc, crun): an init that runs as uid 1000 without capabilities
#     and starts with unshare -Ur. When the daemon first looks, the init is in that nested user
#     namespace; its root must still get the kernel's EPERM for trusted.overlay.opaque and mknod.

CONSOLE_MARKER=interceptd-console-check

receiver_start() {
	local c=$1
	"$E2E_WORK/bin/console_receiver" "$c/console.sock" "$c/console.out" </dev/null \
		>"$c/receiver.log" 2>&1 &
	echo $! >"$c/receiver.pid"
	for _ in $(seq 50); do
		grep -q '^ready$' "$c/receiver.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "console_receiver did not start: $(cat "$c/receiver.log")"
	return 1
}

# Called by e2e_cleanup: a receiver whose container never started still waits in accept().
receivers_stop() {
	local f
	for f in "$E2E_WORK"/c/*/receiver.pid; do
		[ -f "$f" ] && stop_pid "$f"
	done
	return 0
}

start_with_terminal() {
	local rt=$1 name=$2 c
	c=$(cdir "$name")
	mkdir -p "$c"
	echo "CAP_MKNOD" >"$c/caps"
	: >"$c/terminal"
	receiver_start "$c" || return 1
	fetch_daemon_policy "$rt" "$name" && start_with_daemon_policy "$rt" "$name" || return 1
	grep -q '^received$' "$c/receiver.log" ||
		{ echo "the runtime handed over no pty master: $(cat "$c/receiver.log")"; return 1; }
}

# wait_console FILE TEXT: TEXT arrived on the console (the tty may add \r).
wait_console() {
	for _ in $(seq 50); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "'$2' never arrived on the container's console; it got: $(od -c "$1" | head -n 5)"
	return 1
}

check_console_node() {
	local rt=$1 name=$2 out major
	probe_expect "$rt" "$name" ok mknod /tmp/cons c 5 1 || return 1
	out=$(probe_in "$rt" "$name" stat /tmp/cons) || { echo "$out"; return 1; }
	major=$(kv major <<<"$out")
	# a Unix98 pty (136-143) from the container's devpts, never 5:1
	if [ "$(kv type <<<"$out")" != c ] || [ "$major" -lt 136 ] || [ "$major" -gt 143 ]; then
		echo "/tmp/cons is not the console pty: $out"
		return 1
	fi
	probe_expect "$rt" "$name" ok write /tmp/cons "$CONSOLE_MARKER" || return 1
	wait_console "$(cdir "$name")/console.out" "$CONSOLE_MARKER"
}

scenario_console() {
	local rt=$1 name=e2e-$1-con-$$
	BLOCKED=""
	daemon_up "$rt: console: interceptd starts" || return 0
	step "$rt: console: registered with intercept.mknod on" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}"
	step "$rt: console: starts with a terminal; its pty master goes to console_receiver" \
		start_with_terminal "$rt" "$name"
	soft_step "$rt: console: mknod c 5 1 is the container's console pty, written text arrives there" \
		check_console_node "$rt" "$name"
	# shellcheck disable=SC2034 # step() in lib_tap.sh reads it
	BLOCKED=""
	step "$rt: console: container deleted and unregistered" delete_and_unregister "$rt" "$name"
	stop_pid "$(cdir "$name")/receiver.pid"
	daemon_stop
}

check_console_refused() {
	probe_expect "$1" "$2" EPERM mknod /tmp/cons c 5 1 || return 1
	[ ! -e "$(cdir "$2")/rootfs/tmp/cons" ] || { echo "/tmp/cons was created"; return 1; }
}

# RT_exec_as UID NAME CMD...: as uid and gid UID of the container
runc_exec_as() { local u=$1 n=$2; shift 2; rt_io runc_cmd exec --user "$u:$u" "$n" "$@"; }
crun_exec_as() { local u=$1 n=$2; shift 2; rt_io crun_cmd exec --user "$u:$u" "$n" "$@"; }
lxc_exec_as() {
	local u=$1 n=$2
	shift 2
	rt_io e2e_v lxc-attach -P "$(lxc_path)" -n "$n" --clear-env -u "$u" -g "$u" -- "$@"
}

check_nested_setxattr_refused() {
	local rt=$1 name=$2 dir out
	"${rt}_exec_as" 1000 "$name" /bin/mkdir -p /tmp/od-nested || return 1
	out=$("${rt}_exec_as" 1000 "$name" /bin/probe nested-setxattr-opaque /tmp/od-nested 2>&1 |
		head -n1)
	expect_eq "probe nested-setxattr-opaque as uid 1000" "$out" EPERM || return 1
	dir=$(cdir "$name")/rootfs/tmp/od-nested
	if out=$(getfattr --absolute-names --only-values -n trusted.overlay.opaque "$dir" 2>&1); then
		echo "trusted.overlay.opaque was set: '$out'"
		return 1
	fi
}

limit_steps() {
	local rt=$1 name=$2
	soft_step "$rt: handlers: mknod c 5 1 without a console of its own fails with EPERM" \
		check_console_refused "$rt" "$name"
	soft_step "$rt: handlers: setxattr trusted.overlay.opaque from a nested user namespace: EPERM" \
		check_nested_setxattr_refused "$rt" "$name"
}

# --- an init in a nested user namespace ---

# Run by the init, as root of its nested user namespace: one result line per call.
NESTED_INIT_SCRIPT='mkdir /tmp/ni && { /bin/probe setxattr-opaque /tmp/ni; /bin/probe mknod /tmp/ni/null c 1 3; } >/tmp/ni.out 2>/dev/null; exec /bin/sleep 2147483647'

start_nested_init() {
	local rt=$1 name=$2 c
	c=$(cdir "$name")
	mkdir -p "$c"
	jq -n --arg script "$NESTED_INIT_SCRIPT" '{ user: { uid: 1000, gid: 1000 },
		args: ["/bin/unshare", "-Ur", "/bin/sh", "-c", $script] }' >"$c/process.json"
	fetch_daemon_policy "$rt" "$name" && start_with_daemon_policy "$rt" "$name"
}

check_nested_init_refused() {
	local tmp out
	tmp=$(cdir "$1")/rootfs/tmp
	for _ in $(seq 50); do
		[ "$(wc -l <"$tmp/ni.out" 2>/dev/null)" = 2 ] && break
		sleep 0.1
	done
	out=$(tr '\n' ' ' <"$tmp/ni.out" 2>&1)
	expect_eq "setxattr-opaque, mknod c 1 3 by the init's nested root" "$out" "EPERM EPERM " ||
		return 1
	if out=$(getfattr --absolute-names --only-values -n trusted.overlay.opaque "$tmp/ni" 2>&1); then
		echo "trusted.overlay.opaque was set: '$out'"
		return 1
	fi
	[ ! -e "$tmp/ni/null" ] || { echo "/tmp/ni/null was created"; return 1; }
}

scenario_nested_init() {
	local rt=$1 name=e2e-$1-nin-$$
	handlers_registered "$rt" "nested init" "$name" || return 0
	step "$rt: nested init: starts as uid 1000 with unshare -Ur" start_nested_init "$rt" "$name"
	soft_step "$rt: nested init: its nested root gets EPERM for trusted.overlay.opaque and mknod" \
		check_nested_init_refused "$name"
	# shellcheck disable=SC2034 # step() in lib_tap.sh reads it
	BLOCKED=""
	step "$rt: nested init: container deleted and unregistered" delete_and_unregister "$rt" "$name"
	daemon_stop
}
