/* Page walks against KVM: the library's described walk (kvmbox_vm_walk) and `kvmbox run
 * --walk` give the guest-physical address and validity KVM_TRANSLATE gives, for mapped and
 * unmapped addresses, in every mode this host runs; --walk's output and its refusals of bad
 * values (status 2). Paged32, which this host may lack, is also checked in tests/unit/test_walk.c. */
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

extern char **environ;

/* Addresses around what the guest uses and beyond guest memory (2 MiB by default). */
static const kvmbox_gva_t probes[] = {
	0x0, 0x400, 0x1000, 0x1234, 0xfff0, 0x10000, 0x1fefff, 0x1ff000, 0x1fffff, 0x200000,
	0x3fffff, 0x400000, 0x500000, 0x40000000, 0x80000000, 0xfffff000,
};

/* Did segmentation let the address through to paging (so KVM_TRANSLATE can be asked)? */
static bool reached_paging(const struct kvmbox_walk *w)
{
	return !(w->segment && !w->mapped && !w->nlevels && w->why);
}

/* Compare one walk with KVM_TRANSLATE of its linear address; returns whether it mapped. */
static bool check_probe(struct kvmbox_vm *vm, kvmbox_gva_t gva)
{
	struct kvmbox_error err = { "" };
	struct kvmbox_walk w;
	kvmbox_gpa_t gpa = 0;
	bool valid = false;

	assert_int_equal(kvmbox_vm_walk(vm, gva, 0, &w), 0);
	assert_int_equal(w.gva, gva);
	if (!reached_paging(&w))
		return false;
	if (kvmbox_vm_kvm_translate(vm, w.linear, &gpa, &valid, &err) < 0)
		fail_msg("KVM_TRANSLATE 0x%" PRIx64 ": %s", w.linear, err.msg);
	if (valid != w.mapped)
		fail_msg("0x%" PRIx64 ": KVM says %s, the walk says %s (%s)", gva,
			 valid ? "valid" : "invalid", w.mapped ? "mapped" : "unmapped", w.why ? w.why : "");
	if (valid && gpa != w.gpa)
		fail_msg("0x%" PRIx64 ": KVM translates to 0x%" PRIx64 ", the walk to 0x%" PRIx64, gva,
			 (uint64_t)gpa, (uint64_t)w.gpa);
	/* Inside guest memory the host address is the slot's mapping plus the offset. */
	if (w.mapped && w.gpa < kvmbox_vm_mem_size(vm)) {
		assert_true(w.in_slot);
		assert_int_equal(w.hva, w.slot_hva + w.gpa - w.slot_gpa);
	} else {
		assert_false(w.in_slot);
	}
	return valid;
}

/* The hello guest's final state, every probe, against KVM. */
static void test_walk_matches_kvm_translate(void **state)
{
	struct guest_spec s = { .path = guest_image("hello", MODE(state)) };
	struct guest_run *r;
	bool paging = MODE(state) == KVMBOX_MODE_PAGED32 || MODE(state) == KVMBOX_MODE_LONG;
	unsigned i, mapped = 0, unmapped = 0;

	skip_unless_host_runs(MODE(state)); /* before any allocation: a skip returns here */
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	guest_run(r, &s);
	assert_int_equal(r->res.stop, KVMBOX_STOP_HALT);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (check_probe(r->vm, probes[i]))
			mapped++;
		else
			unmapped++;
	}
	assert_true(mapped >= 5);
	/* With paging, the addresses past the identity map are refused by both. */
	if (paging)
		assert_true(unmapped >= 3);
	guest_run_free(r);
	free(r);
}

