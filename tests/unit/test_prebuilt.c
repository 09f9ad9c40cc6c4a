/* The seccomp filter prebuilt when kvmbox is built (src/sandbox/prebuilt.h) is the very
 * program libseccomp builds from the sandbox's rules now, for a run with no share and no gdb
 * stub: a prebuilt filter gone stale (rules changed, libseccomp upgraded without a rebuild)
 * fails here instead of confining runs by old rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "sandbox/prebuilt.h"

static void test_prebuilt_is_current(void **state)
{
	struct kvmbox_sandbox_config cfg = { .vms = NULL, .nvms = 0, .flags = 0 };
	struct sock_filter now[BPF_MAXINSNS];
	int fd = memfd_create("seccomp-now", MFD_CLOEXEC);
	ssize_t n;

	(void)state;
	assert_non_null(kvmbox_seccomp_prebuilt);
	assert_true(fd >= 0);
	assert_int_equal(sandbox_export_bpf(&cfg, fd), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, now, sizeof(now));
	close(fd);
	assert_int_equal(n, (ssize_t)(kvmbox_seccomp_prebuilt_len * sizeof(now[0])));
	assert_memory_equal(now, kvmbox_seccomp_prebuilt, (size_t)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prebuilt_is_current),
	};

	return cmocka_run_group_tests_name("prebuilt", tests, NULL, NULL);
}
