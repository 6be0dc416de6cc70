#!/usr/bin/env bash
# The interceptd benchmark in one command (as root, from anywhere):
#   tests/bench/run.sh            full run, a few minutes; writes tests/bench/results.json
#   tests/bench/run.sh --smoke    every case briefly (what the meson 'bench' suite runs)
# Extra arguments go to the bench (--rounds N, --seconds S, --daemon PATH, --json FILE).
# Builds into build/ first when needed (with the tests enabled). Exit 0 also when some interceptd cases
# were skipped because the daemon cannot serve them yet (the bench says why).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

if [[ $(id -u) != 0 ]]; then
	echo "run.sh: the benchmark needs root (notify filters in user namespaces, mknod, the daemon)" >&2
	exit 1
fi
. deploy/buildlib.sh
# the bench is one of the test programs: a build/ without them is configured again
if ! build_dir_ok build || ! build_dir_has_tests build; then
	meson_setup build -Dtests=enabled
fi
meson compile -C build

args=(--daemon build/daemon/interceptd)
[[ " $* " == *" --json "* ]] || args+=(--json tests/bench/results.json)

rc=0
build/tests/bench "${args[@]}" "$@" || rc=$?
if ((rc == 77)); then
	echo "run.sh: some interceptd cases were skipped (reasons above); floor figures are real"
	rc=0
fi
exit $rc
