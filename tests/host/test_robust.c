/* Runs against a hostile environment (docs/scheduler.md, "Slow readers"; docs/security.md):
 * a reader that goes away after 100 bytes, a reader that pauses, a full disk, SIGTERM, a
 * crafted image. Most run the command with a console-flooding guest (test-chatter) next to a
 * pure compute one (neo-spin) and check the exit status, the report on stderr and the
 * --stats-json file.
 * Time bounds are generous (2 busy cores, the QEMU lane) but still tell a stalled scheduler
 * (the whole pause) from a working one. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "../../cli/conout.h"
#include "../../cli/status.h"

extern char **environ;

struct robust {
	char json[64], err[64], out[64]; /* temporary files: stats JSON, stderr, out=FILE */
	char chatter[512], spin[512];    /* --vm a=... and --vm b=... */
};

static int setup(void **state)
{
	struct robust *r = calloc(1, sizeof(*r));
	int fds[3];

	if (!r)
		return -1;
	strcpy(r->json, "/tmp/kvmbox-robust-json-XXXXXX");
	strcpy(r->err, "/tmp/kvmbox-robust-err-XXXXXX");
	strcpy(r->out, "/tmp/kvmbox-robust-out-XXXXXX");
	fds[0] = mkstemp(r->json);
	fds[1] = mkstemp(r->err);
	fds[2] = mkstemp(r->out);
	for (int i = 0; i < 3; i++)
		if (fds[i] < 0)
			return -1;
		else
			close(fds[i]);
	snprintf(r->chatter, sizeof(r->chatter), "a=%s", build_path("guests/test-chatter-long.elf"));
	snprintf(r->spin, sizeof(r->spin), "b=%s", build_path("guests/neo-spin-long.elf"));
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct robust *r = *state;

	unlink(r->json);
	unlink(r->err);
	unlink(r->out);
	free(r);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Start build/kvmbox ARGS with stdout on OUT_FD and stderr into R->err. */
static pid_t start(const struct robust *r, int out_fd, const char *const *args)
{
	const char *argv[32] = { build_path("kvmbox") };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int i;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_addopen(&fa, 2, r->err, O_WRONLY | O_TRUNC, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* start with the shim tests/host/preload.c preloaded and the NULL-terminated "NAME=VALUE"
 * strings of ENV added to the environment (ASan builds are told not to insist on coming
 * first: the shim is preloaded before their runtime). The command is kvmbox-dynamic, built
 * from the same objects with the shared C library: kvmbox itself is static, with no dynamic
 * loader to preload anything. */
static pid_t start_shim(const struct robust *r, int out_fd, const char *const *env,
			const char *const *args)
{
	static char preload[600], asan[600];
	const char *argv[32] = { build_path("tests/host/kvmbox-dynamic") }, *envp[256];
	const char *old_asan = getenv("ASAN_OPTIONS");
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	pid_t pid;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", build_path("tests/host/preload.so"));
	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
		 old_asan ? old_asan : "", old_asan ? ":" : "");
	for (char **e = environ; *e && n < 240; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "ASAN_OPTIONS=", 13))
			envp[n++] = *e;
	envp[n++] = preload;
	envp[n++] = asan;
	for (; *env && n < 255; env++)
		envp[n++] = *env;
	envp[n] = NULL;
	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_addopen(&fa, 2, r->err, O_WRONLY | O_TRUNC, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, (char **)envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Wait for PID at most LIMIT_S seconds (then kill it and fail); its exit status. */
static int finish(pid_t pid, double limit_s, double *took_s)
{
	uint64_t t0 = mono_ns(), limit = (uint64_t)(limit_s * 1e9);
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		assert_int_equal(w, 0);
		if (mono_ns() - t0 > limit) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("kvmbox still ran after %.1f s", limit_s);
		}
		usleep(10000);
	}
	if (took_s)
		*took_s = (double)(mono_ns() - t0) / 1e9;
	if (!WIFEXITED(st))
		fail_msg("kvmbox died of signal %d instead of exiting", WTERMSIG(st));
	return WEXITSTATUS(st);
}

/* The file PATH, NUL-terminated, into BUF of MAX bytes. */
static void slurp(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	read_all_fd(fd, buf, max);
}

/* The number after "KEY": in the JSON object of VM NAME of the stats file TEXT. */
static double vm_num(const char *text, const char *name, const char *key)
{
	char pat[80];
	const char *vm, *p;

	snprintf(pat, sizeof(pat), "{\"name\":\"%s\"", name);
	vm = strstr(text, pat);
	assert_non_null(vm);
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(vm, pat);
	assert_non_null(p);
	return strtod(p + strlen(pat), NULL);
}

/* `kvmbox run --vm ... | head -c 100`: the reader takes 100 bytes and goes away. The run
 * ends as SIGPIPE would end a command (141), with the report and the JSON written. */
static void test_reader_goes_away(void **state)
{
	struct robust *r = *state;
	char buf[100], text[OUT_MAX];
	size_t got = 0;
	int p[2], status;
	pid_t pid;

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0); /* the child must not hold a reader */
	pid = start(r, p[1], (const char *const[]){ "run", "--vm", r->chatter, "--vm", r->spin,
						   "--stats-json", r->json, NULL });
	close(p[1]);
	while (got < sizeof(buf)) {
		ssize_t n = read(p[0], buf + got, sizeof(buf) - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	close(p[0]);
	status = finish(pid, 20, NULL);
	assert_int_equal(status, EXIT_SIGNAL + SIGPIPE);
	assert_memory_equal(buf, "[a] chatter\n", 12);
	slurp(r->err, text, sizeof(text));
	assert_non_null(strstr(text, "reader went away"));
	assert_non_null(strstr(text, "kvmbox: 2 VMs"));
	slurp(r->json, text, sizeof(text));
	assert_non_null(strstr(text, "\"status\":\"cancelled\""));
	assert_true(vm_num(text, "a", "bytes") >= 100);
}

/* A reader that does not read for the whole run (a paused pager): a --duration 2 run still
 * ends within 3 s (natively from its start; in the QEMU lane, where starting the VMs takes
 * long, from its first line), the compute VM keeps its half of the CPU, and the chatter's
 * lost output is counted. A stalled scheduler would keep kvmbox until the reader reads. */
static void test_paused_reader_stalls_nobody(void **state)
{
	struct robust *r = *state;
	char text[OUT_MAX];
	double took, bytes, dropped;
	int p[2], status, pipe_size;
	uint64_t t0;
	pid_t pid;

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0); /* the child must not hold a reader */
	pipe_size = fcntl(p[1], F_SETPIPE_SZ, 4096); /* the smallest: the chatter soon fills it */
	assert_true(pipe_size > 0);
	t0 = mono_ns();
	pid = start(r, p[1], (const char *const[]){ "run", "--vm", r->chatter, "--vm", r->spin,
						   "--sched", "share", "--duration", "2",
						   "--stats-json", r->json, NULL });
	close(p[1]);
	/* The reader pauses all along: it only notes when the first line was there to read
	 * (the run had started: VMs take a while to start in the QEMU lane). */
	assert_int_equal(poll(&(struct pollfd){ .fd = p[0], .events = POLLIN }, 1, 10000), 1);
	status = finish(pid, 10, &took);
	close(p[0]);
	assert_int_equal(status, EXIT_OK);
	if (took >= 3.0)
		fail_msg("a --duration 2 run with a paused reader ended %.2f s after its first line", took);
	took = (double)(mono_ns() - t0) / 1e9;
	if (!in_realkvm_lane() && took >= 3.0)
		fail_msg("a --duration 2 run with a paused reader took %.2f s", took);
	slurp(r->json, text, sizeof(text));
	/* Whatever did not fit in the pipe and kvmbox's buffer was dropped and counted (the
	 * buffer holds the lines with their "[a] " prefix, so even less fits than this). */
	bytes = vm_num(text, "a", "bytes");
	dropped = vm_num(text, "a", "dropped");
	assert_true(bytes > 0 && dropped <= bytes);
	if (dropped < bytes - (CONOUT_MAX + pipe_size))
		fail_msg("%.0f of %.0f console bytes dropped: more went missing", dropped, bytes);
	assert_true(vm_num(text, "b", "share_achieved") >= 0.3);
	assert_true(vm_num(text, "a", "share_achieved") >= 0.3);
	assert_non_null(strstr(text, "\"wall_ns\":"));
	assert_true(strtod(strstr(text, "\"wall_ns\":") + 10, NULL) < 2.5e9);
	slurp(r->err, text, sizeof(text));
	if (dropped > 0)
		assert_non_null(strstr(text, "bytes dropped (never written: a reader slower than the guest"));
}

/* Console output that cannot be written (a full disk) is a host error, as for one VM: on
 * stdout and in an out= file. */
static void test_full_disk_is_host_error(void **state)
{
	struct robust *r = *state;
	char vm_a[600], text[OUT_MAX];
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	assert_true(full >= 0);
	assert_int_equal(finish(start(r, full, (const char *const[]){ "run", "--vm", r->chatter, "--vm",
								       r->spin, NULL }), 20, NULL),
			 EXIT_HOST);
	slurp(r->err, text, sizeof(text));
	assert_non_null(strstr(text, "No space left on device"));
	snprintf(vm_a, sizeof(vm_a), "%s,out=/dev/full", r->chatter);
	assert_int_equal(finish(start(r, 1, (const char *const[]){ "run", "--vm", vm_a, "--vm", r->spin,
								    "--stats-json", r->json, NULL }), 20, NULL),
			 EXIT_HOST);
	slurp(r->json, text, sizeof(text));
	assert_non_null(strstr(text, "\"status\":\"cancelled\""));
	close(full);
}

/* SIGTERM stops every guest: status 143, the report, the JSON, and the out= file holds every
 * byte the chatter wrote (its tail was not lost: the file's size is the guest's count). */
static void test_sigterm_keeps_report_and_tail(void **state)
{
	struct robust *r = *state;
	char vm_a[600], text[OUT_MAX];
	struct stat sb;
	pid_t pid;

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(vm_a, sizeof(vm_a), "%s,out=%s", r->chatter, r->out);
	pid = start(r, 1, (const char *const[]){ "run", "--vm", vm_a, "--vm", r->spin, "--stats-json",
						 r->json, NULL });
	/* Once the chatter has printed (a slow host takes a while to start the VMs), then more. */
	for (int i = 0; i < 1000 && (stat(r->out, &sb) < 0 || sb.st_size == 0); i++)
		usleep(10000);
	usleep(200000);
	kill(pid, SIGTERM);
	assert_int_equal(finish(pid, 10, NULL), EXIT_SIGNAL + SIGTERM);
	slurp(r->err, text, sizeof(text));
	assert_non_null(strstr(text, "interrupted by signal 15"));
	assert_non_null(strstr(text, "kvmbox: 2 VMs"));
	slurp(r->json, text, sizeof(text));
	assert_int_equal(stat(r->out, &sb), 0);
	assert_true(sb.st_size > 0);
	assert_int_equal(vm_num(text, "a", "dropped"), 0);
	assert_int_equal((uint64_t)vm_num(text, "a", "bytes"), (uint64_t)sb.st_size);
	slurp(r->out, text, sizeof(text));
	assert_memory_equal(text, "chatter\n", 8); /* no prefix: a file of its own */
}

/* A guest image whose debug data names a supplementary file (.gnu_debugaltlink, names in
 * DW_FORM_strp_sup / DW_FORM_GNU_strp_alt: build/guests/crafted-altlink-long.elf, made by the
 * Makefile from tests/guests/crafted/altlink.S). libdw would open that file at the first
 * fault, under the process sandbox: the report must still come (status 65, the function
 * from the ELF symbols, no source line) with the guest's output before it. */
static void test_crafted_debug_data_single(void **state)
{
	struct cli *c = calloc(1, sizeof(*c));

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(c, "run", build_path("guests/crafted-altlink-long.elf"));
	assert_int_equal(c->status, EXIT_GUEST_FAULT);
	assert_string_equal(c->out, "before the fault\nno newline yet");
	assert_non_null(strstr(c->err, "invalid opcode (#UD) at rip 0x"));
	assert_non_null(strstr(c->err, " in bad_opcode"));
	assert_null(strstr(c->err, " in bad_opcode (")); /* no " (FILE:LINE)" */
	assert_null(strstr(c->err, "print_then_ud.c:"));
	assert_non_null(strstr(c->err, "debug data names other files"));
	assert_null(strstr(c->err, "seccomp"));
	free(c);
}

/* The same image next to another VM: that VM's output is all there too. */
static void test_crafted_debug_data_several(void **state)
{
	struct cli *c = calloc(1, sizeof(*c));
	char a[600], b[600];

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(a, sizeof(a), "a=%s", build_path("guests/crafted-altlink-long.elf"));
	snprintf(b, sizeof(b), "b=%s", build_path("guests/hello-long.elf"));
	RUN(c, "run", "--vm", a, "--vm", b);
	assert_int_equal(c->status, EXIT_GUEST_FAULT);
	assert_non_null(strstr(c->out, "[a] before the fault\n"));
	assert_non_null(strstr(c->out, "[a] no newline yet\n"));
	assert_non_null(strstr(c->out, "[b] Hello, world!\n"));
	assert_non_null(strstr(c->err, "invalid opcode (#UD) at rip 0x"));
	assert_null(strstr(c->err, "seccomp"));
	free(c);
}

/* A SIGINT that lands after the run loop's last look at the cancel flag and before KVM_RUN
 * enters a guest that never exits (the shim sends it exactly there, before the KVM_RUN the
 * guest spins in): the run still ends at once with 130, not at its --timeout with 66. The
 * handler's kick (kvmbox_vm_kick: immediate_exit) makes that KVM_RUN return at once. The
 * shim's kill(2) is a call the sandbox forbids: --no-seccomp. */
static void test_signal_before_kvm_run(void **state)
{
	struct robust *r = *state;
	char text[OUT_MAX];

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	assert_int_equal(finish(start_shim(r, 1, (const char *const[]){ "KVMBOX_TEST_SIGNAL_AT_RUN=2", NULL },
					   (const char *const[]){ "run", "--no-seccomp", "--timeout", "60",
								  build_path("guests/neo-spin-long.elf"),
								  NULL }),
				30, NULL),
			 EXIT_SIGNAL + SIGINT);
	slurp(r->err, text, sizeof(text));
	assert_non_null(strstr(text, "interrupted by signal 2"));
}

/* Started with stdout closed (`kvmbox run ... >&-`): the stats file must not become
 * descriptor 1 and get the guest's console. kvmbox puts /dev/null on a closed 0-2 first. */
static void test_closed_stdout(void **state)
{
	struct robust *r = *state;
	const char *argv[] = { build_path("kvmbox"), "run", "--vm", NULL, "--stats-json", r->json, NULL };
	posix_spawn_file_actions_t fa;
	char vm[600], text[OUT_MAX];
	pid_t pid;

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(vm, sizeof(vm), "a=%s", build_path("guests/hello-long.elf"));
	argv[3] = vm;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, 1);
	posix_spawn_file_actions_addopen(&fa, 2, r->err, O_WRONLY | O_TRUNC, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(finish(pid, 20, NULL), EXIT_OK);
	slurp(r->json, text, sizeof(text));
	assert_null(strstr(text, "Hello"));
	assert_memory_equal(text, "{\"policy\":", 10);
	assert_non_null(strstr(text, "\"status\":\"halted\""));
	assert_string_equal(text + strlen(text) - 3, "]}\n");
}

/* One VM whose console is a pipe nobody reads (it fills, and the console's write would block
 * for ever): SIGTERM still ends the run at once, with 143; with a --timeout far away too
 * (not 66 at the timeout). The console waits look at the cancel flag. */
static void test_sigterm_with_full_console_pipe(void **state)
{
	struct robust *r = *state;
	const char *chatter = build_path("guests/test-chatter-long.elf");
	const char *const runs[2][6] = { { "run", chatter, NULL },
					 { "run", "--timeout", "60", chatter, NULL } };
	char text[OUT_MAX];

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	for (int k = 0; k < 2; k++) {
		int p[2];
		pid_t pid;

		assert_int_equal(pipe2(p, O_CLOEXEC), 0); /* the child must not hold a reader */
		assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) > 0);
		pid = start(r, p[1], runs[k]);
		close(p[1]);
		/* Once the pipe is full (a slow host takes a while to start the VM). */
		assert_int_equal(poll(&(struct pollfd){ .fd = p[0], .events = POLLIN }, 1, 10000), 1);
		usleep(500000);
		kill(pid, SIGTERM);
		assert_int_equal(finish(pid, 10, NULL), EXIT_SIGNAL + SIGTERM);
		close(p[0]);
		slurp(r->err, text, sizeof(text));
		assert_non_null(strstr(text, "interrupted by signal 15"));
	}
}

