/* Unit tests for src/x86: the memory layout, the CPU mode setup (checked through the software
 * page walker, which is how paged32 is verified on hosts whose KVM cannot run it), the walker
 * itself on hand-built tables, and the register helpers. No KVM needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "x86/bits.h"
#include "x86/layout.h"
#include "x86/x86.h"
#include "gmem_test.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- Guest memory for tests ----------------------------------------------------------- */

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* ---- One CPU mode set up on a fake vCPU ----------------------------------------------- */

struct mode_case {
	enum kvmbox_mode mode;
	uint64_t mem_size;
};

struct vcpu_fake {
	struct gmem mem;
	struct kvmbox_layout layout;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct x86_paging paging;
};

#define TEST_ENTRY 0x1000ull

static void fake_setup(const struct mode_case *c, struct vcpu_fake *v)
{
	struct kvmbox_error err = { "" };

	memset(v, 0, sizeof(*v));
	v->mem = mem_new(c->mem_size);
	assert_int_equal(kvmbox_layout_get(c->mode, c->mem_size, &v->layout, &err), 0);
	assert_int_equal(x86_mode_setup(c->mode, &v->mem, &v->layout, TEST_ENTRY, &v->sregs, &v->regs), 0);
	x86_paging_from_sregs(&v->sregs, &v->paging);
}

static bool mode_pages(enum kvmbox_mode m)
{
	return m == KVMBOX_MODE_PAGED32 || m == KVMBOX_MODE_LONG;
}

static uint64_t mode_page_size(enum kvmbox_mode m)
{
	return m == KVMBOX_MODE_PAGED32 ? PAGE_SIZE_4M : PAGE_SIZE_2M;
}

/* Every 4 KiB page of guest memory (each page's first and last byte, read and user write)
 * translates to itself. All pages even for 3 GiB: the walk only reads the system area. */
static void test_setup_identity_maps_all_memory(void **state)
{
	const struct mode_case *c = *state;
	struct vcpu_fake v;
	uint64_t npages, i;

	fake_setup(c, &v);
	assert_int_equal(x86_paging_enabled(&v.paging), mode_pages(c->mode));
	npages = c->mem_size / PAGE_SIZE_4K;
	for (i = 0; i < npages; i++) {
		gva_t va = i * PAGE_SIZE_4K;
		struct x86_walk w;

		assert_int_equal(x86_walk(&v.mem, &v.paging, va, 0, &w), 0);
		assert_int_equal(w.gpa, va);
		assert_int_equal(x86_walk(&v.mem, &v.paging, va + PAGE_SIZE_4K - 1,
					  X86_WALK_WRITE | X86_WALK_USER, &w), 0);
		assert_int_equal(w.gpa, va + PAGE_SIZE_4K - 1);
		if (mode_pages(c->mode))
			assert_int_equal(w.page_size, mode_page_size(c->mode));
	}
	mem_free(&v.mem);
}

/* The map ends at guest memory rounded up to the page size; the next byte faults. */
static void test_setup_beyond_mapped_range_faults(void **state)
{
	const struct mode_case *c = *state;
	uint64_t end = round_up(c->mem_size, mode_page_size(c->mode));
	struct vcpu_fake v;
	struct x86_walk w;

	fake_setup(c, &v);
	assert_int_equal(x86_walk(&v.mem, &v.paging, end - 1, 0, &w), 0);
	assert_int_equal(w.gpa, end - 1);
	assert_int_equal(x86_walk(&v.mem, &v.paging, end, 0, &w), -EFAULT);
	assert_string_equal(w.why, "not present");
	if (c->mode == KVMBOX_MODE_PAGED32) {
		assert_int_equal(w.level, 2);
		assert_int_equal(x86_walk(&v.mem, &v.paging, UINT32_MAX, 0, &w), -EFAULT);
	} else {
		/* Within the last mapped GiB the PD entry is missing, past it the PDPT entry. */
		assert_int_equal(w.level, end % GiB ? 2 : 3);
		assert_int_equal(x86_walk(&v.mem, &v.paging, 4 * GiB, 0, &w), -EFAULT);
		assert_int_equal(w.level, 3);
		assert_int_equal(x86_walk(&v.mem, &v.paging, 512 * GiB, 0, &w), -EFAULT);
		assert_int_equal(w.level, 4);
		assert_int_equal(x86_walk(&v.mem, &v.paging, 0xffffffff80000000ull, 0, &w), -EFAULT);
		assert_int_equal(w.level, 4);
	}
	mem_free(&v.mem);
}

