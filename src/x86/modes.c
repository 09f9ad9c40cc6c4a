/* The CPU modes kvmbox starts guests in: one table entry per mode (control registers,
 * segments, page-table builder) and x86_mode_setup, which applies an entry to a vCPU's
 * registers and builds the GDT, TSS and page tables in guest memory. docs/modes.md. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bits.h"
#include "idt.h"
#include "layout.h"
#include "paging.h"
#include "x86.h"

struct mode_desc {
	const char *name;
	uint64_t cr0, cr4, efer;
	bool has_gdt;              /* GDT + TSS in the system area (every mode but real) */
	struct kvm_segment code;   /* CS */
	struct kvm_segment data;   /* DS, ES, FS, GS, SS */
	x86_pt_builder build_pt;   /* NULL: paging off */
};

/* Real-mode segment caches: base 0, 64 KiB limit, present, accessed. VMX requires usable
 * segments to be accessed and CS to be a code type even in real mode with unrestricted
 * guest (SDM Vol 3C "Checks on Guest Segment Registers"). */
#define REAL_SEG(t) { .base = 0, .limit = REAL_SEG_LIMIT, .selector = 0, .type = (t), \
		      .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 0, .g = 0 }

/* Flat 4 GiB segments: base 0, limit 0xFFFFF in 4 KiB units (SDM Vol 3A 3.2.1 "Basic Flat
 * Model"). KVM takes the limit in bytes; with g = 1 it must be 0xFFFFFFFF. */
#define FLAT_SEG(sel, t, is_db, is_l) { .base = 0, .limit = FLAT_SEG_LIMIT, .selector = (sel), \
					.type = (t), .present = 1, .dpl = 0, .db = (is_db), \
					.s = 1, .l = (is_l), .g = 1 }

/* CR0: CD and NW stay clear (caching on, unlike the reset value); ET is hardwired; NE picks
 * native x87 error reporting as every modern OS does (SDM Vol 3A 2.5). WP makes paged
 * modes honour read-only pages in supervisor mode too (SDM Vol 3A 4.6). */
static const struct mode_desc modes[KVMBOX_MODE_COUNT] = {
	[KVMBOX_MODE_AUTO] = { .name = "auto" },
	[KVMBOX_MODE_REAL] = {
		.name = "real",
		.cr0 = CR0_ET | CR0_NE,
		.code = REAL_SEG(SEG_TYPE_CODE_RA),
		.data = REAL_SEG(SEG_TYPE_DATA_WA),
	},
	[KVMBOX_MODE_PROTECTED] = {
		.name = "protected",
		.cr0 = CR0_PE | CR0_ET | CR0_NE,
		.has_gdt = true,
		.code = FLAT_SEG(GDT_CODE32, SEG_TYPE_CODE_RA, 1, 0),
		.data = FLAT_SEG(GDT_DATA32, SEG_TYPE_DATA_WA, 1, 0),
	},
	[KVMBOX_MODE_PAGED32] = {
		.name = "paged32",
		.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
		.cr4 = CR4_PSE, /* 4 MiB pages (SDM Vol 3A 4.3) */
		.has_gdt = true,
		.code = FLAT_SEG(GDT_CODE32, SEG_TYPE_CODE_RA, 1, 0),
		.data = FLAT_SEG(GDT_DATA32, SEG_TYPE_DATA_WA, 1, 0),
		.build_pt = x86_build_pd32,
	},
	[KVMBOX_MODE_LONG] = {
		.name = "long",
		.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
		/* IA-32e mode needs PAE and LME, and LMA reads 1 once paging is on (SDM Vol 3A
		 * 9.8.5 "Initializing IA-32e Mode"); KVM accepts LMA directly in KVM_SET_SREGS. */
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA,
		.has_gdt = true,
		/* 64-bit code: L = 1 requires D = 0 (SDM Vol 3A 5.2.1). */
		.code = FLAT_SEG(GDT_CODE64, SEG_TYPE_CODE_RA, 0, 1),
		.data = FLAT_SEG(GDT_DATA32, SEG_TYPE_DATA_WA, 1, 0),
		.build_pt = x86_build_pml4,
	},
};

