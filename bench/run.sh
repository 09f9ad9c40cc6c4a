#!/usr/bin/env bash
# Run the benchmark suite (docs/performance.md): every kvmbox figure and its raw-KVM floor in
# the same run, median and p99 over many repetitions, each kvmbox figure printed next to its
# floor as a ratio. Writes $BUILD/bench/results.json (and the raw lines in results.jsonl).
# Needs the programs `make bench-build` makes; `make bench` runs this. BENCH_QUICK=1: fewer
# repetitions (a smoke run, not figures to quote). `run.sh --host-check` only checks the host
# (make bench does that before building anything).
set -euo pipefail
BUILD=${BUILD:-build}

# Figures are measured only where KVM is usable. Elsewhere stop at once, before anything is
# measured, with one line naming the cause (kvmbox doctor's) and status 77 (docs/performance.md).
host_status=0
host_line=$("$BUILD/kvmbox" doctor --brief 2>&1) || host_status=$?
case $host_status in
0 | 1) ;; # 1: a mode the benchmarks do not use (paged32) cannot run here
69) echo "bench: $host_line; the benchmarks need KVM (docs/performance.md)" >&2; exit 77 ;;
*) echo "bench: $BUILD/kvmbox doctor --brief: status $host_status: $host_line" >&2; exit 2 ;;
esac
[ "${1:-}" != --host-check ] || exit 0
OUT=$BUILD/bench
FLOOR=$OUT/floor
KB=$OUT/kvmbox_bench
RAW=$OUT/results.jsonl
export BUILD

# EX_R runs of EX_N exits make one round of the exit and hypercall figures; ROUNDS short
# rounds (about a second each) alternate the floor and kvmbox, so that drift in this shared
# host's speed hits both alike, and each ratio is the median of the rounds' ratios.
if [ "${BENCH_QUICK:-}" = 1 ]; then
	COLD=40 PH=20 ROUNDS=4 EX_R=10 EX_N=256 CO_R=10 CO_N=20000 CRD=10 RESET=2000
else
	COLD=300 PH=100 ROUNDS=20 EX_R=10 EX_N=512 CO_R=50 CO_N=50000 CRD=60 RESET=30000
fi

mkdir -p "$OUT"
: >"$RAW"
step() { printf '  %s\n' "$1" >&2; }
run() { "$@" >>"$RAW"; }

echo "kvmbox benchmarks ($(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2

# Whole-process cold start: /bin/true, the floor and `kvmbox run`, first with no other VM on
# the host (as far as this suite knows), then with one VM held open by another process.
for host in alone busy; do
	sfx=""; holder=""
	if [ $host = busy ]; then
		sfx="_busy"
		"$FLOOR" hold 3600 & holder=$!
		sleep 0.3
	fi
	step "cold start ($host)"
	run "$FLOOR" spawn "$COLD" "true.cold$sfx" /bin/true
	run "$FLOOR" spawn "$COLD" "floor.cold_long$sfx" "$FLOOR" hello-long
	run "$FLOOR" spawn "$COLD" "kvmbox.cold_long$sfx" "$BUILD/kvmbox" run -m long
	run "$FLOOR" spawn "$COLD" "floor.cold_real$sfx" "$FLOOR" hello-real
	run "$FLOOR" spawn "$COLD" "kvmbox.cold_real$sfx" "$BUILD/kvmbox" run -m real
	if [ -n "$holder" ]; then kill "$holder"; wait "$holder" 2>/dev/null || true; fi
done

step "guest instruction";         run "$FLOOR" insn 5 2000
step "bring-up phases";           run "$FLOOR" phases "$PH"
                                  run "$KB" phases "$PH"
for round in $(seq "$ROUNDS"); do
	step "exit and hypercall round trips (round $round of $ROUNDS)"
	run "$FLOOR" exits "$EX_R" "$EX_N"
	run "$KB" hc "$EX_R" "$EX_N"
done
step "coalesced PIO";             run "$FLOOR" coalesced "$CO_R" "$CO_N"
step "console throughput";        run "$KB" console "$CO_R" "$CO_N"
step "create-run-destroy";        run "$FLOOR" crd "$CRD"
                                  run "$KB" crd "$CRD"
step "reset and run";             run "$FLOOR" rerun "$RESET"
                                  run "$KB" reset "$RESET"
step "RSS per VM";                run "$FLOOR" rss
                                  run "$KB" rss

python3 - "$RAW" "$OUT/results.json" <<'EOF'
import json, sys, platform, os, time
raw, dst = sys.argv[1], sys.argv[2]
fig, rounds = {}, {}
for line in open(raw):
    line = line.strip()
    if line:
        d = json.loads(line)
        rounds.setdefault(d["name"], []).append(d)
