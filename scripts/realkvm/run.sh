#!/usr/bin/env bash
# Boot the QEMU lane (docs/realkvm.md): Debian's kernel in QEMU/TCG with kvm_amd, the given files copied
# in, the given tests or one command run there.
#   Tests (--test, --test-expect): prints the serial log and wall time; exit 0 all passed, 1 a test
#   failed, 2 lane error.
#   One command (--exec): its stdout and stderr pass through; files it writes under --collect paths come
#   back; exit status is the command's, 125 for a lane error.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: run.sh [--dir DIR] [--timeout SEC] [--log FILE] [--file HOST[=GUEST]]... [--mirror PATH]...
              [--cwd DIR] [--env NAME=VALUE]... (--test CMD | --test-expect TEXT CMD)...
       run.sh [options] [--collect PATH]... --exec CMD
  --dir DIR              cache made by setup.sh (default build/realkvm)
  --timeout SEC          kill QEMU after SEC seconds of wall time (default 300)
  --log FILE             keep the serial log in FILE (default DIR/serial.log)
  --file HOST[=GUEST]    copy HOST to /kvmbox/GUEST (default GUEST = HOST, which must then be relative);
                         the shared libraries of a dynamic executable come along at their ldd paths
  --mirror PATH          copy the file or directory PATH to the same absolute path in the guest
  --cwd DIR              run in DIR (an absolute guest path; default /kvmbox)
  --env NAME=VALUE       set an environment variable for the tests or the command
  --test CMD             run CMD with sh; passes if it exits 0
  --test-expect TEXT CMD also requires TEXT in the output of CMD
  --collect PATH         after --exec, copy back every file under PATH (absolute) that the command
                         created or changed
  --exec CMD             run CMD with sh: its stdout and stderr are this script's, its status the exit
                         status (125: the lane itself failed)
EOF
	exit 2
}

exec_cmd=
lane_status=2
die() {
	echo "realkvm: error: $*" >&2
	exit "$lane_status"
}

# Quote a string for the guest's sh.
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

dir=build/realkvm
timeout=300
log=
cwd=
files=()
mirrors=()
collects=()
envs=()
tests=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--log) log=${2:?}; shift 2 ;;
	--file) files+=("${2:?}"); shift 2 ;;
	--mirror) mirrors+=("${2:?}"); shift 2 ;;
	--cwd) cwd=${2:?}; shift 2 ;;
	--env) envs+=("${2:?}"); shift 2 ;;
	--collect) collects+=("${2:?}"); shift 2 ;;
	--test) tests+=("run_test '' $(shquote "${2:?}")"); shift 2 ;;
	--test-expect) tests+=("run_test $(shquote "${2:?}") $(shquote "${3:?}")"); shift 3 ;;
	--exec) exec_cmd=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
