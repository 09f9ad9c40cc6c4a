#!/usr/bin/env bash
# `make check-install`: install kvmbox into a temporary DESTDIR, build tests/install/embed.c out
# of tree with nothing but `pkg-config --cflags --libs kvmbox`, run it against the installed
# shared library (and once linked statically), check the shared library exports only kvmbox_
# names, then uninstall and check nothing is left. Prints cmocka-style RUN/OK/FAILED/SKIPPED
# lines, so tests/run.sh can count it, and exits 1 when a step failed.
# Environment: BUILD (build dir, default build), MAKE, EMBED_CC (else CC, else cc) and
# EMBED_FLAGS (extra flags) for embed.c, GUEST_CC (default gcc) for the SDK guest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) build=$BUILD ;; *) build=$root/$BUILD ;; esac
MAKE=${MAKE:-make}
CC=${EMBED_CC:-${CC:-cc}}
GUEST_CC=${GUEST_CC:-gcc}
EMBED_FLAGS=${EMBED_FLAGS:-}
prefix=/usr/local
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmbox-install.XXXXXX")
dest=$tmp/root
libdir=$dest$prefix/lib
trap 'rm -rf "$tmp"' EXIT
failed=0

# step NAME COMMAND...: one test; the command prints why it fails, exits 77 to skip.
step() {
	local name=$1 out status
	shift
	echo "[ RUN      ] $name"
	out=$("$@" 2>&1)
	status=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	case $status in
	0) echo "[       OK ] $name" ;;
	77) echo "[  SKIPPED ] $name" ;;
	*) echo "[  FAILED  ] $name"; failed=1 ;;
	esac
}

pc() {
	PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
		pkg-config "$@" kvmbox
}

install_tree() {
	local f
	$MAKE -s --no-print-directory -C "$root" BUILD="$BUILD" PREFIX=$prefix DESTDIR="$dest" \
		install >/dev/null || return 1
	for f in bin/kvmbox lib/libkvmbox.a lib/libkvmbox.so lib/libkvmbox.so.0 \
		 lib/pkgconfig/kvmbox.pc share/man/man1/kvmbox.1 share/bash-completion/completions/kvmbox \
		 include/kvmbox/kvmbox.h \
		 include/kvmbox/sched.h include/kvmbox/abi.h share/kvmbox/guest/include/kvmbox/guest.h \
		 share/kvmbox/guest/include/kvmbox/abi.h share/kvmbox/guest/link/guest.ld \
		 share/kvmbox/guest/start/start64.S share/kvmbox/guest/lib/hypercall.c; do
		[ -e "$dest$prefix/$f" ] || { echo "not installed: $prefix/$f"; return 1; }
	done
	[ "$(readlink "$libdir/libkvmbox.so")" = libkvmbox.so.0 ] || { echo "bad libkvmbox.so link"; return 1; }
	"$dest$prefix/bin/kvmbox" --version
}

only_kvmbox_symbols() {
	local all others
	all=$(nm -D --defined-only "$libdir/libkvmbox.so.0" | awk '{ print $3 }')
	others=$(printf '%s\n' "$all" | grep -v '^kvmbox_')
	[ -n "$all" ] || { echo "libkvmbox.so exports nothing"; return 1; }
	[ -z "$others" ] || { echo "exported besides kvmbox_*:"; printf '  %s\n' $others; return 1; }
	echo "$(printf '%s\n' "$all" | wc -l) symbols, all kvmbox_*"
	# Each kvmbox_* function of the library is API (STYLE.md: internal names are unprefixed):
	# one missing here sits in a public header without KVMBOX_API_BEGIN/END.
	others=$(nm -g --defined-only "$libdir/libkvmbox.a" | awk 'NF == 3 && $3 ~ /^kvmbox_/ { print $3 }' |
		 sort -u | comm -23 - <(printf '%s\n' "$all" | sort -u))
	[ -z "$others" ] || { echo "in libkvmbox.a but not exported:"; printf '  %s\n' $others; return 1; }
	readelf -d "$libdir/libkvmbox.so.0" | grep -q 'Library soname: \[libkvmbox.so.0\]' ||
		{ echo "soname is not libkvmbox.so.0"; return 1; }
}

pkg_config_works() {
	local version
	version=$("$dest$prefix/bin/kvmbox" --version | awk '{ print $2 }')
	[ "$(pc --modversion)" = "$version" ] || { echo "kvmbox.pc: version $(pc --modversion), command $version"; return 1; }
	case "$(pc --cflags)" in *"$dest$prefix/include"*) ;; *) echo "cflags: $(pc --cflags)"; return 1 ;; esac
	[ "$(pc --variable=guestdir)" = "$dest$prefix/share/kvmbox/guest" ] ||
		{ echo "guestdir: $(pc --variable=guestdir)"; return 1; }
}

# Out of tree: a copy of embed.c in an empty directory, flags from pkg-config only.
build_embed() {
	mkdir -p "$tmp/work" && cp "$here/embed.c" "$tmp/work/" && cd "$tmp/work" || return 1
	# shellcheck disable=SC2046
	$CC -std=gnu11 -Wall -Wextra -Werror $EMBED_FLAGS embed.c $(pc --cflags --libs) -o embed &&
		$CC -std=gnu11 -Wall -Wextra -Werror $EMBED_FLAGS embed.c $(pc --cflags) \
			-Wl,-Bstatic $(pc --static --libs) -Wl,-Bdynamic -o embed-static || return 1
	readelf -d embed | grep -q 'NEEDED.*\[libkvmbox.so.0\]' || { echo "embed does not need libkvmbox.so.0"; return 1; }
	! readelf -d embed-static | grep -q 'NEEDED.*libkvmbox' || { echo "embed-static needs libkvmbox"; return 1; }
}

