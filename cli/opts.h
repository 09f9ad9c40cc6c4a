/* The options of `kvmbox run`: one model for one VM and for several. Per-VM options (mode,
 * memory, image placement, share directory, limits, output) have one parser, spelled
 * `--KEY VALUE` on the command line and `KEY=VALUE` inside `--vm NAME=IMAGE,...`; run-wide
 * options (the scheduler, reports, --repeat) apply to the whole run. Parsing has no side
 * effects (no file is opened), so tests can call it; cli/inputs.c checks the files. */
#ifndef KVMBOX_CLI_OPTS_H
#define KVMBOX_CLI_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/sched.h"

/* VMs in one run: the scheduler numbers them with 16 bits (its picks); long before that the
 * host's open-file limit decides (two descriptors a VM: cli/multi.c raises the limit). */
#define RUN_MAX_VMS 65535u
#define VM_NAME_MAX 32
#define VM_WALKS_MAX 16 /* --walk addresses per VM */

/* One VM's options. */
struct vm_opts {
	char name[VM_NAME_MAX];
	const char *image;     /* NULL: the built-in hello guest */
	enum kvmbox_mode mode; /* AUTO: from the image */
	uint64_t mem;          /* 0: default */
	bool flat;             /* load given: IMAGE is a flat binary */
	uint64_t load;
	bool entry_set;
	uint64_t entry;        /* the load address unless entry_set */
	char *share;           /* share directory (":ro"/":rw" stripped), owned; NULL: none */
	bool share_ro;
	unsigned weight;       /* for --sched share (>= 1) */
	const char *out;       /* console file; NULL: stdout */
	double timeout;        /* seconds; 0: none */
	uint64_t file_size_max; /* longest file the guest may write in its share; 0: default */
	uint64_t share_bytes_max; /* most the share's files may grow by in all; 0: default */
	unsigned share_files_max; /* most files the guest may create in its share; 0: default */
	bool strict, regs, stats, no_coalesce;
	bool guard_null; /* --guard-null: KVMBOX_VM_GUARD_NULL */
	const char *gdb;       /* gdb server: "tcp:[HOST:]PORT" or "unix:PATH"; NULL: none */
	bool gdb_wait;         /* -S: the guest waits for gdb before its first instruction */
	uint64_t walk[VM_WALKS_MAX]; /* --walk GVA: translations printed when the run ends */
	unsigned nwalk;
	bool trace, explain;   /* --trace: KVM calls and exits; --explain: and why (implies trace) */
	const char *trace_file; /* the VM's log (trace, -v) to this file; NULL: stderr */
	unsigned count;        /* count=N: N copies, named NAME0 ... NAME{N-1} (N > 1); 0: one */
	const char *save;      /* --save FILE: the snapshot file (when the guest stops or asks) */
	const char *restore;   /* --restore FILE: the VM comes from this snapshot, not an image */
	char **args;           /* the guest's arguments after `--` (argv[1..]), borrowed */
	unsigned nargs;
};

/* A whole run: its VMs and the run-wide options. */
struct run_opts {
	struct vm_opts *vms;   /* nvms of them, each count=N expanded (malloc'd) */
	unsigned nvms;
	bool several;          /* --vm form (even with one --vm) */
	const char *sched_opt; /* the first scheduler-only option given (--sched ...), or NULL */
	enum kvmbox_sched_policy policy;
	const char *script_file; /* --sched script:FILE */
	double quantum_ms;     /* 0: default 10 */
	bool yield_on_io, show_ports;
	double duration;       /* seconds; 0: none */
	uint32_t chan_cap[KVMBOX_CHAN_MAX]; /* 0: default */
	const char *stats_json, *trace_out;
	uint64_t repeat;       /* >= 1 */
	int verbosity;         /* -v count */
	bool help, version;
	bool short_s;          /* -s given: it was protected mode in kvm-hello-world (said once) */
	bool no_seccomp;       /* --no-seccomp: run without the seccomp filter (debugging) */
	bool sandbox;          /* --sandbox: the profile for untrusted guests (docs/security.md) */
	const char *user;      /* --user USER: drop to USER after setup (when started as root) */
	struct vm_opts defaults; /* per-VM options given outside --vm */
	char **spec;           /* owned copies of the --vm arguments, nspec of them */
	unsigned nspec;
};

