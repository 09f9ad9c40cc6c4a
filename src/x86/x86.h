/* The x86 architecture interface that generic code uses: CPU mode setup, the software page
 * walker and register dumps. Everything architectural (bits, descriptors, table layouts)
 * stays behind this header in src/x86/. */
#ifndef KVMBOX_X86_H
#define KVMBOX_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"
#include "../mem.h"

/* Build MODE's host-made structures (GDT, TSS, page tables) in guest memory where LAYOUT
 * (from kvmbox_layout_get) puts them, and set SREGS and REGS so that the vCPU starts at
 * ENTRY in MODE with a valid stack. SREGS must hold KVM's values from KVM_GET_SREGS; only
 * the fields the mode defines are changed. REGS is overwritten. Returns 0 or -EINVAL. */
int x86_mode_setup(enum kvmbox_mode mode, const struct gmem *mem, const struct kvmbox_layout *layout,
		   gva_t entry, struct kvm_sregs *sregs, struct kvm_regs *regs);

/* The paging state the walker needs, copied from the vCPU's special registers. */
struct x86_paging {
	uint64_t cr0, cr3, cr4, efer;
};
void x86_paging_from_sregs(const struct kvm_sregs *sregs, struct x86_paging *p);
bool x86_paging_enabled(const struct x86_paging *p);

enum {
	X86_WALK_WRITE = 1u << 0, /* the access writes: every level must have RW */
	X86_WALK_USER = 1u << 1,  /* the access is from CPL 3: every level must have US */
};

struct x86_walk {
	gpa_t gpa;          /* translation of the address (valid when the walk succeeds) */
	uint64_t page_size; /* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	int level;          /* on a fault: the level that faulted (4 = PML4 ... 1 = PT; 2 = PD in 32-bit) */
	const char *why;    /* on a fault: "not present", "not writable", "not user", "reserved bit",
			       "table outside guest memory", "non-canonical" */
};

/* Translate VA the way the CPU would with paging state P (32-bit paging with PSE, or 4-level
 * paging with 2 MiB/1 GiB pages), reading the tables from MEM through gmem_ptr. Without
 * paging the translation is the identity. The resulting gpa is NOT checked against guest
 * memory (callers do that). Returns 0, or -EFAULT with W->level and W->why set. */
int x86_walk(const struct gmem *mem, const struct x86_paging *p, gva_t va, unsigned access,
	     struct x86_walk *w);

/* Format the general and special registers for a fault report (multi-line, NUL-terminated,
 * truncated to LEN). Returns the number of characters written. */
size_t x86_format_regs(char *buf, size_t len, const struct kvm_regs *regs, const struct kvm_sregs *sregs);

/* The named control-register bits set in SREGS ("CR0.PE" ... "EFER.LMA"), in register and
 * bit order, for the trace and --explain. Stores at most MAX names in NAMES (static strings)
 * and returns how many bits are set, which may exceed MAX. */
unsigned x86_ctl_bit_names(const struct kvm_sregs *sregs, const char **names, unsigned max);

/* One structure x86_mode_setup builds in guest memory ("GDT", "TSS", "PML4", "PDPT", "PD"). */
struct x86_table {
	const char *name;
	gpa_t gpa;
	uint64_t size; /* bytes */
};

/* The structures x86_mode_setup builds for MODE under LAYOUT, in address order, so -v can
 * say where they are. Stores at most MAX in T; returns how many there are (0 in real mode). */
unsigned x86_mode_tables(enum kvmbox_mode mode, const struct kvmbox_layout *layout,
			 struct x86_table *t, unsigned max);

/* Is the vCPU executing 64-bit code (EFER.LMA and CS.L)? Decides whether hypercall
 * arguments are read from rbx or ebx. */
bool x86_in_64bit_code(const struct kvm_sregs *sregs);

#endif