/* Control registers: what each mode must have set and must have clear. */
static void test_setup_control_registers(void **state)
{
	const struct mode_case *c = *state;
	struct vcpu_fake v;

	fake_setup(c, &v);
	/* Caches on in every mode. */
	assert_int_equal(v.sregs.cr0 & (CR0_CD | CR0_NW), 0);
	switch (c->mode) {
	case KVMBOX_MODE_REAL:
		assert_int_equal(v.sregs.cr0 & (CR0_PE | CR0_PG), 0);
		assert_int_equal(v.sregs.cr4 & (CR4_PAE | CR4_PSE), 0);
		assert_int_equal(v.sregs.efer & (EFER_LME | EFER_LMA), 0);
		break;
	case KVMBOX_MODE_PROTECTED:
		assert_int_equal(v.sregs.cr0 & (CR0_PE | CR0_PG), CR0_PE);
		assert_int_equal(v.sregs.cr4 & (CR4_PAE | CR4_PSE), 0);
		assert_int_equal(v.sregs.efer & (EFER_LME | EFER_LMA), 0);
		assert_int_equal(v.sregs.cr3, 0);
		break;
	case KVMBOX_MODE_PAGED32:
		assert_int_equal(v.sregs.cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
		assert_int_equal(v.sregs.cr4 & (CR4_PAE | CR4_PSE), CR4_PSE);
		assert_int_equal(v.sregs.efer & (EFER_LME | EFER_LMA), 0);
		assert_int_equal(v.sregs.cr3, v.layout.pt_root);
		break;
	case KVMBOX_MODE_LONG:
		assert_int_equal(v.sregs.cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
		assert_int_equal(v.sregs.cr4 & (CR4_PAE | CR4_LA57), CR4_PAE);
		assert_int_equal(v.sregs.efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
		assert_int_equal(v.sregs.cr3, v.layout.pt_root);
		break;
	case KVMBOX_MODE_AUTO:
		fail();
	}
	mem_free(&v.mem);
}

/* Decode an 8-byte descriptor into KVM's segment-cache form (limit in bytes). */
static struct kvm_segment desc_decode(uint64_t d)
{
	struct kvm_segment s;
	uint64_t limit = (d & DESC_LIMIT_LO_MASK) | ((d >> DESC_LIMIT_HI_SHIFT) & DESC_LIMIT_HI_MASK) << 16;

	memset(&s, 0, sizeof(s));
	s.base = ((d >> DESC_BASE_LO_SHIFT) & DESC_BASE_LO_MASK) |
		 ((d >> DESC_BASE_HI_SHIFT) & DESC_BASE_HI_MASK) << 24;
	s.g = !!(d & DESC_G);
	s.limit = (uint32_t)(s.g ? (limit << PAGE_SHIFT) | (PAGE_SIZE_4K - 1) : limit);
	s.type = (uint8_t)((d >> DESC_TYPE_SHIFT) & DESC_TYPE_MASK);
	s.s = !!(d & DESC_S);
	s.dpl = (uint8_t)((d >> DESC_DPL_SHIFT) & DESC_DPL_MASK);
	s.present = !!(d & DESC_P);
	s.avl = !!(d & DESC_AVL);
	s.l = !!(d & DESC_L);
	s.db = !!(d & DESC_DB);
	return s;
}

/* The descriptor SEG->selector names in the in-memory GDT describes exactly SEG. */
static void assert_gdt_holds(const struct vcpu_fake *v, const struct kvm_segment *seg)
{
	gpa_t gdt = v->sregs.gdt.base;
	struct kvm_segment d;

	assert_int_equal(seg->selector & (SEL_TI | SEL_RPL_MASK), 0);
	assert_true(seg->selector != GDT_NULL);
	assert_true(seg->selector + 7u <= v->sregs.gdt.limit);
	d = desc_decode(get64(&v->mem, gdt + seg->selector));
	assert_int_equal(d.base, seg->base);
	assert_int_equal(d.limit, seg->limit);
	assert_int_equal(d.type, seg->type);
	assert_int_equal(d.s, seg->s);
	assert_int_equal(d.dpl, seg->dpl);
	assert_int_equal(d.present, seg->present);
	assert_int_equal(d.l, seg->l);
	assert_int_equal(d.db, seg->db);
	assert_int_equal(d.g, seg->g);
	assert_int_equal(d.avl, seg->avl);
}

/* Protected, paged32 and long: the GDT at layout->gdt holds the sregs segments, including
 * a busy TSS whose memory lies in the system area. */
static void test_setup_gdt_matches_sregs(void **state)
{
	const struct mode_case *c = *state;
	const struct kvm_segment *data[] = { NULL, NULL, NULL, NULL, NULL };
	struct vcpu_fake v;
	unsigned i;

	fake_setup(c, &v);
	assert_int_equal(v.sregs.gdt.base, v.layout.gdt);
	assert_int_equal(v.sregs.gdt.limit, GDT_LIMIT);
	assert_gdt_holds(&v, &v.sregs.cs);
	data[0] = &v.sregs.ds;
	data[1] = &v.sregs.es;
	data[2] = &v.sregs.fs;
	data[3] = &v.sregs.gs;
	data[4] = &v.sregs.ss;
	for (i = 0; i < 5; i++) {
		assert_int_equal(data[i]->selector, GDT_DATA32);
		assert_int_equal(data[i]->type, SEG_TYPE_DATA_WA);
		assert_gdt_holds(&v, data[i]);
	}
	assert_int_equal(v.sregs.tr.selector, GDT_TSS);
	assert_int_equal(v.sregs.tr.type, SYS_TYPE_TSS_BUSY);
	assert_int_equal(v.sregs.tr.s, 0);
	assert_true(v.sregs.tr.limit >= TSS_LIMIT);
	assert_true(v.sregs.tr.base >= v.layout.sys_base);
	assert_non_null(gmem_ptr(&v.mem, v.sregs.tr.base, TSS_SIZE));
	assert_gdt_holds(&v, &v.sregs.tr);
	assert_int_equal(v.sregs.ldt.unusable, 1);

	assert_int_equal(v.sregs.cs.base, 0);
	assert_int_equal(v.sregs.cs.limit, FLAT_SEG_LIMIT);
	assert_int_equal(v.sregs.cs.present, 1);
	assert_int_equal(v.sregs.cs.type, SEG_TYPE_CODE_RA);
	if (c->mode == KVMBOX_MODE_LONG) {
		assert_int_equal(v.sregs.cs.selector, GDT_CODE64);
		assert_int_equal(v.sregs.cs.l, 1);
		assert_int_equal(v.sregs.cs.db, 0);
		/* The 16-byte TSS descriptor's upper half holds base 63:32. */
		assert_int_equal(get64(&v.mem, v.layout.gdt + GDT_TSS + 8), v.sregs.tr.base >> 32);
	} else {
		assert_int_equal(v.sregs.cs.selector, GDT_CODE32);
		assert_int_equal(v.sregs.cs.l, 0);
		assert_int_equal(v.sregs.cs.db, 1);
	}
	mem_free(&v.mem);
}

/* Real mode: selectors and bases 0, 64 KiB limits, no paging structures. */
static void test_setup_real_mode_segments(void **state)
{
	const struct mode_case *c = *state;
	struct vcpu_fake v;
	const struct kvm_segment *segs[6];
	unsigned i;

	fake_setup(c, &v);
	segs[0] = &v.sregs.cs;
	segs[1] = &v.sregs.ds;
	segs[2] = &v.sregs.es;
	segs[3] = &v.sregs.fs;
	segs[4] = &v.sregs.gs;
	segs[5] = &v.sregs.ss;
	for (i = 0; i < 6; i++) {
		assert_int_equal(segs[i]->selector, 0);
		assert_int_equal(segs[i]->base, 0);
		assert_int_equal(segs[i]->limit, REAL_SEG_LIMIT);
		assert_int_equal(segs[i]->present, 1);
		assert_int_equal(segs[i]->s, 1);
		assert_int_equal(segs[i]->db, 0);
		assert_int_equal(segs[i]->l, 0);
	}
	assert_int_equal(v.sregs.cs.type, SEG_TYPE_CODE_RA);
	assert_int_equal(v.sregs.ss.type, SEG_TYPE_DATA_WA);
	assert_int_equal(v.sregs.cr3, 0);
	assert_int_equal(v.layout.gdt, 0);
	assert_int_equal(v.layout.pt_root, 0);
	assert_int_equal(v.layout.sys_base, c->mem_size);
	mem_free(&v.mem);
}

/* rip = entry, rsp = stack_top, rflags = the fixed bit, everything else zero. */
static void test_setup_registers(void **state)
{
	const struct mode_case *c = *state;
	struct kvm_regs zero;
	struct vcpu_fake v;

	fake_setup(c, &v);
	assert_int_equal(v.regs.rip, TEST_ENTRY);
	assert_int_equal(v.regs.rsp, v.layout.stack_top);
	assert_int_equal(v.regs.rflags, RFLAGS_FIXED);
	memset(&zero, 0, sizeof(zero));
	v.regs.rip = v.regs.rsp = v.regs.rflags = 0;
	assert_memory_equal(&v.regs, &zero, sizeof(zero));
	assert_int_equal(x86_in_64bit_code(&v.sregs), c->mode == KVMBOX_MODE_LONG);
	mem_free(&v.mem);
}

/* The stack grows down from stack_top: the bytes just below it are guest memory, writable
 * through the page tables, and not part of the system area. */
static void test_setup_stack_below_system_area(void **state)
{
	const struct mode_case *c = *state;
	struct vcpu_fake v;
	struct x86_walk w;

	fake_setup(c, &v);
	if (c->mode == KVMBOX_MODE_REAL) {
		assert_int_equal(v.layout.stack_top, REAL_STACK_TOP);
		assert_int_equal(v.sregs.ss.base, 0);
	} else {
		assert_int_equal(v.layout.sys_base, c->mem_size - SYS_AREA_SIZE);
		assert_int_equal(v.layout.stack_top, v.layout.sys_base);
	}
	assert_int_equal(x86_walk(&v.mem, &v.paging, v.layout.stack_top - 8, X86_WALK_WRITE, &w), 0);
	assert_non_null(gmem_ptr(&v.mem, w.gpa, 8));
	mem_free(&v.mem);
}

/* The GDT and paging structures lie inside the system area, [sys_base, mem_size). */
static void test_setup_tables_in_system_area(void **state)
{
	const struct mode_case *c = *state;
	struct vcpu_fake v;

	fake_setup(c, &v);
	assert_true(v.layout.gdt >= v.layout.sys_base);
	assert_true(v.layout.gdt + GDT_LIMIT < c->mem_size);
	assert_true(v.sregs.tr.base >= v.layout.sys_base);
	if (mode_pages(c->mode)) {
		assert_true(v.layout.pt_root >= v.layout.sys_base);
		assert_true(v.layout.pt_root + PAGE_SIZE_4K <= c->mem_size);
		assert_int_equal(v.layout.pt_root % PAGE_SIZE_4K, 0);
		/* Every table the root points to is in the system area too. */
		if (c->mode == KVMBOX_MODE_LONG) {
			uint64_t pdpt = get64(&v.mem, v.layout.pt_root) & PTE_ADDR_MASK;
			uint64_t g;

			assert_true(pdpt >= v.layout.sys_base);
			for (g = 0; g < round_up(c->mem_size, GiB) / GiB; g++) {
				uint64_t pd = get64(&v.mem, pdpt + g * 8) & PTE_ADDR_MASK;

				assert_true(pd >= v.layout.sys_base);
				assert_true(pd + PAGE_SIZE_4K <= c->mem_size);
			}
		}
	} else {
		assert_int_equal(v.layout.pt_root, 0);
	}
	mem_free(&v.mem);
}

/* ---- Layout ---------------------------------------------------------------------------- */

static void assert_size_rejected(uint64_t size)
{
	struct kvmbox_layout l;
	struct kvmbox_error err = { "" };

	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, size, &l, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "memory size"));
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_REAL, size, &l, NULL), -EINVAL);
}