# A figure measured in several rounds: the median of each number over the rounds.
for name, ds in rounds.items():
    d = dict(ds[-1])
    if len(ds) > 1:
        for k, v in d.items():
            if isinstance(v, (int, float)) and k != "n":
                vs = sorted(x[k] for x in ds)
                d[k] = vs[len(vs) // 2] if len(vs) % 2 else (vs[len(vs) // 2 - 1] + vs[len(vs) // 2]) / 2
        d["rounds"] = len(ds)
        d["n"] = sum(x["n"] for x in ds)
    fig[name] = d

def get(name, key="median"):
    d = fig.get(name)
    if d is None:
        return None
    return d.get(key, d.get("median"))

def cpu(name):
    return get(name, "cpu_median")

def round_ratio(k, f):
    """Median over rounds of kvmbox / floor, each round's pair measured a second apart; None
    unless both figures were measured in the same number of rounds."""
    a, b = rounds.get(k, []), rounds.get(f, [])
    if len(a) < 2 or len(a) != len(b):
        return None
    rs = sorted(x.get("cpu_median", x["median"]) / y.get("cpu_median", y["median"]) for x, y in zip(a, b))
    return rs[len(rs) // 2] if len(rs) % 2 else (rs[len(rs) // 2 - 1] + rs[len(rs) // 2]) / 2

rows, targets = [], []
def pair(label, k, f, unit=None, key=cpu):
    kv, fv = key(k), key(f)
    d = fig.get(k, {})
    rows.append({"figure": label, "kvmbox": k, "floor": f,
                 "kvmbox_median": get(k), "kvmbox_p99": get(k, "p99"),
                 "floor_median": get(f), "floor_p99": get(f, "p99"),
                 "kvmbox_cpu_median": cpu(k), "floor_cpu_median": cpu(f),
                 "unit": unit or d.get("unit", ""),
                 "ratio": round_ratio(k, f) or ((kv / fv) if kv and fv else None),
                 "ratio_wall": (get(k) / get(f)) if get(k) and get(f) else None})
    return rows[-1]

for host in ("", "_busy"):
    h = " (another VM open)" if host else ""
    for m in ("long", "real"):
        pair(f"cold start {m}{h}", f"kvmbox.cold_{m}{host}", f"floor.cold_{m}{host}", key=get)
    pair(f"cold start long vs /bin/true{h}", f"kvmbox.cold_long{host}", f"true.cold{host}", key=get)
for ph in ("first_run", "destroy"):
    pair(f"phase {ph}", f"kvmbox.phase.{ph}", f"floor.phase.{ph}", key=get)
fl_create = sum(get(f"floor.phase.{p}") or 0 for p in ("create_vm", "memory", "vcpu", "cpuid", "regs_and_load"))
fig["floor.phase.create_and_load"] = {"name": "floor.phase.create_and_load", "unit": "us", "median": fl_create}
fig["kvmbox.phase.create_and_load"] = {"name": "kvmbox.phase.create_and_load", "unit": "us",
    "median": (get("kvmbox.phase.create") or 0) + (get("kvmbox.phase.load") or 0)}
pair("phase create+load (sum of medians)", "kvmbox.phase.create_and_load", "floor.phase.create_and_load", key=get)
pair("bare OUT exit (console, no coalescing)", "kvmbox.exit_out", "floor.exit_out")
hcs = [n for n in fig if n.startswith("kvmbox.hc.")]
for n in hcs:
    r = pair(f"hypercall {n[10:]}", n, "floor.exit_out")
    targets.append((f"hypercall {n[10:]} <= 1.1x bare OUT (floor)", r["ratio"], r["ratio"] is not None and r["ratio"] <= 1.1))
for n in hcs:
    r = pair(f"hypercall {n[10:]} vs kvmbox OUT", n, "kvmbox.exit_out")
# The floor doing what the ABI needs from KVM: a 32-bit IN with the registers (general and
# special) copied out at every exit. What is left over is kvmbox's own work per call.
pair("floor IN + sync_regs vs floor bare OUT", "floor.exit_in_sync", "floor.exit_out")
for n in hcs:
    r = pair(f"hypercall {n[10:]} vs floor IN + sync_regs", n, "floor.exit_in_sync")
pair("coalesced console byte", "kvmbox.console.putc_coalesced", "floor.coalesced_byte")
pair("create-run-destroy (another VM open)", "kvmbox.crd", "floor.crd")
pair("create-run-destroy (alone)", "kvmbox.crd_alone", "floor.crd_alone")
r = pair("reset + run hello", "kvmbox.reset_cycle", "floor.rerun")
for n in (1, 100, 1000):
    pair(f"RSS per idle VM, {n} VMs", f"kvmbox.rss_per_vm_{n}", f"floor.rss_per_vm_{n}", key=get)

# Derived figures and the issue's targets.
def rate(name, key):
    d = fig.get(name, {})
    return d.get(key)
speed = (cpu("kvmbox.console.putc_exit") / cpu("kvmbox.console.putc_coalesced")) if cpu("kvmbox.console.putc_coalesced") else None
reset_rate = rate("kvmbox.reset_cycle", "cycles_per_s")
reset_rate_cpu = rate("kvmbox.reset_cycle", "cpu_cycles_per_s")
crd_us = get("kvmbox.crd")
crd_alone_us = get("kvmbox.crd_alone")
cold = next(r for r in rows if r["kvmbox"] == "kvmbox.cold_long")
targets.insert(0, ("cold start long <= 1.1x floor (wall)", cold["ratio"], cold["ratio"] is not None and cold["ratio"] <= 1.1))
targets.append(("coalesced 0xE9 bytes/s >= 5x one exit per byte", speed, speed is not None and speed >= 5))
targets.append(("reset+run cycles/s >= 25000", reset_rate, reset_rate is not None and reset_rate >= 25000))
x = reset_rate * crd_us / 1e6 if reset_rate and crd_us else None
targets.append(("reset+run >= 10x create-run-destroy (another VM open)", x, x is not None and x >= 10))
xa = reset_rate * crd_alone_us / 1e6 if reset_rate and crd_alone_us else None
targets.append(("reset+run >= 10x create-run-destroy (alone)", xa, xa is not None and xa >= 10))
rss = get("kvmbox.rss_per_vm_1000")
targets.append(("RSS per extra idle VM <= 32 KiB (1000 VMs)", rss, rss is not None and rss <= 32))

def fmt(v):
    if v is None: return "-"
    return f"{v:.4g}"
print()
print(f"{'figure':<46} {'kvmbox med/p99':>19} {'floor med/p99':>19} {'unit':>4} {'ratio':>6} {'wall':>6}")
for r in rows:
    print(f"{r['figure']:<46} {fmt(r['kvmbox_median']):>9}/{fmt(r['kvmbox_p99']):<9} "
          f"{fmt(r['floor_median']):>9}/{fmt(r['floor_p99']):<9} {r['unit']:>4} {fmt(r['ratio']):>6} {fmt(r['ratio_wall']):>6}")
print()
print("console throughput (bytes/s from the median ns/byte; exits per byte):")
for n in ("kvmbox.console.putc_exit", "kvmbox.console.putc_coalesced", "kvmbox.console.printstr16", "kvmbox.console.printstr4095", "kvmbox.console.write4095", "floor.coalesced_byte"):
    if n in fig:
        print(f"  {n:<36} {1e9 / fig[n]['median']:>12.4g} B/s (cpu {1e9 / cpu(n):.4g})  exits/byte {fig[n].get('exits_per_byte', '-')}")
fx = get("kvmbox.hc.abi_version", "run_fixed_ns")
print(f"per-call figures exclude a run's fixed cost (reset's first entry, guest start, halt), measured "
      f"by a run with no calls and subtracted: {fmt(fx / 1e3 if fx else None)} us (abi_version's VM)")
print(f"one guest instruction (floor nop loop): {fmt(get('floor.guest_insn_cpl0'))} ns at CPL 0, "
      f"{fmt(get('floor.guest_insn_cpl3'))} ns at CPL 3 (kvm_pvm emulates CPL 0; VMX/SVM run both natively)")
print(f"reset+run: {fmt(reset_rate)} cycles/s wall ({fmt(reset_rate_cpu)} on CPU time); floor rerun: "
      f"{fmt(rate('floor.rerun', 'cycles_per_s'))}/s; create-run-destroy: {fmt(1e6 / crd_us if crd_us else None)}/s "
      f"(alone {fmt(1e6 / crd_alone_us if crd_alone_us else None)}/s)")
print()
print("targets:")
for name, v, ok in targets:
    print(f"  {'MET    ' if ok else 'NOT MET'} {name}: {fmt(v)}")
print("\nratio: kvmbox / floor on CPU-time medians (thread or child CPU time; wall medians where a figure has no"
      "\nCPU time: cold start, phases, RSS); for figures measured in rounds, the median of the rounds' ratios."
      "\nwall: the ratio of the wall-time medians.")

json.dump({"host": {"kernel": platform.release(), "cpus": os.cpu_count(), "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "loadavg": open("/proc/loadavg").read().split()[:3]},
           "figures": fig, "pairs": rows,
           "targets": [{"target": n, "value": v, "met": ok} for n, v, ok in targets]},
          open(dst, "w"), indent=1)
print(f"wrote {dst}")
EOF
