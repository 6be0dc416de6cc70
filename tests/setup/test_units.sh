#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units in deploy/ agree with the daemon: the socket units listen where
# `interceptd --help` says the sockets are, with the names the daemon takes (api, lxc,
# oci), the types it checks and the modes and owners it gives the sockets it binds
# itself; the service is Type=notify over those sockets and allows the address families
# the metrics listener needs; sysusers.d makes the group the API socket names;
# `systemd-analyze verify` accepts the units and `systemd-analyze security
# --offline=true` gives the score the README states. TAP.
# Environment (meson sets it): INTERCEPTD_BIN.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/tap.sh"
deploy=$src/deploy

# value FILE KEY: the value of KEY= in FILE (the last one, as systemd reads it)
value() { sed -n "s/^$2=//p" "$1" | tail -1; }
# default_of OPTION: the [default] `interceptd --help` shows for OPTION
default_of() { "$INTERCEPTD_BIN" --help | sed -n "s/^ *$1 .*\[\(.*\)\]\$/\1/p"; }

echo "1..7"

# check_socket NAME LISTEN_KEY MODE GROUP: one socket unit against the daemon
check_socket() {
	local unit=$deploy/interceptd-$1.socket want_path got=""
	want_path=$(default_of "--$1-socket")
	[[ $(value "$unit" "$2") == "$want_path" ]] || got+="$2=$(value "$unit" "$2") (daemon: $want_path) "
	[[ $(value "$unit" FileDescriptorName) == "$1" ]] || got+="FileDescriptorName "
	[[ $(value "$unit" SocketMode) == "$3" ]] || got+="SocketMode=$(value "$unit" SocketMode) (daemon: $3) "
	[[ $(value "$unit" SocketUser) == root ]] || got+="SocketUser "
	[[ $(value "$unit" SocketGroup) == "$4" ]] || got+="SocketGroup=$(value "$unit" SocketGroup) "
	[[ $(value "$unit" Service) == interceptd.service ]] || got+="Service "
	[[ -z $got ]]
	tap_result $? "interceptd-$1.socket matches the daemon" "$got"
}

admin_group=$(value "$deploy/interceptd.service" ExecStart | sed -n 's/.*--admin-group \([^ ]*\).*/\1/p')
check_socket api ListenStream "$(default_of --api-socket-mode)" "$admin_group"
check_socket lxc ListenSequentialPacket 0600 root
check_socket oci ListenStream 0600 root

grep -qx "g $admin_group -" "$deploy/sysusers.d/interceptd.conf"
tap_result $? "sysusers.d makes the admin group '$admin_group' of ExecStart and the API socket"

service=$deploy/interceptd.service
got=""
[[ $(value "$service" Type) == notify ]] || got+="Type "
[[ $(value "$service" NotifyAccess) == main ]] || got+="NotifyAccess "
for n in api lxc oci; do
	grep -qw "interceptd-$n.socket" <<<"$(value "$service" Sockets)" || got+="Sockets($n) "
	grep -qw "interceptd-$n.socket" <<<"$(value "$service" Requires)" || got+="Requires($n) "
done
[[ $(value "$service" RuntimeDirectoryPreserve) == yes ]] || got+="RuntimeDirectoryPreserve "
for af in AF_UNIX AF_INET AF_INET6; do
	grep -qw "$af" <<<"$(value "$service" RestrictAddressFamilies)" || got+="$af "
done
[[ -z $got ]]
tap_result $? "interceptd.service: Type=notify over the three sockets, AF_INET/AF_INET6 allowed" "$got"

if ! command -v systemd-analyze >/dev/null; then
	tap_skip "systemd-analyze verify" "systemd-analyze is missing (package systemd, tests/deps.sh)"
	tap_skip "the README's systemd-analyze security score" "systemd-analyze is missing"
	tap_exit
fi
# what verify may say here: keys newer than this systemd, and the daemon not installed
out=$(cd "$deploy" && systemd-analyze verify --man=no interceptd.service \
	interceptd-api.socket interceptd-lxc.socket interceptd-oci.socket 2>&1 |
	grep -v "Unknown key 'FileDescriptorStorePreserve'\|Command /usr/sbin/interceptd is not executable")
[[ -z $out ]]
tap_result $? "systemd-analyze verify accepts the units" "$out"

score=$(cd "$deploy" && systemd-analyze security --offline=true interceptd.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for interceptd.service: \([0-9.]*\).*/\1/p')
# the README's paragraph may wrap anywhere: read it as one line
tr -s '\n ' ' ' <"$src/README.md" | grep -qE "systemd-analyze security --offline=true.{0,80}exposure ${score/./\\.}[^0-9]"
tap_result $? "the README states the score systemd-analyze gives the unit ($score)" \
	"$(grep -n "systemd-analyze security" "$src/README.md")"
tap_exit
