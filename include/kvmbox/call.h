/* Calls into a guest and out of it: the host calls a function the guest exports by name
 * (KVMBOX_EXPORT in the SDK) with integer and buffer arguments, as many times as it likes,
 * each call isolated from the last if it asks; the guest calls functions the embedder
 * registers by name. docs/embedding.md shows an embedder, docs/abi.md the protocol. Every
 * call returns 0 or a negative errno, with one line in ERR (which may be NULL) saying what
 * went wrong. */
#ifndef KVMBOX_CALL_H
#define KVMBOX_CALL_H

#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

/* ---- Guest functions the host calls ------------------------------------------------- */

/* How many functions VM's image exports (0 before kvmbox_vm_load and for a flat image). A
 * snapshot keeps them: a VM made from one, or forked, has its saver's. */
unsigned kvmbox_vm_exports(const struct kvmbox_vm *vm);

/* Export I (0 <= I < kvmbox_vm_exports(VM)) into *EXP; EXP->name stays valid until the VM is
 * destroyed. Returns 0, or -ENOENT for I out of range. */
int kvmbox_vm_export(const struct kvmbox_vm *vm, unsigned i, struct kvmbox_export *exp);

/* What an argument of kvmbox_vm_call is. */
enum kvmbox_call_arg_kind {
	KVMBOX_ARG_INT = 0, /* VALUE, passed as one machine word (truncated to 32 bits outside
			     * long mode) */
	KVMBOX_ARG_IN,      /* BUF[0..LEN) copied into the guest's call area; the guest gets its
			     * address (one argument: pass the length as an INT of its own) */
	KVMBOX_ARG_OUT,     /* LEN zeroed bytes in the call area, copied back into BUF after the
			     * call returns */
	KVMBOX_ARG_INOUT,   /* copied in, and back out after the call returns */
};

struct kvmbox_call_arg {
	enum kvmbox_call_arg_kind kind;
	uint64_t value; /* INT */
	void *buf;      /* IN (only read), OUT, INOUT */
	size_t len;
};

/* The arguments of one call, in the guest's order: at most KVMBOX_CALL_ARGS_MAX (System V's
 * six argument registers in long mode; the same bound in the stack-passing modes). The
 * buffers, each 16-byte aligned, together at most KVMBOX_CALL_BUF_MAX bytes in the 32- and
 * 64-bit modes and KVMBOX_CALL_BUF_MAX_REAL in real mode, where the call area shares the
 * 64 KiB of the stack segment with the image (docs/abi.md, "Calls"). */
#define KVMBOX_CALL_ARGS_MAX 6
#define KVMBOX_CALL_BUF_MAX (256u << 10)
#define KVMBOX_CALL_BUF_MAX_REAL (8u << 10)

enum {
	/* After the call, whatever its end (a return, a fault, a timeout), put the VM back to
	 * its reset point (kvmbox_vm_reset), so that no call sees what another one did. The
	 * first such call takes the reset point itself when the VM has none: the state after
	 * the guest's main, or before any run, with the whole vCPU either way (the FPU/SSE
	 * registers, MSRs and debug registers come back at each reset, not only memory and the
	 * general registers). A point the embedder took before any run keeps the registers
	 * alone (kvmbox_vm_set_reset_point): faster, but a call can then find what another
	 * left in that other state. */
	KVMBOX_CALL_RESET = 1u << 0,
};

struct kvmbox_call_opts {
	unsigned flags;       /* KVMBOX_CALL_* */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: none. A call still running then ends with
			       * KVMBOX_STOP_TIMEOUT */
	const volatile int *cancel; /* as kvmbox_run_opts.cancel */
};

/* Call the function NAME the guest exports with ARGS[0..NARGS) and wait for it to return.
 * The VM must be loaded and stopped at a clean point: never run, or after a run that ended in
 * a halt or an exit (the guest's main has returned), or after a call that returned, or just
 * reset. The call enters the function with the mode's C convention (long mode: rdi, rsi, rdx,
 * rcx, r8, r9 and rsp + 8 16-byte aligned; the 32-bit modes and real mode, as gcc -m32 and
 * -m16 compile: 4-byte slots on the stack above a 4-byte return address), on a stack below
 * the buffers of the call area (below the initial stack top), with a return address that ends
 * the call in one exit. Console output, hypercalls and host functions work as in a run.
 * Returns 0 when the call ran, with RES saying how it ended: KVMBOX_STOP_RETURNED with
 * RES->value the function's return value (rax in long mode; eax, sign-extended, in the
 * others: kvmbox_vm_regs(VM)->rdx holds the high half of a 64-bit one) and the OUT buffers
 * filled; or any stop of kvmbox_vm_run (a fault's RES->msg names the function and line).
 * After a stop other than RETURNED, HALT or EXIT the VM must be reset before the next call
 * (KVMBOX_CALL_RESET does it). Returns a negative errno, with ERR saying why and nothing
 * run, for -ENOENT (no export NAME), -EINVAL (NARGS > KVMBOX_CALL_ARGS_MAX, an unknown kind,
 * a NULL buffer, a real-mode function above 0xffff), -E2BIG (the buffers exceed the call
 * area), -ENOEXEC (nothing loaded), -ESRCH (not at a clean point: reset it), or the errno of
 * a failing reset (the VM is then stopped). OPTS may be NULL. */
