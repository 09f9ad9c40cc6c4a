/* The options of `kvmbox run --vm NAME=IMAGE ...` (cli/multi.c runs them): every value is
 * checked here, before anything runs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/sched.h"
#include "multi.h"
#include "opts.h"

const char cli_multi_usage[] =
	"Usage: kvmbox run --vm NAME=IMAGE[,OPTION...] --vm ... [OPTIONS]\n"
	"Run several VMs in one process, on one host thread.\n"
	"\n"
	"Per VM (--vm, repeat it; options after the image, separated by commas):\n"
	"  mode=real|protected|paged32|long   CPU mode (default: from the image)\n"
	"  mem=SIZE                           guest memory (default 2M)\n"
	"  share=W                            weight for --sched share (default 1)\n"
	"  out=FILE                           console to FILE (default: stdout, lines\n"
	"                                     prefixed with [NAME])\n"
	"  timeout=S                          this VM stops (as a timeout) after S seconds\n"
	"  strict                             a bad hypercall stops this VM\n"
	"\n"
	"Scheduling:\n"
	"  --sched io|rr|share|script:FILE    policy (default rr):\n"
	"      io      switch to the next VM after every I/O exit\n"
	"      rr      round robin, one quantum each, timer preemption\n"
	"      share   weighted fair share of measured guest CPU time\n"
	"      script  FILE's digits 1-9 name the VM of each quantum ('#' comments);\n"
	"              it repeats; entries naming a waiting or stopped VM are skipped\n"
	"  --quantum MS         quantum in milliseconds (default 10; fractions allowed)\n"
	"  --yield-on-io        also end a quantum at every I/O exit (any policy)\n"
	"  --duration S         stop every VM still running after S seconds (not a failure)\n"
	"  --timeout S          default per-VM timeout (a failure)\n"
	"  --chan ID=CAPACITY   records channel ID holds (default 16)\n"
	"\n"
	"Output:\n"
	"  --show-ports         print every write to the Matrix ports 0x10/0x11\n"
	"  --stats-json FILE    per-VM report as JSON\n"
	"  --trace-out FILE     Chrome/Perfetto trace-event JSON of who ran when\n"
	"  -v, --verbose        more messages on stderr; --trace: every exit\n"
	"  -h, --help           this text\n"
	"\n"
	"The per-VM report goes to stderr. Exit status: 0 when every VM halted, exited 0 or\n"
	"ran until --duration; else the first that applies of 6 host error, 3 guest fault\n"
	"(or bad call under strict), 7 deadlock (every remaining VM waited on a channel),\n"
	"4 timeout, 1 guest assertion or non-zero exit status; 2 bad usage.\n";

bool cli_is_multi(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--vm") || !strncmp(argv[i], "--vm=", 5))
			return true;
	}
	return false;
}

/* One KEY=VALUE (or "strict") after the image of --vm. */
static int parse_vm_option(struct multi_vm_opts *v, char *tok, char *err, size_t errlen)
{
	char *val = strchr(tok, '=');
	uint64_t n;

	if (!strcmp(tok, "strict")) {
		v->strict = true;
		return 0;
	}
	if (!val)
		return cli_fail(err, errlen, "--vm %s: '%s' is not KEY=VALUE", v->name, tok);
	*val++ = '\0';
	if (!strcmp(tok, "mode")) {
		if (kvmbox_mode_parse(val, &v->mode) < 0 || v->mode == KVMBOX_MODE_AUTO)
			return cli_fail(err, errlen, "--vm %s: mode '%s' (real, protected, paged32, long)",
					v->name, val);
	} else if (!strcmp(tok, "mem")) {
		if (cli_parse_u64(val, &v->mem) < 0 || v->mem < KVMBOX_MEM_MIN ||
		    v->mem > KVMBOX_MEM_MAX || v->mem % 4096)
			return cli_fail(err, errlen, "--vm %s: mem '%s' (256K..3G, a multiple of 4K)",
					v->name, val);
	} else if (!strcmp(tok, "share")) {
		if (cli_parse_u64(val, &n) < 0 || n < 1 || n > 1000000)
			return cli_fail(err, errlen, "--vm %s: share '%s' (1..1000000)", v->name, val);
		v->share = (unsigned)n;
	} else if (!strcmp(tok, "out")) {
		if (!*val)
			return cli_fail(err, errlen, "--vm %s: out= needs a file", v->name);
		v->out = val;
	} else if (!strcmp(tok, "timeout")) {
		if (cli_parse_seconds(val, &v->timeout) < 0)
			return cli_fail(err, errlen, "--vm %s: timeout '%s' (seconds > 0)", v->name, val);
	} else {
		return cli_fail(err, errlen,
				"--vm %s: unknown option '%s' (mode, mem, share, out, timeout, strict)",
				v->name, tok);
	}
	return 0;
}

