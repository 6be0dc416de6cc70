/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user-namespace "container" of the privileged bpf tests (bpf_child.h):
 * the child side runs bpf() calls on request, the supervisor side serves
 * their notifications with handle_bpf() and sets up and removes the cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "bpf_child.h"
#include "fdpass.h"
#include "userns_child.h"

#define CG2 "/sys/fs/cgroup/unified"
#define MEMCG "/sys/fs/cgroup/memory"
#define ATTR_DEFAULT_SIZE 144u

/* ---------------- child side ---------------- */

static int open_target(const struct bpfc_cmd *c)
{
	return c->target[0] ? open(c->target, O_RDONLY | O_CLOEXEC) : c->target_fd;
}

static int fdinfo_prog_type(int fd)
{
	char path[64], buf[1024];
	int f, type = -1;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "prog_type:");
	if (p)
		type = atoi(p + strlen("prog_type:"));
	return type;
}

/* A page whose next page is unmapped: for attrs and arrays that run off the map. */
static uint8_t *page_before_hole(void)
{
	uint8_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p + 4096, 4096);
	return p;
}

static void load_facts(int fd, struct bpfc_result *res)
{
	struct bpf_prog_info info;

	res->cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	res->fdinfo_type = fdinfo_prog_type(fd);
	if (bpft_info(fd, &info) == 0) {
		res->prog_id = info.id;
		res->created_by_uid = info.created_by_uid;
	}
}

/* Where the attr goes: after the bytes built, as the pointer mode and size want it. */
static uint8_t *place_attr(const struct bpfc_cmd *c, uint32_t size, const uint8_t *bytes,
			   uint8_t *page, uint8_t **ret_big)
{
	uint8_t *where = page + 4096 - 256;

	*ret_big = NULL;
	if (c->ptr == BPFC_PTR_ATTR_UNMAPPED)
		return page + 4096;
	if (c->ptr == BPFC_PTR_ATTR_CUT) {
		memcpy(page + 4096 - 100, bytes, 100); /* the rest runs into the hole */
		return page + 4096 - 100;
	}
	if (size > 256) {
		*ret_big = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		where = *ret_big;
	}
	memcpy(where, bytes, 256);
	if (c->poke_off > 0 && (uint32_t)c->poke_off < (size > 256 ? size : 256))
		where[c->poke_off] = 1;
	return where;
}

static long run_load(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	static char log[65536];
	uint32_t room = c->kind == BPFT_LINEAR ? c->n + 1 : 16;
	struct bpf_insn *insns = mmap(NULL, room * sizeof(*insns), PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t bytes[256] __attribute__((aligned(8))) = { 0 }, *page = page_before_hole(), *big;
	union bpf_attr *a = (union bpf_attr *)bytes;
	uint32_t size = c->size ? c->size : ATTR_DEFAULT_SIZE;
	uint8_t *where;
	long r;

	memset(log, 0, sizeof(log));
	a->prog_type = c->prog_type ? c->prog_type : BPF_PROG_TYPE_CGROUP_DEVICE;
	a->expected_attach_type = c->expected_attach_type;
	a->insn_cnt = bpft_build(c->kind, c->major, c->minor, c->n, insns);
	a->insns = (uintptr_t)insns;
	a->license = (uintptr_t)"GPL";
	a->log_level = c->log_level;
	a->log_size = c->log_size;
	a->log_buf = c->log_size ? (uintptr_t)log : 0;
	if (c->ptr == BPFC_PTR_INSNS_UNMAPPED)
		a->insns = (uintptr_t)(page + 4096);
	if (c->ptr == BPFC_PTR_LICENSE_UNMAPPED)
		a->license = (uintptr_t)(page + 4096);
	if (c->ptr == BPFC_PTR_LOG_UNMAPPED)
		a->log_buf = (uintptr_t)(page + 4096);
	where = place_attr(c, size, bytes, page, &big);
	r = bpft_sys(BPF_PROG_LOAD, where, size);
	if (r >= 0)
		load_facts((int)r, res);
	if (c->ptr != BPFC_PTR_ATTR_UNMAPPED && c->ptr != BPFC_PTR_ATTR_CUT)
		memcpy(&res->log_true_size, where + 140, sizeof(res->log_true_size));
	memcpy(res->log, log, sizeof(res->log) - 1);
	if (big)
		munmap(big, size);
	munmap(insns, room * sizeof(*insns));
	munmap(page, 4096);
	return r;
}

static long run_link(const struct bpfc_cmd *c, int target)
{
	return bpft_link_create(target, c->prog_fd,
				c->attach_type ? c->attach_type : BPF_CGROUP_DEVICE);
}

static long run_query(const struct bpfc_cmd *c, int target, struct bpfc_result *res)
{
	uint32_t ids[64] = { 0 };
	union bpf_attr a;
	long r;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)target;
	a.query.attach_type = c->attach_type ? c->attach_type : BPF_CGROUP_DEVICE;
	a.query.query_flags = c->query_flags;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = c->prog_cnt;
	r = bpft_sys(BPF_PROG_QUERY, &a, sizeof(a));
	res->prog_cnt = a.query.prog_cnt;
	res->attach_flags = a.query.attach_flags;
	memcpy(res->ids, ids, sizeof(res->ids));
	return r;
}