/* Output files on a full disk (/dev/full): the trace of the scheduler (--trace-out), a VM's
 * log (--trace-file) and the JSON are each one line naming the file and status 71, not a
 * silent 0 with an empty file. */
static void test_full_disk_output_files(void **state)
{
	struct cli *c = calloc(1, sizeof(*c));
	const char *hello = build_path("guests/hello-long.elf");
	char vm[600];

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(vm, sizeof(vm), "a=%s", hello);
	RUN(c, "run", "--trace-out", "/dev/full", "--vm", vm);
	assert_int_equal(c->status, EXIT_HOST);
	assert_non_null(strstr(c->err, "kvmbox: --trace-out /dev/full: No space left on device"));
	RUN(c, "run", "--trace", "--trace-file", "/dev/full", hello);
	assert_int_equal(c->status, EXIT_HOST);
	assert_non_null(strstr(c->err, "kvmbox: --trace-file /dev/full: No space left on device"));
	assert_string_equal(c->out, "Hello, world!\n");
	RUN(c, "run", "--stats-json", "/dev/full", "--vm", vm);
	assert_int_equal(c->status, EXIT_HOST);
	assert_non_null(strstr(c->err, "kvmbox: --stats-json /dev/full: No space left on device"));
	free(c);
}

/* Two VMs naming one out= file, however spelled, share one writer: every line of both is
 * there, whole, with the VM's name. Outputs of different kinds naming one file (a console
 * and the JSON) are refused, status 2, before anything runs. */
