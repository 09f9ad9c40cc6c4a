/* Fast reset (kvmbox_vm_set_reset_point / kvmbox_vm_reset): every run after a reset must be the run a
 * fresh VM makes: the same console output, stop, registers and guest memory, also for a
 * guest that dirties much memory and uses hypercalls that write guest memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "../guests/bench_abi.h"

#define RESETS 25


/* What one run leaves behind, for comparison. */
struct outcome {
	struct out out;
	struct kvmbox_result res;
	struct kvm_regs regs;
	char dump[2048];
	uint8_t *mem;
	uint64_t exits;
};

struct image {
	uint8_t *data;
	size_t size;
	struct kvmbox_image img;
};

static void image_read(struct image *im, const char *path)
{
	struct kvmbox_error err;
	FILE *f = fopen(path, "rb");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	im->data = malloc((size_t)n);
	assert_non_null(im->data);
	im->size = fread(im->data, 1, (size_t)n, f);
	fclose(f);
	assert_int_equal(im->size, (size_t)n);
	assert_int_equal(kvmbox_image_parse(&im->img, im->data, im->size, false, 0, 0, &err), 0);
}

/* Create and load a VM whose console goes to *OUT; PARAMS (may be NULL) goes to
 * BENCH_PARAMS_GPA as a host write after the load. */
static struct kvmbox_vm *vm_new(const struct image *im, enum kvmbox_mode mode, struct out *out,
				const struct bench_params *params)
{
	struct kvmbox_vm_config cfg = { .mode = mode, .console = capture_console, .console_ctx = out };
	struct kvmbox_error err;
	struct kvmbox_vm *vm;

	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), 0);
	assert_int_equal(kvmbox_vm_load(vm, &im->img, &err), 0);
	if (params)
		assert_int_equal(kvmbox_vm_write(vm, BENCH_PARAMS_GPA, params, sizeof(*params)), 0);
	return vm;
}

static uint8_t *mem_copy(const struct kvmbox_vm *vm)
{
	uint64_t size = kvmbox_vm_mem_size(vm);
	uint8_t *m = malloc(size);

	assert_non_null(m);
	assert_int_equal(kvmbox_vm_read(vm, 0, m, size), 0);
	return m;
}

/* Run VM (its console writes into O->out, cleared first) and record the outcome. */
static void run_record(struct kvmbox_vm *vm, struct outcome *o)
{
	o->out.len = 0;
	o->out.buf[0] = 0;
	assert_int_equal(kvmbox_vm_run(vm, NULL, &o->res), 0);
	o->regs = *kvmbox_vm_regs(vm);
	kvmbox_vm_format_regs(vm, o->dump, sizeof(o->dump));
	o->mem = mem_copy(vm);
	o->exits = kvmbox_vm_stats(vm)->exits;
}

static void assert_same(const struct outcome *a, const struct outcome *b, uint64_t mem_size)
{
	assert_string_equal(a->out.buf, b->out.buf);
	assert_int_equal(a->res.stop, b->res.stop);
	assert_int_equal(a->res.status, b->res.status);
	assert_int_equal(a->exits, b->exits);
	assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
	assert_string_equal(a->dump, b->dump);
	assert_memory_equal(a->mem, b->mem, mem_size);
}

/* A fresh VM's run against RESETS runs of one VM reset between them. */
static void check_resets(const char *path, enum kvmbox_mode mode, const struct bench_params *params)
{
	struct outcome *fresh = calloc(1, sizeof(*fresh)), *again = calloc(1, sizeof(*again));
	struct kvmbox_error err;
	struct kvmbox_vm *vm, *ref;
	struct image im;
	uint64_t size;

	assert_non_null(fresh);
	assert_non_null(again);
	image_read(&im, path);
	ref = vm_new(&im, mode, &fresh->out, params);
	run_record(ref, fresh);
	size = kvmbox_vm_mem_size(ref);
	kvmbox_vm_destroy(ref);
	assert_true(fresh->res.stop == KVMBOX_STOP_HALT || fresh->res.stop == KVMBOX_STOP_EXIT);

	vm = vm_new(&im, mode, &again->out, params);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), 0);
	for (int i = 0; i < RESETS; i++) {
		if (i)
			assert_int_equal(kvmbox_vm_reset(vm, NULL), 0);
		run_record(vm, again);
		assert_same(fresh, again, size);
		free(again->mem);
	}
	kvmbox_vm_destroy(vm);
	free(fresh->mem);
	free(fresh);
	free(again);
	free(im.data);
}

