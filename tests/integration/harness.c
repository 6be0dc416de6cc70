/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration-test harness (see harness.h). Single-threaded test processes;
 * libcurl with CURLOPT_UNIX_SOCKET_PATH and CURLOPT_NOSIGNAL.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

void http_reply_free(struct http_reply *r)
{
	if (!r)
		return;
	free(r->data);
	json_decref(r->body);
	free(r->etag);
	free(r->location);
	free(r->allow);
	free(r->content_type);
	free(r->warnings);
	free(r);
}

int harness_init(struct harness *h)
{
	const char *tmp = getenv("TMPDIR");

	*h = (struct harness){ 0 };
	snprintf(h->dir, sizeof(h->dir), "%s/interceptd-test.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(h->dir))
		return negative_errno();
	snprintf(h->api_socket, sizeof(h->api_socket), "%s/api.sock", h->dir);
	snprintf(h->lxc_socket, sizeof(h->lxc_socket), "%s/lxc.sock", h->dir);
	snprintf(h->oci_socket, sizeof(h->oci_socket), "%s/oci.sock", h->dir);
	snprintf(h->state_dir, sizeof(h->state_dir), "%s/state", h->dir);
	snprintf(h->log_path, sizeof(h->log_path), "%s/daemon.log", h->dir);
	return 0;
}

static void exec_daemon(const struct harness *h, const char *const *extra)
{
	const char *bin = getenv("INTERCEPTD_BIN");
	const char *argv[64] = { bin, "--api-socket", h->api_socket, "--lxc-socket", h->lxc_socket,
				 "--oci-socket", h->oci_socket, "--state-dir", h->state_dir,
				 "--workers", "1" };
	size_t n = 11;
	int fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	for (; extra && *extra && n < 62; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	/* a test that dies or fails an assertion must not leave its daemon running */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (h->pass_fd_name) {
		char pid[16];

		if (h->pass_fd != 3 && dup2(h->pass_fd, 3) < 0)
			_exit(126);
		(void)fcntl(3, F_SETFD, 0);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_FDNAMES", h->pass_fd_name, 1);
	}
	if (h->before_exec)
		h->before_exec(h->before_exec_data);
	execv(bin, (char *const *)argv);
	_exit(127);
}

int harness_spawn(struct harness *h, const char *const *extra_args)
{
	pid_t pid;

	if (!getenv("INTERCEPTD_BIN"))
		return -ENOENT;
	pid = fork();
	if (pid < 0)
		return negative_errno();
	if (pid == 0)
		exec_daemon(h, extra_args);
	h->pid = pid;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool reap_nohang(struct harness *h)
{
	int status;

	if (h->pid > 0 && waitpid(h->pid, &status, WNOHANG) == h->pid) {
		h->exit_status = status;
		h->pid = 0;
		return true;
	}
	return h->pid == 0;
}

int harness_wait_ready(struct harness *h, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		struct http_reply *rep = NULL;
		bool ok;

		if (reap_nohang(h))
			return -ECHILD;
		ok = http_request(h->api_socket, "GET", "/1.0", NULL, 0, NULL, &rep) == 0 &&
		     rep->status == 200;
		http_reply_free(rep);
		if (ok)
			return 0;
		usleep(20 * 1000);
	}
	return -ETIMEDOUT;
}

int harness_start(struct harness *h, const char *const *extra_args)
{
	int r = harness_spawn(h, extra_args);

	if (r >= 0)
		r = harness_wait_ready(h, 10000);
	if (r < 0) {
		fprintf(stderr, "# daemon did not become ready (%d)\n", r);
		(void)harness_stop(h, SIGKILL);
		harness_dump_log(h);
	}
	return r;
}

int harness_wait_exit(struct harness *h, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (reap_nohang(h))
			return 0;
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

int harness_stop(struct harness *h, int sig)
{
	int status;

	if (h->pid <= 0)
		return -ECHILD;
	(void)kill(h->pid, sig);
	if (harness_wait_exit(h, 10000) < 0) {
		(void)kill(h->pid, SIGKILL);
		(void)waitpid(h->pid, &status, 0);
		h->exit_status = status;
		h->pid = 0;
	}
	return h->exit_status;
}

void harness_dump_log(const struct harness *h)
{
	_cleanup_free_ char *log = harness_read_file(h->log_path, NULL);

	fprintf(stderr, "# ---- daemon log %s ----\n%s# ---- end of daemon log ----\n",
		h->log_path, log ? log : "(none)\n");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void harness_cleanup(struct harness *h)
{
	if (h->pid > 0)
		(void)harness_stop(h, SIGKILL);
	if (h->dir[0] && !getenv("HARNESS_KEEP"))
		(void)nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *harness_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		char *p = realloc(buf, size + 65536 + 1);

		if (!p) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = p;
		n = fread(buf + size, 1, 65536, f);
		size += n;
		if (n < 65536)
			break;
	}
	fclose(f);
	buf[size] = '\0';
	if (ret_len)
		*ret_len = size;
	return buf;
}

char *harness_fixture(const char *name)
{
	const char *dir = getenv("FIXTURES_DIR");
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	return harness_read_file(path, NULL);
}

const char *reply_str(const struct http_reply *r, const char *key)
{
	return json_string_value(json_object_get(r->body, key));
}

json_t *reply_meta(const struct http_reply *r)
{
	return json_object_get(r->body, "metadata");
}

struct sink {
	struct http_reply *rep;
	size_t cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (s->rep->len + n + 1 > s->cap) {
		size_t cap = (s->rep->len + n + 1) * 2;
		char *p = realloc(s->rep->data, cap);

		if (!p)
			return 0;
		s->rep->data = p;
		s->cap = cap;
	}
	memcpy(s->rep->data + s->rep->len, ptr, n);
	s->rep->len += n;
	s->rep->data[s->rep->len] = '\0';
	return n;
}

/* Every Warning header, one per line. */
static void append_warning(struct http_reply *rep, const char *value, size_t len)
{
	char *joined = NULL;

	if (asprintf(&joined, "%s%.*s\n", rep->warnings ? rep->warnings : "", (int)len, value) < 0)
		return;
	free(rep->warnings);
	rep->warnings = joined;
}

/* Keep the headers the tests look at, without the quotes' surroundings trimmed. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct http_reply *rep = userdata;
	size_t n = size * nitems, len = n;
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{ "etag:", offsetof(struct http_reply, etag) },
		{ "location:", offsetof(struct http_reply, location) },
		{ "allow:", offsetof(struct http_reply, allow) },
		{ "content-type:", offsetof(struct http_reply, content_type) },
	};

	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
		len--;
	if (len > 8 && strncasecmp(buf, "warning:", 8) == 0)
		append_warning(rep, buf + 9, len - 9);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		size_t k = strlen(wanted[i].name);
		char **slot = (char **)((char *)rep + wanted[i].offset);

		if (len < k || strncasecmp(buf, wanted[i].name, k) != 0)
			continue;
		free(*slot);
		*slot = strndup(buf + k + strspn(buf + k, " "), len - k - strspn(buf + k, " "));
	}
	return n;
}

static int perform(CURL *c, struct http_reply *rep)
{
	CURLcode cr = curl_easy_perform(c);

	if (cr != CURLE_OK) {
		if (getenv("HARNESS_VERBOSE"))
			fprintf(stderr, "# curl: %s\n", curl_easy_strerror(cr));
		return cr == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rep->status);
	if (rep->data && rep->content_type && strstr(rep->content_type, "application/json"))
		rep->body = json_loadb(rep->data, rep->len, 0, NULL);
	return 0;
}

int http_request(const char *socket_path, const char *method, const char *path,
		 const char *body, size_t body_len, const char *const *headers,
		 struct http_reply **ret)
{
	struct http_reply *rep = calloc(1, sizeof(*rep));
	struct sink sink = { .rep = rep };
	struct curl_slist *list = NULL;
	char url[1024];
	CURL *c = curl_easy_init();
	int r;

	if (!rep || !c) {
		free(rep);
		curl_easy_cleanup(c);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", socket_path ? "http://localhost" : "", path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (socket_path)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	/* HEAD: headers only, which curl must know or it waits for the body */
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rep);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	if (body && strcmp(method, "GET") != 0)
		list = curl_slist_append(list, "Content-Type: application/json");
	for (; headers && *headers; headers++)
		list = curl_slist_append(list, *headers);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	r = perform(c, rep);
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	if (r < 0) {
		http_reply_free(rep);
		return r;
	}
	*ret = rep;
	return 0;
}

int harness_request_h(struct harness *h, const char *method, const char *path, const char *body,
		      const char *const *headers, struct http_reply **ret)
{
	return http_request(h->api_socket, method, path, body, body ? strlen(body) : 0, headers,
			    ret);
}

int harness_request(struct harness *h, const char *method, const char *path, const char *body,
		    struct http_reply **ret)
{
	return harness_request_h(h, method, path, body, NULL, ret);
}

static bool has_envelope(const struct http_reply *r)
{
	static const char *const keys[] = { "type", "status", "status_code", "operation",
					     "error_code", "error", "metadata" };

	if (!json_is_object(r->body) || json_object_size(r->body) != 7)
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(r->body, keys[i]))
			return false;
	return strcmp(json_string_value(json_object_get(r->body, "operation")) ?: "x", "") == 0;
}

