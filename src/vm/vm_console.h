/* The guest console: bytes from port 0xE9 (KVM's coalesced ring or one exit each) and from
 * the print hypercalls, buffered per VM and handed to the embedder's sink or fd. */
#ifndef KVMBOX_CONSOLE_H
#define KVMBOX_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct kvmbox_vm;
struct kvmbox_error;
struct port_io;

/* Prepare to have KVM queue port 0xE9 output in the coalesced ring instead of exiting per
 * byte, when the host can (KVM_CAP_COALESCED_PIO) and KVMBOX_VM_NO_COALESCE is not set: the
 * zone itself is registered by console_port after vm->coalesce_left console exits. Needs
 * vm->kvm_fd and the mapped kvm_run. Returns 0 (also when falling back to one exit per
 * byte); ERR is for failures to come. */
int console_setup(struct kvmbox_vm *vm, struct kvmbox_error *err);

/* Move the bytes KVM queued in the coalesced ring since the last exit into the console.
 * The run loop calls it on every exit, before handling the exit, so output keeps guest
 * program order. Does nothing without a ring. */
void console_drain_ring(struct kvmbox_vm *vm);

/* The port handler of KVMBOX_PORT_CONSOLE (CTX unused): the low byte of each OUT element
 * goes to the console; the console exit that brings vm->coalesce_left to 0 registers the
 * coalesced zone. An IN is not served (-EOPNOTSUPP). */
int console_port(struct kvmbox_vm *vm, void *ctx, const struct port_io *io);

/* Queue LEN console bytes (flushed at newline when the sink is a terminal, when the buffer
 * fills, and at the end of every run). Counts them in stats.console_bytes. */
void vm_console_write(struct kvmbox_vm *vm, const char *buf, size_t len);

/* Hand the queued bytes to the sink. A console fd that cannot take them before the run's
 * deadline or before its cancel flag is set, or that fails, drops them
 * (stats.console_dropped) and requests a stop (TIMEOUT, CANCELLED, HOST_ERROR). */
void vm_console_flush(struct kvmbox_vm *vm);

/* Does FD always take a write at once, so that waiting for POLLOUT first is a wasted system
 * call? A regular file or /dev/null: poll(2) reports them ready whatever happens. */
bool console_fd_always_ready(int fd);

#endif
