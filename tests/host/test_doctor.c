/* kvmbox_host_probe and `kvmbox doctor` on this host, on devices that are not KVM (a missing
 * path, /dev/null, /dev/kvm hidden in a private mount namespace), as a user without access;
 * also `kvmbox run` and the benchmarks' one line. The causes worded from made-up facts are
 * tests/unit/test_cause.c. */
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

/* Statuses a child uses to say the test could not be set up (the test then skips). */
#define CHILD_NO_SETUP 125
#define CHILD_NO_EXEC 127

/* How the child is set up before it runs the command: as is, with /dev/kvm hidden in its own
 * mount namespace (root only), or as user and group nobody without supplementary groups (as
 * `setpriv --reuid=65534 --regid=65534 --clear-groups` would; root only). */
enum setup { PLAIN, HIDE_NOT_KVM, HIDE_MISSING, AS_NOBODY };
#define NOBODY 65534

struct cmd {
	int status;
	char out[OUT_MAX], err[OUT_MAX];
};

/* /dev/null bound over /dev/kvm (a character device that is not KVM), or an empty tmpfs over
 * /dev (no device at all), seen by this process only. */
static int set_up_child(enum setup setup)
{
	if (setup == PLAIN)
		return 0;
	if (setup == AS_NOBODY)
		return setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0 ? -1 : 0;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	if (setup == HIDE_NOT_KVM)
		return mount("/dev/null", KVMBOX_DEVICE_DEFAULT, NULL, MS_BIND, NULL);
	return mount("none", "/dev", "tmpfs", 0, NULL);
}

/* Run ARGV (NULL-terminated; a path or a name found in $PATH) with stdout and stderr
 * captured apart, $KVMBOX_DEVICE set to DEVICE when not NULL, the child set up as SETUP. */
static void run_cmd(struct cmd *c, enum setup setup, const char *device, const char *const *argv)
{
	int out[2], err[2], st;
	pid_t pid;

	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		if (device)
			setenv("KVMBOX_DEVICE", device, 1);
		if (set_up_child(setup) < 0)
			_exit(CHILD_NO_SETUP);
		execvp(argv[0], (char **)argv);
		_exit(CHILD_NO_EXEC);
	}
	close(out[1]);
	close(err[1]);
	read_all_fd(out[0], c->out, sizeof(c->out)); /* small outputs: the pipes never fill both */
	read_all_fd(err[0], c->err, sizeof(c->err));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	c->status = WEXITSTATUS(st);
}

#define CMD(c, setup, device, ...) \
	run_cmd((c), (setup), (device), (const char *const[]){ __VA_ARGS__, NULL })

