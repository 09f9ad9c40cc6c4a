/* One bad hypercall between two good ones; the host picks which with the u32 at
 * HCT_CASE_ADDR (enum hct_strict_case). Without --strict the call returns its error and
 * the guest prints "before\nafter\n" and halts with eax = 0; with --strict the VM stops at
 * the bad call (KVMBOX_STOP_BAD_CALL) and "after" never appears. */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

#define HC_PORT(nr) ((uint16_t)(KVMBOX_PORT_HC_BASE + (nr)))

int main(void)
{
	uint32_t which = *(volatile uint32_t *)kvmbox_ptr(HCT_CASE_ADDR);

	HC_printStr("before\n");
	switch (which) {
	case HCT_STRICT_BAD_POINTER:
		GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_PRINTSTR, HCT_BAD_ADDR), -KVMBOX_EFAULT);
		break;
	case HCT_STRICT_UNKNOWN_NR:
		GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_MAX - 1, 0), -KVMBOX_ENOSYS);
		break;
	case HCT_STRICT_OUTB:
		outb(HC_PORT(KVMBOX_HC_PRINT32), 1);
		break;
	case HCT_STRICT_INW:
		GUEST_ASSERT_EQ(inw(HC_PORT(KVMBOX_HC_NUM_EXITS)), (uint16_t)-KVMBOX_EINVAL);
		break;
	default:
		GUEST_ASSERT(!"unknown case");
	}
	HC_printStr("after\n");
	return 0;
}
