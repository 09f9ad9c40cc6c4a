/* Small helpers the whole library shares: error lines, array length, the monotonic clock,
 * the guest page size. No state. */
#ifndef KVMBOX_UTIL_H
#define KVMBOX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct kvmbox_error;

/* Fill ERR (may be NULL) with a formatted line and return -ERRNUM (ERRNUM's sign is
 * ignored): `return set_error(err, EINVAL, "bad %s", x);` The one way library functions
 * report an error to their caller. */
int set_error(struct kvmbox_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* SRC as DST (SIZE bytes, NUL-terminated, truncated to fit) with every byte that is not
 * printable ASCII (0x20-0x7e) shown as '?': the one filter every guest-supplied string (a
 * path, an assertion's file and expression, a symbol name from the image) passes before
 * kvmbox prints or writes it, so a guest can send no terminal escape sequence, no newline
 * starting a forged "kvmbox:" line, and no byte a JSON parser would refuse. Returns DST. */
char *text_printable(char *dst, size_t size, const char *src);

/* All LEN bytes at file offset OFF of FD, read into DST or written from SRC, in pieces of at
 * most 1 GiB, again after EINTR. Returns 0, -errno, or -EIO when the file ends first (read)
 * or a write takes nothing. */
int fd_read_all(int fd, void *dst, uint64_t len, uint64_t off);
int fd_write_all(int fd, const void *src, uint64_t len, uint64_t off);

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
