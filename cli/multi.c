/* A scheduled run: the VMs of `kvmbox run --vm NAME=IMAGE ...` (or one VM with a scheduler
 * option) in one process on one thread; consoles prefixed with the VM's name when there are
 * several (or to a file each), the Matrix ports served and counted, a per-VM report and the
 * JSON statistics at the end. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "kvmbox/abi.h"
#include "kvmbox/kvmbox.h"
#include "kvmbox/matrix.h"
#include "kvmbox/sched.h"
#include "conout.h"
#include "harden.h"
#include "load.h"
#include "multi.h"
#include "signals.h"
#include "status.h"
#include "walk_print.h"

/* ---- Consoles and ports ----------------------------------------------------------------- */

/* After the run, how long kvmbox waits for a slow reader of what is still buffered when the
 * run had a --duration or was cancelled (docs/scheduler.md, "Slow readers"). */
#define DRAIN_GRACE_NS 250000000ull

/* A console write failed: stop the run. The run's cancel flag is the one the scheduler
 * checks; STOP_WRITE_ERROR marks a write error (no signal) for the exit status. */
#define STOP_WRITE_ERROR (-1)

struct vm_ctx {
	const char *name;
	struct kvmbox_log log; /* the VM's own: its trace level and trace-file */
	struct kvmbox_vm *vm;
	struct conout *out;  /* this VM's bounded buffer, to stdout or its out=FILE */
	volatile int *cancel;
	bool prefix;         /* stdout lines prefixed "[name] " (several VMs) */
	char line[1024];
	size_t len;
	bool show_ports;
	uint64_t port_writes[KVMBOX_PORT_MATRIX_COUNT];
	uint32_t last_value[KVMBOX_PORT_MATRIX_COUNT];
};

/* Queue LEN bytes of C's output (WHOLE: all or nothing; GUEST: the guest bytes among them,
 * counted as dropped when they do not fit). */
static void emit(struct vm_ctx *c, const char *p, size_t len, bool whole, size_t guest)
{
	size_t lost = conout_put(c->out, p, len, whole);

	if (lost)
		kvmbox_vm_console_dropped(c->vm, whole ? guest : lost);
}

/* Write what C's fd takes now: once per console call, not per line (a poll each). A failed
 * write ends the run: EPIPE as SIGPIPE would (status 141), any other error as a host error. */
static void pump(struct vm_ctx *c)
{
	int ret = conout_pump(c->out);

	if (ret < 0 && !*c->cancel)
		*c->cancel = ret == -EPIPE ? SIGPIPE : STOP_WRITE_ERROR;
}

static void line_flush(struct vm_ctx *c)
{
	char buf[sizeof(c->line) + VM_NAME_MAX + 8];
	int n;

	if (c->len) {
		n = snprintf(buf, sizeof(buf), "[%s] %.*s%s", c->name, (int)c->len, c->line,
			     c->line[c->len - 1] != '\n' ? "\n" : "");
		emit(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, true, c->len);
		c->len = 0;
	}
}

static void console(void *ctx, const char *buf, size_t len)
{
	struct vm_ctx *c = ctx;

	if (!c->prefix)
		emit(c, buf, len, false, len);
	while (c->prefix && len--) {
		c->line[c->len++] = *buf;
		if (*buf++ == '\n' || c->len == sizeof(c->line))
			line_flush(c);
	}
	pump(c);
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
	if (c->show_ports) {
		char line[VM_NAME_MAX + 48];
		int n = snprintf(line, sizeof(line), "[%s] out 0x%x: %u\n", c->name, port, *value);

		emit(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, true, 0);
		pump(c);
	}
}


/* Bytes gathered for one write, for the sandbox's on_trap (no stdio in a signal handler). */
struct salvage {
	int fd;
	size_t len;
	char buf[PIPE_BUF];
};

static void salvage_put(struct salvage *sv, const char *p, size_t n)
{
	while (n) {
		size_t k = n < sizeof(sv->buf) - sv->len ? n : sizeof(sv->buf) - sv->len;

		memcpy(sv->buf + sv->len, p, k);
		sv->len += k;
		p += k;
		n -= k;
		if (sv->len == sizeof(sv->buf)) {
			conout_salvage(sv->fd, sv->buf, sv->len);
			sv->len = 0;
		}
	}
}

