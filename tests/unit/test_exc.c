/* Unit tests for the exception reports of src/x86 (idt.c, exc.c): the IDT, IVT and stubs
 * x86_mode_setup builds, the names and decoded error codes, the frames read back, and the
 * reset-state check. No KVM needed: frames are built by hand as the CPU would push them. */
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

#define MiB (1ull << 20)

struct vcpu {
	struct gmem mem;
	struct kvmbox_layout layout;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
};

static void setup_mode(struct vcpu *v, enum kvmbox_mode mode)
{
	void *p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	v->mem.host = p;
	v->mem.size = 2 * MiB;
	memset(&v->sregs, 0, sizeof(v->sregs));
	assert_int_equal(kvmbox_layout_get(mode, 2 * MiB, &v->layout, NULL), 0);
	assert_int_equal(x86_mode_setup(mode, &v->mem, &v->layout, 0x1000, &v->sregs, &v->regs), 0);
}

static void teardown(struct vcpu *v)
{
	munmap(v->mem.host, v->mem.size);
}

static uint64_t rd(const struct vcpu *v, gpa_t gpa, size_t n)
{
	uint64_t x = 0;

	memcpy(&x, gmem_ptr(&v->mem, gpa, n), n);
	return x;
}

/* Gate V of the long-mode IDT leads to V's stub, through the 64-bit code selector; #DF
 * runs on IST1; the TSS holds the exception and #DF stacks. */
static void test_long_idt_gates(void **state)
{
	struct vcpu v;
	unsigned vec;

	(void)state;
	setup_mode(&v, KVMBOX_MODE_LONG);
	assert_int_equal(v.sregs.idt.base, v.layout.sys_base + SYS_IDT_OFF);
	assert_int_equal(v.sregs.idt.limit, X86_EXC_VECTORS * IDT_GATE64_SIZE - 1);
	for (vec = 0; vec < X86_EXC_VECTORS; vec++) {
		gpa_t g = v.sregs.idt.base + vec * IDT_GATE64_SIZE;
		uint64_t off = rd(&v, g, 2) | rd(&v, g + 6, 2) << 16 | rd(&v, g + 8, 4) << 32;

		assert_int_equal(off, x86_exc_stub_addr(KVMBOX_MODE_LONG, &v.layout, vec));
		assert_int_equal(rd(&v, g + 2, 2), GDT_CODE64);
		assert_int_equal(rd(&v, g + 5, 1), GATE_P | GATE_TYPE_INTR);
		assert_int_equal(rd(&v, g + 4, 1), vec == 8 ? GATE_IST_DF : 0);
		assert_int_equal(x86_exc_stub_vector(KVMBOX_MODE_LONG, &v.layout, off + 5), (int)vec);
		assert_true(x86_exc_stub_intact(KVMBOX_MODE_LONG, vec, gmem_ptr(&v.mem, off, X86_EXC_STUB_MAX)));
	}
	assert_int_equal(rd(&v, v.sregs.tr.base + TSS64_RSP0, 8), v.layout.sys_base + SYS_EXC_STACK_TOP);
	assert_int_equal(rd(&v, v.sregs.tr.base + TSS64_IST1, 8), v.layout.sys_base + SYS_DF_STACK_TOP);
	assert_true(x86_idt_is_default(KVMBOX_MODE_LONG, &v.layout, &v.sregs));
	teardown(&v);
}

/* 32-bit modes: #DF is a task gate to a TSS that starts at the #DF stub on its own stack. */
static void test_protected_df_task(void **state)
{
	struct vcpu v;
	gpa_t g, tss;

	(void)state;
	setup_mode(&v, KVMBOX_MODE_PAGED32);
	g = v.sregs.idt.base + 8 * IDT_GATE32_SIZE;
	assert_int_equal(rd(&v, g + 2, 2), GDT_TSS_DF);
	assert_int_equal(rd(&v, g + 5, 1), GATE_P | GATE_TYPE_TASK);
	tss = v.layout.sys_base + SYS_DF_TSS_OFF;
	assert_int_equal(rd(&v, tss + TSS32_EIP, 4), x86_exc_stub_addr(KVMBOX_MODE_PAGED32, &v.layout, 8));
	assert_int_equal(rd(&v, tss + TSS32_ESP, 4), v.layout.sys_base + SYS_DF_STACK_TOP);
	assert_int_equal(rd(&v, tss + TSS32_CR3, 4), v.layout.pt_root);
	assert_int_equal(rd(&v, tss + TSS32_CS, 4), GDT_CODE32);
	/* The GDT's #DF TSS descriptor: available 32-bit TSS at that base. */
	assert_int_equal((rd(&v, v.layout.gdt + GDT_TSS_DF, 8) >> DESC_TYPE_SHIFT) & DESC_TYPE_MASK,
			 SYS_TYPE_TSS_AVAIL);
	assert_int_equal(v.sregs.gdt.limit, GDT_LIMIT);
	teardown(&v);
}

