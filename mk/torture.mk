# Random-guest torture (docs/security.md, "Torture"): seeded random-byte and random-instruction
# flat guests for every mode, run by $(BUILD)/kvmbox with --timeout and classified by exit status
# and message. Included by the Makefile, which provides $(BUILD), $(CC), $(CFLAGS), $(LDFLAGS), $(Q).
#
#   make torture                     TORTURE_N guests of each kind per mode (on this host's KVM, or
#                                    in the QEMU lane in one boot where `kvmbox doctor --brief` exits
#                                    69, EXIT_NO_KVM in cli/status.h)
#   make torture BUILD=build/asan SAN=1   the same against an ASan+UBSan kvmbox
# Variables: TORTURE_SEED (default 1), TORTURE_N (per mode and kind, default 50), TORTURE_TIMEOUT
# (kvmbox --timeout, s), TORTURE_MARGIN (s past the timeout before a run counts as hung),
# TORTURE_JOBS (kvmbox processes at once), TORTURE_IN (auto, or host / qemu to force where the
# batch runs). Guests and their list: $(BUILD)/torture/guests/.

TORTURE_SEED ?= 1
TORTURE_N ?= 50
TORTURE_TIMEOUT ?= 0.5
TORTURE_MARGIN ?= 10
TORTURE_JOBS ?= 2
TORTURE_IN ?= auto
TORTURE_DIR := $(BUILD)/torture
TORTURE_GEN := $(TORTURE_DIR)/torture-gen
TORTURE_RUN := $(TORTURE_DIR)/torture-run

$(TORTURE_GEN) $(TORTURE_RUN): $(TORTURE_DIR)/torture-%: tests/torture/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -Icli $(LDFLAGS) $< -o $@

# The guests are made on this host first, so the lane (when needed) boots once for the whole batch.
.PHONY: torture
torture: $(BUILD)/kvmbox $(TORTURE_GEN) $(TORTURE_RUN)
	$(Q)rm -rf $(TORTURE_DIR)/guests && mkdir -p $(TORTURE_DIR)/guests
	$(Q)$(TORTURE_GEN) $(TORTURE_DIR)/guests $(TORTURE_SEED) $(TORTURE_N)
	@echo "torture: seed $(TORTURE_SEED), $(TORTURE_N) random-byte and $(TORTURE_N) random-instruction guests per mode"
	$(Q)cause=$$($(BUILD)/kvmbox doctor --brief 2>&1); kvm=$$?; \
	case "$(TORTURE_IN)" in qemu) kvm=69; cause="TORTURE_IN=qemu";; host) kvm=0;; esac; \
	run="$(TORTURE_RUN) $(BUILD)/kvmbox $(TORTURE_DIR)/guests $(TORTURE_TIMEOUT) $(TORTURE_MARGIN) $(TORTURE_JOBS)"; \
	if [ $$kvm -eq 69 ]; then \
		echo "torture: $$cause: running the batch inside the QEMU lane (kvm_amd under QEMU/TCG)" >&2; \
		BUILD=$(BUILD) scripts/kvm-in-qemu --timeout 3600 $$run; \
	else \
		$$run; \
	fi

# The runner against a stand-in kvmbox that crashes, hangs, returns an undocumented status or
# prints a sanitizer report: each must be a failure (no KVM needed, about 2 s).
.PHONY: torture-selftest
torture-selftest: $(TORTURE_RUN)
	$(Q)tests/torture/selftest.sh $(TORTURE_RUN) $(TORTURE_DIR)/selftest
