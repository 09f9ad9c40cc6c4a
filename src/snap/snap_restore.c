/* Making VMs from snapshots (include/kvmbox/snapshot.h): kvmbox_vm_restore from a file,
 * kvmbox_vm_fork from a template of a VM in this process, and kvmbox_snapshot_info. A restore
 * is kvmbox_vm_create's bring-up (src/vm/vm_create.c) with two steps of its own: guest memory
 * mapped copy-on-write from the file, and the vCPU given the saved CPUID and state. Every
 * byte of a file is checked before anything is mapped or created. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kvmbox/snapshot.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "base/util.h"
#include "mem/mem.h"
#include "snap/snap_cpu.h"
#include "snap/snap_file.h"
#include "snap/snap_save.h"
#include "vm/vm.h"
#include "vm/vm_console.h"
#include "vm/vm_features.h"
#include "vm/vm_lifecycle.h"
#include "x86/x86.h"

/* ---- Reading a file ------------------------------------------------------------------------ */

/* A snapshot file read and checked: F points into META. */
struct snap_read {
	uint8_t *meta;
	size_t meta_len;
	struct snap_file f;
};

static int read_at(int fd, void *buf, size_t len, uint64_t off, struct kvmbox_error *err)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return set_error(err, errno, "reading the snapshot: %s", strerror(errno));
		if (n == 0)
			return set_error(err, ENOEXEC, "truncated: the file ends at byte %llu",
					 (unsigned long long)off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The CRC of the guest pages, read from the file (not mapped: a file that fails is never
 * mapped). */
static int check_pages(int fd, const struct snap_file *f, struct kvmbox_error *err)
{
	uint64_t left = f->pages * PAGE_SIZE, off = f->mem_offset;
	uint8_t *buf = malloc(1u << 16);
	uint32_t crc = 0;
	int ret = 0;

	if (!buf)
		return set_error(err, ENOMEM, "out of memory");
	while (left && ret == 0) {
		size_t n = left < (1u << 16) ? (size_t)left : (1u << 16);

		ret = read_at(fd, buf, n, off, err);
		crc = snap_crc(crc, buf, n);
		left -= n;
		off += n;
	}
	free(buf);
	if (ret == 0 && crc != f->mem_crc)
		ret = set_error(err, ENOEXEC, "corrupt: the guest pages' checksum does not match");
	return ret;
}

static int check_cpu_state(const struct snap_file *f, struct kvmbox_error *err);

/* Read the metadata of FD and check all of it, the pages' checksum too. */
static int read_snapshot(int fd, struct snap_read *r, struct kvmbox_error *err)
{
	uint8_t head[4096];
	struct stat st;
	size_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	if (fstat(fd, &st) < 0)
		return set_error(err, errno, "the snapshot: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return set_error(err, ENOEXEC, "not a kvmbox snapshot: not a regular file");
	n = (uint64_t)st.st_size < sizeof(head) ? (size_t)st.st_size : sizeof(head);
	ret = read_at(fd, head, n, 0, err);
	if (ret == 0)
		ret = snap_file_head(head, n, (uint64_t)st.st_size, &r->meta_len, err);
	if (ret < 0)
		return ret;
	r->meta = malloc(r->meta_len);
	if (!r->meta)
		return set_error(err, ENOMEM, "out of memory");
	ret = read_at(fd, r->meta, r->meta_len, 0, err);
	if (ret == 0)
		ret = snap_file_parse(r->meta, r->meta_len, (uint64_t)st.st_size, &r->f, err);
	if (ret == 0)
		ret = check_cpu_state(&r->f, err);
	if (ret == 0)
		ret = check_pages(fd, &r->f, err);
	return ret;
}

/* ---- What the file asks of this host and config --------------------------------------------- */

static int check_config(const struct snap_file *f, const struct kvmbox_vm_config *cfg,
			struct kvmbox_error *err)
{
	if (cfg->mode != KVMBOX_MODE_AUTO && cfg->mode != (enum kvmbox_mode)f->vm.mode)
		return set_error(err, ENOEXEC, "the snapshot is of a %s-mode VM, not %s mode",
				 kvmbox_mode_name((enum kvmbox_mode)f->vm.mode), kvmbox_mode_name(cfg->mode));
	if (cfg->mem_size && cfg->mem_size != f->vm.mem_size)
		return set_error(err, ENOEXEC, "the snapshot's VM has %llu KiB of memory, not the %llu "
				 "KiB asked for", (unsigned long long)(f->vm.mem_size >> 10),
				 (unsigned long long)(cfg->mem_size >> 10));
	return 0;
}

/* Only MSRs kvmbox keeps may be set, only features this build has may have state, and
 * kvmbox's model must be this build's model (only its vendor and family/model/stepping are the
 * saving host's). */
static int check_cpu_state(const struct snap_file *f, struct kvmbox_error *err)
{
	struct kvm_cpuid_entry2 model[X86_CPUID_MODEL_ENTRIES];
	size_t n;

	for (uint32_t i = 0; i < f->nmsrs; i++)
		if (!cpu_msr_name(f->msrs[i].index))
			return set_error(err, ENOEXEC, "corrupt: MSR 0x%x is not one a snapshot keeps",
					 f->msrs[i].index);
	for (uint32_t i = 0; i < f->nfeatures; i++)
		if (!features_known(f->features[i].name))
			return set_error(err, ENOEXEC, "the snapshot keeps state of a feature this kvmbox "
					 "does not have (\"%s\")", f->features[i].name);
	if (f->vm.cpuid_kind != SNAP_CPUID_MODEL)
		return 0;
	n = x86_cpuid_model(model, X86_CPUID_MODEL_ENTRIES);
	if (f->ncpuid != n)
		return set_error(err, ENOEXEC, "corrupt: %u CPUID entries, kvmbox's model has %zu",
				 f->ncpuid, n);
	for (size_t i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 a = f->cpuid[i], b = model[i];

		if (a.function == 0) /* the vendor: compared above */
			a.ebx = b.ebx, a.ecx = b.ecx, a.edx = b.edx;
		if (a.function == 1) /* family, model, stepping: the guest keeps the saver's */
			a.eax = b.eax;
		if (memcmp(&a, &b, sizeof(a)))
			return set_error(err, ENOEXEC, "corrupt: CPUID leaf 0x%x is not kvmbox's model's",
					 f->cpuid[i].function);
	}
	return 0;
}

/* The CPU vendor matters where the guest was given a CPUID table: it may have read it, and
 * KVM's instruction emulation follows it (SYSCALL outside 64-bit mode, for one). */
static int check_vendor(const struct snap_file *f, struct kvmbox_error *err)
{
	char host[16], saved[16];

	if (f->vm.cpuid_kind == SNAP_CPUID_NONE)
		return 0;
	cpu_host_vendor(host);
	text_printable(saved, sizeof(saved), f->vm.vendor);
	if (strcmp(host, f->vm.vendor))
		return set_error(err, ENOEXEC, "the snapshot was saved on a CPU of another vendor (%s; "
				 "this one is %s), whose CPUID the guest was given", saved, host);
	return 0;
}

/* Is every entry of the saved table one this host's KVM supports, with no more bits? */
static int check_host_cpuid(struct kvmbox_vm *vm, const struct snap_file *f, struct kvmbox_error *err)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + SNAP_CPUID_MAX * sizeof(c->entries[0]));
	int ret;

	if (!c)
		return set_error(err, ENOMEM, "out of memory");
	c->nent = SNAP_CPUID_MAX;
	ret = kvm_sys_ioctl(vm, KVM_GET_SUPPORTED_CPUID, c, err);
	for (uint32_t i = 0; ret == 0 && i < f->ncpuid; i++) {
		const struct kvm_cpuid_entry2 *s = &f->cpuid[i], *h = NULL;

		for (uint32_t k = 0; k < c->nent && !h; k++)
			if (c->entries[k].function == s->function && c->entries[k].index == s->index)
				h = &c->entries[k];
		bool features = s->function == 1 || s->function == 7 || s->function == 0x80000001;
		uint32_t more;

		/* Leaves of plain values (vendor, signature, sizes) are not sets of bits: the
		 * vendor was compared; the feature leaves are checked bit by bit. */
		if (!h && s->function != 0) {
			ret = set_error(err, ENOTSUP, "this host's KVM has no CPUID leaf 0x%x.%u, which "
					"the guest was given", s->function, s->index);
			break;
		}
		more = features ? (s->ecx & ~h->ecx) | (s->edx & ~h->edx) : 0;
		if (s->function == 7)
			more |= s->ebx & ~h->ebx;
		if (more)
			ret = set_error(err, ENOTSUP, "the guest was given CPU features (CPUID leaf 0x%x) "
					"this host's KVM does not support", s->function);
	}
	free(c);
	return ret;
}

