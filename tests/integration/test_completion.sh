#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The bash completion of interceptctl (deploy/completion/interceptctl), loaded
# with bash-completion as an interactive shell loads it, against a real daemon:
# commands, options, option values, container names and configuration keys,
# the values of boolean keys, and --socket naming the daemon asked. TAP.
# Needs $INTERCEPTD_BIN and $INTERCEPTCTL_BIN (meson sets them).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/tap.sh"
bash_completion=/usr/share/bash-completion/bash_completion
[[ -r $bash_completion ]] ||
	tap_skip_all "bash-completion is not installed (tests/deps.sh installs it)"

dir=$(mktemp -d /tmp/icd-completion.XXXXXX)
daemon_pid=
cleanup() {
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

sock=$dir/api.sock
"$INTERCEPTD_BIN" --api-socket "$sock" --lxc-socket "$dir/lxc.sock" --oci-socket "$dir/oci.sock" \
	--state-dir "$dir/state" --workers 1 >"$dir/log" 2>&1 &
daemon_pid=$!
PATH=$(dirname "$INTERCEPTCTL_BIN"):$PATH
for _ in $(seq 100); do
	interceptctl --socket "$sock" info >/dev/null 2>&1 && break
	sleep 0.05
done
interceptctl --socket "$sock" create web1 >/dev/null &&
	interceptctl --socket "$sock" create web2 >/dev/null &&
	interceptctl --socket "$sock" create db >/dev/null &&
	interceptctl --socket "$sock" profile create base >/dev/null || {
	echo "Bail out! the daemon did not start"
	cat "$dir/log"
	exit 1
}

# shellcheck source=/dev/null
. "$bash_completion"
# shellcheck source=deploy/completion/interceptctl
. "$top/deploy/completion/interceptctl"

# compopt works only inside a completion bash started; record what was asked instead
options_asked=
compopt() { options_asked=$*; }

# complete WORD...: what completing the last word offers, sorted, on one line, into $got;
# runs in this shell, so what the function asked of compopt is seen. The words
# are those bash makes of the line (split at COMP_WORDBREAKS, so "k=v" is k, =, v).
complete_words() {
	local line="" w
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	for w in "$@"; do
		if [[ -z $line || $w == = || $line == *= ]]; then
			line+=$w
		else
			line+=" $w"
		fi
	done
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_interceptctl
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
}

check() { # check NAME EXPECTED WORD...
	local name=$1 expected=$2
	shift 2
	complete_words "$@"
	[[ -n $options_asked ]] && got+=" ($options_asked)"
	options_asked=
	[[ $got == "$expected" ]]
	tap_result $? "$name" "expected: '$expected'"$'\n'"got:      '$got'"
}

echo "1..18"
check "commands" "create delete info list metrics monitor policy profile set show state unset" \
	interceptctl ""
check "a command by its start" "set show state" interceptctl s
check "global options" "--format --help --socket --version" interceptctl --
check "formats" "json table yaml" interceptctl --format ""
check "formats after =" "json" interceptctl --format = j
check "container names, asked on --socket" "web1 web2" \
	interceptctl --socket "$sock" show we
check "no names without a daemon" "" interceptctl --socket "$dir/none.sock" show ""
INTERCEPTD_SOCKET=$sock
export INTERCEPTD_SOCKET
check "container names from INTERCEPTD_SOCKET" "db web1 web2" interceptctl delete ""
check "keys with = for set, and no space after them" \
	"mount.allowed= mount.fuse= mount.shift= mount= (-o nospace)" \
	interceptctl set web1 mou
check "true and false for a boolean key" "false true" interceptctl set web1 mknod = ""
check "no value offered for a list key" "" interceptctl set web1 mount.allowed = ""
check "keys for create after the name" "sysinfo= (-o nospace)" interceptctl create new1 sys
check "policy options" \
	"--format --help --lxc --merge-into --oci --socket --trap-denied --version" \
	interceptctl policy web1 --
check "profile policy options" \
	"--format --help --lxc --merge-into --oci --socket --trap-denied --version" \
	interceptctl profile policy base --
check "profile commands" "assign create delete list policy set show unset" \
	interceptctl profile ""
check "profile names" "base" interceptctl profile show ""
check "profile assign: a container, then profiles" "base" interceptctl profile assign web1 ""
check "monitor options" "--container --format --help --socket --type --version" \
	interceptctl monitor --
tap_exit
