/* The classic CS695 (Assignment 2) grading guest, with the assignment's own HC_* names, one
 * source for every mode. The 11 bytes of "Hello 695!\n" go out one outb each on port 0xE9;
 * with KVM's coalesced PIO (kvmbox's default) they cost no exit, so "IO out" counts only real
 * exits. Then: 2048 and 4294967295 in decimal; a = exits; one printStr; b = exits (b - a == 2:
 * the printStr and the second numExits); a and b; first = exits by direction; host addresses
 * of 1024 (valid) and 4294967295 ("Invalid GVA", 0); second = exits by direction; both
 * strings (two separate buffers); 42 at 0x400; halt with eax = 42. */
#include "kvmbox/guest.h"

KVMBOX_NO_ARGS; /* the exit counts it prints are the assignment's */
KVMBOX_NO_GUARD_NULL; /* the classic 42 at 0x400, in page 0 */

#define RESULT_ADDR 0x400
#define RESULT 42

int main(void)
{
	const char *p;
	uint32_t a, b;
	char *first, *second;

	for (p = "Hello 695!\n"; *p; ++p)
		HC_print8bit((uint8_t)*p);

	HC_print32bit(2048);
	HC_print32bit(4294967295u);

	a = HC_numExits();
	HC_printStr("CS695 Assignment 2\n");
	b = HC_numExits();
	HC_print32bit(a);
	HC_print32bit(b);

	first = HC_numExitsByType();
	HC_print32bit(HC_gvaToHva(1024));
	HC_print32bit(HC_gvaToHva(4294967295u));
	second = HC_numExitsByType();

	HC_printStr(first);
	HC_printStr(second);

	*(volatile uint32_t *)kvmbox_ptr(RESULT_ADDR) = RESULT;
	kvmbox_halt(RESULT); /* the assignment's ending: hlt with eax = 42 */
}