/* ---- Bring-up ---------------------------------------------------------------------------- */

struct restore {
	const struct snap_file *f;
	struct mem_source src;
};

static int map_memory(struct kvmbox_vm *vm, void *ctx, struct kvmbox_error *err)
{
	struct restore *r = ctx;

	return mem_map_from(vm, r->f->vm.mem_size, r->f->vm.slot_base, &r->src, err);
}

/* The CPUID it saw, then the rest of the vCPU. */
static int setup_vcpu(struct kvmbox_vm *vm, void *ctx, struct kvmbox_error *err)
{
	const struct snap_file *f = ((struct restore *)ctx)->f;
	struct cpu_state st = { .what = (CPU_ALL & ~CPU_CPUID) | CPU_REGS_NOW };
	int ret = 0, xsize;

	if (f->vm.cpuid_kind == SNAP_CPUID_HOST)
		ret = check_host_cpuid(vm, f, err);
	if (ret == 0 && f->ncpuid) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + f->ncpuid * sizeof(c->entries[0]));

		if (!c)
			return set_error(err, ENOMEM, "out of memory");
		c->nent = f->ncpuid;
		memcpy(c->entries, f->cpuid, f->ncpuid * sizeof(c->entries[0]));
		ret = vcpu_ioctl(vm, KVM_SET_CPUID2, c, err);
		free(c);
		if (ret < 0) /* ERR's own words go into the message: not printed into itself */
			return cpu_refused(err, -ENOTSUP, "guest's CPUID table");
	}
	if (ret < 0)
		return ret;
	vm->cpuid_kind = (uint8_t)f->vm.cpuid_kind;
	for (uint32_t i = 0; i < f->ncpuid; i++)
		if (f->cpuid[i].function == 1)
			vm->cpuid_sig = f->cpuid[i].eax;
	st.regs = f->regs;
	st.sregs = f->sregs;
	st.events = f->events;
	st.xcrs = f->xcrs;
	st.debugregs = f->debugregs;
	st.mp_state = f->mp_state;
	st.nmsrs = f->nmsrs;
	memcpy(st.msrs, f->msrs, f->nmsrs * sizeof(st.msrs[0]));
	st.tsc = f->vm.guest_tsc;
	st.tsc_khz = f->vm.tsc_khz;
	/* KVM_SET_XSAVE reads as many bytes as this vCPU's area has (KVM API doc, 4.43): the
	 * saved area, zero-padded to that; one larger than that would lose state. */
	xsize = kvm_cap(vm->log, vm->vm_fd, KVM_CAP_XSAVE2);
	if (xsize < (int)SNAP_XSAVE_MIN)
		xsize = SNAP_XSAVE_MIN;
	if ((uint32_t)xsize < f->xsave_size)
		return set_error(err, ENOTSUP, "the guest's FPU state (XSAVE area) has %u bytes, more "
				 "than this host's KVM holds (%d)", f->xsave_size, xsize);
	st.xsave = calloc(1, (size_t)xsize);
	if (!st.xsave)
		return set_error(err, ENOMEM, "out of memory");
	memcpy(st.xsave, f->xsave, f->xsave_size);
	st.xsave_size = (uint32_t)xsize;
	ret = cpu_put(vm, st.what, &st, err);
	free(st.xsave);
	if (ret < 0)
		return ret;
	/* The console as the saver had it: coalesced, the zone is registered at the first
	 * console exit (registering it now would make a short-lived VM's close wait a kernel
	 * grace period, docs/performance.md). */
	if (vm->coalesce_left && (f->vm.flags & SNAP_VM_COALESCED))
		vm->coalesce_left = 1;
	else if (vm->coalesce_left && f->vm.coalesce_left)
		vm->coalesce_left = f->vm.coalesce_left;
	return 0;
}

