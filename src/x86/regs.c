/* Register dumps for fault reports, the names of the control-register bits set (for the
 * trace), and the one question generic code asks about the current code segment (64-bit or
 * not). */
#include <stdarg.h>
#include <stdio.h>

#include "x86/bits.h"
#include "x86/x86.h"

/* Append to BUF at *POS without ever overrunning LEN; *POS stops at LEN - 1 on truncation. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*pos = (size_t)n < len - *pos ? *pos + (size_t)n : len - 1;
}

size_t x86_format_regs(char *buf, size_t len, const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	size_t pos = 0;

	if (!buf || len == 0)
		return 0;
	buf[0] = '\0';
	if (regs && sregs && x86_regs_look_reset(regs, sregs))
		append(buf, len, &pos,
		       "(the vCPU's reset state: the host reset it at the triple fault; not the fault's registers)\n");
	if (regs) {
		append(buf, len, &pos,
		       "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		       "rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
		       "r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		       "r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		       "rip=%016llx rflags=%016llx\n",
		       regs->rax, regs->rbx, regs->rcx, regs->rdx,
		       regs->rsi, regs->rdi, regs->rsp, regs->rbp,
		       regs->r8, regs->r9, regs->r10, regs->r11,
		       regs->r12, regs->r13, regs->r14, regs->r15,
		       regs->rip, regs->rflags);
	}
	if (sregs) {
		append(buf, len, &pos,
		       "cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n"
		       "cs=%04x base=%016llx%s ss=%04x base=%016llx\n",
		       sregs->cr0, sregs->cr2, sregs->cr3, sregs->cr4, sregs->efer,
		       sregs->cs.selector, sregs->cs.base, sregs->cs.l ? " (64-bit)" : "",
		       sregs->ss.selector, sregs->ss.base);
	}
	return pos;
}

bool x86_in_64bit_code(const struct kvm_sregs *sregs)
{
	/* 64-bit mode is IA-32e mode with CS.L set; with CS.L clear it is compatibility mode
	 * (SDM Vol 3A 5.2.1). */
	return (sregs->efer & EFER_LMA) && sregs->cs.l;
}

/* Every control-register bit kvmbox names, in register and bit order. */
static const struct {
	unsigned reg; /* 0: CR0, 4: CR4, 8: EFER */
	uint64_t bit;
	const char *name;
} ctl_bits[] = {
#define B(reg, r, b) { reg, r##_##b, #r "." #b }
	B(0, CR0, PE), B(0, CR0, MP), B(0, CR0, EM), B(0, CR0, TS), B(0, CR0, ET), B(0, CR0, NE),
	B(0, CR0, WP), B(0, CR0, AM), B(0, CR0, NW), B(0, CR0, CD), B(0, CR0, PG),
	B(4, CR4, VME), B(4, CR4, PVI), B(4, CR4, TSD), B(4, CR4, DE), B(4, CR4, PSE),
	B(4, CR4, PAE), B(4, CR4, MCE), B(4, CR4, PGE), B(4, CR4, PCE), B(4, CR4, OSFXSR),
	B(4, CR4, OSXMMEXCPT), B(4, CR4, LA57), B(4, CR4, SMEP), B(4, CR4, SMAP),
	B(8, EFER, SCE), B(8, EFER, LME), B(8, EFER, LMA), B(8, EFER, NXE),
#undef B
};

unsigned x86_ctl_bit_names(const struct kvm_sregs *sregs, const char **names, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < sizeof(ctl_bits) / sizeof(ctl_bits[0]); i++) {
		uint64_t v = ctl_bits[i].reg == 0 ? sregs->cr0 : ctl_bits[i].reg == 4 ? sregs->cr4
											: sregs->efer;

		if (!(v & ctl_bits[i].bit))
			continue;
		if (n < max)
			names[n] = ctl_bits[i].name;
		n++;
	}
	return n;
}
