/* Guest SDK tests, the guest's source and the host's checks side by side: 64-bit division
 * (tests/guests/div64.c) and errstr() (tests/guests/errstr.c) in every mode, a guest that
 * declares fewer modes (examples/big-table.c), files through a share (examples/upcase.c),
 * arguments reaching main(argc, argv) (examples/hello-args.c, tests/guests/args_bad.c; none
 * and no exit for a guest that says KVMBOX_NO_ARGS) and
 * main's return value as the guest's status (tests/guests/status.c), through the library
 * and through the command. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kvmbox/abi.h"
#include "harness.h"
#include "../../cli/status.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

extern char **environ;

/* The run ended with `hlt` and eax = 0: every GUEST_ASSERT of the guest held. */
static void assert_halted_ok(const struct guest_run *r)
{
	if (r->res.stop != KVMBOX_STOP_HALT)
		fail_msg("expected a halt, got stop %d: %s", r->res.stop, r->res.msg);
	assert_int_equal(kvmbox_vm_regs(r->vm)->rax & 0xffffffff, 0);
}

/* Run build/guests/IMAGE-MODE.elf (with SHARE when not NULL) into R. */
static void run_image(struct guest_run *r, const char *image, enum kvmbox_mode mode,
		      const char *share)
{
	struct guest_spec s = { .path = guest_image(image, mode), .share = share };

	guest_run(r, &s);
}

/* Run build/guests/IMAGE-MODE.elf and expect a halt with eax = 0. */
static void expect_ok(const char *image, enum kvmbox_mode mode)
{
	struct guest_run r;

	skip_unless_host_runs(mode);
	run_image(&r, image, mode, NULL);
	assert_halted_ok(&r);
	guest_run_free(&r);
}

/* tests/guests/div64.c: quotients and remainders, signed and unsigned, as long mode gets. */
static void test_div64(void **state)
{
	expect_ok("test-div64", MODE(state));
}

/* tests/guests/errstr.c: the texts of a few -KVMBOX_E* numbers. */
static void test_errstr(void **state)
{
	expect_ok("test-errstr", MODE(state));
}

/* examples/big-table.c declares protected, paged32 and long: there is no real-mode image
 * (the build skipped it) and the others print the sum and mean of 7680 cubes. */
static void test_big_table(void **state)
{
	struct guest_run r;

	if (MODE(state) == KVMBOX_MODE_REAL) {
		assert_int_equal(access(guest_image("big-table", KVMBOX_MODE_REAL), F_OK), -1);
		assert_int_equal(access(guest_image("big-table", KVMBOX_MODE_LONG), F_OK), 0);
		return;
	}
	skip_unless_host_runs(MODE(state));
	run_image(&r, "big-table", MODE(state), NULL);
	assert_halted_ok(&r);
	assert_string_equal(r.out, "sum of 7680 cubes: 869504399769600, mean 113216718720\n");
	guest_run_free(&r);
}

/* ---- examples/upcase.c: input.txt -> output.txt in a share ------------------------------ */

static const char upcase_in[] = "Hello, share!\n\tTwo  words\nno newline at the end";
static const char upcase_out[] = "HELLO, SHARE!\n\tTWO  WORDS\nNO NEWLINE AT THE END";

/* A test's mode and its share: a fresh temporary directory that the teardown removes with
 * what the guest wrote, even when the test failed half-way. */
struct share_state {
	enum kvmbox_mode mode;
	char dir[200];
};

