/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driving interceptd from the bench: a pre-written state file (registering
 * thousands of containers through the API would fsync each one), start and
 * stop by PID, libcurl over the API socket, and /proc readings of the daemon.
 * Also the small time and process helpers. Called from the bench's only
 * thread.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "bench.h"

/* ------------------------------------------------------------------ misc */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
			       .tv_nsec = (long)(ns % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

int wait_or_kill(pid_t pid, int timeout_ms, int *ret_status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), st = 0, r = 0;
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd >= 0) {
		while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
			;
		close(pfd);
		if (!(p.revents & POLLIN)) {
			(void)kill(pid, SIGKILL);
			r = 1;
		}
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return NEG_ERRNO();
	if (ret_status)
		*ret_status = st;
	return r;
}

/* ------------------------------------------------------------------ state files */

/* STATE_DIR/containers/NAME.json, the daemon's layout (not fsynced: a bench fixture). */
static int container_file_write(const char *dir, const char *name, const char *key,
				const char *more, long long created, unsigned long long etag)
{
	char path[600];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	f = fopen(path, "we");
	if (!f)
		return NEG_ERRNO();
	fprintf(f, "{\"version\":1,\"container\":{\"name\":\"%s\",\"created_at\":%lld,"
		   "\"revision\":0,\"etag\":\"%016llx\",\"config\":{",
		name, created, etag);
	if (key)
		fprintf(f, "\"%s\":\"true\"", key);
	if (more)
		fprintf(f, "%s%s", key ? "," : "", more);
	fprintf(f, "}}}\n");
	return fclose(f) == 0 ? 0 : NEG_ERRNO();
}

int state_write(const char *state_dir, const struct container_def *defs, size_t n_defs,
		unsigned n_fill)
{
	char dir[520];
	long long now = (long long)time(NULL);
	unsigned long long etag = 0x1cedbe0c00000000ULL;

	(void)snprintf(dir, sizeof(dir), "%s/containers", state_dir);
	if ((mkdir(state_dir, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return NEG_ERRNO();
	for (size_t i = 0; i < n_defs + n_fill; i++) {
		char fill[32];
		int r;

		(void)snprintf(fill, sizeof(fill), "fill-%05zu", i - n_defs);
		r = container_file_write(dir, i < n_defs ? defs[i].name : fill,
					 i < n_defs ? defs[i].key : NULL,
					 i < n_defs ? defs[i].more : NULL, now, etag++);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------ daemon */

int daemon_start(struct daemon_run *d, const char *bin, const char *dir, unsigned workers)
{
	char wbuf[16];
	uint64_t deadline;
	struct stat st;
	int status;

	*d = (struct daemon_run){ .pid = -1, .workers = workers };
	(void)snprintf(d->dir, sizeof(d->dir), "%s", dir);
	(void)snprintf(d->api, sizeof(d->api), "%s/api.sock", dir);
	(void)snprintf(d->oci, sizeof(d->oci), "%s/oci.sock", dir);
	(void)snprintf(d->lxc, sizeof(d->lxc), "%s/lxc.sock", dir);
	(void)snprintf(d->state_dir, sizeof(d->state_dir), "%s/state", dir);
	(void)snprintf(d->log, sizeof(d->log), "%s/daemon.log", dir);
	(void)snprintf(wbuf, sizeof(wbuf), "%u", workers);
	if (access(bin, X_OK) < 0)
		return NEG_ERRNO();
	d->pid = fork();
	if (d->pid < 0)
		return NEG_ERRNO();
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd >= 0) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		/* a bench that dies must not leave its daemons running */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(bin, bin, "--api-socket", d->api, "--lxc-socket", d->lxc, "--oci-socket",
		      d->oci, "--state-dir", d->state_dir, "--workers", wbuf, "--log-level",
		      "warning", (char *)NULL);
		_exit(127);
	}
	/* all sockets are bound before the API and engine start: wait for the last one */
	deadline = now_ns() + 10000000000ULL;
	while (stat(d->oci, &st) < 0) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return -ECHILD;
		}
		if (now_ns() > deadline) {
			daemon_stop(d);
			return -ETIMEDOUT;
		}
		sleep_ns(2000000);
	}
	return 0;
}

void daemon_stop(struct daemon_run *d)
{
	if (d->curl) {
		curl_easy_cleanup(d->curl);
		d->curl = NULL;
	}
	if (d->pid > 0) {
		(void)kill(d->pid, SIGTERM);
		(void)wait_or_kill(d->pid, 10000, NULL);
	}
	d->pid = -1;
}

void daemon_log_tail(const struct daemon_run *d)
{
	char line[512];
	long pos;
	FILE *f = fopen(d->log, "re");

	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (pos = ftell(f)) > 2048)
		(void)fseek(f, pos - 2048, SEEK_SET);
	else
		rewind(f);
	fprintf(stderr, "---- %s (tail)\n", d->log);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

/* ------------------------------------------------------------------ API */

struct body {
	char *data;
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;
	char *p = realloc(b->data, b->len + n + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->len += n;
	p[b->len] = '\0';
	b->data = p;
	return n;
}

int api_request(struct daemon_run *d, const char *method, const char *path, const char *body,
		int timeout_ms, long *ret_status, uint64_t *ret_ns, char **ret_body)
{
	struct body b = { 0 };
	struct curl_slist *hdr = NULL;
	char url[512];
	uint64_t t0;
	CURLcode rc;
	CURL *c;

	if (!d->curl && !(d->curl = curl_easy_init()))
		return -ENOMEM;
	c = d->curl;
	curl_easy_reset(c);
	(void)snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->api);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	t0 = now_ns();
	rc = curl_easy_perform(c);
	if (ret_ns)
		*ret_ns = now_ns() - t0;
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		free(b.data);
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
	if (ret_body)
		*ret_body = b.data;
	else
		free(b.data);
	return 0;
}

/* ------------------------------------------------------------------ /proc */

/*
 * cutime+cstime of @pid in ns: the CPU of the children it has waited for (the
 * daemon's mount helpers). The kernel exports them only in clock ticks.
 */
static int children_cpu_ns(pid_t pid, uint64_t *ret)
{
	char path[64], buf[2048], *p;
	unsigned long long cut, cst;
	long hz = sysconf(_SC_CLK_TCK);
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NEG_ERRNO();
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may contain spaces */
	/* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime(14) stime(15) cutime(16) cstime(17) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %llu %llu",
			 &cut, &cst) != 2)
		return -EIO;
	*ret = (cut + cst) * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
	return 0;
}

/*
 * The process's CPU clock: every thread's runtime in ns, as precise as the
 * floor's from wait4(). (utime+stime of /proc/PID/stat come in 10 ms clock
 * ticks: 1-2 % of a round.) Plus its reaped children's, which come only in
 * ticks; of the latency cases only mount and bpf have such children.
 */
int proc_cpu_ns(pid_t pid, uint64_t *ret)
{
	struct timespec ts;
	clockid_t clock;
	uint64_t children;
	int r;

	r = clock_getcpuclockid(pid, &clock);
	if (r != 0)
		return -r;
	if (clock_gettime(clock, &ts) < 0)
		return NEG_ERRNO();
	r = children_cpu_ns(pid, &children);
	if (r < 0)
		return r;
	*ret = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + children;
	return 0;
}

int proc_rss_kib(pid_t pid, uint64_t *ret)
{
	char path[64], line[256];
	unsigned long long kib;
	FILE *f;
	int r = -ENOENT;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return NEG_ERRNO();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1) {
			*ret = kib;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}
