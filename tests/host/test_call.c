/* Calls into the guest (kvmbox_vm_call, include/kvmbox/call.h) in every mode, with the guest
 * tests/guests/call.c: integer and buffer arguments and results, host functions called from
 * inside a call, a fault reported and followed by a call after a reset, a reset that hides
 * one call's writes from the next, a per-call deadline, the refusals; and `kvmbox call`. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"
#include "kvmbox/call.h"
#include "kvmbox/snapshot.h"


/* A VM of MODE with the call guest loaded; main run first when MAIN. */
struct callvm {
	struct kvmbox_vm *vm;
	uint8_t *data;
	struct kvmbox_image img;
	struct out out;
	struct kvmbox_error err;
};

static void callvm_open(struct callvm *c, enum kvmbox_mode mode, bool main)
{
	struct kvmbox_vm_config cfg = { .mode = mode, .console = capture_console, .console_ctx = &c->out };
	struct kvmbox_result res;
	size_t size;

	memset(c, 0, sizeof(*c));
	c->data = read_whole_file(guest_image("test-call", mode), &size);
	assert_non_null(c->data);
	if (kvmbox_image_parse(&c->img, c->data, size, false, 0, 0, &c->err) < 0 ||
	    kvmbox_vm_create(&c->vm, &cfg, &c->err) < 0 || kvmbox_vm_load(c->vm, &c->img, &c->err) < 0)
		fail_msg("%s", c->err.msg);
	if (main) {
		assert_int_equal(kvmbox_vm_run(c->vm, NULL, &res), 0);
		assert_int_equal(res.stop, KVMBOX_STOP_HALT);
	}
}

static void callvm_close(struct callvm *c)
{
	kvmbox_vm_destroy(c->vm);
	free(c->data);
}

/* Call NAME; the call must run (0) and end as STOP; returns the result's value. */
static int64_t call_ok(struct callvm *c, const char *name, const struct kvmbox_call_arg *args,
		       unsigned nargs, unsigned flags, enum kvmbox_stop stop, struct kvmbox_result *res)
{
	struct kvmbox_call_opts opts = { .flags = flags };
	struct kvmbox_result r;

	if (!res)
		res = &r;
	if (kvmbox_vm_call(c->vm, name, args, nargs, &opts, res, &c->err) < 0)
		fail_msg("%s: %s", name, c->err.msg);
	if (res->stop != stop)
		fail_msg("%s: stop %d (%s), not %d", name, res->stop, res->msg, stop);
	return res->value;
}

#define INT(v) { .kind = KVMBOX_ARG_INT, .value = (uint64_t)(v) }

static int64_t call_int(struct callvm *c, const char *name, const struct kvmbox_call_arg *args,
			unsigned nargs)
{
	return call_ok(c, name, args, nargs, 0, KVMBOX_STOP_RETURNED, NULL);
}

static void test_int_args(void **state)
{
	struct callvm c;
	const struct kvmbox_call_arg two[] = { INT(2), INT(3) }, six[] = { INT(1), INT(2), INT(3),
									INT(4), INT(5), INT(6) };
	const struct kvmbox_call_arg ten[] = { INT(10) }, neg[] = { INT(-7), INT(3) };

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), true);
	assert_int_equal(kvmbox_vm_exports(c.vm), 16);
	assert_int_equal(call_int(&c, "add", two, 2), 5);
	assert_int_equal(call_int(&c, "add", neg, 2), -4);
	assert_int_equal(call_int(&c, "sum6", six, 6), 654321);
	assert_int_equal(call_int(&c, "minus_five", NULL, 0), -5);
	assert_int_equal(call_int(&c, "fib", ten, 1), 55);
	assert_int_equal(call_int(&c, "get_init", NULL, 0), 42); /* main ran first */
	callvm_close(&c);
}

/* Without main, a call finds the image as loaded. */
static void test_without_main(void **state)
{
	struct callvm c;
	const struct kvmbox_call_arg two[] = { INT(20), INT(22) };

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), false);
	assert_int_equal(call_int(&c, "get_init", NULL, 0), 0);
	assert_int_equal(call_int(&c, "add", two, 2), 42);
	callvm_close(&c);
}