static void test_layout_rejects_size_not_multiple_of_4k(void **state)
{
	(void)state;
	assert_size_rejected(KVMBOX_MEM_DEFAULT + 1);
	assert_size_rejected(KVMBOX_MEM_DEFAULT + 2 * KiB);
}

static void test_layout_rejects_size_below_min(void **state)
{
	(void)state;
	assert_size_rejected(0);
	assert_size_rejected(KVMBOX_MEM_MIN - PAGE_SIZE_4K);
}

static void test_layout_rejects_size_above_max(void **state)
{
	(void)state;
	assert_size_rejected(KVMBOX_MEM_MAX + PAGE_SIZE_4K);
	assert_size_rejected(4 * GiB);
	assert_size_rejected(UINT64_MAX - PAGE_SIZE_4K + 1);
}

static void test_layout_accepts_min_and_max(void **state)
{
	struct kvmbox_layout l;

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, KVMBOX_MEM_MIN, &l, NULL), 0);
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, KVMBOX_MEM_MAX, &l, NULL), 0);
}

static void test_layout_rejects_auto_mode(void **state)
{
	struct kvmbox_layout l;
	struct kvmbox_error err = { "" };

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_AUTO, KVMBOX_MEM_DEFAULT, &l, &err), -EINVAL);
	assert_true(err.msg[0] != '\0');
}

/* The 2 MiB default, exactly as docs/memory.md draws it. */
static void test_layout_default_long(void **state)
{
	struct kvmbox_layout l;

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, KVMBOX_MEM_DEFAULT, &l, NULL), 0);
	assert_int_equal(l.mem_size, 0x200000);
	assert_int_equal(l.sys_base, 0x1f0000);
	assert_int_equal(l.gdt, 0x1f0000);
	assert_int_equal(l.pt_root, 0x1f1000);
	assert_int_equal(l.stack_top, 0x1f0000);
}

static void test_layout_default_paged32_and_protected(void **state)
{
	struct kvmbox_layout l;

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_PAGED32, KVMBOX_MEM_DEFAULT, &l, NULL), 0);
	assert_int_equal(l.pt_root, 0x1f1000);
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_PROTECTED, KVMBOX_MEM_DEFAULT, &l, NULL), 0);
	assert_int_equal(l.sys_base, 0x1f0000);
	assert_int_equal(l.gdt, 0x1f0000);
	assert_int_equal(l.pt_root, 0);
	assert_int_equal(l.stack_top, 0x1f0000);
}

