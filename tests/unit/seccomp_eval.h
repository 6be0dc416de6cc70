/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Test helper: compile an OCI linux.seccomp object into a real filter with
 * libseccomp, the way runc 1.1 and crun 1.8 do (rules in file order, one per
 * name, unknown names skipped, rules with the default action skipped, args
 * that repeat an index added one comparison per rule), export the BPF, and run
 * it on a struct seccomp_data with a small classic-BPF interpreter. So a test
 * sees what the kernel would decide, libseccomp's rule precedence included.
 * The listed architectures are added beside the native one, as runc and crun
 * add them; a call can be evaluated on any of them.
 */
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#define EVAL_MAX_INSNS 65536

struct compiled {
	struct sock_filter insns[EVAL_MAX_INSNS];
	size_t n;
};

static uint32_t eval_action(const char *name, const json_t *errno_ret)
{
	uint32_t err = errno_ret ? (uint32_t)json_integer_value(errno_ret) : 1 /* EPERM */;

	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		return SCMP_ACT_ALLOW;
	if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		return SCMP_ACT_ERRNO(err);
	if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		return SCMP_ACT_TRACE(err);
	if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		return SCMP_ACT_NOTIFY;
	if (strcmp(name, "SCMP_ACT_LOG") == 0)
		return SCMP_ACT_LOG;
	if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		return SCMP_ACT_TRAP;
	if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		return SCMP_ACT_KILL_PROCESS;
	return SCMP_ACT_KILL_THREAD; /* SCMP_ACT_KILL is the same action */
}

static enum scmp_compare eval_op(const char *op)
{
	static const char *const names[] = { "", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
					      "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					      "SCMP_CMP_MASKED_EQ" };

	for (int i = 1; i < 8; i++)
		if (strcmp(op, names[i]) == 0)
			return (enum scmp_compare)i;
	return _SCMP_CMP_MIN;
}

static struct scmp_arg_cmp eval_cmp(const json_t *a)
{
	return (struct scmp_arg_cmp){
		.arg = (unsigned)json_integer_value(json_object_get(a, "index")),
		.op = eval_op(json_string_value(json_object_get(a, "op"))),
		.datum_a = (scmp_datum_t)json_integer_value(json_object_get(a, "value")),
		.datum_b = (scmp_datum_t)json_integer_value(json_object_get(a, "valueTwo")),
	};
}

/* One OCI rule for one syscall; returns libseccomp's result (EEXIST on conflicts). */
static int eval_add_rule(scmp_filter_ctx ctx, uint32_t act, int nr, const json_t *args)
{
	struct scmp_arg_cmp cmps[6];
	unsigned seen = 0;
	bool is_or = false;
	size_t i, n = json_array_size(args);
	json_t *a;
	int r;

	json_array_foreach(args, i, a) {
		cmps[i] = eval_cmp(a);
		is_or |= (seen & (1u << cmps[i].arg)) != 0;
		seen |= 1u << cmps[i].arg;
	}
	if (!is_or)
		return seccomp_rule_add_array(ctx, act, nr, (unsigned)n, cmps);
	for (i = 0; i < n; i++) {
		r = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "SCMP_ARCH_X86" → libseccomp's token for "x86", or 0 */
static uint32_t eval_arch(const char *name)
{
	char lower[32] = "";

	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	for (size_t i = 0; name[10 + i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[10 + i]);
	return seccomp_arch_resolve_name(lower);
}

static int eval_add_arches(scmp_filter_ctx ctx, const json_t *arches)
{
	size_t i;
	json_t *a;
	int r;

	json_array_foreach(arches, i, a) {
		r = seccomp_arch_add(ctx, eval_arch(json_string_value(a)));
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/* Returns 0, or the first libseccomp error (the runtime would refuse to start). */
static int eval_compile(const json_t *sec, struct compiled *out)
{
	uint32_t def = eval_action(json_string_value(json_object_get(sec, "defaultAction")),
				   json_object_get(sec, "defaultErrnoRet"));
	scmp_filter_ctx ctx = seccomp_init(def);
	size_t i, j;
	json_t *rule, *name;
	int r = 0, fd;

	if (!ctx)
		return -ENOMEM;
	r = eval_add_arches(ctx, json_object_get(sec, "architectures"));
	if (r < 0)
		goto out;
	json_array_foreach(json_object_get(sec, "syscalls"), i, rule) {
		uint32_t act = eval_action(json_string_value(json_object_get(rule, "action")),
					   json_object_get(rule, "errnoRet"));

		json_array_foreach(json_object_get(rule, "names"), j, name) {
			int nr = seccomp_syscall_resolve_name(json_string_value(name));

			if (nr == __NR_SCMP_ERROR || act == def)
				continue;
			r = eval_add_rule(ctx, act, nr, json_object_get(rule, "args"));
			if (r < 0)
				goto out;
		}
	}
	fd = memfd_create("bpf", 0);
	r = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	if (r == 0) {
		ssize_t len = pread(fd, out->insns, sizeof(out->insns), 0);

		out->n = len > 0 ? (size_t)len / sizeof(out->insns[0]) : 0;
		r = len > 0 ? 0 : -EIO;
	}
	if (fd >= 0)
		close(fd);
out:
	seccomp_release(ctx);
	return r;
}

/* Run the program; returns the SECCOMP_RET_* value, or 0xdead on an unknown opcode. */
static uint32_t eval_run(const struct compiled *p, const struct seccomp_data *d)
{
	uint32_t acc = 0;

	for (size_t pc = 0; pc < p->n; pc++) {
		const struct sock_filter *f = &p->insns[pc];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			memcpy(&acc, (const char *)d + f->k, sizeof(acc));
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			acc &= f->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += acc == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += acc > f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += acc >= f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (acc & f->k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			return 0xdead;
		}
	}
	return 0xdead;
}

/* What the filter does with syscall @name and @args made on architecture @arch (a token). */
static uint32_t eval_call_arch(const struct compiled *p, uint32_t arch, const char *name,
			       const uint64_t args[6])
{
	/* x32 calls arrive as x86_64 ones with the x32 bit in the number */
	struct seccomp_data d = { .nr = seccomp_syscall_resolve_name_arch(arch, name),
				  .arch = arch == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : arch };

	memcpy(d.args, args, sizeof(d.args));
	return eval_run(p, &d);
}

/* What the filter does with syscall @name (native arch) and @args. */
static uint32_t eval_call(const struct compiled *p, const char *name, const uint64_t args[6])
{
	return eval_call_arch(p, seccomp_arch_native(), name, args);
}
