/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Escaping of peer-chosen text for log lines and API messages (see escape.h).
 * Stateless; called from any thread, on every log line that is written, so the
 * clean case is one pass over the bytes with no copy.
 */
#include <string.h>

#include "daemon/escape.h"

/*
 * The length of the well-formed UTF-8 sequence at @p (@avail bytes left), or
 * 0 when the bytes there are not one (RFC 3629, Unicode table 3-7).
 */
static size_t utf8_sequence_len(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
	/* the second byte's range rules out overlong forms, surrogates and > U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* How many bytes at @p to copy as they are (0: escape the next byte). */
static size_t printable_len(const unsigned char *p, size_t avail)
{
	size_t n;

	if (p[0] >= 0x20 && p[0] < 0x7f)
		return 1;
	if (p[0] < 0x80)
		return 0; /* C0 control or DEL */
	n = utf8_sequence_len(p, avail);
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0; /* C1 control: terminals act on U+009B (CSI) and friends */
	return n;
}

bool escape_is_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n;

		/* the common case, printable ASCII, in a tight loop */
		while (i < len && (unsigned char)(p[i] - 0x20) < 0x5f)
			i++;
		if (i == len)
			break;
		n = printable_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/*
 * escape_text() and escape_json(): the same characters are escaped the same
 * way; @is_json also puts a backslash before '\\' and '"' (those of the "\\xNN"
 * escapes included), so the JSON string decodes to exactly escape_text()'s text.
 */
static size_t escape_into(char *dst, size_t size, const char *s, size_t len, bool is_json)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, out = 0;

	while (i < len) {
		size_t n = printable_len(p + i, len - i);
		bool is_special = is_json && n == 1 && (p[i] == '\\' || p[i] == '"');

		if (n > 0) {
			if (out + n + is_special >= size)
				break;
			if (is_special)
				dst[out++] = '\\';
			memcpy(dst + out, p + i, n);
			out += n;
			i += n;
			continue;
		}
		if (out + ESCAPE_BYTE_LEN + is_json >= size)
			break;
		dst[out++] = '\\';
		if (is_json)
			dst[out++] = '\\';
		dst[out++] = 'x';
		dst[out++] = hex[p[i] >> 4];
		dst[out++] = hex[p[i] & 0xf];
		i++;
	}
	dst[out] = '\0';
	return i;
}

size_t escape_text(char *dst, size_t size, const char *s, size_t len)
{
	return escape_into(dst, size, s, len, false);
}

size_t escape_json(char *dst, size_t size, const char *s, size_t len)
{
	return escape_into(dst, size, s, len, true);
}

const char *escape_echo(char *dst, size_t size, const char *s)
{
	size_t len;

	s = s ? s : "";
	len = strlen(s);
	if (escape_text(dst, size, s, len) == len)
		return dst;
	/* keep room for the "..." that says the value was longer */
	(void)escape_text(dst, size - 3, s, len);
	strcat(dst, "...");
	return dst;
}

size_t escape_utf8_boundary(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	/* a sequence is at most 4 bytes: look for its lead among the last 3 */
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = p[len - back];
		size_t need;

		if (c < 0x80)
			return len; /* ASCII ends the text cleanly */
		if (c < 0xc0)
			continue; /* continuation byte: keep looking for the lead */
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		return need > back ? len - back : len;
	}
	return len;
}
