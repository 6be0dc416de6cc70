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
n=0
failures=0
result() { # result OK? DESCRIPTION [DETAIL]
	n=$((n + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $n - $2"
	else
		failures=$((failures + 1))
		echo "not ok $n - $2"
		[[ -n ${3:-} ]] && echo "# $3"
	fi
}

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
result "$([[ -z $miss ]]; echo $?)" "interceptd(8) documents every option of --help" "missing: $miss"

extra=""
for o in $(grep -oE -- '^\*--[a-z-]+\*' "$src/deploy/man/interceptd.8.scd" | tr -d '*'); do
	grep -qxF -- "$o" <<<"$(options_of "$daemon_help")" || extra+="$o "
done
result "$([[ -z $extra ]]; echo $?)" "interceptd(8) documents no option the daemon lacks" \
	"not in --help: $extra"

miss=""
for o in "${daemon_options[@]}"; do
	grep -qF -- "$o" "$src/README.md" || miss+="$o "
done
result "$([[ -z $miss ]]; echo $?)" "the README names every option of interceptd" "missing: $miss"

if [[ -n ${INTERCEPTCTL_BIN:-} ]]; then
	ctl_help=$("$INTERCEPTCTL_BIN" --help)
	# a command starts a line indented by two; its description may go on, indented more
	mapfile -t commands < <(sed -n '/^Commands:/,/^$/p' <<<"$ctl_help" |
		grep -oE '^  [a-z]+' | sort -u | tr -d ' ')
	mapfile -t ctl_options < <(options_of "$ctl_help")
	result "$([[ ${#commands[@]} -ge 11 ]]; echo $?)" "interceptctl --help lists the commands" \
		"found: ${commands[*]}"
	miss=$(missing_from "$src/deploy/man/interceptctl.1.scd" "${commands[@]}" "${ctl_options[@]}")
	result "$([[ -z $miss ]]; echo $?)" "interceptctl(1) documents every command and option" \
		"missing: $miss"
else
	echo "ok $((n += 1)) - interceptctl --help lists the commands # SKIP interceptctl not built"
	echo "ok $((n += 1)) - interceptctl(1) documents every command and option # SKIP interceptctl not built"
fi

for page in interceptd.8 interceptctl.1; do
	if [[ -z ${MAN_DIR:-} || ! -f $MAN_DIR/$page ]]; then
		echo "ok $((n += 1)) - $page renders without warnings # SKIP not built (scdoc, -Dman)"
		continue
	fi
	warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$MAN_DIR/$page" 2>&1 >/dev/null)
	result "$([[ -z $warnings ]]; echo $?)" "$page renders without warnings" "$warnings"
done

echo "1..$n"
exit $((failures > 0))
