/* Leveled logging to a caller-owned sink (struct kvmbox_log); compiled in, switched at run time. */
#ifndef KVMBOX_LOG_H
#define KVMBOX_LOG_H

#include "kvmbox/kvmbox.h"

/* Is LEVEL enabled on LOG? A NULL log enables nothing. Cheap: test it before formatting. */
static inline int log_on(const struct kvmbox_log *log, enum kvmbox_log_level level)
{
	return log && log->sink && level <= log->level;
}

/* Write one line "kvmbox[WHO]: LEVEL: text\n" when LEVEL is enabled. WHO may be NULL. */
void log_msg(const struct kvmbox_log *log, enum kvmbox_log_level level, const char *who,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fill ERR (may be NULL) with a formatted line and return -ERRNUM's absolute value negated:
 * `return set_error(err, EINVAL, "bad %s", x);` */
int set_error(struct kvmbox_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
