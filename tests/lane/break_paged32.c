/* TEST-ONLY SABOTAGE for `make check-realkvm-broken` (mk/realkvm.mk): linked with
 * -Wl,--wrap=kvmbox_vm_load into a separate build, never into a normal one. Every paged32 VM gets
 * its first 4 MiB unmapped (page-directory entry 0 not present) right after its image is loaded, so
 * a lane that claims to run 32-bit paging must then fail. Uses only the public API. */
#include <errno.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"

#define PDE_PRESENT 1u

int __real_kvmbox_vm_load(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err);
int __wrap_kvmbox_vm_load(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err);

int __wrap_kvmbox_vm_load(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err)
{
	struct kvmbox_layout layout;
	uint32_t pde;
	int ret = __real_kvmbox_vm_load(vm, img, err);

	if (ret < 0 || kvmbox_vm_mode(vm) != KVMBOX_MODE_PAGED32)
		return ret;
	if (kvmbox_layout_get(KVMBOX_MODE_PAGED32, kvmbox_vm_mem_size(vm), &layout, err) < 0 ||
	    kvmbox_vm_read(vm, layout.pt_root, &pde, sizeof(pde)) < 0)
		return -EFAULT;
	pde &= ~PDE_PRESENT;
	return kvmbox_vm_write(vm, layout.pt_root, &pde, sizeof(pde)) < 0 ? -EFAULT : 0;
}
