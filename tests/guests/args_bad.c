/* KVMBOX_HC_ARGS refused: a struct outside guest memory, a buffer too small for the
 * arguments, a buffer outside guest memory; each is -KVMBOX_E* and writes nothing. Then the
 * well-formed call gets the two strings the host test gives ("args", "hello"). Ends with
 * HC_exit(the number of refused calls). tests/host/test_sdk.c runs it. */
#include "kvmbox/guest.h"
#include "hc_test.h"

int main(void)
{
	static char buf[16];
	struct kvmbox_hc_args req = { .buf = kvmbox_gva(buf), .size = 4 };
	uint32_t nbad = 0;

	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, HCT_BAD_ADDR), -KVMBOX_EFAULT);
	nbad++;
	memset(buf, '#', sizeof(buf));
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req), -KVMBOX_ERANGE);
	GUEST_ASSERT_EQ(buf[0], '#');
	nbad++;
	req.buf = HCT_BAD_ADDR;
	req.size = sizeof(buf);
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req), -KVMBOX_EFAULT);
	nbad++;
	req.buf = kvmbox_gva(buf);
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req), 2);
	GUEST_ASSERT_EQ(req.argc, 2);
	GUEST_ASSERT(memcmp(buf, "args\0hello\0#", 12) == 0);
	return (int)nbad;
}
