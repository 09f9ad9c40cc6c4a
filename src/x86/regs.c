/* Register dumps for fault reports, and the one question generic code asks about the current
 * code segment (64-bit or not). */
#include <stdarg.h>
#include <stdio.h>

#include "bits.h"
#include "x86.h"

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
