/* #GP in every mode, in a named function. Protected, paged32, long: loading DS with
 * selector 0x50, past the end of kvmbox's GDT, is #GP with that selector as the error code
 * (SDM Vol 3A 6.15, "Interrupt 13"). Real mode has no selectors: a 32-bit offset past DS's
 * 64 KiB limit is #GP there (SDM Vol 3B 20.1.1). Halting with eax = 1 means no #GP came. */
#include "kvmbox/guest.h"

#define BAD_SELECTOR 0x50 /* GDT index 10: kvmbox's GDT has 7 entries */
#define PAST_64K 0x10000u

__attribute__((noinline)) void load_bad_segment(void)
{
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL
	__asm__ volatile("movl %0, %%ebx\n\t"
			 "movb (%%ebx), %%al" /* exc-fault-line */
			 : : "i"(PAST_64K) : "eax", "ebx", "memory");
#else
	__asm__ volatile("movw %0, %%ax\n\t"
			 "movw %%ax, %%ds" /* exc-fault-line */
			 : : "i"(BAD_SELECTOR) : "eax", "memory");
#endif
}

int main(void)
{
	load_bad_segment();
	return 1;
}
