#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run libFuzzer targets of a fuzz build over their seed corpora.
#
# Usage: tests/fuzz/run.sh [-t SECONDS] BUILD_DIR [TARGET...]
#   BUILD_DIR  a build configured with CC=clang meson setup BUILD_DIR -Dfuzzing=true
#   TARGET     names without the fuzz_ prefix (request_body, oci_state, ...); default: all
#   -t         seconds per target [FUZZ_SECONDS, else 30]
# Environment (for tests/fuzz/test_run.sh): FUZZ_UNIT_SECONDS, the time one input may take
# [10]; FUZZ_CORPUS_DIR, where the seed directories are [tests/fuzz/corpus].
#
# Each target runs with a fresh, throw-away corpus directory (new inputs go there, the seeds
# in the repository stay as they are) and a scratch TMPDIR, both on tmpfs. A crash, a leak,
# a broken invariant or an input needing over 10 s of CPU time fails the run; the input is
# kept under BUILD_DIR/tests/fuzz/artifacts/TARGET/ and the last lines of libFuzzer's log
# are printed.
# The closing line per target gives the runs and exec/s libFuzzer reported.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}
unit_seconds=${FUZZ_UNIT_SECONDS:-10}
corpus=${FUZZ_CORPUS_DIR:-$here/corpus}
all=(request_body config_value api_request lxc_message oci_state state_file state_legacy
	fdstore_name proc_status proc_cgroup oci_policy mount_data bpf_attr metrics_request
	configdir_file k8s_labels)

while getopts t: opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if (($# < 1)); then
	sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
shift
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

# Seed directories of TARGET: its own corpus, plus the API fixtures for request bodies.
seeds_of() {
	echo "$corpus/$1"
	[[ $1 == request_body ]] && echo "$src/tests/fixtures"
}

# Extra libFuzzer flags of TARGET.
flags_of() {
	[[ -f $here/dict/$1.dict ]] && echo "-dict=$here/dict/$1.dict"
	case $1 in
	# lines longer than the 4 KiB line buffer, and several buffers' worth
	proc_status) echo "-max_len=12288" ;;
	state_legacy | api_request) echo "-max_len=8192" ;;
	# an attr past a page (E2BIG), and programs of a thousand instructions
	bpf_attr) echo "-max_len=9000" ;;
	esac
}

# libFuzzer's -timeout counts wall-clock time, so a process the host keeps off the CPU
# looks like a slow unit: on a loaded shared machine a runnable process has waited 30 s
# for a CPU, and its unit then "ran" 30 s. A timeout is judged again by the CPU time the
# unit needs: it is replayed alone under RLIMIT_CPU (SIGXCPU, which libFuzzer reports,
# after unit_seconds) with libFuzzer's wall-clock alarm off; a replay that finishes means
# the host stalled, a slow path or a loop runs out of CPU time and fails the run, however
# loaded the machine is. A unit that blocks without using CPU meets the wall-clock
# backstop instead (REPLAY_WALL_SECONDS: four times the longest wait seen here, and with
# the 30 s run within meson's 180 s for the test).
REPLAY_WALL_SECONDS=120

# The input of LOG's timeout, if the run ended on one.
timeout_unit() {
	grep -q '^==[0-9]*== ERROR: libFuzzer: timeout' "$1" || return 1
	sed -n 's/.*Test unit written to \(.*\/timeout-[0-9a-f]*\)$/\1/p' "$1" | tail -n 1
}

timeout_was_a_stall() {
	local bin=$1 log=$2 unit rc
	unit=$(timeout_unit "$log") && [[ -f $unit ]] || return 1
	(
		ulimit -S -t "$unit_seconds" &&
			exec timeout "$REPLAY_WALL_SECONDS" "$bin" -timeout=0 "$unit"
	) >"$log.replay" 2>&1
	rc=$?
	if ((rc != 0)); then
		tail -n 20 "$log.replay" >>"$log"
		echo "replay of the timeout alone: exit $rc (152: over $unit_seconds s of CPU time;" \
			"124: still running after $REPLAY_WALL_SECONDS s)" >>"$log"
		return 1
	fi
	rm -f "$unit"
}

run_one() {
	local name=$1 bin=$build/tests/fuzz/fuzz_$1 work artifacts rc seeds flags
	if [[ ! -x $bin ]]; then
		echo "fuzz_$name: $bin is missing (configure with CC=clang meson setup DIR -Dfuzzing=true)"
		return 1
	fi
	work=$(mktemp -d "${FUZZ_WORK_DIR:-/dev/shm}/interceptd-fuzz-run.XXXXXX") || return 1
	artifacts=$build/tests/fuzz/artifacts/$name
	mkdir -p "$work/corpus" "$work/tmp" "$artifacts"
	mapfile -t seeds < <(seeds_of "$name")
	mapfile -t flags < <(flags_of "$name")
	TMPDIR=$work/tmp "$bin" -max_total_time="$seconds" -timeout="$unit_seconds" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${flags[@]}" "$work/corpus" "${seeds[@]}" \
		>"$work/log" 2>&1
	rc=$?
	if ((rc != 0)) && timeout_was_a_stall "$bin" "$work/log"; then
		echo "fuzz_$name: a unit ran over $unit_seconds s of wall-clock time, but replays" \
			"within $unit_seconds s of CPU time: the host kept the process waiting; ignoring"
		rc=0
	fi
	if ((rc != 0)); then
		tail -n 60 "$work/log"
		echo "fuzz_$name: FAILED (exit $rc); input kept in $artifacts/:"
		ls -t "$artifacts" | head -n 3
	else
		awk -v n="fuzz_$name" -v s="$seconds" '
			/^stat::number_of_executed_units:/ { runs = $2 }
			/^stat::average_exec_per_sec:/ { eps = $2 }
			/^stat::new_units_added:/ { added = $2 }
			/^stat::peak_rss_mb:/ { rss = $2 }
			END { printf "%s: %s s, %s runs, %s exec/s, %s new inputs, peak RSS %s MB\n",
				n, s, runs, eps, added, rss }' "$work/log"
	fi
	rm -rf --one-file-system "$work"
	((rc == 0)) # libFuzzer exits 77 on a crash, which meson would take for a skip
}

status=0
for t in "${targets[@]}"; do
	run_one "$t" || status=1
done
exit $status
