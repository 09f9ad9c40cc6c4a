/* A broken IDT in every mode: the guest loads an IDT of 32 zeroed (not present) gates and
 * raises #UD. Delivering #UD faults on the gate (#NP), delivering that faults the same way
 * (#DF), and a fault while delivering #DF shuts the CPU down (SDM Vol 3A 6.15, "Interrupt
 * 8"): KVM_EXIT_SHUTDOWN, whose report must say that the guest's own IDT failed. Real mode
 * sets CR0.PE first, as tests/guests/triple.c explains. Halting with eax = 1: no fault. */
#include "kvmbox/guest.h"

#define CR0_PE 0x1u
#define GATES 32

struct __attribute__((packed)) idt_ptr {
	uint16_t limit;
	uintptr_t base;
};

static uint64_t zero_idt[GATES * 2]; /* 16-byte gates in long mode, 8 elsewhere */

int main(void)
{
	struct idt_ptr broken = { .limit = sizeof(zero_idt) - 1, .base = (uintptr_t)zero_idt };

#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL
	__asm__ volatile("lidt %0\n\t"
			 "movl %%cr0, %%eax\n\t"
			 "orl %1, %%eax\n\t"
			 "movl %%eax, %%cr0\n\t"
			 "ud2"
			 : : "m"(broken), "i"(CR0_PE) : "eax", "memory");
#else
	__asm__ volatile("lidt %0\n\tud2" : : "m"(broken) : "memory");
#endif
	return 1;
}
