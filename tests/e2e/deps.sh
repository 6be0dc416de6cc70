#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install every Debian package the e2e suite needs (Debian 12). Idempotent: installs only
# what is missing, and adds root's subordinate id range the unprivileged containers use.
# No service is started (policy-rc.d forbids it here, and the suite needs none).
set -eu

pkgs=(
	runc		# OCI runtime 1.1.5
	crun		# OCI runtime 1.8.1
	lxc		# LXC 5.0.2 (lxc-start, lxc-attach, lxc-stop, lxc-destroy, lxc-info, lxc-wait)
	uidmap		# newuidmap/newgidmap
	busybox-static	# the container rootfs
	gcc		# builds probe (static) and mini_agent
	libc6-dev	# static libc for gcc -static
	libseccomp-dev	# mini_agent resolves syscall names
	jq		# edits config.json, reads API envelopes
	curl		# API over the unix socket
	util-linux	# unshare, mount (crun's private mount namespace)
	attr		# getfattr: checks the emulated trusted.overlay.opaque from the host
	podman		# Podman 4.3: test_podman.sh, and the default linux.seccomp the merge tests use
	containerd	# containerd 1.6 + ctr: test_containerd.sh, and its default profile (ctr run --seccomp)
	e2fsprogs	# mkfs.ext4: the images of the mount scenario
	fuse2fs		# the FUSE ext4 the mount scenario redirects to (mount.fuse=ext4=fuse2fs)
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
	echo "all e2e packages present"
fi

line="root:100000:10000001"
for f in /etc/subuid /etc/subgid; do
	grep -qxF "$line" "$f" 2>/dev/null || echo "$line" >>"$f"
done
