/* The stub's target over a KVM vCPU: registers, guest-virtual memory, breakpoints (planted hlt
 * bytes or DR0-DR3, whichever this host honours), single-step and the exits they cause. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "gdb/kvm_target.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "mem/mem.h"
#include "base/util.h"
#include "vm/vm.h"

#define HLT 0xf4
#define DR6_BS (1u << 14)   /* single-step (Intel SDM Vol. 3, 18.2.3) */
#define DR7_GE (1u << 9)    /* exact data breakpoints, recommended when any is enabled */
#define DR7_FIXED1 (1u << 10)

/* ---- registers ------------------------------------------------------------------------ */

static int read_reg(void *ctx, unsigned regno, uint8_t *buf)
{
	struct gdb_kvm *t = ctx;
	const struct gdb_reg *r = regno < t->tdesc->nregs ? &t->tdesc->regs[regno] : NULL;
	int rc;

	if (r && r->off >= offsetof(struct gdb_cpu, fpu) && !t->fpu_valid)
		return -ENOENT;
	rc = gdb_tdesc_reg_read(t->tdesc, regno, &t->cpu, buf);
	return rc < 0 ? rc : 0;
}

static int write_reg(void *ctx, unsigned regno, const uint8_t *buf)
{
	struct gdb_kvm *t = ctx;
	const struct gdb_reg *r = regno < t->tdesc->nregs ? &t->tdesc->regs[regno] : NULL;
	int rc;

	if (!r)
		return -EINVAL;
	if (r->off >= offsetof(struct gdb_cpu, fpu) && !t->fpu_valid)
		return -ENOENT;
	rc = gdb_tdesc_reg_write(t->tdesc, regno, &t->cpu, buf);
	if (rc < 0)
		return rc;
	/* Only what changed goes back: new sregs make KVM rebuild its MMU context. */
	if (r->off < offsetof(struct gdb_cpu, sregs))
		t->regs_dirty = true;
	else if (r->off < offsetof(struct gdb_cpu, fpu))
		t->sregs_dirty = true;
	else
		t->fpu_dirty = true;
	return 0;
}

/* ---- memory: guest-virtual, through the walker ----------------------------------------- */

static int read_mem(void *ctx, gva_t addr, void *buf, size_t len)
{
	struct gdb_kvm *t = ctx;

	return guest_read(t->vm, addr, buf, len) < 0 ? -EFAULT : 0;
}

static int write_mem(void *ctx, gva_t addr, const void *buf, size_t len)
{
	struct gdb_kvm *t = ctx;

	return guest_write(t->vm, addr, buf, len) < 0 ? -EFAULT : 0;
}

/* ---- breakpoints ------------------------------------------------------------------------ */

static unsigned bp_types(void *ctx)
{
	struct gdb_kvm *t = ctx;
	unsigned types = GDB_BP_MASK(GDB_BP_SW) | GDB_BP_MASK(GDB_BP_HW);

	if (t->caps & GDB_KVM_DR_WRITE)
		types |= GDB_BP_MASK(GDB_BP_WRITE) | GDB_BP_MASK(GDB_BP_READ) | GDB_BP_MASK(GDB_BP_ACCESS);
	return types;
}

static struct gdb_kvm_plant *plant_at(struct gdb_kvm *t, gva_t addr)
{
	for (unsigned i = 0; i < GDB_KVM_PLANTS; i++)
		if (t->plants[i].used && t->plants[i].addr == addr)
			return &t->plants[i];
	return NULL;
}

static int insert_plant(struct gdb_kvm *t, gva_t addr)
{
	if (guest_check(t->vm, addr, 1, true) < 0)
		return -EFAULT;
	if (plant_at(t, addr))
		return 0; /* gdb inserts a location once; a second Z0 changes nothing */
	for (unsigned i = 0; i < GDB_KVM_PLANTS; i++)
		if (!t->plants[i].used) {
			t->plants[i] = (struct gdb_kvm_plant){ .used = true, .addr = addr };
			return 0;
		}
	return -ENOSPC;
}

/* DR7's R/W and LEN fields for a slot (Intel SDM Vol. 3, 18.2.4); -EINVAL when x86 cannot
 * watch LEN bytes at ADDR with one register (unaligned, or 8 bytes outside long mode). */
