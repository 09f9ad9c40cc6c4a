/* Calls into the guest (kvmbox_vm_call): a VM stopped at a clean point is entered at an
 * exported function with its arguments in the mode's C convention, its buffers copied into a
 * call area below the stack top, and a return address that leads to the return stub of
 * src/x86/idt.c, whose halt the run loop ends the call at (KVMBOX_STOP_RETURNED). The call is
 * an ordinary run in between: hypercalls, host functions, faults, deadlines. docs/abi.md,
 * "Calls", draws the entry state of each mode. */
#include <errno.h>
#include <string.h>
#include "kvmbox/call.h"
#include "base/util.h"
#include "call/call_int.h"
#include "mem/mem.h"
#include "snap/snap_cpu.h"
#include "vm/vm.h"
#include "vm/vm_lifecycle.h"
#include "x86/x86.h"

/* Stack the called function gets below its buffers, at the least: a call area that leaves
 * less would run into the image. Real mode shares its 64 KiB segment with the image. */
#define CALL_STACK_MIN (16u << 10)
#define CALL_STACK_MIN_REAL (2u << 10)
/* RFLAGS bit 1 is always set; IF clear (kvmbox guests take no interrupts), DF clear as the
 * System V and i386 ABIs require at a call (SDM Vol 1 3.4.3). */
#define RFLAGS_CALL 0x2ull

/* The stops a call may start after: nothing ran, or a run or call ended where the guest had
 * nothing left to do. */
static bool clean_point(const struct kvmbox_vm *vm)
{
	switch (vm->last_stop) {
	case KVMBOX_STOP_NONE:
	case KVMBOX_STOP_HALT:
	case KVMBOX_STOP_EXIT:
	case KVMBOX_STOP_RETURNED:
		return true;
	default:
		return false;
	}
}

static int check_args(const struct kvmbox_call_arg *args, unsigned nargs, struct kvmbox_error *err)
{
	if (nargs > KVMBOX_CALL_ARGS_MAX)
		return set_error(err, EINVAL, "kvmbox_vm_call: %u arguments; at most %d", nargs,
				 KVMBOX_CALL_ARGS_MAX);
	if (nargs && !args)
		return set_error(err, EINVAL, "kvmbox_vm_call: %u arguments and no array of them", nargs);
	for (unsigned i = 0; i < nargs; i++) {
		if ((unsigned)args[i].kind > KVMBOX_ARG_INOUT)
			return set_error(err, EINVAL, "kvmbox_vm_call: argument %u has kind %u, not a "
					 "KVMBOX_ARG_*", i, (unsigned)args[i].kind);
		if (args[i].kind != KVMBOX_ARG_INT && !args[i].buf && args[i].len)
			return set_error(err, EINVAL, "kvmbox_vm_call: argument %u is a buffer of %zu "
					 "bytes at NULL", i, args[i].len);
	}
	return 0;
}

/* The return stub as src/x86/ wrote it, written again if the guest changed it (its page is
 * the guest's to write, as the whole system area is). */
static int stub_ready(struct kvmbox_vm *vm, gva_t stub, struct kvmbox_error *err)
{
	uint8_t want[X86_CALL_STUB_MAX], have[X86_CALL_STUB_MAX];
	size_t n = x86_call_stub_code(want);

	if (vm->mode == KVMBOX_MODE_REAL && call_overlaps_image(vm, stub, stub + n))
		return set_error(err, EINVAL, "the image covers 0x%llx, where real-mode calls return "
				 "to (images start at 0x1000: docs/memory.md)", (unsigned long long)stub);
	if (mem_read(&vm->mem, stub, have, n) < 0)
		return set_error(err, EFAULT, "the call return stub at 0x%llx lies outside guest memory",
				 (unsigned long long)stub);
	if (memcmp(want, have, n) && mem_write(&vm->mem, stub, want, n) < 0)
		return set_error(err, EFAULT, "cannot write the call return stub at 0x%llx",
				 (unsigned long long)stub);
	return 0;
}

/* Where the buffers go: from TOP down, each 16-byte aligned; *LOW is the lowest. */
static int place_buffers(struct kvmbox_vm *vm, const struct kvmbox_call_arg *args, unsigned nargs,
			 gva_t top, gva_t at[], gva_t *low, struct kvmbox_error *err)
{
	bool real = vm->mode == KVMBOX_MODE_REAL;
	uint64_t max = real ? KVMBOX_CALL_BUF_MAX_REAL : KVMBOX_CALL_BUF_MAX, total = 0;
	gva_t p = top & ~15ull, floor;

	for (unsigned i = 0; i < nargs; i++) {
		uint64_t len = args[i].len;

		if (args[i].kind == KVMBOX_ARG_INT)
			continue;
		/* Summed before any subtraction: no length can wrap P. */
		if (len > max || (total += (len + 15) & ~15ull) > max)
			return set_error(err, E2BIG, "kvmbox_vm_call: the buffers need more than the %llu "
					 "bytes of the %s-mode call area (argument %u: %zu bytes)",
					 (unsigned long long)max, kvmbox_mode_name(vm->mode), i,
					 args[i].len);
		p = (p - len) & ~15ull;
		at[i] = p;
	}
	floor = real ? CALL_STACK_MIN_REAL : CALL_STACK_MIN;
	/* The buffers take TOTAL bytes below the aligned top (each is rounded up to 16): room for
	 * them and the stack is asked before P, which wraps when there is none, is used. */
	if (total + floor > (top & ~15ull) || call_overlaps_image(vm, p - floor, top))
		return set_error(err, E2BIG, "kvmbox_vm_call: the call area [0x%llx, 0x%llx) and its "
				 "stack of %llu bytes would overlap the image (a larger --mem helps in "
				 "the 32- and 64-bit modes)", (unsigned long long)p,
				 (unsigned long long)top, (unsigned long long)floor);
	*low = p;
	return 0;
}

