/* A fake target for the GDB stub's tests: an array as guest memory (with an unmapped hole), a
 * struct gdb_cpu as the register block, breakpoints recorded in a list, and a toy "execution"
 * (a step moves the pc by one byte, a continue goes to the next breakpoint) so that a real gdb
 * can hold a session with it. */
#ifndef KVMBOX_TESTS_GDB_FAKE_TARGET_H
#define KVMBOX_TESTS_GDB_FAKE_TARGET_H

#include "gdb/stub.h"

#define FAKE_MEM_SIZE 0x10000u    /* guest-virtual 0 .. 64 KiB is memory */
#define FAKE_HOLE 0x8000u         /* ... except this page, which is unmapped */
#define FAKE_HOLE_SIZE 0x1000u
#define FAKE_PC 0x1000u           /* where the vCPU "stands" at start */
#define FAKE_STRING_AT 0x2000u    /* FAKE_STRING is stored here */
#define FAKE_STRING "Hello, gdb!"
#define FAKE_MAX_BPS 16

struct fake_bp {
	enum gdb_bp_type type;
	gva_t addr;
	size_t len;
};

struct fake_target {
	const struct gdb_tdesc *tdesc;
	struct gdb_cpu cpu;
	uint8_t mem[FAKE_MEM_SIZE];
	unsigned bp_types;         /* GDB_BP_MASK bits it accepts */
	struct fake_bp bps[FAKE_MAX_BPS];
	unsigned nbps;
	unsigned resumes, steps, interrupts, detaches, kills;
	enum gdb_resume last_how;  /* of the last resume */
	struct gdb_stop stop;      /* what '?' reports */
};

/* Set T up for MODE with every breakpoint type, known registers (eax/rax 42, pc FAKE_PC, cr0
 * with PE (and PG/PAE/LME in long mode)) and memory holding a byte pattern and FAKE_STRING. */
void fake_target_init(struct fake_target *t, enum kvmbox_mode mode);

/* The ops that drive a struct fake_target (the ctx). */
extern const struct gdb_target_ops fake_target_ops;

/* Toy execution after ops->resume (HOW: usually t->last_how): a step advances the pc by 1
 * (GDB_STOP_STEP); a continue "writes" (increments) the first byte of the first write/access
 * watchpoint and stops there (GDB_STOP_WATCH), else moves to the lowest execution breakpoint
 * above the pc (GDB_STOP_BREAK), else ends the guest (GDB_STOP_EXITED, status 0). Fills STOP
 * and updates T. */
void fake_target_run(struct fake_target *t, enum gdb_resume how, struct gdb_stop *stop);

/* The pc as a number. */
uint64_t fake_target_pc(const struct fake_target *t);

#endif
