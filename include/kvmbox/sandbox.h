/* The host process's own sandbox: once the VMs are created and loaded (and every file the
 * run writes is open), kvmbox_sandbox_enter() confines the process to what running them
 * needs. docs/security.md ("The process sandbox") lists every allowed call and why. */
#ifndef KVMBOX_SANDBOX_H
#define KVMBOX_SANDBOX_H

#include "kvmbox/kvmbox.h"
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

enum {
	/* A gdb stub serves a socket opened before the sandbox: also allow accept4, recvfrom,
	 * sendto, poll/ppoll, shutdown and setsockopt on existing descriptors (no socket,
	 * bind, listen or connect: nothing new reaches the network). */
	KVMBOX_SANDBOX_GDB = 1u << 0,
	/* Everything but the seccomp filter (no-new-privileges, no core dumps and no
	 * capabilities stay): for debugging kvmbox under strace-like tools. The caller says so
	 * loudly. */
	KVMBOX_SANDBOX_NO_SECCOMP = 1u << 1,
};

struct kvmbox_sandbox_config {
	struct kvmbox_vm *const *vms; /* every VM the process will run; their shares' */
	unsigned nvms;                /* descriptors become the only bases openat may use */
	unsigned flags;               /* KVMBOX_SANDBOX_* */
	/* NULL, or called with TRAP_CTX by the SIGSYS handler of a forbidden call, after its
	 * line on fd 2 and before the process ends: the caller's last chance to write out what
	 * it holds (console bytes: kvmbox_vm_console_pending), so that no VM's output is lost
	 * with the process. It runs in a signal handler: async-signal-safe calls only (write,
	 * poll), and nothing that may block for long. */
	void (*on_trap)(void *trap_ctx);
	void *trap_ctx;
};

/* Confine the calling process for good: PR_SET_NO_NEW_PRIVS, RLIMIT_CORE 0, every capability
 * dropped (root keeps uid 0 but is an ordinary owner for file permissions), then (unless
 * KVMBOX_SANDBOX_NO_SECCOMP) a seccomp filter that allows only the system calls running,
 * resetting and snapshotting CFG->vms need, with ioctl limited to the vCPU and VM requests
 * used after setup. Call after every VM is created and loaded and every output file is open,
 * before the first kvmbox_vm_run or kvmbox_sched_run; create no VM afterwards (the calls that
 * make one are not allowed). Any other system call made later (by any thread) writes one
 * line, "kvmbox: seccomp: forbidden system call N ...", on fd 2, calls CFG->on_trap, and ends
 * the process by SIGSYS (128+31 = 159 in a shell). Returns 0, or -errno with ERR set (nothing is confined
 * then, or only the first steps: the caller should not run the guests). */
int kvmbox_sandbox_enter(const struct kvmbox_sandbox_config *cfg, struct kvmbox_error *err);

KVMBOX_API_END

#endif
