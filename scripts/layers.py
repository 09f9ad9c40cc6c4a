#!/usr/bin/env python3
"""layers: which library file uses which, read from a build's object files; fails on a circle or
on an arrow that climbs to a higher layer.

  scripts/layers.py [--objs DIR] [--layers FILE] [--edges] [--up]

An arrow A -> B means A's object file uses a symbol (a function or an object) that B's object
file defines. FILE (default src/LAYERS) names the layers from the top down, one per line, each a
list of shell patterns over paths below src/ ("sched/*", "vm/vm_run.c"); a file belongs to the
first layer whose pattern it matches, and may use files of its own layer and of the layers
below it. Printed: every circle (files that use each other, directly or around several files),
every arrow that goes up, and a summary line. --edges prints every arrow with its symbols; --up
only lists the upward arrows with their symbols.

Exit status: 0 no circle and nothing climbing, 1 either, 2 usage or no objects (build first).
"""
import collections
import fnmatch
import os
import subprocess
import sys


def read_objects(objs):
    """{source path below src/: object path} for every object built from src/."""
    files = {}
    root_src = os.path.join(objs, "src")
    for root, _, names in os.walk(root_src):
        for n in names:
            if n.endswith(".o"):
                p = os.path.join(root, n)
                src = os.path.relpath(p, root_src)[:-2] + ".c"
                # An object whose source is gone (a renamed file's, left in an old build)
                # says nothing about the tree.
                if os.path.exists(os.path.join("src", src)):
                    files[src] = p
    return files


def symbol_graph(files):
    """{file: {used file: [symbols]}} from nm's defined and undefined symbols."""
    defs, uses = {}, collections.defaultdict(set)
    for src, obj in files.items():
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == "U":
                uses[src].add(f[1])
            elif len(f) == 3 and f[1] in "TDBRVWC":
                defs[f[2]] = src
    graph = collections.defaultdict(dict)
    for src, syms in uses.items():
        for s in sorted(syms):
            d = defs.get(s)
            if d and d != src:
                graph[src].setdefault(d, []).append(s)
    return graph


def circles(graph, nodes):
    """Strongly connected components with more than one file (Tarjan, iterative)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, {})))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    return comps


def read_layers(path):
    """[[patterns of the top layer], ...], top first."""
    layers = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                layers.append(line.split())
    return layers


def layer_of(path, layers):
    for i, pats in enumerate(layers):
        if any(fnmatch.fnmatchcase(path, p) for p in pats):
            return i
    return None


def main(argv):
    objs, layers_file, edges, up_only = "build/obj", "src/LAYERS", False, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--objs" and args:
            objs = args.pop(0)
        elif a == "--layers" and args:
            layers_file = args.pop(0)
        elif a == "--edges":
            edges = True
        elif a == "--up":
            up_only = True
        else:
            print(__doc__, file=sys.stderr)
            return 2
    files = read_objects(objs)
    if not files:
        print(f"layers: no object files of src/ under {objs} (build first)", file=sys.stderr)
        return 2
    graph = symbol_graph(files)
    layers = read_layers(layers_file) if os.path.exists(layers_file) else None
    bad = 0
    comps = circles(graph, files)
    for c in comps:
        print("circle: " + " -> ".join(c + [c[0]]))
    bad += len(comps)
    climbs = []
    if layers is not None:
        for f in sorted(files):
            if layer_of(f, layers) is None:
                print(f"layers: {f} is in no layer of {layers_file}")
                bad += 1
        for a in sorted(graph):
            for b, syms in sorted(graph[a].items()):
                la, lb = layer_of(a, layers), layer_of(b, layers)
                if la is not None and lb is not None and lb < la:
                    climbs.append((a, b, syms))
        for a, b, syms in climbs:
            print(f"up: {a} -> {b} ({', '.join(syms)})")
        bad += len(climbs)
    if edges and not up_only:
        for a in sorted(graph):
            for b, syms in sorted(graph[a].items()):
                print(f"{a} -> {b}: {', '.join(syms)}")
    narrows = sum(len(v) for v in graph.values())
    print(f"layers: {len(files)} files, {narrows} arrows, {len(comps)} circle(s)"
          + (f", {len(climbs)} upward arrow(s) across {len(layers)} layers" if layers else
             f" (no {layers_file}: layers not checked)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