static int dr7_bits(const struct gdb_kvm *t, enum gdb_bp_type type, gva_t addr, size_t len,
		    unsigned *rwlen)
{
	unsigned rw = type == GDB_BP_HW ? 0 : type == GDB_BP_WRITE ? 1 : 3, lenbits;

	if (type == GDB_BP_HW)
		len = 1;
	switch (len) {
	case 1: lenbits = 0; break;
	case 2: lenbits = 1; break;
	case 4: lenbits = 3; break;
	case 8: lenbits = 2; break;
	default: return -EINVAL;
	}
	if ((addr & (len - 1)) || (len == 8 && t->tdesc->pc != 16))
		return -EINVAL;
	*rwlen = rw | lenbits << 2;
	return 0;
}

static int insert_dr(struct gdb_kvm *t, enum gdb_bp_type type, gva_t addr, size_t len)
{
	unsigned rwlen;

	if (dr7_bits(t, type, addr, len, &rwlen) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < GDB_KVM_DRS; i++)
		if (!t->drs[i].used) {
			t->drs[i] = (struct gdb_kvm_dr){ true, type, addr, len };
			return 0;
		}
	return -ENOSPC;
}

static int insert_bp(void *ctx, enum gdb_bp_type type, gva_t addr, size_t len)
{
	struct gdb_kvm *t = ctx;

	/* Z1 without working debug registers is a planted hlt too: the user asked for a stop
	 * at ADDR, and this is the mechanism that stops there on this host. */
	if (type == GDB_BP_SW || (type == GDB_BP_HW && !(t->caps & GDB_KVM_DR_EXEC)))
		return insert_plant(t, addr);
	if (type != GDB_BP_HW && !(t->caps & GDB_KVM_DR_WRITE)) {
		/* gdb's own message for the refusal blames "too many hardware breakpoints". */
		if (!t->told_no_watch)
			log_msg(t->vm->log, KVMBOX_LOG_WARN, t->vm->name,
				"gdb: this host has no data breakpoints (its KVM does not fire the debug "
				"registers for data), so gdb's hardware watchpoints cannot be set; in gdb, "
				"`set can-use-hw-watchpoints 0` makes watchpoints work by single-stepping");
		t->told_no_watch = true;
		return -ENOTSUP;
	}
	return insert_dr(t, type, addr, len);
}

static int remove_bp(void *ctx, enum gdb_bp_type type, gva_t addr, size_t len)
{
	struct gdb_kvm *t = ctx;
	struct gdb_kvm_plant *p;

	if (type == GDB_BP_SW || (type == GDB_BP_HW && !(t->caps & GDB_KVM_DR_EXEC))) {
		if (!(p = plant_at(t, addr)))
			return -ENOENT;
		*p = (struct gdb_kvm_plant){ 0 }; /* never planted while gdb talks to us */
		return 0;
	}
	for (unsigned i = 0; i < GDB_KVM_DRS; i++)
		if (t->drs[i].used && t->drs[i].type == type && t->drs[i].addr == addr &&
		    (type == GDB_BP_HW || t->drs[i].len == len)) {
			t->drs[i].used = false;
			return 0;
		}
	return -ENOENT;
}

/* Write a hlt over every breakpoint, keeping the guest's byte; one whose page went away
 * (the guest changed its page tables) stays unplanted. */
static void plant_all(struct gdb_kvm *t)
{
	static const uint8_t hlt = HLT;

	for (unsigned i = 0; i < GDB_KVM_PLANTS; i++) {
		struct gdb_kvm_plant *p = &t->plants[i];

		if (p->used && !p->planted && guest_read(t->vm, p->addr, &p->orig, 1) == 0 &&
		    guest_write(t->vm, p->addr, &hlt, 1) == 0)
			p->planted = true;
	}
}

static void unplant_all(struct gdb_kvm *t)
{
	for (unsigned i = 0; i < GDB_KVM_PLANTS; i++) {
		struct gdb_kvm_plant *p = &t->plants[i];

		if (p->planted)
			guest_write(t->vm, p->addr, &p->orig, 1);
		p->planted = false;
	}
}

/* KVM_SET_GUEST_DEBUG for the current breakpoints and step state. Execution breakpoints
 * in DRs are left out while stepping: the step may start on one. */
