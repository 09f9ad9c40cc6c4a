/* Several VMs on one thread (include/kvmbox/sched.h): each policy's behaviour, channels under
 * random schedules, one VM's crash, deadlock detection, the JSON report. Timing bounds are
 * loose on purpose (CI has 2 cores); bench/sched_bench.c measures the precise figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/matrix.h"
#include "kvmbox/sched.h"
#include "harness.h"

#define MS 1000000ull
#define MAX_VMS 4
#define PORT_LOG_MAX 20000

struct world;

struct console_ctx {
	struct world *w;
	unsigned i;
};

/* Everything one test's VMs share: consoles and the log of Matrix-port writes, in order. */
struct world {
	struct console_ctx ctx[MAX_VMS];
	struct kvmbox_sched *s;
	struct kvmbox_vm *vm[MAX_VMS];
	unsigned n;
	char out[MAX_VMS][OUT_MAX];
	size_t out_len[MAX_VMS];
	uint16_t port[PORT_LOG_MAX];
	uint32_t value[PORT_LOG_MAX];
	size_t nports;
	volatile int cancel;   /* the run's cancel flag (world_new_cancellable) */
	size_t cancel_after;   /* set it once VM 0 has printed this many bytes (0: never) */
	unsigned sink_calls0;  /* console deliveries of VM 0: at least one per quantum it printed in */
	unsigned calls_at_cancel; /* sink_calls0 when the flag was set */
};

static void capture(void *ctx, const char *buf, size_t len)
{
	struct console_ctx *c = ctx;
	size_t room = OUT_MAX - 1 - c->w->out_len[c->i];

	if (len > room)
		len = room;
	memcpy(c->w->out[c->i] + c->w->out_len[c->i], buf, len);
	c->w->out_len[c->i] += len;
	c->w->out[c->i][c->w->out_len[c->i]] = 0;
	if (c->i == 0)
		c->w->sink_calls0++;
	if (c->w->cancel_after && c->i == 0 && c->w->out_len[0] >= c->w->cancel_after &&
	    !c->w->cancel) {
		c->w->cancel = 1; /* as a signal handler or a console writer that lost its reader */
		c->w->calls_at_cancel = c->w->sink_calls0;
	}
}

static void port_log(void *ctx, uint16_t port, bool out, uint32_t *value, unsigned size)
{
	struct world *w = ((struct console_ctx *)ctx)->w;

	(void)size;
	if (out && w->nports < PORT_LOG_MAX) {
		w->port[w->nports] = port;
		w->value[w->nports++] = *value;
	}
}

static struct world *world_new(const struct kvmbox_sched_config *cfg)
{
	struct world *w = calloc(1, sizeof(*w));
	struct kvmbox_error err = { "" };

	assert_non_null(w);
	if (kvmbox_sched_create(&w->s, cfg, &err) < 0)
		fail_msg("kvmbox_sched_create: %s", err.msg);
	return w;
}

/* A world whose scheduler ends the run when w->cancel is set. */
static struct world *world_new_cancellable(const struct kvmbox_sched_config *cfg)
{
	struct world *w = calloc(1, sizeof(*w));
	struct kvmbox_sched_config c = *cfg;
	struct kvmbox_error err = { "" };

	assert_non_null(w);
	c.cancel = &w->cancel;
	if (kvmbox_sched_create(&w->s, &c, &err) < 0)
		fail_msg("kvmbox_sched_create: %s", err.msg);
	return w;
}

