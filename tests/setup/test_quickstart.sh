#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TAP test of the README's first command, deploy/quickstart.sh, run for real on a copy
# of this source tree (root: it installs missing apt packages, which are present here):
# it builds the daemon and serves the API; run again, it reuses the build; after an
# interrupted `meson setup` (a half-configured build/) it recovers. The daemon's
# sockets and state go to a temporary directory through quickstart's extra arguments.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/tap.sh"

tap_require_root "quickstart.sh installs packages"
for tool in curl git; do
	command -v "$tool" >/dev/null || tap_skip_all "$tool is not installed"
done

work=$(mktemp -d /tmp/interceptd-quickstart.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The tracked files as they are in the work tree (edits included), no build directories.
tree=$work/tree
mkdir -p "$tree"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$tree") 2>/dev/null || cp -a "$src/." "$tree"
rm -rf "$tree/build" "$tree/build-asan" "$tree/build-notests"

args=(--api-socket "$work/run/api.sock" --lxc-socket "$work/run/lxc.sock"
	--oci-socket "$work/run/oci.sock" --state-dir "$work/state")

# start_quickstart LOG: quickstart in the background; its daemon's pid in $pid once it answers
start_quickstart() {
	local log=$1
	rm -f "$work/run/api.sock"
	(cd "$tree" && exec deploy/quickstart.sh "${args[@]}") >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do # the first run builds: up to 5 minutes on 2 cores
		[ -S "$work/run/api.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# stop_quickstart: Ctrl-C, as the README says; the daemon (quickstart exec'd it) exits 0
stop_quickstart() {
	local rc
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	pid=
	return "$rc"
}

answers() {
	curl -sf --max-time 5 --unix-socket "$work/run/api.sock" http://localhost/1.0 |
		grep -q '"api_extensions"'
}

echo "1..7"

start_quickstart "$work/first.log"
tap_result $? "quickstart builds the daemon on a tree without build/ and starts it"
answers
tap_result $? "... which answers GET /1.0 on the socket given as an extra argument"
stop_quickstart
tap_result $? "... and stops with exit 0 on Ctrl-C"

start_quickstart "$work/second.log" && answers
tap_result $? "run again, it starts from the existing build"
stop_quickstart >/dev/null

# What an interrupted `meson setup` leaves: the next run must not take it for a build dir.
rm -rf "$tree/build"
mkdir -p "$tree/build/meson-private" "$tree/build/meson-logs"
echo "partial" >"$tree/build/meson-logs/meson-log.txt"
start_quickstart "$work/third.log" && answers
tap_result $? "after an interrupted setup (half-configured build/), it configures again and serves"
stop_quickstart >/dev/null
test -x "$tree/build/daemon/interceptd"
tap_result $? "... leaving a complete build directory"
! grep -qi "not a meson build directory" "$work"/*.log
tap_result $? "no run met a half-configured build directory as if it were one"

if ((tap_failures > 0)); then
	for f in "$work"/*.log; do sed "s|^|# $(basename "$f"): |" "$f" | tail -20; done
fi
tap_exit