static long run_attach(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	int target = open_target(c);
	union bpf_attr a;
	long r;

	if (target < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)target;
	a.attach_bpf_fd = (uint32_t)c->prog_fd;
	a.attach_type = c->attach_type ? c->attach_type : BPF_CGROUP_DEVICE;
	a.attach_flags = c->flags;
	a.replace_bpf_fd = (uint32_t)c->replace_fd;
	if (c->op == BPFC_LINK)
		r = run_link(c, target);
	else if (c->op == BPFC_QUERY)
		r = run_query(c, target, res);
	else
		r = bpft_sys(c->op == BPFC_DETACH ? BPF_PROG_DETACH : BPF_PROG_ATTACH, &a, sizeof(a));
	if (c->target[0])
		close(target);
	if (r >= 0 && c->op == BPFC_LINK)
		res->cloexec = (fcntl((int)r, F_GETFD) & FD_CLOEXEC) != 0;
	return r;
}

static long run_open_dev(const struct bpfc_cmd *c)
{
	pid_t pid = fork();
	int status, fd;

	if (pid == 0) {
		char procs[200], me[16];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cgroup);
		snprintf(me, sizeof(me), "%d", getpid());
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, me, strlen(me)) < 0)
			_exit(200);
		fd = open(c->dev, O_RDONLY);
		_exit(fd < 0 ? errno : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -EIO;
	return -WEXITSTATUS(status);
}

static long set_caps(uint64_t eff)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	syscall(SYS_capget, &h, d);
	d[0].effective = (uint32_t)eff & d[0].permitted;
	d[1].effective = (uint32_t)(eff >> 32) & d[1].permitted;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* Attach over and over while a thread flips the attach type under the handler's feet. */
static long run_swap(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	static union bpf_attr swap_attr;
	int target = open_target(c);
	struct bpft_flipper f;

	memset(&swap_attr, 0, sizeof(swap_attr));
	swap_attr.target_fd = (uint32_t)target;
	swap_attr.attach_bpf_fd = (uint32_t)c->prog_fd;
	swap_attr.attach_type = BPF_CGROUP_DEVICE;
	swap_attr.attach_flags = BPF_F_ALLOW_MULTI;
	bpft_flip_start(&f, &swap_attr.attach_type, BPF_CGROUP_INET_EGRESS, BPF_CGROUP_DEVICE);
	for (int i = 0; i < c->iterations; i++) {
		long r = bpft_sys(BPF_PROG_ATTACH, &swap_attr, sizeof(swap_attr));

		res->n_ok += r == 0;
		res->n_eperm += r == -EPERM;
		res->n_other += r != 0 && r != -EPERM;
	}
	bpft_flip_stop(&f);
	close(target);
	return 0;
}

static void *load_thread(void *arg)
{
	const struct bpfc_cmd *c = arg;
	struct bpf_insn *insns = malloc((size_t)c->n * sizeof(*insns));
	long r = bpft_load(insns, bpft_build(BPFT_LINEAR, 0, 0, c->n, insns));

	if (r >= 0)
		close((int)r);
	free(insns);
	return (void *)r;
}

static long run_load_threads(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	pthread_t th[8];
	int n = c->iterations < 8 ? c->iterations : 8;

	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, load_thread, (void *)c);
	for (int i = 0; i < n; i++) {
		void *r;

		pthread_join(th[i], &r);
		res->n_ok += (long)r >= 0;
		res->n_eperm += (long)r == -EAGAIN;
		res->n_other += (long)r < 0 && (long)r != -EAGAIN;
	}
	return 0;
}

