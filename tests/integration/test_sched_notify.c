/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests for the targets of an emulated sched_setscheduler against
 * real notify fds. A "container" is an init in a new user namespace
 * (0 -> 100000) and a new pid namespace; callers and targets are placed in
 * and around it with setns() from here, as a runtime or a hostile host setup
 * would. Each caller installs a NOTIFY filter for sched_setscheduler; this
 * process supervises by calling handle_sched_setscheduler() directly, then
 * reads the target's policy itself. Only targets that belong to the
 * container (its user namespace or below, its pid namespace or below) may
 * change. Root only; 77 otherwise.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "fdpass.h"
#include "handlers/handler.h"

#define MAX_PROCS 16

enum role { ROLE_SLEEPER, ROLE_CALLER, ROLE_ZOMBIE };

/* Where a spawned process lives: namespaces joined from here, in this order. */
struct placement {
	pid_t pidns_of;  /* join the pid namespace of this task (0: ours) */
	pid_t userns_of; /* then the user namespace of this task (0: ours) */
	bool new_pidns;  /* then start in a new pid namespace nested in that one */
	enum role role;
};

struct proc {
	pid_t host;   /* its pid in our namespace */
	pid_t keeper; /* our child, reaped at the end */
	int ctl;
	int listener; /* callers: their notify fd */
};

struct cmd {
	int pid, policy, prio;
};

struct result {
	long ret;
	int err;
};

static struct {
	struct proc procs[MAX_PROCS];
	size_t n_procs;
	struct proc init; /* the container's init */
	pid_t proc_fd_of; /* pass /proc/PID of this task as LXC's proc fd (0: none) */
	uint32_t last_flags;
	int nr_sched;
} g;

/* ---------------- spawned side ---------------- */

static void join(pid_t of, const char *type, int nstype)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)of, type);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, nstype) < 0)
		_exit(70);
	close(fd);
}

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sched_setscheduler), 0) < 0 ||
	    seccomp_load(ctx) < 0)
		return -1;
	return seccomp_notify_fd(ctx);
}

/* One hello (the kernel attaches our credentials: the receiver has SO_PASSCRED), maybe an fd. */
static void hello(int sock, int fd)
{
	if (fdpass_send(sock, "h", 1, &fd, fd >= 0) != 1)
		_exit(72);
}

static _Noreturn void role_main(enum role role, int sock)
{
	struct cmd c;
	int fd = -1;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (role == ROLE_CALLER && (fd = install_filter()) < 0)
		_exit(73);
	if (role == ROLE_ZOMBIE && fork() == 0) {
		hello(sock, -1); /* the hello is the child's, which exits unreaped */
		_exit(0);
	}
	if (role != ROLE_ZOMBIE)
		hello(sock, fd);
	if (role != ROLE_CALLER)
		for (;;)
			pause();
	close(fd);
	while (read(sock, &c, sizeof(c)) == sizeof(c)) {
		struct sched_param sp = { .sched_priority = c.prio };
		struct result res = { 0 };

		errno = 0;
		res.ret = syscall(SYS_sched_setscheduler, c.pid, c.policy, &sp);
		res.err = res.ret < 0 ? errno : 0;
		if (write(sock, &res, sizeof(res)) != sizeof(res))
			break;
	}
	_exit(0);
}

/* Our child: takes the namespaces, then forks the process that runs the role. */
static _Noreturn void keeper_main(const struct placement *p, int sock)
{
	pid_t child;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* pid first: joining a pid namespace needs our rights over its owner */
	if (p->pidns_of)
		join(p->pidns_of, "pid", CLONE_NEWPID);
	if (p->userns_of)
		join(p->userns_of, "user", CLONE_NEWUSER);
	child = fork();
	if (child == 0) {
		if (p->new_pidns && (unshare(CLONE_NEWPID) < 0 || (child = fork()) < 0))
			_exit(74);
		if (p->new_pidns && child > 0)
			_exit(waitpid(child, NULL, 0) == child ? 0 : 75);
		role_main(p->role, sock);
	}
	_exit(child > 0 && waitpid(child, NULL, 0) == child ? 0 : 76);
}

/* ---------------- supervisor side ---------------- */

static void recv_hello(struct proc *p)
{
	struct pollfd pfd = { .fd = p->ctl, .events = POLLIN };
	struct ucred cred = { 0 };
	char byte;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(fdpass_recv(p->ctl, &byte, 1, &p->listener, &cred), 1);
	p->host = cred.pid; /* translated into our pid namespace by the kernel */
	assert_true(p->host > 0);
}

