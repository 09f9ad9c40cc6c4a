/* `kvmbox run --vm NAME=IMAGE ...`: several VMs in one process, scheduled on one thread by
 * the library's scheduler; consoles prefixed with the VM's name (or to a file each), the
 * Matrix ports served and counted, a per-VM report at the end. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/matrix.h"
#include "kvmbox/sched.h"
#include "doctor.h"
#include "multi.h"
#include "opts.h"
#include "status.h"

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
		return cli_fail(err, errlen, "--vm '%s': a name is at most %zu characters, without spaces or quotes",
			    arg, sizeof(v->name) - 1);
	snprintf(v->name, sizeof(v->name), "%s", spec);
	for (i = 0; i + 1 < o->nvms; i++)
		if (!strcmp(o->vms[i].name, v->name))
			return cli_fail(err, errlen, "--vm: the name '%s' is used twice", v->name);
	v->image = strtok_r(eq + 1, ",", &save);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *val = strchr(tok, '=');
		uint64_t n;

		if (!strcmp(tok, "strict")) {
			v->strict = true;
			continue;
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
			return cli_fail(err, errlen, "--vm %s: unknown option '%s' (mode, mem, share, out, timeout, strict)",
				    v->name, tok);
		}
	}
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

int multi_parse(int argc, char **argv, struct multi_opts *o, char *err, size_t errlen)
{
	enum { OPT_VM = 256, OPT_SCHED, OPT_QUANTUM, OPT_YIELD, OPT_DURATION, OPT_TIMEOUT, OPT_CHAN,
	       OPT_PORTS, OPT_JSON, OPT_TRACE_OUT, OPT_TRACE };
	static const struct option longopts[] = {
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
	int c;

	memset(o, 0, sizeof(*o));
	o->policy = KVMBOX_SCHED_RR;
	if (argc > 1 && !strcmp(argv[1], "run")) {
		argv++;
		argc--;
	}
	optind = 0; /* full reset of getopt's state (glibc) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		char *end;
		uint64_t id, cap;

		switch (c) {
		case OPT_VM:
			if (parse_vm(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case OPT_SCHED:
			if (!strcmp(optarg, "io"))
				o->policy = KVMBOX_SCHED_IO;
			else if (!strcmp(optarg, "rr"))
				o->policy = KVMBOX_SCHED_RR;
			else if (!strcmp(optarg, "share"))
				o->policy = KVMBOX_SCHED_SHARE;
			else if (!strncmp(optarg, "script:", 7) && optarg[7]) {
				o->policy = KVMBOX_SCHED_SCRIPT;
				o->script_file = optarg + 7;
			} else
				return cli_fail(err, errlen, "--sched: '%s' (io, rr, share, script:FILE)", optarg);
			break;
		case OPT_QUANTUM:
			errno = 0;
			o->quantum_ms = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->quantum_ms >= 0.01) ||
			    o->quantum_ms > 1e6)
				return cli_fail(err, errlen, "--quantum: '%s' (milliseconds, 0.01 or more)", optarg);
			break;
		case OPT_YIELD:
			o->yield_on_io = true;
			break;
		case OPT_DURATION:
			if (cli_parse_seconds(optarg, &o->duration) < 0)
				return cli_fail(err, errlen, "--duration: '%s' (seconds > 0)", optarg);
			break;
		case OPT_TIMEOUT:
			if (cli_parse_seconds(optarg, &o->timeout) < 0)
				return cli_fail(err, errlen, "--timeout: '%s' (seconds > 0)", optarg);
			break;
		case OPT_CHAN: {
			char buf[64], *eq;

			snprintf(buf, sizeof(buf), "%s", optarg);
			eq = strchr(buf, '=');
			if (!eq)
				return cli_fail(err, errlen, "--chan: '%s' (ID=CAPACITY)", optarg);
			*eq = '\0';
			if (cli_parse_u64(buf, &id) < 0 || id >= KVMBOX_CHAN_MAX ||
			    cli_parse_u64(eq + 1, &cap) < 0 || cap < 1 || cap > KVMBOX_CHAN_CAPACITY_MAX)
				return cli_fail(err, errlen, "--chan: '%s' (ID 0..%d = CAPACITY 1..%d)", optarg,
					    KVMBOX_CHAN_MAX - 1, KVMBOX_CHAN_CAPACITY_MAX);
			o->chan_cap[id] = (uint32_t)cap;
			break;
		}
		case OPT_PORTS:
			o->show_ports = true;
			break;
		case OPT_JSON:
			o->stats_json = optarg;
			break;
		case OPT_TRACE_OUT:
			o->trace_out = optarg;
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			return cli_fail(err, errlen, "%s needs an argument", argv[optind - 1]);
		default:
			return cli_fail(err, errlen, "unknown option '%s' in a several-VM run (see --help)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail(err, errlen, "unexpected argument '%s': images go in --vm NAME=IMAGE",
			    argv[optind]);
	if (!o->nvms)
		return cli_fail(err, errlen, "no --vm given");
	return 0;
}

/* ---- Consoles and ports ----------------------------------------------------------------- */