/* Real mode: IVT entries 0-31 point at the stubs (segment 0). */
static void test_real_ivt(void **state)
{
	struct vcpu v;
	unsigned vec;

	(void)state;
	setup_mode(&v, KVMBOX_MODE_REAL);
	for (vec = 0; vec < X86_EXC_VECTORS; vec++) {
		assert_int_equal(rd(&v, vec * 4, 2), x86_exc_stub_addr(KVMBOX_MODE_REAL, &v.layout, vec));
		assert_int_equal(rd(&v, vec * 4 + 2, 2), 0);
	}
	assert_true(x86_idt_is_default(KVMBOX_MODE_REAL, &v.layout, &v.sregs));
	teardown(&v);
}

/* A stub the guest overwrote, or an address outside the stubs, does not report. */
static void test_stub_checks(void **state)
{
	struct vcpu v;
	gva_t s;
	uint8_t *code;

	(void)state;
	setup_mode(&v, KVMBOX_MODE_LONG);
	s = x86_exc_stub_addr(KVMBOX_MODE_LONG, &v.layout, 14);
	assert_int_equal(x86_exc_stub_vector(KVMBOX_MODE_LONG, &v.layout, s - 1), 13);
	assert_int_equal(x86_exc_stub_vector(KVMBOX_MODE_LONG, &v.layout, 0x1000), -1);
	assert_int_equal(x86_exc_stub_vector(KVMBOX_MODE_LONG, &v.layout,
					     x86_exc_stub_addr(KVMBOX_MODE_LONG, &v.layout, 32)), -1);
	code = gmem_ptr(&v.mem, s, X86_EXC_STUB_MAX);
	assert_true(x86_exc_stub_intact(KVMBOX_MODE_LONG, 14, code));
	assert_false(x86_exc_stub_intact(KVMBOX_MODE_LONG, 13, code));
	code[0] ^= 0xff;
	assert_false(x86_exc_stub_intact(KVMBOX_MODE_LONG, 14, code));
	assert_false(x86_exc_stub_intact(KVMBOX_MODE_LONG, 40, code));
	teardown(&v);
}

static void describe(const struct x86_exception *e, const char *want)
{
	char buf[160];

	x86_exc_describe(buf, sizeof(buf), e);
	assert_string_equal(buf, want);
}

static void test_names_and_error_codes(void **state)
{
	unsigned vec;

	(void)state;
	for (vec = 0; vec < X86_EXC_VECTORS; vec++)
		assert_non_null(x86_exc_name(vec));
	assert_string_equal(x86_exc_mnemonic(21), "#CP");
	assert_string_equal(x86_exc_name(15), "reserved vector");
	assert_string_equal(x86_exc_name(99), "reserved vector");
	describe(&(struct x86_exception){ .vector = 0 }, "divide error (#DE)");
	describe(&(struct x86_exception){ .vector = 14, .has_error_code = true, .error_code = 0x2 },
		 "page fault (#PF, write, not present)");
	describe(&(struct x86_exception){ .vector = 14, .has_error_code = true, .error_code = 0x3 },
		 "page fault (#PF, write, read-only page)");
	describe(&(struct x86_exception){ .vector = 14, .has_error_code = true, .error_code = 0x5 },
		 "page fault (#PF, read, user mode, protection violation)");
	describe(&(struct x86_exception){ .vector = 14, .has_error_code = true, .error_code = 0x11 },
		 "page fault (#PF, instruction fetch, no-execute page)");
	describe(&(struct x86_exception){ .vector = 14, .has_error_code = true, .error_code = 0x9 },
		 "page fault (#PF, read, reserved bit set)");
	describe(&(struct x86_exception){ .vector = 13, .has_error_code = true, .error_code = 0x50 },
		 "general protection (#GP, selector 0x50: GDT index 10)");
	describe(&(struct x86_exception){ .vector = 13, .has_error_code = true, .error_code = 0x402 },
		 "general protection (#GP, IDT vector 128)");
	describe(&(struct x86_exception){ .vector = 11, .has_error_code = true, .error_code = 0x1d },
		 "segment not present (#NP, selector 0x18: LDT index 3, during an external event)");
	describe(&(struct x86_exception){ .vector = 13, .has_error_code = true },
		 "general protection (#GP, error code 0: not a selector)");
	describe(&(struct x86_exception){ .vector = 17, .has_error_code = true, .error_code = 4 },
		 "alignment check (#AC, error code 0x4)");
}

/* Frames as the CPU pushes them, with the stub's vector and dummy error code on top. */
static void test_decode_long_frame(void **state)
{
	struct kvm_regs regs = { .rsp = 0x7000 };
	struct kvm_sregs sregs = { .cr2 = 0x500000 };
	uint64_t f[7] = { 14, 0x3, 0x1234, 0x18, 0x10246, 0x7fe0, 0x10 };
	struct x86_exception e;

	(void)state;
	sregs.efer = EFER_LMA;
	assert_int_equal(x86_exc_decode(KVMBOX_MODE_LONG, &regs, &sregs, 14, (uint8_t *)f, sizeof(f), NULL, &e), 0);
	assert_int_equal(e.vector, 14);
	assert_int_equal(e.error_code, 3);
	assert_int_equal(e.rip, 0x1234);
	assert_int_equal(e.rsp, 0x7fe0);
	assert_int_equal(e.rflags, 0x10246);
	assert_int_equal(e.cr2, 0x500000);
	/* A long-mode frame always holds SS:RSP: fewer bytes cannot be decoded. */
	assert_int_equal(x86_exc_decode(KVMBOX_MODE_LONG, &regs, &sregs, 14, (uint8_t *)f, 5 * 8, NULL, &e), -EFAULT);
}

