/* scripts/kvm-in-qemu as a user runs it, from this host: the command's stdout and stderr leave
 * through the descriptors the script inherited, so `scripts/kvm-in-qemu CMD > log 2>&1` keeps
 * every line whole. Needs the QEMU lane set up (make realkvm-setup); inside the lane there is
 * no lane to start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

/* Skip unless scripts/kvm-in-qemu can start the lane from here. */
static void skip_unless_lane(void)
{
	const char *dir = getenv("REALKVM_DIR") ? getenv("REALKVM_DIR") : "build/realkvm";
	char ready[512];

	snprintf(ready, sizeof(ready), "%s/ready", dir);
	if (in_realkvm_lane()) {
		printf("SKIP: inside the QEMU lane: scripts/kvm-in-qemu runs from the host\n");
		skip();
	}
	if (access("scripts/kvm-in-qemu", X_OK) != 0 || access(ready, F_OK) != 0) {
		printf("SKIP: the QEMU lane is not set up here (make realkvm-setup)\n");
		skip();
	}
}

/* stdout and stderr into one file: each line whole, each stream in order. */
static void test_output_to_one_file(void **state)
{
	char log[] = "/tmp/kvmbox-lane-XXXXXX", sh[512], *text, *line, *save = NULL;
	int fd, hello = 0, ok = 0;
	struct cli c;
	size_t len;

	(void)state;
	skip_unless_lane();
	fd = mkstemp(log);
	assert_true(fd >= 0);
	close(fd);
	snprintf(sh, sizeof(sh), "scripts/kvm-in-qemu %s run -m paged32 >%s 2>&1", build_path("kvmbox"),
		 log);
	run_command(&c, (const char *const[]){ "bash", "-c", sh, NULL });
	text = (char *)read_whole_file(log, &len);
	unlink(log);
	assert_non_null(text);
	text = realloc(text, len + 1);
	assert_non_null(text);
	text[len] = '\0';
	if (c.status != 0)
		fail_msg("scripts/kvm-in-qemu: status %d:\n%s", c.status, text);
	assert_true(len > 0 && text[len - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "Hello, world!"))
			hello++;
		else if (!strcmp(line, "kvmbox: paged32 mode: Ok (rax = 42, memory[0x400] = 42)"))
			ok++;
		else if (strncmp(line, "kvmbox: ", 8))
			fail_msg("a line of the log is not whole: '%s'", line);
	}
	assert_int_equal(hello, 1);
	assert_int_equal(ok, 1);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_to_one_file),
	};

	return cmocka_run_group_tests_name("lane", tests, NULL, NULL);
}
