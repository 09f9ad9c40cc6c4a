/* The exception-report port: a default handler stub (src/x86/idt.c) pushed the vector and
 * executed `out %al, $KVMBOX_PORT_EXC`. Read the CPU's frame from the guest stack, rewind
 * the vCPU to the faulting state, and end the run with a report that names the exception,
 * decodes its error code and, for a page fault, says where the walk stopped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../feature.h"
#include "../log.h"
#include "../util.h"
#include "../mem.h"
#include "../pagewalk.h"
#include "../ports.h"
#include "../vm.h"
#include "fault.h"
#include "images.h"

extern const struct vm_feature exc_feature;

struct exc_state {
	bool have;              /* the last run ended in a report */
	struct x86_exception e;
	/* The loaded image's symbolizer, opened at load (before any sandbox) and shared with
	 * the other VMs of the same image. */
	const struct image_copy *image;
};

const struct x86_exception *vm_exception(const struct kvmbox_vm *vm)
{
	const struct exc_state *st = vm_feature_state(vm, &exc_feature);

	return st && st->have ? &st->e : NULL;
}

/* " in FUNCTION (FILE:LINE)" for RIP, or nothing when the image says nothing about it. */
static void symbolize(struct exc_state *st, uint64_t rip, char *buf, size_t len)
{
	char what[200];

	buf[0] = '\0';
	if (image_copy_describe(st->image, rip, what, sizeof(what)) > 0)
		snprintf(buf, len, " in %s", what);
}

/* ": PML4[0] -> PDPT[0] -> PD[2] not present" for the #PF address ADDR: the described walk
 * under the vCPU's paging state with the access the error code names (bit 1 write, bit 2
 * user: SDM Vol 3A 4.7), down to the level that stopped it. */
static void walk_text(const struct kvmbox_vm *vm, uint64_t addr, uint32_t ec, char *buf, size_t len)
{
	struct kvmbox_walk w;

	/* CR2 is a linear address: no segment step. */
	vm_walk_with(vm, &vm->run->s.regs.sregs, addr, KVMBOX_WALK_LINEAR |
		     (ec & 2 ? KVMBOX_WALK_WRITE : 0) | (ec & 4 ? KVMBOX_WALK_USER : 0), &w);
	buf[0] = ':';
	buf[1] = ' ';
	kvmbox_walk_format(&w, true, buf + 2, len - 2);
}

/* Read the frame the stub left; 0 or -EFAULT. */
static int read_frame(struct kvmbox_vm *vm, unsigned vector, struct x86_exception *e)
{
	const struct kvm_regs *regs = &vm->run->s.regs.regs;
	const struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
	struct x86_exc_frame_loc loc;
	uint8_t stack[64], tss[128];
	size_t got;

	x86_exc_locate(vm->mode, &vm->layout, regs, sregs, &loc);
	if (loc.stack_len > sizeof(stack) || loc.tss_len > sizeof(tss))
		return -EFAULT;
	got = loc.stack_len;
	if (guest_read(vm, loc.stack, stack, got) < 0) {
		got = loc.stack_min;
		if (guest_read(vm, loc.stack, stack, got) < 0)
			return -EFAULT;
	}
	if (loc.tss_len && mem_read(&vm->mem, loc.tss, tss, loc.tss_len) < 0)
		return -EFAULT;
	return x86_exc_decode(vm->mode, regs, sregs, vector, stack, got, loc.tss_len ? tss : NULL, e);
}

/* The stub at linear address LINEAR, or -1 when the `out` came from anywhere else. */
static int reporting_stub(const struct kvmbox_vm *vm, gva_t linear)
{
	uint8_t code[X86_EXC_STUB_MAX];
	int v = x86_exc_stub_vector(vm->mode, &vm->layout, linear);

	if (v < 0 || guest_read(vm, x86_exc_stub_addr(vm->mode, &vm->layout, (unsigned)v), code,
				sizeof(code)) < 0)
		return -1;
	return x86_exc_stub_intact(vm->mode, (unsigned)v, code) ? v : -1;
}

/* The report's text: "page fault (#PF, write, not present) at rip 0x1a2f in f (f.c:42):
 * address 0x500000: PML4[0] -> PDPT[0] -> PD[2] not present". */
static void report(struct kvmbox_vm *vm, struct exc_state *st, const struct x86_exception *e)
{
	char what[160], sym[220], extra[200] = "";

	x86_exc_describe(what, sizeof(what), e);
	/* Symbols are linear addresses: in real mode CS.base is selector * 16. */
	symbolize(st, vm->run->s.regs.sregs.cs.base + e->rip, sym, sizeof(sym));
	if (e->vector == 14) {
		char walk[160];

		walk_text(vm, e->cr2, e->error_code, walk, sizeof(walk));
		snprintf(extra, sizeof(extra), ": address 0x%llx%s", (unsigned long long)e->cr2, walk);
	} else if (e->vector == 8) {
		/* A #DF means delivering an earlier exception faulted: in practice the stack. */
		snprintf(extra, sizeof(extra),
			 ": an exception could not be delivered (stack pointer 0x%llx: overflowed or bad?)",
			 (unsigned long long)e->rsp);
	}
	vm_request_stop(vm, KVMBOX_STOP_FAULT, 0, "%s at rip 0x%llx%s%s", what,
			(unsigned long long)e->rip, sym, extra);
}