/* A new generation: random, never 0 (a VM from an image) nor the saved one. */
static uint64_t new_generation(uint64_t old)
{
	uint64_t g = 0;

	while (g == 0 || g == old)
		if (getrandom(&g, sizeof(g), 0) != sizeof(g))
			g = now_ns() ^ (old * 0x9e3779b97f4a7c15ull);
	return g;
}

/* The VM of CFG from F, its memory from SRC. */
static int restore_from(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg,
			const struct snap_file *f, const struct mem_source *src,
			struct kvmbox_error *err)
{
	struct restore r = { .f = f, .src = *src };
	struct vm_origin from = { .map_memory = map_memory, .setup_vcpu = setup_vcpu, .ctx = &r };
	struct feature_bytes in[SNAP_SECTIONS_MAX];
	struct kvmbox_vm_config c = *cfg;
	struct kvmbox_vm *vm;
	int ret;

	c.mode = (enum kvmbox_mode)f->vm.mode;
	c.mem_size = f->vm.mem_size;
	/* The CPUID the guest saw decides which MSRs are kept; a config cannot change it. */
	c.flags = (c.flags & ~(unsigned)KVMBOX_VM_HOST_CPUID) |
		  (f->vm.cpuid_kind == SNAP_CPUID_HOST ? KVMBOX_VM_HOST_CPUID : 0);
	ret = vm_bringup(&vm, &c, &from, err);
	if (ret < 0)
		return ret;
	for (uint32_t i = 0; i < f->nfeatures; i++)
		in[i] = (struct feature_bytes){ .name = f->features[i].name,
						.data = (uint8_t *)f->features[i].data,
						.len = f->features[i].len };
	ret = features_restore(vm, in, f->nfeatures, err);
	if (ret == 0) {
		snap_stats_unpack(f->stats, &vm->stats);
		vm->guard_null = f->vm.flags & SNAP_VM_GUARD_NULL;
		vm->last_stop = (enum kvmbox_stop)f->vm.stop;
		vm->generation = new_generation(f->vm.generation);
		vm->loaded = true;
	}
	if (ret < 0) {
		kvmbox_vm_destroy(vm);
		return ret;
	}
	*vmp = vm;
	return 0;
}

