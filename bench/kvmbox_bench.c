/* kvmbox's side of the benchmark suite: the same figures as bench/floor.c, measured through the
 * library as an embedder uses it. bench/run.sh runs it and sets each figure next to its floor.
 *
 *   kvmbox_bench hc R N        round trip of each one-exit hypercall, and of a bare console
 *                              OUT without coalescing (N calls per run, rounded up to a
 *                              multiple of BENCH_UNROLL, less a run of none; R runs)
 *   kvmbox_bench console R N   console throughput: outb per byte with and without coalesced
 *                              PIO, HC_printStr of 16 and 4095 bytes, console_write (one
 *                              rep outsb) of 4095 bytes
 *   kvmbox_bench phases R      create / load / first run / destroy of the hello guest
 *   kvmbox_bench crd R         create-load-run-destroy of the hello guest
 *   kvmbox_bench reset R       set a reset point once, warm up, then reset-and-run the hello guest R
 *                              times
 *   kvmbox_bench call R        R calls (kvmbox_vm_call, after main) of a trivial function, of
 *                              one that calls one host function, and of one that writes
 *                              memory with KVMBOX_CALL_RESET: the reset point after main
 *                              (the whole vCPU comes back: FPU, MSRs, debug registers), and
 *                              one set by kvmbox_vm_set_reset_point before any run
 *                              (registers only; main not run)
 *   kvmbox_bench rss           RSS per idle VM (created, hello loaded) with 1, 100, 1000 VMs
 *   kvmbox_bench many N [one-fd]  N hello VMs in one process and thread: all created, each
 *                              run to its end under the round-robin scheduler, all
 *                              destroyed; per VM: create, run and destroy time, RSS and
 *                              descriptors (one-fd: KVMBOX_VM_ONE_FD, as when the open-file
 *                              limit is too low for two)
 *   kvmbox_bench snap R F DIR  snapshots (docs/snapshot.md): R restores of the hello guest's
 *                              snapshot (saved before its first run) to its first exit; F
 *                              forks of a halted 2 MiB guest (snap_fork.c), all alive at
 *                              once, each run to its end (time per fork, RSS per fork for
 *                              the 16 pages each writes); R saves of a 64 MiB guest with
 *                              32 MiB of non-zero memory (time per MiB written). Files in DIR
 *
 * Guests: build/guests/hello-long.elf and build/guests/test-bench_hc-long.elf ($BUILD). */
#include <fcntl.h>
#include <unistd.h>
#include "kvmbox/call.h"
#include "kvmbox/kvmbox.h"
#include "kvmbox/sched.h"
#include "kvmbox/snapshot.h"
#include <sys/stat.h>
#include "../tests/guests/bench_abi.h"
#include "common.h"

struct image_buf {
	uint8_t *data;
	size_t size;
	struct kvmbox_image img;
};

static int devnull = -1;

static void load_image(struct image_buf *b, const char *name)
{
	const char *dir = getenv("BUILD") ? getenv("BUILD") : "build";
	struct kvmbox_error err;
	char path[512];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/guests/%s", dir, name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) <= 0)
		BENCH_DIE("%s: cannot read (run make first)", path);
	rewind(f);
	b->data = bench_xcalloc((size_t)n, 1);
	b->size = (size_t)n;
	if (fread(b->data, 1, b->size, f) != b->size)
		BENCH_DIE("%s: short read", path);
	fclose(f);
	if (kvmbox_image_parse(&b->img, b->data, b->size, false, 0, 0, &err) < 0)
		BENCH_DIE("%s: %s", path, err.msg);
}

static struct kvmbox_vm *vm_new(const struct image_buf *b, unsigned flags)
{
	struct kvmbox_vm_config cfg = {
		.name = "bench", .mode = KVMBOX_MODE_LONG, .flags = flags, .console_fd = devnull,
	};
	struct kvmbox_error err;
	struct kvmbox_vm *vm;

	if (kvmbox_vm_create(&vm, &cfg, &err) < 0)
		BENCH_DIE("create: %s", err.msg);
	if (kvmbox_vm_load(vm, &b->img, &err) < 0)
		BENCH_DIE("load: %s", err.msg);
	return vm;
}

