/* The exit statuses of the kvmbox command: one scheme for every form of `kvmbox run` (one VM
 * or several) and `kvmbox doctor`'s "no usable KVM". This file is their one home: the enum,
 * the usage text (`kvmbox help`, cli/status.c), README.md's table and docs/kvmbox.1's EXIT
 * STATUS section all come from EXIT_STATUSES below; tests/docs/statuses.py writes the two
 * documents from it (--write) and fails `make check` when they differ. */
#ifndef KVMBOX_CLI_STATUS_H
#define KVMBOX_CLI_STATUS_H

#include <stdio.h>

/* Why two ranges: a script must tell "the guest said 3" from "kvmbox stopped the guest", so
 * a guest's own HC_exit status and kvmbox's verdicts never collide. The guest keeps 0, 1 and
 * 3..63; kvmbox takes 2 (bad input, as most commands use it) and 64..79. Words in
 * `backticks` are code: each document sets them as code. */
#define EXIT_STATUS_INTRO                                                                     \
	"The guest owns 0, 1 and 3-63; kvmbox owns 2 and 64-79, so a guest's `HC_exit(N)` "  \
	"never reads as one of kvmbox's verdicts. An SDK guest's `main` returning N is "      \
	"`HC_exit(N)`, so `return 1` is not a success."

/* X(NAME, VALUE, LABEL, MEANING), in the order the documents list them. LABEL is how a
 * table shows the row (a range, "128+N"); MEANING is one sentence, the same everywhere. */
#define EXIT_STATUSES(X)                                                                      \
	X(EXIT_OK, 0, "0",                                                                    \
	  "the guest halted, called `HC_exit(0)` or its `main` returned 0 (the built-in "    \
	  "hello guest also passed its checks: rax = 42, memory[0x400] = 42); several VMs: "  \
	  "every VM did, or ran until `--duration`")                                          \
	X(EXIT_GUEST_MAX, 63, "1, 3-63",                                                      \
	  "the guest's own status, unchanged: `HC_exit(N)` or N returned by its `main` "     \
	  "(several VMs: the first VM's status that is not 0)")                               \
	X(EXIT_USAGE, 2, "2",                                                                 \
	  "bad input, refused before anything ran: options, an unreadable, malformed or "    \
	  "misfitting image or one that names another mode, a missing share directory, an "   \
	  "output file that cannot be opened, two outputs of different kinds naming one "     \
	  "file, a schedule naming a VM that does not exist")                                 \
	X(EXIT_CHECK, 64, "64",                                                               \
	  "a guest assertion (`GUEST_ASSERT`) or a check of the built-in hello guest failed") \
	X(EXIT_GUEST_FAULT, 65, "65",                                                         \
	  "guest fault: an exception (stderr names it, with the function and source line), " \
	  "a triple fault, MMIO to unbacked memory, I/O to a port nobody serves, a failed "   \
	  "entry, a KVM internal error, a bad hypercall under `--strict`")                    \
	X(EXIT_TIMEOUT, 66, "66", "timeout: the guest still ran at `--timeout`")              \
	X(EXIT_DEADLOCK, 67, "67",                                                            \
	  "several VMs: deadlock, every remaining VM waited on a channel")                    \
	X(EXIT_GUEST_RANGE, 68, "68",                                                         \
	  "the guest's N (`HC_exit` or `main`) is 2, 64-255 or negative, numbers kvmbox "    \
	  "owns (stderr gives N)")                                                            \
	X(EXIT_NO_KVM, 69, "69",                                                              \
	  "no usable KVM on this host (`kvmbox doctor` exits with it too, and says why)")     \
	X(EXIT_UNSUPPORTED, 70, "70",                                                         \
	  "this host's KVM cannot run the requested mode, or `--sandbox` was given a share " \
	  "where the kernel has no Landlock to confine it")                                   \
	X(EXIT_HOST, 71, "71",                                                                \
	  "host error: a KVM call or the host failed, or an output file could not be "       \
	  "written in full (a full disk: stderr names the file)")                             \
	X(EXIT_SIGNAL, 128, "128+N",                                                          \
	  "ended by signal N: Ctrl-C 130, SIGTERM 143 (the VMs are stopped cleanly, their "  \
	  "output flushed, reports and `--stats-json` written); 141, quietly, when stdout "   \
	  "closes, as in `kvmbox run | head -1`; 159 (SIGSYS) when kvmbox itself made a "     \
	  "system call its filter forbids (the guests' output it held is written first)")

/* Several VMs: the run's status is the worst of these verdicts that any VM got (worst
 * first); with none of them, the first non-zero guest status (cli/multi.c). */
#define EXIT_WORST_FIRST(X) \
	X(EXIT_HOST) X(EXIT_GUEST_FAULT) X(EXIT_DEADLOCK) X(EXIT_TIMEOUT) X(EXIT_CHECK) X(EXIT_GUEST_RANGE)
/* ... in words: %s is the list of EXIT_WORST_FIRST's numbers. */
#define EXIT_WORST_RULE \
	"With several VMs the worst verdict any VM got wins, in this order: %s; else the first " \
	"non-zero guest status."

#define EXIT_STATUS_ENUM(name, value, label, meaning) name = value,
enum exit_status { EXIT_STATUSES(EXIT_STATUS_ENUM) };
#undef EXIT_STATUS_ENUM

/* Print the table of EXIT_STATUSES on OUT as `kvmbox help` shows it: a heading, one row per
 * status wrapped to the terminal's usual 80 columns, the several-VM rule. */
void cli_print_statuses(FILE *out);

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
