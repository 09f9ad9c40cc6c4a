/* A vCPU's whole state, taken from KVM and given back to it: what a snapshot file and a reset
 * point taken after a run keep. The sequence follows what was measured to work on kvm_pvm and
 * on kvm_amd (docs/snapshot.md, "What a snapshot holds"): settle the vCPU first (a KVM_RUN
 * with immediate_exit completes a pending port access and applies registers handed over in
 * kvm_run), then read each component; to put them back, XCR0 before the XSAVE area, the MSRs,
 * the TSC through the vCPU's TSC offset, and the general and special registers and the
 * events through kvm_run sync_regs, applied by the next KVM_RUN. */
#ifndef KVMBOX_SNAP_CPU_H
#define KVMBOX_SNAP_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "snap/snap_file.h"

struct kvmbox_vm;
struct kvmbox_error;

/* Which components cpu_capture and cpu_put handle. */
enum {
	CPU_REGS = 1u << 0,   /* general and special registers, events (kvm_run sync_regs) */
	CPU_FPU = 1u << 1,    /* XCR0 and the XSAVE area (x87, SSE, AVX ...) */
	CPU_MSRS = 1u << 2,   /* the MSRs of cpu_msr_known (not the TSC) */
	CPU_DEBUG = 1u << 3,  /* DR0-DR3, DR6, DR7 */
	CPU_MP = 1u << 4,     /* the multiprocessing state */
	CPU_TSC = 1u << 5,    /* the guest's TSC and its rate */
	CPU_CPUID = 1u << 6,  /* the CPUID table the vCPU was given */
	/* cpu_put: the special registers only when they differ from kvm_run's (the last exit's):
	 * setting them resets KVM's MMU context, which costs more than the rest of a reset. */
	CPU_SREGS_LAZY = 1u << 7,
	/* cpu_put: the registers and events through KVM_SET_SREGS, _REGS and _VCPU_EVENTS now
	 * rather than kvm_run, so that KVM checks them now (a restore refuses what it would
	 * refuse) without a KVM_RUN (which may start a kernel worker thread of the process, too
	 * early for the sandbox's check that no other thread runs). */
	CPU_REGS_NOW = 1u << 8,
	/* A reset point: the TSC keeps running and CPUID cannot change. */
	CPU_RESET = CPU_REGS | CPU_FPU | CPU_MSRS | CPU_DEBUG,
	CPU_ALL = CPU_RESET | CPU_MP | CPU_TSC | CPU_CPUID,
};

struct cpu_state {
	unsigned what; /* CPU_* taken */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[SNAP_MSRS_MAX];
	uint64_t tsc;       /* the guest's TSC when it was taken */
	uint32_t tsc_khz;   /* 0: KVM did not say */
	uint32_t xsave_size;
	uint8_t *xsave;     /* malloc'd */
	uint32_t ncpuid;
	struct kvm_cpuid_entry2 *cpuid; /* malloc'd; NULL when the vCPU has no table */
};

/* Make VM's vCPU state whole for reading when the last exit left a port or MMIO access
 * pending: one KVM_RUN with immediate_exit, which completes it (an `in` gets the bytes in
 * kvm_run's data area), applies registers handed over in kvm_run and copies them back
 * there, without running the guest (KVM API doc, 5. kvm_run, immediate_exit; measured on
 * both kinds of host: docs/snapshot.md). Otherwise nothing: kvm_run holds the registers as
 * of the last exit, or those handed over for the next KVM_RUN. FORCE: run it whatever the
 * last exit was. Returns 0 or -errno with ERR set. */
int cpu_settle(struct kvmbox_vm *vm, bool force, struct kvmbox_error *err);

/* Take the components WHAT of VM's settled vCPU into ST (zeroed first; release with
 * cpu_state_free). Returns 0, or -errno with ERR naming the component KVM would not give
 * (or, with CPU_MSRS, a paravirtual MSR the guest uses, which kvmbox does not keep). */
int cpu_capture(struct kvmbox_vm *vm, unsigned what, struct cpu_state *st, struct kvmbox_error *err);

/* Give the components WHAT of ST back to VM's vCPU (the registers through kvm_run, applied by
 * its next KVM_RUN). An MSR KVM refuses is an error unless a fresh vCPU holds the same value
 * already. TSC: the guest's TSC resumes where ST took it where KVM honours the vCPU's TSC
 * offset; elsewhere (kvm_pvm) it follows the host's, which INFO logs say. Returns 0, or -errno
 * with ERR naming what this host's KVM refused. */
int cpu_put(struct kvmbox_vm *vm, unsigned what, const struct cpu_state *st, struct kvmbox_error *err);

void cpu_state_free(struct cpu_state *st);

/* KVM's answer RET (-errno, ERR holding KVM's words) to a component it refused, as one
 * message: "this host's KVM refuses the WHAT (KVM's words)". Returns RET. */
int cpu_refused(struct kvmbox_error *err, int ret, const char *what);

/* Is INDEX an MSR kvmbox keeps (the one list, src/snap/snap_cpu.c)? Its name, or NULL. */
const char *cpu_msr_name(uint32_t index);

/* The CPUID vendor string of this host (12 characters and a NUL). */
void cpu_host_vendor(char vendor[16]);

#endif
