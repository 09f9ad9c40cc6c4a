/* Software page walker: translates a guest-virtual address the way the CPU would, reading
 * the guest's paging structures through gmem_ptr, and (x86_walk_describe, x86_walk_segment)
 * records every level it reads and the DS segment step for --walk and fault reports.
 * Read-only: it never sets accessed or dirty bits, because a host-side lookup is not a guest
 * access. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "x86/bits.h"
#include "x86/pagewalk.h"

void x86_paging_from_sregs(const struct kvm_sregs *sregs, struct x86_paging *p)
{
	p->cr0 = sregs->cr0;
	p->cr3 = sregs->cr3;
	p->cr4 = sregs->cr4;
	p->efer = sregs->efer;
}

bool x86_paging_enabled(const struct x86_paging *p)
{
	/* CR0.PG is ignored unless CR0.PE is set; setting PG without PE is a #GP, so PG alone
	 * decides (SDM Vol 3A 4.1.1). */
	return (p->cr0 & CR0_PG) != 0;
}

static int fault(struct x86_walk *w, int level, const char *why)
{
	w->level = level;
	w->why = why;
	return -EFAULT;
}

/* Table names by level (SDM Vol 3A 4.5: PML5 and PML4 tables, page-directory-pointer
 * table, page directory, page table; 32-bit paging has only the last two). */
static const char *const table_names[] = { "?", "PT", "PD", "PDPT", "PML4", "PML5" };

/* Note in T (when describing) the entry a walk read at LEVEL; E is NULL when the entry lies
 * outside guest memory. */
static void record(struct kvmbox_walk *t, int level, gpa_t table, uint64_t idx, unsigned size,
		   const void *e)
{
	struct kvmbox_walk_level *l;

	if (!t || t->nlevels >= KVMBOX_WALK_LEVELS_MAX)
		return;
	l = &t->levels[t->nlevels++];
	l->table = table_names[level];
	l->table_gpa = table;
	l->index = (unsigned)idx;
	l->entry_size = size;
	l->read = e != NULL;
	l->entry = !e ? 0 : size == 4 ? *(const uint32_t *)e : *(const uint64_t *)e;
}

/* Access rights accumulated over the levels of one walk (SDM Vol 3A 4.6): an access is
 * allowed only if every entry on the path allows it. The first level that denies it is
 * the one reported. */
struct rights {
	int no_rw_level; /* highest level whose entry has RW clear; 0: none */
	int no_us_level; /* highest level whose entry has US clear; 0: none */
};

static void rights_add(struct rights *r, uint64_t entry, int level)
{
	if (!(entry & PTE_RW) && !r->no_rw_level)
		r->no_rw_level = level;
	if (!(entry & PTE_US) && !r->no_us_level)
		r->no_us_level = level;
}

static int rights_check(const struct x86_paging *p, const struct rights *r, unsigned access,
			struct x86_walk *w)
{
	bool user = access & X86_WALK_USER;

	if (user && r->no_us_level)
		return fault(w, r->no_us_level, "not user");
	/* User writes need RW everywhere; supervisor writes only when CR0.WP is set (SDM Vol 3A
	 * 4.6.1). SMEP/SMAP/protection keys concern instruction fetches and CPL 3 data and are
	 * not modelled: the walker's callers are the host reading on the guest's behalf. */
	if ((access & X86_WALK_WRITE) && r->no_rw_level && (user || (p->cr0 & CR0_WP)))
		return fault(w, r->no_rw_level, "not writable");
	return 0;
}

static void done(struct x86_walk *w, gpa_t gpa, uint64_t page_size)
{
	w->gpa = gpa;
	w->page_size = page_size;
	w->level = 0;
	w->why = NULL;
}

/* 32-bit paging: a page directory of 1024 4-byte PDEs, then page tables or, with CR4.PSE,
 * 4 MiB pages (SDM Vol 3A 4.3). PSE-36 address bits 39:32 of a 4 MiB page are honoured;
 * the result is checked against guest memory by the caller. */
static int walk32(const struct gmem *mem, const struct x86_paging *p, gva_t va, unsigned access,
		  struct x86_walk *w, struct kvmbox_walk *t)
{
	struct rights r = { 0, 0 };
	const uint32_t *e;
	uint64_t pde, pte, idx;
	gpa_t table;
	int ret;

	if (va > UINT32_MAX)
		return fault(w, 2, "not a 32-bit address");

