/* One VM run directly by kvmbox_vm_run: --repeat resets it between runs, Ctrl-C stops it
 * cleanly, and how it ended becomes a message and an exit status (cli/status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kvmbox/abi.h"
#include "kvmbox/kvmbox.h"
#include "kvmbox/sched.h"
#include "conout.h"
#include "harden.h"
#include "load.h"
#include "signals.h"
#include "single.h"
#include "status.h"
#include "walk_print.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Map how the run ended to a message and an exit status. QUIET: --repeat's silent passes. */
static int report(const struct kvmbox_vm *vm, const struct kvmbox_result *res,
		  const struct vm_opts *v, int signo, bool quiet)
{
	switch (res->stop) {
	case KVMBOX_STOP_HALT:
		return v->image || v->restore ? EXIT_OK : cli_check_hello(vm, quiet);
	case KVMBOX_STOP_EXIT:
		if (res->status)
			fprintf(stderr, "kvmbox: the guest exited with status %d%s\n", res->status,
				exit_status_of_guest(res->status) == EXIT_GUEST_RANGE
				? ", one kvmbox owns: reported as 68" : "");
		return exit_status_of_guest(res->status);
	case KVMBOX_STOP_CANCELLED:
		if (!signo) { /* no signal of ours: gdb's kill */
			fprintf(stderr, "kvmbox: %s\n", res->msg);
			return EXIT_SIGNAL + 9;
		}
		fprintf(stderr, "kvmbox: interrupted by signal %d: the guest was stopped\n", signo);
		return EXIT_SIGNAL + signo;
	case KVMBOX_STOP_ASSERT:
		fprintf(stderr, "kvmbox: %s\n", res->msg);
		return EXIT_CHECK;
	case KVMBOX_STOP_TIMEOUT:
		fprintf(stderr, "kvmbox: timeout: the guest was still running after %g s and was stopped\n",
			v->timeout);
		return EXIT_TIMEOUT;
	case KVMBOX_STOP_FAULT:
	case KVMBOX_STOP_BAD_CALL:
		fprintf(stderr, "kvmbox: guest fault: %s\n", res->msg);
		if (!v->regs)
			cli_print_regs(vm);
		return EXIT_GUEST_FAULT;
	default:
		fprintf(stderr, "kvmbox: host error: %s\n", res->msg);
		return EXIT_HOST;
	}
}

/* Run the loaded VM REPEAT times; from the second run on, kvmbox_vm_reset first puts it back
 * in its loaded state (the reset point cli_single_run took before the sandbox). Stops at the
 * first run that does not end well and returns its status. */
static int run_repeated(struct kvmbox_vm *vm, const struct vm_opts *v, uint64_t repeat,
			volatile int *cancel)
{
	struct kvmbox_run_opts ropts = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE, .cancel = cancel };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	uint64_t i, start = now_ns();
	int ret, status = EXIT_OK;

	for (i = 0; i < repeat; i++) {
		if (i > 0 && (ret = kvmbox_vm_reset(vm, &err)) < 0) {
			fprintf(stderr, "kvmbox: reset before run %llu: %s\n", (unsigned long long)i + 1,
				err.msg);
			return EXIT_HOST;
		}
		if (v->timeout > 0)
			ropts.deadline_ns = now_ns() + (uint64_t)(v->timeout * 1e9);
		if ((ret = kvmbox_vm_run(vm, &ropts, &res)) < 0) {
			fprintf(stderr, "kvmbox: run: %s\n", strerror(-ret));
			return EXIT_HOST;
		}
		fflush(stdout);
		status = report(vm, &res, v, *cancel, repeat > 1);
		if (status != EXIT_OK) {
			if (repeat > 1)
				fprintf(stderr, "kvmbox: run %llu of %llu did not end well\n",
					(unsigned long long)i + 1, (unsigned long long)repeat);
			return status;
		}
	}
	if (repeat > 1)
		fprintf(stderr, "kvmbox: %llu runs, all Ok, %.0f reset+run cycles/s\n",
			(unsigned long long)repeat, (double)repeat * 1e9 / (double)(now_ns() - start));
	return status;
}

/* The single run's outcome as a kvmbox_result, from the scheduler's report of it. */
static void result_of(const struct kvmbox_sched_vm_report *rep, struct kvmbox_result *res)
{
	static const enum kvmbox_stop stop[] = {
		[KVMBOX_SCHED_HALTED] = KVMBOX_STOP_HALT, [KVMBOX_SCHED_EXITED] = KVMBOX_STOP_EXIT,
		[KVMBOX_SCHED_FAULT] = KVMBOX_STOP_FAULT, [KVMBOX_SCHED_ASSERT] = KVMBOX_STOP_ASSERT,
		[KVMBOX_SCHED_BAD_CALL] = KVMBOX_STOP_BAD_CALL,
		[KVMBOX_SCHED_TIMEOUT] = KVMBOX_STOP_TIMEOUT,
		[KVMBOX_SCHED_CANCELLED] = KVMBOX_STOP_CANCELLED,
	};

	*res = (struct kvmbox_result){ .status = rep->exit_status };
	res->stop = (size_t)rep->status < sizeof(stop) / sizeof(stop[0]) && stop[rep->status]
		    ? stop[rep->status] : KVMBOX_STOP_HOST_ERROR;
	snprintf(res->msg, sizeof(res->msg), "%s", rep->message ? rep->message : "");
}

