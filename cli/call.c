/* `kvmbox call IMAGE FUNCTION [ARG...]`: run the guest's main, then call a function it
 * exports with integer or string arguments and print what it returns; --repeat calls it again
 * and again, reset in between, and says how many calls a second; --list names the exports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kvmbox/call.h"
#include "call.h"
#include "harden.h"
#include "inputs.h"
#include "load.h"
#include "opts.h"
#include "signals.h"
#include "status.h"

const char cli_call_usage[] =
	"usage: kvmbox call [OPTION...] IMAGE FUNCTION [ARG...]\n"
	"       kvmbox call IMAGE --list\n"
	"       kvmbox call --restore FILE [OPTION...] FUNCTION [ARG...]   (or --list)\n"
	"Run IMAGE's main (an SDK guest's setup: it must end in a halt or an exit), then call the\n"
	"FUNCTION it exports (KVMBOX_EXPORT) with the ARGs and print its return value in decimal.\n"
	"An ARG that is a whole integer (decimal, 0x hex, negative) is passed as an integer; any\n"
	"other, or one written s:TEXT, as a string: TEXT with its NUL is copied into the guest's\n"
	"call area and the function gets its address. FUNCTION may be an address (0x...), for an\n"
	"image without exports. The guest may call the host function `log` (kvmbox_host_call):\n"
	"log(address, length) writes its bytes to stderr (docs/usage.md).\n"
	"\n"
	"  --list              the functions IMAGE exports, with their addresses (runs nothing)\n"
	"  --repeat N          call FUNCTION N times, the VM reset to its state after main before\n"
	"                      each, and say on stderr how many calls a second\n"
	"  --no-main           call FUNCTION in the image as loaded, without running main\n"
	"  --restore FILE      no IMAGE: call FUNCTION in the VM saved in FILE (`kvmbox run\n"
	"                      --save FILE IMAGE` saves it when main halts), main not run again\n"
	"  -p, --print-args    after the value, print each string argument as the call left it\n"
	"  -m, --mode MODE     the mode the image must be (it names its own); flat images: --load\n"
	"  --mem SIZE          guest memory (default 2M)\n"
	"  --timeout SECONDS   stop main and each call at this deadline (status 66)\n"
	"  --share DIR[:ro]    the directory the guest's file hypercalls may use\n"
	"  --sandbox           the untrusted-guest profile (docs/security.md); host functions run\n"
	"                      under its system-call filter too\n"
	"  --no-seccomp, --strict, --trace, --stats, --regs, -v   as for `kvmbox run`\n"
	"Exit status: 0 when the function returned (whatever its value), else the statuses of\n"
	"`kvmbox run` for how main or the call ended (`kvmbox help`).\n";

/* Options of `kvmbox call` that `kvmbox run` has not. */
enum { OPT_LIST = 256, OPT_REPEAT, OPT_NO_MAIN, OPT_SANDBOX, OPT_NO_SECCOMP, OPT_PER_VM };

static const struct {
	const char *key;
	bool arg;
} per_vm[] = {
	{ "mode", true }, { "mem", true }, { "timeout", true }, { "share", true }, { "load", true },
	{ "entry", true }, { "strict", false }, { "trace", false }, { "stats", false }, { "regs", false },
	{ "restore", true },
};

struct call_opts {
	struct run_opts run; /* the one VM's options and the run-wide ones harden reads */
	struct vm_opts vm;
	bool list, no_main, print_args;
	const char *function;
	char **args;
	unsigned nargs;
};

