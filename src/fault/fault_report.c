/* The exception-report port: a default handler stub (src/x86/idt.c) pushed the vector and
 * executed `out %al, $KVMBOX_PORT_EXC`. Read the CPU's frame from the guest stack, rewind
 * the vCPU to the faulting state, and end the run with a report that names the exception,
 * decodes its error code and, for a page fault, says where the walk stopped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vm/vm_features.h"
#include "base/log.h"
#include "base/util.h"
#include "mem/mem.h"
#include "vm/vm_walk.h"
#include "vm/vm_ports.h"
#include "vm/vm.h"
#include "fault/fault.h"
#include "fault/symbol_cache.h"
#include "fault/symbolize.h"

extern const struct vm_feature exc_feature;

struct exc_state {
	bool have;              /* the last run ended in a report */
	struct x86_exception e;
	/* The loaded image's symbolizer, opened at load (before any sandbox) and shared with
	 * the other VMs of the same image. */
	const struct image_copy *image;
	/* Where the image lies: only addresses there are symbolized (sections the linker
	 * dropped keep DWARF ranges at 0, which would name a function for address 0). */
	unsigned nseg;
	struct { uint64_t start, end; } seg[KVMBOX_IMAGE_MAX_SEGMENTS];
};

/* Is LINEAR inside the loaded image (true when its placement is not known)? */
static bool in_image(const struct exc_state *st, uint64_t linear)
{
	for (unsigned i = 0; i < st->nseg; i++)
		if (linear >= st->seg[i].start && linear < st->seg[i].end)
			return true;
	return !st->nseg;
}

const struct x86_exception *vm_exception(const struct kvmbox_vm *vm)
{
	const struct exc_state *st = vm_feature_state(vm, &exc_feature);

	return st && st->have ? &st->e : NULL;
}

/* " in FUNCTION (FILE:LINE)" for RIP, or nothing when the image says nothing about it. */
static void symbolize(struct exc_state *st, uint64_t rip, char *buf, size_t len);

void fault_where(struct kvmbox_vm *vm, uint64_t linear, char *buf, size_t len)
{
	struct exc_state *st = vm_feature_state(vm, &exc_feature);

	buf[0] = '\0';
	if (st)
		symbolize(st, linear, buf, len);
}

