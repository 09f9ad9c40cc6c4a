/* The "Matrix" ports of the classic two-VM assignment (Neo writes a counter to
 * port 0x10, Morpheus to 0x11). Shared by the guests in examples/ and the several-VM command,
 * which serves them (kvmbox_vm_config.user_port_*) instead of treating them as faults.
 * Freestanding: no libc. */
#ifndef KVMBOX_MATRIX_H
#define KVMBOX_MATRIX_H

#define KVMBOX_PORT_NEO 0x10
#define KVMBOX_PORT_MORPHEUS 0x11
#define KVMBOX_PORT_MATRIX_FIRST KVMBOX_PORT_NEO
#define KVMBOX_PORT_MATRIX_COUNT 2

#endif
