#!/bin/sh
# What binutils says about guest images, for tests/unit/test_debuginfo.c: for each IMAGE and
# each sized function symbol in it, one line "NAME ADDR FUNCTION FILE:LINE" (NAME: the file name of IMAGE) from
# `addr2line -f` at the middle of the function. Run at build time, since the QEMU lane where
# the tests also run has no binutils. Usage: debuginfo_expect.sh IMAGE... > FILE
set -eu
for img in "$@"; do
	nm -S "$img" | awk '($3 == "T" || $3 == "t") && $2 != "" { print $1, $2 }' |
	while read -r start size; do
		addr=$(printf '0x%x' $((0x$start + 0x$size / 2)))
		addr2line -f -e "$img" "$addr" | { read -r fn; read -r where; echo "${img##*/} $addr $fn $where"; }
	done
done