static int parse(int argc, char **argv, struct call_opts *c, char *err, size_t errlen)
{
	struct option longs[32] = {
		{ "list", no_argument, NULL, OPT_LIST },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "no-main", no_argument, NULL, OPT_NO_MAIN },
		{ "sandbox", no_argument, NULL, OPT_SANDBOX },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
		{ "print-args", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
	};
	unsigned n = 7;
	int opt, idx;

	for (size_t i = 0; i < sizeof(per_vm) / sizeof(per_vm[0]); i++)
		longs[n++] = (struct option){ per_vm[i].key, per_vm[i].arg ? required_argument : no_argument,
					      NULL, OPT_PER_VM + (int)i };
	c->run.repeat = 1;
	c->run.vms = &c->vm;
	c->run.nvms = 1;
	snprintf(c->vm.name, sizeof(c->vm.name), "vm");
	optind = 0;
	opterr = 0;
	/* "+": the first word that is not an option ends them, so that a negative ARG stays one. */
	while ((opt = getopt_long(argc - 1, argv + 1, "+hpvm:", longs, &idx)) != -1) {
		const char *key = NULL, *val = optarg;
		char where[32];

		switch (opt) {
		case 'h': c->run.help = true; break;
		case 'p': c->print_args = true; break;
		case 'v': c->run.verbosity++; break;
		case 'm': key = "mode"; break;
		case OPT_LIST: c->list = true; break;
		case OPT_NO_MAIN: c->no_main = true; break;
		case OPT_SANDBOX: c->run.sandbox = true; break;
		case OPT_NO_SECCOMP: c->run.no_seccomp = true; break;
		case OPT_REPEAT:
			if (cli_parse_u64(optarg, &c->run.repeat) < 0 || !c->run.repeat)
				return cli_fail(err, errlen, "--repeat: '%s' is not a count of 1 or more", optarg);
			break;
		case '?':
			return cli_fail(err, errlen, "unknown option or missing value: '%s'",
					argv[optind] ? argv[optind] : "");
		default:
			key = per_vm[opt - OPT_PER_VM].key;
			if (!per_vm[opt - OPT_PER_VM].arg)
				val = NULL;
		}
		snprintf(where, sizeof(where), "--%s", key ? key : "");
		if (key && vm_opt_set(&c->vm, key, val, where, err, errlen) < 0)
			return -1;
	}
	if (c->run.help)
		return 0;
	idx = optind + 1;
	if (c->vm.restore) /* the snapshot holds the VM: no IMAGE, no main */
		c->no_main = true;
	else if (idx >= argc)
		return cli_fail(err, errlen, "an IMAGE is needed (or --restore FILE)");
	else
		c->vm.image = argv[idx++];
	/* --list may also come after IMAGE. */
	if (idx < argc && !strcmp(argv[idx], "--list")) {
		c->list = true;
		idx++;
	}
	if (cli_vm_opts_done(&c->run, &c->vm, NULL, err, errlen) < 0)
		return -1;
	if (c->list)
		return idx < argc ? cli_fail(err, errlen, "--list takes no FUNCTION") : 0;
	if (idx >= argc)
		return cli_fail(err, errlen, "a FUNCTION to call is needed (kvmbox call IMAGE --list "
				"names them)");
	c->function = argv[idx++];
	c->args = argv + idx;
	c->nargs = (unsigned)(argc - idx);
	if (c->nargs > KVMBOX_CALL_ARGS_MAX)
		return cli_fail(err, errlen, "%u arguments; a call takes at most %d", c->nargs,
				KVMBOX_CALL_ARGS_MAX);
	return 0;
}

