/* libFuzzer target: the guest-memory accessors of src/mem/mem.c (guest-virtual: guest_read,
 * guest_write, guest_check, guest_read_str, guest_hva; guest-physical: mem_read, mem_write,
 * mem_load) with random paging state, random guest memory holding the page tables and a
 * random sequence of accesses, checked against their contracts in mem.h. */
#include <errno.h>
#include <string.h>
#include "vm/vm.h"
#include "fuzz.h"

#define PAGE 4096u
#define HDR 34 /* cr0 cr3 cr4 efer (8 each), flags, number of operations */
#define OP 11  /* operation, length (2), address (8) */
#define OPS_MAX 16
#define BUF_MAX (3 * PAGE) /* lengths go up to 64 KiB - 1; copies of more are cut here */

enum { OP_GREAD, OP_GWRITE, OP_GCHECK, OP_GSTR, OP_GHVA, OP_PREAD, OP_PWRITE, OP_PLOAD, OP_COUNT };

struct fake {
	struct kvmbox_vm *vm;
	struct kvm_run *run;
	uint8_t *before; /* guest memory before a write: an all-or-nothing write that fails leaves it */
};

/* The page of guest-physical GPA was marked dirty by a host write (kept for snapshots). */
static bool dirty(const struct gmem *m, uint64_t gpa)
{
	uint64_t p = gpa / PAGE;

	return m->host_dirty[p / 64] >> (p % 64) & 1;
}

static bool inside(const struct gmem *m, const void *p)
{
	return (const uint8_t *)p >= m->host && (const uint8_t *)p < m->host + m->size;
}

/* Guest-virtual writes and checks: all or nothing, and the host's writes are marked dirty.
 * The write may rewrite the page tables it goes through (they are guest memory too): the
 * last byte is checked only where its translation is the same after the write as before. */
static void op_gwrite(struct fake *f, uint64_t gva, uint64_t len, const uint8_t *src, bool check)
{
	struct gmem *m = &f->vm->mem;
	int ok_check = guest_check(f->vm, gva, len, true);
	uint8_t *last = len ? guest_hva(f->vm, gva + len - 1) : NULL;
	int ret;

	if (check) {
		FUZZ_REQUIRE(ok_check == 0 || ok_check == -KVMBOX_EFAULT);
		return;
	}
	memcpy(f->before, m->host, m->size);
	ret = guest_write(f->vm, gva, src, len);
	FUZZ_REQUIRE(ret == ok_check);
	if (ret < 0) {
		FUZZ_REQUIRE(memcmp(f->before, m->host, m->size) == 0);
	} else if (len && last == guest_hva(f->vm, gva + len - 1)) {
		FUZZ_REQUIRE(last && *last == src[len - 1] && dirty(m, (uint64_t)(last - m->host)));
	}
}

static void op_gread(struct fake *f, uint64_t gva, uint64_t len, uint8_t *buf)
{
	int ret = guest_read(f->vm, gva, buf, len);

	FUZZ_REQUIRE(ret == 0 || ret == -KVMBOX_EFAULT);
	FUZZ_REQUIRE(ret == guest_check(f->vm, gva, len, false));
	if (ret == 0 && len) {
		const uint8_t *first = guest_hva(f->vm, gva), *last = guest_hva(f->vm, gva + len - 1);

		FUZZ_REQUIRE(first && last && *first == buf[0] && *last == buf[len - 1]);
	}
}

static void op_gstr(struct fake *f, uint64_t gva, uint64_t max, char *buf)
{
	int n = guest_read_str(f->vm, gva, buf, max);

	FUZZ_REQUIRE(n >= 0 || n == -KVMBOX_EFAULT || n == -KVMBOX_ENAMETOOLONG);
	if (n >= 0)
		FUZZ_REQUIRE((uint64_t)n < max && buf[n] == 0 && strlen(buf) == (size_t)n);
	if (n == -KVMBOX_ENAMETOOLONG)
		FUZZ_REQUIRE(guest_check(f->vm, gva, max, false) == 0);
}