static struct proc *spawn(const struct placement *pl)
{
	struct proc *p = &g.procs[g.n_procs++];
	int sv[2], on = 1;

	assert_true(g.n_procs <= MAX_PROCS);
	*p = (struct proc){ .ctl = -1, .listener = -1 };
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	p->keeper = fork();
	assert_true(p->keeper >= 0);
	if (p->keeper == 0) {
		close(sv[0]);
		keeper_main(pl, sv[1]);
	}
	close(sv[1]);
	p->ctl = sv[0];
	recv_hello(p);
	assert_true((pl->role == ROLE_CALLER) == (p->listener >= 0));
	return p;
}

static void procs_stop(void)
{
	for (size_t i = 0; i < g.n_procs; i++) {
		struct proc *p = &g.procs[i];

		kill(p->host, SIGKILL);
		kill(p->keeper, SIGKILL);
		waitpid(p->keeper, NULL, 0);
		close(p->ctl);
		if (p->listener >= 0)
			close(p->listener);
	}
	g.n_procs = 0;
}

/* The pid of host task @host in the pid namespace @level levels below ours (NSpid:). */
static pid_t pid_at_level(pid_t host, int level)
{
	char path[64], line[256];
	pid_t ids[8] = { 0 };
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)host);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "NSpid:", 6) == 0)
			n = sscanf(line + 6, "%d %d %d %d", &ids[0], &ids[1], &ids[2], &ids[3]);
	fclose(f);
	assert_true(level < n);
	return ids[level];
}

static void supervise_one(int listener)
{
	struct seccomp_notif req;
	struct notif_reply reply;
	struct notif_ctx ctx = { .req = &req, .notify_fd = listener, .init_pid = g.init.host,
				 .proc_fd = -EBADF, .mem_fd = -EBADF };
	struct pollfd pfd = { .fd = listener, .events = POLLIN };
	char path[32];

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(notify_recv(listener, &req), 0);
	assert_int_equal(req.data.nr, g.nr_sched);
	if (g.proc_fd_of) {
		snprintf(path, sizeof(path), "/proc/%d", (int)g.proc_fd_of);
		ctx.proc_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(ctx.proc_fd >= 0);
	}
	reply_continue(&reply);
	if (handle_sched_setscheduler(&ctx, &reply) < 0)
		reply_continue(&reply);
	if (ctx.proc_fd >= 0)
		close(ctx.proc_fd);
	g.last_flags = reply.flags;
	(void)notify_send(listener, &(struct seccomp_notif_resp){ .id = req.id, .val = reply.val,
								    .error = reply.error,
								    .flags = reply.flags });
}

/* @caller calls sched_setscheduler(@pid, @policy, {0}); we answer through the handler. */
static struct result call_sched(const struct proc *caller, int pid, int policy)
{
	struct cmd c = { .pid = pid, .policy = policy };
	struct result res;

	assert_int_equal(write(caller->ctl, &c, sizeof(c)), sizeof(c));
	supervise_one(caller->listener);
	assert_int_equal(read(caller->ctl, &res, sizeof(res)), sizeof(res));
	return res;
}

/* Group setup: the container's init, pid 1 of its own pid namespace. */
static int container_start(void **state)
{
	int sv[2], sync[2], on = 1;
	char path[64], b;
	pid_t a;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWUSER) < 0 || write(sync[1], "u", 1) != 1 || read(sync[1], &b, 1) != 1 ||
		    unshare(CLONE_NEWPID) < 0)
			_exit(77);
		if (fork() == 0)
			role_main(ROLE_SLEEPER, sv[1]); /* pid 1 of the new namespace */
		pause();
		_exit(0);
	}
	g.init = (struct proc){ .keeper = a, .ctl = sv[0], .listener = -1 };
	close(sv[1]);
	assert_int_equal(read(sync[0], &b, 1), 1);
	for (int i = 0; i < 2; i++) {
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)a, i ? "gid_map" : "uid_map");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "0 100000 65536\n", 15), 15);
		close(fd);
	}
	assert_int_equal(write(sync[0], "g", 1), 1);
	close(sync[0]);
	close(sync[1]);
	recv_hello(&g.init);
	assert_int_equal(pid_at_level(g.init.host, 1), 1);
	(void)state;
	return 0;
}

static int container_stop(void **state)
{
	(void)state;
	kill(g.init.host, SIGKILL);
	kill(g.init.keeper, SIGKILL);
	waitpid(g.init.keeper, NULL, 0);
	close(g.init.ctl);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	procs_stop();
	return 0;
}

/* ---------------- tests ---------------- */

