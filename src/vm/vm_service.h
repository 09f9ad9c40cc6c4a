/* The small services every exit handler, feature and core file may use, defined below all
 * of them (src/vm/vm_service.c): asking the run loop to stop, finishing a pending port `in`,
 * counting a malformed hypercall, and a feature's per-VM state. Nothing here runs a VM. */
#ifndef KVMBOX_VM_SERVICE_H
#define KVMBOX_VM_SERVICE_H

#include <stdint.h>
#include "kvmbox/kvmbox.h"

struct kvmbox_vm;
struct vm_feature;

/* Ask the run loop to end the run with STOP after the current exit. */
void vm_request_stop(struct kvmbox_vm *vm, enum kvmbox_stop stop, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Finish VM's pending port `in` with RET: KVM copies the I/O data of kvm_run into eax on
 * the VM's next KVM_RUN (KVM API doc, KVM_EXIT_IO), so the result is written there. The one
 * way a blocked hypercall (a channel wait) gets its result from a peer's call. */
void vm_complete_io(struct kvmbox_vm *vm, int32_t ret);

/* Count a malformed hypercall; under KVMBOX_VM_STRICT also stop the VM. Returns -ERR
 * (a positive KVMBOX_E* value) so a handler can `return vm_bad_call(vm, KVMBOX_EFAULT, ...)`. */
int32_t vm_bad_call(struct kvmbox_vm *vm, int32_t err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Ask the run loop to save VM into PATH in its share ("": the embedder's save target,
 * kvmbox_vm_config.save_fd) once the current hypercall exit is served (src/snap/snap_save.c:
 * the save replaces the call's result). PATH has at most KVMBOX_PATH_MAX bytes with its NUL. */
void vm_request_save(struct kvmbox_vm *vm, const char *path);

/* The state of feature F in VM, or NULL (F not initialised, or it keeps none). For code of
 * F itself that runs outside its handlers (handlers get it as hc_call.state). */
void *vm_feature_state(const struct kvmbox_vm *vm, const struct vm_feature *f);

/* Replace the state of feature F in VM (a feature whose state is set by a later call, such
 * as attaching to a channel hub). Does nothing when the VM lacks F. */
void vm_feature_set_state(struct kvmbox_vm *vm, const struct vm_feature *f, void *state);

#endif
