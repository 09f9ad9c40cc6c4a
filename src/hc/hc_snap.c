/* The snapshot hypercalls: the guest asks to be saved (KVMBOX_HC_SNAPSHOT, into its share or
 * the file the embedder named) and learns whether it has been restored or forked
 * (KVMBOX_HC_GENERATION). The save itself is made by the run loop once this call's exit is
 * served (src/snap/snap_save.c): a handler changes VM state only. docs/abi.md, "Snapshots". */
#include "mem/mem.h"
#include "base/util.h"
#include "vm/vm.h"
#include "hc/hc.h"

/* Save the VM at this call: into PATH in the share (a new file), or with "" into the
 * embedder's save target. The run loop replaces this call's 0 with the save's result; the
 * snapshot resumes with 1. */
static int32_t hc_snapshot(struct kvmbox_vm *vm, const struct hc_call *c)
{
	char path[KVMBOX_PATH_MAX];
	int n = guest_read_str(vm, c->arg, path, sizeof(path));

	if (n < 0)
		return vm_bad_call(vm, -n, "snapshot(0x%llx): %s", (unsigned long long)c->arg,
				   n == -KVMBOX_EFAULT ? "bad path address"
						       : "no NUL within KVMBOX_PATH_MAX bytes");
	if (n == 0 && vm->save_fd < 0)
		return -KVMBOX_ENOENT; /* the embedder named no file */
	vm_request_save(vm, path);
	return 0;
}

static int32_t hc_generation(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_generation g = { .generation = vm->generation };

	if (guest_write(vm, c->arg, &g, sizeof(g)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "generation: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	return 0;
}

static const struct hc_def snap_calls[] = {
	{ KVMBOX_HC_SNAPSHOT, "snapshot", hc_snapshot },
	{ KVMBOX_HC_GENERATION, "generation", hc_generation },
};

const struct vm_feature hc_snap_feature = {
	.name = "snapshot",
	.calls = snap_calls,
	.ncalls = ARRAY_SIZE(snap_calls),
};
