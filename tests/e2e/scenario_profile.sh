# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced by lib.sh. A real runc or crun container that registers itself: its seccomp policy is
# a profile's (GET /1.0/profiles/NAME/seccomp?format=oci, listenerMetadata "profile=NAME"), and
# its config.json carries containerd's CRI annotations. Its first listener creates an
# ephemeral container named from the pod, with the profile's keys (sysinfo shows the limit),
# Kubernetes labels on its metrics; a profile change applies without a restart; the
# container's end removes it and its series; the profile can then be deleted. A monitor of
# the event stream sees it created, updated by its profile and deleted, with its pod.

PROFILE_POD=web-7d4b9

# profile_bundle_annotations NAME: containerd's CRI annotations in the bundle (config.jq).
profile_bundle_annotations() {
	local c
	c=$(cdir "$1")
	mkdir -p "$c"
	cat >"$c/config.jq" <<-JQ
		.annotations = {
			"io.kubernetes.cri.container-type": "container",
			"io.kubernetes.cri.sandbox-namespace": "e2e",
			"io.kubernetes.cri.sandbox-name": "$PROFILE_POD",
			"io.kubernetes.cri.container-name": "app"
		}
	JQ
}

# profile_start RT NAME PROFILE: start NAME with the profile's OCI policy.
profile_start() {
	local rt=$1 name=$2 f=$E2E_WORK/profile-policy-$3.json
	api_expect_2xx GET "/1.0/profiles/$3/seccomp?format=oci" || return 1
	jq -e '.metadata | select(.listenerMetadata == "profile='"$3"'")' <<<"$API_BODY" >"$f" ||
		{ echo "no profile=$3 policy in: $API_BODY"; return 1; }
	profile_bundle_annotations "$name"
	"${rt}_set_memory" "$name" "$MIB256"
	"${rt}_start" "$name" "$f"
}

# profile_ephemeral_name: the one container registered from the pod, or nothing.
profile_ephemeral_name() {
	api GET "/1.0/containers?recursion=1"
	jq -r --arg pod "$PROFILE_POD" \
		'.metadata[] | select(.ephemeral and .kubernetes.pod == $pod) | .name' <<<"$API_BODY"
}

# check_ephemeral_registered: within 5 s, with the pod's names and the profile's keys.
check_ephemeral_registered() {
	local name="" i
	for i in $(seq 50); do
		name=$(profile_ephemeral_name)
		[ -n "$name" ] && break
		sleep 0.1
	done
	[ -n "$name" ] || { echo "no ephemeral container for pod $PROFILE_POD: $API_BODY"; return 1; }
	case $name in
	e2e.$PROFILE_POD.app-????????) ;;
	*) echo "unexpected name '$name'"; return 1 ;;
	esac
	api_expect_2xx GET "/1.0/containers/$name" || return 1
	jq -e '.metadata.expanded_config["security.syscalls.intercept.sysinfo"] == "true"
		and .metadata.profiles == ["'"$1"'"]' <<<"$API_BODY" >/dev/null ||
		{ echo "$API_BODY"; return 1; }
	echo "$name" >"$E2E_WORK/profile-ephemeral"
}

check_ephemeral_metric_labels() {
	local name v
	name=$(cat "$E2E_WORK/profile-ephemeral" 2>/dev/null)
	v=$(metric_value interceptd_syscalls_total "container=$name" k8s_namespace=e2e \
		"k8s_pod=$PROFILE_POD" k8s_container=app syscall=sysinfo outcome=emulated) ||
		{ echo "no labelled series:"; grep interceptd_syscalls_total <<<"$API_BODY"; return 1; }
	awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || { echo "value $v"; return 1; }
}

