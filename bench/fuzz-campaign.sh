#!/usr/bin/env bash
# The long fuzzing campaign of docs/FUZZING.md: every libFuzzer target until it
# has run RUNS inputs (default 10,000,000) or SECS seconds (default 600),
# whichever comes first, under `nice -n 19`, JOBS targets at a time; then the
# final corpus of each target is replayed through a coverage build and
# llvm-cov reports the lines and branches it reached in the target's own
# source files.
# Why a script and not a test: a campaign takes an hour and its numbers depend
# on the machine's load; `make test` runs each target for seconds only.
#   bench/fuzz-campaign.sh [--runs N] [--secs S] [--jobs J] [TARGET...]
# Output: build/fuzz/campaign/summary.txt, one line per target:
#   TARGET execs=N cov=N ft=N corpus=N secs=N crashes=N exit=N | lines=P% branches=P%
# plus the libFuzzer logs (log-TARGET.txt) and any crash artifacts there.
# BUILD=DIR builds and fuzzes in DIR instead of build/ (a campaign that runs
# while `make test` rebuilds build/fuzz must not have its binaries replaced).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10000000 secs=600 jobs=2 targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "fuzz-campaign: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
build=${BUILD:-build}
nice -n 19 make -s -j"$jobs" BUILD="$build" fuzz fuzz-cov >/dev/null
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$build"/fuzz/fuzz_*; do targets+=("${b##*/fuzz_}"); done
fi
out=$build/fuzz/campaign
mkdir -p "$out"
for t in "${targets[@]}"; do ln -sf "$(pwd)/$build/fuzz/fuzz_$t" "$out/fuzz_$t"; done
echo "fuzz-campaign: ${targets[*]}: $runs inputs or $secs s each, $jobs at a time, nice 19" \
     "($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${targets[@]}" |
  xargs -P "$jobs" -I{} nice -n 19 tests/fuzz/run.sh "$out" {} "$secs" "$runs" \
  >"$out/runs.txt" || true

# coverage of each target's own files, from its final corpus (seeds included)
declare -A files=(
  [virtq]="vmm-lite/virtq.c"
  [pvh]="vmm-lite/pvh_loader.c vmm-lite/layout.c"
  [virtio_mmio_blk]="vmm-lite/virtio_mmio.c vmm-lite/dev_virtio_blk.c"
  [virtio_mmio_net]="vmm-lite/virtio_mmio.c vmm-lite/dev_virtio_net.c"
  [virtio_mmio_balloon]="vmm-lite/virtio_mmio.c vmm-lite/dev_virtio_balloon.c"
  [ata_pio]="vmm-lite/dev_ata_pio.c vmm-lite/bus.c"
  [legacy_nic]="vmm-lite/dev_legacy_nic.c"
  [uart]="vmm-lite/dev_uart.c vmm-lite/dev_debug_exit.c vmm-lite/dev_calib_pio.c"
  [proto]="core/proto.c core/calib.c core/results.c"
  [region]="vmm-lite/region_table.c"
)
: >"$out/summary.txt"
for t in "${targets[@]}"; do
  line=$(grep "^$t " "$out/runs.txt" || echo "$t (did not run)")
  cov=""
  if [ -x "$build/fuzz/cov/fuzz_$t" ]; then
    corp=("$out/work/$t")
    for c in tests/fuzz/corpus/"$t" tests/fuzz/regressions/"$t"; do
      [ -d "$c" ] && corp+=("$c")
    done
    LLVM_PROFILE_FILE="$out/$t.profraw" nice -n 19 "$build/fuzz/cov/fuzz_$t" -runs=0 \
      -close_fd_mask=3 "${corp[@]}" >/dev/null 2>&1 || true
    llvm-profdata merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
    # shellcheck disable=SC2086
    total=$(llvm-cov report "$build/fuzz/cov/fuzz_$t" -instr-profile="$out/$t.profdata" \
            ${files[$t]:-} | awk '/^TOTAL/ {print "lines=" $10 " branches=" $13}')
    cov=" | $total (${files[$t]:-all files})"
  fi
  echo "$line$cov" | tee -a "$out/summary.txt"
done
