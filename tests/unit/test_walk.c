/* Unit tests for the described page walk (src/x86/pagewalk.c x86_walk_describe and
 * x86_walk_segment, src/x86/pagewalk_text.c): hand-built tables for 32-bit paging (which this
 * host's KVM cannot run, so paged32 is checked here everywhere), PAE and 4-level paging; each
 * level recorded with its table, index and entry; the same answer as the plain walker; the
 * segment arithmetic of real and protected mode; both renderings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "x86/bits.h"
#include "x86/paging.h"
#include "x86/pagewalk.h"
#include "gmem_test.h"

#define MEM (8ull << 20)
#define PD32 0x10000ull  /* 32-bit paging: page directory */
#define PT32 0x11000ull  /* ... and one page table */
#define PML4 0x20000ull
#define PDPT 0x21000ull
#define PD64 0x22000ull
#define PT64 0x23000ull
#define PAGE 0x300000ull /* the 4 KiB page the page tables map */

struct fix {
	struct gmem mem;
	struct x86_paging p;
};

static int fix_free(void **state)
{
	struct fix *f = *state;

	munmap(f->mem.host, f->mem.size);
	free(f);
	return 0;
}

/* 32-bit paging: PD[1] -> PT at PT32 with PT[2] -> PAGE; PD[3] a 4 MiB page at 4 MiB, read-only. */
static int fix_paged32(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->mem = mem_new(MEM);
	put32(&f->mem, PD32 + 1 * 4, (uint32_t)(PT32 | PTE_P | PTE_RW | PTE_US | PTE_A));
	put32(&f->mem, PT32 + 2 * 4, (uint32_t)(PAGE | PTE_P | PTE_RW | PTE_A | PTE_D));
	put32(&f->mem, PD32 + 3 * 4, (uint32_t)((4ull << 20) | PTE_P | PTE_US | PTE_PS));
	f->p.cr0 = CR0_PE | CR0_PG | CR0_WP;
	f->p.cr3 = PD32;
	f->p.cr4 = CR4_PSE;
	*state = f;
	return 0;
}

/* 4-level paging: PML4[0] -> PDPT[0] -> PD[1] -> PT[2] -> PAGE, and PD[0] a 2 MiB page at 0. */
static int fix_long(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	uint64_t all = PTE_P | PTE_RW | PTE_US;

	f->mem = mem_new(MEM);
	put64(&f->mem, PML4, PDPT | all);
	put64(&f->mem, PDPT, PD64 | all);
	put64(&f->mem, PD64, 0 | all | PTE_PS);
	put64(&f->mem, PD64 + 1 * 8, PT64 | all);
	put64(&f->mem, PT64 + 2 * 8, PAGE | all | PTE_NX);
	f->p.cr0 = CR0_PE | CR0_PG | CR0_WP;
	f->p.cr3 = PML4;
	f->p.cr4 = CR4_PAE;
	f->p.efer = EFER_LME | EFER_LMA | EFER_NXE;
	*state = f;
	return 0;
}

static void assert_level(const struct kvmbox_walk *w, unsigned i, const char *table, gpa_t table_gpa,
			 unsigned index, unsigned size)
{
	assert_true(i < w->nlevels);
	assert_string_equal(w->levels[i].table, table);
	assert_int_equal(w->levels[i].table_gpa, table_gpa);
	assert_int_equal(w->levels[i].index, index);
	assert_int_equal(w->levels[i].entry_size, size);
	assert_true(w->levels[i].read);
}

static void brief_is(const struct kvmbox_walk *w, const char *want)
{
	char buf[256];

	assert_int_equal(x86_walk_format(w, true, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_paged32_4k(void **state)
{
	struct fix *f = *state;
	gva_t va = (1u << 22) | (2u << 12) | 0x123;
	struct kvmbox_walk w = { 0 };

	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va, X86_WALK_WRITE, &w), 0);
	assert_string_equal(w.paging, "32-bit");
	assert_int_equal(w.cr3, PD32);
	assert_int_equal(w.nlevels, 2);
	assert_level(&w, 0, "PD", PD32, 1, 4);
	assert_level(&w, 1, "PT", PT32, 2, 4);
	assert_int_equal(w.levels[1].entry, PAGE | PTE_P | PTE_RW | PTE_A | PTE_D);
	assert_true(w.mapped);
	assert_null(w.why);
	assert_int_equal(w.gpa, PAGE + 0x123);
	assert_int_equal(w.page_size, PAGE_SIZE_4K);
	w.in_slot = true;
	brief_is(&w, "PD[1] -> PT[2] -> 0x300123");
	/* The neighbouring PTE is empty; a user access is refused at the PT (US clear there). */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va + 4096, 0, &w), -EFAULT);
	brief_is(&w, "PD[1] -> PT[3] not present");
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va, X86_WALK_USER, &w), -EFAULT);
	brief_is(&w, "PD[1] -> PT[2] not user");
}

