/* Least privilege for `kvmbox run`: inherited descriptors closed, the process sandbox
 * (include/kvmbox/sandbox.h) entered and, when asked, root dropped to --user, after the VMs
 * are set up and before the first guest instruction, in every run style. */
#ifndef KVMBOX_CLI_HARDEN_H
#define KVMBOX_CLI_HARDEN_H

#include "kvmbox/kvmbox.h"
#include "opts.h"

/* Close every descriptor above 2: kvmbox has opened none yet when main calls this, so all
 * of them are inherited (a parent's forgotten pipe or file must not reach a guest's run). */
void cli_close_inherited(void);

/* The --sandbox profile's default share caps (docs/security.md): per file, and for the whole
 * share the bytes its files may grow by and the files the guest may create. */
#define SANDBOX_FILE_SIZE_MAX (64ull << 20)
#define SANDBOX_SHARE_BYTES_MAX (256ull << 20)
#define SANDBOX_SHARE_FILES_MAX 256u

/* Apply V's share caps and the run's profile (--sandbox: no host addresses, the share caps
 * above unless V gives its own) to CFG, which the caller has filled with the rest. */
void cli_apply_profile(const struct run_opts *o, const struct vm_opts *v,
		       struct kvmbox_vm_config *cfg);

/* Between setup and the first run: without Landlock, refuse a share under --sandbox or say
 * that one is not confined by it; say once that root is not needed (started as root without
 * --user, when stderr is a terminal or with -v), drop to O->user (root only; its uid, gid
 * and supplementary groups), then kvmbox_sandbox_enter for VMS[0..N)
 * (KVMBOX_SANDBOX_NO_SECCOMP for --no-seccomp, which says so on stderr) with ON_TRAP(TRAP_CTX),
 * which writes out the run's console output should a forbidden call end the process. Returns
 * EXIT_OK, or a status after one line on stderr (EXIT_USAGE: bad --user; EXIT_UNSUPPORTED:
 * --sandbox with a share and no Landlock; EXIT_HOST: the sandbox failed). */
int cli_harden(const struct run_opts *o, struct kvmbox_vm *const *vms, unsigned n,
	       void (*on_trap)(void *), void *trap_ctx);

#endif
