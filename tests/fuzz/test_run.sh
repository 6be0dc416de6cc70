#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TAP tests for run.sh's verdict on a libFuzzer timeout, with fuzz_selftest (its inputs:
# fuzz_selftest.c). libFuzzer counts a unit's wall-clock time, so a unit that the host kept
# off the CPU times out although it is quick; run.sh must tell that from a unit that really
# runs too long, whatever the host does meanwhile, the replay included.
# Usage: tests/fuzz/test_run.sh BUILD_DIR (a fuzz build)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd) || exit 2
work=$(mktemp -d /tmp/interceptd-fuzz-selftest.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
. "$here/../tap.sh"

check() { # check DESCRIPTION COMMAND...: its result, with $work/out when it failed
	local what=$1
	shift
	if "$@"; then tap_result 0 "$what"; else tap_result 1 "$what" "$(cat "$work/out")"; fi
}

# selftest SEED: run.sh over fuzz_selftest with SEED as its only seed, units limited to 1 s;
# its output in $work/out, its status returned
selftest() {
	rm -rf "$work/corpus" "$build/tests/fuzz/artifacts/selftest"
	mkdir -p "$work/corpus/selftest"
	printf '%s' "$1" >"$work/corpus/selftest/seed"
	FUZZ_UNIT_SECONDS=1 FUZZ_CORPUS_DIR=$work/corpus "$here/run.sh" -t 5 "$build" selftest \
		>"$work/out" 2>&1
}
artifacts_left() { compgen -G "$build/tests/fuzz/artifacts/selftest/timeout-*" >/dev/null; }

stalled_unit_passes() {
	selftest "stall 3" && grep -q "the host kept the process waiting" "$work/out" &&
		! artifacts_left
}
spinning_unit_fails() {
	! selftest spin && grep -q "FAILED" "$work/out" && artifacts_left
}

echo "1..2"
# three times the limit on the clock, in the run and again in the replay, but no CPU time
check "a unit kept off the CPU past the timeout, in the run and the replay, is no failure" \
	stalled_unit_passes
check "a unit that never returns fails the run and keeps its input" spinning_unit_fails
rm -rf "$build/tests/fuzz/artifacts/selftest"
tap_exit
