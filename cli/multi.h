/* `kvmbox run --vm ...`: several VMs in one process on one thread (include/kvmbox/sched.h). */
#ifndef KVMBOX_CLI_MULTI_H
#define KVMBOX_CLI_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/sched.h"

#define MULTI_MAX_VMS 256

struct multi_vm_opts {
	char name[32];
	const char *image;
	enum kvmbox_mode mode; /* AUTO: from the image */
	uint64_t mem;          /* 0: default */
	unsigned share;        /* 1 by default */
	const char *out;       /* console file; NULL: stdout, lines prefixed "[name] " */
	double timeout;        /* seconds; 0: --timeout */
	bool strict;
};

struct multi_opts {
	struct multi_vm_opts vms[MULTI_MAX_VMS];
	unsigned nvms;
	enum kvmbox_sched_policy policy;
	const char *script_file;
	double quantum_ms;     /* 0: default 10 */
	bool yield_on_io;
	double duration;       /* seconds; 0: none */
	double timeout;        /* seconds; default per-VM timeout; 0: none */
	uint32_t chan_cap[KVMBOX_CHAN_MAX]; /* 0: default */
	bool show_ports;
	const char *stats_json, *trace_out;
	int verbosity;
	bool trace, help;
	char *spec[MULTI_MAX_VMS]; /* owned copies of the --vm arguments */
};

/* Parse ARGV of the several-VM form. Returns 0, or -1 with ERR holding one line. On success
 * (and failure) release O with multi_opts_free. */
int multi_parse(int argc, char **argv, struct multi_opts *o, char *err, size_t errlen);
void multi_opts_free(struct multi_opts *o);

/* Does ARGV ask for the several-VM form (an argument "--vm" or "--vm=...")? */
bool cli_is_multi(int argc, char **argv);

/* The several-VM command: parse, run, report; returns the process exit status. */
int cli_multi_main(int argc, char **argv);

extern const char cli_multi_usage[];

#endif