/* NAME=IMAGE[,key=value|strict ...] */
static int parse_vm(struct multi_opts *o, const char *arg, char *err, size_t errlen)
{
	struct multi_vm_opts *v;
	char *spec, *eq, *tok, *save = NULL;
	unsigned i;

	if (o->nvms == MULTI_MAX_VMS)
		return cli_fail(err, errlen, "--vm: at most %d VMs", MULTI_MAX_VMS);
	spec = o->spec[o->nvms] = strdup(arg);
	if (!spec)
		return cli_fail(err, errlen, "out of memory");
	v = &o->vms[o->nvms++];
	*v = (struct multi_vm_opts){ .share = 1 };
	eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1] || eq[1] == ',')
		return cli_fail(err, errlen, "--vm '%s': expected NAME=IMAGE[,option...]", arg);
	*eq = '\0';
	if (strlen(spec) >= sizeof(v->name) || strpbrk(spec, " \t\"\\"))
		return cli_fail(err, errlen,
				"--vm '%s': a name is at most %zu characters, without spaces or quotes",
				arg, sizeof(v->name) - 1);
	snprintf(v->name, sizeof(v->name), "%s", spec);
	for (i = 0; i + 1 < o->nvms; i++)
		if (!strcmp(o->vms[i].name, v->name))
			return cli_fail(err, errlen, "--vm: the name '%s' is used twice", v->name);
	v->image = strtok_r(eq + 1, ",", &save);
	while ((tok = strtok_r(NULL, ",", &save)))
		if (parse_vm_option(v, tok, err, errlen) < 0)
			return -1;
	return 0;
}

void multi_opts_free(struct multi_opts *o)
{
	unsigned i;

	for (i = 0; i < MULTI_MAX_VMS; i++) {
		free(o->spec[i]);
		o->spec[i] = NULL;
	}
}

/* --sched io|rr|share|script:FILE */
static int parse_sched(struct multi_opts *o, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "io"))
		o->policy = KVMBOX_SCHED_IO;
	else if (!strcmp(arg, "rr"))
		o->policy = KVMBOX_SCHED_RR;
	else if (!strcmp(arg, "share"))
		o->policy = KVMBOX_SCHED_SHARE;
	else if (!strncmp(arg, "script:", 7) && arg[7]) {
		o->policy = KVMBOX_SCHED_SCRIPT;
		o->script_file = arg + 7;
	} else
		return cli_fail(err, errlen, "--sched: '%s' (io, rr, share, script:FILE)", arg);
	return 0;
}

/* --quantum MS */
static int parse_quantum(struct multi_opts *o, const char *arg, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	o->quantum_ms = strtod(arg, &end);
	if (errno || end == arg || *end || !(o->quantum_ms >= 0.01) || o->quantum_ms > 1e6)
		return cli_fail(err, errlen, "--quantum: '%s' (milliseconds, 0.01 or more)", arg);
	return 0;
}

