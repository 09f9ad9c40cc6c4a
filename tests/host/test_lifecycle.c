/* VM lifecycle: creation refusals, image placement against the memory layout, and that
 * teardown releases everything (1000 VMs in one process, fds and RSS flat). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifndef ASAN_BUILD
#define ASAN_BUILD 0
#endif

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static struct kvmbox_vm *make_vm(enum kvmbox_mode mode, uint64_t mem)
{
	struct kvmbox_vm_config cfg = { .mode = mode, .mem_size = mem, .console_fd = -1 };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;

	if (kvmbox_vm_create(&vm, &cfg, &err) < 0)
		fail_msg("kvmbox_vm_create: %s", err.msg);
	return vm;
}

/* Create, load and run the hello guest 1000 times: fds and RSS must not grow. */
static void test_thousand_vms_release_everything(void **state)
{
	static const uint8_t hello_hlt[] = { 0xb8, 42, 0, 0, 0, 0xf4 }; /* mov eax, 42; hlt */
	struct kvmbox_vm *keep = make_vm(KVMBOX_MODE_LONG, 0);
	struct kvmbox_image img;
	int fds_before, fds_after, i;
	long rss_before, rss_after;

	(void)state;
	assert_int_equal(kvmbox_image_parse(&img, hello_hlt, sizeof(hello_hlt), true, 0x1000, 0x1000, NULL), 0);
	/* Warm up allocator and kernel caches before the baseline. */
	for (i = 0; i < 20; i++)
		kvmbox_vm_destroy(make_vm(KVMBOX_MODE_LONG, 0));
	fds_before = count_fds();
	rss_before = rss_kib();
	for (i = 0; i < 1000; i++) {
		struct kvmbox_vm *vm = make_vm(i % 2 ? KVMBOX_MODE_LONG : KVMBOX_MODE_PROTECTED, 0);
		struct kvmbox_result res;

		assert_int_equal(kvmbox_vm_load(vm, &img, NULL), 0);
		assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
		assert_int_equal(res.stop, KVMBOX_STOP_HALT);
		assert_int_equal(kvmbox_vm_regs(vm)->rax, 42);
		kvmbox_vm_destroy(vm);
	}
	fds_after = count_fds();
	rss_after = rss_kib();
	printf("fds %d -> %d, VmRSS %ld -> %ld KiB over 1000 VMs\n", fds_before, fds_after,
	       rss_before, rss_after);
	assert_int_equal(fds_after, fds_before);
#if ASAN_BUILD
	/* ASan's quarantine keeps freed memory resident; LeakSanitizer checks for leaks instead. */
	printf("ASan build: VmRSS not asserted (LeakSanitizer reports leaks at exit)\n");
#else
	assert_true(rss_after - rss_before < 1024); /* less than 1 KiB per VM, i.e. no leak */
#endif
	kvmbox_vm_destroy(keep);
}

static void test_create_refuses_bad_config(void **state)
{
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_AUTO, .console_fd = -1 };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;

	(void)state;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	assert_null(vm);
	cfg.mode = KVMBOX_MODE_LONG;
	cfg.mem_size = 4096; /* below the minimum */
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	assert_true(strlen(err.msg) > 0);
	cfg.mem_size = KVMBOX_MEM_MAX + 4096;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	cfg.mem_size = (2 << 20) + 1; /* not a page multiple */
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
}

/* Memory sizes from the minimum to 1 GiB and beyond all come up and run. */
static void test_memory_sizes(void **state)
{
	static const uint64_t sizes[] = { KVMBOX_MEM_MIN, 2 << 20, 64 << 20, 1ull << 30, KVMBOX_MEM_MAX };
	static const uint8_t hlt[] = { 0xf4 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct kvmbox_vm *vm = make_vm(KVMBOX_MODE_LONG, sizes[i]);
		struct kvmbox_layout l;
		struct kvmbox_image img;
		struct kvmbox_result res;

		assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, sizes[i], &l, NULL), 0);
		/* The last loadable byte, just below the host area, is reachable. */
		assert_int_equal(kvmbox_image_parse(&img, hlt, 1, true, l.sys_base - 1, l.sys_base - 1, NULL), 0);
		assert_int_equal(kvmbox_vm_load(vm, &img, NULL), 0);
		assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
		assert_int_equal(res.stop, KVMBOX_STOP_HALT);
		assert_int_equal(kvmbox_vm_mem_size(vm), sizes[i]);
		kvmbox_vm_destroy(vm);
	}
}

/* How many mappings of exactly SIZE bytes of this process KSM may merge (VmFlags "mg"). */
static int mergeable_mappings(uint64_t size)
{
	char line[512];
	unsigned long lo = 0, hi = 0, a, b;
	int n = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		/* A range line starts a mapping ("Anonymous:" would half-match: keep A and B). */
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			lo = a, hi = b;
			continue;
		}
		if (!strncmp(line, "VmFlags:", 8) && hi - lo == size && strstr(line, " mg"))
			n++;
	}
	fclose(f);
	return n;
}

