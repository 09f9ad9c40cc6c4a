/* The command as a user runs it: subcommands, messages, output and exit statuses (the scheme
 * of cli/status.h), including every refusal of bad input (one clear line, status 2, nothing
 * run), and the --stats-json schema for one VM and several. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "../../cli/status.h"

extern char **environ;

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect_hello(const char *mode)
{
	struct cli c;

	RUN(&c, "run", "-m", mode);
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
	assert_non_null(strstr(c.err, "Ok (rax = 42, memory[0x400] = 42)"));
}

static void test_hello_long(void **state) { (void)state; expect_hello("long"); }
static void test_hello_protected(void **state) { (void)state; expect_hello("protected"); }
static void test_hello_real(void **state) { (void)state; expect_hello("real"); }

/* paged32 runs where the host can; elsewhere one clear line and status 70, before running. */
static void test_hello_paged32_or_refusal(void **state)
{
	struct kvmbox_error err;
	struct cli c;

	(void)state;
	RUN(&c, "run", "-p");
	if (kvmbox_host_supports_mode(KVMBOX_MODE_PAGED32, &err) == 1) {
		assert_int_equal(c.status, 0);
		assert_string_equal(c.out, "Hello, world!\n");
	} else {
		assert_false(in_realkvm_lane());
		assert_int_equal(c.status, EXIT_UNSUPPORTED);
		assert_string_equal(c.out, "");
		assert_int_equal(count_lines(c.err), 1);
		/* It names the VM and where it runs. */
		assert_non_null(strstr(c.err, "kvmbox: built-in hello: this host's KVM cannot run "
					      "paged32 mode: "));
		assert_non_null(strstr(c.err, "; scripts/kvm-in-qemu runs it under a real KVM"));
	}
}

/* The kvm-hello-world flat guest runs unchanged with --load 0; --regs shows rax = 42. */
static void test_flat_image_with_regs(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", "-m", "long", "--load", "0", "--regs", build_path("guests/flat-hello-long.bin"));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
	assert_non_null(strstr(c.err, "rax=000000000000002a"));
	RUN(&c, "run", "-r", "--load", "0", "--regs", build_path("guests/flat-hello-real.bin"));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
	assert_non_null(strstr(c.err, "rax=000000000000002a"));
}

static void test_timeout_status(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", "--timeout", "0.2", build_path("guests/test-loop-long.elf"));
	assert_int_equal(c.status, EXIT_TIMEOUT);
	assert_non_null(strstr(c.err, "timeout"));
}

static void test_fault_status_and_dump(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", build_path("guests/test-triple-protected.elf"));
	assert_int_equal(c.status, EXIT_GUEST_FAULT);
	assert_non_null(strstr(c.err, "KVM_EXIT_SHUTDOWN"));
	assert_non_null(strstr(c.err, "rax="));
	assert_non_null(strstr(c.err, "rip="));
	RUN(&c, "run", build_path("guests/test-badport-long.elf"));
	assert_int_equal(c.status, EXIT_GUEST_FAULT);
	assert_non_null(strstr(c.err, "unknown port 0x3f8"));
}

/* The guest's own status passes through unchanged; kvmbox's verdicts (a fault: 65) are
 * another range. */
static void test_guest_exit_status(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", "--stats", build_path("guests/test-hc_basic-long.elf"));
	assert_int_equal(c.status, 7);
	assert_non_null(strstr(c.err, "the guest exited with status 7"));
	assert_non_null(strstr(c.out, "2048\n"));
	assert_non_null(strstr(c.err, "KVM_EXIT_IO"));
}

/* Start build/kvmbox with stdout on a pipe whose read end the caller controls; stderr to a
 * file. Returns the pid; *STDOUT_R is the read end. */
static pid_t spawn_cli(const char *const *args, int *stdout_r, FILE **err)
{
	const char *argv[32] = { build_path("kvmbox") };
	posix_spawn_file_actions_t fa;
	int out[2], i;
	pid_t pid;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	*err = tmpfile();
	assert_non_null(*err);
	assert_int_equal(pipe(out), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(*err), 2);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	*stdout_r = out[0];
	return pid;
}

/* Wait up to SECONDS for PID; a child still running then is killed and the test fails. */
static int wait_status(pid_t pid, double seconds)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int st, waited;

	for (waited = 0; waited < seconds * 100; waited++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			assert_true(WIFEXITED(st));
			return WEXITSTATUS(st);
		}
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	fail_msg("kvmbox still running after %.1f s", seconds);
	return -1;
}

