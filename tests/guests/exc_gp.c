/* #GP in every mode, in a named function. Protected, paged32, long: loading DS with
 * selector 0x50, past the end of kvmbox's GDT, is #GP with that selector as the error code
 * (SDM Vol 3A 6.15, "Interrupt 13"). Real mode has no selectors: reading an MSR that does
 * not exist is #GP(0) there (SDM Vol 2B RDMSR), which KVM raises on every host (QEMU's
 * emulation, the lane's CPU, does not check segment limits, so a 32-bit offset past 64 KiB
 * would not fault there). Halting with eax = 1 means no #GP came. */
#include "kvmbox/guest.h"

#define BAD_SELECTOR 0x50 /* GDT index 10: kvmbox's GDT has 7 entries */
#define NO_SUCH_MSR 0x0badc0deu /* outside every MSR range a CPU or KVM defines */

__attribute__((noinline)) void load_bad_segment(void)
{
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL
	__asm__ volatile("rdmsr" /* exc-fault-line */
			 : : "c"(NO_SUCH_MSR) : "eax", "edx", "memory");
#else
	__asm__ volatile("movw %w0, %%ds" : : "r"(BAD_SELECTOR) : "memory"); /* exc-fault-line-pm */
#endif
}

int main(void)
{
	load_bad_segment();
	return 1;
}