static void test_layout_real_has_no_system_area(void **state)
{
	struct kvmbox_layout l;

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_REAL, KVMBOX_MEM_DEFAULT, &l, NULL), 0);
	assert_int_equal(l.sys_base, KVMBOX_MEM_DEFAULT);
	assert_int_equal(l.gdt, 0);
	assert_int_equal(l.pt_root, 0);
	assert_int_equal(l.stack_top, 0xfff0);
}

/* ---- Mode names and setup argument checks ------------------------------------------- */

static void test_mode_names_round_trip(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < KVMBOX_MODE_COUNT; i++) {
		enum kvmbox_mode m;

		assert_int_equal(kvmbox_mode_parse(kvmbox_mode_name((enum kvmbox_mode)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_string_equal(kvmbox_mode_name(KVMBOX_MODE_PAGED32), "paged32");
	assert_string_equal(kvmbox_mode_name(KVMBOX_MODE_LONG), "long");
}

static void test_mode_parse_rejects_unknown(void **state)
{
	enum kvmbox_mode m = KVMBOX_MODE_LONG;

	(void)state;
	assert_int_equal(kvmbox_mode_parse("Long", &m), -EINVAL);
	assert_int_equal(kvmbox_mode_parse("", &m), -EINVAL);
	assert_int_equal(kvmbox_mode_parse(NULL, &m), -EINVAL);
	assert_int_equal(m, KVMBOX_MODE_LONG);
	assert_string_equal(kvmbox_mode_name((enum kvmbox_mode)99), "invalid");
}

static int setup_with(enum kvmbox_mode layout_mode, enum kvmbox_mode mode, gva_t entry)
{
	struct gmem m = mem_new(KVMBOX_MEM_DEFAULT);
	struct kvmbox_layout l;
	struct kvm_sregs s;
	struct kvm_regs r;
	int ret;

	memset(&s, 0, sizeof(s));
	assert_int_equal(kvmbox_layout_get(layout_mode, m.size, &l, NULL), 0);
	ret = x86_mode_setup(mode, &m, &l, entry, &s, &r);
	mem_free(&m);
	return ret;
}

static void test_setup_rejects_auto_mode(void **state)
{
	(void)state;
	assert_int_equal(setup_with(KVMBOX_MODE_LONG, KVMBOX_MODE_AUTO, 0), -EINVAL);
}

static void test_setup_rejects_layout_of_other_mode(void **state)
{
	(void)state;
	assert_int_equal(setup_with(KVMBOX_MODE_PROTECTED, KVMBOX_MODE_LONG, 0), -EINVAL);
	assert_int_equal(setup_with(KVMBOX_MODE_REAL, KVMBOX_MODE_PAGED32, 0), -EINVAL);
}

static void test_setup_rejects_layout_of_other_size(void **state)
{
	struct gmem m = mem_new(KVMBOX_MEM_DEFAULT);
	struct kvmbox_layout l;
	struct kvm_sregs s;
	struct kvm_regs r;

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, 2 * KVMBOX_MEM_DEFAULT, &l, NULL), 0);
	assert_int_equal(x86_mode_setup(KVMBOX_MODE_LONG, &m, &l, 0, &s, &r), -EINVAL);
	mem_free(&m);
}

static void test_setup_rejects_real_entry_above_64k(void **state)
{
	(void)state;
	assert_int_equal(setup_with(KVMBOX_MODE_REAL, KVMBOX_MODE_REAL, 0xffff), 0);
	assert_int_equal(setup_with(KVMBOX_MODE_REAL, KVMBOX_MODE_REAL, 0x10000), -EINVAL);
}

static void test_setup_rejects_32bit_entry_above_4g(void **state)
{
	(void)state;
	assert_int_equal(setup_with(KVMBOX_MODE_PROTECTED, KVMBOX_MODE_PROTECTED, 4 * GiB), -EINVAL);
	assert_int_equal(setup_with(KVMBOX_MODE_PAGED32, KVMBOX_MODE_PAGED32, 4 * GiB), -EINVAL);
}

static void test_setup_rejects_noncanonical_long_entry(void **state)
{
	(void)state;
	assert_int_equal(setup_with(KVMBOX_MODE_LONG, KVMBOX_MODE_LONG, 1ull << 47), -EINVAL);
	assert_int_equal(setup_with(KVMBOX_MODE_LONG, KVMBOX_MODE_LONG, 0xffff800000000000ull), 0);
}

/* Cross-check our descriptor encoding against the well-known flat descriptors. */
static void test_gdt_descriptors_have_well_known_encodings(void **state)
{
	struct gmem m = mem_new(KVMBOX_MEM_DEFAULT);
	struct kvmbox_layout l;
	struct kvm_sregs s;
	struct kvm_regs r;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_PROTECTED, m.size, &l, NULL), 0);
	assert_int_equal(x86_mode_setup(KVMBOX_MODE_PROTECTED, &m, &l, 0, &s, &r), 0);
	assert_int_equal(get64(&m, l.gdt + GDT_NULL), 0);
	assert_int_equal(get64(&m, l.gdt + GDT_CODE32), 0x00cf9b000000ffffull);
	assert_int_equal(get64(&m, l.gdt + GDT_DATA32), 0x00cf93000000ffffull);
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, m.size, &l, NULL), 0);
	assert_int_equal(x86_mode_setup(KVMBOX_MODE_LONG, &m, &l, 0, &s, &r), 0);
	assert_int_equal(get64(&m, l.gdt + GDT_CODE64), 0x00af9b000000ffffull);
	mem_free(&m);
}

/* Setup keeps the sregs fields no mode defines (here: the APIC base and CR8). */
static void test_setup_keeps_undefined_sregs_fields(void **state)
{
	struct gmem m = mem_new(KVMBOX_MEM_DEFAULT);
	struct kvmbox_layout l;
	struct kvm_sregs s;
	struct kvm_regs r;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.apic_base = 0xfee00900;
	s.cr8 = 5;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, m.size, &l, NULL), 0);
	assert_int_equal(x86_mode_setup(KVMBOX_MODE_LONG, &m, &l, 0, &s, &r), 0);
	assert_int_equal(s.apic_base, 0xfee00900);
	assert_int_equal(s.cr8, 5);
	mem_free(&m);
}

/* ---- The walker on hand-built tables ------------------------------------------------ */

/* A 16 MiB guest with 4-level tables at fixed addresses:
 *   PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 -> page 0x200000
 * for VA4K, whose index at every level is different and non-zero. */