static void read_all(FILE *f, char *buf, size_t max)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, max - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* A guest flooding a console nobody reads still stops at --timeout (the host never blocks
 * past its deadline on the console). */
static void test_timeout_with_stalled_console(void **state)
{
	char err[OUT_MAX];
	FILE *ef;
	int rd;
	pid_t pid;

	(void)state;
	pid = spawn_cli((const char *const[]){ "run", "--timeout", "0.5",
					       build_path("guests/test-chatter-long.elf"), NULL }, &rd, &ef);
	assert_int_equal(wait_status(pid, 10), EXIT_TIMEOUT);
	close(rd);
	read_all(ef, err, sizeof(err));
	assert_non_null(strstr(err, "timeout"));
}

/* Ctrl-C stops the guest cleanly: its output so far is flushed, status 128+SIGINT. */
static void test_sigint_stops_cleanly(void **state)
{
	struct timespec settle = { 0, 300 * 1000 * 1000 };
	char out[64] = "", err[OUT_MAX];
	FILE *ef;
	ssize_t n;
	int rd;
	pid_t pid;

	(void)state;
	pid = spawn_cli((const char *const[]){ "run", build_path("guests/test-spin_after_print-long.elf"),
					       NULL }, &rd, &ef);
	nanosleep(&settle, NULL);
	kill(pid, SIGINT);
	assert_int_equal(wait_status(pid, 10), 128 + SIGINT);
	n = read(rd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	close(rd);
	assert_string_equal(out, "started\n");
	read_all(ef, err, sizeof(err));
	assert_non_null(strstr(err, "interrupted by signal 2"));
}

/* A console nobody will ever read (`kvmbox run | head`) ends kvmbox as it ends other
 * commands: by SIGPIPE (141 in the shell), quietly, not a hang. */
static void test_closed_console_stops(void **state)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	char err[OUT_MAX];
	int rd, st = 0, waited;
	FILE *ef;
	pid_t pid;

	(void)state;
	pid = spawn_cli((const char *const[]){ "run", build_path("guests/test-chatter-long.elf"), NULL },
			&rd, &ef);
	close(rd);
	for (waited = 0; waited < 1000 && waitpid(pid, &st, WNOHANG) != pid; waited++)
		nanosleep(&tick, NULL);
	if (waited == 1000) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("kvmbox still running 10 s after its stdout was closed");
	}
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGPIPE);
	read_all(ef, err, sizeof(err));
	assert_string_equal(err, "");
}

/* --repeat: every run from the loaded state gives the same output and passes its checks. */
static void test_repeat_runs_from_loaded_state(void **state)
{
	char want[64 * 14 + 1] = "";
	struct cli c;
	int i;

	(void)state;
	RUN(&c, "run", "--repeat", "64", "-m", "protected");
	assert_int_equal(c.status, 0);
	for (i = 0; i < 64; i++)
		strcat(want, "Hello, world!\n");
	assert_string_equal(c.out, want);
	assert_non_null(strstr(c.err, "64 runs, all Ok"));
	/* A guest that does not end well stops the repetition with its own status. */
	RUN(&c, "run", "--repeat", "5", build_path("guests/test-hc_basic-long.elf"));
	assert_int_equal(c.status, 7);
	assert_non_null(strstr(c.err, "run 1 of 5 did not end well"));
}

