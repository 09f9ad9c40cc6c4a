/* The per-VM options of `kvmbox run`, one parser for both spellings: `--mem 4M` for a single
 * VM and `mem=4M` inside `--vm NAME=IMAGE,...`. Every value is checked here, before anything
 * runs; the values that name files are checked in cli/inputs.c. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opts.h"

int cli_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	/* Digits first: strtoull would accept leading blanks and signs ("-1" wraps). Decimal
	 * unless 0x: "010M" is ten megabytes, not octal eight. */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || (shift && v > (~0ull >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*out) || !(*out > 0) || *out > 1e6 ? -1 : 0;
}

int cli_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void vm_opts_free(struct vm_opts *v)
{
	free(v->share);
	v->share = NULL;
}

/* share: DIR, DIR:ro or DIR:rw (a copy without the suffix). */
static int set_share(struct vm_opts *v, const char *val, const char *where, char *err, size_t errlen)
{
	size_t n = strlen(val);
	bool ro = n >= 3 && !strcmp(val + n - 3, ":ro"), rw = n >= 3 && !strcmp(val + n - 3, ":rw");

	if (ro || rw)
		n -= 3;
	if (n == 0)
		return cli_fail(err, errlen, "%s: a directory is needed (DIR, DIR:ro or DIR:rw)", where);
	free(v->share);
	v->share = strndup(val, n);
	if (!v->share)
		return cli_fail(err, errlen, "%s: out of memory", where);
	v->share_ro = ro;
	return 0;
}

static int set_mode(struct vm_opts *v, const char *val, const char *where, char *err, size_t errlen)
{
	enum kvmbox_mode mode;

	if (kvmbox_mode_parse(val, &mode) < 0 || mode == KVMBOX_MODE_AUTO)
		return cli_fail(err, errlen, "%s: unknown mode '%s' (real, protected, paged32, long)",
				where, val);
	if (v->mode != KVMBOX_MODE_AUTO && v->mode != mode)
		return cli_fail(err, errlen, "conflicting modes: %s and %s", kvmbox_mode_name(v->mode),
				kvmbox_mode_name(mode));
	v->mode = mode;
	return 0;
}

/* The options whose value is a number: mem, load, entry, weight, timeout, file-size-max,
 * share-bytes-max, share-files-max, count. */
static int set_number(struct vm_opts *v, const char *key, const char *val, const char *where,
		      char *err, size_t errlen)
{
	uint64_t n;

	if (!strcmp(key, "timeout")) {
		if (cli_parse_seconds(val, &v->timeout) < 0)
			return cli_fail(err, errlen, "%s: '%s' is not a number of seconds in (0, 1000000]",
					where, val);
		return 0;
	}
	if (cli_parse_u64(val, &n) < 0)
		return cli_fail(err, errlen, "%s: '%s' is not %s", where, val,
				!strcmp(key, "mem") || !strcmp(key, "file-size-max") ||
				!strcmp(key, "share-bytes-max") ? "a size (e.g. 2M, 1G)" :
				!strcmp(key, "weight") ? "a weight (1..1000000)" :
				!strcmp(key, "share-files-max") ? "a number of files (1..1000000)" :
				!strcmp(key, "count") ? "a count of VMs (1..65535)" :
				"an address (decimal or 0x hex)");
	if (!strcmp(key, "mem")) {
		if (n < KVMBOX_MEM_MIN || n > KVMBOX_MEM_MAX || n % 4096)
			return cli_fail(err, errlen, "%s: %s is out of range (256K..3G, a multiple of 4K)",
					where, val);
		v->mem = n;
	} else if (!strcmp(key, "weight")) {
		if (n < 1 || n > 1000000)
			return cli_fail(err, errlen, "%s: '%s' is not a weight (1..1000000)", where, val);
		v->weight = (unsigned)n;
	} else if (!strcmp(key, "count")) {
		if (n < 1 || n > RUN_MAX_VMS)
			return cli_fail(err, errlen, "%s: '%s' is not a count of VMs (1..%u)", where, val,
					RUN_MAX_VMS);
		v->count = (unsigned)n;
	} else if (!strcmp(key, "file-size-max")) {
		if (n < 1)
			return cli_fail(err, errlen, "%s: '%s' is not a size of at least 1 byte", where, val);
		v->file_size_max = n;
	} else if (!strcmp(key, "share-bytes-max")) {
		if (n < 1)
			return cli_fail(err, errlen, "%s: '%s' is not a size of at least 1 byte", where, val);
		v->share_bytes_max = n;
	} else if (!strcmp(key, "share-files-max")) {
		if (n < 1 || n > 1000000)
			return cli_fail(err, errlen, "%s: '%s' is not a number of files (1..1000000)",
					where, val);
		v->share_files_max = (unsigned)n;
	} else if (!strcmp(key, "load")) {
		v->load = n;
		v->flat = true;
	} else {
		v->entry = n;
		v->entry_set = true;
	}
	return 0;
}

