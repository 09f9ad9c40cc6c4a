/* Guest memory as KVM sees it: the memory slot that maps it into the VM. */
#include "kvm.h"
#include "vm.h"

int vm_set_mem_slot(struct kvmbox_vm *vm, uint32_t flags, struct kvmbox_error *err)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = flags,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uintptr_t)vm->mem.host,
	};

	return kvm_ioctl(vm->log, vm->name, vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region, err);
}
