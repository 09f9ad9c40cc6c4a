/* getopt_long parsing of `kvmbox run`: every value is checked here, before anything runs. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opts.h"

const char cli_usage[] =
	"usage: kvmbox run [options] [IMAGE]\n"
	"Run IMAGE (ELF32/ELF64, or a flat binary with --load) in a KVM virtual machine.\n"
	"Without IMAGE, run the built-in hello guest in the chosen mode (default long).\n"
	"\n"
	"  -m, --mode MODE     real | protected | paged32 | long (default: from the ELF)\n"
	"  -r, -s, -p, -l      the same as -m real / protected / paged32 / long\n"
	"      --mem SIZE      guest memory, e.g. 2M, 64M, 1G (default 2M, 256K..3G)\n"
	"      --load ADDR     IMAGE is a flat binary loaded at guest address ADDR\n"
	"      --entry ADDR    entry point of a flat binary (default: the load address)\n"
	"      --repeat N      run the guest N times, each from its freshly loaded state\n"
	"                      (fast reset: only what a run changed is restored)\n"
	"      --timeout SEC   stop a guest still running after SEC seconds\n"
	"                      (Ctrl-C also stops it cleanly: status 130)\n"
	"      --regs          print the general registers when the guest stops\n"
	"      --stats         print exit counts when the guest stops\n"
	"      --strict        a malformed hypercall stops the VM\n"
	"      --share DIR[:ro] let the guest's file hypercalls use DIR (read-only with :ro)\n"
	"      --no-coalesce   one exit per console byte (no coalesced PIO)\n"
	"  -v, --verbose       more messages (repeat for debug)\n"
	"      --trace         explain every KVM call and exit on stderr\n"
	"  -h, --help          this text\n"
	"  -V, --version       the version\n"
	"\n"
	"Several VMs in one process: kvmbox run --vm NAME=IMAGE[,...] --vm ... (see\n"
	"'kvmbox run --vm --help').\n"
	"What this host's KVM can do, and what to do without one: kvmbox doctor (--help).\n"
	"\n"
	"Exit status: 0 the guest halted (built-in hello: and its checks passed), or the\n"
	"guest's HC_exit status; 1 a guest check or assertion failed; 2 bad input (options,\n"
	"image); 3 guest fault (triple fault, bad MMIO or port, failed entry, --strict bad\n"
	"hypercall); 4 timeout; 5 this host cannot run the mode; 6 host error;\n"
	"128+N interrupted by signal N.\n";

enum {
	OPT_MEM = 256,
	OPT_LOAD,
	OPT_ENTRY,
	OPT_TIMEOUT,
	OPT_REGS,
	OPT_STATS,
	OPT_STRICT,
	OPT_SHARE,
	OPT_NO_COALESCE,
	OPT_TRACE,
	OPT_REPEAT,
};

static const struct option long_options[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "load", required_argument, NULL, OPT_LOAD },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "regs", no_argument, NULL, OPT_REGS },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "share", required_argument, NULL, OPT_SHARE },
	{ "no-coalesce", no_argument, NULL, OPT_NO_COALESCE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

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

static int set_mode(struct cli_opts *o, enum kvmbox_mode mode, char *err, size_t errlen)
{
	if (o->mode != KVMBOX_MODE_AUTO && o->mode != mode)
		return cli_fail(err, errlen, "conflicting modes: %s and %s", kvmbox_mode_name(o->mode),
			    kvmbox_mode_name(mode));
	o->mode = mode;
	return 0;
}

/* -m MODE and its short forms -r, -s, -p, -l. */
static int parse_mode(struct cli_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	enum kvmbox_mode mode;

	if (c != 'm')
		mode = c == 'r' ? KVMBOX_MODE_REAL : c == 's' ? KVMBOX_MODE_PROTECTED :
		       c == 'p' ? KVMBOX_MODE_PAGED32 : KVMBOX_MODE_LONG;
	else if (kvmbox_mode_parse(arg, &mode) < 0 || mode == KVMBOX_MODE_AUTO)
		return cli_fail(err, errlen, "unknown mode '%s' (real, protected, paged32, long)", arg);
	return set_mode(o, mode, err, errlen);
}

/* --share DIR[:ro] */
static int parse_share(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	size_t n = strlen(arg);

	if (n == 0 || n >= sizeof(o->share_buf))
		return cli_fail(err, errlen, "--share: a directory is needed");
	memcpy(o->share_buf, arg, n + 1);
	if (n > 3 && strcmp(o->share_buf + n - 3, ":ro") == 0) {
		o->share_buf[n - 3] = 0;
		o->share_ro = true;
	}
	o->share = o->share_buf;
	return 0;
}

