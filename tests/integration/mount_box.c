/* SPDX-License-Identifier: Apache-2.0 */
/* The user-namespace "container" of the mount tests; see mount_box.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
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
#include <time.h>
#include <unistd.h>

#include "daemon/engine/notify.h"
#include "handlers/handler.h"
#include "tests/integration/caps.h"
#include "tests/integration/fdpass.h"
#include "tests/integration/mount_box.h"
#include "tests/integration/userns_child.h"
#include "tests/integration/userns_skip.h"

#define MIB (1024 * 1024)

/* ---------------- inside the box ---------------- */

static struct box_result *op_result; /* MAP_SHARED: filled by each command's process */

static const void *pointer(enum box_ptr how, const char *s)
{
	static char *mib;

	switch (how) {
	case BOX_PTR_NULL:
		return NULL;
	case BOX_PTR_BAD:
		return (const void *)(uintptr_t)0x10; /* never mapped */
	case BOX_PTR_MIB:
		if (!mib) {
			mib = malloc(MIB);
			if (mib)
				memset(mib, 'A', MIB);
		}
		return mib;
	default:
		return s;
	}
}

/* Drop @bounding from the bounding set, then @bounding and @permitted from the other sets. */
static int drop_caps(uint64_t bounding, uint64_t permitted)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];
	const uint64_t drop = bounding | permitted;

	for (int cap = 0; cap < 64; cap++)
		if ((bounding >> cap) & 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	if (syscall(SYS_capget, &hdr, caps) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const uint32_t keep = ~(uint32_t)(drop >> (32 * i));

		caps[i].effective &= keep;
		caps[i].permitted &= keep;
		caps[i].inheritable &= keep;
	}
	return (int)syscall(SYS_capset, &hdr, caps);
}

static int do_mount(const struct box_cmd *c, struct box_result *res)
{
	if (c->op == BOX_MOUNT_NOCAP && caps_drop(CAP_SYS_ADMIN) < 0)
		return -1;
	if (c->op == BOX_MOUNT_FEWER_CAPS &&
	    (drop_caps(c->drop_bounding, c->drop_permitted) < 0 ||
	     box_read_caps("/proc/self/status", &res->caps) < 0))
		return -1;
	return mount(pointer(c->source_ptr, c->source), pointer(c->target_ptr, c->target),
		     c->type[0] ? c->type : NULL, c->flags, pointer(c->data_ptr, c->data));
}

static int run_op(const struct box_cmd *c, struct box_result *res)
{
	struct stat st;
	int fd;

	switch (c->op) {
	case BOX_MOUNT:
	case BOX_MOUNT_NOCAP:
	case BOX_MOUNT_FEWER_CAPS:
		return do_mount(c, res);
	case BOX_UMOUNT:
		return umount2(c->target, 0);
	case BOX_MKDIR:
		return mkdir(c->target, 0755);
	case BOX_CREATE:
		fd = open(c->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		return fd < 0 ? -1 : close(fd);
	case BOX_SYMLINK:
		return symlink(c->source, c->target);
	case BOX_STAT:
		if (stat(c->target, &st) < 0)
			return -1;
		res->uid = st.st_uid;
		res->gid = st.st_gid;
		res->mode = st.st_mode;
		return 0;
	case BOX_OPEN:
		fd = open(c->target, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		return fd < 0 ? -1 : close(fd);
	default:
		errno = EINVAL;
		return -1;
	}
}

static void serve_commands(int sock)
{
	struct box_cmd c;

	while (read(sock, &c, sizeof(c)) == sizeof(c)) {
		pid_t pid = fork();

		if (pid == 0) {
			*op_result = (struct box_result){ 0 };
			errno = 0;
			op_result->ret = run_op(&c, op_result);
			op_result->err = op_result->ret < 0 ? errno : 0;
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			*op_result = (struct box_result){ .ret = -1, .err = ECHILD };
		/* as an init does: reap what was adopted (a FUSE daemon killed by a test) */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (write(sock, op_result, sizeof(*op_result)) != sizeof(*op_result))
			break;
	}
}

/* The box's mounts: its root, proc, then pivot_root onto that root. */
static int make_root(const char *root)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(root, root, NULL, MS_BIND, NULL) < 0 || chdir(root) < 0 ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -1;
	return 0;
}

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	/* every mount(2), not only the policy's: the handler's own dispatch is under test */
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mount), 0) < 0 ||
	    seccomp_load(ctx) < 0)
		return -1;
	return seccomp_notify_fd(ctx);
}

