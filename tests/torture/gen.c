/* torture-gen: write seeded random flat-binary guests for `make torture` (docs/security.md):
 * per mode, N random-byte guests and N random-instruction guests biased toward valid x86 that
 * exercises what a hypervisor must survive (port I/O, hypercalls, hlt, int/iret, lgdt, mov cr).
 * Usage: torture-gen DIR SEED N. Writes DIR/MODE-KIND-NNNN.bin and DIR/guests.list. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/abi.h"

#define GUEST_MAX 4096

static const char *const modes[] = { "real", "protected", "paged32", "long" };
enum kind { KIND_BYTES, KIND_INSNS };
static const char *const kinds[] = { "bytes", "insns" };

/* Load addresses: 0 (the classic), page 1, the boot sector's 0x7c00, and 32 KiB (real mode:
 * the entry must be an IP in segment 0) or 64 KiB; all below the system area of 2 MiB. */
static const uint32_t loads[2][4] = { { 0x0, 0x1000, 0x7c00, 0x8000 }, { 0x0, 0x1000, 0x7c00, 0x10000 } };

/* Guest memory sizes: the smallest, the default (most guests) and a larger one, so the system
 * area and the page tables move. */
static const char *const mems[] = { "256K", "2M", "2M", "16M" };

/* splitmix64: a small, well-mixed generator; one state per guest so that a guest depends only
 * on (seed, mode, kind, index), never on how many guests came before it. */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(next(s) % n);
}

struct buf {
	uint8_t b[GUEST_MAX];
	size_t len;
	unsigned opsize; /* operand size of the mode's code segment: 2 (real) or 4 */
};

static void put(struct buf *g, const void *p, size_t n)
{
	if (n > sizeof(g->b) - g->len)
		n = sizeof(g->b) - g->len;
	memcpy(g->b + g->len, p, n);
	g->len += n;
}

static void put_imm(struct buf *g, uint32_t v, unsigned size)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(g, le, size);
}

/* A value a handler will take seriously: small numbers, addresses inside the guest's memory,
 * edges (0, -1, sign bits) or anything. */
static uint32_t value(uint64_t *s)
{
	static const uint32_t edges[] = { 0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu, 0x1000, 0x400 };

	switch (below(s, 4)) {
	case 0: return below(s, 256);
	case 1: return below(s, 2u << 20);
	case 2: return edges[below(s, sizeof(edges) / sizeof(edges[0]))];
	default: return (uint32_t)next(s);
	}
}

/* A port: the console, a hypercall (in range or just past it) or anything. */
static uint16_t port(uint64_t *s)
{
	switch (below(s, 4)) {
	case 0: return KVMBOX_PORT_CONSOLE;
	case 1:
	case 2: return (uint16_t)(KVMBOX_PORT_HC_BASE + below(s, KVMBOX_HC_MAX + 8));
	default: return (uint16_t)next(s);
	}
}

/* One instruction (or a short idiom) as its bytes; a few take a random immediate. */
struct insn {
	uint8_t len;
	uint8_t op[4];
	int8_t imm; /* bytes of immediate: 1, 2, 4; -1: the mode's operand size; 0: none */
};

