#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The documentation keeps up with the binaries: every option of `interceptd --help`
# is in interceptd(8) and the README, every option interceptd(8) documents exists;
# every command and option of `interceptctl --help` is in interceptctl(1); and the
# man pages meson built render without a groff warning. TAP.
# Environment (meson sets it): INTERCEPTD_BIN, INTERCEPTCTL_BIN (may be empty when
# the client is not built), MAN_DIR (the built pages; empty when scdoc is missing).
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/tap.sh"

# options_of HELP_TEXT: the long options it lists, one a line
options_of() { grep -oE -- '--[a-z][a-z-]+' <<<"$1" | sort -u; }

# missing_from FILE WORD...: the words that FILE does not show in bold (*word*)
missing_from() {
	local file=$1 w out=""
	shift
	for w in "$@"; do
		grep -qF -- "*$w*" "$file" || out+="$w "
	done
	echo "$out"
}

daemon_help=$("$INTERCEPTD_BIN" --help)
mapfile -t daemon_options < <(options_of "$daemon_help")
miss=$(missing_from "$src/deploy/man/interceptd.8.scd" "${daemon_options[@]}")
[[ -z $miss ]]
tap_result $? "interceptd(8) documents every option of --help" "missing: $miss"

extra=""
for o in $(grep -oE -- '^\*--[a-z-]+\*' "$src/deploy/man/interceptd.8.scd" | tr -d '*'); do
	grep -qxF -- "$o" <<<"$(options_of "$daemon_help")" || extra+="$o "
done
[[ -z $extra ]]
tap_result $? "interceptd(8) documents no option the daemon lacks" \
	"not in --help: $extra"

miss=""
for o in "${daemon_options[@]}"; do
	grep -qF -- "$o" "$src/README.md" || miss+="$o "
done
[[ -z $miss ]]
tap_result $? "the README names every option of interceptd" "missing: $miss"

if [[ -n ${INTERCEPTCTL_BIN:-} ]]; then
	ctl_help=$("$INTERCEPTCTL_BIN" --help)
	# a command starts a line indented by two; its description may go on, indented more
	mapfile -t commands < <(sed -n '/^Commands:/,/^$/p' <<<"$ctl_help" |
		grep -oE '^  [a-z]+' | sort -u | tr -d ' ')
	mapfile -t ctl_options < <(options_of "$ctl_help")
	[[ ${#commands[@]} -ge 11 ]]
	tap_result $? "interceptctl --help lists the commands" \
		"found: ${commands[*]}"
	miss=$(missing_from "$src/deploy/man/interceptctl.1.scd" "${commands[@]}" "${ctl_options[@]}")
	[[ -z $miss ]]
	tap_result $? "interceptctl(1) documents every command and option" \
		"missing: $miss"
else
	tap_skip "interceptctl --help lists the commands" "interceptctl not built"
	tap_skip "interceptctl(1) documents every command and option" "interceptctl not built"
fi

for page in interceptd.8 interceptctl.1; do
	if [[ -z ${MAN_DIR:-} || ! -f $MAN_DIR/$page ]]; then
		tap_skip "$page renders without warnings" "not built (scdoc, -Dman)"
		continue
	fi
	warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$MAN_DIR/$page" 2>&1 >/dev/null)
	[[ -z $warnings ]]
	tap_result $? "$page renders without warnings" "$warnings"
done

echo "1..$tap_n"
tap_exit