#define W_MEM (16 * MiB)
#define W_PML4 0x1000ull
#define W_PDPT 0x2000ull
#define W_PD 0x3000ull
#define W_PT 0x4000ull
#define W_PAGE 0x200000ull
#define IDX4 3ull
#define IDX3 5ull
#define IDX2 7ull
#define IDX1 9ull
#define VA4K ((IDX4 << 39) | (IDX3 << 30) | (IDX2 << 21) | (IDX1 << 12))
#define ALL (PTE_P | PTE_RW | PTE_US)

struct walk_fixture {
	struct gmem mem;
	struct x86_paging p;
};

static int fixture_long(void **state)
{
	static struct walk_fixture f;

	f.mem = mem_new(W_MEM);
	put64(&f.mem, W_PML4 + IDX4 * 8, W_PDPT | ALL);
	put64(&f.mem, W_PDPT + IDX3 * 8, W_PD | ALL);
	put64(&f.mem, W_PD + IDX2 * 8, W_PT | ALL);
	put64(&f.mem, W_PT + IDX1 * 8, W_PAGE | ALL);
	f.p.cr0 = CR0_PE | CR0_PG | CR0_WP;
	f.p.cr3 = W_PML4;
	f.p.cr4 = CR4_PAE;
	f.p.efer = EFER_LME | EFER_LMA;
	*state = &f;
	return 0;
}

static int fixture_free(void **state)
{
	struct walk_fixture *f = *state;

	mem_free(&f->mem);
	return 0;
}

/* Clear BITS in the entry at GPA. */
static void entry_clear(const struct gmem *m, gpa_t gpa, uint64_t bits)
{
	put64(m, gpa, get64(m, gpa) & ~bits);
}

static void entry_set(const struct gmem *m, gpa_t gpa, uint64_t bits)
{
	put64(m, gpa, get64(m, gpa) | bits);
}

static void assert_fault(const struct walk_fixture *f, gva_t va, unsigned access, int level,
			 const char *why)
{
	struct x86_walk w;

	assert_int_equal(x86_walk(&f->mem, &f->p, va, access, &w), -EFAULT);
	assert_int_equal(w.level, level);
	assert_string_equal(w.why, why);
}

static void assert_maps(const struct walk_fixture *f, gva_t va, unsigned access, gpa_t gpa,
			uint64_t page_size)
{
	struct x86_walk w;

	assert_int_equal(x86_walk(&f->mem, &f->p, va, access, &w), 0);
	assert_int_equal(w.gpa, gpa);
	assert_int_equal(w.page_size, page_size);
}

static void test_walk64_4k_page(void **state)
{
	struct walk_fixture *f = *state;

	assert_maps(f, VA4K, 0, W_PAGE, PAGE_SIZE_4K);
	assert_maps(f, VA4K + 0xabc, X86_WALK_WRITE | X86_WALK_USER, W_PAGE + 0xabc, PAGE_SIZE_4K);
	/* The neighbouring page has no PTE. */
	assert_fault(f, VA4K + PAGE_SIZE_4K, 0, 1, "not present");
}

static void test_walk64_not_present_pml4e(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PML4 + IDX4 * 8, PTE_P);
	assert_fault(f, VA4K, 0, 4, "not present");
}

static void test_walk64_not_present_pdpte(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PDPT + IDX3 * 8, PTE_P);
	assert_fault(f, VA4K, 0, 3, "not present");
}

static void test_walk64_not_present_pde(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PD + IDX2 * 8, PTE_P);
	assert_fault(f, VA4K, 0, 2, "not present");
}

static void test_walk64_not_present_pte(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PT + IDX1 * 8, PTE_P);
	assert_fault(f, VA4K, 0, 1, "not present");
}

static void test_walk64_2m_page(void **state)
{
	struct walk_fixture *f = *state;

	put64(&f->mem, W_PD + IDX2 * 8, (4 * MiB) | ALL | PTE_PS);
	assert_maps(f, VA4K + 0x1234, 0, 4 * MiB + (IDX1 << 12) + 0x1234, PAGE_SIZE_2M);
}

static void test_walk64_1g_page(void **state)
{
	struct walk_fixture *f = *state;

	put64(&f->mem, W_PDPT + IDX3 * 8, GiB | ALL | PTE_PS);
	assert_maps(f, VA4K + 0x1234, 0, GiB + (IDX2 << 21) + (IDX1 << 12) + 0x1234, PAGE_SIZE_1G);
}

/* The walker returns the translation even past guest memory: bounds are the caller's. */
static void test_walk64_leaf_beyond_memory_is_translated(void **state)
{
	struct walk_fixture *f = *state;

	put64(&f->mem, W_PT + IDX1 * 8, (64 * GiB) | ALL);
	assert_maps(f, VA4K, 0, 64 * GiB, PAGE_SIZE_4K);
}

static void test_walk64_large_page_reserved_bits_fault(void **state)
{
	struct walk_fixture *f = *state;

	put64(&f->mem, W_PD + IDX2 * 8, (4 * MiB) | ALL | PTE_PS | (1ull << 13));
	assert_fault(f, VA4K, 0, 2, "reserved bit");
	/* The PAT bit 12 of a large page is not reserved. */
	put64(&f->mem, W_PD + IDX2 * 8, (4 * MiB) | ALL | PTE_PS | PTE_PAT_LARGE);
	assert_maps(f, VA4K, 0, 4 * MiB + (IDX1 << 12), PAGE_SIZE_2M);
}

static void test_walk64_ps_in_pml4e_is_reserved(void **state)
{
	struct walk_fixture *f = *state;

	entry_set(&f->mem, W_PML4 + IDX4 * 8, PTE_PS);
	assert_fault(f, VA4K, 0, 4, "reserved bit");
}

static void test_walk64_nx_reserved_without_nxe(void **state)
{
	struct walk_fixture *f = *state;

	entry_set(&f->mem, W_PD + IDX2 * 8, PTE_NX);
	assert_fault(f, VA4K, 0, 2, "reserved bit");
	f->p.efer |= EFER_NXE;
	assert_maps(f, VA4K, 0, W_PAGE, PAGE_SIZE_4K);
}

static void test_walk64_user_needs_us_at_every_level(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PDPT + IDX3 * 8, PTE_US);
	assert_fault(f, VA4K, X86_WALK_USER, 3, "not user");
	assert_maps(f, VA4K, 0, W_PAGE, PAGE_SIZE_4K); /* supervisor may */
}