static const struct insn table[] = {
	{ 1, { 0xf4 }, 0 },             /* hlt */
	{ 1, { 0xee }, 0 },             /* out dx, al */
	{ 1, { 0xef }, 0 },             /* out dx, (e)ax */
	{ 1, { 0xec }, 0 },             /* in al, dx */
	{ 1, { 0xed }, 0 },             /* in (e)ax, dx */
	{ 1, { 0xe6 }, 1 },             /* out imm8, al */
	{ 1, { 0xe4 }, 1 },             /* in al, imm8 */
	{ 2, { 0xf3, 0x6e }, 0 },       /* rep outsb */
	{ 2, { 0xf3, 0x6c }, 0 },       /* rep insb */
	{ 1, { 0xcd }, 1 },             /* int imm8 */
	{ 1, { 0xcc }, 0 },             /* int3 */
	{ 1, { 0xcf }, 0 },             /* iret */
	{ 2, { 0x48, 0xcf }, 0 },       /* iretq (dec eax; iret outside long mode) */
	{ 3, { 0x0f, 0x01, 0x16 }, 2 }, /* lgdt [disp16] (16-bit addressing) */
	{ 3, { 0x0f, 0x01, 0x15 }, 4 }, /* lgdt [disp32 / rip+disp32] */
	{ 3, { 0x0f, 0x01, 0x1d }, 4 }, /* lidt [disp32 / rip+disp32] */
	{ 3, { 0x0f, 0x22, 0xc0 }, 0 }, /* mov cr0, (e/r)ax */
	{ 3, { 0x0f, 0x22, 0xd8 }, 0 }, /* mov cr3, (e/r)ax */
	{ 3, { 0x0f, 0x22, 0xe0 }, 0 }, /* mov cr4, (e/r)ax */
	{ 3, { 0x0f, 0x20, 0xc0 }, 0 }, /* mov (e/r)ax, cr0 */
	{ 3, { 0x0f, 0x00, 0xd8 }, 0 }, /* ltr ax */
	{ 2, { 0x8e, 0xd8 }, 0 },       /* mov ds, ax */
	{ 2, { 0x8e, 0xd0 }, 0 },       /* mov ss, ax */
	{ 2, { 0x0f, 0x30 }, 0 },       /* wrmsr */
	{ 2, { 0x0f, 0x32 }, 0 },       /* rdmsr */
	{ 2, { 0x0f, 0xa2 }, 0 },       /* cpuid */
	{ 2, { 0x0f, 0x0b }, 0 },       /* ud2 */
	{ 2, { 0x0f, 0x05 }, 0 },       /* syscall */
	{ 3, { 0x0f, 0x01, 0xc1 }, 0 }, /* vmcall */
	{ 3, { 0x0f, 0x01, 0xd9 }, 0 }, /* vmmcall */
	{ 1, { 0xfa }, 0 },             /* cli */
	{ 1, { 0xfb }, 0 },             /* sti */
	{ 1, { 0x9c }, 0 },             /* pushf */
	{ 1, { 0x9d }, 0 },             /* popf */
	{ 1, { 0xc3 }, 0 },             /* ret */
	{ 1, { 0xeb }, 1 },             /* jmp rel8 */
	{ 1, { 0x75 }, 1 },             /* jnz rel8 */
	{ 1, { 0xe2 }, 1 },             /* loop rel8 */
	{ 1, { 0xe8 }, -1 },            /* call rel */
	{ 1, { 0xea }, 4 },             /* jmp far ptr16:16 (#UD in long mode) */
	{ 1, { 0xb8 }, -1 },            /* mov (e)ax, imm */
	{ 2, { 0xf3, 0xaa }, 0 },       /* rep stosb */
	{ 2, { 0xf3, 0xa4 }, 0 },       /* rep movsb */
	{ 2, { 0x89, 0x18 }, 0 },       /* mov [(e/r)ax], (e)bx (16-bit: [bx+si]) */
	{ 2, { 0x8b, 0x23 }, 0 },       /* mov (e)sp, [(e)bx] */
};

/* mov r, imm in the mode's operand size: B8+r (eax 0, ecx 1, edx 2, ebx 3). */
static void mov_imm(struct buf *g, unsigned reg, uint32_t v)
{
	uint8_t op = (uint8_t)(0xb8 + reg);

	put(g, &op, 1);
	put_imm(g, v, g->opsize);
}

/* A hypercall or console idiom: argument in ebx, port in dx, then `in` or `out`. */
static void io_idiom(struct buf *g, uint64_t *s)
{
	static const uint8_t io[] = { 0xed, 0xef, 0xec, 0xee };

	mov_imm(g, 3, value(s));
	mov_imm(g, 0, value(s));
	mov_imm(g, 2, port(s));
	put(g, &io[below(s, sizeof(io))], 1);
}