/* Add build/guests/PREFIX-MODE.elf as the next VM. */
static void world_add(struct world *w, const char *name, const char *prefix, enum kvmbox_mode mode,
		      unsigned share, uint64_t timeout_ns)
{
	struct kvmbox_vm_config cfg = {
		.name = name,
		.mode = mode,
		.console = capture,
		.console_ctx = &w->ctx[w->n],
		.user_port_first = KVMBOX_PORT_MATRIX_FIRST,
		.user_port_count = KVMBOX_PORT_MATRIX_COUNT,
		.user_port = port_log,
		.user_port_ctx = &w->ctx[w->n],
	};
	struct kvmbox_error err = { "" };
	const char *path = guest_image(prefix, mode);
	struct kvmbox_image img;
	uint8_t *data;
	size_t size;

	skip_unless_host_runs(mode);
	assert_true(w->n < MAX_VMS);
	w->ctx[w->n] = (struct console_ctx){ .w = w, .i = w->n };
	if (kvmbox_image_read_file(path, &data, &size, &err) < 0)
		fail_msg("%s", err.msg);
	if (kvmbox_image_parse(&img, data, size, false, 0, 0, &err) < 0 ||
	    kvmbox_vm_create(&w->vm[w->n], &cfg, &err) < 0 ||
	    kvmbox_vm_load(w->vm[w->n], &img, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	free(data);
	assert_int_equal(kvmbox_sched_add(w->s, w->vm[w->n], share, timeout_ns, &err), (int)w->n);
	w->n++;
}

static void world_run(struct world *w)
{
	struct kvmbox_error err = { "" };

	if (kvmbox_sched_run(w->s, &err) < 0)
		fail_msg("kvmbox_sched_run: %s", err.msg);
}

static struct kvmbox_sched_vm_report report(struct world *w, unsigned i)
{
	struct kvmbox_sched_vm_report r;

	assert_int_equal(kvmbox_sched_report(w->s, i, &r), 0);
	return r;
}

static void world_free(struct world *w)
{
	unsigned i;

	kvmbox_sched_destroy(w->s);
	for (i = 0; i < w->n; i++)
		kvmbox_vm_destroy(w->vm[i]);
	free(w);
}

/* io: Neo and Morpheus write 0x10/0x11 in strict alternation, each its own counter
 * (Neo 0, 1, 2 ...; Morpheus 0, 0xffff, 0xfffe ...). The quantum is only a backstop here;
 * a long one keeps a host stall from preempting a VM between two of its writes. */
static void test_io_alternates_strictly(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_IO, .quantum_ns = 1000 * MS,
					   .duration_ns = 200 * MS };
	struct world *w = world_new(&cfg);
	uint32_t next[2] = { 0, 0 };
	size_t k;

	(void)state;
	world_add(w, "neo", "neo", KVMBOX_MODE_REAL, 1, 0);
	world_add(w, "morpheus", "morpheus", KVMBOX_MODE_REAL, 1, 0);
	world_run(w);
	assert_true(w->nports > 100);
	for (k = 0; k < w->nports; k++) {
		unsigned who = (unsigned)(k % 2);

		assert_int_equal(w->port[k], who ? KVMBOX_PORT_MORPHEUS : KVMBOX_PORT_NEO);
		assert_int_equal(w->value[k], next[who] & 0xffff);
		next[who] += who ? 0xffffu : 1u; /* dec / inc of a 16-bit ax */
	}
	assert_int_equal(report(w, 0).status, KVMBOX_SCHED_STOPPED);
	assert_int_equal(report(w, 1).status, KVMBOX_SCHED_STOPPED);
	world_free(w);
}

/* rr: two VMs that never exit both get the CPU, in roughly equal parts. */
static void test_rr_compute_vms_both_progress(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_RR, .quantum_ns = 5 * MS,
					   .duration_ns = 400 * MS };
	struct world *w = world_new(&cfg);
	struct kvmbox_sched_vm_report a, b;

	(void)state;
	world_add(w, "neo", "neo-spin", KVMBOX_MODE_REAL, 1, 0);
	world_add(w, "morpheus", "morpheus-spin", KVMBOX_MODE_REAL, 1, 0);
	world_run(w);
	a = report(w, 0);
	b = report(w, 1);
	assert_true(a.cpu_ns > 0 && b.cpu_ns > 0);
	assert_true(a.quanta >= 5 && b.quanta >= 5);
	assert_true(a.preemptions >= 4 && b.preemptions >= 4);
	assert_true(a.share_achieved > 0.3 && a.share_achieved < 0.7);
	world_free(w);
}

/* share: 70/30 by measured guest time lands within a loose bound. */
static void test_share_70_30(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SHARE, .quantum_ns = 10 * MS,
					   .duration_ns = 1000 * MS };
	struct world *w = world_new(&cfg);
	struct kvmbox_sched_vm_report neo;

	(void)state;
	world_add(w, "neo", "neo-spin", KVMBOX_MODE_REAL, 70, 0);
	world_add(w, "morpheus", "morpheus-spin", KVMBOX_MODE_REAL, 30, 0);
	world_run(w);
	neo = report(w, 0);
	print_message("neo achieved %.1f%% (asked 70%%)\n", 100 * neo.share_achieved);
	assert_true(neo.share_asked > 0.699 && neo.share_asked < 0.701);
	assert_true(neo.share_achieved > 0.6 && neo.share_achieved < 0.8);
	world_free(w);
}

