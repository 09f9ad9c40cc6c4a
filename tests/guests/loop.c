/* Spins forever without a single exit: for preemption and deadline tests (the host must
 * stop it with a timer or immediate_exit; a plain KVM_RUN never returns on its own). */
#include "kvmbox/guest.h"

int main(void)
{
	/* The empty asm keeps gcc from treating the loop as UB-free-to-delete (C11 6.8.5p6). */
	for (;;)
		__asm__ volatile("" : : : "memory");
}
