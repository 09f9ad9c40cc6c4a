/* The exit statuses of the kvmbox command: one scheme for every form of `kvmbox run` (one VM
 * or several) and `kvmbox doctor`. A guest's own HC_exit status and kvmbox's verdicts never
 * collide: the guest owns 0, 1 and 3..63; kvmbox owns 2 (bad input, nothing ran) and 64..79.
 * The usage text (cli/opts.c), README.md and docs/kvmbox.1 carry the same table. */
#ifndef KVMBOX_CLI_STATUS_H
#define KVMBOX_CLI_STATUS_H

enum exit_status {
	EXIT_OK = 0,            /* the guest halted or exited 0 (built-in hello: checks passed) */
	EXIT_USAGE = 2,         /* bad input (options, image, paths, schedule): nothing ran */
	EXIT_GUEST_MAX = 63,    /* 1 and 3..63: the guest's own status (HC_exit, main), unchanged */
	EXIT_CHECK = 64,        /* a guest assertion or the built-in hello's check failed */
	EXIT_GUEST_FAULT = 65,  /* triple fault, bad port or MMIO, failed entry, strict bad call */
	EXIT_TIMEOUT = 66,      /* the guest still ran at --timeout */
	EXIT_DEADLOCK = 67,     /* several VMs: every remaining VM waited on a channel */
	EXIT_GUEST_RANGE = 68,  /* the guest exited with 2 or 64..255 (kvmbox's): stderr says which */
	EXIT_NO_KVM = 69,       /* no usable KVM on this host (kvmbox doctor says why) */
	EXIT_UNSUPPORTED = 70,  /* this host's KVM cannot run the mode; or --sandbox with a share where
				 * the kernel has no Landlock to confine it */
	EXIT_HOST = 71,         /* a KVM call or the host failed */
	EXIT_SIGNAL = 128,      /* + the signal that ended the run (SIGINT: 130, SIGPIPE: 141) */
};

/* The exit status that reports a guest's HC_exit(STATUS): STATUS itself when the guest owns
 * it, else EXIT_GUEST_RANGE. */
static inline int exit_status_of_guest(int status)
{
	return status >= 0 && status <= EXIT_GUEST_MAX && status != EXIT_USAGE ? status
									       : EXIT_GUEST_RANGE;
}

/* Is S one of kvmbox's verdicts about a run (rather than the guest's own status)? */
static inline int exit_status_is_verdict(int s)
{
	return s > EXIT_GUEST_MAX;
}

#endif
