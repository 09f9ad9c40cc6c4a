/* Option parsing of `kvmbox run`: one model for one VM and several; values accepted,
 * refused, and how the per-VM options combine with --vm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../cli/opts.h"
#include "../../cli/status.h"

static struct run_opts *o;
static char err[256];

static int setup(void **state)
{
	(void)state;
	o = calloc(1, sizeof(*o));
	return o ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	run_opts_free(o);
	free(o);
	return 0;
}

static int parse(const char *const *args)
{
	char *argv[32] = { "kvmbox" };
	int argc = 1;

	while (*args)
		argv[argc++] = (char *)*args++;
	run_opts_free(o);
	err[0] = 0;
	return run_parse(argc, argv, o, err, sizeof(err));
}

#define PARSE(...) parse((const char *const[]){ __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("run"), 0);
	assert_int_equal(o->nvms, 1);
	assert_false(o->several);
	assert_false(run_is_scheduled(o));
	assert_int_equal(o->vms[0].mode, KVMBOX_MODE_AUTO);
	assert_null(o->vms[0].image);
	assert_string_equal(o->vms[0].name, "hello");
	assert_false(o->vms[0].flat);
	assert_int_equal(o->vms[0].mem, 0);
	assert_int_equal(o->vms[0].weight, 1);
	assert_int_equal(o->repeat, 1);
	assert_int_equal(PARSE("run", "dir/a b.elf"), 0);
	assert_string_equal(o->vms[0].name, "a_b.elf"); /* a valid VM name from the file name */
}

static void test_modes_and_short_flags(void **state)
{
	static const struct { const char *flag; enum kvmbox_mode mode; } cases[] = {
		{ "-r", KVMBOX_MODE_REAL }, { "-p", KVMBOX_MODE_PAGED32 }, { "-l", KVMBOX_MODE_LONG },
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(PARSE("run", cases[i].flag), 0);
		assert_int_equal(o->vms[0].mode, cases[i].mode);
		assert_int_equal(PARSE("run", "--mode", kvmbox_mode_name(cases[i].mode)), 0);
		assert_int_equal(o->vms[0].mode, cases[i].mode);
	}
	/* The same mode twice is fine; two different ones are not. */
	assert_int_equal(PARSE("-l", "-m", "long"), 0);
	assert_int_equal(PARSE("-l", "-r"), -1);
	assert_non_null(strstr(err, "conflicting"));
	assert_int_equal(PARSE("-m", "auto"), -1);
	assert_int_equal(PARSE("-m"), -1);
	assert_non_null(strstr(err, "needs a value"));
}