static void test_buffers(void **state)
{
	struct callvm c;
	char text[] = "hello, World";
	unsigned char out[40];
	char in[] = "abcdefg";
	struct kvmbox_call_arg up[] = { { .kind = KVMBOX_ARG_INOUT, .buf = text, .len = strlen(text) },
					INT(strlen(text)) };
	struct kvmbox_call_arg fill[] = { { .kind = KVMBOX_ARG_OUT, .buf = out, .len = sizeof(out) },
					  INT(sizeof(out)), INT('A') };
	struct kvmbox_call_arg len[] = { { .kind = KVMBOX_ARG_IN, .buf = in, .len = sizeof(in) } };
	int64_t sum = 0;

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), true);
	assert_int_equal(call_int(&c, "upcase", up, 2), 9);
	assert_string_equal(text, "HELLO, WORLD");
	memset(out, 0xee, sizeof(out));
	for (unsigned i = 0; i < sizeof(out); i++)
		sum += 'A' + i;
	assert_int_equal(call_int(&c, "fill", fill, 3), sum);
	for (unsigned i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 'A' + i);
	/* An IN buffer reaches the guest NUL and all, 16-byte aligned, and is not copied back. */
	assert_int_equal(call_int(&c, "str_len", len, 1), 7);
	assert_string_equal(in, "abcdefg");
	callvm_close(&c);
}

struct host_ctx {
	unsigned calls;
	struct kvmbox_vm *vm;
};

static int64_t hadd(struct kvmbox_host_call *hc, void *ctx)
{
	struct host_ctx *h = ctx;

	h->calls++;
	assert_ptr_equal(kvmbox_host_call_vm(hc), h->vm);
	assert_string_equal(kvmbox_host_call_name(hc), "hadd");
	assert_int_equal(kvmbox_host_call_nargs(hc), 2);
	assert_int_equal(kvmbox_host_call_arg(hc, 2), 0); /* past the end */
	return (int64_t)kvmbox_host_call_arg(hc, 0) + (int64_t)kvmbox_host_call_arg(hc, 1);
}

/* Upper-case the guest's buffer in place, through the checked accessors. */
static int64_t hupper(struct kvmbox_host_call *hc, void *ctx)
{
	char buf[64];
	uint64_t gva = kvmbox_host_call_arg(hc, 0), len = kvmbox_host_call_arg(hc, 1);

	(void)ctx;
	if (len > sizeof(buf))
		return -E2BIG;
	if (kvmbox_host_call_read(hc, gva, buf, len) < 0)
		return -EFAULT;
	for (uint64_t i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	if (kvmbox_host_call_write(hc, gva, buf, len) < 0)
		return -EFAULT;
	return (int64_t)len;
}

static void test_host_functions(void **state)
{
	struct callvm c;
	struct host_ctx h = { 0 };
	char text[] = "call me";
	const struct kvmbox_call_arg two[] = { INT(40), INT(2) };
	struct kvmbox_call_arg up[] = { { .kind = KVMBOX_ARG_INOUT, .buf = text, .len = strlen(text) },
					INT(strlen(text)) };
	struct kvmbox_call_arg wild[] = { INT(0xfffffff0u), INT(4) };

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), true);
	h.vm = c.vm;
	/* Before any registration the guest hears "no such function". */
	assert_int_equal(call_int(&c, "host_add", two, 2), -2 /* -KVMBOX_ENOENT */);
	assert_int_equal(kvmbox_vm_host_fn(c.vm, "hadd", hadd, &h, &c.err), 0);
	assert_int_equal(kvmbox_vm_host_fn(c.vm, "hupper", hupper, NULL, &c.err), 0);
	assert_int_equal(kvmbox_vm_host_fn(c.vm, "hadd", hadd, &h, &c.err), -EEXIST);
	assert_int_equal(kvmbox_vm_host_fn(c.vm, "bad name", hadd, &h, &c.err), -EINVAL);
	assert_int_equal(kvmbox_vm_host_fn(c.vm, "", hadd, &h, &c.err), -EINVAL);
	assert_int_equal(kvmbox_vm_host_fn(c.vm, "x", NULL, &h, &c.err), -EINVAL);
	assert_int_equal(call_int(&c, "host_add", two, 2), 42);
	assert_int_equal(h.calls, 1);
	assert_int_equal(call_int(&c, "host_upper", up, 2), 7);
	assert_string_equal(text, "CALL ME");
	/* A bad pointer is the host function's -EFAULT for the guest, not a host crash. */
	assert_int_equal(call_int(&c, "host_upper", wild, 2), -EFAULT);
	/* Unknown names, too many arguments, a name outside memory: errors the guest sees. */
	assert_int_equal(call_int(&c, "host_errors", NULL, 0), 0);
	/* The registry survives a reset. */
	assert_int_equal(call_ok(&c, "host_add", two, 2, KVMBOX_CALL_RESET, KVMBOX_STOP_RETURNED, NULL), 42);
	assert_int_equal(call_int(&c, "host_add", two, 2), 42);
	callvm_close(&c);
}