/* The subcommands, and anything else refused with the list of them. */
static void test_subcommands(void **state)
{
	static const char list[] = "commands: run, call, snapshot, doctor, help, version";
	struct cli c;

	(void)state;
	RUN(&c, "help");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "usage: kvmbox [run]"));
	assert_non_null(strstr(c.out, "kvmbox doctor [--json | --brief]"));
	assert_non_null(strstr(c.out, "usage: kvmbox run [OPTION...] [IMAGE]"));
	assert_non_null(strstr(c.out, "Exit status"));
	RUN(&c, "--help");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "usage: kvmbox [run]"));
	RUN(&c, "run", "--help");
	assert_int_equal(c.status, 0);
	assert_memory_equal(c.out, "usage: kvmbox run", 17);
	assert_null(strstr(c.out, "Usage:")); /* one spelling */
	RUN(&c, "run", "--vm", "--help");
	assert_int_equal(c.status, 0);
	assert_memory_equal(c.out, "usage: kvmbox run", 17);
	RUN(&c, "help", "run");
	assert_memory_equal(c.out, "usage: kvmbox run", 17);
	assert_non_null(strstr(c.out, "--vm NAME=IMAGE"));
	RUN(&c, "help", "doctor");
	assert_int_equal(c.status, 0);
	assert_memory_equal(c.out, "usage: kvmbox doctor", 20);
	RUN(&c, "help", "snapshot");
	assert_int_equal(c.status, 0);
	assert_memory_equal(c.out, "usage: kvmbox snapshot FILE", 27);
	RUN(&c, "help", "call");
	assert_int_equal(c.status, 0);
	assert_memory_equal(c.out, "usage: kvmbox call", 18);
	RUN(&c, "call");
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.err, "kvmbox call: an IMAGE is needed"));
	RUN(&c, "snapshot");
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.err, "kvmbox snapshot: a FILE is needed"));
	RUN(&c, "version");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "kvmbox " KVMBOX_VERSION));
	RUN(&c, "--version");
	assert_non_null(strstr(c.out, "kvmbox " KVMBOX_VERSION));
	RUN(&c, "help", "frobnicate");
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.err, list));
	RUN(&c, "frobnicate");
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.err, "'frobnicate' is neither a command nor an image file"));
	assert_non_null(strstr(c.err, list));
	RUN(&c, "/nonexistent/guest.elf");
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.err, list));
	RUN(&c, "version", "extra");
	assert_int_equal(c.status, EXIT_USAGE);
	/* An image that exists still runs without `run`. */
	RUN(&c, build_path("guests/hello-long.elf"));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
}

/* Write BYTES to a fresh temporary file and return its path. */
static const char *temp_file(const void *bytes, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/kvmbox-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	return path;
}

static void expect_refusal(const char *const *args, const char *needle)
{
	struct cli c;

	run_cli(&c, args);
	if (c.status != 2 || count_lines(c.err) < 1 || !strstr(c.err, needle) || c.out[0])
		fail_msg("expected status 2 and '%s'; got status %d, stderr: %s", needle, c.status, c.err);
	/* One line for a bad image; usage errors add the "Try --help" hint. */
	assert_true(count_lines(c.err) <= 2);
	assert_true(strncmp(c.err, "kvmbox: ", 8) == 0);
}

static void test_bad_images_refused(void **state)
{
	static const uint8_t elf_head[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0 };
	static const uint8_t garbage[] = "this is not an executable";
	uint8_t big_flat[4096] = { 0xf4 };
	const char *p;

	(void)state;
	p = temp_file("", 0);
	expect_refusal((const char *const[]){ "run", p, NULL }, "empty image");
	unlink(p);
	p = temp_file(elf_head, sizeof(elf_head));
	expect_refusal((const char *const[]){ "run", p, NULL }, "too short");
	unlink(p);
	p = temp_file(garbage, sizeof(garbage));
	expect_refusal((const char *const[]){ "run", p, NULL }, "not an ELF file");
	/* A flat binary needs a mode. */
	expect_refusal((const char *const[]){ "run", "--load", "0x1000", p, NULL }, "needs --mode");
	unlink(p);
	/* Over the page tables at the top of 2 MiB. */
	p = temp_file(big_flat, sizeof(big_flat));
	expect_refusal((const char *const[]){ "run", "-l", "--load", "0x1F8000", p, NULL }, "overlaps");
	expect_refusal((const char *const[]){ "run", "-l", "--load", "0x10000000", p, NULL }, "outside guest memory");
	unlink(p);
	expect_refusal((const char *const[]){ "run", "/nonexistent/image.elf", NULL }, "No such file");
	expect_refusal((const char *const[]){ "run", "/tmp", NULL }, "is a directory");
	/* Wrong class for the mode asked. */
	expect_refusal((const char *const[]){ "run", "-m", "long", build_path("guests/hello-protected.elf"), NULL },
		       "runs in protected mode only, not long");
}

