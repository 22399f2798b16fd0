#!/usr/bin/env python3
"""Interleaved A/B campaign with timed-region accounting (docs/METHOD.md "Residuals").

Every round runs each configuration once, in a shuffled (seeded) order, pinned to CPU 1:
bare sides through `virttax baseline --stats-json`, VM sides through vmm-lite
--stats-json, and appends one JSON line per run (metrics, the stats file's regions and
memory, the load average) to OUT.jsonl. bench/region_decompose.py reads it.

usage: B=BUILD_DIR region_campaign.py OUT.jsonl ROUNDS 'name|side|wlargs|extra' ...
  side bare: extra = baseline flags (e.g. --backing thp)
  side vm:   extra = 'vmm-lite flags;;extra agent command line'
Why not `virttax run`: the experiments here vary things the run loop does not (guest
page size against host backing per side, agent options such as vtx.regions=0)."""
import json, random, subprocess, sys, os, time
B = os.environ.get('B', 'build')
out, rounds, cfgs = sys.argv[1], int(sys.argv[2]), [c.split('|') for c in sys.argv[3:]]
random.seed(1)
def parse(text):
    ms = {}
    for l in text.splitlines():
        if l.startswith('@@VTX1@@ '):
            r = json.loads(l[9:])
            if r.get('t') == 'metric':
                ms[r['m'] + ('@%g' % r['x'] if 'x' in r else '')] = r['v']
    return ms
with open(out, 'a') as f:
    for rnd in range(rounds):
        order = cfgs[:]
        random.shuffle(order)
        for name, side, wl, extra in order:
            st = '/tmp/dc/st-%d.json' % os.getpid()
            if side == 'bare':
                cmd = [B + '/virttax', 'baseline', '--pin', '1', '--stats-json', st] + extra.split() + wl.split()
            else:
                vmx, _, agx = extra.partition(';;')
                cmd = [B + '/vmm-lite', '--kernel', B + '/guest-agent.elf', '--mem', '2G', '--pin', '1',
                       '--stats-json', st] + vmx.split() + ['--cmdline', wl + ' tsc_khz=2000000 ' + agx]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            try:
                s = json.load(open(st))
            except Exception:
                s = {}
            rec = {'round': rnd, 'cfg': name, 'side': side, 'rc': p.returncode, 'secs': time.time() - t0,
                   'load': os.getloadavg()[0], 'm': parse(p.stdout), 'memory': s.get('memory'),
                   'regions': s.get('regions'), 'native': (s.get('emulation') or {}).get('native')}
            f.write(json.dumps(rec) + '\n')
            f.flush()