/* Guest memory is offered to KSM only when the VM asks (KVMBOX_VM_MERGEABLE): the madvise
 * costs every short-lived VM its time, whether KSM runs or not. */
static void test_mergeable_only_when_asked(void **state)
{
	const uint64_t size = 3 << 20; /* a size no other mapping here has */
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_LONG, .mem_size = size,
					.console_fd = KVMBOX_CONSOLE_DISCARD };
	struct kvmbox_vm *vm = NULL;

	(void)state;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, NULL), 0);
	assert_int_equal(mergeable_mappings(size), 0);
	kvmbox_vm_destroy(vm);
	cfg.flags = KVMBOX_VM_MERGEABLE;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, NULL), 0);
	assert_int_equal(mergeable_mappings(size), 1);
	kvmbox_vm_destroy(vm);
}

/* Loading refuses images over the host-made area or outside memory, and copies nothing. */
static void test_load_refuses_overlap(void **state)
{
	static const uint8_t code[64] = { 0xf4 };
	struct kvmbox_vm *vm = make_vm(KVMBOX_MODE_LONG, 0);
	struct kvmbox_error err = { "" };
	struct kvmbox_layout l;
	struct kvmbox_image img;
	uint8_t probe[64], zero[64] = { 0 };

	(void)state;
	assert_int_equal(kvmbox_layout_get(KVMBOX_MODE_LONG, KVMBOX_MEM_DEFAULT, &l, NULL), 0);
	assert_true(l.pt_root >= l.sys_base);
	/* Over the page tables. */
	assert_int_equal(kvmbox_image_parse(&img, code, sizeof(code), true, l.sys_base - 32, l.sys_base - 32, NULL), 0);
	assert_int_equal(kvmbox_vm_load(vm, &img, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "overlaps kvmbox's page tables"));
	/* Past the end of guest memory. */
	assert_int_equal(kvmbox_image_parse(&img, code, sizeof(code), true, 64 << 20, 64 << 20, NULL), 0);
	assert_int_equal(kvmbox_vm_load(vm, &img, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "outside guest memory"));
	/* Nothing was copied by the refused loads. */
	assert_int_equal(kvmbox_vm_read(vm, l.sys_base - 32, probe, 32), 0);
	assert_memory_equal(probe, zero, 32);
	/* A 64-bit VM refuses 32-bit code. */
	img.mode = KVMBOX_MODE_PROTECTED;
	img.segments[0].gpa = 0x1000;
	img.entry = 0x1000;
	assert_int_equal(kvmbox_vm_load(vm, &img, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "32-bit"));
	kvmbox_vm_destroy(vm);
}

/* Checked accessors refuse ranges that leave guest memory or wrap. */
static void test_checked_access(void **state)
{
	struct kvmbox_vm *vm = make_vm(KVMBOX_MODE_PROTECTED, 0);
	uint8_t b[16] = { 1 };
	kvmbox_gpa_t gpa;

	(void)state;
	assert_int_equal(kvmbox_vm_write(vm, KVMBOX_MEM_DEFAULT - 16, b, 16), 0);
	assert_int_equal(kvmbox_vm_write(vm, KVMBOX_MEM_DEFAULT - 15, b, 16), -EFAULT);
	assert_int_equal(kvmbox_vm_read(vm, ~0ull - 4, b, 16), -EFAULT);
	assert_int_equal(kvmbox_vm_read(vm, KVMBOX_MEM_DEFAULT, b, 1), -EFAULT);
	/* Without paging every address "translates"; only those inside memory are valid. */
	assert_int_equal(kvmbox_vm_translate(vm, 0x1234, &gpa), 0);
	assert_int_equal(gpa, 0x1234);
	assert_int_equal(kvmbox_vm_translate(vm, KVMBOX_MEM_DEFAULT, &gpa), -EFAULT);
	kvmbox_vm_destroy(vm);
}

/* A fault whose console output nobody can take (a pipe whose reader is gone): the run stops
 * with the fault's own message; the console's failure must not replace it. */
static void test_fault_message_survives_console_error(void **state)
{
	/* Real mode: mov al, 'x'; out 0xE9, al; out 0x80, al (a port nobody serves). */
	static const uint8_t code[] = { 0xb0, 'x', 0xe6, 0xe9, 0xe6, 0x80 };
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_REAL, .flags = KVMBOX_VM_NO_COALESCE };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct kvmbox_image img;
	struct kvmbox_vm *vm;
	int p[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	cfg.console_fd = p[1];
	assert_int_equal(kvmbox_image_parse(&img, code, sizeof(code), true, 0x1000, 0x1000, &err), 0);
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), 0);
	assert_int_equal(kvmbox_vm_load(vm, &img, &err), 0);
	assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
	assert_int_equal(res.stop, KVMBOX_STOP_FAULT);
	assert_non_null(strstr(res.msg, "unknown port 0x80"));
	kvmbox_vm_destroy(vm);
	close(p[1]);
}

