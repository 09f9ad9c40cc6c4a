#!/usr/bin/env bash
# Boot the real-KVM lane: Debian kernel in QEMU/TCG with kvm_amd, the given files mirrored under /kvmbox,
# the given tests run there; prints the serial log and wall time. Exit 0 all passed, 1 a test failed, 2 lane error.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: run.sh [--dir DIR] [--timeout SEC] [--log FILE] [--file HOST[=GUEST]]... [--test CMD]...
              [--test-expect TEXT CMD]...
  --dir DIR              cache made by setup.sh (default build/realkvm)
  --timeout SEC          kill QEMU after SEC seconds of wall time (default 300)
  --log FILE             keep the serial log in FILE (default DIR/serial.log)
  --file HOST[=GUEST]    copy HOST to /kvmbox/GUEST (default GUEST = HOST, which must then be relative);
                         the shared libraries of a dynamic executable come along at their ldd paths
  --test CMD             run CMD with sh in /kvmbox; passes if it exits 0
  --test-expect TEXT CMD also requires TEXT in the output of CMD
EOF
	exit 2
}

die() {
	echo "realkvm: error: $*" >&2
	exit 2
}

# Quote a string for the guest's sh.
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

dir=build/realkvm
timeout=300
log=
files=()
tests=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--log) log=${2:?}; shift 2 ;;
	--file) files+=("${2:?}"); shift 2 ;;
	--test) tests+=("run_test '' $(shquote "${2:?}")"); shift 2 ;;
	--test-expect) tests+=("run_test $(shquote "${2:?}") $(shquote "${3:?}")"); shift 3 ;;
	*) usage ;;
	esac
done
log=${log:-$dir/serial.log}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[[ -f $dir/base.cpio ]] || die "$dir is not set up: run scripts/realkvm/setup.sh $dir"
kernel=$dir/vmlinux
[[ -f $kernel ]] || kernel=$dir/vmlinuz
[[ -f $kernel ]] || die "no kernel in $dir"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/kvmbox" "$root/realkvm"
install -m 755 "$here/init" "$root/init"

# Copy one file and, for a dynamic executable, every library ldd names (plus the loader) at its host path.
add_file() {
	local host=${1%%=*} guest=${1#*=} lib
	[[ $1 == *=* ]] || guest=$host
	[[ $guest != /* && $guest != *..* ]] || die "--file $1: the guest path must be relative, inside /kvmbox"
	[[ -f $host ]] || die "--file $1: no such file $host"
	mkdir -p "$(dirname "$root/kvmbox/$guest")"
	cp -p "$host" "$root/kvmbox/$guest"
	[[ -x $host ]] || return 0
	# ldd fails on static and non-host ELF files (guest images): they need nothing.
	for lib in $(ldd "$host" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[[ -e $root$lib ]] && continue
		mkdir -p "$(dirname "$root$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for f in "${files[@]}"; do
	add_file "$f"
done
printf '%s\n' "${tests[@]}" >"$root/realkvm/tests.sh"

# The cached base (busybox, modules) followed by this run's archive: the kernel unpacks both in order.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/payload.cpio"
cat "$dir/base.cpio" "$work/payload.cpio" >"$work/initrd.cpio"

echo "realkvm: booting $kernel with ${#tests[@]} test(s), timeout ${timeout} s"
mkdir -p "$(dirname "$log")"
start=$(date +%s.%N)
rc=0
# -cpu max gives the TCG guest AMD SVM for kvm_amd; one vCPU boots fastest; -no-reboot plus panic=-1 turns a
# guest panic into a QEMU exit. stdin is closed so QEMU never puts the terminal in raw mode.
timeout -k 5 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 1 -m 512M \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$work/initrd.cpio" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null | tr -d '\r' | tee "$log" || rc=$?
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

echo "realkvm: ---- summary (serial log: $log) ----"
grep -E '^REALKVM-(PASS|FAIL|ERROR)' "$log" || true
result=$(grep -E '^REALKVM-RESULT: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
echo "realkvm: wall time ${wall} s"
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
	echo "realkvm: FAIL: timeout after ${timeout} s" >&2
	exit 2
elif [[ $rc -ne 0 ]]; then
	echo "realkvm: FAIL: qemu exited with status $rc" >&2
	exit 2
elif [[ -z $result ]]; then
	echo "realkvm: FAIL: the guest stopped without a REALKVM-RESULT line (panic, module or payload error: see the log above)" >&2
	exit 2
fi
echo "realkvm: $result"
failed=$(echo "$result" | awk '{ print $4 }')
[[ $failed -eq 0 ]] || exit 1
