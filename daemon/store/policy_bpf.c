/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What libseccomp makes of a merged linux.seccomp object: built as runc and crun
 * build it (rules in file order, one per name, unknown names and rules with the
 * default action skipped, args repeating an index added one comparison per
 * rule) in a child with a deadline, exported as classic BPF and checked for
 * comparisons that can see another argument than the one they test. API
 * thread; a memfd and a child process, no lock.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/macro.h"
#include "daemon/store/policy_bpf.h"
#include "daemon/store/policy_oci.h"

/* How long libseccomp may take to build a merged profile (500 conditional rules: 0.4 s). */
#define BUILD_TIMEOUT_MS 3000

/* Accumulator contents one path can bring to an instruction, at most this many kinds. */
#define MAX_ACC_STATES 4

/* The accumulator as libseccomp's program leaves it: a word of seccomp_data under a mask. */
struct acc {
	uint32_t offset, mask;
};

/* What the paths reaching one instruction leave in the accumulator. */
struct acc_set {
	struct acc s[MAX_ACC_STATES];
	unsigned n;		/* 0: no path reaches the instruction (yet) */
	bool is_unknown;	/* more kinds than tracked, or the value before any load */
};

static void acc_set_add(struct acc_set *set, struct acc a)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->s[i].offset == a.offset && set->s[i].mask == a.mask)
			return;
	if (set->n < MAX_ACC_STATES)
		set->s[set->n++] = a;
	else
		set->is_unknown = true;
}

static void acc_set_merge(struct acc_set *into, const struct acc_set *from)
{
	into->is_unknown |= from->is_unknown;
	for (unsigned i = 0; i < from->n; i++)
		acc_set_add(into, from->s[i]);
}

