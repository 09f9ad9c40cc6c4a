/* Guest memory (mem.h): the mapping and its KVM slot, the checked guest-physical and
 * guest-virtual accessors (the latter through the software page walker in src/x86), and the
 * reset point's copy and dirty bitmaps behind kvmbox_vm_reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kvm/kvm.h"
#include "base/log.h"
#include "mem/mem.h"
#include "snap/snap_file.h"
#include "base/util.h"
#include "vm/vm.h"
#include "x86/x86.h"

/* (Re)declare guest memory from slot_base on as KVM memory slot 0 with FLAGS (0, or
 * KVM_MEM_LOG_DIRTY_PAGES for a reset point). */
static int set_slot(struct kvmbox_vm *vm, uint32_t flags, struct kvmbox_error *err)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = flags,
		.guest_phys_addr = vm->mem.slot_base,
		.memory_size = vm->mem.size - vm->mem.slot_base,
		.userspace_addr = (uintptr_t)(vm->mem.host + vm->mem.slot_base),
	};

	return vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, err);
}

int mem_unback_page0(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct kvm_userspace_memory_region gone = { .slot = 0 };
	int ret;

	if (vm->mem.point)
		return set_error(err, EBUSY, "the NULL guard must come before the reset point");
	/* A slot's start and size cannot change in place: delete it (memory_size 0) and make
	 * it again (KVM API doc, 4.35 KVM_SET_USER_MEMORY_REGION). */
	ret = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &gone, err);
	if (ret < 0)
		return ret;
	vm->mem.slot_base = PAGE_SIZE;
	return set_slot(vm, 0, err);
}

/* SIZE bytes of zeroed guest memory into M: NORESERVE, so a 1 GiB guest costs only the
 * pages it touches. */
static int map_anon(struct gmem *m, uint64_t size, struct kvmbox_error *err)
{
	m->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->host == MAP_FAILED)
		return set_error(err, errno, "mmap of %llu bytes of guest memory: %s",
				 (unsigned long long)size, strerror(errno));
	m->size = size;
	return 0;
}

int mem_map(struct kvmbox_vm *vm, uint64_t size, struct kvmbox_error *err)
{
	struct gmem *m = &vm->mem;
	int ret = map_anon(m, size, err);

	if (ret < 0)
		return ret;
	/* MERGEABLE (asked for) lets KSM share identical pages between VMs; failure (no KSM)
	 * is harmless. */
	if ((vm->flags & KVMBOX_VM_MERGEABLE) && madvise(m->host, m->size, MADV_MERGEABLE) < 0)
		log_msg(vm->log, KVMBOX_LOG_DEBUG, vm->name, "madvise(MADV_MERGEABLE): %s",
			strerror(errno));
	return set_slot(vm, 0, err);
}

static void point_free(struct gmem *m)
{
	if (m->point && m->point != MAP_FAILED)
		munmap(m->point, m->size);
	free(m->kvm_dirty);
	free(m->host_dirty);
	m->point = NULL;
	m->kvm_dirty = m->host_dirty = NULL;
	m->words = 0;
}

void mem_unmap(struct gmem *m)
{
	point_free(m);
	if (m->host != MAP_FAILED)
		munmap(m->host, m->size);
	m->host = MAP_FAILED;
}

/* Record that the host wrote guest-physical [gpa, gpa+len). KVM's dirty log sees only the
 * guest's own writes, so every host write after a reset point passes here for mem_point_restore. */
static void mark_dirty(struct gmem *m, gpa_t gpa, uint64_t len)
{
	uint64_t p;

	if (!m->host_dirty || !len)
		return;
	for (p = gpa >> PAGE_SHIFT; p <= (gpa + len - 1) >> PAGE_SHIFT; p++)
		m->host_dirty[p / 64] |= 1ull << (p % 64);
}

int mem_read(const struct gmem *m, gpa_t gpa, void *buf, size_t len)
{
	const void *src = gmem_ptr(m, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(buf, src, len);
	return 0;
}

int mem_write(struct gmem *m, gpa_t gpa, const void *buf, size_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, buf, len);
	mark_dirty(m, gpa, len);
	return 0;
}

int mem_load(struct gmem *m, gpa_t gpa, const void *src, uint64_t filesz, uint64_t memsz)
{
	uint8_t *dst = gmem_ptr(m, gpa, memsz);

	if (!dst || filesz > memsz)
		return -EFAULT;
	memcpy(dst, src, filesz);
	memset(dst + filesz, 0, memsz - filesz);
	mark_dirty(m, gpa, memsz);
	return 0;
}

/* ---- Guest-virtual access ---------------------------------------------------------------- */

