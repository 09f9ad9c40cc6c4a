/* kvmbox: the command. Parses options, loads the image (or the built-in hello guest), runs
 * it and turns the outcome into a message and a documented exit status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/abi.h"
#include "doctor.h"
#include "multi.h"
#include "opts.h"
#include "status.h"

/* Set by the SIGINT/SIGTERM handler; the library checks it whenever KVM_RUN is interrupted.
 * The one piece of mutable global state in kvmbox, as signal handlers require. */
static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Ctrl-C and SIGTERM end the run cleanly (console flushed, report printed); SIGPIPE is
 * ignored so a closed stdout is an EPIPE the console can ignore, not a silent death. */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The classic hello guest's contract, checked after it halts. */
#define HELLO_RESULT 42
#define HELLO_RESULT_ADDR 0x400

extern const uint8_t kvmbox_hello_real[], kvmbox_hello_real_end[];
extern const uint8_t kvmbox_hello_protected[], kvmbox_hello_protected_end[];
extern const uint8_t kvmbox_hello_paged32[], kvmbox_hello_paged32_end[];
extern const uint8_t kvmbox_hello_long[], kvmbox_hello_long_end[];

static const struct {
	const uint8_t *start, *end;
} builtin_hello[KVMBOX_MODE_COUNT] = {
	[KVMBOX_MODE_REAL] = { kvmbox_hello_real, kvmbox_hello_real_end },
	[KVMBOX_MODE_PROTECTED] = { kvmbox_hello_protected, kvmbox_hello_protected_end },
	[KVMBOX_MODE_PAGED32] = { kvmbox_hello_paged32, kvmbox_hello_paged32_end },
	[KVMBOX_MODE_LONG] = { kvmbox_hello_long, kvmbox_hello_long_end },
};

static void print_regs(const struct kvmbox_vm *vm)
{
	char buf[2048];

	size_t n = kvmbox_vm_format_regs(vm, buf, sizeof(buf));

	fputs(buf, stderr);
	if (n && buf[n - 1] != '\n')
		fputc('\n', stderr);
}

static void print_stats(const struct kvmbox_vm *vm)
{
	const struct kvmbox_stats *s = kvmbox_vm_stats(vm);
	unsigned r;

	fprintf(stderr, "exits: %llu (KVM_RUN calls: %llu, time in guest: %.3f ms)\n",
		(unsigned long long)s->exits, (unsigned long long)s->runs, (double)s->guest_ns / 1e6);
	for (r = 0; r < KVMBOX_EXIT_REASONS; r++)
		if (s->by_reason[r])
			fprintf(stderr, "  %-22s %llu\n", kvmbox_exit_name(r),
				(unsigned long long)s->by_reason[r]);
	fprintf(stderr, "  I/O in %llu, out %llu; hypercalls %llu, bad %llu\n",
		(unsigned long long)s->io_in, (unsigned long long)s->io_out,
		(unsigned long long)s->hypercalls, (unsigned long long)s->bad_calls);
	fprintf(stderr, "  console bytes %llu (%llu without an exit)\n",
		(unsigned long long)s->console_bytes, (unsigned long long)s->coalesced_bytes);
}

static uint64_t deadline_after(double seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
	       (uint64_t)(seconds * 1e9);
}

/* The built-in hello guest passes when rax and memory[0x400] both hold 42. QUIET: say only
 * what is wrong (--repeat). */
static int check_hello(const struct kvmbox_vm *vm, enum kvmbox_mode mode, bool quiet)
{
	uint64_t rax = kvmbox_vm_regs(vm)->rax;
	uint32_t mem = 0;

	kvmbox_vm_read(vm, HELLO_RESULT_ADDR, &mem, sizeof(mem));
	if (rax != HELLO_RESULT) {
		fprintf(stderr, "kvmbox: Wrong result: RAX is %llu (expected %d)\n",
			(unsigned long long)rax, HELLO_RESULT);
		return EXIT_CHECK;
	}
	if (mem != HELLO_RESULT) {
		fprintf(stderr, "kvmbox: Wrong result: memory at 0x%x is %u (expected %d)\n",
			HELLO_RESULT_ADDR, mem, HELLO_RESULT);
		return EXIT_CHECK;
	}
	if (!quiet)
		fprintf(stderr, "kvmbox: %s mode: Ok (rax = %llu, memory[0x%x] = %u)\n",
			kvmbox_mode_name(mode), (unsigned long long)rax, HELLO_RESULT_ADDR, mem);
	return EXIT_OK;
}

