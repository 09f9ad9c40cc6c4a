/* VM lifecycle: bring-up in the order the KVM API documents (docs/bringup.md), the port
 * registrations, image loading, teardown and the small public accessors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vm/vm_console.h"
#include "vm/vm_deadline.h"
#include "vm/vm_features.h"
#include "vm/vm_guard.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "mem/mem.h"
#include "vm/vm_ports.h"
#include "kvm/kvm_trace.h"
#include "vm/vm.h"
#include "vm/vm_lifecycle.h"
#include "snap/snap_file.h"
#include "snap/snap_save.h"
#include "x86/x86.h"

/* KVM_SET_TSS_ADDR: three pages KVM uses for real-mode emulation on VMX; they must not
 * overlap guest memory, which ends below KVMBOX_MEM_MAX (KVM API doc, 4.40). */
#define TSS_ADDR 0xfffbd000ull
_Static_assert(KVMBOX_MEM_MAX <= TSS_ADDR, "guest memory must end below the TSS pages");

#define CPUID_ENTRIES_FIRST 128
#define CPUID_ENTRIES_MAX 1024

/* Everything the host's KVM supports (KVMBOX_VM_HOST_CPUID). KVM answers E2BIG when the
 * buffer is too small: grow it (KVM API doc, KVM_GET_SUPPORTED_CPUID). */
static int set_host_cpuid(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	uint32_t nent;
	int ret = -E2BIG;

	for (nent = CPUID_ENTRIES_FIRST; ret == -E2BIG && nent <= CPUID_ENTRIES_MAX; nent *= 2) {
		struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));

		if (!cpuid)
			return set_error(err, ENOMEM, "out of memory");
		cpuid->nent = nent;
		ret = kvm_sys_ioctl(vm, KVM_GET_SUPPORTED_CPUID, cpuid, err);
		if (ret >= 0)
			ret = vcpu_ioctl(vm, KVM_SET_CPUID2, cpuid, err);
		free(cpuid);
	}
	return ret;
}

/* The guest's CPUID: kvmbox's CPU model (src/x86/cpuid.c says why), or the host's. KVM needs
 * one before the first KVM_RUN of a long-mode guest: a new vCPU's table is empty, and
 * EFER.LME needs the LM bit. The 16- and 32-bit modes need none (CR4.PSE and CR4.PAE are not
 * tied to CPUID bits in KVM), and KVM_SET_CPUID2 costs ~80 us on a nested host, as much as
 * the rest of the vCPU's setup: there the guest keeps KVM's empty table (CPUID answers 0). */
static int set_cpuid(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	union {
		struct kvm_cpuid2 c;
		uint8_t bytes[sizeof(struct kvm_cpuid2) +
			      X86_CPUID_MODEL_ENTRIES * sizeof(struct kvm_cpuid_entry2)];
	} model = { .c.nent = 0 };

	if (vm->flags & KVMBOX_VM_HOST_CPUID) {
		vm->cpuid_kind = SNAP_CPUID_HOST;
		return set_host_cpuid(vm, err);
	}
	if (vm->mode != KVMBOX_MODE_LONG)
		return 0;
	vm->cpuid_kind = SNAP_CPUID_MODEL;
	model.c.nent = (uint32_t)x86_cpuid_model(model.c.entries, X86_CPUID_MODEL_ENTRIES);
	for (uint32_t i = 0; i < model.c.nent; i++)
		if (model.c.entries[i].function == 1)
			vm->cpuid_sig = model.c.entries[i].eax;
	return vcpu_ioctl(vm, KVM_SET_CPUID2, &model.c, err);
}

/* Initial CPU state: KVM's reset values, changed by the mode table, handed to KVM through
 * kvm_run's sync_regs (applied on the first KVM_RUN, so no KVM_SET_* ioctl is needed). */
static int setup_cpu(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	ret = vcpu_ioctl(vm, KVM_GET_SREGS, &sregs, err);
	if (ret < 0)
		return ret;
	ret = x86_mode_setup(vm->mode, &vm->mem, &vm->layout, 0, &sregs, &regs);
	if (ret < 0)
		return set_error(err, -ret, "cannot set up %s mode", kvmbox_mode_name(vm->mode));
	vm->run->s.regs.regs = regs;
	vm->run->s.regs.sregs = sregs;
	vm->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if (vm->layout.sys_base < vm->layout.mem_size)
		trace_step(vm->log, vm->name, "mode tables", "%s mode: GDT, TSS%s written to guest "
			   "memory at 0x%llx..0x%llx", kvmbox_mode_name(vm->mode),
			   vm->layout.pt_root ? " and page tables" : "",
			   (unsigned long long)vm->layout.sys_base,
			   (unsigned long long)vm->layout.mem_size);
	trace_sync_regs(vm->log, vm->name, vm->run);
	return 0;
}

