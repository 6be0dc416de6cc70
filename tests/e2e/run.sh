#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e driver: runs tests/e2e/test_<runtime>.sh for runc, crun, LXC, Podman and containerd (or
# those named on the command line) and prints one numbered TAP stream, plan last.
#
#   sudo tests/e2e/run.sh                 # all runtimes
#   sudo tests/e2e/run.sh lxc             # one
#   INTERCEPTD_BIN=build/daemon/interceptd E2E_KEEP=1 E2E_VERBOSE=1 …
#
# When not root or when no runtime is installed: "1..0 # SKIP reason" and exit 77 (the
# automake/meson skip status). meson 1.0's TAP parser counts a non-zero exit as an error even
# then, so tests/meson.build sets E2E_SKIP_STATUS=0 and meson sees the "1..0 # SKIP" plan.
# A runtime that is missing is reported as a skipped test. Exit 1 when any test is "not ok".
set -u
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
skip_status=${E2E_SKIP_STATUS:-77}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP e2e tests need root"
	exit "$skip_status"
fi

declare -A binary=([runc]=runc [crun]=crun [lxc]=lxc-start [podman]=podman [containerd]=ctr)
runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(runc crun lxc podman containerd)

n=0
failed=0
ran=0
for rt in "${runtimes[@]}"; do
	if [ -z "${binary[$rt]:-}" ]; then
		echo "usage: $0 [runc|crun|lxc|podman|containerd]..." >&2
		exit 2
	fi
	if ! command -v "${binary[$rt]}" >/dev/null; then
		n=$((n + 1))
		echo "ok $n - $rt # SKIP ${binary[$rt]} not installed (see tests/e2e/deps.sh)"
		continue
	fi
	ran=$((ran + 1))
	echo "# --- $rt"
	start=$(date +%s%N)
	rcfile=$(mktemp)
	own=0
	while IFS= read -r line; do
		case $line in
		"ok - "*)	n=$((n + 1)); echo "ok $n - ${line#ok - }" ;;
		"not ok - "*)	n=$((n + 1)); own=$((own + 1)); echo "not ok $n - ${line#not ok - }" ;;
		"#"*)		echo "$line" ;;
		*)		echo "# $line" ;;
		esac
	done < <("$dir/test_$rt.sh" 2>&1; echo $? >"$rcfile")
	rc=$(cat "$rcfile")
	rm -f "$rcfile"
	# A test file that dies without a "not ok" still fails the run.
	if [ "$rc" != 0 ] && [ "$own" = 0 ]; then
		n=$((n + 1)); own=1
		echo "not ok $n - $rt: test file exited with status $rc"
	fi
	failed=$((failed + own))
	echo "# $rt: $(( ($(date +%s%N) - start) / 1000000 )) ms"
done

if [ "$ran" = 0 ]; then
	echo "1..0 # SKIP no container runtime installed"
	exit "$skip_status"
fi
echo "1..$n"
[ "$failed" = 0 ]
