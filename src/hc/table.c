/* The per-VM hypercall table and the dispatcher the run loop calls on hypercall ports. */
#include <errno.h>
#include <string.h>
#include "../vm.h"
#include "../x86/x86.h"
#include "hc.h"

int hc_register(struct hc_table *t, const struct hc_def *defs, unsigned n, uint8_t owner)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		int ret = 0;

		if (defs[i].nr >= KVMBOX_HC_MAX || !defs[i].fn)
			ret = -EINVAL;
		else if (t->defs[defs[i].nr])
			ret = -EEXIST;
		if (ret) {
			while (i--)
				t->defs[defs[i].nr] = NULL;
			return ret;
		}
		t->defs[defs[i].nr] = &defs[i];
		t->owner[defs[i].nr] = owner;
	}
	return 0;
}

int hc_dispatch(struct kvmbox_vm *vm, void *ctx, const struct port_io *io)
{
	uint32_t nr = io->port - KVMBOX_PORT_HC_BASE;
	const struct hc_table *t = ctx;
	const struct hc_def *def = t->defs[nr];
	struct hc_call call = { .nr = nr };
	int32_t ret;

	if (io->out) {
		vm_bad_call(vm, KVMBOX_EINVAL, "hypercall %u: an OUT; hypercalls are a 32-bit IN", nr);
		return 0;
	}
	if (io->size != 4 || io->count != 1) {
		/* Answer every byte the guest asked for, with the error's low bytes. */
		ret = vm_bad_call(vm, KVMBOX_EINVAL, "hypercall %u: %u x %u-byte IN; hypercalls are one 32-bit IN",
				  nr, io->count, io->size);
		for (uint32_t i = 0; i < io->count; i++)
			memcpy(io->data + (size_t)i * io->size, &ret, io->size);
		return 0;
	}
	if (!def) {
		ret = vm_bad_call(vm, KVMBOX_ENOSYS, "hypercall %u: no such call", nr);
	} else {
		const struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
		uint64_t rbx = vm->run->s.regs.regs.rbx, bad = vm->stats.bad_calls;

		call.state = vm->feat[t->owner[nr]].state;
		call.arg = x86_in_64bit_code(sregs) ? rbx : (uint32_t)rbx;
		ret = def->fn(vm, &call);
		/* Each hypercall-port exit counts once: as served, or (when the handler refused
		 * it with vm_bad_call) as a bad call, so hypercalls + bad_calls == port exits. */
		if (vm->stats.bad_calls == bad)
			vm->stats.hypercalls++;
	}
	memcpy(io->data, &ret, sizeof(ret));
	return 0;
}