const char *kvmbox_mode_name(enum kvmbox_mode mode)
{
	if ((unsigned)mode >= KVMBOX_MODE_COUNT)
		return "invalid";
	return modes[mode].name;
}

int kvmbox_mode_parse(const char *name, enum kvmbox_mode *mode)
{
	unsigned i;

	if (!name || !mode)
		return -EINVAL;
	for (i = 0; i < KVMBOX_MODE_COUNT; i++) {
		if (strcmp(name, modes[i].name) == 0) {
			*mode = (enum kvmbox_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Encode KVM's segment cache as the 8-byte descriptor the CPU would load it from (SDM Vol 3A
 * 3.4.5, Figure 3-8). Returns 0 when the limit cannot be expressed. */
static uint64_t seg_desc(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> PAGE_SHIFT : s->limit;
	uint64_t base = s->base;
	uint64_t d = 0;

	if (limit > DESC_LIMIT_MAX_RAW)
		return 0;
	d |= limit & DESC_LIMIT_LO_MASK;
	d |= ((limit >> 16) & DESC_LIMIT_HI_MASK) << DESC_LIMIT_HI_SHIFT;
	d |= (base & DESC_BASE_LO_MASK) << DESC_BASE_LO_SHIFT;
	d |= ((base >> 24) & DESC_BASE_HI_MASK) << DESC_BASE_HI_SHIFT;
	d |= ((uint64_t)s->type & DESC_TYPE_MASK) << DESC_TYPE_SHIFT;
	d |= ((uint64_t)s->dpl & DESC_DPL_MASK) << DESC_DPL_SHIFT;
	if (s->s)
		d |= DESC_S;
	if (s->present)
		d |= DESC_P;
	if (s->avl)
		d |= DESC_AVL;
	if (s->l)
		d |= DESC_L;
	if (s->db)
		d |= DESC_DB;
	if (s->g)
		d |= DESC_G;
	return d;
}

/* Write the GDT (null, the mode's code and data descriptors, the TSS descriptor) and a
 * zeroed TSS into the GDT page of the system area. */
static int build_gdt(const struct gmem *mem, const struct kvmbox_layout *layout,
		     const struct mode_desc *md, const struct kvm_segment *tr, bool long_mode)
{
	gpa_t page = layout->gdt - SYS_GDT_OFF;
	uint8_t *p = gmem_ptr(mem, page, SYS_TABLE_SIZE);
	uint64_t gdt[GDT_ENTRIES] = { 0 };
	uint16_t iomap = TSS_SIZE;

	if (!p)
		return -EINVAL;
	memset(p, 0, SYS_TABLE_SIZE);
	gdt[md->code.selector >> SEL_INDEX_SHIFT] = seg_desc(&md->code);
	gdt[md->data.selector >> SEL_INDEX_SHIFT] = seg_desc(&md->data);
	gdt[tr->selector >> SEL_INDEX_SHIFT] = seg_desc(tr);
	/* In IA-32e mode system descriptors are 16 bytes; the second slot holds base 63:32
	 * (SDM Vol 3A 7.2.3 "TSS Descriptor in 64-bit mode"). Outside it the slot stays null. */
	if (long_mode)
		gdt[(tr->selector >> SEL_INDEX_SHIFT) + 1] = tr->base >> 32;
	else
		gdt[GDT_TSS_DF >> SEL_INDEX_SHIFT] = seg_desc(&(struct kvm_segment){
			.base = page + SYS_DF_TSS_OFF, .limit = TSS_LIMIT,
			.type = SYS_TYPE_TSS_AVAIL, .present = 1 });
	memcpy(p + SYS_GDT_OFF, gdt, sizeof(gdt));
	/* An I/O map base at or past the TSS limit means "no I/O permission bitmap": CPL 3
	 * port access is then governed by IOPL alone (SDM Vol 1 19.5.2). */
	memcpy(p + SYS_TSS_OFF + TSS_IOMAP_BASE_OFF, &iomap, sizeof(iomap));
	return 0;
}

static bool entry_ok(enum kvmbox_mode mode, gva_t entry)
{
	switch (mode) {
	case KVMBOX_MODE_REAL:
		return entry <= REAL_SEG_LIMIT; /* IP is 16 bits and CS.base is 0 */
	case KVMBOX_MODE_PROTECTED:
	case KVMBOX_MODE_PAGED32:
		return entry <= UINT32_MAX;
	case KVMBOX_MODE_LONG:
		/* Canonical: bits 63:47 equal (SDM Vol 1 3.3.7.1). */
		return (uint64_t)((int64_t)(entry << 16) >> 16) == entry;
	case KVMBOX_MODE_AUTO:
		break;
	}
	return false;
}

static bool layout_ok(enum kvmbox_mode mode, const struct gmem *mem,
		      const struct kvmbox_layout *layout)
{
	struct kvmbox_layout want;

	if (!mem || !mem->host || !layout)
		return false;
	if (kvmbox_layout_get(mode, mem->size, &want, NULL) != 0)
		return false;
	/* stack_top is the caller's to move; the tables must be where the builders expect. */
	return layout->mem_size == want.mem_size && layout->sys_base == want.sys_base &&
	       layout->gdt == want.gdt && layout->pt_root == want.pt_root;
}

/* TR and LDTR for MD. TR must be usable and hold a busy TSS for VM entry on VMX (SDM Vol 3C
 * "Checks on Guest Segment Registers"; SDM Vol 3A 7.2); in real mode it is KVM's reset
 * value. No LDT: a null LDTR selector makes LDTR unusable (SDM Vol 3A 3.5.1). */
static void system_segments(const struct mode_desc *md, const struct kvmbox_layout *layout,
			    struct kvm_segment *tr, struct kvm_segment *ldt)
{
	memset(tr, 0, sizeof(*tr));
	tr->type = SYS_TYPE_TSS_BUSY;
	tr->present = 1;
	if (md->has_gdt) {
		tr->selector = GDT_TSS;
		tr->base = layout->gdt - SYS_GDT_OFF + SYS_TSS_OFF;
		tr->limit = TSS_LIMIT;
	} else {
		tr->limit = REAL_SEG_LIMIT;
	}
	memset(ldt, 0, sizeof(*ldt));
	ldt->type = SYS_TYPE_LDT;
	ldt->unusable = 1;
}

/* GDTR and IDTR, building the GDT (with TR's descriptor) for the modes that have one. */
static int descriptor_tables(const struct mode_desc *md, const struct gmem *mem,
			     const struct kvmbox_layout *layout, const struct kvm_segment *tr,
			     struct kvm_sregs *sregs)
{
	int ret;

	if (!md->has_gdt) {
		/* The reset GDTR; the IDTR covers the real-mode interrupt vector table at 0
		 * (SDM Vol 3A 9.1.1 Table 9-1, Vol 3B "Interrupt and Exception Handling in
		 * Real-Address Mode"). */
		sregs->gdt.base = 0;
		sregs->gdt.limit = REAL_SEG_LIMIT;
		sregs->idt.base = 0;
		sregs->idt.limit = REAL_IVT_LIMIT;
		return ivt_build(mem);
	}
	ret = build_gdt(mem, layout, md, tr, md->efer & EFER_LMA);
	if (ret)
		return ret;
	sregs->gdt.base = layout->gdt;
	sregs->gdt.limit = GDT_LIMIT;
	/* kvmbox's default handlers report every exception in one exit (docs/crash-reports.md);
	 * a guest that loads its own IDT keeps it. */
	return idt_build(mem, layout->sys_base, md->efer & EFER_LMA, layout->pt_root, &sregs->idt);
}

int x86_mode_setup(enum kvmbox_mode mode, const struct gmem *mem, const struct kvmbox_layout *layout,
		   gva_t entry, struct kvm_sregs *sregs, struct kvm_regs *regs)
{
	const struct mode_desc *md;
	struct kvm_segment tr, ldt;
	int ret;

	if ((unsigned)mode >= KVMBOX_MODE_COUNT || mode == KVMBOX_MODE_AUTO || !sregs || !regs)
		return -EINVAL;
	if (!layout_ok(mode, mem, layout) || !entry_ok(mode, entry))
		return -EINVAL;
	md = &modes[mode];
	system_segments(md, layout, &tr, &ldt);
	ret = descriptor_tables(md, mem, layout, &tr, sregs);
	if (ret == 0 && md->build_pt)
		ret = md->build_pt(mem, layout);
	if (ret)
		return ret;

	sregs->cs = md->code;
	sregs->ds = md->data;
	sregs->es = md->data;
	sregs->fs = md->data;
	sregs->gs = md->data;
	sregs->ss = md->data;
	sregs->tr = tr;
	sregs->ldt = ldt;
	sregs->cr0 = md->cr0;
	sregs->cr3 = layout->pt_root;
	sregs->cr4 = md->cr4;
	sregs->efer = md->efer;

	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsp = layout->stack_top;
	regs->rflags = RFLAGS_FIXED;
	return 0;
}

unsigned x86_mode_tables(enum kvmbox_mode mode, const struct kvmbox_layout *layout,
			 struct x86_table *t, unsigned max)
{
	gpa_t page = layout->gdt - SYS_GDT_OFF, base;
	struct x86_table all[7 + SYS_PD_MAX];
	unsigned n = 0, i, npd;

	if ((unsigned)mode >= KVMBOX_MODE_COUNT || !modes[mode].has_gdt)
		return 0;
	all[n++] = (struct x86_table){ "GDT", layout->gdt, GDT_LIMIT + 1 };
	all[n++] = (struct x86_table){ "TSS", page + SYS_TSS_OFF, TSS_SIZE };
	if (mode != KVMBOX_MODE_LONG)
		all[n++] = (struct x86_table){ "#DF TSS", page + SYS_DF_TSS_OFF, TSS_SIZE };
	if (mode == KVMBOX_MODE_PAGED32)
		all[n++] = (struct x86_table){ "PD", layout->pt_root, SYS_TABLE_SIZE };
	if (mode == KVMBOX_MODE_LONG) {
		/* As x86_build_pml4 lays them out: one PD per started GiB of memory. */
		npd = (unsigned)((layout->mem_size + PAGE_SIZE_1G - 1) / PAGE_SIZE_1G);
		base = layout->pt_root - SYS_PT_ROOT_OFF;
		all[n++] = (struct x86_table){ "PML4", layout->pt_root, SYS_TABLE_SIZE };
		all[n++] = (struct x86_table){ "PDPT", base + SYS_PDPT_OFF, SYS_TABLE_SIZE };
		for (i = 0; i < npd && i < SYS_PD_MAX; i++)
			all[n++] = (struct x86_table){ "PD", base + SYS_PD_OFF + i * SYS_TABLE_SIZE,
						       SYS_TABLE_SIZE };
	}
	/* The default exception handlers (idt.c, docs/crash-reports.md). */
	all[n++] = (struct x86_table){ "IDT", page + SYS_IDT_OFF,
				       X86_EXC_VECTORS * (mode == KVMBOX_MODE_LONG ? IDT_GATE64_SIZE
										    : IDT_GATE32_SIZE) };
	all[n++] = (struct x86_table){ "exception stubs", page + SYS_STUBS_OFF,
				       X86_EXC_VECTORS * X86_EXC_STUB_MAX };
	for (i = 0; i < n && i < max; i++)
		t[i] = all[i];
	return n;
}

int x86_guard_null(enum kvmbox_mode mode, const struct gmem *mem, const struct kvmbox_layout *layout)
{
	if (mode != KVMBOX_MODE_PAGED32 && mode != KVMBOX_MODE_LONG)
		return -ENOTSUP;
	if (!layout_ok(mode, mem, layout))
		return -EINVAL;
	return x86_build_guard_pt(mem, layout, mode == KVMBOX_MODE_LONG);
}
