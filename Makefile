# kvmbox: one GNU Makefile for the library, the command, guests, tests and benchmarks.
# `make` builds, `make check` runs every test, `make help` lists the rest. V=1 shows commands.

BUILD ?= build
CC ?= cc
OBJCOPY ?= objcopy
V ?= 0
SAN ?= 0
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE $(WARNINGS) -Iinclude -Isrc -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS := $(EXTRA_LDFLAGS)
LDLIBS := -lrt -ldw -lelf -lz -lcapstone -lseccomp -pthread
# The command is linked statically, as a static PIE (its own addresses stay randomized): the
# dynamic loader mapped, relocated and bound libc and the other libraries at every start, a
# seventh of a hello run on a nested host (docs/performance.md). Its name-service lookups
# (--user, doctor's group names, gdb's HOST) then use the C library's built-in files and dns
# services only (cli/main.c), so glibc's link-time warnings about NSS in static programs do
# not apply and are left out. A sanitizer build needs the shared C library, and so does the
# twin tests/host/kvmbox-dynamic (the same objects) that test_robust starts with an
# LD_PRELOAD shim: there only the other libraries are static.
CLI_SHARED_LDLIBS := -lrt -Wl,-Bstatic -ldw -lelf -lz -lbz2 -llzma -lcapstone -lseccomp \
	-Wl,-Bdynamic -pthread
ifeq ($(SAN),1)
CLI_LDLIBS := $(CLI_SHARED_LDLIBS)
else
CLI_LDLIBS := -static-pie -Wl,-z,pack-relative-relocs -lrt -ldw -lelf -lz -lbz2 -llzma \
	-lcapstone -lseccomp -pthread
endif
CLI_LD_QUIET := '/: in function /{h=$$0; next} /statically linked applications requires at runtime/{h=""; next} {if (h != "") print h; h=""; print} END {if (h != "") print h}'
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-DKVMBOX_SANITIZE
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS := \
	src/base/log.c \
	src/base/util.c \
	src/call/call_exports.c \
	src/call/call_run.c \
	src/chan/hub.c \
	src/fault/fault_exit.c \
	src/fault/fault_report.c \
	src/fault/symbol_cache.c \
	src/fault/symbolize.c \
	src/gdb/conn.c \
	src/gdb/kvm_target.c \
	src/gdb/packet.c \
	src/gdb/probe.c \
	src/gdb/reply.c \
	src/gdb/session.c \
	src/gdb/stub.c \
	src/gdb/stub_cmd.c \
	src/gdb/tdesc.c \
	src/hc/hc_args.c \
	src/hc/hc_chan.c \
	src/hc/hc_console.c \
	src/hc/hc_files.c \
	src/hc/hc_hostfn.c \
	src/hc/hc_snap.c \
	src/hc/hc_stats.c \
	src/hc/hc_table.c \
	src/image/image.c \
	src/image/image_file.c \
	src/kvm/kvm.c \
	src/kvm/kvm_explain.c \
	src/kvm/kvm_trace.c \
	src/mem/mem.c \
	src/sandbox/prebuilt.c \
	src/sandbox/sandbox.c \
	src/sched/sched.c \
	src/sched/sched_report.c \
	src/snap/snap_cpu.c \
	src/snap/snap_file.c \
	src/snap/snap_restore.c \
	src/snap/snap_save.c \
	src/vm/vm_console.c \
	src/vm/vm_create.c \
	src/vm/vm_deadline.c \
	src/vm/vm_exit.c \
	src/vm/vm_features.c \
	src/vm/vm_guard.c \
	src/vm/vm_host.c \
	src/vm/vm_ports.c \
	src/vm/vm_reset.c \
	src/vm/vm_run.c \
	src/vm/vm_service.c \
	src/vm/vm_walk.c \
	src/x86/cpuid.c \
	src/x86/exc.c \
	src/x86/idt.c \
	src/x86/insn.c \
	src/x86/layout.c \
	src/x86/modes.c \
	src/x86/pagewalk.c \
	src/x86/pagewalk_text.c \
	src/x86/paging.c \
	src/x86/regs.c

CLI_SRCS := \
	cli/call.c \
	cli/capstone_x86.c \
	cli/conout.c \
	cli/doctor.c \
	cli/harden.c \
	cli/inputs.c \
	cli/load.c \
	cli/main.c \
	cli/multi.c \
	cli/opts.c \
	cli/signals.c \
	cli/single.c \
	cli/snapshot.c \
	cli/status.c \
	cli/vm_opts.c \
	cli/walk_print.c

LIB := $(BUILD)/libkvmbox.a
LIB_INTERNAL := $(BUILD)/libkvmbox-internal.a
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/cli/builtin.o

