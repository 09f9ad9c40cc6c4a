/* Leveled logging to the caller's sink (log.h). */
#include <stdarg.h>
#include <stdio.h>
#include "base/log.h"

static const char *const level_names[] = {
	[KVMBOX_LOG_ERROR] = "error", [KVMBOX_LOG_WARN] = "warning", [KVMBOX_LOG_INFO] = "info",
	[KVMBOX_LOG_DEBUG] = "debug", [KVMBOX_LOG_TRACE] = "trace",
	[KVMBOX_LOG_EXPLAIN] = "explain",
};

void log_msg(const struct kvmbox_log *log, enum kvmbox_log_level level, const char *who,
	     const char *fmt, ...)
{
	va_list ap;

	if (!log_on(log, level))
		return;
	if (who)
		fprintf(log->sink, "kvmbox[%s]: %s: ", who, level_names[level]);
	else
		fprintf(log->sink, "kvmbox: %s: ", level_names[level]);
	va_start(ap, fmt);
	vfprintf(log->sink, fmt, ap);
	va_end(ap);
	fputc('\n', log->sink);
}
