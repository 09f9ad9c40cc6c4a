/* The prebuilt seccomp filter (prebuilt.h): when it fits a run, and its descriptors. */
#include <string.h>
#include "hc/hc.h"
#include "vm/vm.h"
#include "sandbox/prebuilt.h"

bool sandbox_prebuilt_fits(const struct kvmbox_sandbox_config *cfg)
{
	const struct kvmbox_vm *vm;
	int dir_fd;
	bool ro;

	if (!kvmbox_seccomp_prebuilt || !kvmbox_seccomp_prebuilt_patch || cfg->nvms != 1)
		return false;
	vm = cfg->vms[0];
	/* The generator's VM: a VM descriptor below the vCPU's (libseccomp orders the rules by
	 * their values), a zone still to come, no reset point, share, file to save into or gdb stub. */
	return vm->vm_fd >= 0 && vm->vcpu_fd > vm->vm_fd && vm->coalesce_left && !vm->point.taken &&
	       vm->save_fd < 0 && hc_files_share(vm, &dir_fd, &ro) < 0 &&
	       !kvmbox_vm_gdb_address(vm)[0];
}

unsigned sandbox_prebuilt_fill(const struct kvmbox_sandbox_config *cfg, struct sock_filter *prog)
{
	const struct kvmbox_vm *vm = cfg->vms[0];

	memcpy(prog, kvmbox_seccomp_prebuilt, kvmbox_seccomp_prebuilt_len * sizeof(*prog));
	for (unsigned i = 0; i < kvmbox_seccomp_prebuilt_npatch; i++) {
		const struct prebuilt_patch *p = &kvmbox_seccomp_prebuilt_patch[i];

		prog[p->insn].k = (uint32_t)(p->fd == PREBUILT_VM_FD ? vm->vm_fd : vm->vcpu_fd);
	}
	return kvmbox_seccomp_prebuilt_len;
}