/* With several levels denying, the highest (first walked) one is reported. */
static void test_walk64_reports_highest_denying_level(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PT + IDX1 * 8, PTE_RW);
	entry_clear(&f->mem, W_PDPT + IDX3 * 8, PTE_RW);
	assert_fault(f, VA4K, X86_WALK_WRITE | X86_WALK_USER, 3, "not writable");
}

static void test_walk64_user_write_to_readonly_faults_even_without_wp(void **state)
{
	struct walk_fixture *f = *state;

	f->p.cr0 &= ~CR0_WP;
	entry_clear(&f->mem, W_PT + IDX1 * 8, PTE_RW);
	assert_fault(f, VA4K, X86_WALK_WRITE | X86_WALK_USER, 1, "not writable");
	assert_maps(f, VA4K, X86_WALK_USER, W_PAGE, PAGE_SIZE_4K); /* reading is fine */
}

static void test_walk64_supervisor_write_to_readonly_faults_with_wp(void **state)
{
	struct walk_fixture *f = *state;

	entry_clear(&f->mem, W_PD + IDX2 * 8, PTE_RW);
	assert_fault(f, VA4K, X86_WALK_WRITE, 2, "not writable");
}

static void test_walk64_supervisor_write_to_readonly_succeeds_without_wp(void **state)
{
	struct walk_fixture *f = *state;

	f->p.cr0 &= ~CR0_WP;
	entry_clear(&f->mem, W_PD + IDX2 * 8, PTE_RW);
	assert_maps(f, VA4K, X86_WALK_WRITE, W_PAGE, PAGE_SIZE_4K);
}

static void test_walk64_noncanonical_faults(void **state)
{
	struct walk_fixture *f = *state;

	assert_fault(f, 1ull << 47, 0, 4, "non-canonical");
	assert_fault(f, 0x8000000000000000ull, 0, 4, "non-canonical");
	assert_fault(f, VA4K | (1ull << 52), 0, 4, "non-canonical");
}

static void test_walk64_high_half_translates(void **state)
{
	struct walk_fixture *f = *state;

	/* 0xffffffff80000000: PML4 511, PDPT 510, a 1 GiB page at 0. */
	put64(&f->mem, W_PML4 + 511 * 8, W_PDPT | ALL);
	put64(&f->mem, W_PDPT + 510 * 8, 0 | ALL | PTE_PS);
	assert_maps(f, 0xffffffff80000000ull + 0x5000, 0, 0x5000, PAGE_SIZE_1G);
}

static void test_walk64_root_outside_memory(void **state)
{
	struct walk_fixture *f = *state;

	f->p.cr3 = W_MEM;
	assert_fault(f, VA4K, 0, 4, "table outside guest memory");
}

static void test_walk64_pdpt_outside_memory(void **state)
{
	struct walk_fixture *f = *state;

	put64(&f->mem, W_PML4 + IDX4 * 8, (1ull << 40) | ALL);
	assert_fault(f, VA4K, 0, 3, "table outside guest memory");
}

static void test_walk64_pt_outside_memory(void **state)
{
	struct walk_fixture *f = *state;

	/* The page table would be the first page past guest memory. */
	put64(&f->mem, W_PD + IDX2 * 8, W_MEM | ALL);
	assert_fault(f, VA4K, 0, 1, "table outside guest memory");
}

/* 5-level paging: the same tables under a PML5 entry. */
static void test_walk64_la57_five_levels(void **state)
{
	struct walk_fixture *f = *state;
	const gpa_t pml5 = 0x5000;

	put64(&f->mem, pml5 + 2 * 8, W_PML4 | ALL);
	f->p.cr3 = pml5;
	f->p.cr4 |= CR4_LA57;
	assert_maps(f, (2ull << 48) | VA4K, 0, W_PAGE, PAGE_SIZE_4K);
	assert_fault(f, (3ull << 48) | VA4K, 0, 5, "not present");
	assert_fault(f, 1ull << 56, 0, 5, "non-canonical");
}

/* PAE (32-bit linear addresses, 64-bit entries): PDPT of 4 entries at CR3. */
static void test_walk_pae_4k_and_2m(void **state)
{
	struct walk_fixture *f = *state;
	const gpa_t pdpt = 0x6000, pd = 0x7000, pt = 0x8000;
	const gva_t va = (2ull << 30) | (IDX2 << 21) | (IDX1 << 12);

	put64(&f->mem, pdpt + 2 * 8, pd | PTE_P);
	put64(&f->mem, pd + IDX2 * 8, pt | ALL);
	put64(&f->mem, pt + IDX1 * 8, W_PAGE | ALL);
	put64(&f->mem, pd + (IDX2 + 1) * 8, (6 * MiB) | ALL | PTE_PS);
	f->p.efer = 0;
	f->p.cr3 = pdpt;
	assert_maps(f, va + 0x10, X86_WALK_WRITE | X86_WALK_USER, W_PAGE + 0x10, PAGE_SIZE_4K);
	assert_maps(f, va + PAGE_SIZE_2M, 0, 6 * MiB + (IDX1 << 12), PAGE_SIZE_2M);
	assert_fault(f, 1ull << 30, 0, 3, "not present");
}

static void test_walk_pae_pdpte_reserved_bits_fault(void **state)
{
	struct walk_fixture *f = *state;
	const gpa_t pdpt = 0x6000;

	put64(&f->mem, pdpt, 0x7000 | PTE_P | PTE_RW);
	f->p.efer = 0;
	f->p.cr3 = pdpt;
	assert_fault(f, 0, 0, 3, "reserved bit");
}

static void test_walk_paging_disabled_is_identity(void **state)
{
	struct walk_fixture *f = *state;

	f->p.cr0 = CR0_PE;
	assert_maps(f, VA4K, X86_WALK_WRITE | X86_WALK_USER, VA4K, PAGE_SIZE_4K);
	assert_false(x86_paging_enabled(&f->p));
}

/* ---- 32-bit paging on hand-built tables ---------------------------------------------- */

/* PD 0x1000, PT 0x2000; VA32 = PD index 5, PT index 9 -> page 0x300000. */
#define W32_PD 0x1000ull
#define W32_PT 0x2000ull
#define W32_PAGE 0x300000ull
#define VA32 ((5ull << 22) | (9ull << 12))

