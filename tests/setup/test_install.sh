#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `meson install` of this build (into a temporary DESTDIR) installs the daemon, the
# client, the systemd unit naming the installed daemon, the man pages, the bash
# completion and the documentation. TAP. Environment (meson sets it): BUILD_DIR.
set -uo pipefail
. "$(dirname "$0")/../tap.sh"

dest=$(mktemp -d /tmp/interceptd-install.XXXXXX)
trap 'rm -rf --one-file-system "$dest"' EXIT

option() { # option NAME: its configured value
	meson introspect --buildoptions "$BUILD_DIR" | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'
}
prefix=$(option prefix)
cli=$(meson introspect --targets "$BUILD_DIR" | jq -r '[.[] | select(.name == "interceptctl")] | length')
man=$(meson introspect --targets "$BUILD_DIR" | jq -r '[.[] | select(.name == "interceptd.8")] | length')

installed() { [[ -n $(find "$dest" -path "*$1" -type f | head -1) ]]; }

echo "1..8"
tap_check "meson install runs" meson install -C "$BUILD_DIR" --no-rebuild --destdir "$dest" --quiet
tap_check "the daemon, which runs" "$dest$prefix/$(option sbindir)/interceptd" --version
unit=$(find "$dest" -name interceptd.service | head -1)
tap_check "the systemd unit, starting the installed daemon" \
	grep -qx "ExecStart=$prefix/$(option sbindir)/interceptd --admin-group interceptd-admin" "$unit"
units_installed() {
	installed "/interceptd-api.socket" && installed "/interceptd-lxc.socket" &&
		installed "/interceptd-oci.socket" && installed "/sysusers.d/interceptd.conf"
}
tap_check "the socket units and the sysusers.d entry" units_installed
tap_check "the documentation" installed "/doc/interceptd/README.md"
if ((cli > 0)); then
	tap_check "interceptctl, which runs" "$dest$prefix/$(option bindir)/interceptctl" --version
	tap_check "the bash completion" installed "/bash-completion/completions/interceptctl"
else
	tap_skip "interceptctl" "not built (-Dcli)"
	tap_skip "the bash completion" "not built (-Dcli)"
fi
if ((man > 0)); then
	tap_check "the man pages" installed "/man8/interceptd.8"
else
	tap_skip "the man pages" "not built (-Dman, scdoc)"
fi
tap_exit