static void test_bad_options_refused(void **state)
{
	(void)state;
	expect_refusal((const char *const[]){ "run", "--mem", "1", NULL }, "--mem");
	expect_refusal((const char *const[]){ "run", "--mem", "lots", NULL }, "--mem");
	expect_refusal((const char *const[]){ "run", "-m", "v86", NULL }, "unknown mode");
	expect_refusal((const char *const[]){ "run", "-r", "-l", NULL }, "conflicting modes");
	expect_refusal((const char *const[]){ "run", "--timeout", "-1", NULL }, "--timeout");
	expect_refusal((const char *const[]){ "run", "--bogus", NULL }, "unknown option");
	expect_refusal((const char *const[]){ "run", "a", "b", NULL }, "unexpected argument");
	expect_refusal((const char *const[]){ "run", "--repeat", "0", NULL }, "--repeat");
	expect_refusal((const char *const[]){ "run", "--repeat", "2", "--stats-json", "x.json", NULL },
		       "--stats-json reports one run");
	expect_refusal((const char *const[]){ "run", "--vm", "a=x.elf", "--regs=1", NULL },
		       "--regs=1: takes no value");
	expect_refusal((const char *const[]){ "run", "--vm", "a=x.elf,weight=0", NULL }, "weight");
}

/* Every path the options name is checked before the first guest instruction: one line,
 * status 2, no guest output. */
static void test_inputs_checked_before_running(void **state)
{
	const char *hello = build_path("guests/hello-long.elf");
	char vm_a[512], vm_b[512], sched[64];
	const char *file;
	FILE *f;

	(void)state;
	file = temp_file("x", 1);
	expect_refusal((const char *const[]){ "run", "--share", "/nonexistent/dir", hello, NULL },
		       "--share /nonexistent/dir: No such file or directory");
	expect_refusal((const char *const[]){ "run", "--share", file, hello, NULL }, "Not a directory");
	snprintf(vm_a, sizeof(vm_a), "a=%s,share=/nonexistent:ro", hello);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, NULL }, "--vm a: share=/nonexistent");
	snprintf(vm_a, sizeof(vm_a), "a=%s,share=70", hello);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, NULL }, "the scheduling weight is weight=70");
	unlink(file);
	expect_refusal((const char *const[]){ "run", "--stats-json", "/nonexistent/dir/s.json", hello, NULL },
		       "--stats-json /nonexistent/dir/s.json: No such file");
	expect_refusal((const char *const[]){ "run", "--trace-out", "/nonexistent/t.json", hello, NULL },
		       "--trace-out /nonexistent/t.json");
	expect_refusal((const char *const[]){ "run", "--out", "/nonexistent/o.txt", hello, NULL },
		       "--out /nonexistent/o.txt");
	snprintf(vm_a, sizeof(vm_a), "a=%s,out=/nonexistent/o.txt", hello);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, NULL }, "out= /nonexistent/o.txt");
	/* A schedule naming a VM the run does not have. */
	snprintf(sched, sizeof(sched), "/tmp/kvmbox-test-sched-XXXXXX");
	assert_true(mkstemp(sched) >= 0);
	f = fopen(sched, "w");
	assert_non_null(f);
	fputs("# two VMs\n1212\n129\n", f);
	fclose(f);
	snprintf(vm_a, sizeof(vm_a), "a=%s", hello);
	snprintf(vm_b, sizeof(vm_b), "b=%s", hello);
	{
		char arg[96];

		snprintf(arg, sizeof(arg), "script:%s", sched);
		expect_refusal((const char *const[]){ "run", "--vm", vm_a, "--vm", vm_b, "--sched", arg, NULL },
			       "line 3 names VM 9, but the run has 2 VMs");
		expect_refusal((const char *const[]){ "run", "--sched", arg, hello, NULL },
			       "names VM 2, but the run has 1 VM");
	}
	unlink(sched);
	expect_refusal((const char *const[]){ "run", "--sched", "script:/nonexistent/s", hello, NULL },
		       "--sched script:/nonexistent/s");
}

/* One rule for images and modes: an ELF runs in its own mode; --mode may only repeat it. */
static void test_image_mode_rule(void **state)
{
	struct cli c;

	(void)state;
	expect_refusal((const char *const[]){ "run", "-m", "protected", build_path("guests/hello-paged32.elf"),
					      NULL }, "a paged32-mode image runs in paged32 mode only, not protected");
	expect_refusal((const char *const[]){ "run", "-m", "long", build_path("guests/hello-real.elf"), NULL },
		       "a real-mode image runs in real mode only, not long");
	expect_refusal((const char *const[]){ "run", "-m", "paged32", build_path("guests/hello-protected.elf"),
					      NULL }, "runs in protected mode only");
	RUN(&c, "run", "-m", "real", build_path("guests/hello-real.elf"));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
}

