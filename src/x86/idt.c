/* The default exception handlers: an IDT (or, in real mode, the IVT) whose gates lead to
 * tiny stubs that report the exception to the host in one exit (docs/crash-reports.md),
 * and the places those reports are read back from (x86_exc_locate). */
#include <errno.h>
#include <string.h>

#include "kvmbox/abi.h"
#include "x86/bits.h"
#include "x86/idt.h"
#include "x86/layout.h"
#include "x86/x86.h"

/* The stubs' instructions; the same bytes decode alike in 16-, 32- and 64-bit code. */
#define OP_PUSH_IMM8 0x6au /* push imm8 (sign-extended to the stack width) */
#define OP_OUT_IMM8_AL 0xe6u /* out %al, $imm8 */
#define OP_HLT 0xf4u
#define OP_JMP_REL8 0xebu

/* Vectors for which the CPU pushes an error code outside real mode (SDM Vol 3A 6.13,
 * Table 6-1): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
static bool pushes_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/* The stub of vector V: a dummy error code where the CPU pushes none (always in real mode,
 * which never pushes one), the vector, the report, and a halt should the host resume it. */
static size_t stub_code(unsigned v, bool real, uint8_t out[X86_EXC_STUB_MAX])
{
	size_t n = 0;

	memset(out, 0, X86_EXC_STUB_MAX);
	if (real || !pushes_error_code(v)) {
		out[n++] = OP_PUSH_IMM8;
		out[n++] = 0;
	}
	out[n++] = OP_PUSH_IMM8;
	out[n++] = (uint8_t)v;
	out[n++] = OP_OUT_IMM8_AL;
	out[n++] = KVMBOX_PORT_EXC;
	out[n++] = OP_HLT;
	out[n++] = OP_JMP_REL8;
	out[n++] = (uint8_t)-3; /* back to the hlt */
	return n;
}

static void write_stubs(uint8_t *p, bool real)
{
	unsigned v;

	for (v = 0; v < X86_EXC_VECTORS; v++)
		stub_code(v, real, p + v * X86_EXC_STUB_MAX);
}

size_t x86_call_stub_code(uint8_t out[X86_CALL_STUB_MAX])
{
	memset(out, 0, X86_CALL_STUB_MAX);
	out[0] = OP_HLT;
	out[1] = OP_JMP_REL8;
	out[2] = (uint8_t)-3; /* back to the hlt, should anything resume it */
	return 3;
}

gva_t x86_call_stub_addr(enum kvmbox_mode mode, const struct kvmbox_layout *layout)
{
	return mode == KVMBOX_MODE_REAL ? REAL_CALL_RET : layout->sys_base + SYS_CALL_RET_OFF;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }

/* One IDT gate (SDM Vol 3A 6.11 Figure 6-2; 6.14.1 Figure 6-8 for the 16-byte form). */
static void gate(uint8_t *g, bool long_mode, uint64_t handler, uint16_t sel, uint8_t type, uint8_t ist)
{
	memset(g, 0, long_mode ? IDT_GATE64_SIZE : IDT_GATE32_SIZE);
	put16(g, (uint16_t)handler);
	put16(g + 2, sel);
	g[4] = ist;
	g[5] = (uint8_t)(GATE_P | type);
	put16(g + 6, (uint16_t)(handler >> 16));
	if (long_mode)
		put32(g + 8, (uint32_t)(handler >> 32));
}

/* The #DF task of the 32-bit modes: its own stack, so a #DF raised because the guest's
 * stack is unusable (a stack overflow) still reaches its stub (SDM Vol 3A 6.15, "Double
 * Fault Exception": a task gate is the recommended #DF handler). */
static void df_task(uint8_t *tss, gpa_t sys_base, uint64_t cr3)
{
	memset(tss, 0, TSS_SIZE);
	put32(tss + TSS32_CR3, (uint32_t)cr3);
	put32(tss + TSS32_EIP, (uint32_t)(sys_base + SYS_STUBS_OFF + 8 * X86_EXC_STUB_MAX));
	put32(tss + TSS32_EFLAGS, (uint32_t)RFLAGS_FIXED);
	put32(tss + TSS32_ESP, (uint32_t)(sys_base + SYS_DF_STACK_TOP));
	put32(tss + TSS32_CS, GDT_CODE32);
	put32(tss + TSS32_SS, GDT_DATA32);
	put32(tss + TSS32_DS, GDT_DATA32);
	put32(tss + TSS32_ES, GDT_DATA32);
	put32(tss + TSS32_FS, GDT_DATA32);
	put32(tss + TSS32_GS, GDT_DATA32);
	put16(tss + TSS_IOMAP_BASE_OFF, TSS_SIZE);
}

int idt_build(const struct gmem *mem, gpa_t sys_base, bool long_mode, uint64_t cr3,
	      struct kvm_dtable *idt)
{
	uint8_t *sys = gmem_ptr(mem, sys_base, SYS_AREA_SIZE);
	unsigned gsize = long_mode ? IDT_GATE64_SIZE : IDT_GATE32_SIZE;
	gpa_t stubs = sys_base + SYS_STUBS_OFF;
	unsigned v;