/* -s is QEMU's gdb server now (no longer protected mode); -S waits for gdb; --gdb SPEC. */
static void test_gdb_options(void **state)
{
	(void)state;
	assert_int_equal(PARSE("run", "-s", "g.elf"), 0);
	assert_string_equal(o->vms[0].gdb, "tcp:127.0.0.1:1234");
	assert_false(o->vms[0].gdb_wait);
	assert_int_equal(o->vms[0].mode, KVMBOX_MODE_AUTO); /* not protected mode any more */
	assert_int_equal(PARSE("run", "-S", "g.elf"), 0);
	assert_string_equal(o->vms[0].gdb, "tcp:127.0.0.1:1234");
	assert_true(o->vms[0].gdb_wait);
	assert_int_equal(PARSE("run", "-S", "--gdb", "unix:/tmp/x", "g.elf"), 0);
	assert_string_equal(o->vms[0].gdb, "unix:/tmp/x");
	assert_int_equal(PARSE("run", "--gdb", "1234", "g.elf"), -1);
	assert_non_null(strstr(err, "tcp:[HOST:]PORT"));
	assert_int_equal(PARSE("run", "--vm", "a=x.elf,gdb=tcp:1234", "--vm", "b=y.elf"), -1);
	assert_non_null(strstr(err, "gdb debugs a VM run alone"));
	assert_int_equal(PARSE("run", "-s", "--vm", "a=x.elf"), -1);
	assert_int_equal(PARSE("run", "-s", "--repeat", "2", "g.elf"), -1);
	assert_non_null(strstr(err, "--repeat"));
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(cli_parse_u64("0x1000", &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(cli_parse_u64("2M", &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(cli_parse_u64("1G", &v), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(cli_parse_u64("64k", &v), 0);
	assert_int_equal(v, 64 << 10);
	assert_int_equal(cli_parse_u64("", &v), -1);
	assert_int_equal(cli_parse_u64("-1", &v), -1);
	assert_int_equal(cli_parse_u64("12Q", &v), -1);
	assert_int_equal(cli_parse_u64("99999999999999999999", &v), -1);
	assert_int_equal(cli_parse_u64("17179869184G", &v), -1); /* overflows when shifted */
	assert_int_equal(cli_parse_u64("\t-1", &v), -1);            /* no blanks or signs */
	assert_int_equal(cli_parse_u64(" 5", &v), -1);
	assert_int_equal(cli_parse_u64("010M", &v), 0);             /* decimal, not octal */
	assert_int_equal(v, 10 << 20);
	assert_int_equal(cli_parse_u64("0X10", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(PARSE("--mem", "1G"), 0);
	assert_int_equal(o->vms[0].mem, 1 << 30);
	assert_int_equal(PARSE("--mem", "4G"), -1);
	assert_int_equal(PARSE("--mem", "100K"), -1);
	assert_int_equal(PARSE("--mem", "1000001"), -1);
}

static void test_flat_load_and_entry(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--load", "0x2000", "img.bin"), 0);
	assert_true(o->vms[0].flat);
	assert_int_equal(o->vms[0].load, 0x2000);
	assert_int_equal(o->vms[0].entry, 0x2000); /* the entry defaults to the load address */
	assert_string_equal(o->vms[0].image, "img.bin");
	assert_int_equal(PARSE("--load", "0", "--entry", "0x10", "img.bin"), 0);
	assert_int_equal(o->vms[0].entry, 0x10);
	assert_int_equal(PARSE("--entry", "0x10", "img.bin"), -1);
	assert_non_null(strstr(err, "--load"));
	assert_int_equal(PARSE("--load", "0"), -1);
}

static void test_timeout_values(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--timeout", "1.5"), 0);
	assert_true(o->vms[0].timeout > 1.49 && o->vms[0].timeout < 1.51);
	assert_int_equal(PARSE("--timeout", "0"), -1);
	assert_int_equal(PARSE("--timeout", "nan"), -1);
	assert_int_equal(PARSE("--timeout", "inf"), -1);
	assert_int_equal(PARSE("--timeout", "3s"), -1);
}

/* --share DIR, DIR:ro and DIR:rw, on the command line and in --vm alike. */
static void test_share_suffixes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--regs", "--stats", "--strict", "-vv", "--trace",
			       "--share", "/srv/data:ro", "x.elf"), 0);
	assert_true(o->vms[0].regs && o->vms[0].stats && o->vms[0].strict && o->vms[0].trace);
	assert_int_equal(o->verbosity, 2);
	assert_string_equal(o->vms[0].share, "/srv/data");
	assert_true(o->vms[0].share_ro);
	assert_int_equal(PARSE("--share", "/srv/data:rw"), 0);
	assert_string_equal(o->vms[0].share, "/srv/data");
	assert_false(o->vms[0].share_ro);
	assert_int_equal(PARSE("--share", "/srv/data"), 0);
	assert_false(o->vms[0].share_ro);
	assert_int_equal(PARSE("--share", ":ro"), -1);
	assert_int_equal(PARSE("--vm", "a=x.elf,share=/srv:ro", "--vm", "b=y.elf,share=/tmp:rw"), 0);
	assert_string_equal(o->vms[0].share, "/srv");
	assert_true(o->vms[0].share_ro);
	assert_string_equal(o->vms[1].share, "/tmp");
	assert_false(o->vms[1].share_ro);
}

/* Every per-VM option works in --vm; the command line's are the defaults of each --vm. */
/* --trace, --explain and --trace-file are per VM: defaults on the command line, keys in --vm;
 * the log level follows (-v alone INFO, trace TRACE, trace-file implies trace, explain above). */
static void test_trace_options_per_vm(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--trace-file", "t.log", "x.elf"), 0);
	assert_string_equal(o->vms[0].trace_file, "t.log");
	assert_int_equal(cli_log_level(0, &o->vms[0]), KVMBOX_LOG_TRACE);
	assert_int_equal(PARSE("-v", "x.elf"), 0);
	assert_int_equal(cli_log_level(o->verbosity, &o->vms[0]), KVMBOX_LOG_INFO);
	assert_int_equal(cli_log_level(o->verbosity, NULL), KVMBOX_LOG_INFO);
	assert_int_equal(PARSE("--explain", "--trace-file", "all.log", "--vm", "a=x.elf,trace-file=a.log",
			       "--vm", "b=y.elf"), 0);
	assert_string_equal(o->vms[0].trace_file, "a.log");
	assert_string_equal(o->vms[1].trace_file, "all.log");
	assert_true(o->vms[0].explain && o->vms[1].explain);
	assert_int_equal(cli_log_level(0, &o->vms[1]), KVMBOX_LOG_EXPLAIN);
	assert_int_equal(PARSE("--vm", "a=x.elf,trace", "--vm", "b=y.elf"), 0);
	assert_true(o->vms[0].trace && !o->vms[1].trace);
	assert_int_equal(cli_log_level(0, &o->vms[1]), KVMBOX_LOG_WARN);
	assert_int_equal(PARSE("--vm", "a=x.elf,trace=1"), -1);
	assert_non_null(strstr(err, "takes no value"));
	assert_int_equal(PARSE("--vm", "a=x.elf,trace-file"), -1);
	assert_int_equal(PARSE("--trace-file"), -1);
}

static void test_per_vm_options_in_both_forms(void **state)
{
	const struct vm_opts *a, *b;

	(void)state;
	assert_int_equal(PARSE("--mem", "4M", "--timeout", "2", "--strict",
			       "--vm", "a=x.bin,mode=real,load=0x1000,entry=0x1004,mem=8M,regs,stats,weight=7,"
			       "out=a.txt,timeout=1,no-coalesce",
			       "--vm", "b=y.elf"), 0);
	assert_true(o->several);
	assert_true(run_is_scheduled(o));
	assert_int_equal(o->nvms, 2);
	a = &o->vms[0];
	b = &o->vms[1];
	assert_string_equal(a->name, "a");
	assert_string_equal(a->image, "x.bin");
	assert_int_equal(a->mode, KVMBOX_MODE_REAL);
	assert_true(a->flat);
	assert_int_equal(a->load, 0x1000);
	assert_int_equal(a->entry, 0x1004);
	assert_int_equal(a->mem, 8 << 20);
	assert_true(a->regs && a->stats && a->no_coalesce && a->strict);
	assert_int_equal(a->weight, 7);
	assert_string_equal(a->out, "a.txt");
	assert_true(a->timeout > 0.99 && a->timeout < 1.01);
	assert_string_equal(b->image, "y.elf");
	assert_int_equal(b->mem, 4 << 20);        /* the defaults */
	assert_true(b->timeout > 1.99 && b->strict);
	assert_int_equal(b->weight, 1);
	assert_false(b->regs);
	assert_null(b->out);
	/* Values are checked by the same parser, and the error names where. */
	assert_int_equal(PARSE("--vm", "a=x.elf,mem=1"), -1);
	assert_non_null(strstr(err, "--vm a: mem"));
	assert_int_equal(PARSE("--vm", "a=x.elf,bogus=1"), -1);
	assert_non_null(strstr(err, "unknown option"));
	assert_int_equal(PARSE("--vm", "a=x.elf,regs=1"), -1);
	assert_non_null(strstr(err, "takes no value"));
	assert_int_equal(PARSE("--vm", "a=x.elf,entry=4"), -1);
	assert_non_null(strstr(err, "--load"));
	assert_int_equal(PARSE("--vm", "a=x.elf", "--vm", "a=y.elf"), -1);
	assert_non_null(strstr(err, "used twice"));
	assert_int_equal(PARSE("--vm", "a=x.elf", "b.elf"), -1);
	assert_non_null(strstr(err, "--vm NAME=IMAGE"));
	assert_int_equal(PARSE("--vm", "a=x.elf", "--out", "f"), -1);
	assert_non_null(strstr(err, "out=FILE"));
}

/* The run-wide options: with one VM they make it a scheduled run of one VM, or are refused
 * with the reason (--repeat). */
static void test_run_wide_options(void **state)
{
	(void)state;
	/* --stats-json alone keeps a single VM's run; the timeline of --trace-out is the
	 * scheduler's. */
	assert_int_equal(PARSE("--stats-json", "s.json", "x.elf"), 0);
	assert_false(run_is_scheduled(o));
	assert_int_equal(PARSE("--stats-json", "s.json", "--trace-out", "t.json", "x.elf"), 0);
	assert_int_equal(o->nvms, 1);
	assert_true(run_is_scheduled(o));
	assert_string_equal(o->stats_json, "s.json");
	assert_string_equal(o->trace_out, "t.json");
	assert_int_equal(PARSE("--sched", "script:s.txt", "--quantum", "0.5", "--chan", "2=20", "x.elf"), 0);
	assert_int_equal(o->policy, KVMBOX_SCHED_SCRIPT);
	assert_string_equal(o->script_file, "s.txt");
	assert_int_equal(o->chan_cap[2], 20);
	assert_int_equal(PARSE("--repeat", "3", "x.elf"), 0);
	assert_false(run_is_scheduled(o));
	assert_int_equal(o->repeat, 3);
	assert_int_equal(PARSE("--repeat", "3", "--stats-json", "s.json"), -1);
	assert_non_null(strstr(err, "--stats-json reports one run"));
	assert_int_equal(PARSE("--repeat", "3", "--vm", "a=x.elf"), -1);
	assert_non_null(strstr(err, "--vm needs the scheduler"));
	assert_int_equal(PARSE("--repeat", "0"), -1);
	assert_int_equal(PARSE("--sched", "fifo"), -1);
	assert_int_equal(PARSE("--chan", "99=1"), -1);
	assert_int_equal(PARSE("--quantum", "0"), -1);
}

static void test_junk_refused(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--nope"), -1);
	assert_non_null(strstr(err, "--nope: unknown option"));
	assert_int_equal(PARSE("a.elf", "b.elf"), -1);
	assert_non_null(strstr(err, "unexpected argument"));
	/* Options may follow the image. */
	assert_int_equal(PARSE("run", "a.elf", "--timeout", "2"), 0);
	assert_string_equal(o->vms[0].image, "a.elf");
	assert_true(o->vms[0].timeout > 1.9);
	/* The parser can be called again after an error. */
	assert_int_equal(PARSE("-l", "a.elf"), 0);
	assert_string_equal(o->vms[0].image, "a.elf");
}

/* The status scheme: a guest's own status never reads as one of kvmbox's verdicts. */
static void test_guest_status_mapping(void **state)
{
	int s;

	(void)state;
	assert_int_equal(exit_status_of_guest(0), 0);
	assert_int_equal(exit_status_of_guest(1), 1);
	assert_int_equal(exit_status_of_guest(3), 3);
	assert_int_equal(exit_status_of_guest(63), 63);
	assert_int_equal(exit_status_of_guest(2), EXIT_GUEST_RANGE);
	assert_int_equal(exit_status_of_guest(64), EXIT_GUEST_RANGE);
	assert_int_equal(exit_status_of_guest(255), EXIT_GUEST_RANGE);
	assert_int_equal(exit_status_of_guest(-1), EXIT_GUEST_RANGE);
	for (s = 0; s < 256; s++) {
		if (s <= EXIT_GUEST_MAX && s != EXIT_USAGE) {
			assert_int_equal(exit_status_of_guest(s), s);
			assert_false(exit_status_is_verdict(s));
		} else {
			assert_int_equal(exit_status_of_guest(s), EXIT_GUEST_RANGE);
		}
	}
	assert_true(exit_status_is_verdict(EXIT_GUEST_FAULT) && exit_status_is_verdict(EXIT_HOST));
}

/* count=N expands a --vm into N copies named NAME0 ... NAME{N-1}, each with the VM's other
 * options (a share directory of its own); --count does the same for the single VM and is
 * the default count of every --vm. */
static void test_count_expands(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--vm", "a=x.elf,count=3,mem=4M,share=/srv:ro", "--vm", "b=y.elf"), 0);
	assert_int_equal(o->nvms, 4);
	assert_true(o->several);
	for (unsigned i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "a%u", i);
		assert_string_equal(o->vms[i].name, name);
		assert_string_equal(o->vms[i].image, "x.elf");
		assert_int_equal(o->vms[i].mem, 4 << 20);
		assert_string_equal(o->vms[i].share, "/srv");
		assert_true(o->vms[i].share_ro);
		assert_true(i == 0 || o->vms[i].share != o->vms[0].share);
	}
	assert_string_equal(o->vms[3].name, "b");
	assert_int_equal(PARSE("--count", "2", "-m", "real"), 0);
	assert_int_equal(o->nvms, 2);
	assert_true(o->several && run_is_scheduled(o));
	assert_string_equal(o->vms[0].name, "hello0");
	assert_string_equal(o->vms[1].name, "hello1");
	assert_null(o->vms[1].image);
	assert_int_equal(PARSE("--count", "2", "--vm", "a=x.elf", "--vm", "b=y.elf,count=1"), 0);
	assert_int_equal(o->nvms, 3);
	assert_string_equal(o->vms[1].name, "a1");
	assert_string_equal(o->vms[2].name, "b");
	assert_int_equal(PARSE("--count", "1"), 0);
	assert_int_equal(o->nvms, 1);
	assert_false(o->several);
	assert_int_equal(PARSE("--vm", "a=x.elf,count=2", "--vm", "a1=y.elf"), -1);
	assert_non_null(strstr(err, "'a1' is used twice"));
	assert_int_equal(PARSE("--vm", "a=x.elf,count"), -1);
	assert_non_null(strstr(err, "count: needs a value"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_expands),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_modes_and_short_flags),
		cmocka_unit_test(test_gdb_options),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_flat_load_and_entry),
		cmocka_unit_test(test_timeout_values),
		cmocka_unit_test(test_share_suffixes),
		cmocka_unit_test(test_per_vm_options_in_both_forms),
		cmocka_unit_test(test_trace_options_per_vm),
		cmocka_unit_test(test_run_wide_options),
		cmocka_unit_test(test_junk_refused),
		cmocka_unit_test(test_guest_status_mapping),
	};

	return cmocka_run_group_tests_name("opts", tests, setup, teardown);
}
