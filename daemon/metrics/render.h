/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "daemon/daemon.h"

/*
 * Render every metric of @d as Prometheus text (exposition format 0.0.4) into
 * a new string, *ret_text (free() it). Returns 0 or -ENOMEM. API thread; takes
 * the registry's lock, then each container's briefly.
 */
int metrics_render(struct daemon *d, char **ret_text);

/* Write @value as a quoted label value, escaping \\, \" and newlines. For the unit tests. */
void metrics_write_label_value(FILE *f, const char *value);