static uint32_t action_of(const json_t *obj, const char *action_key, const char *errno_key)
{
	static const struct {
		const char *name;
		uint32_t action;
	} plain[] = {
		{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },	{ "SCMP_ACT_LOG", SCMP_ACT_LOG },
		{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY }, { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
		{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
	};
	struct oci_action a = oci_action_of(obj, action_key, errno_key);

	if (strcmp(a.name, "SCMP_ACT_ERRNO") == 0)
		return SCMP_ACT_ERRNO((uint32_t)a.errno_value);
	if (strcmp(a.name, "SCMP_ACT_TRACE") == 0)
		return SCMP_ACT_TRACE((uint32_t)a.errno_value);
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (strcmp(a.name, plain[i].name) == 0)
			return plain[i].action;
	return SCMP_ACT_KILL_THREAD;
}

static enum scmp_compare op_of(const char *op)
{
	static const char *const names[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
					     "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					     "SCMP_CMP_MASKED_EQ" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(op, names[i]) == 0)
			return (enum scmp_compare)(SCMP_CMP_NE + i);
	return _SCMP_CMP_MIN;
}

/* One rule for one syscall: its args as one rule, or as one rule each when they repeat an index. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const json_t *args)
{
	struct scmp_arg_cmp cmps[6];
	size_t i, n = json_array_size(args);
	json_t *a;
	int r;

	json_array_foreach(args, i, a)
		cmps[i] = (struct scmp_arg_cmp){
			.arg = (unsigned)json_integer_value(json_object_get(a, "index")),
			.op = op_of(json_string_value(json_object_get(a, "op"))),
			.datum_a = (scmp_datum_t)json_integer_value(json_object_get(a, "value")),
			.datum_b = (scmp_datum_t)json_integer_value(json_object_get(a, "valueTwo")),
		};
	if (!oci_args_repeat_index(args))
		return seccomp_rule_add_array(ctx, action, nr, (unsigned)n, cmps);
	for (i = 0; i < n; i++) {
		r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_arches(scmp_filter_ctx ctx, const json_t *arches)
{
	size_t i;
	json_t *a;
	int r;

	json_array_foreach(arches, i, a) {
		char name[32] = "";
		const char *s = json_string_value(a) + strlen("SCMP_ARCH_");

		for (size_t j = 0; s[j] && j + 1 < sizeof(name); j++)
			name[j] = (char)tolower((unsigned char)s[j]);
		r = seccomp_arch_add(ctx, seccomp_arch_resolve_name(name));
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t def, const json_t *rules)
{
	size_t i, j;
	json_t *rule, *name;
	int r;

	json_array_foreach(rules, i, rule) {
		uint32_t action = action_of(rule, "action", "errnoRet");

		json_array_foreach(json_object_get(rule, "names"), j, name) {
			int nr = seccomp_syscall_resolve_name(json_string_value(name));

			if (nr == __NR_SCMP_ERROR || action == def)
				continue;
			r = add_rule(ctx, action, nr, json_object_get(rule, "args"));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The program libseccomp generates for @sec, written to @fd; -ENOEXEC when libseccomp refuses @sec. */
static int build(const json_t *sec, int fd)
{
	uint32_t def = action_of(sec, "defaultAction", "defaultErrnoRet");
	scmp_filter_ctx ctx = seccomp_init(def);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = add_arches(ctx, json_object_get(sec, "architectures"));
	if (r >= 0)
		r = add_rules(ctx, def, json_object_get(sec, "syscalls"));
	if (r >= 0)
		r = seccomp_export_bpf(ctx, fd);
	else if (r != -ENOMEM)
		r = -ENOEXEC;
	seccomp_release(ctx);
	return r;
}

/*
 * build() in a child, for at most BUILD_TIMEOUT_MS: libseccomp 2.5 never finishes
 * some rule sets (NE, LT, LE, GE or GT comparisons in one syscall's tree), and a
 * base may hold one for a syscall we do not touch. fork(), not a raw clone: the
 * child allocates, and glibc's fork leaves malloc usable in it.
 */
static int build_bounded(const json_t *sec, int fd)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct pollfd pfd;
	siginfo_t info = { 0 };
	pid_t pid;
	int r;

	pid = fork();
	if (pid < 0)
		return negative_errno();
	if (pid == 0)
		_exit(-build(sec, fd) & 0xff);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		r = negative_errno();
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	do
		r = poll(&pfd, 1, BUILD_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PID, (id_t)pid, &info, WEXITED) < 0)
		if (errno != EINTR)
			return negative_errno();
	if (r <= 0)
		return -ETIMEDOUT;
	return info.si_code == CLD_EXITED ? -info.si_status : -EIO;
}

static bool reads_acc(const struct sock_filter *f)
{
	return BPF_CLASS(f->code) == BPF_ALU ||
	       (BPF_CLASS(f->code) == BPF_JMP && BPF_OP(f->code) != BPF_JA);
}

/* The accumulator after @f, given what reaches it. */
static void acc_step(const struct sock_filter *f, struct acc_set *acc)
{
	if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
		*acc = (struct acc_set){ .s = { { f->k, UINT32_MAX } }, .n = 1 };
	} else if (f->code == (BPF_ALU | BPF_AND | BPF_K)) {
		struct acc_set masked = { .is_unknown = acc->is_unknown };

		for (unsigned i = 0; i < acc->n; i++)
			acc_set_add(&masked, (struct acc){ acc->s[i].offset, acc->s[i].mask & f->k });
		*acc = masked;
	} else if (BPF_CLASS(f->code) == BPF_ALU) {
		acc->is_unknown = true;
	}
}

static void flow_to(struct acc_set *in, size_t n, size_t pc, const struct acc_set *acc)
{
	if (pc < n)
		acc_set_merge(&in[pc], acc);
}

/*
 * Classic BPF only jumps forward: one pass over @prog in order settles what each
 * instruction can find in the accumulator. Returns the first instruction that
 * reads an accumulator two paths fill differently, or @n when there is none.
 */
static size_t first_mixed_read(const struct sock_filter *prog, size_t n, struct acc_set *in)
{
	in[0] = (struct acc_set){ .is_unknown = true };
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &prog[pc];
		struct acc_set acc = in[pc];

		if (acc.n == 0 && !acc.is_unknown)
			continue; /* no path reaches it */
		if (reads_acc(f) && (acc.is_unknown || acc.n != 1))
			return pc;
		acc_step(f, &acc);
		if (BPF_CLASS(f->code) == BPF_RET)
			continue;
		if (f->code == (BPF_JMP | BPF_JA)) {
			flow_to(in, n, pc + 1 + f->k, &acc);
		} else if (BPF_CLASS(f->code) == BPF_JMP) {
			flow_to(in, n, pc + 1 + f->jt, &acc);
			flow_to(in, n, pc + 1 + f->jf, &acc);
		} else {
			flow_to(in, n, pc + 1, &acc);
		}
	}
	return n;
}

