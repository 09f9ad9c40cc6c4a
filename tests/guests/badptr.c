/* A student's bad pointer: sum() reads an array at 0xdeadbeef, beyond guest memory in every
 * mode. Every mode stops the guest with a report naming sum and the line (tests/host/
 * test_faults.c): #PF in the paged modes, KVM_EXIT_MMIO in protected mode, #GP in real mode (an
 * offset past the 64 KiB segment limit; an MMIO exit where the CPU does not check limits). */
#include "kvmbox/guest.h"

__attribute__((noinline)) int sum(const int *a, int n)
{
	int s = 0;

	for (int i = 0; i < n; i++)
		s += a[i]; /* badptr-line */
	return s;
}

int main(void)
{
	return sum((const int *)kvmbox_ptr(0xdeadbeefu), 4);
}
