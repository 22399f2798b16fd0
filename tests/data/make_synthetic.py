#!/usr/bin/env python3
"""Writes the synthetic results files used by the report/decompose/gate tests.

Why generated: the numbers are chosen so every component of the decomposition
has a value computable by hand (see tests/unit/test_decompose.c); the script
documents them. Run: python3 tests/data/make_synthetic.py (writes next to itself).
"""
import json, os, copy

HERE = os.path.dirname(os.path.abspath(__file__))
REPS = 6

CALIB = {"schema": "virttax-calibration", "kinds": [
    {"kind": "function-call", "side": "bare", "ns": 1.5, "ci95": [1.4, 1.6], "n": 10},
    {"kind": "syscall", "side": "bare", "ns": 90.0, "ci95": [88.0, 92.0], "n": 10},
    {"kind": "process-roundtrip", "side": "bare", "ns": 4000.0, "ci95": [3900.0, 4100.0], "n": 10},
    {"kind": "cpuid", "side": "vm", "ns": 1000.0, "ci95": [1000.0, 1000.0], "n": 10},
    {"kind": "pio", "side": "vm", "ns": 5000.0, "ci95": [5000.0, 5000.0], "n": 10},
    {"kind": "mmio", "side": "vm", "available": False, "reason": "unavailable: no MMIO test device"},
]}


def metric(m, u, better, v, xk=None, x=None):
    d = {"m": m, "u": u, "better": better, "v": v}
    if xk:
        d.update({"xk": xk, "xu": "B", "x": x})
    return d


def run(side, series, rep, metrics, pagesize=None, wait_ns=0, exits=None, kvm_exits=None,
        status="ok", warmup=False):
    r = {"side": side, "vmm": "vmm-lite" if side == "vm" else None, "series": series,
         "config": {"backing": "thp", "pagesize": pagesize}, "rep": rep, "warmup": warmup,
         "status": status, "reason": None, "wall_ns": 1, "exit_code": 0, "signal": None,
         "metrics": metrics, "params": {}, "hello": None, "vmm_stats": None,
         "collectors": {"sched": {"threads": [{"role": "vcpu0" if side == "vm" else "workload",
                                               "wait_ns": wait_ns, "run_ns": 1e8}],
                                  "steal": {"available": False,
                                            "reason": "unavailable: synthetic"}},
                        "perf": {"available": False, "reason": "unavailable: no PMU (synthetic)"}}}
    if side == "vm":
        r["baseline_series"] = "bare"
        r["vmm_stats"] = {"exits": {k: {"count": v, "total_ns": v * 5000} for k, v in (exits or {}).items()},
                          "kvm_stats": {"vcpus": [{"index": 0, "stats": {"exits": {"delta": kvm_exits or 0}}}]}}
    return r


def workload(name, params, runs):
    return {"name": name, "params": params, "runs": runs, "summary": []}


def base(workloads):
    return {"schema": "virttax-results", "schema_version": 1, "created": "2026-01-01T00:00:00Z",
            "virttax_version": "0.1.0", "environment": None,
            "parameters": {"reps": REPS, "warmup": 1, "pagesize": ["4k", "2m"]},
            "calibration": CALIB, "workloads": workloads}


def storm(vm2m_ms=110.0, vm4k_ms=113.0, selfcal=False):
    # bare 100 ms; 2000 pio exits x 5000 ns = 10 ms = 10 %; vCPU waits 2 ms per 100 ms of CPU,
    # the bare thread 1 ms: scheduling 1 %; 4k guest pages cost 3 ms more than 2m = 3 %.
    # selfcal: each VM run's in-run cost is 6000 + 100 x rep ns per exit (bare: a 10 ns
    # no-op), so the in-run prediction per pair is 12.0, 12.2 ... 13.0 %, median 12.5 %.
    runs = []
    for rep in range(REPS):
        sc_b = [metric("selfcal_exit_ns", "ns", "lower", 10.0)] if selfcal else []
        sc_v = [metric("selfcal_exit_ns", "ns", "lower", 6000.0 + 100 * rep)] if selfcal else []
        runs.append(run("bare", "bare", rep, [metric("time", "ms", "lower", 100.0),
                                               metric("exits", "count", "lower", 0)] + sc_b,
                        wait_ns=1e6))
        for ps, t in (("4k", vm4k_ms), ("2m", vm2m_ms)):
            runs.append(run("vm", "vm[pagesize=%s]" % ps, rep,
                            [metric("time", "ms", "lower", t), metric("exits", "count", "lower", 2000),
                             metric("exit_time", "ms", "lower", 9.5)] + sc_v,
                            pagesize=ps, wait_ns=2e6, exits={"io:0x4f0": 2000, "io:0x3f8": 300},
                            kvm_exits=2400))
    return workload("exit-storm", {"kind": "pio", "k": "10000", "exits": "2000", "max_ms": "30000"}, runs)


def cpu_int(vm_ms=201.0, jitter=True):
    # bare 200 ms; 100 pio exits x 5000 ns + (500 - 400) kernel exits x 1000 ns = 0.6 ms = 0.3 %
    runs = []
    for rep in range(REPS):
        j = (rep - 2.5) * 0.01 if jitter else 0
        runs.append(run("bare", "bare", rep, [metric("time", "ms", "lower", 200.0 + j),
                                               metric("ns_per_iter", "ns", "lower", 2.0 + j / 100)]))
        for ps in ("4k", "2m"):
            runs.append(run("vm", "vm[pagesize=%s]" % ps, rep,
                            [metric("time", "ms", "lower", vm_ms + j),
                             metric("ns_per_iter", "ns", "lower", vm_ms / 100 + j / 100)],
                            pagesize=ps, exits={"io:0x4f0": 100, "io:0x3f8": 300}, kvm_exits=500))
    # a warm-up and a failed run that must not count
    runs.append(run("vm", "vm[pagesize=2m]", 0, [metric("time", "ms", "lower", 999.0)],
                    pagesize="2m", warmup=True))
    return workload("cpu-int", {"iters": "100000000"}, runs)


