/* SPDX-License-Identifier: Apache-2.0 */
/* Print the API route table, one "METHOD PATTERN" per line, for the spec ↔ router check. */
#include <stdio.h>

#include "api/router.h"

int main(void)
{
	for (size_t i = 0; i < router_n_routes; i++)
		printf("%s %s\n", router_method_name(router_routes[i].method), router_routes[i].pattern);
	return 0;
}
