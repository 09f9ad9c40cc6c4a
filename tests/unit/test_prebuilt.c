/* The seccomp filter prebuilt when kvmbox is built (src/sandbox/prebuilt.h), its descriptors
 * filled in, is the very program libseccomp builds from the sandbox's rules now for the same
 * VM, whatever its descriptors: a prebuilt filter gone stale (rules changed, libseccomp
 * upgraded without a rebuild) fails here instead of confining runs by old rules. And it is
 * used for that run only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "sandbox/prebuilt.h"
#include "vm/vm.h"

static struct kvmbox_vm *fake_vm(int vm_fd, int vcpu_fd)
{
	struct kvmbox_vm *vm = calloc(1, sizeof(*vm));

	assert_non_null(vm);
	vm->kvm_fd = -1;
	vm->vm_fd = vm_fd;
	vm->vcpu_fd = vcpu_fd;
	vm->coalesce_left = 2048;
	vm->save_fd = -1;
	return vm;
}

static void test_prebuilt_is_current(void **state)
{
	static const int fds[][2] = { { 4, 5 }, { 3, 9 }, { 100, 101 }, { 1000, 70000 } };
	static struct sock_filter now[BPF_MAXINSNS], filled[BPF_MAXINSNS];

	(void)state;
	assert_non_null(kvmbox_seccomp_prebuilt);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		struct kvmbox_vm *vm = fake_vm(fds[i][0], fds[i][1]);
		struct kvmbox_sandbox_config cfg = { .vms = &vm, .nvms = 1 };
		int fd = memfd_create("seccomp-now", MFD_CLOEXEC);
		unsigned n;
		ssize_t len;

		assert_true(fd >= 0);
		assert_int_equal(sandbox_export_bpf(&cfg, fd), 0);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		len = read(fd, now, sizeof(now));
		close(fd);
		assert_true(sandbox_prebuilt_fits(&cfg));
		n = sandbox_prebuilt_fill(&cfg, filled);
		assert_int_equal(len, (ssize_t)(n * sizeof(now[0])));
		if (memcmp(now, filled, (size_t)len))
			fail_msg("VM fd %d, vCPU fd %d: the prebuilt filter differs from the rules' now",
				 fds[i][0], fds[i][1]);
		free(vm);
	}
}

/* Any other run builds its filter: several VMs, a reset point, a file to save into, no zone to come, descriptors in
 * the other order, a VM without its VM descriptor (KVMBOX_VM_ONE_FD). */
static void test_prebuilt_other_runs(void **state)
{
	struct kvmbox_vm *vms[2] = { fake_vm(4, 5), fake_vm(6, 7) };
	struct kvmbox_sandbox_config cfg = { .vms = vms, .nvms = 2 };

	(void)state;
	assert_false(sandbox_prebuilt_fits(&cfg));
	cfg.nvms = 1;
	assert_true(sandbox_prebuilt_fits(&cfg));
	vms[0]->point.taken = true;
	assert_false(sandbox_prebuilt_fits(&cfg));
	vms[0]->point.taken = false;
	vms[0]->save_fd = 9; /* a file to save into: pwrite, ftruncate, the state reads */
	assert_false(sandbox_prebuilt_fits(&cfg));
	vms[0]->save_fd = -1;
	vms[0]->coalesce_left = 0;
	assert_false(sandbox_prebuilt_fits(&cfg));
	vms[0]->coalesce_left = 1;
	vms[0]->vm_fd = 8;
	assert_false(sandbox_prebuilt_fits(&cfg));
	vms[0]->vm_fd = -1;
	assert_false(sandbox_prebuilt_fits(&cfg));
	free(vms[0]);
	free(vms[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prebuilt_is_current),
		cmocka_unit_test(test_prebuilt_other_runs),
	};

	return cmocka_run_group_tests_name("prebuilt", tests, NULL, NULL);
}