struct vm_ctx {
	const char *name;
	FILE *file;          /* out=FILE, or NULL: stdout with a prefix per line */
	char line[1024];
	size_t len;
	bool show_ports;
	uint64_t port_writes[KVMBOX_PORT_MATRIX_COUNT];
	uint32_t last_value[KVMBOX_PORT_MATRIX_COUNT];
};

static void line_flush(struct vm_ctx *c)
{
	if (c->len) {
		printf("[%s] %.*s", c->name, (int)c->len, c->line);
		if (c->line[c->len - 1] != '\n')
			putchar('\n');
		c->len = 0;
	}
}

static void console(void *ctx, const char *buf, size_t len)
{
	struct vm_ctx *c = ctx;

	if (c->file) {
		fwrite(buf, 1, len, c->file);
		return;
	}
	while (len--) {
		c->line[c->len++] = *buf;
		if (*buf++ == '\n' || c->len == sizeof(c->line))
			line_flush(c);
	}
}

static void matrix_port(void *ctx, uint16_t port, bool out, uint32_t *value, unsigned size)
{
	struct vm_ctx *c = ctx;
	unsigned k = port - KVMBOX_PORT_MATRIX_FIRST;

	(void)size;
	if (!out)
		return; /* reads give 0 */
	c->port_writes[k]++;
	c->last_value[k] = *value;
	if (c->show_ports)
		printf("[%s] out 0x%x: %u\n", c->name, port, *value);
}

/* ---- The run ----------------------------------------------------------------------------- */

static char *read_text(const char *path, char *err, size_t errlen)
{
	struct kvmbox_error e = { "" };
	uint8_t *data;
	size_t size;
	char *text;

	if (kvmbox_image_read_file(path, &data, &size, &e) < 0) {
		cli_fail(err, errlen, "%s", e.msg);
		return NULL;
	}
	text = realloc(data, size + 1);
	if (!text) {
		free(data);
		cli_fail(err, errlen, "out of memory");
		return NULL;
	}
	text[size] = '\0';
	return text;
}

static int create_vm(const struct multi_vm_opts *v, struct vm_ctx *ctx, struct kvmbox_log *log,
		     struct kvmbox_vm **vmp)
{
	struct kvmbox_vm_config cfg = {
		.name = v->name,
		.mem_size = v->mem,
		.flags = v->strict ? KVMBOX_VM_STRICT : 0,
		.log = log,
		.console = console,
		.console_ctx = ctx,
		.user_port_first = KVMBOX_PORT_MATRIX_FIRST,
		.user_port_count = KVMBOX_PORT_MATRIX_COUNT,
		.user_port = matrix_port,
		.user_port_ctx = ctx,
	};
	struct kvmbox_error err = { "" };
	struct kvmbox_image img;
	uint8_t *data;
	size_t size;
	int ret;

