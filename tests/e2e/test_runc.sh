#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e tests with real, unprivileged runc containers; prints unnumbered TAP lines (run.sh numbers
# them). Run alone: sudo tests/e2e/test_runc.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run_runtime runc