/* Load over and over while a thread flips the program type: what comes back, by type. */
static long run_swap_load(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	static struct bpf_insn insns[16];
	static union bpf_attr a;
	struct bpft_flipper f;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insn_cnt = bpft_build(BPFT_ALLOW_ALL, 0, 0, 0, insns);
	a.insns = (uintptr_t)insns;
	a.license = (uintptr_t)"GPL";
	bpft_flip_start(&f, &a.prog_type, BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_CGROUP_DEVICE);
	for (int i = 0; i < c->iterations; i++) {
		long r = bpft_sys(BPF_PROG_LOAD, &a, sizeof(a));

		if (r >= 0) {
			if (fdinfo_prog_type((int)r) == BPF_PROG_TYPE_CGROUP_DEVICE)
				res->n_ok++;
			else
				res->n_other++;
			close((int)r);
		} else {
			res->n_eperm += r == -EPERM;
		}
	}
	bpft_flip_stop(&f);
	return 0;
}

static long count_fds(void)
{
	long n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static long run_one(int sock, const struct bpfc_cmd *c, struct bpfc_result *res)
{
	int fd = -1;

	switch (c->op) {
	case BPFC_LOAD:
		return run_load(c, res);
	case BPFC_ATTACH:
	case BPFC_DETACH:
	case BPFC_LINK:
	case BPFC_QUERY:
		return run_attach(c, res);
	case BPFC_CLOSE:
		return close(c->prog_fd) < 0 ? -errno : 0;
	case BPFC_OPEN_DEV:
		return run_open_dev(c);
	case BPFC_CAPS:
		return set_caps(c->caps);
	case BPFC_TAKE_FD:
		return fdpass_recv(sock, &(char){ 0 }, 1, &fd, NULL) == 1 ? fd : -EIO;
	case BPFC_SWAP:
		return run_swap(c, res);
	case BPFC_SWAP_LOAD:
		return run_swap_load(c, res);
	case BPFC_COUNT_FDS:
		return count_fds();
	case BPFC_LOAD_THREADS:
		return run_load_threads(c, res);
	case BPFC_RUN:
		return c->run(c, res);
	default:
		_exit(0);
	}
}

/* As the policies trap them: the command's low 32 bits, native and compat architecture. */
static int install_filter(void)
{
	static const int cmds[] = { BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH,
				    BPF_PROG_QUERY, BPF_LINK_CREATE };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (seccomp_arch_native() == SCMP_ARCH_X86_64 && seccomp_arch_add(ctx, SCMP_ARCH_X86) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(bpf), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu,
					     (scmp_datum_t)cmds[i])) < 0)
			return -1;
	if (seccomp_load(ctx) < 0)
		return -1;
	return seccomp_notify_fd(ctx);
}

/* pid 1 of the new pid namespace: waits to be placed in its cgroups, then serves commands. */
static void container_init(int sock)
{
	struct bpfc_cmd c;
	char go;
	int fd;

	if (read(sock, &go, 1) != 1)
		_exit(3);
	fd = install_filter();
	if (fd < 0)
		_exit(4);
	fdpass_send(sock, "n", 1, &fd, 1);
	close(fd);
	while (read(sock, &c, sizeof(c)) == sizeof(c)) {
		struct bpfc_result res = { .fdinfo_type = -1 };

		res.ret = run_one(sock, &c, &res);
		if (write(sock, &res, sizeof(res)) != sizeof(res))
			break;
	}
	_exit(0);
}