/* A fault inside a call is the usual report (function, file:line); the VM runs the next call
 * after a reset: asked for with the call, or made by hand. */
static void test_fault_then_call(void **state)
{
	struct callvm c;
	struct kvmbox_result res;
	const struct kvmbox_call_arg two[] = { INT(1), INT(2) };
	char want[128];
	int line = marker_line("tests/guests/call.c", MODE(state) == KVMBOX_MODE_REAL ? "crash-real"
										  : "crash-null");

	skip_unless_host_runs(MODE(state));
	assert_true(line > 1);
	snprintf(want, sizeof(want), " in crash (tests/guests/call.c:%d)", line - 1);
	callvm_open(&c, MODE(state), true);
	call_ok(&c, "crash", NULL, 0, KVMBOX_CALL_RESET, KVMBOX_STOP_FAULT, &res);
	if (!strstr(res.msg, want))
		fail_msg("the report \"%s\" lacks \"%s\"", res.msg, want);
	assert_int_equal(call_int(&c, "add", two, 2), 3);
	assert_int_equal(call_int(&c, "get_init", NULL, 0), 42);

	/* No reset asked for: the VM refuses calls until it is reset. */
	call_ok(&c, "crash", NULL, 0, 0, KVMBOX_STOP_FAULT, &res);
	assert_int_equal(kvmbox_vm_call(c.vm, "add", two, 2, NULL, &res, &c.err), -ESRCH);
	assert_non_null(strstr(c.err.msg, "reset it first"));
	assert_int_equal(kvmbox_vm_reset(c.vm, &c.err), 0);
	assert_int_equal(call_int(&c, "add", two, 2), 3);
	callvm_close(&c);
}

/* With KVMBOX_CALL_RESET no call sees another's writes (a static counter); without, each
 * call finds the last one's. */
static void test_isolation(void **state)
{
	struct callvm c;

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(call_ok(&c, "count", NULL, 0, KVMBOX_CALL_RESET, KVMBOX_STOP_RETURNED, NULL), 1);
	assert_int_equal(call_int(&c, "count", NULL, 0), 1);
	assert_int_equal(call_int(&c, "count", NULL, 0), 2);
	assert_int_equal(call_int(&c, "count", NULL, 0), 3);
	assert_int_equal(kvmbox_vm_reset(c.vm, &c.err), 0);
	assert_int_equal(call_int(&c, "count", NULL, 0), 1);
	assert_int_equal(call_int(&c, "get_init", NULL, 0), 42); /* the point is after main */
	callvm_close(&c);
}

/* A reset after a call leaves nothing of it in the vCPU either: a debug register and an MSR
 * the call set are back to the point's values, for a point after main and for one taken
 * before anything ran (without main); without the reset the next call finds them. */
