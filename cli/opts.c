/* getopt_long parsing of `kvmbox run`: the run-wide options here, the per-VM ones through
 * vm_opt_set (cli/vm_opts.c), for the single VM and for each --vm alike. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/abi.h"
#include "opts.h"

const char cli_usage[] =
	"usage: kvmbox run [OPTION...] [IMAGE] [-- ARG...]\n"
	"       kvmbox run --vm NAME=IMAGE[,KEY=VALUE...] [--vm ...] [OPTION...]\n"
	"       kvmbox run [OPTION...] --restore FILE   (--vm NAME,restore=FILE[,KEY=VALUE...])\n"
	"Run IMAGE (ELF32/ELF64, or a flat binary with --load) in a KVM virtual machine; without\n"
	"IMAGE, the built-in hello guest (default long mode). With --vm, several VMs share one\n"
	"host thread under a scheduler; a single VM is a run of one VM. The ARGs after `--` are\n"
	"the guest's main(argc, argv) (argv[0]: IMAGE; one VM only, at most 31, 1 KiB).\n"
	"\n"
	"Per VM: --KEY VALUE for the single VM (or the default of every --vm), KEY=VALUE in --vm:\n"
	"  -m, --mode MODE      real | protected | paged32 | long. An ELF runs in its own mode\n"
	"                       (its mode note, else long for ELF64, protected for ELF32): MODE\n"
	"                       may only repeat it. A flat binary needs it.\n"
	"  -r, -p, -l           the same as -m real / paged32 / long (-s is gdb's now)\n"
	"      --mem SIZE       guest memory, e.g. 2M, 64M, 1G (default 2M, 256K..3G)\n"
	"      --load ADDR      IMAGE is a flat binary loaded at guest address ADDR\n"
	"      --entry ADDR     entry point of a flat binary (default: the load address)\n"
	"      --share DIR[:ro|:rw]  the guest's file hypercalls use DIR (default :rw)\n"
	"      --timeout SEC    stop a guest still running after SEC seconds (a timeout)\n"
	"      --strict         a malformed hypercall stops the VM\n"
	"      --out FILE       the guest console to FILE (default: stdout; with several VMs\n"
	"                       each line is prefixed [NAME])\n"
	"      --regs, --stats  print the registers / exit counts when the guest stops\n"
	"      --walk GVA       print how GVA becomes a guest-physical and host address when\n"
	"                       the guest stops (repeatable; docs/page-walks.md)\n"
	"      --no-coalesce    one exit per console byte (no coalesced PIO)\n"
	"      --guard-null     unmap page 0, so a NULL pointer faults (SDK images ask for it)\n"
	"      --weight W       the VM's weight for --sched share (1..1000000, default 1)\n"
	"      --gdb tcp:[HOST:]PORT | unix:PATH  a gdb server (127.0.0.1 unless HOST is\n"
	"                       given); gdb may attach while the guest runs. One VM only\n"
	"  -s                   --gdb tcp:127.0.0.1:1234, as QEMU's -s\n"
	"  -S                   the guest waits for gdb before its first instruction (with\n"
	"                       the -s server unless --gdb is given), as QEMU's -S\n"
	"      --trace          every KVM call with its arguments, every exit with its fields\n"
	"      --explain        --trace plus one line of why for each bring-up step (learners)\n"
	"      --trace-file FILE  the VM's log (--trace, --explain, -v) to FILE, not stderr;\n"
	"                       implies --trace, as QEMU's -D (--trace-out is another thing)\n"
	"      --file-size-max SIZE  no guest write makes a share file longer (default 1G):\n"
	"                       past it a write fails with EFBIG\n"
	"      --share-bytes-max SIZE  the guest's writes grow the share's files by at most\n"
	"                       SIZE in all (default 4G); past it they fail with EDQUOT\n"
	"      --share-files-max N  the guest creates at most N files in the share (default\n"
	"                       1024); past it an open that would create one fails with EDQUOT\n"
	"      --count N        N copies of the VM, named NAME0 ... NAME{N-1}, scheduled\n"
	"                       together (in --vm: count=N)\n"
	"      --save FILE      save the VM into the snapshot FILE when the guest stops (not\n"
	"                       after a fault) and whenever it asks (HC_snapshot(\"\"))\n"
	"      --restore FILE   the VM is the snapshot FILE's, not an image's: it goes on where\n"
	"                       it was saved (in --vm: NAME,restore=FILE; with count=N, N VMs\n"
	"                       from one file). The command line still says what it may use\n"
	"\n"
	"Run-wide:\n"
	"      --vm NAME=IMAGE[,KEY=VALUE|FLAG...]  one VM of several (repeat it)\n"
	"      --sched io|rr|share|script:FILE  policy (default rr); a script's digits 1-9\n"
	"                       name the VM of each quantum ('#' comments; it repeats)\n"
	"      --quantum MS     quantum in milliseconds (default 10; fractions allowed)\n"
	"      --yield-on-io    also end a quantum at every I/O exit\n"
	"      --duration S     stop every VM still running after S seconds (not a failure)\n"
	"      --chan ID=CAP    records channel ID holds (default 16)\n"
	"      --show-ports     print every write to the Matrix ports 0x10/0x11\n"
	"      --stats-json FILE  per-VM report as JSON (docs/stats.schema.json)\n"
	"      --trace-out FILE   Chrome/Perfetto trace-event JSON of who ran when (the\n"
	"                       scheduler's timeline; --trace-file is the KVM call log)\n"
	"      --repeat N       run one VM N times, each from its freshly loaded state (not\n"
	"                       with the scheduler options above, which measure one run)\n"
	"      --sandbox        the profile for untrusted guests: no host address reaches the\n"
	"                       guest (gvaToHva fails), shares default to 64M files, 256M\n"
	"                       and 256 files in all; a share needs Landlock\n"
	"      --user USER      started as root: run as USER once /dev/kvm and shares are open\n"
	"      --no-seccomp     no system-call filter (for debugging kvmbox; says so on stderr)\n"
	"  -v, --verbose        each VM's mode, memory layout, entry and segments (-vv: debug)\n"
	"  -h, --help           this text\n"
	"\n"
	"The per-VM report of a scheduled run goes to stderr.\n";

enum {
	OPT_VM = 256, OPT_SCHED, OPT_QUANTUM, OPT_YIELD, OPT_DURATION, OPT_CHAN, OPT_PORTS,
	OPT_JSON, OPT_TRACE_OUT, OPT_REPEAT,
	OPT_NO_SECCOMP, OPT_SANDBOX, OPT_USER,
	OPT_PER_VM, /* per-VM options: OPT_PER_VM + index in per_vm_keys */
};

