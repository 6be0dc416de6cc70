# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Shared helpers for the interceptd end-to-end tests: the one file tests/e2e/test_*.sh source.
#
# What lives here:
#   - a work dir under /tmp, and a cleanup trap that always deletes containers, stops what we
#     started (by PID) and unmounts what was mounted; mount-safe chown and rm
#   - rt_io and e2e_v, through which every container runtime command runs
#   - run_runtime RT: every scenario for one runtime (E2E_SCENARIOS picks some)
# and, sourced from the files next to it:
#   - lib_tap.sh       TAP reporting (tap_ok / tap_fail / tap_skip / tap_check) and steps;
#                      run.sh numbers the lines
#   - lib_daemon.sh    the interceptd daemon (temp sockets and state dir) and `api` over its
#                      unix socket; the mini_agent test tool (OCI + LXC seccomp agent
#                      answering CONTINUE)
#   - lib_runtimes.sh  rootfs, runc_*, crun_*, lxc_* (start/exec/stop an unprivileged
#                      container, 0 -> 100000, 65536 ids) and the checks on a container
#   - scenario_runtime.sh  baseline, agent, daemon, handlers, fdstore; scenario_*.sh and
#                      lib_policy.sh the others
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
# Runtime commands: private stdio, a timeout

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
# Running the scenarios

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

# shellcheck source=lib_tap.sh
source "$E2E_DIR/lib_tap.sh"
# shellcheck source=lib_daemon.sh
source "$E2E_DIR/lib_daemon.sh"
# shellcheck source=lib_runtimes.sh
source "$E2E_DIR/lib_runtimes.sh"
# shellcheck source=scenario_runtime.sh
source "$E2E_DIR/scenario_runtime.sh"
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
