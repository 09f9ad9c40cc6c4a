/* Saving a VM: what a snapshot file holds, taken from a VM between runs or in the middle of
 * the guest's own request, and written to a file. Below the run loop (which makes the saves
 * the guest asks for) and above the features (whose save hooks it calls); restoring and
 * forking are in src/snap/snap_restore.c, with VM creation. */
#ifndef KVMBOX_SNAP_SAVE_H
#define KVMBOX_SNAP_SAVE_H

#include <stddef.h>
#include <stdint.h>
#include "snap/snap_cpu.h"
#include "snap/snap_file.h"
#include "vm/vm_features.h"

struct kvmbox_vm;
struct kvmbox_error;

/* A VM's state as a snapshot file holds it: F points into the rest. */
struct snap_capture {
	struct snap_file f;
	struct cpu_state cpu;
	struct feature_bytes feat[VM_FEATURES_MAX];
	unsigned nfeat;
	struct snap_run *runs;
	uint8_t *meta; /* snap_file_build's bytes: everything before the pages */
	size_t meta_len;
};

/* Can VM be saved now (loaded, and its last run ended where it can go on)? 0, or -errno with
 * ERR saying why not. */
int snap_savable(const struct kvmbox_vm *vm, struct kvmbox_error *err);

/* Take VM's state, its vCPU settled (cpu_settle), into C, saved for REASON (enum
 * snap_reason). Reads every guest page once. Returns 0 or -errno with ERR set; release C with
 * snap_capture_free in any case. */
int snap_capture(struct kvmbox_vm *vm, unsigned reason, struct snap_capture *c,
		 struct kvmbox_error *err);
void snap_capture_free(struct snap_capture *c);

/* Write C's file to FD from offset 0 (TRUNCATE: cut FD to the file's size after). Returns 0
 * or the write's -errno with ERR set. */
int snap_write(struct kvmbox_vm *vm, const struct snap_capture *c, int fd, bool truncate,
	       struct kvmbox_error *err);

/* The save the guest asked for (KVMBOX_HC_SNAPSHOT, recorded in vm->save_req by its
 * handler), made by the run loop right after the call's exit was served: the snapshot
 * resumes with the call returning 1, the running guest gets 0, or -errno when the save
 * failed (the reason is logged at WARN). A vCPU that cannot be settled stops the run. */
void snap_save_requested(struct kvmbox_vm *vm);

/* kvmbox_vm_fork's template: VM's state once saved, and its guest pages in a sealed memfd at
 * their own offsets (page P at P * 4 KiB, holes for the zero pages), so a fork maps all of
 * guest memory in one mapping. Valid until VM runs again. */
struct fork_template {
	uint8_t *meta;
	size_t meta_len;
	struct snap_file file; /* parsed from META */
	int memfd;
};

/* Free VM's fork template, if any (the VM runs again, or is destroyed). */
void snap_template_free(struct kvmbox_vm *vm);

#endif