static void skip_because(const char *reason)
{
	printf("SKIP: %s\n", reason);
	skip();
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		skip_because("needs root (a private mount namespace, or becoming another user)");
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Skip unless /dev/kvm is usable here (a host without it runs this test in the QEMU lane). */
static void skip_unless_kvm(struct kvmbox_host_info *info)
{
	if (kvmbox_host_probe(NULL, info) < 0) {
		printf("SKIP: no usable KVM: %s\n", info->cause);
		skip();
	}
}

/* The vendor module /sys/module shows, as the probe should name it. */
static const char *loaded_vendor_module(void)
{
	static const char *const names[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	char path[64];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", names[i]);
		if (stat(path, &st) == 0)
			return names[i];
	}
	return "other";
}

/* ---- the library probe -------------------------------------------------------------- */

static void test_probe_this_host(void **state)
{
	struct kvmbox_host_info info;
	bool coalesced_listed = false;
	unsigned i;

	(void)state;
	skip_unless_kvm(&info);
	assert_int_equal(info.state, KVMBOX_HOST_OK);
	assert_string_equal(info.cause, "");
	assert_string_equal(info.device, KVMBOX_DEVICE_DEFAULT);
	assert_true(info.exists && info.is_chardev);
	assert_int_equal(info.open_errno, 0);
	assert_int_equal(info.api_version, KVM_API_VERSION);
	assert_true(info.kvm_module);
	assert_string_equal(info.module, loaded_vendor_module());
	assert_int_equal(info.paravirtual, !strcmp(info.module, "kvm_pvm"));
	if (info.paravirtual) /* kvm_pvm runs inside a VM: the kernel is a guest */
		assert_true(info.nested);
	for (i = 0; i < info.ncaps; i++) {
		const struct kvmbox_host_cap *c = &info.caps[i];

		assert_true(c->value >= 0);
		assert_int_equal(c->value & c->need, c->need);
		coalesced_listed |= !strcmp(c->name, "KVM_CAP_COALESCED_PIO") && c->need == 0;
	}
	assert_true(coalesced_listed);
}

static void test_probe_missing_device(void **state)
{
	struct kvmbox_host_info info;

	(void)state;
	assert_int_equal(kvmbox_host_probe("/nonexistent/kvm", &info), -ENODEV);
	assert_true(info.state == KVMBOX_HOST_NO_MODULE || info.state == KVMBOX_HOST_NO_VIRT ||
		    info.state == KVMBOX_HOST_NO_DEVICE);
	assert_false(info.exists);
	assert_int_equal(info.open_errno, ENOENT);
	assert_int_equal(info.api_version, -1);
	assert_int_equal(info.caps[0].value, -1);
	assert_non_null(strstr(info.cause, "/nonexistent/kvm does not exist"));
	assert_null(strchr(info.cause, '\n'));
}

static void test_probe_not_kvm(void **state)
{
	struct kvmbox_host_info info;

	(void)state;
	assert_int_equal(kvmbox_host_probe("/dev/null", &info), -ENOTTY);
	assert_int_equal(info.state, KVMBOX_HOST_NOT_KVM);
	assert_true(info.is_chardev);
	assert_string_equal(info.cause,
			    "/dev/null is not a KVM device (KVM_GET_API_VERSION: Inappropriate ioctl for device)");
	/* A regular file opens too (as root, or when writable), and is no device at all. */
	assert_true(kvmbox_host_probe(build_path("kvmbox"), &info) < 0);
	if (info.state == KVMBOX_HOST_NOT_KVM)
		assert_non_null(strstr(info.cause, "is not a KVM device: not a character device"));
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(kvmbox_host_state_name(KVMBOX_HOST_OK), "ok");
	assert_string_equal(kvmbox_host_state_name(KVMBOX_HOST_NO_PERMISSION), "no-permission");
	assert_string_equal(kvmbox_host_state_name(KVMBOX_HOST_OPEN_FAILED), "open-failed");
	assert_string_equal(kvmbox_host_state_name(KVMBOX_HOST_STATE_COUNT), "?");
}

/* ---- the command -------------------------------------------------------------------- */

/* Fail unless S holds every one of the NULL-terminated NEEDLES; the message names the first
 * one missing. */
static void expect_in(const char *s, const char *const *needles)
{
	for (; *needles; needles++)
		if (!strstr(s, *needles))
			fail_msg("missing \"%s\" in:\n%s", *needles, s);
}
#define EXPECT_IN(s, ...) expect_in((s), (const char *const[]){ __VA_ARGS__, NULL })

/* Does the JSON say MODE runs ("runs": true)? */
static bool json_mode_runs(const char *json, enum kvmbox_mode mode)
{
	char key[64];

	snprintf(key, sizeof(key), "\"%s\": {\"runs\": true", kvmbox_mode_name(mode));
	return strstr(json, key) != NULL;
}

static void test_doctor_json_this_host(void **state)
{
	struct kvmbox_host_info info;
	struct kvmbox_error err;
	char want[96];
	struct cmd c;
	int i, all = 1;

	(void)state;
	skip_unless_kvm(&info);
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "--json");
	assert_true(c.status == 0 || c.status == 1);
	assert_int_equal(c.out[0], '{');
	assert_string_equal(c.out + strlen(c.out) - 2, "}\n");
	EXPECT_IN(c.out, "\"kvm_usable\": true,", "\"state\": \"ok\",", "\"cause\": null,",
		  "\"path\": \"/dev/kvm\", \"exists\": true, \"chardev\": true", "\"api_version\": 12,",
		  "{\"name\": \"KVM_CAP_SYNC_REGS\", \"value\": ", "\"lane\": null,");
	snprintf(want, sizeof(want), "\"module\": \"%s\",", loaded_vendor_module());
	assert_non_null(strstr(c.out, want));
	/* Each mode as the library's own probe answers it; status 0 only when all four run. */
	for (i = 0; i < 4; i++) {
		int runs = kvmbox_host_supports_mode(all_modes[i], &err) == 1;

		assert_int_equal(json_mode_runs(c.out, all_modes[i]), runs);
		all &= runs;
	}
	assert_int_equal(c.status, all ? 0 : 1);
	snprintf(want, sizeof(want), "\"status\": %d\n}", c.status);
	assert_non_null(strstr(c.out, want));
	if (in_realkvm_lane())
		assert_int_equal(c.status, 0);
}