/* C's unfinished line and the bytes the library still holds for it (BYTES, N), each line
 * with the VM's name and the last one ended, as line_flush would have written them. */
static void save_prefixed(const struct vm_ctx *c, const char *bytes, size_t n)
{
	struct salvage sv = { .fd = c->out->fd };
	bool line_start = true;

	for (size_t k = 0; k < c->len + n; k++) {
		char ch = k < c->len ? c->line[k] : bytes[k - c->len];

		if (line_start) {
			salvage_put(&sv, "[", 1);
			salvage_put(&sv, c->name, strlen(c->name));
			salvage_put(&sv, "] ", 2);
		}
		salvage_put(&sv, &ch, 1);
		line_start = ch == '\n';
	}
	if (!line_start)
		salvage_put(&sv, "\n", 1);
	conout_salvage(sv.fd, sv.buf, sv.len);
}

/* ---- The run ----------------------------------------------------------------------------- */

/* What one scheduled run owns; cli_multi_run releases it whatever happened. */
struct multi_run {
	const struct run_opts *o;
	const struct run_inputs *in;
	struct kvmbox_log log;
	struct kvmbox_sched *s;
	struct kvmbox_vm **vms; /* one per VM */
	struct vm_ctx *ctx;  /* one per VM */
	struct conout *outs; /* one per VM */
	uint64_t *asked;     /* one per VM: its stats.snapshots before the run (--save) */
	volatile int *cancel; /* a signal's number, STOP_WRITE_ERROR, or 0 */
	bool one_fd;         /* the open-file limit allows one descriptor per VM (fd_room) */
};

static int create_vm(struct multi_run *r, unsigned i)
{
	const struct vm_opts *v = &r->o->vms[i];
	struct kvmbox_vm_config cfg = {
		.name = v->name,
		.mem_size = v->mem,
		.flags = (v->strict ? KVMBOX_VM_STRICT : 0) | (v->no_coalesce ? KVMBOX_VM_NO_COALESCE : 0) |
			 (v->guard_null ? KVMBOX_VM_GUARD_NULL : 0) | (r->one_fd ? KVMBOX_VM_ONE_FD : 0),
		.log = &r->ctx[i].log,
		.console = console,
		.console_ctx = &r->ctx[i],
		.share_dir = v->share,
		.share_readonly = v->share_ro,
		.user_port_first = KVMBOX_PORT_MATRIX_FIRST,
		.user_port_count = KVMBOX_PORT_MATRIX_COUNT,
		.user_port = matrix_port,
		.user_port_ctx = &r->ctx[i],
	};
	struct kvmbox_image img;
	char who[VM_NAME_MAX + 256];
	const char *guest_argv[KVMBOX_ARGC_MAX];
	uint8_t *file = NULL;
	int status;

	cfg.argc = cli_guest_argv(v, guest_argv);
	cfg.argv = guest_argv;
	r->outs[i].fd = r->in->out[i] ? fileno(r->in->out[i]) : STDOUT_FILENO;
	r->ctx[i] = (struct vm_ctx){ .name = v->name, .out = &r->outs[i], .cancel = r->cancel,
				     .log = { .level = cli_log_level(r->o->verbosity, v),
					      .sink = r->in->log[i] ? r->in->log[i] : stderr },
				     .prefix = r->o->nvms > 1 && (!r->in->out[i] ||
						run_inputs_out_shared(r->in, r->o->nvms, i)),
				     .show_ports = r->o->show_ports };
	snprintf(who, sizeof(who), "%s: %s", v->name,
		 v->image ? v->image : v->restore ? v->restore : "built-in hello");
	cli_apply_profile(r->o, v, &cfg);
	cfg.save_fd = r->in->save[i] >= 0 ? r->in->save[i] : 0;
	if (v->restore) {
		status = cli_vm_restore(&cfg, v, r->in->restore_copy[i], who, &r->vms[i]);
	} else {
		status = cli_image_read(v, &file, &img, &cfg.mode);
		if (status == EXIT_OK)
			status = cli_vm_start(&cfg, &img, who, &r->vms[i]);
		free(file);
	}
	r->ctx[i].vm = r->vms[i];
	return status;
}

