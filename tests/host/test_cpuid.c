/* The CPUID a guest sees: in long mode kvmbox's CPU model by default (the host's vendor and
 * signature, the x86-64 baseline features, SYSCALL, NX and long mode: src/x86/cpuid.c), in
 * the 16- and 32-bit modes KVM's empty table (which needs no KVM_SET_CPUID2), and the host
 * KVM's whole table with KVMBOX_VM_HOST_CPUID. tests/guests/cpuid.c prints what it reads. */
#include <cpuid.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "harness.h"

/* CPUID.01H:EDX: FPU DE PSE TSC MSR PAE CX8 SEP PGE CMOV PAT MMX FXSR SSE SSE2. */
#define MODEL_EDX1 0x0781a97du
/* CPUID.80000001H:EDX: SYSCALL NX LM. */
#define MODEL_EDX81 ((1u << 11) | (1u << 20) | (1u << 29))

struct seen {
	unsigned max, sig, edx1, edx81;
	char vendor[13];
};

/* The vendor string of leaf 0's EBX, EDX, ECX. */
static void vendor_of(char *v, unsigned b, unsigned d, unsigned c)
{
	memcpy(v, &b, 4);
	memcpy(v + 4, &d, 4);
	memcpy(v + 8, &c, 4);
	v[12] = 0;
}

static void run_cpuid_guest(enum kvmbox_mode mode, unsigned flags, struct seen *s)
{
	struct guest_spec spec = { .path = guest_image("test-cpuid", mode), .flags = flags };
	struct guest_run r;

	unsigned b, d, c;

	guest_run(&r, &spec);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	if (sscanf(r.out, "%u %u %u %u %u %u %u", &s->max, &b, &d, &c, &s->sig, &s->edx1,
		   &s->edx81) != 7)
		fail_msg("unexpected guest output: %s", r.out);
	vendor_of(s->vendor, b, d, c);
	guest_run_free(&r);
}

/* Long mode: leaf 0 says leaf 1 is the last basic leaf and names the host's vendor; leaf 1
 * has the host's signature and the baseline features (KVM may add bits of its own there at
 * run time: the APIC bit follows the APIC base MSR, and kvm_pvm shows the host's whole EDX);
 * leaf 0x80000001 exactly SYSCALL, NX and LM. The other modes: KVM's empty table, zeros. */
static void test_default_is_the_model(void **state)
{
	unsigned a, b, c, d, sig, unused;
	char vendor[13];
	struct seen s;

	skip_unless_host_runs(MODE(state));
	__cpuid(0, a, b, c, d);
	vendor_of(vendor, b, d, c);
	__cpuid(1, sig, unused, c, d);
	(void)unused;
	(void)a;
	run_cpuid_guest(MODE(state), 0, &s);
	if (MODE(state) != KVMBOX_MODE_LONG) {
		assert_int_equal(s.max, 0);
		assert_string_equal(s.vendor, "");
		assert_int_equal(s.edx81, 0);
		return;
	}
	assert_int_equal(s.max, 1);
	assert_string_equal(s.vendor, vendor);
	assert_int_equal(s.sig, sig);
	assert_int_equal(s.edx1 & MODEL_EDX1, MODEL_EDX1);
	assert_int_equal(s.edx81, MODEL_EDX81);
}

/* KVMBOX_VM_HOST_CPUID: the guest's highest basic leaf is the one KVM supports here. */
static void test_host_cpuid_flag(void **state)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	unsigned max = 0;
	struct seen s;
	int kvm;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	assert_non_null(c);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	assert_true(kvm >= 0);
	c->nent = 256;
	assert_int_equal(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c), 0);
	close(kvm);
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0)
			max = c->entries[i].eax;
	free(c);
	run_cpuid_guest(KVMBOX_MODE_LONG, KVMBOX_VM_HOST_CPUID, &s);
	assert_true(max > 1);
	assert_int_equal(s.max, max);
	assert_int_equal(s.edx81 & (1u << 29), 1u << 29);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_default_is_the_model),
		cmocka_unit_test(test_host_cpuid_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