/* Host pointer for [gva, gva+len) where the range does not cross a 4 KiB page. */
static void *page_ptr(const struct kvmbox_vm *vm, gva_t gva, uint64_t len, unsigned access)
{
	struct x86_paging p;
	struct x86_walk w;

	x86_paging_from_sregs(&vm->run->s.regs.sregs, &p);
	if (x86_walk(&vm->mem, &p, gva, access, &w) < 0 || w.gpa < vm->mem.slot_base)
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
	mark_dirty(&c->vm->mem, (gpa_t)((uint8_t *)hva - c->vm->mem.host), n);
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

/* Pages a multi-page write translates on the stack; a longer one allocates (a 1 MiB read
 * hypercall is 257 pages at most). */
#define WRITE_PAGES_ON_STACK 64

static int collect_page(void *hva, uint64_t off, uint64_t n, void *ctx)
{
	void ***next = ctx;

	(void)off;
	(void)n;
	*(*next)++ = hva;
	return 0;
}

int guest_write(struct kvmbox_vm *vm, gva_t gva, const void *buf, uint64_t len)
{
	struct copy_in_ctx c = { vm, buf };
	void *stack[WRITE_PAGES_ON_STACK], **hvas = stack, **next;
	uint64_t end, pages, off = 0;
	int ret;

	/* A range inside one page (the common case) takes one walk: it is checked and written
	 * at once. */
	if (len && !__builtin_add_overflow(gva, len, &end) &&
	    (gva & ~(PAGE_SIZE - 1)) == ((end - 1) & ~(PAGE_SIZE - 1))) {
		void *hva = page_ptr(vm, gva, len, X86_WALK_WRITE);

		return hva ? copy_in(hva, 0, len, &c) : -KVMBOX_EFAULT;
	}
	/* All or nothing: a range whose last page is bad must not leave its first pages
	 * half-written (they may be the guest's page tables or stack). So every page is
	 * translated before the first byte is written: walking each page as it is reached would
	 * let the write's first pages (when they hold the page tables) unmap or move its later
	 * ones, leaving half a write behind an -EFAULT. */
	if (guest_check(vm, gva, len, true) < 0)
		return -KVMBOX_EFAULT;
	pages = ((gva & (PAGE_SIZE - 1)) + len + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages > WRITE_PAGES_ON_STACK && !(hvas = malloc(pages * sizeof(*hvas))))
		return -KVMBOX_EFAULT;
	next = hvas;
	ret = for_each_page(vm, gva, len, X86_WALK_WRITE, collect_page, &next);
	for (uint64_t i = 0; ret == 0 && off < len; i++) {
		uint64_t n = PAGE_SIZE - ((gva + off) & (PAGE_SIZE - 1));

		copy_in(hvas[i], off, n < len - off ? n : len - off, &c);
		off += n < len - off ? n : len - off;
	}
	if (hvas != stack)
		free(hvas);
	return ret;
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

/* ---- Reset point and reset ------------------------------------------------------------------- */

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

int mem_point_take(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct gmem *m = &vm->mem;
	uint64_t pages = m->size >> PAGE_SHIFT, p;
	bool logging = m->point != NULL;
	uint8_t *copy;
	int ret;

	if (!logging) {
		m->words = (size_t)((pages + 63) / 64);
		m->kvm_dirty = calloc(m->words, sizeof(uint64_t));
		m->host_dirty = calloc(m->words, sizeof(uint64_t));
	}
	/* Anonymous and NORESERVE like guest memory: the copy costs only its non-zero pages. A
	 * point taken again gets a new copy (pages zero now may not be zero in the old one). */
	copy = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!m->kvm_dirty || !m->host_dirty || copy == MAP_FAILED) {
		ret = set_error(err, ENOMEM, "out of memory for a reset point of %llu bytes",
				(unsigned long long)m->size);
		if (copy != MAP_FAILED)
			munmap(copy, m->size);
		goto release;
	}
	for (p = 0; p < pages; p++) {
		const uint8_t *src = m->host + (p << PAGE_SHIFT);

		if (!page_is_zero(src))
			memcpy(copy + (p << PAGE_SHIFT), src, PAGE_SIZE);
	}
	if (m->point)
		munmap(m->point, m->size);
	m->point = copy;
	memset(m->host_dirty, 0, m->words * sizeof(uint64_t));
	if (logging) {
		/* Already logging: what the log holds is older than the copy. Fetching it clears it
		 * (KVM API doc, 4.37 KVM_GET_DIRTY_LOG). */
		struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = m->kvm_dirty };

		ret = vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log, err);
	} else {
		/* From here on KVM records every page the guest writes (KVM API doc, 4.35
		 * KVM_SET_USER_MEMORY_REGION: changing only the flags of a slot is allowed). */
		ret = set_slot(vm, KVM_MEM_LOG_DIRTY_PAGES, err);
	}
	if (ret < 0)
		goto release;
	return 0;

