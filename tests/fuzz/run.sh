#!/usr/bin/env bash
# Runs one libFuzzer target the way virttax does (docs/FUZZING.md): its seed
# corpus and its regression corpus first (any crash fails), then fuzzing for
# SECONDS or RUNS inputs, whichever ends first, into a scratch corpus. An input
# that runs 25 s is a hang and fails the run like a crash.
# Why one script: `make fuzz-smoke` (seconds per target) and
# bench/fuzz-campaign.sh (10M inputs or 10 minutes) must use the same flags,
# dictionary and input size per target.
#   tests/fuzz/run.sh FUZZ_DIR TARGET SECONDS [RUNS]
# Prints the libFuzzer log to FUZZ_DIR/log-TARGET.txt and one summary line:
#   TARGET execs=N cov=N ft=N corpus=N secs=N crashes=N
set -uo pipefail
dir=$1 t=$2 secs=$3 runs=${4:--1}
here=$(cd "$(dirname "$0")" && pwd)
case $t in
  virtq) maxlen=32784 ;;  # 16-byte header + 32 KiB of guest memory
  pvh) maxlen=65536 ;;    # ELF images
  proto) maxlen=16384 ;;  # several 4 KiB lines
  *) maxlen=8192 ;;       # device operation streams
esac
args=(-max_total_time="$secs" -runs="$runs" -seed=1 -max_len="$maxlen" -close_fd_mask=3 -timeout=25
      -print_final_stats=1 -artifact_prefix="$dir/crash-$t-" -rss_limit_mb=2048)
[ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
mkdir -p "$dir/work/$t"
corpora=("$dir/work/$t")
for c in "$here/corpus/$t" "$here/regressions/$t"; do [ -d "$c" ] && corpora+=("$c"); done
start=$(date +%s)
stamp=$(mktemp) && touch "$stamp"
"$dir/fuzz_$t" "${args[@]}" "${corpora[@]}" >"$dir/log-$t.txt" 2>&1
rc=$?
end=$(date +%s)
stat() { grep -E "^stat::$1:" "$dir/log-$t.txt" | tail -1 | awk '{print $2}'; }
last=$(grep -E "^#[0-9]+" "$dir/log-$t.txt" | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
crashes=$(find "$dir" -maxdepth 1 -name "crash-$t-*" -newer "$stamp" | wc -l)
rm -f "$stamp"
echo "$t execs=$(stat number_of_executed_units) cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?}" \
     "secs=$((end - start)) crashes=$crashes exit=$rc"
if [ $rc -ne 0 ]; then
  tail -40 "$dir/log-$t.txt" >&2
  exit 1
fi