static void run_halt(struct kvmbox_vm *vm)
{
	struct kvmbox_result res;

	if (kvmbox_vm_run(vm, NULL, &res) < 0 || res.stop != KVMBOX_STOP_HALT)
		BENCH_DIE("run did not halt: %s", res.msg);
}

static void set_params(struct kvmbox_vm *vm, enum bench_op op, uint32_t count)
{
	struct bench_params p = { .op = op, .count = count };

	if (kvmbox_vm_write(vm, BENCH_PARAMS_GPA, &p, sizeof(p)) < 0)
		BENCH_DIE("params: cannot write");
}

/* One measured operation: OP repeated COUNT times per run, on its own VM, and the same op
 * repeated 0 times on a second VM: that run costs what every run costs besides the calls
 * (the first entry after the reset, the guest's start, the halt exit), and is subtracted. */
struct op {
	enum bench_op op;
	const char *name;
	unsigned flags;
	int bytes_per_call; /* console figures: ns per byte instead of per call; else 0 */
	int count_div;      /* console figures: COUNT is N / count_div, N the bytes asked for */
	int count;
	struct kvmbox_vm *vm, *vm0;
	double *t, *c;      /* ns per call (or byte), wall and CPU, one sample per run */
	double *fixed;      /* ns of the run with no calls, one sample per run */
	uint64_t exits, bytes; /* of the runs with calls, less those of the runs without */
};

static struct kvmbox_vm *op_vm(const struct image_buf *b, const struct op *o, uint32_t count)
{
	struct kvmbox_vm *vm = vm_new(b, o->flags);
	struct kvmbox_error err;

	set_params(vm, o->op, count);
	if (kvmbox_vm_set_reset_point(vm, &err) < 0)
		BENCH_DIE("reset point: %s", err.msg);
	return vm;
}

/* Reset VM (not timed), run it to its halt, and return the wall and CPU ns of the run. The
 * guest halts with eax = the calls it made: anything else means it did not do the op. */
static void timed_run(struct kvmbox_vm *vm, uint32_t calls, double *wall, double *cpu)
{
	uint64_t t0, c0;

	if (kvmbox_vm_reset(vm, NULL) < 0)
		BENCH_DIE("reset failed");
	t0 = bench_now_ns();
	c0 = bench_cpu_ns();
	run_halt(vm);
	*wall = (double)(bench_now_ns() - t0);
	*cpu = (double)(bench_cpu_ns() - c0);
	if ((uint32_t)kvmbox_vm_regs(vm)->rax != calls)
		BENCH_DIE("the guest made %u calls, not %u",
			  (unsigned)(uint32_t)kvmbox_vm_regs(vm)->rax, calls);
}

/* R runs of every op, interleaved (run i of each op, then run i + 1 of each): a burst of
 * noise from this shared host then spreads over all the figures instead of spoiling one.
 * A sample is (run with COUNT calls - run with none, in the same round) / COUNT, so the
 * figure is the round trip alone, like the floor's loop, which has no start or halt. */
