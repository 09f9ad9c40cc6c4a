/* `kvmbox run --vm NAME=IMAGE ...`: several VMs in one process, scheduled on one thread by
 * the library's scheduler; consoles prefixed with the VM's name (or to a file each), the
 * Matrix ports served and counted, a per-VM report at the end. The options are parsed in
 * cli/multi_opts.c. */
#include <errno.h>
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

/* What one several-VM run owns; run() releases it whatever happened. */
struct multi_run {
	const struct multi_opts *o;
	struct kvmbox_log log;
	struct kvmbox_sched *s;
	struct kvmbox_vm *vms[MULTI_MAX_VMS];
	struct vm_ctx *ctx;  /* one per VM */
	char *script;        /* --sched script:FILE's text */
	FILE *trace;         /* --trace-out */
};

/* Read the script and open the trace file the scheduler's config names, then create it. */
static int create_sched(struct multi_run *r)
{
	const struct multi_opts *o = r->o;
	struct kvmbox_sched_config sc = {
		.policy = o->policy,
		.quantum_ns = (uint64_t)(o->quantum_ms * 1e6),
		.yield_on_io = o->yield_on_io,
		.duration_ns = (uint64_t)(o->duration * 1e9),
		.log = &r->log,
	};
	struct kvmbox_error err = { "" };
	char msg[512];
	unsigned k;

	if (o->script_file) {
		r->script = read_text(o->script_file, msg, sizeof(msg));
		if (!r->script) {
			fprintf(stderr, "kvmbox: --sched script: %s\n", msg);
			return EXIT_USAGE;
		}
		sc.script = r->script;
	}
	if (o->trace_out) {
		r->trace = fopen(o->trace_out, "w");
		if (!r->trace) {
			fprintf(stderr, "kvmbox: --trace-out %s: %s\n", o->trace_out, strerror(errno));
			return EXIT_USAGE;
		}
		sc.trace = r->trace;
	}
	if (kvmbox_sched_create(&r->s, &sc, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		return EXIT_USAGE;
	}
	for (k = 0; k < KVMBOX_CHAN_MAX; k++)
		if (o->chan_cap[k])
			kvmbox_chan_hub_set_capacity(kvmbox_sched_hub(r->s), k, o->chan_cap[k]);
	return EXIT_OK;
}

/* Create every VM of --vm, with its console, and hand it to the scheduler. */
static int add_vms(struct multi_run *r)
{
	struct kvmbox_error err = { "" };
	unsigned i;
	int status;

	for (i = 0; i < r->o->nvms; i++) {
		const struct multi_vm_opts *v = &r->o->vms[i];
		double timeout = v->timeout ? v->timeout : r->o->timeout;

		r->ctx[i].name = v->name;
		r->ctx[i].show_ports = r->o->show_ports;
		if (v->out && !(r->ctx[i].file = fopen(v->out, "w"))) {
			fprintf(stderr, "kvmbox: %s: out=%s: %s\n", v->name, v->out, strerror(errno));
			return EXIT_USAGE;
		}
		status = create_vm(v, &r->ctx[i], &r->log, &r->vms[i]);
		if (status != EXIT_OK)
			return status;
		if (kvmbox_sched_add(r->s, r->vms[i], v->share, (uint64_t)(timeout * 1e9), &err) < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return EXIT_HOST;
		}
	}
	return EXIT_OK;
}

/* After the run: the consoles' last lines, the per-VM report, the Matrix port counts and
 * the JSON report. Returns the exit status the outcomes decide. */
static int report(const struct multi_run *r)
{
	const struct multi_opts *o = r->o;
	int status;
	FILE *json;
	unsigned i;

	for (i = 0; i < o->nvms; i++)
		line_flush(&r->ctx[i]);
	fflush(stdout);
	kvmbox_sched_write_report(r->s, stderr);
	for (i = 0; i < o->nvms; i++) {
		const struct vm_ctx *c = &r->ctx[i];

		if (c->port_writes[0] || c->port_writes[1])
			fprintf(stderr, "  %-12s port 0x10: %llu writes (last %u), port 0x11: %llu writes (last %u)\n",
				c->name, (unsigned long long)c->port_writes[0], c->last_value[0],
				(unsigned long long)c->port_writes[1], c->last_value[1]);
	}
	status = exit_status(r->s);
	if (o->stats_json) {
		json = fopen(o->stats_json, "w");
		if (!json || kvmbox_sched_write_json(r->s, json) < 0) {
			fprintf(stderr, "kvmbox: --stats-json %s: %s\n", o->stats_json, strerror(errno));
			status = status ? status : EXIT_HOST;
		}
		if (json)
			fclose(json);
	}
	return status;
}

static int run(const struct multi_opts *o)
{
	struct multi_run r = { .o = o, .log = { .level = cli_log_level(o->verbosity, o->trace),
						 .sink = stderr } };
	struct kvmbox_error err = { "" };
	int status;
	unsigned i;

	r.ctx = calloc(o->nvms, sizeof(*r.ctx));
	if (!r.ctx)
		return EXIT_HOST;
	status = create_sched(&r);
	if (status == EXIT_OK)
		status = add_vms(&r);
	if (status == EXIT_OK) {
		if (kvmbox_sched_run(r.s, &err) < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			status = EXIT_HOST;
		} else {
			status = report(&r);
		}
	}
	kvmbox_sched_destroy(r.s);
	for (i = 0; i < o->nvms; i++) {
		kvmbox_vm_destroy(r.vms[i]);
		line_flush(&r.ctx[i]);
		if (r.ctx[i].file)
			fclose(r.ctx[i].file);
	}
	if (r.trace)
		fclose(r.trace);
	free(r.script);
	free(r.ctx);
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
