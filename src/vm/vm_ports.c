/* The per-VM port registry (vm_ports.h): a handful of ranges, scanned in registration order. */
#include <errno.h>
#include <stddef.h>
#include "vm/vm_ports.h"

int ports_register(struct port_map *m, uint16_t first, uint32_t count, port_fn fn, void *ctx)
{
	unsigned i;

	if (!count || !fn || first + count > 0x10000u)
		return -EINVAL;
	for (i = 0; i < m->n; i++) {
		const struct port_range *r = &m->r[i];

		if (first < r->first + r->count && r->first < first + count)
			return -EEXIST;
	}
	if (m->n == PORT_RANGES_MAX)
		return -ENOSPC;
	m->r[m->n++] = (struct port_range){ .first = first, .count = count, .fn = fn, .ctx = ctx };
	return 0;
}

const struct port_range *ports_find(const struct port_map *m, uint16_t port)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (port >= m->r[i].first && (uint32_t)(port - m->r[i].first) < m->r[i].count)
			return &m->r[i];
	return NULL;
}