static void ops_run(const struct image_buf *b, struct op *ops, size_t nops, int reps)
{
	for (size_t k = 0; k < nops; k++) {
		struct op *o = &ops[k];

		if (o->count <= 0 || o->count % BENCH_UNROLL)
			BENCH_DIE("%d repetitions: not a positive multiple of %d", o->count, BENCH_UNROLL);
		o->vm = op_vm(b, o, (uint32_t)o->count);
		o->vm0 = op_vm(b, o, 0);
		o->t = bench_xcalloc((size_t)reps, sizeof(double));
		o->c = bench_xcalloc((size_t)reps, sizeof(double));
		o->fixed = bench_xcalloc((size_t)reps, sizeof(double));
		o->exits = o->bytes = 0;
	}
	for (int i = -reps / 10; i < reps; i++) { /* the first tenth warms up */
		for (size_t k = 0; k < nops; k++) {
			struct op *o = &ops[k];
			double per = (double)o->count * (o->bytes_per_call ? o->bytes_per_call : 1);
			double w0, c0, w, c;

			timed_run(o->vm0, 0, &w0, &c0);
			timed_run(o->vm, (uint32_t)o->count, &w, &c);
			if (i >= 0) {
				const struct kvmbox_stats *s = kvmbox_vm_stats(o->vm);
				const struct kvmbox_stats *s0 = kvmbox_vm_stats(o->vm0);

				o->t[i] = (w - w0) / per;
				o->c[i] = (c - c0) / per;
				o->fixed[i] = w0;
				o->exits += s->exits - s0->exits;
				o->bytes += s->console_bytes - s0->console_bytes;
			}
		}
	}
	for (size_t k = 0; k < nops; k++) {
		struct op *o = &ops[k];
		double fixed = bench_pct(o->fixed, (size_t)reps, 50);
		char extra[160];

		if (o->bytes_per_call)
			snprintf(extra, sizeof(extra),
				 "\"exits_per_byte\":%.6g,\"bytes\":%llu,\"run_fixed_ns\":%.0f",
				 (double)o->exits / (double)o->bytes, (unsigned long long)o->bytes, fixed);
		else
			snprintf(extra, sizeof(extra), "\"exits_per_call\":%.4f,\"run_fixed_ns\":%.0f",
				 (double)o->exits / ((double)reps * o->count), fixed);
		bench_emit2(o->name, "ns", o->t, o->c, (size_t)reps, extra);
		kvmbox_vm_destroy(o->vm);
		kvmbox_vm_destroy(o->vm0);
		free(o->t);
		free(o->c);
		free(o->fixed);
	}
}

static int cmd_hc(int reps, int n)
{
	struct op ops[] = {
		{ .op = BENCH_OP_PUTC, .name = "kvmbox.exit_out", .flags = KVMBOX_VM_NO_COALESCE },
		{ .op = BENCH_OP_ABI_VERSION, .name = "kvmbox.hc.abi_version" },
		{ .op = BENCH_OP_PRINT32, .name = "kvmbox.hc.print32" },
		{ .op = BENCH_OP_PRINTSTR, .name = "kvmbox.hc.printstr" },
		{ .op = BENCH_OP_NUM_EXITS, .name = "kvmbox.hc.num_exits" },
		{ .op = BENCH_OP_EXITS_BY_TYPE, .name = "kvmbox.hc.exits_by_type" },
		{ .op = BENCH_OP_GVA_TO_HVA, .name = "kvmbox.hc.gva_to_hva" },
		{ .op = BENCH_OP_GVA_TO_HVA64, .name = "kvmbox.hc.gva_to_hva64" },
		{ .op = BENCH_OP_TIMESTAMP, .name = "kvmbox.hc.timestamp" },
	};
	struct image_buf b;

	load_image(&b, "test-bench_hc-long.elf");
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		ops[k].count = bench_round_up(n, BENCH_UNROLL);
	ops_run(&b, ops, sizeof(ops) / sizeof(ops[0]), reps);
	return 0;
}

static int cmd_console(int reps, int n)
{
	struct op ops[] = {
		/* Each byte costs an exit or a guest instruction: N bytes per run. */
		{ .op = BENCH_OP_PUTC, .name = "kvmbox.console.putc_exit", .flags = KVMBOX_VM_NO_COALESCE,
		  .bytes_per_call = 1, .count_div = 1 },
		{ .op = BENCH_OP_PUTC, .name = "kvmbox.console.putc_coalesced",
		  .bytes_per_call = 1, .count_div = 1 },
		{ .op = BENCH_OP_WRITE_4K, .name = "kvmbox.console.write4095",
		  .bytes_per_call = 4095, .count_div = 4095 },
		/* One exit per call: N / 10 calls per run. */
		{ .op = BENCH_OP_PRINTSTR, .name = "kvmbox.console.printstr16",
		  .bytes_per_call = 16, .count_div = 10 },
		{ .op = BENCH_OP_PRINTSTR_4K, .name = "kvmbox.console.printstr4095",
		  .bytes_per_call = 4095, .count_div = 10 },
	};
	struct image_buf b;

	load_image(&b, "test-bench_hc-long.elf");
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		ops[k].count = bench_round_up(n / ops[k].count_div, BENCH_UNROLL);
	ops_run(&b, ops, sizeof(ops) / sizeof(ops[0]), reps);
	return 0;
}

