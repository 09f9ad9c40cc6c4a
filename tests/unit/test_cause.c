/* The sentences kvm_word_cause (src/kvm/kvm.c) gives for made-up host facts: the states this host
 * cannot produce (no module, no VMX/SVM, a bad API version, a missing capability), without any
 * system access. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "kvmbox/kvmbox.h"
#include "kvm/kvm.h"

static struct kvmbox_host_info made_up(const char *module, bool kvm, bool cpu_virt, bool nested)
{
	struct kvmbox_host_info info = { .state = KVMBOX_HOST_OPEN_FAILED, .device = "/dev/kvm",
					 .kvm_module = kvm, .cpu_virt = cpu_virt, .nested = nested };

	snprintf(info.module, sizeof(info.module), "%s", module);
	snprintf(info.hypervisor, sizeof(info.hypervisor), "%s", nested ? "KVMKVMKVM" : "");
	snprintf(info.user, sizeof(info.user), "alice");
	return info;
}

static void test_cause_no_device(void **state)
{
	struct kvmbox_host_info i;

	(void)state;
	i = made_up("", false, true, false);
	kvm_word_cause(&i, ENOENT);
	assert_int_equal(i.state, KVMBOX_HOST_NO_MODULE);
	assert_string_equal(i.cause, "/dev/kvm does not exist and the kvm module is not loaded "
				     "(modprobe kvm_intel or kvm_amd)");
	i = made_up("", false, false, true);
	kvm_word_cause(&i, ENOENT);
	assert_int_equal(i.state, KVMBOX_HOST_NO_VIRT);
	assert_string_equal(i.cause, "/dev/kvm does not exist and the kvm module is not loaded: the "
				     "CPU shows no VMX/SVM: this kernel runs under a hypervisor "
				     "(KVMKVMKVM) without nested virtualization");
	i = made_up("", false, false, false);
	kvm_word_cause(&i, ENODEV); /* a node with no driver behind it */
	assert_int_equal(i.state, KVMBOX_HOST_NO_VIRT);
	assert_non_null(strstr(i.cause, "exists but no KVM driver answers it"));
	assert_non_null(strstr(i.cause, "disabled in the firmware"));
	i = made_up("kvm_intel", true, true, false);
	kvm_word_cause(&i, ENOENT);
	assert_int_equal(i.state, KVMBOX_HOST_NO_DEVICE);
	assert_non_null(strstr(i.cause, "although the kvm module is loaded (kvm_intel)"));
	i = made_up("", true, true, false);
	kvm_word_cause(&i, ENOENT);
	assert_int_equal(i.state, KVMBOX_HOST_NO_DEVICE);
	assert_non_null(strstr(i.cause, "no vendor module"));
}

static void test_cause_permission(void **state)
{
	struct kvmbox_host_info i = made_up("kvm_amd", true, true, false);

	(void)state;
	i.st_mode = S_IFCHR | 0660;
	snprintf(i.owner, sizeof(i.owner), "root");
	snprintf(i.group, sizeof(i.group), "kvm");
	kvm_word_cause(&i, EACCES);
	assert_int_equal(i.state, KVMBOX_HOST_NO_PERMISSION);
	assert_string_equal(i.cause, "permission denied: /dev/kvm is mode 0660 owner root group kvm and "
				     "user alice is not in group kvm; joining it suffices: usermod -aG "
				     "kvm alice (then log in again)");
	i.st_mode = S_IFCHR | 0600;
	snprintf(i.group, sizeof(i.group), "root");
	kvm_word_cause(&i, EACCES);
	assert_non_null(strstr(i.cause, "group root cannot open it"));
	assert_non_null(strstr(i.cause, "usermod -aG kvm alice"));
}

static void test_cause_api_and_caps(void **state)
{
	struct kvmbox_host_info i = made_up("kvm_amd", true, true, false);

	(void)state;
	i.state = KVMBOX_HOST_BAD_API;
	i.api_version = 11;
	kvm_word_cause(&i, 0);
	assert_string_equal(i.cause, "/dev/kvm answers KVM_GET_API_VERSION with 11; kvmbox needs 12");
	i.state = KVMBOX_HOST_NO_CAP;
	i.ncaps = 2;
	i.caps[0] = (struct kvmbox_host_cap){ .name = "KVM_CAP_A", .use = "a", .need = 0, .value = 0 };
	i.caps[1] = (struct kvmbox_host_cap){ .name = "KVM_CAP_B", .use = "b", .need = 3, .value = 1 };
	kvm_word_cause(&i, 0);
	assert_string_equal(i.cause, "this host's KVM lacks KVM_CAP_B (KVM_CHECK_EXTENSION: 1, kvmbox "
				     "needs 3), used for b");
	i.state = KVMBOX_HOST_OK;
	kvm_word_cause(&i, 0);
	assert_string_equal(i.cause, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cause_no_device),
		cmocka_unit_test(test_cause_permission),
		cmocka_unit_test(test_cause_api_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
