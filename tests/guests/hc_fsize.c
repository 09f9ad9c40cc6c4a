/* kvmbox-modes: protected long */
/* The share's file-size cap, run with --file-size-max 4K: a write stops at the cap with a
 * short count, then fails with -EFBIG wherever the offset points, O_APPEND included. The
 * host checks the file is 4096 bytes long. Ends with HC_exit(0). */
#include "kvmbox/guest.h"

#define CAP 4096

static char buf[CAP];

int main(void)
{
	int fd = HC_open("capped.bin", KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_TRUNC, 0600);

	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, buf, CAP - 96), CAP - 96);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 200), 96);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 1), -KVMBOX_EFBIG);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 0), 0); /* nothing asked, nothing refused */
	GUEST_ASSERT_EQ(HC_lseek(fd, 1ll << 40, KVMBOX_SEEK_SET), 1ll << 40);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 1), -KVMBOX_EFBIG);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	fd = HC_open("capped.bin", KVMBOX_O_WRONLY | KVMBOX_O_APPEND, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 1), -KVMBOX_EFBIG);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	HC_exit(0);
}