static int cmd_phases(int reps)
{
	const char *names[4] = { "kvmbox.phase.create", "kvmbox.phase.load", "kvmbox.phase.first_run",
				 "kvmbox.phase.destroy" };
	double *t[4];
	struct image_buf b;

	load_image(&b, "hello-long.elf");
	for (int p = 0; p < 4; p++)
		t[p] = bench_xcalloc((size_t)reps, sizeof(double));
	for (int i = 0; i < reps; i++) {
		struct kvmbox_vm_config cfg = { .name = "bench", .mode = KVMBOX_MODE_LONG,
						.console_fd = devnull };
		struct kvmbox_error err;
		struct kvmbox_vm *vm;
		uint64_t ts[5];

		ts[0] = bench_now_ns();
		if (kvmbox_vm_create(&vm, &cfg, &err) < 0)
			BENCH_DIE("create: %s", err.msg);
		ts[1] = bench_now_ns();
		if (kvmbox_vm_load(vm, &b.img, &err) < 0)
			BENCH_DIE("load: %s", err.msg);
		ts[2] = bench_now_ns();
		run_halt(vm);
		ts[3] = bench_now_ns();
		kvmbox_vm_destroy(vm);
		ts[4] = bench_now_ns();
		for (int p = 0; p < 4; p++)
			t[p][i] = (double)(ts[p + 1] - ts[p]) / 1e3;
	}
	for (int p = 0; p < 4; p++)
		bench_emit(names[p], "us", t[p], (size_t)reps, "");
	return 0;
}

static void crd_loop(const struct image_buf *b, int reps, const char *name)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));

	for (int i = 0; i < reps; i++) {
		uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();
		struct kvmbox_vm *vm = vm_new(b, 0);

		run_halt(vm);
		kvmbox_vm_destroy(vm);
		t[i] = (double)(bench_now_ns() - t0) / 1e3;
		c[i] = (double)(bench_cpu_ns() - c0) / 1e3;
	}
	bench_emit2(name, "us", t, c, (size_t)reps, "");
	free(t);
	free(c);
}

static int cmd_crd(int reps)
{
	struct image_buf b;
	struct kvmbox_vm *hold;

	load_image(&b, "hello-long.elf");
	crd_loop(&b, reps, "kvmbox.crd_alone");
	hold = vm_new(&b, 0); /* another VM open: the kernel's static keys stay patched */
	crd_loop(&b, reps, "kvmbox.crd");
	kvmbox_vm_destroy(hold);
	return 0;
}

static int cmd_reset(int reps)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	struct kvmbox_error err;
	struct image_buf b;
	struct kvmbox_vm *vm;
	uint64_t t0, c0, total, ctotal;
	char extra[64];

	load_image(&b, "hello-long.elf");
	vm = vm_new(&b, 0);
	if (kvmbox_vm_set_reset_point(vm, &err) < 0)
		BENCH_DIE("reset point: %s", err.msg);
	run_halt(vm);
	/* Warm up until the console is coalesced (after KVMBOX_COALESCE_AFTER_DEFAULT console
	 * exits, fourteen a run): what a VM run again and again settles to. */
	for (unsigned i = 0; i < KVMBOX_COALESCE_AFTER_DEFAULT / 14 + 50; i++) {
		if (kvmbox_vm_reset(vm, NULL) < 0)
			BENCH_DIE("reset failed");
		run_halt(vm);
	}
	t0 = bench_now_ns();
	c0 = bench_cpu_ns();
	for (int i = 0; i < reps; i++) {
		uint64_t t1 = bench_now_ns(), c1 = bench_cpu_ns();
		uint32_t word = 0;

		if (kvmbox_vm_reset(vm, NULL) < 0)
			BENCH_DIE("reset failed");
		run_halt(vm);
		t[i] = (double)(bench_now_ns() - t1) / 1e3;
		c[i] = (double)(bench_cpu_ns() - c1) / 1e3;
		/* The hello contract, as `kvmbox run` checks it. */
		kvmbox_vm_read(vm, 0x400, &word, sizeof(word));
		if (kvmbox_vm_regs(vm)->rax != 42 || word != 42)
			BENCH_DIE("reset run %d: wrong result", i);
	}
	total = bench_now_ns() - t0;
	ctotal = bench_cpu_ns() - c0;
	snprintf(extra, sizeof(extra), "\"cycles_per_s\":%.6g,\"cpu_cycles_per_s\":%.6g",
		 (double)reps * 1e9 / (double)total, (double)reps * 1e9 / (double)ctotal);
	bench_emit2("kvmbox.reset_cycle", "us", t, c, (size_t)reps, extra);
	kvmbox_vm_destroy(vm);
	return 0;
}

