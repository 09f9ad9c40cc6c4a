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
struct snap_buf;

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

	/* Snapshots and reset points (docs/snapshot.md). save: append what STATE holds that
	 * the guest can observe to OUT, in the feature's own little-endian layout; nothing
	 * appended means nothing to keep. -errno with ERR refuses the save (a state that
	 * cannot be kept). restore: a VM made from a snapshot or put back to a reset point,
	 * whose init ran with ITS config (so the config, never the snapshot, says what the VM
	 * may use): make STATE what DATA (LEN bytes, from save; LEN 0 when there were none)
	 * says, checking every byte (a snapshot file may be hostile), or refuse with -errno
	 * and ERR naming what the config lacks. fork: after the restore of a fork of PARENT,
	 * share what the file does not carry (crash reports' symbols). */
	int (*save)(struct kvmbox_vm *vm, void *state, struct snap_buf *out, struct kvmbox_error *err);
	int (*restore)(struct kvmbox_vm *vm, void *state, const uint8_t *data, size_t len,
		       struct kvmbox_error *err);
	void (*fork)(struct kvmbox_vm *vm, void *state, const struct kvmbox_vm *parent,
		     const void *parent_state);
	/* `kvmbox snapshot FILE`: what DATA (LEN bytes from save, in a file) holds, as lines of
	 * text into BUF (SIZE bytes, NUL-terminated); returns the length written. DATA may be
	 * hostile: describe what checks, and say when it does not. */
	size_t (*describe)(const uint8_t *data, size_t len, char *buf, size_t size);

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

/* One feature's saved bytes (features_save); DATA is malloc'd, LEN 0 when it keeps none. */
struct feature_bytes {
	const char *name;
	uint8_t *data;
	size_t len;
};

/* Every feature's save hook, into OUT[0..nfeat) (vm->nfeat entries, freed with
 * features_bytes_free). Returns 0 or the first refusal's -errno with ERR set. */
int features_save(struct kvmbox_vm *vm, struct feature_bytes *out, struct kvmbox_error *err);
void features_bytes_free(struct feature_bytes *b, unsigned n);

/* Every feature's restore hook, with the bytes IN[0..N) names for it (none: LEN 0). A name
 * no feature of this build has is refused. Returns 0 or -errno with ERR set. */
int features_restore(struct kvmbox_vm *vm, const struct feature_bytes *in, unsigned n,
		     struct kvmbox_error *err);

/* Is there a feature called NAME in this build? */
bool features_known(const char *name);

/* The describe hook of the feature called NAME, for its saved bytes; 0 (BUF "") when it has
 * none or no such feature exists. */
size_t features_describe(const char *name, const uint8_t *data, size_t len, char *buf, size_t size);

/* Every feature's fork hook, VM being a fork of PARENT. */
void features_fork(struct kvmbox_vm *vm, const struct kvmbox_vm *parent);

/* Call every feature's release hook, last feature first, and clear the slots. Safe on a VM
 * whose features_init failed or never ran. */
void features_release(struct kvmbox_vm *vm);

#endif
