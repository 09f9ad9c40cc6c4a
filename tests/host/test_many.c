/* Many VMs in one run: `--vm NAME=IMAGE,count=N` and `--count N` make N copies named NAME0
 * ... NAME{N-1}, there is no limit of 256 VMs, and a run too large for the open-file limit
 * keeps one descriptor per VM (KVMBOX_VM_ONE_FD) or says which limit stands in the way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "harness.h"

/* How many times NEEDLE occurs in HAY. */
static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* count=N copies are named NAME0 ... NAME{N-1}, each runs its guest, next to other VMs. */
static void test_count_makes_named_copies(void **state)
{
	char h[512], g[512];
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_REAL);
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(h, sizeof(h), "h=%s,count=3", guest_image("hello", KVMBOX_MODE_LONG));
	snprintf(g, sizeof(g), "g=%s", guest_image("hello", KVMBOX_MODE_REAL));
	RUN(&c, "run", "--vm", h, "--vm", g);
	assert_int_equal(c.status, 0);
	for (unsigned i = 0; i < 3; i++) {
		char line[64];

		snprintf(line, sizeof(line), "[h%u] Hello, world!\n", i);
		assert_non_null(strstr(c.out, line));
		snprintf(line, sizeof(line), "\n  h%u ", i);
		assert_non_null(strstr(c.err, line)); /* its row in the report */
	}
	assert_non_null(strstr(c.out, "[g] Hello, world!\n"));
	assert_null(strstr(c.out, "[h3]"));
	assert_int_equal(count_of(c.out, "Hello, world!"), 4);
}

/* --count on the command line: copies of the single VM (here the built-in hello guest). */
static void test_count_of_the_single_vm(void **state)
{
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_REAL);
	RUN(&c, "run", "-m", "real", "--count", "2");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "[hello0] Hello, world!\n"));
	assert_non_null(strstr(c.out, "[hello1] Hello, world!\n"));
	assert_int_equal(count_of(c.out, "Hello, world!"), 2);
}

/* More VMs than the 256 the command used to take. */
static void test_more_than_256_vms(void **state)
{
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(&c, "run", "--count", "300");
	assert_int_equal(c.status, 0);
	assert_int_equal(count_of(c.out, "Hello, world!\n"), 300);
	assert_non_null(strstr(c.out, "[hello299] Hello, world!\n"));
	assert_non_null(strstr(c.err, "300 VMs"));
}

/* What count cannot do is refused before anything runs, with the reason. */
static void test_count_refusals(void **state)
{
	char a[512], b[512], big[512];
	struct cli c;

	(void)state;
	snprintf(a, sizeof(a), "h=%s,count=11", guest_image("hello", KVMBOX_MODE_LONG));
	snprintf(b, sizeof(b), "h1=%s", guest_image("hello", KVMBOX_MODE_LONG));
	RUN(&c, "run", "--vm", a, "--vm", b);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "the name 'h1' is used twice"));
	RUN(&c, "run", "--count", "0");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "is not a count of VMs (1..65535)"));
	RUN(&c, "run", "--count", "65536");
	assert_int_equal(c.status, 2);
	snprintf(big, sizeof(big), "abcdefghijklmnopqrstuvwxyz0123=%s,count=11",
		 guest_image("hello", KVMBOX_MODE_LONG));
	RUN(&c, "run", "--vm", big);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "longer than 31 characters"));
	snprintf(big, sizeof(big), "x=%s,count=2,out=/dev/null", guest_image("hello", KVMBOX_MODE_LONG));
	RUN(&c, "run", "--vm", big);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "out=FILE takes one VM's console"));
	RUN(&c, "run", "--count", "2", "--", "arg");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "runs of several VMs (--vm, --count) pass none"));
	snprintf(big, sizeof(big), "x=%s,count=40000", guest_image("hello", KVMBOX_MODE_LONG));
	RUN(&c, "run", "--vm", big, "--vm", big);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "more than 65535 VMs"));
}

