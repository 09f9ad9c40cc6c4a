#!/usr/bin/env python3
"""Every hypercall include/kvmbox/abi.h numbers (enum kvmbox_hc_nr) has its row in
docs/abi.md's table of calls ("| NR | name | ..."): the number in the first cell, the name
without KVMBOX_HC_ in backticks in the second. The header is the ABI; the page is its prose
and the one list a reader sees, so a call added to one and not the other fails `make check`
(make check-docs). Exit 1 with one line per missing or wrong row."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def calls():
    src = open(os.path.join(ROOT, "include/kvmbox/abi.h")).read()
    body = re.search(r'enum kvmbox_hc_nr\s*\{(.*?)\};', src, re.S)
    if not body:
        sys.exit("abi: include/kvmbox/abi.h has no enum kvmbox_hc_nr")
    return [(name, int(nr)) for name, nr in
            re.findall(r'KVMBOX_HC_(\w+)\s*=\s*(\d+)', re.sub(r'/\*.*?\*/', '', body.group(1), flags=re.S))]


def table():
    rows = {}
    for line in open(os.path.join(ROOT, "docs/abi.md")):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r'\d+(?:,\s*\d+)*', cells[0]):
            numbers = [int(n) for n in re.findall(r'\d+', cells[0])]
            names = re.findall(r'`(\w+)`', cells[1])
            for nr, name in zip(numbers, names):
                rows[name] = nr
    return rows


def main():
    have = table()
    wrong = []
    for name, nr in calls():
        if name not in have:
            wrong.append(f"KVMBOX_HC_{name} ({nr}) has no row in docs/abi.md's table of calls")
        elif have[name] != nr:
            wrong.append(f"KVMBOX_HC_{name} is {nr}, docs/abi.md's table says {have[name]}")
    for w in wrong:
        print("abi: FAILED: " + w)
    if wrong:
        return 1
    print(f"abi: the {len(calls())} hypercalls of include/kvmbox/abi.h each have their row in docs/abi.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