#define PER_VM_KEY(i, name, arg) [i] = name,
#define PER_VM_OPTION(i, name, arg) { name, arg, NULL, OPT_PER_VM + i },

static const char *const per_vm_keys[] = { PER_VM_OPTIONS(PER_VM_KEY) };

static const struct option long_options[] = {
	PER_VM_OPTIONS(PER_VM_OPTION)
	{ "vm", required_argument, NULL, OPT_VM },
	{ "sched", required_argument, NULL, OPT_SCHED },
	{ "quantum", required_argument, NULL, OPT_QUANTUM },
	{ "yield-on-io", no_argument, NULL, OPT_YIELD },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "chan", required_argument, NULL, OPT_CHAN },
	{ "show-ports", no_argument, NULL, OPT_PORTS },
	{ "stats-json", required_argument, NULL, OPT_JSON },
	{ "trace-out", required_argument, NULL, OPT_TRACE_OUT },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "sandbox", no_argument, NULL, OPT_SANDBOX },
	{ "user", required_argument, NULL, OPT_USER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --sched io|rr|share|script:FILE */
static int parse_sched(struct run_opts *o, const char *arg, char *err, size_t errlen)
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
		return cli_fail(err, errlen, "--sched: unknown policy '%s' (io, rr, share, script:FILE)",
				arg);
	return 0;
}