static void test_isolation_vcpu(void **state)
{
	const struct kvmbox_call_arg v1[] = { INT(0x1234) }, v2[] = { INT(0x5678) };
	struct callvm c;

	skip_unless_host_runs(MODE(state));
	for (int with_main = 0; with_main < 2; with_main++) {
		callvm_open(&c, MODE(state), with_main);
		for (int k = 0; k < 2; k++) {
			const char *fn = k ? "msr_swap" : "dr0_swap";
			int64_t first = call_ok(&c, fn, v1, 1, KVMBOX_CALL_RESET, KVMBOX_STOP_RETURNED, NULL);

			if (call_ok(&c, fn, v2, 1, KVMBOX_CALL_RESET, KVMBOX_STOP_RETURNED, NULL) != first)
				fail_msg("%s: after a reset (%s) the call found what the last one left",
					 fn, with_main ? "point after main" : "point before any run");
			assert_int_equal(call_int(&c, fn, v1, 1), first);
			assert_int_equal(call_int(&c, fn, v2, 1), 0x1234); /* no reset: the last call's */
			assert_int_equal(kvmbox_vm_reset(c.vm, &c.err), 0);
		}
		callvm_close(&c);
	}
}

/* Initialise once, save, then call in a VM made from the file: the snapshot keeps the
 * exports, so the restored VM is called by name as its saver was, from the state main left
 * (a file that says otherwise is refused: test_snapshot.c's hostile cases, and below). */
static void test_call_after_restore(void **state)
{
	char path[] = "/tmp/kvmbox-call-snap-XXXXXX";
	const struct kvmbox_call_arg two[] = { INT(40), INT(2) };
	struct kvmbox_vm_config cfg = { .console_fd = KVMBOX_CONSOLE_DISCARD };
	struct kvmbox_vm *vm = NULL;
	struct kvmbox_result res;
	struct kvmbox_export e;
	struct callvm c;
	int fd;

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), true);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	if (kvmbox_vm_save(c.vm, fd, &c.err) < 0)
		fail_msg("kvmbox_vm_save: %s", c.err.msg);
	callvm_close(&c);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (kvmbox_vm_restore(&vm, &cfg, fd, 0, &c.err) < 0)
		fail_msg("kvmbox_vm_restore: %s", c.err.msg);
	close(fd);
	unlink(path);
	assert_int_equal(kvmbox_vm_exports(vm), 16);
	assert_int_equal(kvmbox_vm_export(vm, 0, &e), 0);
	assert_string_equal(e.name, "add");
	assert_int_equal(kvmbox_vm_call(vm, "add", two, 2, NULL, &res, &c.err), 0);
	assert_int_equal(res.stop, KVMBOX_STOP_RETURNED);
	assert_int_equal(res.value, 42);
	/* main's state came with the memory; a call with a reset comes back to it. */
	for (int i = 0; i < 2; i++) {
		struct kvmbox_call_opts o = { .flags = KVMBOX_CALL_RESET };

		assert_int_equal(kvmbox_vm_call(vm, "count", NULL, 0, &o, &res, &c.err), 0);
		assert_int_equal(res.value, 1);
	}
	assert_int_equal(kvmbox_vm_call(vm, "get_init", NULL, 0, NULL, &res, &c.err), 0);
	assert_int_equal(res.value, 42);
	kvmbox_vm_destroy(vm);
}

/* A deadline ends a call that never returns; after the reset the VM calls again. */
static void test_deadline(void **state)
{
	struct callvm c;
	struct kvmbox_result res;
	struct kvmbox_call_opts opts = { .flags = KVMBOX_CALL_RESET };
	struct timespec ts;
	const struct kvmbox_call_arg two[] = { INT(1), INT(2) };

	skip_unless_host_runs(MODE(state));
	callvm_open(&c, MODE(state), true);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	opts.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 50000000ull;
	assert_int_equal(kvmbox_vm_call(c.vm, "spin", NULL, 0, &opts, &res, &c.err), 0);
	assert_int_equal(res.stop, KVMBOX_STOP_TIMEOUT);
	assert_int_equal(call_int(&c, "add", two, 2), 3);
	callvm_close(&c);
}

