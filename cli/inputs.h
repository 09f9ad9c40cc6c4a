/* The files a run names, checked and opened before the first guest instruction, so that bad
 * input is refused (status 2, one line) before anything runs and no result is lost after. */
#ifndef KVMBOX_CLI_INPUTS_H
#define KVMBOX_CLI_INPUTS_H

#include <stdio.h>
#include "opts.h"

struct run_inputs {
	unsigned nvms;          /* entries of out and log */
	FILE **out;             /* each VM's out=FILE, or NULL */
	FILE *stats_json;       /* --stats-json, or NULL */
	FILE *trace;            /* --trace-out, or NULL */
	FILE **log;             /* each VM's --trace-file (VMs naming one path share it), or NULL */
	char *script;           /* --sched script:FILE's text, or NULL */
};

/* Check every share directory, read and check the schedule (its digits must name VMs of
 * the run), and open every output file of O. Returns EXIT_OK, or EXIT_USAGE after printing
 * one line on stderr. IN is zeroed first; release it with run_inputs_close in any case. */
int run_inputs_open(const struct run_opts *o, struct run_inputs *in);
void run_inputs_close(struct run_inputs *in);

/* Read the text file PATH whole (NUL-terminated, malloc'd). Returns NULL with ERR set. */
char *cli_read_text(const char *path, char *err, size_t errlen);

#endif
