/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Many attached listeners at little cost for the memory case: one forked
 * holder process whose threads each install their own notify filter (no
 * TSYNC, so a filter covers only its thread), hand the listener to interceptd
 * over the OCI socket, prove it is served with one trapped sysinfo, then
 * sleep until the parent kills the holder.
 */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/un.h>

#include "bench.h"

struct holder {
	struct shm *shm;
	const char *oci_path;
	const struct sock_fprog *prog;
	unsigned first;  /* container fill-NNNNN of thread 0 */
	int park_fd;     /* read end of a pipe nobody writes: threads park on it */
};

struct holder_thread {
	struct holder *h;
	unsigned idx;
};

static void *holder_thread_main(void *arg)
{
	struct holder_thread *t = arg;
	struct shm *shm = t->h->shm;
	char name[32];
	struct sysinfo si;
	int listener, conn;
	char c;

	(void)snprintf(name, sizeof(name), "fill-%05u", t->h->first + t->idx);
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER, t->h->prog);
	if (listener < 0)
		goto fail;
	conn = oci_handoff(t->h->oci_path, name, getpid(), listener);
	close(listener);
	if (conn < 0)
		goto fail;
	if (sysinfo(&si) < 0) /* blocks until interceptd serves this listener */
		goto fail;
	atomic_fetch_add(&shm->ready, 1);
	for (;;)
		if (read(t->h->park_fd, &c, 1) >= 0 || errno != EINTR)
			pause();
fail:
	atomic_fetch_add(&shm->failed, 1);
	return NULL;
}

static _Noreturn void holder_main(struct holder *h, unsigned n)
{
	static struct holder_thread threads[MAX_LISTENERS];
	pthread_attr_t attr;
	pthread_t tid;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (unsigned i = 0; i < n; i++) {
		threads[i] = (struct holder_thread){ .h = h, .idx = i };
		if (pthread_create(&tid, &attr, holder_thread_main, &threads[i]) != 0)
			atomic_fetch_add(&h->shm->failed, 1);
	}
	for (;;)
		pause();
}

int holder_start(struct shm *shm, const char *oci_path, unsigned n, unsigned first_fill,
		 int timeout_ms, pid_t *ret_pid)
{
	struct holder h = { .shm = shm, .oci_path = oci_path, .prog = filter_sysinfo(),
			    .first = first_fill };
	uint64_t deadline;
	int park[2];
	pid_t pid;

	if (n > MAX_LISTENERS)
		return -EINVAL;
	atomic_store(&shm->ready, 0);
	atomic_store(&shm->failed, 0);
	if (pipe2(park, O_CLOEXEC) < 0)
		return NEG_ERRNO();
	h.park_fd = park[0];
	pid = fork();
	if (pid < 0)
		return NEG_ERRNO();
	if (pid == 0)
		holder_main(&h, n);
	close(park[0]);
	close(park[1]);
	*ret_pid = pid;
	deadline = now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	while ((unsigned)atomic_load(&shm->ready) + (unsigned)atomic_load(&shm->failed) < n) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		sleep_ns(2000000);
	}
	return atomic_load(&shm->failed) ? -EPROTO : 0;
}
