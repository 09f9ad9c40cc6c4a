/* The per-VM hypercall table and the dispatcher the run loop calls on hypercall ports. */
#include <errno.h>
#include <string.h>
#include "vm/vm.h"
#include "x86/bits.h"
#include "x86/x86.h"
#include "hc/hc.h"

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

/* Virtual-8086 mode, whose code runs at CPL 3 (SDM Vol 1 3.4.3.3, Vol 3 20.2). */
#define RFLAGS_VM (1ull << 17)

/* The privilege level of the code that made the exit: 0 in real mode, 3 in virtual-8086
 * mode, else SS.DPL, which always equals the CPL (SDM Vol 3 5.5; AMD keeps the CPL there). */
static unsigned caller_cpl(const struct kvm_run *run)
{
	const struct kvm_sregs *s = &run->s.regs.sregs;

	if (!(s->cr0 & CR0_PE))
		return 0;
	if (run->s.regs.regs.rflags & RFLAGS_VM)
		return 3;
	return s->ss.dpl;
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
	if (caller_cpl(vm->run) > 0) {
		/* Hypercalls are the guest kernel's, as KVM's own are (-KVM_EPERM from CPL > 0):
		 * a user program that the kernel gave IOPL 3 must not reach the host, which
		 * would read and write its pointers with the kernel's rights. docs/abi.md. */
		ret = vm_bad_call(vm, KVMBOX_EPERM, "hypercall %u from CPL %u: hypercalls are "
				  "served to CPL 0 only", nr, caller_cpl(vm->run));
	} else if (!def) {
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
