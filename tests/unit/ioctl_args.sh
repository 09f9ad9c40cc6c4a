#!/usr/bin/env bash
# The ioctl helpers refuse a wrong argument at compile time (src/kvm/kvm.h): compile
# tests/unit/ioctl_args.c with CASE=0, which must succeed, and with each CASE its
# `#elif CASE == N /* expect: TEXT */` lines declare, which must fail with TEXT in the
# compiler's errors. Usage: ioctl_args.sh CC CFLAGS... (the build's compiler and flags).
# Prints one line per case; exits 1 when a case compiled that should not, or failed for
# another reason.
set -u
[ $# -ge 1 ] || { echo "usage: $0 CC [CFLAGS...]" >&2; exit 2; }
src=$(dirname "$0")/ioctl_args.c
failed=0 n=0

try() {
	"$@" -fsyntax-only "$src" 2>&1
}

if ! out=$(try "$@" -DCASE=0); then
	printf '%s\n' "$out"
	echo "ioctl_args: CASE 0, the right forms, does not compile"
	exit 1
fi
while IFS='|' read -r num want; do
	n=$((n + 1))
	if out=$(try "$@" -DCASE="$num"); then
		echo "ioctl_args: CASE $num compiled; expected: $want"
		failed=1
	elif ! printf '%s\n' "$out" | grep -qF "$want"; then
		printf '%s\n' "$out" | head -n 20
		echo "ioctl_args: CASE $num failed, but not with: $want"
		failed=1
	fi
done < <(sed -n 's|^#elif CASE == \([0-9]*\) /\* expect: \(.*\) \*/$|\1\|\2|p' "$src")
[ $n -gt 0 ] || { echo "ioctl_args: no case found in $src"; exit 1; }
[ $failed -eq 0 ] && echo "ioctl_args: the right forms compile; $n wrong arguments do not"
exit $failed