static int share_setup(void **state)
{
	struct share_state *s = calloc(1, sizeof(*s));
	const char *tmp = getenv("TMPDIR");

	if (!s)
		return -1;
	s->mode = MODE(state);
	snprintf(s->dir, sizeof(s->dir), "%s/kvmbox-upcase-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int share_teardown(void **state)
{
	struct share_state *s = *state;
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s/input.txt", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/output.txt", s->dir);
	unlink(path);
	ret = rmdir(s->dir);
	free(s);
	return ret;
}

/* output.txt is input.txt in upper case; the console has wc's three counts. */
static void test_upcase(void **state)
{
	struct share_state *s = *state;
	char path[256];
	struct guest_run r;
	uint8_t *out;
	size_t size;
	FILE *f;

	skip_unless_host_runs(s->mode);
	snprintf(path, sizeof(path), "%s/input.txt", s->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(upcase_in, 1, sizeof(upcase_in) - 1, f), sizeof(upcase_in) - 1);
	assert_int_equal(fclose(f), 0);

	run_image(&r, "upcase", s->mode, s->dir);
	assert_halted_ok(&r);
	assert_string_equal(r.out, "input.txt -> output.txt: 2 lines, 9 words, 47 bytes\n");
	snprintf(path, sizeof(path), "%s/output.txt", s->dir);
	out = read_whole_file(path, &size);
	assert_non_null(out);
	assert_int_equal(size, sizeof(upcase_out) - 1);
	assert_memory_equal(out, upcase_out, size);
	free(out);
	guest_run_free(&r);
}

/* Without input.txt the guest names the file and the error (errstr) and exits with 1. */
static void test_upcase_missing_input(void **state)
{
	struct share_state *s = *state;
	struct guest_run r;

	skip_unless_host_runs(s->mode);
	run_image(&r, "upcase", s->mode, s->dir);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("expected HC_exit(1), got stop %d: %s", r.res.stop, r.res.msg);
	assert_int_equal(r.res.status, 1);
	assert_string_equal(r.out, "upcase: input.txt: no such file or directory\n");
	guest_run_free(&r);
}

/* ---- Arguments and main's status ---------------------------------------------------------- */

struct args_run {
	struct kvmbox_result res;
	uint32_t rax;
	uint64_t bad_calls, hypercalls, exits; /* exits: all but the console's (OUT) ones */
	char out[4096];
	size_t len;
};

static void capture(void *ctx, const char *buf, size_t len)
{
	struct args_run *r = ctx;

	if (len > sizeof(r->out) - 1 - r->len)
		len = sizeof(r->out) - 1 - r->len;
	memcpy(r->out + r->len, buf, len);
	r->len += len;
	r->out[r->len] = '\0';
}

/* Create a VM in MODE with ARGV[0..ARGC), load build/guests/IMAGE-MODE.elf, run it into R. */
static void run_args(struct args_run *r, const char *image, enum kvmbox_mode mode, unsigned argc,
		     const char *const *argv)
{
	struct kvmbox_vm_config cfg = { .mode = mode, .console = capture, .console_ctx = r,
					.argc = argc, .argv = argv };
	struct kvmbox_run_opts ro = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;
	struct kvmbox_image img;
	uint8_t *data;
	size_t size;

	memset(r, 0, sizeof(*r));
	data = read_whole_file(guest_image(image, mode), &size);
	assert_non_null(data);
	assert_int_equal(kvmbox_image_parse(&img, data, size, false, 0, 0, &err), 0);
	if (kvmbox_vm_create(&vm, &cfg, &err) < 0)
		fail_msg("create: %s", err.msg);
	if (kvmbox_vm_load(vm, &img, &err) < 0)
		fail_msg("load: %s", err.msg);
	assert_int_equal(kvmbox_vm_run(vm, &ro, &r->res), 0);
	r->rax = (uint32_t)kvmbox_vm_regs(vm)->rax;
	r->bad_calls = kvmbox_vm_stats(vm)->bad_calls;
	r->hypercalls = kvmbox_vm_stats(vm)->hypercalls;
	/* A console byte is an exit until the VM's console is coalesced (after many), so
	 * those exits depend on the output's length; the others are what the code costs. */
	r->exits = kvmbox_vm_stats(vm)->exits - kvmbox_vm_stats(vm)->io_out;
	kvmbox_vm_destroy(vm);
	free(data);
}

/* examples/hello-args.c prints every argument as given, empty and spaced ones included, and
 * returns 0: a halt with eax = 0. */
static void test_args_reach_main(void **state)
{
	static const char *const argv[] = { "hello-args", "a", "two words", "", "-x" };
	struct args_run r;

	skip_unless_host_runs(MODE(state));
	run_args(&r, "hello-args", MODE(state), 5, argv);
	if (r.res.stop != KVMBOX_STOP_HALT)
		fail_msg("expected a halt, got stop %d: %s", r.res.stop, r.res.msg);
	assert_int_equal(r.rax, 0);
	assert_string_equal(r.out, "argc = 5\nargv[0] = hello-args\nargv[1] = a\n"
				   "argv[2] = two words\nargv[3] = \nargv[4] = -x\n");
}

/* Without arguments main gets argc = 0 and argv = { NULL }. */
static void test_args_none(void **state)
{
	struct args_run r;

	skip_unless_host_runs(MODE(state));
	run_args(&r, "hello-args", MODE(state), 0, NULL);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_string_equal(r.out, "argc = 0\n");
}

/* The start code's one call for the arguments, skipped by a guest that says KVMBOX_NO_ARGS
 * (examples/hello.c: its one exit besides its console output is the halt, arguments or not). */
static void test_args_cost_one_exit(void **state)
{
	static const char *const argv[] = { "x", "y" };
	struct args_run r;

	skip_unless_host_runs(MODE(state));
	run_args(&r, "hello-args", MODE(state), 2, argv);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_int_equal(r.hypercalls, 1);
	assert_int_equal(r.exits, 2);
	run_args(&r, "hello", MODE(state), 2, argv);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_int_equal(r.rax, 42);
	assert_int_equal(r.hypercalls, 0);
	assert_int_equal(r.exits, 1);
}

/* The most the ABI allows (KVMBOX_ARGC_MAX strings filling KVMBOX_ARGS_MAX bytes with their
 * NULs) all arrive: argv[1] spells 7 (the status), argv[2..] come back on the console. */
static void test_args_at_the_limits(void **state)
{
	enum { PER = KVMBOX_ARGS_MAX / KVMBOX_ARGC_MAX }; /* bytes of each string with its NUL */
	static char text[KVMBOX_ARGS_MAX];
	const char *argv[KVMBOX_ARGC_MAX];
	char want[2 * KVMBOX_ARGS_MAX];
	struct args_run r;
	int n = 0;

	skip_unless_host_runs(MODE(state));
	for (unsigned i = 0; i < KVMBOX_ARGC_MAX; i++) {
		char *s = text + i * PER;

		memset(s, 'a' + (char)(i % 26), PER - 1);
		s[PER - 1] = '\0';
		argv[i] = s;
	}
	text[PER] = '7';
	run_args(&r, "test-status", MODE(state), KVMBOX_ARGC_MAX, argv);
	for (unsigned i = 2; i < KVMBOX_ARGC_MAX; i++)
		n += snprintf(want + n, sizeof(want) - (size_t)n, "%s\n", argv[i]);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("expected HC_exit(7), got stop %d: %s", r.res.stop, r.res.msg);
	assert_int_equal(r.res.status, 7);
	assert_string_equal(r.out, want);
}

/* Beyond the limits, or inconsistent, the create fails with the reason; nothing runs. */
static void test_args_refused(void **state)
{
	static char big[KVMBOX_ARGS_MAX + 1];
	const char *many[KVMBOX_ARGC_MAX + 1], *one[] = { big }, *with_null[] = { "x", NULL };
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_LONG, .console_fd = -1 };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	for (unsigned i = 0; i <= KVMBOX_ARGC_MAX; i++)
		many[i] = "x";
	cfg.argc = KVMBOX_ARGC_MAX + 1;
	cfg.argv = many;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "33 strings, at most 32"));
	memset(big, 'b', KVMBOX_ARGS_MAX);
	cfg.argc = 1;
	cfg.argv = one;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "more than 1024 bytes"));
	cfg.argc = 2;
	cfg.argv = with_null;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "argv[1] is NULL"));
	cfg.argv = NULL;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	assert_null(vm);
}

