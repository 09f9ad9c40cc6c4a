/* Calls each console and statistics hypercall, checking what the ABI promises, and ends
 * with HC_exit(7). Console output is exactly "2048\nstr\n"; every check is a GUEST_ASSERT,
 * so a failure stops the VM with this file's line. */
#include "kvmbox/guest.h"

KVMBOX_NO_ARGS; /* the host counts its exits exactly */
KVMBOX_NO_GUARD_NULL; /* the classic 42 at 0x400, in page 0 */

#define HELLO_ADDR 0x400

int main(void)
{
	uint32_t a, b, hva32;
	uint64_t t0, t1, hva64;
	char *first, *second;

	GUEST_ASSERT(HC_abiVersion() == KVMBOX_ABI_VERSION);
	HC_print32bit(2048);

	/* numExits counts its own exit: one for printStr plus one for the second call. */
	a = HC_numExits();
	HC_printStr("str\n");
	b = HC_numExits();
	GUEST_ASSERT_EQ(b - a, 2);

	first = HC_numExitsByType();
	second = HC_numExitsByType();
	GUEST_ASSERT(first && second && first != second);
	GUEST_ASSERT(strncmp(first, "IO in: ", 7) == 0);
	GUEST_ASSERT(strncmp(second, "IO in: ", 7) == 0);

	/* 0x400 lies in guest memory in every mode, so both translations must succeed and agree. */
	hva32 = HC_gvaToHva(HELLO_ADDR);
	hva64 = HC_gvaToHva64(HELLO_ADDR);
	GUEST_ASSERT(hva64 != 0);
	GUEST_ASSERT_EQ(hva32, (uint32_t)hva64);

	t0 = HC_getTimestamp();
	t1 = HC_getTimestamp();
	GUEST_ASSERT(t0 != 0 && t1 >= t0);

	HC_exit(7);
}
