# The library as a product: the shared library, `make install` / `make uninstall`, and the
# out-of-tree embedding test. Included by the Makefile, which provides $(BUILD), $(CC),
# $(CFLAGS), $(LIB_CFLAGS), $(LDFLAGS), $(LDLIBS), $(LIB_SRCS), $(LIB) and $(Q).
#
#   $(BUILD)/libkvmbox.so.VERSION   the shared library (soname libkvmbox.so.$(SOVERSION)), built
#                                   from -fPIC objects in $(BUILD)/pic/, plus its two symlinks
# Targets: shared, install, uninstall, check-install (tests/install/run.sh).
# Variables: PREFIX (/usr/local), DESTDIR (staging root), BINDIR, LIBDIR, INCLUDEDIR, DATADIR,
# MANDIR, PKGCONFIGDIR, GUESTDIR, BASHCOMPDIR.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
GUESTDIR ?= $(DATADIR)/kvmbox/guest
# Where bash-completion loads a command's completion from, by the command's name.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
INSTALL ?= install

# The version has one home, KVMBOX_VERSION in kvmbox.h. The soname changes with the ABI of
# the library (not with every release).
KVMBOX_VERSION := $(shell sed -n 's/^\#define KVMBOX_VERSION "\(.*\)"/\1/p' include/kvmbox/kvmbox.h)
SOVERSION := 0
SHLIB_LINK := libkvmbox.so
SHLIB_SONAME := $(SHLIB_LINK).$(SOVERSION)
SHLIB_FILE := $(SHLIB_LINK).$(KVMBOX_VERSION)
SHLIB := $(BUILD)/$(SHLIB_FILE)
PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
# A sanitizer build leaves the runtime's symbols to the executable that loads the library.
SHLIB_LDFLAGS := -shared -Wl,-soname,$(SHLIB_SONAME) $(if $(filter 1,$(SAN)),,-Wl,--no-undefined)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-PIC  $<")
	$(Q)$(CC) $(CFLAGS) $(LIB_CFLAGS) -fPIC -c $< -o $@

