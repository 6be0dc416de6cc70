#!/usr/bin/env bash
# Install build dependencies, build interceptd and run it in the foreground
# with the default sockets (/run/interceptd/{api,lxc,oci}.sock) and state dir
# (/var/lib/interceptd). Extra arguments go to the daemon, e.g. --log-level debug.
# Usage (as root on Debian 12): deploy/quickstart.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

need=(meson ninja-build pkg-config gcc libseccomp-dev libmicrohttpd-dev libjansson-dev libcap-dev)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[[ -d build ]] || meson setup build -Dbuildtype=release
meson compile -C build
exec build/daemon/interceptd "$@"
