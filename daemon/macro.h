/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers used everywhere: cleanup attributes, ownership hand-off and
 * errno conversion. Only libc headers are included here.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The @type that embeds @ptr as its member @member. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int close_nointr(int fd)
{
	/* Never retry close() on EINTR: the fd is gone either way on Linux. */
	return fd >= 0 ? close(fd) : 0;
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		(void)close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership of a pointer or fd to the caller and leave the local empty. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _took = (p);                                                         \
		(p) = NULL;                                                                        \
		_took;                                                                             \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _took = (fd);                                                                  \
		(fd) = -EBADF;                                                                     \
		_took;                                                                             \
	})

/* Turn a libc "-1 + errno" result into a negative errno, keeping other values. */
#define RET_NERRNO(expr)                                                                           \
	({                                                                                         \
		__typeof__(expr) _r = (expr);                                                      \
		_r < 0 ? (__typeof__(expr))(errno > 0 ? -errno : -EIO) : _r;                       \
	})

static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

static inline const char *strempty(const char *s)
{
	return s ? s : "";
}