#define IN_CONTAINER(r) { .pidns_of = g.init.host, .userns_of = g.init.host, .role = (r) }

static void assert_policy(const struct proc *p, int policy)
{
	assert_int_equal(sched_getscheduler(p->host), policy);
}

static void test_sched_target_in_container_emulated(void **state)
{
	struct proc *caller = spawn(&(struct placement)IN_CONTAINER(ROLE_CALLER));
	struct proc *sibling = spawn(&(struct placement)IN_CONTAINER(ROLE_SLEEPER));
	struct result r;

	(void)state;
	r = call_sched(caller, pid_at_level(sibling->host, 1), SCHED_BATCH);
	assert_int_equal(r.err, 0);
	assert_int_equal(g.last_flags, 0); /* emulated */
	assert_policy(sibling, SCHED_BATCH);
	/* its own task too */
	r = call_sched(caller, 0, SCHED_BATCH);
	assert_int_equal(r.err, 0);
	assert_int_equal(g.last_flags, 0);
	assert_policy(caller, SCHED_BATCH);
}

/* A pid namespace the container made below its own is still the container's. */
static void test_sched_target_in_nested_pidns_emulated(void **state)
{
	struct placement nested = IN_CONTAINER(ROLE_SLEEPER);
	struct proc *caller = spawn(&(struct placement)IN_CONTAINER(ROLE_CALLER));
	struct proc *target;
	struct result r;

	(void)state;
	nested.new_pidns = true;
	target = spawn(&nested);
	r = call_sched(caller, pid_at_level(target->host, 1), SCHED_BATCH);
	assert_int_equal(r.err, 0);
	assert_int_equal(g.last_flags, 0);
	assert_policy(target, SCHED_BATCH);
}

/*
 * pid 0 from a pid namespace the container made below its own: the caller's
 * own namespaces are looked at, not the target's through a pidfd (it is the
 * caller), and it is the container's.
 */
static void test_sched_own_task_in_nested_pidns_emulated(void **state)
{
	struct placement nested = IN_CONTAINER(ROLE_CALLER);
	struct proc *caller;
	struct result r;

	(void)state;
	nested.new_pidns = true;
	caller = spawn(&nested);
	r = call_sched(caller, 0, SCHED_BATCH);
	assert_int_equal(r.err, 0);
	assert_int_equal(g.last_flags, 0);
	assert_policy(caller, SCHED_BATCH);
}

/*
 * pid 0 from the container's user namespace but a pid namespace beside the
 * container's: not the container's task, so left to the kernel (CONTINUE),
 * which refuses a real-time policy to the caller's own rights.
 */
static void test_sched_own_task_in_sibling_pidns_continued(void **state)
{
	struct proc *sibling_init = spawn(&(struct placement){ .new_pidns = true,
							       .role = ROLE_SLEEPER });
	struct proc *caller = spawn(&(struct placement){ .pidns_of = sibling_init->host,
							 .userns_of = g.init.host,
							 .role = ROLE_CALLER });
	struct cmd c = { .pid = 0, .policy = SCHED_FIFO, .prio = 1 };
	struct result r;

	(void)state;
	assert_int_equal(write(caller->ctl, &c, sizeof(c)), sizeof(c));
	supervise_one(caller->listener);
	assert_int_equal(read(caller->ctl, &r, sizeof(r)), sizeof(r));
	assert_int_equal(g.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_int_equal(r.err, EPERM);
	assert_policy(caller, SCHED_OTHER);
}

/*
 * A user-namespaced caller that shares the host's pid namespace names host
 * tasks: a root-owned one must not change (the kernel alone would say EPERM).
 */
static void test_sched_caller_in_host_pidns_refused(void **state)
{
	struct proc *caller = spawn(&(struct placement){ .userns_of = g.init.host, .role = ROLE_CALLER });
	struct proc *host_task = spawn(&(struct placement){ .role = ROLE_SLEEPER });
	struct result r;

	(void)state;
	r = call_sched(caller, host_task->host, SCHED_BATCH);
	assert_int_equal(r.err, ESRCH);
	assert_policy(host_task, SCHED_OTHER);
	/* its own task: not emulated, the kernel decides with the caller's own rights */
	r = call_sched(caller, 0, SCHED_BATCH);
	assert_int_equal(g.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_int_equal(r.err, 0);
	assert_policy(caller, SCHED_BATCH);
}

/* A host (root, host user namespace) task that joined the container's pid namespace. */
static void test_sched_host_task_in_container_pidns_refused(void **state)
{
	struct proc *caller = spawn(&(struct placement)IN_CONTAINER(ROLE_CALLER));
	struct proc *intruder = spawn(&(struct placement){ .pidns_of = g.init.host,
							   .role = ROLE_SLEEPER });
	struct result r;

	(void)state;
	r = call_sched(caller, pid_at_level(intruder->host, 1), SCHED_BATCH);
	assert_int_equal(r.err, ESRCH);
	assert_int_equal(g.last_flags, 0);
	assert_policy(intruder, SCHED_OTHER);
}

/*
 * Caller and target in the container's user namespace but in a pid
 * namespace next to the container's, not below it: not the container's.
 */
static void test_sched_target_in_sibling_pidns_refused(void **state)
{
	struct proc *sibling_init = spawn(&(struct placement){ .new_pidns = true,
							       .role = ROLE_SLEEPER });
	struct placement beside = { .pidns_of = sibling_init->host, .userns_of = g.init.host };
	struct proc *caller, *target;
	struct result r;

	(void)state;
	beside.role = ROLE_CALLER;
	caller = spawn(&beside);
	beside.role = ROLE_SLEEPER;
	target = spawn(&beside);
	r = call_sched(caller, pid_at_level(target->host, 1), SCHED_BATCH);
	assert_int_equal(r.err, ESRCH);
	assert_policy(target, SCHED_OTHER);
}

/* Is @host a zombie (exited, not reaped)? */
static bool is_zombie(pid_t host)
{
	char path[64], buf[256], *end;
	FILE *f;
	bool zombie = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)host);
	f = fopen(path, "re");
	if (f && fgets(buf, sizeof(buf), f) && (end = strrchr(buf, ')')))
		zombie = end[1] == ' ' && end[2] == 'Z';
	if (f)
		fclose(f);
	return zombie;
}

