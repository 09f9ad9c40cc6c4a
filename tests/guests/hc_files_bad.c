/* Malformed file hypercalls on a writable share holding src.bin: bad struct and buffer
 * addresses, buffers running off the end of memory, unterminated and over-long paths, flags
 * outside the allowed set, bad whence, descriptors that are not open. Each must return its
 * error and count as a bad call; a refused read must not consume file data. Ends with
 * HC_exit(number of bad calls made). Needs the host-filled tail of memory (hc_test.h). */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

#define BAD(call, err)                                   \
	do {                                             \
		GUEST_ASSERT_EQ((call), -(err));         \
		nbad++;                                  \
	} while (0)

static unsigned nbad;
static char long_path[300];
static uint8_t buf[64];

static int32_t open_raw(uint64_t path, uint32_t flags)
{
	struct kvmbox_hc_open a = { .path = path, .flags = flags, .mode = 0600 };

	return kvmbox_hypercall(KVMBOX_HC_FILE_OPEN, (uintptr_t)&a);
}

static int32_t rw_raw(uint32_t nr, uint32_t fd, uint64_t buf_gva, uint64_t len)
{
	struct kvmbox_hc_rw a = { .fd = fd, .pad = 0, .buf = buf_gva, .len = len };

	return kvmbox_hypercall(nr, (uintptr_t)&a);
}

static int32_t lseek_raw(uint32_t fd, uint32_t whence)
{
	struct kvmbox_hc_lseek a = { .fd = fd, .whence = whence, .offset = 0, .result = 0 };

	return kvmbox_hypercall(KVMBOX_HC_FILE_LSEEK, (uintptr_t)&a);
}

int main(void)
{
	static const uint32_t bad_flags[] = {
		KVMBOX_O_WRONLY | KVMBOX_O_RDWR, /* access mode 3 */
		0x80000,                         /* O_CLOEXEC */
		0x10000,                         /* O_DIRECTORY */
		0x20000,                         /* O_NOFOLLOW */
		0x200000,                        /* O_PATH */
		0x410000,                        /* O_TMPFILE */
		0x800,                           /* O_NONBLOCK */
		0x80000000u,
	};
	struct kvmbox_hc_fstat fs;
	int fd;

	fd = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(fd >= 0);

	/* open */
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_OPEN, HCT_BAD_ADDR), KVMBOX_EFAULT);
	BAD(open_raw(HCT_BAD_ADDR, KVMBOX_O_RDONLY), KVMBOX_EFAULT);
	BAD(open_raw(HCT_TAIL, KVMBOX_O_RDONLY), KVMBOX_EFAULT);
	memset(long_path, 'a', sizeof(long_path) - 1);
	BAD(open_raw(kvmbox_gva(long_path), KVMBOX_O_RDONLY), KVMBOX_ENAMETOOLONG);
	for (unsigned i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++)
		BAD(open_raw(kvmbox_gva("src.bin"), bad_flags[i]), KVMBOX_EINVAL);

	/* read / write: descriptors, buffers; a refused read leaves the offset alone. */
	BAD(rw_raw(KVMBOX_HC_FILE_READ, 99, kvmbox_gva(buf), sizeof(buf)), KVMBOX_EBADF);
	BAD(rw_raw(KVMBOX_HC_FILE_READ, 0xffffffffu, kvmbox_gva(buf), sizeof(buf)), KVMBOX_EBADF);
	BAD(rw_raw(KVMBOX_HC_FILE_READ, (uint32_t)fd, HCT_BAD_ADDR, sizeof(buf)), KVMBOX_EFAULT);
	BAD(rw_raw(KVMBOX_HC_FILE_READ, (uint32_t)fd, HCT_MEM_END - 16, sizeof(buf)), KVMBOX_EFAULT);
	BAD(rw_raw(KVMBOX_HC_FILE_READ, (uint32_t)fd, HCT_MEM_END - 16, 1ull << 40), KVMBOX_EFAULT);
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_READ, HCT_BAD_ADDR), KVMBOX_EFAULT);
	GUEST_ASSERT_EQ(HC_lseek(fd, 0, KVMBOX_SEEK_CUR), 0);
	BAD(rw_raw(KVMBOX_HC_FILE_WRITE, 7, kvmbox_gva(buf), 1), KVMBOX_EBADF);
	BAD(rw_raw(KVMBOX_HC_FILE_WRITE, (uint32_t)fd, HCT_BAD_ADDR, 1), KVMBOX_EFAULT);
	BAD(rw_raw(KVMBOX_HC_FILE_WRITE, (uint32_t)fd, HCT_TAIL, HCT_TAIL_LEN + 1), KVMBOX_EFAULT);
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_WRITE, HCT_BAD_ADDR), KVMBOX_EFAULT);

	/* lseek */
	BAD(lseek_raw((uint32_t)fd, 3), KVMBOX_EINVAL); /* SEEK_DATA: not in the ABI */
	BAD(lseek_raw((uint32_t)fd, 0xffffffffu), KVMBOX_EINVAL);
	BAD(lseek_raw(42, KVMBOX_SEEK_SET), KVMBOX_EBADF);
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_LSEEK, HCT_BAD_ADDR), KVMBOX_EFAULT);

	/* fstat */
	fs.fd = (uint32_t)fd;
	fs.pad = 0;
	fs.stat = HCT_BAD_ADDR;
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_FSTAT, (uintptr_t)&fs), KVMBOX_EFAULT);
	fs.stat = HCT_MEM_END - 8;
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_FSTAT, (uintptr_t)&fs), KVMBOX_EFAULT);
	fs.fd = 16;
	fs.stat = kvmbox_gva(buf);
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_FSTAT, (uintptr_t)&fs), KVMBOX_EBADF);
	BAD(kvmbox_hypercall(KVMBOX_HC_FILE_FSTAT, HCT_BAD_ADDR), KVMBOX_EFAULT);

	/* close */
	BAD(HC_close(12345), KVMBOX_EBADF);
	BAD(HC_close(-1), KVMBOX_EBADF);

	/* The descriptor still works and was never moved. */
	GUEST_ASSERT_EQ(HC_read(fd, buf, 8), 8);
	GUEST_ASSERT_EQ(HC_lseek(fd, 0, KVMBOX_SEEK_CUR), 8);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	HC_exit((int)nbad);
}
