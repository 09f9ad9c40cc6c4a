/* The exit statuses of the kvmbox command, one list for every form of `kvmbox run` (one VM,
 * several VMs). The usage texts in cli/opts.c and cli/multi_opts.c and the man page
 * docs/kvmbox.1 describe them; keep the four in step. */
#ifndef KVMBOX_CLI_STATUS_H
#define KVMBOX_CLI_STATUS_H

enum exit_status {
	EXIT_OK = 0,
	EXIT_CHECK = 1,       /* hello check or guest assertion failed; several VMs: also a
			       * guest that exited with a non-zero status */
	EXIT_USAGE = 2,       /* bad options or image */
	EXIT_GUEST_FAULT = 3, /* triple fault, bad port or MMIO, failed entry, strict bad call */
	EXIT_TIMEOUT = 4,
	EXIT_UNSUPPORTED = 5, /* this host's KVM cannot run the mode */
	EXIT_HOST = 6,        /* KVM or the host failed */
	EXIT_DEADLOCK = 7,    /* several VMs: every remaining VM waited on a channel */
	EXIT_SIGNAL = 128,    /* + the signal that interrupted the run (SIGINT: 130) */
};

#endif