static void test_same_output_file(void **state)
{
	struct robust *r = *state;
	struct cli *c = calloc(1, sizeof(*c));
	const char *hello = build_path("guests/hello-long.elf");
	char a[600], b[600], text[OUT_MAX], *slash = strrchr(r->out, '/');

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(a, sizeof(a), "a=%s,out=%s", hello, r->out);
	snprintf(b, sizeof(b), "b=%s,out=%.*s/./%s", hello, (int)(slash - r->out), r->out, slash + 1);
	RUN(c, "run", "--vm", a, "--vm", b);
	assert_int_equal(c->status, EXIT_OK);
	slurp(r->out, text, sizeof(text));
	assert_non_null(strstr(text, "[a] Hello, world!\n"));
	assert_non_null(strstr(text, "[b] Hello, world!\n"));
	assert_int_equal(strlen(text), 2 * strlen("[a] Hello, world!\n"));
	RUN(c, "run", "--vm", a, "--stats-json", r->out);
	assert_int_equal(c->status, EXIT_USAGE);
	assert_non_null(strstr(c->err, "name the same file"));
	RUN(c, "run", "--out", r->out, "--stats-json", r->out, hello);
	assert_int_equal(c->status, EXIT_USAGE);
	assert_non_null(strstr(c->err, "--out"));
	assert_non_null(strstr(c->err, "name the same file"));
	free(c);
}

