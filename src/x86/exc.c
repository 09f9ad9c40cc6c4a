/* Exception reports: the names of the 32 exception vectors, the decoded error codes, and
 * the faulting state read back from the frame a default handler left (idt.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "x86/bits.h"
#include "x86/x86.h"

/* SDM Vol 3A 6.3.1, Table 6-1 (and AMD APM Vol 2 8.2 for #VC and #SX). */
static const struct {
	const char *mnemonic, *name;
} vectors[X86_EXC_VECTORS] = {
	[0] = { "#DE", "divide error" },
	[1] = { "#DB", "debug exception" },
	[2] = { "NMI", "non-maskable interrupt" },
	[3] = { "#BP", "breakpoint" },
	[4] = { "#OF", "overflow" },
	[5] = { "#BR", "bound range exceeded" },
	[6] = { "#UD", "invalid opcode" },
	[7] = { "#NM", "device not available" },
	[8] = { "#DF", "double fault" },
	[9] = { "#MF", "coprocessor segment overrun" },
	[10] = { "#TS", "invalid TSS" },
	[11] = { "#NP", "segment not present" },
	[12] = { "#SS", "stack-segment fault" },
	[13] = { "#GP", "general protection" },
	[14] = { "#PF", "page fault" },
	[16] = { "#MF", "x87 floating-point error" },
	[17] = { "#AC", "alignment check" },
	[18] = { "#MC", "machine check" },
	[19] = { "#XM", "SIMD floating-point exception" },
	[20] = { "#VE", "virtualization exception" },
	[21] = { "#CP", "control protection" },
	[28] = { "#HV", "hypervisor injection" },
	[29] = { "#VC", "VMM communication" },
	[30] = { "#SX", "security exception" },
};

const char *x86_exc_name(unsigned vector)
{
	return vector < X86_EXC_VECTORS && vectors[vector].name ? vectors[vector].name
								 : "reserved vector";
}

const char *x86_exc_mnemonic(unsigned vector)
{
	return vector < X86_EXC_VECTORS && vectors[vector].mnemonic ? vectors[vector].mnemonic
								     : "#??";
}

/* #PF error code (SDM Vol 3A 4.7, Figure 4-12). */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)
#define PF_PK (1u << 5)
#define PF_SS (1u << 6)

static const char *pf_cause(uint32_t ec)
{
	if (!(ec & PF_P))
		return "not present";
	if (ec & PF_RSVD)
		return "reserved bit set";
	if (ec & PF_PK)
		return "protection key";
	if (ec & PF_SS)
		return "shadow stack";
	if (ec & PF_U)
		return "protection violation"; /* supervisor-only or read-only: the walk says which */
	if (ec & PF_W)
		return "read-only page";
	if (ec & PF_I)
		return "no-execute page";
	return "protection violation";
}

/* "write, not present", "read, user mode, protection violation". */
static int describe_pf(char *buf, size_t len, uint32_t ec)
{
	return snprintf(buf, len, "%s%s, %s",
			ec & PF_I ? "instruction fetch" : ec & PF_W ? "write" : "read",
			ec & PF_U ? ", user mode" : "", pf_cause(ec));
}

/* Selector error code of #TS, #NP, #SS, #GP (SDM Vol 3A 6.13, Figure 6-7). */
#define SEL_EC_EXT (1u << 0)
#define SEL_EC_IDT (1u << 1)
#define SEL_EC_TI (1u << 2)

static int describe_selector(char *buf, size_t len, uint32_t ec)
{
	unsigned index = (ec & 0xffffu) >> SEL_INDEX_SHIFT;
	const char *ext = ec & SEL_EC_EXT ? ", during an external event" : "";

	if (ec == 0)
		return snprintf(buf, len, "error code 0: not a selector");
	if (ec & SEL_EC_IDT)
		return snprintf(buf, len, "IDT vector %u%s", index, ext);
	return snprintf(buf, len, "selector 0x%x: %s index %u%s", ec & 0xfff8u,
			ec & SEL_EC_TI ? "LDT" : "GDT", index, ext);
}