/* The embedder's ports (kvmbox_vm_config.user_port*): its callback once per element. */
static int user_port_io(struct kvmbox_vm *vm, void *ctx, const struct port_io *io)
{
	(void)ctx;
	for (uint32_t i = 0; i < io->count; i++) {
		uint8_t *el = io->data + (size_t)i * io->size;
		uint32_t v = 0;

		if (io->out)
			memcpy(&v, el, io->size);
		vm->user_port(vm->user_port_ctx, io->port, io->out, &v, io->size);
		if (!io->out)
			memcpy(el, &v, io->size);
	}
	return 0;
}

/* Every port the guest may use: the console, the hypercall ports, the embedder's. */
static int register_ports(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	int ret = ports_register(&vm->ports, KVMBOX_PORT_CONSOLE, 1, console_port, NULL);

	if (ret == 0)
		ret = ports_register(&vm->ports, KVMBOX_PORT_HC_BASE, KVMBOX_HC_MAX, hc_dispatch, &vm->hc);
	if (ret < 0)
		return set_error(err, -ret, "port registry: %s", strerror(-ret));
	if (!vm->user_port || !vm->user_port_count)
		return 0;
	ret = ports_register(&vm->ports, vm->user_port_first, vm->user_port_count, user_port_io, NULL);
	if (ret < 0)
		return set_error(err, EINVAL, "user ports [0x%x, +%u): %s", vm->user_port_first,
				 vm->user_port_count,
				 ret == -EEXIST ? "overlap the console or hypercall ports"
						: "the range goes past port 0xffff");
	return 0;
}

/* A VM object holding CFG's settings and no resource yet (every fd -1, every mapping
 * MAP_FAILED), so kvmbox_vm_destroy can undo any prefix of the bring-up. */
static struct kvmbox_vm *vm_alloc(const struct kvmbox_vm_config *cfg)
{
	struct kvmbox_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	snprintf(vm->name, sizeof(vm->name), "%s", cfg->name ? cfg->name : "vm");
	vm->mode = cfg->mode;
	vm->flags = cfg->flags;
	vm->coalesce_left = cfg->coalesce_after ? cfg->coalesce_after : KVMBOX_COALESCE_AFTER_DEFAULT;
	vm->log = cfg->log;
	vm->console = cfg->console;
	vm->console_ctx = cfg->console_ctx;
	/* Zero is stdout: a zeroed config must print where a program's output goes, not to
	 * stdin (fd 0), which under CI, cron or systemd is /dev/null opened for reading. */
	vm->console_fd = cfg->console ? KVMBOX_CONSOLE_DISCARD
		       : cfg->console_fd == KVMBOX_CONSOLE_STDOUT ? STDOUT_FILENO : cfg->console_fd;
	vm->con_lines = vm->console_fd >= 0 && isatty(vm->console_fd);
	vm->con_ready = vm->console_fd >= 0 && console_fd_always_ready(vm->console_fd);
	vm->user_port_first = cfg->user_port_first;
	vm->user_port_count = cfg->user_port_count;
	vm->user_port = cfg->user_port;
	vm->user_port_ctx = cfg->user_port_ctx;
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->save_fd = cfg->save_fd > 0 ? cfg->save_fd : -1;
	vm->mem.host = MAP_FAILED;
	vm->run = MAP_FAILED;
	return vm;
}

/* /dev/kvm, the VM and its TSS pages. */
static int create_kvm_vm(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	int ret;

	ret = vm->kvm_fd = kvm_open_checked(vm->log, err);
	if (ret < 0)
		return ret;
	ret = vm->vm_fd = kvm_sys_ioctl(vm, KVM_CREATE_VM, 0, err);
	if (ret < 0)
		return ret;
	ret = vm_ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR, err);
	return ret < 0 ? ret : 0;
}