static int64_t host_h(struct kvmbox_host_call *hc, void *ctx)
{
	(void)ctx;
	return (int64_t)kvmbox_host_call_arg(hc, 0) + 1;
}

/* The same three kinds of call as the floor's `call`, interleaved call by call; a sample is
 * one kvmbox_vm_call (the third with its reset). */
static int cmd_call(int reps)
{
#define KINDS 4
	static const char *const names[KINDS] = { "kvmbox.call.plain", "kvmbox.call.host",
						  "kvmbox.call.reset", "kvmbox.call.reset_fresh" };
	static const char *const fns[KINDS] = { "b_add", "b_host", "b_count", "b_count" };
	const struct kvmbox_call_arg args[KINDS][2] = {
		{ { .kind = KVMBOX_ARG_INT, .value = 40 }, { .kind = KVMBOX_ARG_INT, .value = 2 } },
		{ { .kind = KVMBOX_ARG_INT, .value = 41 } },
	};
	const unsigned nargs[KINDS] = { 2, 1, 0, 0 };
	const int64_t want[KINDS] = { 42, 42, 1, 1 };
	double *t[KINDS], *c[KINDS];
	struct kvmbox_error err;
	struct image_buf b;
	struct kvmbox_vm *vm[KINDS];

	load_image(&b, "test-bench_call-long.elf");
	for (int k = 0; k < KINDS; k++) {
		t[k] = bench_xcalloc((size_t)reps, sizeof(double));
		c[k] = bench_xcalloc((size_t)reps, sizeof(double));
		vm[k] = vm_new(&b, 0);
		if (k < 3)
			run_halt(vm[k]); /* main first, as an embedder's VM would */
		else if (kvmbox_vm_set_reset_point(vm[k], &err) < 0) /* registers only */
			BENCH_DIE("reset point: %s", err.msg);
		if (kvmbox_vm_host_fn(vm[k], "h", host_h, NULL, &err) < 0)
			BENCH_DIE("host function: %s", err.msg);
	}
	for (int i = -reps / 10; i < reps; i++) {
		for (int k = 0; k < KINDS; k++) {
			struct kvmbox_call_opts o = { .flags = k >= 2 ? KVMBOX_CALL_RESET : 0 };
			uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();
			struct kvmbox_result res;

			if (kvmbox_vm_call(vm[k], fns[k], args[k], nargs[k], &o, &res, &err) < 0)
				BENCH_DIE("%s: %s", fns[k], err.msg);
			if (i >= 0) {
				t[k][i] = (double)(bench_now_ns() - t0) / 1e3;
				c[k][i] = (double)(bench_cpu_ns() - c0) / 1e3;
			}
			if (res.stop != KVMBOX_STOP_RETURNED || res.value != want[k])
				BENCH_DIE("%s: %s, value %lld", fns[k], res.msg, (long long)res.value);
		}
	}
	for (int k = 0; k < KINDS; k++) {
		bench_emit2(names[k], "us", t[k], c[k], (size_t)reps, "");
		free(t[k]);
		free(c[k]);
		kvmbox_vm_destroy(vm[k]);
	}
	free(b.data);
	return 0;
#undef KINDS
}