	table = p->cr3 & CR3_ADDR_MASK_32;
	idx = (va >> PDE32_SHIFT) & (PT_ENTRIES_32 - 1);
	e = gmem_ptr(mem, table + idx * sizeof(*e), sizeof(*e));
	record(t, 2, table, idx, sizeof(*e), e);
	if (!e)
		return fault(w, 2, "table outside guest memory");
	pde = *e;
	if (!(pde & PTE_P))
		return fault(w, 2, "not present");
	rights_add(&r, pde, 2);
	if ((pde & PTE_PS) && (p->cr4 & CR4_PSE)) {
		if (pde & PDE32_4M_RSVD)
			return fault(w, 2, "reserved bit");
		ret = rights_check(p, &r, access, w);
		if (ret)
			return ret;
		done(w, (pde & PDE32_4M_ADDR_MASK) |
			((pde >> PDE32_4M_PSE36_SHIFT) & PDE32_4M_PSE36_MASK) << PDE32_4M_PSE36_ADDR_SHIFT |
			(va & (PAGE_SIZE_4M - 1)), PAGE_SIZE_4M);
		return 0;
	}

	table = pde & PTE32_ADDR_MASK;
	idx = (va >> PAGE_SHIFT) & (PT_ENTRIES_32 - 1);
	e = gmem_ptr(mem, table + idx * sizeof(*e), sizeof(*e));
	record(t, 1, table, idx, sizeof(*e), e);
	if (!e)
		return fault(w, 1, "table outside guest memory");
	pte = *e;
	if (!(pte & PTE_P))
		return fault(w, 1, "not present");
	rights_add(&r, pte, 1);
	ret = rights_check(p, &r, access, w);
	if (ret)
		return ret;
	done(w, (pte & PTE32_ADDR_MASK) | (va & (PAGE_SIZE_4K - 1)), PAGE_SIZE_4K);
	return 0;
}

/* Reserved bits of a large-page entry mapping 2^SHIFT bytes: address bits below the page
 * size, other than the PAT bit 12 (SDM Vol 3A 4.5, Tables 4-17 and 4-15). */
static uint64_t large_page_rsvd(unsigned shift)
{
	return (BIT64(shift) - 1) & ~(PAGE_SIZE_4K - 1) & ~PTE_PAT_LARGE;
}

/* PAE and 4/5-level paging share the 8-byte entry format (SDM Vol 3A 4.4, 4.5). TOP is the
 * level of the root: 3 (PAE PDPT), 4 (PML4) or 5 (PML5). Levels below 4 index with 9 bits
 * above the 12-bit page offset; the PAE PDPT has 4 entries indexed by bits 31:30. */
static int walk64(const struct gmem *mem, const struct x86_paging *p, gva_t va, unsigned access,
		  struct x86_walk *w, struct kvmbox_walk *t, int top)
{
	bool pae = top == 3;
	struct rights r = { 0, 0 };
	gpa_t table;
	int level;

