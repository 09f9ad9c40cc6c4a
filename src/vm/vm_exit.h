/* KVM exit names and the --trace line of every exit. */
#ifndef KVMBOX_VM_EXIT_H
#define KVMBOX_VM_EXIT_H

struct kvmbox_vm;

#include <stddef.h>
#include <stdint.h>

/* "KVM_EXIT_HLT", or "KVM exit 77" (written into BUF, LEN bytes) for a reason this build
 * does not know. */
const char *exit_label(uint32_t reason, char *buf, size_t len);

/* Log VM's current exit at TRACE level (the caller checks log_on first: it is per exit). */
void exit_trace(const struct kvmbox_vm *vm);

#endif
