/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what the bpf handler parses (handlers/bpf_attr.c). A
 * container writes the attr of its bpf(2) call, the instructions of the
 * program it loads, and can shape the text of its /proc/PID/cgroup with
 * cgroup names it chooses. The first input byte picks which of the three the
 * rest is; for an attr, the next byte picks the command and the next four
 * give the size the caller passed.
 *
 * Beyond "no crash, no leak": an emulated load is a device program (or the
 * two-instruction probe) with 1 to BPF_INSNS_MAX instructions and no flag but
 * strict alignment; an emulated attach, detach or link is for the device
 * attach type, never asks OVERRIDE with MULTI nor REPLACE without MULTI; an
 * accepted program holds no pseudo load, kfunc call or bpf_set_retval call;
 * a parsed cgroup path is absolute, fits and has no ".." component.
 */
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/bpf.h"
#include "tests/fuzz/fuzz.h"

enum { INPUT_ATTR, INPUT_INSNS, INPUT_CGROUP, INPUT_KINDS };

static const int commands[] = { BPF_CMD_PROG_LOAD, BPF_CMD_PROG_ATTACH, BPF_CMD_PROG_DETACH,
				BPF_CMD_PROG_QUERY, BPF_CMD_LINK_CREATE };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* A field of the caller's attr at @off, as the kernel's layout places it. */
static uint32_t u32_at(const struct bpf_attr_copy *a, unsigned off)
{
	uint32_t v;

	memcpy(&v, a->bytes + off, sizeof(v));
	return v;
}

static void check_load(const struct bpf_attr_copy *a, const struct bpf_load_req *r)
{
	FUZZ_CHECK(r->prog_type == BPF_PROG_TYPE_CGROUP_DEVICE ||
			   (r->prog_type == BPF_PROG_TYPE_CGROUP_SKB && r->insn_cnt == 2),
		   "program type %u emulated with %u instructions", r->prog_type, r->insn_cnt);
	FUZZ_CHECK(r->prog_type == u32_at(a, 0), "program type read as %u, attr says %u",
		   r->prog_type, u32_at(a, 0));
	FUZZ_CHECK(r->insn_cnt >= 1 && r->insn_cnt <= BPF_INSNS_MAX, "%u instructions",
		   r->insn_cnt);
	FUZZ_CHECK((r->prog_flags & ~BPF_F_STRICT_ALIGNMENT) == 0, "program flags %#x",
		   r->prog_flags);
}

static void check_attach(int cmd, const struct bpf_attr_copy *a, const struct bpf_attach_req *r)
{
	uint32_t f = r->caller_flags;

	FUZZ_CHECK(u32_at(a, 8) == BPF_CGROUP_DEVICE, "attach type %u emulated", u32_at(a, 8));
	FUZZ_CHECK(cmd != BPF_CMD_PROG_DETACH || f == 0, "detach with flags %#x", f);
	FUZZ_CHECK(!((f & BPF_F_ALLOW_OVERRIDE) && (f & BPF_F_ALLOW_MULTI)), "OVERRIDE with MULTI");
	FUZZ_CHECK(!(f & BPF_F_REPLACE) || (f & BPF_F_ALLOW_MULTI), "REPLACE without MULTI");
	FUZZ_CHECK((f & BPF_F_REPLACE) || r->replace_fd == -EBADF, "replace fd %d without REPLACE",
		   r->replace_fd);
}

static void fuzz_attr(const uint8_t *data, size_t size)
{
	struct bpf_attr_copy a;
	struct bpf_req req;
	struct decision d;
	uint32_t attr_size;
	int cmd;

	if (size < 5)
		return;
	cmd = commands[data[0] % (sizeof(commands) / sizeof(commands[0]))];
	memcpy(&attr_size, data + 1, sizeof(attr_size));
	attr_size %= 2 * BPF_ATTR_SIZE_MAX; /* past a page as well: E2BIG */
	data += 5;
	size -= 5;
	if (bpf_attr_take(data, size < attr_size ? size : attr_size, attr_size, &a) < 0) {
		FUZZ_CHECK(attr_size > BPF_ATTR_SIZE, "an attr of %u bytes refused", attr_size);
		return;
	}
	FUZZ_CHECK(attr_size <= BPF_ATTR_SIZE_MAX, "an attr of %u bytes taken", attr_size);
	d = bpf_parse(cmd, &a, &req);
	if (d.kind == DECISION_ERRNO)
		FUZZ_CHECK(d.error < 0, "errno %d", d.error);
	if (d.kind != DECISION_EMULATE)
		return;
	FUZZ_CHECK(req.cmd == cmd, "command %d parsed as %d", cmd, req.cmd);
	if (cmd == BPF_CMD_PROG_LOAD)
		check_load(&a, &req.load);
	else if (cmd == BPF_CMD_PROG_ATTACH || cmd == BPF_CMD_PROG_DETACH)
		check_attach(cmd, &a, &req.attach);
	else if (cmd == BPF_CMD_LINK_CREATE)
		FUZZ_CHECK(u32_at(&a, 8) == BPF_CGROUP_DEVICE, "link type %u", u32_at(&a, 8));
	else
		FUZZ_CHECK((req.query.query_flags & ~BPF_F_QUERY_EFFECTIVE) == 0, "query flags %#x",
			   req.query.query_flags);
}

/* Walk the program as the verifier does: a 64-bit load takes two slots. */
static void check_accepted_insns(const struct bpf_insn *in, uint32_t cnt)
{
	for (uint32_t i = 0; i < cnt; i++) {
		if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			FUZZ_CHECK(in[i].src_reg == 0, "pseudo load %u accepted", in[i].src_reg);
			i++;
		} else if (in[i].code == (BPF_JMP | BPF_CALL)) {
			FUZZ_CHECK(in[i].src_reg == 0 || in[i].src_reg == BPF_PSEUDO_CALL,
				   "call kind %u accepted", in[i].src_reg);
			FUZZ_CHECK(in[i].src_reg != 0 || in[i].imm != BPF_FUNC_set_retval,
				   "bpf_set_retval accepted");
		}
	}
}

static void fuzz_insns(const uint8_t *data, size_t size)
{
	uint32_t cnt = (uint32_t)(size / sizeof(struct bpf_insn));
	struct bpf_insn *insns;

	if (cnt == 0)
		return;
	insns = fuzz_memdup(data, cnt * sizeof(*insns)); /* exact size: ASan sees a read past it */
	if (bpf_insns_check(insns, cnt) == 0)
		check_accepted_insns(insns, cnt);
	(void)bpf_insns_is_probe(insns, cnt);
	free(insns);
}

static void fuzz_cgroup(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	char v2[64], mem[64];

	if (bpf_cgroup_parse(text, v2, sizeof(v2), mem, sizeof(mem)) == 0) {
		FUZZ_CHECK(v2[0] == '/', "0:: path '%s'", v2);
		FUZZ_CHECK(!strstr(v2, "/../") && strcmp(v2 + strlen(v2) - (strlen(v2) >= 3 ? 3 : 0), "/.."),
			   "0:: path '%s' leaves its cgroup namespace", v2);
		FUZZ_CHECK(mem[0] == '\0' || mem[0] == '/', "memory path '%s'", mem);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % INPUT_KINDS) {
	case INPUT_ATTR:
		fuzz_attr(data + 1, size - 1);
		break;
	case INPUT_INSNS:
		fuzz_insns(data + 1, size - 1);
		break;
	default:
		fuzz_cgroup(data + 1, size - 1);
		break;
	}
	return 0;
}
