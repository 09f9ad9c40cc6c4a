/* Features: a hypercall group and its per-VM state, plugged into the VM core through one
 * const descriptor. src/vm/vm_features.c lists the descriptors once; VM create, reset and destroy
 * walk that list, so the core (vm_create.c, vm_reset.c, the run loop) names no feature. */
#ifndef KVMBOX_FEATURE_H
#define KVMBOX_FEATURE_H

#include "hc/hc.h"

struct kvmbox_vm;
struct kvmbox_vm_config;
struct kvmbox_error;
struct kvmbox_run_opts;
struct kvmbox_result;
struct kvmbox_image;

/* One feature. Every hook is optional (NULL). STATE is the feature's own per-VM slot: NULL
 * until init sets it; the core keeps it and hands it back to reset, release and (as
 * hc_call.state) to every handler in CALLS. The core never looks inside it. */
struct vm_feature {
	const char *name;
	const struct hc_def *calls; /* registered in the VM's hypercall table at create */
	unsigned ncalls;
	/* kvmbox_vm_create, in list order, before any KVM object exists. Sets *STATE (or
	 * leaves it NULL: "not configured"). Returns 0, or -errno with ERR set; then the VM is
	 * destroyed, so release runs for this feature too and must accept what init left. */
	int (*init)(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
		    struct kvmbox_error *err);
	/* kvmbox_vm_load, after the image is in guest memory: keep what the feature needs of
	 * IMG (whose bytes the caller may free afterwards). Cannot fail: a feature that cannot
	 * keep it goes without (crash reports then name no function). */
	void (*load)(struct kvmbox_vm *vm, void *state, const struct kvmbox_image *img);
	/* kvmbox_vm_reset: make STATE as a freshly created VM's. Cannot fail. */
	void (*reset)(struct kvmbox_vm *vm, void *state);
	/* kvmbox_vm_destroy, in reverse list order: free STATE (which may be NULL). */
	void (*release)(struct kvmbox_vm *vm, void *state);

	/* Run-loop hooks, called only for a feature whose init set a state (an unconfigured
	 * feature costs the loop nothing). A debugger is the user: it stops the vCPU and serves
	 * its client inside these calls, which may block. */
	/* kvmbox_vm_run, before every KVM_RUN. May change the registers (kvm_run sync_regs)
	 * and end the run with vm_request_stop; OPTS->cancel bounds any wait. */
	void (*before_run)(struct kvmbox_vm *vm, void *state, const struct kvmbox_run_opts *opts);
	/* After every exit, before the core serves it: true when the feature served the exit
	 * itself (one it caused: a debug exit, a planted instruction), so the core skips it. */
	bool (*exit)(struct kvmbox_vm *vm, void *state);
	/* The run ends with RES (any stop, also the ones after which the VM runs again). */
	void (*run_end)(struct kvmbox_vm *vm, void *state, const struct kvmbox_result *res);
};

/* Most features a VM can hold (the list in vm_features.c has fewer; checked at create). */
#define VM_FEATURES_MAX 16

/* A VM's slot for one feature (struct kvmbox_vm holds VM_FEATURES_MAX of them). */
struct vm_feature_slot {
	const struct vm_feature *desc;
	void *state;
};

/* Give VM every listed feature: register its calls in vm->hc (refusing duplicate numbers)
 * and call its init. Call once from kvmbox_vm_create. Returns 0 or -errno with ERR set;
 * on failure the caller destroys the VM, whose features_release undoes what was done. */
int features_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, struct kvmbox_error *err);

/* The run-loop hooks of the features that have a state (src/vm/vm_run.c). features_exit returns
 * true when one of them served the exit. */
void features_before_run(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts);
bool features_exit(struct kvmbox_vm *vm);
void features_run_end(struct kvmbox_vm *vm, const struct kvmbox_result *res);
/* Call every feature's load hook (kvmbox_vm_load, once the image is in guest memory). */
void features_load(struct kvmbox_vm *vm, const struct kvmbox_image *img);

/* Call every feature's reset hook (kvmbox_vm_reset). */
void features_reset(struct kvmbox_vm *vm);

/* Call every feature's release hook, last feature first, and clear the slots. Safe on a VM
 * whose features_init failed or never ran. */
void features_release(struct kvmbox_vm *vm);

#endif
