/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Capabilities of the test processes: the privileged tests' children and the
 * e2e probes inside containers (built static, they include this header too).
 */
#include <linux/capability.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Drop @cap from this thread's effective and permitted sets, so that nothing
 * it runs later can raise it again. Returns 0, or -1 with errno set.
 */
static inline int caps_drop(unsigned cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];

	if (syscall(SYS_capget, &hdr, caps) < 0)
		return -1;
	caps[cap / 32].effective &= ~(UINT32_C(1) << (cap % 32));
	caps[cap / 32].permitted &= ~(UINT32_C(1) << (cap % 32));
	return (int)syscall(SYS_capset, &hdr, caps);
}
