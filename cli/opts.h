/* Command-line options of `kvmbox run`, parsed without side effects so tests can call it. */
#ifndef KVMBOX_CLI_OPTS_H
#define KVMBOX_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"

struct cli_opts {
	enum kvmbox_mode mode; /* AUTO when not given */
	uint64_t mem;          /* 0: default */
	bool flat;             /* --load given: IMAGE is a flat binary */
	uint64_t load;
	bool entry_set;
	uint64_t entry;
	double timeout;        /* seconds; 0: none */
	uint64_t repeat;       /* runs of the same guest, each from the loaded state (>= 1) */
	bool regs, stats, strict, no_coalesce;
	const char *share;     /* --share DIR (":ro" stripped into share_ro) */
	bool share_ro;
	int verbosity;         /* -v count */
	bool trace;
	bool help, version;
	const char *image;     /* NULL: the built-in hello guest */
	char share_buf[4096];
};

/* Parse ARGV (argv[0] is the program; an optional "run" subcommand follows it). Returns 0,
 * or -1 with ERR holding one line that says what is wrong. Resets getopt's state itself. */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);

/* Parse a size or address: decimal or 0x-hex, with an optional K, M or G suffix (binary).
 * Returns 0 or -1 (junk, overflow). */
int cli_parse_u64(const char *s, uint64_t *out);

/* Parse a positive number of seconds (decimal, fractions allowed) up to one million.
 * Returns 0 or -1 (junk, zero, negative, NaN, infinite, too large). */
int cli_parse_seconds(const char *s, double *out);

/* Format one error line into ERR and return -1: `return cli_fail(err, len, "bad %s", x);` */
int cli_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The library's log level for VERBOSITY (-v count) and --trace: WARN, INFO, DEBUG or TRACE. */
enum kvmbox_log_level cli_log_level(int verbosity, bool trace);

extern const char cli_usage[];

#endif