static void one_insn(struct buf *g, uint64_t *s)
{
	static const uint8_t prefixes[] = { 0x66, 0x67, 0xf0, 0xf3, 0x2e, 0x48 };
	const struct insn *in;
	uint32_t r = below(s, 100);
	uint8_t raw[4];

	if (r < 25) {
		io_idiom(g, s);
		return;
	}
	if (r < 35) { /* a few random bytes keep the decoder honest */
		for (unsigned i = 0; i < 4; i++)
			raw[i] = (uint8_t)next(s);
		put(g, raw, 1 + below(s, 4));
		return;
	}
	if (r < 40)
		put(g, &prefixes[below(s, sizeof(prefixes))], 1);
	if (r < 55)
		mov_imm(g, below(s, 4), value(s));
	in = &table[below(s, sizeof(table) / sizeof(table[0]))];
	put(g, in->op, in->len);
	if (in->imm)
		put_imm(g, in->imm < 0 ? value(s) : (uint32_t)next(s), in->imm < 0 ? g->opsize
										: (unsigned)in->imm);
}

/* Fill G with the guest of KIND; most instruction guests end in hlt so that a run that falls
 * through the sequence ends rather than sliding through zeroed memory until the timeout. */
static void generate(struct buf *g, enum kind kind, uint64_t *s)
{
	uint8_t hlt = 0xf4;

	g->len = 0;
	if (kind == KIND_BYTES) {
		size_t n = 1 + below(s, GUEST_MAX);

		while (g->len < n) {
			uint8_t byte = (uint8_t)next(s);

			put(g, &byte, 1);
		}
		return;
	}
	for (uint32_t i = 0, n = 1 + below(s, 64); i < n; i++)
		one_insn(g, s);
	if (below(s, 4))
		put(g, &hlt, 1);
}

static int write_file(const char *path, const struct buf *g)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(g->b, 1, g->len, f) != g->len || fclose(f)) {
		fprintf(stderr, "torture-gen: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

/* One guest: file DIR/MODE-KIND-NNNN.bin and its line "MODE KIND INDEX LOAD MEM FLAGS FILE" in
 * LIST; FLAGS is "strict" (a bad hypercall stops the VM) for one guest in four, else "-". */
static int one_guest(const char *dir, uint64_t seed, unsigned m, enum kind k, unsigned i, FILE *list)
{
	uint64_t s = seed ^ ((uint64_t)m << 56) ^ ((uint64_t)k << 48) ^ i;
	struct buf g = { .opsize = m == 0 ? 2 : 4 };
	const char *mem, *flags;
	uint32_t load;
	char path[4096];

	next(&s); /* mix the index into every bit before the first use */
	load = loads[m != 0][below(&s, sizeof(loads[0]) / sizeof(loads[0][0]))];
	mem = mems[below(&s, sizeof(mems) / sizeof(mems[0]))];
	flags = below(&s, 4) ? "-" : "strict";
	generate(&g, k, &s);
	snprintf(path, sizeof(path), "%s/%s-%s-%04u.bin", dir, modes[m], kinds[k], i);
	if (write_file(path, &g) < 0)
		return -1;
	fprintf(list, "%s %s %u 0x%" PRIx32 " %s %s %s\n", modes[m], kinds[k], i, load, mem, flags, path);
	return 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	unsigned long long seed, n;
	char *end;
	FILE *list;
	int ret = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: torture-gen DIR SEED N\n");
		return 2;
	}
	errno = 0;
	seed = strtoull(argv[2], &end, 0);
	n = errno || *end ? 0 : strtoull(argv[3], &end, 0);
	if (errno || *end || n == 0 || n > 100000) {
		fprintf(stderr, "torture-gen: SEED must be a number and N a count in 1..100000\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/guests.list", argv[1]);
	list = fopen(path, "w");
	if (!list) {
		fprintf(stderr, "torture-gen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]) && !ret; m++)
		for (unsigned k = KIND_BYTES; k <= KIND_INSNS && !ret; k++)
			for (unsigned i = 0; i < n && !ret; i++)
				ret = one_guest(argv[1], seed, m, (enum kind)k, i, list);
	if (fclose(list) && !ret)
		ret = -1;
	return ret ? 1 : 0;
}