/* Real mode: DS arithmetic, and an offset past the 64 KiB limit never reaches memory. */
static void test_walk_real_segment(void **state)
{
	struct guest_spec s = { .path = guest_image("hello", KVMBOX_MODE_REAL) };
	struct guest_run *r = calloc(1, sizeof(*r));
	struct kvmbox_walk w;
	char buf[1024];

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_REAL);
	guest_run(r, &s);
	assert_int_equal(kvmbox_vm_walk(r->vm, 0x10000, 0, &w), 0);
	assert_true(w.real_mode);
	assert_false(w.mapped);
	assert_false(w.in_slot);
	kvmbox_walk_format(&w, true, buf, sizeof(buf));
	assert_string_equal(buf, "ds 0x10000: beyond the ds limit 0xffff");
	/* A linear address (a CR2) skips the segment step: past 64 KiB is fine then. */
	assert_int_equal(kvmbox_vm_walk(r->vm, 0x10000, KVMBOX_WALK_LINEAR, &w), 0);
	assert_true(w.linear_given);
	assert_null(w.segment);
	assert_true(w.mapped);
	assert_true(w.in_slot);
	assert_int_equal(w.gpa, 0x10000);
	kvmbox_walk_format(&w, false, buf, sizeof(buf));
	assert_non_null(strstr(buf, "  segment   none: 0x10000 is a linear address\n"));
	assert_int_equal(kvmbox_vm_walk(NULL, 0, 0, &w), -22);
	assert_int_equal(kvmbox_vm_walk(r->vm, 0, 0, NULL), -22);
	guest_run_free(r);
	free(r);
}

/* What a fault report shows for a #PF: the linear CR2 walked with the fault's access. */
static void test_walk_fault_form(void **state)
{
	struct guest_spec s = { .path = guest_image("hello", KVMBOX_MODE_LONG) };
	struct guest_run *r = calloc(1, sizeof(*r));
	struct kvmbox_walk w;
	char buf[256];

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	guest_run(r, &s);
	assert_int_equal(kvmbox_vm_walk(r->vm, 0x500000, KVMBOX_WALK_LINEAR | KVMBOX_WALK_WRITE, &w), 0);
	assert_false(w.mapped);
	kvmbox_walk_format(&w, true, buf, sizeof(buf));
	assert_string_equal(buf, "PML4[0] -> PDPT[0] -> PD[2] not present");
	assert_int_equal(kvmbox_vm_walk(r->vm, 0x1000, KVMBOX_WALK_LINEAR | KVMBOX_WALK_WRITE, &w), 0);
	kvmbox_walk_format(&w, true, buf, sizeof(buf));
	assert_string_equal(buf, "PML4[0] -> PDPT[0] -> PD[0] -> 0x1000");
	guest_run_free(r);
	free(r);
}

/* ---- The command ---------------------------------------------------------------------- */

/* The "physical" line --walk printed after "walk GVA": the address, or ~0 for "none". */
static uint64_t printed_physical(const char *err, kvmbox_gva_t gva)
{
	char head[64];
	const char *p, *phys;
	unsigned long long v;

	snprintf(head, sizeof(head), "walk 0x%" PRIx64 "\n", gva);
	p = strstr(err, head);
	if (!p)
		fail_msg("no '%s' in: %s", head, err);
	phys = strstr(p, "  physical  ");
	assert_non_null(phys);
	if (!strncmp(phys + 12, "none", 4))
		return ~0ull;
	assert_int_equal(sscanf(phys + 12, "0x%llx", &v), 1);
	return v;
}

/* `kvmbox run --walk` prints, for each address, the translation KVM_TRANSLATE gives for the
 * same guest's final state (asked here through the library). */
