# Benchmarks (docs/performance.md): included by the Makefile, which provides $(BUILD), $(CC),
# $(CFLAGS), $(LIB), $(LDFLAGS), $(LDLIBS) and $(Q).
#
#   $(BUILD)/bench/floor         the raw-KVM floor (bench/floor.c), linked statically
#   $(BUILD)/bench/kvmbox_bench  kvmbox's figures through the library (bench/kvmbox_bench.c)
# Targets: bench-build (the programs and the guests), bench (check the host, build, run
# bench/run.sh, write $(BUILD)/bench/results.json). BENCH_QUICK=1 runs fewer repetitions.
# bench-many: BENCH_MANY (default 100, 1,000 and 10,000) hello VMs in one process, floor,
# library and command (bench/many.sh, $(BUILD)/bench/many.json; minutes for 10,000).

BENCH_FLOOR := $(BUILD)/bench/floor
BENCH_KVMBOX := $(BUILD)/bench/kvmbox_bench

# The floor is static: the fewest syscalls at process start (no dynamic loader).
$(BENCH_FLOOR): bench/floor.c bench/common.h tests/guests/bench_abi.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -static $< -o $@

$(BENCH_KVMBOX): bench/kvmbox_bench.c bench/common.h tests/guests/bench_abi.h $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) $< $(LIB) -o $@ $(LDLIBS)

BENCH_SCHED := $(BUILD)/bench/sched_bench

# Several-VM figures (docs/scheduler.md): 70/30 accuracy per quantum, preemption latency,
# 100 VMs round robin with RSS per VM.
$(BENCH_SCHED): bench/sched_bench.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) $< $(LIB) -o $@ $(LDLIBS)

.PHONY: bench bench-build bench-sched bench-many
bench-build: $(BENCH_FLOOR) $(BENCH_KVMBOX) $(BENCH_SCHED) $(BUILD)/kvmbox guests

# Without usable KVM, stop before building the benchmarks: one line naming the cause, and
# bench/run.sh's status 77 (make itself then says "Error 77").
BENCH_HOST_CHECK = $(Q)BUILD=$(BUILD) bench/run.sh --host-check

bench-sched: $(BUILD)/kvmbox
	$(BENCH_HOST_CHECK)
	$(Q)$(MAKE) --no-print-directory $(BENCH_SCHED) guests
	$(Q)$(BENCH_SCHED) -j $(BUILD)/bench/sched.json

BENCH_MANY ?= 100 1000 10000

bench-many: $(BUILD)/kvmbox
	$(BENCH_HOST_CHECK)
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)BUILD=$(BUILD) bench/run.sh --many $(BENCH_MANY)

bench: $(BUILD)/kvmbox
	$(BENCH_HOST_CHECK)
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)BUILD=$(BUILD) BENCH_QUICK=$(BENCH_QUICK) bench/run.sh
	$(Q)$(BENCH_SCHED) $(if $(BENCH_QUICK),-d 1) -j $(BUILD)/bench/sched.json