static int fixture_32(void **state)
{
	static struct walk_fixture f;

	f.mem = mem_new(W_MEM);
	put32(&f.mem, W32_PD + 5 * 4, (uint32_t)(W32_PT | ALL));
	put32(&f.mem, W32_PT + 9 * 4, (uint32_t)(W32_PAGE | ALL));
	f.p.cr0 = CR0_PE | CR0_PG | CR0_WP;
	f.p.cr3 = W32_PD;
	f.p.cr4 = CR4_PSE;
	f.p.efer = 0;
	*state = &f;
	return 0;
}

static void test_walk32_4k_page(void **state)
{
	struct walk_fixture *f = *state;

	assert_maps(f, VA32 + 0x777, X86_WALK_WRITE | X86_WALK_USER, W32_PAGE + 0x777, PAGE_SIZE_4K);
	assert_fault(f, VA32 + PAGE_SIZE_4K, 0, 1, "not present");
}

static void test_walk32_4m_pse_page(void **state)
{
	struct walk_fixture *f = *state;

	put32(&f->mem, W32_PD + 7 * 4, (uint32_t)((8 * MiB) | ALL | PTE_PS));
	assert_maps(f, (7ull << 22) + 0x123456, 0, 8 * MiB + 0x123456, PAGE_SIZE_4M);
}

/* Without CR4.PSE the PS bit is ignored and the PDE points to a page table. */
static void test_walk32_ps_ignored_without_cr4_pse(void **state)
{
	struct walk_fixture *f = *state;

	f->p.cr4 = 0;
	put32(&f->mem, W32_PD + 5 * 4, (uint32_t)(W32_PT | ALL | PTE_PS));
	assert_maps(f, VA32, 0, W32_PAGE, PAGE_SIZE_4K);
}

static void test_walk32_pse36_high_address_bits(void **state)
{
	struct walk_fixture *f = *state;

	put32(&f->mem, W32_PD + 7 * 4, (uint32_t)((8 * MiB) | ALL | PTE_PS | (1ull << PDE32_4M_PSE36_SHIFT)));
	assert_maps(f, 7ull << 22, 0, (1ull << 32) + 8 * MiB, PAGE_SIZE_4M);
}

static void test_walk32_4m_reserved_bit_faults(void **state)
{
	struct walk_fixture *f = *state;

	put32(&f->mem, W32_PD + 7 * 4, (uint32_t)((8 * MiB) | ALL | PTE_PS | PDE32_4M_RSVD));
	assert_fault(f, 7ull << 22, 0, 2, "reserved bit");
}

static void test_walk32_not_present_pde(void **state)
{
	struct walk_fixture *f = *state;

	assert_fault(f, 6ull << 22, 0, 2, "not present");
}

static void test_walk32_table_outside_memory(void **state)
{
	struct walk_fixture *f = *state;

	put32(&f->mem, W32_PD + 5 * 4, (uint32_t)((64 * MiB) | ALL));
	assert_fault(f, VA32, 0, 1, "table outside guest memory");
	f->p.cr3 = 0xfffff000;
	assert_fault(f, VA32, 0, 2, "table outside guest memory");
}

static void test_walk32_user_and_write_rights(void **state)
{
	struct walk_fixture *f = *state;

	put32(&f->mem, W32_PD + 5 * 4, (uint32_t)(W32_PT | PTE_P | PTE_RW));
	assert_fault(f, VA32, X86_WALK_USER, 2, "not user");
	put32(&f->mem, W32_PD + 5 * 4, (uint32_t)(W32_PT | ALL));
	put32(&f->mem, W32_PT + 9 * 4, (uint32_t)(W32_PAGE | PTE_P | PTE_US));
	assert_fault(f, VA32, X86_WALK_WRITE, 1, "not writable");
	f->p.cr0 &= ~CR0_WP;
	assert_maps(f, VA32, X86_WALK_WRITE, W32_PAGE, PAGE_SIZE_4K);
	assert_fault(f, VA32, X86_WALK_WRITE | X86_WALK_USER, 1, "not writable");
}

static void test_walk32_rejects_address_above_4g(void **state)
{
	struct walk_fixture *f = *state;

	assert_fault(f, (1ull << 32) | VA32, 0, 2, "not a 32-bit address");
}

/* ---- Paging state and register helpers ---------------------------------------------- */

static void test_paging_from_sregs_copies_control_registers(void **state)
{
	struct kvm_sregs s;
	struct x86_paging p;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.cr0 = CR0_PE | CR0_PG;
	s.cr3 = 0x1f1000;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	x86_paging_from_sregs(&s, &p);
	assert_int_equal(p.cr0, s.cr0);
	assert_int_equal(p.cr3, s.cr3);
	assert_int_equal(p.cr4, s.cr4);
	assert_int_equal(p.efer, s.efer);
	assert_true(x86_paging_enabled(&p));
}

static void test_in_64bit_code_false_in_compatibility_mode(void **state)
{
	struct kvm_sregs s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.efer = EFER_LME | EFER_LMA;
	assert_false(x86_in_64bit_code(&s));
	s.cs.l = 1;
	assert_true(x86_in_64bit_code(&s));
	s.efer = 0;
	assert_false(x86_in_64bit_code(&s));
}

static void test_format_regs_names_every_register(void **state)
{
	static const char *const names[] = { "rax=", "rbx=", "rcx=", "rdx=", "rsi=", "rdi=", "rsp=",
					     "rbp=", "r8 =", "r9 =", "r10=", "r11=", "r12=", "r13=",
					     "r14=", "r15=", "rip=", "rflags=", "cr0=", "cr3=", "cr4=",
					     "efer=", "cs=", "ss=" };
	struct kvm_regs r;
	struct kvm_sregs s;
	char buf[1024];
	size_t n, i;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	r.rip = 0x1234abcd;
	s.cs.selector = GDT_CODE64;
	n = x86_format_regs(buf, sizeof(buf), &r, &s);
	assert_int_equal(n, strlen(buf));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(strstr(buf, names[i]));
	assert_non_null(strstr(buf, "rip=000000001234abcd"));
	assert_non_null(strstr(buf, "cs=0018"));
}

static void test_format_regs_truncates(void **state)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char buf[16];

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(x86_format_regs(buf, sizeof(buf), &r, &s), sizeof(buf) - 1);
	assert_int_equal(buf[sizeof(buf) - 1], '\0');
	assert_int_equal(x86_format_regs(buf, 0, &r, &s), 0);
}

