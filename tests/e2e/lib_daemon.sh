# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The interceptd daemon and the mini_agent for the e2e tests (sourced by lib.sh):
#   - daemon_start / daemon_stop (temporary sockets and state dir under the work dir, by PID),
#     daemon_up DESC, daemon_log, daemon_oci_socket
#   - api METHOD PATH [BODY] over the daemon's unix socket (sets API_STATUS, API_BODY),
#     api_expect_2xx, daemon_api_ready, metric_value NAME label=value...
#   - agent_start / agent_stop / agent_count ERE: the mini_agent test tool (OCI + LXC seccomp
#     agent answering CONTINUE), oci_policy_json and lxc_policy_lines for its policies

daemon_start() {
	local d=$E2E_WORK/daemon
	mkdir -p "$d/state"
	if [ ! -x "$INTERCEPTD_BIN" ]; then
		echo "no daemon binary at $INTERCEPTD_BIN" >&2
		return 1
	fi
	# --log-file: lines with their time, to set beside LXC's log; anything else on stderr
	: >"$d/log"
	# shellcheck disable=SC2094 # both append; nothing reads it here
	"$INTERCEPTD_BIN" --api-socket "$d/api.sock" --lxc-socket "$d/lxc.sock" \
		--oci-socket "$d/oci.sock" --state-dir "$d/state" --log-level debug \
		--log-file "$d/log" </dev/null >>"$d/log" 2>&1 &
	echo $! >"$d/pid"
	for _ in $(seq 100); do
		[ -S "$d/api.sock" ] && [ -S "$d/oci.sock" ] && [ -S "$d/lxc.sock" ] && return 0
		kill -0 "$(cat "$d/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "daemon did not come up; log:" >&2
	cat "$d/log" >&2
	return 1
}

# stop_pid PIDFILE: TERM, wait up to 5 s, then KILL. Only ever the PID we recorded.
stop_pid() {
	local pidfile=$1 pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	rm -f "$pidfile"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

daemon_stop() { [ -n "$E2E_WORK" ] && stop_pid "$E2E_WORK/daemon/pid"; }
daemon_log()  { cat "$E2E_WORK/daemon/log" 2>/dev/null; }
daemon_oci_socket() { echo "$E2E_WORK/daemon/oci.sock"; }

# api METHOD PATH [BODY]: sets API_STATUS (000 when no answer) and API_BODY.
API_STATUS=000
API_BODY=""
api() {
	local method=$1 path=$2 body=${3-} out=$E2E_WORK/daemon/api.out
	# generous: a loaded host can hold the daemon for seconds; a daemon that never
	# answers fails all the same
	local args=(-s --unix-socket "$E2E_WORK/daemon/api.sock" --max-time 30 -o "$out"
		-w '%{http_code}' -X "$method")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	: >"$out"
	API_STATUS=$(curl "${args[@]}" "http://localhost$path" 2>/dev/null) || true
	[ -n "$API_STATUS" ] || API_STATUS=000
	API_BODY=$(cat "$out")
}

# Whether the running daemon serves the management API (GET /1.0 and /1.0/containers).
# Prints the reason when it does not.
daemon_api_ready() {
	api GET /1.0
	if [ "$API_STATUS" != 200 ]; then
		echo "interceptd API not available yet (GET /1.0 -> $API_STATUS)"
		return 1
	fi
	api GET /1.0/containers
	if [ "$API_STATUS" != 200 ]; then
		echo "interceptd API has no /1.0/containers yet (GET -> $API_STATUS)"
		return 1
	fi
}

# metric_value NAME LABEL=VALUE...: the sample value of the series with all those labels (with
# none, also of a metric that has no labels).
metric_value() {
	local name=$1
	shift
	api GET /1.0/metrics
	[ "$API_STATUS" = 200 ] || return 1
	printf '%s\n' "$API_BODY" | awk -v name="$name" -v want="$*" '
		index($0, name "{") == 1 || (want == "" && index($0, name " ") == 1) {
			n = split(want, w, " "); ok = 1
			for (i = 1; i <= n; i++) {
				split(w[i], kvp, "=")
				if (index($0, kvp[1] "=\"" kvp[2] "\"") == 0) ok = 0
			}
			if (ok) { print $NF; found = 1; exit }
		}
		END { exit !found }'
}

api_expect_2xx() {
	api "$@"
	case $API_STATUS in 2??) return 0;; esac
	echo "$1 $2 -> $API_STATUS: $API_BODY"
	return 1
}

# daemon_up DESC: start the daemon for a scenario; if it does not serve the API, "not ok DESC".
daemon_up() {
	daemon_start >/dev/null 2>&1 && daemon_api_ready >/dev/null && return 0
	tap_fail "$1" "$(daemon_log | tail -n 5)"
	daemon_stop
	return 1
}

# wait_container_gone NAME: GET /1.0/containers/NAME answers 404 within 5 s (an ephemeral
# container goes with its last listener).
wait_container_gone() {
	for _ in $(seq 50); do
		api GET "/1.0/containers/$1"
		[ "$API_STATUS" = 404 ] && break
		sleep 0.1
	done
	expect_eq "GET /1.0/containers/$1 after its container stopped" "$API_STATUS" 404
}

# ---------------------------------------------------------------------------------------------
# mini_agent

agent_start() {
	local a=$E2E_WORK/agent
	mkdir -p "$a"
	"$E2E_WORK/bin/mini_agent" --oci "$a/oci.sock" --lxc "$a/lxc.sock" </dev/null >"$a/log" 2>&1 &
	echo $! >"$a/pid"
	for _ in $(seq 50); do
		grep -q '^ready$' "$a/log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "mini_agent did not start: $(cat "$a/log")" >&2
	return 1
}

agent_stop() { [ -n "$E2E_WORK" ] && stop_pid "$E2E_WORK/agent/pid"; }
agent_oci_socket() { echo "$E2E_WORK/agent/oci.sock"; }
agent_lxc_socket() { echo "$E2E_WORK/agent/lxc.sock"; }
agent_log() { cat "$E2E_WORK/agent/log" 2>/dev/null; }
# agent_count ERE: how many agent log lines match.
agent_count() { grep -cE "$1" "$E2E_WORK/agent/log" 2>/dev/null || true; }

# The OCI linux.seccomp object our daemon generates, for LISTENER and NAME.
oci_policy_json() {
	jq -n --arg path "$1" --arg name "$2" '{
		defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		listenerPath: $path,
		listenerMetadata: $name,
		syscalls: [
			{ names: ["seccomp"], action: "SCMP_ACT_ERRNO", errnoRet: 22,
			  args: [{ index: 1, value: 8, valueTwo: 8, op: "SCMP_CMP_MASKED_EQ" }] },
			{ names: ["sysinfo"], action: "SCMP_ACT_NOTIFY" }
		]}'
}

# The LXC config lines our daemon generates: writes the policy file POLICY, prints the lines.
lxc_policy_lines() {
	local sock=$1 name=$2 policy=$3
	printf '2\ndenylist\n[all]\nseccomp errno 22 [1,8,SCMP_CMP_MASKED_EQ,8]\nsysinfo notify\n' >"$policy"
	printf 'lxc.seccomp.profile = %s\nlxc.seccomp.notify.proxy = unix:%s\nlxc.seccomp.notify.cookie = %s\n' \
		"$policy" "$sock" "$name"
}
