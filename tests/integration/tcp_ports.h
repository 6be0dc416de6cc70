/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A TCP port nobody listens on right now on @family's (AF_INET or AF_INET6)
 * loopback, as the kernel picks an ephemeral one; 0 if there is none (no
 * IPv6, say). Another process may take it before the caller binds it: the
 * tests that use it run one at a time (is_parallel: false).
 */
unsigned tcp_free_port(int family);
