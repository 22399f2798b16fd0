#!/usr/bin/env python3
"""Measured false-alarm and detection rates of `virttax gate`.

Why: a gate is only worth its exit code if it passes a candidate that is the
same as the baseline (A/A) and stops one that is slower (A/B), and both rates
depend on the spread of the host and on the runs made. This benchmark measures
them (issue 11) instead of assuming them; docs/METHOD.md records the numbers.

For each number of reps (the default of `virttax run`, then the reps the gate
recommends after the first campaign), N trials; trial i makes three runs in a
rotated order (so that load drifts hit A, A' and B alike): A and A' plain, B
with a known slowdown in the VM (vmm-lite --inject-steal-pct P: every 4 ms of
a vCPU thread's CPU time vmm-lite takes the vCPU out of the guest and holds it
until P% of the thread's CPU time was held, a P/(100-P) slowdown of whatever
the guest runs, whatever the host's load), then
  gate A A'  -> a false alarm when it FAILs (exit 1), inconclusive on exit 4;
  gate A B --allow-param-diff vmm-args
             -> a detection when it FAILs with a regression, a miss on pass.
Prints both rates, the gate's recommended reps, the slowdown the gate measured
and the time taken; --json FILE keeps everything.

usage: bench/gate-power.py [--trials N] [--steal-pct P] [--reps LIST] [--workloads W]
           [--set KEY=VALUE]... [--noise PCT] [--out DIR] [--json FILE] [--build DIR]
  --reps LIST   reps per campaign; "rec" = the median of the first campaign's
                recommendations: the gate's reps_needed when it was inconclusive,
                else its reps_for_power (the runs per side its spread needs to
                detect a noise-sized change with power 0.95) (default "10,rec")
Run it on a machine as quiet as you can get (it prints the load); it takes
roughly trials x 3 x (reps + warm-up) x 2 VM/bare runs.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def run(args, build, out, reps, extra):
    cmd = [os.path.join(build, "virttax"), "run", "--workloads", args.workloads,
           "--reps", str(reps), "--warmup", str(args.warmup), "--out", out, "--quiet",
           "--calibration", args.calibration] + extra
    for s in args.set:
        cmd += ["--set", s]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"gate-power: {' '.join(cmd)} exited {p.returncode}: {p.stderr[-500:]}")


def gate(build, a, b, noise, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as j:
        cmd = [os.path.join(build, "virttax"), "gate", a, b, "--noise", str(noise),
               "--json", j.name] + extra
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode not in (0, 1, 4):
            sys.exit(f"gate-power: {' '.join(cmd)} exited {p.returncode}: {p.stderr[-500:]}")
        doc = json.load(open(j.name))
    judged = [r for r in doc["rows"] if r.get("judged")]
    slow = [r["slowdown_pct"] for r in judged if isinstance(r.get("slowdown_pct"), float)]
    return {"exit": p.returncode, "regressions": doc["regressions"],
            "inconclusive": doc["inconclusive"], "failed": doc["failed"],
            "reps_needed": doc.get("reps_needed"),
            "reps_for_power": doc.get("reps_for_power"),
            "slowdown_pct": max(slow) if slow else None,
            "causes": [l for l in p.stderr.splitlines() if not l.startswith("virttax gate:")]}


def campaign(args, reps, workdir):
    steal = f"--vmm-arg=--inject-steal-pct={args.steal_pct}"
    trials, t0 = [], time.time()
    for i in range(args.trials):
        d = os.path.join(workdir, f"r{reps}-t{i}")
        plan = [("a", []), ("a2", []), ("b", [steal])]
        plan = plan[i % 3:] + plan[:i % 3]  # rotate which run goes first
        for name, extra in plan:
            run(args, args.build, os.path.join(d, name), reps, extra)
        aa = gate(args.build, os.path.join(d, "a"), os.path.join(d, "a2"), args.noise, [])
        ab = gate(args.build, os.path.join(d, "a"), os.path.join(d, "b"), args.noise,
                  ["--allow-param-diff", "vmm-args"])
        trials.append({"aa": aa, "ab": ab, "load": load()})
        print(f"  reps {reps} trial {i + 1}/{args.trials}: A/A exit {aa['exit']}, "
              f"A/B exit {ab['exit']} (slowdown {ab['slowdown_pct']}), load "
              f"{' '.join(trials[-1]['load'])}", flush=True)
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    n = len(trials)
    res = {
        "reps": reps, "trials": n, "seconds": round(time.time() - t0),
        "aa_false_alarms": sum(t["aa"]["exit"] == 1 for t in trials),
        "aa_inconclusive": sum(t["aa"]["exit"] == 4 for t in trials),
        "aa_pass": sum(t["aa"]["exit"] == 0 for t in trials),
        "ab_detections": sum(t["ab"]["exit"] == 1 and t["ab"]["regressions"] > 0
                             for t in trials),
        "ab_inconclusive": sum(t["ab"]["exit"] == 4 for t in trials),
        "ab_missed": sum(t["ab"]["exit"] == 0 for t in trials),
        "ab_slowdown_median_pct": statistics.median(
            [t["ab"]["slowdown_pct"] for t in trials if t["ab"]["slowdown_pct"] is not None]
            or [float("nan")]),
        "reps_recommended": [t[k]["reps_needed"] or t[k]["reps_for_power"]
                             for t in trials for k in ("aa", "ab")],
        "detail": trials,
    }
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--steal-pct", type=int, default=5)
    ap.add_argument("--reps", default="10,rec")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--workloads", default="cpu-int")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--noise", type=float, default=5.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the run directories")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--calibration", default=None,
                    help="calibration.json for every run (default: one `virttax calibrate "
                    "--quick` first)")
    args = ap.parse_args()
    workdir = args.out or tempfile.mkdtemp(prefix="vtx-gate-power-")
    os.makedirs(workdir, exist_ok=True)
    t0, l0 = time.time(), load()
    print(f"gate-power: {args.trials} trials per campaign, workloads {args.workloads} "
          f"{' '.join(args.set)}, B = --inject-steal-pct={args.steal_pct} "
          f"({100 * args.steal_pct / (100 - args.steal_pct):.2f}% slower), noise "
          f"{args.noise}%; load {' '.join(l0)}; in {workdir}", flush=True)
    if not args.calibration:  # one calibration for all runs: they only compare
        args.calibration = os.path.join(workdir, "calibration.json")
        subprocess.run([os.path.join(args.build, "virttax"), "calibrate", "--quick", "--out",
                        args.calibration], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    results = []
    for r in args.reps.split(","):
        if r == "rec":
            recs = [x for x in results[0]["reps_recommended"] if x] if results else []
            if not recs:
                print("gate-power: the first campaign recommended nothing: no second "
                      "campaign")
                continue
            r = int(statistics.median(recs))
            print(f"gate-power: the gate recommended {sorted(recs)} runs per side; "
                  f"median {r}", flush=True)
        results.append(campaign(args, int(r), workdir))
    print(f"\ngate-power: {args.workloads} {' '.join(args.set)}, B {args.steal_pct}% steal, "
          f"noise {args.noise}%, load before {' '.join(l0)}, after {' '.join(load())}, "
          f"{round(time.time() - t0)} s in all")
    print(f"{'reps':>5} {'A/A false alarms':>17} {'A/A inconclusive':>17} "
          f"{'A/B detections':>15} {'A/B inconclusive':>17} {'A/B missed':>11} "
          f"{'B slowdown (median)':>20} {'time':>7}")
    for c in results:
        n = c["trials"]
        print(f"{c['reps']:>5} {c['aa_false_alarms']:>11} of {n:<3} "
              f"{c['aa_inconclusive']:>11} of {n:<3} {c['ab_detections']:>9} of {n:<3} "
              f"{c['ab_inconclusive']:>11} of {n:<3} {c['ab_missed']:>5} of {n:<3} "
              f"{c['ab_slowdown_median_pct']:>19.2f}% {c['seconds']:>6}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "load_before": l0, "load_after": load(),
                       "campaigns": results}, f, indent=1)
    if not args.out and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
