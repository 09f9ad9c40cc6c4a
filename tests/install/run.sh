#!/usr/bin/env bash
# `make check-install`: install kvmbox into a temporary DESTDIR, build tests/install/embed.c out
# of tree with nothing but `pkg-config --cflags --libs kvmbox`, run it against the installed
# shared library (and once linked statically) with stdin on /dev/null, as under CI or cron,
# check both libraries export only kvmbox_ names and the public headers define no other, link
# a program that defines functions named as the library's internal ones
# (tests/install/embed_names.c), build a guest out of tree for every mode it declares with
# docs/sdk.md's recipe (pkg-config kvmbox-guest-MODE) and run it with the installed command
# (inside the QEMU lane where this host has no usable KVM), step through it in gdb with its
# source lines, install under a prefix of a user's own ($HOME/.local style) and follow
# docs/embedding.md there, run README.md's commands on a fresh copy of the tree
# (tests/install/readme.sh --fresh), then uninstall and check nothing is left. Every step runs
# in a directory of its own under one temporary directory. Prints cmocka-style
# RUN/OK/FAILED/SKIPPED lines, so tests/run.sh can count it, and exits 1 when a step failed.
# Environment: BUILD (build dir, default build), MAKE, EMBED_CC (else CC, else cc) and
# EMBED_FLAGS (extra flags) for embed.c, GUEST_CC (default gcc) for the SDK guests, TESTS_IN
# (auto, host or qemu: where the guests run, as for tests/run.sh).
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

# pc ARGS...: pkg-config on the installed kvmbox.pc; pcg MODE ARGS...: on kvmbox-guest-MODE.pc.
pc() {
	PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
		pkg-config "$@" kvmbox
}
pcg() {
	local mode=$1
	shift
	PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
		pkg-config "$@" "kvmbox-guest-$mode"
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
		 share/kvmbox/guest/start/start64.S share/kvmbox/guest/lib/hypercall.c \
		 lib/pkgconfig/kvmbox-guest-real.pc lib/pkgconfig/kvmbox-guest-long.pc \
		 share/kvmbox/guest/real/libkvmbox-guest.a share/kvmbox/guest/long/libkvmbox-guest.a; do
		[ -e "$dest$prefix/$f" ] || { echo "not installed: $prefix/$f"; return 1; }
	done
	[ "$(readlink "$libdir/libkvmbox.so")" = libkvmbox.so.0 ] || { echo "bad libkvmbox.so link"; return 1; }
	"$dest$prefix/bin/kvmbox" --version
}

# NAMES...: the ones not kvmbox_*, one a line.
not_kvmbox() {
	printf '%s\n' "$@" | grep -v '^kvmbox_' | grep .
}

# Both libraries export the API and nothing else: `nm -D` of the shared library and `nm -g` of
# the static one (sealed: mk/install.mk) list kvmbox_* names alone, and the same ones. A name
# the library's files share (set_error, mem_read ...) exported from either would clash with, or
# silently be replaced by, an embedder's function of that name.
only_kvmbox_symbols() {
	local so a others
	so=$(nm -D --defined-only "$libdir/libkvmbox.so.0" | awk '{ print $3 }' | sort -u)
	a=$(nm -g --defined-only "$libdir/libkvmbox.a" | awk 'NF == 3 { print $3 }' | sort -u)
	[ -n "$so" ] || { echo "libkvmbox.so exports nothing"; return 1; }
	[ -n "$a" ] || { echo "libkvmbox.a exports nothing"; return 1; }
	others=$(not_kvmbox $so)
	[ -z "$others" ] || { echo "libkvmbox.so exports besides kvmbox_*:"; printf '  %s\n' $others; return 1; }
	others=$(not_kvmbox $a)
	[ -z "$others" ] || { echo "libkvmbox.a exports besides kvmbox_*:"; printf '  %s\n' $others; return 1; }
	echo "$(printf '%s\n' "$so" | wc -l) symbols, all kvmbox_*"
	# The two lists agree: a kvmbox_* function only the archive has sits in a public header
	# without KVMBOX_API_BEGIN/END (hidden in both, it would be in neither).
	others=$(comm -3 <(printf '%s\n' "$so") <(printf '%s\n' "$a"))
	[ -z "$others" ] || { echo "exported by one library only (so | a):"; printf '%s\n' "$others"; return 1; }
	readelf -d "$libdir/libkvmbox.so.0" | grep -q 'Library soname: \[libkvmbox.so.0\]' ||
		{ echo "soname is not libkvmbox.so.0"; return 1; }
}