/* --chan ID=CAPACITY */
static int parse_chan(struct multi_opts *o, const char *arg, char *err, size_t errlen)
{
	char buf[64], *eq;
	uint64_t id, cap;

	snprintf(buf, sizeof(buf), "%s", arg);
	eq = strchr(buf, '=');
	if (!eq)
		return cli_fail(err, errlen, "--chan: '%s' (ID=CAPACITY)", arg);
	*eq = '\0';
	if (cli_parse_u64(buf, &id) < 0 || id >= KVMBOX_CHAN_MAX ||
	    cli_parse_u64(eq + 1, &cap) < 0 || cap < 1 || cap > KVMBOX_CHAN_CAPACITY_MAX)
		return cli_fail(err, errlen, "--chan: '%s' (ID 0..%d = CAPACITY 1..%d)", arg,
				KVMBOX_CHAN_MAX - 1, KVMBOX_CHAN_CAPACITY_MAX);
	o->chan_cap[id] = (uint32_t)cap;
	return 0;
}

enum { OPT_VM = 256, OPT_SCHED, OPT_QUANTUM, OPT_YIELD, OPT_DURATION, OPT_TIMEOUT, OPT_CHAN,
       OPT_PORTS, OPT_JSON, OPT_TRACE_OUT, OPT_TRACE };

static const struct option long_options[] = {
	{ "vm", required_argument, NULL, OPT_VM },
	{ "sched", required_argument, NULL, OPT_SCHED },
	{ "quantum", required_argument, NULL, OPT_QUANTUM },
	{ "yield-on-io", no_argument, NULL, OPT_YIELD },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "chan", required_argument, NULL, OPT_CHAN },
	{ "show-ports", no_argument, NULL, OPT_PORTS },
	{ "stats-json", required_argument, NULL, OPT_JSON },
	{ "trace-out", required_argument, NULL, OPT_TRACE_OUT },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option getopt_long returned as C (its value, if any, in optarg). */
static int parse_option(struct multi_opts *o, int c, char **argv, char *err, size_t errlen)
{
	switch (c) {
	case OPT_VM: return parse_vm(o, optarg, err, errlen);
	case OPT_SCHED: return parse_sched(o, optarg, err, errlen);
	case OPT_QUANTUM: return parse_quantum(o, optarg, err, errlen);
	case OPT_CHAN: return parse_chan(o, optarg, err, errlen);
	case OPT_DURATION:
		if (cli_parse_seconds(optarg, &o->duration) < 0)
			return cli_fail(err, errlen, "--duration: '%s' (seconds > 0)", optarg);
		return 0;
	case OPT_TIMEOUT:
		if (cli_parse_seconds(optarg, &o->timeout) < 0)
			return cli_fail(err, errlen, "--timeout: '%s' (seconds > 0)", optarg);
		return 0;
	case OPT_YIELD: o->yield_on_io = true; return 0;
	case OPT_PORTS: o->show_ports = true; return 0;
	case OPT_JSON: o->stats_json = optarg; return 0;
	case OPT_TRACE_OUT: o->trace_out = optarg; return 0;
	case OPT_TRACE: o->trace = true; return 0;
	case 'v': o->verbosity++; return 0;
	case ':':
		return cli_fail(err, errlen, "%s needs an argument", argv[optind - 1]);
	default:
		return cli_fail(err, errlen, "unknown option '%s' in a several-VM run (see --help)",
				argv[optind - 1]);
	}
}

int multi_parse(int argc, char **argv, struct multi_opts *o, char *err, size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->policy = KVMBOX_SCHED_RR;
	if (argc > 1 && !strcmp(argv[1], "run")) {
		argv++;
		argc--;
	}
	optind = 0; /* full reset of getopt's state (glibc) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", long_options, NULL)) != -1) {
		if (c == 'h') {
			o->help = true;
			return 0;
		}
		if (parse_option(o, c, argv, err, errlen) < 0)
			return -1;
	}
	if (optind < argc)
		return cli_fail(err, errlen, "unexpected argument '%s': images go in --vm NAME=IMAGE",
				argv[optind]);
	if (!o->nvms)
		return cli_fail(err, errlen, "no --vm given");
	return 0;
}