/* --chan ID=CAPACITY */
static int parse_chan(struct run_opts *o, const char *arg, char *err, size_t errlen)
{
	char buf[64], *eq;
	uint64_t id, cap;

	snprintf(buf, sizeof(buf), "%s", arg);
	eq = strchr(buf, '=');
	if (!eq)
		return cli_fail(err, errlen, "--chan: '%s' is not ID=CAPACITY (e.g. 2=20)", arg);
	*eq = '\0';
	if (cli_parse_u64(buf, &id) < 0 || id >= KVMBOX_CHAN_MAX ||
	    cli_parse_u64(eq + 1, &cap) < 0 || cap < 1 || cap > KVMBOX_CHAN_CAPACITY_MAX)
		return cli_fail(err, errlen, "--chan: '%s' is out of range (ID 0..%d, CAPACITY 1..%d)", arg,
				KVMBOX_CHAN_MAX - 1, KVMBOX_CHAN_CAPACITY_MAX);
	o->chan_cap[id] = (uint32_t)cap;
	return 0;
}

/* The run-wide options with a value. */
static int parse_run_value(struct run_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_SCHED:
		return parse_sched(o, arg, err, errlen);
	case OPT_CHAN:
		return parse_chan(o, arg, err, errlen);
	case OPT_QUANTUM:
		if (cli_parse_seconds(arg, &o->quantum_ms) < 0 || o->quantum_ms < 0.01)
			return cli_fail(err, errlen, "--quantum: '%s' is not a number of milliseconds in "
					"[0.01, 1000000]", arg);
		return 0;
	case OPT_DURATION:
		if (cli_parse_seconds(arg, &o->duration) < 0)
			return cli_fail(err, errlen, "--duration: '%s' is not a number of seconds in "
					"(0, 1000000]", arg);
		return 0;
	case OPT_JSON:
		o->stats_json = arg;
		return 0;
	case OPT_TRACE_OUT:
		o->trace_out = arg;
		return 0;
	default: /* OPT_REPEAT */
		if (cli_parse_u64(arg, &o->repeat) < 0 || o->repeat < 1 || o->repeat > 1000000000)
			return cli_fail(err, errlen, "--repeat: '%s' is not a count in 1..1000000000", arg);
		return 0;
	}
}

/* The name of a scheduler-only option C, or NULL. (--stats-json is not one: a single VM
 * with it is still a single VM's run.) */
static const char *sched_only(int c)
{
	switch (c) {
	case OPT_SCHED: return "--sched";
	case OPT_QUANTUM: return "--quantum";
	case OPT_YIELD: return "--yield-on-io";
	case OPT_DURATION: return "--duration";
	case OPT_CHAN: return "--chan";
	case OPT_PORTS: return "--show-ports";
	case OPT_TRACE_OUT: return "--trace-out";
	default: return NULL;
	}
}

/* The -m short forms (-s was protected mode; it is gdb's, as in QEMU). */
static const char *short_mode(int c)
{
	return c == 'r' ? "real" : c == 'p' ? "paged32" : "long";
}

/* Keep a copy of one --vm argument (parsed once the defaults are known: build_vms). */
static int add_spec(struct run_opts *o, const char *arg, char *err, size_t errlen)
{
	char **spec;

	if (o->nspec == RUN_MAX_VMS)
		return cli_fail(err, errlen, "--vm: at most %u VMs", RUN_MAX_VMS);
	spec = realloc(o->spec, (o->nspec + 1) * sizeof(*spec));
	if (!spec)
		return cli_fail(err, errlen, "out of memory");
	o->spec = spec;
	if (!(o->spec[o->nspec] = strdup(arg)))
		return cli_fail(err, errlen, "out of memory");
	o->nspec++;
	return 0;
}