static int set_debug(struct gdb_kvm *t)
{
	uint64_t dr[GDB_KVM_DRS] = { 0 }, dr7 = 0;
	struct kvm_guest_debug dbg;
	uint32_t control = 0;

	for (unsigned i = 0; i < GDB_KVM_DRS; i++) {
		const struct gdb_kvm_dr *d = &t->drs[i];
		unsigned rwlen;

		if (!d->used || (t->stepping && d->type == GDB_BP_HW) ||
		    dr7_bits(t, d->type, d->addr, d->len, &rwlen) < 0)
			continue;
		dr[i] = d->addr;
		dr7 |= (1ull << (2 * i)) | (uint64_t)rwlen << (16 + 4 * i);
	}
	if (dr7) {
		dr7 |= DR7_GE | DR7_FIXED1;
		control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	}
	if (t->stepping)
		control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	kvm_guest_debug_init(&dbg, control, dr, dr7);
	return vcpu_ioctl(t->vm, KVM_SET_GUEST_DEBUG, &dbg, NULL);
}

/* ---- resuming and stopping ----------------------------------------------------------- */

static int resume(void *ctx, enum gdb_resume how)
{
	struct gdb_kvm *t = ctx;

	t->resumed = true;
	t->how = how;
	return 0;
}

static void interrupt(void *ctx)
{
	((struct gdb_kvm *)ctx)->interrupted = true;
}

static void stop_reason(void *ctx, struct gdb_stop *stop)
{
	*stop = ((struct gdb_kvm *)ctx)->last;
}

static void detach(void *ctx)
{
	((struct gdb_kvm *)ctx)->detached = true;
}

static void kill_target(void *ctx)
{
	((struct gdb_kvm *)ctx)->killed = true;
}

const struct gdb_target_ops gdb_kvm_ops = {
	.read_reg = read_reg,
	.write_reg = write_reg,
	.read_mem = read_mem,
	.write_mem = write_mem,
	.bp_types = bp_types,
	.insert_bp = insert_bp,
	.remove_bp = remove_bp,
	.resume = resume,
	.interrupt = interrupt,
	.stop_reason = stop_reason,
	.detach = detach,
	.kill = kill_target,
};

/* A port I/O exit is complete (rip past the instruction, an `in`'s data in eax) only after
 * the next KVM_RUN; immediate_exit finishes it without entering the guest (KVM API doc, 5.
 * kvm_run: immediate_exit), so gdb sees the state after the instruction. */
static void complete_io(struct gdb_kvm *t)
{
	struct kvm_run *run = t->vm->run;

	if (!t->vm->ran || run->exit_reason != KVM_EXIT_IO)
		return;
	run->immediate_exit = 1;
	vcpu_ioctl(t->vm, KVM_RUN, 0, NULL);
	run->immediate_exit = 0;
	run->exit_reason = KVM_EXIT_INTR; /* done: a second stop here must not run it again */
}

void gdb_kvm_stop(struct gdb_kvm *t, const struct gdb_stop *stop)
{
	complete_io(t);
	gdb_kvm_take(t, stop);
}

void gdb_kvm_take(struct gdb_kvm *t, const struct gdb_stop *stop)
{
	struct kvm_run *run = t->vm->run;

	t->cpu.regs = run->s.regs.regs;
	t->cpu.sregs = run->s.regs.sregs;
	t->fpu_valid = vcpu_ioctl(t->vm, KVM_GET_FPU, &t->cpu.fpu, NULL) == 0;
	t->regs_dirty = t->sregs_dirty = t->fpu_dirty = false;
	unplant_all(t);
	t->last = *stop;
	t->resumed = t->interrupted = t->stepping = t->step_over = false;
}

static bool breakpoint_at(const struct gdb_kvm *t, gva_t pc)
{
	for (unsigned i = 0; i < GDB_KVM_DRS; i++)
		if (t->drs[i].used && t->drs[i].type == GDB_BP_HW && t->drs[i].addr == pc)
			return true;
	return plant_at((struct gdb_kvm *)t, pc) != NULL;
}

