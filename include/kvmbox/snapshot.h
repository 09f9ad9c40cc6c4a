/* Snapshots: a VM saved into a file and made again from it, in this process or in another,
 * once or many times, and a VM forked copy-on-write into many. docs/snapshot.md describes the
 * file format and what comes back. Every call returns 0 or a negative errno, with one line in
 * ERR (which may be NULL) saying what went wrong. */
#ifndef KVMBOX_SNAPSHOT_H
#define KVMBOX_SNAPSHOT_H

#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

/* Save VM into FD, a regular file open for writing, from its start (it is truncated to the
 * snapshot's size). VM is loaded (or restored) and between runs: before its first run, or
 * after a run that ended in a halt, an exit, a deadline, a cancel, a yield or a preemption,
 * but not a fault, an assertion, a bad call under --strict, a host error or a wait on a
 * channel (-EBUSY: nothing to resume from). Console output the VM holds is handed to its
 * sink first: a restore prints only what the guest prints after this point. A pending port
 * access is completed first (its answer is part of the state). The VM can run on after.
 * Kept: guest memory (its non-zero pages), the vCPU's registers, FPU/SSE (XSAVE) and debug
 * registers, pending events, the MSRs a guest can set, the TSC, the CPUID it was given, the
 * statistics, the open share files (path, offset, access mode), the generation. Returns 0,
 * -EBUSY (not between runs, or FD is the file the VM's memory is mapped from), -ENOTSUP (a
 * state a snapshot cannot keep: ERR says which), or the errno of a write or a KVM call. */
int kvmbox_vm_save(struct kvmbox_vm *vm, int fd, struct kvmbox_error *err);

enum {
	/* Read the guest pages into the VM's own memory instead of mapping the file
	 * copy-on-write: for a file that may be changed while the VM runs (one in a share a
	 * guest can write, or with other hard links), which would change the guest's memory or,
	 * cut short, take it away. Costs a copy of the stored pages. */
	KVMBOX_RESTORE_COPY = 1u << 0,
};

/* Make a VM from the snapshot file FD (open for reading; the caller may close it after)
 * with CFG, which says everything the VM may use, as for kvmbox_vm_create: the console,
 * share (open files are reopened beneath it, at their offsets: a share is needed, and a
 * read-write one where a file was open for writing), limits, flags, ports, gdb. The snapshot
 * gives the mode and memory size: CFG->mode (AUTO: any) and CFG->mem_size (0: any) must agree
 * with them. The file is checked whole before anything is mapped or created: a truncated,
 * corrupt or hostile file, another format version, another mode or size, or a CPU vendor
 * other than this host's where the guest was given a CPUID table, is refused with -ENOEXEC
 * and nothing made. Guest memory maps the file's pages copy-on-write (MAP_PRIVATE: a restore
 * costs the pages the guest touches), unless FLAGS has KVMBOX_RESTORE_COPY. The next
 * kvmbox_vm_run continues where the saved VM stopped; KVMBOX_HC_SNAPSHOT returns 1 there
 * when the guest asked for the snapshot. The generation is new. Returns 0 with *VMP set, or
 * -ENOEXEC (the file, or CFG against it), -ENOENT / -EROFS / -EMFILE (a share file CFG's
 * share cannot give back), -ENOTSUP (this host's KVM refuses some of the state: ERR names
 * it), -ENODEV (no usable KVM) or another errno. */
int kvmbox_vm_restore(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg, int fd,
		      unsigned flags, struct kvmbox_error *err);

/* Make *CHILD a copy of VM in this process, as a restore of a snapshot taken now would be,
 * without a file: guest memory is shared copy-on-write (each fork pays for the pages it
 * writes), and the child has its own vCPU, features (share files reopened at their offsets)
 * and a new generation. VM must be between runs, as for kvmbox_vm_save; it is not changed.
 * Its state is taken once (into a sealed memfd) and serves every fork until VM runs again.
 * CFG configures the child as for kvmbox_vm_restore (NULL: VM's mode and memory, no console,
 * share or limits). Returns as kvmbox_vm_restore. */
int kvmbox_vm_fork(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg,
		   struct kvmbox_vm **child, struct kvmbox_error *err);

/* VM's generation, what KVMBOX_HC_GENERATION tells the guest: 0 for a VM made from an image,
 * a new random non-zero number for each restored or forked VM. */
uint64_t kvmbox_vm_generation(const struct kvmbox_vm *vm);

/* What a snapshot file holds (`kvmbox snapshot FILE`). Plain data. */
struct kvmbox_snapshot_info {
	unsigned version;        /* format version */
	char writer[17];         /* the kvmbox version that wrote it */
	enum kvmbox_mode mode;
	uint64_t mem_size;
	uint64_t pages;          /* guest pages stored (the others are zero) */
	uint64_t runs;           /* ... in this many runs of consecutive pages */
	uint64_t file_size;
	const char *reason;      /* "the guest asked", "between runs", "a fork's template" */
	enum kvmbox_stop stop;   /* how the run before the save ended (NONE: before any run) */
	uint16_t cs;
	uint64_t rip, pc;        /* where the guest stood: cs:rip, and linear cs.base + rip */
	uint64_t generation;
	char vendor[16];         /* the saving host's CPU vendor */
	const char *cpuid;       /* "none", "kvmbox's model", "the host's" */
	uint32_t tsc_khz;
	uint64_t saved_ns;       /* CLOCK_REALTIME of the save */
	struct kvmbox_stats stats;
	char state[2048];        /* the features' state, one line each ("files: fd 3 out.txt
				    open for writing at 120"), NUL-terminated */
};

/* Check the snapshot file FD as kvmbox_vm_restore does (the guest pages' checksum too) and
 * describe it in INFO. Needs no KVM. Returns 0 or -ENOEXEC (and read errors) with ERR set. */
int kvmbox_snapshot_info(int fd, struct kvmbox_snapshot_info *info, struct kvmbox_error *err);

KVMBOX_API_END

#endif