size_t x86_exc_describe(char *buf, size_t len, const struct x86_exception *e)
{
	char detail[128] = "";
	int n;

	if (!buf || !len)
		return 0;
	if (e->vector == 14 && e->has_error_code)
		describe_pf(detail, sizeof(detail), e->error_code);
	else if (e->has_error_code && e->vector >= 10 && e->vector <= 13)
		describe_selector(detail, sizeof(detail), e->error_code);
	else if (e->has_error_code && e->error_code)
		snprintf(detail, sizeof(detail), "error code 0x%x", e->error_code);
	n = snprintf(buf, len, "%s (%s%s%s)", x86_exc_name(e->vector), x86_exc_mnemonic(e->vector),
		     detail[0] ? ", " : "", detail);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static uint64_t word(const uint8_t *p, size_t w, unsigned i)
{
	uint64_t v = 0;

	memcpy(&v, p + i * w, w); /* little-endian, like the guest */
	return v;
}

static void from_tss(const uint8_t *tss, struct x86_exception *e)
{
	uint32_t v;

	memcpy(&v, tss + TSS32_EIP, 4);
	e->rip = v;
	memcpy(&v, tss + TSS32_EFLAGS, 4);
	e->rflags = v;
	memcpy(&v, tss + TSS32_ESP, 4);
	e->rsp = v;
	memcpy(&v, tss + TSS32_CS, 4);
	e->cs = (uint16_t)v;
	memcpy(&v, tss + TSS32_SS, 4);
	e->ss = (uint16_t)v;
	e->from_tss = true;
}

int x86_exc_decode(enum kvmbox_mode mode, const struct kvm_regs *regs,
		   const struct kvm_sregs *sregs, unsigned vector, const uint8_t *stack,
		   size_t stack_got, const uint8_t *tss, struct x86_exception *e)
{
	struct x86_exc_frame_loc loc;
	size_t w = mode == KVMBOX_MODE_REAL ? 2 : mode == KVMBOX_MODE_LONG ? 8 : 4;
	bool outer;

	memset(e, 0, sizeof(*e));
	/* Only the lengths matter here, not where the frame lies. */
	x86_exc_locate(mode, &(struct kvmbox_layout){ 0 }, regs, sregs, &loc);
	if (stack_got < loc.stack_min || (loc.tss_len && !tss))
		return -EFAULT;
	e->cr2 = sregs->cr2;
	if (loc.tss_len) {
		/* A double fault; its error code is always 0 (SDM Vol 3A 6.15, "Interrupt 8"). */
		e->vector = 8;
		e->has_error_code = true;
		from_tss(tss, e);
		return 0;
	}
	e->vector = (uint8_t)vector;
	e->has_error_code = x86_exc_has_error_code(mode, vector);
	e->error_code = e->has_error_code ? (uint32_t)word(stack, w, 1) : 0;
	e->rip = word(stack, w, 2);
	e->cs = (uint16_t)word(stack, w, 3);
	e->rflags = word(stack, w, 4);
	/* Outside long mode SS:SP are pushed only on a change to a more privileged level. */
	outer = mode == KVMBOX_MODE_LONG ||
		(mode != KVMBOX_MODE_REAL && (e->cs & SEL_RPL_MASK) != (sregs->cs.selector & SEL_RPL_MASK));
	if (outer && stack_got < 7 * w)
		return -EFAULT;
	e->rsp = outer ? word(stack, w, 5) : (regs->rsp + 5 * w) & (w == 2 ? 0xffff : 0xffffffff);
	e->ss = outer ? (uint16_t)word(stack, w, 6) : sregs->ss.selector;
	return 0;
}

void x86_exc_rewind(enum kvmbox_mode mode, const struct x86_exception *e, struct kvm_regs *regs,
		    struct kvm_sregs *sregs)
{
	regs->rip = e->rip;
	regs->rsp = e->rsp;
	regs->rflags = e->rflags | RFLAGS_FIXED;
	sregs->cs.selector = e->cs;
	sregs->ss.selector = e->ss;
	if (mode == KVMBOX_MODE_REAL) {
		/* Real mode: base = selector * 16 (SDM Vol 3B 20.1.1). */
		sregs->cs.base = (uint64_t)e->cs << 4;
		sregs->ss.base = (uint64_t)e->ss << 4;
	} else {
		sregs->cs.dpl = e->cs & SEL_RPL_MASK;
		sregs->ss.dpl = e->ss & SEL_RPL_MASK;
	}
}

/* The reset values of a vCPU (SDM Vol 3A 9.1.1, Table 9-1): CS base 0xffff0000, rip 0xfff0,
 * CR0 0x60000010 (or 0x10 once KVM clears CD and NW); never a state kvmbox starts in. */
#define RESET_RIP 0xfff0ull
#define RESET_CS_BASE 0xffff0000ull

bool x86_regs_look_reset(const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	return regs->rip == RESET_RIP && sregs->cs.base == RESET_CS_BASE &&
	       !(sregs->cr0 & (CR0_PE | CR0_PG));
}
