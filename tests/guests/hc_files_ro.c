/* A read-only share (--share DIR:ro): src.bin can be opened and read; every flag that could
 * change the share is refused with -EROFS before anything is opened. HC_exit(0) at the end. */
#include "kvmbox/guest.h"

static uint8_t buf[64];

int main(void)
{
	static const uint32_t refused[] = {
		KVMBOX_O_WRONLY,
		KVMBOX_O_RDWR,
		KVMBOX_O_RDONLY | KVMBOX_O_TRUNC,
		KVMBOX_O_RDONLY | KVMBOX_O_APPEND,
		KVMBOX_O_RDONLY | KVMBOX_O_CREAT,
		KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_EXCL,
	};
	int fd;

	fd = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_read(fd, buf, sizeof(buf)), sizeof(buf));
	GUEST_ASSERT_EQ(HC_write(fd, buf, 1), -KVMBOX_EBADF);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		GUEST_ASSERT_EQ(HC_open("src.bin", (int)refused[i], 0600), -KVMBOX_EROFS);
		GUEST_ASSERT_EQ(HC_open("new.txt", (int)refused[i], 0600), -KVMBOX_EROFS);
	}
	HC_exit(0);
}
