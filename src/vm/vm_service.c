/* The services of vm_service.h: stop requests, bad-call accounting, finishing a pending `in`
 * and the per-VM feature slots. Below every caller: it uses only struct kvmbox_vm and the log. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "base/log.h"
#include "vm/vm.h"
#include "vm/vm_service.h"

void vm_request_stop(struct kvmbox_vm *vm, enum kvmbox_stop stop, int status, const char *fmt, ...)
{
	va_list ap;

	if (vm->pending != KVMBOX_STOP_NONE)
		return; /* the first reason wins */
	vm->pending = stop;
	vm->pending_status = status;
	va_start(ap, fmt);
	vsnprintf(vm->pending_msg, sizeof(vm->pending_msg), fmt, ap);
	va_end(ap);
}

int32_t vm_bad_call(struct kvmbox_vm *vm, int32_t errnum, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vm->stats.bad_calls++;
	log_msg(vm->log, KVMBOX_LOG_DEBUG, vm->name, "bad hypercall: %s", what);
	if (vm->flags & KVMBOX_VM_STRICT)
		vm_request_stop(vm, KVMBOX_STOP_BAD_CALL, 0, "bad hypercall (--strict): %s", what);
	return -errnum;
}

void vm_request_save(struct kvmbox_vm *vm, const char *path)
{
	vm->save_req.pending = true;
	snprintf(vm->save_req.path, sizeof(vm->save_req.path), "%s", path);
}

void vm_complete_io(struct kvmbox_vm *vm, int32_t ret)
{
	struct kvm_run *run = vm->run;

	memcpy((uint8_t *)run + run->io.data_offset, &ret, sizeof(ret));
}

/* Index of F's slot in VM, or -ENOENT. A handful of features: a scan is cheapest. */
static int slot_index(const struct kvmbox_vm *vm, const struct vm_feature *f)
{
	unsigned i;

	for (i = 0; i < vm->nfeat; i++)
		if (vm->feat[i].desc == f)
			return (int)i;
	return -ENOENT;
}

void *vm_feature_state(const struct kvmbox_vm *vm, const struct vm_feature *f)
{
	int i = slot_index(vm, f);

	return i < 0 ? NULL : vm->feat[i].state;
}

void vm_feature_set_state(struct kvmbox_vm *vm, const struct vm_feature *f, void *state)
{
	int i = slot_index(vm, f);

	if (i >= 0)
		vm->feat[i].state = state;
}
