/* The x86 architecture interface that generic code uses: CPU mode setup, the software page
 * walker and register dumps. Everything architectural (bits, descriptors, table layouts)
 * stays behind this header in src/x86/. */
#ifndef KVMBOX_X86_H
#define KVMBOX_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"
#include "mem/gmem.h"
#include "base/addr.h"

/* Build MODE's host-made structures (GDT, TSS, page tables) in guest memory where LAYOUT
 * (from kvmbox_layout_get) puts them, and set SREGS and REGS so that the vCPU starts at
 * ENTRY in MODE with a valid stack. SREGS must hold KVM's values from KVM_GET_SREGS; only
 * the fields the mode defines are changed. REGS is overwritten. Returns 0 or -EINVAL. */
int x86_mode_setup(enum kvmbox_mode mode, const struct gmem *mem, const struct kvmbox_layout *layout,
		   gva_t entry, struct kvm_sregs *sregs, struct kvm_regs *regs);

/* kvmbox's CPU model for KVM_SET_CPUID2 (src/x86/cpuid.c): the host's vendor and
 * family/model/stepping, the AMD64 baseline features, long mode, NX and SYSCALL. Fills E
 * (MAX entries, at least X86_CPUID_MODEL_ENTRIES) and returns the count, or 0 when MAX is
 * too small. Runs two CPUID instructions. */
#define X86_CPUID_MODEL_ENTRIES 4
size_t x86_cpuid_model(struct kvm_cpuid_entry2 *e, size_t max);
/* The NULL guard (docs/crash-reports.md) in the paged modes: unmap page 0 (linear 0-0xfff)
 * in the identity map x86_mode_setup built for MODE, so that an access through a NULL
 * pointer is a not-present #PF. Returns 0, -EINVAL (the tables are not where LAYOUT says), or
 * -ENOTSUP for a mode without paging (protected mode's guard is the memory slot, src/mem/mem.c;
 * real mode has none). */
int x86_guard_null(enum kvmbox_mode mode, const struct gmem *mem, const struct kvmbox_layout *layout);

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

/* ---- Default exception handlers (docs/crash-reports.md) --------------------------------
 * x86_mode_setup gives every mode handlers for vectors 0-31 (an IDT in the system area, the
 * IVT in real mode) whose stubs push a dummy error code where the CPU pushes none, push the
 * vector and execute `out %al, $KVMBOX_PORT_EXC`: one exit per exception, no register
 * clobbered. The host then reads the report below from the guest's stack. */
#define X86_EXC_VECTORS 32

struct x86_exception {
	uint8_t vector;
	bool has_error_code;  /* the CPU pushed one (else error_code is 0) */
	bool from_tss;        /* 32-bit #DF: the faulting state came from the TSS (task gate) */
	uint32_t error_code;
	uint64_t cr2;         /* the vCPU's CR2 at the report: the #PF linear address */
	uint64_t rip, rsp, rflags; /* the faulting state, as the CPU saved it */
	uint16_t cs, ss;
};

/* Where the frame of a report lies: STACK_LEN bytes at linear STACK (ss.base + rsp) and, for a
 * 32-bit #DF that came through the task gate, TSS_LEN bytes of the interrupted task's TSS at
 * guest-physical TSS (else TSS_LEN is 0). */
struct x86_exc_frame_loc {
	gva_t stack;
	size_t stack_len, stack_min; /* read STACK_LEN bytes; at least STACK_MIN are needed */
	gpa_t tss;
	size_t tss_len;
};

/* The vector whose stub is at linear address LINEAR (the rip of the report's `out`, whose
 * stub starts at or before it), or -1 when LINEAR is not inside MODE's stubs. CODE holds the
 * X86_EXC_STUB_MAX bytes at the stub's start: a stub the guest overwrote does not count. */
#define X86_EXC_STUB_MAX 16
int x86_exc_stub_vector(enum kvmbox_mode mode, const struct kvmbox_layout *layout, gva_t linear);
gva_t x86_exc_stub_addr(enum kvmbox_mode mode, const struct kvmbox_layout *layout, unsigned vector);
bool x86_exc_stub_intact(enum kvmbox_mode mode, unsigned vector, const uint8_t code[X86_EXC_STUB_MAX]);

/* Does the CPU push an error code for VECTOR in MODE (never in real mode)? */
bool x86_exc_has_error_code(enum kvmbox_mode mode, unsigned vector);

/* Where to read the frame of a report made from a stub (REGS, SREGS: the vCPU at the `out`).
 * A report from inside the 32-bit #DF task is that double fault, whichever stub made it. */