/* Parse ARGV (argv[0] is the program; an optional "run" follows it) into O, which the caller
 * allocates (it is large) and releases with run_opts_free whatever the result. Returns 0, or
 * -1 with ERR holding one line that says what is wrong. Resets getopt's state itself. */
int run_parse(int argc, char **argv, struct run_opts *o, char *err, size_t errlen);
void run_opts_free(struct run_opts *o);

/* Does this run need the scheduler (several VMs, or a scheduler-only option)? */
bool run_is_scheduled(const struct run_opts *o);

/* The end of one VM's options V of the run O (CMD, "kvmbox run", starts the messages of a
 * VM given without --vm; NULL: none, the caller prints its own):
 * the entry point defaults to the load address, and what only the whole set can tell is
 * checked (--entry without --load, a restored VM with an IMAGE, --load, --entry,
 * --guard-null or arguments, gdb under the scheduler). -1 with ERR set, or 0. */
int cli_vm_opts_done(const struct run_opts *o, struct vm_opts *v, const char *cmd, char *err,
		     size_t errlen);

/* The per-VM options, X(index, key, getopt has_arg): the long options of the command line
 * and the keys of --vm and vm_opt_set, from this one list. */
#define PER_VM_OPTIONS(X)                                                                     \
	X(0, "mode", required_argument) X(1, "mem", required_argument)                        \
	X(2, "load", required_argument) X(3, "entry", required_argument)                      \
	X(4, "share", required_argument) X(5, "weight", required_argument)                    \
	X(6, "out", required_argument) X(7, "timeout", required_argument)                     \
	X(8, "strict", no_argument) X(9, "regs", no_argument) X(10, "stats", no_argument)    \
	X(11, "no-coalesce", no_argument)                                                     \
	X(12, "walk", required_argument)                                                      \
	X(13, "trace", no_argument) X(14, "explain", no_argument)                             \
	X(15, "trace-file", required_argument)                                                \
	X(16, "file-size-max", required_argument) X(17, "gdb", required_argument)             \
	X(18, "guard-null", no_argument)                                                      \
	X(19, "share-bytes-max", required_argument) X(20, "share-files-max", required_argument) \
	X(21, "count", required_argument)                                                     \
	X(22, "save", required_argument) X(23, "restore", required_argument)

/* The gdb server of -s (and of -S without --gdb), as QEMU's: loopback port 1234. */
#define CLI_GDB_DEFAULT "tcp:127.0.0.1:1234"

/* Set the per-VM option KEY ("mem", "share", "strict" ...) of V to VAL (NULL for a flag).
 * WHERE starts the error line ("--mem", "--vm neo: mem"). Returns 0 or -1 (ERR says why). */
int vm_opt_set(struct vm_opts *v, const char *key, const char *val, const char *where,
	       char *err, size_t errlen);

/* Release what V owns (its share directory). */
void vm_opts_free(struct vm_opts *v);

/* Parse a size or address: decimal or 0x-hex, with an optional K, M or G suffix (binary).
 * Returns 0 or -1 (junk, overflow). */
int cli_parse_u64(const char *s, uint64_t *out);

/* Parse a positive number of seconds (decimal, fractions allowed) up to one million.
 * Returns 0 or -1 (junk, zero, negative, NaN, infinite, too large). */
int cli_parse_seconds(const char *s, double *out);

/* Format one error line into ERR and return -1: `return cli_fail(err, len, "bad %s", x);` */
int cli_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The library's log level for VERBOSITY (-v count) and V's --trace, --trace-file and
 * --explain: WARN, INFO, DEBUG, TRACE or EXPLAIN. */
enum kvmbox_log_level cli_log_level(int verbosity, const struct vm_opts *v);

/* The help text of `kvmbox run` (both forms); the exit statuses follow it (cli/status.h). */
extern const char cli_usage[];

#endif