/*
 * A zombie of the container is still its task: the kernel sets its policy
 * and answers 0 (its namespaces are gone from the task, its credentials and
 * pid are not), so the emulation must not say ESRCH.
 */
static void test_sched_zombie_target_as_kernel(void **state)
{
	struct proc *caller = spawn(&(struct placement)IN_CONTAINER(ROLE_CALLER));
	struct proc *zombie = spawn(&(struct placement)IN_CONTAINER(ROLE_ZOMBIE));
	struct result r;

	(void)state;
	for (int i = 0; i < 500 && !is_zombie(zombie->host); i++)
		usleep(10000);
	assert_true(is_zombie(zombie->host));
	r = call_sched(caller, pid_at_level(zombie->host, 1), SCHED_BATCH);
	assert_int_equal(g.last_flags, 0);
	assert_int_equal(r.err, 0);
	assert_policy(zombie, SCHED_BATCH);
}

/*
 * LXC's /proc/PID must be the trapped thread's own: the caller's rights are
 * read from it. Another task's (one with CAP_SYS_NICE) makes the handler
 * act for nobody: CONTINUE.
 */
static void test_sched_lxc_proc_fd_of_another_task_not_used(void **state)
{
	struct proc *caller = spawn(&(struct placement)IN_CONTAINER(ROLE_CALLER));
	struct proc *other = spawn(&(struct placement)IN_CONTAINER(ROLE_SLEEPER));

	(void)state;
	g.proc_fd_of = other->host;
	(void)call_sched(caller, 0, SCHED_BATCH);
	g.proc_fd_of = 0;
	assert_int_equal(g.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	g.proc_fd_of = caller->host; /* its own: emulated */
	(void)call_sched(caller, 0, SCHED_BATCH);
	g.proc_fd_of = 0;
	assert_int_equal(g.last_flags, 0);
	assert_policy(caller, SCHED_BATCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sched_target_in_container_emulated, teardown),
		cmocka_unit_test_teardown(test_sched_target_in_nested_pidns_emulated, teardown),
		cmocka_unit_test_teardown(test_sched_own_task_in_nested_pidns_emulated, teardown),
		cmocka_unit_test_teardown(test_sched_own_task_in_sibling_pidns_continued, teardown),
		cmocka_unit_test_teardown(test_sched_caller_in_host_pidns_refused, teardown),
		cmocka_unit_test_teardown(test_sched_host_task_in_container_pidns_refused, teardown),
		cmocka_unit_test_teardown(test_sched_target_in_sibling_pidns_refused, teardown),
		cmocka_unit_test_teardown(test_sched_lxc_proc_fd_of_another_task_not_used, teardown),
		cmocka_unit_test_teardown(test_sched_zombie_target_as_kernel, teardown),
	};
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (namespaces, notify filters)\n");
		return 0;
	}
	g.nr_sched = seccomp_syscall_resolve_name("sched_setscheduler");
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, container_start, container_stop);
}
