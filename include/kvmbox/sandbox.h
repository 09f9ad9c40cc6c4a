/* The host process's own sandbox: once the VMs are created and loaded (and every file the
 * run writes is open), kvmbox_sandbox_enter() confines the process to what running them
 * needs. docs/security.md ("The process sandbox") lists every allowed call and why. */
#ifndef KVMBOX_SANDBOX_H
#define KVMBOX_SANDBOX_H

#include "kvmbox/kvmbox.h"
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

enum {
	/* Everything but the seccomp filter (no-new-privileges, no core dumps, no capabilities
	 * and Landlock stay): for debugging kvmbox under strace-like tools. The caller says so
	 * loudly. */
	KVMBOX_SANDBOX_NO_SECCOMP = 1u << 1,
	/* Do without Landlock, as on a kernel that has none: a share's opens are then kept in
	 * it only by the hypercalls' own checks, which a subverted process would not make (the
	 * filter, which cannot see a path, allows openat2 and openat). Required to enter the
	 * sandbox with a VM that has a share where kvmbox_sandbox_landlock_abi() is 0; the caller
	 * should say so. */
	KVMBOX_SANDBOX_NO_LANDLOCK = 1u << 2,
};

struct kvmbox_sandbox_config {
	struct kvmbox_vm *const *vms; /* every VM the process will run: their descriptors, */
	unsigned nvms;                /* shares and gdb servers are what the sandbox allows */
	unsigned flags;               /* KVMBOX_SANDBOX_* */
	/* NULL, or called with TRAP_CTX by the SIGSYS handler of a forbidden call, after its
	 * line on fd 2 and before the process ends: the caller's last chance to write out what
	 * it holds (console bytes: kvmbox_vm_console_pending), so that no VM's output is lost
	 * with the process. It runs in a signal handler: async-signal-safe calls only (write,
	 * poll), and nothing that may block for long. */
	void (*on_trap)(void *trap_ctx);
	void *trap_ctx;
};

/* The Landlock ABI version this kernel offers (1 for Linux 5.13, 7 for 6.15 and later), or 0
 * when it has none (older than 5.13, or the landlock LSM not enabled at boot). */
int kvmbox_sandbox_landlock_abi(void);

/* Confine the calling process for good: PR_SET_NO_NEW_PRIVS, RLIMIT_CORE 0, every capability
 * dropped (root keeps uid 0 but is an ordinary owner for file permissions), Landlock (unless
 * KVMBOX_SANDBOX_NO_LANDLOCK or the kernel has none) denying every file access but reading
 * and, in a read-write share, writing and creating regular files beneath each VM's share,
 * then (unless KVMBOX_SANDBOX_NO_SECCOMP) a seccomp filter that allows only the system calls
 * running, resetting and debugging CFG->vms need, ioctl only with each VM's requests on its
 * own descriptors.
 *
 * Call from the process's only thread (Landlock binds the calling thread and those it starts
 * later; -EBUSY otherwise) after every VM is created and loaded, every output file is open
 * and every reset point (kvmbox_vm_set_reset_point) is taken, before the first kvmbox_vm_run or
 * kvmbox_sched_run; create no VM, reset point or memory slot afterwards (the calls are not
 * allowed). Any other system call made later (by any thread) writes one line, "kvmbox:
 * seccomp: forbidden system call N ...", on fd 2, calls CFG->on_trap, and ends the process
 * by SIGSYS (128+31 = 159 in a shell). Returns 0, or -errno with ERR set: -EOPNOTSUPP when a
 * VM has a share, the kernel has no Landlock and KVMBOX_SANDBOX_NO_LANDLOCK is not given,
 * -EBUSY when another thread runs (nothing is confined then); other errors may leave the
 * first steps done (the caller should not run the guests). */
int kvmbox_sandbox_enter(const struct kvmbox_sandbox_config *cfg, struct kvmbox_error *err);

KVMBOX_API_END

#endif