bool reply_is_error(const struct http_reply *r, long status, const char *needle)
{
	const char *msg = reply_str(r, "error");
	bool ok = r->status == status && has_envelope(r) &&
		  strcmp(reply_str(r, "type") ?: "", "error") == 0 &&
		  json_integer_value(json_object_get(r->body, "error_code")) == status &&
		  msg && (!needle || strstr(msg, needle));

	if (!ok)
		fprintf(stderr, "# expected error %ld '%s', got %ld: %s\n", status,
			needle ? needle : "", r->status, r->data ? r->data : "(no body)");
	return ok;
}

bool reply_is_sync(const struct http_reply *r, long status)
{
	bool ok = r->status == status && has_envelope(r) &&
		  strcmp(reply_str(r, "type") ?: "", "sync") == 0 &&
		  json_integer_value(json_object_get(r->body, "error_code")) == 0;

	if (!ok)
		fprintf(stderr, "# expected sync %ld, got %ld: %s\n", status, r->status,
			r->data ? r->data : "(no body)");
	return ok;
}

int harness_count_containers(struct harness *h)
{
	struct http_reply *rep = NULL;
	int n = -1;

	if (harness_request(h, "GET", "/1.0/containers", NULL, &rep) == 0 && rep->status == 200)
		n = (int)json_array_size(reply_meta(rep));
	http_reply_free(rep);
	return n;
}

int harness_main_setup(struct harness *h, const char *const *extra_args)
{
	int r;

	if (!getenv("INTERCEPTD_BIN")) {
		fprintf(stderr, "# INTERCEPTD_BIN is not set, skipping\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = harness_init(h);
	if (r >= 0)
		r = harness_start(h, extra_args);
	if (r < 0) {
		harness_cleanup(h);
		return 1;
	}
	return 0;
}

int harness_main_teardown(struct harness *h, int n_failed)
{
	int status = harness_stop(h, SIGTERM), ret = n_failed ? 1 : 0;

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "# daemon did not exit cleanly on SIGTERM (wait status %#x)\n", status);
		ret = 1;
	}
	if (ret)
		harness_dump_log(h);
	harness_cleanup(h);
	curl_global_cleanup();
	return ret;
}
