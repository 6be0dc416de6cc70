/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder API server; the real one serves libmicrohttpd on the socket. */
#include <stdlib.h>

#include "api/server.h"
#include "daemon/macro.h"

struct api_server {
	int fd;
};

int api_server_start(struct daemon *d, int listen_fd, struct api_server **ret)
{
	struct api_server *s = calloc(1, sizeof(*s));

	(void)d;
	if (!s)
		return -ENOMEM;
	s->fd = listen_fd;
	*ret = s;
	return 0;
}

struct api_server *api_server_stop(struct api_server *s)
{
	if (s) {
		close_nointr(s->fd);
		free(s);
	}
	return NULL;
}
