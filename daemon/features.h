/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/daemon.h"

/* Probe the running kernel once at startup (main thread). Never fails. */
void features_detect(struct kernel_features *f);