if [[ -n $exec_cmd ]]; then
	[[ ${#tests[@]} -eq 0 ]] || usage
	tests=("run_exec $(shquote "$exec_cmd")")
	lane_status=125
fi
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

# Copy every library ldd names for a dynamic executable (plus the loader) at its host path.
add_libs() {
	local lib
	# ldd fails on static and non-host ELF files (guest images): they need nothing.
	for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[[ -e $root$lib ]] && continue
		mkdir -p "$(dirname "$root$lib")"
		cp -L "$lib" "$root$lib"
	done
}

add_file() {
	local host=${1%%=*} guest=${1#*=}
	[[ $1 == *=* ]] || guest=$host
	[[ $guest != /* && $guest != *..* ]] || die "--file $1: the guest path must be relative, inside /kvmbox"
	[[ -f $host ]] || die "--file $1: no such file $host"
	mkdir -p "$(dirname "$root/kvmbox/$guest")"
	cp -p "$host" "$root/kvmbox/$guest"
	[[ ! -x $host ]] || add_libs "$host"
}

# The lane's own directories (and the system's) cannot be mirrored over. A symbolic link comes as a
# link, with what it points to.
add_mirror() {
	local path f
	path=$(realpath -ms -- "$1")
	case $path in
	/ | /bin | /bin/* | /lib/modules* | /init | /realkvm* | /proc* | /sys* | /dev* | /tmp)
		die "--mirror $1: $path is the lane's own" ;;
	esac
	[[ -e $path ]] || die "--mirror $1: no such file or directory"
	[[ ! -e $root$path && ! -L $root$path ]] || return 0
	mkdir -p "$root$(dirname "$path")"
	cp -a -- "$path" "$root$path"
	if [[ -L $path ]]; then
		add_mirror "$(realpath -- "$path")"
	elif [[ -f $path ]]; then
		[[ ! -x $path ]] || add_libs "$path"
	else
		while IFS= read -r -d '' f; do add_libs "$f"; done < <(find "$path" -type f -perm -u+x -print0)
	fi
}

for f in "${files[@]}"; do add_file "$f"; done
for f in "${mirrors[@]}"; do add_mirror "$f"; done
for f in "${collects[@]}"; do
	[[ $f == /* ]] || die "--collect $f: must be an absolute path"
	mkdir -p "$root$(dirname "$f")"
	echo "$f" >>"$root/realkvm/collect"
done
[[ -z $cwd ]] || { mkdir -p "$root$cwd"; echo "$cwd" >"$root/realkvm/cwd"; }
for e in "${envs[@]}"; do
	[[ $e == [A-Za-z_]*=* ]] || die "--env $e: NAME=VALUE expected"
	echo "export ${e%%=*}=$(shquote "${e#*=}")" >>"$root/realkvm/env"
done
printf '%s\n' "${tests[@]}" >"$root/realkvm/tests.sh"

# The cached base (busybox, modules) followed by this run's archive: the kernel unpacks both in order.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/payload.cpio"
cat "$dir/base.cpio" "$work/payload.cpio" >"$work/initrd.cpio"
mkdir -p "$(dirname "$log")"

# -cpu max gives the TCG guest AMD SVM for kvm_amd; one vCPU boots fastest; -no-reboot plus panic=-1 turns a
# guest panic into a QEMU exit. stdin is closed so QEMU never puts the terminal in raw mode.
qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 512M
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$kernel" -initrd "$work/initrd.cpio" -append "console=ttyS0 panic=-1 quiet")

# Tests: the console (ttyS0) is the output, streamed and kept in the log.
run_tests() {
	local start wall rc=0 result failed
	echo "realkvm: booting $kernel with ${#tests[@]} test(s), timeout ${timeout} s"
	start=$(date +%s.%N)
	timeout -k 5 "$timeout" "${qemu[@]}" -serial stdio </dev/null | tr -d '\r' | tee "$log" || rc=$?
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
}

# Files the command wrote: the base64 cpio archive between the markers, unpacked and copied to their host paths,
# but only under the --collect paths.
bring_back() {
	local out=$work/back f ok c
	sed -n '/^REALKVM-FILES-BEGIN$/,/^REALKVM-FILES-END$/p' "$log" | sed '1d;$d' | base64 -d >"$work/back.cpio" ||
		die "the files the command wrote did not come back whole (serial log: $log)"
	mkdir -p "$out"
	(cd "$out" && cpio -idm --quiet --no-absolute-filenames <"$work/back.cpio") ||
		die "the files the command wrote could not be unpacked (serial log: $log)"
	while IFS= read -r -d '' f; do
		f=/${f#"$out"/}
		ok=
		for c in "${collects[@]}"; do
			[[ $f == "$c" || $f == "$c"/* ]] && ok=1
		done
		[[ -n $ok ]] || continue
		mkdir -p "$(dirname "$f")"
		cp -p "$out$f" "$f"
	done < <(find "$out" -type f -print0)
}

# One command: ttyS1 is its stdout (QEMU's stdio), ttyS2 its stderr, the console a log. Both streams
# leave through the descriptors this script inherited: reopening /proc/self/fd/2 would give QEMU a file
# offset of its own, and with `> log 2>&1` stdout and stderr would overwrite each other. QEMU writes
# ttyS2 into a FIFO; a cat with our stderr copies it out. The FIFO is also held open here (fd 5), so
# neither side's open waits for the other, and cat ends when QEMU is gone and fd 5 is closed.
run_exec() {
	local rc=0 status cat_pid
	: >"$log"
	mkfifo "$work/stderr"
	exec 5<>"$work/stderr"
	cat <"$work/stderr" 5>&- >&2 &
	cat_pid=$!
	timeout -k 5 "$timeout" "${qemu[@]}" -chardev "file,id=con,path=$log" -serial chardev:con \
		-chardev stdio,id=out -serial chardev:out \
		-chardev "file,id=err,path=$work/stderr" -serial chardev:err </dev/null 5>&- || rc=$?
	exec 5>&-
	wait "$cat_pid" || true
	tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
	status=$(sed -n 's/^REALKVM-STATUS: \([0-9]*\)$/\1/p' "$log" | tail -n 1)
	if [[ -z $status ]]; then
		tail -n 20 "$log" >&2
		if [[ $rc -eq 124 || $rc -eq 137 ]]; then
			die "QEMU lane: timeout after ${timeout} s (serial log: $log)"
		fi
		die "QEMU lane: the command did not run (qemu status $rc; serial log: $log)"
	fi
	if grep -q '^REALKVM-FILES-BEGIN$' "$log"; then
		bring_back
	fi
	exit "$status"
}

if [[ -n $exec_cmd ]]; then
	run_exec
else
	run_tests
fi
