#!/bin/sh
# Proof that torture-run catches what it must (make torture-selftest): a stand-in for kvmbox ends
# each "guest" in one known way, and the runner must count the documented ends in their classes
# and report every bad one (signal death, hang, undocumented status, sanitizer report) as FAIL.
# Usage: tests/torture/selftest.sh TORTURE-RUN WORKDIR
set -u
run=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir" || exit 2

# The stand-in: the last argument is the guest's path; its name says how to end, with the
# statuses of cli/status.h.
cat >"$dir/fake-kvmbox" <<'EOF'
#!/bin/sh
for guest; do :; done
case ${guest##*/} in
halt) exit 0 ;;
exit7) echo "kvmbox: the guest exited with status 7" >&2; exit 7 ;;
exit200) echo "kvmbox: the guest exited with status 200, one kvmbox owns: reported as 68" >&2; exit 68 ;;
assert) echo "kvmbox: guest assertion failed at x.c:1: 0" >&2; exit 64 ;;
triple) echo "kvmbox: guest fault: KVM_EXIT_SHUTDOWN: triple fault at rip=0x0" >&2; exit 65 ;;
timeout) echo "kvmbox: timeout: the guest was still running after 0.2 s and was stopped" >&2; exit 66 ;;
unsup) echo "kvmbox: this host's KVM cannot run paged32 mode" >&2; exit 70 ;;
segv) kill -SEGV $$ ;;
hang) exec sleep 30 ;;
status99) exit 99 ;;
hosterr) echo "kvmbox: host error: KVM_RUN: Bad address" >&2; exit 71 ;;
asan) echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow" >&2; exit 1 ;;
silent65) exit 65 ;;
silent7) exit 7 ;;
esac
exit 99
EOF
chmod +x "$dir/fake-kvmbox"
for g in halt exit7 exit200 assert triple timeout segv hang status99 hosterr asan silent65 silent7; do
	echo "long bytes 0 0x0 2M - $dir/$g" >>"$dir/guests.list"
done
echo "paged32 bytes 0 0x0 2M strict $dir/unsup" >>"$dir/guests.list"

"$run" "$dir/fake-kvmbox" "$dir" 0.2 1 4 >"$dir/out" 2>&1
status=$?
fail() {
	echo "torture-selftest: FAIL: $*" >&2
	cat "$dir/out" >&2
	exit 1
}
[ "$status" -eq 1 ] || fail "the runner's status was $status, not 1"
for g in segv hang status99 hosterr asan silent65 silent7; do
	grep -q "^FAIL long bytes $dir/$g: " "$dir/out" || fail "$g was not reported as a failure"
done
# halt exit assert triple port mmio internal fault timeout unsupp FAIL
grep -Eq '^long +1 +2 +1 +1 +0 +0 +0 +0 +1 +0 +7$' "$dir/out" || fail "wrong counts for long"
grep -Eq '^paged32 +0( +0){8} +1 +0$' "$dir/out" || fail "wrong counts for paged32"
grep -q '^SKIPPED paged32: 1 guest(s) not run: kvmbox: this host' "$dir/out" || fail "no skip reason"
echo "torture-selftest: OK: 7 bad ends reported, 7 documented ends classified, 1 skip with its reason"