/* A random schedule of '1'/'2' from SEED (xorshift; reproducible). */
static void random_script(char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)('1' + (x >> 7) % 2);
	}
	buf[len - 1] = 0;
}

/* Channels deliver every value once and in order (the consumer asserts it) whatever the
 * schedule: random scripts, a switch at every I/O exit, small capacities so both sides wait. */
static void test_channels_in_order_under_random_schedules(void **state)
{
	uint32_t seed;

	(void)state;
	for (seed = 1; seed <= 6; seed++) {
		char script[97];
		struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SCRIPT, .script = script,
						   .quantum_ns = 1 * MS, .yield_on_io = seed % 2 };
		struct world *w;
		struct kvmbox_chan_stats cs;

		random_script(script, sizeof(script), seed);
		w = world_new(&cfg);
		assert_int_equal(kvmbox_chan_hub_set_capacity(kvmbox_sched_hub(w->s), 0, 1 + seed % 4, NULL), 0);
		world_add(w, "producer", "producer", seed % 3 ? KVMBOX_MODE_LONG : KVMBOX_MODE_REAL, 1,
			  10000 * MS);
		world_add(w, "consumer", "consumer", KVMBOX_MODE_PROTECTED, 1, 10000 * MS);
		world_run(w);
		if (report(w, 1).status != KVMBOX_SCHED_HALTED)
			fail_msg("seed %u: consumer: %s", seed, report(w, 1).message);
		assert_int_equal(report(w, 0).status, KVMBOX_SCHED_HALTED);
		assert_string_equal(w->out[1], "received 1000 values, sum 500500\n");
		assert_int_equal(kvmbox_chan_hub_stats(kvmbox_sched_hub(w->s), 0, &cs, NULL), 0);
		assert_int_equal(cs.sent, 1000);
		assert_int_equal(cs.received, 1000);
		assert_int_equal(cs.queued, 0);
		assert_true(cs.send_blocks + cs.recv_blocks > 0);
		world_free(w);
	}
}

/* Arrays (1 KiB records) between protected-mode C guests arrive whole. */
static void test_channel_arrays(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_IO };
	struct world *w = world_new(&cfg);

	(void)state;
	world_add(w, "array-producer", "array-producer", KVMBOX_MODE_PROTECTED, 1, 10000 * MS);
	world_add(w, "array-consumer", "array-consumer", KVMBOX_MODE_PROTECTED, 1, 10000 * MS);
	world_run(w);
	assert_int_equal(report(w, 0).status, KVMBOX_SCHED_HALTED);
	if (report(w, 1).status != KVMBOX_SCHED_HALTED)
		fail_msg("consumer: %s", report(w, 1).message);
	/* sum over k<50, j<256 of k*100000 + j */
	assert_string_equal(w->out[1], "received 50 arrays, checksum 1296860928\n");
	world_free(w);
}

/* The bounded buffer of 20 driven by a schedule: every item arrives, in order. */
static void test_bounded_buffer_schedule(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SCRIPT, .script = "112 # a comment\n",
					   .quantum_ns = 1 * MS };
	struct world *w = world_new(&cfg);
	struct kvmbox_chan_stats cs;

	(void)state;
	assert_int_equal(kvmbox_chan_hub_set_capacity(kvmbox_sched_hub(w->s), 2, 20, NULL), 0);
	world_add(w, "producer", "bbuf-producer", KVMBOX_MODE_PROTECTED, 1, 10000 * MS);
	world_add(w, "consumer", "bbuf-consumer", KVMBOX_MODE_PROTECTED, 1, 10000 * MS);
	world_run(w);
	assert_int_equal(report(w, 0).status, KVMBOX_SCHED_HALTED);
	assert_int_equal(report(w, 1).status, KVMBOX_SCHED_HALTED);
	assert_non_null(strstr(w->out[1], "consumed 100\n"));
	assert_int_equal(kvmbox_chan_hub_stats(kvmbox_sched_hub(w->s), 2, &cs, NULL), 0);
	assert_int_equal(cs.capacity, 20);
	assert_int_equal(cs.received, 100);
	world_free(w);
}

