#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TAP test: everything a user or a new maintainer reads lives in this repository. No
# tracked file may send them to notes outside it (the team's working folder next to the
# checkout), and every relative link in the Markdown files must lead to a file that is here.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/tap.sh"
cd "$src" || exit 1
command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	tap_skip_all "not a git checkout"

echo "1..2"

# The pattern is split so that this file does not match itself.
outside=$(git grep -n -I -E '\.\./'"shared|/work/"'shared|TESTING-'"NOTES" -- ':!tests/setup/test_self_contained.sh')
tap_result "$([[ -z $outside ]]; echo $?)" "no tracked file points outside the repository" "$outside"

# Relative Markdown links: [text](path) or [text](path#anchor), not URLs or pure anchors.
broken=
while IFS= read -r md; do
	dir=$(dirname "$md")
	while IFS= read -r target; do
		path=${target%%#*}
		[[ -z $path ]] && continue
		[[ -e $dir/$path ]] || broken+="$md: $target"$'\n'
	done < <(grep -o -E '\]\([^)[:space:]]+\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/' |
		grep -v -E '^(https?|mailto|ftp):')
done < <(git ls-files '*.md')
tap_result "$([[ -z $broken ]]; echo $?)" "every relative link in the Markdown files resolves" "$broken"
tap_exit
