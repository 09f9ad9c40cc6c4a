/* The hypercall table: call number -> handler. Each feature file (console.c, stats.c,
 * files.c, chan.c ...) registers its calls; the run loop dispatches I/O exits on the
 * hypercall ports here. Handlers change VM state only; they never run or schedule VMs. */
#ifndef KVMBOX_HC_H
#define KVMBOX_HC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "kvmbox/abi.h"

struct kvmbox_vm;
struct kvmbox_vm_config;
struct kvmbox_error;

struct hc_call {
	uint32_t nr;
	uint64_t arg; /* rbx in 64-bit code, ebx (zero-extended) otherwise */
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
};

/* Register DEFS[0..N). Refuses (-EINVAL) a number >= KVMBOX_HC_MAX or a NULL handler and
 * (-EEXIST) a number already registered; on failure nothing of DEFS stays registered. */
int hc_register(struct hc_table *t, const struct hc_def *defs, unsigned n);

/* Every feature's registration, called once per VM by hc_table_init. */
int hc_console_register(struct hc_table *t);
int hc_stats_register(struct hc_table *t);
int hc_files_register(struct hc_table *t);
int hc_chan_register(struct hc_table *t);

/* Give a VM created with CFG->share_dir its file table: opens the share once (O_PATH |
 * O_DIRECTORY) and sets the open-file limit (CFG->max_open_files, 0: 16, at most 4096).
 * Does nothing without a share. Call once from kvmbox_vm_create, before the first run;
 * hc_files_release undoes it. Returns 0, or -errno with ERR naming the directory. */
int hc_files_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, struct kvmbox_error *err);

/* Release a VM's feature state (open guest files, channel attachments). Safe on a VM that
 * has none. Called by kvmbox_vm_destroy. */
void hc_files_release(struct kvmbox_vm *vm);
void hc_chan_release(struct kvmbox_vm *vm);

/* Close every guest file of the VM, keeping the share: the table is as a new VM's
 * (kvmbox_vm_reset). */
void hc_files_close_all(struct kvmbox_vm *vm);

/* Fill T with every built-in hypercall. Returns 0 or the first registration error. */
int hc_table_init(struct hc_table *t);

/* Serve the KVM_EXIT_IO in RUN, which targets a hypercall port: check the access (32-bit,
 * single, IN), call the handler and put its result in the IN data. Malformed accesses
 * are bad calls. */
void hc_dispatch(struct kvmbox_vm *vm, struct kvm_run *run);

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

/* Is PORT one of the hypercall ports? */
static inline int hc_is_port(uint16_t port)
{
	return port >= KVMBOX_PORT_HC_BASE && port < KVMBOX_PORT_HC_BASE + KVMBOX_HC_MAX;
}

#endif
