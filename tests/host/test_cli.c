/* The command as a user runs it: messages, output and exit statuses, including every
 * refusal of bad input (one clear line, status 2, nothing run). */
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

extern char **environ;

struct cli {
	int status;
	char out[OUT_MAX], err[OUT_MAX];
};

static void drain(int fd, char *buf, size_t max)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, max - 1 - len)) > 0 && len + (size_t)n < max - 1)
		len += (size_t)n;
	if (n > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
}

/* Run build/kvmbox with the NULL-terminated ARGS; stdout and stderr captured apart. */
static void run_cli(struct cli *c, const char *const *args)
{
	const char *argv[32] = { build_path("kvmbox") };
	posix_spawn_file_actions_t fa;
	int out[2], err[2], st, i;
	pid_t pid;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	posix_spawn_file_actions_addclose(&fa, err[0]);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	drain(out[0], c->out, sizeof(c->out)); /* small outputs: the pipe never fills both */
	drain(err[0], c->err, sizeof(c->err));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	c->status = WEXITSTATUS(st);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#define RUN(c, ...) run_cli((c), (const char *const[]){ __VA_ARGS__, NULL })

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

/* paged32 runs where the host can; elsewhere one clear line and status 5, before running. */
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
		assert_int_equal(c.status, 5);
		assert_string_equal(c.out, "");
		assert_int_equal(count_lines(c.err), 1);
		assert_non_null(strstr(c.err, "kvmbox: this host's KVM cannot run paged32 mode"));
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
	assert_int_equal(c.status, 4);
	assert_non_null(strstr(c.err, "timeout"));
}

static void test_fault_status_and_dump(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "run", build_path("guests/test-triple-protected.elf"));
	assert_int_equal(c.status, 3);
	assert_non_null(strstr(c.err, "KVM_EXIT_SHUTDOWN"));
	assert_non_null(strstr(c.err, "rax="));
	assert_non_null(strstr(c.err, "rip="));
	RUN(&c, "run", build_path("guests/test-badport-long.elf"));
	assert_int_equal(c.status, 3);
	assert_non_null(strstr(c.err, "unknown port 0x3f8"));
}

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
	assert_int_equal(wait_status(pid, 10), 4);
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

/* A console nobody will ever read (`kvmbox run | head`) ends the run: status 6, not a hang. */
static void test_closed_console_stops(void **state)
{
	char err[OUT_MAX];
	FILE *ef;
	int rd;
	pid_t pid;

	(void)state;
	pid = spawn_cli((const char *const[]){ "run", build_path("guests/test-chatter-long.elf"), NULL },
			&rd, &ef);
	close(rd);
	assert_int_equal(wait_status(pid, 10), 6);
	read_all(ef, err, sizeof(err));
	assert_non_null(strstr(err, "console: Broken pipe"));
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

static void test_help_and_version(void **state)
{
	struct cli c;

	(void)state;
	RUN(&c, "--help");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "usage: kvmbox run"));
	RUN(&c, "--version");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "kvmbox " KVMBOX_VERSION));
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
		       "32-bit");
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
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_bad_images_refused),
		cmocka_unit_test(test_bad_options_refused),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
