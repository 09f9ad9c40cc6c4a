/* No share: every file call fails with -EPERM, whatever its argument, and none of them is a
 * bad call (the VM was not given files; the guest broke no rule). HC_exit(0) at the end. */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

static uint8_t buf[16];

int main(void)
{
	struct kvmbox_stat st;
	uint32_t nr;

	GUEST_ASSERT_EQ(HC_open("src.bin", KVMBOX_O_RDONLY, 0), -KVMBOX_EPERM);
	GUEST_ASSERT_EQ(HC_open("new.txt", KVMBOX_O_WRONLY | KVMBOX_O_CREAT, 0600), -KVMBOX_EPERM);
	GUEST_ASSERT_EQ(HC_read(0, buf, sizeof(buf)), -KVMBOX_EPERM);
	GUEST_ASSERT_EQ(HC_write(0, buf, sizeof(buf)), -KVMBOX_EPERM);
	GUEST_ASSERT_EQ(HC_lseek(0, 0, KVMBOX_SEEK_SET), -KVMBOX_EPERM);
	GUEST_ASSERT_EQ(HC_fstat(0, &st), -KVMBOX_EPERM);
	GUEST_ASSERT_EQ(HC_close(0), -KVMBOX_EPERM);
	for (nr = KVMBOX_HC_FILE_OPEN; nr <= KVMBOX_HC_FILE_FSTAT; nr++)
		GUEST_ASSERT_EQ(kvmbox_hypercall(nr, HCT_BAD_ADDR), -KVMBOX_EPERM);
	HC_exit(0);
}
