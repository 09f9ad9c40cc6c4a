/* Page-table builders: the identity maps kvmbox gives paged32 and long-mode guests
 * (docs/modes.md draws them). The software walker that reads them back is walk.c. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bits.h"
#include "layout.h"
#include "paging.h"

/* Flags of every identity-map entry: present, writable, and user-accessible so that a guest
 * that drops to CPL 3 still reaches its memory; the effective rights are the AND over all
 * levels (SDM Vol 3A 4.6), so intermediate entries need the same bits. */
#define IDMAP_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)
#define IDMAP_PAGE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_PS)

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) / align * align;
}

/* Zero one 4 KiB paging structure at GPA and return its host address, or NULL. */
static void *table_clear(const struct gmem *mem, gpa_t gpa)
{
	void *t = gmem_ptr(mem, gpa, SYS_TABLE_SIZE);

	if (t)
		memset(t, 0, SYS_TABLE_SIZE);
	return t;
}

static int layout_matches(const struct gmem *mem, const struct kvmbox_layout *layout)
{
	return layout->mem_size == mem->size && layout->pt_root != 0 &&
	       layout->pt_root % SYS_TABLE_SIZE == 0;
}

int x86_build_pd32(const struct gmem *mem, const struct kvmbox_layout *layout)
{
	uint32_t *pd;
	uint64_t npages, i;

	if (!layout_matches(mem, layout) || layout->mem_size > (1ull << 32))
		return -EINVAL;
	pd = table_clear(mem, layout->pt_root);
	if (!pd)
		return -EINVAL;

	/* With CR4.PSE a PDE with PS set maps a 4 MiB page directly (SDM Vol 3A 4.3). */
	npages = round_up(layout->mem_size, PAGE_SIZE_4M) / PAGE_SIZE_4M;
	for (i = 0; i < npages; i++)
		pd[i] = (uint32_t)((i * PAGE_SIZE_4M) | IDMAP_PAGE_FLAGS);
	return 0;
}

int x86_build_pml4(const struct gmem *mem, const struct kvmbox_layout *layout)
{
	gpa_t pdpt_gpa = layout->pt_root - SYS_PT_ROOT_OFF + SYS_PDPT_OFF;
	gpa_t pd_gpa = layout->pt_root - SYS_PT_ROOT_OFF + SYS_PD_OFF;
	uint64_t *pml4, *pdpt, *pd;
	uint64_t mapped, ngib, g, i;

	if (!layout_matches(mem, layout) || layout->mem_size > SYS_PD_MAX * PAGE_SIZE_1G)
		return -EINVAL;
	pml4 = table_clear(mem, layout->pt_root);
	pdpt = table_clear(mem, pdpt_gpa);
	if (!pml4 || !pdpt)
		return -EINVAL;
	pml4[0] = pdpt_gpa | IDMAP_TABLE_FLAGS;

	/* PML4 -> PDPT -> PD, with PS in the PDE making it a 2 MiB page (SDM Vol 3A 4.5.4). */
	mapped = round_up(layout->mem_size, PAGE_SIZE_2M);
	ngib = round_up(mapped, PAGE_SIZE_1G) / PAGE_SIZE_1G;
	for (g = 0; g < ngib; g++) {
		gpa_t this_pd = pd_gpa + g * SYS_TABLE_SIZE;

		pd = table_clear(mem, this_pd);
		if (!pd)
			return -EINVAL;
		pdpt[g] = this_pd | IDMAP_TABLE_FLAGS;
		for (i = 0; i < PT_ENTRIES_64; i++) {
			uint64_t addr = g * PAGE_SIZE_1G + i * PAGE_SIZE_2M;

			if (addr >= mapped)
				break;
			pd[i] = addr | IDMAP_PAGE_FLAGS;
		}
	}
	return 0;
}

int x86_build_guard_pt(const struct gmem *mem, const struct kvmbox_layout *layout, bool long_mode)
{
	gpa_t pt_gpa = layout->pt_root - SYS_PT_ROOT_OFF + SYS_GUARD_PT_OFF;
	/* The entry that maps the first large page: PD[0], the first PD's (long mode) or the
	 * page directory's (32-bit paging). */
	gpa_t pde_gpa = long_mode ? layout->pt_root - SYS_PT_ROOT_OFF + SYS_PD_OFF : layout->pt_root;
	uint64_t *pt64, *pde64;
	uint32_t *pt32, *pde32;
	unsigned i;

	if (!layout_matches(mem, layout))
		return -EINVAL;
	/* A page table in place of the large page, with every 4 KiB page of it but page 0
	 * (SDM Vol 3A 4.3 for 32-bit paging: 1024 4-byte entries; 4.5.4 for 4-level paging:
	 * 512 8-byte entries); an access to page 0 is then a not-present #PF. */
	if (long_mode) {
		pt64 = table_clear(mem, pt_gpa);
		pde64 = gmem_ptr(mem, pde_gpa, sizeof(*pde64));
		if (!pt64 || !pde64)
			return -EINVAL;
		for (i = 1; i < PT_ENTRIES_64; i++)
			pt64[i] = (uint64_t)i * PAGE_SIZE_4K | IDMAP_TABLE_FLAGS;
		*pde64 = pt_gpa | IDMAP_TABLE_FLAGS;
	} else {
		pt32 = table_clear(mem, pt_gpa);
		pde32 = gmem_ptr(mem, pde_gpa, sizeof(*pde32));
		if (!pt32 || !pde32)
			return -EINVAL;
		for (i = 1; i < PT_ENTRIES_32; i++)
			pt32[i] = (uint32_t)(i * PAGE_SIZE_4K) | IDMAP_TABLE_FLAGS;
		*pde32 = (uint32_t)pt_gpa | IDMAP_TABLE_FLAGS;
	}
	return 0;
}
