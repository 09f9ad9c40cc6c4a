# Guest images: included by the top-level Makefile. Builds every examples/NAME.c and
# tests/guests/NAME.c for the four CPU modes with plain gcc (no cross toolchain), plus the
# kvm-hello-world style flat binaries. Uses $(BUILD) and $(Q) from the Makefile.
#
#   $(BUILD)/guests/NAME-MODE.elf        from examples/NAME.c
#   $(BUILD)/guests/test-NAME-MODE.elf   from tests/guests/NAME.c
#   $(BUILD)/guests/flat-hello-MODE.bin  from tests/guests/flat/
#   $(BUILD)/guests/sdk/MODE/libkvmbox-guest.a  the start code and SDK library of MODE, as
#                                        installed for out-of-tree guests (kvmbox-guest.pc.in)
#   MODE is real, protected, paged32 or long: each one the source declares with a line
#   `/* kvmbox-modes: MODE... */`, all four when it has none (docs/sdk.md). A mode left out
#   is not built (one SKIP line per source when `guests` is made); a declared one that
#   fails to build fails the build.
#
# Variables: GUEST_ELFS, GUEST_FLATS, GUEST_EXAMPLE_ELFS, GUEST_TEST_ELFS, GUEST_MODES,
# GUEST_SDK_LIBS, and the flags of each mode (guest_m_MODE, GUEST_CFLAGS_MODE, guest_note_MODE).
# Targets: guests (all of them), guest-sdk-libs.

BUILD ?= build
GUEST_CC ?= gcc
GUEST_OBJCOPY ?= objcopy

GUEST_MODES := real protected paged32 long
GUEST_DIR := $(BUILD)/guests
GUEST_OBJDIR := $(GUEST_DIR)/obj

# KVMBOX_NOTE_MODE_* of include/kvmbox/abi.h, the -m flag and the start code of each mode.
guest_note_real := 1
guest_note_protected := 2
guest_note_paged32 := 3
guest_note_long := 4
guest_m_real := -m16
guest_m_protected := -m32
guest_m_paged32 := -m32
guest_m_long := -m64
guest_start_real := guest/start/start16.S
guest_start_protected := guest/start/start32.S
guest_start_paged32 := guest/start/start32.S
guest_start_long := guest/start/start64.S

GUEST_LDSCRIPT := guest/link/guest.ld
GUEST_FLAT_LDSCRIPT := tests/guests/flat/flat.ld

# Compiled into every image (the start code comes first).
GUEST_LIB_SRCS := \
	guest/lib/console.c \
	guest/lib/div64.c \
	guest/lib/errstr.c \
	guest/lib/hypercall.c \
	guest/lib/start.c \
	guest/lib/string.c

# $(call guest_cc_option,FLAG): FLAG when GUEST_CC accepts it (gcc and clang differ).
guest_cc_option = $(shell $(GUEST_CC) $(1) -Werror -c -x c /dev/null -o /dev/null \
	>/dev/null 2>&1 && echo $(1))
# gcc >= 12 treats stores to small constant addresses (the classic `*(long *)0x400 = 42`) as
# out-of-bounds null-pointer offsets (-Warray-bounds); guests do that on purpose.
# gcc may turn the loops of guest/lib/string.c back into calls to memset/memcpy.
GUEST_CC_EXTRA := $(call guest_cc_option,--param=min-pagesize=0) \
	$(call guest_cc_option,-fno-tree-loop-distribute-patterns)

GUEST_CFLAGS := -std=gnu11 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-builtin \
	-fno-common \
	-ffunction-sections -fdata-sections \
	-fmacro-prefix-map=$(CURDIR)/= \
	-Os -g -Wall -Wextra -Werror -Iinclude -Iguest/include \
	$(GUEST_CC_EXTRA)
# Real mode: 16-bit code may not touch x87/MMX/SSE state (-mgeneral-regs-only already keeps
# the compiler off them; these also stop any vector builtin from expanding).
GUEST_CFLAGS_real := -m16 -mno-sse -mno-sse2 -mno-mmx -mno-80387 -march=i686
GUEST_CFLAGS_protected := -m32
GUEST_CFLAGS_paged32 := -m32
GUEST_CFLAGS_long := -m64

GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--gc-sections \
	-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

# clang reports link-only flags as unused when it compiles, and -no-pie when it links.
GUEST_CC_IS_CLANG := $(shell $(GUEST_CC) --version 2>/dev/null | grep -qi clang && echo y)
ifeq ($(GUEST_CC_IS_CLANG),y)
GUEST_LDFLAGS += -Wno-unused-command-line-argument
endif

