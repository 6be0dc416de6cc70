/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Text that a peer chose (URLs, header values, JSON keys, container names, LXC
 * process titles, OCI ids) made safe for a log line or an API message: the
 * result is valid UTF-8 with no control characters, so it can neither start a
 * forged log line (with its own "<N>" priority) nor make a JSON encoder fail.
 *
 * Every byte of a C0 control (0x00-0x1f), DEL, a C1 control (U+0080-U+009F) or
 * of anything that is not a well-formed UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) is written as "\xNN" with two
 * lowercase hex digits. Everything else is copied as it is. Backslashes are not
 * doubled: the escapes keep lines whole and readable, they are not meant to be
 * decoded back.
 *
 * Pure functions on caller buffers; any thread.
 */

/* Bytes one escaped input byte takes: "\xNN". */
#define ESCAPE_BYTE_LEN 4

/* true when @len bytes at @s need no escaping (the common case: plain ASCII). */
bool escape_is_clean(const char *s, size_t len);

/*
 * Escape @len bytes at @s into @dst (@size bytes, @size > 0), always
 * NUL-terminated. Stops before the first character or escape that does not
 * fit whole, so a multi-byte character or an escape is never split. Returns
 * the number of input bytes consumed (@len when everything fitted).
 */
size_t escape_text(char *dst, size_t size, const char *s, size_t len);

/*
 * escape_text() for the inside of a JSON string: the same escapes, with '\\'
 * and '"' (those of the escapes too) preceded by a backslash, so the string
 * decodes to exactly what escape_text() writes and the result needs no other
 * JSON escaping. Same contract as escape_text(): NUL-terminated, never splits
 * a character or an escape, returns the number of input bytes consumed.
 */
size_t escape_json(char *dst, size_t size, const char *s, size_t len);

/*
 * @s (NULL reads as "") escaped for quoting in a message, in at most @size - 1
 * bytes; when it does not fit, it is cut on a character boundary and ends in
 * "...". @size must be at least 4. Returns @dst.
 */
const char *escape_echo(char *dst, size_t size, const char *s);

/*
 * escape_echo() into a temporary buffer that lives until the end of the
 * enclosing block, for use as a printf argument: with "'%s'", ESCAPED(name, 64)
 * the message shows name escaped, or its first 64 bytes or fewer and "..."
 * when the escaped text is longer than 67 bytes.
 */
#define ESCAPED(s, max) escape_echo((char[(max) + 4]){ 0 }, (max) + 4, (s))

/*
 * The length of the longest prefix of @len bytes at @s that does not end
 * inside a multi-byte UTF-8 sequence: what is left after cutting off a
 * character that a truncation (snprintf into a fixed buffer) split.
 */
size_t escape_utf8_boundary(const char *s, size_t len);
