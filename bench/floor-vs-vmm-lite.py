#!/usr/bin/env python3
"""vmm-lite against kvm-floor, interleaved in one run: start-up and exit cost.

Why: vmm-lite must add nothing measurable over the least possible KVM VMM
(build/kvm-floor, docs/FLOOR.md). On a shared machine only an interleaved
comparison means anything, so every pair runs the floor and vmm-lite back to
back (alternating which goes first) and the ratio comes from the pairs.

Measured per pair (each a fresh process):
  boot   spawn -> first guest instruction: host TSC read just before
         posix_spawn, against the guest's tsc_entry (hello record); the floor's
         guest starts in 64-bit mode, the agent in PVH 32-bit mode; both read the
         TSC first. Also spawn -> hello line seen on the pipe (vmm-lite: the
         agent's first record; the floor prints nothing until it is done) and
         spawn -> process reaped.
  exit   port-I/O exit round trip: the floor's guest and the agent's `calib`
         workload (kind pio, spacing=none) time rounds of back-to-back `outl`
         to port 0x4f0 the same way; per run the median ns/op over rounds.
Ratios are vmm-lite / floor: the paired estimator of the project's statistics
library (stats_overhead_paired: median of per-pair ratios, order-statistic
interval with its level), medians with n and distribution-free CIs from
stats_summarize. Goals (issue 15): boot <= 2.0x, exit <= 1.05x.

usage: bench/floor-vs-vmm-lite.py [--pairs N] [--cpu CPU] [--mem-mib N]
           [--goal-ms N] [--rounds N] [--what boot,exit] [--vmm-arg ARG]...
           [--vmm-lite PATH] [--json FILE]
Needs `make bench-tools` (build/kvm-floor, build/vmm-lite, the agent,
build/bench/libbench.so). Run it under `nice -n -5` or on a quiet machine and
read the load line it prints; it exits 1 if a run failed.
"""
import argparse
import ctypes
import json
import os
import sys
import tempfile

PREFIX = b"@@VTX1@@ "
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Summary(ctypes.Structure):  # struct stats_summary (core/stats.h)
    _fields_ = [("n", ctypes.c_size_t)] + [
        (f, ctypes.c_double)
        for f in ("median", "min", "max", "mean", "stddev", "ci_lo", "ci_hi", "ci_level")
    ] + [("underpowered", ctypes.c_bool)]


class Overhead(ctypes.Structure):  # struct stats_overhead
    _fields_ = [("value", ctypes.c_double), ("ci_lo", ctypes.c_double),
                ("ci_hi", ctypes.c_double), ("ci_level", ctypes.c_double),
                ("underpowered", ctypes.c_bool), ("npairs", ctypes.c_size_t)]


def load_lib(build):
    path = os.path.join(build, "bench", "libbench.so")
    if not os.path.exists(path):
        sys.exit(f"floor-vs-vmm-lite: {path} missing: run `make bench-tools` first")
    lib = ctypes.CDLL(path)
    lib.bench_rdtsc.restype = ctypes.c_uint64
    lib.stats_summarize.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.c_size_t,
                                    ctypes.POINTER(Summary)]
    lib.stats_overhead_paired.argtypes = [ctypes.POINTER(ctypes.c_double),
                                          ctypes.POINTER(ctypes.c_double), ctypes.c_size_t,
                                          ctypes.c_bool, ctypes.POINTER(Overhead)]
    return lib


def doubles(xs):
    return (ctypes.c_double * len(xs))(*xs)


def summarize(lib, xs):
    s = Summary()
    if not xs or lib.stats_summarize(doubles(xs), len(xs), ctypes.byref(s)):
        return None
    return {"n": s.n, "median": s.median, "ci": [s.ci_lo, s.ci_hi],
            "ci_level": s.ci_level, "min": s.min, "max": s.max}


def ratio(lib, floor, vmm):
    """median over pairs of vmm/floor with its order-statistic interval (and level)"""
    pairs = [(f, v) for f, v in zip(floor, vmm) if f is not None and v is not None]
    if not pairs:
        return None
    o = Overhead()
    if lib.stats_overhead_paired(doubles([p[0] for p in pairs]), doubles([p[1] for p in pairs]),
                                 len(pairs), True, ctypes.byref(o)):
        return None
    return {"value": 1 + o.value / 100, "ci": [1 + o.ci_lo / 100, 1 + o.ci_hi / 100],
            "ci_level": o.ci_level, "pairs": len(pairs)}


