/* Guest-physical memory and the one checked accessor every host access goes through. */
#ifndef KVMBOX_GMEM_H
#define KVMBOX_GMEM_H

#include <stdint.h>
#include "kvmbox/kvmbox.h"

struct gmem {
	uint8_t *host; /* host mapping of guest-physical 0 */
	uint64_t size; /* bytes */
};

/* Host pointer for guest-physical [gpa, gpa+len), or NULL when any byte of it lies outside
 * guest memory (the sum is checked for overflow). len 0 is valid for gpa <= size. This is
 * the only place that turns a guest-physical address into a host pointer (STYLE 12). */
static inline void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

#endif
