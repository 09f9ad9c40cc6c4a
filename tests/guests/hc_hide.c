/* kvmbox-modes: protected long */
/* Does the host tell this guest host addresses? HC_exit(11): yes, both gvaToHva calls give
 * one (the classic course behaviour); HC_exit(10): neither does (--sandbox: gvaToHva gives
 * 0, gvaToHva64 -EPERM); 12: anything else. */
#include "kvmbox/guest.h"

static char page[64];

int main(void)
{
	struct kvmbox_hc_xlate x = { .gva = kvmbox_gva(page), .hva = 0 };
	uint32_t low = HC_gvaToHva((uint32_t)(uintptr_t)page);
	int32_t r = kvmbox_hypercall(KVMBOX_HC_GVA_TO_HVA64, (uintptr_t)&x);

	if (low == 0 && r == -KVMBOX_EPERM && x.hva == 0)
		HC_exit(10);
	if (low != 0 && r == 0 && x.hva != 0)
		HC_exit(11);
	HC_exit(12);
}