static void test_cli_walk_matches_kvm(void **state)
{
	static const kvmbox_gva_t asked[] = { 0x1000, 0x1ff000, 0x500000 };
	struct guest_spec s = { .path = guest_image("hello", MODE(state)) };
	struct guest_run *r;
	struct cli *c;
	unsigned i;

	skip_unless_host_runs(MODE(state)); /* before any allocation: a skip returns here */
	r = calloc(1, sizeof(*r));
	c = calloc(1, sizeof(*c));
	assert_true(r && c);
	guest_run(r, &s);
	RUN(c, "run", "--walk", "0x1000", "--walk", "2093056", "--walk", "0x500000", s.path);
	assert_int_equal(c->status, 0);
	assert_string_equal(c->out, "Hello, world!\n");
	for (i = 0; i < 3; i++) {
		struct kvmbox_walk w;
		kvmbox_gpa_t gpa;
		bool valid;

		assert_int_equal(kvmbox_vm_walk(r->vm, asked[i], 0, &w), 0);
		if (!reached_paging(&w)) { /* real mode: past the DS limit */
			assert_int_equal(printed_physical(c->err, asked[i]), ~0ull);
			continue;
		}
		assert_int_equal(kvmbox_vm_kvm_translate(r->vm, w.linear, &gpa, &valid, NULL), 0);
		assert_int_equal(printed_physical(c->err, asked[i]), valid ? gpa : ~0ull);
	}
	if (MODE(state) == KVMBOX_MODE_LONG) {
		assert_non_null(strstr(c->err, "  PD[0]     table "));
		assert_non_null(strstr(c->err, "-> 2 MiB page 0x0\n"));
		assert_non_null(strstr(c->err, "stop: not present\n"));
	}
	if (MODE(state) == KVMBOX_MODE_PAGED32)
		assert_non_null(strstr(c->err, "-> 4 MiB page 0x0\n"));
	assert_non_null(strstr(c->err, "  memslot   0: guest-physical 0x0..0x1fffff at HVA 0x"));
	free(c);
	guest_run_free(r);
	free(r);
}

/* With several VMs each line names its VM. */
static void test_cli_walk_several(void **state)
{
	struct cli *c = calloc(1, sizeof(*c));
	char spec[512];

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	snprintf(spec, sizeof(spec), "a=%s,walk=0x1000", guest_image("hello", KVMBOX_MODE_LONG));
	RUN(c, "run", "--vm", spec);
	assert_int_equal(c->status, 0);
	assert_non_null(strstr(c->err, "[a] walk 0x1000\n[a]   segment   none"));
	assert_non_null(strstr(c->err, "[a]   physical  0x1000\n"));
	free(c);
}

static void expect_refusal(const char *const *args, const char *needle)
{
	struct cli *c = calloc(1, sizeof(*c));

	run_cli(c, args);
	if (c->status != 2 || !strstr(c->err, needle) || c->out[0])
		fail_msg("expected status 2 and '%s'; got status %d, stderr: %s", needle, c->status,
			 c->err);
	free(c);
}

static void test_cli_walk_bad_values(void **state)
{
	const char *args[48] = { "run" };
	int i;

	(void)state;
	expect_refusal((const char *const[]){ "run", "--walk", "zz", NULL }, "--walk: 'zz' is not an address");
	expect_refusal((const char *const[]){ "run", "--walk", "-1", NULL }, "is not an address");
	expect_refusal((const char *const[]){ "run", "--walk", "0x", NULL }, "is not an address");
	expect_refusal((const char *const[]){ "run", "--walk", "99999999999999999999999", NULL },
		       "is not an address");
	expect_refusal((const char *const[]){ "run", "--walk", NULL }, "walk");
	expect_refusal((const char *const[]){ "run", "--vm", "a=x.elf,walk=0xq", NULL },
		       "--vm a: walk: '0xq' is not an address");
	expect_refusal((const char *const[]){ "run", "--vm", "a=x.elf,walk", NULL }, "needs a value");
	for (i = 0; i < 17; i++) {
		args[1 + 2 * i] = "--walk";
		args[2 + 2 * i] = "0x1000";
	}
	args[35] = NULL;
	expect_refusal(args, "at most 16 addresses");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_walk_matches_kvm_translate),
		cmocka_unit_test(test_walk_real_segment),
		cmocka_unit_test(test_walk_fault_form),
		PER_MODE(test_cli_walk_matches_kvm),
		cmocka_unit_test(test_cli_walk_several),
		cmocka_unit_test(test_cli_walk_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