static int cmd_rss(void)
{
	static const int counts[] = { 1, 100, 1000 };
	struct image_buf b;

	(void)bench_nofile_max(); /* the soft open-file limit up to the hard one */
	load_image(&b, "hello-long.elf");
	/* One VM first, so that libc's and the library's one-time allocations are not counted. */
	kvmbox_vm_destroy(vm_new(&b, 0));
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct kvmbox_vm **v = bench_xcalloc((size_t)counts[c], sizeof(*v));
		long before = bench_rss_kib(), after;
		char name[64];

		for (int i = 0; i < counts[c]; i++)
			v[i] = vm_new(&b, 0);
		after = bench_rss_kib();
		snprintf(name, sizeof(name), "kvmbox.rss_per_vm_%d", counts[c]);
		bench_emit1(name, "KiB", (double)(after - before) / counts[c], "");
		for (int i = 0; i < counts[c]; i++)
			kvmbox_vm_destroy(v[i]);
		free(v);
	}
	return 0;
}

static int cmd_many(int n, bool one_fd)
{
	struct kvmbox_sched_config sc = { .policy = KVMBOX_SCHED_RR };
	struct kvmbox_vm **v = bench_xcalloc((size_t)n, sizeof(*v));
	struct kvmbox_error err = { "" };
	struct kvmbox_sched *s;
	struct image_buf b;
	uint64_t t0, t1, t2, t3;
	long rss0, rss1, fds0, fds1;
	unsigned flags = 0;
	char name[64], extra[64];

	/* Two descriptors a VM when the limit allows, else one (as `kvmbox run` decides). */
	if (one_fd || bench_nofile_max() < 2L * n + 64)
		flags = KVMBOX_VM_ONE_FD;
	load_image(&b, "hello-long.elf");
	kvmbox_vm_destroy(vm_new(&b, flags)); /* one-time allocations are not the VMs' */
	rss0 = bench_rss_kib();
	fds0 = bench_fds();
	t0 = bench_now_ns();
	for (int i = 0; i < n; i++)
		v[i] = vm_new(&b, flags);
	t1 = bench_now_ns();
	rss1 = bench_rss_kib();
	fds1 = bench_fds();
	if (kvmbox_sched_create(&s, &sc, &err) < 0)
		BENCH_DIE("sched: %s", err.msg);
	for (int i = 0; i < n; i++)
		if (kvmbox_sched_add(s, v[i], 1, 0, &err) < 0)
			BENCH_DIE("sched add: %s", err.msg);
	t2 = bench_now_ns();
	if (kvmbox_sched_run(s, &err) < 0)
		BENCH_DIE("sched run: %s", err.msg);
	t3 = bench_now_ns();
	for (int i = 0; i < n; i++) {
		struct kvmbox_sched_vm_report r;

		kvmbox_sched_report(s, (unsigned)i, &r);
		if (r.status != KVMBOX_SCHED_HALTED || kvmbox_vm_regs(v[i])->rax != 42)
			BENCH_DIE("VM %d of %d: %s", i, n, r.message);
	}
	kvmbox_sched_destroy(s);
	t0 = t1 - t0;
	t1 = bench_now_ns();
	for (int i = 0; i < n; i++)
		kvmbox_vm_destroy(v[i]);
	t1 = bench_now_ns() - t1;
	snprintf(extra, sizeof(extra), "\"vms\":%d,\"one_fd\":%d", n, flags != 0);
#define MANY(what, unit, value)                                                       \
	do {                                                                          \
		snprintf(name, sizeof(name), "kvmbox.many_%d.%s", n, what);           \
		bench_emit1(name, unit, value, extra);                                \
	} while (0)
	MANY("create", "us", (double)t0 / 1e3 / n);
	MANY("run", "us", (double)(t3 - t2) / 1e3 / n);
	MANY("destroy", "us", (double)t1 / 1e3 / n);
	MANY("rss", "KiB", (double)(rss1 - rss0) / n);
	MANY("fds", "fds", (double)(fds1 - fds0) / n);
#undef MANY
	free(v);
	return 0;
}

/* ---- Snapshots ------------------------------------------------------------------------- */

/* R restores of the hello guest's snapshot, each timed from open() of the file to the
 * guest's first exit (its first console byte: KVMBOX_RUN_YIELD_ON_IO), then destroyed. */