/* The script decides who runs each quantum. */
static void test_script_order(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SCRIPT, .script = "1 1 2 1",
					   .quantum_ns = 1 * MS, .duration_ns = 60 * MS };
	struct world *w = world_new(&cfg);
	const uint16_t *picks;
	size_t n, k;

	(void)state;
	world_add(w, "neo", "neo-spin", KVMBOX_MODE_REAL, 1, 0);
	world_add(w, "morpheus", "morpheus-spin", KVMBOX_MODE_REAL, 1, 0);
	assert_int_equal(kvmbox_sched_record(w->s, 1000), 0);
	world_run(w);
	n = kvmbox_sched_picks(w->s, &picks);
	assert_true(n >= 8);
	for (k = 0; k < n; k++)
		assert_int_equal(picks[k], k % 4 == 2 ? 1 : 0);
	world_free(w);
}

/* One VM's triple fault stops it alone: the others run to their halt. */
static void test_crash_leaves_others_running(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_RR, .quantum_ns = 1 * MS };
	struct world *w = world_new(&cfg);
	struct kvmbox_sched_vm_report t;

	(void)state;
	world_add(w, "producer", "producer", KVMBOX_MODE_LONG, 1, 10000 * MS);
	world_add(w, "crash", "test-triple", KVMBOX_MODE_LONG, 1, 10000 * MS);
	world_add(w, "consumer", "consumer", KVMBOX_MODE_LONG, 1, 10000 * MS);
	world_run(w);
	t = report(w, 1);
	assert_int_equal(t.status, KVMBOX_SCHED_FAULT);
	assert_non_null(strstr(t.message, "KVM_EXIT_SHUTDOWN"));
	assert_int_equal(report(w, 0).status, KVMBOX_SCHED_HALTED);
	assert_int_equal(report(w, 2).status, KVMBOX_SCHED_HALTED);
	assert_string_equal(w->out[2], "received 1000 values, sum 500500\n");
	assert_false(kvmbox_sched_deadlocked(w->s));
	world_free(w);
}

/* A VM past its own timeout stops alone; a VM that halts is unaffected. */
static void test_timeout_stops_one_vm(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_RR, .quantum_ns = 2 * MS };
	struct world *w = world_new(&cfg);

	(void)state;
	world_add(w, "neo", "neo-spin", KVMBOX_MODE_REAL, 1, 100 * MS);
	world_add(w, "hello", "hello", KVMBOX_MODE_LONG, 1, 0);
	world_run(w);
	assert_int_equal(report(w, 0).status, KVMBOX_SCHED_TIMEOUT);
	assert_int_equal(report(w, 1).status, KVMBOX_SCHED_HALTED);
	assert_string_equal(w->out[1], "Hello, world!\n");
	world_free(w);
}

/* The cancel flag, set while a VM runs (here by its console sink), ends that VM's run at
 * once and every other VM at the next pick: all end as CANCELLED, none is run again. */
static void test_cancel_ends_every_vm(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_RR, .quantum_ns = 5 * MS };
	struct world *w = world_new_cancellable(&cfg);
	struct kvmbox_sched_vm_report a, b;

	(void)state;
	w->cancel_after = 64;
	world_add(w, "chatter", "test-chatter", KVMBOX_MODE_LONG, 1, 10000 * MS);
	world_add(w, "neo", "neo-spin", KVMBOX_MODE_LONG, 1, 10000 * MS);
	world_run(w);
	a = report(w, 0);
	b = report(w, 1);
	assert_int_equal(a.status, KVMBOX_SCHED_CANCELLED);
	assert_int_equal(b.status, KVMBOX_SCHED_CANCELLED);
	assert_string_equal(kvmbox_sched_status_name(a.status), "cancelled");
	assert_true(w->out_len[0] >= 64);
	/* The flag was seen at once: no VM got a quantum after the one in which it was set. How
	 * many quanta the chatter needed to print 64 bytes depends on the host's speed (the QEMU
	 * lane emulates every instruction), so the bound counts from the quantum that set it: the
	 * console is delivered at least once per quantum the chatter printed in, and the spinner
	 * never runs ahead of the chatter under round robin. */
	assert_true(w->calls_at_cancel >= 1);
	assert_true(a.quanta <= w->calls_at_cancel + 1);
	assert_true(b.quanta <= a.quanta);
	world_free(w);
}

/* Two consumers and no producer: reported as a deadlock at once, not spun on. */
static void test_deadlock_reported(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_RR };
	struct world *w = world_new(&cfg);
	struct kvmbox_sched_vm_report r;
	unsigned i;

	(void)state;
	world_add(w, "c1", "consumer", KVMBOX_MODE_LONG, 1, 0);
	world_add(w, "c2", "consumer", KVMBOX_MODE_LONG, 1, 0);
	world_run(w);
	assert_true(kvmbox_sched_deadlocked(w->s));
	for (i = 0; i < 2; i++) {
		r = report(w, i);
		assert_int_equal(r.status, KVMBOX_SCHED_DEADLOCK);
		assert_non_null(strstr(r.message, "receive from channel 0"));
		assert_true(r.quanta <= 2);
	}
	world_free(w);
}