static void test_paged32_4m(void **state)
{
	struct fix *f = *state;
	gva_t va = (3u << 22) | 0x2345;
	struct kvmbox_walk w = { 0 };

	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va, 0, &w), 0);
	assert_int_equal(w.nlevels, 1);
	assert_level(&w, 0, "PD", PD32, 3, 4);
	assert_true(w.levels[0].entry & PTE_PS);
	assert_int_equal(w.gpa, (4ull << 20) + 0x2345);
	assert_int_equal(w.page_size, PAGE_SIZE_4M);
	/* Read-only under CR0.WP: a supervisor write stops at the PD. */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va, X86_WALK_WRITE, &w), -EFAULT);
	brief_is(&w, "PD[3] not writable");
	/* Without CR4.PSE the PS bit is ignored and the entry points to a page table. */
	f->p.cr4 = 0;
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va, 0, &w), -EFAULT);
	assert_int_equal(w.nlevels, 2);
	assert_level(&w, 1, "PT", 4ull << 20, 2, 4);
}

/* Every 4 KiB page of the 32-bit address space, at its first and last byte, with every access:
 * the described walk gives exactly the plain walker's answer. */
static void test_paged32_agrees_with_walker(void **state)
{
	struct fix *f = *state;
	uint64_t va;
	unsigned access;

	for (va = 0; va < (1ull << 32); va += 4096 * 37 + 1) {
		for (access = 0; access < 4; access++) {
			struct kvmbox_walk t = { 0 };
			struct x86_walk w;
			int a = x86_walk(&f->mem, &f->p, va, access, &w);
			int b = x86_walk_describe(&f->mem, &f->p, va, access, &t);

			assert_int_equal(a, b);
			assert_int_equal(t.mapped, a == 0);
			if (a == 0) {
				assert_int_equal(t.gpa, w.gpa);
				assert_int_equal(t.page_size, w.page_size);
			} else {
				assert_string_equal(t.why, w.why);
				assert_int_equal(t.levels[t.nlevels - 1].table[1] == 'D' ? 2 : 1, w.level);
			}
		}
	}
}

/* kvmbox's own paged32 identity map (x86_build_pd32): every mapped page translates to itself
 * through one 4 MiB PDE, and the first address past guest memory stops at the PD. */
static void test_paged32_kvmbox_map(void **state)
{
	struct kvmbox_layout l;
	struct gmem m = mem_new(MEM);
	struct x86_paging p = { .cr0 = CR0_PE | CR0_PG, .cr4 = CR4_PSE };
	struct kvmbox_walk w = { 0 };
	uint64_t va;

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_PAGED32, MEM, &l, NULL), 0);
	assert_int_equal(x86_build_pd32(&m, &l), 0);
	p.cr3 = l.pt_root;
	for (va = 0; va < MEM; va += 0x1000 * 13 + 7) {
		assert_int_equal(x86_walk_describe(&m, &p, va, X86_WALK_WRITE, &w), 0);
		assert_int_equal(w.gpa, va);
		assert_int_equal(w.nlevels, 1);
		assert_level(&w, 0, "PD", l.pt_root, (unsigned)(va >> 22), 4);
	}
	assert_int_equal(x86_walk_describe(&m, &p, MEM, 0, &w), -EFAULT);
	brief_is(&w, "PD[2] not present");
	munmap(m.host, m.size);
}