/* The scheduler of the run's options, then every VM added to it. */
static int create_sched(struct multi_run *r)
{
	const struct run_opts *o = r->o;
	struct kvmbox_sched_config sc = {
		.policy = o->policy,
		.quantum_ns = (uint64_t)(o->quantum_ms * 1e6),
		.yield_on_io = o->yield_on_io,
		.duration_ns = (uint64_t)(o->duration * 1e9),
		.script = r->in->script,
		.trace = r->in->trace,
		.cancel = r->cancel,
		.log = &r->log,
	};
	struct kvmbox_error err = { "" };
	unsigned i, k;
	int status;

	if (kvmbox_sched_create(&r->s, &sc, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		return EXIT_USAGE;
	}
	for (k = 0; k < KVMBOX_CHAN_MAX; k++)
		if (o->chan_cap[k])
			kvmbox_chan_hub_set_capacity(kvmbox_sched_hub(r->s), k, o->chan_cap[k], NULL);
	for (i = 0; i < o->nvms; i++) {
		if ((status = create_vm(r, i)) != EXIT_OK)
			return status;
		if (kvmbox_sched_add(r->s, r->vms[i], o->vms[i].weight,
				     (uint64_t)(o->vms[i].timeout * 1e9), &err) < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return EXIT_HOST;
		}
	}
	return EXIT_OK;
}

/* The sandbox's on_trap: a forbidden call ends the process; every VM's output that kvmbox
 * still holds goes out first (what its buffer waits to write, its unfinished line, what the
 * library has not handed over yet), as far as the readers take it. */
static void save_output(void *ctx)
{
	const struct multi_run *r = ctx;

	for (unsigned i = 0; i < r->o->nvms; i++) {
		const struct vm_ctx *c = &r->ctx[i];
		const char *bytes;
		size_t n = kvmbox_vm_console_pending(r->vms[i], &bytes);

		conout_salvage(c->out->fd, c->out->buf, c->out->len);
		if (c->prefix)
			save_prefixed(c, bytes, n);
		else
			conout_salvage(c->out->fd, bytes, n);
	}
}

/* One VM's outcome as an exit status. */
static int vm_status(const struct multi_run *r, unsigned i, const struct kvmbox_sched_vm_report *rep)
{
	switch (rep->status) {
	case KVMBOX_SCHED_HALTED:
		return r->o->vms[i].image || r->o->vms[i].restore ? EXIT_OK
								  : cli_check_hello(r->vms[i], true);
	case KVMBOX_SCHED_EXITED:
		return exit_status_of_guest(rep->exit_status);
	case KVMBOX_SCHED_STOPPED:
		return EXIT_OK;
	case KVMBOX_SCHED_ASSERT:
		return EXIT_CHECK;
	case KVMBOX_SCHED_TIMEOUT:
		return EXIT_TIMEOUT;
	case KVMBOX_SCHED_DEADLOCK:
		return EXIT_DEADLOCK;
	case KVMBOX_SCHED_FAULT:
	case KVMBOX_SCHED_BAD_CALL:
		return EXIT_GUEST_FAULT;
	default:
		return EXIT_HOST;
	}
}

/* Where ST stands in WORST (N entries): its index, N when it is none of them. */
static unsigned worst_rank(const int *worst, unsigned n, int st)
{
	unsigned k;

	for (k = 0; k < n && worst[k] != st; k++)
		;
	return k;
}

/* The run's exit status: the worst of kvmbox's verdicts (cli/status.h's order), else the first VM's
 * own status that is not 0. One pass over the VMs (a run may have thousands). */
static int exit_status(const struct multi_run *r)
{
#define WORST(name) name,
	static const int worst_first[] = { EXIT_WORST_FIRST(WORST) };
#undef WORST
	unsigned i, n = sizeof(worst_first) / sizeof(worst_first[0]), best = n;
	int first = EXIT_OK;

	for (i = 0; i < r->o->nvms; i++) {
		struct kvmbox_sched_vm_report rep;
		unsigned k;
		int st;

		kvmbox_sched_report(r->s, i, &rep);
		st = vm_status(r, i, &rep);
		k = worst_rank(worst_first, n, st);
		if (k < best)
			best = k;
		else if (k == n && first == EXIT_OK)
			first = st;
	}
	return best < n ? worst_first[best] : first;
}

/* The guest's bytes among what C still has buffered: with prefixed lines, the buffer holds
 * whole lines, each "[name] " and a newline (the guest's, or one kvmbox added to end it). */
static uint64_t guest_bytes_left(const struct vm_ctx *c)
{
	const struct conout *o = c->out;
	uint64_t lines = 0;

	if (!c->prefix)
		return o->len;
	for (size_t k = 0; k < o->len; k++)
		lines += o->buf[k] == '\n';
	return o->len - lines * (strlen(c->name) + 3);
}

/* After the run, the consoles' last lines and what is still buffered: written as the
 * readers take them, waiting for them without a limit only when the run had no duration
 * and was not cancelled (the guests have ended: nobody else waits), else at most
 * DRAIN_GRACE_NS; what is left then is dropped and counted. Returns the write error, or 0. */
static int finish_output(struct multi_run *r)
{
	uint64_t until = 0;
	struct timespec ts;
	unsigned i;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (r->o->duration > 0 || *r->cancel)
		until = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + DRAIN_GRACE_NS;
	for (i = 0; i < r->o->nvms; i++) {
		long left;

		line_flush(&r->ctx[i]);
		left = conout_drain(&r->outs[i], until, r->cancel);
		/* After a failed write nothing more is written: what waits is lost too. */
		if (left != 0)
			kvmbox_vm_console_dropped(r->vms[i], guest_bytes_left(&r->ctx[i]));
		if (left < 0 && !err)
			err = (int)-left;
	}
	return err;
}

/* The run's exit status when the output or a signal ended it (0: neither), with its line. */
static int stopped_status(const struct multi_run *r, int write_err)
{
	if (write_err && write_err != EPIPE) {
		fprintf(stderr, "kvmbox: host error: console output: %s\n", strerror(write_err));
		return EXIT_HOST;
	}
	if (write_err == EPIPE || *r->cancel == SIGPIPE) {
		fprintf(stderr, "kvmbox: the console's reader went away (SIGPIPE): the guests were stopped\n");
		return EXIT_SIGNAL + SIGPIPE;
	}
	if (*r->cancel > 0) {
		fprintf(stderr, "kvmbox: interrupted by signal %d: the guests were stopped\n", *r->cancel);
		return EXIT_SIGNAL + *r->cancel;
	}
	return 0;
}

/* After the run: the per-VM report, registers and counters asked
 * for, the Matrix port counts and the JSON report. */
static void report(const struct multi_run *r)
{
	const struct run_opts *o = r->o;
	unsigned i;

	kvmbox_sched_write_report(r->s, stderr);
	for (i = 0; i < o->nvms; i++) {
		const struct vm_ctx *c = &r->ctx[i];

		if (c->port_writes[0] || c->port_writes[1])
			fprintf(stderr, "  %-12s port 0x10: %llu writes (last %u), port 0x11: %llu writes (last %u)\n",
				c->name, (unsigned long long)c->port_writes[0], c->last_value[0],
				(unsigned long long)c->port_writes[1], c->last_value[1]);
		if (o->vms[i].regs || o->vms[i].stats)
			fprintf(stderr, "[%s]\n", c->name);
		if (o->vms[i].regs)
			cli_print_regs(r->vms[i]);
		if (o->vms[i].stats)
			cli_print_stats(r->vms[i]);
		cli_print_walks(r->vms[i], &o->vms[i], true);
	}
}

/* Descriptors a run of N VMs keeps open: each VM's VM and vCPU fds (its vCPU's alone with
 * KVMBOX_VM_ONE_FD), with room for the standard ones, output files and /dev/kvm while a VM
 * is made. */
#define FDS_SPARE 64u

/* Set the soft RLIMIT_NOFILE to at least NEED, past the hard limit when the process may
 * (CAP_SYS_RESOURCE). Returns 0 or -errno. */
static int raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		rl.rlim_max = need;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

/* Make room for NVMS VMs' descriptors: two each when the open-file limit can be raised that
 * far, else one each (*ONE_FD: the VMs close their own descriptor, KVMBOX_VM_ONE_FD). Returns
 * EXIT_OK, or EXIT_HOST after one line saying which limit stands in the way. */
static int fd_room(unsigned nvms, const struct kvmbox_log *log, bool *one_fd)
{
	rlim_t two = (rlim_t)nvms * 2 + FDS_SPARE, one = (rlim_t)nvms + FDS_SPARE;
	struct rlimit rl;
	int ret;

	*one_fd = false;
	if (raise_nofile(two) == 0)
		return EXIT_OK;
	ret = raise_nofile(one);
	if (ret == 0) {
		*one_fd = true;
		if (log->level >= KVMBOX_LOG_INFO)
			fprintf(stderr, "kvmbox: %u VMs: one open file each (the open-file limit is "
				"below %llu): no VM keeps its VM descriptor\n", nvms,
				(unsigned long long)two);
		return EXIT_OK;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(stderr, "kvmbox: %u VMs need at least %llu open files (one each, two for "
		"snapshots and late console coalescing), more than this process may open (the hard "
		"limit, ulimit -Hn, is %llu; raising it: %s): raise it (ulimit -Hn, or LimitNOFILE= "
		"for a service) or run fewer VMs\n", nvms, (unsigned long long)one,
		(unsigned long long)rl.rlim_max, strerror(-ret));
	return EXIT_HOST;
}

int cli_multi_run(const struct run_opts *o, const struct run_inputs *in, volatile int *cancel)
{
	struct multi_run r = { .o = o, .in = in, .cancel = cancel,
			       .log = { .level = cli_log_level(o->verbosity, NULL), .sink = stderr } };
	struct kvmbox_error err = { "" };
	int status, stopped;
	unsigned i;

	/* A reader that went away is seen as EPIPE by the console writer, which ends the run
	 * with the report, the JSON and status 141 instead of dying silently. */
	signal(SIGPIPE, SIG_IGN);
	r.ctx = calloc(o->nvms, sizeof(*r.ctx));
	r.outs = calloc(o->nvms, sizeof(*r.outs));
	r.vms = calloc(o->nvms, sizeof(*r.vms));
	r.asked = calloc(o->nvms, sizeof(*r.asked));
	if (!r.ctx || !r.outs || !r.vms || !r.asked) {
		free(r.ctx);
		free(r.outs);
		free(r.vms);
		free(r.asked);
		return EXIT_HOST;
	}
	status = fd_room(o->nvms, &r.log, &r.one_fd);
	if (status == EXIT_OK)
		status = create_sched(&r);
	if (status == EXIT_OK) {
		cli_stop_kicks(r.vms, o->nvms);
		status = cli_harden(o, r.vms, o->nvms, save_output, &r);
	}
	for (i = 0; status == EXIT_OK && i < o->nvms; i++)
		r.asked[i] = kvmbox_vm_stats(r.vms[i])->snapshots;
	if (status == EXIT_OK && kvmbox_sched_run(r.s, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		status = EXIT_HOST;
	} else if (status == EXIT_OK) {
		stopped = stopped_status(&r, finish_output(&r));
		report(&r);
		status = stopped ? stopped : exit_status(&r);
		for (i = 0; i < o->nvms; i++)
			if (o->vms[i].save)
				status = cli_save_after(r.vms[i], o->vms[i].name, o->vms[i].save,
							in->save[i], status, r.asked[i]);
		/* A failed write shows when the file is closed (run_inputs_close): one line,
		 * status 71 unless the run has a verdict of its own. */
		if (in->stats_json)
			kvmbox_sched_write_json(r.s, in->stats_json);
	}
	cli_stop_kicks(NULL, 0);
	kvmbox_sched_destroy(r.s);
	for (i = 0; i < o->nvms; i++) {
		r.ctx[i].vm = NULL;
		kvmbox_vm_destroy(r.vms[i]);
		line_flush(&r.ctx[i]);
		conout_drain(&r.outs[i], 1, r.cancel); /* a run that failed early: what fits now */
	}
	free(r.ctx);
	free(r.outs);
	free(r.vms);
	free(r.asked);
	return status;
}