static void snap_restores(const struct image_buf *hello, int reps, const char *dir)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	struct kvmbox_vm_config cfg = { .name = "bench", .console_fd = devnull };
	struct kvmbox_run_opts ro = { .flags = KVMBOX_RUN_YIELD_ON_IO };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct kvmbox_vm *vm = vm_new(hello, 0), *hold;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/hello.snap", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || kvmbox_vm_save(vm, fd, &err) < 0)
		BENCH_DIE("save %s: %s", path, err.msg);
	close(fd);
	kvmbox_vm_destroy(vm);
	hold = vm_new(hello, 0); /* another VM open, as for create-run-destroy */
	for (int i = -3; i < reps; i++) {
		uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();

		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || kvmbox_vm_restore(&vm, &cfg, fd, 0, &err) < 0)
			BENCH_DIE("restore: %s", err.msg);
		close(fd);
		if (kvmbox_vm_run(vm, &ro, &res) < 0 || res.stop != KVMBOX_STOP_YIELD)
			BENCH_DIE("restored run: %s", res.msg);
		if (i >= 0) {
			t[i] = (double)(bench_now_ns() - t0) / 1e3;
			c[i] = (double)(bench_cpu_ns() - c0) / 1e3;
		}
		kvmbox_vm_destroy(vm);
	}
	kvmbox_vm_destroy(hold);
	bench_emit2("kvmbox.snap.restore", "us", t, c, (size_t)reps, "");
	unlink(path);
	free(t);
	free(c);
}

/* F forks of a halted guest, all alive at once: the time of each kvmbox_vm_fork (the first
 * one also takes the template: reported apart), then each run to its end, and the anonymous
 * memory they cost together, per fork. */
static void snap_forks(int forks)
{
	double *t = bench_xcalloc((size_t)forks, sizeof(double));
	double *c = bench_xcalloc((size_t)forks, sizeof(double));
	struct kvmbox_vm **child = bench_xcalloc((size_t)forks, sizeof(*child));
	struct kvmbox_vm_config cfg = { .name = "fork", .console_fd = devnull };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct image_buf b;
	struct kvmbox_vm *parent;
	uint64_t t0, first;
	long rss0, rss1, rss2;
	char extra[96];

	load_image(&b, "test-snap_fork-long.elf");
	parent = vm_new(&b, 0);
	if (kvmbox_vm_run(parent, NULL, &res) < 0 || res.stop != KVMBOX_STOP_HALT)
		BENCH_DIE("parent: %s", res.msg);
	rss0 = bench_status_kib("RssAnon");
	t0 = bench_now_ns();
	if (kvmbox_vm_fork(parent, &cfg, &child[0], &err) < 0)
		BENCH_DIE("fork: %s", err.msg);
	first = bench_now_ns() - t0;
	for (int i = 1; i < forks; i++) {
		uint64_t t1 = bench_now_ns(), c1 = bench_cpu_ns();

		if (kvmbox_vm_fork(parent, &cfg, &child[i], &err) < 0)
			BENCH_DIE("fork %d: %s", i, err.msg);
		t[i - 1] = (double)(bench_now_ns() - t1) / 1e3;
		c[i - 1] = (double)(bench_cpu_ns() - c1) / 1e3;
	}
	rss1 = bench_status_kib("RssAnon");
	for (int i = 0; i < forks; i++)
		if (kvmbox_vm_run(child[i], NULL, &res) < 0 || res.stop != KVMBOX_STOP_HALT)
			BENCH_DIE("fork %d: %s", i, res.msg);
	rss2 = bench_status_kib("RssAnon");
	snprintf(extra, sizeof(extra), "\"forks\":%d,\"template_and_first_us\":%.6g", forks,
		 (double)first / 1e3);
	bench_emit2("kvmbox.snap.fork", "us", t, c, (size_t)forks - 1, extra);
	snprintf(extra, sizeof(extra), "\"forks\":%d,\"pages_written\":16", forks);
	bench_emit1("kvmbox.snap.fork_rss", "KiB", (double)(rss2 - rss0) / forks, extra);
	bench_emit1("kvmbox.snap.fork_rss_unrun", "KiB", (double)(rss1 - rss0) / forks, extra);
	for (int i = 0; i < forks; i++)
		kvmbox_vm_destroy(child[i]);
	kvmbox_vm_destroy(parent);
	free(child);
	free(t);
	free(c);
	free(b.data);
}

