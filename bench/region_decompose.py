"""Per-pair decomposition of a bench/region_campaign.py file from its timed regions
(docs/METHOD.md "Residuals"): measured overhead, scheduling (run-queue wait inside the
timed region, VM minus bare, / bare region time), CPU-time overhead (the vCPU thread's
CPU time minus the bare thread's: mediation + what runs slower), time neither on a CPU
nor waiting for one (outer-hypervisor steal), exits inside the region. Medians over
pairs (rounds) with a percentile bootstrap 95% CI.

usage: region_decompose.py FILE.jsonl BARE:VM:METRIC:LABEL:sum|shortest:lower|higher ...
  (shortest: the region's shortest interval, for best-of metrics such as mem-stream's)"""
import json, sys, statistics, collections, random
recs = [json.loads(l) for l in open(sys.argv[1])]
pairs = [p.split(':') for p in sys.argv[2:]]   # bare_cfg:vm_cfg:metric:label:mode(sum|shortest):better(lower|higher)
byr = collections.defaultdict(dict)
for r in recs:
    if r['rc'] in (0, 1) and r['m'] and r.get('regions'):
        byr[r['round']][r['cfg']] = r
def reg(r, label, mode):
    for e in r['regions']['list']:
        if e['label'] == label:
            v = e['shortest'] if mode == 'shortest' else e
            n = 1 if mode == 'shortest' else e['n']
            return {'wall': v['wall_ns'] / n, 'run': v['run_ns'] / n, 'wait': v['wait_ns'] / n,
                    'exits': v['kvm_vcpu'].get('exits', 0) / n, 'irq': v['kvm_vcpu'].get('irq_exits', 0) / n}
def ci(xs):
    random.seed(5)
    bs = sorted(statistics.median(random.choices(xs, k=len(xs))) for _ in range(2000))
    return '[%+.1f, %+.1f]' % (bs[50], bs[1949])
for b, v, m, label, mode, better in pairs:
    rows = collections.defaultdict(list)
    for rnd, d in byr.items():
        if b not in d or v not in d or m not in d[b]['m'] or m not in d[v]['m']: continue
        rb, rv = reg(d[b], label, mode), reg(d[v], label, mode)
        if not rb or not rv: continue
        x, y = d[b]['m'][m], d[v]['m'][m]
        ovh = (y / x - 1) * 100 if better == 'lower' else (x / y - 1) * 100
        T = rb['wall']
        rows['measured'].append(ovh)
        rows['sched (wait_vm-wait_bare)/T'].append((rv['wait'] - rb['wait']) / T * 100)
        rows['cpu (run_vm-run_bare)/T'].append((rv['run'] - rb['run']) / T * 100)
        rows['unaccounted wall-run-wait vm-bare /T'].append(((rv['wall'] - rv['run'] - rv['wait']) - (rb['wall'] - rb['run'] - rb['wait'])) / T * 100)
        rows['region wall vm/bare-1'].append((rv['wall'] / rb['wall'] - 1) * 100)
        rows['exits in region (vm)'].append(rv['exits'])
        rows['irq_exits in region (vm)'].append(rv['irq'])
        rows['bare region ms'].append(T / 1e6)
    print('== %s %s (region %s, %s) n=%d' % (v, m, label, mode, len(rows['measured'])))
    for k, xs in rows.items():
        if 'exits' in k or 'ms' in k:
            print('   %-40s median %.2f  [min %.2f, max %.2f]' % (k, statistics.median(xs), min(xs), max(xs)))
        else:
            print('   %-40s median %+6.2f %% %s' % (k, statistics.median(xs), ci(xs)))
