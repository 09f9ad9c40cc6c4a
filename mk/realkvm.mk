# Real-KVM lane (docs/realkvm.md): the guest tests under kvm_amd in a QEMU/TCG guest, where 32-bit paging
# works (this host's kvm_pvm cannot run it). Included by the Makefile, which provides $(BUILD), $(Q) and the
# target realkvm-payload (kvmbox, the test programs and the guest images).
#
# Targets:
#   realkvm-setup         install QEMU etc. and cache a Debian kernel + base initramfs in $(REALKVM_DIR)
#   check-realkvm         run $(REALKVM_TESTS) and `build/kvmbox run -m paged32` in the QEMU guest
#   check-realkvm-broken  build $(REALKVM_BROKEN_BUILD) with a deliberately broken paged32 page table;
#                         succeeds only if the lane then fails that paged32 run
# Variables:
#   REALKVM_TESTS         test programs, as repo paths with build/ standing for $(BUILD) (as the guest sees
#                         them under /kvmbox)
#   REALKVM_TIMEOUT       seconds of wall time before QEMU is killed and the lane fails
#   REALKVM_DIR           the setup cache, shared by every BUILD
#   REALKVM_LOG           where the serial log is kept
#   REALKVM_BROKEN_BUILD  build directory of the broken variant

REALKVM_TESTS ?= build/tests/host/test_guests build/tests/host/test_cli build/tests/host/test_hypercalls build/tests/host/test_reset
REALKVM_TIMEOUT ?= 300
REALKVM_DIR ?= build/realkvm
REALKVM_LOG ?= $(BUILD)/realkvm.log
REALKVM_BROKEN_BUILD ?= build/broken

REALKVM_PAGED32 := build/kvmbox run -m paged32

.PHONY: realkvm-setup check-realkvm check-realkvm-broken
realkvm-setup:
	$(Q)scripts/realkvm/setup.sh $(REALKVM_DIR)

# The guest sees $(BUILD) as /kvmbox/build. The guest images are globbed by the shell, once
# realkvm-payload has built them.
check-realkvm: realkvm-payload realkvm-setup
	$(Q)files=; \
	for f in $(BUILD)/kvmbox $(BUILD)/guests/*.elf $(BUILD)/guests/*.bin \
		$(patsubst build/%,$(BUILD)/%,$(REALKVM_TESTS)); do \
		[ -e "$$f" ] && files="$$files --file $$f=build/$${f#$(BUILD)/}"; \
	done; \
	for f in tests/guests/*.c; do files="$$files --file $$f=$$f"; done; \
	scripts/realkvm/run.sh --dir $(REALKVM_DIR) --timeout $(REALKVM_TIMEOUT) --log $(REALKVM_LOG) $$files \
		$(foreach t,$(REALKVM_TESTS),--test $(t)) --test-expect 'Hello, world!' '$(REALKVM_PAGED32)'

# Proof that the lane runs guests in 32-bit paging: with the page table broken it must fail, and fail in
# the paged32 run itself (not in the build or the boot, which would leave no result line).
check-realkvm-broken: realkvm-setup
	$(Q)rm -f $(REALKVM_BROKEN_BUILD)/realkvm.log
	$(Q)if $(MAKE) --no-print-directory BUILD=$(REALKVM_BROKEN_BUILD) \
		EXTRA_CFLAGS=-DKVMBOX_TEST_BREAK_PAGED32 REALKVM_DIR=$(REALKVM_DIR) \
		REALKVM_LOG=$(REALKVM_BROKEN_BUILD)/realkvm.log check-realkvm; then \
		echo "check-realkvm-broken: FAIL: the lane passed a kvmbox with a broken paged32 page table" >&2; \
		exit 1; \
	fi
	$(Q)log=$(REALKVM_BROKEN_BUILD)/realkvm.log; \
	if ! grep -qs '^REALKVM-RESULT: ' $$log; then \
		echo "check-realkvm-broken: FAIL: the lane did not complete (build, boot or payload error above)" >&2; \
		exit 1; \
	elif ! grep -qF 'REALKVM-FAIL: $(REALKVM_PAGED32) ' $$log; then \
		echo "check-realkvm-broken: FAIL: other tests failed, but '$(REALKVM_PAGED32)' passed ($$log)" >&2; \
		exit 1; \
	fi
	@echo "check-realkvm-broken: OK: the lane caught the broken paged32 page table"
