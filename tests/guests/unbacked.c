/* Writes the 32-bit value UNBACKED_VALUE to a guest-physical address that the CPU mode can
 * reach (no paging, or mapped by the host's page tables) but that no memory slot backs, so
 * KVM exits with KVM_EXIT_MMIO (is_write = 1, len = 4) at that address. Per mode:
 *
 *   mode       guest memory   address      why
 *   real       256 KiB        0x80000      ES = 0x8000, offset 0 (real mode reaches ~1 MiB)
 *   protected  3 MiB          0xC0000000   flat 4 GiB segments, no paging
 *   paged32    3 MiB          0x380000     one 4 MiB page maps 0-4 MiB
 *   long       3 MiB          0x380000     2 MiB pages map 0-4 MiB (memory rounded up)
 *
 * Halting with eax = 1 means the write did not stop the VM. */
#include "kvmbox/guest.h"

#define UNBACKED_VALUE 0x6b766d62u /* "bmvk" in memory */

#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL
#define UNBACKED_SEG 0x8000u /* linear 0x80000 */
#elif KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_PROTECTED
#define UNBACKED_ADDR 0xC0000000u
#else
#define UNBACKED_ADDR 0x380000u
#endif

int main(void)
{
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL
	/* A 16-bit segment reaches only 64 KiB from its base, so go through ES. */
	__asm__ volatile("movw %w0, %%es\n\t"
			 "movl %1, %%es:0"
			 : : "r"(UNBACKED_SEG), "r"(UNBACKED_VALUE) : "memory");
#else
	*(volatile uint32_t *)(uintptr_t)UNBACKED_ADDR = UNBACKED_VALUE;
#endif
	return 1;
}
