/* Guest-virtual access: the software page walker (src/x86) for translation, gmem_ptr for
 * bounds. Reads the paging state from kvm_run's sync_regs, so no ioctl is needed. */
#include <string.h>
#include "gaccess.h"
#include "vm.h"
#include "x86/x86.h"

#define PAGE_SIZE 4096ull

/* Host pointer for [gva, gva+len) where the range does not cross a 4 KiB page. */
static void *page_ptr(const struct kvmbox_vm *vm, gva_t gva, uint64_t len, unsigned access)
{
	struct x86_paging p;
	struct x86_walk w;

	x86_paging_from_sregs(&vm->run->s.regs.sregs, &p);
	if (x86_walk(&vm->mem, &p, gva, access, &w) < 0)
		return NULL;
	return gmem_ptr(&vm->mem, w.gpa, len);
}

/* Call FN on each page-sized piece of [gva, gva+len). Stops at the first failure. */
static int for_each_page(const struct kvmbox_vm *vm, gva_t gva, uint64_t len, unsigned access,
			 int (*fn)(void *hva, uint64_t off, uint64_t n, void *ctx), void *ctx)
{
	uint64_t off = 0, end;

	if (__builtin_add_overflow(gva, len, &end))
		return -KVMBOX_EFAULT;
	while (off < len) {
		gva_t va = gva + off;
		uint64_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		void *hva;

		if (n > len - off)
			n = len - off;
		hva = page_ptr(vm, va, n, access);
		if (!hva)
			return -KVMBOX_EFAULT;
		if (fn(hva, off, n, ctx))
			return -KVMBOX_EFAULT;
		off += n;
	}
	return 0;
}

static int copy_out(void *hva, uint64_t off, uint64_t n, void *ctx)
{
	memcpy((uint8_t *)ctx + off, hva, n);
	return 0;
}

struct copy_in_ctx {
	struct kvmbox_vm *vm;
	const uint8_t *buf;
};

static int copy_in(void *hva, uint64_t off, uint64_t n, void *ctx)
{
	struct copy_in_ctx *c = ctx;

	memcpy(hva, c->buf + off, n);
	/* Host writes are not in KVM's dirty log: kvmbox_vm_reset must hear of them. */
	vm_mark_dirty(c->vm, (gpa_t)((uint8_t *)hva - c->vm->mem.host), n);
	return 0;
}

int guest_read(const struct kvmbox_vm *vm, gva_t gva, void *buf, uint64_t len)
{
	return for_each_page(vm, gva, len, 0, copy_out, buf);
}

static int check_only(void *hva, uint64_t off, uint64_t n, void *ctx)
{
	(void)hva;
	(void)off;
	(void)n;
	(void)ctx;
	return 0;
}

int guest_check(const struct kvmbox_vm *vm, gva_t gva, uint64_t len, bool write)
{
	return for_each_page(vm, gva, len, write ? X86_WALK_WRITE : 0, check_only, NULL);
}

int guest_write(struct kvmbox_vm *vm, gva_t gva, const void *buf, uint64_t len)
{
	struct copy_in_ctx c = { vm, buf };
	uint64_t end;

	/* A range inside one page (the common case) takes one walk: it is checked and written
	 * at once. */
	if (len && !__builtin_add_overflow(gva, len, &end) &&
	    (gva & ~(PAGE_SIZE - 1)) == ((end - 1) & ~(PAGE_SIZE - 1))) {
		void *hva = page_ptr(vm, gva, len, X86_WALK_WRITE);

		return hva ? copy_in(hva, 0, len, &c) : -KVMBOX_EFAULT;
	}
	/* All or nothing: a range whose last page is bad must not leave its first pages
	 * half-written (they may be the guest's page tables or stack). */
	if (guest_check(vm, gva, len, true) < 0)
		return -KVMBOX_EFAULT;
	return for_each_page(vm, gva, len, X86_WALK_WRITE, copy_in, &c);
}

int guest_read_str(const struct kvmbox_vm *vm, gva_t gva, char *buf, size_t max)
{
	size_t got = 0;

	while (got < max) {
		gva_t va;
		uint64_t n;
		const char *src, *nul;

		if (__builtin_add_overflow(gva, got, &va))
			return -KVMBOX_EFAULT;
		n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (n > max - got)
			n = max - got;
		src = page_ptr(vm, va, n, 0);
		if (!src)
			return -KVMBOX_EFAULT;
		nul = memchr(src, 0, n);
		if (nul) {
			memcpy(buf + got, src, (size_t)(nul - src) + 1);
			return (int)(got + (size_t)(nul - src));
		}
		memcpy(buf + got, src, n);
		got += n;
	}
	return -KVMBOX_ENAMETOOLONG;
}

void *guest_hva(const struct kvmbox_vm *vm, gva_t gva)
{
	return page_ptr(vm, gva, 1, 0);
}