# Every name the installed public headers define is kvmbox_/KVMBOX_ prefixed
# (tests/install/public_names.py), so they sit beside an embedder's own gpa_t.
public_names_prefixed() {
	python3 "$here/public_names.py" "$dest$prefix/include"
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

# tests/install/embed_names.c, out of tree, linked with the installed static library and then
# with the shared one: a program that defines set_error, log_msg, mem_read and hub_send of its
# own links, gets kvmbox's error messages from kvmbox, and its own calls reach its own code.
embed_names() {
	local how
	mkdir -p "$tmp/names" && cp "$here/embed_names.c" "$tmp/names/" && cd "$tmp/names" || return 1
	# shellcheck disable=SC2046
	$CC -std=gnu11 -Wall -Wextra -Werror $EMBED_FLAGS embed_names.c $(pc --cflags) \
		-Wl,-Bstatic $(pc --static --libs) -Wl,-Bdynamic -o names-static || return 1
	# shellcheck disable=SC2046
	$CC -std=gnu11 -Wall -Wextra -Werror $EMBED_FLAGS embed_names.c $(pc --cflags --libs) \
		-o names-shared || return 1
	for how in static shared; do
		LD_LIBRARY_PATH="$libdir" "./names-$how" </dev/null || { echo "linked $how: failed"; return 1; }
	done
}

# PROGRAM: the hello guest of every mode this host runs, through the installed library, with
# stdin on /dev/null (CI, cron, systemd): its zeroed console config prints on stdout.
run_embed() {
	local prog=$1 mode status ran=0 out
	[ -x "$tmp/work/$prog" ] || { echo "$prog was not built"; return 1; }
	if [ "$prog" = embed ]; then
		LD_LIBRARY_PATH="$libdir" ldd "$tmp/work/embed" | grep -q "=> $libdir/libkvmbox.so.0" ||
			{ echo "embed does not load $libdir/libkvmbox.so.0"; return 1; }
	fi
	for mode in real protected long; do
		out=$(LD_LIBRARY_PATH="$libdir" "$tmp/work/$prog" "$build/guests/hello-$mode.elf" </dev/null)
		status=$?
		[ $status -eq 77 ] && continue
		[ $status -eq 0 ] || return 1
		[ "$out" = "Hello, world!" ] || { echo "$mode: stdout '$out', not the guest's 'Hello, world!'"; return 1; }
		ran=1
	done
	[ $ran -eq 1 ] || { echo "SKIP: no usable /dev/kvm"; return 77; }
}

# The out-of-tree guest: its arguments, a 64-bit division (libgcc's __udivdi3 in 16/32-bit
# code, from the SDK) and main's return value as the status. It declares its modes as
# in-tree guests do; guest_sdk_mode builds it for each.
write_guest() {
	cat >"$1" <<'EOF'
/* kvmbox-modes: real protected paged32 long */
#include <kvmbox/guest.h>

int main(int argc, char **argv)
{
	volatile uint64_t big = 1000000000000ull;

	console_printf("%s:", argv[0]);
	for (int i = 1; i < argc; i++)
		console_printf(" [%s]", argv[i]);
	console_printf(" %llu\n", (unsigned long long)(big / (uint64_t)argc));
	return argc;
}
EOF
}
guest_modes() {
	sed -n 's|^/\* kvmbox-modes:\(.*\)\*/[[:space:]]*$|\1|p;T;q' "$1"
}

# Where the installed command runs guests: this host when its KVM is usable, else the QEMU
# lane (kvmbox doctor --brief: status 69), as tests/run.sh decides; TESTS_IN forces one.
guests_in() {
	case ${TESTS_IN:-auto} in
	host | qemu) echo "$TESTS_IN" ;;
	*) "$build/kvmbox" doctor --brief >/dev/null 2>&1; [ $? -eq 69 ] && echo qemu || echo host ;;
	esac
}
run_installed() {
	if [ "$where" = qemu ]; then
		BUILD="$build" "$root/scripts/kvm-in-qemu" "$dest$prefix/bin/kvmbox" "$@"
	else
		"$dest$prefix/bin/kvmbox" "$@"
	fi
}

