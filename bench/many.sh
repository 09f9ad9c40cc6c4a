#!/usr/bin/env bash
# N hello VMs in one process and one thread (docs/performance.md, "Thousands of VMs"), for each
# N given (make bench-many: 100 1000 10000): the floor (bench/floor.c many), the library under
# the round-robin scheduler (kvmbox_bench many) and the whole command (`kvmbox run --count N
# --sched rr`, output on /dev/null). Per VM: create, run and destroy time, RSS and open files.
# Writes $BUILD/bench/many.json. bench/run.sh --many N... runs this after checking the host.
set -euo pipefail
BUILD=${BUILD:-build}
OUT=$BUILD/bench
RAW=$OUT/many.jsonl
export BUILD
[ $# -gt 0 ] || set -- 100 1000 10000
mkdir -p "$OUT"
: >"$RAW"
echo "kvmbox: VMs in one process ($(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"open files $(ulimit -Sn)/$(ulimit -Hn))" >&2
for n in "$@"; do
	echo "  $n VMs: floor, library, command" >&2
	"$OUT/floor" many "$n" >>"$RAW"
	"$OUT/kvmbox_bench" many "$n" >>"$RAW"
	"$OUT/floor" spawn 1 "kvmbox.count_$n" "$BUILD/kvmbox" run --count "$n" --sched rr >>"$RAW"
done

python3 - "$RAW" "$OUT/many.json" <<'EOF'
import json, sys
raw, dst = sys.argv[1], sys.argv[2]
fig = {}
for line in open(raw):
    if line.strip():
        d = json.loads(line)
        fig[d["name"]] = d
ns = sorted({int(k.split("_")[1].split(".")[0]) for k in fig if k.startswith("kvmbox.many_")})
def g(k):
    return fig.get(k, {}).get("median")
def fmt(v, f="{:.4g}"):
    return "-" if v is None else f.format(v)
print()
print(f"{'VMs':>6}  {'':6} {'create us':>10} {'run us':>8} {'destroy us':>10} {'total us':>9} {'RSS KiB':>8} {'fds':>4}  per VM")
rows = []
for n in ns:
    for w in ("floor", "kvmbox"):
        vals = {p: g(f"{w}.many_{n}.{p}") for p in ("create", "run", "destroy", "rss", "fds")}
        tot = sum(vals[p] or 0 for p in ("create", "run", "destroy"))
        one = fig.get(f"kvmbox.many_{n}.create", {}).get("one_fd") if w == "kvmbox" else None
        rows.append({"vms": n, "who": w, **vals, "total": tot, "one_fd": one})
        print(f"{n:>6}  {w:6} {fmt(vals['create']):>10} {fmt(vals['run']):>8} {fmt(vals['destroy']):>10} "
              f"{fmt(tot):>9} {fmt(vals['rss']):>8} {fmt(vals['fds']):>4}" + ("  (one fd each)" if one else ""))
    c = g(f"kvmbox.count_{n}")
    print(f"{n:>6}  `kvmbox run --count {n} --sched rr`: {fmt(c / 1e6 if c else None, '{:.3g}')} s in all, "
          f"{fmt(c / n if c else None)} us per VM")
json.dump({"figures": fig, "rows": rows}, open(dst, "w"), indent=1)
print(f"wrote {dst}")
EOF
