/* What --trace and -v say: every KVM ioctl with its meaningful arguments and result, the
 * registers handed to KVM through sync_regs, every exit with its decoded fields, and (at
 * INFO) the mode, layout and image of a VM. The one place that knows how to print each
 * request's argument struct; callers pass the struct and stay clean. Each function returns
 * at once, formatting nothing, unless its level is on: the run loop pays one test. With
 * KVMBOX_LOG_EXPLAIN each traced step is followed by its sentence from kvm_explain.c. */
#ifndef KVMBOX_TRACE_H
#define KVMBOX_TRACE_H

#include <stdbool.h>
#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"

/* After ioctl REQ (named NAME) on FD with argument ARG returned RET (ERRNUM its errno when
 * RET < 0): one TRACE line "ioctl(fd F, NAME, {fields}) = RET (meaning)". ARG is read as the
 * struct REQ takes, after the call, so outputs (KVM_GET_SREGS) show what KVM filled in. */
void trace_ioctl(const struct kvmbox_log *log, const char *who, int fd, unsigned long req,
		 const char *name, unsigned long arg, int ret, int errnum);

/* A step that is not an ioctl (an mmap, a close): the TRACE line "WHAT", then STEP's sentence. */
void trace_step(const struct kvmbox_log *log, const char *who, const char *step,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The registers RUN's kvm_dirty_regs hands to KVM on the next KVM_RUN (sync_regs): special
 * registers (CR0/CR3/CR4/EFER with their bits named, segments, GDT/IDT) and rip/rsp/rflags. */
void trace_sync_regs(const struct kvmbox_log *log, const char *who, const struct kvm_run *run);

/* The exit RUN holds, named NAME (vm_exit.c knows the names): its decoded fields (I/O port/direction/size/count/data, MMIO
 * address/length/data, internal-error suberror and data ...) and rip. FIRST_RUN: the VM's
 * first exit (KVM_RUN is explained once); FIRST_OF_KIND: its first exit of this kind. */
void trace_exit(const struct kvmbox_log *log, const char *who, const struct kvm_run *run,
		const char *name, bool first_run, bool first_of_kind);

/* INFO: MODE, memory size and LAYOUT (system area, stack, where the GDT/TSS/page tables are). */
void trace_layout(const struct kvmbox_log *log, const char *who, enum kvmbox_mode mode,
		  const struct kvmbox_layout *layout);

/* INFO: IMG's format, entry point and segments as loaded (guest-physical range, file bytes). */
void trace_image(const struct kvmbox_log *log, const char *who, const struct kvmbox_image *img);

#endif