/* --share DIR:ro and DIR:rw name DIR. */
static void test_share_suffixes(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", "--share", "/tmp:ro", build_path("guests/hello-long.elf"));
	assert_int_equal(c.status, 0);
	RUN(&c, "run", "--share", "/tmp:rw", build_path("guests/hello-long.elf"));
	assert_int_equal(c.status, 0);
}

/* Validate the --stats-json files PATHS against docs/stats.schema.json (python3). */
static void expect_valid_stats(const char *a, const char *b)
{
	const char *const argv[] = { "python3", "tests/host/check_stats.py", "docs/stats.schema.json", a, b,
				     NULL };
	struct cli c;

	if (access("/usr/bin/python3", X_OK) != 0 || access(argv[1], R_OK) != 0) {
		printf("SKIP: stats schema: python3 or the source tree is not here\n");
		skip();
	}
	run_command(&c, argv);
	if (c.status != 0)
		fail_msg("stats JSON does not follow docs/stats.schema.json:\n%s%s", c.out, c.err);
}

/* A single VM is a run of one VM: the same options and JSON schema as several; a flat binary
 * and --regs work in --vm too. */
static void test_one_vm_and_several_alike(void **state)
{
	char one[] = "/tmp/kvmbox-test-one-XXXXXX", two[] = "/tmp/kvmbox-test-two-XXXXXX";
	char vm_a[512], vm_b[512];
	struct cli c;

	(void)state;
	assert_true(mkstemp(one) >= 0 && mkstemp(two) >= 0);
	/* A single VM with --stats-json is a single VM's run: its verdict, no scheduler table. */
	RUN(&c, "run", "--stats-json", one, "--mem", "4M", "-m", "real");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n"); /* one VM: no [NAME] prefix */
	assert_string_equal(c.err, "kvmbox: real mode: Ok (rax = 42, memory[0x400] = 42)\n");
	snprintf(vm_a, sizeof(vm_a), "a=%s,mode=long,load=0,regs", build_path("guests/flat-hello-long.bin"));
	snprintf(vm_b, sizeof(vm_b), "b=%s,mem=4M,stats", build_path("guests/hello-real.elf"));
	RUN(&c, "run", "--vm", vm_a, "--vm", vm_b, "--stats-json", two);
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "[a] Hello, world!\n"));
	assert_non_null(strstr(c.out, "[b] Hello, world!\n"));
	assert_non_null(strstr(c.err, "rax=000000000000002a"));
	assert_non_null(strstr(c.err, "exits: "));
	expect_valid_stats(one, two);
	unlink(one);
	unlink(two);
}

/* --out FILE takes the single VM's console; also when kvmbox starts with stdin closed, where
 * the file must not become descriptor 0 (which the library reads as "stdout"). */
static void test_single_out_file(void **state)
{
	char out[] = "/tmp/kvmbox-test-out-XXXXXX", sh[1024];
	uint8_t *data;
	size_t len;
	struct cli c;

	(void)state;
	assert_true(mkstemp(out) >= 0);
	snprintf(sh, sizeof(sh), "exec %s run --out %s <&-", build_path("kvmbox"), out);
	for (int stdin_closed = 0; stdin_closed < 2; stdin_closed++) {
		if (stdin_closed)
			run_command(&c, (const char *const[]){ "bash", "-c", sh, NULL });
		else
			RUN(&c, "run", "--out", out);
		assert_int_equal(c.status, 0);
		assert_string_equal(c.out, "");
		data = read_whole_file(out, &len);
		assert_non_null(data);
		assert_int_equal(len, 14);
		assert_memory_equal(data, "Hello, world!\n", 14);
		free(data);
	}
	unlink(out);
}

/* Several VMs: kvmbox's worst verdict wins, else the first guest status that is not 0. */
static void test_several_vm_statuses(void **state)
{
	char exits7[512], fault[512], hello[512];
	struct cli c;

	(void)state;
	snprintf(exits7, sizeof(exits7), "a=%s", build_path("guests/test-hc_basic-long.elf"));
	snprintf(fault, sizeof(fault), "b=%s", build_path("guests/test-triple-protected.elf"));
	snprintf(hello, sizeof(hello), "c=%s", build_path("guests/hello-long.elf"));
	RUN(&c, "run", "--vm", hello, "--vm", exits7);
	assert_int_equal(c.status, 7);
	RUN(&c, "run", "--vm", exits7, "--vm", fault);
	assert_int_equal(c.status, EXIT_GUEST_FAULT);
}

