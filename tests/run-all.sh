#!/usr/bin/env bash
# The whole test suite, as CI runs it: dependencies, a normal build with every
# suite (unit, integration, privileged, openapi, e2e, bench smoke), then an
# ASan+UBSan build running the suites that exercise the daemon's own code, the
# libFuzzer build running every fuzz target for a short while, and a
# build with -Dtests=disabled -Dcli=disabled (the daemon from its runtime libraries
# alone, as deploy/quickstart.sh builds it on a machine without the test libraries).
# The normal build's suites include setup (meson install, docs) and package (the
# Debian package and the container image, about a minute).
# Build directories are configured again on every run, so one that an earlier
# setup left incomplete, or that deploy/quickstart.sh made without tests, is fine.
# Usage (as root on Debian 12): tests/run-all.sh
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

tests/deps.sh || { echo "deps: installation failed"; exit 1; }
. deploy/buildlib.sh

status=0
passed=0
failed=0
skipped=0
broken=()    # "DIR: what failed" for set-up and build failures
tested=()    # build directories whose meson-logs/testlog.json is from this run

# count results from meson's JSON log so the closing line covers every suite
tally() {
	local log=$1/meson-logs/testlog.json
	[[ -f $log ]] || return 0
	read -r p f s < <(jq -rs '
		[.[] | .result] as $r |
		"\([$r[] | select(. == "OK" or . == "EXPECTEDFAIL")] | length) " +
		"\([$r[] | select(. == "FAIL" or . == "TIMEOUT" or . == "ERROR" or . == "UNEXPECTEDPASS")] | length) " +
		"\([$r[] | select(. == "SKIP")] | length)"' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

run_build() {
	local dir=$1
	shift
	local setup_args=() suites=()
	while (($#)) && [[ $1 != -- ]]; do setup_args+=("$1"); shift; done
	[[ ${1:-} == -- ]] && shift
	suites=("$@")

	echo "=== $dir: meson setup ${setup_args[*]}"
	if ! meson_setup "$dir" "${setup_args[@]}"; then
		failed=$((failed + 1))
		broken+=("$dir: meson setup failed")
		return 1
	fi
	if ! meson compile -C "$dir"; then
		failed=$((failed + 1))
		broken+=("$dir: build failed")
		echo "=== $dir: build failed"
		return 1
	fi
	local args=(--print-errorlogs --num-processes 1)
	for s in "${suites[@]}"; do args+=(--suite "$s"); done
	meson test -C "$dir" "${args[@]}"
	local rc=$?
	tested+=("$dir")
	tally "$dir"
	return $rc
}

# The daemon alone, configured the way a machine without cmocka, libcurl, libyaml and
# scdoc gets it: it must build, run, and define no test, no client and no man page.
check_build_without_tests() {
	local dir=build-notests
	echo "=== $dir: meson setup -Dtests=disabled -Dcli=disabled -Dyaml=disabled -Dman=disabled"
	if meson_setup "$dir" -Dtests=disabled -Dcli=disabled -Dyaml=disabled -Dman=disabled \
		-Dwerror=true &&
		meson compile -C "$dir" &&
		"$dir/daemon/interceptd" --version &&
		[[ ! -e $dir/api/cli/interceptctl ]] &&
		[[ $(meson introspect --tests "$dir") == "[]" ]]; then
		passed=$((passed + 1))
		return 0
	fi
	echo "=== $dir: the build without tests failed"
	failed=$((failed + 1))
	broken+=("$dir: the build without tests failed")
	return 1
}

common=(-Dtests=enabled -Dwerror=true -Dbuildtype=debugoptimized)
run_build build "${common[@]}" || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_build build-asan "${common[@]}" -Db_sanitize=address,undefined -Db_lundef=false -- \
	unit integration privileged || status=1
# libFuzzer targets (tests/fuzz): each runs 30 s (FUZZ_SECONDS) over its seed corpus
CC=clang run_build build-fuzz -Dfuzzing=true -Dtests=enabled -Dwerror=true -- fuzz || status=1
grep -h '^fuzz_.* exec/s' build-fuzz/meson-logs/testlog.txt 2>/dev/null
check_build_without_tests || status=1

# After the summary, so that a CI log cut in the middle still names what failed: each
# failed test, its "not ok" TAP lines (e2e runs many steps as one test), and the end of
# its output (stdout, then stderr).
report_failures() {
	local dir log
	for line in "${broken[@]}"; do echo "FAILED $line"; done
	for dir in "${tested[@]}"; do
		log=$dir/meson-logs/testlog.json
		[[ -f $log ]] || continue
		jq -rs --arg dir "$dir" '.[] |
			select(.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR" or
				.result == "UNEXPECTEDPASS") |
			"FAILED \($dir): \(.name) (\(.result), \(.duration | floor) s)",
			((.stdout // "") | split("\n") | map(select(startswith("not ok"))) | .[:20] |
				map("    " + .) | .[]),
			(((.stdout // "") + (.stderr // "")) | rtrimstr("\n") | split("\n") | .[-40:] |
				map("    | " + .) | .[])' "$log"
	done
}

echo "summary: $passed passed, $failed failed, $skipped skipped"
report_failures
exit $status