/* The architecture whose section holds @pc: the last comparison with seccomp_data.arch before it. */
static uint32_t arch_at(const struct sock_filter *prog, const struct acc_set *in, size_t pc)
{
	for (size_t i = pc; i-- > 0;)
		if (prog[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && in[i].n == 1 && !in[i].is_unknown &&
		    in[i].s[0].offset == offsetof(struct seccomp_data, arch))
			return prog[i].k;
	return 0;
}

/* The first syscall with more than POLICY_BPF_CHECK_MAX conditional rules in @sec, or NULL. */
static const char *too_many_conditional(const json_t *sec)
{
	_cleanup_(json_decrefp) json_t *counts = json_object();
	size_t i, j;
	json_t *rule, *name;

	json_array_foreach(json_object_get(sec, "syscalls"), i, rule) {
		size_t n_args = json_array_size(json_object_get(rule, "args"));
		size_t add = oci_args_repeat_index(json_object_get(rule, "args")) ? n_args : 1;

		json_array_foreach(json_object_get(rule, "names"), j, name) {
			const char *s = json_string_value(name);
			json_int_t n = json_integer_value(json_object_get(counts, s)) + (json_int_t)add;

			if (n_args == 0)
				continue;
			if (n > POLICY_BPF_CHECK_MAX)
				return s;
			(void)json_object_set_new(counts, s, json_integer(n));
		}
	}
	return NULL;
}

/* The program libseccomp builds of @sec: malloc'd in *ret_prog, *ret_n instructions. */
static int load_program(const json_t *sec, struct sock_filter **ret_prog, size_t *ret_n)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ struct sock_filter *prog = NULL;
	struct stat st;
	size_t n;
	int r;

	fd = memfd_create("merged-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	r = build_bounded(sec, fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	n = (size_t)st.st_size / sizeof(*prog);
	prog = malloc(n * sizeof(*prog) + 1);
	if (!prog)
		return -ENOMEM;
	if (pread(fd, prog, n * sizeof(*prog), 0) != (ssize_t)(n * sizeof(*prog)))
		return -EIO;
	*ret_prog = TAKE_PTR(prog);
	*ret_n = n;
	return 0;
}

int policy_bpf_check(const json_t *sec, const char **ret_unchecked, struct icd_error *reterr)
{
	const struct scmp_version *v = seccomp_version();
	_cleanup_free_ struct sock_filter *prog = NULL;
	_cleanup_free_ struct acc_set *in = NULL;
	size_t n = 0, pc;
	int r;

	*ret_unchecked = too_many_conditional(sec);
	if (*ret_unchecked)
		return 0;
	r = load_program(sec, &prog, &n);
	if (r == -ENOEXEC)
		return 0;
	if (r == -ETIMEDOUT)
		return icd_error_set(reterr, -EINVAL,
				     "libseccomp %u.%u.%u did not build this profile within %d ms (it "
				     "never finishes some rule sets, and the runtime would hang): merge "
				     "by hand",
				     v->major, v->minor, v->micro, BUILD_TIMEOUT_MS);
	in = r < 0 ? NULL : calloc(n + 1, sizeof(*in));
	if (r >= 0 && !in)
		r = -ENOMEM;
	if (r < 0)
		return icd_error_set(reterr, r, "cannot build the merged profile with libseccomp: %s",
				     strerror(-r));
	pc = first_mixed_read(prog, n, in);
	if (pc == n)
		return 0;
	return icd_error_set(reterr, -EINVAL,
			     "libseccomp %u.%u.%u would build this profile into a wrong filter "
			     "(architecture %#x, instruction %zu compares another argument than its "
			     "own): merge by hand",
			     v->major, v->minor, v->micro, arch_at(prog, in, pc), pc);
}
