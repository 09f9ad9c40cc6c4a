#!/usr/bin/env bash
# README.md's commands, run in the order the README shows them, where a new user runs them: in
# a checkout where `scripts/deps.sh && make run` (the README's first command) has run and
# nothing else. Each must end with the status its comment names ("status N"; else 0; 70 where
# this host's KVM cannot run paged32 and the command asks for it), and none may leave a file in
# the checkout (outside build/).
#
#   tests/install/readme.sh --fresh   a copy of the source tree (its files as they are now) in
#                                     a temporary directory, `scripts/deps.sh && make run` there,
#                                     then every command (make check-install runs this)
#   tests/install/readme.sh           against the build already made ($BUILD): a scratch
#                                     checkout whose build/ is that one; the commands that
#                                     build (`make ...`) or boot the QEMU lane are left to
#                                     --fresh (tests/host/test_cli.c runs this)
#
# Without a usable KVM here, kvmbox's commands run through scripts/kvm-in-qemu, as the README
# says. Commands not run, and why: the test suite (`make check`: it runs this), `make install`
# and what follows it (check-install does that in a temporary prefix), and the lane's own
# `scripts/kvm-in-qemu` lines when the lane is not set up. Prints one line per command and
# exits 1 when one failed. Environment: BUILD (default build), REALKVM_DIR (the lane's cache).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) build=$BUILD ;; *) build=$root/$BUILD ;; esac
fresh=
[ "${1:-}" = --fresh ] && fresh=1
lane_dir=${REALKVM_DIR:-$root/build/realkvm}
case $lane_dir in /*) ;; *) lane_dir=$root/$lane_dir ;; esac
export REALKVM_DIR=$lane_dir
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmbox-readme.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

# The logical lines of README.md's ```sh blocks: continuations (\, a trailing &&) joined.
readme_commands() {
	awk '
		/^```/ { insh = !insh && $0 == "```sh"; next }
		!insh { next }
		{ line = line $0 }
		/\\$/ { sub(/\\$/, "", line); next }
		/&&[[:space:]]*$/ { line = line " "; next }
		{ print line; line = "" }' "$root/README.md"
}

# The files of the checkout, outside build/, one path a line (what a command may not add to).
listing() {
	(cd "$1" && find . -path ./build -prune -o -path ./tmp -prune -o -print | LC_ALL=C sort)
}

checkout=$tmp/kvmbox
mkdir -p "$checkout" "$tmp/tmp"
if [ -n "$fresh" ]; then
	# The tree's own files (tracked and new, not ignored), as a clone of this state would have.
	if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$root" ls-files -z --cached --others --exclude-standard |
			(cd "$root" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
			(cd "$root" && tar --null -T - -cf -) | tar -C "$checkout" -xf - || exit 1
	else
		(cd "$root" && tar --exclude=./build -cf - .) | tar -C "$checkout" -xf - || exit 1
	fi
	echo "readme: a fresh copy of the tree in $checkout: scripts/deps.sh && make run"
	# As the README's first command, with the machine's cores (make's own -j), and as a new
	# user types it: without the caller's build directory or compiler (make check-install may
	# run from build/asan or build/clang), so the README's build/ paths exist afterwards.
	if ! (cd "$checkout" && unset BUILD CC SAN EXTRA_CFLAGS EXTRA_LDFLAGS MAKEFLAGS MAKELEVEL &&
		scripts/deps.sh && make -j"$(nproc)" run) >"$tmp/make-run.log" 2>&1; then
		tail -n 30 "$tmp/make-run.log"
		echo "readme: FAILED: scripts/deps.sh && make run"
		exit 1
	fi
	grep -v '^make' "$tmp/make-run.log" | tail -n 2 | sed 's/^/  /'
else
	# A checkout whose build/ is the one under test (examples/ and scripts/ are the tree's).
	ln -s "$build" "$checkout/build" && ln -s "$root/examples" "$checkout/examples" &&
		ln -s "$root/scripts" "$checkout/scripts" && cp "$root/README.md" "$checkout/" || exit 1
fi
before=$(listing "$checkout")

# Where kvmbox's commands run: here, or through the QEMU lane (inside the lane: here).
kvm=host
"$checkout/build/kvmbox" doctor --brief >/dev/null 2>&1
[ $? -eq 69 ] && [ "${KVMBOX_LANE:-}" != realkvm ] && kvm=lane
lane_ready=
[ -f "$lane_dir/ready" ] && [ "${KVMBOX_LANE:-}" != realkvm ] && lane_ready=1

# (Files, not process substitution: the QEMU lane has no /dev/fd.)
readme_commands >"$tmp/commands"
n=0
while IFS= read -r line; do
	cmd=${line%%  #*}
	cmd=${cmd%"${cmd##*[![:space:]]}"}
	comment=
	[ "$cmd" != "$line" ] && comment=${line#*  #}
	want=0
	case $comment in *"status "[0-9]*) want=$(printf '%s\n' "$comment" | sed 's/.*status \([0-9]*\).*/\1/') ;; esac
	why=
	case $cmd in
	"") continue ;;
	*"make check"*) why="the test suite: it runs this script" ;;
	*"make install"* | *"pkg-config"*) why="after make install: check-install runs it in a temporary prefix" ;;
	*"make run"*) [ -n "$fresh" ] || why="builds: run in the fresh copy (make check-install)" ;;
	"scripts/kvm-in-qemu "*)
		if [ "${KVMBOX_LANE:-}" = realkvm ]; then
			cmd=${cmd#scripts/kvm-in-qemu }
		elif [ -z "$fresh" ]; then
			why="boots the QEMU lane: run in the fresh copy (make check-install)"
		elif [ -z "$lane_ready" ]; then
			why="the QEMU lane is not set up here (make realkvm-setup)"
		fi ;;
	*build/kvmbox*) [ $kvm = lane ] && cmd=${cmd/build\/kvmbox/scripts\/kvm-in-qemu build\/kvmbox}
		[ $kvm = lane ] && [ -z "$lane_ready" ] && why="no usable KVM and the QEMU lane is not set up" ;;
	esac
	if [ -n "$why" ]; then
		echo "readme: not run: $cmd ($why)"
		continue
	fi
	n=$((n + 1))
	(cd "$checkout" && TMPDIR=$tmp/tmp bash -c "$cmd") >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	if [ $status -eq "$want" ] || { [ $status -eq 70 ] && [[ $cmd == *paged32* ]]; }; then
		echo "readme: ok (status $status): $cmd"
	else
		echo "readme: FAILED (status $status, not $want): $cmd"
		tail -n 20 "$tmp/err" | sed 's/^/  | /'
		failed=1
	fi
	after=$(listing "$checkout")
	if [ "$after" != "$before" ]; then
		echo "readme: FAILED: it left files in the checkout: $cmd"
		printf '%s\n' "$before" >"$tmp/before"
		printf '%s\n' "$after" | grep -vxFf "$tmp/before" | sed 's/^/  | /'
		before=$after
		failed=1
	fi
done <"$tmp/commands"
[ $n -ge 8 ] || { echo "readme: only $n commands found in README.md"; failed=1; }
[ $failed -eq 0 ] && echo "readme: $n commands of README.md ran as documented"
exit $failed