def mem_chase(scale=1.0):
    runs = []
    pts = [(16384, 1.2, 1.25, 1.21), (67108864, 90.0, 140.0, 100.0)]
    for rep in range(REPS):
        runs.append(run("bare", "bare", rep, [metric("latency", "ns", "lower", b, "wss", x)
                                               for x, b, v4, v2 in pts]))
        for ps, idx in (("4k", 2), ("2m", 3)):
            runs.append(run("vm", "vm[pagesize=%s]" % ps, rep,
                            [metric("latency", "ns", "lower", p[idx] * scale, "wss", p[0]) for p in pts],
                            pagesize=ps))
    return workload("mem-chase", {"min": "16K"}, runs)


def mem_stream(scale=1.0):
    runs = []
    for rep in range(REPS):
        runs.append(run("bare", "bare", rep, [metric("triad", "MB/s", "higher", 10000.0 + rep)]))
        for ps in ("4k", "2m"):
            runs.append(run("vm", "vm[pagesize=%s]" % ps, rep,
                            [metric("triad", "MB/s", "higher", (9000.0 + rep) * scale)], pagesize=ps))
    return workload("mem-stream", {"size": "32M"}, runs)


def write(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def region(label, wall_ms, run_ms, wait_ms, n=1, kvm=None, exits=None):
    """A timed region as vmm-lite / `virttax baseline --stats-json` report it
    (docs/INTERFACES.md section 4); n > 1: the shortest interval is the one used."""
    fields = {"wall_ns": wall_ms * 1e6, "run_ns": run_ms * 1e6, "wait_ns": wait_ms * 1e6,
              "timeslices": 1, "voluntary_ctxt_switches": 0, "nonvoluntary_ctxt_switches": 0,
              "kvm_vcpu": kvm or {}, "kvm_vm": {}}
    e = dict(fields, label=label, n=n, exits=exits or {}, exits_other=0,
             shortest=dict(fields))
    if n > 1:  # the sums: n intervals; the shortest one is the given one
        for k in ("wall_ns", "run_ns", "wait_ns"):
            e[k] = fields[k] * n + 5e6
    return {"markers": 2 * n + 6, "null": {}, "errors": {}, "list": [e]}


def stream_regions():
    """mem-stream "add" (best of 10) with timed regions on both sides.
    bare: 1000 MB/s, its shortest add interval 100 ms (100 CPU, 0 wait).
    VM 2m: 833.33 MB/s = 1.2x the time: the interval 120 ms = 10 ms run-queue wait +
      110 ms CPU; 105 exits: 100 irq exits x 25 us (host-irq) = 2.5 ms = 2.5 % and 5 of
      no category (kernel-other: counted, never priced);
      measured 20 %, mediation 2.5 %, scheduling 10 %, residual 7.5 %.
    VM 4k: 769.23 MB/s = 1.3x: the same wait, 120 ms CPU; 103 exits: 100 irq + 3 page
      faults priced as pt-churn - pt-rewrite = 20 us: mediation 2.56 %; measured 30 %,
      translation = (30 - 2.56 - 10) - (20 - 2.5 - 10) = 9.94 %, residual 7.5 %."""
    runs = []
    for rep in range(REPS):
        b = run("bare", "bare", rep, [metric("add", "MB/s", "higher", 1000.0)])
        b["bare_stats"] = {"side": "bare", "regions": region("add", 100, 100, 0, n=10)}
        runs.append(b)
        for ps, mbs, cpu in (("2m", 1000 / 1.2, 110), ("4k", 1000 / 1.3, 120)):
            v = run("vm", "vm[pagesize=%s]" % ps, rep, [metric("add", "MB/s", "higher", mbs)],
                    pagesize=ps)
            kvm = {"exits": 105, "irq_exits": 100, "insn_emulation": 0}
            if ps == "4k":
                kvm = {"exits": 103, "irq_exits": 100, "pf_fixed": 3}
            v["vmm_stats"]["regions"] = region("add", 10 + cpu, cpu, 10, n=10, kvm=kvm)
            runs.append(v)
    calib = copy.deepcopy(CALIB)
    calib["kinds"] += [
        {"kind": "host-irq", "side": "vm", "ns": 25000.0, "ci95": [25000.0, 25000.0], "n": 10},
        {"kind": "pt-churn", "side": "vm", "ns": 45000.0, "ci95": [45000.0, 45000.0], "n": 10},
        {"kind": "pt-rewrite", "side": "vm", "ns": 25000.0, "ci95": [25000.0, 25000.0], "n": 10}]
    r = base([workload("mem-stream", {"size": "64M"}, runs)])
    r["calibration"] = calib
    return r


write("synthetic-a.json", base([storm(), cpu_int(), mem_chase(), mem_stream()]))
write("synthetic-regions.json", stream_regions())
# candidate B: exit-storm 20 % slower in the VM (a regression), mem-stream 1 % slower
# (below the 5 % noise), the rest identical
write("synthetic-b.json", base([storm(132.0, 135.0), cpu_int(), mem_chase(), mem_stream(0.99)]))
# candidate C: mem-chase 30 % faster at every point (an improvement)
# exit-storm with the in-run self-calibration (selfcal_exit_ns per VM run)
write("synthetic-selfcal.json", base([storm(selfcal=True)]))
write("synthetic-c.json", base([storm(), cpu_int(), mem_chase(0.7), mem_stream()]))
