/* The GDB remote stub's command layer: one object per gdb connection, turning packets into calls
 * of an abstract target (struct gdb_target_ops) and target stops into stop replies. It knows
 * nothing of KVM's run loop or of sockets: bytes go in with gdb_stub_feed, replies come out of
 * gdb_stub_output, and whoever runs the vCPU reports stops with gdb_stub_stopped. */
#ifndef KVMBOX_GDB_STUB_H
#define KVMBOX_GDB_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "gdb/tdesc.h"
#include "base/addr.h"

/* Breakpoint kinds, numbered as in the Z/z packets. */
enum gdb_bp_type {
	GDB_BP_SW = 0,     /* Z0: software breakpoint */
	GDB_BP_HW = 1,     /* Z1: hardware (execution) breakpoint */
	GDB_BP_WRITE = 2,  /* Z2: write watchpoint */
	GDB_BP_READ = 3,   /* Z3: read watchpoint */
	GDB_BP_ACCESS = 4, /* Z4: access watchpoint */
};
#define GDB_BP_TYPES 5
#define GDB_BP_MASK(type) (1u << (type))

enum gdb_resume { GDB_RESUME_CONTINUE, GDB_RESUME_STEP };

/* Why the target stopped; gdb_stub_stopped turns it into a stop reply. */
enum gdb_stop_kind {
	GDB_STOP_STEP,      /* a single step ended (or the vCPU is stopped at start): T05 */
	GDB_STOP_INTERRUPT, /* stopped after gdb's Ctrl-C: T02 (SIGINT) */
	GDB_STOP_BREAK,     /* a breakpoint of type bp_type at addr: T05 swbreak:/hwbreak: */
	GDB_STOP_WATCH,     /* a watchpoint of type bp_type hit data address addr: T05 watch: */
	GDB_STOP_EXCEPTION, /* a guest exception, vector in code: T with SIGSEGV/SIGILL/SIGFPE/... */
	GDB_STOP_EXITED,    /* the guest ended normally, status in code: W (session over) */
	GDB_STOP_KILLED,    /* the guest was ended by a fault, vector in code: X (session over) */
};

struct gdb_stop {
	enum gdb_stop_kind kind;
	enum gdb_bp_type bp_type; /* BREAK, WATCH */
	gva_t addr;               /* BREAK: the breakpoint; WATCH: the data address */
	unsigned code;            /* EXCEPTION, KILLED: x86 vector; EXITED: exit status */
};

/* What a target provides. CTX is the target's own object, passed back unchanged. Every call
 * happens while the target is stopped, except interrupt. Addresses are guest-virtual: the target
 * translates them the way the CPU would in its current mode. A target should keep its registers
 * cached while stopped: g/G call read_reg/write_reg once per register. */
struct gdb_target_ops {
	/* Register REGNO in the numbering of the stub's description: fill gdb_tdesc_reg_size bytes
	 * of BUF (read) or store them (write). 0, -ENOENT when unavailable, or another -errno. */
	int (*read_reg)(void *ctx, unsigned regno, uint8_t *buf);
	int (*write_reg)(void *ctx, unsigned regno, const uint8_t *buf);
	/* LEN bytes at ADDR, all or nothing: 0 or -EFAULT (any byte unmapped or outside memory).
	 * The stub never asks for a range crossing a 4 KiB page boundary. */
	int (*read_mem)(void *ctx, gva_t addr, void *buf, size_t len);
	int (*write_mem)(void *ctx, gva_t addr, const void *buf, size_t len);
	/* Which enum gdb_bp_type the target can set (GDB_BP_MASK bits); asked once, for
	 * qSupported. May be NULL: every type is tried. */
	unsigned (*bp_types)(void *ctx);
	/* Insert or remove a breakpoint of TYPE over LEN bytes at ADDR (LEN is gdb's "kind": 1
	 * for an x86 software breakpoint, the watched length for watchpoints). 0, -ENOTSUP when
	 * the target cannot, -ENOSPC when out of slots, or another -errno. */
	int (*insert_bp)(void *ctx, enum gdb_bp_type type, gva_t addr, size_t len);
	int (*remove_bp)(void *ctx, enum gdb_bp_type type, gva_t addr, size_t len);
	/* Let the vCPU run (or execute one instruction). Returns at once; the run loop calls
	 * gdb_stub_stopped when the vCPU stops again. 0 or -errno. */
	int (*resume)(void *ctx, enum gdb_resume how);
	/* Ctrl-C while running: make the vCPU stop soon (then gdb_stub_stopped, GDB_STOP_INTERRUPT).
	 * May be called from the thread polling the connection while the vCPU runs. */
	void (*interrupt)(void *ctx);
	/* Where the target stands now, for the '?' packet. */
	void (*stop_reason)(void *ctx, struct gdb_stop *stop);
	/* gdb detached (after the stub removed its breakpoints: the guest runs on freely) or
	 * killed the guest. The session is over after either. May be NULL. */
	void (*detach)(void *ctx);
	void (*kill)(void *ctx);
};

