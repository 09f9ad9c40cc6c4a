/* The stub's target over a KVM vCPU (struct gdb_target_ops for src/gdb/stub.c): registers from
 * kvm_run sync_regs and KVM_GET_FPU, memory on guest-virtual addresses through src/mem/mem.c's
 * walker-checked accessors, breakpoints by the mechanism this host's KVM honours (probed once:
 * debug registers, or a planted hlt, which exits to userspace on every KVM), single-step with
 * KVM_SET_GUEST_DEBUG, and the decoding of the exits all that causes. */
#ifndef KVMBOX_GDB_KVM_TARGET_H
#define KVMBOX_GDB_KVM_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include "gdb/stub.h"
#include "gdb/tdesc.h"
#include "base/addr.h"

struct kvmbox_vm;

/* What this host's KVM does with guest debugging (gdb_kvm_probe). */
enum {
	GDB_KVM_DR_EXEC = 1u << 0,  /* an execution breakpoint in DR0-DR3 exits with KVM_EXIT_DEBUG */
	GDB_KVM_DR_WRITE = 1u << 1, /* so does a write watchpoint */
};

#define GDB_KVM_PLANTS 64 /* software breakpoints (planted hlt bytes) */
#define GDB_KVM_DRS 4     /* DR0-DR3 */

struct gdb_kvm_plant {
	bool used, planted;
	gva_t addr;
	uint8_t orig; /* the guest's byte under the planted hlt */
};

struct gdb_kvm_dr {
	bool used;
	enum gdb_bp_type type;
	gva_t addr;
	size_t len;
};

struct gdb_kvm {
	struct kvmbox_vm *vm;
	const struct gdb_tdesc *tdesc;
	unsigned caps;           /* GDB_KVM_* */
	struct gdb_cpu cpu;      /* while stopped: the registers gdb sees and changes */
	bool regs_dirty, sregs_dirty, fpu_dirty, fpu_valid;
	struct gdb_kvm_plant plants[GDB_KVM_PLANTS];
	struct gdb_kvm_dr drs[GDB_KVM_DRS];
	bool resumed;            /* gdb resumed the target (read by the session after each packet) */
	enum gdb_resume how;
	bool stepping;           /* the vCPU runs one instruction (gdb's step or a step-over) */
	bool step_over;          /* ... to get past a breakpoint before continuing */
	bool interrupted;        /* gdb sent Ctrl-C while the guest ran */
	bool killed, detached;
	bool told_no_watch;      /* the user was told this host has no data breakpoints */
	struct gdb_stop last;    /* why the target stands where it is ('?') */
};

extern const struct gdb_target_ops gdb_kvm_ops;

/* Probe what this host's KVM does with DR0-DR3 in a throwaway real-mode VM (never the caller's).
 * Returns GDB_KVM_* bits; 0 when the debug registers do not fire or the probe failed. */
unsigned gdb_kvm_probe(void);

/* Start a stop: complete a pending port I/O (KVM finishes it only on the next KVM_RUN),
 * take the registers into T->cpu, lift the planted breakpoints (gdb sees the guest's bytes),
 * and remember STOP as the reason. */
void gdb_kvm_stop(struct gdb_kvm *t, const struct gdb_stop *stop);

/* gdb_kvm_stop without completing a pending I/O: for a run that is over, whose registers
 * (kvm_run sync_regs) already say where the guest stands. */
void gdb_kvm_take(struct gdb_kvm *t, const struct gdb_stop *stop);

/* gdb resumed the target: registers back to KVM, breakpoints planted, KVM_SET_GUEST_DEBUG
 * for T->how (a continue from a breakpoint first steps over it). 0 or -errno. */
int gdb_kvm_go(struct gdb_kvm *t);

/* An exit the target caused: a debug exit (step, DR hit) or the hlt of a planted breakpoint.
 * Returns true and sets *STOP when the exit ends in a stop for gdb; *CONSUMED says whether it
 * was the target's own (the core then does not serve it). A step-over that completes plants
 * its breakpoint and continues (false, consumed). */
bool gdb_kvm_exit(struct gdb_kvm *t, struct gdb_stop *stop, bool *consumed);

/* After the core served a port I/O exit: when it was the instruction of a step, complete the
 * I/O and end the step (true, *STOP set; false when it was a step-over, which continues). */
bool gdb_kvm_io_step(struct gdb_kvm *t, struct gdb_stop *stop);

/* Turn guest debugging off and forget every breakpoint (gdb detached or went away). */
void gdb_kvm_release(struct gdb_kvm *t);

#endif