/* No byte of TEXT is a control character but newline, or >= 0x80. */
static void assert_plain_text(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p >= 0x7f)
			fail_msg("byte 0x%02x at offset %zu", *p, (size_t)(p - (const unsigned char *)text));
}

/* A guest assertion's file and expression are the guest's text: terminal escapes, a newline
 * that would start a forged "kvmbox:" line and bytes that are not UTF-8 reach stderr and the
 * JSON filtered ('?'), as the open() log lines always were. */
static void test_guest_text_filtered(void **state)
{
	struct robust *r = *state;
	struct cli *c = calloc(1, sizeof(*c));
	const char *image = build_path("guests/test-assert_hostile-long.elf");
	char vm[600], text[OUT_MAX];

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(c, "run", image);
	assert_int_equal(c->status, EXIT_CHECK);
	assert_non_null(strstr(c->err, "guest assertion failed at ?[2J??evil.c:7: x?kvmbox: forged"));
	assert_plain_text(c->err);
	assert_null(strstr(c->err, "\nkvmbox: forged"));
	snprintf(vm, sizeof(vm), "a=%s", image);
	RUN(c, "run", "--vm", vm, "--stats-json", r->json);
	assert_int_equal(c->status, EXIT_CHECK);
	assert_plain_text(c->err);
	slurp(r->json, text, sizeof(text));
	assert_plain_text(text);
	assert_non_null(strstr(text, "\"message\":\"guest assertion failed at ?[2J??evil.c:7: "));
	/* A name that is not UTF-8 (a user's; the JSON writer takes any text): U+FFFD. */
	snprintf(vm, sizeof(vm), "n\xff\xc3\xa9=%s", build_path("guests/hello-long.elf"));
	RUN(c, "run", "--vm", vm, "--stats-json", r->json);
	assert_int_equal(c->status, EXIT_OK);
	slurp(r->json, text, sizeof(text));
	assert_non_null(strstr(text, "{\"name\":\"n\\ufffd\xc3\xa9\","));
	free(c);
}