	table = p->cr3 & (pae ? CR3_ADDR_MASK_PAE : CR3_ADDR_MASK);
	for (level = top; level >= 1; level--) {
		unsigned shift = PAGE_SHIFT + PT_INDEX_BITS_64 * (unsigned)(level - 1);
		uint64_t idx = (va >> shift) & (PT_ENTRIES_64 - 1);
		const uint64_t *e;
		uint64_t entry;

		if (pae && level == 3)
			idx = (va >> shift) & (PDPT_PAE_ENTRIES - 1);
		e = gmem_ptr(mem, table + idx * sizeof(*e), sizeof(*e));
		record(t, level, table, idx, sizeof(*e), e);
		if (!e)
			return fault(w, level, "table outside guest memory");
		entry = *e;
		if (!(entry & PTE_P))
			return fault(w, level, "not present");
		if ((entry & PTE_NX) && !(p->efer & EFER_NXE))
			return fault(w, level, "reserved bit");

		if (pae && level == 3) {
			/* A PAE PDPTE has no access-rights bits; RW and US are reserved there and
			 * the level counts as allowing everything (SDM Vol 3A 4.4.1). */
			if (entry & PDPTE_PAE_RSVD)
				return fault(w, level, "reserved bit");
			table = entry & PTE_ADDR_MASK;
			continue;
		}
		rights_add(&r, entry, level);

		if (level == 1 || (entry & PTE_PS)) {
			int ret;

			/* PS is reserved in PML4Es and PML5Es; in a PDPTE it maps a 1 GiB page,
			 * in a PDE a 2 MiB page (SDM Vol 3A 4.5.4). */
			if (level >= 4)
				return fault(w, level, "reserved bit");
			if (level > 1 && (entry & large_page_rsvd(shift)))
				return fault(w, level, "reserved bit");
			ret = rights_check(p, &r, access, w);
			if (ret)
				return ret;
			done(w, (entry & PTE_ADDR_MASK & ~(BIT64(shift) - 1)) | (va & (BIT64(shift) - 1)),
			     BIT64(shift));
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
	}
	return fault(w, 1, "not present"); /* not reached: level 1 always returns */
}

/* Canonical for N-bit linear addresses: bits 63:N-1 all equal (SDM Vol 1 3.3.7.1). */
static bool canonical(gva_t va, unsigned bits)
{
	unsigned s = 64 - bits;

	return (uint64_t)((int64_t)(va << s) >> s) == va;
}

/* The walk of x86_walk, recording into T when it is not NULL. */
static int walk_linear(const struct gmem *mem, const struct x86_paging *p, gva_t va, unsigned access,
		       struct x86_walk *w, struct kvmbox_walk *t)
{
	memset(w, 0, sizeof(*w));
	if (!x86_paging_enabled(p)) {
		/* Linear == physical. page_size 4 KiB keeps "bytes left in this page" arithmetic
		 * in callers valid (and conservative). */
		done(w, va, PAGE_SIZE_4K);
		return 0;
	}
	if (!(p->cr4 & CR4_PAE))
		return walk32(mem, p, va, access, w, t);
	if (!(p->efer & EFER_LMA))
		return walk64(mem, p, va, access, w, t, 3);
	if (p->cr4 & CR4_LA57) {
		if (!canonical(va, 57))
			return fault(w, 5, "non-canonical");
		return walk64(mem, p, va, access, w, t, 5);
	}
	if (!canonical(va, 48))
		return fault(w, 4, "non-canonical");
	return walk64(mem, p, va, access, w, t, 4);
}

int x86_walk(const struct gmem *mem, const struct x86_paging *p, gva_t va, unsigned access,
	     struct x86_walk *w)
{
	return walk_linear(mem, p, va, access, w, NULL);
}

static const char *paging_name(const struct x86_paging *p)
{
	if (!x86_paging_enabled(p))
		return "off";
	if (!(p->cr4 & CR4_PAE))
		return "32-bit";
	if (!(p->efer & EFER_LMA))
		return "PAE";
	return p->cr4 & CR4_LA57 ? "5-level" : "4-level";
}

int x86_walk_describe(const struct gmem *mem, const struct x86_paging *p, gva_t linear,
		      unsigned access, struct kvmbox_walk *t)
{
	struct x86_walk w;
	int ret;

	t->paging = paging_name(p);
	t->cr3 = x86_paging_enabled(p) ? p->cr3 : 0;
	t->nlevels = 0;
	ret = walk_linear(mem, p, linear, access, &w, t);
	t->mapped = ret == 0;
	t->why = w.why;
	t->gpa = ret == 0 ? w.gpa : 0;
	t->page_size = ret == 0 && x86_paging_enabled(p) ? w.page_size : 0;
	return ret;
}

/* Is OFFSET inside segment S? Expand-down data segments hold the offsets above the limit, up
 * to 0xffff or, with D/B, 0xffffffff (SDM Vol 3A 3.4.5.1); every other segment the offsets up
 * to the limit (KVM keeps the limit in bytes, G already applied). */
static bool in_limit(const struct kvm_segment *s, gva_t offset)
{
	bool expand_down = s->s && !(s->type & SEG_TYPE_CODE) && (s->type & SEG_TYPE_DATA_E);

	if (expand_down)
		return offset > s->limit && offset <= (s->db ? 0xffffffffull : 0xffffull);
	return offset <= s->limit;
}

int x86_walk_segment(const struct kvm_sregs *sregs, gva_t gva, struct kvmbox_walk *w)
{
	const struct kvm_segment *ds = &sregs->ds;

	w->gva = gva;
	if (x86_in_64bit_code(sregs)) {
		/* 64-bit mode treats the DS base as 0 and checks no limit (SDM Vol 3A 3.2.4). */
		w->segment = NULL;
		w->linear = gva;
		return 0;
	}
	w->segment = "ds";
	/* Real mode: the base is selector * 16, kept in the descriptor cache (SDM Vol 3A 20.1.1). */
	w->real_mode = !(sregs->cr0 & CR0_PE);
	w->selector = ds->selector;
	w->seg_base = ds->base;
	w->seg_limit = ds->limit;
	w->mapped = false;
	if (!w->real_mode && ds->unusable) {
		w->why = "ds is unusable (null selector)";
		return -EFAULT;
	}
	if (!in_limit(ds, gva)) {
		w->why = "beyond the ds limit";
		return -EFAULT;
	}
	/* Outside IA-32e mode linear addresses are 32 bits and wrap (SDM Vol 3A 3.4); real mode's
	 * 21-bit sum stays below that. */
	w->linear = (uint32_t)(ds->base + gva);
	return 0;
}
