/* The fake target of the GDB stub's tests (see gdb_fake_target.h). */
#include <errno.h>
#include <string.h>
#include "gdb_fake_target.h"

#define CR0_PE (1u << 0)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

void fake_target_init(struct fake_target *t, enum kvmbox_mode mode)
{
	memset(t, 0, sizeof(*t));
	t->tdesc = gdb_tdesc_for_mode(mode);
	t->bp_types = (1u << GDB_BP_TYPES) - 1;
	for (unsigned i = 0; i < FAKE_MEM_SIZE; i++)
		t->mem[i] = (uint8_t)(i * 7 + 1);
	memcpy(t->mem + FAKE_STRING_AT, FAKE_STRING, sizeof(FAKE_STRING));
	t->cpu.regs.rax = 42;
	t->cpu.regs.rbx = 0x1122334455667788ull;
	t->cpu.regs.rsp = 0x7000;
	t->cpu.regs.rip = FAKE_PC;
	t->cpu.regs.rflags = 0x2;
	t->cpu.sregs.cs.selector = mode == KVMBOX_MODE_REAL ? 0 : 0x8;
	t->cpu.sregs.ds.selector = mode == KVMBOX_MODE_REAL ? 0 : 0x10;
	t->cpu.fpu.fcw = 0x37f;
	t->cpu.fpu.mxcsr = 0x1f80;
	if (mode != KVMBOX_MODE_REAL)
		t->cpu.sregs.cr0 = CR0_PE;
	if (mode == KVMBOX_MODE_PAGED32 || mode == KVMBOX_MODE_LONG)
		t->cpu.sregs.cr0 |= CR0_PG;
	if (mode == KVMBOX_MODE_LONG) {
		t->cpu.sregs.cr4 = CR4_PAE;
		t->cpu.sregs.efer = EFER_LME | EFER_LMA;
	}
	t->stop.kind = GDB_STOP_STEP;
}

static bool mapped(gva_t addr, size_t len)
{
	return addr < FAKE_MEM_SIZE && len <= FAKE_MEM_SIZE - addr &&
	       (addr + len <= FAKE_HOLE || addr >= FAKE_HOLE + FAKE_HOLE_SIZE);
}

static int read_reg(void *ctx, unsigned regno, uint8_t *buf)
{
	struct fake_target *t = ctx;
	int rc = gdb_tdesc_reg_read(t->tdesc, regno, &t->cpu, buf);

	return rc < 0 ? rc : 0;
}

static int write_reg(void *ctx, unsigned regno, const uint8_t *buf)
{
	struct fake_target *t = ctx;

	return gdb_tdesc_reg_write(t->tdesc, regno, &t->cpu, buf);
}

static int read_mem(void *ctx, gva_t addr, void *buf, size_t len)
{
	struct fake_target *t = ctx;

	if (!mapped(addr, len))
		return -EFAULT;
	memcpy(buf, t->mem + addr, len);
	return 0;
}

static int write_mem(void *ctx, gva_t addr, const void *buf, size_t len)
{
	struct fake_target *t = ctx;

	if (!mapped(addr, len))
		return -EFAULT;
	memcpy(t->mem + addr, buf, len);
	return 0;
}

static unsigned bp_types(void *ctx)
{
	return ((struct fake_target *)ctx)->bp_types;
}

static int insert_bp(void *ctx, enum gdb_bp_type type, gva_t addr, size_t len)
{
	struct fake_target *t = ctx;

	if (!(t->bp_types & GDB_BP_MASK(type)))
		return -ENOTSUP;
	if (t->nbps == FAKE_MAX_BPS)
		return -ENOSPC;
	t->bps[t->nbps++] = (struct fake_bp){ type, addr, len };
	return 0;
}

static int remove_bp(void *ctx, enum gdb_bp_type type, gva_t addr, size_t len)
{
	struct fake_target *t = ctx;

	for (unsigned i = 0; i < t->nbps; i++) {
		if (t->bps[i].type == type && t->bps[i].addr == addr && t->bps[i].len == len) {
			t->bps[i] = t->bps[--t->nbps];
			return 0;
		}
	}
	return -ENOENT;
}

static int resume(void *ctx, enum gdb_resume how)
{
	struct fake_target *t = ctx;

	t->resumes++;
	t->last_how = how;
	t->steps += how == GDB_RESUME_STEP;
	return 0;
}

static void interrupt(void *ctx)
{
	((struct fake_target *)ctx)->interrupts++;
}

static void stop_reason(void *ctx, struct gdb_stop *stop)
{
	*stop = ((struct fake_target *)ctx)->stop;
}

static void detach(void *ctx)
{
	((struct fake_target *)ctx)->detaches++;
}

static void kill_target(void *ctx)
{
	((struct fake_target *)ctx)->kills++;
}

const struct gdb_target_ops fake_target_ops = {
	.read_reg = read_reg, .write_reg = write_reg, .read_mem = read_mem, .write_mem = write_mem,
	.bp_types = bp_types, .insert_bp = insert_bp, .remove_bp = remove_bp, .resume = resume,
	.interrupt = interrupt, .stop_reason = stop_reason, .detach = detach, .kill = kill_target,
};

uint64_t fake_target_pc(const struct fake_target *t)
{
	return t->cpu.regs.rip;
}

/* The first write or access watchpoint, as if the guest had just written there. */
static const struct fake_bp *watch_hit(struct fake_target *t)
{
	for (unsigned i = 0; i < t->nbps; i++) {
		const struct fake_bp *b = &t->bps[i];

		if ((b->type == GDB_BP_WRITE || b->type == GDB_BP_ACCESS) && mapped(b->addr, 1)) {
			t->mem[b->addr]++;
			return b;
		}
	}
	return NULL;
}

/* The lowest execution breakpoint above the pc. */
static const struct fake_bp *next_break(const struct fake_target *t)
{
	const struct fake_bp *next = NULL;

	for (unsigned i = 0; i < t->nbps; i++) {
		const struct fake_bp *b = &t->bps[i];

		if ((b->type == GDB_BP_SW || b->type == GDB_BP_HW) && b->addr > t->cpu.regs.rip &&
		    (!next || b->addr < next->addr))
			next = b;
	}
	return next;
}

void fake_target_run(struct fake_target *t, enum gdb_resume how, struct gdb_stop *stop)
{
	const struct fake_bp *b;

	memset(stop, 0, sizeof(*stop));
	if (how == GDB_RESUME_STEP) {
		t->cpu.regs.rip++;
		stop->kind = GDB_STOP_STEP;
	} else if ((b = watch_hit(t))) {
		t->cpu.regs.rip++;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_WATCH, .bp_type = b->type, .addr = b->addr };
	} else if ((b = next_break(t))) {
		t->cpu.regs.rip = b->addr;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_BREAK, .bp_type = b->type, .addr = b->addr };
	} else {
		stop->kind = GDB_STOP_EXITED;
	}
	t->stop = *stop;
}