# check_ephemeral_removed: the container's end removes it, and its series, within 5 s.
check_ephemeral_removed() {
	local name
	name=$(cat "$E2E_WORK/profile-ephemeral" 2>/dev/null)
	[ -n "$name" ] || { echo "no ephemeral container was registered"; return 1; }
	wait_container_gone "$name" || return 1
	api GET /1.0/metrics
	! grep -q "k8s_pod=\"$PROFILE_POD\"" <<<"$API_BODY" ||
		{ echo "series of $name left:"; grep "$PROFILE_POD" <<<"$API_BODY"; return 1; }
}

# profile_monitor_start: follow the lifecycle events, as `interceptctl monitor` does, into a file.
profile_monitor_start() {
	curl -sN --unix-socket "$E2E_WORK/daemon/api.sock" \
		'http://localhost/1.0/events?type=lifecycle' >"$E2E_WORK/profile-events" 2>/dev/null &
	echo $! >"$E2E_WORK/profile-monitor.pid"
}

# profile_has_event ACTION JQ-CONDITION: a lifecycle event ACTION about the ephemeral
# container arrived, for which the condition (on .metadata) holds.
profile_has_event() {
	local name
	name=$(cat "$E2E_WORK/profile-ephemeral" 2>/dev/null)
	jq -e -s --arg n "$name" --arg a "$1" --arg pod "$PROFILE_POD" \
		"any(.[]; .metadata.action == \$a and .metadata.container == \$n and (.metadata | $2))" \
		"$E2E_WORK/profile-events" >/dev/null 2>&1
}

# check_ephemeral_events PROFILE: a monitor saw it registered, changed by its profile and gone.
check_ephemeral_events() {
	# shellcheck disable=SC2016 # $pod is jq's
	local eph='.ephemeral == true and .profile == "'"$1"'" and .kubernetes.pod == $pod'
	for _ in $(seq 50); do
		profile_has_event container-deleted "$eph" && break
		sleep 0.1
	done
	if ! { profile_has_event container-created "$eph" &&
		profile_has_event container-updated '.profile == "'"$1"'"' &&
		profile_has_event container-deleted "$eph"; }; then
		echo "events:"
		cat "$E2E_WORK/profile-events"
		return 1
	fi
}

scenario_profile() {
	local rt=$1 name=e2e-$1-prof-$$ profile=e2e.default reason
	BLOCKED=""
	rm -f "$E2E_WORK/profile-ephemeral"
	reason=""
	if ! daemon_start >"$E2E_WORK/daemon-start.err" 2>&1; then
		reason="interceptd did not start: $(cat "$E2E_WORK/daemon-start.err")"
	fi
	step "$rt: profile: interceptd starts${reason:+ ($reason)}" test -z "$reason"
	profile_monitor_start
	step "$rt: profile: created with intercept.sysinfo=true" api_expect_2xx POST /1.0/profiles \
		"{\"name\":\"$profile\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}"
	step "$rt: profile: a container starts with the profile's policy (profile=$profile)" \
		profile_start "$rt" "$name" "$profile"
	step "$rt: profile: it registered itself, named from its CRI annotations" \
		check_ephemeral_registered "$profile"
	soft_step "$rt: profile: sysinfo reports the 256 MiB limit" \
		check_sysinfo_total "$rt" "$name" "$MIB256"
	soft_step "$rt: profile: metrics carry k8s_namespace, k8s_pod, k8s_container" \
		check_ephemeral_metric_labels
	soft_step "$rt: profile: a profile change applies at the next call (sysinfo off: host MemTotal)" eval \
		"api_expect_2xx PATCH /1.0/profiles/$profile '{\"config\":{\"security.syscalls.intercept.sysinfo\":\"false\"}}' &&
		 check_sysinfo_total $rt $name \$(host_memtotal_bytes)"
	soft_step "$rt: profile: deleting the profile in use is refused (409)" eval \
		"api DELETE /1.0/profiles/$profile; expect_eq 'DELETE in use' \$API_STATUS 409"
	BLOCKED=""
	step "$rt: profile: container deleted" check_gone "$rt" "$name"
	step "$rt: profile: its ephemeral container and its series are gone" check_ephemeral_removed
	step "$rt: profile: the profile is deleted" api_expect_2xx DELETE "/1.0/profiles/$profile"
	soft_step "$rt: profile: a monitor saw it created and deleted (ephemeral, its profile and pod)" \
		check_ephemeral_events "$profile"
	stop_pid "$E2E_WORK/profile-monitor.pid"
	if [ -n "$E2E_FAILED" ] && [ "$E2E_FAILED" -gt 0 ]; then
		diag "interceptd log (tail):"
		daemon_log | tail -n 40 | sed 's/^/# /'
	fi
	daemon_stop
}

