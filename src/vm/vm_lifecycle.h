/* What the lifecycle files (vm_create.c, vm_reset.c, src/snap/snap_restore.c) share: the
 * bring-up of kvmbox_vm_create with the two steps a VM made from a snapshot does its own
 * way, and the taking and release of a reset point. Internal. */
#ifndef KVMBOX_VM_LIFECYCLE_H
#define KVMBOX_VM_LIFECYCLE_H

#include <stdbool.h>

struct kvmbox_vm;
struct kvmbox_vm_config;
struct kvmbox_error;

/* Where a VM's memory and vCPU state come from when it is not built for an image. */
struct vm_origin {
	/* Map guest memory and declare its memory slot, instead of empty memory. */
	int (*map_memory)(struct kvmbox_vm *vm, void *ctx, struct kvmbox_error *err);
	/* Once the vCPU, kvm_run and the console are set up (vm->kvm_fd still open): give the
	 * vCPU its CPUID and whole state, instead of the mode's initial registers. */
	int (*setup_vcpu)(struct kvmbox_vm *vm, void *ctx, struct kvmbox_error *err);
	void *ctx;
};

/* kvmbox_vm_create, the steps of FROM (NULL: an empty VM of CFG's mode) in its place. On
 * failure the VM is destroyed and *VMP left alone. */
int vm_bringup(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg,
	       const struct vm_origin *from, struct kvmbox_error *err);

/* kvmbox_vm_set_reset_point, and WHOLE: keep the whole vCPU (XCR0, the XSAVE area, the MSRs,
 * the debug registers, the events) even before the first run, where the public call keeps
 * only the registers (KVM holds a fresh vCPU's state, and --repeat reruns a program from its
 * entry). A reset to a whole point leaves nothing of what ran since in the vCPU: what calls
 * that must not see each other's state need (src/call/). */
int vm_reset_point_take(struct kvmbox_vm *vm, bool whole, struct kvmbox_error *err);

/* Free what a reset point keeps beyond guest memory (kvmbox_vm_destroy). */
void vm_reset_release(struct kvmbox_vm *vm);

#endif