static void test_refusals(void **state)
{
	struct callvm c;
	struct kvmbox_result res;
	struct kvmbox_vm *bare;
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_LONG, .console_fd = KVMBOX_CONSOLE_DISCARD };
	const struct kvmbox_call_arg seven[7] = { INT(1), INT(2), INT(3), INT(4), INT(5), INT(6), INT(7) };
	struct kvmbox_call_arg big[] = { { .kind = KVMBOX_ARG_IN, .len = KVMBOX_CALL_BUF_MAX + 1 } };
	struct kvmbox_call_arg odd[] = { { .kind = (enum kvmbox_call_arg_kind)9 } };
	struct kvmbox_call_arg nullbuf[] = { { .kind = KVMBOX_ARG_OUT, .len = 4 } };

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	callvm_open(&c, KVMBOX_MODE_LONG, true);
	big[0].buf = calloc(1, big[0].len);
	assert_non_null(big[0].buf);
	assert_int_equal(kvmbox_vm_call(c.vm, "sum6", seven, 7, NULL, &res, &c.err), -EINVAL);
	assert_non_null(strstr(c.err.msg, "at most 6"));
	assert_int_equal(kvmbox_vm_call(c.vm, "str_len", big, 1, NULL, &res, &c.err), -E2BIG);
	assert_non_null(strstr(c.err.msg, "call area"));
	/* Fits the area's bound but not 2 MiB of memory beside the image and a stack. */
	big[0].len = KVMBOX_CALL_BUF_MAX;
	assert_int_equal(kvmbox_vm_call(c.vm, "str_len", big, 1, NULL, &res, &c.err), 0);
	assert_int_equal(kvmbox_vm_call(c.vm, "no_such", NULL, 0, NULL, &res, &c.err), -ENOENT);
	assert_non_null(strstr(c.err.msg, "no function no_such"));
	assert_int_equal(kvmbox_vm_call(c.vm, NULL, NULL, 0, NULL, &res, &c.err), -EINVAL);
	assert_int_equal(kvmbox_vm_call(c.vm, "str_len", odd, 1, NULL, &res, &c.err), -EINVAL);
	assert_int_equal(kvmbox_vm_call(c.vm, "str_len", nullbuf, 1, NULL, &res, &c.err), -EINVAL);
	assert_int_equal(kvmbox_vm_call(c.vm, "add", NULL, 0, NULL, NULL, &c.err), -EINVAL);
	/* Refusals ran nothing: the VM still calls. */
	assert_int_equal(call_int(&c, "get_init", NULL, 0), 42);
	/* In the least memory a VM may have, the area's bound is more than lies below the stack
	 * top: too big all the same, not a fault. */
	cfg.mem_size = KVMBOX_MEM_MIN;
	assert_int_equal(kvmbox_vm_create(&bare, &cfg, &c.err), 0);
	assert_int_equal(kvmbox_vm_load(bare, &c.img, &c.err), 0);
	assert_int_equal(kvmbox_vm_call(bare, "str_len", big, 1, NULL, &res, &c.err), -E2BIG);
	assert_non_null(strstr(c.err.msg, "call area"));
	kvmbox_vm_destroy(bare);
	cfg.mem_size = 0;
	free(big[0].buf);
	callvm_close(&c);

	assert_int_equal(kvmbox_vm_create(&bare, &cfg, &c.err), 0);
	assert_int_equal(kvmbox_vm_call(bare, "add", NULL, 0, NULL, &res, &c.err), -ENOENT);
	assert_int_equal(kvmbox_vm_call_addr(bare, 0x1000, NULL, 0, NULL, &res, &c.err), -ENOEXEC);
	assert_int_equal(kvmbox_vm_exports(bare), 0);
	kvmbox_vm_destroy(bare);
}

/* Calls by address reach the same code; the exports list names each function once. */
static void test_exports_and_addresses(void **state)
{
	struct callvm c;
	struct kvmbox_export e;
	struct kvmbox_result res;
	const struct kvmbox_call_arg two[] = { INT(30), INT(12) };
	kvmbox_gva_t add = 0;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	callvm_open(&c, KVMBOX_MODE_LONG, true);
	for (unsigned i = 0; kvmbox_vm_export(c.vm, i, &e) == 0; i++)
		if (!strcmp(e.name, "add"))
			add = e.addr;
	assert_true(add >= 0x1000);
	assert_int_equal(kvmbox_vm_export(c.vm, kvmbox_vm_exports(c.vm), &e), -ENOENT);
	assert_int_equal(kvmbox_vm_call_addr(c.vm, add, two, 2, NULL, &res, &c.err), 0);
	assert_int_equal(res.stop, KVMBOX_STOP_RETURNED);
	assert_int_equal(res.value, 42);
	callvm_close(&c);
}