static void test_long_levels(void **state)
{
	struct fix *f = *state;
	struct kvmbox_walk w = { 0 };
	gva_t va = (1ull << 21) | (2ull << 12) | 0xabc;

	assert_int_equal(x86_walk_describe(&f->mem, &f->p, va, 0, &w), 0);
	assert_string_equal(w.paging, "4-level");
	assert_int_equal(w.nlevels, 4);
	assert_level(&w, 0, "PML4", PML4, 0, 8);
	assert_level(&w, 1, "PDPT", PDPT, 0, 8);
	assert_level(&w, 2, "PD", PD64, 1, 8);
	assert_level(&w, 3, "PT", PT64, 2, 8);
	assert_true(w.levels[3].entry & PTE_NX);
	assert_int_equal(w.gpa, PAGE + 0xabc);
	/* A 2 MiB page ends the walk at the PD. */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, 0x1234, 0, &w), 0);
	assert_int_equal(w.nlevels, 3);
	assert_int_equal(w.page_size, PAGE_SIZE_2M);
	assert_int_equal(w.gpa, 0x1234);
	/* 0x500000 is PD[2], which is empty: the walk stops there. */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, 0x500000, 0, &w), -EFAULT);
	brief_is(&w, "PML4[0] -> PDPT[0] -> PD[2] not present");
	/* A PDPTE pointing outside guest memory: the PD entry cannot be read. */
	put64(&f->mem, PDPT + 8, (1ull << 40) | PTE_P | PTE_RW);
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, 1ull << 30, 0, &w), -EFAULT);
	assert_false(w.levels[2].read);
	brief_is(&w, "PML4[0] -> PDPT[1] -> PD[0] table outside guest memory");
	/* Non-canonical: no level is read. */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, 1ull << 47, 0, &w), -EFAULT);
	assert_int_equal(w.nlevels, 0);
	brief_is(&w, "paging 4-level non-canonical");
	/* A reserved bit in a 2 MiB PDE. */
	put64(&f->mem, PD64 + 3 * 8, (3ull << 21) | (1ull << 13) | PTE_P | PTE_PS);
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, 3ull << 21, 0, &w), -EFAULT);
	brief_is(&w, "PML4[0] -> PDPT[0] -> PD[3] reserved bit");
}

static void test_pae_levels(void **state)
{
	struct fix *f = *state;
	struct kvmbox_walk w = { 0 };

	/* PAE: a 4-entry PDPT (here at PDPT), then the same PD and PT. */
	put64(&f->mem, PDPT, PD64 | PTE_P);
	f->p.cr3 = PDPT;
	f->p.efer = EFER_NXE; /* the PTE has NX set: reserved without NXE */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, (1u << 21) | (2u << 12), 0, &w), 0);
	assert_string_equal(w.paging, "PAE");
	assert_int_equal(w.nlevels, 3);
	assert_level(&w, 0, "PDPT", PDPT, 0, 8);
	assert_int_equal(w.gpa, PAGE);
}

static void test_paging_off(void **state)
{
	struct x86_paging p = { .cr0 = CR0_PE };
	struct kvmbox_walk w = { 0 };
	struct gmem m = { 0 };
	char buf[512];

	(void)state;
	assert_int_equal(x86_walk_describe(&m, &p, 0x1234, 0, &w), 0);
	assert_string_equal(w.paging, "off");
	assert_int_equal(w.nlevels, 0);
	assert_int_equal(w.gpa, 0x1234);
	assert_int_equal(w.page_size, 0);
	w.in_slot = true;
	brief_is(&w, "paging off -> 0x1234");
	x86_walk_format(&w, false, buf, sizeof(buf));
	assert_non_null(strstr(buf, "paging    off: physical = linear\n"));
	assert_non_null(strstr(buf, "physical  0x1234\n"));
}

static struct kvm_sregs sregs_real(uint16_t ds)
{
	struct kvm_sregs s = { 0 };

	s.ds.selector = ds;
	s.ds.base = (uint64_t)ds << 4;
	s.ds.limit = 0xffff;
	s.ds.present = 1;
	s.ds.s = 1;
	s.ds.type = SEG_TYPE_DATA_WA;
	return s;
}

static void test_segment_real(void **state)
{
	struct kvm_sregs s = sregs_real(0x100);
	struct kvmbox_walk w = { 0 };
	char buf[512];

	(void)state;
	assert_int_equal(x86_walk_segment(&s, 0x20, &w), 0);
	assert_true(w.real_mode);
	assert_string_equal(w.segment, "ds");
	assert_int_equal(w.linear, 0x1020);
	assert_int_equal(x86_walk_segment(&s, 0x10000, &w), -EFAULT);
	assert_string_equal(w.why, "beyond the ds limit");
	brief_is(&w, "ds 0x10000: beyond the ds limit 0xffff");
	x86_walk_format(&w, false, buf, sizeof(buf));
	assert_string_equal(buf, "walk 0x10000\n  segment   real mode: ds 0x0100 * 16 = 0x1000, + 0x10000: "
			    "beyond the ds limit 0xffff\n"
			    "  physical  none: beyond the ds limit\n");
}

