/* Exit statistics, address translation and time hypercalls. */
#include <string.h>
#include "vm/vm_console.h"
#include "mem/mem.h"
#include "base/util.h"
#include "vm/vm.h"
#include "hc/hc.h"

/* Exits so far, this call's exit included (it was counted before dispatch). */
static int32_t hc_num_exits(struct kvmbox_vm *vm, const struct hc_call *c)
{
	(void)c;
	return (int32_t)(uint32_t)vm->stats.exits;
}

/* Writes "IO in: X\nIO out: Y\n" into a buffer the guest provides: each call gets its own
 * buffer, so two results never alias. */
static int32_t hc_exits_by_type(struct kvmbox_vm *vm, const struct hc_call *c)
{
	static const char in[] = "IO in: ", out[] = "\nIO out: ";
	struct kvmbox_hc_buf b;
	char text[64];
	size_t n;

	if (guest_read(vm, c->arg, &b, sizeof(b)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "numExitsByType: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	memcpy(text, in, sizeof(in) - 1);
	n = sizeof(in) - 1;
	n += hc_fmt_u64(text + n, vm->stats.io_in);
	memcpy(text + n, out, sizeof(out) - 1);
	n += sizeof(out) - 1;
	n += hc_fmt_u64(text + n, vm->stats.io_out);
	text[n++] = '\n';
	text[n] = '\0';
	if (n + 1 > b.len)
		return vm_bad_call(vm, KVMBOX_ERANGE, "numExitsByType: buffer of %u bytes, need %zu",
				   b.len, n + 1);
	if (guest_write(vm, b.addr, text, n + 1) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "numExitsByType: bad buffer 0x%llx",
				   (unsigned long long)b.addr);
	return (int32_t)n;
}

/* Host address of GVA, or NULL (with "Invalid GVA" on the console, as the classic
 * interface has it) when it is unmapped or maps beyond guest memory. */
static void *translate(struct kvmbox_vm *vm, gva_t gva)
{
	void *hva = guest_hva(vm, gva);

	if (!hva) {
		static const char msg[] = "Invalid GVA\n";
		vm_console_write(vm, msg, sizeof(msg) - 1);
	}
	return hva;
}

static int32_t hc_gva_to_hva(struct kvmbox_vm *vm, const struct hc_call *c)
{
	if (vm->flags & KVMBOX_VM_HIDE_HOST_ADDRESSES)
		return 0; /* the classic "no address" */
	return (int32_t)(uint32_t)(uintptr_t)translate(vm, (uint32_t)c->arg);
}

static int32_t hc_gva_to_hva64(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_xlate x;

	if (vm->flags & KVMBOX_VM_HIDE_HOST_ADDRESSES)
		return -KVMBOX_EPERM;
	if (guest_read(vm, c->arg, &x, sizeof(x)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "gvaToHva64: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	x.hva = (uintptr_t)translate(vm, x.gva);
	if (guest_write(vm, c->arg, &x, sizeof(x)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "gvaToHva64: struct not writable");
	return x.hva ? 0 : -KVMBOX_EFAULT;
}

/* CLOCK_MONOTONIC in nanoseconds: steady, comparable across VMs of one host, not wall time. */
static int32_t hc_timestamp(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_time t = { .ns = now_ns() };

	if (guest_write(vm, c->arg, &t, sizeof(t)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "getTimestamp: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	return 0;
}

static const struct hc_def stats_calls[] = {
	{ KVMBOX_HC_NUM_EXITS, "num_exits", hc_num_exits },
	{ KVMBOX_HC_EXITS_BY_TYPE, "exits_by_type", hc_exits_by_type },
	{ KVMBOX_HC_GVA_TO_HVA, "gva_to_hva", hc_gva_to_hva },
	{ KVMBOX_HC_GVA_TO_HVA64, "gva_to_hva64", hc_gva_to_hva64 },
	{ KVMBOX_HC_TIMESTAMP, "timestamp", hc_timestamp },
};

const struct vm_feature hc_stats_feature = {
	.name = "stats",
	.calls = stats_calls,
	.ncalls = ARRAY_SIZE(stats_calls),
};