/* A console that is a regular file or /dev/null is written without asking poll(2) first
 * (it is always ready): every byte still arrives, in order, none counted as dropped, with a
 * deadline set as with none. */
static void test_console_to_file_and_null(void **state)
{
	/* Real mode: "ok\n" on port 0xE9 one byte at a time (mov al, c; out 0xE9, al), hlt. */
	static const uint8_t code[] = { 0xb0, 'o', 0xe6, 0xe9, 0xb0, 'k', 0xe6, 0xe9,
					0xb0, '\n', 0xe6, 0xe9, 0xf4 };
	char path[] = "/tmp/kvmbox-test-console-XXXXXX", got[8] = "";
	struct kvmbox_run_opts opts = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct kvmbox_image img;
	struct timespec ts;
	int fds[2], i;

	(void)state;
	fds[0] = mkstemp(path);
	fds[1] = open("/dev/null", O_WRONLY);
	assert_true(fds[0] >= 0 && fds[1] >= 0);
	unlink(path);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	opts.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 10000000000ull;
	assert_int_equal(kvmbox_image_parse(&img, code, sizeof(code), true, 0x1000, 0x1000, &err), 0);
	for (i = 0; i < 2; i++) {
		struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_REAL, .console_fd = fds[i] };
		struct kvmbox_vm *vm;

		assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), 0);
		assert_int_equal(kvmbox_vm_load(vm, &img, &err), 0);
		assert_int_equal(kvmbox_vm_run(vm, i ? NULL : &opts, &res), 0);
		assert_int_equal(res.stop, KVMBOX_STOP_HALT);
		assert_int_equal(kvmbox_vm_stats(vm)->console_bytes, 3);
		assert_int_equal(kvmbox_vm_stats(vm)->console_dropped, 0);
		kvmbox_vm_destroy(vm);
	}
	assert_int_equal(pread(fds[0], got, sizeof(got) - 1, 0), 3);
	assert_string_equal(got, "ok\n");
	close(fds[0]);
	close(fds[1]);
}

/* A zeroed config prints the guest's console on stdout, also when stdin is /dev/null opened
 * for reading (CI, cron, systemd); KVMBOX_CONSOLE_DISCARD drops it. */
static void test_zeroed_config_console_is_stdout(void **state)
{
	/* Real mode: mov al, 'x'; out 0xE9, al; hlt. */
	static const uint8_t code[] = { 0xb0, 'x', 0xe6, 0xe9, 0xf4 };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res[2];
	struct kvmbox_image img;
	struct kvmbox_vm *vm;
	char out[16] = "";
	int p[2], saved_in, saved_out, null_in, i;

	(void)state;
	assert_int_equal(kvmbox_image_parse(&img, code, sizeof(code), true, 0x1000, 0x1000, &err), 0);
	fflush(stdout);
	assert_int_equal(pipe(p), 0);
	saved_in = dup(0);
	saved_out = dup(1);
	null_in = open("/dev/null", O_RDONLY);
	assert_true(saved_in >= 0 && saved_out >= 0 && null_in >= 0);
	assert_int_equal(dup2(null_in, 0), 0);
	assert_int_equal(dup2(p[1], 1), 1);
	for (i = 0; i < 2; i++) {
		struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_REAL };

		if (i == 1)
			cfg.console_fd = KVMBOX_CONSOLE_DISCARD;
		vm = NULL;
		if (kvmbox_vm_create(&vm, &cfg, &err) == 0 && kvmbox_vm_load(vm, &img, &err) == 0)
			kvmbox_vm_run(vm, NULL, &res[i]);
		else
			res[i].stop = KVMBOX_STOP_NONE;
		kvmbox_vm_destroy(vm);
	}
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	close(saved_in);
	close(saved_out);
	close(null_in);
	close(p[1]);
	read_all_fd(p[0], out, sizeof(out));
	assert_int_equal(res[0].stop, KVMBOX_STOP_HALT);
	assert_int_equal(res[1].stop, KVMBOX_STOP_HALT);
	assert_string_equal(out, "x"); /* once: the discarding VM wrote nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_refuses_bad_config),
		cmocka_unit_test(test_memory_sizes),
		cmocka_unit_test(test_mergeable_only_when_asked),
		cmocka_unit_test(test_load_refuses_overlap),
		cmocka_unit_test(test_checked_access),
		cmocka_unit_test(test_thousand_vms_release_everything),
		cmocka_unit_test(test_fault_message_survives_console_error),
		cmocka_unit_test(test_zeroed_config_console_is_stdout),
		cmocka_unit_test(test_console_to_file_and_null),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
