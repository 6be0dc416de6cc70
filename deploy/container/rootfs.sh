#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Assemble the build context of the interceptd image (deploy/container/Containerfile,
# FROM scratch): CONTEXT/rootfs holds the daemon and interceptctl from BUILD_DIR, every
# shared library they load (as ldd resolves them on this machine, with the dynamic
# loader), /etc/passwd and /etc/group with root alone, and the directories the daemon
# uses; CONTEXT/Containerfile is a copy of the one beside this script.
# Usage: deploy/container/rootfs.sh BUILD_DIR CONTEXT_DIR
set -euo pipefail

if [[ $# != 2 ]]; then
	echo "usage: $0 BUILD_DIR CONTEXT_DIR" >&2
	exit 2
fi
build=$1
ctx=$2
here=$(cd "$(dirname "$0")" && pwd)
daemon=$build/daemon/interceptd
client=$build/api/cli/interceptctl
root=$ctx/rootfs

[[ -x $daemon ]] || { echo "$daemon is not built (meson compile -C $build)" >&2; exit 1; }
rm -rf --one-file-system "$root"
mkdir -p "$root"/{usr/sbin,usr/bin,etc,run/interceptd,var/lib/interceptd,tmp}
chmod 1777 "$root/tmp"
chmod 0700 "$root/var/lib/interceptd"

# copy_with_libraries BINARY DEST: the binary, then each library ldd names, at its path
copy_with_libraries() {
	local bin=$1 dest=$2 lib
	install -m 0755 "$bin" "$root$dest"
	# "libx.so => /path (addr)" and the loader's "/lib64/ld-linux-x86-64.so.2 (addr)"
	while read -r lib; do
		[[ -e $root$lib ]] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

copy_with_libraries "$daemon" /usr/sbin/interceptd
# the probes run interceptctl: the image has no shell and no curl
if [[ -x $client ]]; then
	copy_with_libraries "$client" /usr/bin/interceptctl
else
	echo "warning: $client is not built (-Dcli): the image's probes need it" >&2
fi

# only root is known inside the image: an --admin-group NAME must be added to
# /etc/group (mount one over it) for the daemon to find it
echo 'root:x:0:0:root:/root:/sbin/nologin' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
cp "$here/Containerfile" "$ctx/Containerfile"
echo "$ctx: rootfs of $(du -sh "$root" | cut -f1) and Containerfile"
