/* The per-VM port registry: every guest port access (KVM_EXIT_IO) goes to the handler
 * registered for its port. The console port, the hypercall ports and the embedder's user
 * ports are registrations (vm_create.c at create); a port nobody registered is a guest fault. */
#ifndef KVMBOX_PORTS_H
#define KVMBOX_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct kvmbox_vm;

/* One port access as KVM reports it: COUNT elements (a rep ins/outs has several) of SIZE
 * bytes at DATA, inside kvm_run. For an OUT they hold what the guest wrote; for an IN the
 * handler fills them and KVM hands them to the guest on the next KVM_RUN. */
struct port_io {
	uint16_t port;
	bool out;
	uint8_t size;  /* 1, 2 or 4 */
	uint32_t count;
	uint8_t *data;
};

/* Serve IO. Returns 0, or -EOPNOTSUPP when the access is not one the port serves (e.g. an
 * IN on an output-only port): the run loop then reports it as an access to an unknown port. */
typedef int (*port_fn)(struct kvmbox_vm *vm, void *ctx, const struct port_io *io);

struct port_range {
	uint16_t first;
	uint32_t count; /* ports [first, first + count), within 0 .. 0xffff */
	port_fn fn;
	void *ctx;
};

#define PORT_RANGES_MAX 8

struct port_map {
	struct port_range r[PORT_RANGES_MAX];
	unsigned n;
};

/* Register FN (with CTX) for ports [FIRST, FIRST + COUNT). Returns 0, -EINVAL (COUNT 0, a
 * range past port 0xffff or a NULL FN), -EEXIST (overlaps a registered range, which keeps
 * its ports) or -ENOSPC (PORT_RANGES_MAX ranges already). */
int ports_register(struct port_map *m, uint16_t first, uint32_t count, port_fn fn, void *ctx);

/* The range that holds PORT, or NULL. */
const struct port_range *ports_find(const struct port_map *m, uint16_t port);

#endif
