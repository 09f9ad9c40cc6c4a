/* kvmbox: the command. Dispatches the subcommands (run, doctor, help, version); `kvmbox run`
 * parses its options (cli/opts.c), checks the files they name (cli/inputs.c) and runs one VM
 * directly (cli/single.c) or the VMs under the scheduler (cli/multi.c). */
#include <nss.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/abi.h"
#include "doctor.h"
#include "harden.h"
#include "inputs.h"
#include "multi.h"
#include "opts.h"
#include "single.h"
#include "status.h"

#define COMMANDS "run, doctor, help, version"

static const char overview[] =
	"usage: kvmbox [run] [OPTION...] [IMAGE]   run a guest (the built-in hello without IMAGE)\n"
	"       kvmbox [run] [OPTION...] IMAGE -- ARG...  ... with ARGs for its main(argc, argv)\n"
	"       kvmbox doctor [--json | --brief]   what this host's KVM can do, and why not\n"
	"       kvmbox help [COMMAND]              this text, or COMMAND's (run, doctor)\n"
	"       kvmbox version                     the version and the hypercall ABI\n"
	"\n";

/* Set by the SIGINT/SIGTERM handler; the library checks it whenever KVM_RUN is interrupted.
 * The one piece of mutable global state in kvmbox, as signal handlers require. */
static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Ctrl-C and SIGTERM stop the guests cleanly (console flushed, report printed), with one VM
 * or several. */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int version(void)
{
	printf("kvmbox %s (hypercall ABI %d.%d)\n", KVMBOX_VERSION, KVMBOX_ABI_MAJOR, KVMBOX_ABI_MINOR);
	return EXIT_OK;
}

/* `kvmbox help [COMMAND]`. */
static int help(int argc, char **argv)
{
	const char *cmd = argc > 2 ? argv[2] : NULL;

	if (argc > 3) {
		fprintf(stderr, "kvmbox help: unexpected argument '%s'\n", argv[3]);
		return EXIT_USAGE;
	}
	if (!cmd || !strcmp(cmd, "run")) {
		printf("%s%s\n%s", cmd ? "" : overview, cli_usage, cli_status_help);
	} else if (!strcmp(cmd, "doctor")) {
		fputs(cli_doctor_usage, stdout);
	} else if (!strcmp(cmd, "help") || !strcmp(cmd, "version")) {
		fputs(overview, stdout);
	} else {
		fprintf(stderr, "kvmbox help: no command '%s' (commands: " COMMANDS ")\n", cmd);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* `kvmbox [run] ...`: parse, check the files, run. */
static int run(int argc, char **argv)
{
	struct run_opts *o = calloc(1, sizeof(*o));
	struct run_inputs in;
	char err[512];
	int status;

	if (!o) {
		fprintf(stderr, "kvmbox: out of memory\n");
		return EXIT_HOST;
	}
	if (run_parse(argc, argv, o, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmbox: %s\nTry 'kvmbox help run'.\n", err);
		status = EXIT_USAGE;
	} else if (o->help) {
		/* `kvmbox run --help` is about run; `kvmbox --help` about everything. */
		status = help(argc > 1 && !strcmp(argv[1], "run") ? 3 : 2,
			      (char *[]){ argv[0], "help", "run", NULL });
	} else if (o->version) {
		status = version();
	} else {
		status = run_inputs_open(o, &in);
		if (status == EXIT_OK)
			catch_stop_signals();
		if (status == EXIT_OK && run_is_scheduled(o))
			status = cli_multi_run(o, &in, &interrupted);
		else if (status == EXIT_OK)
			status = cli_single_run(o, &in, &interrupted);
		run_inputs_close(&in);
	}
	run_opts_free(o);
	free(o);
	return status;
}

/* Defined by the linker in a dynamically linked program only. */
extern const char _DYNAMIC[] __attribute__((weak));

/* The command is linked statically (Makefile: no dynamic loader at every start). A static
 * glibc that reaches an NSS service it does not contain loads it as a shared library, which
 * brings a second C library into the process and crashes (libnss_systemd, tried after
 * /etc/group): so its lookups stay with the built-in services. */
static void static_nss(void)
{
	if (_DYNAMIC)
		return;
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("initgroups", "files");
	__nss_configure_lookup("hosts", "files dns");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "run";

	static_nss();
	cli_close_inherited();
	/* A console nobody reads any more (`kvmbox run | head -1`) ends kvmbox as it ends other
	 * commands: quietly, by SIGPIPE (status 141 in the shell), whatever the parent ignored. */
	signal(SIGPIPE, SIG_DFL);
	if (!strcmp(cmd, "doctor"))
		return cli_doctor_main(argc, argv);
	if (!strcmp(cmd, "help"))
		return help(argc, argv);
	if (!strcmp(cmd, "version")) {
		if (argc > 2) {
			fprintf(stderr, "kvmbox version: unexpected argument '%s'\n", argv[2]);
			return EXIT_USAGE;
		}
		return version();
	}
	/* Options, or an image that exists, run as `kvmbox run ...` would. */
	if (!strcmp(cmd, "run") || cmd[0] == '-' || access(cmd, F_OK) == 0)
		return run(argc, argv);
	fprintf(stderr, "kvmbox: '%s' is neither a command nor an image file (commands: " COMMANDS
		")\nTry 'kvmbox help'.\n", cmd);
	return EXIT_USAGE;
}
