/* Crash reports: the port kvmbox's default exception handlers report on (src/x86/idt.c
 * builds them) and the last exception of a VM, for the run result's text and for a debugger
 * (docs/crash-reports.md). A feature of src/features.c: its state is per VM. */
#ifndef KVMBOX_FAULT_H
#define KVMBOX_FAULT_H

#include "../x86/x86.h"

struct kvmbox_vm;

/* The exception that ended VM's last run, with the faulting state (rip, rsp, rflags, cs,
 * ss: also what the vCPU's registers were rewound to), or NULL when the last run did not end
 * in an exception report. Valid until the next run, reset or destroy. The gdb stub turns it
 * into a stop signal (#PF and #GP: SIGSEGV, #UD: SIGILL, #DE: SIGFPE ...). */
const struct x86_exception *vm_exception(const struct kvmbox_vm *vm);

/* " in FUNCTION (FILE:LINE)" for the guest's LINEAR address (cs.base + rip), from the
 * image's symbols and DWARF lines, or "" when it has none for it (a flat binary). */
void fault_where(struct kvmbox_vm *vm, uint64_t linear, char *buf, size_t len);

/* ", called from FUNCTION (FILE:LINE)": the return address on top of the guest's stack, for a
 * fault at a place with no code of its own (a call through a NULL function pointer); "" when
 * there is none or it names no function. */
void fault_caller(struct kvmbox_vm *vm, char *buf, size_t len);

/* The instruction at the vCPU's rip (cs.base + rip), decoded from guest memory; false when
 * its bytes cannot be read or decoded. They may end at an unmapped page: as many as can be
 * read are tried. */
bool fault_insn(const struct kvmbox_vm *vm, struct x86_insn_info *insn);

/* Why the guest-physical address ADDR is no memory for the guest, in a student's words:
 * "page 0, which kvmbox's NULL guard keeps from the guest: a NULL pointer dereference" or
 * "beyond the guest's 2 MiB of memory (0x0-0x1fffff): a bad pointer". Writes it into BUF
 * and returns its length; 0 (BUF empty) when ADDR is guest memory. */
size_t fault_addr_why(const struct kvmbox_vm *vm, uint64_t addr, char *buf, size_t len);

/* End VM's run at its KVM_EXIT_SHUTDOWN (a triple fault) with a report that says whose IDT
 * failed and where, or, when the host reset the vCPU at the shutdown (AMD SVM), that the
 * registers are reset state and not the fault's. Called by exit_stop (src/exits.c). */
void fault_shutdown(struct kvmbox_vm *vm);

#endif
