/* kvmbox-modes: protected paged32 */
/* The 32-bit #DF task: `int $8` goes through kvmbox's #DF task gate, a task switch to the #DF
 * TSS, whose stub reports a double fault with the state the switch saved (rip after the
 * int). It is also the probe for hosts whose KVM cannot emulate task switches (kvm_pvm ends
 * it in KVM_EXIT_INTERNAL_ERROR): there a 32-bit stack overflow is a triple fault. A halt with
 * eax = 1 means the int returned. */
#include "kvmbox/guest.h"

__attribute__((noinline)) void raise_double_fault(void)
{
	__asm__ volatile("int $8"); /* exc-fault-line */
}

int main(void)
{
	raise_double_fault();
	return 1;
}