/* --stats-json: the one run goes through a scheduler of this VM alone, whose accounting
 * (guest time, quanta, exits) writes the JSON of any run, one VM or several
 * (docs/stats.schema.json). What the run prints is a single VM's: its console, its verdict
 * (the hello guest's Ok line), no scheduler table. */
static int run_measured(struct kvmbox_vm *vm, const struct run_opts *o,
			const struct run_inputs *in, volatile int *cancel)
{
	const struct vm_opts *v = &o->vms[0];
	struct kvmbox_sched_config sc = { .policy = KVMBOX_SCHED_RR, .cancel = cancel };
	struct kvmbox_error err = { "" };
	struct kvmbox_sched_vm_report rep;
	struct kvmbox_sched *s = NULL;
	struct kvmbox_result res;
	int status;

	if (kvmbox_sched_create(&s, &sc, &err) < 0 ||
	    kvmbox_sched_add(s, vm, v->weight, (uint64_t)(v->timeout * 1e9), &err) < 0 ||
	    kvmbox_sched_run(s, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		kvmbox_sched_destroy(s);
		return EXIT_HOST;
	}
	fflush(stdout);
	kvmbox_sched_report(s, 0, &rep);
	if (rep.status == KVMBOX_SCHED_DEADLOCK) { /* alone, waiting on a channel */
		fprintf(stderr, "kvmbox: deadlock: %s\n", rep.message);
		status = EXIT_DEADLOCK;
	} else {
		result_of(&rep, &res);
		status = report(vm, &res, v, *cancel, false);
	}
	/* A failed write shows when the file is closed (run_inputs_close), as for several VMs. */
	kvmbox_sched_write_json(s, in->stats_json);
	kvmbox_sched_destroy(s);
	return status;
}

/* The sandbox's on_trap: a forbidden call ends the process; what the guest printed and
 * kvmbox still holds goes out first. */
struct console_of_run {
	struct kvmbox_vm *vm;
	int fd;
};

static void save_console(void *ctx)
{
	const struct console_of_run *c = ctx;
	const char *bytes;
	size_t n = kvmbox_vm_console_pending(c->vm, &bytes);

	conout_salvage(c->fd, bytes, n);
}

int cli_single_run(const struct run_opts *o, const struct run_inputs *in, volatile int *cancel)
{
	const struct vm_opts *v = &o->vms[0];
	struct kvmbox_log log = { .level = cli_log_level(o->verbosity, v),
				  .sink = in->log[0] ? in->log[0] : stderr };
	struct kvmbox_vm_config cfg = {
		.name = v->name,
		.mem_size = v->mem,
		.flags = (v->strict ? KVMBOX_VM_STRICT : 0) | (v->no_coalesce ? KVMBOX_VM_NO_COALESCE : 0) |
			 (v->guard_null ? KVMBOX_VM_GUARD_NULL : 0),
		.log = &log,
		.console_fd = in->out[0] ? fileno(in->out[0]) : 1,
		.share_dir = v->share,
		.share_readonly = v->share_ro,
		.gdb = v->gdb,
		.gdb_wait = v->gdb_wait,
	};
	struct kvmbox_image img;
	struct kvmbox_vm *vm = NULL;
	struct console_of_run con;
	struct kvmbox_error err = { "" };
	const char *guest_argv[KVMBOX_ARGC_MAX];
	uint8_t *file = NULL;
	uint64_t asked = 0;
	int status;

	cfg.argc = cli_guest_argv(v, guest_argv);
	cfg.argv = guest_argv;
	cfg.save_fd = in->save[0] >= 0 ? in->save[0] : 0;

	cli_apply_profile(o, v, &cfg);
	if (v->restore) {
		status = cli_vm_restore(&cfg, v, in->restore_copy[0], v->restore, &vm);
	} else {
		status = cli_image_read(v, &file, &img, &cfg.mode);
		if (status == EXIT_OK)
			status = cli_vm_start(&cfg, &img, v->image ? v->image : "built-in hello", &vm);
		free(file);
	}
	if (status == EXIT_OK && v->gdb)
		fprintf(stderr, "kvmbox: gdb server on %s%s\n", kvmbox_vm_gdb_address(vm),
			v->gdb_wait ? ": the guest waits for gdb (-S)" : "");
	/* --repeat's reset point before the sandbox, which allows no change to a memory slot. */
	if (status == EXIT_OK && o->repeat > 1 && kvmbox_vm_set_reset_point(vm, &err) < 0) {
		fprintf(stderr, "kvmbox: reset point: %s\n", err.msg);
		status = EXIT_HOST;
	}
	if (status == EXIT_OK) {
		cli_stop_kicks(&vm, 1);
		con = (struct console_of_run){ vm, cfg.console_fd };
		status = cli_harden(o, &vm, 1, save_console, &con);
	}
	if (status == EXIT_OK) {
		asked = kvmbox_vm_stats(vm)->snapshots;
		status = in->stats_json ? run_measured(vm, o, in, cancel)
			 : run_repeated(vm, v, o->repeat, cancel);
		if (v->regs)
			cli_print_regs(vm);
		if (v->stats)
			cli_print_stats(vm);
		cli_print_walks(vm, v, false);
		if (v->save)
			status = cli_save_after(vm, v->name, v->save, in->save[0], status, asked);
	}
	cli_stop_kicks(NULL, 0);
	cli_vm_leave(vm);
	return status;
}
