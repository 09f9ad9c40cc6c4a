#!/usr/bin/env python3
"""The repository stands alone. A reader with only this tree must be able to follow every
file, so no tracked file may

  - cite something outside the tree: a notes or style file kept next to the checkout, a
    machine's own directories, a style point by number;
  - cite the project's tracker of work (an entry by number, or the tracker itself) or the
    sitting in which a change was made: a file says what was decided and why instead;
  - name a file of this tree that does not exist (a path under one of the tree's own
    folders, or in the documentation a bare file name that no file has): what a rename left
    behind.

Prints one line per finding, FILE:LINE: the text (what is wrong), and exits 1 when there is
one. Run by `make check-docs` (part of `make check`). The rules themselves are written here
and in docs/contributing.md ("Self-contained"), whose wording does not match them."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SELF = os.path.relpath(os.path.abspath(__file__), ROOT)

# (pattern, what is wrong). Built from pieces so that this file, which is exempt, reads as
# plainly as the rest; the patterns are matched against each line of every tracked text file.
OUTSIDE = [
    (r'\.\./' + r'shared\b', "a path outside the repository"),
    (r'(?<![\w.~-])/' + r'work/', "a path of a development machine"),
    (r'\b' + 'STY' + r'LE(?:\.md|\s*(?:point\s*)?#?\d+)', "a style point or file outside the repository"),
    (r'\b' + 'SPEC' + r'-NOTES\b', "a notes file outside the repository"),
    (r'(?i)\b' + 'iss' + r'ues?\s*#?\d+', "an issue number: say what was decided and why"),
    (r'(?i)\b(?:the|this|that|an|our|its)\s+' + 'iss' + r"ues?(?:'s)?\b(?!\s+(?:an?|the)\s)",
     "a reference to the issue tracker: say what was decided and why"),
    (r'(?i)\b' + 'iss' + r"ue's\b", "a reference to the issue tracker: say what was decided and why"),
    (r'(?i)\b(?:this|that|the|earlier|previous|last|next|one|a later|our)\s+(?:work\s+)?' + 'ses' +
     r'sion(?:\'s)?\s+(?:of\s+work|found|measured|brought|added|made|did|fixed)\b',
     "a work session: say what was decided and why"),
    (r'(?i)\bthis\s+' + 'ses' + r'sion\b', "a work session: say what was decided and why"),
    (r'(?i)\bwork\s+' + 'ses' + r'sions?\b', "a work session: say what was decided and why"),
    (r'\bwt' + r'-[a-z][a-z0-9]+\b', "a work branch of the team"),
]
OUTSIDE = [(re.compile(p), why) for p, why in OUTSIDE]

# The tree's own folders: a path that starts with one of them must exist.
TOP = ("bench", "cli", "docs", "examples", "fuzz", "guest", "include", "mk", "scripts", "src",
       "tests")
ROOMS = tuple(d for d in os.listdir(os.path.join(ROOT, "src"))
              if os.path.isdir(os.path.join(ROOT, "src", d)))
PATH = re.compile(r'(?<![\w./$<{}~%:@+*-])((?:' + "|".join(TOP + ROOMS) +
                  r')/[\w./+*{},-]*[\w/*}])')
# A placeholder in a path: NAME, MODE, FILE ... (capitals), foo, a wildcard or a set ({c,h}).
PLACEHOLDER = re.compile(r'[A-Z]{2,}|\bfoo\b|\*|\$|\{')
# Paths that are not files of this tree although they start like one: programs the build
# makes without a source of the same name, other projects' files a comment cites, the
# layout of an installation, and words that only look like a path.
NOT_OURS = {
    "tests/host/kvmbox-dynamic",        # the command linked dynamically (Makefile)
    "scripts/extract-vmlinux",          # the Linux kernel's
    "include/gdb/signals.def",          # gdb's
    "guest/host",                       # "the guest/host ABI"
}
NOT_OURS_IN = {
    ("docs/embedding.md", "include/kvmbox/guest.h"),  # under share/kvmbox/guest/ once installed
}
BARE = re.compile(r'(?<![\w./$<{}~%:@+*-])([\w-]+\.[ch])\b(?![\w/-])')
# Bare file names the documentation uses for a reader's own files, not the tree's.
READERS_FILES = {"app.c", "g.c", "main.c", "foo.c"}


def tracked():
    """The tree's files, as a clone would have them."""
    try:
        # The tracked files and the new ones not yet added (not those .gitignore names).
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout.decode()
        return [f for f in dict.fromkeys(out.split("\0"))
                if f and os.path.exists(os.path.join(ROOT, f))]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in ("build", ".git")]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return files


def text_of(path):
    try:
        with open(os.path.join(ROOT, path), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def exists(path, where):
    """Is PATH a file or folder of the tree (from the top, from src/ as includes are written,
    or from WHERE's folder), or a program built from PATH.c (or PATH without .so plus .c)?"""
    path = path.rstrip("/.")
    stem = path[:-3] if path.endswith(".so") else path
    return any(os.path.exists(os.path.join(ROOT, base, p))
               for base in ("", "src", os.path.dirname(where)) for p in (path, stem + ".c"))


def main():
    files = tracked()
    names = {os.path.basename(f) for f in files}
    findings = []
    for f in files:
        if f == SELF or f.startswith("fuzz/corpus/"):
            continue
        text = text_of(f)
        if text is None:
            continue
        is_doc = f.endswith(".md") or f == "docs/kvmbox.1"
        for n, line in enumerate(text.split("\n"), 1):
            for pattern, why in OUTSIDE:
                m = pattern.search(line)
                if m:
                    findings.append(f"{f}:{n}: {m.group(0)!r}: {why}")
            if f.endswith(".1"):
                line = line.replace("\\-", "-")
            for m in PATH.finditer(line):
                p = m.group(1)
                if PLACEHOLDER.search(p) or p in NOT_OURS or (f, p) in NOT_OURS_IN:
                    continue
                if not exists(p, f):
                    findings.append(f"{f}:{n}: {p}: no such file or folder in the tree")
            if is_doc:
                for m in BARE.finditer(line):
                    b = m.group(1)
                    if b not in names and b not in READERS_FILES and not PLACEHOLDER.search(b):
                        findings.append(f"{f}:{n}: {b}: no file of the tree has this name")
    findings = list(dict.fromkeys(findings))  # a line that says it twice is one finding
    for line in findings:
        print("selfcontained: " + line)
    if findings:
        print(f"selfcontained: FAILED: {len(findings)} finding(s); rules: tests/docs/selfcontained.py")
        return 1
    print(f"selfcontained: {len(files)} tracked files cite nothing outside the tree, no issue "
          "or work session, and name only files that exist")
    return 0


if __name__ == "__main__":
    sys.exit(main())