/* ---------------- supervisor side ---------------- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return r;
}

int bpfc_move(const char *path, pid_t pid)
{
	char p[256], v[16];

	snprintf(p, sizeof(p), "%s/cgroup.procs", path);
	snprintf(v, sizeof(v), "%d", (int)pid);
	return write_str(p, v);
}

int bpfc_open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int bpfc_host_query(const char *path, uint32_t *ret_id, uint32_t *ret_flags)
{
	uint32_t ids[64] = { 0 }, cnt = 0;
	int fd = bpfc_open_dir(path);
	long r = bpft_query(fd, ids, 64, &cnt, ret_flags);

	close(fd);
	if (ret_id)
		*ret_id = ids[0];
	return r < 0 ? (int)r : (int)cnt;
}

int bpfc_host_load(int kind, unsigned major, unsigned minor)
{
	struct bpf_insn insns[16];

	return (int)bpft_load(insns, bpft_build(kind, major, minor, 0, insns));
}

/* The cgroup2 tree: ROOT/c (+ child, child/deep) delegated to the container's root, ROOT/host. */
static int make_cgroups(struct bpfc *b)
{
	const char *delegated[] = { b->c, b->child, b->deep };

	snprintf(b->root, sizeof(b->root), CG2 "/icd-bpf-test-%d", (int)getpid());
	snprintf(b->c, sizeof(b->c), "%s/c", b->root);
	snprintf(b->child, sizeof(b->child), "%s/child", b->c);
	snprintf(b->deep, sizeof(b->deep), "%s/deep", b->child);
	snprintf(b->host, sizeof(b->host), "%s/host", b->root);
	if (mkdir(b->root, 0755) < 0 || mkdir(b->c, 0755) < 0 || mkdir(b->child, 0755) < 0 ||
	    mkdir(b->deep, 0755) < 0 || mkdir(b->host, 0755) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(delegated) / sizeof(delegated[0]); i++) {
		char p[256];

		snprintf(p, sizeof(p), "%s/cgroup.procs", delegated[i]);
		if (chown(delegated[i], BPFC_HOST_ID, BPFC_HOST_ID) < 0 ||
		    chown(p, BPFC_HOST_ID, BPFC_HOST_ID) < 0)
			return -1;
	}
	b->memcg[0] = '\0';
	if (access(MEMCG "/tasks", F_OK) == 0) {
		snprintf(b->memcg, sizeof(b->memcg), MEMCG "/icd-bpf-test-%d", (int)getpid());
		if (mkdir(b->memcg, 0755) < 0)
			return -1;
	}
	return 0;
}

static int start_child(struct bpfc *b)
{
	int fd = -1;
	char tag;

	if (userns_child_start_init(container_init, &b->pid, &b->sock) < 0)
		return -1;
	if (fdpass_recv(b->sock, &b->init_pid, sizeof(b->init_pid), &fd, NULL) !=
	    sizeof(b->init_pid))
		return -1;
	/* the init's cgroups, as a runtime sets them before the container starts */
	if (bpfc_move(b->c, b->init_pid) < 0 || (b->memcg[0] && bpfc_move(b->memcg, b->init_pid) < 0))
		return -1;
	if (write(b->sock, "g", 1) != 1 || fdpass_recv(b->sock, &tag, 1, &fd, NULL) != 1)
		return -1;
	b->notify_fd = fd;
	return fd >= 0 ? 0 : -1;
}

struct bpfc bpfc_env;

static bool available(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP not root\n");
		return false;
	}
	if (access(CG2 "/cgroup.procs", F_OK) < 0) {
		printf("1..0 # SKIP no cgroup2 at " CG2 "\n");
		return false;
	}
	return true;
}

static int setup(struct bpfc *b)
{
	*b = (struct bpfc){ .sock = -1, .notify_fd = -1 };
	bpfc_set_devices(b, true);
	if (!b->cfg || make_cgroups(b) < 0 || start_child(b) < 0)
		return -1;
	return 0;
}

static void rm_cgroup(const char *path)
{
	char procs[256], line[32];
	FILE *f;

	/* anything left inside goes back to the root first */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "r");
	while (f && fgets(line, sizeof(line), f))
		(void)bpfc_move(strncmp(path, MEMCG, strlen(MEMCG)) == 0 ? MEMCG : CG2, atoi(line));
	if (f)
		fclose(f);
	(void)rmdir(path);
}

static void teardown(struct bpfc *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
	}
	/* the init dies with its namespace; its cgroups can go once it is reaped */
	for (int i = 0; b->init_pid > 0 && i < 50 && kill(b->init_pid, 0) == 0; i++)
		usleep(20000);
	if (!b->root[0])
		goto out;
	rm_cgroup(b->deep);
	rm_cgroup(b->child);
	rm_cgroup(b->c);
	rm_cgroup(b->host);
	rm_cgroup(b->root);
	if (b->memcg[0])
		rm_cgroup(b->memcg);
out:
	config_unref(b->cfg);
	if (b->notify_fd >= 0)
		close(b->notify_fd);
	if (b->sock >= 0)
		close(b->sock);
}

void bpfc_set_devices(struct bpfc *b, bool on)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_BPF] = "true",
						 [CONFIG_BPF_DEVICES] = on ? "true" : "false" };

	config_unref(b->cfg);
	b->cfg = NULL;
	(void)config_new(values, &b->cfg, NULL);
}

