#!/usr/bin/env python3
"""The exit statuses have one home, cli/status.h (EXIT_STATUS_INTRO, EXIT_STATUSES,
EXIT_WORST_FIRST, EXIT_WORST_RULE). This script renders them into README.md's table and
docs/kvmbox.1's EXIT STATUS section, between marker lines, and checks `kvmbox help run`.

    tests/docs/statuses.py          check: exit 1, naming what differs, when a document or
                                    the usage text is not what cli/status.h gives
    tests/docs/statuses.py --write  rewrite the two documents from cli/status.h

Run by `make check-docs` (part of `make check`). BUILD names the build directory
(default build); the usage text is checked when BUILD/kvmbox exists."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = "cli/status.h"
README_BEGIN = "<!-- exit statuses: from cli/status.h by tests/docs/statuses.py --write -->"
README_END = "<!-- end of the exit statuses -->"
MAN_BEGIN = '.\\" exit statuses: from cli/status.h by tests/docs/statuses.py --write'
MAN_END = '.\\" end of the exit statuses'

STRINGS = r'((?:\s*"(?:[^"\\]|\\.)*")+)'


def c_strings(text):
    """The value of adjacent C string literals (only \\" and \\\\ escapes are used)."""
    return "".join(re.sub(r'\\(.)', r'\1', s) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', text))


def macro(src, name):
    """The body of #define NAME, continuation lines joined."""
    m = re.search(r'^#define ' + name + r'(?!\w)(.*?)(?<!\\)$', src, re.M | re.S)
    if not m:
        sys.exit(f"{HEADER}: no #define {name}")
    return m.group(1).replace("\\\n", " ")


def read_statuses():
    src = open(os.path.join(ROOT, HEADER)).read()
    rows = [(name, int(value), c_strings(label), c_strings(meaning))
            for name, value, label, meaning in re.findall(
                r'X\((\w+),\s*(\d+),' + STRINGS + r',' + STRINGS + r'\)',
                macro(src, r'EXIT_STATUSES\(X\)'))]
    values = {name: value for name, value, _, _ in rows}
    worst = re.findall(r'X\((\w+)\)', macro(src, r'EXIT_WORST_FIRST\(X\)'))
    if not rows or not worst or any(w not in values for w in worst):
        sys.exit(f"{HEADER}: cannot read EXIT_STATUSES and EXIT_WORST_FIRST")
    intro = c_strings(macro(src, "EXIT_STATUS_INTRO"))
    rule = c_strings(macro(src, "EXIT_WORST_RULE")) % ", ".join(str(values[w]) for w in worst)
    return intro, rows, rule


def markdown(text):
    # In a table a | ends the cell, even inside a code span, unless escaped.
    return text.replace("|", "\\|")


def readme_block(intro, rows, rule):
    lines = [README_BEGIN, intro, "", "| status | meaning |", "| --- | --- |"]
    lines += [f"| {label} | {markdown(meaning)} |" for _, _, label, meaning in rows]
    lines += ["", rule, README_END]
    return lines


def roff(text):
    """Backticked words in bold, their hyphens as minus signs (so a pasted option works)."""
    text = text.replace("\\", "\\e")
    return re.sub(r'`([^`]*)`', lambda m: "\\fB" + m.group(1).replace("-", "\\-") + "\\fP", text)


def man_block(intro, rows, rule):
    lines = [MAN_BEGIN, roff(intro)]
    for _, _, label, meaning in rows:
        lines += [".TP", '.B "' + label + '"' if " " in label else ".B " + label,
                  roff(meaning[0].upper() + meaning[1:]) + "."]
    lines += [".PP", roff(rule), MAN_END]
    return lines


def replace_block(path, begin, end, block, write):
    """Put BLOCK (its first and last lines are BEGIN and END) in place of the lines from
    BEGIN to END in PATH. Returns a complaint, or None."""
    full = os.path.join(ROOT, path)
    lines = open(full).read().split("\n")
    if lines.count(begin) != 1 or lines.count(end) != 1 or lines.index(begin) > lines.index(end):
        return f"{path}: expected one line\n  {begin}\nand after it one line\n  {end}"
    a, b = lines.index(begin), lines.index(end)
    if lines[a:b + 1] == block:
        return None
    if write:
        open(full, "w").write("\n".join(lines[:a] + block + lines[b + 1:]))
        print(f"statuses: wrote {path} from {HEADER}")
        return None
    old, new = lines[a:b + 1], block
    diff = [f"  - {o}\n  + {n}" for o, n in zip(old, new) if o != n][:3]
    return (f"{path}: its exit statuses are not {HEADER}'s "
            f"(tests/docs/statuses.py --write rewrites them):\n" + "\n".join(diff))


def check_usage(rows, rule):
    kvmbox = os.path.join(ROOT, os.environ.get("BUILD", "build"), "kvmbox")
    if not os.access(kvmbox, os.X_OK):
        print(f"statuses: {kvmbox} is not built: the usage text was not checked")
        return []
    out = subprocess.run([kvmbox, "help", "run"], capture_output=True, text=True).stdout
    flat = " ".join(out.split())
    return [f"`kvmbox help run` lacks the status {label}: {meaning}"
            for _, _, label, meaning in rows + [(None, None, "", rule)]
            if " ".join(f"{label} {meaning}".replace("`", "").split()) not in flat]


def main():
    write = sys.argv[1:] == ["--write"]
    if sys.argv[1:] not in ([], ["--write"]):
        sys.exit("usage: tests/docs/statuses.py [--write]")
    intro, rows, rule = read_statuses()
    problems = [p for p in (
        replace_block("README.md", README_BEGIN, README_END, readme_block(intro, rows, rule), write),
        replace_block("docs/kvmbox.1", MAN_BEGIN, MAN_END, man_block(intro, rows, rule), write))
        if p]
    problems += check_usage(rows, rule)
    for p in problems:
        print("statuses: FAILED: " + p)
    if problems:
        return 1
    print(f"statuses: {len(rows)} exit statuses of {HEADER}: README.md, docs/kvmbox.1 and "
          "`kvmbox help run` agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
