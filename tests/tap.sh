# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# TAP output for the shell tests (source it): numbered results, skips, the exit status.
# The plan line ("1..N") is the script's own, before or after its results.

tap_n=0
tap_failures=0

# tap_result STATUS DESCRIPTION [DETAIL]: "ok N - DESCRIPTION" when STATUS is 0, else
# "not ok N - DESCRIPTION" and DETAIL's lines as comments
tap_result() {
	tap_n=$((tap_n + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $tap_n - $2"
		return 0
	fi
	tap_failures=$((tap_failures + 1))
	echo "not ok $tap_n - $2"
	[[ -n ${3:-} ]] && sed 's/^/# /' <<<"$3"
	return 1
}

# tap_check DESCRIPTION COMMAND...: tap_result of running COMMAND, whose output goes to
# stderr (standard output is the TAP stream)
tap_check() {
	local what=$1
	shift
	"$@" >&2
	tap_result $? "$what"
}

# tap_skip DESCRIPTION REASON
tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# tap_skip_all REASON: the whole script is skipped (meson's TAP parser wants exit 0)
tap_skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# tap_require_root WHY: skip the whole script unless it runs as root
tap_require_root() {
	[[ $(id -u) == 0 ]] || tap_skip_all "needs root ($1)"
}

# tap_exit: exit 0 when every result was ok, else 1
tap_exit() {
	exit $((tap_failures > 0))
}