/* Answer @req with handle_bpf(); @cache: the listener's (NULL for a thread of its own). */
static bool serve_req(struct bpfc *b, const struct seccomp_notif *req, struct handler_cache *cache)
{
	struct seccomp_notif_resp resp;
	struct notif_reply reply = { .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	struct notif_ctx ctx = { .req = req, .notify_fd = b->notify_fd, .cfg = b->cfg,
				 .init_pid = b->init_pid, .proc_fd = -EBADF, .mem_fd = -EBADF,
				 .cache = cache, .may_answer = !b->is_lxc_like };

	if (handle_bpf(&ctx, &reply) < 0)
		reply = (struct notif_reply){ .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	if (reply.is_answered)
		return false; /* with the fd it installed, as the engine leaves it */
	resp = (struct seccomp_notif_resp){ .id = req->id, .val = reply.val, .error = reply.error,
					    .flags = reply.flags };
	if (notify_send(b->notify_fd, &resp) < 0)
		__atomic_add_fetch(&b->n_send_failed, 1, __ATOMIC_RELAXED);
	return (reply.flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE) != 0;
}

/* Serve one notification of the container @userdata (a struct bpfc). */
static void serve_one(void *userdata)
{
	struct bpfc *b = userdata;
	struct seccomp_notif req;

	if (notify_recv(b->notify_fd, &req) < 0)
		return;
	b->n_notif++;
	b->n_continue += serve_req(b, &req, &b->cache);
}

struct concurrent_job {
	struct bpfc *b;
	struct seccomp_notif req;
};

static void *serve_thread(void *arg)
{
	struct concurrent_job *j = arg;

	(void)serve_req(j->b, &j->req, NULL);
	return NULL;
}

struct bpfc_result bpfc_call_concurrent(struct bpfc *b, const struct bpfc_cmd *c, int n_concurrent)
{
	struct concurrent_job jobs[8];
	pthread_t th[8];
	struct bpfc_result res;

	assert_true(n_concurrent <= 8);
	assert_int_equal(write(b->sock, c, sizeof(*c)), sizeof(*c));
	for (int i = 0; i < n_concurrent; i++) {
		struct pollfd p = { .fd = b->notify_fd, .events = POLLIN };

		assert_true(poll(&p, 1, 10000) == 1);
		jobs[i].b = b;
		assert_int_equal(notify_recv(b->notify_fd, &jobs[i].req), 0);
	}
	for (int i = 0; i < n_concurrent; i++)
		pthread_create(&th[i], NULL, serve_thread, &jobs[i]);
	for (int i = 0; i < n_concurrent; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(read(b->sock, &res, sizeof(res)), sizeof(res));
	return res;
}

struct bpfc_result bpfc_call(struct bpfc *b, const struct bpfc_cmd *c)
{
	struct bpfc_result res = { .ret = -9999 };

	b->n_notif = b->n_continue = 0;
	assert_true(userns_child_call(b->sock, b->notify_fd, c, sizeof(*c), &res, sizeof(res),
				      60000, serve_one, b));
	return res;
}

long bpfc_open_dev(struct bpfc *b, const char *cgroup, const char *dev)
{
	struct bpfc_cmd c = { .op = BPFC_OPEN_DEV };

	snprintf(c.cgroup, sizeof(c.cgroup), "%s", cgroup);
	snprintf(c.dev, sizeof(c.dev), "%s", dev);
	return bpfc_call(b, &c).ret;
}

int bpfc_give_fd(struct bpfc *b, int fd)
{
	struct bpfc_cmd c = { .op = BPFC_TAKE_FD };
	struct pollfd p = { .fd = b->sock, .events = POLLIN };
	struct bpfc_result res;

	assert_int_equal(write(b->sock, &c, sizeof(c)), sizeof(c));
	assert_true(fdpass_send(b->sock, "f", 1, &fd, 1) == 1);
	assert_true(poll(&p, 1, 10000) == 1);
	assert_int_equal(read(b->sock, &res, sizeof(res)), sizeof(res));
	return (int)res.ret;
}

static int group_setup(void **state)
{
	(void)state;
	return setup(&bpfc_env) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	teardown(&bpfc_env);
	return 0;
}

int bpfc_run_group(const struct CMUnitTest *tests, size_t n)
{
	if (!available())
		return 77;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return _cmocka_run_group_tests("tests", tests, n, group_setup, group_teardown);
}