/* Copy the IN and INOUT buffers in and zero the OUT ones, through the guest's own paging. */
static int copy_in(struct kvmbox_vm *vm, const struct kvmbox_call_arg *args, unsigned nargs,
		   const gva_t at[], struct kvmbox_error *err)
{
	static const uint8_t zero[4096];

	for (unsigned i = 0; i < nargs; i++) {
		const struct kvmbox_call_arg *a = &args[i];
		int ret = 0;

		if (a->kind == KVMBOX_ARG_IN || a->kind == KVMBOX_ARG_INOUT)
			ret = guest_write(vm, at[i], a->buf, a->len);
		for (size_t off = 0; a->kind == KVMBOX_ARG_OUT && off < a->len && ret == 0;
		     off += sizeof(zero))
			ret = guest_write(vm, at[i] + off, zero,
					  a->len - off < sizeof(zero) ? a->len - off : sizeof(zero));
		if (ret < 0)
			return set_error(err, EFAULT, "kvmbox_vm_call: the call area at 0x%llx is not "
					 "mapped writable (the guest changed its page tables?)",
					 (unsigned long long)at[i]);
	}
	return 0;
}

static int copy_out(struct kvmbox_vm *vm, const struct kvmbox_call_arg *args, unsigned nargs,
		    const gva_t at[], struct kvmbox_error *err)
{
	for (unsigned i = 0; i < nargs; i++) {
		const struct kvmbox_call_arg *a = &args[i];

		if ((a->kind == KVMBOX_ARG_OUT || a->kind == KVMBOX_ARG_INOUT) &&
		    guest_read(vm, at[i], a->buf, a->len) < 0)
			return set_error(err, EFAULT, "kvmbox_vm_call: argument %u's buffer at 0x%llx "
					 "is no longer mapped", i, (unsigned long long)at[i]);
	}
	return 0;
}

/* The registers at the function's entry, its stack written: long mode passes the arguments
 * in registers (System V AMD64 ABI 3.2.3) with rsp + 8 16-byte aligned (3.2.2); the 32-bit
 * modes and gcc -m16's real mode in 4-byte stack slots above a 4-byte return address (i386
 * System V ABI 2.2.2; -m16 code calls with calll/retl), with the first slot 16-byte aligned. */
static int enter_regs(struct kvmbox_vm *vm, gva_t fn, const struct kvmbox_call_arg *args,
		      unsigned nargs, const gva_t at[], gva_t sp, gva_t ret_addr, struct kvm_regs *r,
		      struct kvmbox_error *err)
{
	uint64_t v[KVMBOX_CALL_ARGS_MAX] = { 0 };
	__u64 *const reg[KVMBOX_CALL_ARGS_MAX] = { &r->rdi, &r->rsi, &r->rdx, &r->rcx, &r->r8, &r->r9 };
	int ret;

	for (unsigned i = 0; i < nargs; i++)
		v[i] = args[i].kind == KVMBOX_ARG_INT ? args[i].value : at[i];
	memset(r, 0, sizeof(*r));
	r->rip = fn;
	r->rflags = RFLAGS_CALL;
	if (vm->mode == KVMBOX_MODE_LONG) {
		sp = (sp & ~15ull) - 8;
		ret = guest_write(vm, sp, &ret_addr, sizeof(ret_addr));
		for (unsigned i = 0; i < nargs; i++)
			*reg[i] = v[i];
	} else {
		uint32_t frame[1 + KVMBOX_CALL_ARGS_MAX];

		frame[0] = (uint32_t)ret_addr;
		for (unsigned i = 0; i < nargs; i++)
			frame[1 + i] = (uint32_t)v[i];
		sp = ((sp - 4 * nargs) & ~15ull) - 4;
		ret = guest_write(vm, sp, frame, 4 * (1 + nargs));
	}
	if (ret < 0)
		return set_error(err, EFAULT, "kvmbox_vm_call: the call stack at 0x%llx is not mapped "
				 "writable", (unsigned long long)sp);
	r->rsp = sp;
	return 0;
}