int kvmbox_vm_call(struct kvmbox_vm *vm, const char *name, const struct kvmbox_call_arg *args,
		   unsigned nargs, const struct kvmbox_call_opts *opts, struct kvmbox_result *res,
		   struct kvmbox_error *err);

/* kvmbox_vm_call of the function at the guest-virtual address ADDR (a flat image's, which
 * has no exports); nothing checks that code is there. */
int kvmbox_vm_call_addr(struct kvmbox_vm *vm, kvmbox_gva_t addr, const struct kvmbox_call_arg *args,
			unsigned nargs, const struct kvmbox_call_opts *opts, struct kvmbox_result *res,
			struct kvmbox_error *err);

/* ---- Host functions the guest calls --------------------------------------------------- */

/* One call of a host function, valid only while the function runs. */
struct kvmbox_host_call;

/* A host function: runs in the thread that runs the VM, inside the VM's run, under whatever
 * confines the process (docs/security.md: under the command's seccomp filter only the
 * system calls of the run phase are allowed; any other kills the process). It reads its
 * arguments and the guest's memory through the accessors below, returns the value the guest
 * gets, and must not run, reset, save or destroy the VM. */
typedef int64_t (*kvmbox_host_fn)(struct kvmbox_host_call *hc, void *ctx);

/* Register FN (with CTX) as the host function NAME of VM, which the guest calls with the SDK's
 * kvmbox_host_call(NAME, ...) (KVMBOX_HC_HOST_CALL of kvmbox/abi.h), one exit a call. NAME is
 * copied: 1 to KVMBOX_HOST_FN_NAME_MAX (63) letters, digits, '_', '.' or '$'. At most
 * KVMBOX_HOST_FNS_MAX a VM; they survive resets. Returns 0, -EINVAL (bad name or NULL FN),
 * -EEXIST (NAME already registered), -ENOSPC (too many) or -ENOMEM. */
#define KVMBOX_HOST_FNS_MAX 256
int kvmbox_vm_host_fn(struct kvmbox_vm *vm, const char *name, kvmbox_host_fn fn, void *ctx,
		      struct kvmbox_error *err);

/* The VM the call came from (to read its registers or statistics; not to run it). */
struct kvmbox_vm *kvmbox_host_call_vm(const struct kvmbox_host_call *hc);
/* The host function's name, as the guest gave it. */
const char *kvmbox_host_call_name(const struct kvmbox_host_call *hc);
/* How many arguments the guest passed (0 .. 6). */
unsigned kvmbox_host_call_nargs(const struct kvmbox_host_call *hc);
/* Argument I as the guest passed it (a guest address is an integer here); 0 for I out of range. */
uint64_t kvmbox_host_call_arg(const struct kvmbox_host_call *hc, unsigned i);
/* Copy LEN bytes from (or to) the guest-virtual address GVA, translated with the guest's own
 * paging and checked against guest memory, all or nothing. Returns 0 or -EFAULT (a bad
 * address: return an error to the guest, the host is not at risk). */
int kvmbox_host_call_read(const struct kvmbox_host_call *hc, kvmbox_gva_t gva, void *buf, size_t len);
int kvmbox_host_call_write(struct kvmbox_host_call *hc, kvmbox_gva_t gva, const void *buf, size_t len);
/* Copy the NUL-terminated string at GVA into BUF (at most SIZE bytes with its NUL). Returns its
 * length, -EFAULT or -ENAMETOOLONG (no NUL within SIZE bytes). */
int kvmbox_host_call_read_str(const struct kvmbox_host_call *hc, kvmbox_gva_t gva, char *buf,
			      size_t size);

KVMBOX_API_END

#endif