/* The vCPU, its kvm_run mapping, CPUID, the console ring and the initial registers (or,
 * FROM a snapshot, its CPUID and state). */
static int create_vcpu(struct kvmbox_vm *vm, const struct vm_origin *from, struct kvmbox_error *err)
{
	int ret;

	ret = vm->vcpu_fd = vm_ioctl(vm, KVM_CREATE_VCPU, 0, err);
	if (ret < 0)
		return ret;
	ret = kvm_sys_ioctl(vm, KVM_GET_VCPU_MMAP_SIZE, 0, err);
	if (ret < 0)
		return ret;
	vm->run_size = (size_t)ret;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		return set_error(err, errno, "mmap of kvm_run: %s", strerror(errno));
	trace_step(vm->log, vm->name, "mmap kvm_run", "mmap(vCPU fd %d, %zu bytes, MAP_SHARED) = %p "
		   "(struct kvm_run)", vm->vcpu_fd, vm->run_size, (void *)vm->run);
	/* KVM copies these into kvm_run at every exit, so exits need no KVM_GET_REGS. */
	vm->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if (from) {
		ret = console_setup(vm, err);
		return ret ? ret : from->setup_vcpu(vm, from->ctx, err);
	}
	ret = set_cpuid(vm, err);
	if (ret == 0)
		ret = console_setup(vm, err);
	if (ret == 0)
		ret = setup_cpu(vm, err);
	return ret;
}

int kvmbox_vm_create(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg,
		     struct kvmbox_error *err)
{
	if (!vmp || !cfg)
		return set_error(err, EINVAL, "kvmbox_vm_create: NULL argument");
	return vm_bringup(vmp, cfg, NULL, err);
}

int vm_bringup(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg,
	       const struct vm_origin *from, struct kvmbox_error *err)
{
	struct kvmbox_vm *vm;
	int ret;

	if (cfg->mode <= KVMBOX_MODE_AUTO || cfg->mode >= KVMBOX_MODE_COUNT)
		return set_error(err, EINVAL, "kvmbox_vm_create: a VM needs a CPU mode");
	vm = vm_alloc(cfg);
	if (!vm)
		return set_error(err, ENOMEM, "out of memory");
	/* In the order the KVM API documents (docs/bringup.md); each step's failure leaves
	 * what kvmbox_vm_destroy undoes. */
	ret = kvmbox_layout_get(vm->mode, cfg->mem_size ? cfg->mem_size : KVMBOX_MEM_DEFAULT,
				&vm->layout, err);
	if (ret == 0) {
		trace_layout(vm->log, vm->name, vm->mode, &vm->layout);
		ret = features_init(vm, cfg, err);
	}
	if (ret == 0)
		ret = register_ports(vm, err);
	if (ret == 0)
		ret = create_kvm_vm(vm, err);
	if (ret == 0)
		ret = from ? from->map_memory(vm, from->ctx, err) : mem_map(vm, vm->layout.mem_size, err);
	if (ret == 0)
		ret = create_vcpu(vm, from, err);
	if (ret < 0) {
		kvmbox_vm_destroy(vm);
		return ret;
	}
	/* Only what KVM_RUN needs stays open: the VM and vCPU fds (or the vCPU's alone: it
	 * holds a reference to the VM, which lives until its last fd is closed). */
	trace_step(vm->log, vm->name, "close /dev/kvm", "close(fd %d) (the system fd)", vm->kvm_fd);
	close(vm->kvm_fd);
	vm->kvm_fd = -1;
	if (vm->flags & KVMBOX_VM_ONE_FD) {
		close(vm->vm_fd);
		vm->vm_fd = -1;
	}
	*vmp = vm;
	return 0;
}

void kvmbox_vm_destroy(struct kvmbox_vm *vm)
{
	if (!vm)
		return;
	if (vm->run != MAP_FAILED) {
		vm_console_flush(vm);
		munmap(vm->run, vm->run_size);
	}
	snap_template_free(vm);
	vm_reset_release(vm);
	features_release(vm);
	deadline_release(vm);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	mem_unmap(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm);
}

/* 16-, 32- or 64-bit code: an image may run in any mode of its width. */
static int code_width(enum kvmbox_mode mode)
{
	static const int width[KVMBOX_MODE_COUNT] = {
		[KVMBOX_MODE_REAL] = 16, [KVMBOX_MODE_PROTECTED] = 32,
		[KVMBOX_MODE_PAGED32] = 32, [KVMBOX_MODE_LONG] = 64,
	};
	return width[mode];
}