	if (!sys)
		return -EINVAL;
	write_stubs(sys + SYS_STUBS_OFF, false);
	x86_call_stub_code(sys + SYS_CALL_RET_OFF);
	for (v = 0; v < X86_EXC_VECTORS; v++)
		gate(sys + SYS_IDT_OFF + v * gsize, long_mode, stubs + v * X86_EXC_STUB_MAX,
		     long_mode ? GDT_CODE64 : GDT_CODE32, GATE_TYPE_INTR,
		     long_mode && v == 8 ? GATE_IST_DF : 0);
	/* Exceptions from CPL 3 switch to the stack in the TSS (SDM Vol 3A 6.12.1). */
	if (long_mode) {
		put64(sys + SYS_TSS_OFF + TSS64_RSP0, sys_base + SYS_EXC_STACK_TOP);
		put64(sys + SYS_TSS_OFF + TSS64_IST1, sys_base + SYS_DF_STACK_TOP);
	} else {
		put32(sys + SYS_TSS_OFF + TSS32_ESP0, (uint32_t)(sys_base + SYS_EXC_STACK_TOP));
		put32(sys + SYS_TSS_OFF + TSS32_SS0, GDT_DATA32);
		df_task(sys + SYS_DF_TSS_OFF, sys_base, cr3);
		gate(sys + SYS_IDT_OFF + 8 * gsize, false, 0, GDT_TSS_DF, GATE_TYPE_TASK, 0);
	}
	idt->base = sys_base + SYS_IDT_OFF;
	idt->limit = (uint16_t)(X86_EXC_VECTORS * gsize - 1);
	return 0;
}

int ivt_build(const struct gmem *mem)
{
	uint8_t *ivt = gmem_ptr(mem, 0, X86_EXC_VECTORS * IVT_ENTRY_SIZE);
	uint8_t *stubs = gmem_ptr(mem, REAL_STUBS_BASE, X86_EXC_VECTORS * X86_EXC_STUB_MAX);
	uint8_t *call_ret = gmem_ptr(mem, REAL_CALL_RET, X86_CALL_STUB_MAX);
	unsigned v;

	if (!ivt || !stubs || !call_ret)
		return -EINVAL;
	write_stubs(stubs, true);
	x86_call_stub_code(call_ret);
	/* An IVT entry is offset then segment (SDM Vol 3B 20.1.4); segment 0. */
	for (v = 0; v < X86_EXC_VECTORS; v++) {
		put16(ivt + v * IVT_ENTRY_SIZE, (uint16_t)(REAL_STUBS_BASE + v * X86_EXC_STUB_MAX));
		put16(ivt + v * IVT_ENTRY_SIZE + 2, 0);
	}
	return 0;
}

gva_t x86_exc_stub_addr(enum kvmbox_mode mode, const struct kvmbox_layout *layout, unsigned vector)
{
	gva_t base = mode == KVMBOX_MODE_REAL ? REAL_STUBS_BASE : layout->sys_base + SYS_STUBS_OFF;

	return base + (gva_t)vector * X86_EXC_STUB_MAX;
}

int x86_exc_stub_vector(enum kvmbox_mode mode, const struct kvmbox_layout *layout, gva_t linear)
{
	gva_t base = x86_exc_stub_addr(mode, layout, 0);

	if (linear < base || linear >= base + X86_EXC_VECTORS * X86_EXC_STUB_MAX)
		return -1;
	return (int)((linear - base) / X86_EXC_STUB_MAX);
}

bool x86_exc_stub_intact(enum kvmbox_mode mode, unsigned vector, const uint8_t code[X86_EXC_STUB_MAX])
{
	uint8_t want[X86_EXC_STUB_MAX];

	if (vector >= X86_EXC_VECTORS)
		return false;
	stub_code(vector, mode == KVMBOX_MODE_REAL, want);
	return memcmp(want, code, X86_EXC_STUB_MAX) == 0;
}

bool x86_exc_has_error_code(enum kvmbox_mode mode, unsigned vector)
{
	return mode != KVMBOX_MODE_REAL && pushes_error_code(vector);
}

void x86_exc_locate(enum kvmbox_mode mode, const struct kvmbox_layout *layout,
		    const struct kvm_regs *regs, const struct kvm_sregs *sregs,
		    struct x86_exc_frame_loc *loc)
{
	size_t w = mode == KVMBOX_MODE_REAL ? 2 : mode == KVMBOX_MODE_LONG ? 8 : 4;
	uint64_t sp = mode == KVMBOX_MODE_REAL ? regs->rsp & 0xffff
			: mode == KVMBOX_MODE_LONG ? regs->rsp : regs->rsp & 0xffffffff;

	memset(loc, 0, sizeof(*loc));
	loc->stack = sregs->ss.base + sp;
	/* vector, error code, ip, cs, flags; sp and ss too in long mode, and in 32-bit modes
	 * when the exception came from CPL 3 (SDM Vol 3A 6.12.1, Figures 6-4 and 6-9). */
	loc->stack_min = 5 * w;
	loc->stack_len = mode == KVMBOX_MODE_REAL ? 5 * w : 7 * w;
	if (mode == KVMBOX_MODE_LONG)
		loc->stack_min = 7 * w;
	/* Inside the 32-bit #DF task (a #DF came through the task gate): the faulting state is
	 * in the TSS the task switch left. Whatever vector reports from there is that double
	 * fault: nested SVM was seen re-injecting the original #PF after KVM emulated the task
	 * switch, so it is #PF's stub, not #DF's, that reports on the #DF task's stack. */
	if (mode != KVMBOX_MODE_REAL && mode != KVMBOX_MODE_LONG &&
	    sregs->tr.selector == GDT_TSS_DF) {
		loc->stack_min = loc->stack_len = 2 * w;
		loc->tss = layout->sys_base + SYS_TSS_OFF;
		loc->tss_len = TSS_SIZE;
	}
}

bool x86_idt_is_default(enum kvmbox_mode mode, const struct kvmbox_layout *layout,
			const struct kvm_sregs *sregs)
{
	if (mode == KVMBOX_MODE_REAL)
		return !(sregs->cr0 & CR0_PE) && sregs->idt.base == 0;
	return sregs->idt.base == layout->sys_base + SYS_IDT_OFF;
}
