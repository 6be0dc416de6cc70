# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Ephemeral registration through a profile, for Podman and containerd (sourced by lib_fleet.sh).
# The interface (issue 14, parts 1 and 2): `POST /1.0/profiles {"name":N,"config":{…}}`;
# `GET /1.0/profiles/N/seccomp?format=oci` gives the profile's policy; an OCI listener whose
# listenerMetadata is "profile=N" and that names no registered container creates an ephemeral
# container with N's config, named from the OCI state: for Kubernetes the CRI annotations
# (containerd's io.kubernetes.cri.sandbox-namespace, io.kubernetes.cri.sandbox-name,
# io.kubernetes.cri.container-name), a name that contains the pod's. Its metrics carry
# k8s_namespace, k8s_pod and k8s_container; it goes away when its last listener closes, and
# its series with it.
# Every step is skipped, with the reason, while GET /1.0/profiles answers 404 (a daemon from
# before profiles): detected at run time, never passed.
# shellcheck disable=SC2034 # BLOCKED is read by step() in lib_tap.sh

PROFILE_STEPS=(
	"profile created over the API (POST /1.0/profiles) with sysinfo and mknod on"
	"profile policy fetched; listenerMetadata = profile=NAME"
	"a container with CRI annotations starts with it (256 MiB limit)"
	"an ephemeral container appears, named after the pod, with the profile's config"
	"its sysinfo reports the 256 MiB limit and mknod c 1 3 is emulated"
	"metrics carry k8s_namespace, k8s_pod and k8s_container"
	"the ephemeral container and its series go away with the container"
	"profile deleted"
)

# The reason profile steps skip, or nothing when the daemon serves /1.0/profiles.
profiles_missing() {
	api GET /1.0/profiles
	case $API_STATUS in
	200) return 1 ;;
	404) echo "profiles not in this daemon (404 on /1.0/profiles)" ;;
	*) echo "GET /1.0/profiles -> $API_STATUS: $API_BODY" ;;
	esac
}

# fetch_profile_policy PROFILE OUT: the profile's OCI policy: listenerPath the OCI socket,
# listenerMetadata "profile=PROFILE".
fetch_profile_policy() {
	api_expect_2xx GET "/1.0/profiles/$1/seccomp?format=oci" || return 1
	jq -e '.metadata | objects' <<<"$API_BODY" >"$2" ||
		{ echo "no linux.seccomp object in .metadata: $API_BODY"; return 1; }
	jq -e --arg p "$(daemon_oci_socket)" --arg m "profile=$1" \
		'.listenerPath == $p and .listenerMetadata == $m' "$2" >/dev/null ||
		{ echo "listener fields wrong: $(jq -c '{listenerPath, listenerMetadata}' "$2")"; return 1; }
}

# The annotations a CRI (containerd's) puts in the OCI state of a pod's container.
K8S_NS=e2e-ns
K8S_CONTAINER=app
k8s_pod() { echo "e2e-pod-$1-$$"; }

start_profile_container() {
	local e=$1 name=$2 policy=$3 pod
	pod=$(k8s_pod "$e")
	"${e}_set_annotations" "$name" "io.kubernetes.cri.sandbox-namespace=$K8S_NS" \
		"io.kubernetes.cri.sandbox-name=$pod" "io.kubernetes.cri.container-name=$K8S_CONTAINER" &&
		"${e}_set_memory" "$name" "$MIB256" &&
		engine_start "$e" "$name" "$policy"
}

# ephemeral_name POD: the one registered container whose name contains POD.
ephemeral_name() {
	api_expect_2xx GET "/1.0/containers?recursion=1" >/dev/null || return 1
	jq -er --arg pod "$1" '[.metadata[] | select(.name | contains($pod)) | .name]
		| if length == 1 then .[0] else error("containers named after the pod: \(.)") end' \
		<<<"$API_BODY"
}

# check_ephemeral E PROFILE: writes the name to $E2E_WORK/ephemeral-E.
check_ephemeral() {
	local e=$1 profile=$2 eph cfg
	eph=$(ephemeral_name "$(k8s_pod "$e")") || { echo "$API_BODY"; return 1; }
	echo "$eph" >"$E2E_WORK/ephemeral-$e"
	diag "$e: ephemeral container '$eph'" >&3
	api_expect_2xx GET "/1.0/containers/$eph" || return 1
	cfg=$(jq -c '.metadata.expanded_config // .metadata.config' <<<"$API_BODY")
	jq -e '.["security.syscalls.intercept.sysinfo"] == "true"' <<<"$cfg" >/dev/null ||
		{ echo "'$eph' does not have the profile's config: $API_BODY"; return 1; }
	jq -e --arg p "$profile" '(.metadata.profiles // [$p]) | index($p)' <<<"$API_BODY" >/dev/null ||
		{ echo "'$eph' does not use profile '$profile': $API_BODY"; return 1; }
}

ephemeral() { cat "$E2E_WORK/ephemeral-$1"; }

check_ephemeral_works() {
	check_sysinfo_total "$1" "$2" "$MIB256" && check_null_node "$1" "$2" /tmp/null
}

check_k8s_labels() {
	metric_positive interceptd_syscalls_total "container=$(ephemeral "$1")" syscall=sysinfo \
		outcome=emulated "k8s_namespace=$K8S_NS" "k8s_pod=$(k8s_pod "$1")" \
		"k8s_container=$K8S_CONTAINER"
}

# Stop the container: its listeners close, the ephemeral container and its series go.
check_ephemeral_gone() {
	local e=$1 name=$2 eph
	eph=$(ephemeral "$e")
	check_gone "$e" "$name" || return 1
	wait_container_gone "$eph" || return 1
	api GET /1.0/metrics
	! grep -F "container=\"$eph\"" <<<"$API_BODY" ||
		{ echo "series of '$eph' still in GET /1.0/metrics"; return 1; }
}

scenario_engine_profile() {
	local e=$1 profile=e2e-prof-$1-$$ name=e2e-$1-eph-$$ reason s
	local policy=$E2E_WORK/profile-policy-$1.json
	reason=$(profiles_missing) && {
		for s in "${PROFILE_STEPS[@]}"; do tap_skip "$e: profile: $s" "$reason"; done
		return 0
	}
	BLOCKED=""
	E2E_CONTAINERS+=("$e $name")
	step "$e: profile: ${PROFILE_STEPS[0]}" api_expect_2xx POST /1.0/profiles \
		"{\"name\":\"$profile\",\"config\":{$FLEET_KEYS}}"
	step "$e: profile: ${PROFILE_STEPS[1]}" fetch_profile_policy "$profile" "$policy"
	step "$e: profile: ${PROFILE_STEPS[2]}" start_profile_container "$e" "$name" "$policy"
	step "$e: profile: ${PROFILE_STEPS[3]}" check_ephemeral "$e" "$profile"
	soft_step "$e: profile: ${PROFILE_STEPS[4]}" check_ephemeral_works "$e" "$name"
	soft_step "$e: profile: ${PROFILE_STEPS[5]}" check_k8s_labels "$e"
	soft_step "$e: profile: ${PROFILE_STEPS[6]}" check_ephemeral_gone "$e" "$name"
	BLOCKED=""
	"${e}_stop" "$name" >/dev/null 2>&1
	step "$e: profile: ${PROFILE_STEPS[7]}" api_expect_2xx DELETE "/1.0/profiles/$profile"
}
