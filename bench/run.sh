#!/usr/bin/env bash
# Run the benchmark suite (docs/performance.md): every kvmbox figure and its raw-KVM floor in
# the same run, median and p99 over many repetitions, each kvmbox figure printed next to its
# floor as a ratio. Writes $BUILD/bench/results.json (and the raw lines in results.jsonl).
# Needs the programs `make bench-build` makes; `make bench` runs this. BENCH_QUICK=1: fewer
# repetitions (a smoke run, not figures to quote). `run.sh --host-check` only checks the host
# (make bench does that before building anything). `run.sh --many N...` measures N VMs in one
# process instead (make bench-many: 100, 1,000 and 10,000), into $BUILD/bench/many.json.
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
if [ "${1:-}" = --many ]; then shift; exec "$(dirname "$0")/many.sh" "$@"; fi
OUT=$BUILD/bench
FLOOR=$OUT/floor
KB=$OUT/kvmbox_bench
RAW=$OUT/results.jsonl
export BUILD

# EX_R runs of EX_N exits make one round of the exit and hypercall figures; ROUNDS short
# rounds (about a second each) alternate the floor and kvmbox, so that drift in this shared
# host's speed hits both alike, and each ratio is the median of the rounds' ratios. Cold
# starts alternate run by run instead (floor spawn runs its commands in turn).
if [ "${BENCH_QUICK:-}" = 1 ]; then
	COLD=40 COLDV=10 PH=21 ROUNDS=4 EX_R=10 EX_N=256 CO_R=10 CO_N=20000 CRD=10 RESET=1000 MANY="100" MANY_R=2
	SNAP_R=30 FORKS=100 CALLS=200
else
	COLD=300 COLDV=60 PH=99 ROUNDS=20 EX_R=10 EX_N=512 CO_R=50 CO_N=50000 CRD=20 RESET=3000 MANY="100 1000" MANY_R=5
	SNAP_R=300 FORKS=1000 CALLS=1000
fi

mkdir -p "$OUT"
: >"$RAW"
step() { printf '  %s\n' "$1" >&2; }
run() { "$@" >>"$RAW"; }

echo "kvmbox benchmarks ($(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2

# The snapshot a whole-process restore starts from: the built-in hello guest saved at its halt
# (restored, it halts again at once), timed with the cold starts below.
"$BUILD/kvmbox" run --save "$OUT/hello-halted.snap" 2>/dev/null >/dev/null

# Whole-process cold start, each command run in turn with the others: /bin/true, the floor
# and `kvmbox run` (and kvmbox without its seccomp filter, and the floor with the least
# sandbox that gives kvmbox's guarantees, to show what the sandbox costs), first with no other VM on the host (as far as this suite knows), then with one VM held
# open by another process.
for host in alone busy; do
	sfx=""; holder=""
	if [ $host = busy ]; then
		sfx="_busy"
		"$FLOOR" hold 3600 & holder=$!
		sleep 0.3
	fi
	step "cold start ($host)"
	run "$FLOOR" spawn "$COLD" "true.cold$sfx" /bin/true \
		+ "floor.cold_long$sfx" "$FLOOR" hello long \
		+ "kvmbox.cold_long$sfx" "$BUILD/kvmbox" run -m long \
		+ "floor.cold_real$sfx" "$FLOOR" hello real \
		+ "kvmbox.cold_real$sfx" "$BUILD/kvmbox" run -m real \
		+ "kvmbox.cold_long_no_seccomp$sfx" "$BUILD/kvmbox" run -m long --no-seccomp \
		+ "floor.cold_long_sandbox$sfx" "$FLOOR" hello long sandbox \
		+ "kvmbox.cold_restore$sfx" "$BUILD/kvmbox" run --restore "$OUT/hello-halted.snap"
	if [ -n "$holder" ]; then kill "$holder"; wait "$holder" 2>/dev/null || true; fi
done
# What a coalesced console costs a short-lived VM, and the ways around it: the zone
# registered at bring-up, taken out again before exit, or the last close left to a reaper.
step "cold start with a coalesced console"
run "$FLOOR" spawn "$COLDV" "floor.cold_long.ref" "$FLOOR" hello long \
	+ "floor.cold_long.coalesce" "$FLOOR" hello long coalesce \
	+ "floor.cold_long.unregister" "$FLOOR" hello long unregister \
	+ "floor.cold_long.reaper" "$FLOOR" hello long reaper

step "guest instruction";         run "$FLOOR" insn 5 2000
step "bring-up steps";            run "$FLOOR" phases "$PH"
                                  run "$KB" phases "$PH"