/* A simple scan of JSON: balanced brackets outside strings. */
static void assert_balanced(const char *j)
{
	int depth = 0;
	bool str = false;

	for (; *j; j++) {
		if (str) {
			if (*j == '\\')
				j++;
			else if (*j == '"')
				str = false;
		} else if (*j == '"') {
			str = true;
		} else if (*j == '{' || *j == '[') {
			depth++;
		} else if (*j == '}' || *j == ']') {
			assert_true(--depth >= 0);
		}
	}
	assert_false(str);
	assert_int_equal(depth, 0);
}

/* --stats-json and --trace-out parse, with the documented keys. */
static void test_json_outputs(void **state)
{
	static const char *const keys[] = {
		"{\"policy\":\"share\"", "\"vms\":[", "\"name\":\"neo\"", "\"name\":\"morpheus\"",
		"\"cpu_ns\":", "\"share_asked\":0.7", "\"share_achieved\":", "\"quanta\":",
		"\"exits\":{\"total\":", "\"io\":", "\"preempt_latency_ns\":{\"p50\":", "\"p99\":",
		"\"status\":\"stopped\"", "\"channels\":[",
	};
	char *json = NULL, *trace = NULL;
	size_t jlen = 0, tlen = 0, k;
	FILE *tf = open_memstream(&trace, &tlen), *jf;
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SHARE, .quantum_ns = 2 * MS,
					   .duration_ns = 50 * MS, .trace = tf };
	struct world *w = world_new(&cfg);

	(void)state;
	world_add(w, "neo", "neo", KVMBOX_MODE_REAL, 7, 0);
	world_add(w, "morpheus", "morpheus", KVMBOX_MODE_REAL, 3, 0);
	world_run(w);
	jf = open_memstream(&json, &jlen);
	assert_int_equal(kvmbox_sched_write_json(w->s, jf), 0);
	fclose(jf);
	fclose(tf);
	assert_balanced(json);
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strstr(json, keys[k]))
			fail_msg("no %s in %s", keys[k], json);
	assert_balanced(trace);
	assert_non_null(strstr(trace, "\"traceEvents\":["));
	assert_non_null(strstr(trace, "\"ph\":\"X\""));
	assert_non_null(strstr(trace, "\"thread_name\""));
	free(json);
	free(trace);
	world_free(w);
}

/* Library contracts: bad arguments are refused, not crashed on. */
static void test_refusals(void **state)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SCRIPT, .script = "x1" };
	struct kvmbox_error err = { "" };
	struct kvmbox_sched *s = NULL;
	struct kvmbox_chan_hub *hub;

	(void)state;
	assert_int_equal(kvmbox_sched_create(&s, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'x'"));
	cfg.script = "# only a comment 1\n";
	assert_int_equal(kvmbox_sched_create(&s, &cfg, &err), -EINVAL);
	cfg.policy = KVMBOX_SCHED_RR;
	assert_int_equal(kvmbox_sched_create(&s, &cfg, &err), 0);
	assert_int_equal(kvmbox_sched_run(s, &err), -EINVAL); /* no VM */
	hub = kvmbox_sched_hub(s);
	assert_int_equal(kvmbox_chan_hub_set_capacity(hub, KVMBOX_CHAN_MAX, 4, NULL), -EINVAL);
	assert_int_equal(kvmbox_chan_hub_set_capacity(hub, 0, 0, NULL), -EINVAL);
	assert_int_equal(kvmbox_chan_hub_set_capacity(hub, 0, 4, NULL), 0);
	kvmbox_sched_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_alternates_strictly),
		cmocka_unit_test(test_rr_compute_vms_both_progress),
		cmocka_unit_test(test_share_70_30),
		cmocka_unit_test(test_channels_in_order_under_random_schedules),
		cmocka_unit_test(test_channel_arrays),
		cmocka_unit_test(test_bounded_buffer_schedule),
		cmocka_unit_test(test_script_order),
		cmocka_unit_test(test_crash_leaves_others_running),
		cmocka_unit_test(test_timeout_stops_one_vm),
		cmocka_unit_test(test_deadlock_reported),
		cmocka_unit_test(test_cancel_ends_every_vm),
		cmocka_unit_test(test_json_outputs),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
