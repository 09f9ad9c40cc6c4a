/* The default exception handlers x86_mode_setup installs (idt.c); src/x86/ only. */
#ifndef KVMBOX_X86_IDT_H
#define KVMBOX_X86_IDT_H

#include <stdbool.h>
#include <linux/kvm.h>
#include "mem/gmem.h"
#include "base/addr.h"

/* Build the IDT, the handler stubs, the stacks' TSS fields and (32-bit modes) the #DF task's
 * TSS in the system area at SYS_BASE, and point IDT at the IDT. The GDT page must be built
 * already (its TSS is filled in here). CR3: the page-table root the #DF task loads.
 * Returns 0 or -EINVAL when the system area is outside MEM. */
int idt_build(const struct gmem *mem, gpa_t sys_base, bool long_mode, uint64_t cr3,
	      struct kvm_dtable *idt);

/* Real mode: point IVT entries 0-31 at stubs at REAL_STUBS_BASE. An image loaded over
 * them later replaces them (it brings its own IVT). Returns 0 or -EINVAL. */
int ivt_build(const struct gmem *mem);

#endif
