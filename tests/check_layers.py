#!/usr/bin/env python3
"""The layering rules of docs/ARCHITECTURE.md, checked on the tree and the objects.

1. core/ includes nothing from harness/, reports/ or collectors/ (only core/ and
   include/virttax/ headers); reports/ and collectors/ include nothing from harness/.
2. No circle of files calling each other in core/, harness/ or reports/: a file-level
   call graph from `nm` of the built objects (symbol defined in A, undefined in B
   means B calls A), strongly connected components must all be single files.
Usage: check_layers.py SRCROOT OBJROOT. Exit 1 with one line per violation.
"""
import os, re, subprocess, sys

src, obj = sys.argv[1], sys.argv[2]
bad = []
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
rules = {'core': ('core/', 'virttax/'), 'reports': None, 'collectors': None}
for d in rules:
    for f in sorted(os.listdir(os.path.join(src, d))):
        if not f.endswith(('.c', '.h')):
            continue
        for n, line in enumerate(open(os.path.join(src, d, f)), 1):
            m = inc.match(line)
            if not m:
                continue
            h = m.group(1)
            if d == 'core' and not h.startswith(rules['core']):
                bad.append(f'{d}/{f}:{n}: core/ includes "{h}" (only core/ and virttax/)')
            elif d != 'core' and h.startswith('harness/'):
                bad.append(f'{d}/{f}:{n}: {d}/ includes "{h}" from harness/')

objs = []
for d in ('core', 'harness', 'reports'):
    od = os.path.join(obj, d)
    for f in sorted(os.listdir(od)) if os.path.isdir(od) else []:
        if f.endswith('.o') and os.path.exists(os.path.join(src, d, f[:-2] + '.c')):
            objs.append(os.path.join(d, f))
defs, undefs = {}, {}
for o in objs:
    out = subprocess.run(['nm', os.path.join(obj, o)], capture_output=True, text=True,
                         check=True).stdout
    undefs[o] = set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in 'TDBR':
            defs[p[2]] = o
        elif len(p) == 2 and p[0] == 'U':
            undefs[o].add(p[1])
graph = {o: {defs[s] for s in undefs[o] if s in defs and defs[s] != o} for o in objs}
index, low, stack, on, sccs = {}, {}, [], set(), []
sys.setrecursionlimit(10000)

def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(comp)

for v in objs:
    if v not in index:
        visit(v)
for c in sccs:
    if len(c) > 1:
        bad.append('call cycle: ' + ' '.join(sorted(x[:-2] + '.c' for x in c)))
if not objs:
    bad.append(f'no objects under {obj}: build first')
for b in bad:
    print(b)
print(f'check-layers: {len(objs)} objects, {"FAIL" if bad else "ok"}', file=sys.stderr)
sys.exit(1 if bad else 0)
