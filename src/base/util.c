/* The out-of-line helpers of util.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <unistd.h>
#include "kvmbox/kvmbox.h"
#include "base/util.h"

int set_error(struct kvmbox_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -abs(errnum);
}

char *text_printable(char *dst, size_t size, const char *src)
{
	size_t i;

	if (!size)
		return dst;
	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
	return dst;
}

/* The loop both share: pread or pwrite until LEN bytes are done. */
static int fd_all(int fd, uint8_t *p, uint64_t len, uint64_t off, bool write)
{
	while (len) {
		size_t chunk = len < (1u << 30) ? len : (1u << 30);
		ssize_t n = write ? pwrite(fd, p, chunk, (off_t)off) : pread(fd, p, chunk, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int fd_read_all(int fd, void *dst, uint64_t len, uint64_t off)
{
	return fd_all(fd, dst, len, off, false);
}

int fd_write_all(int fd, const void *src, uint64_t len, uint64_t off)
{
	return fd_all(fd, (uint8_t *)src, len, off, true); /* pwrite only reads it */
}