/* tests/guests/args_bad.c: a bad struct, a small buffer and a bad buffer are refused (and
 * counted) without writing; the well-formed call then succeeds. */
static void test_args_bad_calls(void **state)
{
	static const char *const argv[] = { "args", "hello" };
	struct args_run r;

	skip_unless_host_runs(MODE(state));
	run_args(&r, "test-args_bad", MODE(state), 2, argv);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("expected HC_exit(3), got stop %d: %s", r.res.stop, r.res.msg);
	assert_int_equal(r.res.status, 3);
	assert_int_equal(r.bad_calls, 3);
}

/* main's return value N: 0 halts (eax = 0), anything else is HC_exit(N). */
static void test_main_status(void **state)
{
	static const char *const values[] = { "0", "1", "3", "63", "-1" };
	static const int expect[] = { 0, 1, 3, 63, -1 };

	skip_unless_host_runs(MODE(state));
	for (unsigned i = 0; i < ARRAY_LEN(values); i++) {
		const char *argv[] = { "status", values[i] };
		struct args_run r;

		run_args(&r, "test-status", MODE(state), 2, argv);
		if (expect[i] == 0) {
			assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
			assert_int_equal(r.rax, 0);
			continue;
		}
		if (r.res.stop != KVMBOX_STOP_EXIT)
			fail_msg("main returned %s: stop %d: %s", values[i], r.res.stop, r.res.msg);
		assert_int_equal(r.res.status, expect[i]);
	}
}

