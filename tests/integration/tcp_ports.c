/* SPDX-License-Identifier: Apache-2.0 */
/* Free loopback TCP ports for the tests of --metrics-address and the Prometheus test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_ports.h"

unsigned tcp_free_port(int family)
{
	struct sockaddr_storage sa = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	if (family == AF_INET6)
		((struct sockaddr_in6 *)&sa)->sin6_addr = in6addr_loopback;
	else
		((struct sockaddr_in *)&sa)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						: ((struct sockaddr_in *)&sa)->sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}