/* Guest-physical accesses: they succeed exactly when [gpa, gpa+len) lies inside memory. */
static void op_phys(struct fake *f, unsigned op, uint64_t gpa, uint64_t len, uint8_t *buf)
{
	struct gmem *m = &f->vm->mem;
	bool fits = gpa <= m->size && len <= m->size - gpa;
	int ret;

	if (op == OP_PREAD)
		ret = mem_read(m, gpa, buf, len);
	else if (op == OP_PWRITE)
		ret = mem_write(m, gpa, buf, len);
	else /* a segment: LEN / 2 bytes from BUF (at most all of it), then zeroes */
		ret = mem_load(m, gpa, buf, len / 2 < BUF_MAX ? len / 2 : BUF_MAX, len);
	FUZZ_REQUIRE(fits ? ret == 0 : ret == -EFAULT);
	if (ret == 0 && op != OP_PREAD && len)
		FUZZ_REQUIRE(dirty(m, gpa) && dirty(m, gpa + len - 1));
	if (ret == 0 && op == OP_PLOAD && len)
		FUZZ_REQUIRE(m->host[gpa + len - 1] == 0);
}

static void op_run(struct fake *f, const uint8_t *rec, uint8_t *buf)
{
	unsigned op = rec[0] % OP_COUNT;
	uint64_t addr, len = (uint64_t)rec[1] | (uint64_t)rec[2] << 8;
	void *hva;

	memcpy(&addr, rec + 3, 8);
	if (len > BUF_MAX)
		len = BUF_MAX;
	switch (op) {
	case OP_GREAD:
		op_gread(f, addr, len, buf);
		break;
	case OP_GWRITE:
	case OP_GCHECK:
		op_gwrite(f, addr, len, buf, op == OP_GCHECK);
		break;
	case OP_GSTR:
		op_gstr(f, addr, len ? len : 1, (char *)buf);
		break;
	case OP_GHVA:
		hva = guest_hva(f->vm, addr);
		FUZZ_REQUIRE(!hva || inside(&f->vm->mem, hva));
		FUZZ_REQUIRE(!hva == !!guest_check(f->vm, addr, 1, false));
		break;
	default: /* the physical three take a 64-bit length as loaders do */
		op_phys(f, op, addr, op == OP_PLOAD ? len << (rec[0] >> 5) : len, buf);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[BUF_MAX], pattern[BUF_MAX];
	struct fake f = { 0 };
	struct kvm_sregs *sr;
	unsigned nops, i;
	uint64_t mem_size;
	size_t img;

	if (size < HDR)
		return 0;
	nops = data[33] % (OPS_MAX + 1);
	img = HDR + (size_t)nops * OP;
	if (size < img)
		return 0;
	mem_size = ((data[32] >> 4) + 1) * (uint64_t)PAGE;
	f.vm = calloc(1, sizeof(*f.vm));
	f.run = calloc(1, sizeof(*f.run));
	f.before = malloc(mem_size);
	FUZZ_REQUIRE(f.vm && f.run && f.before);
	f.vm->run = f.run;
	/* Exactly the guest's size: ASan catches any byte an accessor touches past it. */
	f.vm->mem.host = calloc(1, mem_size);
	f.vm->mem.size = mem_size;
	f.vm->mem.words = (mem_size / PAGE + 63) / 64;
	f.vm->mem.host_dirty = calloc(f.vm->mem.words, sizeof(uint64_t));
	FUZZ_REQUIRE(f.vm->mem.host && f.vm->mem.host_dirty);
	memcpy(f.vm->mem.host, data + img, size - img < mem_size ? size - img : mem_size);
	sr = &f.run->s.regs.sregs;
	memcpy(&sr->cr0, data, 8);
	memcpy(&sr->cr3, data + 8, 8);
	memcpy(&sr->cr4, data + 16, 8);
	memcpy(&sr->efer, data + 24, 8);
	sr->cs.l = data[32] & 1;
	/* The bytes written come from the same pattern whatever the earlier inputs read. */
	if (!pattern[1])
		for (i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 13 + 7);
	memcpy(buf, pattern, sizeof(buf));
	for (i = 0; i < nops; i++)
		op_run(&f, data + HDR + (size_t)i * OP, buf);
	free(f.vm->mem.host_dirty);
	free(f.vm->mem.host);
	free(f.before);
	free(f.run);
	free(f.vm);
	return 0;
}