for round in $(seq "$ROUNDS"); do
	step "exits, hypercalls, churn, reset and calls (round $round of $ROUNDS)"
	run "$FLOOR" exits "$EX_R" "$EX_N"
	run "$KB" hc "$EX_R" "$EX_N"
	run "$FLOOR" crd "$CRD"
	run "$KB" crd "$CRD"
	run "$FLOOR" rerun "$RESET"
	run "$KB" reset "$RESET"
	run "$FLOOR" call "$CALLS"
	run "$KB" call "$CALLS"
done
step "snapshots: restore, fork, save"
run "$KB" snap "$SNAP_R" "$FORKS" "$OUT"
step "coalesced PIO";             run "$FLOOR" coalesced "$CO_R" "$CO_N"
step "console throughput";        run "$KB" console "$CO_R" "$CO_N"
step "RSS per VM";                run "$FLOOR" rss
                                  run "$KB" rss
# VMs in one process and thread: MANY_R rounds of the first count (its ratio is a target),
# one of each other.
first=1
for n in $MANY; do
	reps=1
	[ "$first" = 1 ] && reps=$MANY_R
	first=0
	for round in $(seq "$reps"); do
		step "$n VMs in one process (round $round of $reps)"
		run "$FLOOR" many "$n"
		run "$KB" many "$n"
	done
done

python3 - "$RAW" "$OUT/results.json" <<'EOF'
import json, sys, platform, os, time
raw, dst = sys.argv[1], sys.argv[2]
fig, rounds = {}, {}
for line in open(raw):
    line = line.strip()
    if line:
        d = json.loads(line)
        rounds.setdefault(d["name"], []).append(d)