void x86_exc_locate(enum kvmbox_mode mode, const struct kvmbox_layout *layout,
		    const struct kvm_regs *regs, const struct kvm_sregs *sregs,
		    struct x86_exc_frame_loc *loc);

/* Decode the frame read as x86_exc_locate said (STACK_GOT bytes of the stack, TSS or NULL)
 * into E. Returns 0, or -EFAULT when fewer than stack_min bytes could be read. */
int x86_exc_decode(enum kvmbox_mode mode, const struct kvm_regs *regs,
		   const struct kvm_sregs *sregs, unsigned vector, const uint8_t *stack,
		   size_t stack_got, const uint8_t *tss, struct x86_exception *e);

/* Put the faulting state of E back into REGS and SREGS (rip, rsp, rflags, cs, ss), so a
 * register dump or a debugger shows the fault, not the handler. */
void x86_exc_rewind(enum kvmbox_mode mode, const struct x86_exception *e, struct kvm_regs *regs,
		    struct kvm_sregs *sregs);

/* "page fault", "#PF" for VECTOR (0-31; "reserved vector" / "#??" for the reserved ones). */
const char *x86_exc_name(unsigned vector);
const char *x86_exc_mnemonic(unsigned vector);

/* "page fault (#PF, write, not present)" / "general protection (#GP, selector 0x10: GDT
 * index 2)": the name and the decoded error code. Returns the characters written. */
size_t x86_exc_describe(char *buf, size_t len, const struct x86_exception *e);

/* Is the IDT in SREGS kvmbox's default one (real mode: the IVT at 0, CR0.PE clear)? */
bool x86_idt_is_default(enum kvmbox_mode mode, const struct kvmbox_layout *layout,
			const struct kvm_sregs *sregs);

/* Do REGS/SREGS look like the vCPU's reset state (rip 0xfff0, CS base 0xffff0000, CR0 with
 * PE and PG clear)? AMD SVM resets the vCPU at a triple fault (KVM_EXIT_SHUTDOWN). */
bool x86_regs_look_reset(const struct kvm_regs *regs, const struct kvm_sregs *sregs);

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

/* ---- The faulting instruction (insn.c), for crash reports ---------------------------- */

#define X86_INSN_MAX 15   /* bytes in the longest x86 instruction (SDM Vol 2A 2.3.11) */
#define X86_INSN_MEM_MAX 2

/* Segment registers in the order of their encoding (SDM Vol 2A 3.1.1.3). */
enum { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS };

struct x86_insn_info {
	unsigned len;    /* bytes */
	char text[96];   /* Intel syntax, "mov ecx, dword ptr [eax + edx*4]" */
	bool ud2;        /* the deliberate undefined instruction, as compilers emit for traps */
	bool port_io;    /* in, out, ins or outs */
	unsigned nmem;   /* memory operands whose address the registers give */
	struct x86_mem_ref {
		unsigned seg;    /* X86_SEG_*: the override or the default segment */
		uint64_t offset; /* the effective address, in the instruction's address size */
		unsigned size;   /* bytes accessed */
	} mem[X86_INSN_MEM_MAX];
};

/* Decode the instruction in CODE (LEN bytes, at most X86_INSN_MAX needed) at the vCPU's rip,
 * in the code width SREGS give (16, 32 or 64 bits), and compute its memory operands'
 * offsets from REGS. Returns 0, or -1 when CODE holds no valid instruction. */
int x86_insn_decode(const struct kvm_regs *regs, const struct kvm_sregs *sregs, const uint8_t *code,
		    size_t len, struct x86_insn_info *insn);

/* Why INSN's memory access raises #GP or #SS under SREGS, when an operand breaks a check the
 * CPU makes before any paging: a non-canonical address in 64-bit mode, an offset past its
 * segment's limit (in real mode: past 64 KiB) or below an expand-down segment's. Writes the
 * sentence ("offset 0xdeadbeef is past the ds segment's limit 0xffff: ...") into BUF and
 * returns its length; 0 (BUF empty) when no operand breaks one. */
size_t x86_insn_limit_why(const struct x86_insn_info *insn, const struct kvm_sregs *sregs, char *buf,
			  size_t len);

/* "es", "cs", "ss", "ds", "fs", "gs" for an X86_SEG_* value. */
const char *x86_seg_name(unsigned seg);

/* Is the vCPU executing 64-bit code (EFER.LMA and CS.L)? Decides whether hypercall
 * arguments are read from rbx or ebx. */
bool x86_in_64bit_code(const struct kvm_sregs *sregs);

#endif
