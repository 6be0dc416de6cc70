#!/usr/bin/env bash
# Install the daemon's build dependencies, build interceptd and run it in the foreground
# with the default sockets (/run/interceptd/{api,lxc,oci}.sock) and state dir
# (/var/lib/interceptd). Extra arguments go to the daemon, e.g. --log-level debug.
# Usage (as root on Debian 12): deploy/quickstart.sh
#
# Only the runtime libraries are installed: the test suites (cmocka, libcurl) are built
# when their libraries are present, and tests/run-all.sh installs them. A setup that
# failed or was interrupted is detected and done again on the next run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. deploy/buildlib.sh

apt_install_missing meson ninja-build pkg-config gcc \
	libseccomp-dev libmicrohttpd-dev libjansson-dev libcap-dev

if ! build_dir_ok build; then
	meson_setup build -Dbuildtype=release
fi
# Only the daemon: the tests of a directory tests/run-all.sh configured are not needed here.
if ! meson compile -C build interceptd; then
	# e.g. a regeneration that wants test libraries which are gone: drop the requirement
	echo "quickstart: build failed; configuring build/ again with -Dtests=auto"
	meson_setup build -Dtests=auto
	meson compile -C build interceptd
fi
exec build/daemon/interceptd "$@"
