/* Guest memory for unit tests: an anonymous mapping as struct gmem, and checked word
 * accessors to build page tables and descriptors in it. Include after <cmocka.h>. */
#ifndef KVMBOX_TESTS_UNIT_GMEM_TEST_H
#define KVMBOX_TESTS_UNIT_GMEM_TEST_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "mem/mem.h"

/* Untouched MAP_NORESERVE pages cost nothing, so even 3 GiB guests are cheap. */
static inline struct gmem mem_new(uint64_t size)
{
	struct gmem m = { 0 };
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	assert_true(p != MAP_FAILED);
	m.host = p;
	m.size = size;
	return m;
}

static inline void mem_free(struct gmem *m)
{
	munmap(m->host, m->size);
}

static inline void put64(const struct gmem *m, gpa_t gpa, uint64_t v)
{
	void *p = gmem_ptr(m, gpa, sizeof(v));

	assert_non_null(p);
	memcpy(p, &v, sizeof(v));
}

static inline void put32(const struct gmem *m, gpa_t gpa, uint32_t v)
{
	void *p = gmem_ptr(m, gpa, sizeof(v));

	assert_non_null(p);
	memcpy(p, &v, sizeof(v));
}

static inline uint64_t get64(const struct gmem *m, gpa_t gpa)
{
	uint64_t v;
	void *p = gmem_ptr(m, gpa, sizeof(v));

	assert_non_null(p);
	memcpy(&v, p, sizeof(v));
	return v;
}

#endif