static int exc_port(struct kvmbox_vm *vm, void *ctx, const struct port_io *io)
{
	struct exc_state *st = ctx;
	struct kvm_regs *regs = &vm->run->s.regs.regs;
	struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
	struct x86_exception e;
	int v;

	v = io->out && io->count == 1 ? reporting_stub(vm, sregs->cs.base + regs->rip) : -1;
	if (v < 0) {
		vm_request_stop(vm, KVMBOX_STOP_FAULT, 0,
				"KVM_EXIT_IO: %s port 0x%x (kvmbox's exception reports) from outside "
				"its handlers at rip=0x%llx", io->out ? "out to" : "in from", io->port,
				(unsigned long long)regs->rip);
		return 0;
	}
	if (read_frame(vm, (unsigned)v, &e) < 0) {
		vm_request_stop(vm, KVMBOX_STOP_FAULT, 0,
				"%s (%s): its frame on the stack at 0x%llx cannot be read",
				x86_exc_name((unsigned)v), x86_exc_mnemonic((unsigned)v),
				(unsigned long long)(sregs->ss.base + regs->rsp));
		return 0;
	}
	st->e = e;
	st->have = true;
	/* The dump and a debugger show the faulting instruction's state, not the stub's; KVM
	 * takes the rewound state should the vCPU run again (sync_regs). */
	x86_exc_rewind(vm->mode, &e, regs, sregs);
	vm->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	report(vm, st, &e);
	return 0;
}

/* ": the guest was last seen at 0x... in F (FILE:LINE), at its exit N (of M)": the state
 * kvmbox saw before a host reset the vCPU at a shutdown, or nothing if it never exited. */
static void last_seen(const struct kvmbox_vm *vm, struct exc_state *st, char *buf, size_t len)
{
	char sym[220] = "";

	buf[0] = '\0';
	if (!vm->last_exit_count)
		return;
	if (st)
		symbolize(st, vm->last_exit_pc, sym, sizeof(sym));
	snprintf(buf, len, "; the guest was last seen at linear address 0x%llx%s, at its exit %llu of %llu",
		 (unsigned long long)vm->last_exit_pc, sym, (unsigned long long)vm->last_exit_count,
		 (unsigned long long)vm->stats.exits);
}

/* A triple fault: an exception while the CPU delivered a double fault (SDM Vol 3A 6.15,
 * "Interrupt 8"). With kvmbox's handlers in place (#DF has its own stack) that means the
 * guest broke the IDT, the GDT or the TSS: say whose IDT it was. */
void fault_shutdown(struct kvmbox_vm *vm)
{
	static const char what[] = "KVM_EXIT_SHUTDOWN: triple fault (an exception the guest could "
				   "not handle: one arose while delivering a double fault)";
	const struct kvm_regs *regs = &vm->run->s.regs.regs;
	const struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
	struct exc_state *st = vm_feature_state(vm, &exc_feature);
	char sym[320] = "";
	bool ours;

	if (x86_regs_look_reset(regs, sregs)) {
		last_seen(vm, st, sym, sizeof(sym));
		vm_request_stop(vm, KVMBOX_STOP_FAULT, 0,
				"%s; the host reset the vCPU at the triple fault (AMD SVM does), so the "
				"registers are its reset state, not the fault's%s; with kvmbox's own IDT a "
				"fault is reported before this, so the guest's IDT, GDT or TSS is suspect",
				what, sym);
		return;
	}
	if (st)
		symbolize(st, sregs->cs.base + regs->rip, sym, sizeof(sym));
	ours = x86_idt_is_default(vm->mode, &vm->layout, sregs);
	vm_request_stop(vm, KVMBOX_STOP_FAULT, 0,
			"%s at rip=0x%llx%s: %s IDT (base 0x%llx, limit 0x%x) could not deliver it%s",
			what, (unsigned long long)regs->rip, sym, ours ? "kvmbox's" : "the guest's own",
			(unsigned long long)sregs->idt.base, sregs->idt.limit,
			ours && (vm->mode == KVMBOX_MODE_PROTECTED || vm->mode == KVMBOX_MODE_PAGED32)
				? " (the 32-bit #DF handler is a task switch, which some KVMs, such as "
				  "kvm_pvm, cannot emulate)" : "");
}

static int exc_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
		    struct kvmbox_error *err)
{
	struct exc_state *st = calloc(1, sizeof(*st));
	int ret;

	(void)cfg;
	if (!st)
		return set_error(err, ENOMEM, "out of memory");
	*state = st;
	ret = ports_register(&vm->ports, KVMBOX_PORT_EXC, 1, exc_port, st);
	if (ret < 0)
		return set_error(err, -ret, "port registry: exception port: %s", strerror(-ret));
	return 0;
}

static void exc_load(struct kvmbox_vm *vm, void *state, const struct kvmbox_image *img)
{
	struct exc_state *st = state;

	if (!st)
		return;
	/* A reload replaces the image: its symbols go with it. */
	image_copy_put(st->image);
	st->image = img->size ? image_copy_get(img->data, img->size) : NULL;
	if (image_copy_refused(st->image))
		log_msg(vm->log, KVMBOX_LOG_WARN, vm->name,
			"the image's debug data names other files (a supplementary file or split "
			"units): not used, so fault reports name functions without source lines");
}

static void exc_reset(struct kvmbox_vm *vm, void *state)
{
	struct exc_state *st = state;

	(void)vm;
	if (st)
		st->have = false;
}

static void exc_release(struct kvmbox_vm *vm, void *state)
{
	struct exc_state *st = state;

	(void)vm;
	if (!st)
		return;
	image_copy_put(st->image);
	free(st);
}

const struct vm_feature exc_feature = {
	.name = "exceptions",
	.init = exc_init,
	.load = exc_load,
	.reset = exc_reset,
	.release = exc_release,
};