# Per-mode compiler flags: $(call guest_flags,MODE)
guest_flags = $(GUEST_CFLAGS) $(GUEST_CFLAGS_$(1)) -DKVMBOX_GUEST_MODE=$(guest_note_$(1))

# Source file -> object of MODE: $(call guest_obj,MODE,SRC)
guest_obj = $(GUEST_OBJDIR)/$(1)/$(basename $(2)).o
# The runtime objects every image of MODE links: start code, then the SDK library.
guest_rt = $(call guest_obj,$(1),$(guest_start_$(1))) \
	$(foreach s,$(GUEST_LIB_SRCS),$(call guest_obj,$(1),$(s)))

GUEST_EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
GUEST_TEST_SRCS := $(sort $(wildcard tests/guests/*.c))

# The modes SRC declares: the words of its first `/* kvmbox-modes: ... */` line, else all four.
# Read once per source when the Makefile is parsed; a word that is not a mode stops make.
guest_declared = $(strip $(shell sed -n 's|^/\* kvmbox-modes:\(.*\)\*/[[:space:]]*$$|\1|p;T;q' $(1)))
define guest_read_modes
guest_modes_$(1) := $$(or $$(call guest_declared,$(1)),$$(GUEST_MODES))
$$(if $$(filter-out $$(GUEST_MODES),$$(guest_modes_$(1))),$$(error $(1): kvmbox-modes: \
	'$$(filter-out $$(GUEST_MODES),$$(guest_modes_$(1)))' is not a mode ($$(GUEST_MODES))))
endef
$(foreach s,$(GUEST_EXAMPLE_SRCS) $(GUEST_TEST_SRCS),$(eval $(call guest_read_modes,$(s))))
# $(call guest_modes,SRC): the modes SRC is built for; $(call guest_skipped,SRC): the others.
guest_modes = $(guest_modes_$(1))
guest_skipped = $(filter-out $(guest_modes_$(1)),$(GUEST_MODES))

GUEST_EXAMPLE_ELFS := $(foreach s,$(GUEST_EXAMPLE_SRCS),\
	$(foreach m,$(call guest_modes,$(s)),$(GUEST_DIR)/$(basename $(notdir $(s)))-$(m).elf))
GUEST_TEST_ELFS := $(foreach s,$(GUEST_TEST_SRCS),\
	$(foreach m,$(call guest_modes,$(s)),$(GUEST_DIR)/test-$(basename $(notdir $(s)))-$(m).elf))
GUEST_ELFS := $(GUEST_EXAMPLE_ELFS) $(GUEST_TEST_ELFS)
GUEST_FLATS := $(foreach m,$(GUEST_MODES),$(GUEST_DIR)/flat-hello-$(m).bin)
# Sources with modes left out, for the one SKIP line each.
GUEST_PARTIAL_SRCS := $(foreach s,$(GUEST_EXAMPLE_SRCS) $(GUEST_TEST_SRCS),$(if $(call guest_skipped,$(s)),$(s)))

GUEST_OBJS := $(foreach m,$(GUEST_MODES),\
	$(foreach s,$(GUEST_LIB_SRCS) $(guest_start_$(m)),$(call guest_obj,$(m),$(s)))) \
	$(foreach s,$(GUEST_EXAMPLE_SRCS) $(GUEST_TEST_SRCS),\
		$(foreach m,$(call guest_modes,$(s)),$(call guest_obj,$(m),$(s)))) \
	$(call guest_obj,real,tests/guests/flat/hello16.S) \
	$(call guest_obj,protected,tests/guests/flat/hello.c) \
	$(call guest_obj,long,tests/guests/flat/hello.c)
GUEST_DEPS := $(GUEST_OBJS:.o=.d)
# Objects made by chained pattern rules are intermediate: keep them for incremental builds.
.SECONDARY: $(GUEST_OBJS) $(GUEST_OBJDIR)/flat/flat-hello-protected.elf $(GUEST_OBJDIR)/flat/flat-hello-long.elf \
	$(GUEST_OBJDIR)/flat/flat-hello-real.elf

# The SDK of each mode as one static library: an out-of-tree guest links it after its own
# objects (-Wl,-u,_start pulls the start code first, guest.ld puts it first).
guest_sdk_lib = $(GUEST_DIR)/sdk/$(1)/libkvmbox-guest.a
GUEST_SDK_LIBS := $(foreach m,$(GUEST_MODES),$(call guest_sdk_lib,$(m)))

.PHONY: guest-sdk-libs
guest-sdk-libs: $(GUEST_SDK_LIBS)

# Quiet-mode progress line: $(call guest_msg,WHAT,TARGET)
guest_msg = $(if $(Q),@printf '  %-12s %s\n' '$(1)' '$(2)')

.PHONY: guests
guests: $(GUEST_ELFS) $(GUEST_FLATS)
	$(if $(GUEST_PARTIAL_SRCS),@printf '  %-12s %s\n' $(foreach s,$(GUEST_PARTIAL_SRCS),SKIP \
		'$(s): not built for $(call guest_skipped,$(s)) (kvmbox-modes: $(call guest_modes,$(s)))'))

# Rules for one mode (pattern rules whose directories carry the mode name).
define guest_mode_rules
$(GUEST_OBJDIR)/$(1)/%.o: %.c
	$$(call guest_msg,CC-$(1),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$$(GUEST_CC) $$(call guest_flags,$(1)) -MMD -MP -c $$< -o $$@

$(GUEST_OBJDIR)/$(1)/%.o: %.S
	$$(call guest_msg,AS-$(1),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$$(GUEST_CC) $$(call guest_flags,$(1)) -MMD -MP -c $$< -o $$@

$(GUEST_DIR)/%-$(1).elf: $(GUEST_OBJDIR)/$(1)/examples/%.o $$(call guest_rt,$(1)) $$(GUEST_LDSCRIPT)
	$$(call guest_msg,LD-$(1),$$@)
	$(Q)$$(GUEST_CC) $$(call guest_flags,$(1)) $$(GUEST_LDFLAGS) -Wl,-T,$$(GUEST_LDSCRIPT) \
		-o $$@ $$(call guest_rt,$(1)) $$<

$(GUEST_DIR)/test-%-$(1).elf: $(GUEST_OBJDIR)/$(1)/tests/guests/%.o $$(call guest_rt,$(1)) $$(GUEST_LDSCRIPT)
	$$(call guest_msg,LD-$(1),$$@)
	$(Q)$$(GUEST_CC) $$(call guest_flags,$(1)) $$(GUEST_LDFLAGS) -Wl,-T,$$(GUEST_LDSCRIPT) \
		-o $$@ $$(call guest_rt,$(1)) $$<
endef
$(foreach m,$(GUEST_MODES),$(eval $(call guest_mode_rules,$(m))))

define guest_sdk_lib_rule
$(call guest_sdk_lib,$(1)): $(call guest_rt,$(1))
	$$(call guest_msg,AR-$(1),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(GUEST_MODES),$(eval $(call guest_sdk_lib_rule,$(m))))

# Flat binaries the kvm-hello-world way: linked at 0, entry = first byte, no headers.
# The .elf under obj/flat/ keeps the symbols for objdump/gdb.
$(GUEST_OBJDIR)/flat/flat-hello-real.elf: $(call guest_obj,real,tests/guests/flat/hello16.S) $(GUEST_FLAT_LDSCRIPT)
	$(call guest_msg,LD-flat,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(call guest_flags,real) $(GUEST_LDFLAGS) -Wl,-T,$(GUEST_FLAT_LDSCRIPT) -o $@ $<

$(GUEST_OBJDIR)/flat/flat-hello-protected.elf: $(call guest_obj,protected,tests/guests/flat/hello.c) $(GUEST_FLAT_LDSCRIPT)
	$(call guest_msg,LD-flat,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(call guest_flags,protected) $(GUEST_LDFLAGS) -Wl,-T,$(GUEST_FLAT_LDSCRIPT) -o $@ $<

$(GUEST_OBJDIR)/flat/flat-hello-long.elf: $(call guest_obj,long,tests/guests/flat/hello.c) $(GUEST_FLAT_LDSCRIPT)
	$(call guest_msg,LD-flat,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(call guest_flags,long) $(GUEST_LDFLAGS) -Wl,-T,$(GUEST_FLAT_LDSCRIPT) -o $@ $<

$(GUEST_DIR)/flat-hello-%.bin: $(GUEST_OBJDIR)/flat/flat-hello-%.elf
	$(call guest_msg,OBJCOPY,$@)
	$(Q)$(GUEST_OBJCOPY) -O binary $< $@

# 32-bit paging runs the same 32-bit code as protected mode.
$(GUEST_DIR)/flat-hello-paged32.bin: $(GUEST_DIR)/flat-hello-protected.bin
	$(call guest_msg,CP,$@)
	$(Q)cp $< $@

-include $(GUEST_DEPS)