enum gdb_stub_state {
	GDB_STUB_STOPPED, /* the target is stopped; gdb sends commands */
	GDB_STUB_RUNNING, /* resumed; waiting for gdb_stub_stopped (or Ctrl-C) */
	GDB_STUB_CLOSED,  /* detach, kill or guest exit: drop the connection */
};

struct gdb_stub;

/* A stub for one connection to a target described by TDESC (gdb_tdesc_for_mode), driven through
 * OPS with CTX. OPS, CTX and TDESC must outlive the stub. The target is taken to be stopped.
 * Returns 0 and *OUT, -ENOMEM, or -EINVAL for a TDESC not of gdb_tdesc_for_mode. */
int gdb_stub_create(const struct gdb_target_ops *ops, void *ctx, const struct gdb_tdesc *tdesc,
		    struct gdb_stub **out);

/* Free the stub (breakpoints still inserted stay with the target). NULL is fine. */
void gdb_stub_destroy(struct gdb_stub *s);

/* Take up to LEN bytes from gdb, in any chunking: acknowledges, executes complete packets,
 * queues the replies for gdb_stub_output. Stops early when the output queue has no room for
 * another reply: drain it and feed the rest (the return value says how many bytes were
 * taken). Packets that arrive while the target runs are dropped (gdb does not send any in
 * all-stop mode); 0x03 then calls ops->interrupt. Never fails. */
size_t gdb_stub_feed(struct gdb_stub *s, const void *buf, size_t len);

/* The target stopped: queue the stop reply for STOP (if gdb waits for one) and return to
 * GDB_STUB_STOPPED, or to GDB_STUB_CLOSED for EXITED/KILLED. */
void gdb_stub_stopped(struct gdb_stub *s, const struct gdb_stop *stop);

/* Bytes queued for gdb: *DATA points at them until the next call on S. Returns their count. */
size_t gdb_stub_output(const struct gdb_stub *s, const uint8_t **data);

/* N bytes of the queue were sent: drop them. */
void gdb_stub_consume(struct gdb_stub *s, size_t n);

enum gdb_stub_state gdb_stub_state(const struct gdb_stub *s);

/* Counters for logs and tests. */
struct gdb_stub_stats {
	unsigned long packets;   /* well-formed packets executed */
	unsigned long bad;       /* refused packets (nacked) */
	unsigned long dropped;   /* packets that arrived while the target ran */
	unsigned long resent;    /* replies sent again after a '-' */
	unsigned long overflow;  /* replies that did not fit (a bug if ever non-zero) */
};
void gdb_stub_get_stats(const struct gdb_stub *s, struct gdb_stub_stats *st);

/* gdb's signal number for a stop on x86 exception VECTOR: SIGFPE for #DE/#MF/#XM, SIGTRAP for
 * #DB/#BP, SIGILL for #UD, SIGBUS for #AC, SIGSEGV for everything else. */
unsigned gdb_signal_for_vector(unsigned vector);

#endif
