/* --explain: one sentence of *why* for each step of a VM's bring-up and for each kind of exit,
 * for people learning KVM. The sentences live in one table, in kvm_explain.c. */
#ifndef KVMBOX_EXPLAIN_H
#define KVMBOX_EXPLAIN_H

#include "kvmbox/kvmbox.h"

/* Log "STEP: why" at KVMBOX_LOG_EXPLAIN when LOG has that level and the table knows STEP (an
 * ioctl's name such as "KVM_SET_TSS_ADDR", an exit's such as "KVM_EXIT_HLT", a control
 * register bit such as "CR0.PG", or a step like "sync_regs"); nothing otherwise. */
void explain_step(const struct kvmbox_log *log, const char *who, const char *step);

/* The sentence for STEP, or NULL. For tests and docs. */
const char *explain_text(const char *step);

#endif
