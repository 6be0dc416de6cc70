#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, end to end on this machine (TAP): build it from a copy of the
# source tree (DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc), lintian without
# errors (its warnings are printed as comments), install it, start the packaged daemon
# by hand on private sockets (PID 1 is not systemd here) with the unit's admin group,
# GET /1.0 through the packaged interceptctl, stop it by PID, purge the packages and
# leave the machine as it was: the group the package made is removed again.
# Root only; skips when interceptd is installed already (it would be replaced).
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/tap.sh"
tap_require_root "dpkg -i"
for tool in dpkg-buildpackage lintian dh; do
	command -v "$tool" >/dev/null || tap_skip_all "$tool is not installed (tests/deps.sh installs it)"
done
if dpkg-query -W -f='${Status}' interceptd interceptctl 2>/dev/null | grep -q 'installed'; then
	tap_skip_all "interceptd or interceptctl is installed already; this test would replace it"
fi

work=$(mktemp -d /tmp/interceptd-package.XXXXXX)
had_group=$(getent group interceptd-admin >/dev/null && echo yes || echo no)
daemon_pid=
installed=no
cleanup() {
	if [[ -n $daemon_pid ]]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	[[ $installed == yes ]] && dpkg --purge interceptctl interceptd >>"$work/log" 2>&1
	[[ $had_group == no ]] && getent group interceptd-admin >/dev/null &&
		groupdel interceptd-admin
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# the end of the build's log, for a failure
log_tail() { tail -n "${1:-30}" "$work/log"; }
# bail out: the remaining steps need this one
bail() {
	echo "Bail out! $1"
	log_tail 40 | sed 's/^/# /'
	exit 1
}

echo "1..8"

# the tree as git sees it (tracked, and new files not ignored): no build directory
mkdir "$work/interceptd"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - -cf -) | tar -x -C "$work/interceptd" || bail "cannot copy the tree"
(cd "$work/interceptd" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc) >"$work/log" 2>&1
tap_result $? "dpkg-buildpackage builds the packages" "$(log_tail)"
debs=("$work"/interceptd_*.deb "$work"/interceptctl_*.deb)
[[ -f ${debs[0]} && -f ${debs[1]} ]] || bail "no .deb was built"

lintian --info "$work"/interceptd_*.changes >"$work/lintian" 2>&1
grep -v '^N:\|running with root privileges' "$work/lintian" | sed 's/^/# lintian: /'
! grep -q '^E:' "$work/lintian"
tap_result $? "lintian reports no error"

contents=$(dpkg -c "${debs[0]}"; dpkg -c "${debs[1]}")
missing=""
for f in ./usr/sbin/interceptd ./lib/systemd/system/interceptd.service \
	./lib/systemd/system/interceptd-{api,lxc,oci}.socket ./usr/lib/sysusers.d/interceptd.conf \
	./usr/share/man/man8/interceptd.8.gz ./usr/share/doc/interceptd/README.md \
	./usr/bin/interceptctl ./usr/share/man/man1/interceptctl.1.gz \
	./usr/share/bash-completion/completions/interceptctl; do
	grep -q " $f\$" <<<"$contents" || missing+="$f "
done
[[ -z $missing ]]
tap_result $? "the packages hold the daemon, the client, the units, sysusers.d, man pages, completion, docs" \
	"missing: $missing"

dpkg -i "${debs[@]}" >>"$work/log" 2>&1 && installed=yes
[[ $installed == yes ]] && getent group interceptd-admin >/dev/null
tap_result $? "dpkg -i installs them and creates the admin group"
[[ $installed == yes ]] || bail "not installed"

# as the unit starts it, on private sockets and state
run=$work/run
mkdir "$run"
/usr/sbin/interceptd --admin-group interceptd-admin --api-socket "$run/api.sock" \
	--lxc-socket "$run/lxc.sock" --oci-socket "$run/oci.sock" --state-dir "$run/state" \
	--log-format json >"$run/log" 2>&1 &
daemon_pid=$!
answered=1
for _ in $(seq 100); do
	if /usr/bin/interceptctl --socket "$run/api.sock" --format json info >"$run/info" 2>&1; then
		answered=0
		break
	fi
	sleep 0.1
done
version=$(meson introspect --projectinfo "$src/meson.build" 2>/dev/null | jq -r .version)
[[ $answered == 0 ]] && jq -e --arg v "$version" '.version == $v and .api_version == "1.0"' \
	"$run/info" >/dev/null
tap_result $? "the packaged daemon starts and answers GET /1.0 (version $version)" \
	"$(cat "$run/info" "$run/log")"

kill "$daemon_pid"
wait "$daemon_pid"
tap_result $? "it stops cleanly on SIGTERM"
daemon_pid=

dpkg --purge interceptctl interceptd >>"$work/log" 2>&1
tap_result $? "dpkg --purge removes them"
installed=no

left=""
for f in /usr/sbin/interceptd /usr/bin/interceptctl /lib/systemd/system/interceptd.service \
	/lib/systemd/system/interceptd-{api,lxc,oci}.socket /usr/lib/sysusers.d/interceptd.conf \
	/etc/systemd/system/multi-user.target.wants/interceptd.service \
	/etc/systemd/system/sockets.target.wants/interceptd-{api,lxc,oci}.socket \
	/usr/share/doc/interceptd; do
	[[ -e $f || -L $f ]] && left+="$f "
done
[[ $had_group == no ]] && groupdel interceptd-admin
[[ -z $left ]] && ! dpkg-query -W interceptd >/dev/null 2>&1
tap_result $? "nothing of them is left" "left: $left"

tap_exit
