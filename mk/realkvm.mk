# The QEMU lane (docs/realkvm.md): a real KVM (kvm_amd in a Debian kernel under QEMU/TCG) for hosts without
# a usable /dev/kvm, and for 32-bit paging where this host's KVM (kvm_pvm) cannot run it. `make check` and
# `make run` use it by themselves where /dev/kvm is missing; scripts/kvm-in-qemu runs any command there.
# Included by the Makefile, which provides $(BUILD), $(Q) and the target `tests`.
#
# Targets:
#   realkvm-setup         install QEMU etc. and cache a Debian kernel + base initramfs in $(REALKVM_DIR)
#   check-realkvm         every test program inside the lane, whatever this host has (TESTS_IN=qemu)
#   check-realkvm-broken  build $(REALKVM_BROKEN_BUILD) with a deliberately broken paged32 page table
#                         (tests/lane/break_paged32.c); succeeds only if the lane path of tests/run.sh
#                         then reports the paged32 tests, and only those, as failures
# Variables:
#   REALKVM_TIMEOUT       seconds of wall time before QEMU is killed and the lane fails
#   REALKVM_DIR           the setup cache, shared by every BUILD
#   REALKVM_LOG           where the serial log is kept
#   REALKVM_BROKEN_BUILD  build directory of the broken variant

REALKVM_TIMEOUT ?= 1200
REALKVM_DIR ?= build/realkvm
REALKVM_LOG ?= $(BUILD)/realkvm.log
REALKVM_BROKEN_BUILD ?= build/broken
export REALKVM_TIMEOUT REALKVM_DIR REALKVM_LOG

.PHONY: realkvm-setup check-realkvm check-realkvm-broken
realkvm-setup:
	$(Q)scripts/realkvm/setup.sh $(REALKVM_DIR)

check-realkvm: tests realkvm-setup
	$(Q)BUILD=$(BUILD) TESTS_IN=qemu tests/run.sh $(TEST_BINS)

# The sabotage wraps kvmbox_vm_load at link time in its own build directory; a normal build never has it.
REALKVM_BROKEN_OBJ := $(REALKVM_BROKEN_BUILD)/obj/tests/lane/break_paged32.o
REALKVM_BROKEN_OUT := $(REALKVM_BROKEN_BUILD)/check.out
check-realkvm-broken: realkvm-setup
	$(Q)$(MAKE) --no-print-directory BUILD=$(REALKVM_BROKEN_BUILD) $(REALKVM_BROKEN_OBJ)
	$(Q)$(MAKE) --no-print-directory BUILD=$(REALKVM_BROKEN_BUILD) \
		EXTRA_LDFLAGS="-Wl,--wrap=kvmbox_vm_load $(REALKVM_BROKEN_OBJ)" \
		$(REALKVM_BROKEN_BUILD)/tests/host/test_guests $(REALKVM_BROKEN_BUILD)/kvmbox guests
	$(Q)if BUILD=$(REALKVM_BROKEN_BUILD) REALKVM_LOG=$(REALKVM_BROKEN_BUILD)/realkvm.log TESTS_IN=qemu \
		tests/run.sh $(REALKVM_BROKEN_BUILD)/tests/host/test_guests >$(REALKVM_BROKEN_OUT) 2>&1; then \
		echo "check-realkvm-broken: FAIL: the lane passed a kvmbox with a broken paged32 page table" >&2; \
		exit 1; \
	fi
	$(Q)out=$(REALKVM_BROKEN_OUT); \
	summary=$$(tail -n 1 $$out); \
	bad=$$(grep '^\[  FAILED  \] test_' $$out | grep -v 'paged32' | head -n 3); \
	good=$$(grep -c '^\[       OK \] test_.*/long$$' $$out); \
	if ! echo "$$summary" | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed, 0 skipped$$'; then \
		echo "check-realkvm-broken: FAIL: no per-test summary with failures ($$summary; see $$out)" >&2; exit 1; \
	elif ! grep -q '^\[  FAILED  \] test_hello/paged32$$' $$out; then \
		echo "check-realkvm-broken: FAIL: test_hello/paged32 was not reported as failed (see $$out)" >&2; exit 1; \
	elif [ -n "$$bad" ] || [ "$$good" -eq 0 ]; then \
		echo "check-realkvm-broken: FAIL: tests other than paged32 failed or none passed: $$bad (see $$out)" >&2; \
		exit 1; \
	fi; \
	echo "check-realkvm-broken: OK: the lane reported the broken paged32 guests as failures ($$summary)"