static const char *box_root; /* for box_main(), set before the fork */

static void box_main(int sock, int sync_fd)
{
	int listener;

	op_result = mmap(NULL, sizeof(*op_result), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (op_result == MAP_FAILED)
		_exit(77);
	userns_child_enter_init(sync_fd);
	if (make_root(box_root) < 0)
		_exit(77);
	listener = install_filter();
	if (listener < 0 || fdpass_send(sock, "f", 1, &listener, 1) != 1)
		_exit(4);
	close(listener);
	serve_commands(sock);
	_exit(0);
}

/* ---------------- the supervisor ---------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void answer_one(struct box *b)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct notif_reply reply;
	struct notif_ctx ctx = { .req = &req, .notify_fd = b->notify_fd, .cfg = b->cfg,
				 .init_pid = b->init, .proc_fd = -EBADF, .mem_fd = -EBADF };
	uint64_t start;

	if (notify_recv(b->notify_fd, &req) < 0)
		return;
	start = now_ns();
	b->last_r = handle_mount(&ctx, &reply);
	if (now_ns() - start > b->max_handle_ns)
		b->max_handle_ns = now_ns() - start;
	if (b->last_r < 0)
		reply_continue(&reply);
	b->last_flags = reply.flags;
	resp = (struct seccomp_notif_resp){ .id = req.id, .val = reply.val, .error = reply.error,
					    .flags = reply.flags };
	(void)notify_send(b->notify_fd, &resp);
}

bool box_run(struct box *b, const struct box_cmd *c, struct box_result *res)
{
	struct pollfd p[2] = { { .fd = b->notify_fd, .events = POLLIN },
			       { .fd = b->sock, .events = POLLIN } };

	b->last_flags = UINT32_MAX;
	b->last_r = 0;
	b->max_handle_ns = 0;
	if (write(b->sock, c, sizeof(*c)) != sizeof(*c))
		return false;
	for (;;) {
		if (poll(p, 2, 20000) <= 0)
			return false;
		if (p[0].revents & POLLIN)
			answer_one(b);
		if (p[1].revents & POLLIN)
			return read(b->sock, res, sizeof(*res)) == sizeof(*res);
	}
}

void box_config(struct box *b, ...)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MOUNT] = "true" };
	struct config *cfg = NULL;
	va_list ap;
	int key;

	va_start(ap, b);
	while ((key = va_arg(ap, int)) >= 0)
		values[key] = va_arg(ap, const char *);
	va_end(ap);
	if (config_new(values, &cfg, NULL) < 0)
		abort();
	config_unref(b->cfg);
	b->cfg = cfg;
}

int box_write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int box_start(struct box *b, int (*prepare_root)(const char *root))
{
	char c;

	*b = (struct box){ .sock = -1, .notify_fd = -1 };
	snprintf(b->tmp, sizeof(b->tmp), "/tmp/interceptd-mount.XXXXXX");
	if (!mkdtemp(b->tmp) || chmod(b->tmp, 0755) < 0)
		return -1;
	snprintf(b->root, sizeof(b->root), "%s/root", b->tmp);
	if (mkdir(b->root, 0755) < 0 || chown(b->root, BOX_HOST_ID, BOX_HOST_ID) < 0 ||
	    prepare_root(b->root) < 0)
		return -1;
	box_config(b, -1);
	box_root = b->root;
	if (userns_child_start_with_init(box_main, &b->child, &b->init, &b->sock) < 0)
		return -1;
	return fdpass_recv(b->sock, &c, 1, &b->notify_fd, NULL) == 1 && b->notify_fd >= 0 ? 0 : -1;
}

void box_stop(struct box *b)
{
	char cmd[160];

	userns_child_stop(b->child, b->init);
	config_unref(b->cfg);
	b->cfg = NULL;
	/* the box's mounts died with its mount namespace */
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", b->tmp);
	if (b->tmp[0] && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", b->tmp);
}

struct box_cmd box_mount_cmd(const char *source, const char *target, const char *type,
			     uint64_t flags, const char *data)
{
	struct box_cmd c = { .op = BOX_MOUNT, .flags = flags,
			     .source_ptr = source ? BOX_PTR_STRING : BOX_PTR_NULL,
			     .data_ptr = data ? BOX_PTR_STRING : BOX_PTR_NULL };

	snprintf(c.source, sizeof(c.source), "%s", source ? source : "");
	snprintf(c.target, sizeof(c.target), "%s", target);
	snprintf(c.type, sizeof(c.type), "%s", type ? type : "");
	snprintf(c.data, sizeof(c.data), "%s", data ? data : "");
	return c;
}

void box_mount_options(const struct box *b, const char *target, char *buf, size_t size)
{
	char path[64], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)b->init);
	f = fopen(path, "re");
	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char point[256], opts[256], type[64], sopts[256];

		if (sscanf(line, "%*s %*s %*s %*s %255s %255s%*[^-]- %63s %*s %255s", point, opts,
			   type, sopts) == 4 &&
		    strcmp(point, target) == 0)
			(void)!snprintf(buf, size, "%.63s %.200s %.200s", type, opts, sopts);
	}
	if (f)
		fclose(f);
}

