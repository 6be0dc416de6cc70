/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

#include "daemon/error.h"

/*
 * More conditional rules for one syscall than policy_bpf_check() builds:
 * libseccomp 2.5 takes about 0.4 s to build 500 narrowed bpf rules, 5 s for
 * 1300, 30 s for 2600 (and so does the runtime).
 */
#define POLICY_BPF_CHECK_MAX 512

/*
 * Build @sec, an OCI linux.seccomp object already checked by oci_seccomp_check(),
 * into a filter with this host's libseccomp the way runc and crun do, and check
 * the program it generates: every comparison must see the one argument value it
 * was generated for, whichever path reaches it. libseccomp 2.5 shares identical
 * instruction blocks between rules, and reloads the argument only for the first
 * block that jumps to a shared one: a block reached with another argument in the
 * accumulator then compares that one, and a call the rules deny can be allowed
 * (a 32-bit read() under a profile whose rules for bpf share a block with its own).
 * libseccomp runs in a child with a deadline: it never finishes some rule sets.
 * Returns 0 (also when libseccomp refuses @sec: the runtime then refuses it too),
 * -EINVAL with the reason in @reterr when a comparison may see the wrong value
 * or libseccomp missed the deadline, -ENOMEM, or another negative errno. A syscall with more conditional
 * rules than libseccomp builds in a fraction of a second is not built: 0, with
 * its name (a string inside @sec) in *ret_unchecked, NULL otherwise.
 */
int policy_bpf_check(const json_t *sec, const char **ret_unchecked, struct icd_error *reterr);