static void test_decode_32bit_frames(void **state)
{
	struct kvm_regs regs = { .rsp = 0x8000 };
	struct kvm_sregs sregs = { 0 };
	uint32_t same[5] = { 6, 0, 0x1100, GDT_CODE32, 0x10002 };
	uint32_t outer[7] = { 14, 0x5, 0x1200, 0x3b, 0x202, 0xbeffc8, 0x43 };
	uint8_t tss[TSS_SIZE] = { 0 };
	uint32_t df[2] = { 8, 0 }, v;
	struct x86_exception e;

	(void)state;
	sregs.cs.selector = GDT_CODE32;
	sregs.ss.selector = GDT_DATA32;
	assert_int_equal(x86_exc_decode(KVMBOX_MODE_PROTECTED, &regs, &sregs, 6, (uint8_t *)same, sizeof(same), NULL, &e), 0);
	assert_false(e.has_error_code);
	assert_int_equal(e.rip, 0x1100);
	assert_int_equal(e.rsp, 0x8000 + 5 * 4); /* where the stack was before the pushes */
	assert_int_equal(e.ss, GDT_DATA32);
	/* From CPL 3: SS:ESP were pushed too. */
	assert_int_equal(x86_exc_decode(KVMBOX_MODE_PAGED32, &regs, &sregs, 14, (uint8_t *)outer, sizeof(outer), NULL, &e), 0);
	assert_int_equal(e.cs, 0x3b);
	assert_int_equal(e.rsp, 0xbeffc8);
	assert_int_equal(e.ss, 0x43);
	/* Inside the #DF task: the state is the TSS the task switch left, whatever stub spoke. */
	sregs.tr.selector = GDT_TSS_DF;
	v = 0x1015;
	memcpy(tss + TSS32_EIP, &v, 4);
	v = 0;
	memcpy(tss + TSS32_ESP, &v, 4);
	assert_int_equal(x86_exc_decode(KVMBOX_MODE_PAGED32, &regs, &sregs, 14, (uint8_t *)df, sizeof(df), tss, &e), 0);
	assert_int_equal(e.vector, 8);
	assert_true(e.from_tss);
	assert_int_equal(e.rip, 0x1015);
	assert_int_equal(e.rsp, 0);
}

static void test_decode_real_frame_and_rewind(void **state)
{
	struct kvm_regs regs = { .rsp = 0xffd0 };
	struct kvm_sregs sregs = { 0 };
	uint16_t f[5] = { 0, 0, 0x1011, 0x0100, 0x0002 };
	struct x86_exception e;

	(void)state;
	assert_int_equal(x86_exc_decode(KVMBOX_MODE_REAL, &regs, &sregs, 0, (uint8_t *)f, sizeof(f), NULL, &e), 0);
	assert_false(e.has_error_code);
	assert_int_equal(e.rip, 0x1011);
	assert_int_equal(e.cs, 0x100);
	assert_int_equal(e.rsp, 0xffda);
	x86_exc_rewind(KVMBOX_MODE_REAL, &e, &regs, &sregs);
	assert_int_equal(regs.rip, 0x1011);
	assert_int_equal(regs.rsp, 0xffda);
	assert_int_equal(sregs.cs.base, 0x1000); /* selector * 16 */
}

static void test_reset_state_is_recognised(void **state)
{
	struct kvm_regs regs = { .rip = 0xfff0 };
	struct kvm_sregs sregs = { .cr0 = 0x60000010 };
	char buf[1024];

	(void)state;
	sregs.cs.base = 0xffff0000;
	assert_true(x86_regs_look_reset(&regs, &sregs));
	x86_format_regs(buf, sizeof(buf), &regs, &sregs);
	assert_non_null(strstr(buf, "reset state"));
	sregs.cr0 |= CR0_PE;
	assert_false(x86_regs_look_reset(&regs, &sregs));
	x86_format_regs(buf, sizeof(buf), &regs, &sregs);
	assert_null(strstr(buf, "reset state"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_idt_gates),
		cmocka_unit_test(test_protected_df_task),
		cmocka_unit_test(test_real_ivt),
		cmocka_unit_test(test_stub_checks),
		cmocka_unit_test(test_names_and_error_codes),
		cmocka_unit_test(test_decode_long_frame),
		cmocka_unit_test(test_decode_32bit_frames),
		cmocka_unit_test(test_decode_real_frame_and_rewind),
		cmocka_unit_test(test_reset_state_is_recognised),
	};

	return cmocka_run_group_tests_name("exc", tests, NULL, NULL);
}
