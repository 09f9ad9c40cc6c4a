#!/usr/bin/env python3
"""Draw a kvmbox --trace-out file (Chrome trace-event JSON) as an SVG timeline: one lane per
VM, one box per slice the VM ran, coloured by VM, with a dark edge where the slice ended
blocked on a channel and a mark where the VM ended.

    scripts/trace2svg.py TRACE.json OUT.svg [--from MS] [--to MS] [--title TEXT]
"""
import argparse
import json
import sys
from xml.sax.saxutils import escape

COLOURS = ["#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a", "#c62828", "#00838f", "#827717", "#4e342e"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("svg")
    ap.add_argument("--from", dest="t0", type=float, default=0.0, help="start, ms")
    ap.add_argument("--to", dest="t1", type=float, default=None, help="end, ms")
    ap.add_argument("--title", default=None)
    ap.add_argument("--width", type=int, default=900)
    a = ap.parse_args()

    with open(a.trace) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    slices = [e for e in events if e.get("ph") == "X"]
    marks = [e for e in events if e.get("ph") == "i"]
    if not slices:
        sys.exit("trace2svg: no slices in %s" % a.trace)
    end_ms = max((e["ts"] + e["dur"]) / 1000 for e in slices)
    t0, t1 = a.t0, a.t1 if a.t1 is not None else end_ms
    tids = sorted(names)
    left, right, top, lane, gap = 110, 20, 40, 26, 10
    plot_w = a.width - left - right
    height = top + len(tids) * (lane + gap) + 40

    def x(ms):
        return left + (ms - t0) / (t1 - t0) * plot_w

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (a.width, height),
           '<rect width="100%" height="100%" fill="white"/>']
    policy = doc.get("otherData", {})
    title = a.title or "kvmbox %s, quantum %.3g ms" % (
        policy.get("policy", "?"), policy.get("quantum_ns", 0) / 1e6)
    out.append('<text x="%d" y="20" font-size="14">%s</text>' % (left, escape(title)))
    busy = {}
    for i, tid in enumerate(tids):
        y = top + i * (lane + gap)
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                   % (left - 8, y + lane * 0.65, escape(names[tid])))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#f3f3f3"/>'
                   % (left, y, plot_w, lane))
    for e in slices:
        s, d = e["ts"] / 1000, e["dur"] / 1000
        if s + d < t0 or s > t1:
            continue
        busy[e["tid"]] = busy.get(e["tid"], 0) + min(s + d, t1) - max(s, t0)
        i = tids.index(e["tid"])
        y = top + i * (lane + gap)
        xs, xe = x(max(s, t0)), x(min(s + d, t1))
        colour = COLOURS[i % len(COLOURS)]
        out.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>%s %.3f ms, '
                   'ended: %s</title></rect>' % (xs, y, max(xe - xs, 0.5), lane, colour,
                                                 escape(names[e["tid"]]), d,
                                                 e.get("args", {}).get("end", "")))
        if e.get("args", {}).get("end") == "blocked":
            out.append('<rect x="%.2f" y="%d" width="1.5" height="%d" fill="black"/>'
                       % (xe - 1.5, y, lane))
    for e in marks:
        ms = e["ts"] / 1000
        if t0 <= ms <= t1 and e["tid"] in tids:
            y = top + tids.index(e["tid"]) * (lane + gap)
            out.append('<text x="%.2f" y="%d" font-size="10">%s</text>'
                       % (x(ms) + 2, y - 1, escape(e["name"])))
    for i, tid in enumerate(tids):
        y = top + i * (lane + gap)
        out.append('<text x="%d" y="%d" font-size="10" text-anchor="end">%.1f%%</text>'
                   % (a.width - 2, y + lane + 9, 100 * busy.get(tid, 0) / sum(busy.values())))
    axis_y = top + len(tids) * (lane + gap) + 5
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
               % (left, axis_y, left + plot_w, axis_y))
    step = 10 ** len(str(int(max((t1 - t0) / 8, 1)))) / 10
    while (t1 - t0) / step > 10:
        step *= 2
    tick = (int(t0 / step) + 1) * step if t0 % step else t0
    while tick <= t1:
        out.append('<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="black"/>'
                   % (x(tick), axis_y, x(tick), axis_y + 4))
        out.append('<text x="%.2f" y="%d" text-anchor="middle" font-size="10">%g ms</text>'
                   % (x(tick), axis_y + 16, round(tick, 3)))
        tick += step
    out.append("</svg>")
    with open(a.svg, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
