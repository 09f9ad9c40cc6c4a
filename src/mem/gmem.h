/* A view of guest memory that needs no VM: the host mapping, its size and the checked
 * pointer every guest-physical access goes through. A leaf header, so the x86 layer can build
 * and walk tables in guest memory without knowing the VM core (src/mem/mem.h, which holds the
 * VM-level accessors, includes it). */
#ifndef KVMBOX_GMEM_H
#define KVMBOX_GMEM_H

#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "base/addr.h"

struct gmem {
	uint8_t *host; /* host mapping of guest-physical 0; MAP_FAILED when not mapped */
	uint64_t size; /* bytes */
	/* Where KVM memory slot 0 starts: 0, or PAGE_SIZE when page 0 is left out of it (the
	 * NULL guard of protected mode: the guest's accesses there are MMIO exits, and the
	 * guest-virtual accessors refuse it too). The host mapping always covers all of it. */
	gpa_t slot_base;
	/* With a snapshot (mem_snapshot), else NULL: */
	uint8_t *snap;         /* guest memory as it was; pages that were zero are never touched */
	uint64_t *kvm_dirty;   /* KVM_GET_DIRTY_LOG's bitmap, a bit per 4 KiB page */
	uint64_t *host_dirty;  /* pages the host wrote since, same layout */
	size_t words;          /* 64-bit words in each bitmap */
};

/* Host pointer for guest-physical [gpa, gpa+len), or NULL when any byte of it lies outside
 * guest memory (the sum is checked for overflow). len 0 is valid for gpa <= size. This is
 * the only place that turns a guest-physical address into a host pointer; the
 * x86 layer uses it for the tables it builds and walks. */
static inline void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

#endif
