#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/prometheus and deploy/grafana, offline: the alert rules pass `promtool check rules`
# and their unit tests (`promtool test rules`), and the dashboard is well formed: every
# target has an expression, every variable it uses is defined, panel ids are unique and
# every panel queries the dashboard's data source variable. Whether each expression
# returns data from a live daemon is tests/integration/test_prometheus.c's job.
# Usage: test_rules.sh DEPLOY_DIR
set -uo pipefail

deploy=${1:?usage: test_rules.sh DEPLOY_DIR}
. "$(dirname "$0")/../tap.sh"
command -v promtool >/dev/null || tap_skip_all "promtool not installed (Debian package prometheus)"
command -v jq >/dev/null || tap_skip_all "jq not installed"
echo "1..7"

rules=$deploy/prometheus/interceptd-alerts.yml
dash=$deploy/grafana/interceptd.json
tap_check "promtool check rules" promtool check rules "$rules"
# promtool resolves rule_files relative to the test file
tap_check "promtool test rules" bash -c "cd '$deploy/prometheus' && promtool test rules interceptd-alerts.test.yml"

# every alert has a unit test
untested=$(grep -o 'alert: [A-Za-z]*' "$rules" | cut -d' ' -f2 | while read -r a; do
	grep -q "alertname: $a\$" "$deploy/prometheus/interceptd-alerts.test.yml" || echo "$a"
done)
tap_result "$([[ -z $untested ]]; echo $?)" "every alert has a promtool unit test" "untested: $untested"

exprs=$(jq -r '[.panels[] | ., (.panels[]?)] | .[] | .targets[]? | .expr // "MISSING"' "$dash")
tap_result "$([[ -n $exprs ]] && ! grep -q '^MISSING$' <<<"$exprs"; echo $?)" \
	"every dashboard target has an expression" "$exprs"

defined=$(jq -r '.templating.list[].name' "$dash" | sed 's/^/$/')
used=$(grep -o '\$[a-z_]*' <<<"$exprs$(jq -r '.templating.list[].definition // empty' "$dash")" |
	sort -u | grep -vx '\$__rate_interval')
undefined=$(comm -23 <(echo "$used") <(sort -u <<<"$defined"))
tap_result "$([[ -z $undefined ]]; echo $?)" "every variable the dashboard uses is defined" \
	"undefined: $undefined"

dups=$(jq -r '[.panels[] | ., (.panels[]?)] | .[].id' "$dash" | sort | uniq -d)
tap_result "$([[ -z $dups ]]; echo $?)" "panel ids are unique" "duplicated: $dups"

other_ds=$(jq -r '[.panels[] | ., (.panels[]?)] | .[] | select(.type != "row") |
	select(.datasource.uid != "${datasource}") | .title' "$dash")
tap_result "$([[ -z $other_ds ]]; echo $?)" "every panel queries \${datasource}" "$other_ds"
tap_exit