static void test_doctor_table_and_brief(void **state)
{
	struct kvmbox_host_info info;
	char want[64];
	struct cmd c;
	int status;

	(void)state;
	skip_unless_kvm(&info);
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor");
	status = c.status;
	assert_true(status == 0 || status == 1);
	assert_non_null(strstr(c.out, "  mode long                ok    runs"));
	assert_non_null(strstr(c.out, "  SYNC_REGS                ok    "));
	assert_non_null(strstr(c.out, "\nKVM usable: "));
	assert_string_equal(c.err, "");
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "--brief");
	assert_int_equal(c.status, status);
	snprintf(want, sizeof(want), "KVM usable: %s, modes ", loaded_vendor_module());
	assert_memory_equal(c.out, want, strlen(want));
	assert_non_null(strstr(c.out, " long"));
	assert_int_equal(count_lines(c.out), 1);
}

static void test_doctor_no_device(void **state)
{
	struct cmd c;

	(void)state;
	CMD(&c, PLAIN, "/nonexistent/kvm", build_path("kvmbox"), "doctor", "--brief");
	assert_int_equal(c.status, 69);
	assert_memory_equal(c.out, "no usable KVM: /nonexistent/kvm does not exist", 46);
	assert_int_equal(count_lines(c.out), 1);
	CMD(&c, PLAIN, "/nonexistent/kvm", build_path("kvmbox"), "doctor");
	assert_int_equal(c.status, 69);
	EXPECT_IN(c.out, "  device                   FAIL  /nonexistent/kvm does not exist\n",
		  "  mode real                -     not probed: no usable KVM\n",
		  "QEMU/TCG with nested kvm_amd:\n  scripts/kvm-in-qemu build/kvmbox run ...\n",
		  "`make check` runs the tests there by itself");
	CMD(&c, PLAIN, "/dev/null", build_path("kvmbox"), "doctor", "--json");
	assert_int_equal(c.status, 69);
	EXPECT_IN(c.out, "\"kvm_usable\": false,", "\"state\": \"not-kvm\",",
		  "\"cause\": \"/dev/null is not a KVM device (KVM_GET_API_VERSION: ",
		  "\"api_version\": null,",
		  "\"long\": {\"runs\": null, \"reason\": \"not probed: no usable KVM\"}",
		  "\"lane\": \"scripts/kvm-in-qemu build/kvmbox run ...\",", "\"status\": 69\n}\n");
}

static void test_doctor_usage(void **state)
{
	struct cmd c;

	(void)state;
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "--help");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "usage: kvmbox doctor"));
	assert_non_null(strstr(c.out, "Exit status: 0 KVM usable and all four modes run; 1"));
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "--bogus");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "kvmbox doctor: --bogus: unknown option (--json, --brief, --help)"));
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "-x");
	assert_non_null(strstr(c.err, "kvmbox doctor: -x: unknown option"));
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "--json=yes");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "kvmbox doctor: --json=yes: takes no value"));
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "--json", "--brief");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "exclude each other"));
	CMD(&c, PLAIN, NULL, build_path("kvmbox"), "doctor", "extra");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "unexpected argument 'extra'"));
	assert_string_equal(c.out, "");
}

/* As user nobody (no supplementary groups) against this host's /dev/kvm (0600 root:root on
 * kvm_pvm hosts and in the QEMU lane). */
