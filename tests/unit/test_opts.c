/* Option parsing of `kvmbox run`: values accepted, refused, and how modes combine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "../../cli/opts.h"

static int parse(struct cli_opts *o, char *err, const char *const *args)
{
	char *argv[32] = { "kvmbox" };
	int argc = 1;

	while (*args)
		argv[argc++] = (char *)*args++;
	return cli_parse(argc, argv, o, err, 256);
}

#define PARSE(o, err, ...) parse((o), (err), (const char *const[]){ __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	struct cli_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "run"), 0);
	assert_int_equal(o.mode, KVMBOX_MODE_AUTO);
	assert_null(o.image);
	assert_false(o.flat);
	assert_int_equal(o.mem, 0);
}

static void test_modes_and_short_flags(void **state)
{
	static const struct { const char *flag; enum kvmbox_mode mode; } cases[] = {
		{ "-r", KVMBOX_MODE_REAL }, { "-s", KVMBOX_MODE_PROTECTED },
		{ "-p", KVMBOX_MODE_PAGED32 }, { "-l", KVMBOX_MODE_LONG },
	};
	struct cli_opts o;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(PARSE(&o, err, "run", cases[i].flag), 0);
		assert_int_equal(o.mode, cases[i].mode);
		assert_int_equal(PARSE(&o, err, "run", "--mode", kvmbox_mode_name(cases[i].mode)), 0);
		assert_int_equal(o.mode, cases[i].mode);
	}
	/* The same mode twice is fine; two different ones are not. */
	assert_int_equal(PARSE(&o, err, "-l", "-m", "long"), 0);
	assert_int_equal(PARSE(&o, err, "-l", "-r"), -1);
	assert_non_null(strstr(err, "conflicting"));
	assert_int_equal(PARSE(&o, err, "-m", "auto"), -1);
}

static void test_sizes(void **state)
{
	uint64_t v;
	struct cli_opts o;
	char err[256];

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
	assert_int_equal(PARSE(&o, err, "--mem", "1G"), 0);
	assert_int_equal(o.mem, 1 << 30);
	assert_int_equal(PARSE(&o, err, "--mem", "4G"), -1);
	assert_int_equal(PARSE(&o, err, "--mem", "100K"), -1);
	assert_int_equal(PARSE(&o, err, "--mem", "1000001"), -1);
}

static void test_flat_load_and_entry(void **state)
{
	struct cli_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--load", "0x2000", "img.bin"), 0);
	assert_true(o.flat);
	assert_int_equal(o.load, 0x2000);
	assert_int_equal(o.entry, 0x2000); /* the entry defaults to the load address */
	assert_string_equal(o.image, "img.bin");
	assert_int_equal(PARSE(&o, err, "--load", "0", "--entry", "0x10", "img.bin"), 0);
	assert_int_equal(o.entry, 0x10);
	assert_int_equal(PARSE(&o, err, "--entry", "0x10", "img.bin"), -1);
	assert_non_null(strstr(err, "--load"));
	assert_int_equal(PARSE(&o, err, "--load", "0"), -1);
}

static void test_timeout_values(void **state)
{
	struct cli_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--timeout", "1.5"), 0);
	assert_true(o.timeout > 1.49 && o.timeout < 1.51);
	assert_int_equal(PARSE(&o, err, "--timeout", "0"), -1);
	assert_int_equal(PARSE(&o, err, "--timeout", "nan"), -1);
	assert_int_equal(PARSE(&o, err, "--timeout", "inf"), -1);
	assert_int_equal(PARSE(&o, err, "--timeout", "3s"), -1);
}

static void test_flags_and_share(void **state)
{
	struct cli_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--regs", "--stats", "--strict", "-vv", "--trace",
			       "--share", "/srv/data:ro", "x.elf"), 0);
	assert_true(o.regs && o.stats && o.strict && o.trace);
	assert_int_equal(o.verbosity, 2);
	assert_string_equal(o.share, "/srv/data");
	assert_true(o.share_ro);
	assert_int_equal(PARSE(&o, err, "--share", "/srv/data"), 0);
	assert_false(o.share_ro);
}

static void test_junk_refused(void **state)
{
	struct cli_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--nope"), -1);
	assert_int_equal(PARSE(&o, err, "-m"), -1);
	assert_int_equal(PARSE(&o, err, "a.elf", "b.elf"), -1);
	assert_non_null(strstr(err, "unexpected argument"));
	/* Options may follow the image. */
	assert_int_equal(PARSE(&o, err, "run", "a.elf", "--timeout", "2"), 0);
	assert_string_equal(o.image, "a.elf");
	assert_true(o.timeout > 1.9);
	/* The parser can be called again after an error. */
	assert_int_equal(PARSE(&o, err, "-l", "a.elf"), 0);
	assert_string_equal(o.image, "a.elf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_modes_and_short_flags),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_flat_load_and_entry),
		cmocka_unit_test(test_timeout_values),
		cmocka_unit_test(test_flags_and_share),
		cmocka_unit_test(test_junk_refused),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