# PROGRAM: the hello guest of every mode this host runs, through the installed library.
run_embed() {
	local prog=$1 mode status ran=0
	[ -x "$tmp/work/$prog" ] || { echo "$prog was not built"; return 1; }
	if [ "$prog" = embed ]; then
		LD_LIBRARY_PATH="$libdir" ldd "$tmp/work/embed" | grep -q "=> $libdir/libkvmbox.so.0" ||
			{ echo "embed does not load $libdir/libkvmbox.so.0"; return 1; }
	fi
	for mode in real protected long; do
		LD_LIBRARY_PATH="$libdir" "$tmp/work/$prog" "$build/guests/hello-$mode.elf"
		status=$?
		[ $status -eq 77 ] && continue
		[ $status -eq 0 ] || return 1
		ran=1
	done
	[ $ran -eq 1 ] || { echo "SKIP: no usable /dev/kvm"; return 77; }
}

# A long-mode guest built from the installed SDK alone (the flags of docs/embedding.md), run
# by the installed command.
guest_sdk_builds() {
	local sdk out status
	sdk=$(pc --variable=guestdir)
	mkdir -p "$tmp/guest" && cd "$tmp/guest" || return 1
	printf '%s\n' '#include "kvmbox/guest.h"' 'int main(void)' '{' \
		'	console_puts("Hello from the installed SDK\n");' '	return 42;' '}' > hello.c
	$GUEST_CC -std=gnu11 -ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone \
		-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin \
		-ffunction-sections -fdata-sections -Os -Wall -Werror -m64 -DKVMBOX_GUEST_MODE=4 \
		-I"$sdk/include" -static -no-pie -Wl,--build-id=none -Wl,--gc-sections \
		-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,-T,"$sdk/link/guest.ld" \
		"$sdk/start/start64.S" "$sdk"/lib/*.c hello.c -o hello.elf 2>&1 |
		grep -v 'has a LOAD segment with RWX' || true
	[ -f hello.elf ] || { echo "the guest did not link"; return 1; }
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "SKIP: no usable /dev/kvm"; return 77; }
	out=$("$dest$prefix/bin/kvmbox" run hello.elf)
	status=$?
	[ $status -eq 0 ] && [ "$out" = "Hello from the installed SDK" ] ||
		{ echo "kvmbox run: status $status, output '$out'"; return 1; }
}

man_page_renders() {
	command -v man >/dev/null || { echo "SKIP: no man command"; return 77; }
	local out
	out=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$dest$prefix/share/man/man1/kvmbox.1" 2>&1 >/dev/null)
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
	LC_ALL=C MANWIDTH=80 man -l "$dest$prefix/share/man/man1/kvmbox.1" 2>/dev/null | grep -q '^EXIT STATUS'
}

# The installed bash completion loads and completes the commands and the options of run.
completion_works() {
	local file=$dest$prefix/share/bash-completion/completions/kvmbox
	bash -c '
		source "$1" || exit 1
		complete -p kvmbox | grep -q _kvmbox || { echo "no completion for kvmbox"; exit 1; }
		COMP_WORDS=(kvmbox he); COMP_CWORD=1; _kvmbox
		[ "${COMPREPLY[*]}" = help ] || { echo "kvmbox he<TAB>: ${COMPREPLY[*]}"; exit 1; }
		COMP_WORDS=(kvmbox run --mode lo); COMP_CWORD=3; _kvmbox
		[ "${COMPREPLY[*]}" = long ] || { echo "--mode lo<TAB>: ${COMPREPLY[*]}"; exit 1; }
		COMP_WORDS=(kvmbox run --stats-j); COMP_CWORD=2; _kvmbox
		[ "${COMPREPLY[*]}" = --stats-json ] || { echo "--stats-j<TAB>: ${COMPREPLY[*]}"; exit 1; }
	' completion "$file"
}

uninstall_leaves_nothing() {
	local left
	$MAKE -s --no-print-directory -C "$root" BUILD="$BUILD" PREFIX=$prefix DESTDIR="$dest" \
		uninstall >/dev/null || return 1
	left=$(find "$dest" -mindepth 1 \( -type f -o -type l -o -name '*kvmbox*' \))
	[ -z "$left" ] || { echo "left after uninstall:"; printf '  %s\n' $left; return 1; }
}

command -v pkg-config >/dev/null || { echo "check-install: pkg-config is missing (scripts/deps.sh)"; exit 1; }
step install_tree install_tree
step only_kvmbox_symbols only_kvmbox_symbols
step pkg_config_works pkg_config_works
step build_embed_out_of_tree build_embed
step run_embed_shared run_embed embed
step run_embed_static run_embed embed-static
step guest_sdk_builds guest_sdk_builds
step man_page_renders man_page_renders
step completion_works completion_works
step uninstall_leaves_nothing uninstall_leaves_nothing
[ $failed -eq 0 ] && echo "check-install: passed" || echo "check-install: FAILED"
exit $failed
