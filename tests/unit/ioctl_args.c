/* The ioctl helpers' compile-time check (src/kvm/kvm.h, src/vm/vm.h), compiled and never run
 * by tests/unit/ioctl_args.sh: CASE 0 holds the right forms, which must compile; each other
 * CASE one wrong argument, which must not, with the error its "expect:" comment quotes. */
#include <signal.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "kvm/kvm.h"
#include "vm/vm.h"

int ioctl_args(struct kvmbox_vm *vm);

int ioctl_args(struct kvmbox_vm *vm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu[1];
	union {
		struct kvm_signal_mask m;
		uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
	} kmask;
	union {
		struct kvm_cpuid2 c;
		uint8_t bytes[sizeof(struct kvm_cpuid2) + 4 * sizeof(struct kvm_cpuid_entry2)];
	} cpuid;
	long cap = KVM_CAP_SYNC_REGS;
	int ret = 0;

	(void)vm, (void)sregs, (void)regs, (void)fpu, (void)kmask, (void)cpuid, (void)cap;
#if CASE == 0
	/* Requests without a size take an integer or 0; the others a pointer to their struct
	 * (an array decays to one); flexible-array requests a pointer to the header. */
	ret |= kvm_sys_ioctl(vm, KVM_CREATE_VM, 0, NULL);
	ret |= kvm_sys_ioctl(vm, KVM_GET_VCPU_MMAP_SIZE, 0, NULL);
	ret |= kvm_sys_ioctl(vm, KVM_GET_SUPPORTED_CPUID, &cpuid.c, NULL);
	ret |= kvm_sys_cap(vm, KVM_CAP_COALESCED_PIO);
	ret |= vm_ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ull, NULL);
	ret |= vm_ioctl(vm, KVM_CREATE_VCPU, 0, NULL);
	ret |= vcpu_ioctl(vm, KVM_RUN, 0, NULL);
	ret |= vcpu_ioctl(vm, KVM_GET_SREGS, &sregs, NULL);
	ret |= vcpu_ioctl(vm, KVM_SET_REGS, &regs, NULL);
	ret |= vcpu_ioctl(vm, KVM_GET_FPU, fpu, NULL);
	ret |= vcpu_ioctl(vm, KVM_SET_CPUID2, &cpuid.c, NULL);
	ret |= vcpu_ioctl(vm, KVM_SET_SIGNAL_MASK, &kmask.m, NULL);
	ret |= kvm_ioctl(NULL, NULL, 3, KVM_CHECK_EXTENSION, cap, NULL);
	ret |= kvm_ioctl(NULL, NULL, 3, KVM_GET_API_VERSION, 0, NULL);
#elif CASE == 1 /* expect: KVM_SET_SIGNAL_MASK: the argument is not what the request encodes */
	/* The whole union, 12 bytes, where the request encodes the 4-byte header. */
	ret = vcpu_ioctl(vm, KVM_SET_SIGNAL_MASK, &kmask, NULL);
#elif CASE == 2 /* expect: KVM_GET_SREGS: the argument is not what the request encodes */
	ret = vcpu_ioctl(vm, KVM_GET_SREGS, &regs, NULL); /* another struct */
#elif CASE == 3 /* expect: KVM_SET_CPUID2: the argument is not what the request encodes */
	ret = vcpu_ioctl(vm, KVM_SET_CPUID2, &cpuid, NULL); /* the header and room for entries */
#elif CASE == 4 /* expect: KVM_RUN: the argument is not what the request encodes */
	ret = vcpu_ioctl(vm, KVM_RUN, &regs, NULL); /* a pointer to a request that takes none */
#elif CASE == 5 /* expect: KVM_SET_REGS: the argument is not what the request encodes */
	ret = vcpu_ioctl(vm, KVM_SET_REGS, 0, NULL); /* an integer where a pointer is due */
#elif CASE == 6 /* expect: KVM_GET_FPU: the argument is not what the request encodes */
	ret = vcpu_ioctl(vm, KVM_GET_FPU, (void *)fpu, NULL); /* a void pointer: no size */
#elif CASE == 7 /* expect: KVM_CHECK_EXTENSION: the argument is not what the request encodes */
	ret = kvm_ioctl(NULL, NULL, 3, KVM_CHECK_EXTENSION, &cap, NULL); /* the bare-fd helper */
#elif CASE == 8 /* expect: incompatible pointer type */
	ret = vcpu_ioctl(&sregs, KVM_RUN, 0, NULL); /* not a VM */
#endif
	return ret;
}