/* Map how the run ended to a message and an exit status. */
static int report(const struct kvmbox_vm *vm, const struct kvmbox_result *res,
		  const struct cli_opts *o, bool builtin, bool quiet)
{
	switch (res->stop) {
	case KVMBOX_STOP_HALT:
		return builtin ? check_hello(vm, kvmbox_vm_mode(vm), quiet) : EXIT_OK;
	case KVMBOX_STOP_EXIT:
		/* Like exit(3): the low 8 bits. Say so when it is not 0, since 1..6 look like ours. */
		if (res->status)
			fprintf(stderr, "kvmbox: the guest exited with status %d\n", res->status);
		return res->status & 0xff;
	case KVMBOX_STOP_CANCELLED:
		fprintf(stderr, "kvmbox: interrupted by signal %d: the guest was stopped\n", interrupted);
		return EXIT_SIGNAL + interrupted;
	case KVMBOX_STOP_ASSERT:
		fprintf(stderr, "kvmbox: %s\n", res->msg);
		return EXIT_CHECK;
	case KVMBOX_STOP_TIMEOUT:
		fprintf(stderr, "kvmbox: timeout: the guest was still running after %g s and was stopped\n",
			o->timeout);
		return EXIT_TIMEOUT;
	case KVMBOX_STOP_FAULT:
	case KVMBOX_STOP_BAD_CALL:
		fprintf(stderr, "kvmbox: guest fault: %s\n", res->msg);
		if (!o->regs)
			print_regs(vm);
		return EXIT_GUEST_FAULT;
	default:
		fprintf(stderr, "kvmbox: host error: %s\n", res->msg);
		return EXIT_HOST;
	}
}

static uint64_t now_ns(void)
{
	return deadline_after(0);
}

/* Run the loaded VM o->repeat times; from the second run on, kvmbox_vm_reset first puts it
 * back in its loaded state (snapshot taken once, before the first run). Stops at the first run
 * that does not end well and returns its status. */
static int run_repeated(struct kvmbox_vm *vm, const struct cli_opts *o, struct kvmbox_result *res)
{
	struct kvmbox_run_opts ropts = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE, .cancel = &interrupted };
	struct kvmbox_error err = { "" };
	uint64_t i, start = now_ns();
	int ret, status = EXIT_OK;

	if (o->repeat > 1 && kvmbox_vm_snapshot(vm, &err) < 0) {
		fprintf(stderr, "kvmbox: snapshot: %s\n", err.msg);
		return EXIT_HOST;
	}
	setup_signals();
	for (i = 0; i < o->repeat; i++) {
		if (i > 0 && (ret = kvmbox_vm_reset(vm)) < 0) {
			fprintf(stderr, "kvmbox: reset before run %llu: %s\n", (unsigned long long)i + 1,
				strerror(-ret));
			return EXIT_HOST;
		}
		if (o->timeout > 0)
			ropts.deadline_ns = deadline_after(o->timeout);
		ret = kvmbox_vm_run(vm, &ropts, res);
		if (ret < 0) {
			fprintf(stderr, "kvmbox: run: %s\n", strerror(-ret));
			return EXIT_HOST;
		}
		fflush(stdout);
		status = report(vm, res, o, o->image == NULL, o->repeat > 1);
		if (status != EXIT_OK) {
			if (o->repeat > 1)
				fprintf(stderr, "kvmbox: run %llu of %llu did not end well\n",
					(unsigned long long)i + 1, (unsigned long long)o->repeat);
			return status;
		}
	}
	if (o->repeat > 1)
		fprintf(stderr, "kvmbox: %llu runs, all Ok, %.0f reset+run cycles/s\n",
			(unsigned long long)o->repeat, (double)o->repeat * 1e9 / (double)(now_ns() - start));
	return status;
}