/* A KVMBOX_NO_ARGS guest (tests/guests/noargs.c) gets argc = 0 and argv = { NULL } from the
 * start code's shortest path, with no hypercall, and its main's status still ends the run:
 * its 5 is HC_exit(5), the one hypercall of the run. */
static void test_no_args_status(void **state)
{
	struct args_run r;

	skip_unless_host_runs(MODE(state));
	run_args(&r, "test-noargs", MODE(state), 0, NULL);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("stop %d: %s", r.res.stop, r.res.msg);
	assert_int_equal(r.res.status, 5);
	assert_string_equal(r.out, "noargs\n");
	assert_int_equal(r.hypercalls, 1);
	assert_int_equal(r.bad_calls, 0);
}

/* ---- The same through the command ------------------------------------------------------- */

struct cmd {
	int status;
	char out[8192]; /* stdout and stderr together */
};

/* Run build/kvmbox with the NULL-terminated ARGS; both outputs into C->out. */
static void run_kvmbox(struct cmd *c, const char *const *args)
{
	const char *argv[48] = { build_path("kvmbox") };
	posix_spawn_file_actions_t fa;
	int fds[2], st;
	pid_t pid;

	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	read_all_fd(fds[0], c->out, sizeof(c->out));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	c->status = WEXITSTATUS(st);
}

/* `kvmbox run IMAGE -- a b c` prints them, with the image as argv[0]; status 0. */
static void test_cli_args(void **state)
{
	char want[1024], image[512]; /* guest_image's buffers are reused by later calls */
	struct cmd c;

	snprintf(image, sizeof(image), "%s", guest_image("hello-args", MODE(state)));

	skip_unless_host_runs(MODE(state));
	run_kvmbox(&c, (const char *[]){ "run", image, "--", "a", "b", "c", NULL });
	snprintf(want, sizeof(want), "argc = 4\nargv[0] = %s\nargv[1] = a\nargv[2] = b\nargv[3] = c\n",
		 image);
	assert_string_equal(c.out, want);
	assert_int_equal(c.status, 0);
	/* Options before `--` are kvmbox's, words after it the guest's, options included. */
	run_kvmbox(&c, (const char *[]){ "run", "--timeout", "10", image, "--", "--mem", "-v", NULL });
	snprintf(want, sizeof(want), "argc = 3\nargv[0] = %s\nargv[1] = --mem\nargv[2] = -v\n", image);
	assert_string_equal(c.out, want);
	assert_int_equal(c.status, 0);
	/* One VM under the scheduler gets them too; --vm VMs get argv[0] = their image. */
	run_kvmbox(&c, (const char *[]){ "run", "--sched", "rr", image, "--", "sched", NULL });
	assert_non_null(strstr(c.out, "argc = 2\n"));
	assert_non_null(strstr(c.out, "argv[1] = sched\n"));
	assert_int_equal(c.status, 0);
	snprintf(want, sizeof(want), "v=%s", image);
	run_kvmbox(&c, (const char *[]){ "run", "--vm", want, NULL });
	assert_non_null(strstr(c.out, "argc = 1\n"));
	assert_int_equal(c.status, 0);
}

