#!/usr/bin/env bash
# Run cmocka test programs, show their output, and end with one summary line
# "N passed, N failed, N skipped". A program that crashes or fails without a cmocka verdict
# counts as one failure. Exit status 1 when anything failed.
set -u
passed=0 failed=0 skipped=0
skips=()
for prog in "$@"; do
	echo "=== $prog"
	out=$("$prog" 2>&1)
	status=$?
	printf '%s\n' "$out"
	# Count each test once: its verdict line follows its RUN line.
	read -r p f s < <(printf '%s\n' "$out" | awk '
		/^\[ RUN      \] / { cur = substr($0, 14); next }
		cur != "" && /^\[       OK \] / && substr($0, 14) == cur { p++; cur = ""; next }
		cur != "" && /^\[  FAILED  \] / && substr($0, 14) == cur { f++; cur = ""; next }
		cur != "" && /^\[  SKIPPED \] / && substr($0, 14) == cur { s++; cur = ""; next }
		END { print p + 0, f + 0, s + 0 }')
	# A skipped test prints "SKIP: reason" between its RUN and SKIPPED lines.
	while IFS= read -r line; do skips+=("$line"); done < <(printf '%s\n' "$out" | awk '
		/^\[ RUN      \] / { cur = substr($0, 14); next }
		/^SKIP: / { print cur ": " substr($0, 7) }')
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "!!! $prog exited with status $status without a failed test: counted as a failure"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
if [ "${#skips[@]}" -gt 0 ]; then
	echo "Skipped, with reasons:"
	printf '  %s\n' "${skips[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
