#!/usr/bin/env python3
"""Every name the public headers define is kvmbox_ or KVMBOX_ prefixed (tests/install/run.sh).

Usage: public_names.py INCLUDEDIR [CLANG]

A program includes <kvmbox/*.h> beside code of its own: a gpa_t, a struct tag or a macro
without the prefix would clash with the program's (the KVM selftests define gpa_t). For each
header in INCLUDEDIR/kvmbox/, the macros it defines (the preprocessor's -dD, attributed to
files by its line markers) and the file-scope names its declarations introduce (typedefs,
struct/union/enum tags, enum constants, functions, variables: clang's JSON syntax tree) are
checked; names from other headers (<stdint.h>, <linux/kvm.h>) are not kvmbox's and are left
out. Prints each unprefixed name with its header; exits 1 when there is one, 77 without
clang, 0 otherwise.
"""
import json
import os
import re
import shutil
import subprocess
import sys

PREFIXES = ("kvmbox_", "KVMBOX_")
DECLS = {"TypedefDecl", "RecordDecl", "EnumDecl", "EnumConstantDecl", "FunctionDecl", "VarDecl"}


def ours(path, incdir):
    return path is not None and os.path.realpath(path).startswith(incdir + os.sep)


def macros(clang, incdir, header):
    """(name, file) of each #define, by the line markers of -E -dD."""
    out = subprocess.run([clang, "-std=gnu11", "-E", "-dD", "-I", incdir, "-x", "c", "-"],
                         input="#include <kvmbox/%s>\n" % header, capture_output=True,
                         text=True, check=True).stdout
    current = None
    for line in out.splitlines():
        m = re.match(r'^# \d+ "([^"]*)"', line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^#define ([A-Za-z_][A-Za-z0-9_]*)", line)
        if m and ours(current, incdir):
            yield m.group(1), current


class Walker:
    """Clang's JSON dump writes a location's "file" only when it differs from the last one it
    wrote, in document order: replay that order to know each declaration's file."""

    def __init__(self, incdir):
        self.incdir = incdir
        self.file = None
        self.found = []

    def loc(self, loc):
        if not isinstance(loc, dict):
            return None
        # A location inside a macro expansion has both; the expansion is where it reads.
        if "spellingLoc" in loc or "expansionLoc" in loc:
            self.loc(loc.get("spellingLoc"))
            return self.loc(loc.get("expansionLoc"))
        if "file" in loc:
            self.file = loc["file"]
        return self.file

    def node(self, n, in_tu):
        """N, a child of the translation unit when IN_TU; else nested in a declaration."""
        where = self.loc(n.get("loc"))
        rng = n.get("range", {})
        self.loc(rng.get("begin"))
        self.loc(rng.get("end"))
        kind = n.get("kind")
        name = n.get("name")
        # C has one scope for tags and enum constants, however deep a struct nests them.
        file_scope = in_tu or kind in ("RecordDecl", "EnumDecl", "EnumConstantDecl")
        if (kind in DECLS and name and file_scope and not n.get("isImplicit")
                and ours(where, self.incdir)):
            self.found.append((name, kind, where))
        for child in n.get("inner", []):
            # A function's parameters and body are not file scope.
            if kind == "FunctionDecl":
                self.skip(child)
            else:
                self.node(child, kind == "TranslationUnitDecl")

    def skip(self, n):
        """Follow the locations of a subtree whose names do not count."""
        self.loc(n.get("loc"))
        rng = n.get("range", {})
        self.loc(rng.get("begin"))
        self.loc(rng.get("end"))
        for child in n.get("inner", []):
            self.skip(child)


def declarations(clang, incdir, header):
    out = subprocess.run([clang, "-std=gnu11", "-fsyntax-only", "-Xclang", "-ast-dump=json",
                          "-I", incdir, "-x", "c", "-"],
                         input="#include <kvmbox/%s>\n" % header, capture_output=True,
                         text=True, check=True).stdout
    w = Walker(incdir)
    w.node(json.loads(out), False)
    return w.found


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    incdir = os.path.realpath(sys.argv[1])
    clang = sys.argv[2] if len(sys.argv) == 3 else "clang"
    if not shutil.which(clang):
        print("SKIP: no %s (scripts/deps.sh installs it): its syntax tree lists the names" % clang)
        sys.exit(77)
    headers = sorted(h for h in os.listdir(os.path.join(incdir, "kvmbox")) if h.endswith(".h"))
    bad = set()
    count = 0
    for h in headers:
        for name, path in macros(clang, incdir, h):
            count += 1
            if not name.startswith(PREFIXES):
                bad.add(("macro", name, os.path.relpath(path, incdir)))
        for name, kind, path in declarations(clang, incdir, h):
            count += 1
            if not name.startswith(PREFIXES):
                bad.add((kind, name, os.path.relpath(path, incdir)))
    if not headers or not count:
        print("no public header or no name found in %s/kvmbox" % incdir)
        sys.exit(1)
    for kind, name, path in sorted(bad, key=lambda b: (b[2], b[1])):
        print("%s: %s %s is not kvmbox_/KVMBOX_ prefixed" % (path, kind, name))
    if bad:
        sys.exit(1)
    print("%d headers: every name they define is kvmbox_/KVMBOX_ prefixed" % len(headers))


if __name__ == "__main__":
    main()
