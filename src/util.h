/* Small helpers the whole library shares: error lines, array length, the monotonic clock,
 * the guest page size. No state. */
#ifndef KVMBOX_UTIL_H
#define KVMBOX_UTIL_H

#include <stdint.h>
#include <time.h>

struct kvmbox_error;

/* Fill ERR (may be NULL) with a formatted line and return -ERRNUM (ERRNUM's sign is
 * ignored): `return set_error(err, EINVAL, "bad %s", x);` The one way library functions
 * report an error to their caller. */
int set_error(struct kvmbox_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Elements of a true array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The 4 KiB page: the unit of KVM's dirty log and of the guest-virtual accessors. */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)

/* CLOCK_MONOTONIC in nanoseconds: the clock of every deadline and duration in kvmbox. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
