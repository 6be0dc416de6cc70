#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e tests with real, unprivileged containerd containers (lib_fleet.sh); prints unnumbered TAP lines
# (run.sh numbers them). Run alone: sudo tests/e2e/test_containerd.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lib_fleet.sh
source "$E2E_DIR/lib_fleet.sh"
run_engine containerd
