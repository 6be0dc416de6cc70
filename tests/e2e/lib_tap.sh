# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# TAP and steps for the e2e tests (sourced by lib.sh). Test files print unnumbered lines;
# run.sh numbers them and prints the plan.
#   - tap_ok / tap_fail / tap_skip / diag, tap_check DESC CMD...
#   - step DESC CMD... (a failed step blocks the later ones of its scenario), soft_step,
#     expect_eq WHAT GOT WANT
# E2E_FAILED is lib.sh's; step() shows the daemon's log (lib_daemon.sh) under a failure.

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