/* Read and parse the image (or take the built-in hello guest); a flat binary needs --mode.
 * *FILE holds the file's bytes, which IMG borrows; the caller frees it. */
static int read_image(const struct cli_opts *o, uint8_t **file, struct kvmbox_image *img)
{
	struct kvmbox_error err = { "" };
	enum kvmbox_mode m = o->mode ? o->mode : KVMBOX_MODE_LONG;
	const uint8_t *data = builtin_hello[m].start;
	size_t size = (size_t)(builtin_hello[m].end - builtin_hello[m].start);

	*file = NULL;
	if (o->image) {
		if (kvmbox_image_read_file(o->image, file, &size, &err) < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return EXIT_USAGE;
		}
		data = *file;
	}
	if (kvmbox_image_parse(img, data, size, o->flat, o->load, o->entry, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: %s\n", o->image ? o->image : "built-in hello", err.msg);
		return EXIT_USAGE;
	}
	if (!o->mode && img->mode == KVMBOX_MODE_AUTO) {
		fprintf(stderr, "kvmbox: %s: a flat binary needs --mode (real, protected, paged32, long)\n",
			o->image);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Create the VM in the mode asked (else IMG's), check this host can run that mode, and load
 * IMG (which refuses an image of another mode). */
static int start_vm(const struct cli_opts *o, const struct kvmbox_image *img,
		    struct kvmbox_log *log, struct kvmbox_vm **vmp)
{
	struct kvmbox_vm_config cfg = {
		.name = o->image ? o->image : "hello",
		.mode = o->mode ? o->mode : img->mode,
		.mem_size = o->mem,
		.flags = (o->strict ? KVMBOX_VM_STRICT : 0) |
			 (o->no_coalesce ? KVMBOX_VM_NO_COALESCE : 0),
		.log = log,
		.console_fd = 1,
		.share_dir = o->share,
		.share_readonly = o->share_ro,
	};
	struct kvmbox_error err = { "" };
	int ret;

	if (kvmbox_vm_create(vmp, &cfg, &err) < 0) {
		if (!doctor_say_no_kvm())
			fprintf(stderr, "kvmbox: %s\n", err.msg);
		return EXIT_HOST; /* options were validated already: this is KVM or the host */
	}
	/* Probed with the VM already open: creating a second VM is much cheaper than the first. */
	if (cfg.mode == KVMBOX_MODE_PAGED32) {
		ret = kvmbox_host_supports_mode(cfg.mode, &err);
		if (ret <= 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return ret == 0 ? EXIT_UNSUPPORTED : EXIT_HOST;
		}
	}
	if (kvmbox_vm_load(*vmp, img, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: %s\n", o->image ? o->image : "built-in hello", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int run(const struct cli_opts *o)
{
	struct kvmbox_log log = { .level = cli_log_level(o->verbosity, o->trace), .sink = stderr };
	struct kvmbox_result res;
	struct kvmbox_image img;
	struct kvmbox_vm *vm = NULL;
	uint8_t *file;
	int status;

	status = read_image(o, &file, &img);
	if (status == EXIT_OK)
		status = start_vm(o, &img, &log, &vm);
	free(file);
	if (status != EXIT_OK) {
		kvmbox_vm_destroy(vm);
		return status;
	}
	status = run_repeated(vm, o, &res);
	if (o->regs)
		print_regs(vm);
	if (o->stats)
		print_stats(vm);
	kvmbox_vm_destroy(vm);
	return status;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	char err[512];

	if (argc > 1 && !strcmp(argv[1], "doctor"))
		return cli_doctor_main(argc, argv);
	if (cli_is_multi(argc, argv))
		return cli_multi_main(argc, argv);
	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmbox: %s\nTry 'kvmbox --help'.\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(cli_usage, stdout);
		return EXIT_OK;
	}
	if (o.version) {
		printf("kvmbox %s (hypercall ABI %d.%d)\n", KVMBOX_VERSION, KVMBOX_ABI_MAJOR,
		       KVMBOX_ABI_MINOR);
		return EXIT_OK;
	}
	return run(&o);
}
