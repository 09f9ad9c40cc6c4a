/* KVM exit names and the text of the exits that end a run (fault messages with the exit's
 * name and RIP, the --trace line of every exit). */
#ifndef KVMBOX_EXITS_H
#define KVMBOX_EXITS_H

struct kvmbox_vm;

#include <stdbool.h>
#include <stdint.h>

/* Request a KVMBOX_STOP_FAULT for VM's current exit: "<exit name>: <text> at rip 0x... in
 * FUNCTION (FILE:LINE)", as the exception reports say where. */
void exit_fault(struct kvmbox_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a port I/O exit nobody serves: an `out` (OUT) or `in` of SIZE bytes on PORT
 * that no registration covers (SERVED false), or that its handler refused (SERVED true, as
 * the console refuses an `in`). The text says what the port is on a PC and which ports
 * kvmbox serves. */
void exit_port_fault(struct kvmbox_vm *vm, uint16_t port, bool out, unsigned size, bool served);

/* Every exit other than KVM_EXIT_IO ends the run: request its stop (HALT for hlt, FAULT
 * with the reason's text for MMIO, SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR and the rest). */
void exit_stop(struct kvmbox_vm *vm);

/* Log VM's current exit at TRACE level (the caller checks log_on first: it is per exit). */
void exit_trace(const struct kvmbox_vm *vm);

#endif
