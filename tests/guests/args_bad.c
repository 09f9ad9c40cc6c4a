/* KVMBOX_HC_ARGS refused: a struct outside guest memory, a buffer too small for the
 * arguments, a buffer outside guest memory; each is -KVMBOX_E* and writes nothing. Then the
 * well-formed call, with a buffer exactly as large as needed, gets a ready argv of the two
 * strings the host test gives ("args", "hello"). Ends with HC_exit(the number of refused
 * calls). tests/host/test_sdk.c runs it. */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

/* argv[0..2] (pointers of this mode's width) and "args\0hello\0". */
#define NEEDED (3 * sizeof(char *) + 11)

int main(void)
{
	static union {
		uint64_t align;
		char bytes[KVMBOX_ARGS_BUF_SIZE];
	} buf;
	struct kvmbox_hc_args req = { .buf = kvmbox_gva(&buf), .size = NEEDED - 1 };
	char **argv = (char **)(void *)buf.bytes;
	uint32_t nbad = 0;

	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, HCT_BAD_ADDR), -KVMBOX_EFAULT);
	nbad++;
	memset(buf.bytes, '#', sizeof(buf.bytes));
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req), -KVMBOX_ERANGE);
	GUEST_ASSERT_EQ(buf.bytes[0], '#');
	GUEST_ASSERT_EQ(req.argc, 0);
	nbad++;
	req.buf = HCT_BAD_ADDR;
	req.size = sizeof(buf);
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req), -KVMBOX_EFAULT);
	nbad++;
	req.buf = kvmbox_gva(&buf);
	req.size = NEEDED;
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req), 2);
	GUEST_ASSERT_EQ(req.argc, 2);
	GUEST_ASSERT(strcmp(argv[0], "args") == 0);
	GUEST_ASSERT(strcmp(argv[1], "hello") == 0);
	GUEST_ASSERT(argv[2] == NULL);
	GUEST_ASSERT_EQ(argv[1] - buf.bytes, 3 * sizeof(char *) + 5);
	GUEST_ASSERT_EQ(buf.bytes[NEEDED], '#'); /* nothing beyond what it needs */
	return (int)nbad;
}