/* A forbidden system call mid-run (the shim makes one at a chosen KVM_RUN, as a subverted or
 * buggy kvmbox would) ends the process by SIGSYS, but what the guests printed and kvmbox still
 * held comes out first (the sandbox's on_trap): one VM's unfinished line in the library's
 * buffer, and with several VMs each one's unfinished line, with its name. The KVM_RUN chosen
 * comes after each guest's 15 console exits (one per byte) and its first hypercalls (with two
 * VMs, --yield-on-io makes them take turns at every exit). */
static void test_sigsys_keeps_output(void **state)
{
	struct robust *r = *state;
	const char *image = build_path("guests/test-print_exit_spin-long.elf");
	char a[600], b[600], text[OUT_MAX];
	int out, st;
	pid_t pid;

	skip_unless_host_runs(KVMBOX_MODE_LONG);
	out = open(r->out, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(out >= 0);
	pid = start_shim(r, out, (const char *const[]){ "KVMBOX_TEST_FORBIDDEN_AT_RUN=30", NULL },
			 (const char *const[]){ "run", image, NULL });
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	slurp(r->out, text, sizeof(text));
	assert_string_equal(text, "started\npartial");
	slurp(r->err, text, sizeof(text));
	assert_non_null(strstr(text, "kvmbox: seccomp: forbidden system call"));

	snprintf(a, sizeof(a), "a=%s", image);
	snprintf(b, sizeof(b), "b=%s", image);
	assert_int_equal(ftruncate(out, 0), 0);
	assert_int_equal(lseek(out, 0, SEEK_SET), 0);
	pid = start_shim(r, out, (const char *const[]){ "KVMBOX_TEST_FORBIDDEN_AT_RUN=80", NULL },
			 (const char *const[]){ "run", "--yield-on-io", "--vm", a, "--vm", b, NULL });
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(out);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	slurp(r->out, text, sizeof(text));
	assert_non_null(strstr(text, "[a] started\n"));
	assert_non_null(strstr(text, "[b] started\n"));
	assert_non_null(strstr(text, "[a] partial\n"));
	assert_non_null(strstr(text, "[b] partial\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reader_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused_reader_stalls_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_is_host_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_keeps_report_and_tail, setup, teardown),
		cmocka_unit_test(test_crafted_debug_data_single),
		cmocka_unit_test(test_crafted_debug_data_several),
		cmocka_unit_test_setup_teardown(test_signal_before_kvm_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_with_full_console_pipe, setup, teardown),
		cmocka_unit_test(test_full_disk_output_files),
		cmocka_unit_test_setup_teardown(test_same_output_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_text_filtered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigsys_keeps_output, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
