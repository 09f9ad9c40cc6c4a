/* kvmbox-modes: paged32 long */
/* #PF, not present: a write to 1 GiB, which kvmbox's identity map leaves unmapped (it maps
 * guest memory only). Long mode: PML4[0] -> PDPT[1] not present; paged32: PD[256] not
 * present. Halting with eax = 1 means no #PF came. */
#include "kvmbox/guest.h"

#define UNMAPPED 0x40000000u

__attribute__((noinline)) void fill_table(volatile uint32_t *t)
{
	t[0] = 42; /* exc-fault-line */
}

int main(void)
{
	fill_table((volatile uint32_t *)kvmbox_ptr(UNMAPPED));
	return 1;
}
