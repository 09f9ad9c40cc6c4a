/* KVM exit names and the text of the exits that end a run (fault messages with the exit's
 * name and RIP, the --trace line of every exit). */
#ifndef KVMBOX_EXITS_H
#define KVMBOX_EXITS_H

struct kvmbox_vm;

/* Request a KVMBOX_STOP_FAULT for VM's current exit: "<exit name>: <text> at rip=0x...". */
void exit_fault(struct kvmbox_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every exit other than KVM_EXIT_IO ends the run: request its stop (HALT for hlt, FAULT
 * with the reason's text for MMIO, SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR and the rest). */
void exit_stop(struct kvmbox_vm *vm);

/* Log VM's current exit at TRACE level (the caller checks log_on first: it is per exit). */
void exit_trace(const struct kvmbox_vm *vm);

#endif
