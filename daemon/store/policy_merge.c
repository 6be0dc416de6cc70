/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merging interceptd's rules into an existing OCI linux.seccomp object (the
 * runtime's default, Docker's or containerd's profile, a custom one). JSON in,
 * JSON out, no lock (the result is compiled with libseccomp to check it, in a
 * memfd); called from the API thread.
 *
 * What "merged" must mean follows from how the filter gets built. runc and
 * crun hand the rules to libseccomp in file order, one rule per name; a rule
 * whose args repeat an index becomes one rule per comparison (an OR).
 * libseccomp 2.5 then settles two rules for the same syscall like this:
 *  - an unconditional rule shadows every conditional one, in either order;
 *  - of two unconditional rules the first wins, the second is dropped;
 *  - conditional rules with the same comparisons but different actions fail
 *    the whole filter (EEXIST): the container does not start;
 *  - conditional rules that cannot both match keep their own actions, as long
 *    as every comparison is an EQ or a MASKED_EQ: with NE, LT, LE, GE or GT in
 *    the tree, two narrowed rules can make it loop forever, fail with EEXIST,
 *    or answer a call with the other rule's action;
 *  - a MASKED_EQ is skipped where its mask has no bit (on 32-bit architectures
 *    only the low half is compared): the rule can be unconditional there.
 * So a base that allows mknodat outright hides a NOTIFY rule for it, before or
 * after. For each syscall we trap, the merge takes the syscall out of the
 * base's rules and puts the base's behaviour back only where none of our
 * conditions matches: each base rule for it, narrowed by one comparison of the
 * complement of our conditions (mknodat stays allowed for FIFOs and files).
 * So for a trapped syscall no base rule can match a call one of ours matches.
 * A base rule outside what libseccomp reads reliably is refused, not narrowed.
 *
 * A call the base denies stays denied. Trapped, a call interceptd does not
 * emulate is answered CONTINUE and reaches the kernel, which may allow what the
 * base forbade (a tmpfs mount in a user namespace). So unless the caller asks
 * for it (POLICY_MERGE_TRAP_DENIED), a syscall the base denies outright is left
 * to the base's rules; one the base allows under conditions, with a denying
 * default, gets ours only inside its allowing rules (each narrowed by our
 * conditions); any other denial leaves the whole syscall to the base. Our
 * ERRNO rules never let a call run, but they would turn the base's KILL, TRAP
 * or TRACE into an errno the process survives: they take the calls the base
 * lets run or answers with an errno (fsopen's ENOSYS sends libmount back to
 * mount(2)), and the base's other answers are kept the same way.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/store/cubes.h"
#include "daemon/store/policy_bpf.h"
#include "daemon/store/policy.h"
#include "daemon/store/policy_oci.h"

/* More complement comparisons than any of our rule sets needs (mount: 11, bpf: 37). */
#define MAX_COMPLEMENT 64
/* The merged profile's size limit, against bases built to blow it up. */
#define MERGE_MAX_RULES 16384

/* One OCI argument comparison. */
struct cmp {
	unsigned index;
	const char *op;
	uint64_t value, value_two; /* MASKED_EQ: mask, expected */
};

/* What the merge does with one of our syscalls, given what the base does with it. */
enum trap_fate {
	TRAP_OURS,	/* our rules take the calls they match, the base keeps the rest */
	TRAP_ALLOWED,	/* ours only where the base let the call run; its denials stay */
	TRAP_KEPT,	/* not trapped: the base denies every call we would trap */
	TRAP_KEPT_SOME,	/* not trapped: it denies some, in a way the merge cannot single out */
};

/* Our rules for one syscall and what they leave to the base. */
struct trap {
	const char *syscall;
	const struct policy_rule *rules[POLICY_MAX_RULES];
	size_t n_rules;
	bool is_notify;		/* one of the rules hands calls to us */
	bool is_unconditional;	/* our rules take every call: nothing left to the base */
	bool is_denied_by_base;	/* the base did not let some of the calls we would trap run */
	enum trap_fate fate;
	bool is_masked;		/* the complement is MASKED_EQ on the low 32 bits alone */
	unsigned arg_index;	/* the argument our conditions test */
	struct cmp complement[MAX_COMPLEMENT]; /* matches exactly when none of ours does */
	size_t n_complement;
};

