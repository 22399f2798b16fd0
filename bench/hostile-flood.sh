#!/usr/bin/env bash
# The 16 MiB record flood of issue 16 through the real `virttax run` path:
# the VM side's agent is tests/integration/guests/proto_flood.S (4096 lines of
# {"t":"exception","a":[{},{},...]}, 4 KiB each), the bare side is the real
# noop. Prints the peak RSS of virttax and of every child it waited for
# (GNU time's "Maximum resident set size" is the largest of them) and the
# reason the VM run failed. The goal (docs/FUZZING.md): < 64 MiB.
# Why a bench script: every byte is a port-I/O exit, the flood takes ~5
# minutes here; `make test` floods 4.06 MiB (tests/integration/test_hostile.c).
#   bench/hostile-flood.sh [VIRTTAX] [GUEST.elf]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
virttax=${1:-$build/virttax}
guest=${2:-$build/tests/guests/proto_flood.elf}
[ -x "$virttax" ] && [ -f "$guest" ] || { echo "hostile-flood: build first (make all vmm-test-guests)" >&2; exit 2; }
dir=$(mktemp -d /tmp/vtx-flood-XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo '{"version":1,"bare":{},"vm":{},"ladder":[]}' >"$dir/cal.json"
echo "hostile-flood: $virttax with VM agent $guest ($(stat -c %s "$guest") bytes)," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
VIRTTAX_AGENT=$(realpath "$guest") /usr/bin/time -v "$virttax" run --workloads noop --reps 1 \
  --warmup 0 --timeout 900 --calibration "$dir/cal.json" --out "$dir/out" \
  >"$dir/log" 2>"$dir/time"
rc=$?
set -e
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time")
echo "exit status $rc, wall $wall, peak RSS $rss KiB ($((rss / 1024)) MiB)"
python3 - "$dir/out/results.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["workloads"][0]["runs"]:
    p = r.get("protocol") or {}
    print(f'{r["side"]} run: {r["status"]}: {r.get("reason")} '
          f'(records {p.get("records")}, record bytes {p.get("record_bytes")}, '
          f'messages kept {len(p.get("messages") or [])}, dropped {p.get("messages_dropped")})')
EOF
