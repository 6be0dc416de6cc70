#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TAP tests for deploy/buildlib.sh: what deploy/quickstart.sh and tests/run-all.sh find
# in a build directory after an earlier run failed, was interrupted, or configured it
# differently. Each case configures this source tree (with -Dtests=disabled where the
# case allows it, which is quick) into a temporary directory.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/deploy/buildlib.sh"
work=$(mktemp -d /tmp/interceptd-buildlib.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
cd "$src" || exit 1
. "$src/tests/tap.sh"

check() { # check DESCRIPTION COMMAND...: its result, its output into $work/log
	local what=$1
	shift
	"$@" >>"$work/log" 2>&1
	tap_result $? "$what"
}
# shellcheck disable=SC2317 # called through check()
fails() { ! "$@"; }
option_of() { # option_of DIR NAME: the configured value
	meson introspect --buildoptions "$1" |
		python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]==sys.argv[1]))' "$2"
}

echo "1..10"

# What `meson setup` leaves when it fails or is killed before it finishes.
dir=$work/half
mkdir -p "$dir/meson-logs" "$dir/meson-private"
echo "partial" >"$dir/meson-logs/meson-log.txt"
check "a half-configured directory is not taken for a build directory" fails build_dir_ok "$dir"
check "meson_setup replaces a half-configured directory" meson_setup "$dir" -Dtests=disabled
check "... and leaves a complete one" build_dir_ok "$dir"

# quickstart on a machine without cmocka/libcurl, then run-all: tests are switched on.
check "a directory configured without tests builds none" fails build_dir_has_tests "$dir"
check "meson_setup reconfigures it with the tests" meson_setup "$dir" -Dtests=enabled
check "... and the option is now enabled" test "$(option_of "$dir" tests)" = enabled
check "... so it builds them" build_dir_has_tests "$dir"

# A setup killed midway (SIGKILL: no cleanup at all), then the next run.
dir=$work/killed
meson setup "$dir" -Dtests=disabled >>"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do
	[[ -d $dir/meson-private ]] && break
	sleep 0.01
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[[ -f $dir/build.ninja ]] && echo "# the setup finished before it was killed" ||
	echo "# killed midway, leaving: $(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f ')"
check "meson_setup recovers from a setup killed midway" meson_setup "$dir" -Dtests=disabled

# Something that is not ours is never removed.
dir=$work/mine
mkdir -p "$dir"
echo "keep me" >"$dir/notes.txt"
check "a directory that is not a build directory is refused" fails meson_setup "$dir" -Dtests=disabled
check "... and its files are left alone" grep -q "keep me" "$dir/notes.txt"

((tap_failures)) && { echo "# log:"; sed 's/^/# /' "$work/log"; }
tap_exit