int kvmbox_vm_load(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err)
{
	const struct kvmbox_layout *l = &vm->layout;
	unsigned i;
	int ret;

	if (!img || img->nsegments > KVMBOX_IMAGE_MAX_SEGMENTS)
		return set_error(err, EINVAL, "kvmbox_vm_load: bad image");
	if (vm->loaded)
		return set_error(err, EBUSY, "kvmbox_vm_load: an image is already loaded");
	if (img->mode != KVMBOX_MODE_AUTO && code_width(img->mode) != code_width(vm->mode))
		return set_error(err, ENOEXEC, "image is %d-bit %s-mode code, the VM runs %s mode",
				 code_width(img->mode), kvmbox_mode_name(img->mode),
				 kvmbox_mode_name(vm->mode));
	/* Check every segment before copying any, so a refused image leaves memory untouched. */
	for (i = 0; i < img->nsegments; i++) {
		const struct kvmbox_segment *s = &img->segments[i];
		uint64_t end;

		if (__builtin_add_overflow(s->gpa, s->memsz, &end) || end > l->mem_size)
			return set_error(err, ENOEXEC,
					 "segment %u [0x%llx, +0x%llx) lies outside guest memory (0x%llx bytes; try --mem)",
					 i, (unsigned long long)s->gpa, (unsigned long long)s->memsz,
					 (unsigned long long)l->mem_size);
		if (end > l->sys_base)
			return set_error(err, ENOEXEC,
					 "segment %u [0x%llx, 0x%llx) overlaps kvmbox's page tables/GDT at [0x%llx, 0x%llx) (docs/memory.md)",
					 i, (unsigned long long)s->gpa, (unsigned long long)end,
					 (unsigned long long)l->sys_base, (unsigned long long)l->mem_size);
		if (s->filesz > s->memsz || s->offset > img->size || s->filesz > img->size - s->offset)
			return set_error(err, ENOEXEC, "segment %u: file range outside the image", i);
	}
	if (img->entry >= l->sys_base)
		return set_error(err, ENOEXEC, "entry point 0x%llx is not in loadable guest memory",
				 (unsigned long long)img->entry);
	/* Real mode starts with CS base 0 and a 16-bit IP. */
	if (vm->mode == KVMBOX_MODE_REAL && img->entry > 0xffff)
		return set_error(err, ENOEXEC, "entry point 0x%llx is out of reach of real mode (above 0xffff)",
				 (unsigned long long)img->entry);
	ret = guard_null_setup(vm, img, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < img->nsegments; i++) {
		const struct kvmbox_segment *s = &img->segments[i];

		mem_load(&vm->mem, s->gpa, img->data + s->offset, s->filesz, s->memsz);
	}
	vm->run->s.regs.regs.rip = img->entry;
	vm->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	features_load(vm, img);
	vm->loaded = true;
	trace_image(vm->log, vm->name, img);
	return 0;
}

const struct kvmbox_stats *kvmbox_vm_stats(const struct kvmbox_vm *vm)
{
	return &vm->stats;
}

const struct kvm_regs *kvmbox_vm_regs(const struct kvmbox_vm *vm)
{
	return &vm->run->s.regs.regs;
}

int kvmbox_vm_read(const struct kvmbox_vm *vm, gpa_t gpa, void *buf, size_t len)
{
	return mem_read(&vm->mem, gpa, buf, len);
}

int kvmbox_vm_write(struct kvmbox_vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	snap_template_free(vm); /* a fork template holds memory as it was */
	return mem_write(&vm->mem, gpa, buf, len);
}

int kvmbox_vm_translate(const struct kvmbox_vm *vm, gva_t gva, gpa_t *gpa)
{
	const uint8_t *hva = guest_hva(vm, gva);

	if (!hva)
		return -EFAULT;
	*gpa = (gpa_t)(hva - vm->mem.host);
	return 0;
}

enum kvmbox_mode kvmbox_vm_mode(const struct kvmbox_vm *vm)
{
	return vm->mode;
}

const char *kvmbox_vm_name(const struct kvmbox_vm *vm)
{
	return vm->name;
}

uint64_t kvmbox_vm_mem_size(const struct kvmbox_vm *vm)
{
	return vm->mem.size;
}