/* The options with a number or address as value. */
static int parse_number(struct cli_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_MEM:
		if (cli_parse_u64(arg, &o->mem) < 0)
			return cli_fail(err, errlen, "--mem: '%s' is not a size (e.g. 2M, 1G)", arg);
		if (o->mem < KVMBOX_MEM_MIN || o->mem > KVMBOX_MEM_MAX || o->mem % 4096)
			return cli_fail(err, errlen, "--mem: %s is out of range (256K..3G, a multiple of 4K)",
					arg);
		return 0;
	case OPT_LOAD:
		if (cli_parse_u64(arg, &o->load) < 0)
			return cli_fail(err, errlen, "--load: '%s' is not an address", arg);
		o->flat = true;
		return 0;
	case OPT_ENTRY:
		if (cli_parse_u64(arg, &o->entry) < 0)
			return cli_fail(err, errlen, "--entry: '%s' is not an address", arg);
		o->entry_set = true;
		return 0;
	case OPT_TIMEOUT:
		if (cli_parse_seconds(arg, &o->timeout) < 0)
			return cli_fail(err, errlen, "--timeout: '%s' is not a number of seconds in (0, 1000000]",
					arg);
		return 0;
	default: /* OPT_REPEAT */
		if (cli_parse_u64(arg, &o->repeat) < 0 || o->repeat < 1 || o->repeat > 1000000000)
			return cli_fail(err, errlen, "--repeat: '%s' is not a count in 1..1000000000", arg);
		return 0;
	}
}

/* One option getopt_long returned as C (its value, if any, in optarg). */
static int parse_option(struct cli_opts *o, int c, char **argv, char *err, size_t errlen)
{
	switch (c) {
	case 'm': case 'r': case 's': case 'p': case 'l':
		return parse_mode(o, c, optarg, err, errlen);
	case OPT_MEM: case OPT_LOAD: case OPT_ENTRY: case OPT_TIMEOUT: case OPT_REPEAT:
		return parse_number(o, c, optarg, err, errlen);
	case OPT_SHARE:
		return parse_share(o, optarg, err, errlen);
	case OPT_REGS: o->regs = true; return 0;
	case OPT_STATS: o->stats = true; return 0;
	case OPT_STRICT: o->strict = true; return 0;
	case OPT_NO_COALESCE: o->no_coalesce = true; return 0;
	case OPT_TRACE: o->trace = true; return 0;
	case 'v': o->verbosity++; return 0;
	case 'h': o->help = true; return 0;
	case 'V': o->version = true; return 0;
	default: /* '?' */
		if (optopt && optopt < 256)
			return cli_fail(err, errlen, "option -%c: %s", optopt,
					strchr("m", optopt) ? "needs a value" : "unknown option");
		return cli_fail(err, errlen, "%s: unknown option or missing value", argv[optind - 1]);
	}
}

/* What only the whole command line can tell: the image operand and the flat-binary options. */
static int check_operands(struct cli_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	if (o->entry_set && !o->flat)
		return cli_fail(err, errlen, "--entry applies to flat binaries: give --load ADDR too");
	if (optind < argc)
		o->image = argv[optind++];
	if (optind < argc)
		return cli_fail(err, errlen, "unexpected argument '%s' (one IMAGE per run)", argv[optind]);
	if (o->flat && !o->image)
		return cli_fail(err, errlen, "--load needs an IMAGE");
	if (!o->entry_set)
		o->entry = o->load;
	if (!o->repeat)
		o->repeat = 1;
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	if (argc > 1 && strcmp(argv[1], "run") == 0) {
		argv++;
		argc--;
	}
	optind = 0; /* GNU: full reinitialisation, so the parser can be called again */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "m:rsplvhV", long_options, NULL)) != -1)
		if (parse_option(o, c, argv, err, errlen) < 0)
			return -1;
	return check_operands(o, argc, argv, err, errlen);
}

enum kvmbox_log_level cli_log_level(int verbosity, bool trace)
{
	if (trace)
		return KVMBOX_LOG_TRACE;
	if (verbosity)
		return verbosity > 1 ? KVMBOX_LOG_DEBUG : KVMBOX_LOG_INFO;
	return KVMBOX_LOG_WARN;
}