/* A failed guest assertion is kvmbox's verdict 64, never a guest's own status. */
static void test_assertion_status(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", build_path("guests/test-assert-long.elf"));
	assert_int_equal(c.status, EXIT_CHECK);
	assert_non_null(strstr(c.err, "guest assertion failed at tests/guests/assert.c:"));
}

/* A single VM with --stats-json keeps a single VM's statuses and messages, and writes the
 * JSON whatever the guest did. */
static void test_single_vm_stats_json_statuses(void **state)
{
	char json[] = "/tmp/kvmbox-test-json-XXXXXX";
	uint8_t *data;
	size_t len;
	struct cli c;

	(void)state;
	assert_true(mkstemp(json) >= 0);
	RUN(&c, "run", "--stats-json", json, build_path("guests/test-hc_basic-long.elf"));
	assert_int_equal(c.status, 7);
	assert_non_null(strstr(c.err, "kvmbox: the guest exited with status 7"));
	assert_null(strstr(c.err, "policy"));
	data = read_whole_file(json, &len);
	assert_non_null(data);
	assert_non_null(memmem(data, len, "\"status\":\"exited\",\"exit_status\":7", 33));
	free(data);
	RUN(&c, "run", "--stats-json", json, "--timeout", "0.2", build_path("guests/test-loop-long.elf"));
	assert_int_equal(c.status, EXIT_TIMEOUT);
	assert_non_null(strstr(c.err, "kvmbox: timeout: the guest was still running after 0.2 s"));
	data = read_whole_file(json, &len);
	assert_non_null(data);
	assert_non_null(memmem(data, len, "\"status\":\"timeout\"", 18));
	free(data);
	RUN(&c, "run", "--stats-json", json, build_path("guests/test-triple-protected.elf"));
	assert_int_equal(c.status, EXIT_GUEST_FAULT);
	assert_non_null(strstr(c.err, "kvmbox: guest fault: "));
	/* gdb and --repeat debug or repeat one run, which --stats-json measures once. */
	expect_refusal((const char *const[]){ "run", "--stats-json", json, "-S", NULL }, "gdb debugs a VM");
	unlink(json);
}

/* The scheduler's table shows the weight asked only under --sched share, which uses it. */
static void test_sched_table_columns(void **state)
{
	char vm_a[512], vm_b[512];
	struct cli c;

	(void)state;
	snprintf(vm_a, sizeof(vm_a), "a=%s", build_path("guests/hello-long.elf"));
	snprintf(vm_b, sizeof(vm_b), "b=%s", build_path("guests/hello-real.elf"));
	RUN(&c, "run", "--vm", vm_a, "--vm", vm_b, "--sched", "script:examples/bbuf.sched");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.err, "cpu ms achieved"));
	assert_null(strstr(c.err, " share "));
	RUN(&c, "run", "--vm", vm_a, "--vm", vm_b, "--sched", "share");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.err, "cpu ms   share achieved"));
	assert_non_null(strstr(c.err, "   50.0%  "));
}

