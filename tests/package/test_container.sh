#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The DaemonSet image, end to end with Podman (TAP): deploy/container/rootfs.sh
# assembles the context from this build, `podman build` (FROM scratch, no network,
# nothing pulled) makes the image in private storage, `podman run` starts it with
# /run/interceptd bound to a temporary directory as the DaemonSet's hostPath is, the
# host's interceptctl gets GET /1.0 through the socket, the image's own probe command
# (interceptctl info, run inside) answers, and the container, its volume, the image
# and the storage are removed again, also on failure.
# Environment (meson sets it): BUILD_DIR, INTERCEPTCTL_BIN. Root only; skips without podman.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/tap.sh"
tap_require_root "rootful podman"
command -v podman >/dev/null || tap_skip_all "podman is not installed (tests/e2e/deps.sh installs it)"

work=$(mktemp -d /tmp/interceptd-image.XXXXXX)
name=interceptd-image-test-$$
image=localhost/interceptd-test:$$
: >"$work/stdin" # never the host's /dev/null as a container's stdin
# private storage, vfs (no overlay mounts left behind), cgroupfs on this hybrid host, and
# runc (crun refuses hybrid cgroups here)
pod() {
	podman --root "$work/storage" --runroot "$work/runroot" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime runc "$@" <"$work/stdin"
}
cleanup() {
	pod rm -f -v "$name" >/dev/null 2>&1
	pod rmi -f "$image" >/dev/null 2>&1
	# anything still mounted under the work directory is unmounted before it is removed
	grep -oE " $work/[^ ]+" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# tap_result with the end of the log as the detail of a failure
result() { tap_result "$1" "$2" "$(tail -n 20 "$work/log" 2>/dev/null)"; }

echo "1..6"
"$src/deploy/container/rootfs.sh" "$BUILD_DIR" "$work/ctx" >"$work/log" 2>&1 &&
	[[ -x $work/ctx/rootfs/usr/sbin/interceptd && -x $work/ctx/rootfs/usr/bin/interceptctl ]]
result $? "rootfs.sh assembles the context"

pod build --network=none --pull=never -t "$image" "$work/ctx" >>"$work/log" 2>&1 &&
	[[ $(pod image inspect --format '{{len .RootFS.Layers}}' "$image") == 1 ]]
result $? "podman builds the image FROM scratch, one layer, nothing pulled"

mkdir "$work/run"
pod run -d --name "$name" --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	-v "$work/run:/run/interceptd" "$image" >>"$work/log" 2>&1
result $? "podman runs it with /run/interceptd bound to a host directory"

answered=1
for _ in $(seq 100); do
	if "$INTERCEPTCTL_BIN" --socket "$work/run/api.sock" --format json info >"$work/info" 2>>"$work/log"; then
		answered=0
		break
	fi
	sleep 0.1
done
[[ $answered == 0 ]] &&
	jq -e '.api_version == "1.0" and .sockets.api == "/run/interceptd/api.sock"' "$work/info" >/dev/null
result $? "the host gets GET /1.0 through the bound socket"
[[ $answered == 0 ]] || pod logs "$name" 2>&1 | sed 's/^/# /'

pod exec "$name" /usr/bin/interceptctl info >"$work/probe" 2>>"$work/log" &&
	grep -q '^ACCESS  *admin' "$work/probe"
result $? "the image's probe command (interceptctl info) answers inside"

pod logs "$name" >"$work/daemon.log" 2>&1
jq -e 'select(.message | startswith("interceptd ")) | .level == "info"' "$work/daemon.log" \
	>/dev/null 2>&1
result $? "its log is JSON lines (the image's default --log-format json)"

tap_exit
