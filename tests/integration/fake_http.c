/* SPDX-License-Identifier: Apache-2.0 */
/* The scripted HTTP server of fake_http.h: one thread, one connection at a time. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_http.h"

/* Read a request's head and its Content-Length body into @out (NUL-terminated). */
static void read_request(int fd, char *out, size_t size)
{
	size_t n = 0;
	char *end = NULL;
	long body = 0;

	while (n + 1 < size && !end) {
		ssize_t k = read(fd, out + n, size - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
		out[n] = '\0';
		end = strstr(out, "\r\n\r\n");
	}
	if (end) {
		const char *cl = strcasestr(out, "\r\nContent-Length:");

		body = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
		while (n + 1 < size && (long)(n - (size_t)(end + 4 - out)) < body) {
			ssize_t k = read(fd, out + n, size - 1 - n);

			if (k <= 0)
				break;
			n += (size_t)k;
		}
	}
	out[n] = '\0';
}

static void *serve(void *arg)
{
	struct fake_http *f = arg;

	for (size_t i = 0; i < f->n_steps; i++) {
		int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			break;
		read_request(fd, f->requests[i], sizeof(f->requests[i]));
		f->n_requests = i + 1;
		for (size_t p = 0; p < FAKE_PARTS_MAX && f->steps[i].parts[p]; p++) {
			char byte;

			if (p > 0 && read(f->gate[0], &byte, 1) != 1)
				break;
			if (send(fd, f->steps[i].parts[p], strlen(f->steps[i].parts[p]),
				 MSG_NOSIGNAL) < 0)
				break;
		}
		close(fd);
	}
	return NULL;
}

void fake_http_start(struct fake_http *f, const char *dir, const struct fake_step *steps,
		     size_t n_steps)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_true(n_steps <= FAKE_STEPS_MAX);
	*f = (struct fake_http){ .steps = steps, .n_steps = n_steps };
	snprintf(f->path, sizeof(f->path), "%s/fake.sock", dir);
	strcpy(sa.sun_path, f->path);
	(void)unlink(f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listen_fd, 8), 0);
	assert_int_equal(pipe2(f->gate, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

void fake_http_release(struct fake_http *f)
{
	assert_int_equal(write(f->gate[1], "x", 1), 1);
}

void fake_http_stop(struct fake_http *f)
{
	/* a thread still waiting for a client or the gate is woken by these */
	shutdown(f->listen_fd, SHUT_RDWR);
	close(f->gate[1]);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->gate[0]);
	(void)unlink(f->path);
}