/* Every bad value says what is wrong with it, and where (file and line of a schedule). */
static void test_messages_say_what_is_wrong(void **state)
{
	char dir[] = "/tmp/kvmbox-test-msg-XXXXXX", path[128], arg[160], vm_a[600], vm_b[600];
	char hello[512], obj[512];
	struct cli c;
	FILE *f;

	(void)state;
	snprintf(hello, sizeof(hello), "%s", build_path("guests/hello-long.elf"));
	snprintf(obj, sizeof(obj), "%s", build_path("guests/obj/long/examples/hello.o"));
	assert_non_null(mkdtemp(dir));
	expect_refusal((const char *const[]){ "run", "--load", "abc", hello, NULL },
		       "--load: 'abc' is not an address (decimal or 0x hex)");
	expect_refusal((const char *const[]){ "run", "--sched", "banana", NULL },
		       "--sched: unknown policy 'banana' (io, rr, share, script:FILE)");
	expect_refusal((const char *const[]){ "run", "--quantum", "x", NULL },
		       "--quantum: 'x' is not a number of milliseconds");
	expect_refusal((const char *const[]){ "run", "--duration", "x", NULL },
		       "--duration: 'x' is not a number of seconds");
	expect_refusal((const char *const[]){ "run", "--chan", "x", NULL }, "--chan: 'x' is not ID=CAPACITY");
	expect_refusal((const char *const[]){ "run", "--chan", "99=1", NULL }, "--chan: '99=1' is out of range");
	expect_refusal((const char *const[]){ "run", "", NULL }, "kvmbox: IMAGE is an empty name ('')");
	expect_refusal((const char *const[]){ "run", hello, "a", "b", NULL },
		       "unexpected argument 'a' after IMAGE: the guest's arguments go after `--`");
	snprintf(vm_a, sizeof(vm_a), "x=%s,,weight=3", hello);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, NULL }, "an empty KEY=VALUE between commas");
	snprintf(vm_a, sizeof(vm_a), "x=%s,weight=3,", hello);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, NULL }, "an empty KEY=VALUE between commas");
	/* A share's access mode that is neither ro nor rw; a directory whose name has a colon
	 * is still a directory. */
	snprintf(arg, sizeof(arg), "%s:rx", dir);
	expect_refusal((const char *const[]){ "run", "--share", arg, hello, NULL },
		       "unknown access mode ':rx' (ro, rw)");
	snprintf(path, sizeof(path), "%s/a:b", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	RUN(&c, "run", "--share", path, hello);
	if (c.status != 0)
		fail_msg("--share %s: status %d: %s", path, c.status, c.err);
	rmdir(path);
	/* Schedules: a directory is not a file; a bad byte names its file and line. */
	snprintf(vm_a, sizeof(vm_a), "a=%s", hello);
	snprintf(vm_b, sizeof(vm_b), "b=%s", hello);
	snprintf(arg, sizeof(arg), "script:%s", dir);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, "--sched", arg, NULL },
		       "is a directory, not a file");
	snprintf(path, sizeof(path), "%s/bad.sched", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# comment\n1, 2\n12x\n", f);
	fclose(f);
	snprintf(arg, sizeof(arg), "script:%s", path);
	run_cli(&c, (const char *const[]){ "run", "--vm", vm_a, "--vm", vm_b, "--sched", arg, NULL });
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.err, path));
	assert_non_null(strstr(c.err, ": line 3: 'x' is not a VM number (1-9)"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# nothing\n", f);
	fclose(f);
	expect_refusal((const char *const[]){ "run", "--vm", vm_a, "--sched", arg, NULL }, "no VM number in it");
	unlink(path);
	rmdir(dir);
	/* A relocatable object (the build's own guest objects) is not yet linked. */
	if (access(obj, R_OK) == 0)
		expect_refusal((const char *const[]){ "run", obj, NULL },
			       "an object file (ELF type ET_REL), not an executable: link it");
}

/* A console that cannot be written (stdout on /dev/full) is a write error, said as one; the
 * report does not blame a slow reader. */
static void test_console_write_error(void **state)
{
	char sh[1024];
	struct cli c;

	(void)state;
	snprintf(sh, sizeof(sh), "exec %s run --vm x=%s >/dev/full", build_path("kvmbox"),
		 build_path("guests/hello-long.elf"));
	run_command(&c, (const char *const[]){ "bash", "-c", sh, NULL });
	assert_int_equal(c.status, EXIT_HOST);
	assert_non_null(strstr(c.err, "console output: No space left on device"));
	assert_null(strstr(c.err, "the reader was slower"));
	snprintf(sh, sizeof(sh), "exec %s run >/dev/full", build_path("kvmbox"));
	run_command(&c, (const char *const[]){ "bash", "-c", sh, NULL });
	assert_int_equal(c.status, EXIT_HOST);
	assert_non_null(strstr(c.err, "No space left on device"));
}

/* -s was protected mode in kvm-hello-world: kvmbox says once what it is now and how to
 * ask for protected mode. */
static void test_short_s_says_protected_is_m_protected(void **state)
{
	static const char note[] = "kvmbox: -s is QEMU's: a gdb server on tcp:127.0.0.1:1234; "
				   "protected mode (kvm-hello-world's -s) is -m protected\n";
	char dir[] = "/tmp/kvmbox-test-s-XXXXXX", spec[96], vm_a[512];
	const char *again;
	struct cli c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* With --gdb elsewhere, -s starts nothing: the guest runs at once. */
	snprintf(spec, sizeof(spec), "unix:%s/gdb.sock", dir);
	RUN(&c, "run", "--gdb", spec, "-s", "-s", build_path("guests/hello-protected.elf"));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
	assert_memory_equal(c.err, note, strlen(note));
	again = strstr(c.err + strlen(note), "-s is QEMU's");
	assert_null(again);
	/* Also when the command line is refused. */
	snprintf(vm_a, sizeof(vm_a), "a=%s", build_path("guests/hello-long.elf"));
	RUN(&c, "run", "-s", "--vm", vm_a);
	assert_int_equal(c.status, EXIT_USAGE);
	assert_memory_equal(c.err, note, strlen(note));
	RUN(&c, "run", "-m", "protected");
	assert_null(strstr(c.err, "-s is"));
	snprintf(spec, sizeof(spec), "rm -rf %s", dir);
	run_command(&c, (const char *const[]){ "sh", "-c", spec, NULL });
}

/* A paged32 VM of several, on a host without 32-bit paging: the refusal names the VM and
 * where it runs. */
static void test_paged32_refusal_names_vm(void **state)
{
	struct kvmbox_error err;
	char vm_a[512], vm_b[512];
	struct cli c;

	(void)state;
	if (kvmbox_host_supports_mode(KVMBOX_MODE_PAGED32, &err) == 1) {
		printf("SKIP: this host runs paged32: no refusal to read\n");
		skip();
	}
	snprintf(vm_a, sizeof(vm_a), "neo=%s", build_path("guests/hello-long.elf"));
	snprintf(vm_b, sizeof(vm_b), "trinity=%s", build_path("guests/hello-paged32.elf"));
	RUN(&c, "run", "--vm", vm_a, "--vm", vm_b);
	assert_int_equal(c.status, EXIT_UNSUPPORTED);
	assert_non_null(strstr(c.err, "kvmbox: trinity: "));
	assert_non_null(strstr(c.err, "hello-paged32.elf: this host's KVM cannot run paged32 mode"));
	assert_non_null(strstr(c.err, "scripts/kvm-in-qemu runs it"));
}

/* ---- README.md's examples, run as written ----------------------------------------------- */

/* Every command of README.md that needs no build and no install runs as written against
 * this build, ends with the status it documents and leaves no file in the checkout
 * (tests/install/readme.sh; `make check-install` runs it on a fresh copy after `make run`). */
static void test_readme_examples(void **state)
{
	struct cli c;

	(void)state;
	if (access("tests/install/readme.sh", X_OK) != 0 || access("README.md", R_OK) != 0) {
		printf("SKIP: README.md or tests/install/readme.sh is not here (run from the source "
		       "tree)\n");
		skip();
	}
	run_command(&c, (const char *const[]){ "tests/install/readme.sh", NULL });
	if (c.status != 0)
		fail_msg("README.md's commands:\n%s%s", c.out, c.err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_long),
		cmocka_unit_test(test_hello_protected),
		cmocka_unit_test(test_hello_real),
		cmocka_unit_test(test_hello_paged32_or_refusal),
		cmocka_unit_test(test_flat_image_with_regs),
		cmocka_unit_test(test_timeout_status),
		cmocka_unit_test(test_fault_status_and_dump),
		cmocka_unit_test(test_guest_exit_status),
		cmocka_unit_test(test_timeout_with_stalled_console),
		cmocka_unit_test(test_sigint_stops_cleanly),
		cmocka_unit_test(test_closed_console_stops),
		cmocka_unit_test(test_repeat_runs_from_loaded_state),
		cmocka_unit_test(test_subcommands),
		cmocka_unit_test(test_bad_images_refused),
		cmocka_unit_test(test_bad_options_refused),
		cmocka_unit_test(test_inputs_checked_before_running),
		cmocka_unit_test(test_image_mode_rule),
		cmocka_unit_test(test_share_suffixes),
		cmocka_unit_test(test_one_vm_and_several_alike),
		cmocka_unit_test(test_single_out_file),
		cmocka_unit_test(test_several_vm_statuses),
		cmocka_unit_test(test_assertion_status),
		cmocka_unit_test(test_single_vm_stats_json_statuses),
		cmocka_unit_test(test_sched_table_columns),
		cmocka_unit_test(test_messages_say_what_is_wrong),
		cmocka_unit_test(test_console_write_error),
		cmocka_unit_test(test_short_s_says_protected_is_m_protected),
		cmocka_unit_test(test_paged32_refusal_names_vm),
		cmocka_unit_test(test_readme_examples),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