release:
	/* Without the log no copy is of use: the VM has no reset point any more. */
	if (logging)
		set_slot(vm, 0, NULL);
	point_free(m);
	return ret;
}

int mem_point_restore(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct gmem *m = &vm->mem;
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = m->kvm_dirty };
	/* KVM's bit N is the slot's page N: page N + SHIFT of guest memory. */
	unsigned shift = (unsigned)(m->slot_base >> PAGE_SHIFT);
	int ret;

	/* Fetches and clears the log, and write-protects those pages again. */
	ret = vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log, err);
	if (ret < 0)
		return ret;
	for (size_t w = 0; w < m->words; w++) {
		uint64_t bits = m->kvm_dirty[w] << shift | m->host_dirty[w];

		if (shift && w)
			bits |= m->kvm_dirty[w - 1] >> (64 - shift);

		m->host_dirty[w] = 0;
		while (bits) {
			uint64_t off = (w * 64 + (uint64_t)__builtin_ctzll(bits)) << PAGE_SHIFT;

			memcpy(m->host + off, m->point + off, PAGE_SIZE);
			bits &= bits - 1;
		}
	}
	return 0;
}

/* ---- Snapshots ------------------------------------------------------------------------------ */

/* More runs than this in a snapshot file are read rather than mapped: each would be a mapping
 * of its own, and a process has 65530 of them (vm.max_map_count) for all its VMs. */
#define MAP_RUNS_MAX 64

int mem_map_from(struct kvmbox_vm *vm, uint64_t size, gpa_t slot_base, const struct mem_source *src,
		 struct kvmbox_error *err)
{
	struct gmem *m = &vm->mem;
	bool copy = src->copy || (!src->identity && src->nruns > MAP_RUNS_MAX);
	uint64_t off = src->offset;
	struct stat st;
	int ret = map_anon(m, size, err);

	if (ret < 0)
		return ret;
	if (src->identity && !copy &&
	    mmap(m->host, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, src->fd,
		 (off_t)src->offset) == MAP_FAILED)
		return set_error(err, errno, "mmap of the snapshot's guest memory: %s", strerror(errno));
	for (uint64_t i = 0; i < src->nruns && (copy || !src->identity); i++) {
		const struct snap_run *r = &src->runs[i];
		uint64_t len = r->pages << PAGE_SHIFT;
		uint8_t *dst = gmem_ptr(m, r->first << PAGE_SHIFT, len);

		if (!dst)
			return set_error(err, ENOEXEC, "snapshot pages [%llu, +%llu) lie outside guest "
					 "memory", (unsigned long long)r->first,
					 (unsigned long long)r->pages);
		if (src->identity)
			off = src->offset + (r->first << PAGE_SHIFT);
		if (copy) {
			ret = fd_read_all(src->fd, dst, len, off);
			if (ret < 0)
				return set_error(err, -ret, "reading the snapshot's guest pages: %s",
						 ret == -EIO ? "the file ends early" : strerror(-ret));
		} else if (mmap(dst, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, src->fd,
				(off_t)off) == MAP_FAILED) {
			return set_error(err, errno, "mmap of the snapshot's guest pages: %s",
					 strerror(errno));
		}
		off += len;
	}
	if (!copy && fstat(src->fd, &st) == 0) {
		m->file_dev = st.st_dev;
		m->file_ino = st.st_ino;
	}
	m->slot_base = slot_base;
	return set_slot(vm, 0, err);
}

int mem_nonzero_runs(const struct gmem *m, struct snap_run **runs, uint64_t *nruns, uint64_t *pages)
{
	uint64_t npages = m->size >> PAGE_SHIFT, n = 0, cap = 0, total = 0;
	struct snap_run *r = NULL;

	for (uint64_t p = 0; p < npages; p++) {
		if (page_is_zero(m->host + (p << PAGE_SHIFT)))
			continue;
		total++;
		if (n && r[n - 1].first + r[n - 1].pages == p) {
			r[n - 1].pages++;
			continue;
		}
		if (n == cap) {
			struct snap_run *g = realloc(r, (cap ? cap * 2 : 16) * sizeof(*r));

			if (!g) {
				free(r);
				return -ENOMEM;
			}
			r = g;
			cap = cap ? cap * 2 : 16;
		}
		r[n++] = (struct snap_run){ .first = p, .pages = 1 };
	}
	*runs = r;
	*nruns = n;
	*pages = total;
	return 0;
}