# The library exports only its API: its objects hide every symbol that no public header
# marks (include/kvmbox/visibility.h). The command and the host tests see only the public
# headers (no -Isrc) and link the sealed $(LIB); unit tests may reach inside, and link the
# same objects unsealed ($(LIB_INTERNAL)).
LIB_CFLAGS := -fvisibility=hidden
$(LIB_OBJS): CFLAGS += $(LIB_CFLAGS)
$(BUILD)/obj/cli/%.o $(BUILD)/obj/tests/host/%.o: CFLAGS := $(filter-out -Isrc,$(CFLAGS))

.PHONY: all
all: $(BUILD)/kvmbox guests

include mk/guests.mk
-include mk/realkvm.mk
include mk/install.mk

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The static library is sealed like the shared one: its objects linked into one (`cc -r`)
# whose hidden symbols, the names the library's files share (set_error, mem_read ...), are
# then made local. A program that links it sees kvmbox_* alone, so a set_error of its own
# neither clashes with kvmbox's ("multiple definition") nor silently replaces it, as it did
# with the plain objects in the archive. The cost: a static program takes the whole library,
# not only the objects it calls into (the command uses nearly all of it anyway).
LIB_SEALED_OBJ := $(BUILD)/obj/libkvmbox-sealed.o
$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  SEAL    $@")
	$(Q)$(CC) -r -nostdlib $^ -o $(LIB_SEALED_OBJ).tmp
	$(Q)$(OBJCOPY) --localize-hidden $(LIB_SEALED_OBJ).tmp $(LIB_SEALED_OBJ) && rm -f $(LIB_SEALED_OBJ).tmp
	$(Q)rm -f $@ && ar rcs $@ $(LIB_SEALED_OBJ)

$(LIB_INTERNAL): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# The built-in hello guests are the example guest, embedded whole and loaded like any ELF.
BUILTIN_HELLOS := $(foreach m,real protected paged32 long,$(BUILD)/guests/hello-$(m).elf)
$(BUILD)/obj/cli/builtin.o: cli/builtin.S $(BUILTIN_HELLOS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) -c $< -o $@ $(foreach m,real protected paged32 long,\
		-DHELLO_$(shell echo $(m) | tr a-z A-Z)='"$(BUILD)/guests/hello-$(m).elf"')

# The command's seccomp filter for the common run (one VM, no share, gdb stub or snapshot),
# built once here by libseccomp from the sandbox's own rules (src/sandbox/prebuilt.h), so that
# a run fills in its descriptors and loads it instead of building it again
# (docs/performance.md). Regenerated whenever the library changes.
SECCOMP_PREBUILT_GEN := $(BUILD)/gen/seccomp_prebuilt_gen
SECCOMP_PREBUILT := $(BUILD)/obj/gen/seccomp_prebuilt.o
$(SECCOMP_PREBUILT_GEN): $(BUILD)/obj/src/sandbox/prebuilt_gen.o $(LIB_INTERNAL)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/gen/seccomp_prebuilt.c: $(SECCOMP_PREBUILT_GEN)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$< > $@.tmp && mv $@.tmp $@
$(SECCOMP_PREBUILT): $(BUILD)/gen/seccomp_prebuilt.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -Isrc/sandbox -c $< -o $@

$(BUILD)/kvmbox: $(CLI_OBJS) $(SECCOMP_PREBUILT) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(CLI_LDLIBS) 2>$@.ld || { cat $@.ld >&2; rm -f $@.ld; exit 1; }
	$(Q)awk $(CLI_LD_QUIET) $@.ld >&2; rm -f $@.ld

# ---- tests ----------------------------------------------------------------------------
# Unit tests link the library's objects unsealed (they call its internal functions), host
# tests the sealed library as an embedder does; guest tests also need the guests and the command.
TESTS := \
	unit/test_cause \
	unit/test_core \
	unit/test_debuginfo \
	unit/test_exc \
	unit/test_gdb \
	unit/test_image \
	unit/test_opts \
	unit/test_prebuilt \
	unit/test_trace \
	unit/test_walk \
	unit/test_x86 \
	host/test_call \
	host/test_cli \
	host/test_console \
	host/test_cpuid \
	host/test_docs \
	host/test_doctor \
	host/test_faults \
	host/test_gdb_session \
	host/test_guests \
	host/test_harden \
	host/test_hypercalls \
	host/test_lane \
	host/test_lifecycle \
	host/test_many \
	host/test_reset \
	host/test_robust \
	host/test_runner \
	host/test_sandbox \
	host/test_sched \
	host/test_sdk \
	host/test_snapshot \
	host/test_trace \
	host/test_walk

TEST_BINS := $(TESTS:%=$(BUILD)/tests/%)
TEST_HARNESS := $(BUILD)/obj/tests/host/harness.o

