# libFuzzer targets (docs/security.md, "Fuzzing"): fuzz/NAME.c against the library and the option
# parser (cli/opts.c, cli/vm_opts.c): image, walk, sched, opts, hc (every hypercall handler on
# fake VMs), mem (guest-memory accessors), gdb (the gdb stub's parser and commands), built with clang and
# -fsanitize=fuzzer-no-link,address,undefined in $(FUZZ_BUILD). Included by the
# Makefile, which provides $(BUILD), $(LIB_SRCS), $(WARNINGS) and $(Q). Needs Debian's clang and
# libclang-rt-14-dev (scripts/deps.sh).
#
#   make fuzz FUZZ_S=N   run each target for N seconds (default 10) from its committed seed corpus
#                        fuzz/corpus/NAME plus what earlier runs found ($(FUZZ_BUILD)/corpus/NAME);
#                        fails on the first crash, leak or broken contract, whose input is saved as
#                        $(FUZZ_BUILD)/crash-NAME-*
#   make fuzz-smoke      each target for about 5 s (CI)
#   make fuzz-build      only build the targets: $(FUZZ_BUILD)/fuzz-NAME [-runs=N] [DIR or FILE]...

FUZZ_TARGETS := image walk sched opts hc mem gdb snap
FUZZ_S ?= 10
FUZZ_CC ?= clang
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE $(WARNINGS) -Iinclude -Isrc -Icli -MMD -MP \
	$(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/cli/opts.o \
	$(FUZZ_BUILD)/obj/cli/vm_opts.o
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz-%: $(FUZZ_BUILD)/obj/fuzz/%.o $(FUZZ_LIB_OBJS)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ -lrt -lm -ldw -lelf -lz -lcapstone -lseccomp

# The gdb stub's target drives the unit tests' fake target.
$(FUZZ_BUILD)/obj/fuzz/gdb.o: FUZZ_CFLAGS += -Itests/unit
$(FUZZ_BUILD)/fuzz-gdb: $(FUZZ_BUILD)/obj/tests/unit/gdb_fake_target.o

# Each target for $(FUZZ_S) seconds, one after the other (one core); libFuzzer's status is not 0
# on a crash, a leak or a broken contract: the loop stops there and shows the end of its log.
.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_S) s"; \
		$(FUZZ_BUILD)/fuzz-$$t -max_total_time=$(FUZZ_S) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t \
			2>$(FUZZ_BUILD)/$$t.log || { tail -n 40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(FUZZ_BUILD)/$$t.log; \
	done
fuzz-smoke:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_S=5

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
