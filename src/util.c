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