/* Everything before the run: checks, the reset point, the call area, the registers. */
static int prepare(struct kvmbox_vm *vm, gva_t fn, const struct kvmbox_call_arg *args,
		   unsigned nargs, unsigned flags, gva_t at[], struct kvmbox_error *err)
{
	const struct kvm_sregs *s = &vm->run->s.regs.sregs;
	gva_t top = vm->layout.stack_top, low = top, stub = x86_call_stub_addr(vm->mode, &vm->layout);
	struct kvm_regs r;
	int ret;

	if (!clean_point(vm))
		return set_error(err, ESRCH, "kvmbox_vm_call: the VM's last run or call did not end in a "
				 "halt, an exit or a return: reset it first (kvmbox_vm_reset, or "
				 "KVMBOX_CALL_RESET)");
	if (vm->mode == KVMBOX_MODE_REAL && (fn > 0xffff || s->cs.base || s->ss.base))
		return set_error(err, EINVAL, fn > 0xffff
				 ? "kvmbox_vm_call: 0x%llx is out of reach of real mode (above 0xffff)"
				 : "kvmbox_vm_call: real-mode calls need CS and SS at 0 (the guest changed "
				 "them)", (unsigned long long)fn);
	if ((ret = check_args(args, nargs, err)) < 0 ||
	    (ret = place_buffers(vm, args, nargs, top, at, &low, err)) < 0)
		return ret;
	/* A point taken now is the state every call with a reset comes back to: before any
	 * write of this call, the whole vCPU included even when nothing ran yet (a call must
	 * not find the SSE registers, an MSR or a debug register as the last one left them). */
	if ((flags & KVMBOX_CALL_RESET) && !vm->point.taken &&
	    (ret = vm_reset_point_take(vm, true, err)) < 0)
		return ret;
	/* An exit that left a port access to complete (main ended with HC_exit): completed now,
	 * so that its completion cannot land on the call's registers. */
	if ((ret = cpu_settle(vm, false, err)) < 0 || (ret = stub_ready(vm, stub, err)) < 0 ||
	    (ret = copy_in(vm, args, nargs, at, err)) < 0 ||
	    (ret = enter_regs(vm, fn, args, nargs, at, low, stub, &r, err)) < 0)
		return ret;
	vm->run->s.regs.regs = r;
	vm->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	vm->call_ret = stub + 1; /* flat segments: the linear address of the offset pushed */
	vm->stopped = false;
	return 0;
}

int kvmbox_vm_call_addr(struct kvmbox_vm *vm, gva_t addr, const struct kvmbox_call_arg *args,
			unsigned nargs, const struct kvmbox_call_opts *opts, struct kvmbox_result *res,
			struct kvmbox_error *err)
{
	static const struct kvmbox_call_opts no_opts;
	gva_t at[KVMBOX_CALL_ARGS_MAX] = { 0 };
	struct kvmbox_run_opts ro;
	int ret;

	if (!vm || !res)
		return set_error(err, EINVAL, "kvmbox_vm_call: NULL %s", vm ? "result" : "VM");
	memset(res, 0, sizeof(*res));
	if (!vm->loaded)
		return set_error(err, ENOEXEC, "kvmbox_vm_call: load an image first");
	if (!opts)
		opts = &no_opts;
	ret = prepare(vm, addr, args, nargs, opts->flags, at, err);
	if (ret < 0)
		return ret;
	ro = (struct kvmbox_run_opts){ .deadline_ns = opts->deadline_ns,
				       .flags = KVMBOX_RUN_STOP_AT_DEADLINE, .cancel = opts->cancel };
	ret = kvmbox_vm_run(vm, &ro, res);
	vm->call_ret = 0;
	if (ret < 0)
		return set_error(err, -ret, "kvmbox_vm_call: the run was refused (%s)", strerror(-ret));
	if (res->stop == KVMBOX_STOP_RETURNED) {
		const struct kvm_regs *r = &vm->run->s.regs.regs;

		res->value = vm->mode == KVMBOX_MODE_LONG ? (int64_t)r->rax : (int64_t)(int32_t)r->rax;
		ret = copy_out(vm, args, nargs, at, err);
	}
	if (opts->flags & KVMBOX_CALL_RESET) {
		struct kvmbox_error rerr;
		int rret = kvmbox_vm_reset(vm, &rerr);

		if (rret < 0 && ret == 0) {
			ret = rret;
			if (err)
				*err = rerr;
		}
	}
	return ret;
}

int kvmbox_vm_call(struct kvmbox_vm *vm, const char *name, const struct kvmbox_call_arg *args,
		   unsigned nargs, const struct kvmbox_call_opts *opts, struct kvmbox_result *res,
		   struct kvmbox_error *err)
{
	gva_t addr;
	int ret;

	if (!vm || !res)
		return set_error(err, EINVAL, "kvmbox_vm_call: NULL %s", vm ? "result" : "VM");
	memset(res, 0, sizeof(*res));
	ret = call_export_find(vm, name, &addr, err);
	return ret < 0 ? ret : kvmbox_vm_call_addr(vm, addr, args, nargs, opts, res, err);
}
