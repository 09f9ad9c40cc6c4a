/* The out-of-line helpers of util.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "kvmbox/kvmbox.h"
#include "util.h"

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