$(SHLIB): $(PIC_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(SHLIB_LDFLAGS) $^ -o $@ $(LDLIBS)
	$(Q)ln -sf $(SHLIB_FILE) $(BUILD)/$(SHLIB_SONAME)
	$(Q)ln -sf $(SHLIB_SONAME) $(BUILD)/$(SHLIB_LINK)

.PHONY: shared
shared: $(SHLIB)

-include $(shell find $(BUILD)/pic -name '*.d' 2>/dev/null)

# ---- install / uninstall ----------------------------------------------------------------
# What install puts under DESTDIR; uninstall removes the same list.
INSTALL_HEADERS := $(wildcard include/kvmbox/*.h)
# The guest SDK: the tree mk/guests.mk compiles every guest from, laid out as in the source so
# that -I$(GUESTDIR)/include finds kvmbox/guest.h and the freestanding ABI headers beside it.
GUEST_SDK_HEADERS := $(wildcard guest/include/kvmbox/*.h) include/kvmbox/abi.h include/kvmbox/matrix.h
GUEST_SDK_FILES := $(wildcard guest/start/*.S guest/lib/*.c guest/link/*.ld)
# Out-of-tree guests: per mode, the SDK as a static library ($(GUESTDIR)/MODE/) and a
# pkg-config file kvmbox-guest-MODE.pc with that mode's flags (kvmbox-guest.pc.in).
GUEST_PC_FILES := $(foreach m,$(GUEST_MODES),kvmbox-guest-$(m).pc)
GUEST_SDK_LIB_DIRS = $(foreach m,$(GUEST_MODES),$(DEST)$(GUESTDIR)/$(m))

DEST := $(DESTDIR)
INSTALLED_FILES := \
	$(DEST)$(BINDIR)/kvmbox \
	$(DEST)$(LIBDIR)/libkvmbox.a \
	$(DEST)$(LIBDIR)/$(SHLIB_FILE) \
	$(DEST)$(LIBDIR)/$(SHLIB_SONAME) \
	$(DEST)$(LIBDIR)/$(SHLIB_LINK) \
	$(DEST)$(PKGCONFIGDIR)/kvmbox.pc \
	$(DEST)$(MANDIR)/man1/kvmbox.1 \
	$(DEST)$(BASHCOMPDIR)/kvmbox \
	$(INSTALL_HEADERS:include/%=$(DEST)$(INCLUDEDIR)/%) \
	$(patsubst %,$(DEST)$(GUESTDIR)/include/kvmbox/%,$(notdir $(GUEST_SDK_HEADERS))) \
	$(GUEST_SDK_FILES:guest/%=$(DEST)$(GUESTDIR)/%) \
	$(GUEST_PC_FILES:%=$(DEST)$(PKGCONFIGDIR)/%) \
	$(GUEST_SDK_LIB_DIRS:%=%/libkvmbox-guest.a)
# Directories that belong to kvmbox alone, deepest first: uninstall removes them when empty.
INSTALLED_DIRS := \
	$(DEST)$(INCLUDEDIR)/kvmbox \
	$(DEST)$(GUESTDIR)/include/kvmbox $(DEST)$(GUESTDIR)/include \
	$(sort $(dir $(GUEST_SDK_FILES:guest/%=$(DEST)$(GUESTDIR)/%))) $(GUEST_SDK_LIB_DIRS) \
	$(DEST)$(GUESTDIR) $(DEST)$(DATADIR)/kvmbox

# Outside /usr the dynamic loader does not look in LIBDIR (/usr/local/lib only once ldconfig
# has run, $HOME/.local/lib never): kvmbox.pc then links with an rpath to LIBDIR, so a
# program built with `pkg-config --libs kvmbox` runs without LD_LIBRARY_PATH.
PC_RPATH := $(if $(filter /usr,$(PREFIX)),,-Wl,-rpath,$${libdir} )

.PHONY: install uninstall
# kvmbox.pc is generated at each install: it names the directories of this PREFIX.
install: $(BUILD)/kvmbox $(LIB) $(SHLIB) $(GUEST_SDK_LIBS)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@GUESTDIR@|$(GUESTDIR)|g' \
		-e 's|@RPATH@|$(PC_RPATH)|g' \
		-e 's|@VERSION@|$(KVMBOX_VERSION)|g' kvmbox.pc.in > $(BUILD)/kvmbox.pc
	$(Q)$(foreach m,$(GUEST_MODES),sed -e 's|@GUESTDIR@|$(GUESTDIR)|g' -e 's|@MODE@|$(m)|g' \
		-e 's|@NOTE@|$(guest_note_$(m))|g' -e 's|@MFLAGS@|$(GUEST_CFLAGS_$(m))|g' \
		-e 's|@VERSION@|$(KVMBOX_VERSION)|g' kvmbox-guest.pc.in > $(BUILD)/kvmbox-guest-$(m).pc &&) true
	$(Q)$(INSTALL) -d $(DEST)$(BINDIR) $(DEST)$(LIBDIR) $(DEST)$(PKGCONFIGDIR) $(DEST)$(MANDIR)/man1 \
		$(DEST)$(BASHCOMPDIR) \
		$(DEST)$(INCLUDEDIR)/kvmbox $(DEST)$(GUESTDIR)/include/kvmbox \
		$(addprefix $(DEST)$(GUESTDIR)/,$(sort $(dir $(GUEST_SDK_FILES:guest/%=%)))) \
		$(GUEST_SDK_LIB_DIRS)
	$(Q)$(INSTALL) -m 755 $(BUILD)/kvmbox $(DEST)$(BINDIR)/kvmbox
	$(Q)$(INSTALL) -m 644 $(LIB) $(DEST)$(LIBDIR)/libkvmbox.a
	$(Q)$(INSTALL) -m 755 $(SHLIB) $(DEST)$(LIBDIR)/$(SHLIB_FILE)
	$(Q)ln -sf $(SHLIB_FILE) $(DEST)$(LIBDIR)/$(SHLIB_SONAME)
	$(Q)ln -sf $(SHLIB_SONAME) $(DEST)$(LIBDIR)/$(SHLIB_LINK)
	$(Q)$(INSTALL) -m 644 $(BUILD)/kvmbox.pc $(DEST)$(PKGCONFIGDIR)/kvmbox.pc
	$(Q)$(foreach m,$(GUEST_MODES),$(INSTALL) -m 644 $(BUILD)/kvmbox-guest-$(m).pc \
		$(DEST)$(PKGCONFIGDIR)/ && $(INSTALL) -m 644 $(call guest_sdk_lib,$(m)) \
		$(DEST)$(GUESTDIR)/$(m)/libkvmbox-guest.a &&) true
	$(Q)$(INSTALL) -m 644 docs/kvmbox.1 $(DEST)$(MANDIR)/man1/kvmbox.1
	$(Q)$(INSTALL) -m 644 cli/kvmbox.bash-completion $(DEST)$(BASHCOMPDIR)/kvmbox
	$(Q)$(INSTALL) -m 644 $(INSTALL_HEADERS) $(DEST)$(INCLUDEDIR)/kvmbox/
	$(Q)$(INSTALL) -m 644 $(GUEST_SDK_HEADERS) $(DEST)$(GUESTDIR)/include/kvmbox/
	$(Q)$(foreach f,$(GUEST_SDK_FILES),$(INSTALL) -m 644 $(f) $(DEST)$(GUESTDIR)/$(f:guest/%=%) &&) true
	@$(if $(Q),echo "  INSTALL $(DEST)$(PREFIX)")
	$(Q)$(if $(DESTDIR),true,$(install_hints))

# After a real install (no DESTDIR): what a prefix outside the usual places needs, said by
# make (pkg-config's search path and PATH), so the next command of docs/embedding.md works.
define install_hints
pc=$$(pkg-config --variable pc_path pkg-config 2>/dev/null); \
case ":$$pc:$${PKG_CONFIG_PATH:-}:" in *":$(PKGCONFIGDIR):"*) ;; \
*) echo "make install: pkg-config does not look in $(PKGCONFIGDIR): export PKG_CONFIG_PATH=$(PKGCONFIGDIR)" ;; \
esac; \
case ":$$PATH:" in *":$(BINDIR):"*) ;; \
*) echo "make install: $(BINDIR) is not in PATH: export PATH=$(BINDIR):\$$PATH" ;; \
esac
endef

uninstall:
	$(Q)rm -f $(sort $(INSTALLED_FILES))
	$(Q)for d in $(INSTALLED_DIRS); do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; done
	@$(if $(Q),echo "  UNINSTALL $(DEST)$(PREFIX)")

# Installs into a temporary DESTDIR, builds tests/install/embed.c out of tree with pkg-config
# only, runs it against the installed shared library, then uninstalls and checks nothing is left.
.PHONY: check-install
# The compiler and sanitizer flags the script builds embed.c with, exported so that it gets
# them however it is started (make check-install, or make check through tests/run.sh).
export EMBED_CC := $(CC)
export EMBED_FLAGS := $(filter -fsanitize=%,$(LDFLAGS))
check-install: $(BUILD)/kvmbox $(LIB) $(SHLIB) guests $(GUEST_SDK_LIBS)
	$(Q)BUILD=$(BUILD) MAKE="$(MAKE)" tests/install/run.sh