int kvmbox_vm_restore(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg, int fd,
		      unsigned flags, struct kvmbox_error *err)
{
	struct snap_read r;
	struct mem_source src;
	int ret;

	if (!vmp || !cfg || (flags & ~(unsigned)KVMBOX_RESTORE_COPY))
		return set_error(err, EINVAL, "kvmbox_vm_restore: bad argument");
	ret = read_snapshot(fd, &r, err);
	if (ret == 0)
		ret = check_config(&r.f, cfg, err);
	if (ret == 0)
		ret = check_vendor(&r.f, err);
	if (ret == 0) {
		src = (struct mem_source){ .fd = fd, .offset = r.f.mem_offset, .runs = r.f.runs,
					   .nruns = r.f.nruns, .copy = flags & KVMBOX_RESTORE_COPY };
		ret = restore_from(vmp, cfg, &r.f, &src, err);
	}
	free(r.meta);
	return ret;
}

/* ---- Forks ------------------------------------------------------------------------------- */

/* VM's state now, once: the file's metadata in memory, the pages in a sealed memfd at their
 * own offsets. Sealed, nobody (kvmbox included) can change what the forks map. */
static int make_template(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct fork_template *t = calloc(1, sizeof(*t));
	struct snap_capture c = { .nfeat = 0 };
	int ret;

	if (!t)
		return set_error(err, ENOMEM, "out of memory");
	t->memfd = -1;
	ret = snap_savable(vm, err);
	if (ret == 0) {
		vm_console_flush(vm);
		ret = cpu_settle(vm, false, err);
	}
	if (ret == 0)
		ret = snap_capture(vm, SNAP_AT_FORK, &c, err);
	if (ret == 0) {
		t->memfd = memfd_create("kvmbox-fork", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (t->memfd < 0 || ftruncate(t->memfd, (off_t)vm->mem.size) < 0)
			ret = set_error(err, errno, "fork template: %s", strerror(errno));
	}
	for (uint64_t i = 0; ret == 0 && i < c.f.nruns; i++) {
		uint64_t len = c.runs[i].pages << PAGE_SHIFT, off = c.runs[i].first << PAGE_SHIFT;

		ret = fd_write_all(t->memfd, gmem_ptr(&vm->mem, off, len), len, off);
		if (ret < 0)
			ret = set_error(err, -ret, "fork template: %s", strerror(-ret));
	}
	if (ret == 0 && fcntl(t->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			      F_SEAL_SEAL) < 0)
		ret = set_error(err, errno, "fork template: sealing: %s", strerror(errno));
	if (ret == 0) {
		t->meta = c.meta;
		t->meta_len = c.meta_len;
		c.meta = NULL;
		ret = snap_file_parse(t->meta, t->meta_len, c.f.file_size, &t->file, err);
	}
	snap_capture_free(&c);
	vm->fork = t;
	if (ret < 0)
		snap_template_free(vm);
	return ret;
}

int kvmbox_vm_fork(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg,
		   struct kvmbox_vm **child, struct kvmbox_error *err)
{
	struct kvmbox_vm_config own = { 0 };
	struct mem_source src;
	int ret;

	if (!vm || !child)
		return set_error(err, EINVAL, "kvmbox_vm_fork: NULL argument");
	if (!cfg) { /* the parent's console, flags and log; no share */
		own = (struct kvmbox_vm_config){
			.name = vm->name, .flags = vm->flags & ~(unsigned)KVMBOX_VM_ONE_FD,
			.log = vm->log, .console = vm->console, .console_ctx = vm->console_ctx,
			.console_fd = vm->console_fd == STDOUT_FILENO ? KVMBOX_CONSOLE_STDOUT
									 : vm->console_fd,
			.user_port_first = vm->user_port_first, .user_port_count = vm->user_port_count,
			.user_port = vm->user_port, .user_port_ctx = vm->user_port_ctx,
		};
		cfg = &own;
	}
	if (!vm->fork && (ret = make_template(vm, err)) < 0)
		return ret;
	ret = check_config(&vm->fork->file, cfg, err);
	if (ret < 0)
		return ret;
	src = (struct mem_source){ .fd = vm->fork->memfd, .identity = true,
				   .runs = vm->fork->file.runs, .nruns = vm->fork->file.nruns };
	ret = restore_from(child, cfg, &vm->fork->file, &src, err);
	if (ret == 0)
		features_fork(*child, vm);
	return ret;
}

uint64_t kvmbox_vm_generation(const struct kvmbox_vm *vm)
{
	return vm ? vm->generation : 0;
}

/* ---- Describing a file ------------------------------------------------------------------- */

int kvmbox_snapshot_info(int fd, struct kvmbox_snapshot_info *info, struct kvmbox_error *err)
{
	static const char *const reasons[] = { "between runs", "the guest asked", "a fork's template" };
	static const char *const cpuids[] = { "none", "kvmbox's model", "the host's" };
	struct snap_read r;
	size_t n = 0;
	int ret;

	if (!info)
		return set_error(err, EINVAL, "kvmbox_snapshot_info: NULL argument");
	memset(info, 0, sizeof(*info));
	ret = read_snapshot(fd, &r, err);
	if (ret == 0) {
		const struct snap_file *f = &r.f;

		info->version = SNAP_VERSION;
		memcpy(info->writer, f->writer, sizeof(info->writer));
		info->mode = (enum kvmbox_mode)f->vm.mode;
		info->mem_size = f->vm.mem_size;
		info->pages = f->pages;
		info->runs = f->nruns;
		info->file_size = f->file_size;
		info->reason = reasons[f->vm.reason];
		info->stop = (enum kvmbox_stop)f->vm.stop;
		info->cs = f->sregs.cs.selector;
		info->rip = f->regs.rip;
		info->pc = f->vm.pc;
		info->generation = f->vm.generation;
		text_printable(info->vendor, sizeof(info->vendor), f->vm.vendor);
		info->cpuid = cpuids[f->vm.cpuid_kind];
		info->tsc_khz = f->vm.tsc_khz;
		info->saved_ns = f->vm.saved_ns;
		snap_stats_unpack(f->stats, &info->stats);
		for (uint32_t i = 0; i < f->nfeatures && n + 1 < sizeof(info->state); i++)
			n += features_describe(f->features[i].name, f->features[i].data,
					       f->features[i].len, info->state + n,
					       sizeof(info->state) - n);
	}
	free(r.meta);
	return ret;
}