/* The flags: strict, regs, stats, no-coalesce, trace, explain. Returns 1 when KEY is none. */
static int set_flag(struct vm_opts *v, const char *key)
{
	if (!strcmp(key, "strict"))
		v->strict = true;
	else if (!strcmp(key, "regs"))
		v->regs = true;
	else if (!strcmp(key, "stats"))
		v->stats = true;
	else if (!strcmp(key, "no-coalesce"))
		v->no_coalesce = true;
	else if (!strcmp(key, "trace"))
		v->trace = true;
	else if (!strcmp(key, "explain"))
		v->explain = true;
	else if (!strcmp(key, "guard-null"))
		v->guard_null = true;
	else
		return 1;
	return 0;
}

/* walk: one more guest-virtual address to translate when the run ends (repeatable). */
static int add_walk(struct vm_opts *v, const char *val, const char *where, char *err, size_t errlen)
{
	uint64_t gva;

	if (cli_parse_u64(val, &gva) < 0)
		return cli_fail(err, errlen, "%s: '%s' is not an address (decimal or 0x hex)", where, val);
	if (v->nwalk == VM_WALKS_MAX)
		return cli_fail(err, errlen, "%s: at most %d addresses per VM", where, VM_WALKS_MAX);
	v->walk[v->nwalk++] = gva;
	return 0;
}

/* Does KEY take a value (getopt's required_argument)? */
static bool is_valued(const char *key)
{
#define VALUED(i, name, has_arg) if (has_arg == required_argument && !strcmp(key, name)) return true;
	PER_VM_OPTIONS(VALUED)
#undef VALUED
	return false;
}

int vm_opt_set(struct vm_opts *v, const char *key, const char *val, const char *where,
	       char *err, size_t errlen)
{
	if (!is_valued(key)) {
		if (set_flag(v, key) != 0)
			return cli_fail(err, errlen, "%s: unknown option (mode, mem, load, entry, share, "
					"weight, out, timeout, walk, file-size-max, share-bytes-max, share-files-max, "
					"count, strict, regs, stats, no-coalesce, trace, explain, trace-file, gdb, "
					"guard-null, save, restore)", where);
		return val ? cli_fail(err, errlen, "%s: takes no value", where) : 0;
	}
	if (!val)
		return cli_fail(err, errlen, "%s: needs a value", where);
	if (!strcmp(key, "mode"))
		return set_mode(v, val, where, err, errlen);
	if (!strcmp(key, "share"))
		return set_share(v, val, where, err, errlen);
	if (!strcmp(key, "gdb")) {
		if (strncmp(val, "tcp:", 4) && strncmp(val, "unix:", 5))
			return cli_fail(err, errlen, "%s: '%s' is not tcp:[HOST:]PORT or unix:PATH", where,
					val);
		v->gdb = val;
		return 0;
	}
	if (!strcmp(key, "walk"))
		return add_walk(v, val, where, err, errlen);
	if (!strcmp(key, "out") || !strcmp(key, "trace-file") || !strcmp(key, "save") ||
	    !strcmp(key, "restore")) {
		if (!*val)
			return cli_fail(err, errlen, "%s: a file is needed", where);
		*(key[0] == 'o' ? &v->out : key[0] == 't' ? &v->trace_file
		  : !strcmp(key, "save") ? &v->save : &v->restore) = val;
		return 0;
	}
	return set_number(v, key, val, where, err, errlen);
}
