/* Leveled logging to a caller-owned sink (struct kvmbox_log); compiled in, switched at run time. */
#ifndef KVMBOX_LOG_H
#define KVMBOX_LOG_H

#include "kvmbox/kvmbox.h"
#include "base/util.h" /* set_error, which every user of this header also wants */

/* Is LEVEL enabled on LOG? A NULL log enables nothing. Cheap: test it before formatting. */
static inline int log_on(const struct kvmbox_log *log, enum kvmbox_log_level level)
{
	return log && log->sink && level <= log->level;
}

/* Write one line "kvmbox[WHO]: LEVEL: text\n" when LEVEL is enabled. WHO may be NULL. */
void log_msg(const struct kvmbox_log *log, enum kvmbox_log_level level, const char *who,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