/* main returning 3 makes kvmbox exit 3, 0 exits 0, 1 is not a success; the classic hello
 * (halt with eax = 42) still ends Ok, built in or as an image. */
static void test_cli_main_status(void **state)
{
	char image[512]; /* guest_image's buffers are reused by later calls */
	struct cmd c;

	snprintf(image, sizeof(image), "%s", guest_image("test-status", MODE(state)));

	skip_unless_host_runs(MODE(state));
	run_kvmbox(&c, (const char *[]){ "run", image, "--", "3", NULL });
	assert_int_equal(c.status, 3);
	assert_non_null(strstr(c.out, "the guest exited with status 3"));
	run_kvmbox(&c, (const char *[]){ "run", image, "--", "0", NULL });
	assert_int_equal(c.status, EXIT_OK);
	assert_string_equal(c.out, "");
	run_kvmbox(&c, (const char *[]){ "run", image, "--", "1", NULL });
	assert_int_equal(c.status, 1);
	run_kvmbox(&c, (const char *[]){ "run", image, "--", "64", NULL });
	assert_int_equal(c.status, EXIT_GUEST_RANGE);
	run_kvmbox(&c, (const char *[]){ "run", guest_image("hello", MODE(state)), NULL });
	assert_int_equal(c.status, EXIT_OK);
	assert_string_equal(c.out, "Hello, world!\n");
	run_kvmbox(&c, (const char *[]){ "run", "-m", kvmbox_mode_name(MODE(state)), NULL });
	assert_int_equal(c.status, EXIT_OK);
	assert_non_null(strstr(c.out, "Ok (rax = 42, memory[0x400] = 42)"));
}

/* Arguments kvmbox refuses before anything runs: status 2 and one line saying why. */
static void test_cli_args_refused(void **state)
{
	char image[512], spec[600], big[KVMBOX_ARGS_MAX];
	const char *args[48] = { "run", image, "--" };
	struct cmd c;

	(void)state;
	snprintf(image, sizeof(image), "%s", guest_image("hello-args", KVMBOX_MODE_LONG));
	snprintf(spec, sizeof(spec), "a=%s", image);
	run_kvmbox(&c, (const char *[]){ "run", "--vm", spec, "--", "x", NULL });
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.out, "guest arguments are for one VM"));
	for (int i = 3; i < 3 + KVMBOX_ARGC_MAX; i++)
		args[i] = "x";
	run_kvmbox(&c, args);
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.out, "32 guest arguments, at most 31"));
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	run_kvmbox(&c, (const char *[]){ "run", image, "--", big, NULL });
	assert_int_equal(c.status, EXIT_USAGE);
	assert_non_null(strstr(c.out, "at most 1024"));
}

/* PER_MODE with a temporary share (struct share_state) as the test's state. */
#define PER_MODE_SHARE(fn) PER_MODE_WITH(fn, share_setup, share_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_div64),
		PER_MODE(test_errstr),
		PER_MODE(test_big_table),
		PER_MODE_SHARE(test_upcase),
		PER_MODE_SHARE(test_upcase_missing_input),
		PER_MODE(test_args_reach_main),
		PER_MODE(test_args_none),
		PER_MODE(test_args_cost_one_exit),
		PER_MODE(test_args_at_the_limits),
		PER_MODE(test_args_bad_calls),
		PER_MODE(test_main_status),
		PER_MODE(test_no_args_status),
		cmocka_unit_test(test_args_refused),
		PER_MODE(test_cli_args),
		PER_MODE(test_cli_main_status),
		cmocka_unit_test(test_cli_args_refused),
	};

	return cmocka_run_group_tests_name("sdk", tests, NULL, NULL);
}