/* One option getopt_long returned as C (its value, if any, in optarg). */
static int parse_option(struct run_opts *o, int c, char **argv, char *err, size_t errlen)
{
	char where[32];

	if (!o->sched_opt)
		o->sched_opt = sched_only(c);
	if (c >= OPT_PER_VM) {
		snprintf(where, sizeof(where), "--%s", per_vm_keys[c - OPT_PER_VM]);
		return vm_opt_set(&o->defaults, per_vm_keys[c - OPT_PER_VM], optarg, where, err,
				  errlen);
	}
	switch (c) {
	case 'm': return vm_opt_set(&o->defaults, "mode", optarg, "-m", err, errlen);
	case 'r': case 'p': case 'l':
		return vm_opt_set(&o->defaults, "mode", short_mode(c), "-m", err, errlen);
	case 's':
		o->short_s = true;
		if (!o->defaults.gdb)
			o->defaults.gdb = CLI_GDB_DEFAULT;
		return 0;
	case 'S': o->defaults.gdb_wait = true; return 0;
	case OPT_VM:
		if (!strcmp(optarg, "--help") || !strcmp(optarg, "-h")) { /* `kvmbox run --vm --help` */
			o->help = true;
			return 0;
		}
		return add_spec(o, optarg, err, errlen);
	case OPT_YIELD: o->yield_on_io = true; return 0;
	case OPT_PORTS: o->show_ports = true; return 0;
	case OPT_NO_SECCOMP: o->no_seccomp = true; return 0;
	case OPT_SANDBOX: o->sandbox = true; return 0;
	case OPT_USER:
		if (!*optarg)
			return cli_fail(err, errlen, "--user: a user name or number is needed");
		o->user = optarg;
		return 0;
	case 'v': o->verbosity++; return 0;
	case 'h': o->help = true; return 0;
	case 'V': o->version = true; return 0;
	case ':':
		return cli_fail(err, errlen, "%s: needs a value", argv[optind - 1]);
	case '?':
		if (optopt >= 256) /* a long flag given a value: --regs=1 */
			return cli_fail(err, errlen, "%s: takes no value", argv[optind - 1]);
		if (optopt)
			return cli_fail(err, errlen, "-%c: unknown option", optopt);
		return cli_fail(err, errlen, "%s: unknown option", argv[optind - 1]);
	default:
		return parse_run_value(o, c, optarg, err, errlen);
	}
}

/* A copy of the per-VM defaults (the share directory duplicated). */
static int copy_defaults(struct vm_opts *v, const struct vm_opts *d, char *err, size_t errlen)
{
	*v = *d;
	v->share = NULL;
	if (d->share && !(v->share = strdup(d->share)))
		return cli_fail(err, errlen, "out of memory");
	return 0;
}

/* --vm NAME=IMAGE[,KEY=VALUE|FLAG ...] or NAME,restore=FILE[,...]: spec I into V, starting
 * from the command line's defaults. V's strings point into o->spec[i], which is cut up in
 * place. */