/* Run `kvmbox run --count N ARGS...` with the open-file limit at SOFT:HARD, and, when root,
 * without CAP_SYS_RESOURCE (which could raise the hard limit). */
static void run_limited(struct cli *c, unsigned soft, unsigned hard, const char *count,
			const char *extra)
{
	const char *argv[8];
	unsigned n = 0;
	int out[2], err[2], st;
	pid_t pid;

	argv[n++] = build_path("kvmbox");
	argv[n++] = "run";
	argv[n++] = "--count";
	argv[n++] = count;
	if (extra)
		argv[n++] = extra;
	argv[n] = NULL;
	/* The limit is set in the child itself, not by prlimit(1) and setpriv(1): the QEMU lane's
	 * system has neither. As root, CAP_SYS_RESOURCE leaves the bounding set too, so kvmbox
	 * (root again after the exec) cannot raise the hard limit the test set. */
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const struct rlimit lim = { soft, hard };

		if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0 || setrlimit(RLIMIT_NOFILE, &lim) < 0 ||
		    (geteuid() == 0 && prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) < 0))
			_exit(127);
		close(out[0]);
		close(err[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	read_all_fd(out[0], c->out, sizeof(c->out)); /* small outputs: the pipe never fills both */
	read_all_fd(err[0], c->err, sizeof(c->err));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	c->status = WEXITSTATUS(st);
	assert_int_not_equal(c->status, 127);
}

/* Two descriptors a VM do not fit under the limit, one does: every VM keeps only its vCPU's
 * (-v says so), and all of them run. */
static void test_low_fd_limit_one_each(void **state)
{
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	/* 30 VMs: 124 descriptors with two each (and room for the standard ones), 94 with one. */
	run_limited(&c, 100, 100, "30", "-v");
	assert_int_equal(c.status, 0);
	assert_int_equal(count_of(c.out, "Hello, world!\n"), 30);
	assert_non_null(strstr(c.err, "30 VMs: one open file each"));
	/* Without -v the fallback is silent; with room for two, it does not happen. */
	run_limited(&c, 100, 100, "30", NULL);
	assert_int_equal(c.status, 0);
	assert_int_equal(count_of(c.out, "Hello, world!\n"), 30);
	assert_null(strstr(c.err, "one open file each"));
	run_limited(&c, 200, 200, "30", "-v");
	assert_int_equal(c.status, 0);
	assert_null(strstr(c.err, "one open file each"));
}

/* Not even one descriptor a VM fits: nothing runs, and the message names the limit. */
static void test_fd_limit_too_low(void **state)
{
	struct cli c;

	(void)state;
	run_limited(&c, 100, 100, "100", NULL);
	assert_int_equal(c.status, 71);
	assert_string_equal(c.out, "");
	assert_non_null(strstr(c.err, "100 VMs need at least 164 open files"));
	assert_non_null(strstr(c.err, "ulimit -Hn, is 100"));
}

/* KVMBOX_VM_ONE_FD: the VM runs as any other, its console coalesced from the first byte
 * (the zone cannot be registered later), and it refuses a snapshot. */
static void test_one_fd_vm(void **state)
{
	struct guest_spec s = { .path = guest_image("hello", MODE(state)), .flags = KVMBOX_VM_ONE_FD };
	struct kvmbox_error err = { "" };
	struct guest_run r;

	skip_unless_host_runs(MODE(state));
	guest_prepare(&r, &s);
	assert_int_equal(kvmbox_vm_snapshot(r.vm, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "KVMBOX_VM_ONE_FD"));
	guest_start(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_string_equal(r.out, "Hello, world!\n");
	assert_int_equal(r.st->coalesced_bytes, 14);
	assert_int_equal(r.st->io_out, 0);
	guest_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_makes_named_copies),
		cmocka_unit_test(test_count_of_the_single_vm),
		cmocka_unit_test(test_more_than_256_vms),
		cmocka_unit_test(test_count_refusals),
		cmocka_unit_test(test_low_fd_limit_one_each),
		cmocka_unit_test(test_fd_limit_too_low),
		PER_MODE(test_one_fd_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
