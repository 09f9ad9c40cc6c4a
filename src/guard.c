/* The NULL guard (guard.h): page 0 unmapped in the paged modes, out of the memory slot in
 * protected mode, nothing in real mode. */
#include <errno.h>
#include <string.h>
#include "guard.h"
#include "mem.h"
#include "util.h"
#include "vm.h"
#include "x86/x86.h"

int guard_null_setup(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err)
{
	bool asked = vm->flags & KVMBOX_VM_GUARD_NULL;
	int ret;

	if (!asked && !img->guard_null)
		return 0;
	if (vm->mode == KVMBOX_MODE_REAL) {
		/* The CPU finds exception handlers in the interrupt vector table at 0 (SDM Vol 3A
		 * 20.1.4), kvmbox's included: page 0 must stay. An SDK image asks in every mode. */
		if (asked)
			return set_error(err, EINVAL, "the NULL guard needs a mode other than real: "
					 "in real mode page 0 holds the interrupt vector table");
		return 0;
	}
	if (img->entry < PAGE_SIZE)
		return set_error(err, ENOEXEC, "entry point 0x%llx lies in page 0, which the NULL "
				 "guard unmaps", (unsigned long long)img->entry);
	for (unsigned i = 0; i < img->nsegments; i++)
		if (img->segments[i].gpa < PAGE_SIZE)
			return set_error(err, ENOEXEC, "segment %u at 0x%llx lies in page 0, which the "
					 "NULL guard unmaps (load it at 0x1000 or above)", i,
					 (unsigned long long)img->segments[i].gpa);
	if (vm->mode == KVMBOX_MODE_PROTECTED)
		ret = mem_unback_page0(vm, err);
	else if ((ret = x86_guard_null(vm->mode, &vm->mem, &vm->layout)) < 0)
		set_error(err, -ret, "NULL guard: the page tables are not where the layout says");
	if (ret < 0)
		return ret;
	vm->guard_null = true;
	return 0;
}