# docs/sdk.md's recipe for a guest built anywhere: the `gcc` lines of its first ```sh block
# after the heading "Guests built anywhere", written for long mode.
sdk_recipe() {
	awk '/^## Guests built anywhere/ { on = 1 } on && /^```sh$/ { insh = 1; next }
	     insh && /^```$/ { exit } insh && /^gcc / { print }' "$root/docs/sdk.md"
}

# MODE: the guest built in a directory of its own with docs/sdk.md's recipe (long mode in the
# docs: MODE here) and nothing but pkg-config, run by the installed command as `kvmbox run
# hello-MODE.elf -- one 'two words'`: it prints both and the quotient, and exits 3 (its argc).
# A mode this host's KVM cannot run is a skip.
guest_sdk_mode() {
	local mode=$1 out status want line recipe
	recipe=$(sdk_recipe)
	[ "$(printf '%s\n' "$recipe" | grep -c .)" -eq 2 ] ||
		{ echo "docs/sdk.md: no two-line gcc recipe found: '$recipe'"; return 1; }
	mkdir -p "$tmp/guest/$mode" && cp "$tmp/guest/hello.c" "$tmp/guest/$mode/" && cd "$tmp/guest/$mode" ||
		return 1
	while IFS= read -r line; do
		line=${line//kvmbox-guest-long/kvmbox-guest-$mode}
		line=${line//hello-long.elf/hello-$mode.elf}
		PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
			bash -c "${line/#gcc /$GUEST_CC -Werror }" || { echo "failed: $line"; return 1; }
	done <<<"$recipe"
	out=$(run_installed run "hello-$mode.elf" -- one "two words" 2>"$tmp/guest/$mode/err")
	status=$?
	if [ $status -eq 70 ]; then
		echo "SKIP: $mode: $(tail -n 1 "$tmp/guest/$mode/err")"
		return 77
	fi
	want="hello-$mode.elf: [one] [two words] 333333333333"
	[ "$out" = "$want" ] && [ $status -eq 3 ] ||
		{ echo "$mode ($where): status $status, output '$out', want 3, '$want'"; cat "$tmp/guest/$mode/err"; return 1; }
}

# The real-mode guest of docs/sdk.md's recipe in gdb, as docs/debugging.md says (kvmbox run -S,
# target remote, set architecture i8086): the breakpoint at main shows the source file and
# line, the recipe's -g. gdb needs this host's KVM (the lane's guests are out of its reach).
gdb_shows_guest_lines() {
	local dir=$tmp/guest/real sock=$tmp/guest/real/gdb.sock out pid status
	command -v gdb >/dev/null || { echo "SKIP: no gdb"; return 77; }
	[ "$where" = host ] || { echo "SKIP: gdb debugs guests on this host's KVM (here: the QEMU lane)"; return 77; }
	[ -f "$dir/hello-real.elf" ] || { echo "hello-real.elf was not built (guest_sdk_real)"; return 1; }
	cd "$dir" || return 1
	"$dest$prefix/bin/kvmbox" run -S --gdb "unix:$sock" hello-real.elf -- one "two words" \
		>"$dir/gdb-run.out" 2>"$dir/gdb-run.err" </dev/null &
	pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	out=$(timeout 60 gdb -nx -batch -ex "target remote $sock" -ex 'set architecture i8086' \
		-ex 'break main' -ex continue -ex 'info line *$pc' -ex continue hello-real.elf 2>&1)
	wait $pid
	status=$?
	printf '%s\n' "$out" | grep -q '^Breakpoint 1, main (argc=3, argv=.*) at hello.c:[0-9]' ||
		{ echo "gdb shows no source line at main:"; printf '%s\n' "$out"; cat "$dir/gdb-run.err"; return 1; }
	[ $status -eq 3 ] || { echo "kvmbox ended with status $status, not the guest's 3"; cat "$dir/gdb-run.err"; return 1; }
}

# A prefix of a user's own, no DESTDIR (make install PREFIX=$HOME/.local), then
# docs/embedding.md's steps there: make install says what pkg-config needs; the page's program,
# built with `pkg-config --cflags --libs kvmbox` alone, finds libkvmbox.so.0 without
# LD_LIBRARY_PATH and, stdin on /dev/null, prints the guest's console on stdout; make uninstall
# empties the prefix.
prefix_install_as_documented() {
	local home=$tmp/home p=$tmp/home/.local said out status left
	mkdir -p "$home/work" || return 1
	said=$($MAKE -s --no-print-directory -C "$root" BUILD="$BUILD" PREFIX="$p" install 2>&1) ||
		{ printf '%s\n' "$said"; return 1; }
	printf '%s\n' "$said" | grep -qF "export PKG_CONFIG_PATH=$p/lib/pkgconfig" ||
		{ echo "make install did not say how pkg-config finds $p:"; printf '%s\n' "$said"; return 1; }
	# The program as docs/embedding.md prints it (its ```c block).
	cd "$home/work" && awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' \
		"$root/docs/embedding.md" >embed.c || return 1
	grep -q 'kvmbox_vm_create' embed.c || { echo "no program in docs/embedding.md"; return 1; }
	# shellcheck disable=SC2046
	$CC -std=gnu11 -Wall -Werror $EMBED_FLAGS -o embed embed.c \
		$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --cflags --libs kvmbox) || return 1
	env -u LD_LIBRARY_PATH ldd ./embed | grep -q "libkvmbox.so.0 => $p/lib/libkvmbox.so.0" ||
		{ echo "embed does not find $p/lib/libkvmbox.so.0 by itself:"; env -u LD_LIBRARY_PATH ldd ./embed; return 1; }
	out=$(env -u LD_LIBRARY_PATH ./embed "$build/guests/hello-long.elf" </dev/null)
	status=$?
	if [ $status -ne 77 ]; then
		[ $status -eq 0 ] && [ "$out" = "Hello, world!" ] ||
			{ echo "embed: status $status, stdout '$out'"; return 1; }
	fi
	$MAKE -s --no-print-directory -C "$root" BUILD="$BUILD" PREFIX="$p" uninstall >/dev/null || return 1
	left=$(find "$p" -mindepth 1 \( -type f -o -type l -o -name '*kvmbox*' \))
	[ -z "$left" ] || { echo "left after uninstall:"; printf '  %s\n' $left; return 1; }
}

man_page_renders() {
	command -v man >/dev/null || { echo "SKIP: no man command"; return 77; }
	local out
	out=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$dest$prefix/share/man/man1/kvmbox.1" 2>&1 >/dev/null)
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
	out=$(LC_ALL=C MANWIDTH=80 man -l "$dest$prefix/share/man/man1/kvmbox.1" 2>/dev/null)
	printf '%s\n' "$out" | grep -q '^EXIT STATUS' || { echo "no EXIT STATUS section"; return 1; }
	printf '%s\n' "$out" | grep -qF 'kvmbox [run] [options] [IMAGE] [-- ARG...]' ||
		{ echo "synopsis:"; printf '%s\n' "$out" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'; return 1; }
}

# The installed bash completion loads and completes the commands and the options of run, in a
# directory of its own (completion offers file names too: a file named he* would be one).
completion_works() {
	local file=$dest$prefix/share/bash-completion/completions/kvmbox
	mkdir -p "$tmp/completion" && cd "$tmp/completion" || return 1
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
step public_names_prefixed public_names_prefixed
step pkg_config_works pkg_config_works
step build_embed_out_of_tree build_embed
step run_embed_shared run_embed embed
step run_embed_static run_embed embed-static
step embedder_names_stay_apart embed_names
mkdir -p "$tmp/guest" && write_guest "$tmp/guest/hello.c"
where=$(guests_in)
for mode in $(guest_modes "$tmp/guest/hello.c"); do
	step "guest_sdk_$mode" guest_sdk_mode "$mode"
done
step gdb_shows_guest_lines gdb_shows_guest_lines
step man_page_renders man_page_renders
step completion_works completion_works
step uninstall_leaves_nothing uninstall_leaves_nothing
step prefix_install_as_documented prefix_install_as_documented
step readme_on_a_fresh_copy env BUILD="$BUILD" "$here/readme.sh" --fresh
[ $failed -eq 0 ] && echo "check-install: passed" || echo "check-install: FAILED"
exit $failed