struct merge {
	struct oci_action default_action;
	bool is_trap_denied;	/* trap what the base denies too (the caller asked for it) */
	struct trap traps[POLICY_MAX_RULES];
	size_t n_traps;
	size_t n_out;
	struct policy_warnings *warnings;
	struct icd_error *reterr;
};

static int trap_add_cmp(struct trap *t, const char *op, uint64_t value, uint64_t value_two)
{
	if (t->n_complement >= MAX_COMPLEMENT)
		return -E2BIG;
	t->complement[t->n_complement++] = (struct cmp){ t->arg_index, op, value, value_two };
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Not one of the values: below the first, the gaps between them, above the last. */
static int complement_equals(struct trap *t)
{
	uint64_t v[POLICY_MAX_RULES];
	int r = 0;

	for (size_t i = 0; i < t->n_rules; i++)
		v[i] = t->rules[i]->value;
	qsort(v, t->n_rules, sizeof(v[0]), cmp_u64);
	if (t->n_rules == 1)
		return trap_add_cmp(t, "SCMP_CMP_NE", v[0], 0);
	if (v[0] > 0)
		r = trap_add_cmp(t, "SCMP_CMP_LT", v[0], 0);
	for (size_t i = 0; r >= 0 && i + 1 < t->n_rules; i++)
		for (uint64_t x = v[i] + 1; r >= 0 && x < v[i + 1]; x++)
			r = trap_add_cmp(t, "SCMP_CMP_EQ", x, 0);
	if (r >= 0 && v[t->n_rules - 1] < UINT64_MAX)
		r = trap_add_cmp(t, "SCMP_CMP_GT", v[t->n_rules - 1], 0);
	return r;
}

static int complement_masked(struct trap *t)
{
	struct cube in[POLICY_MAX_RULES], out[MAX_COMPLEMENT];
	size_t n_out;
	int r;

	for (size_t i = 0; i < t->n_rules; i++)
		in[i] = (struct cube){ t->rules[i]->mask, t->rules[i]->value };
	r = cubes_complement(in, t->n_rules, out, MAX_COMPLEMENT, &n_out);
	for (size_t i = 0; r >= 0 && i < n_out; i++)
		r = trap_add_cmp(t, "SCMP_CMP_MASKED_EQ", out[i].mask, out[i].value);
	return r;
}

/* Our conditions for one syscall test one argument with one kind of comparison. */
static int trap_complement(struct trap *t)
{
	bool all_eq = true, all_masked = true;

	for (size_t i = 0; i < t->n_rules; i++) {
		const struct policy_rule *pr = t->rules[i];

		if (!pr->has_arg) {
			t->is_unconditional = true;
			return 0;
		}
		if (pr->arg_index != t->rules[0]->arg_index)
			return -EINVAL;
		all_eq &= pr->op == POLICY_OP_EQ;
		all_masked &= pr->op == POLICY_OP_MASKED_EQ;
	}
	t->arg_index = t->rules[0]->arg_index;
	if (all_eq)
		return complement_equals(t);
	if (!all_masked)
		return -EINVAL;
	t->is_masked = true;
	for (size_t i = 0; i < t->n_rules; i++)
		t->is_masked &= t->rules[i]->mask <= UINT32_MAX;
	return complement_masked(t);
}

static struct trap *trap_find(struct merge *m, const char *syscall)
{
	for (size_t i = 0; i < m->n_traps; i++)
		if (strcmp(m->traps[i].syscall, syscall) == 0)
			return &m->traps[i];
	return NULL;
}

/* Group @cfg's rules by syscall, in their order, and work out each complement. */
static int traps_build(struct merge *m, const struct policy_rule *rules, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		struct trap *t = trap_find(m, rules[i].syscall);

		if (!t) {
			t = &m->traps[m->n_traps++];
			*t = (struct trap){ .syscall = rules[i].syscall };
		}
		t->rules[t->n_rules++] = &rules[i];
		t->is_notify |= rules[i].action == POLICY_ACTION_NOTIFY;
	}
	for (size_t i = 0; i < m->n_traps; i++) {
		r = trap_complement(&m->traps[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static void warn(struct policy_warnings *w, const char *fmt, ...) _printf_(2, 3);
static void warn(struct policy_warnings *w, const char *fmt, ...)
{
	va_list ap;

	if (!w || w->n >= POLICY_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(w->msg[w->n++], sizeof(w->msg[0]), fmt, ap);
	va_end(ap);
}

static bool names_syscall(const json_t *rule, const char *syscall)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(rule, "names"), i, n)
		if (strcmp(json_string_value(n), syscall) == 0)
			return true;
	return false;
}

static int append_rule(struct merge *m, json_t *out, json_t *rule)
{
	if (!rule)
		return -ENOMEM;
	if (++m->n_out > MERGE_MAX_RULES) {
		json_decref(rule);
		return icd_error_set(m->reterr, -E2BIG,
				     "the merged profile would have more than %d rules",
				     MERGE_MAX_RULES);
	}
	return json_array_append_new(out, rule) < 0 ? -ENOMEM : 0;
}

static bool is_kept(const struct trap *t)
{
	return t->fate == TRAP_KEPT || t->fate == TRAP_KEPT_SOME;
}

/* Whether the merge takes @syscall out of the base's rules (it traps it). */
static bool is_taken(struct merge *m, const char *syscall)
{
	const struct trap *t = trap_find(m, syscall);

	return t && !is_kept(t);
}

/* The base rule without the names we trap; nothing when no name is left. */
static int copy_untrapped(struct merge *m, json_t *rule, json_t *out)
{
	_cleanup_(json_decrefp) json_t *names = json_array(), *copy = NULL;
	size_t i;
	json_t *n;

	if (!names)
		return -ENOMEM;
	json_array_foreach(json_object_get(rule, "names"), i, n)
		if (!is_taken(m, json_string_value(n)) && json_array_append(names, n) < 0)
			return -ENOMEM;
	if (json_array_size(names) == json_array_size(json_object_get(rule, "names")))
		return append_rule(m, out, json_incref(rule));
	if (json_array_size(names) == 0)
		return 0;
	copy = json_copy(rule);
	if (!copy || json_object_set(copy, "names", names) < 0)
		return -ENOMEM;
	return append_rule(m, out, TAKE_PTR(copy));
}

static json_t *cmp_to_oci(const struct cmp *c)
{
	return policy_oci_arg(c->index, c->op, c->value, c->value_two);
}

static struct oci_action our_action(const struct policy_rule *r)
{
	return r->action == POLICY_ACTION_NOTIFY ?
		       (struct oci_action){ "SCMP_ACT_NOTIFY", 0 } :
		       (struct oci_action){ "SCMP_ACT_ERRNO", r->errno_value };
}

/* The comparison of @r, one of our conditional rules. */
static struct cmp cmp_of_rule(const struct policy_rule *r)
{
	bool is_masked = r->op == POLICY_OP_MASKED_EQ;

	return (struct cmp){ r->arg_index, is_masked ? "SCMP_CMP_MASKED_EQ" : "SCMP_CMP_EQ",
			     is_masked ? r->mask : r->value, is_masked ? r->value : 0 };
}

/*
 * @rule for @t's syscall alone, with @args plus the comparison @c (none when
 * NULL); with the action of @ours, one of our rules, unless it is NULL.
 */
static int add_narrowed(struct merge *m, const json_t *rule, const struct trap *t, json_t *args,
			const struct cmp *c, const struct policy_rule *ours, json_t *out)
{
	_cleanup_(json_decrefp) json_t *copy = json_copy((json_t *)rule);
	_cleanup_(json_decrefp) json_t *narrowed = args ? json_copy(args) : json_array();

	if (!copy || !narrowed ||
	    json_object_set_new(copy, "names", json_pack("[s]", t->syscall)) < 0 ||
	    (c && json_array_append_new(narrowed, cmp_to_oci(c)) < 0) ||
	    json_object_set(copy, "args", narrowed) < 0)
		return -ENOMEM;
	if (ours) {
		struct oci_action a = our_action(ours);

		(void)json_object_del(copy, "errnoRet");
		if (json_object_set_new(copy, "action", json_string(a.name)) < 0 ||
		    (a.errno_value && json_object_set_new(copy, "errnoRet",
							  json_integer(a.errno_value)) < 0))
			return -ENOMEM;
	}
	return append_rule(m, out, TAKE_PTR(copy));
}

/* Whether one of @rule's comparisons tests argument @index. */
static bool tests_arg(const json_t *rule, unsigned index)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(rule, "args"), i, a)
		if (json_integer_value(json_object_get(a, "index")) == (json_int_t)index)
			return true;
	return false;
}

/*
 * One base rule for @t's syscall, once for each comparison of @cmps: with the
 * complement of our conditions, it is put back where ours do not match; with
 * ours and @is_ours, the calls it let us take and ours match get our action.
 * Args repeating an index are an OR for runc and crun: one variant each.
 */
static int add_residual(struct merge *m, const json_t *rule, size_t idx, const struct trap *t,
			const struct cmp *cmps, size_t n_cmps, bool is_ours, json_t *out)
{
	json_t *args = json_object_get(rule, "args");
	bool is_or = oci_args_repeat_index(args);
	size_t n_variants = is_or ? json_array_size(args) : 1;
	int r;

	if (tests_arg(rule, t->arg_index))
		return icd_error_set(m->reterr, -EINVAL,
				     "syscalls[%zu]: its filter on argument %u of '%s' "
				     "overlaps interceptd's own; merge this rule by hand",
				     idx, t->arg_index, t->syscall);
	for (size_t v = 0; v < n_variants; v++) {
		_cleanup_(json_decrefp) json_t *variant =
			is_or ? json_pack("[O]", json_array_get(args, v)) : json_incref(args);

		if (is_or && !variant)
			return -ENOMEM;
		for (size_t c = 0; c < n_cmps; c++) {
			r = add_narrowed(m, rule, t, variant, &cmps[c],
					 is_ours ? t->rules[c] : NULL, out);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static bool arg_is(const json_t *arg, const char *op)
{
	return strcmp(json_string_value(json_object_get(arg, "op")), op) == 0;
}

/*
 * libseccomp skips a MASKED_EQ comparison on the half of the argument where its
 * mask has no bit. On 32-bit architectures it compares the low half alone, so a
 * rule whose mask has no bit there is unconditional on them (everywhere when the
 * mask is 0), and which base rule wins a syscall depends on the architecture.
 */
static bool has_maskless_arg(const json_t *rule)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(rule, "args"), i, a)
		if (arg_is(a, "SCMP_CMP_MASKED_EQ") &&
		    (json_integer_value(json_object_get(a, "value")) & UINT32_MAX) == 0)
			return true;
	return false;
}

/* Only EQ and MASKED_EQ comparisons: what libseccomp 2.5 combines safely (see below). */
static bool has_plain_args(const json_t *rule)
{
	bool is_plain = true;
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(rule, "args"), i, a)
		is_plain &= arg_is(a, "SCMP_CMP_EQ") || arg_is(a, "SCMP_CMP_MASKED_EQ");
	return is_plain;
}

/*
 * Whether our rules for @t may take a call the base answers with @a: one it
 * lets run; for our ERRNO rules, one it refuses with an errno as well.
 */
static bool is_ours_over(const struct trap *t, struct oci_action a)
{
	return oci_action_allows(a) ||
	       (!t->is_notify && a.name && strcmp(a.name, "SCMP_ACT_ERRNO") == 0);
}

/* More conditional base rules for one syscall than a merge narrows. */
#define MAX_DECIDING 63

/* The base rules that decide one syscall, as libseccomp reads them. */
struct deciding {
	size_t idx[MAX_DECIDING];
	size_t n;
	bool is_unconditional;	 /* idx[0], the first unconditional rule, decides alone */
	ssize_t maskless;	 /* the first rule with a mask libseccomp may skip, or -1 */
	bool is_maskless_denial; /* a rule with such a mask denies */
};

/*
 * The base rules that decide @t's syscall, as libseccomp would see them: the
 * first unconditional one alone when there is one, else every conditional one.
 * Rules with the default action are skipped by runc and crun (libseccomp
 * refuses them), so they decide nothing.
 */
static int deciding_rules(const struct merge *m, const json_t *base_rules, const struct trap *t,
			  struct deciding *d)
{
	bool is_overflow = false;
	size_t i;
	json_t *rule;

	*d = (struct deciding){ .maskless = -1 };
	json_array_foreach(base_rules, i, rule) {
		struct oci_action a = oci_action_of(rule, "action", "errnoRet");

		if (!names_syscall(rule, t->syscall) || oci_action_equal(a, m->default_action))
			continue;
		if (has_maskless_arg(rule)) {
			d->maskless = d->maskless < 0 ? (ssize_t)i : d->maskless;
			d->is_maskless_denial |= !is_ours_over(t, a);
		}
		if (json_array_size(json_object_get(rule, "args")) == 0) {
			d->idx[0] = i;
			d->n = 1;
			d->is_unconditional = true;
			return 0;
		}
		if (d->n < MAX_DECIDING)
			d->idx[d->n++] = i;
		else
			is_overflow = true;
	}
	if (is_overflow)
		return icd_error_set(m->reterr, -E2BIG,
				     "more than %d conditional rules for '%s' in the base profile",
				     MAX_DECIDING, t->syscall);
	return 0;
}

static struct oci_action action_at(const json_t *base_rules, size_t idx)
{
	return oci_action_of(json_array_get(base_rules, idx), "action", "errnoRet");
}

/* Whether the base answers some calls of @t's syscall in a way ours must not replace. */
static bool base_denies(const struct merge *m, const json_t *base_rules, const struct trap *t,
			const struct deciding *d)
{
	bool is_denied = d->is_maskless_denial ||
			 (!d->is_unconditional && !is_ours_over(t, m->default_action));

	for (size_t i = 0; i < d->n; i++)
		is_denied |= !is_ours_over(t, action_at(base_rules, d->idx[i]));
	return is_denied;
}

/*
 * Whether our rules for @t's syscall can be confined to the calls the base lets
 * run: the base denies whatever none of its rules matches, and each of its
 * conditional rules can be kept as it is (a syscall we take whole) or narrowed
 * by our conditions the way add_residual() narrows it. Otherwise the merge
 * leaves the syscall to the base.
 */
static bool can_confine(const struct merge *m, const json_t *base_rules, const struct trap *t,
			const struct deciding *d)
{
	if (is_ours_over(t, m->default_action) || d->is_unconditional || d->n == 0 ||
	    d->is_maskless_denial)
		return false;
	if (t->is_unconditional)
		return true;
	if (!t->is_masked || d->maskless >= 0)
		return false;
	for (size_t i = 0; i < d->n; i++) {
		const json_t *rule = json_array_get(base_rules, d->idx[i]);

		if (tests_arg(rule, t->arg_index) || !has_plain_args(rule))
			return false;
	}
	return true;
}

/*
 * What the merge does with @t's syscall. Unless the caller asked to trap what
 * the base denies, a call the base did not let run keeps the base's answer:
 * trapped, a call interceptd does not emulate would reach the kernel instead;
 * taken by our ERRNO rules, a call the base kills would get an errno.
 */
static int trap_decide(struct merge *m, const json_t *base_rules, struct trap *t)
{
	struct deciding d;
	int r;

	t->fate = TRAP_OURS;
	r = deciding_rules(m, base_rules, t, &d);
	if (r < 0)
		return r;
	t->is_denied_by_base = base_denies(m, base_rules, t, &d);
	if (!t->is_denied_by_base || m->is_trap_denied)
		return 0;
	if ((d.is_unconditional || d.n == 0) && !d.is_maskless_denial)
		t->fate = TRAP_KEPT;
	else
		t->fate = can_confine(m, base_rules, t, &d) ? TRAP_ALLOWED : TRAP_KEPT_SOME;
	return 0;
}

/*
 * A conditional base rule gets our complement added. libseccomp 2.5 merges such
 * rules into one tree per syscall, and with NE, LT, LE, GE or GT comparisons on
 * either side that tree may never finish building (the runtime hangs at start),
 * be refused (EEXIST), or answer a call with another rule's action. Only EQ and
 * MASKED_EQ comparisons, with a complement of low-half MASKED_EQs, are merged.
 * A MASKED_EQ libseccomp may skip makes the rule that decides depend on the
 * architecture: refused as well.
 */
static int check_narrowable(const struct merge *m, const json_t *base_rules, const struct trap *t,
			    const struct deciding *d)
{
	if (d->maskless >= 0)
		return icd_error_set(m->reterr, -EINVAL,
				     "syscalls[%zd]: a SCMP_CMP_MASKED_EQ with no mask bit in "
				     "the low 32 bits is always true for libseccomp (on 32-bit "
				     "architectures at least); merge '%s' by hand",
				     d->maskless, t->syscall);
	for (size_t i = 0; !d->is_unconditional && i < d->n; i++)
		if (!t->is_masked || !has_plain_args(json_array_get(base_rules, d->idx[i])))
			return icd_error_set(m->reterr, -EINVAL,
					     "syscalls[%zu]: libseccomp 2.5 cannot combine this "
					     "conditional rule for '%s' with interceptd's (it may loop, "
					     "fail or pick another action); merge this rule by hand",
					     d->idx[i], t->syscall);
	return 0;
}

/* Our rules for @t's syscall, less those the default action already gives. */
static int add_ours(struct merge *m, const struct trap *t, json_t *out)
{
	int r;

	for (size_t i = 0; i < t->n_rules; i++) {
		if (oci_action_equal(our_action(t->rules[i]), m->default_action))
			continue;
		r = append_rule(m, out, policy_rule_to_oci(t->rules[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A syscall we take whole, confined to the calls the base let run: the base's
 * deciding rules as they are, those that let the call run handing it to us.
 */
static int add_confined_whole(struct merge *m, const json_t *base_rules, const struct trap *t,
			      const struct deciding *d, json_t *out)
{
	int r;

	for (size_t i = 0; i < d->n; i++) {
		const json_t *rule = json_array_get(base_rules, d->idx[i]);

		r = add_narrowed(m, rule, t, json_object_get(rule, "args"), NULL,
				 is_ours_over(t, action_at(base_rules, d->idx[i])) ? t->rules[0] : NULL,
				 out);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Each deciding base rule, narrowed by one of our conditions: handed to us
 * where the rule let the call run, with its own action where it did not.
 */
static int add_confined(struct merge *m, const json_t *base_rules, const struct trap *t,
			const struct deciding *d, json_t *out)
{
	struct cmp ours[POLICY_MAX_RULES];
	int r;

	for (size_t i = 0; i < t->n_rules; i++)
		ours[i] = cmp_of_rule(t->rules[i]);
	for (size_t i = 0; i < d->n; i++) {
		r = add_residual(m, json_array_get(base_rules, d->idx[i]), d->idx[i], t, ours,
				 t->n_rules, is_ours_over(t, action_at(base_rules, d->idx[i])), out);
		if (r < 0)
			return r;
	}
	return 0;
}

static int merge_trap(struct merge *m, const json_t *base_rules, const struct trap *t, json_t *out)
{
	struct deciding d;
	int r;

	if (is_kept(t))
		return 0;
	r = deciding_rules(m, base_rules, t, &d);
	if (r < 0)
		return r;
	if (t->is_unconditional)
		return t->fate == TRAP_ALLOWED ? add_confined_whole(m, base_rules, t, &d, out) :
						 add_ours(m, t, out);
	r = check_narrowable(m, base_rules, t, &d);
	for (size_t i = 0; r >= 0 && i < d.n; i++)
		r = add_residual(m, json_array_get(base_rules, d.idx[i]), d.idx[i], t,
				 t->complement, t->n_complement, false, out);
	if (r < 0)
		return r;
	return t->fate == TRAP_ALLOWED ? add_confined(m, base_rules, t, &d, out) :
					 add_ours(m, t, out);
}

#define NAMES_NOTIFY (1u << 0) /* denied_names() @kinds: syscalls with a NOTIFY rule */
#define NAMES_ERRNO (1u << 1)  /* with ERRNO rules alone */

/* "'a', 'b'": the syscalls of @kinds the base denied whose fate is @fate, in @names. */
static size_t denied_names(const struct merge *m, enum trap_fate fate, unsigned kinds, char *names,
			   size_t size)
{
	size_t len = 0;

	names[0] = '\0';
	for (size_t i = 0; i < m->n_traps; i++) {
		const struct trap *t = &m->traps[i];

		if ((kinds & (t->is_notify ? NAMES_NOTIFY : NAMES_ERRNO)) && t->is_denied_by_base &&
		    t->fate == fate && len < size)
			len += (size_t)snprintf(names + len, size - len, "%s'%s'", len ? ", " : "",
						t->syscall);
	}
	return len;
}

/* One warning for each way the merge treated trapped syscalls the base denied. */
static void warn_denied(struct merge *m)
{
	char names[POLICY_WARNING_LEN / 2];

	if (denied_names(m, TRAP_OURS, NAMES_NOTIFY, names, sizeof(names)))
		warn(m->warnings,
		     "the base profile denies some calls to %s; interceptd now traps them, and those "
		     "it does not emulate reach the kernel instead of the base's answer",
		     names);
	if (denied_names(m, TRAP_OURS, NAMES_ERRNO, names, sizeof(names)))
		warn(m->warnings,
		     "interceptd's own errno replaces the base profile's answer to some calls to %s "
		     "(trap_denied=true)",
		     names);
	if (denied_names(m, TRAP_KEPT, NAMES_NOTIFY | NAMES_ERRNO, names, sizeof(names)))
		warn(m->warnings,
		     "not trapped, the base profile denies them: %s; they keep its answer. To trap "
		     "them anyway, merge with trap_denied=true (interceptctl policy --trap-denied): "
		     "the calls interceptd does not emulate then reach the kernel instead",
		     names);
	if (denied_names(m, TRAP_KEPT_SOME, NAMES_NOTIFY | NAMES_ERRNO, names, sizeof(names)))
		warn(m->warnings,
		     "not trapped at all: %s; the base profile denies some of the calls interceptd "
		     "would trap, in a way the merge cannot single out by argument, so every call "
		     "keeps its answer (trap_denied=true traps them anyway)",
		     names);
	if (denied_names(m, TRAP_ALLOWED, NAMES_NOTIFY | NAMES_ERRNO, names, sizeof(names)))
		warn(m->warnings,
		     "trapped only where the base profile lets the call run: %s; the calls it "
		     "denies keep its answer (trap_denied=true traps them all)",
		     names);
}

static int merge_rules(struct merge *m, const json_t *base_rules, json_t *out)
{
	size_t i;
	json_t *rule;
	int r;

	for (i = 0; i < m->n_traps; i++) {
		r = trap_decide(m, base_rules, &m->traps[i]);
		if (r < 0)
			return r;
	}
	json_array_foreach(base_rules, i, rule) {
		r = copy_untrapped(m, rule, out);
		if (r < 0)
			return r;
	}
	for (i = 0; i < m->n_traps; i++) {
		r = merge_trap(m, base_rules, &m->traps[i], out);
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_merge_oci(const json_t *base, const struct config *cfg, const char *listener_path,
		     const char *name, unsigned flags, json_t **ret,
		     struct policy_warnings *warnings, struct icd_error *reterr)
{
	struct policy_rule rules[POLICY_MAX_RULES];
	struct merge m = { .warnings = warnings, .reterr = reterr,
			   .is_trap_denied = flags & POLICY_MERGE_TRAP_DENIED };
	_cleanup_(json_decrefp) json_t *out = NULL;
	const char *unchecked;
	json_t *syscalls;
	int r;

	r = oci_seccomp_check(base, reterr);
	if (r < 0)
		return r;
	m.default_action = oci_action_of(base, "defaultAction", "defaultErrnoRet");
	r = traps_build(&m, rules, policy_rules(cfg, rules));
	if (r < 0) /* our own rules; the unit tests merge every key */
		return icd_error_set(reterr, -EIO, "cannot merge interceptd's own rules: %s",
				     r == -E2BIG ? "too many" : "mixed comparisons");
	out = json_copy((json_t *)base);
	syscalls = json_array();
	if (!out || json_object_set_new(out, "syscalls", syscalls) < 0)
		return -ENOMEM;
	r = merge_rules(&m, json_object_get(base, "syscalls"), syscalls);
	if (r < 0)
		return r;
	/* what the runtime gets is libseccomp's program, not these rules */
	r = policy_bpf_check(out, &unchecked, reterr);
	if (r < 0)
		return r;
	if (unchecked)
		warn(warnings,
		     "not checked for libseccomp's wrong filters: more than %d conditional rules "
		     "for '%s' (a runtime takes seconds to build them)",
		     POLICY_BPF_CHECK_MAX, unchecked);
	warn_denied(&m);
	if (json_object_get(base, "flags")) {
		(void)json_object_del(out, "flags");
		warn(warnings, "dropped 'flags': runc 1.1 refuses seccomp flags with a listener");
	}
	if (json_object_set_new(out, "listenerPath", json_string(listener_path)) < 0 ||
	    json_object_set_new(out, "listenerMetadata", json_string(name)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(out);
	return 0;
}
