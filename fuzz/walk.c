/* libFuzzer target: the software page walker (src/x86/pagewalk.c) with random paging state, a
 * random address and access, and random guest memory holding the tables. */
#include <string.h>
#include "x86/pagewalk.h"
#include "fuzz.h"

#define MEM_MAX (1u << 20)

/* Input: cr0, cr3, cr4, efer, va (8 bytes each), access (1 byte), then guest memory at
 * guest-physical 0. The only glue to the walker's interface: if it is renamed, change this. */
static int walk_once(const uint8_t *data, size_t size, uint8_t *mem, struct x86_walk *w,
		     struct x86_paging *p, uint64_t *va)
{
	struct gmem gm = { .host = mem, .size = size - 41 };

	memcpy(&p->cr0, data, 8);
	memcpy(&p->cr3, data + 8, 8);
	memcpy(&p->cr4, data + 16, 8);
	memcpy(&p->efer, data + 24, 8);
	memcpy(va, data + 32, 8);
	memcpy(mem, data + 41, gm.size);
	return x86_walk(&gm, p, *va, data[40] & (X86_WALK_WRITE | X86_WALK_USER), w);
}

/* The described walk (x86_walk_describe, what --walk and fault reports show) gives the plain
 * walk's answer, and both renderings of it stay inside their buffer. */
static void describe_agrees(const uint8_t *data, size_t size, const uint8_t *mem,
			    const struct x86_walk *w, const struct x86_paging *p, uint64_t va)
{
	struct gmem gm = { .host = (uint8_t *)mem, .size = size - 41 };
	struct kvmbox_walk t = { 0 };
	char buf[512];
	int ret = x86_walk_describe(&gm, p, va, data[40] & (X86_WALK_WRITE | X86_WALK_USER), &t);

	FUZZ_REQUIRE((ret == 0) == (w->why == NULL) && t.mapped == (ret == 0));
	FUZZ_REQUIRE(ret != 0 || (t.gpa == w->gpa && (!x86_paging_enabled(p) || t.page_size == w->page_size)));
	FUZZ_REQUIRE(ret == 0 || !strcmp(t.why, w->why));
	FUZZ_REQUIRE(t.nlevels <= KVMBOX_WALK_LEVELS_MAX);
	FUZZ_REQUIRE(x86_walk_format(&t, true, buf, sizeof(buf)) < sizeof(buf) || buf[sizeof(buf) - 1] == '\0');
	FUZZ_REQUIRE(strlen(buf) < sizeof(buf));
	x86_walk_format(&t, false, buf, sizeof(buf));
	FUZZ_REQUIRE(strlen(buf) < sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 1ull << 12, 1ull << 21, 1ull << 22, 1ull << 30 };
	struct x86_paging p;
	struct x86_walk w;
	uint8_t *mem;
	uint64_t va;
	bool size_ok = false;

	if (size < 41 || size - 41 > MEM_MAX)
		return 0;
	/* Table entries sit at 4- or 8-byte multiples of guest-physical addresses, so malloc's
	 * alignment keeps the walker's reads aligned as in page-aligned guest memory. */
	mem = malloc(size - 41 + 1);
	if (!mem)
		return 0;
	if (walk_once(data, size, mem, &w, &p, &va) == 0) {
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			size_ok |= w.page_size == sizes[i];
		FUZZ_REQUIRE(size_ok && w.why == NULL);
		FUZZ_REQUIRE((w.gpa & (w.page_size - 1)) == (va & (w.page_size - 1)));
		FUZZ_REQUIRE(x86_paging_enabled(&p) || w.gpa == va);
	} else {
		FUZZ_REQUIRE(w.why != NULL && w.level >= 1 && w.level <= 5);
	}
	describe_agrees(data, size, mem, &w, &p, va);
	free(mem);
	return 0;
}