int box_read_caps(const char *status_path, struct box_caps *ret)
{
	static const char *const keys[] = { "CapEff:", "CapPrm:", "CapInh:", "CapBnd:", "CapAmb:" };
	uint64_t *const sets[] = { &ret->eff, &ret->prm, &ret->inh, &ret->bnd, &ret->amb };
	unsigned found = 0;
	char line[256];
	FILE *f = fopen(status_path, "re");

	while (f && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0 &&
			    sscanf(line + strlen(keys[i]), "%" SCNx64, sets[i]) == 1)
				found |= 1u << i;
	if (f)
		fclose(f);
	return found == (1u << 5) - 1 ? 0 : -1;
}

int box_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

void box_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

int box_attach_loop(const char *file, char *loop, size_t size, dev_t *ret_rdev)
{
	char cmd[300];
	struct stat st;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s'", file);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(loop, (int)size, p)) {
		pclose(p);
		return -1;
	}
	pclose(p);
	loop[strcspn(loop, "\n")] = '\0';
	if (stat(loop, &st) < 0)
		return -1;
	*ret_rdev = st.st_rdev;
	return 0;
}

int box_images_init(struct box_images *im, const char *name)
{
	*im = (struct box_images){ 0 };
	snprintf(im->dir, sizeof(im->dir), "/tmp/interceptd-%s.XXXXXX", name);
	return mkdtemp(im->dir) ? 0 : -1;
}

int box_images_attach(struct box_images *im, int i, const char *file)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", im->dir, file);
	return box_attach_loop(path, im->loop[i], sizeof(im->loop[i]), &im->rdev[i]);
}

int box_images_remove(struct box_images *im)
{
	for (int i = 0; i < BOX_IMAGES_MAX; i++)
		if (im->loop[i][0])
			(void)box_sh("losetup -d %s", im->loop[i]);
	return box_sh("rm -rf --one-file-system '%s'", im->dir);
}

int box_join_cgroup(const struct box *b, const char *cg)
{
	return box_sh("echo %d > %s/cgroup.procs && echo %d > %s/cgroup.procs", (int)b->child, cg,
		      (int)b->init, cg);
}

bool box_tests_can_run(const char **ret_fake_fuse)
{
	if (!userns_tests_can_run())
		return false;
	*ret_fake_fuse = getenv("MOUNT_FAKE_FUSE");
	if (system("command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null") != 0 ||
	    !*ret_fake_fuse) {
		printf("1..0 # SKIP needs mkfs.ext4, losetup and MOUNT_FAKE_FUSE\n");
		return false;
	}
	return true;
}
