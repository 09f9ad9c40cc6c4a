/* Guest SDK tests, the guest's source and the host's checks side by side: 64-bit division
 * (tests/guests/div64.c) and errstr() (tests/guests/errstr.c) in every mode, a guest that
 * declares fewer modes (examples/big-table.c), and files through a share
 * (examples/upcase.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

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
	};

	return cmocka_run_group_tests_name("sdk", tests, NULL, NULL);
}
