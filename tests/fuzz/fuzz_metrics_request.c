/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what the --metrics-address listener does with bytes from
 * the network (api/metrics_http.c), plus the address syntax of its option.
 * The first byte picks: odd, the input is the option's value; even, the rest
 * is what a peer sent.
 *
 * Beyond "no crash, no leak": a head's length never exceeds the input; only
 * GET or HEAD of the two paths is served (200), everything else gets 400, 404
 * or 405; an answer's Content-Length is the body it carries (none for HEAD);
 * an accepted address has the family its brackets say.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/metrics_http.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void fuzz_address(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	struct sockaddr_storage sa;
	socklen_t len = 0;

	if (metrics_address_parse(text, &sa, &len, NULL) == 0)
		FUZZ_CHECK(sa.ss_family == (text[0] == '[' ? AF_INET6 : AF_INET),
			   "'%s' accepted as family %d", text, sa.ss_family);
	free(text);
}

static void fuzz_head(const char *buf, size_t size)
{
	size_t head = metrics_http_head_length(buf, size);
	struct metrics_request rq = metrics_http_classify(buf, head ? head : size);
	char *text = NULL;
	size_t len = 0, body_len = 0;
	const char *blank;

	FUZZ_CHECK(head <= size, "head of %zu bytes in %zu", head, size);
	FUZZ_CHECK(rq.status == 200 || rq.status == 400 || rq.status == 404 || rq.status == 405,
		   "status %u", rq.status);
	if (rq.status == 200)
		FUZZ_CHECK(rq.route != METRICS_ROUTE_NONE &&
				   ((size >= 4 && memcmp(buf, "GET ", 4) == 0) ||
				    (size >= 5 && memcmp(buf, "HEAD ", 5) == 0)),
			   "served a request that is not GET or HEAD");
	if (metrics_http_response(&rq, "ok\n", 3, &text, &len) < 0)
		return;
	blank = strstr(text, "\r\n\r\n");
	FUZZ_CHECK(blank && sscanf(strstr(text, "Content-Length: ") + 16, "%zu", &body_len) == 1,
		   "answer without a length");
	FUZZ_CHECK((size_t)(text + len - (blank + 4)) == (rq.is_head ? 0 : body_len),
		   "Content-Length %zu for a body of %td", body_len, text + len - (blank + 4));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size < 1 || size > 2 * METRICS_HEAD_MAX)
		return 0;
	if (data[0] & 1) {
		fuzz_address(data + 1, size - 1);
		return 0;
	}
	/* a copy of the exact size, so ASan sees any read past the peer's bytes */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	fuzz_head(copy, size - 1);
	free(copy);
	return 0;
}
