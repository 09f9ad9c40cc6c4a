/* The files a run names, checked and opened before the first guest instruction, so that bad
 * input is refused (status 2, one line) before anything runs and no result is lost after. */
#ifndef KVMBOX_CLI_INPUTS_H
#define KVMBOX_CLI_INPUTS_H

#include <stdbool.h>
#include <stdio.h>
#include "opts.h"

struct run_inputs {
	FILE **out;             /* each VM's out=FILE, or NULL (one entry per VM) */
	FILE *stats_json;       /* --stats-json, or NULL */
	FILE *trace;            /* --trace-out, or NULL */
	FILE **log;             /* each VM's --trace-file (VMs naming one file share it), or NULL */
	char *script;           /* --sched script:FILE's text, or NULL */
	int *save;              /* each VM's --save FILE, open for writing, or -1 */
	bool *restore_copy;     /* each VM's --restore FILE lies where it may change while the VM
				 * runs (beneath a share, or with other links): read, not mapped */
};

/* Check every share directory, read and check the schedule (its digits must name VMs of
 * the run), check that every --restore file is a readable file, and open every output file
 * and every --save file of O (not truncated: that is for the save; refused when it is also
 * a --restore file or an output of the run). VMs whose out= (or trace-file=) name one file
 * share one FILE; two outputs of different kinds naming one file are refused. Returns
 * EXIT_OK, or EXIT_USAGE after printing one line on stderr. IN is zeroed first; release it
 * with run_inputs_close in any case. */
int run_inputs_open(const struct run_opts *o, struct run_inputs *in);

/* Flush and close every output file (a shared one once) and free IN's contents. A write or
 * close that failed, now or earlier (a full disk), is one line on stderr per file. Returns
 * EXIT_OK, or EXIT_HOST when any failed. */
int run_inputs_close(const struct run_opts *o, struct run_inputs *in);

/* Is VM I's out= file also another of the NVMS VMs' (one FILE: its lines need the VM's
 * name)? */
bool run_inputs_out_shared(const struct run_inputs *in, unsigned nvms, unsigned i);

/* VM I's --restore FILE: a file kvmbox can read (the snapshot is checked whole when the VM
 * is made). A guest may write to its share, so a snapshot there (or with other links, one
 * perhaps there) could change or shrink under the VM restored from it: *COPY says it is to
 * be read rather than mapped (KVMBOX_RESTORE_COPY). Returns EXIT_OK, or EXIT_USAGE after one
 * line on stderr. */
int cli_check_restore(const struct run_opts *o, unsigned i, bool *copy);

/* Read the text file PATH whole (NUL-terminated, malloc'd). Returns NULL with ERR set. */
char *cli_read_text(const char *path, char *err, size_t errlen);

#endif