def median(vs):
    vs = sorted(vs)
    return vs[len(vs) // 2] if len(vs) % 2 else (vs[len(vs) // 2 - 1] + vs[len(vs) // 2]) / 2

# A figure measured in several rounds: the median of each number over the rounds.
for name, ds in rounds.items():
    d = dict(ds[-1])
    if len(ds) > 1:
        for k, v in d.items():
            if isinstance(v, (int, float)) and k != "n":
                d[k] = median([x[k] for x in ds])
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

def round_ratio(k, f, key="cpu_median"):
    """Median over rounds of kvmbox / floor, each round's pair measured a second apart; None
    unless both figures were measured in the same number of rounds."""
    a, b = rounds.get(k, []), rounds.get(f, [])
    if len(a) < 2 or len(a) != len(b):
        return None
    return median([x.get(key, x["median"]) / y.get(key, y["median"]) for x, y in zip(a, b)])

rows, targets = [], []
def pair(label, k, f, unit=None, key=cpu, rkey="cpu_median"):
    kv, fv = key(k), key(f)
    d = fig.get(k, {})
    rows.append({"figure": label, "kvmbox": k, "floor": f,
                 "kvmbox_median": get(k), "kvmbox_p99": get(k, "p99"),
                 "floor_median": get(f), "floor_p99": get(f, "p99"),
                 "kvmbox_cpu_median": cpu(k), "floor_cpu_median": cpu(f),
                 "unit": unit or d.get("unit", ""),
                 "ratio": round_ratio(k, f, rkey) or ((kv / fv) if kv and fv else None),
                 "ratio_wall": (get(k) / get(f)) if get(k) and get(f) else None})
    return rows[-1]

def target(name, v, ok):
    targets.append((name, v, v is not None and ok(v)))

# Cold start: every command ran in turn with the others (floor spawn), so medians compare.
cold = {}
for host in ("", "_busy"):
    h = " (another VM open)" if host else ""
    for m in ("long", "real"):
        cold[m + host] = pair(f"cold start {m}{h}", f"kvmbox.cold_{m}{host}", f"floor.cold_{m}{host}", key=get)
    pair(f"cold start long, no seccomp filter{h}", f"kvmbox.cold_long_no_seccomp{host}", f"floor.cold_long{host}", key=get)
    pair(f"cold start long vs /bin/true{h}", f"kvmbox.cold_long{host}", f"true.cold{host}", key=get)
    # The least a sandbox like kvmbox's costs (floor_sandbox), and kvmbox against that.
    pair(f"floor with a minimal sandbox vs the floor{h}", f"floor.cold_long_sandbox{host}", f"floor.cold_long{host}", key=get)
    pair(f"cold start long vs the sandboxed floor{h}", f"kvmbox.cold_long{host}", f"floor.cold_long_sandbox{host}", key=get)
    # A whole process that restores the hello guest halted (kvmbox run --restore), next to one
    # that starts it (docs/snapshot.md).
    pair(f"kvmbox run --restore (hello) vs the floor's cold start{h}", f"kvmbox.cold_restore{host}", f"floor.cold_long{host}", key=get)
    pair(f"kvmbox run --restore (hello) vs kvmbox's cold start{h}", f"kvmbox.cold_restore{host}", f"kvmbox.cold_long{host}", key=get)
for m in ("long", "real"):
    target(f"cold start {m} <= 1.2x the minimal floor (wall)", cold[m]["ratio"], lambda v: v <= 1.2)
pair("bare OUT exit (console, no coalescing)", "kvmbox.exit_out", "floor.exit_out")
hcs = [n for n in fig if n.startswith("kvmbox.hc.")]
for n in hcs:
    r = pair(f"hypercall {n[10:]}", n, "floor.exit_out")
    target(f"hypercall {n[10:]} <= 1.1x bare OUT (floor)", r["ratio"], lambda v: v <= 1.1)
# The floor doing what the ABI needs from KVM: a 32-bit IN with the registers (general and
# special) copied out at every exit. What is left over is kvmbox's own work per call.
pair("floor IN + sync_regs vs floor bare OUT", "floor.exit_in_sync", "floor.exit_out")
for n in hcs:
    pair(f"hypercall {n[10:]} vs floor IN + sync_regs", n, "floor.exit_in_sync")
pair("coalesced console byte", "kvmbox.console.putc_coalesced", "floor.coalesced_byte")
crd = pair("create-run-destroy (another VM open)", "kvmbox.crd", "floor.crd", key=get, rkey="median")
crd_alone = pair("create-run-destroy (alone)", "kvmbox.crd_alone", "floor.crd_alone", key=get, rkey="median")
for r, h in ((crd, "another VM open"), (crd_alone, "alone")):
    target(f"create-run-destroy per second >= 0.8x the floor's ({h})",
           1 / r["ratio"] if r["ratio"] else None, lambda v: v >= 0.8)
reset = pair("reset + run hello", "kvmbox.reset_cycle", "floor.rerun", rkey="median")
# Calls into the guest (docs/embedding.md): the floor sets the registers and runs to the
# return stub's hlt; with a host function, serves one IN between; with a reset, copies back
# the pages the dirty log names.
pair("guest call (kvmbox_vm_call)", "kvmbox.call.plain", "floor.call.plain")
pair("guest call calling one host function", "kvmbox.call.host", "floor.call.host")
pair("guest call + reset (point after main: whole vCPU)", "kvmbox.call.reset", "floor.call.reset_vcpu")
pair("guest call + reset (point after main) vs a floor putting back registers only", "kvmbox.call.reset", "floor.call.reset")
pair("guest call + reset (point set before any run: registers only)", "kvmbox.call.reset_fresh", "floor.call.reset")
# Snapshots in one process, against making the VM new (the floor's create-run-destroy, both
# with another VM open).
pair("snapshot restore, open() to the first exit", "kvmbox.snap.restore", "floor.crd", key=get, rkey="median")
pair("fork, per VM (1000 alive)", "kvmbox.snap.fork", "floor.crd", key=get, rkey="median")
pair("snapshot restore vs kvmbox create-run-destroy", "kvmbox.snap.restore", "kvmbox.crd", key=get, rkey="median")
target("reset+run <= 1.2x the floor's rerun", reset["ratio"], lambda v: v <= 1.2)
for n in (1, 100, 1000):
    pair(f"RSS per idle VM, {n} VMs", f"kvmbox.rss_per_vm_{n}", f"floor.rss_per_vm_{n}", key=get)
many = sorted({int(n.split("_")[1].split(".")[0]) for n in fig if n.startswith("kvmbox.many_")})
for n in many:
    # Per round, create + run + destroy per VM; the figure is the median over the rounds.
    for w in ("kvmbox", "floor"):
        per = [sum(rounds[f"{w}.many_{n}.{p}"][i]["median"] for p in ("create", "run", "destroy"))
               for i in range(len(rounds.get(f"{w}.many_{n}.create", [])))]
        name = f"{w}.many_{n}.total"
        rounds[name] = [{"name": name, "median": v} for v in per]
        fig[name] = {"name": name, "unit": "us", "median": median(per) if per else None, "n": len(per)}
    r = pair(f"{n} VMs: create + run + destroy, per VM", f"kvmbox.many_{n}.total", f"floor.many_{n}.total",
             key=get, rkey="median")
    if n == 100:
        target(f"create-run-destroy per second >= 0.8x the floor's ({n} VMs in one run)",
               1 / r["ratio"] if r["ratio"] else None, lambda v: v >= 0.8)

# Derived figures and the older targets (hypercalls, RSS, reset rate).
speed = (cpu("kvmbox.console.putc_exit") / cpu("kvmbox.console.putc_coalesced")) if cpu("kvmbox.console.putc_coalesced") else None
target("coalesced 0xE9 bytes/s >= 5x one exit per byte", speed, lambda v: v >= 5)
reset_rate = get("kvmbox.reset_cycle", "cycles_per_s")
reset_rate_cpu = get("kvmbox.reset_cycle", "cpu_cycles_per_s")
target("reset+run cycles/s >= 25000", reset_rate, lambda v: v >= 25000)
crd_us, crd_alone_us = get("kvmbox.crd"), get("kvmbox.crd_alone")
target("reset+run >= 10x create-run-destroy (another VM open)",
       reset_rate * crd_us / 1e6 if reset_rate and crd_us else None, lambda v: v >= 10)
rss = get("kvmbox.rss_per_vm_1000")
target("RSS per extra idle VM <= 32 KiB (1000 VMs)", rss, lambda v: v <= 32)

def fmt(v):
    if v is None: return "-"
    return f"{v:.4g}"
print()
print(f"{'figure':<52} {'kvmbox med/p99':>19} {'floor med/p99':>19} {'unit':>4} {'ratio':>6} {'wall':>6}")
for r in rows:
    print(f"{r['figure']:<52} {fmt(r['kvmbox_median']):>9}/{fmt(r['kvmbox_p99']):<9} "
          f"{fmt(r['floor_median']):>9}/{fmt(r['floor_p99']):<9} {r['unit']:>4} {fmt(r['ratio']):>6} {fmt(r['ratio_wall']):>6}")
print()
print("what a coalesced console costs a hello run (floor, whole process, wall us; a reaper's CPU is its own):")
for v in ("ref", "coalesce", "unregister", "reaper"):
    n = f"floor.cold_long.{v}"
    if n in fig:
        print(f"  {v:<11} exit status after {fmt(get(n))} us, teardown done after {fmt(get(n, 'done_median'))} us; "
              f"CPU {fmt(cpu(n))} us + reaper {fmt(get(n, 'orphan_cpu_median'))} us")
print("bring-up and teardown, each step alone (floor phases, us):")
print("  " + ", ".join(f"{n[12:]} {fmt(get(n))}" for n in fig if n.startswith("floor.phase.")))
print("  kvmbox: " + ", ".join(f"{n[13:]} {fmt(get(n))}" for n in fig if n.startswith("kvmbox.phase.")))
if many:
    print("VMs in one process, one thread (per VM: create, run under the round-robin scheduler, destroy; RSS, fds):")
    for n in many:
        for w in ("floor", "kvmbox"):
            print(f"  {w:<6} {n:>6}: " + ", ".join(f"{p} {fmt(get(f'{w}.many_{n}.{p}'))}" for p in ("create", "run", "destroy", "rss", "fds")))
if "kvmbox.snap.restore" in fig:
    f = fig.get("kvmbox.snap.fork", {})
    print("snapshots (docs/snapshot.md; median/p99, wall):")
    print(f"  restore, open() to the first exit: {fmt(get('kvmbox.snap.restore'))}/{fmt(get('kvmbox.snap.restore', 'p99'))} us; "
          f"whole process (kvmbox run --restore, hello halted): {fmt(get('kvmbox.cold_restore'))}/{fmt(get('kvmbox.cold_restore', 'p99'))} us "
          f"against {fmt(get('kvmbox.cold_long'))} us for kvmbox run's cold start")
    print(f"  fork: {fmt(get('kvmbox.snap.fork'))}/{fmt(get('kvmbox.snap.fork', 'p99'))} us per VM, {f.get('forks', '-')} alive "
          f"(the template and the first: {fmt(f.get('template_and_first_us'))} us); anonymous memory per fork "
          f"{fmt(get('kvmbox.snap.fork_rss'))} KiB after it wrote 16 pages (64 KiB), {fmt(get('kvmbox.snap.fork_rss_unrun'))} KiB before")
    print(f"  save: {fmt(get('kvmbox.snap.save_per_mib'))}/{fmt(get('kvmbox.snap.save_per_mib', 'p99'))} us per MiB written "
          f"({fmt(fig.get('kvmbox.snap.save_per_mib', {}).get('file_mib'))} MiB file of a 64 MiB guest)")
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
      f"{fmt(get('floor.rerun', 'cycles_per_s'))}/s; create-run-destroy: {fmt(1e6 / crd_us if crd_us else None)}/s "
      f"(alone {fmt(1e6 / crd_alone_us if crd_alone_us else None)}/s)")
print()
print("targets:")
for name, v, ok in targets:
    print(f"  {'MET    ' if ok else 'NOT MET'} {name}: {fmt(v)}")
print("\nratio: kvmbox / floor on CPU-time medians (wall medians for cold start, churn, reset+run, phases"
      "\nand RSS); for figures measured in rounds, the median of the rounds' ratios. wall: the ratio of"
      "\nthe wall-time medians. The floor is the minimal raw-KVM program (bench/floor.c).")

json.dump({"host": {"kernel": platform.release(), "cpus": os.cpu_count(), "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "loadavg": open("/proc/loadavg").read().split()[:3]},
           "figures": fig, "pairs": rows,
           "targets": [{"target": n, "value": v, "met": ok} for n, v, ok in targets]},
          open(dst, "w"), indent=1)
print(f"wrote {dst}")
EOF
