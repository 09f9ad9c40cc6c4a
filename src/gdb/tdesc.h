/* Target descriptions for gdb, one per CPU mode, as data: the registers in gdb's numbering, where
 * each lives in KVM's register structures, and the XML gdb reads through qXfer:features:read.
 * One table drives both, so the numbers gdb uses and the bytes we send cannot disagree. */
#ifndef KVMBOX_GDB_TDESC_H
#define KVMBOX_GDB_TDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"

/* The vCPU state a target keeps while stopped: everything a register of any table lives in. */
struct gdb_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
};

enum gdb_reg_kind {
	GDB_REG_PLAIN, /* WIDTH bytes at OFF: zero-extended on read, truncated on write */
	GDB_REG_SEG,   /* the selector of the struct kvm_segment at OFF */
	GDB_REG_FTAG,  /* the x87 tag word, rebuilt from FXSAVE's abridged tag (fpu.ftwx) */
	GDB_REG_NONE,  /* not kept by KVM: reads as 0, writes are ignored */
};

/* One register as gdb numbers it (its index in the table) and describes it. */
struct gdb_reg {
	const char *name;
	const char *type;  /* a gdb tdesc type, predefined or defined by its feature */
	const char *group; /* "general", "float", "vector", "system" or NULL (gdb decides) */
	uint16_t bits;     /* size gdb expects */
	uint16_t off;      /* offsetof(struct gdb_cpu, ...) of the storage */
	uint8_t width;     /* bytes of storage (PLAIN); at most bits / 8 */
	uint8_t kind;      /* enum gdb_reg_kind */
};

/* A feature is a run of consecutive registers, optionally with the XML of its own types. */
struct gdb_feature {
	const char *name;  /* "org.gnu.gdb.i386.core", "org.kvmbox.x86.sys", ... */
	const char *types; /* XML type definitions (<flags>, <vector>, <union>) or "" */
	unsigned first, count;
};

struct gdb_tdesc {
	const char *arch; /* <architecture>: "i8086", "i386" or "i386:x86-64" */
	const struct gdb_reg *regs;
	unsigned nregs;
	const struct gdb_feature *features;
	unsigned nfeatures;
	unsigned pc;     /* gdb number of eip/rip */
	bool real_mode;  /* segment writes also set the base (selector * 16) */
};

/* The description for MODE: i8086 for real mode, i386 for protected and paged32, i386:x86-64
 * for long mode. NULL for KVMBOX_MODE_AUTO or an invalid mode. Static data: never freed. */
const struct gdb_tdesc *gdb_tdesc_for_mode(enum kvmbox_mode mode);

/* Bytes of register REGNO in gdb's packets, or 0 when REGNO is not in T. */
size_t gdb_tdesc_reg_size(const struct gdb_tdesc *t, unsigned regno);

/* Bytes of all registers together (the 'g' packet's payload, decoded). */
size_t gdb_tdesc_regs_size(const struct gdb_tdesc *t);

/* Write T's target.xml into BUF (LEN bytes, NUL-terminated when LEN > 0), snprintf-style:
 * returns the full length, which may exceed LEN - 1 (call with NULL, 0 to size a buffer). */
size_t gdb_tdesc_xml(const struct gdb_tdesc *t, char *buf, size_t len);

/* T's target.xml as gdb_tdesc_xml writes it, formatted once per process and shared. Returns 0
 * with the NUL-terminated text in *XML (static, read-only, never freed) and its length in *LEN;
 * -EINVAL when T is not a description of gdb_tdesc_for_mode; -ENOMEM when memory ran out at
 * the first call (for good). Safe to call from several threads. */
int gdb_tdesc_target_xml(const struct gdb_tdesc *t, const char **xml, size_t *len);

/* Copy register REGNO of CPU into BUF (gdb_tdesc_reg_size bytes, little-endian, as gdb wants
 * it). Returns that size, or -EINVAL when REGNO is not in T. */
int gdb_tdesc_reg_read(const struct gdb_tdesc *t, unsigned regno, const struct gdb_cpu *cpu,
		       uint8_t *buf);

/* Store BUF (gdb_tdesc_reg_size bytes) into register REGNO of CPU. A segment register outside
 * real mode can only be "written" with its current selector (the stub cannot reload the
 * descriptor behind it): any other value is -EPERM. Returns 0, or -EINVAL for a bad REGNO. */
int gdb_tdesc_reg_write(const struct gdb_tdesc *t, unsigned regno, struct gdb_cpu *cpu,
			const uint8_t *buf);

#endif