	if (kvmbox_image_read_file(v->image, &data, &size, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: %s\n", v->name, err.msg);
		return EXIT_USAGE;
	}
	if (kvmbox_image_parse(&img, data, size, false, 0, 0, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: %s: %s\n", v->name, v->image, err.msg);
		free(data);
		return EXIT_USAGE;
	}
	cfg.mode = v->mode ? v->mode : img.mode;
	ret = kvmbox_vm_create(vmp, &cfg, &err);
	if (ret < 0) {
		if (ret == -EINVAL || !doctor_say_no_kvm())
			fprintf(stderr, "kvmbox: %s: %s\n", v->name, err.msg);
		free(data);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_HOST;
	}
	ret = kvmbox_vm_load(*vmp, &img, &err);
	free(data);
	if (ret < 0) {
		fprintf(stderr, "kvmbox: %s: %s: %s\n", v->name, v->image, err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The worst outcome decides the exit status (see the usage text). */
static int exit_status(const struct kvmbox_sched *s)
{
	static const int rank[] = { [EXIT_OK] = 0, [EXIT_CHECK] = 1, [EXIT_TIMEOUT] = 2,
				    [EXIT_DEADLOCK] = 3, [EXIT_GUEST_FAULT] = 4, [EXIT_HOST] = 5 };
	int worst = EXIT_OK;
	unsigned i;

	for (i = 0; i < kvmbox_sched_count(s); i++) {
		struct kvmbox_sched_vm_report r;
		int st = EXIT_OK;

		kvmbox_sched_report(s, i, &r);
		switch (r.status) {
		case KVMBOX_SCHED_EXITED:
			st = r.exit_status ? EXIT_CHECK : EXIT_OK;
			break;
		case KVMBOX_SCHED_ASSERT:
			st = EXIT_CHECK;
			break;
		case KVMBOX_SCHED_TIMEOUT:
			st = EXIT_TIMEOUT;
			break;
		case KVMBOX_SCHED_DEADLOCK:
			st = EXIT_DEADLOCK;
			break;
		case KVMBOX_SCHED_FAULT:
		case KVMBOX_SCHED_BAD_CALL:
			st = EXIT_GUEST_FAULT;
			break;
		case KVMBOX_SCHED_HOST_ERROR:
		case KVMBOX_SCHED_RUNNING:
			st = EXIT_HOST;
			break;
		default:
			break;
		}
		if (rank[st] > rank[worst])
			worst = st;
	}
	return worst;
}

static int run(const struct multi_opts *o)
{
	struct kvmbox_log log = { .level = KVMBOX_LOG_WARN, .sink = stderr };
	struct kvmbox_sched_config sc = {
		.policy = o->policy,
		.quantum_ns = (uint64_t)(o->quantum_ms * 1e6),
		.yield_on_io = o->yield_on_io,
		.duration_ns = (uint64_t)(o->duration * 1e9),
		.log = &log,
	};
	struct kvmbox_vm *vms[MULTI_MAX_VMS] = { NULL };
	struct vm_ctx *ctx;
	struct kvmbox_error err = { "" };
	struct kvmbox_sched *s = NULL;
	char *script = NULL, msg[512];
	FILE *trace = NULL, *json;
	int status = EXIT_OK;
	unsigned i, k;

	if (o->verbosity)
		log.level = o->verbosity > 1 ? KVMBOX_LOG_DEBUG : KVMBOX_LOG_INFO;
	if (o->trace)
		log.level = KVMBOX_LOG_TRACE;
	ctx = calloc(o->nvms, sizeof(*ctx));
	if (!ctx)
		return EXIT_HOST;
	if (o->script_file) {
		script = read_text(o->script_file, msg, sizeof(msg));
		if (!script) {
			fprintf(stderr, "kvmbox: --sched script: %s\n", msg);
			status = EXIT_USAGE;
			goto out;
		}
		sc.script = script;
	}
	if (o->trace_out) {
		trace = fopen(o->trace_out, "w");
		if (!trace) {
			fprintf(stderr, "kvmbox: --trace-out %s: %s\n", o->trace_out, strerror(errno));
			status = EXIT_USAGE;
			goto out;
		}
		sc.trace = trace;
	}
	if (kvmbox_sched_create(&s, &sc, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		status = EXIT_USAGE;
		goto out;
	}
	for (k = 0; k < KVMBOX_CHAN_MAX; k++)
		if (o->chan_cap[k])
			kvmbox_chan_hub_set_capacity(kvmbox_sched_hub(s), k, o->chan_cap[k]);
	for (i = 0; i < o->nvms; i++) {
		const struct multi_vm_opts *v = &o->vms[i];
		double timeout = v->timeout ? v->timeout : o->timeout;

		ctx[i].name = v->name;
		ctx[i].show_ports = o->show_ports;
		if (v->out && !(ctx[i].file = fopen(v->out, "w"))) {
			fprintf(stderr, "kvmbox: %s: out=%s: %s\n", v->name, v->out, strerror(errno));
			status = EXIT_USAGE;
			goto out;
		}
		status = create_vm(v, &ctx[i], &log, &vms[i]);
		if (status != EXIT_OK)
			goto out;
		if (kvmbox_sched_add(s, vms[i], v->share, (uint64_t)(timeout * 1e9), &err) < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			status = EXIT_HOST;
			goto out;
		}
	}
	if (kvmbox_sched_run(s, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		status = EXIT_HOST;
		goto out;
	}
	for (i = 0; i < o->nvms; i++)
		line_flush(&ctx[i]);
	fflush(stdout);
	kvmbox_sched_write_report(s, stderr);
	for (i = 0; i < o->nvms; i++)
		if (ctx[i].port_writes[0] || ctx[i].port_writes[1])
			fprintf(stderr, "  %-12s port 0x10: %llu writes (last %u), port 0x11: %llu writes (last %u)\n",
				ctx[i].name, (unsigned long long)ctx[i].port_writes[0], ctx[i].last_value[0],
				(unsigned long long)ctx[i].port_writes[1], ctx[i].last_value[1]);
	status = exit_status(s);
	if (o->stats_json) {
		json = fopen(o->stats_json, "w");
		if (!json || kvmbox_sched_write_json(s, json) < 0) {
			fprintf(stderr, "kvmbox: --stats-json %s: %s\n", o->stats_json, strerror(errno));
			status = status ? status : EXIT_HOST;
		}
		if (json)
			fclose(json);
	}
out:
	kvmbox_sched_destroy(s);
	for (i = 0; i < o->nvms; i++) {
		kvmbox_vm_destroy(vms[i]);
		line_flush(&ctx[i]);
		if (ctx[i].file)
			fclose(ctx[i].file);
	}
	if (trace)
		fclose(trace);
	free(script);
	free(ctx);
	return status;
}

int cli_multi_main(int argc, char **argv)
{
	struct multi_opts *o = calloc(1, sizeof(*o));
	char err[512];
	int status;

	if (!o)
		return EXIT_HOST;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(cli_multi_usage, stdout);
			free(o);
			return EXIT_OK;
		}
	}
	if (multi_parse(argc, argv, o, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmbox: %s\nTry 'kvmbox run --vm --help'.\n", err);
		multi_opts_free(o);
		free(o);
		return EXIT_USAGE;
	}
	if (o->help) {
		fputs(cli_multi_usage, stdout);
		status = EXIT_OK;
	} else {
		status = run(o);
	}
	multi_opts_free(o);
	free(o);
	return status;
}