define link_test
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka
endef
UNIT_BINS := $(filter $(BUILD)/tests/unit/%,$(TEST_BINS))
HOST_BINS := $(filter $(BUILD)/tests/host/%,$(TEST_BINS))
$(BUILD)/tests/unit/test_opts: $(BUILD)/obj/cli/opts.o $(BUILD)/obj/cli/vm_opts.o
$(BUILD)/tests/unit/test_prebuilt: $(SECCOMP_PREBUILT)
# test_gdb drives the real gdb against gdb_fake_server, which it finds next to itself.
$(BUILD)/tests/unit/test_gdb: $(BUILD)/obj/tests/unit/gdb_fake_target.o | $(BUILD)/tests/unit/gdb_fake_server
$(BUILD)/tests/unit/gdb_fake_server: $(BUILD)/obj/tests/unit/gdb_fake_server.o \
		$(BUILD)/obj/tests/unit/gdb_fake_target.o $(LIB_INTERNAL)
	$(link_test)
# test_debuginfo compares the symbolizer with binutils' addr2line, asked at build time (the
# QEMU lane has no binutils) and compiled into the test.
DEBUGINFO_IMAGES := $(foreach m,real protected paged32 long,$(BUILD)/guests/hello-$(m).elf \
	$(BUILD)/guests/test-hc_basic-$(m).elf)
$(BUILD)/gen/debuginfo_expect.h: tests/unit/debuginfo_expect.sh $(DEBUGINFO_IMAGES)
	@mkdir -p $(@D)
	$(Q)tests/unit/debuginfo_expect.sh $(DEBUGINFO_IMAGES) > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/tests/unit/test_debuginfo.o: $(BUILD)/gen/debuginfo_expect.h
$(BUILD)/obj/tests/unit/test_debuginfo.o: CFLAGS += -I$(BUILD)/gen
# A guest whose debug data names a supplementary file, as dwz makes them: a stripped copy of
# test-print_then_ud-long.elf given the DWARF and .gnu_debugaltlink sections of
# tests/guests/crafted/altlink.S (test_robust runs it under the process sandbox).
CRAFTED_ALTLINK := $(BUILD)/guests/crafted-altlink-long.elf
CRAFTED_OBJ := $(BUILD)/guests/obj/crafted/altlink
$(CRAFTED_ALTLINK): tests/guests/crafted/altlink.S $(BUILD)/guests/test-print_then_ud-long.elf
	@mkdir -p $(dir $(CRAFTED_OBJ))
	@$(if $(Q),echo "  CRAFT   $@")
	$(Q)$(GUEST_CC) -c $< -o $(CRAFTED_OBJ).o
	$(Q)$(GUEST_OBJCOPY) --dump-section .debug_info=$(CRAFTED_OBJ).info \
		--dump-section .debug_abbrev=$(CRAFTED_OBJ).abbrev \
		--dump-section .gnu_debugaltlink=$(CRAFTED_OBJ).link $(CRAFTED_OBJ).o
	$(Q)$(GUEST_OBJCOPY) --strip-debug --add-section .debug_info=$(CRAFTED_OBJ).info \
		--add-section .debug_abbrev=$(CRAFTED_OBJ).abbrev \
		--add-section .gnu_debugaltlink=$(CRAFTED_OBJ).link $(word 2,$^) $@
# test_robust starts kvmbox with this shim preloaded (a signal or a forbidden call at an exact
# KVM_RUN); it is built without sanitizers whatever the build.
$(BUILD)/tests/host/preload.so: tests/host/preload.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=gnu11 -O2 -D_GNU_SOURCE $(WARNINGS) -shared -fPIC $< -o $@
# ... and with the command linked with the shared C library, which the shim interposes on.
$(BUILD)/tests/host/kvmbox-dynamic: $(CLI_OBJS) $(SECCOMP_PREBUILT) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(CLI_SHARED_LDLIBS)
$(BUILD)/tests/host/test_robust: | $(BUILD)/tests/host/preload.so $(BUILD)/tests/host/kvmbox-dynamic
$(UNIT_BINS): $(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB_INTERNAL)
	$(link_test)
$(HOST_BINS): $(BUILD)/tests/host/%: $(BUILD)/obj/tests/host/%.o $(TEST_HARNESS) $(LIB)
	$(link_test)

.PHONY: tests check check-unit
tests: $(TEST_BINS) $(BUILD)/kvmbox guests $(CRAFTED_ALTLINK)

# Every test program runs even when one fails; the summary line counts every test. Where this host has
# no usable KVM, tests/run.sh runs them all inside the QEMU lane (mk/realkvm.mk) by itself.
check: tests check-layers check-docs
	$(Q)BUILD=$(BUILD) tests/run.sh $(TEST_BINS)

