/* tests/run.sh, the runner `make check` ends with: it counts cmocka verdicts per test and
 * lists the skips grouped by reason, with a count, most frequent first (a host without
 * 32-bit paging skips every paged32 test for one reason: one line, not dozens). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

#define PAGED32 "paged32 mode: this host's KVM cannot run paged32 mode"
#define WATCH "hardware watchpoints: this host's KVM does not fire DR0-DR3 for data"

/* Write an executable shell script DIR/NAME printing BODY (cmocka's lines) and return its path. */
static const char *fake_program(const char *dir, const char *name, const char *body)
{
	static char path[2][256];
	static int k;
	FILE *f;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	f = fopen(path[k], "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ncat <<'EOF'\n%sEOF\n", body);
	fclose(f);
	assert_int_equal(chmod(path[k], 0755), 0);
	return path[k];
}

#define SKIP_LINES(name, why) \
	"[ RUN      ] " name "\nSKIP: " why "\n[  SKIPPED ] " name "\n"
#define OK_LINES(name) "[ RUN      ] " name "\n[       OK ] " name "\n"

static void test_skips_grouped_by_reason(void **state)
{
	char dir[] = "/tmp/kvmbox-runner-XXXXXX", sh[512];
	const char *a, *b, *summary;
	struct cli c;

	(void)state;
	if (access("tests/run.sh", X_OK) != 0) {
		printf("SKIP: tests/run.sh is not here (it runs on the host, from the source tree)\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	a = fake_program(dir, "a", OK_LINES("t1/real") SKIP_LINES("t1/paged32", PAGED32)
				   SKIP_LINES("t2/paged32", PAGED32) SKIP_LINES("t3/paged32", PAGED32));
	b = fake_program(dir, "b", SKIP_LINES("w/real", WATCH) SKIP_LINES("t4/paged32", PAGED32)
				   OK_LINES("t4/long") SKIP_LINES("t5/paged32", PAGED32));
	run_command(&c, (const char *const[]){ "env", "TESTS_IN=host", "tests/run.sh", a, b, NULL });
	assert_int_equal(c.status, 0);
	/* The runner's own summary only (what it echoed of the fakes would count as ours). */
	summary = strstr(c.out, "Skipped, ");
	if (!summary || strcmp(summary, "Skipped, by reason:\n"
			   "     5  " PAGED32 "\n"
			   "        (t1/paged32, t2/paged32 and 3 more)\n"
			   "     1  " WATCH "\n"
			   "        (w/real)\n"
			   "2 passed, 0 failed, 6 skipped\n"))
		fail_msg("tests/run.sh did not group the skips by reason; its summary:\n%s",
			 summary ? summary : "(no list of skips)");
	snprintf(sh, sizeof(sh), "rm -rf %s", dir);
	run_command(&c, (const char *const[]){ "sh", "-c", sh, NULL });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skips_grouped_by_reason),
	};

	return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
