#!/usr/bin/env bash
# Run cmocka test programs, show their output, and end with one summary line
# "N passed, N failed, N skipped", counted per test. A program that crashes or fails without a cmocka
# verdict counts as one failure. Exit status 1 when anything failed.
#
# Where: on this host when its KVM is usable; otherwise every program runs inside the QEMU lane (kvm_amd
# under QEMU/TCG, docs/realkvm.md), with the same counting. TESTS_IN=host or TESTS_IN=qemu forces one.
# Environment: BUILD (the build directory, default build), REALKVM_DIR (the lane's cache),
# REALKVM_TIMEOUT (seconds for the whole lane run), REALKVM_LOG (its serial log).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-build}
passed=0 failed=0 skipped=0
skips=()

# count PROG STATUS: add up the cmocka verdicts in the output on stdin (each test once: its verdict line
# follows its RUN line) and collect the skip reasons ("SKIP: reason" between RUN and SKIPPED).
count() {
	local prog=$1 status=$2 out p f s line
	out=$(cat)
	# A test that says SKIP but then passes skipped silently: that counts as a failure.
	read -r p f s < <(printf '%s\n' "$out" | awk '
		/^\[ RUN      \] / { cur = substr($0, 14); said = 0; next }
		cur != "" && /^SKIP: / { said = 1; next }
		cur != "" && /^\[       OK \] / && substr($0, 14) == cur {
			if (said) { f++; print "!!! " cur " printed SKIP but passed: counted as a failure" > "/dev/stderr" }
			else p++
			cur = ""; next }
		cur != "" && /^\[  FAILED  \] / && substr($0, 14) == cur { f++; cur = ""; next }
		cur != "" && /^\[  SKIPPED \] / && substr($0, 14) == cur { s++; cur = ""; next }
		END { print p + 0, f + 0, s + 0 }')
	while IFS= read -r line; do skips+=("$line"); done < <(printf '%s\n' "$out" | awk '
		/^\[ RUN      \] / { cur = substr($0, 14); next }
		/^SKIP: / { print cur ": " substr($0, 7) }')
	if [ "$status" != 0 ] && [ "$f" -eq 0 ]; then
		echo "!!! $prog ended with status $status without a failed test: counted as a failure"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_here() {
	local prog out status
	for prog in "$@"; do
		echo "=== $prog"
		out=$("$prog" 2>&1)
		status=$?
		printf '%s\n' "$out"
		count "$prog" "$status" <<<"$out"
	done
}

# Every program in one boot of the lane. The serial log has, for each program, "REALKVM-RUN: PROG", its
# output and "REALKVM-STATUS: N"; a program without its status line (the lane died or timed out during
# it, or never reached it) is a failure.
run_in_lane() {
	local dir=${REALKVM_DIR:-build/realkvm} log=${REALKVM_LOG:-$build/realkvm.log} args=() prog f
	"$repo/scripts/realkvm/setup.sh" "$dir" || { echo "!!! the QEMU lane's setup failed"; failed=$((failed + $#)); return; }
	# The test programs and what sits next to them (servers and helpers they start).
	for f in "$build/kvmbox" "$build"/guests/*.elf "$build"/guests/*.bin "$@" \
		$(find "$build/tests" -maxdepth 2 -type f -perm -u+x); do
		[ -e "$f" ] && args+=(--file "$f=build/${f#"$build"/}")
	done
	for f in "$repo"/tests/guests/*.c "$repo"/examples/* "$repo"/bench/run.sh; do
		[ -f "$f" ] && args+=(--file "$f=${f#"$repo"/}")
	done
	# bench/run.sh (test_doctor runs it) is a bash script: bash and env come along, found on PATH;
	# so does the setup's gdb-minimal for the tests that drive a real gdb.
	for f in bash env; do
		f=$(command -v "$f") && args+=(--mirror "$(realpath "$f")")
	done
	gdb=$(realpath "$dir")/gdb-minimal/usr/bin
	args+=(--mirror "$gdb/gdb")
	# tests/host/check_stats.py (test_cli) needs python3 with json and re: the interpreter and just
	# the module files those load come along; README.md and tests/install/readme.sh for the
	# README test, docs/*.md for the test of the docs' pasted output.
	if [ -x /usr/bin/python3 ]; then
		args+=(--mirror /usr/bin/python3)
		for f in $(/usr/bin/python3 -c 'import json, re, sys
for m in list(sys.modules.values()):
    print(getattr(m, "__file__", None) or "")'); do
			args+=(--mirror "$f")
		done
	fi
	args+=(--file "$repo/README.md=README.md" --file "$repo/tests/host/check_stats.py=tests/host/check_stats.py")
	args+=(--file "$repo/tests/install/readme.sh=tests/install/readme.sh")
	for f in "$repo"/docs/*.json "$repo"/docs/*.md "$repo"/examples/*/* "$repo"/scripts/* "$repo"/scripts/*/*; do
		[ -f "$f" ] && args+=(--file "$f=${f#"$repo"/}")
	done
	args+=(--env "PATH=/bin:$(dirname "$(realpath "$(command -v bash)")"):$gdb")
	for prog in "$@"; do
		args+=(--test "build/${prog#"$build"/}")
	done
	# The console streams as the tests run; the counting below reads the log.
	"$repo/scripts/realkvm/run.sh" --dir "$dir" --timeout "${REALKVM_TIMEOUT:-1200}" --log "$log" \
		"${args[@]}" | sed -n '/^REALKVM-RESULT/q; /^REALKVM-STATUS: /d; s/^REALKVM-RUN: build\//=== /; /^REALKVM-PASS: /d; /^REALKVM-FAIL: /d; p'
	for prog in "$@"; do
		awk -v run="REALKVM-RUN: build/${prog#"$build"/}" '
			$0 == run { on = 1; next }
			on && /^REALKVM-STATUS: / { print; exit }
			on && /^REALKVM-(RUN|RESULT|ERROR)/ { exit }
			on { print }' "$log" >"$log.prog"
		status=$(sed -n 's/^REALKVM-STATUS: //p' "$log.prog")
		count "$prog" "${status:-"none (it did not finish in the lane: see $log)"}" <"$log.prog"
	done
	rm -f "$log.prog"
	grep -h '^REALKVM-ERROR' "$log" || true
}

where=${TESTS_IN:-auto}
case $where in
auto)
	# kvmbox doctor --brief: one line, status 69 when this host has no usable KVM.
	cause=$("$build/kvmbox" doctor --brief 2>&1)
	if [ $? -eq 69 ]; then
		echo "tests/run.sh: $cause: running every test inside the QEMU lane (kvm_amd under QEMU/TCG, slower)"
		where=qemu
	else
		where=host
	fi ;;
host | qemu) ;;
*) echo "tests/run.sh: TESTS_IN=$where: expected auto, host or qemu" >&2; exit 2 ;;
esac
if [ "$where" = qemu ]; then
	run_in_lane "$@"
else
	run_here "$@"
fi
# The skips grouped by reason, most frequent first: the count, the reason and the first tests
# it skipped (a host without 32-bit paging skips every paged32 test for one reason).
if [ "${#skips[@]}" -gt 0 ]; then
	echo "Skipped, by reason:"
	printf '%s\n' "${skips[@]}" | awk '
		{ sep = index($0, ": "); test = substr($0, 1, sep - 1); why = substr($0, sep + 2)
		  if (!(why in n)) order[++reasons] = why
		  if (++n[why] <= 2) tests[why] = tests[why] (n[why] > 1 ? ", " : "") test }
		END { for (i = 1; i <= reasons; i++) printf "%d\t%s\t%s\n", n[order[i]], order[i], tests[order[i]] }' |
		sort -t "$(printf '\t')" -k1,1nr -s |
		awk -F '\t' '{ printf "%6d  %s\n        (%s%s)\n", $1, $2, $3, ($1 > 2 ? " and " ($1 - 2) " more" : "") }'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