# --- an ephemeral container from a pod across a daemon crash (part of scenario_fdstore) ---

# kept_labels_file: where the daemon keeps the pod's Kubernetes labels for a restart.
kept_labels_file() { echo "$E2E_WORK/daemon/state/k8s-labels/$(cat "$E2E_WORK/profile-ephemeral").json"; }

# wait_ephemeral_metric_labels: the labelled sysinfo series counts a call within 2 s.
wait_ephemeral_metric_labels() {
	for _ in $(seq 20); do
		check_ephemeral_metric_labels >/dev/null && return 0
		sleep 0.1
	done
	check_ephemeral_metric_labels
}

# labels_file_is present|absent: whether the kept labels file gets there within 2 s (a writer
# thread of the daemon writes and removes it, shortly after the container registers or goes).
labels_file_is() {
	local i
	for i in $(seq 20); do
		if [ "$1" = present ]; then [ -f "$(kept_labels_file)" ]; else [ ! -e "$(kept_labels_file)" ]; fi &&
			return 0
		[ "$i" = 20 ] || sleep 0.1
	done
	return 1
}

check_registered_and_kept() {
	check_ephemeral_registered "$1" && wait_ephemeral_metric_labels || return 1
	labels_file_is present || { echo "no $(kept_labels_file)"; return 1; }
}

# check_ephemeral_and_labels_removed RT NAME: the container's end removes it and its kept labels.
check_ephemeral_and_labels_removed() {
	check_gone "$1" "$2" && check_ephemeral_removed || return 1
	labels_file_is absent || { echo "$(kept_labels_file) left behind"; return 1; }
}

# fdstore_ephemeral RT: under the keeper, a container started with a profile's policy and CRI
# annotations keeps a sysinfo loop running; the daemon is killed and restarted with the stored
# listeners; the loop is served again and its series carry the pod's labels again.
# shellcheck disable=SC2034 # BLOCKED is read by step() in lib_tap.sh
fdstore_ephemeral() {
	local rt=$1 name=e2e-$1-fdsp-$$ profile=e2e.kept
	BLOCKED=""
	rm -f "$E2E_WORK/profile-ephemeral"
	step "$rt: fd store: interceptd starts again under the fd store" keeper_start
	step "$rt: fd store: profile created with intercept.sysinfo=true" api_expect_2xx POST \
		/1.0/profiles "{\"name\":\"$profile\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}"
	step "$rt: fd store: a pod's container with the profile's policy runs a sysinfo loop" eval \
		"profile_start $rt $name $profile && start_sysinfo_loop $rt $name &&
		 wait_loop_total $rt $name $MIB256"
	step "$rt: fd store: it registered itself; its series carry the pod's labels, kept on disk" \
		check_registered_and_kept "$profile"
	step "$rt: fd store: daemon killed and restarted with the store: the loop is served again" \
		crash_and_check_taken_back "$rt" "$name"
	step "$rt: fd store: after the restart its series carry the pod's labels again" \
		wait_ephemeral_metric_labels
	BLOCKED=""
	step "$rt: fd store: container deleted: its ephemeral container and kept labels go" \
		check_ephemeral_and_labels_removed "$rt" "$name"
	step "$rt: fd store: the profile is deleted" api_expect_2xx DELETE "/1.0/profiles/$profile"
	daemon_stop
}
