/* kvmbox-modes: paged32 long */
/* #PF, write to a read-only page: the guest clears RW in the directory entry that maps
 * 0x500000 (run with 12 MiB, so that page holds neither the image nor the stack) and writes
 * there. CR0.WP makes that fault at CPL 0 (SDM Vol 3A 4.6). Halting with eax = 1 means no
 * #PF came. */
#include "exc_paging.h"

#define TARGET 0x500000u

__attribute__((noinline)) void store_value(volatile uint32_t *p)
{
	*p = 42; /* exc-fault-line */
}

int main(void)
{
	pde_clear(TARGET, PTE_RW);
	store_value((volatile uint32_t *)kvmbox_ptr(TARGET));
	return 1;
}