/* ---- the command ----------------------------------------------------------------------- */

static void test_cli_call(void **state)
{
	struct cli c;
	char img[256];

	snprintf(img, sizeof(img), "%s", guest_image("test-call", KVMBOX_MODE_LONG));

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(&c, "call", img, "add", "2", "40");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "42\n");
	RUN(&c, "call", img, "add", "0x10", "-20");
	assert_string_equal(c.out, "-4\n");
	RUN(&c, "call", img, "get_init");
	assert_string_equal(c.out, "42\n");
	RUN(&c, "call", "--no-main", img, "get_init");
	assert_string_equal(c.out, "0\n");
	RUN(&c, "call", img, "str_len", "hello");
	assert_string_equal(c.out, "5\n");
	RUN(&c, "call", img, "str_len", "s:12");
	assert_string_equal(c.out, "2\n");
	RUN(&c, "call", img, "no_such");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "no function no_such"));
	RUN(&c, "call", img, "crash");
	assert_int_equal(c.status, 65);
	assert_non_null(strstr(c.err, " in crash (tests/guests/call.c:"));
	RUN(&c, "call", "--timeout", "0.2", img, "spin");
	assert_int_equal(c.status, 66);
	RUN(&c, "call", img);
	assert_int_equal(c.status, 2);
}

/* Initialise once (`kvmbox run --save`), then call in other processes from the file: the
 * exports and main's state come back; a file that is not a snapshot is status 2. */
static void test_cli_call_restore(void **state)
{
	char path[] = "/tmp/kvmbox-call-cli-XXXXXX", img[256];
	struct cli c;
	int fd;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(img, sizeof(img), "%s", guest_image("test-call", KVMBOX_MODE_LONG));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	RUN(&c, "run", "--save", path, img);
	assert_int_equal(c.status, 0);
	RUN(&c, "call", "--restore", path, "--list");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, " add\n"));
	RUN(&c, "call", "--restore", path, "add", "2", "40");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "42\n");
	RUN(&c, "call", "--restore", path, "get_init"); /* main ran before the save */
	assert_string_equal(c.out, "42\n");
	RUN(&c, "call", "--restore", path, "--repeat", "50", "count");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "1\n"); /* each call after a reset */
	RUN(&c, "call", "--restore", img, "add", "1", "2");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "not a kvmbox snapshot"));
	/* The snapshot is the VM: --mode must agree with it, and the image's own options have
	 * nothing to apply to (as for `kvmbox run --restore`). */
	RUN(&c, "call", "--restore", path, "-m", "real", "--list");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "long-mode VM, not real mode"));
	RUN(&c, "call", "--restore", path, "--entry", "0x1000", "--list");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "kvmbox call: --entry applies to flat binaries"));
	unlink(path);
}

static void test_cli_list_repeat(void **state)
{
	struct cli c;
	char img[256];

	snprintf(img, sizeof(img), "%s", guest_image("test-call", KVMBOX_MODE_LONG));

	(void)state;
	RUN(&c, "call", img, "--list");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "add"));
	assert_non_null(strstr(c.out, "fib"));
	assert_non_null(strstr(c.out, "spin"));
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(&c, "call", "--repeat", "20", img, "count");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "1\n"); /* every call after a reset */
	assert_non_null(strstr(c.err, "calls/s"));
	RUN(&c, "call", "--sandbox", "--repeat", "3", img, "count");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_int_args),
		PER_MODE(test_without_main),
		PER_MODE(test_buffers),
		PER_MODE(test_host_functions),
		PER_MODE(test_fault_then_call),
		PER_MODE(test_isolation),
		PER_MODE(test_isolation_vcpu),
		PER_MODE(test_call_after_restore),
		PER_MODE(test_deadline),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_exports_and_addresses),
		cmocka_unit_test(test_cli_call),
		cmocka_unit_test(test_cli_list_repeat),
		cmocka_unit_test(test_cli_call_restore),
	};

	return cmocka_run_group_tests_name("call", tests, NULL, NULL);
}
