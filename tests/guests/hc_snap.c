/* The snapshot calls where no snapshot can be made (tests/host/test_hypercalls.c; the saves
 * themselves are tests/host/test_snapshot.c's): a VM made from its image is generation 0; an
 * empty path names the host's save file, which this VM was not given; a path needs a share,
 * which it was not given either (or, read-only, which takes no new file). Exits with 5. */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_ARGS;
KVMBOX_NO_GUARD_NULL; /* the host's case at HCT_CASE_ADDR, in page 0 */

int main(void)
{
	/* Case 1: a read-only share, where a snapshot (a new file) is -EROFS. */
	int32_t no_path = *(volatile uint32_t *)kvmbox_ptr(HCT_CASE_ADDR) ? -KVMBOX_EROFS
									   : -KVMBOX_EPERM;

	GUEST_ASSERT_EQ(HC_generation(), 0);
	GUEST_ASSERT_EQ(HC_snapshot(""), -KVMBOX_ENOENT);
	GUEST_ASSERT_EQ(HC_snapshot(NULL), -KVMBOX_ENOENT);
	GUEST_ASSERT_EQ(HC_snapshot("s"), no_path);
	return 5;
}