/* "256 KiB", "2 MiB", "1 GiB": guest memory sizes are multiples of 4 KiB. */
static void size_words(uint64_t bytes, char *buf, size_t len)
{
	if (bytes % (1ull << 30) == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(bytes >> 30));
	else if (bytes % (1ull << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
}

size_t fault_addr_why(const struct kvmbox_vm *vm, uint64_t addr, char *buf, size_t len)
{
	char size[32];

	buf[0] = '\0';
	if (vm->guard_null && addr < PAGE_SIZE)
		return (size_t)snprintf(buf, len, "page 0, which kvmbox's NULL guard keeps from the "
					"guest: a NULL pointer dereference");
	if (addr < vm->layout.mem_size)
		return 0;
	size_words(vm->layout.mem_size, size, sizeof(size));
	return (size_t)snprintf(buf, len, "beyond the guest's %s of memory (0x0-0x%llx): a bad "
				"pointer", size, (unsigned long long)vm->layout.mem_size - 1);
}

bool fault_insn(const struct kvmbox_vm *vm, struct x86_insn_info *insn)
{
	const struct kvm_regs *regs = &vm->run->s.regs.regs;
	const struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
	uint8_t code[X86_INSN_MAX];
	size_t n;

	for (n = 0; n < sizeof(code) && guest_read(vm, sregs->cs.base + regs->rip + n, code + n, 1) == 0; n++)
		;
	return n && x86_insn_decode(regs, sregs, code, n, insn) == 0;
}

void fault_caller(struct kvmbox_vm *vm, char *buf, size_t len)
{
	const struct kvm_regs *regs = &vm->run->s.regs.regs;
	const struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
	size_t w = x86_in_64bit_code(sregs) ? 8 : (sregs->cr0 & 1) && sregs->cs.db ? 4 : 2;
	uint64_t ret = 0, sp = w == 2 ? regs->rsp & 0xffff : w == 4 ? regs->rsp & 0xffffffff : regs->rsp;
	char sym[220];

	buf[0] = '\0';
	/* A call pushed its return address (the i386 and x86-64 psABIs; gcc -m16 code calls
	 * with 32-bit return addresses, as .code16gcc does). */
	if (w == 2)
		w = 4;
	if (guest_read(vm, sregs->ss.base + sp, &ret, w) < 0 || ret == 0)
		return;
	fault_where(vm, sregs->cs.base + ret - 1, sym, sizeof(sym));
	if (sym[0])
		snprintf(buf, len, ", called from%s", sym + 3); /* " in F (...)" -> " F (...)" */
}

static void symbolize(struct exc_state *st, uint64_t rip, char *buf, size_t len)
{
	char what[200];

	buf[0] = '\0';
	if (in_image(st, rip) && image_copy_describe(st->image, rip, what, sizeof(what)) > 0)
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

/* ": `ud2`: the compiler's trap ..." and the like: what the faulting instruction (the vCPU
 * is rewound to it) says about exception E, or nothing. */
static void insn_why(struct kvmbox_vm *vm, const struct x86_exception *e, char *buf, size_t len)
{
	const struct kvm_sregs *sregs = &vm->run->s.regs.sregs;
	struct x86_insn_info insn;
	char why[200] = "";
	struct exc_state *st = vm_feature_state(vm, &exc_feature);
	char caller[240];
	bool have;

	buf[0] = '\0';
	if (st && !in_image(st, sregs->cs.base + e->rip)) {
		/* No code of the guest's there: whatever the CPU found is not the bug. */
		fault_caller(vm, caller, sizeof(caller));
		snprintf(buf, len, ": rip is outside the image (a call or jump through a bad "
			 "pointer?)%s", caller);
		return;
	}
	have = fault_insn(vm, &insn);
	switch (e->vector) {
	case 0:
		if (have && (!strncmp(insn.text, "div", 3) || !strncmp(insn.text, "idiv", 4)))
			snprintf(buf, len, ": `%s` divided by zero, or its quotient does not fit the "
				 "destination", insn.text);
		break;
	case 6:
		if (have && insn.ud2)
			snprintf(buf, len, ": `ud2`, the compiler's trap: __builtin_trap(), or code "
				 "the compiler proved undefined (a NULL pointer dereference, a missing "
				 "return) and replaced by a trap");
		else if (!have)
			snprintf(buf, len, ": no valid instruction there (the code was overwritten, "
				 "or a jump went astray)");
		break;
	case 12:
	case 13:
		/* A selector in the error code is its own explanation (x86_exc_describe). */
		if (!have || (e->has_error_code && e->error_code))
			break;
		x86_insn_limit_why(&insn, sregs, why, sizeof(why));
		snprintf(buf, len, ": `%s`%s%s", insn.text, why[0] ? ": " : "", why);
		break;
	default:
		break;
	}
}

/* The report's text: "page fault (#PF, write, not present) at rip 0x1a2f in f (f.c:42):
 * address 0x500000: PML4[0] -> PDPT[0] -> PD[2] not present". */
static void report(struct kvmbox_vm *vm, struct exc_state *st, const struct x86_exception *e)
{
	char what[160], sym[220], extra[360] = "";

	x86_exc_describe(what, sizeof(what), e);
	/* Symbols are linear addresses: in real mode CS.base is selector * 16. */
	symbolize(st, vm->run->s.regs.sregs.cs.base + e->rip, sym, sizeof(sym));
	if (e->vector == 14) {
		char walk[160];

		char why[160], caller[240] = "";
		/* With kvmbox's identity map a linear address is its guest-physical one. */
		bool fetch = e->cr2 == vm->run->s.regs.sregs.cs.base + e->rip;

		walk_text(vm, e->cr2, e->error_code, walk, sizeof(walk));
		fault_addr_why(vm, e->cr2, why, sizeof(why));
		if (fetch && why[0])
			fault_caller(vm, caller, sizeof(caller));
		snprintf(extra, sizeof(extra), ": address 0x%llx%s%s%s%s%s", (unsigned long long)e->cr2,
			 walk, why[0] ? "; " : "", why,
			 fetch && why[0] ? " (a call through a bad function pointer?)" : "", caller);
	} else if (e->vector == 8) {
		/* A #DF means delivering an earlier exception faulted: in practice the stack. */
		snprintf(extra, sizeof(extra),
			 ": an exception could not be delivered (stack pointer 0x%llx: overflowed or bad?)",
			 (unsigned long long)e->rsp);
	} else {
		insn_why(vm, e, extra, sizeof(extra));
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
	st->image = img->size ? image_copy_get(img->data, img->size, img->data_kept) : NULL;
	if (image_copy_refused(st->image))
		log_msg(vm->log, KVMBOX_LOG_WARN, vm->name,
			"the image's debug data names other files (a supplementary file or split "
			"units): not used, so fault reports name functions without source lines");
	st->nseg = img->nsegments;
	for (unsigned i = 0; i < img->nsegments && i < KVMBOX_IMAGE_MAX_SEGMENTS; i++) {
		st->seg[i].start = img->segments[i].gpa;
		st->seg[i].end = img->segments[i].gpa + img->segments[i].memsz;
	}
}

/* A fork runs the parent's image: its symbols too. */
static void exc_fork(struct kvmbox_vm *vm, void *state, const struct kvmbox_vm *parent,
		     const void *parent_state)
{
	const struct exc_state *ps = parent_state;
	struct exc_state *st = state;

	(void)vm;
	(void)parent;
	if (!st || !ps || !ps->image)
		return;
	image_copy_put(st->image);
	st->image = image_copy_ref(ps->image);
	st->nseg = ps->nseg;
	memcpy(st->seg, ps->seg, sizeof(st->seg));
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
	.fork = exc_fork,
};
