/* kvmbox: the command. Dispatches the subcommands (run, call, snapshot, doctor, help, version); `kvmbox run`
 * parses its options (cli/opts.c), checks the files they name (cli/inputs.c) and runs one VM
 * directly (cli/single.c) or the VMs under the scheduler (cli/multi.c). */
#include <errno.h>
#include <fcntl.h>
#include <nss.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/abi.h"
#include "call.h"
#include "doctor.h"
#include "harden.h"
#include "inputs.h"
#include "multi.h"
#include "opts.h"
#include "signals.h"
#include "single.h"
#include "snapshot.h"
#include "status.h"

#define COMMANDS "run, call, snapshot, doctor, help, version"

static const char overview[] =
	"usage: kvmbox [run] [OPTION...] [IMAGE]   run a guest (the built-in hello without IMAGE)\n"
	"       kvmbox [run] [OPTION...] IMAGE -- ARG...  ... with ARGs for its main(argc, argv)\n"
	"       kvmbox call [OPTION...] IMAGE FUNCTION [ARG...]  call a function the guest exports\n"
	"       kvmbox snapshot FILE               what a snapshot file holds (checked as a restore does)\n"
	"       kvmbox doctor [--json | --brief]   what this host's KVM can do, and why not\n"
	"       kvmbox help [COMMAND]              this text, or COMMAND's (run, call, snapshot, doctor)\n"
	"       kvmbox version                     the version and the hypercall ABI\n"
	"\n";

/* Descriptors 0-2 closed at start would go to the first files kvmbox opens: the stats file
 * as descriptor 1 would get the guest's console, an output file as descriptor 0 would be
 * what a VM's console_fd 0 means (stdout). /dev/null takes their place (as the C runtime of
 * setuid programs does), stdin included. Returns -1 when it cannot be opened. */
static int open_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -1;
		if (n != fd) { /* cannot happen: the lower ones are open */
			dup2(n, fd);
			close(n);
		}
	}
	return 0;
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
		printf("%s%s\n", cmd ? "" : overview, cli_usage);
		cli_print_statuses(stdout);
	} else if (!strcmp(cmd, "doctor")) {
		fputs(cli_doctor_usage, stdout);
	} else if (!strcmp(cmd, "snapshot")) {
		fputs(cli_snapshot_usage, stdout);
	} else if (!strcmp(cmd, "call")) {
		fputs(cli_call_usage, stdout);
	} else if (!strcmp(cmd, "help") || !strcmp(cmd, "version")) {
		fputs(overview, stdout);
	} else {
		fprintf(stderr, "kvmbox help: no command '%s' (commands: " COMMANDS ")\n", cmd);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The command is linked statically (Makefile: no dynamic loader at every start). A static
 * glibc that reaches an NSS service it does not contain loads it as a shared library, which
 * brings a second C library into the process and crashes (libnss_systemd, tried after
 * /etc/group): so its lookups stay with the built-in services. Called before the first
 * lookup only (it reads /etc/nsswitch.conf: ~30 us of a hello run). A program with a dynamic
 * loader (a sanitizer build, the tests' twin) has an interpreter: AT_BASE is its address. */
static void static_nss(void)
{
	if (getauxval(AT_BASE))
		return;
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("initgroups", "files");
	__nss_configure_lookup("hosts", "files dns");
}

/* Does the run look a name up: --user's user and groups, a gdb server's HOST? */
static bool needs_names(const struct run_opts *o)
{
	if (o->user || o->defaults.gdb)
		return true;
	for (unsigned i = 0; i < o->nvms; i++)
		if (o->vms[i].gdb)
			return true;
	return false;
}

/* `kvmbox [run] ...`: parse, check the files, run. */
static int run(int argc, char **argv)
{
	struct run_opts *o = calloc(1, sizeof(*o));
	struct run_inputs in;
	char err[512];
	int status, ret;

	if (!o) {
		fprintf(stderr, "kvmbox: out of memory\n");
		return EXIT_HOST;
	}
	ret = run_parse(argc, argv, o, err, sizeof(err));
	/* kvm-hello-world's -s was protected mode; here it is QEMU's gdb server: a user of the
	 * first hears it once, whatever else the command line says. */
	if (o->short_s)
		fprintf(stderr, "kvmbox: -s is QEMU's: a gdb server on %s; protected mode "
			"(kvm-hello-world's -s) is -m protected\n", CLI_GDB_DEFAULT);
	if (ret < 0) {
		fprintf(stderr, "kvmbox: %s\nTry 'kvmbox help run'.\n", err);
		status = EXIT_USAGE;
	} else if (o->help) {
		/* `kvmbox run --help` is about run; `kvmbox --help` about everything. */
		status = help(argc > 1 && !strcmp(argv[1], "run") ? 3 : 2,
			      (char *[]){ argv[0], "help", "run", NULL });
	} else if (o->version) {
		status = version();
	} else {
		volatile int *stop = NULL;

		if (needs_names(o))
			static_nss();
		status = run_inputs_open(o, &in);
		if (status == EXIT_OK)
			stop = cli_catch_stop_signals();
		if (status == EXIT_OK && run_is_scheduled(o))
			status = cli_multi_run(o, &in, stop);
		else if (status == EXIT_OK)
			status = cli_single_run(o, &in, stop);
		/* A file that could not be written in full (a full disk) is a host error, unless
		 * the run already ended with a verdict of its own. */
		if (run_inputs_close(o, &in) != EXIT_OK && status == EXIT_OK)
			status = EXIT_HOST;
	}
	run_opts_free(o);
	free(o);
	return status;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "run";

	if (open_std_fds() < 0)
		return EXIT_HOST; /* nowhere to say it: stderr may be the one closed */
	cli_close_inherited();
	/* A console nobody reads any more (`kvmbox run | head -1`) ends kvmbox as it ends other
	 * commands: quietly, by SIGPIPE (status 141 in the shell), whatever the parent ignored. */
	signal(SIGPIPE, SIG_DFL);
	if (!strcmp(cmd, "doctor")) {
		static_nss(); /* the group names */
		return cli_doctor_main(argc, argv);
	}
	if (!strcmp(cmd, "help"))
		return help(argc, argv);
	if (!strcmp(cmd, "snapshot"))
		return cli_snapshot_main(argc, argv);
	if (!strcmp(cmd, "call"))
		return cli_call_main(argc, argv);
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