/* ---- Test list --------------------------------------------------------------------- */

/* Sizes as identifiers: the case names double as test names ("identity.../LONG/3GiB"). */
#define S_256KiB (256 * KiB)
#define S_2MiB (2 * MiB)
#define S_6MiB (6 * MiB)
#define S_1GiB (1 * GiB)
#define S_3GiB (3 * GiB)
#define CASE(m, sz) static struct mode_case c_##m##_##sz = { KVMBOX_MODE_##m, S_##sz }
#define SIZES(m) \
	CASE(m, 256KiB); CASE(m, 2MiB); CASE(m, 6MiB); CASE(m, 1GiB); CASE(m, 3GiB)
SIZES(REAL);
SIZES(PROTECTED);
SIZES(PAGED32);
SIZES(LONG);

#define MT(fn, m, sz) { #fn "/" #m "/" #sz, fn, NULL, NULL, &c_##m##_##sz }
#define MT_SIZES(fn, m) MT(fn, m, 256KiB), MT(fn, m, 2MiB), MT(fn, m, 6MiB), MT(fn, m, 1GiB), \
			MT(fn, m, 3GiB)
#define MT_ALL(fn) MT_SIZES(fn, REAL), MT_SIZES(fn, PROTECTED), MT_SIZES(fn, PAGED32), \
		   MT_SIZES(fn, LONG)
#define MT_SYS(fn) MT_SIZES(fn, PROTECTED), MT_SIZES(fn, PAGED32), MT_SIZES(fn, LONG)
#define MT_PAGED(fn) MT_SIZES(fn, PAGED32), MT_SIZES(fn, LONG)
#define WT(fn, fix) cmocka_unit_test_setup_teardown(fn, fix, fixture_free)

int main(void)
{
	const struct CMUnitTest tests[] = {
		MT_ALL(test_setup_identity_maps_all_memory),
		MT_PAGED(test_setup_beyond_mapped_range_faults),
		MT_ALL(test_setup_control_registers),
		MT_SYS(test_setup_gdt_matches_sregs),
		MT_SIZES(test_setup_real_mode_segments, REAL),
		MT_ALL(test_setup_registers),
		MT_ALL(test_setup_stack_below_system_area),
		MT_SYS(test_setup_tables_in_system_area),

		cmocka_unit_test(test_layout_rejects_size_not_multiple_of_4k),
		cmocka_unit_test(test_layout_rejects_size_below_min),
		cmocka_unit_test(test_layout_rejects_size_above_max),
		cmocka_unit_test(test_layout_accepts_min_and_max),
		cmocka_unit_test(test_layout_rejects_auto_mode),
		cmocka_unit_test(test_layout_default_long),
		cmocka_unit_test(test_layout_default_paged32_and_protected),
		cmocka_unit_test(test_layout_real_has_no_system_area),

		cmocka_unit_test(test_mode_names_round_trip),
		cmocka_unit_test(test_mode_parse_rejects_unknown),
		cmocka_unit_test(test_setup_rejects_auto_mode),
		cmocka_unit_test(test_setup_rejects_layout_of_other_mode),
		cmocka_unit_test(test_setup_rejects_layout_of_other_size),
		cmocka_unit_test(test_setup_rejects_real_entry_above_64k),
		cmocka_unit_test(test_setup_rejects_32bit_entry_above_4g),
		cmocka_unit_test(test_setup_rejects_noncanonical_long_entry),
		cmocka_unit_test(test_gdt_descriptors_have_well_known_encodings),
		cmocka_unit_test(test_setup_keeps_undefined_sregs_fields),

		WT(test_walk64_4k_page, fixture_long),
		WT(test_walk64_not_present_pml4e, fixture_long),
		WT(test_walk64_not_present_pdpte, fixture_long),
		WT(test_walk64_not_present_pde, fixture_long),
		WT(test_walk64_not_present_pte, fixture_long),
		WT(test_walk64_2m_page, fixture_long),
		WT(test_walk64_1g_page, fixture_long),
		WT(test_walk64_leaf_beyond_memory_is_translated, fixture_long),
		WT(test_walk64_large_page_reserved_bits_fault, fixture_long),
		WT(test_walk64_ps_in_pml4e_is_reserved, fixture_long),
		WT(test_walk64_nx_reserved_without_nxe, fixture_long),
		WT(test_walk64_user_needs_us_at_every_level, fixture_long),
		WT(test_walk64_reports_highest_denying_level, fixture_long),
		WT(test_walk64_user_write_to_readonly_faults_even_without_wp, fixture_long),
		WT(test_walk64_supervisor_write_to_readonly_faults_with_wp, fixture_long),
		WT(test_walk64_supervisor_write_to_readonly_succeeds_without_wp, fixture_long),
		WT(test_walk64_noncanonical_faults, fixture_long),
		WT(test_walk64_high_half_translates, fixture_long),
		WT(test_walk64_root_outside_memory, fixture_long),
		WT(test_walk64_pdpt_outside_memory, fixture_long),
		WT(test_walk64_pt_outside_memory, fixture_long),
		WT(test_walk64_la57_five_levels, fixture_long),
		WT(test_walk_pae_4k_and_2m, fixture_long),
		WT(test_walk_pae_pdpte_reserved_bits_fault, fixture_long),
		WT(test_walk_paging_disabled_is_identity, fixture_long),

		WT(test_walk32_4k_page, fixture_32),
		WT(test_walk32_4m_pse_page, fixture_32),
		WT(test_walk32_ps_ignored_without_cr4_pse, fixture_32),
		WT(test_walk32_pse36_high_address_bits, fixture_32),
		WT(test_walk32_4m_reserved_bit_faults, fixture_32),
		WT(test_walk32_not_present_pde, fixture_32),
		WT(test_walk32_table_outside_memory, fixture_32),
		WT(test_walk32_user_and_write_rights, fixture_32),
		WT(test_walk32_rejects_address_above_4g, fixture_32),

		cmocka_unit_test(test_paging_from_sregs_copies_control_registers),
		cmocka_unit_test(test_in_64bit_code_false_in_compatibility_mode),
		cmocka_unit_test(test_format_regs_names_every_register),
		cmocka_unit_test(test_format_regs_truncates),
	};

	return cmocka_run_group_tests_name("x86", tests, NULL, NULL);
}
