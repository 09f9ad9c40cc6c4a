/* For the #PF guests: the page-directory entry that maps an address in kvmbox's identity
 * map (long mode: 2 MiB pages, PML4[0] -> PDPT[i] -> PD[j]; paged32: 4 MiB pages, PD[j]),
 * found from CR3 the way the CPU finds it (SDM Vol 3A 4.3, 4.5). */
#ifndef EXC_PAGING_H
#define EXC_PAGING_H

#include "kvmbox/guest.h"

#define PTE_RW 0x2u /* writable */
#define PTE_US 0x4u /* user accessible */

#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
typedef uint64_t pde_t;
#define PT_ADDR_MASK 0x000ffffffffff000ull

static inline pde_t *pde_of(uintptr_t va)
{
	uintptr_t cr3;
	uint64_t *pml4, *pdpt;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & PT_ADDR_MASK);
	pdpt = (uint64_t *)(pml4[(va >> 39) & 511] & PT_ADDR_MASK);
	return (pde_t *)(pdpt[(va >> 30) & 511] & PT_ADDR_MASK) + ((va >> 21) & 511);
}
#else
typedef uint32_t pde_t;

static inline pde_t *pde_of(uintptr_t va)
{
	uintptr_t cr3;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	return (pde_t *)(cr3 & 0xfffff000u) + (va >> 22);
}
#endif

/* Change the entry that maps VA and drop its stale translation (SDM Vol 3A 4.10.4.1). */
static inline void pde_clear(uintptr_t va, pde_t bits)
{
	*(volatile pde_t *)pde_of(va) &= ~bits;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#endif