static void test_hello_every_mode(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		enum kvmbox_mode m = all_modes[i];

		if (m == KVMBOX_MODE_PAGED32 && kvmbox_host_supports_mode(m, NULL) != 1)
			continue; /* this host cannot run it (test_guests reports the skip) */
		check_resets(guest_image("hello", m), m, NULL);
	}
}

/* 256 KiB written by the guest, and exits-by-type strings written into guest memory by the
 * host, at every run. */
static void test_dirty_guest(void **state)
{
	struct bench_params p = { .op = BENCH_OP_DIRTY, .count = 40 };

	(void)state;
	check_resets(guest_image("test-bench_hc", KVMBOX_MODE_LONG), KVMBOX_MODE_LONG, &p);
	check_resets(guest_image("test-bench_hc", KVMBOX_MODE_PROTECTED), KVMBOX_MODE_PROTECTED, &p);
}

/* hc_basic reads the clock and host addresses, so its memory after a run is not
 * reproducible; its output and exit status are, and after each reset memory and registers
 * must be exactly those of a freshly loaded VM. */
static void test_hc_basic(void **state)
{
	const char *path = guest_image("test-hc_basic", KVMBOX_MODE_LONG);
	struct outcome *fresh = calloc(1, sizeof(*fresh)), *again = calloc(1, sizeof(*again));
	struct kvmbox_error err;
	struct kvmbox_vm *vm, *ref;
	uint8_t *pristine;
	struct kvm_regs regs0;
	struct image im;
	uint64_t size;

	(void)state;
	image_read(&im, path);
	ref = vm_new(&im, KVMBOX_MODE_LONG, &fresh->out, NULL);
	pristine = mem_copy(ref);
	regs0 = *kvmbox_vm_regs(ref);
	size = kvmbox_vm_mem_size(ref);
	run_record(ref, fresh);
	kvmbox_vm_destroy(ref);
	assert_int_equal(fresh->res.stop, KVMBOX_STOP_EXIT);
	assert_int_equal(fresh->res.status, 7);

	vm = vm_new(&im, KVMBOX_MODE_LONG, &again->out, NULL);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), 0);
	for (int i = 0; i < RESETS; i++) {
		uint8_t *now;

		if (i)
			assert_int_equal(kvmbox_vm_reset(vm, NULL), 0);
		now = mem_copy(vm);
		assert_memory_equal(now, pristine, size);
		assert_memory_equal(kvmbox_vm_regs(vm), &regs0, sizeof(regs0));
		free(now);
		run_record(vm, again);
		assert_string_equal(again->out.buf, fresh->out.buf);
		assert_int_equal(again->res.stop, KVMBOX_STOP_EXIT);
		assert_int_equal(again->res.status, 7);
		assert_int_equal(again->exits, fresh->exits);
		free(again->mem);
	}
	kvmbox_vm_destroy(vm);
	free(fresh->mem);
	free(pristine);
	free(fresh);
	free(again);
	free(im.data);
}