# The library's layers (src/LAYERS): no file uses one of a higher layer, and no circle.
.PHONY: check-layers
check-layers: $(LIB)
	$(Q)python3 scripts/layers.py --objs $(BUILD)/obj --layers src/LAYERS

# The ioctl helpers (src/kvm/kvm.h, src/vm/vm.h) refuse at compile time an argument that is
# not what the request encodes: tests/unit/ioctl_args.sh compiles the right forms of
# tests/unit/ioctl_args.c with this build's compiler and flags, and expects each wrong one
# to fail, naming its request. Part of `make tests`, so of every check.
IOCTL_ARGS_OK := $(BUILD)/tests/unit/ioctl_args.ok
tests: $(IOCTL_ARGS_OK)
$(IOCTL_ARGS_OK): tests/unit/ioctl_args.sh tests/unit/ioctl_args.c src/kvm/kvm.h src/vm/vm.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CHECK   $(<D)/ioctl_args.c: wrong ioctl arguments do not compile")
	$(Q)$< $(CC) $(filter-out -MMD -MP,$(CFLAGS)) > $@.tmp || { cat $@.tmp; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

# The repository stands alone and each fact has one home (tests/README.md, "docs"): nothing
# cites what is outside the tree, the exit statuses of README.md, docs/kvmbox.1 and the usage
# text are cli/status.h's, docs/abi.md lists every hypercall of abi.h.
.PHONY: check-docs
check-docs: $(BUILD)/kvmbox
	$(Q)python3 tests/docs/selfcontained.py
	$(Q)BUILD=$(BUILD) python3 tests/docs/statuses.py
	$(Q)python3 tests/docs/abi.py

# The unit tests need no KVM: they always run on this host.
check-unit: $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) TESTS_IN=host tests/run.sh $^

# Sanitizer and second-compiler builds, each in its own build directory.
.PHONY: check-asan check-clang
check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 check
check-clang:
	$(Q)$(MAKE) --no-print-directory BUILD=build/clang CC=clang check

# ---- benchmarks -----------------------------------------------------------------------
-include mk/bench.mk
include mk/torture.mk
include mk/fuzz.mk

.PHONY: clean help
clean:
	rm -rf build

help:
	@echo "make                 build kvmbox and the example guests into $(BUILD)/"
	@echo "make run             build as make does, then run the built-in hello guest (long mode)"
	@echo "make check           build and run every test (this host's KVM, or the QEMU lane without one)"
	@echo "make check-unit      only the unit tests (no KVM needed)"
	@echo "make check-docs      the tree cites nothing outside it; statuses and hypercalls have one home"
	@echo "make check-realkvm   every test inside the QEMU lane (kvm_amd under QEMU/TCG), whatever the host"
	@echo "make check-realkvm-broken  proof that the lane reports failing guest tests (broken paged32)"
	@echo "make check-asan      the tests under ASan+UBSan (build/asan)"
	@echo "make check-clang     the tests built with clang (build/clang)"
	@echo "make torture         random guests per mode against kvmbox (TORTURE_N, TORTURE_SEED; docs/security.md)"
	@echo "make torture-selftest  proof that the torture runner reports crashes, hangs and odd statuses"
	@echo "make fuzz            each libFuzzer target for FUZZ_S seconds (clang; make fuzz-smoke: ~5 s each)"
	@echo "make bench           benchmarks against the raw-KVM floor (bench/; hardware KVM only)"
	@echo "build/kvmbox doctor  what this host's KVM can do, and what to do without one"
	@echo "scripts/kvm-in-qemu CMD...  run any kvmbox command line inside the QEMU lane"
	@echo "make install         install under PREFIX=/usr/local (DESTDIR= stages); make uninstall"
	@echo "make check-install   install into a temporary DESTDIR, build and run an embedder with pkg-config"
	@echo "                     and a guest per mode with pkg-config kvmbox-guest-MODE"
	@echo "V=1 shows commands; BUILD=dir chooses the build directory"

# Builds what `make` builds (the command and every guest the README's examples name), then
# runs the hello guest; without a usable KVM (kvmbox doctor --brief: status 69) inside the
# QEMU lane.
.PHONY: run
run: all
	$(Q)cause=$$($(BUILD)/kvmbox doctor --brief 2>&1); \
	if [ $$? -eq 69 ]; then \
		echo "make run: $$cause: running kvmbox inside QEMU/TCG with nested kvm_amd (slower)" >&2; \
		BUILD=$(BUILD) scripts/kvm-in-qemu $(BUILD)/kvmbox run; \
	else \
		$(BUILD)/kvmbox run; \
	fi

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