static int parse_vm(struct run_opts *o, unsigned i, struct vm_opts *v, char *err, size_t errlen)
{
	char *spec = o->spec[i], *eq, *tok, *val, *rest, where[64], arg[256];
	size_t name_len = strcspn(spec, "=,");

	snprintf(arg, sizeof(arg), "%s", spec);
	if (copy_defaults(v, &o->defaults, err, errlen) < 0)
		return -1;
	eq = spec + name_len;
	if (name_len == 0 || !*eq || (*eq == '=' && (!eq[1] || eq[1] == ',')))
		return cli_fail(err, errlen, "--vm '%s': expected NAME=IMAGE[,KEY=VALUE...] or "
				"NAME,restore=FILE[,KEY=VALUE...]", arg);
	if (*eq == ',') { /* no image: restore= must come */
		*eq = '\0';
		rest = eq + 1;
		v->image = NULL;
		goto name;
	}
	*eq = '\0';
	rest = eq + 1;
	v->image = strsep(&rest, ",");
name:
	if (strlen(spec) >= sizeof(v->name) || strpbrk(spec, " \t\"\\,"))
		return cli_fail(err, errlen,
				"--vm '%s': a name is at most %zu characters, without spaces or quotes",
				arg, sizeof(v->name) - 1);
	snprintf(v->name, sizeof(v->name), "%s", spec);
	while ((tok = strsep(&rest, ","))) {
		if (!*tok)
			return cli_fail(err, errlen, "--vm '%s': an empty KEY=VALUE between commas", arg);
		if ((val = strchr(tok, '=')))
			*val++ = '\0';
		snprintf(where, sizeof(where), "--vm %s: %s", v->name, tok);
		if (vm_opt_set(v, tok, val, where, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Append V to the run's VMs: V->count copies of it, named NAME0 ... NAME{N-1}, when that is
 * more than one. V's share directory is taken over by the first copy (released here on
 * failure). */
static int add_vm(struct run_opts *o, struct vm_opts *v, char *err, size_t errlen)
{
	unsigned n = v->count ? v->count : 1, k;
	struct vm_opts *vms;
	char base[VM_NAME_MAX], who[VM_NAME_MAX + 8];
	int ret = 0;

	snprintf(base, sizeof(base), "%s", v->name);
	snprintf(who, sizeof(who), o->nspec ? "--vm %s" : "--count", base);
	if (n > 1 && v->out)
		ret = cli_fail(err, errlen, "%s: %s takes one VM's console; the %u copies of "
			       "count=%u write to stdout, each line prefixed with the copy's name",
			       who, o->nspec ? "out=FILE" : "--out", n, n);
	else if (n > 1 && v->save)
		ret = cli_fail(err, errlen, "%s: %s names one snapshot file, for one VM; the %u "
			       "copies of count=%u would overwrite each other's", who,
			       o->nspec ? "save=FILE" : "--save", n, n);
	else if (n > RUN_MAX_VMS - o->nvms)
		ret = cli_fail(err, errlen, "%s: count=%u makes more than %u VMs in one run", who, n,
			       RUN_MAX_VMS);
	else if (n > 1 && strlen(base) + (size_t)snprintf(NULL, 0, "%u", n - 1) >= VM_NAME_MAX)
		ret = cli_fail(err, errlen, "%s: with count=%u the names %s0 ... %s%u are longer than "
			       "%d characters", who, n, base, base, n - 1, VM_NAME_MAX - 1);
	else if (!(vms = realloc(o->vms, (o->nvms + n) * sizeof(*vms))))
		ret = cli_fail(err, errlen, "out of memory");
	if (ret < 0) {
		vm_opts_free(v);
		return ret;
	}
	o->vms = vms;
	for (k = 0; k < n; k++) {
		struct vm_opts *c = &o->vms[o->nvms];

		*c = *v;
		if (k && v->share && !(c->share = strdup(v->share)))
			return cli_fail(err, errlen, "out of memory");
		if (n > 1)
			snprintf(c->name, sizeof(c->name), "%s%u", base, k);
		o->nvms++;
	}
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No two VMs of the run have one name (sorted: a run may have thousands). */
static int check_names(const struct run_opts *o, char *err, size_t errlen)
{
	const char **names = malloc(o->nvms * sizeof(*names));
	int ret = 0;

	if (!names)
		return cli_fail(err, errlen, "out of memory");
	for (unsigned i = 0; i < o->nvms; i++)
		names[i] = o->vms[i].name;
	qsort(names, o->nvms, sizeof(*names), cmp_name);
	for (unsigned i = 1; i < o->nvms && ret == 0; i++)
		if (!strcmp(names[i - 1], names[i]))
			ret = cli_fail(err, errlen, "--vm: the name '%s' is used twice", names[i]);
	free(names);
	return ret;
}

/* The single VM's name: its image's file name (or "hello"), made a valid VM name. */
static void single_name(struct vm_opts *v)
{
	const char *file = v->image ? v->image : v->restore;
	const char *base = file ? strrchr(file, '/') : NULL;

	snprintf(v->name, sizeof(v->name), "%s", !file ? "hello" : base ? base + 1 : file);
	for (char *p = v->name; *p; p++)
		if (strchr(" \t\"\\,", *p))
			*p = '_';
}

/* What only one VM's whole set of options can tell. Messages start with the VM's name (--vm),
 * else with CMD (NULL: no prefix, the caller prints its own). */
static int check_vm(const struct run_opts *o, const struct vm_opts *v, const char *cmd, char *err,
		    size_t errlen)
{
	const char *who = o->several ? v->name : cmd;
	char pre[80];

	snprintf(pre, sizeof(pre), "%s%s", who ? who : "", who ? ": " : "");
	if (v->entry_set && !v->flat)
		return cli_fail(err, errlen, "%s--entry applies to flat binaries: give --load ADDR too",
				pre);
	if (v->flat && !v->image)
		return cli_fail(err, errlen, "%s--load needs an IMAGE", pre);
	if (o->nspec && !v->image && !v->restore)
		return cli_fail(err, errlen, "--vm %s: an IMAGE is needed (or restore=FILE)", v->name);
	if (v->restore && (v->image || v->flat || v->entry_set || v->guard_null || v->nargs))
		return cli_fail(err, errlen, "%s%s: a VM restored from a snapshot is the snapshot's "
				"guest, as it was: no IMAGE, --load, --entry, --guard-null or arguments",
				pre, o->several ? "restore=" : "--restore");
	if ((run_is_scheduled(o) || o->stats_json) && (v->gdb || v->gdb_wait))
		return cli_fail(err, errlen, "%s: gdb debugs a VM run alone (kvmbox run --gdb SPEC "
				"IMAGE): under the scheduler a VM stopped in gdb would stop every other VM",
				o->several ? v->name : o->sched_opt ? o->sched_opt : "--stats-json");
	return 0;
}

/* The single VM's arguments after `--`: the guest's argv[1..], with the image as argv[0],
 * within the ABI's bounds (the guest's buffers are sized by them). */
static int check_args(const struct vm_opts *v, char *err, size_t errlen)
{
	size_t bytes = strlen(v->image ? v->image : "hello") + 1;
	unsigned i;

	if (v->nargs + 1 > KVMBOX_ARGC_MAX)
		return cli_fail(err, errlen, "--: %u guest arguments, at most %d", v->nargs,
				KVMBOX_ARGC_MAX - 1);
	for (i = 0; i < v->nargs; i++)
		bytes += strlen(v->args[i]) + 1;
	if (bytes > KVMBOX_ARGS_MAX)
		return cli_fail(err, errlen, "--: the guest's arguments (with the image name) take "
				"%zu bytes, at most %d", bytes, KVMBOX_ARGS_MAX);
	return 0;
}

/* The VMs of the run: the --vm ones, or the single one of the command line (several of
 * them with --count). */
static int build_vms(struct run_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct vm_opts v;
	unsigned i;

	o->several = o->nspec > 0 || o->defaults.count > 1;
	if (o->nspec && optind < argc)
		return cli_fail(err, errlen, "unexpected argument '%s': with --vm, images go in "
				"--vm NAME=IMAGE", argv[optind]);
	if (o->nspec && o->defaults.out)
		return cli_fail(err, errlen, "--out: with --vm, give each VM its own out=FILE");
	if (o->several && o->defaults.nargs)
		return cli_fail(err, errlen, "--: guest arguments are for one VM (kvmbox run IMAGE -- "
				"ARG...); runs of several VMs (--vm, --count) pass none");
	for (i = 0; i < o->nspec; i++) {
		memset(&v, 0, sizeof(v));
		if (parse_vm(o, i, &v, err, errlen) < 0) {
			vm_opts_free(&v);
			return -1;
		}
		if (add_vm(o, &v, err, errlen) < 0)
			return -1;
	}
	if (!o->nspec) {
		if (optind < argc)
			o->defaults.image = argv[optind++];
		if (o->defaults.image && !*o->defaults.image)
			return cli_fail(err, errlen, "IMAGE is an empty name (''); without IMAGE the "
					"built-in hello guest runs");
		if (optind < argc)
			return cli_fail(err, errlen, "unexpected argument '%s' after IMAGE: the guest's "
					"arguments go after `--` (kvmbox run %s -- %s ...); several VMs: --vm "
					"NAME=IMAGE", argv[optind], o->defaults.image, argv[optind]);
		if (copy_defaults(&v, &o->defaults, err, errlen) < 0)
			return -1;
		single_name(&v);
		if (v.gdb_wait && !v.gdb)
			v.gdb = CLI_GDB_DEFAULT;
		if (add_vm(o, &v, err, errlen) < 0)
			return -1;
		if (!o->several && check_args(&o->vms[0], err, errlen) < 0)
			return -1;
	}
	if (o->nvms > 1 && check_names(o, err, errlen) < 0)
		return -1;
	for (i = 0; i < o->nvms; i++)
		if (cli_vm_opts_done(o, &o->vms[i], "kvmbox run", err, errlen) < 0)
			return -1;
	return 0;
}

int cli_vm_opts_done(const struct run_opts *o, struct vm_opts *v, const char *cmd, char *err,
		     size_t errlen)
{
	if (!v->entry_set)
		v->entry = v->load;
	return check_vm(o, v, cmd, err, errlen);
}

bool run_is_scheduled(const struct run_opts *o)
{
	return o->several || o->sched_opt;
}

int run_parse(int argc, char **argv, struct run_opts *o, char *err, size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->policy = KVMBOX_SCHED_RR;
	o->defaults.weight = 1;
	if (argc > 1 && !strcmp(argv[1], "run")) {
		argv++;
		argc--;
	}
	/* Everything after the first `--` is the guest's (its argv[1..]); getopt sees the rest. */
	for (c = 1; c < argc; c++)
		if (!strcmp(argv[c], "--")) {
			o->defaults.args = argv + c + 1;
			o->defaults.nargs = (unsigned)(argc - c - 1);
			argc = c;
			break;
		}
	optind = 0; /* GNU: full reinitialisation, so the parser can be called again */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:rsSplvhV", long_options, NULL)) != -1)
		if (parse_option(o, c, argv, err, errlen) < 0)
			return -1;
	if (o->help || o->version)
		return 0;
	if (build_vms(o, argc, argv, err, errlen) < 0)
		return -1;
	if (o->repeat > 1 && run_is_scheduled(o))
		return cli_fail(err, errlen, "--repeat reruns one VM from its loaded state; %s needs "
				"the scheduler, which runs each VM once", o->several ? "--vm" : o->sched_opt);
	if (o->repeat > 1 && o->stats_json)
		return cli_fail(err, errlen, "--repeat reruns one VM from its loaded state; "
				"--stats-json reports one run");
	if (o->repeat > 1 && o->vms[0].save)
		return cli_fail(err, errlen, "--repeat reruns one VM from its loaded state; --save "
				"saves one run's VM");
	if (o->repeat > 1 && o->vms[0].gdb)
		return cli_fail(err, errlen, "--repeat: gdb debugs one run (not with -s, -S or --gdb)");
	if (o->sandbox && o->no_seccomp)
		return cli_fail(err, errlen, "--sandbox is for untrusted guests; it does not run "
				"without the system-call filter (--no-seccomp)");
	if (!o->repeat)
		o->repeat = 1;
	return 0;
}

void run_opts_free(struct run_opts *o)
{
	unsigned i;

	for (i = 0; i < o->nvms; i++)
		vm_opts_free(&o->vms[i]);
	free(o->vms);
	o->vms = NULL;
	o->nvms = 0;
	for (i = 0; i < o->nspec; i++)
		free(o->spec[i]);
	free(o->spec);
	o->spec = NULL;
	o->nspec = 0;
	vm_opts_free(&o->defaults);
}

enum kvmbox_log_level cli_log_level(int verbosity, const struct vm_opts *v)
{
	if (v && v->explain)
		return KVMBOX_LOG_EXPLAIN;
	if (v && (v->trace || v->trace_file))
		return KVMBOX_LOG_TRACE;
	if (verbosity)
		return verbosity > 1 ? KVMBOX_LOG_DEBUG : KVMBOX_LOG_INFO;
	return KVMBOX_LOG_WARN;
}