def run(lib, argv):
    """Spawn argv with stdout on a pipe; TSC at spawn, at the hello line, at reap."""
    rfd, wfd = os.pipe()
    with tempfile.TemporaryFile() as err:
        actions = [(os.POSIX_SPAWN_DUP2, wfd, 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                   (os.POSIX_SPAWN_CLOSE, rfd)]
        t0 = lib.bench_rdtsc()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        os.close(wfd)
        out, t_hello = b"", None
        while True:
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            out += chunk
            if t_hello is None and PREFIX + b'{"t":"hello"' in out:
                t_hello = lib.bench_rdtsc()
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
        t_exit = lib.bench_rdtsc()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    recs = []
    for line in out.split(b"\n"):
        if line.startswith(PREFIX):
            recs.append(json.loads(line[len(PREFIX):]))
    return {"t0": t0, "t_hello": t_hello, "t_exit": t_exit,
            "code": os.waitstatus_to_exitcode(status), "records": recs, "stderr": stderr}


def record(r, t):
    return next((x for x in r["records"] if x.get("t") == t), None)


def metric(r, name):
    return next((x["v"] for x in r["records"] if x.get("t") == "metric" and x.get("m") == name),
                None)


def boot_sample(r, ok_codes, stats_path):
    """times from spawn; main_ms: spawn -> main() (exec, dynamic loading), from the VMM's
    own main -> first guest instruction (floor: metric main_to_entry; vmm-lite: --stats-json
    startup.main_to_first_run_us, whose phases go to "phases")"""
    hello = record(r, "hello")
    if r["code"] not in ok_codes or not hello or not hello.get("tsc_khz"):
        return None
    khz = hello["tsc_khz"]
    ms = lambda t: (t - r["t0"]) / khz if t is not None and t > r["t0"] else None
    s = {"entry_ms": ms(hello.get("tsc_entry")), "hello_ms": ms(r["t_hello"]),
         "process_ms": ms(r["t_exit"]), "main_ms": None, "phases": {}}
    inner = metric(r, "main_to_entry")
    if inner is not None:
        inner /= 1e6
    elif stats_path and os.path.exists(stats_path):
        with open(stats_path) as f:
            st = json.load(f).get("startup", {})
        os.unlink(stats_path)
        if st.get("main_to_first_run_us"):
            inner = st["main_to_first_run_us"] / 1e3
            s["phases"] = st.get("phases_us", {})
    if inner is not None and s["entry_ms"] is not None:
        s["main_ms"] = s["entry_ms"] - inner
    return s


def exit_sample(r, ok_codes):
    hello, cal = record(r, "hello"), record(r, "calib")
    if r["code"] not in ok_codes or not hello or not cal or not cal.get("ok"):
        return None
    ns = sorted(t * 1e6 / hello["tsc_khz"] / cal["iters"] for t in cal["ticks"])
    return ns[len(ns) // 2] if len(ns) % 2 else (ns[len(ns) // 2 - 1] + ns[len(ns) // 2]) / 2


def commands(a, build, stats_path):
    # pinned as `virttax footprint` pins them: the vCPU (the floor's only thread)
    floor = [os.path.join(build, "kvm-floor"), "--mem-mib", str(a.mem_mib), "--pin", str(a.cpu)]
    vmm = [a.vmm_lite or os.path.join(build, "vmm-lite"), "--kernel",
           os.path.join(build, "guest-agent.elf"),
           "--mem", f"{a.mem_mib}M", "--pin", str(a.cpu), "--stats-json", stats_path] + a.vmm_arg
    return {
        "boot": (floor + ["--rounds", "1", "--goal-us", "1"],
                 vmm + ["--cmdline", "workload=noop iters=1000"]),
        "exit": (floor + ["--rounds", str(a.rounds), "--goal-us", str(a.goal_ms * 1000)],
                 vmm + ["--cmdline", f"workload=calib kinds=pio spacing=none "
                        f"goal_ms={a.goal_ms} rounds={a.rounds}"]),
    }


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=10)
    p.add_argument("--cpu", type=int, default=os.cpu_count() - 1,
                   help="CPU of the vCPU threads (default: the last)")
    p.add_argument("--mem-mib", type=int, default=128)
    p.add_argument("--goal-ms", type=int, default=1)
    p.add_argument("--rounds", type=int, default=21)
    p.add_argument("--what", default="boot,exit")
    p.add_argument("--vmm-arg", action="append", default=[],
                   help="extra vmm-lite argument (repeatable)")
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--vmm-lite", help="the vmm-lite binary (default BUILD/vmm-lite), e.g. an "
                   "older build to compare")
    p.add_argument("--json", help="write every sample and the summary here")
    a = p.parse_args()
    what = [w for w in a.what.split(",") if w]
    if a.pairs < 2 or any(w not in ("boot", "exit") for w in what):
        sys.exit("floor-vs-vmm-lite: --pairs >= 2, --what from boot,exit")
    lib = load_lib(a.build)
    stats_path = tempfile.mktemp(prefix="floor-bench-", suffix=".json")
    cmds = commands(a, a.build, stats_path)
    samples = {w: {"floor": [], "vmm-lite": []} for w in what}
    failed = 0
    print(f"load before: {load()}  (pairs {a.pairs}, CPU {a.cpu}, {a.mem_mib} MiB)")
    for i in range(a.pairs):
        for w in what:
            order = ["floor", "vmm-lite"] if i % 2 == 0 else ["vmm-lite", "floor"]
            got = {}
            for side in order:
                argv = cmds[w][0 if side == "floor" else 1]
                r = run(lib, argv)
                ok = (0,) if side == "floor" else (1,)  # vmm-lite: guest exit 0 -> 1
                s = (boot_sample(r, ok, stats_path if side == "vmm-lite" else None)
                     if w == "boot" else exit_sample(r, ok))
                if s is None:
                    failed += 1
                    print(f"  pair {i} {w} {side}: failed (exit {r['code']}): "
                          f"{r['stderr'].strip()[:300]}", file=sys.stderr)
                got[side] = s
            for side in got:
                samples[w][side].append(got[side])
    if os.path.exists(stats_path):
        os.unlink(stats_path)
    print(f"load after:  {load()}")
    report = {}
    if "boot" in samples:
        for m, label in (("entry_ms", "spawn -> first guest instruction, ms"),
                         ("main_ms", "spawn -> main(), ms (exec, dynamic loading)"),
                         ("hello_ms", "spawn -> hello line, ms (floor: at its end)"),
                         ("process_ms", "spawn -> reaped, ms")):
            col = {s: [x[m] if x else None for x in samples["boot"][s]] for s in samples["boot"]}
            report[m] = {s: summarize(lib, [v for v in col[s] if v is not None]) for s in col}
            report[m]["ratio"] = ratio(lib, col["floor"], col["vmm-lite"])
            report[m]["label"] = label
    if "boot" in samples:  # where vmm-lite's main -> first KVM_RUN goes
        runs = [x for x in samples["boot"]["vmm-lite"] if x and x["phases"]]
        report["phases"] = {k: summarize(lib, [x["phases"][k] for x in runs if k in x["phases"]])
                            for k in (runs[0]["phases"] if runs else {})}
    if "exit" in samples:
        col = samples["exit"]
        report["pio_exit_ns"] = {s: summarize(lib, [v for v in col[s] if v is not None])
                                 for s in col}
        report["pio_exit_ns"]["ratio"] = ratio(lib, col["floor"], col["vmm-lite"])
        report["pio_exit_ns"]["label"] = "port-I/O exit round trip, ns (per-run medians)"
    fmt = lambda s, d: (f"{s['median']:.{d}f} [{s['ci'][0]:.{d}f}, {s['ci'][1]:.{d}f}] "
                        f"n={s['n']} {100 * s['ci_level']:.1f}%" if s else "n/a")
    print(f"{'metric':48} {'floor [CI] n level':34} {'vmm-lite [CI] n level':34} "
          "ratio vmm-lite/floor [CI] (level)")
    for m, r in report.items():
        if m == "phases":
            continue
        d = 0 if m == "pio_exit_ns" else 3
        rt = r["ratio"]
        rts = (f"{rt['value']:.3f} [{rt['ci'][0]:.3f}, {rt['ci'][1]:.3f}] pairs={rt['pairs']} "
               f"({100 * rt['ci_level']:.1f}%)" if rt else "n/a")
        print(f"{r['label']:48} {fmt(r['floor'], d):34} {fmt(r['vmm-lite'], d):34} {rts}")
    if report.get("phases"):
        print("vmm-lite main() -> first KVM_RUN by phase (--stats-json startup), us: " +
              ", ".join(f"{k} {v['median']:.0f}" for k, v in report["phases"].items() if v))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "samples": samples, "summary": report}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
