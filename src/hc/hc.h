/* The hypercall table: call number -> handler. Each feature (hc_console.c, hc_stats.c, hc_files.c,
 * hc_chan.c ...) lists its calls in its descriptor (src/vm/vm_features.h), registered per VM at create;
 * the run loop dispatches I/O exits on the hypercall ports here. Handlers change VM state
 * only; they never run or schedule VMs. */
#ifndef KVMBOX_HC_H
#define KVMBOX_HC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/abi.h"
#include "vm/vm_ports.h"

struct kvmbox_vm;

struct hc_call {
	uint32_t nr;
	uint64_t arg; /* rbx in 64-bit code, ebx (zero-extended) otherwise */
	void *state;  /* the calling VM's state of the feature that owns the call (may be NULL) */
};

/* A handler returns the guest's eax: >= 0, or -KVMBOX_E* for an error. A handler that
 * refuses a malformed call reports it with vm_bad_call() (which counts it) and returns
 * the error. */
typedef int32_t (*hc_fn)(struct kvmbox_vm *vm, const struct hc_call *call);

struct hc_def {
	uint32_t nr;
	const char *name;
	hc_fn fn;
};

struct hc_table {
	const struct hc_def *defs[KVMBOX_HC_MAX];
	uint8_t owner[KVMBOX_HC_MAX]; /* index of the feature slot whose state the call gets */
};

/* Register DEFS[0..N) as calls of the feature in slot OWNER. Refuses (-EINVAL) a number
 * >= KVMBOX_HC_MAX or a NULL handler and (-EEXIST) a number already registered; on failure
 * nothing of DEFS stays registered. */
int hc_register(struct hc_table *t, const struct hc_def *defs, unsigned n, uint8_t owner);

/* The port handler of the hypercall ports (registered with CTX = &vm->hc): check the access
 * (32-bit, single, IN), call the handler with its feature's state and put its result in
 * the IN data. Malformed accesses are bad calls. Always returns 0 (every access is served). */
int hc_dispatch(struct kvmbox_vm *vm, void *ctx, const struct port_io *io);

/* Write V in decimal at BUF, which has room for 20 digits, and return the digit count. The
 * handlers that format numbers on every call use it: snprintf costs 50-90 ns an exit. */
static inline size_t hc_fmt_u64(char *buf, uint64_t v)
{
	char rev[20];
	size_t n = 0, i;

	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	return n;
}

/* VM's share for src/sandbox/, whose Landlock rule names it: its directory descriptor
 * (*DIR_FD, O_PATH) and whether it is *READONLY. Returns 0, or -1 when the VM has no share. */
int hc_files_share(const struct kvmbox_vm *vm, int *dir_fd, bool *readonly);

/* Create PATH in VM's share for a snapshot of SIZE bytes: a new regular file only (O_EXCL: a
 * snapshot may back running VMs, mapped copy-on-write, which a write over it would change),
 * within the share's caps (the file size, the bytes and files it may add), which it charges.
 * Returns 0 with *FDP open for writing, or the guest's -KVMBOX_E* (-EPERM without a share). */
int hc_files_create_sized(struct kvmbox_vm *vm, const char *path, uint64_t size, int *fdp);

#endif