/* Pages the host writes (kvmbox_vm_write) are not in KVM's dirty log; reset restores them. */
static void test_host_writes_undone(void **state)
{
	static const uint8_t junk[8192] = { [0] = 0xcc, [4095] = 0xcc, [4096] = 0xcc, [8191] = 0xcc };
	struct kvmbox_error err;
	struct kvmbox_vm *vm;
	struct out out = { .len = 0 };
	struct image im;
	uint8_t *pristine, *now;
	uint64_t size;

	(void)state;
	image_read(&im, guest_image("hello", KVMBOX_MODE_LONG));
	vm = vm_new(&im, KVMBOX_MODE_LONG, &out, NULL);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), 0);
	pristine = mem_copy(vm);
	size = kvmbox_vm_mem_size(vm);
	assert_int_equal(kvmbox_vm_write(vm, 0x7ff80, junk, sizeof(junk)), 0);
	assert_int_equal(kvmbox_vm_reset(vm, NULL), 0);
	now = mem_copy(vm);
	assert_memory_equal(now, pristine, size);
	free(now);
	free(pristine);
	kvmbox_vm_destroy(vm);
	free(im.data);
}

static void test_refusals(void **state)
{
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_LONG, .console_fd = -1 };
	struct kvmbox_error err;
	struct kvmbox_result res;
	struct kvmbox_vm *vm;
	struct image im;
	struct out out = { .len = 0 };

	(void)state;
	assert_int_equal(kvmbox_vm_reset(NULL, NULL), -ENOENT);
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), 0);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), -ENOEXEC);
	assert_int_equal(kvmbox_vm_reset(vm, NULL), -ENOENT);
	kvmbox_vm_destroy(vm);

	image_read(&im, guest_image("hello", KVMBOX_MODE_LONG));
	vm = vm_new(&im, KVMBOX_MODE_LONG, &out, NULL);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), 0);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), 0); /* taken again: moved */
	assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
	assert_int_equal(kvmbox_vm_run(vm, NULL, &res), -ESRCH); /* stopped until reset */
	assert_int_equal(kvmbox_vm_reset(vm, NULL), 0);
	assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
	assert_int_equal(res.stop, KVMBOX_STOP_HALT);
	kvmbox_vm_destroy(vm);
	free(im.data);
}

/* A reset point taken after a run, at the guest's halt once main has set things up
 * (reset_after.c): every run from it is a call that finds the vCPU and memory as the point had
 * them (the counter, SYSENTER_ESP, DR0 and, in long mode, the x87 control word), though each
 * call changes them all; the statistics come back to the point's too. */
static void test_point_after_run(void **state)
{
	static const enum kvmbox_mode modes[] = { KVMBOX_MODE_PROTECTED, KVMBOX_MODE_LONG };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct kvmbox_vm *vm;
	struct image im;
	struct out out = { .len = 0 };
	uint64_t exits;

	(void)state;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		image_read(&im, guest_image("test-reset_after", modes[m]));
		vm = vm_new(&im, modes[m], &out, NULL);
		assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
		assert_int_equal(res.stop, KVMBOX_STOP_HALT);
		if (kvmbox_vm_set_reset_point(vm, &err) < 0)
			fail_msg("%s", err.msg);
		exits = kvmbox_vm_stats(vm)->exits;
		for (int i = 0; i < RESETS; i++) {
			out.len = 0;
			out.buf[0] = 0;
			if (kvmbox_vm_reset(vm, &err) < 0) /* the point's VM has halted: a reset */
				fail_msg("reset: %s", err.msg);
			assert_int_equal(kvmbox_vm_stats(vm)->exits, exits);
			assert_int_equal(kvmbox_vm_run(vm, NULL, &res), 0);
			if (res.stop != KVMBOX_STOP_EXIT)
				fail_msg("%s mode, call %d: %s", kvmbox_mode_name(modes[m]), i, res.msg);
			assert_int_equal(res.status, 7);
			assert_string_equal(out.buf, "5\n");
		}
		kvmbox_vm_destroy(vm);
		free(im.data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_every_mode),
		cmocka_unit_test(test_dirty_guest),
		cmocka_unit_test(test_hc_basic),
		cmocka_unit_test(test_host_writes_undone),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_point_after_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