/* A whole integer: optional '-', then decimal digits or 0x and hex digits, nothing else. */
static bool parse_int(const char *s, uint64_t *v)
{
	bool neg = *s == '-';
	const char *p = s + neg;
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	char *end;

	if (!*p || (hex && !p[2]) || *p == '+' || *p == ' ' || (!hex && (*p < '0' || *p > '9')))
		return false;
	errno = 0;
	*v = strtoull(hex ? p + 2 : p, &end, hex ? 16 : 10);
	if (*end || errno || (hex ? p[2] == '-' || p[2] == '+' : false))
		return false;
	if (!hex && *v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	if (neg)
		*v = 0 - *v;
	return true;
}

/* The host functions every `kvmbox call` gives the guest: log(address, length). */
static int64_t host_log(struct kvmbox_host_call *hc, void *ctx)
{
	char buf[4096];
	uint64_t len = kvmbox_host_call_arg(hc, 1);

	(void)ctx;
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (kvmbox_host_call_read(hc, kvmbox_host_call_arg(hc, 0), buf, len) < 0)
		return -EFAULT;
	fwrite(buf, 1, len, stderr);
	return (int64_t)len;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* How a run of main or a call ended, as an exit status, with one line on stderr when it is
 * not a success. WHAT: "main" or the function's name. */
static int verdict(const struct kvmbox_vm *vm, const struct kvmbox_result *res, const char *what,
		   const struct vm_opts *v, int signo)
{
	switch (res->stop) {
	case KVMBOX_STOP_RETURNED:
	case KVMBOX_STOP_HALT:
		return EXIT_OK;
	case KVMBOX_STOP_EXIT:
		if (res->status)
			fprintf(stderr, "kvmbox: %s: the guest exited with status %d\n", what, res->status);
		return exit_status_of_guest(res->status);
	case KVMBOX_STOP_CANCELLED:
		fprintf(stderr, "kvmbox: interrupted by signal %d: the guest was stopped\n", signo);
		return EXIT_SIGNAL + signo;
	case KVMBOX_STOP_ASSERT:
		fprintf(stderr, "kvmbox: %s: %s\n", what, res->msg);
		return EXIT_CHECK;
	case KVMBOX_STOP_TIMEOUT:
		fprintf(stderr, "kvmbox: %s: timeout: still running after %g s, stopped\n", what,
			v->timeout);
		return EXIT_TIMEOUT;
	case KVMBOX_STOP_FAULT:
	case KVMBOX_STOP_BAD_CALL:
		fprintf(stderr, "kvmbox: %s: guest fault: %s\n", what, res->msg);
		if (!v->regs)
			cli_print_regs(vm);
		return EXIT_GUEST_FAULT;
	default:
		fprintf(stderr, "kvmbox: %s: host error: %s\n", what, res->msg);
		return EXIT_HOST;
	}
}

/* The exports of IMG, or of VM when IMG is NULL (a VM made from a snapshot). */
static int list(const struct kvmbox_image *img, const struct kvmbox_vm *vm)
{
	struct kvmbox_export e;

	for (unsigned i = 0; img ? kvmbox_image_export(img, i, &e) == 0 : kvmbox_vm_export(vm, i, &e) == 0; i++)
		printf("0x%-8llx %s\n", (unsigned long long)e.addr, e.name);
	return EXIT_OK;
}

/* The call's arguments: integers, and strings copied in and back out. */
static void build_args(const struct call_opts *c, struct kvmbox_call_arg *a)
{
	for (unsigned i = 0; i < c->nargs; i++) {
		const char *s = c->args[i];
		uint64_t v;

		if (strncmp(s, "s:", 2) && parse_int(s, &v)) {
			a[i] = (struct kvmbox_call_arg){ .kind = KVMBOX_ARG_INT, .value = v };
			continue;
		}
		if (!strncmp(s, "s:", 2))
			s += 2;
		a[i] = (struct kvmbox_call_arg){ .kind = KVMBOX_ARG_INOUT, .buf = (void *)s,
						 .len = strlen(s) + 1 };
	}
}

static uint64_t deadline(const struct vm_opts *v)
{
	return v->timeout > 0 ? now_ns() + (uint64_t)(v->timeout * 1e9) : 0;
}

/* main, then the calls. */
static int call_repeated(struct kvmbox_vm *vm, const struct call_opts *c, volatile int *cancel)
{
	struct kvmbox_call_arg args[KVMBOX_CALL_ARGS_MAX];
	struct kvmbox_call_opts co = { .flags = c->run.repeat > 1 ? KVMBOX_CALL_RESET : 0,
				       .cancel = cancel };
	struct kvmbox_run_opts ro = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE, .cancel = cancel };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	uint64_t addr = 0, start;
	bool by_addr = false;
	int ret, status;

	if (!c->no_main) {
		ro.deadline_ns = deadline(&c->vm);
		if ((ret = kvmbox_vm_run(vm, &ro, &res)) < 0) {
			fprintf(stderr, "kvmbox: main: %s\n", strerror(-ret));
			return EXIT_HOST;
		}
		fflush(stdout);
		if ((status = verdict(vm, &res, "main", &c->vm, *cancel)) != EXIT_OK)
			return status;
		/* The calls come back to the state main left (a point moved: allowed in the
		 * sandbox, which saw the point taken before it). */
		if (c->run.repeat > 1 && kvmbox_vm_set_reset_point(vm, &err) < 0) {
			fprintf(stderr, "kvmbox: reset point after main: %s\n", err.msg);
			return EXIT_HOST;
		}
	}
	build_args(c, args);
	for (unsigned i = 0; i < kvmbox_vm_exports(vm); i++) {
		struct kvmbox_export e;

		if (kvmbox_vm_export(vm, i, &e) == 0 && !strcmp(e.name, c->function))
			break;
		if (i + 1 == kvmbox_vm_exports(vm))
			by_addr = parse_int(c->function, &addr);
	}
	if (!kvmbox_vm_exports(vm))
		by_addr = parse_int(c->function, &addr);
	start = now_ns();
	for (uint64_t i = 0; i < c->run.repeat; i++) {
		co.deadline_ns = deadline(&c->vm);
		ret = by_addr ? kvmbox_vm_call_addr(vm, addr, args, c->nargs, &co, &res, &err)
			      : kvmbox_vm_call(vm, c->function, args, c->nargs, &co, &res, &err);
		if (ret < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return ret == -ENOENT || ret == -EINVAL || ret == -E2BIG ? EXIT_USAGE : EXIT_HOST;
		}
		fflush(stdout);
		if ((status = verdict(vm, &res, c->function, &c->vm, *cancel)) != EXIT_OK)
			return status;
		if (res.stop != KVMBOX_STOP_RETURNED) {
			fprintf(stderr, "kvmbox: %s halted instead of returning\n", c->function);
			return EXIT_GUEST_FAULT;
		}
	}
	if (c->run.repeat > 1)
		fprintf(stderr, "kvmbox: %llu calls of %s, each after a reset: %.0f calls/s\n",
			(unsigned long long)c->run.repeat, c->function,
			(double)c->run.repeat * 1e9 / (double)(now_ns() - start));
	printf("%lld\n", (long long)res.value);
	for (unsigned i = 0; c->print_args && i < c->nargs; i++)
		if (args[i].kind != KVMBOX_ARG_INT)
			printf("%.*s\n", (int)args[i].len - 1, (const char *)args[i].buf);
	return EXIT_OK;
}

static int call_main_run(struct call_opts *c)
{
	struct kvmbox_log log = { .level = cli_log_level(c->run.verbosity, &c->vm), .sink = stderr };
	struct kvmbox_vm_config cfg = {
		.name = c->vm.name,
		.mem_size = c->vm.mem,
		.flags = c->vm.strict ? KVMBOX_VM_STRICT : 0,
		.log = &log,
		.console_fd = 1,
		.share_dir = c->vm.share,
		.share_readonly = c->vm.share_ro,
	};
	struct kvmbox_error err = { "" };
	struct kvmbox_image img;
	struct kvmbox_vm *vm = NULL;
	volatile int *cancel;
	uint8_t *file = NULL;
	int status;

	if (c->vm.restore) {
		bool copy;

		status = cli_check_restore(&c->run, 0, &copy);
		cli_apply_profile(&c->run, &c->vm, &cfg);
		if (status == EXIT_OK)
			status = cli_vm_restore(&cfg, &c->vm, copy, c->vm.restore, &vm);
		if (status == EXIT_OK && c->list) {
			status = list(NULL, vm);
			kvmbox_vm_destroy(vm);
			return status;
		}
	} else {
		status = cli_image_read(&c->vm, &file, &img, &cfg.mode);
		if (status == EXIT_OK && c->list) {
			status = list(&img, NULL);
			free(file);
			return status;
		}
		cli_apply_profile(&c->run, &c->vm, &cfg);
		if (status == EXIT_OK)
			status = cli_vm_start(&cfg, &img, c->vm.image, &vm);
		free(file);
	}
	if (status == EXIT_OK && kvmbox_vm_host_fn(vm, "log", host_log, NULL, &err) < 0) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		status = EXIT_HOST;
	}
	/* --repeat's reset point before the sandbox, which allows no change to a memory slot;
	 * the whole vCPU, so that no call finds another's FPU, MSR or debug-register state. */
	if (status == EXIT_OK && c->run.repeat > 1 &&
	    kvmbox_vm_set_reset_point_with(vm, KVMBOX_POINT_WHOLE, &err) < 0) {
		fprintf(stderr, "kvmbox: reset point: %s\n", err.msg);
		status = EXIT_HOST;
	}
	cancel = cli_catch_stop_signals();
	if (status == EXIT_OK) {
		cli_stop_kicks(&vm, 1);
		status = cli_harden(&c->run, &vm, 1, NULL, NULL);
	}
	if (status == EXIT_OK) {
		status = call_repeated(vm, c, cancel);
		fflush(stdout);
		if (c->vm.regs)
			cli_print_regs(vm);
		if (c->vm.stats)
			cli_print_stats(vm);
	}
	cli_stop_kicks(NULL, 0);
	kvmbox_vm_destroy(vm);
	return status;
}

int cli_call_main(int argc, char **argv)
{
	struct call_opts *c = calloc(1, sizeof(*c));
	char err[512];
	int status;

	if (!c) {
		fprintf(stderr, "kvmbox: out of memory\n");
		return EXIT_HOST;
	}
	if (parse(argc, argv, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmbox call: %s\nTry 'kvmbox help call'.\n", err);
		status = EXIT_USAGE;
	} else if (c->run.help) {
		fputs(cli_call_usage, stdout);
		status = EXIT_OK;
	} else {
		status = call_main_run(c);
	}
	vm_opts_free(&c->vm);
	free(c);
	return status;
}
