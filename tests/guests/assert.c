/* A guest-side assertion that fails: the host must stop with KVMBOX_STOP_ASSERT and report
 * "tests/guests/assert.c:<line>" where <line> is the line right after the ASSERT-LINE marker
 * comment, and the expression text "1 + 1 == 3 (2 != 3)". Halting with eax = 1 means the
 * assertion returned. */
#include "kvmbox/guest.h"

int main(void)
{
	/* ASSERT-LINE */
	GUEST_ASSERT_EQ(1 + 1, 3);
	return 1;
}