static void test_doctor_permission_denied(void **state)
{
	char group[64], want[128];
	struct group *gr;
	struct stat st;
	struct cmd c;

	(void)state;
	skip_unless_root();
	if (stat(KVMBOX_DEVICE_DEFAULT, &st) < 0 || (st.st_mode & 0006) == 0006)
		skip_because("/dev/kvm is missing or open to every user: nothing to deny");
	gr = getgrgid(st.st_gid); /* no name (no /etc/group, as in the QEMU lane): the number */
	if (gr)
		snprintf(group, sizeof(group), "%s", gr->gr_name);
	else
		snprintf(group, sizeof(group), "%u", (unsigned)st.st_gid);
	CMD(&c, AS_NOBODY, NULL, build_path("kvmbox"), "doctor", "--brief");
	if (c.status == CHILD_NO_SETUP || c.status == CHILD_NO_EXEC)
		skip_because("cannot run build/kvmbox as user nobody here");
	assert_int_equal(c.status, 69);
	assert_memory_equal(c.out, "no usable KVM: permission denied: /dev/kvm is mode ", 51);
	snprintf(want, sizeof(want), " group %s", group);
	assert_non_null(strstr(c.out, want));
	assert_non_null(strstr(c.out, "usermod -aG "));
	assert_int_equal(count_lines(c.out), 1);
}

/* `kvmbox run` (one VM and several) with /dev/kvm hidden: one line, the cause, status 69. */
static void test_run_without_kvm(void **state)
{
	static const char tail[] = "; run `kvmbox doctor`\n";
	char vm[600];
	struct cmd c;

	(void)state;
	skip_unless_root();
	CMD(&c, HIDE_NOT_KVM, NULL, build_path("kvmbox"), "run");
	if (c.status == CHILD_NO_SETUP)
		skip_because("cannot hide /dev/kvm in a private mount namespace");
	assert_int_equal(c.status, 69);
	assert_string_equal(c.err, "kvmbox: no usable KVM: /dev/kvm is not a KVM device "
				   "(KVM_GET_API_VERSION: Inappropriate ioctl for device); run `kvmbox doctor`\n");
	assert_string_equal(c.out, "");
	CMD(&c, HIDE_MISSING, NULL, build_path("kvmbox"), "run", "-m", "real");
	assert_int_equal(c.status, 69);
	assert_memory_equal(c.err, "kvmbox: no usable KVM: /dev/kvm does not exist", 46);
	assert_string_equal(c.err + strlen(c.err) - strlen(tail), tail);
	assert_int_equal(count_lines(c.err), 1);
	snprintf(vm, sizeof(vm), "neo=%s", build_path("guests/hello-long.elf"));
	CMD(&c, HIDE_NOT_KVM, NULL, build_path("kvmbox"), "run", "--vm", vm);
	assert_int_equal(c.status, 69);
	assert_memory_equal(c.err, "kvmbox: no usable KVM: /dev/kvm is not a KVM device", 51);
	assert_int_equal(count_lines(c.err), 1);
	CMD(&c, HIDE_MISSING, NULL, build_path("kvmbox"), "doctor", "--brief");
	assert_int_equal(c.status, 69);
	assert_memory_equal(c.out, "no usable KVM: /dev/kvm does not exist", 38);
}

/* The benchmarks stop before measuring anything: one line, status 77 (docs/performance.md). */
static void test_bench_stops_at_once(void **state)
{
	struct kvmbox_host_info info;
	struct cmd c;

	(void)state;
	skip_unless_root();
	if (access("bench/run.sh", X_OK) < 0)
		skip_because("bench/run.sh is not here (tests run from the checkout root; the QEMU lane "
			     "copies no bench/)");
	CMD(&c, HIDE_NOT_KVM, NULL, "bench/run.sh", "--host-check");
	if (c.status == CHILD_NO_SETUP || c.status == CHILD_NO_EXEC)
		skip_because("cannot run bench/run.sh in a private mount namespace");
	assert_int_equal(c.status, 77);
	assert_memory_equal(c.err, "bench: no usable KVM: /dev/kvm is not a KVM device", 50);
	assert_int_equal(count_lines(c.err), 1);
	assert_string_equal(c.out, "");
	if (kvmbox_host_probe(NULL, &info) == 0) {
		CMD(&c, PLAIN, NULL, "bench/run.sh", "--host-check");
		assert_int_equal(c.status, 0);
		assert_string_equal(c.err, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_this_host),
		cmocka_unit_test(test_probe_missing_device),
		cmocka_unit_test(test_probe_not_kvm),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_doctor_json_this_host),
		cmocka_unit_test(test_doctor_table_and_brief),
		cmocka_unit_test(test_doctor_no_device),
		cmocka_unit_test(test_doctor_usage),
		cmocka_unit_test(test_doctor_permission_denied),
		cmocka_unit_test(test_run_without_kvm),
		cmocka_unit_test(test_bench_stops_at_once),
	};

	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