int gdb_kvm_go(struct gdb_kvm *t)
{
	struct kvm_run *run = t->vm->run;

	if (t->regs_dirty)
		run->s.regs.regs = t->cpu.regs;
	if (t->sregs_dirty)
		run->s.regs.sregs = t->cpu.sregs;
	/* Now, not through sync_regs at the next KVM_RUN: KVM_SET_GUEST_DEBUG takes the rip
	 * it single-steps from when it is called, and a TF for another rip is dropped (SVM). */
	if (t->regs_dirty || (run->kvm_dirty_regs & KVM_SYNC_X86_REGS)) {
		vcpu_ioctl(t->vm, KVM_SET_REGS, &run->s.regs.regs, NULL);
		run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_REGS;
	}
	if (t->sregs_dirty || (run->kvm_dirty_regs & KVM_SYNC_X86_SREGS)) {
		vcpu_ioctl(t->vm, KVM_SET_SREGS, &run->s.regs.sregs, NULL);
		run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_SREGS;
	}
	if (t->fpu_dirty)
		vcpu_ioctl(t->vm, KVM_SET_FPU, &t->cpu.fpu, NULL);
	t->regs_dirty = t->sregs_dirty = t->fpu_dirty = false;
	t->resumed = false;
	/* Continuing from a breakpoint first steps past it with nothing planted. */
	t->step_over = t->how == GDB_RESUME_CONTINUE && breakpoint_at(t, t->cpu.regs.rip);
	t->stepping = t->how == GDB_RESUME_STEP || t->step_over;
	if (!t->stepping)
		plant_all(t);
	return set_debug(t);
}

/* A single step ended. After a step-over: plant and go on (false); else the step is gdb's. */
static bool step_done(struct gdb_kvm *t, struct gdb_stop *stop)
{
	t->stepping = false;
	if (t->step_over) {
		t->step_over = false;
		plant_all(t);
		set_debug(t);
		return false;
	}
	*stop = (struct gdb_stop){ .kind = GDB_STOP_STEP };
	return true;
}

static bool debug_exit(struct gdb_kvm *t, struct gdb_stop *stop)
{
	const struct kvm_debug_exit_arch *d = &t->vm->run->debug.arch;

	for (unsigned i = 0; i < GDB_KVM_DRS; i++) {
		const struct gdb_kvm_dr *dr = &t->drs[i];

		if (!(d->dr6 & (1u << i)) || !dr->used)
			continue;
		*stop = (struct gdb_stop){ .kind = dr->type == GDB_BP_HW ? GDB_STOP_BREAK : GDB_STOP_WATCH,
					   .bp_type = dr->type, .addr = dr->addr };
		t->stepping = t->step_over = false;
		return true;
	}
	/* A step KVM reports after we stopped stepping (kvm_pvm reports a step after an I/O
	 * exit one instruction late) is stale: ignore it. */
	if (!t->stepping)
		return false;
	return step_done(t, stop);
}

bool gdb_kvm_exit(struct gdb_kvm *t, struct gdb_stop *stop, bool *consumed)
{
	struct kvm_run *run = t->vm->run;
	gva_t at = run->s.regs.regs.rip - 1;
	struct gdb_kvm_plant *p;

	*consumed = false;
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		*consumed = true;
		return debug_exit(t, stop);
	case KVM_EXIT_HLT:
		p = plant_at(t, at);
		if (!p || !p->planted)
			return false; /* the guest's own hlt: it ends */
		/* Our hlt ran: back to the breakpoint address, as if it had not. */
		*consumed = true;
		run->s.regs.regs.rip = at;
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_BREAK, .bp_type = GDB_BP_SW, .addr = at };
		return true;
	default:
		return false;
	}
}

/* The step that executed a port I/O instruction ends when the I/O is complete: report it
 * then, on every host alike (kvm_pvm would report it one instruction late). */
bool gdb_kvm_io_step(struct gdb_kvm *t, struct gdb_stop *stop)
{
	if (!t->stepping)
		return false;
	complete_io(t);
	return step_done(t, stop);
}

void gdb_kvm_release(struct gdb_kvm *t)
{
	static const uint64_t none[GDB_KVM_DRS];
	struct kvm_guest_debug dbg;

	unplant_all(t);
	memset(t->plants, 0, sizeof(t->plants));
	memset(t->drs, 0, sizeof(t->drs));
	t->stepping = t->step_over = false;
	kvm_guest_debug_init(&dbg, 0, none, 0);
	vcpu_ioctl(t->vm, KVM_SET_GUEST_DEBUG, &dbg, NULL);
}