/* R saves of a 64 MiB VM whose memory holds 32 MiB of non-zero pages (written by the host
 * before the first run, every other 64 KiB), per MiB the file holds. */
static void snap_saves(const struct image_buf *hello, int reps, const char *dir)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	struct kvmbox_vm_config cfg = { .name = "bench", .mode = KVMBOX_MODE_LONG,
					.mem_size = 64u << 20, .console_fd = devnull };
	struct kvmbox_error err = { "" };
	static uint8_t chunk[64 << 10];
	struct kvmbox_vm *vm;
	struct stat st;
	char path[512], extra[64];
	double mib = 0;
	int fd;

	memset(chunk, 0x5a, sizeof(chunk));
	if (kvmbox_vm_create(&vm, &cfg, &err) < 0 || kvmbox_vm_load(vm, &hello->img, &err) < 0)
		BENCH_DIE("create: %s", err.msg);
	for (uint64_t a = 1u << 20; a + sizeof(chunk) <= (62u << 20); a += 2 * sizeof(chunk))
		if (kvmbox_vm_write(vm, a, chunk, sizeof(chunk)) < 0)
			BENCH_DIE("write");
	snprintf(path, sizeof(path), "%s/big.snap", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		BENCH_DIE("%s: cannot open", path);
	for (int i = -2; i < reps; i++) {
		uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();

		if (kvmbox_vm_save(vm, fd, &err) < 0)
			BENCH_DIE("save: %s", err.msg);
		if (i >= 0) {
			t[i] = (double)(bench_now_ns() - t0) / 1e3;
			c[i] = (double)(bench_cpu_ns() - c0) / 1e3;
		}
	}
	if (fstat(fd, &st) == 0)
		mib = (double)st.st_size / (1 << 20);
	for (int i = 0; i < reps; i++) {
		t[i] /= mib;
		c[i] /= mib;
	}
	snprintf(extra, sizeof(extra), "\"file_mib\":%.4g,\"mem_mib\":64", mib);
	bench_emit2("kvmbox.snap.save_per_mib", "us", t, c, (size_t)reps, extra);
	close(fd);
	unlink(path);
	kvmbox_vm_destroy(vm);
	free(t);
	free(c);
}

static int cmd_snap(int reps, int forks, const char *dir)
{
	struct image_buf hello;

	(void)bench_nofile_max(); /* the soft open-file limit up to the hard one */
	load_image(&hello, "hello-long.elf");
	snap_restores(&hello, reps, dir);
	snap_forks(forks);
	snap_saves(&hello, reps > 50 ? 50 : reps, dir);
	free(hello.data);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	bench_require_kvm();
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!strcmp(cmd, "hc"))
		return cmd_hc(bench_arg_int(argc, argv, 2, 200), bench_arg_int(argc, argv, 3, 500));
	if (!strcmp(cmd, "console"))
		return cmd_console(bench_arg_int(argc, argv, 2, 50), bench_arg_int(argc, argv, 3, 20000));
	if (!strcmp(cmd, "phases"))
		return cmd_phases(bench_arg_int(argc, argv, 2, 50));
	if (!strcmp(cmd, "crd"))
		return cmd_crd(bench_arg_int(argc, argv, 2, 50));
	if (!strcmp(cmd, "reset"))
		return cmd_reset(bench_arg_int(argc, argv, 2, 20000));
	if (!strcmp(cmd, "call"))
		return cmd_call(bench_arg_int(argc, argv, 2, 2000));
	if (!strcmp(cmd, "rss"))
		return cmd_rss();
	if (!strcmp(cmd, "snap") && argc > 4 && atoi(argv[2]) > 0 && atoi(argv[3]) > 1)
		return cmd_snap(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (!strcmp(cmd, "many") && argc > 2 && atoi(argv[2]) > 0)
		return cmd_many(atoi(argv[2]), argc > 3 && !strcmp(argv[3], "one-fd"));
	fprintf(stderr, "usage: kvmbox_bench hc R N|console R N|phases R|crd R|reset R|call R|rss|"
			"many N [one-fd]|snap R F DIR\n");
	return 2;
}
