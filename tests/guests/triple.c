/* Triple fault in every mode: load an IDT with limit 0, then raise #UD. Delivering #UD
 * faults on the IDT limit (#GP), delivering #GP faults the same way (#DF), and a fault while
 * delivering #DF is a triple fault: shutdown (Intel SDM Vol. 3A 6.14/6.15, "Double Fault
 * Exception"; in real mode the IVT limit is checked the same way, SDM 20.1.4).
 * The host must report KVM_EXIT_SHUTDOWN. Halting with eax = 1 means the fault never came. */
#include "kvmbox/guest.h"

#define CR0_PE 0x1u /* CR0.PE, protection enable (SDM Vol. 3A 2.5) */

struct __attribute__((packed)) idt_ptr {
	uint16_t limit;
	uintptr_t base; /* 32 bits (16-bit and 32-bit modes) or 64 bits (long mode) */
};

int main(void)
{
	static const struct idt_ptr empty = { .limit = 0, .base = 0 };

#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL
	/* Real mode: KVM's real-mode interrupt emulation (used when the CPU lacks unrestricted
	 * guest, and on paravirtual KVM) reads the IVT without checking its limit, so the #UD
	 * would be "delivered" through vector 6 of a zeroed IVT. Setting CR0.PE first (no far
	 * jump: CS keeps its real-mode cache) makes delivery use protected-mode IDT checks,
	 * which every KVM implements; it is still the real-mode image that shuts down. */
	__asm__ volatile("lidt %0\n\t"
			 "movl %%cr0, %%eax\n\t"
			 "orl %1, %%eax\n\t"
			 "movl %%eax, %%cr0\n\t"
			 "ud2"
			 : : "m"(empty), "i"(CR0_PE) : "eax", "memory");
#else
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty) : "memory");
#endif
	return 1;
}
