#!/usr/bin/env bash
# Install everything the build and the whole test suite need on Debian 12.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

packages=(
	meson ninja-build pkg-config gcc
	libseccomp-dev libmicrohttpd-dev libjansson-dev libcap-dev
	libcurl4-openssl-dev libcmocka-dev
	curl jq prometheus libc6-dev util-linux e2fsprogs
	# systemd-analyze (the units' verify and security score), systemd-socket-activate
	systemd
	runc crun lxc busybox-static uidmap
	nodejs npm
	clang libclang-rt-14-dev
	# interceptctl: --format yaml, its man pages, its completion (tested with bash-completion),
	# the YAML read back in its unit test
	libyaml-dev scdoc bash-completion python3-yaml
	# the Debian package suite (tests/package): build, lint, install
	dpkg-dev debhelper lintian fakeroot adduser
)

# node and npm may come from outside Debian on some machines: keep what works
if command -v node >/dev/null && command -v npm >/dev/null; then
	tmp=()
	for p in "${packages[@]}"; do
		[[ $p == nodejs || $p == npm ]] || tmp+=("$p")
	done
	packages=("${tmp[@]}")
fi

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/deploy/buildlib.sh"
apt_install_missing "${packages[@]}"

# npm tools for the OpenAPI lint and conformance tests, pinned by package-lock.json
if [[ -f $top/package-lock.json ]]; then
	(cd "$top" && REDOCLY_TELEMETRY=off npm ci --no-audit --no-fund --loglevel=error)
fi

# the e2e suite's own list (runtimes, rootfs tools, subordinate ids)
"$top/tests/e2e/deps.sh"