static void test_segment_protected(void **state)
{
	struct kvm_sregs s = sregs_real(0x10);
	struct kvmbox_walk w = { 0 };

	(void)state;
	s.cr0 = CR0_PE;
	s.ds.base = 0x1000;
	s.ds.limit = 0xfff;
	assert_int_equal(x86_walk_segment(&s, 0xfff, &w), 0);
	assert_false(w.real_mode);
	assert_int_equal(w.linear, 0x1fff);
	assert_int_equal(x86_walk_segment(&s, 0x1000, &w), -EFAULT);
	/* Linear addresses wrap at 4 GiB outside IA-32e mode. */
	s.ds.base = 0xfffff000;
	s.ds.limit = 0xffffffff;
	assert_int_equal(x86_walk_segment(&s, 0x2000, &w), 0);
	assert_int_equal(w.linear, 0x1000);
	assert_int_equal(x86_walk_segment(&s, 0x100000000ull, &w), -EFAULT);
	/* Expand-down: the offsets above the limit are the valid ones. */
	s.ds.base = 0;
	s.ds.limit = 0xfff;
	s.ds.db = 1;
	s.ds.type = SEG_TYPE_DATA_WA | SEG_TYPE_DATA_E;
	assert_int_equal(x86_walk_segment(&s, 0xfff, &w), -EFAULT);
	assert_int_equal(x86_walk_segment(&s, 0x1000, &w), 0);
	/* A null selector leaves DS unusable. */
	s.ds.unusable = 1;
	assert_int_equal(x86_walk_segment(&s, 0x1000, &w), -EFAULT);
	assert_string_equal(w.why, "ds is unusable (null selector)");
}

static void test_segment_64bit(void **state)
{
	struct kvm_sregs s = sregs_real(0);
	struct kvmbox_walk w = { 0 };

	(void)state;
	s.cr0 = CR0_PE | CR0_PG;
	s.efer = EFER_LME | EFER_LMA;
	s.cs.l = 1;
	s.ds.base = 0x5000; /* ignored in 64-bit mode */
	assert_int_equal(x86_walk_segment(&s, 0x123456789ull, &w), 0);
	assert_null(w.segment);
	assert_int_equal(w.linear, 0x123456789ull);
}

/* The full text names each level's table, index, entry and bits, and where the page is. */
static void test_full_text(void **state)
{
	struct fix *f = *state;
	struct kvmbox_walk w = { 0 };
	char buf[2048], small[16];
	size_t n;

	w.gva = w.linear = (1ull << 21) | (2ull << 12) | 0xabc;
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, w.linear, 0, &w), 0);
	w.in_slot = true;
	w.slot_size = MEM;
	w.slot_hva = 0x7f0000000000ull;
	w.hva = w.slot_hva + w.gpa;
	n = x86_walk_format(&w, false, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "walk 0x202abc\n"));
	assert_non_null(strstr(buf, "  segment   none: 64-bit code is flat, linear = 0x202abc\n"));
	assert_non_null(strstr(buf, "  paging    4-level, CR3 0x20000\n"));
	assert_non_null(strstr(buf, "  PML4[0]   table 0x20000  entry 0x0000000000021007  "
				    "P=1 RW=1 US=1 PS=0 A=0 D=0 NX=0  -> PDPT 0x21000\n"));
	assert_non_null(strstr(buf, "  PT[2]     table 0x23000  entry 0x8000000000300007  "
				    "P=1 RW=1 US=1 PS=0 A=0 D=0 NX=1  -> 4 KiB page 0x300000\n"));
	assert_non_null(strstr(buf, "  physical  0x300abc\n"));
	assert_non_null(strstr(buf, "  memslot   0: guest-physical 0x0..0x7fffff at HVA 0x7f0000000000\n"));
	assert_non_null(strstr(buf, "  HVA       0x7f0000300abc (host-virtual: 0x7f0000000000 + 0x300abc)\n"));
	/* Truncated: NUL-terminated, and the length of the whole text is returned. */
	assert_int_equal(x86_walk_format(&w, false, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(x86_walk_format(&w, false, NULL, 0), n);
	/* A walk that stops says where and why, and that nothing is physical. */
	assert_int_equal(x86_walk_describe(&f->mem, &f->p, 0x500000, 0, &w), -EFAULT);
	x86_walk_format(&w, false, buf, sizeof(buf));
	assert_non_null(strstr(buf, "  PD[2]     table 0x22000  entry 0x0000000000000000  "
				    "P=0 RW=0 US=0 PS=0 A=0 D=0 NX=0  stop: not present\n"));
	assert_non_null(strstr(buf, "  physical  none: not present\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paged32_4k, fix_paged32, fix_free),
		cmocka_unit_test_setup_teardown(test_paged32_4m, fix_paged32, fix_free),
		cmocka_unit_test_setup_teardown(test_paged32_agrees_with_walker, fix_paged32, fix_free),
		cmocka_unit_test(test_paged32_kvmbox_map),
		cmocka_unit_test_setup_teardown(test_long_levels, fix_long, fix_free),
		cmocka_unit_test_setup_teardown(test_pae_levels, fix_long, fix_free),
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_segment_real),
		cmocka_unit_test(test_segment_protected),
		cmocka_unit_test(test_segment_64bit),
		cmocka_unit_test_setup_teardown(test_full_text, fix_long, fix_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
